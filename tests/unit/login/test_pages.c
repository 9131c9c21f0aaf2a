/* Unit tests for login/pages: the page frame on every page (main, footer links to the privacy
 * policy and user agreement, the development banner), and what the home and result pages must
 * say. (The escaping is tests/unit/login/test_html.c; the legal pages test_pages_legal.c.) */
#include "test.h"
#include "page_info.h"
#include "login/html.h"
#include "login/pages.h"
#include "login/verifier_release.h"

TEST(home_page_says_what_it_must)
{
    struct html h;
    html_init(&h);
    pages_home(&h, &PI, 1, NULL);
    CHECK(strstr(h.b.p, ">Log in with PayPal</a>") != NULL);
    CHECK(strstr(h.b.p, "development mode: not PayPal") != NULL);
    CHECK(strstr(h.b.p, "unmeasured: development build") != NULL);
    CHECK(strstr(h.b.p, "not hardware-attested") != NULL);
    CHECK(strstr(h.b.p, "cid&lt;script&gt;") != NULL && !strstr(h.b.p, "cid<script>"));
    /* the browser verifier is named with its sha256, and not served from here */
    CHECK(strstr(h.b.p, "id=\"browser-verifier\"") != NULL);
    CHECK(strstr(h.b.p, "<code id=\"verifier-sha256\">" VERIFIER_HTML_SHA256 "</code>") != NULL);
    CHECK(!strstr(h.b.p, "href=\"/" VERIFIER_HTML_NAME));
    html_free(&h);
    html_init(&h);
    pages_home(&h, &PI, 0, "waiting for the secret");
    CHECK(!strstr(h.b.p, ">Log in with PayPal</a>"));
    CHECK(strstr(h.b.p, "temporarily unavailable") != NULL);
    html_free(&h);
}

TEST(result_page_escapes_userinfo_and_embeds_download)
{
    json_t *ui = json_pack("{s:s, s:{s:s}}", "name", "<img src=x onerror=alert(1)>", "address", "x", "\"</textarea>");
    json_t *ev = json_pack("[{s:s, s:s}]", "type", "none", "reason", "r");
    struct html h;
    html_init(&h);
    pages_result(&h, &PI, ui, "aaa.bbb.ccc", ev, "00ff");
    CHECK(!strstr(h.b.p, "<img src=x"));
    CHECK(!strstr(h.b.p, "\"</textarea>"));
    CHECK(strstr(h.b.p, "&lt;img src=x onerror=alert(1)&gt;") != NULL);
    CHECK(strstr(h.b.p, "href=\"data:application/jose;base64,YWFhLmJiYi5jY2M=\"") != NULL);
    CHECK(strstr(h.b.p, "sealed-verify result sealed-login-result.jws") != NULL);
    CHECK(!strstr(h.b.p, "<script"));
    /* the JWS box is labelled, and jws_from_page (tests/lib/service.py) still finds it */
    CHECK(strstr(h.b.p, "<label for=\"jws\">") && strstr(h.b.p, "<textarea id=\"jws\" readonly>aaa.bbb.ccc</textarea>"));
    html_free(&h);
    json_decref(ui);
    json_decref(ev);
}

/* PayPal's answer reads as text: names isolated, the e-mail list and the address without JSON. */
TEST(userinfo_as_text_with_every_value_isolated)
{
    json_t *ui = json_loads("{\"user_id\":\"https://www.paypal.com/webapps/auth/identity/user/X\","
                            "\"name\":\"\\u202eAlice\",\"emails\":[{\"value\":\"a@example.com\",\"primary\":true,"
                            "\"confirmed\":false}],\"address\":{\"street_address\":\"1 Main St\",\"locality\":\"San Jose\","
                            "\"postal_code\":\"95131\",\"country\":\"US\"},\"verified_account\":true,"
                            "\"x_extra\":{\"k\":[1,null]}}", 0, NULL);
    json_t *ev = json_pack("[{s:s}]", "type", "none");
    CHECK(ui != NULL);
    struct html h;
    html_init(&h);
    pages_result(&h, &PI, ui, "a.b.c", ev, "00");
    CHECK(strstr(h.b.p, "<dt>Name <code class=\"key\">name</code></dt><dd><bdi>\xef\xbf\xbd" "Alice</bdi></dd>") != NULL);
    CHECK(strstr(h.b.p, "<li><bdi>a@example.com</bdi> <span class=\"note\">(primary)</span></li>") != NULL);
    CHECK(strstr(h.b.p, "<div class=\"address\"><bdi>1 Main St</bdi>\n<bdi>San Jose</bdi>\n<bdi>95131</bdi>\n"
                        "<bdi>US</bdi></div>") != NULL);
    CHECK(strstr(h.b.p, "<bdi class=\"id\">https://www.paypal.com/webapps/auth/identity/user/X</bdi>") != NULL);
    CHECK(strstr(h.b.p, "<span class=\"note\">yes</span>") != NULL);
    CHECK(strstr(h.b.p, "<dt><bdi>x_<wbr>extra</bdi></dt>") != NULL);
    /* the name comes first, the ids last, whatever PayPal's order */
    CHECK(strstr(h.b.p, ">name</code>") < strstr(h.b.p, ">user_id</code>"));
    CHECK(!strstr(h.b.p, "\"value\"") && !strstr(h.b.p, "{\""));
    html_free(&h);
    json_decref(ui);
    json_decref(ev);
}

