/* Unit tests for common/dynbuf: the cap is exact and sticky, the content stays NUL-terminated,
 * take() detaches, a secret buffer still grows correctly, and the curl write callback stops at
 * the cap. (common/file is tests/unit/common/test_file.c.) */
#include "test.h"
#include "common/dynbuf.h"

TEST(adds_grow_and_stay_terminated)
{
    struct dynbuf b;
    dynbuf_init(&b, 100000, 0);
    for (int i = 0; i < 1000; i++)
        CHECK(dynbuf_add(&b, "0123456789", 10) == DYNBUF_OK);
    CHECK(b.len == 10000 && b.p[b.len] == 0 && b.cap >= 10001);
    CHECK(dynbuf_printf(&b, "%d-%s", 42, "x") == DYNBUF_OK);
    CHECK_STR(b.p + 10000, "42-x");
    size_t n;
    char *p = dynbuf_take(&b, &n);
    CHECK(p && n == 10004 && !b.p && b.len == 0);
    free(p);
    p = dynbuf_take(&b, &n);                 /* empty: "" */
    CHECK(p && n == 0 && p[0] == 0);
    free(p);
}

TEST(cap_is_exact_and_sticky)
{
    struct dynbuf b;
    dynbuf_init(&b, 8, 1);
    CHECK(dynbuf_addstr(&b, "12345678") == DYNBUF_OK && b.len == 8 && b.cap == 9);
    CHECK(dynbuf_add(&b, "9", 1) == DYNBUF_ERR_TOOBIG);
    CHECK(dynbuf_add(&b, "", 0) == DYNBUF_ERR_TOOBIG);     /* sticky */
    CHECK(dynbuf_take(&b, NULL) == NULL && !b.p);
    dynbuf_init(&b, 4, 0);
    CHECK(dynbuf_printf(&b, "%s", "hello") == DYNBUF_ERR_TOOBIG);
    dynbuf_free(&b);
    dynbuf_free(NULL);
}

TEST(curl_write_callback_stops_at_the_cap)
{
    struct dynbuf b;
    dynbuf_init(&b, 10, 0);
    char d[6] = "abcdef";
    CHECK(dynbuf_curl_write(d, 1, 6, &b) == 6);
    CHECK(dynbuf_curl_write(d, 2, 3, &b) == 0 && b.err == DYNBUF_ERR_TOOBIG);
    dynbuf_free(&b);
}

int main(void)
{
    RUN(adds_grow_and_stay_terminated);
    RUN(cap_is_exact_and_sticky);
    RUN(curl_write_callback_stops_at_the_cap);
    return test_done();
}
