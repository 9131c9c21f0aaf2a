/* Unit tests for login/http_field (the check on every header line we send) and its use by
 * http_client: a header with a control byte is refused before any connection is made. */
#include "test.h"
#include "login/http_client.h"
#include "login/http_field.h"
#include <event2/event.h>

TEST(values_with_control_bytes_are_refused)
{
    CHECK(http_field_value_ok("Bearer A21AA-x_y.z", 18));
    CHECK(http_field_value_ok(" a\tb \x80\xff", 7));          /* SP, HTAB, obs-text */
    CHECK(http_field_value_ok("", 0));
    CHECK(!http_field_value_ok("a\r\nX-Injected: 1", 17));
    CHECK(!http_field_value_ok("a\rb", 3));
    CHECK(!http_field_value_ok("a\nb", 3));
    CHECK(!http_field_value_ok("a\0b", 3));                   /* NUL inside the given length */
    CHECK(!http_field_value_ok("\x1b[31m", 5));
    CHECK(!http_field_value_ok("\x7f", 1));
    for (int c = 0; c < 0x20; c++) {
        char v[3] = {'a', (char)c, 'b'};
        CHECK(http_field_value_ok(v, 3) == (c == '\t'));
    }
}

TEST(lines_need_a_token_name_and_a_clean_value)
{
    CHECK(http_field_line_ok("Authorization: Bearer abc"));
    CHECK(http_field_line_ok("Expect:"));
    CHECK(http_field_line_ok("X-Custom_1.a~: v"));
    CHECK(!http_field_line_ok("Authorization: Bearer abc\r\nX-Injected: 1"));
    CHECK(!http_field_line_ok("Location: https://x/\n"));
    CHECK(!http_field_line_ok(": no name"));
    CHECK(!http_field_line_ok("No colon"));
    CHECK(!http_field_line_ok("Bad Name: v"));
    CHECK(!http_field_line_ok("Bad\r\nName: v"));
    CHECK(!http_field_line_ok(""));
}

TEST(bearer_tokens_must_be_b64token)
{
    const char *good = "A21AAHp-0x_y.z~+/Q==";
    CHECK(http_field_b64token_ok(good, strlen(good)));
    CHECK(http_field_b64token_ok("a", 1));
    CHECK(!http_field_b64token_ok("", 0));
    CHECK(!http_field_b64token_ok("==", 2));
    CHECK(!http_field_b64token_ok("ab=c", 4));                /* '=' only at the end */
    CHECK(!http_field_b64token_ok("abc\r\nX-Injected: 1", 19));
    CHECK(!http_field_b64token_ok("ab c", 4));
    CHECK(!http_field_b64token_ok("ab\0c", 4));
    CHECK(!http_field_b64token_ok("ab,c", 4));
}

static int called;
static void done_cb(void *arg, const struct http_response *r) { called++; }

TEST(http_client_refuses_a_header_with_crlf_before_connecting)
{
    struct event_base *base = event_base_new();
    struct http_client *c = http_client_new(base);
    CHECK(c != NULL);
    const char *bad[] = {"Authorization: Bearer tok\r\nX-Injected: 1", NULL};
    struct http_request req = {.method = "GET", .url = "http://127.0.0.1:9/", .headers = bad,
                               .allow_plain_http = 1};
    CHECK(http_client_start(c, &req, done_cb, NULL) == NULL);
    CHECK(http_client_active(c) == 0);
    const char *nul_name[] = {"Accept: a", "X\x01: 1", NULL};
    req.headers = nul_name;
    CHECK(http_client_start(c, &req, done_cb, NULL) == NULL);
    /* the same request with clean headers is started (and fails later, on the loop) */
    const char *good[] = {"Authorization: Bearer tok", NULL};
    req.headers = good;
    struct http_call *call = http_client_start(c, &req, done_cb, NULL);
    CHECK(call != NULL);
    CHECK(http_client_active(c) == 1);
    http_call_cancel(call);
    CHECK(called == 0);
    http_client_free(c);
    event_base_free(base);
}

int main(void)
{
    RUN(values_with_control_bytes_are_refused);
    RUN(lines_need_a_token_name_and_a_clean_value);
    RUN(bearer_tokens_must_be_b64token);
    RUN(http_client_refuses_a_header_with_crlf_before_connecting);
    return test_done();
}
