/* pages: templates. Styling follows PayPal's button guidance: a plain text button labelled
 * "Log in with PayPal", PayPal blue #0070BA, white sans-serif text; no rehosted PayPal artwork. */
#include "login/pages.h"
#include "login/pages_credential.h"
#include "common/trust.h"
#include "login/verifier_release.h"
#include "common/codec.h"
#include <stdlib.h>
#include <string.h>

const char PAGES_CSP[] = "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
                         "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/* Phone first: nothing may be wider than a 390-pixel screen, so every long token (JWS, base64,
 * hex, ids, e-mail addresses) may break anywhere and no box adds its border to 100%. */
static const char STYLE[] =
    "<style>"
    "*,::before,::after{box-sizing:border-box}"
    "body{font-family:-apple-system,'Helvetica Neue',Arial,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;"
    "color:#1a1a1a;line-height:1.5}"
    "@media (min-width:40rem){body{padding:1.5rem}}"
    "h1{font-size:1.6rem;margin:.2rem 0 1rem;line-height:1.25}h2{font-size:1.15rem;margin-top:2rem}"
    "h3{font-size:1rem;margin-top:1.5rem}"
    ".dev{background:#fff3cd;border:2px solid #d39e00;padding:.6rem 1rem;font-weight:bold;margin-bottom:1rem}"
    ".warn{background:#fdecea;border-left:4px solid #c0392b;padding:.6rem 1rem}"
    ".ok{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.6rem 1rem}"
    ".paypal{display:inline-block;background:#0070BA;color:#fff;font-family:Arial,Helvetica,sans-serif;"
    "font-weight:bold;font-size:1.05rem;padding:.75rem 1.6rem;border-radius:1.5rem;text-decoration:none}"
    ".paypal:hover{background:#005ea6}.paypal:focus{outline:3px solid #ffc439}"
    "code,pre,textarea,.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}"
    "code,pre,textarea,.id,td,th,dd,dt,li,p{overflow-wrap:anywhere}"
    "textarea{word-break:break-all}"
    "pre{background:#f5f5f5;padding:.6rem;white-space:pre-wrap}"
    "textarea{display:block;width:100%;height:8rem}"
    "table{border-collapse:collapse;width:100%;table-layout:fixed}"
    "td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#fafafa;width:40%;font-weight:600}"
    "dl.fields{margin:0}dl.fields>dt{font-weight:bold;margin-top:.9rem}dl.fields>dd{margin:0}"
    "dl.nested{margin:0}dl.nested>dt{color:#555;margin-top:.2rem}dl.nested>dd{margin:0 0 0 1rem}"
    ".key{color:#555;font-weight:normal;font-size:.8rem}.note{color:#555}"
    "ul.plain{list-style:none;margin:0;padding:0}.address{white-space:pre-line}"
    ".download{font-weight:bold}"
    "footer{margin-top:3rem;padding-top:1rem;border-top:1px solid #ddd;color:#555;font-size:.85rem}"
    "footer nav a{display:inline-block;margin-right:1.2rem;padding:.25rem 0}"
    "</style>";

