/* Minimal unit-test harness: TAP-style "ok N - name" / "not ok N - name" lines that tests/run.sh
 * counts. Header-only; include once per test program and end main() with test_done(). */
#ifndef SEALED_TEST_H
#define SEALED_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/codec.h"
#include "common/file.h"

static int test_n, test_failed;

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    test_case_failed = 1; } } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
    fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    test_case_failed = 1; } } while (0)

/* TEST(name) { ... } defines a case; RUN(name) runs it and prints its TAP line. */
#define TEST(name) static void name(int *test_case_failed_p)
#define test_case_failed (*test_case_failed_p)
#define RUN(name) do { int f_ = 0; name(&f_); test_n++; if (f_) test_failed++; \
    printf("%sok %d - %s\n", f_ ? "not " : "", test_n, #name); fflush(stdout); } while (0)

static inline int test_done(void) { return test_failed ? 1 : 0; }

/* Reads a whole file (testdata, at most 64 MiB) with common/file; returns a malloc'd buffer with
 * a NUL after len bytes, or NULL. */
static inline unsigned char *test_read_file(const char *path, size_t *len)
{
    uint8_t *b;
    size_t n;
    if (file_read_all(path, 64u << 20, 0, &b, &n) != FILE_OK) {
        fprintf(stderr, "  cannot read %s\n", path);
        return NULL;
    }
    if (len)
        *len = n;
    return b;
}

/* Decodes the hex string s (NULL counts as "") into out; the byte count, or -1 (odd length, a
 * non-hex digit, more than cap bytes). */
static inline int test_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t r = codec_hex_decode(s ? s : "", s ? strlen(s) : 0, out, cap);
    return r == (size_t)-1 ? -1 : (int)r;
}

/* 1 when the n bytes at b are the (at most 128-byte) value the hex string want spells. */
static inline int test_hex_eq(const uint8_t *b, size_t n, const char *want)
{
    uint8_t w[128];
    return test_unhex(want, w, sizeof w) == (int)n && memcmp(b, w, n) == 0;
}

/* Path of a file under ../shared/testdata, relative to the repository root (tests run from there). */
#define TESTDATA(rel) ("../shared/testdata/" rel)
#endif
