/* libFuzzer target: OCI's error answers (common/oci_notify: oci_error_parse, oci_error_is_clock_skew).
 * Properties: code and message are NUL-terminated within their buffers and printable, whatever the
 * answer, including buffers of one byte. */
#include "fuzz.h"
#include "common/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char code[64], msg[128], c1[1], m1[1];
    oci_error_parse((const char *)data, len, code, sizeof code, msg, sizeof msg);
    fuzz_printable(code, sizeof code);
    fuzz_printable(msg, sizeof msg);
    oci_error_parse((const char *)data, len, c1, sizeof c1, m1, sizeof m1);
    FUZZ_REQUIRE(c1[0] == 0 && m1[0] == 0);
    int skew = oci_error_is_clock_skew(401, msg);
    FUZZ_REQUIRE(skew == 0 || skew == 1);
    return 0;
}
