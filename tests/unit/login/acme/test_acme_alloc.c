/* Allocation-failure torture for the ACME client's parsers and key functions (STYLE.md fault
 * injection, after curl's torture mode): malloc/calloc/realloc are interposed, and each operation
 * runs again and again with its 1st, 2nd, 3rd, ... allocation failing until it runs clean. Every
 * run must either fail cleanly (NULL / -1) or give exactly the reference result, and the runs
 * together must leave nothing allocated beyond OpenSSL's bounded caches. */
#include "test.h"
#include "login/acme/acme_keys.h"
#include "login/acme/acme_parse.h"
#include "login/acme/acme_problem.h"
#include "common/codec.h"
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static long alloc_n, fail_at;   /* fail the fail_at-th allocation (1-based); 0 = never */
static int failed_one, tracking;
#define LIVE_MAX 65536
static void *live[LIVE_MAX];    /* allocated during the runs and not freed (yet) */
static size_t nlive;

/* OpenSSL keeps caches across calls (the thread's error-queue buffers, the algorithm method
 * store, which a failed fetch flushes and the next fetch refills). They are bounded; a leak on
 * an error path repeats for every later allocation that fails. So the blocks left over from all
 * runs of one operation together must stay at cache size. */
#define CACHE_BLOCKS_MAX 16

static int should_fail(void)
{
    if (!tracking)
        return 0;
    if (fail_at && ++alloc_n == fail_at) {
        failed_one = 1;
        return 1;
    }
    return 0;
}
static void track(void *p)
{
    if (tracking && p && nlive < LIVE_MAX)
        live[nlive++] = p;
}
static int untrack(void *p)
{
    for (size_t i = nlive; p && i-- > 0;)
        if (live[i] == p) {
            live[i] = live[--nlive];
            return 1;
        }
    return 0;
}
void *malloc(size_t n)
{
    void *p = should_fail() ? NULL : __libc_malloc(n);
    track(p);
    return p;
}
void *calloc(size_t a, size_t b)
{
    void *p = should_fail() ? NULL : __libc_calloc(a, b);
    track(p);
    return p;
}
void *realloc(void *q, size_t n)
{
    void *p = should_fail() ? NULL : __libc_realloc(q, n);
    if (p && (untrack(q) || !q))   /* growing a block from before the runs keeps it "before" */
        track(p);
    return p;
}
void free(void *p)
{
    untrack(p);
    __libc_free(p);
}

/* Runs op(ctx) with allocation k failing, k = 1.. until a run sees no injected failure. op
 * returns 1 when its result is the reference one, 0 when it failed cleanly, -1 when wrong. */
static int torture(const char *name, int (*op)(void *), void *ctx, int *test_case_failed_p)
{
    op(ctx);                    /* warm-up: global one-time tables */
    ERR_clear_error();
    nlive = 0;
    int runs = 0, ok = 0;
    for (long k = 1; k < 100000 && !ok; k++) {
        alloc_n = 0;
        failed_one = 0;
        fail_at = k;
        tracking = 1;
        int r = op(ctx);
        ERR_clear_error();
        tracking = 0;
        fail_at = 0;
        runs++;
        if (r < 0 || (!failed_one && r != 1)) {
            fprintf(stderr, "  %s: allocation %ld failed: wrong result %d\n", name, k, r);
            CHECK(0);
            return runs;
        }
        ok = !failed_one;
    }
    CHECK(ok);
    if (nlive > CACHE_BLOCKS_MAX) {
        fprintf(stderr, "  %s: %zu blocks left over from %d runs\n", name, nlive, runs);
        CHECK(0);
    }
    printf("# %s: %d runs, %zu blocks left over\n", name, runs, nlive);
    return runs;
}

static const char problem_doc[] =
    "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many\",\"status\":429,"
    "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"x\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}}]}";

static int op_problem(void *ctx)
{
    struct acme_problem p;
    if (acme_problem_parse((const uint8_t *)problem_doc, sizeof problem_doc - 1, 400, &p))
        return 0;
    if (p.kind == ACME_PROB_OTHER && strcmp(p.type, "rateLimited")) {
        /* jansson 2.14's lexer ignores a failed buffer append and drops that character
         * ("params" -> "param"): the namespace no longer matches and the problem is handled as
         * a generic error, which is the safe side. Accept exactly that. */
        fprintf(stderr, "  note: jansson dropped a byte under OOM: type \"%s\" handled as a generic error\n", p.type);
        return 0;
    }
    return p.kind == ACME_PROB_RATE_LIMITED && p.nsub == 1 && !strcmp(p.subproblems, "a.example caa: x") ? 1 : -1;
}

static const char ari_doc[] = "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\",\"end\":\"2025-01-03T04:00:00Z\"}}";

static int op_ari(void *ctx)
{
    struct acme_ari_window w;
    if (acme_ari_parse((const uint8_t *)ari_doc, sizeof ari_doc - 1, &w))
        return 0;
    return w.start == 1735790400 && w.end == 1735876800 ? 1 : -1;
}

struct chain_ctx { const char *pem; size_t len; X509 *want_leaf; };

static int op_chain(void *vctx)
{
    struct chain_ctx *c = vctx;
    X509 *leaf;
    STACK_OF(X509) *chain;
    if (acme_pem_chain_parse(c->pem, c->len, &leaf, &chain))
        return leaf || chain ? -1 : 0;
    int ok = X509_cmp(leaf, c->want_leaf) == 0 && sk_X509_num(chain) == 1;
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return ok ? 1 : -1;
}

