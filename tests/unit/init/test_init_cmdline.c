/* Unit tests for init/init_cmdline: sealed.* parameters of the kernel command line. Buffers are
 * copied into exact-size heap blocks (no NUL) so ASan sees any read past len. */
#include "test.h"
#include "init/init.h"
#include <arpa/inet.h>

static enum init_err parse(const char *s, struct init_net *n, const char **bad, size_t *badlen)
{
    size_t len = strlen(s);
    char *b = malloc(len ? len : 1);
    memcpy(b, s, len);
    enum init_err e = init_cmdline_parse(b, len, n, bad, badlen);
    if (bad && *bad)   /* report the bad word relative to s, not the freed copy */
        *bad = s + (*bad - b);
    free(b);
    return e;
}

static uint32_t ip(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a.s_addr;
}

TEST(full_static_configuration)
{
    struct init_net n;
    const char *line = "BOOT_IMAGE=/vmlinuz console=ttyS0 quiet sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2 "
                       "sealed.dns=10.0.2.3,1.1.1.1 sealed.if=eth0\n";
    CHECK(parse(line, &n, NULL, NULL) == INIT_OK);
    CHECK(n.have_ip && n.ip == ip("10.0.2.15") && n.prefix == 24);
    CHECK(n.have_gw && n.gw == ip("10.0.2.2"));
    CHECK(n.ndns == 2 && n.dns[0] == ip("10.0.2.3") && n.dns[1] == ip("1.1.1.1"));
    CHECK_STR(n.ifname, "eth0");
}

TEST(nothing_sealed_is_an_empty_ok_result)
{
    struct init_net n;
    CHECK(parse("console=ttyS0 ip=dhcp root=/dev/sda1", &n, NULL, NULL) == INIT_OK);
    CHECK(!n.have_ip && !n.have_gw && n.ndns == 0 && n.ifname[0] == 0);
    CHECK(parse("", &n, NULL, NULL) == INIT_OK);
    CHECK(parse("   \t\n", &n, NULL, NULL) == INIT_OK);
}

TEST(quoted_words_do_not_hide_or_fake_parameters)
{
    struct init_net n;
    /* a quoted value containing spaces is one word; the sealed.ip inside it is not a parameter */
    CHECK(parse("dyndbg=\"file x.c sealed.ip=1.2.3.4/8\" sealed.ip=192.168.1.2/16", &n, NULL, NULL) == INIT_OK);
    CHECK(n.ip == ip("192.168.1.2") && n.prefix == 16);
}

TEST(address_syntax_is_strict)
{
    static const char *bad[] = {
        "sealed.ip=10.0.2.15",        /* no prefix */
        "sealed.ip=10.0.2.15/33", "sealed.ip=10.0.2.15/", "sealed.ip=10.0.2.15/024",
        "sealed.ip=10.0.2/24", "sealed.ip=10.0.2.15.1/24", "sealed.ip=256.0.0.1/8",
        "sealed.ip=010.0.0.1/8", "sealed.ip=10..0.1/8", "sealed.ip=10.0.0.-1/8", "sealed.ip=/24",
        "sealed.ip=+10.0.0.1/8", "sealed.gw=1.2.3", "sealed.dns=1.2.3.4,", "sealed.dns=,1.2.3.4",
        "sealed.ip", "sealed.if=", "sealed.if=.", "sealed.if=..", "sealed.if=eth:0", "sealed.if=e/th0", "sealed.ip=1.2.3.4/8x",
        "sealed.ip=1234.0.0.1/8",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct init_net n;
        const char *w = NULL;
        size_t wl = 0;
        enum init_err e = parse(bad[i], &n, &w, &wl);
        if (e != INIT_ERR_SYNTAX)
            fprintf(stderr, "  %s -> %s\n", bad[i], init_err_str(e));
        CHECK(e == INIT_ERR_SYNTAX);
        CHECK(w == bad[i] && wl == strlen(bad[i]));
    }
}

TEST(edges_of_the_address_space)
{
    struct init_net n;
    CHECK(parse("sealed.ip=0.0.0.0/0", &n, NULL, NULL) == INIT_OK && n.ip == 0 && n.prefix == 0);
    CHECK(parse("sealed.ip=255.255.255.255/32", &n, NULL, NULL) == INIT_OK && n.ip == 0xffffffffu && n.prefix == 32);
    CHECK(init_prefix_mask(0) == 0);
    CHECK(init_prefix_mask(24) == ip("255.255.255.0"));
    CHECK(init_prefix_mask(1) == ip("128.0.0.0"));
    CHECK(init_prefix_mask(32) == ip("255.255.255.255"));
}

