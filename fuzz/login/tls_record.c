/* libFuzzer target for login/tls_record: a client's first bytes. Asserts properties of the output:
 * COMPLETE never claims more than it was given or than one record can hold, and the record alone
 * is complete too; SHORT asks for more than it has, and every shorter prefix is SHORT as well
 * (the answer never flips while bytes arrive). */
#include "fuzz.h"
#include "login/tls_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    size_t need = 0, again = 0;
    tls_record_state st = tls_record_first(data, len, &need);
    if (st == TLS_RECORD_COMPLETE) {
        FUZZ_REQUIRE(need > TLS_RECORD_HEADER_BYTES && need <= len && need <= TLS_RECORD_MAX_BYTES);
        FUZZ_REQUIRE(tls_record_first(data, need, &again) == TLS_RECORD_COMPLETE && again == need);
        FUZZ_REQUIRE(tls_record_first(data, need - 1, &again) == TLS_RECORD_SHORT && again == need);
    } else if (st == TLS_RECORD_SHORT) {
        FUZZ_REQUIRE(need > len && need <= TLS_RECORD_MAX_BYTES);
        for (size_t cut = 0; cut < len; cut++)
            FUZZ_REQUIRE(tls_record_first(data, cut, &again) == TLS_RECORD_SHORT);
    } else {
        FUZZ_REQUIRE(len >= 1);
    }
    return 0;
}
