/* libFuzzer target for the ACME client's parsers of CA input (acme_parse.c, acme_problem.c). The
 * first byte picks the parser, the rest is the input. Asserts properties, not only "no crash":
 * results stay in range, decoded text is sanitised, windows are ordered, chains are capped. */
#include "login/acme/acme_parse.h"
#include "login/acme/acme_problem.h"
#include "login/limits.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void printable(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    assert(n < cap);
    for (size_t i = 0; i < n; i++)
        assert(s[i] >= 0x20 && s[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 1)
        return 0;
    uint8_t sel = data[0] % 6;
    const uint8_t *p = data + 1;
    size_t n = len - 1;
    /* a copy without a terminating NUL, so reading past n is caught by ASan */
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, p, n);
    switch (sel) {
    case 0: {
        struct acme_problem pr;
        int rc = acme_problem_parse(b, n, 400, &pr);
        assert(rc == 0 || pr.kind == ACME_PROB_NONE);
        if (rc == 0) {
            assert(pr.kind != ACME_PROB_NONE && pr.status >= 100 && pr.status <= 599);
            printable(pr.type, sizeof pr.type);
            printable(pr.detail, sizeof pr.detail);
            printable(pr.subproblems, sizeof pr.subproblems);
            assert(pr.nsub <= ACME_PROBLEM_SUBPROBLEMS_MAX);
        }
        char line[200];
        acme_problem_format(&pr, line, sizeof line);
        assert(strnlen(line, sizeof line) < sizeof line);
        break;
    }
    case 1: {
        long s = acme_retry_after_parse((const char *)b, n, 1700000000);
        assert(s == -1 || (s >= 0 && s <= ACME_RETRY_AFTER_MAX_S));
        break;
    }
    case 2: {
        time_t t;
        if (acme_rfc3339_parse((const char *)b, n, &t) == 0)
            assert(n >= 20 && t > -62167219200LL - 86400 && t < 253402300800LL + 86400);
        break;
    }
    case 3: {
        struct acme_ari_window w;
        if (acme_ari_parse(b, n, &w) == 0) {
            assert(w.end > w.start);
            printable(w.explanation, sizeof w.explanation);
            uint32_t r = n >= 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 7;
            time_t t = acme_ari_pick(&w, r);
            assert(t >= w.start && t <= w.end);
        }
        break;
    }
    case 4: {
        X509 *leaf;
        STACK_OF(X509) *chain;
        if (acme_pem_chain_parse((const char *)b, n, &leaf, &chain) == 0) {
            assert(leaf && chain && sk_X509_num(chain) < ACME_MAX_CHAIN_CERTS);
            X509_free(leaf);
            sk_X509_pop_free(chain, X509_free);
        } else {
            assert(!leaf && !chain);
        }
        break;
    }
    case 5: {
        json_t *o = acme_json_load(b, n);
        assert(!o || (json_is_object(o) && n <= ACME_MAX_JSON_BYTES));
        json_decref(o);
        break;
    }
    }
    free(b);
    return 0;
}
