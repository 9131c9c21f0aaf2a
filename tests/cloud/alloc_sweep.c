/* alloc_sweep: fails each allocation in turn (ours through -Wl,--wrap, jansson's and OpenSSL's
 * through their allocator hooks) while the cloud wire code and oci_sign run, under ASan/LSan:
 * every run must end in a clean error or the right answer, never a crash, a leak, or a success
 * with a wrong result (SQLite faultsim, curl torture). Prints TAP lines. Test code only. */
#include "common/gcp.h"
#include "common/oci.h"
#include "common/oci_sign.h"
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long alloc_n, fail_at = -1;
static int failed_once;

static int should_fail(void)
{
    if (fail_at < 0)
        return 0;
    if (alloc_n++ == fail_at) {
        failed_once = 1;
        return 1;
    }
    return 0;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { return should_fail() ? NULL : __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return should_fail() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return should_fail() ? NULL : __real_strndup(s, n); }

static void *j_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
static void j_free(void *p) { free(p); }
static void *o_malloc(size_t n, const char *f, int l) { return should_fail() ? NULL : __real_malloc(n); }
static void *o_realloc(void *p, size_t n, const char *f, int l) { return should_fail() ? NULL : __real_realloc(p, n); }
static void o_free(void *p, const char *f, int l) { free(p); }

/* Runs fn with allocation k failing, k = 0, 1, ... until a run needs no failure; fn returns 1
 * when its result is right for a run that may have failed (it checks failed_once itself). */
static int sweep(const char *name, int (*fn)(void), int *tap)
{
    int ok = 1;
    long k;
    for (k = 0;; k++) {
        alloc_n = 0;
        failed_once = 0;
        fail_at = k;
        int good = fn();
        fail_at = -1;
        if (!good) {
            fprintf(stderr, "  %s: wrong result with allocation %ld failing\n", name, k);
            ok = 0;
            break;
        }
        if (!failed_once)
            break;   /* the whole run fit under k allocations: done */
        if (k > 100000)
            break;
    }
    printf("%sok %d - %s (%ld allocation failures)\n", ok ? "" : "not ", ++*tap, name, k);
    fflush(stdout);
    return ok;
}

static const char DOC[] =
    "{\"canonicalRegionName\":\"us-phoenix-1\",\"compartmentId\":\"c\",\"id\":\"i\",\"tenantId\":\"t\","
    "\"metadata\":{\"paypal_client_id\":\"cid\",\"domain\":\"d.example\",\"secret_ocid\":\"s\",\"x\":\"y\"}}";

static int count(void *arg, const char *k, const char *v) { (*(int *)arg)++; return 0; }

static int t_instance(void)
{
    struct oci_instance in;
    cloud_err e = oci_instance_parse(DOC, sizeof DOC - 1, &in);
    if (e == CLOUD_OK) {
        unsigned ig;
        int n = 0;
        int r = oci_instance_each_trusted(&in, count, &n, &ig);
        int good = !strcmp(in.region, "us-phoenix-1") && r == 3 && ig == 1;
        oci_instance_clear(&in);
        return good;
    }
    return failed_once && (e == CLOUD_ERR_NOMEM || e == CLOUD_ERR_FORMAT) && in.region == NULL;
}

static int t_vault(void)
{
    const char *j = "{\"secretBundleContent\":{\"contentType\":\"BASE64\",\"content\":\"c2Vrcml0\"}}";
    uint8_t *s;
    size_t n;
    cloud_err e = oci_vault_parse(j, strlen(j), &s, &n);
    if (e == CLOUD_OK) {
        int good = n == 6 && !memcmp(s, "sekrit", 6);
        free(s);
        return good;
    }
    return failed_once && s == NULL;
}

static int t_gcp(void)
{
    char j[160];
    snprintf(j, sizeof j, "{\"payload\":{\"data\":\"c2Vrcml0\",\"dataCrc32c\":\"%u\"}}",
             gcp_crc32c((const uint8_t *)"sekrit", 6));
    uint8_t *s;
    size_t n;
    int checked;
    cloud_err e = gcp_secret_parse(j, strlen(j), &s, &n, &checked);
    if (e == CLOUD_OK) {
        int good = n == 6 && checked && !memcmp(s, "sekrit", 6);
        free(s);
        return good;
    }
    return failed_once && s == NULL && e != CLOUD_ERR_INTEGRITY;
}

static int t_tokens(void)
{
    const char *g = "{\"access_token\":\"ya29.x\",\"expires_in\":3599,\"token_type\":\"Bearer\"}";
    const char *o = "{\"token\":\"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE5MDAwMDAwMDB9.c2ln\"}";
    char *t = NULL, *t2 = NULL;
    int64_t v = 0, v2 = 0;
    cloud_err e1 = gcp_token_parse(g, strlen(g), &t, &v);
    cloud_err e2 = oci_federation_parse(o, strlen(o), &t2, &v2);
    int good = (e1 == CLOUD_OK ? !strcmp(t, "ya29.x") && v == 3599 : failed_once && t == NULL) &&
               (e2 == CLOUD_OK ? v2 == 1900000000 && !strncmp(t2, "eyJ", 3) : failed_once && t2 == NULL);
    free(t);
    free(t2);
    return good;
}

static int t_builders(void)
{
    char *a = oci_vault_url(NULL, "r", "ocid1.s");
    char *b = gcp_secret_url(NULL, "p", "s");
    char *c = oci_notify_body("title", "body");
    int good = (a ? !strcmp(a, "https://secrets.vaults.r.oci.oraclecloud.com/20190301/secretbundles/ocid1.s") : failed_once) &&
               (b ? !strcmp(b, "https://secretmanager.googleapis.com/v1/projects/p/secrets/s/versions/latest:access") : failed_once) &&
               (c ? !strcmp(c, "{\"title\":\"title\",\"body\":\"body\"}") : failed_once);
    free(a);
    free(b);
    free(c);
    return good;
}

static EVP_PKEY *g_key, *g_session;
static char *g_cert, *g_keypem, *g_inter;
static size_t g_cl, g_kl, g_il;
static char *g_expect_body;

static int t_sign(void)
{
    struct oci_sign_result r;
    struct oci_sign_request rq = {.method = "POST", .url = "https://h.example/x", .date = "Thu, 05 Jan 2014 21:31:40 GMT",
                                  .body = (const uint8_t *)"{}", .body_len = 2};
    oci_sign_err e = oci_sign_request(g_key, "a/b/c", &rq, &r);
    if (e == OCI_SIGN_OK) {
        int good = r.headers[5] && !strncmp(r.headers[5], "authorization: Signature version=\"1\"", 36) && !r.headers[6];
        oci_sign_result_clear(&r);
        return good;
    }
    return failed_once && r.signing_string == NULL && r.headers[0] == NULL;
}

static int t_identity(void)
{
    struct oci_identity id;
    cloud_err e = oci_identity_load(&id, g_cert, g_cl, g_keypem, g_kl, g_inter, g_il);
    if (e != CLOUD_OK)
        return failed_once && id.leaf == NULL && id.key == NULL && id.tenancy == NULL;
    int good = !strcmp(id.tenancy, "ocid1.tenancy.oc1..t");
    char *body = oci_federation_body(&id, g_session);
    char *kid = oci_federation_key_id(&id);
    if (body)
        good = good && !strcmp(body, g_expect_body);
    else
        good = good && failed_once;
    if (!kid)
        good = good && failed_once;
    free(body);
    free(kid);
    oci_identity_clear(&id);
    return good;
}

static X509 *mkcert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *ou, int ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)(ca ? "ca" : "leaf"), -1, -1, 0);
    if (ou)
        X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)ou, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_sign(x, signer, EVP_sha256());
    return x;
}

