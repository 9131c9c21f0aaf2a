/* libFuzzer target: the HTTP date of a peer's Date header (common/oci_sign: oci_sign_parse_date).
 * Property: a date that parses formats back (as we would send it) to a date that parses to the
 * same time. */
#include "fuzz.h"
#include "common/oci_sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    time_t t, t2;
    if (oci_sign_parse_date((const char *)data, len, &t) == 0) {
        char back[OCI_SIGN_DATE_LEN + 1];
        oci_sign_format_date(t, back);
        FUZZ_REQUIRE(oci_sign_parse_date(back, strlen(back), &t2) == 0 && t2 == t);
    }
    return 0;
}