static int op_cert_id(void *vctx)
{
    char *id = acme_ari_cert_id(vctx);
    if (!id)
        return 0;
    int ok = !strcmp(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    free(id);
    return ok ? 1 : -1;
}

struct keys_ctx { struct acme_keys *k; EVP_PKEY *pub; char want_ka[128]; };

static int op_sign(void *vctx)
{
    struct keys_ctx *c = vctx;
    char *jws = acme_keys_sign_request(c->k, "https://ca.test/x", "NONCE", "https://ca.test/acct/1", "{\"a\":1}");
    if (!jws)
        return 0;
    /* it must still be a complete flattened JWS whose signature verifies */
    json_error_t e;
    fail_at = 0;
    json_t *o = json_loads(jws, 0, &e);
    const char *ph = json_string_value(json_object_get(o, "protected"));
    const char *pl = json_string_value(json_object_get(o, "payload"));
    const char *sg = json_string_value(json_object_get(o, "signature"));
    int ok = 0;
    if (ph && pl && sg) {
        char in[1024];
        int n = snprintf(in, sizeof in, "%s.%s", ph, pl);
        uint8_t sig[64];
        size_t sl = codec_b64url_decode(sg, strlen(sg), sig, sizeof sig);
        ok = n > 0 && sl == 64 && jose_es256_verify(c->pub, (uint8_t *)in, (size_t)n, sig, sl) == JOSE_OK;
    }
    json_decref(o);
    free(jws);
    return ok ? 1 : -1;
}

static int op_keyauth(void *vctx)
{
    struct keys_ctx *c = vctx;
    char *ka = acme_keys_key_authorization(c->k, "tok_en-1", 8);
    if (!ka)
        return 0;
    int ok = !strcmp(ka, c->want_ka);
    free(ka);
    return ok ? 1 : -1;
}

static int op_csr(void *vctx)
{
    struct keys_ctx *c = vctx;
    char *b64 = acme_keys_csr_b64url(c->pub, "login.example.org");
    if (!b64)
        return 0;
    fail_at = 0;
    size_t dl;
    uint8_t *der = codec_b64url_decode_alloc(b64, strlen(b64), &dl);
    const unsigned char *p = der;
    X509_REQ *req = der ? d2i_X509_REQ(NULL, &p, (long)dl) : NULL;
    int ok = req && X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) == 1;
    X509_REQ_free(req);
    free(der);
    free(b64);
    return ok ? 1 : -1;
}

static X509 *make_cert(EVP_PKEY *key, long serial, int with_aki)
{
    static const uint8_t akid[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                   0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
    X509 *x = X509_new();
    ASN1_INTEGER_set_int64(X509_get_serialNumber(x), serial);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    if (with_aki) {
        AUTHORITY_KEYID *ak = AUTHORITY_KEYID_new();
        ak->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(ak->keyid, akid, sizeof akid);
        X509_add1_ext_i2d(x, NID_authority_key_identifier, ak, 0, X509V3_ADD_DEFAULT);
        AUTHORITY_KEYID_free(ak);
    }
    X509_sign(x, key, EVP_sha256());
    return x;
}

TEST(alloc_failures_parsers)
{
    int n = torture("problem", op_problem, NULL, test_case_failed_p);
    CHECK(n > 3);
    n = torture("ari", op_ari, NULL, test_case_failed_p);
    CHECK(n > 2);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *a = make_cert(k, 1, 0), *b = make_cert(k, 2, 0), *x = make_cert(k, 0x87654321L, 1);
    BIO *m = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(m, a);
    PEM_write_bio_X509(m, b);
    char *p;
    long len = BIO_get_mem_data(m, &p);
    struct chain_ctx cc = {p, (size_t)len, a};
    n = torture("pem chain", op_chain, &cc, test_case_failed_p);
    CHECK(n > 10);
    n = torture("cert id", op_cert_id, x, test_case_failed_p);
    CHECK(n > 2);
    BIO_free(m);
    X509_free(a);
    X509_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
}

TEST(alloc_failures_keys)
{
    struct keys_ctx c;
    c.pub = EVP_EC_gen("P-256");
    c.k = acme_keys_from_pkey(c.pub);
    snprintf(c.want_ka, sizeof c.want_ka, "tok_en-1.%s", acme_keys_thumbprint(c.k));
    CHECK(torture("sign", op_sign, &c, test_case_failed_p) > 5);
    CHECK(torture("key authorization", op_keyauth, &c, test_case_failed_p) >= 2);
    CHECK(torture("csr", op_csr, &c, test_case_failed_p) > 10);
    acme_keys_free(c.k);
    EVP_PKEY_free(c.pub);
}

int main(void)
{
    /* warm-up of OpenSSL's per-thread error queue: every slot gets its data buffer, which
     * ERR_clear_error keeps for reuse */
    for (int i = 0; i < 2 * ERR_NUM_ERRORS; i++)
        ERR_raise_data(ERR_LIB_USER, 1, "warm-up %0200d", i);
    ERR_clear_error();
    RUN(alloc_failures_parsers);
    RUN(alloc_failures_keys);
    return test_done();
}
