/* Unit tests for login/login_state: sealed cookie, constant-time state check, PKCE S256. */
#include "test.h"
#include "login/login_state.h"
#include <time.h>

TEST(pkce_s256_rfc7636_appendix_b)
{
    char ch[LOGIN_TOKEN_LEN + 1];
    login_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
    CHECK_STR(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(seal_open_roundtrip)
{
    struct login_state_keys *k = login_state_keys_new();
    struct login_pending p, q;
    time_t now = 1700000000;
    CHECK(login_pending_new(&p, now) == 0);
    CHECK(strlen(p.state) == 43 && strlen(p.verifier) == 43 && strlen(p.nonce) == 43);
    CHECK(strcmp(p.state, p.verifier) && strcmp(p.state, p.nonce));
    char *c = login_cookie_seal(k, &p);
    CHECK(c && strlen(c) < 400);
    CHECK(login_cookie_check(k, c, strlen(c), p.state, 43, now + 5, &q) == LOGIN_STATE_OK);
    CHECK_STR(q.verifier, p.verifier);
    CHECK_STR(q.nonce, p.nonce);
    CHECK(q.expires == (uint64_t)now + 600);
    free(c);
    login_state_keys_free(k);
}

TEST(wrong_state_expired_tampered_foreign_missing)
{
    struct login_state_keys *k = login_state_keys_new(), *other = login_state_keys_new();
    struct login_pending p, q;
    time_t now = 1700000000;
    login_pending_new(&p, now);
    char *c = login_cookie_seal(k, &p);
    size_t cl = strlen(c);
    char bad[44];
    memcpy(bad, p.state, 44);
    bad[5] ^= 1;
    CHECK(login_cookie_check(k, c, cl, bad, 43, now, &q) == LOGIN_STATE_MISMATCH);
    CHECK(login_cookie_check(k, c, cl, p.state, 42, now, &q) == LOGIN_STATE_MISMATCH);
    CHECK(login_cookie_check(k, c, cl, p.state, 43, now + 601, &q) == LOGIN_STATE_EXPIRED);
    CHECK(login_cookie_check(other, c, cl, p.state, 43, now, &q) == LOGIN_STATE_INVALID);
    CHECK(login_cookie_check(k, NULL, 0, p.state, 43, now, &q) == LOGIN_STATE_MISSING);
    int all_invalid = 1;
    for (size_t i = 0; i < cl; i++) {
        char saved = c[i];
        c[i] = c[i] == 'A' ? 'B' : 'A';
        if (login_cookie_check(k, c, cl, p.state, 43, now, &q) != LOGIN_STATE_INVALID) all_invalid = 0;
        c[i] = saved;
    }
    CHECK(all_invalid);
    CHECK(login_cookie_check(k, c, cl - 1, p.state, 43, now, &q) == LOGIN_STATE_INVALID);
    CHECK(login_cookie_check(k, "!!!", 3, p.state, 43, now, &q) == LOGIN_STATE_INVALID);
    free(c);
    login_state_keys_free(k);
    login_state_keys_free(other);
}

int main(void)
{
    RUN(pkce_s256_rfc7636_appendix_b);
    RUN(seal_open_roundtrip);
    RUN(wrong_state_expired_tampered_foreign_missing);
    return test_done();
}
