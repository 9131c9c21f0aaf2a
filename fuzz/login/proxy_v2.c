/* libFuzzer target for login/proxy_v2: headers and address ranges. Asserts properties of the output:
 * a complete header never claims more bytes than it was given or than the cap; SHORT asks for more
 * than it has; an accepted range re-matches its own network address. */
#include "login/limits.h"
#include "login/proxy_v2.h"
#include <assert.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct proxy_v2 pv;
    size_t need = 0;
    proxy_v2_err e = proxy_v2_parse(data, len, &pv, &need);
    assert(proxy_v2_strerror(e)[0]);
    if (e == PROXY_V2_OK) {
        assert(pv.header_len >= PROXY_V2_FIXED && pv.header_len <= len && pv.header_len <= LIMIT_PROXY_V2_BYTES);
        assert(!(pv.is_local && pv.has_address));
        /* parsing exactly the header gives the same answer */
        struct proxy_v2 again;
        assert(proxy_v2_parse(data, pv.header_len, &again, &need) == PROXY_V2_OK && !memcmp(&again, &pv, sizeof pv));
    } else if (e == PROXY_V2_SHORT) {
        assert(need > len && need <= LIMIT_PROXY_V2_BYTES);
    }
    struct proxy_cidr c;
    if (proxy_cidr_parse((const char *)data, len, &c) == 0) {
        assert(c.prefix <= 128);
        assert(proxy_cidr_contains(&c, c.net));
    }
    return 0;
}
