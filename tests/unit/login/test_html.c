/* Unit tests for login/html: the five HTML specials and NUL are escaped, control characters become
 * U+FFFD, and html_bdi isolates a value with bidi overrides and isolates removed. */
#include "test.h"
#include "login/html.h"

TEST(escape_all_five_and_nul)
{
    struct html h;
    html_init(&h);
    html_textn(&h, "<a href=\"x\">'&'</a>\0z", 21);
    CHECK_STR(h.b.p, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\xef\xbf\xbdz");
    html_free(&h);
}

TEST(control_characters_become_fffd_and_bdi_isolates)
{
    struct html h;
    html_init(&h);
    /* BEL, ESC, DEL and the C1 control U+0085 go; tab, LF, CR and U+00A0 (0xC2 0xA0) stay */
    html_textn(&h, "a\x07" "b\x1b" "c\x7f" "d\xc2\x85" "e\t\r\n\xc2\xa0", 15);
    CHECK_STR(h.b.p, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd" "d\xef\xbf\xbd" "e\t\r\n\xc2\xa0");
    html_free(&h);
    html_init(&h);
    /* U+202E RIGHT-TO-LEFT OVERRIDE and U+2067 RIGHT-TO-LEFT ISOLATE go; U+200F RLM stays */
    html_bdi(&h, NULL, "\xe2\x80\xae<x>\xe2\x81\xa7\xe2\x80\x8f", 12);
    html_bdi(&h, "id", "u", 1);
    CHECK_STR(h.b.p, "<bdi>\xef\xbf\xbd&lt;x&gt;\xef\xbf\xbd\xe2\x80\x8f</bdi><bdi class=\"id\">u</bdi>");
    html_free(&h);
}

int main(void)
{
    RUN(escape_all_five_and_nul);
    RUN(control_characters_become_fffd_and_bdi_isolates);
    return test_done();
}