TEST(gateway_must_be_on_the_link)
{
    struct init_net n;
    CHECK(parse("sealed.ip=10.0.2.15/24 sealed.gw=10.0.3.1", &n, NULL, NULL) == INIT_ERR_GW_OFFLINK);
    CHECK(parse("sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.15", &n, NULL, NULL) == INIT_ERR_GW_OFFLINK);
    CHECK(parse("sealed.ip=10.0.2.15/16 sealed.gw=10.0.3.1", &n, NULL, NULL) == INIT_OK);
    CHECK(parse("sealed.gw=10.0.2.2", &n, NULL, NULL) == INIT_ERR_GW_NO_IP);
    /* order on the line does not matter */
    CHECK(parse("sealed.gw=10.0.2.2 sealed.ip=10.0.2.15/24", &n, NULL, NULL) == INIT_OK);
}

TEST(duplicates_unknown_keys_and_caps)
{
    struct init_net n;
    const char *w = NULL;
    size_t wl = 0;
    const char *s = "sealed.ip=10.0.2.15/24 sealed.ip=10.0.2.16/24";
    CHECK(parse(s, &n, &w, &wl) == INIT_ERR_DUPLICATE);
    CHECK(w == s + 23 && wl == 22);
    CHECK(parse("sealed.gw=1.1.1.1 sealed.gw=1.1.1.1", &n, NULL, NULL) == INIT_ERR_DUPLICATE);
    CHECK(parse("sealed.if=a sealed.if=b", &n, NULL, NULL) == INIT_ERR_DUPLICATE);
    CHECK(parse("sealed.dhcp=1", &n, NULL, NULL) == INIT_ERR_UNKNOWN);
    CHECK(parse("sealed.IP=10.0.2.15/24", &n, NULL, NULL) == INIT_ERR_UNKNOWN);
    CHECK(parse("sealed.dns=1.1.1.1,2.2.2.2 sealed.dns=3.3.3.3", &n, NULL, NULL) == INIT_OK && n.ndns == 3);
    CHECK(parse("sealed.dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", &n, NULL, NULL) == INIT_ERR_TOOMANY);
    CHECK(parse("sealed.if=abcdefghijklmno", &n, NULL, NULL) == INIT_OK);    /* 15 = IFNAMSIZ - 1 */
    CHECK(parse("sealed.if=abcdefghijklmnop", &n, NULL, NULL) == INIT_ERR_TOOLONG);
    /* not sealed.*: ignored, even if it looks close */
    CHECK(parse("sealedip=1 xsealed.ip=1 sealed=1", &n, NULL, NULL) == INIT_OK && !n.have_ip);
}

TEST(len_bounds_the_parse_not_a_nul)
{
    struct init_net n;
    const char *s = "sealed.ip=10.0.2.15/24 sealed.gw=10.0.9.9";
    /* cut before the gateway word: only the address is seen */
    CHECK(init_cmdline_parse(s, 22, &n, NULL, NULL) == INIT_OK && n.have_ip && !n.have_gw);
    /* cut inside the prefix: "/2" */
    CHECK(init_cmdline_parse(s, 21, &n, NULL, NULL) == INIT_OK && n.prefix == 2);
    /* embedded NULs separate words like spaces (/proc/cmdline may end with one) */
    const char z[] = "sealed.ip=10.0.2.15/24\0sealed.gw=10.0.2.2";
    CHECK(init_cmdline_parse(z, sizeof z - 1, &n, NULL, NULL) == INIT_OK && n.have_gw);
}

TEST(every_error_has_a_name)
{
    for (int e = INIT_OK; e <= INIT_ERR_GW_NO_IP; e++)
        CHECK(strcmp(init_err_str((enum init_err)e), "unknown-error") != 0);
}

int main(void)
{
    RUN(full_static_configuration);
    RUN(nothing_sealed_is_an_empty_ok_result);
    RUN(quoted_words_do_not_hide_or_fake_parameters);
    RUN(address_syntax_is_strict);
    RUN(edges_of_the_address_space);
    RUN(gateway_must_be_on_the_link);
    RUN(duplicates_unknown_keys_and_caps);
    RUN(len_bounds_the_parse_not_a_nul);
    RUN(every_error_has_a_name);
    return test_done();
}