void pages_open(struct html *h, const struct page_info *pi, const char *title)
{
    html_raw(h, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
    html_text(h, title);
    html_raw(h, " · sealed-login</title>");
    html_raw(h, STYLE);
    html_raw(h, "</head><body>");
    if (pi->dev_mode)
        html_raw(h, "<header><div class=\"dev\" id=\"dev-banner\">development mode: not PayPal. Logins go to a local "
                    "stand-in identity provider; results prove nothing about any PayPal account.</div></header>");
    html_raw(h, "<main>");
}

void pages_close(struct html *h, const struct page_info *pi)
{
    html_raw(h, "</main><footer>");
    if (pi->guarantee) {
        html_raw(h, "<p id=\"guarantee\">One result per PayPal account: ");
        html_text(h, pi->guarantee);
        html_raw(h, ".</p>");
    }
    html_raw(h, "<nav aria-label=\"site\"><a href=\"/\">Start page</a><a href=\"/privacy\">Privacy policy</a>"
                "<a href=\"/terms\">User agreement</a><a href=\"/status\">Status</a></nav>"
                "<p>sealed-login · PayPal environment: ");
    html_text(h, pi->paypal_env);
    html_raw(h, " · evidence: ");
    html_text(h, pi->evidence_kind);
    html_raw(h, "</p></footer></body></html>");
}

static void measurement_line(struct html *h, const struct page_info *pi)
{
    if (pi->measurement) {
        html_raw(h, "<p>Image measurement: <code id=\"measurement\">");
        html_text(h, pi->measurement);
        html_raw(h, "</code></p>");
    } else if (pi->source_commit) {
        /* an image cannot carry its own measurement: the hardware reports it in each result */
        html_raw(h, "<p>Image measurement: <span id=\"measurement\">reported by the hardware in each result; "
                    "rebuild the commit below to know what it must be</span></p>");
    } else {
        html_raw(h, "<p>Image measurement: <code id=\"measurement\">unmeasured: development build</code></p>");
    }
}

/* What results here prove, item by item, in the trust statement's own words (common/trust.h). */
static void attestation_note(struct html *h, const struct page_info *pi)
{
    trust_item items[TRUST_MAX_ITEMS];
    const char *t = pi->trust ? pi->trust : "none";
    int n = trust_split(t, strlen(t), items, TRUST_MAX_ITEMS);
    if (n <= 0 || (n == 1 && items[0] == TRUST_NONE)) {
        html_raw(h, "<p class=\"warn\" id=\"attestation-note\">This server has no hardware attestation "
                    "(evidence type <code>none</code>): results are signed by the service key but are "
                    "<strong>not hardware-attested</strong>.</p>");
    } else {
        html_raw(h, pi->hardware_attested ? "<div class=\"ok\" id=\"attestation-note\"><p>Results carry hardware "
                                            "evidence rooted in a vendor's key (<code id=\"trust\">"
                                          : "<div class=\"warn\" id=\"attestation-note\"><p>Results are "
                                            "<strong>not hardware-attested</strong> (<code id=\"trust\">");
        html_text(h, t);
        html_raw(h, "</code>):</p><ul>");
        for (int i = 0; i < n; i++) {
            html_raw(h, "<li>");
            html_text(h, trust_item_describe(items[i]));
            html_raw(h, "</li>");
        }
        html_raw(h, "</ul></div>");
    }
    if (pi->ephemeral_key)
        html_raw(h, "<p class=\"warn\">The signing key was generated at boot (no <code>SEALED_SIGNING_KEY</code> "
                    "was given), so results cannot be tied to a published service key.</p>");
}

/* How to check a result: with a recorded source commit, rebuild that commit (reproducible) and
 * compare against its build-manifest.json; without one (development), the bare command. */
static void verify_steps(struct html *h, const struct page_info *pi, const char *file)
{
    const char *c = pi->source_commit;
    size_t hexlen = c ? strspn(c, "0123456789abcdef") : 0;
    if (c) {
        html_raw(h, "<ol id=\"verify-steps\"><li>Rebuild this server's image from its source, commit "
                    "<code id=\"source-commit\">");
        html_text(h, c);
        html_raw(h, "</code>:<pre id=\"rebuild-command\">git checkout ");
        html_textn(h, c, hexlen);
        html_raw(h, " &amp;&amp; make image");
        if (pi->kernel_cmdline) {     /* config_load_cmdline admits no quote or backslash */
            html_raw(h, " IMAGE_APPEND='");
            html_text(h, pi->kernel_cmdline);
            html_raw(h, "'");
        }
        html_raw(h, "</pre>The build is bit-for-bit reproducible. It writes "
                    "<code>build/image/build-manifest.json</code> with the measurements the hardware must "
                    "report for exactly these bytes");
        if (pi->kernel_cmdline)
            html_raw(h, " (<code>IMAGE_APPEND</code> is the kernel command line this server booted with: it is "
                        "measured too)");
        html_raw(h, ".</li>");
        if (c[hexlen])
            html_raw(h, "<li class=\"warn\" id=\"dirty-note\">This image was built from a tree with uncommitted "
                        "changes: nobody can rebuild it from the published source, so its measurement proves "
                        "nothing to you.</li>");
        html_raw(h, "<li>Check the result against that manifest:</li></ol>");
    }
    html_raw(h, "<pre id=\"verify-command\">");
    html_raw(h, c ? "build/sealed-verify result " : "sealed-verify result ");
    html_text(h, file);
    if (pi->client_id) {
        html_raw(h, " --client-id '");
        html_text(h, pi->client_id);
        html_raw(h, "'");
    }
    if (c) {
        html_raw(h, " --manifest build/image/build-manifest.json");
    } else if (pi->measurement) {
        html_raw(h, " --expect-measurement ");
        html_text(h, pi->measurement);
    }
    /* say so in the command itself: the verifier refuses these by default */
    if (pi->trust && strstr(pi->trust, "unrooted"))
        html_raw(h, " --allow-unrooted-ak");
    if (!pi->trust || !strcmp(pi->trust, "none"))
        html_raw(h, " --allow-unattested");
    html_raw(h, "</pre>");
}

/* The browser verifier: a release artifact named by its sha256, never served from here. */
static void browser_verifier(struct html *h)
{
    html_raw(h, "<p id=\"browser-verifier\">Or check it in your browser, offline: ");
    html_raw(h, VERIFIER_HTML_URL[0] ? "<a href=\"" VERIFIER_HTML_URL "\">" VERIFIER_HTML_NAME "</a>"
                                : "<code>" VERIFIER_HTML_NAME "</code>");
    html_raw(h, " (SHA-256 <code id=\"verifier-sha256\">" VERIFIER_HTML_SHA256 "</code>; <code>make</code> "
                "builds it from the same source) is the same verifier in one file that makes no network "
                "request. Open it from disk and drop your result on it. This site does not serve it: a "
                "checker from the server under test would prove nothing.</p>");
}

void pages_home(struct html *h, const struct page_info *pi, int login_available, const char *why)
{
    pages_open(h, pi, "Log in and get a verifiable result");
    html_raw(h, "<h1>sealed-login</h1>"
                "<p>This website is one sealed virtual machine built reproducibly from public source. "
                "Log in with PayPal once and it answers with your PayPal account information and a signed "
                "statement of which software produced it, bound to this PayPal application and your "
                "account. Each PayPal account gets exactly one result.</p>");
    measurement_line(h, pi);
    attestation_note(h, pi);
    if (login_available) {
        html_raw(h, "<p><a class=\"paypal\" id=\"paypal-login\" href=\"/login\">Log in with PayPal</a></p>");
        html_raw(h, "<p id=\"consent\">By logging in you accept the <a href=\"/terms\">user agreement</a>. The "
                    "<a href=\"/privacy\">privacy policy</a> says what PayPal shares with this service and what it "
                    "keeps: a keyed hash of your PayPal account id, and your result for 24 hours.</p>");
    } else {
        html_raw(h, "<p class=\"warn\" id=\"unavailable\">Login is temporarily unavailable: ");
        html_text(h, why ? why : "the service is starting");
        html_raw(h, ". Please try again in a few minutes.</p>");
    }
    html_raw(h, "<h2>How to verify a result</h2>"
                "<p>After logging in, download your result (a JWS file). Then, in a checkout of this "
                "project's source (<code>make all</code> builds <code>sealed-verify</code>):</p>");
    verify_steps(h, pi, "sealed-login-result.jws");
    browser_verifier(h);
    html_raw(h, "<p>It checks the signature and key id, recomputes REPORT_DATA from the PayPal client id, "
                "your user id and the keys in play, checks the hardware evidence and its certificate chain "
                "(when there is any) and compares the measurement with the one you rebuilt from source.</p>");
    pages_close(h, pi);
}

/* ---- JSON values as text: what PayPal returned and /status, never raw JSON -------------------- */

#define VALUE_DEPTH_MAX 4   /* deeper than this (never seen from PayPal or /status): compact JSON */

static void value_html(struct html *h, const char *key, const json_t *v, int depth, int id);

static void note(struct html *h, const char *text)
{
    html_raw(h, "<span class=\"note\">");
    html_raw(h, text);
    html_raw(h, "</span>");
}

/* A member name, isolated (PayPal chooses them), with a line-break opportunity after each '_'
 * so that "login_unavailable_reason" wraps between words on a phone. */
static void key_html(struct html *h, const char *k)
{
    html_raw(h, "<bdi>");
    for (const char *p = k; *p;) {
        size_t n = strcspn(p, "_");
        html_textn(h, p, n + (p[n] == '_'));
        p += n + (p[n] == '_');
        if (p[-1] == '_' && *p)
            html_raw(h, "<wbr>");
    }
    html_raw(h, "</bdi>");
}

/* The members of an object that skip(k, m) does not claim (all when skip is NULL), one per
 * line, in a nested list; nothing when none is left. */
static void members_html(struct html *h, const json_t *o, int depth,
                         int (*skip)(const char *k, const json_t *m))
{
    const char *k;
    json_t *m;
    int n = 0;
    json_object_foreach((json_t *)o, k, m) {
        if (skip && skip(k, m))
            continue;
        if (!n++)
            html_raw(h, "<dl class=\"nested\">");
        html_raw(h, "<dt>");
        key_html(h, k);
        html_raw(h, "</dt><dd>");
        value_html(h, k, m, depth + 1, 0);
        html_raw(h, "</dd>");
    }
    if (n)
        html_raw(h, "</dl>");
}

static const char *const address_order[] = {"formatted", "street_address", "address_line_1", "address_line_2",
                                            "locality", "city", "region", "state", "postal_code", "country"};

/* A member address_html already showed as a line. */
static int address_line_shown(const char *k, const json_t *m)
{
    for (size_t i = 0; i < sizeof address_order / sizeof *address_order; i++)
        if (!strcmp(k, address_order[i]))
            return json_is_string(m);
    return 0;
}

/* A member email_entry_html already showed: the address or a flag. */
static int email_part_shown(const char *k, const json_t *m)
{
    return !strcmp(k, "value") || json_is_boolean(m);
}

/* A postal address (OpenID Connect's address claim, PayPal's paypalv1.1 shape): one component a
 * line in the usual reading order, then any member we do not know. */
static void address_html(struct html *h, const json_t *o, int depth)
{
    int lines = 0;
    html_raw(h, "<div class=\"address\">");
    for (size_t i = 0; i < sizeof address_order / sizeof *address_order; i++) {
        const json_t *c = json_object_get(o, address_order[i]);
        if (!json_is_string(c) || !json_string_length(c))
            continue;
        if (lines++)
            html_raw(h, "\n");
        html_bdi(h, NULL, json_string_value(c), json_string_length(c));
        if (!strcmp(address_order[i], "formatted"))
            break;   /* the whole address already */
    }
    html_raw(h, "</div>");
    members_html(h, o, depth, address_line_shown);
}

/* PayPal's e-mail list entry {"value": ..., "primary": true, "confirmed": true}: the address,
 * then the flags that hold, in words. */
static int email_entry_html(struct html *h, const json_t *e, int depth)
{
    const json_t *val = json_object_get(e, "value");
    if (!json_is_object(e) || !json_is_string(val))
        return 0;
    html_bdi(h, NULL, json_string_value(val), json_string_length(val));
    const char *k;
    json_t *m;
    int flags = 0;
    json_object_foreach((json_t *)e, k, m) {
        if (!json_is_true(m))
            continue;
        html_raw(h, flags++ ? ", " : " <span class=\"note\">(");
        html_text(h, k);
    }
    if (flags)
        html_raw(h, ")</span>");
    members_html(h, e, depth, email_part_shown);
    return 1;
}

/* Any JSON value as text a person reads: strings isolated with <bdi> (class "id" for long
 * identifiers), booleans as yes/no, lists and objects one item a line. key names the member
 * (NULL in a list) so that an address and an e-mail list read as such. */
static void value_html(struct html *h, const char *key, const json_t *v, int depth, int id)
{
    if (json_is_string(v)) {
        html_bdi(h, id ? "id" : NULL, json_string_value(v), json_string_length(v));
    } else if (json_is_boolean(v)) {
        note(h, json_is_true(v) ? "yes" : "no");
    } else if (json_is_null(v)) {
        note(h, "none");
    } else if (json_is_integer(v)) {
        html_rawf(h, "<span class=\"note\">%lld</span>", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        html_rawf(h, "<span class=\"note\">%g</span>", json_real_value(v));
    } else if (depth >= VALUE_DEPTH_MAX) {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        html_bdi(h, "id", s ? s : "", s ? strlen(s) : 0);
        free(s);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        if (!json_array_size(v)) {
            note(h, "none");
            return;
        }
        html_raw(h, "<ul class=\"plain\">");
        json_array_foreach(v, i, e) {
            html_raw(h, "<li>");
            if (!email_entry_html(h, e, depth + 1))
                value_html(h, NULL, e, depth + 1, id);
            html_raw(h, "</li>");
        }
        html_raw(h, "</ul>");
    } else if (key && !strcmp(key, "address")) {
        address_html(h, v, depth);
    } else {
        members_html(h, v, depth, NULL);
    }
}

/* PayPal's userinfo members in the order a person reads them (the rest follow in PayPal's
 * order, labelled with their own names). */
static const struct userinfo_field {
    const char *key, *label;
    int id;   /* an identifier: monospace, breaks anywhere */
} USERINFO_FIELDS[] = {
    {"name", "Name", 0},
    {"given_name", "Given name", 0},
    {"family_name", "Family name", 0},
    {"emails", "E-mail", 0},
    {"email", "E-mail", 0},
    {"email_verified", "E-mail confirmed", 0},
    {"address", "Postal address", 0},
    {"verified_account", "Verified PayPal account", 0},
    {"account_type", "Account type", 0},
    {"payer_id", "PayPal payer id", 1},
    {"user_id", "PayPal user id (only this PayPal application sees this one)", 1},
    {"sub", "Subject", 1},
};
#define USERINFO_NFIELDS (sizeof USERINFO_FIELDS / sizeof *USERINFO_FIELDS)

static void userinfo_row(struct html *h, const char *key, const char *label, const json_t *v, int id)
{
    html_raw(h, "<dt>");
    if (label) {
        html_raw(h, label);
        html_raw(h, " <code class=\"key\">");
        html_text(h, key);
        html_raw(h, "</code>");
    } else {
        key_html(h, key);
    }
    html_raw(h, "</dt><dd>");
    value_html(h, key, v, 0, id);
    html_raw(h, "</dd>");
}

static void userinfo_html(struct html *h, const json_t *userinfo)
{
    const char *k;
    json_t *v;
    html_raw(h, "<dl id=\"userinfo\" class=\"fields\">");
    for (size_t i = 0; i < USERINFO_NFIELDS; i++) {
        const json_t *f = json_object_get(userinfo, USERINFO_FIELDS[i].key);
        /* "email" repeats the primary entry of "emails" in the openid schema: show it once */
        if (f && !(i == 4 && json_object_get(userinfo, "emails")))
            userinfo_row(h, USERINFO_FIELDS[i].key, USERINFO_FIELDS[i].label, f, USERINFO_FIELDS[i].id);
    }
    json_object_foreach((json_t *)userinfo, k, v) {
        size_t i = 0;
        while (i < USERINFO_NFIELDS && strcmp(k, USERINFO_FIELDS[i].key))
            i++;
        if (i == USERINFO_NFIELDS)
            userinfo_row(h, k, NULL, v, 0);
    }
    html_raw(h, "</dl>");
}

void pages_result(struct html *h, const struct page_info *pi, const json_t *userinfo, const char *jws,
                  const json_t *evidence, const char *rdhex)
{
    pages_open(h, pi, "Your result");
    html_raw(h, "<h1>Your result</h1><p class=\"ok\" id=\"result-ok\">PayPal confirmed your login. "
                "This is the one result for this PayPal account.</p>");
    if (pi->retrieval_code) {
        html_raw(h, "<p id=\"retrieval\">Retrieval code: <code id=\"retrieval-code\">");
        html_text(h, pi->retrieval_code);
        html_raw(h, "</code>. For 24 hours this browser can fetch this exact result again at "
                    "<a href=\"/result\">/result</a> (it holds the secret in a cookie; nobody else can), and "
                    "fetching it spends nothing.</p>");
    }
    html_raw(h, "<h2>What PayPal told us</h2>");
    userinfo_html(h, userinfo);
    html_raw(h, "<h2>Evidence</h2>");
    attestation_note(h, pi);
    html_raw(h, "<p>Evidence in this result: ");
    size_t i;
    json_t *v;
    json_array_foreach(evidence, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        html_raw(h, i ? ", <code>" : "<code>");
        html_text(h, type ? type : "?");
        html_raw(h, "</code>");
    }
    html_raw(h, "</p><p>REPORT_DATA: <code id=\"report-data\">");
    html_text(h, rdhex);
    html_raw(h, "</code><br>Signing key id (RFC 7638): <code id=\"kid\">");
    html_text(h, pi->kid);
    html_raw(h, "</code></p>");
    char *b64 = codec_b64_encode_alloc((const uint8_t *)jws, strlen(jws));
    html_raw(h, "<p><a class=\"download\" id=\"download\" download=\"sealed-login-result.jws\" "
                "href=\"data:application/jose;base64,");
    html_text(h, b64 ? b64 : "");
    html_raw(h, "\">Download evidence</a> (sealed-login-result.jws)</p>");
    free(b64);
    html_raw(h, "<p>Check it on your own machine, in a checkout of this project's source:</p>");
    verify_steps(h, pi, "sealed-login-result.jws");
    browser_verifier(h);
    pages_credential(h, pi);
    html_raw(h, "<h2><label for=\"jws\">The signed result (JWS)</label></h2><textarea id=\"jws\" readonly>");
    html_text(h, jws);
    html_raw(h, "</textarea>");
    pages_close(h, pi);
}

void pages_results_list(struct html *h, const struct page_info *pi, const char *const *codes, size_t n)
{
    pages_open(h, pi, "Your results");
    html_raw(h, "<h1 id=\"title\">Your results</h1>");
    if (!n)
        html_raw(h, "<p id=\"message\">This browser holds no result from the last 24 hours. A result can only be "
                    "fetched again from the browser that logged in.</p>");
    else
        html_raw(h, "<p id=\"message\">Results this browser received in the last 24 hours (the same bytes as "
                    "first delivered):</p><ul id=\"results\">");
    for (size_t i = 0; i < n; i++) {
        html_raw(h, "<li><a download=\"sealed-login-result.jws\" href=\"/result?code=");
        html_text(h, codes[i]);
        html_raw(h, "\">");
        html_text(h, codes[i]);
        html_raw(h, "</a>");
        pages_credential_link(h, codes[i]);
        html_raw(h, "</li>");
    }
    if (n)
        html_raw(h, "</ul>");
    html_raw(h, "<p><a href=\"/\">Back to the start page</a></p>");
    pages_close(h, pi);
}

void pages_message(struct html *h, const struct page_info *pi, int status, const char *title, const char *text)
{
    pages_open(h, pi, title);
    html_raw(h, "<h1 id=\"title\">");
    html_text(h, title);
    html_raw(h, "</h1><p id=\"message\">");
    html_text(h, text);
    html_rawf(h, "</p><p><a href=\"/\">Back to the start page</a></p><p><small>HTTP status %d</small></p>", status);
    pages_close(h, pi);
}

void pages_status(struct html *h, const struct page_info *pi, const json_t *status)
{
    pages_open(h, pi, "Status");
    html_raw(h, "<h1>Status</h1><table id=\"status\">");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)status, k, v) {
        html_raw(h, "<tr><th scope=\"row\">");
        key_html(h, k);
        html_raw(h, "</th><td>");
        value_html(h, k, v, 1, 0);
        html_raw(h, "</td></tr>");
    }
    html_raw(h, "</table><p><a href=\"/status?format=json\">JSON</a></p>");
    pages_close(h, pi);
}
