/* Unit tests for login/html and login/pages: escaping and what each page must say. */
#include "test.h"
#include "login/html.h"
#include "login/pages.h"
#include "login/verifier_release.h"

TEST(escape_all_five_and_nul)
{
    struct html h;
    html_init(&h);
    html_textn(&h, "<a href=\"x\">'&'</a>\0z", 21);
    CHECK_STR(h.b.p, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\xef\xbf\xbdz");
    html_free(&h);
}

static const struct page_info PI = {
    .dev_mode = 1, .paypal_env = "local", .domain = "localhost:8443", .measurement = NULL,
    .evidence_kind = "none", .hardware_attested = 0, .ephemeral_key = 1,
    .kid = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U", .client_id = "cid<script>",
};

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
    html_free(&h);
    json_decref(ui);
    json_decref(ev);
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
    RUN(escape_all_five_and_nul);
    RUN(home_page_says_what_it_must);
    RUN(result_page_escapes_userinfo_and_embeds_download);
    RUN(a_recorded_source_commit_turns_the_command_into_rebuild_and_compare);
    RUN(unrooted_vtpm_is_said_to_be_not_hardware_attested);
    return test_done();
}
