/* Fault injection for sealed-verify: every allocation made through OpenSSL fails in turn
 * (CRYPTO_set_mem_functions) while a real SEV-SNP report is checked and while a signed result is
 * verified. (jansson's allocations are not failed: jansson 2.14 asserts in its lexer when one
 * fails, load.c lex_scan_string, which would test jansson rather than us.) A verifier under memory pressure may fail, but must never
 * pass with a check missing: every run either fails or passes with exactly the baseline's steps. */
#include "test.h"
#include "common/binding.h"
#include "common/codec.h"
#include "common/jose.h"
#include "verify/amd_chain.h"
#include "verify/cli.h"
#include "verify/snp_check.h"
#include <openssl/crypto.h>

static long fail_at = -1, count;

static int should_fail(void)
{
    return fail_at >= 0 && count++ == fail_at;
}

static void *f_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return should_fail() ? NULL : malloc(n);
}

static void *f_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return should_fail() ? NULL : realloc(p, n);
}

static void f_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/* "id:status" of every step, joined, for comparing runs. */
static char *signature_of(const struct steps *st)
{
    size_t cap = 16 + st->n * 64, n = 0;
    char *s = malloc(cap);
    s[0] = 0;
    for (size_t i = 0; i < st->n; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s:%d;", st->v[i].id, (int)st->v[i].status);
    return s;
}

static uint8_t *report;
static X509 *vcek;

static int run_snp(struct steps *st)
{
    struct snp_policy pol;
    snp_policy_defaults(&pol);
    pol.allow_debug = 1;
    pol.min_tcb_given = 1;   /* zero floor: this old report passes */
    pol.at = 1700000000;
    struct snp_report r;
    int parsed;
    if (steps_init(st))
        return -1;
    return snp_check_run(&pol, report, SNP_REPORT_SIZE, vcek, NULL, 0, st, "report", &r, &parsed);
}

static char *result_jws;

static int run_result(struct steps *st)
{
    struct verify_opts o;
    memset(&o, 0, sizeof o);
    snp_policy_defaults(&o.snp);
    o.at = o.snp.at = 1700000100;
    o.max_skew = 300;
    o.allow_unattested = 1;
    o.file = "mem";
    o.no_kds_cache = 1;   /* independent of a local KDS cache */
    return result_verify_buffer(&o, (const uint8_t *)result_jws, strlen(result_jws), st);
}

/* Runs f with allocation k failing for k = 0, 1, ... until a run makes fewer than k allocations. */
static int sweep(int (*f)(struct steps *), const char *base, long *runs, long *failed_runs)
{
    for (long k = 0;; k++) {
        struct steps st;
        memset(&st, 0, sizeof st);
        count = 0;
        fail_at = k;
        int rc = f(&st);
        fail_at = -1;
        int injected = count > k;
        if (rc == 0 && st.failed == 0) {
            char *sig = signature_of(&st);
            int same = !strcmp(sig, base);
            if (!same)
                fprintf(stderr, "  allocation %ld failed and the run passed with different steps\n", k);
            free(sig);
            if (!same) {
                steps_free(&st);
                return 0;
            }
        } else {
            (*failed_runs)++;
        }
        steps_free(&st);
        (*runs)++;
        if (!injected)
            return 1;
    }
}

TEST(snp_check_never_passes_with_a_step_missing)
{
    struct steps st;
    CHECK(run_snp(&st) == 0 && st.failed == 0);
    char *base = signature_of(&st);
    steps_free(&st);
    long runs = 0, failed = 0;
    CHECK(sweep(run_snp, base, &runs, &failed));
    CHECK(runs > 50 && failed > 0);
    fprintf(stderr, "  snp: %ld runs, %ld failed under injected allocation failure\n", runs, failed);
    free(base);
}

TEST(result_never_passes_with_a_step_missing)
{
    struct steps st;
    CHECK(run_result(&st) == 0);
    char *base = signature_of(&st);
    steps_free(&st);
    long runs = 0, failed = 0;
    CHECK(sweep(run_result, base, &runs, &failed));
    CHECK(runs > 50 && failed > 0);
    fprintf(stderr, "  result: %ld runs, %ld failed under injected allocation failure\n", runs, failed);
    free(base);
}

/* A signed evidence-v1 result with evidence type none, made here with a fresh key. */
static char *make_result(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    json_t *jwk = jose_jwk_from_pkey(k);
    char kid[JOSE_THUMBPRINT_LEN + 1];
    jose_jwk_thumbprint(jwk, kid);
    const char *spki = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const char *nonce = "0123456789abcdef0123456789abcdef";
    struct binding_input in = {.client_id = "cid", .client_id_len = 3, .user_id = "uid", .user_id_len = 3,
                               .kid = kid, .tls_spki_sha256_hex = spki, .iat = 1700000000, .nonce_hex = nonce};
    uint8_t rd[64];
    char rdh[129];
    binding_report_data(&in, rd);
    codec_hex_encode(rd, 64, rdh, sizeof rdh);
    json_t *p = json_pack("{s:i, s:s, s:i, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:s, s:s, s:[{s:s, s:s}]}", "ver", 1,
                          "iss", "https://x.test", "iat", 1700000000, "nonce", nonce, "paypal", "env", "sandbox",
                          "client_id", "cid", "user_id", "uid", "userinfo", "user_id", "uid", "tls_spki_sha256", spki,
                          "report_data", rdh, "evidence", "type", "none", "reason", "test");
    char *ps = json_dumps(p, JSON_COMPACT);
    json_t *h = json_pack("{s:s, s:s, s:O}", "alg", "ES256", "kid", kid, "jwk", jwk);
    char *jws = jose_jws_compact_sign(k, h, (const uint8_t *)ps, strlen(ps));
    free(ps);
    json_decref(p);
    json_decref(h);
    json_decref(jwk);
    EVP_PKEY_free(k);
    return jws;
}

int main(void)
{
    if (!CRYPTO_set_mem_functions(f_malloc, f_realloc, f_free)) {
        printf("not ok 1 - CRYPTO_set_mem_functions must run before OpenSSL allocates\n");
        return 1;
    }
    size_t n;
    report = test_read_file(TESTDATA("snp-reports-go-sev-guest/attestation.bin"), &n);
    uint8_t *v = test_read_file(TESTDATA("snp-reports-go-sev-guest/vcek.der"), &n);
    if (v)
        amd_chain_load_certs(v, n, &vcek, 1);
    free(v);
    result_jws = make_result();
    RUN(snp_check_never_passes_with_a_step_missing);
    RUN(result_never_passes_with_a_step_missing);
    X509_free(vcek);
    free(report);
    free(result_jws);
    return test_done();
}