TEST(every_page_has_main_and_links_privacy_and_terms)
{
    json_t *st = json_pack("{s:s, s:{s:i}}", "service", "sealed-login", "http", "connections_open", 2);
    for (int page = 0; page < 5; page++) {
        struct html h;
        html_init(&h);
        switch (page) {
        case 0: pages_home(&h, &PI, 1, NULL); break;
        case 1: pages_message(&h, &PI, 404, "Not found", "nothing"); break;
        case 2: pages_status(&h, &PI, st); break;
        case 3: pages_privacy(&h, &PI); break;
        default: pages_terms(&h, &PI); break;
        }
        CHECK(strstr(h.b.p, "<html lang=\"en\">") && strstr(h.b.p, "<main>") && strstr(h.b.p, "</main><footer>"));
        CHECK(strstr(h.b.p, "<a href=\"/privacy\">Privacy policy</a>") && strstr(h.b.p, "<a href=\"/terms\">User agreement</a>"));
        CHECK(strstr(h.b.p, "<header><div class=\"dev\"") != NULL);   /* the banner is a landmark too */
        html_free(&h);
    }
    json_decref(st);
}

TEST(a_recorded_source_commit_turns_the_command_into_rebuild_and_compare)
{
    struct page_info pi = PI;
    pi.dev_mode = 0;
    pi.paypal_env = "live";
    pi.evidence_kind = "tpm2";
    pi.trust = "gce-vtpm-google-rooted";
    pi.hardware_attested = 1;
    pi.client_id = "AZcid";
    pi.source_commit = "0123456789abcdef0123456789abcdef01234567";
    struct html h;
    html_init(&h);
    pages_home(&h, &pi, 1, NULL);
    CHECK(strstr(h.b.p, "<pre id=\"rebuild-command\">git checkout 0123456789abcdef0123456789abcdef01234567 &amp;&amp; "
                        "make image</pre>") != NULL);
    CHECK(strstr(h.b.p, "<pre id=\"verify-command\">build/sealed-verify result sealed-login-result.jws "
                        "--client-id 'AZcid' --manifest build/image/build-manifest.json</pre>") != NULL);
    CHECK(!strstr(h.b.p, "--allow-unattested") && !strstr(h.b.p, "dirty-note"));
    CHECK(strstr(h.b.p, "reported by the hardware in each result") && !strstr(h.b.p, "unmeasured"));
    CHECK(!strstr(h.b.p, "IMAGE_APPEND"));
    html_free(&h);
    pi.kernel_cmdline = "console=ttyS0 sealed.ip=10.0.1.50/24 <x>";
    html_init(&h);
    pages_home(&h, &pi, 1, NULL);
    CHECK(strstr(h.b.p, "&amp;&amp; make image IMAGE_APPEND='console=ttyS0 sealed.ip=10.0.1.50/24 &lt;x&gt;'</pre>") != NULL);
    pi.kernel_cmdline = NULL;
    html_free(&h);
    pi.source_commit = "0123456789abcdef0123456789abcdef01234567+dirty";
    pi.measurement = "aa";
    html_init(&h);
    pages_home(&h, &pi, 1, NULL);
    CHECK(strstr(h.b.p, "git checkout 0123456789abcdef0123456789abcdef01234567 &amp;&amp;") != NULL);
    CHECK(strstr(h.b.p, "id=\"dirty-note\"") != NULL);
    CHECK(!strstr(h.b.p, "--expect-measurement"));    /* the manifest, not the server's own claim */
    html_free(&h);
}

TEST(unrooted_vtpm_is_said_to_be_not_hardware_attested)
{
    struct page_info pi = PI;
    pi.evidence_kind = "tpm2";
    pi.trust = "oci-vtpm-unrooted";
    pi.hardware_attested = 0;
    struct html h;
    html_init(&h);
    pages_home(&h, &pi, 1, NULL);
    CHECK(strstr(h.b.p, "<strong>not hardware-attested</strong> (<code id=\"trust\">oci-vtpm-unrooted</code>)") != NULL);
    CHECK(strstr(h.b.p, "Oracle publishes no certificate for its vTPM keys") != NULL);
    CHECK(strstr(h.b.p, " --allow-unrooted-ak</pre>") != NULL && !strstr(h.b.p, "--allow-unattested"));
    html_free(&h);
    pi.trust = "gce-snp-firmware+gce-vtpm-google-rooted";
    pi.hardware_attested = 1;
    html_init(&h);
    pages_home(&h, &pi, 1, NULL);
    CHECK(strstr(h.b.p, "class=\"ok\" id=\"attestation-note\"") && strstr(h.b.p, "it measures Google"));
    CHECK(!strstr(h.b.p, "--allow-unrooted-ak") && !strstr(h.b.p, "--allow-unattested"));
    html_free(&h);
}

int main(void)
{
    RUN(userinfo_as_text_with_every_value_isolated);
    RUN(every_page_has_main_and_links_privacy_and_terms);
    RUN(home_page_says_what_it_must);
    RUN(result_page_escapes_userinfo_and_embeds_download);
    RUN(a_recorded_source_commit_turns_the_command_into_rebuild_and_compare);
    RUN(unrooted_vtpm_is_said_to_be_not_hardware_attested);
    return test_done();
}
