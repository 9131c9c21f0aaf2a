/* libFuzzer target: trust statements (common/trust), as the verifier reads a result's claim.
 * Properties: a statement that splits into known items joins back to exactly the input (one
 * spelling per statement), an item's name parses back to the item, and a split never returns more
 * than max items or reads an empty one. */
#include "fuzz.h"
#include "common/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    trust_item it[TRUST_MAX_ITEMS];
    int n = trust_split(s, size, it, TRUST_MAX_ITEMS);
    FUZZ_REQUIRE(n >= -1 && n <= (int)TRUST_MAX_ITEMS);
    if (n < 0)
        return 0;
    FUZZ_REQUIRE(n >= 1 && size <= TRUST_MAX_LEN);
    int known = 1;
    for (int i = 0; i < n; i++) {
        FUZZ_REQUIRE(it[i] >= TRUST_NONE && it[i] <= TRUST_UNKNOWN);
        known &= it[i] != TRUST_UNKNOWN;
        const char *name = trust_item_name(it[i]);
        FUZZ_REQUIRE(name && trust_item_describe(it[i]));
        if (it[i] != TRUST_UNKNOWN)
            FUZZ_REQUIRE(trust_item_parse(name, strlen(name)) == it[i]);
        FUZZ_REQUIRE(!trust_item_proves_image(it[i]) || trust_item_is_rooted(it[i]));
    }
    char back[TRUST_MAX_LEN + 1];
    if (known) {
        FUZZ_REQUIRE(trust_join(it, (size_t)n, back, sizeof back) == 0);
        FUZZ_REQUIRE(strlen(back) == size && !memcmp(back, s, size));
    }
    return 0;
}
