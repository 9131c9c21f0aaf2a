/* libFuzzer target for the ACME client's saved blob (src/login/acme/acme_persist.c), read back from
 * the sealed state at start. Property: an accepted blob re-encodes to one that decodes to the same
 * directory, domain, account URL, issuance ledger and leaf presence. */
#include "login/acme/acme_persist.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct acme_saved s, t;
    if (acme_saved_decode((const char *)data, len, &s))
        return 0;
    char *enc = acme_saved_encode(&s);
    if (enc) {
        assert(acme_saved_decode(enc, strlen(enc), &t) == 0);
        assert(!strcmp(s.directory, t.directory) && !strcmp(s.domain, t.domain));
        assert((!s.kid && !t.kid) || (s.kid && t.kid && !strcmp(s.kid, t.kid)));
        assert(s.new_certs.n == t.new_certs.n && !memcmp(s.new_certs.at, t.new_certs.at, sizeof s.new_certs.at));
        assert((s.leaf != NULL) == (t.leaf != NULL));
        acme_saved_clear(&t);
        free(enc);
    }
    acme_saved_clear(&s);
    return 0;
}
