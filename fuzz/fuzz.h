/* fuzz.h: what every libFuzzer target under fuzz/ shares: a property check that aborts (and says
 * which) whatever NDEBUG says, and the printable-text check for strings copied from the input.
 * Header-only; targets include it as "fuzz.h" (mk/fuzz.mk puts fuzz/ on the include path). */
#ifndef SEALED_FUZZ_H
#define SEALED_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_REQUIRE(c) \
    do { if (!(c)) { fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #c); abort(); } } while (0)

/* s is NUL-terminated within cap bytes and holds no control character below 0x20. */
static inline void fuzz_printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    FUZZ_REQUIRE(n < cap);
    for (size_t i = 0; i < n; i++)
        FUZZ_REQUIRE((unsigned char)s[i] >= 0x20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
