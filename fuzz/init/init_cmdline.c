/* libFuzzer target for sealed-init's kernel command line (src/init/init_cmdline.c). Besides "no
 * crash" under ASan/UBSan it asserts properties of the output: an accepted address prints back to
 * exactly its input, an accepted command line re-serialises to one that parses to the same settings,
 * a gateway is always on the link, and a refused line points at the offending sealed.* word. */
#include "init/init.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT(c) do { if (!(c)) { fprintf(stderr, "property failed: %s\n", #c); abort(); } } while (0)

static void check_net(const struct init_net *n)
{
    size_t il = strnlen(n->ifname, sizeof n->ifname);
    ASSERT(il < sizeof n->ifname);
    for (size_t i = 0; i < il; i++)
        ASSERT(n->ifname[i] != ' ' && n->ifname[i] != '/' && n->ifname[i] != '=');
    ASSERT(n->prefix <= 32 && n->ndns <= INIT_DNS_MAX);
    if (n->have_gw) {
        uint32_t m = init_prefix_mask(n->prefix);
        ASSERT(n->have_ip && (n->gw & m) == (n->ip & m) && n->gw != n->ip);
    }
}

static void roundtrip(const struct init_net *n)
{
    char line[512], a[INET_ADDRSTRLEN];
    size_t k = 0;
    if (n->have_ip) {
        inet_ntop(AF_INET, &n->ip, a, sizeof a);
        k += (size_t)snprintf(line + k, sizeof line - k, "sealed.ip=%s/%u ", a, n->prefix);
    }
    if (n->have_gw) {
        inet_ntop(AF_INET, &n->gw, a, sizeof a);
        k += (size_t)snprintf(line + k, sizeof line - k, "sealed.gw=%s ", a);
    }
    for (unsigned i = 0; i < n->ndns; i++) {
        inet_ntop(AF_INET, &n->dns[i], a, sizeof a);
        k += (size_t)snprintf(line + k, sizeof line - k, "sealed.dns=%s ", a);
    }
    if (n->ifname[0])
        k += (size_t)snprintf(line + k, sizeof line - k, "sealed.if=%s", n->ifname);
    struct init_net again;
    ASSERT(init_cmdline_parse(line, k, &again, NULL, NULL) == INIT_OK);
    ASSERT(again.have_ip == n->have_ip && again.have_gw == n->have_gw && again.ndns == n->ndns);
    ASSERT(!n->have_ip || (again.ip == n->ip && again.prefix == n->prefix));
    ASSERT(!n->have_gw || again.gw == n->gw);
    ASSERT(!memcmp(again.dns, n->dns, n->ndns * sizeof n->dns[0]));
    ASSERT(!strcmp(again.ifname, n->ifname));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;

    uint32_t ip;
    if (init_parse_ipv4(p, size, &ip) == INIT_OK) {
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ip, a, sizeof a);
        ASSERT(strlen(a) == size && !memcmp(a, p, size));   /* canonical: no leading zeros, no junk */
    }

    struct init_net n;
    const char *bad = NULL;
    size_t badlen = 0;
    enum init_err e = init_cmdline_parse(p, size, &n, &bad, &badlen);
    if (e == INIT_OK) {
        check_net(&n);
        roundtrip(&n);
    } else if (bad) {
        ASSERT(bad >= p && bad + badlen <= p + size && badlen >= 7 && !memcmp(bad, "sealed.", 7));
    }

    return 0;
}
