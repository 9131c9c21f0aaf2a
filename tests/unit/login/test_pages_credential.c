/* login/pages_credential: the credential section escapes the offer and draws a QR code only when
 * there is an offer; the SD-JWT VC link escapes the result code. */
#include "test.h"
#include "login/html.h"
#include "login/pages_credential.h"
#include <string.h>

TEST(credential_section_escapes_and_draws_only_with_an_offer)
{
    struct page_info pi;
    struct html h;
    memset(&pi, 0, sizeof pi);
    html_init(&h);
    pages_credential(&h, &pi);
    CHECK(h.b.len == 0);
    pi.credential = "eyJ.x.y~WyJ~";
    pi.credential_offer = "openid-credential-offer://?credential_offer=%7B%22a%22%3A1%7D&x=\"<b>";
    pages_credential(&h, &pi);
    CHECK(!html_failed(&h));
    CHECK(strstr(h.b.p, "id=\"download-sd-jwt\"") && strstr(h.b.p, "<svg") && strstr(h.b.p, "role=\"img\""));
    CHECK(strstr(h.b.p, "<title>QR code"));
    CHECK(!strstr(h.b.p, "\"<b>") && strstr(h.b.p, "&quot;&lt;b&gt;"));
    html_free(&h);
    html_init(&h);
    pages_credential_link(&h, "ABC\"<");
    CHECK(strstr(h.b.p, "code=ABC&quot;&lt;") != NULL);
    html_free(&h);
}

int main(void)
{
    RUN(credential_section_escapes_and_draws_only_with_an_offer);
    return test_done();
}