static char *pem(X509 *x, EVP_PKEY *k, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (x) PEM_write_bio_X509(b, x);
    if (k) PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = __real_malloc((size_t)n + 1);
    memcpy(out, p, (size_t)n);
    out[n] = 0;
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

int main(void)
{
    if (!CRYPTO_set_mem_functions(o_malloc, o_realloc, o_free))
        return 1;
    json_set_alloc_funcs(j_malloc, j_free);
    /* the fixtures, made with no failure injected */
    EVP_PKEY *ca_k = EVP_RSA_gen(2048);
    g_key = EVP_RSA_gen(2048);
    g_session = EVP_RSA_gen(2048);
    X509 *ca = mkcert(ca_k, ca_k, NULL, NULL, 1);
    X509 *leaf = mkcert(g_key, ca_k, ca, "opc-tenant:ocid1.tenancy.oc1..t", 0);
    g_cert = pem(leaf, NULL, &g_cl);
    g_keypem = pem(NULL, g_key, &g_kl);
    g_inter = pem(ca, NULL, &g_il);
    struct oci_identity id;
    if (oci_identity_load(&id, g_cert, g_cl, g_keypem, g_kl, g_inter, g_il) != CLOUD_OK)
        return 1;
    g_expect_body = oci_federation_body(&id, g_session);
    oci_identity_clear(&id);

    int tap = 0, ok = 1;
    ok &= sweep("oci_instance_parse", t_instance, &tap);
    ok &= sweep("oci_vault_parse", t_vault, &tap);
    ok &= sweep("gcp_secret_parse", t_gcp, &tap);
    ok &= sweep("token_parsers", t_tokens, &tap);
    ok &= sweep("url_and_body_builders", t_builders, &tap);
    ok &= sweep("oci_sign_request", t_sign, &tap);
    ok &= sweep("oci_identity_load_and_federation_body", t_identity, &tap);

    free(g_expect_body);
    free(g_cert);
    free(g_keypem);
    free(g_inter);
    X509_free(ca);
    X509_free(leaf);
    EVP_PKEY_free(ca_k);
    EVP_PKEY_free(g_key);
    EVP_PKEY_free(g_session);
    return ok ? 0 : 1;
}
