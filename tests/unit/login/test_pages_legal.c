/* Unit tests for login/pages_legal: the privacy policy states which PayPal scopes are asked for
 * (a scope is a whole word), where the state is kept for each state scope, the cookies it sets
 * and the site's domain; the user agreement states what one result is. */
#include "test.h"
#include "page_info.h"
#include "login/html.h"
#include "login/limits.h"
#include "login/login_state.h"
#include "login/pages.h"

TEST(privacy_policy_states_what_is_asked_kept_and_set)
{
    struct page_info pi = PI;
    pi.paypal_scope = "openid profile email";
    pi.state_scope = "boot";
    pi.guarantee = "once per PayPal account since T";
    struct html h;
    html_init(&h);
    pages_privacy(&h, &pi);
    CHECK(strstr(h.b.p, "<code id=\"paypal-scope\">openid profile email</code>") != NULL);
    CHECK(strstr(h.b.p, "(scope <code>email</code>: asked for)") != NULL);
    CHECK(strstr(h.b.p, "(scope <code>address</code>: <strong>not</strong> asked for)") != NULL);
    CHECK(strstr(h.b.p, "keyed hash") && strstr(h.b.p, "once per PayPal account since T"));
    CHECK(strstr(h.b.p, "for 24 hours") && strstr(h.b.p, "nothing of it survives a reboot"));
    CHECK(strstr(h.b.p, "<code>" LOGIN_COOKIE_NAME "</code>") && strstr(h.b.p, "<code>" RESULT_COOKIE_NAME "</code>"));
    CHECK(strstr(h.b.p, "localhost:8443") != NULL);
    html_free(&h);
    pi.paypal_scope = "openid emailx";   /* a scope is a whole word */
    pi.state_scope = "process";
    html_init(&h);
    pages_privacy(&h, &pi);
    CHECK(strstr(h.b.p, "(scope <code>email</code>: <strong>not</strong> asked for)") != NULL);
    CHECK(!strstr(h.b.p, "state file") && strstr(h.b.p, "survives a restart"));
    html_free(&h);
    html_init(&h);
    pages_terms(&h, &pi);
    CHECK(strstr(h.b.p, "one result") && strstr(h.b.p, "not run by PayPal"));
    html_free(&h);
}

int main(void)
{
    RUN(privacy_policy_states_what_is_asked_kept_and_set);
    return test_done();
}
