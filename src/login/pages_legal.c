/* pages_legal: the privacy policy (/privacy) and user agreement (/terms) that PayPal shows on its
 * consent page for a Live "Log in with PayPal" app. The text is compiled into the service, so it
 * is part of the measured image and changes only with a release. Every statement here is about
 * what the code does: keep it in step with app.c (cookies, /result), service_state.c, idset.c and
 * vc_offers.c (what is kept), paypal.c (what is asked for), evidence.c (what a result holds), log.c and
 * docs/logging.md (what is logged). Pure rendering: no I/O, no state. */
#include "login/pages.h"
#include "login/limits.h"
#include "login/login_state.h"
#include <string.h>

static int scope_has(const struct page_info *pi, const char *want)
{
    const char *s = pi->paypal_scope ? pi->paypal_scope : "";
    size_t n = strlen(want);
    for (const char *p = s; (p = strstr(p, want)); p += n)
        if ((p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* One item of "what PayPal may share", marked as asked for or not by the configured scopes. */
static void shared_item(struct html *h, const struct page_info *pi, const char *scope, const char *what)
{
    int asked = scope_has(pi, scope);
    html_raw(h, "<li>");
    html_raw(h, what);
    html_raw(h, " (scope <code>");
    html_text(h, scope);
    html_raw(h, asked ? "</code>: asked for)</li>" : "</code>: <strong>not</strong> asked for)</li>");
}

static void where_kept(struct html *h, const struct page_info *pi)
{
    const char *s = pi->state_scope ? pi->state_scope : "process";
    if (!strncmp(s, "sealed-", 7))
        html_raw(h, "in the machine's memory and, so that it survives a reboot, encrypted in the operator's cloud "
                    "storage bucket under a key only this machine running this image can recover (its ");
    if (!strcmp(s, "sealed-vtpm"))
        html_raw(h, "TPM");
    else if (!strcmp(s, "sealed-snp"))
        html_raw(h, "AMD processor");
    if (!strncmp(s, "sealed-", 7))
        html_raw(h, "): the operator and the cloud see only ciphertext");
    else if (!strcmp(s, "boot"))
        html_raw(h, "in the machine's memory (a RAM file system held by its first process, never a disk): "
                    "nothing of it survives a reboot");
    else if (!strcmp(s, "directory"))
        html_raw(h, "in the state directory the operator gave this service (a development or test setup: the "
                    "sealed image keeps it in memory only)");
    else
        html_raw(h, "in the service process's memory only: nothing of it survives a restart");
}

void pages_privacy(struct html *h, const struct page_info *pi)
{
    const char *domain = pi->domain ? pi->domain : "this site";
    pages_open(h, pi, "Privacy policy");
    html_raw(h, "<h1 id=\"privacy\">Privacy policy</h1><p>This is the privacy policy of the sealed-login service at "
                "<bdi>");
    html_text(h, domain);
    html_raw(h, "</bdi>, a &#8220;Log in with PayPal&#8221; application. It says what the service learns about you, "
                "what it does with it, what it keeps and for how long. Its text is compiled into the service's "
                "program, so it is part of the image whose measurement results report, and it changes only with "
                "a new release of the public source.</p>");

    html_raw(h, "<h2>Who runs it</h2><p>The operator of <bdi>");
    html_text(h, domain);
    html_raw(h, "</bdi> runs this copy of sealed-login, an open-source program. The whole server is one sealed "
                "virtual machine with no shell and no remote login: the operator can change what it does only by "
                "deploying a different image, which changes its measurement. Anyone can rebuild the image from "
                "source, bit for bit, and compare (see the <a href=\"/\">start page</a>). Where the platform "
                "does not encrypt the machine's memory, the cloud provider's hosts could in principle read it; "
                "the <a href=\"/status\">status page</a> and every result say which evidence this server has.</p>");

    html_raw(h, "<h2>What PayPal shares with us</h2><p>When you press &#8220;Log in with PayPal&#8221;, PayPal "
                "asks you, on its own pages, whether to share some of your account information with this "
                "application. This service asks PayPal for the scopes <code id=\"paypal-scope\">");
    html_text(h, pi->paypal_scope ? pi->paypal_scope : "openid");
    html_raw(h, "</code>. PayPal shares at most what these scopes cover, and only what you approve:</p><ul>");
    shared_item(h, pi, "openid", "your PayPal user id for this application: a pairwise identifier, different "
                                 "for every application, so it cannot be matched with your id at another site");
    shared_item(h, pi, "profile", "your name (full, given and family name)");
    shared_item(h, pi, "email", "your e-mail address and whether PayPal has confirmed it");
    shared_item(h, pi, "address", "your postal address");
    shared_item(h, pi, "https://uri.paypal.com/services/paypalattributes",
                "whether your PayPal account is verified, and its payer id or account type");
    html_raw(h, "</ul><p>We never see your password, payment methods, balances or transactions: Log in with "
                "PayPal shares no financial information. PayPal's access token is used for exactly one request "
                "(the one that fetches the information above), held only in memory and wiped; no token is ever "
                "stored, so the service cannot ask PayPal about you again.</p>");

    html_raw(h, "<h2>What we do with it</h2><p>We put it, unchanged, into your <strong>result</strong>: a "
                "document signed by the service's key (a JWS, shown on the result page and offered for download) "
                "that contains:</p><ul>"
                "<li>the PayPal environment and this application's client id;</li>"
                "<li>your PayPal user id and the information PayPal shared, exactly as PayPal sent it;</li>"
                "<li>when PayPal signed it with its public key, PayPal's own signed statement of this login (its "
                "<code>id_token</code>: your PayPal user id, this application, the time, and a number tied to "
                "this result), so that anyone can check with PayPal's published key that PayPal said so;</li>"
                "<li>when it was made, a random number, and the fingerprint of the TLS key that served you;</li>"
                "<li>the hardware evidence this server has (an attestation report or TPM quote and the "
                "certificates to check it), bound to all of the above, and a statement of what that evidence "
                "proves;</li>"
                "<li>the source commit and kernel command line of the image, so anyone can rebuild it, and since "
                "when the once-per-account rule has held.</li></ul>"
                "<p>That is the only use. No account is created, no profile is built, you get no e-mail or "
                "marketing, and nothing is sold or shared with anyone. Once you have your result, what you do "
                "with it is up to you: anyone you give it to can read the personal information in it and check "
                "its signature.</p>"
                "<p>The same result is also offered as a <strong>credential</strong> (an SD-JWT verifiable "
                "credential signed by the same key, to download or to put in a wallet app by scanning a code): "
                "it holds the same facts, with your name, e-mail, verified-account status and address as "
                "claims you can choose to reveal or withhold each time you show it.</p>");

    html_raw(h, "<h2>What we keep, and for how long</h2><ul><li><strong>A keyed hash of your PayPal user "
                "id</strong> (HMAC-SHA-256 under a random key drawn by the machine, cut to 128 bits), so that "
                "each PayPal account gets one result. It is kept as long as the set of used accounts lasts: ");
    html_text(h, pi->guarantee ? pi->guarantee : "see the status page");
    html_raw(h, ". Without the key, which never leaves the machine, the hash cannot be linked to you.</li>"
                "<li><strong>Your result</strong>, including what PayPal shared, for 24 hours, so that the "
                "browser that logged in can fetch the same result again at <a href=\"/result\">/result</a>. It "
                "is found by a short code and handed only to the holder of the result cookie below. It is kept ");
    where_kept(h, pi);
    html_raw(h, ". After 24 hours it can no longer be fetched and is dropped");
    if (pi->state_scope && strcmp(pi->state_scope, "process"))
        html_raw(h, "; its bytes may stay in the state file until the service next compacts that file");
    html_raw(h, ".</li>"
                "<li><strong>A hash of each login's one-time state</strong> for 10 minutes, so that a PayPal "
                "answer can be used only once.</li>"
                "<li><strong>For the wallet offer</strong>: hashes of its one-time code and of the access token "
                "a wallet gets for it, with the keyed hash of your PayPal user id and the result's code, for at "
                "most 15 minutes (the offer's 10 and the token's 5), so that the offer is taken once and gives one credential. The wallet's public "
                "key goes into its credential and is not kept.</li></ul><p>Nothing else. The service's log never contains your "
                "name, e-mail, address, PayPal id, IP address, cookies or tokens; a login is logged with 8 hex "
                "characters of the keyed hash only. Your IP address is used in memory to limit "
                "connections and logins per address (the login limit keeps only a hash of it under a key drawn "
                "when the service starts); it is neither logged nor stored. The "
                "operator may receive daily counts (results, refusals, failures), which say nothing about "
                "anyone.</p>");

    html_raw(h, "<h2>Cookies</h2><p>Exactly two, both first-party, <code>HttpOnly</code>, <code>Secure</code> "
                "and <code>SameSite=Lax</code>, and only once you press the login button:</p><ul>"
                "<li><code>" LOGIN_COOKIE_NAME "</code>: the login in progress (a random state, the PKCE "
                "verifier and the OpenID nonce, sealed with AES-256-GCM under a key only the machine holds). It "
                "lasts 10 minutes and is deleted when the login ends.</li>"
                "<li><code>" RESULT_COOKIE_NAME "</code>: a random secret set with your result, for 24 hours, "
                "with which this browser can fetch the result again; the server keeps only its SHA-256.</li>"
                "</ul><p>No tracking, no analytics and no third-party content: the pages run no script and load "
                "nothing from anywhere else.</p>");

    html_raw(h, "<h2>Where your data goes</h2><p>Only between PayPal, this machine and your browser. The "
                "encrypted connection ends inside the sealed machine. The machine also talks to Let's Encrypt "
                "(its certificate), its cloud's metadata and secret services and, for hardware evidence, the "
                "chip vendor's key server; none of these requests carry anything about you.");
    if (pi->state_scope && !strncmp(pi->state_scope, "sealed-", 7))
        html_raw(h, " The kept state (above) also goes, encrypted, to the cloud storage bucket the machine uses "
                    "to survive reboots.");
    html_raw(h, "</p>");

    html_raw(h, "<h2>Your choices</h2><p>You can decline on PayPal's consent page, and you can remove this "
                "application from your PayPal account's settings at any time (the service holds no token, so "
                "this only stops future logins). Nobody, the operator included, can list or search kept "
                "results: they disappear after 24 hours");
    if (pi->state_scope && !strcmp(pi->state_scope, "boot"))
        html_raw(h, " or when the machine reboots");
    html_raw(h, ". The keyed hash cannot be found from your name or e-mail. See also the "
                "<a href=\"/terms\">user agreement</a>.</p>");
    pages_close(h, pi);
}

void pages_terms(struct html *h, const struct page_info *pi)
{
    const char *domain = pi->domain ? pi->domain : "this site";
    pages_open(h, pi, "User agreement");
    html_raw(h, "<h1 id=\"terms\">User agreement</h1><p>These terms apply to the sealed-login service at <bdi>");
    html_text(h, domain);
    html_raw(h, "</bdi>. By logging in you accept them. Like the <a href=\"/privacy\">privacy policy</a>, they "
                "are compiled into the measured image.</p>");

    html_raw(h, "<h2>What the service does</h2><p>It gives each PayPal account one result: a signed "
                "statement that PayPal confirmed a login to this application, with the information PayPal shared "
                "and the evidence of which software produced it. A second login with the same account gets no "
                "second result. How long that rule holds is stated on every page and in every result: ");
    html_text(h, pi->guarantee ? pi->guarantee : "see the status page");
    html_raw(h, ".</p>");

    html_raw(h, "<h2>What a result is, and is not</h2><ul><li>It shows what PayPal said about an account at one "
                "moment, and that this software said it. It is not proof of anyone's legal identity, age or "
                "address beyond what PayPal shared.</li>"
                "<li>How much its evidence proves depends on the platform; the result, the start page and the "
                "verifier say so in words. A result from a server in development mode proves nothing about "
                "any PayPal account.</li>"
                "<li>Check a result yourself with the verifier built from the public source; do not take this "
                "site's word for it.</li></ul>");

    html_raw(h, "<h2>Your part</h2><ul><li>Log in only with your own PayPal account.</li>"
                "<li>Do not try to disrupt the service, overload it or get a result for an account that is not "
                "yours. The service limits requests per address.</li>"
                "<li>Keep your result as safe as the personal information in it deserves: anyone who has it can "
                "read it.</li></ul>");

    html_raw(h, "<h2>No charge, no warranty</h2><p>The service is free and provided as it is, without any "
                "warranty. It may be unavailable, and a reboot may start the once-per-account rule over (the "
                "result says since when it held). The operator is liable only where the law does not allow "
                "this to be excluded.</p>");

    html_raw(h, "<h2>PayPal</h2><p>This service is not run by PayPal. Your PayPal account remains governed by "
                "PayPal's own user agreement and privacy statement; PayPal decides what it shares after you "
                "approve it. &#8220;PayPal&#8221; is PayPal's trademark.</p>");

    html_raw(h, "<h2>Changes</h2><p>These terms change only with a new release of the service, whose source "
                "and measurement are public.</p>");
    pages_close(h, pi);
}
