/* Unit tests for the OCI wire formats of common/oci: instance metadata v2 and the trust rule's
 * keys, instance identity (tenancy from the subject, SHA-256 fingerprint, key check), the X.509
 * federation body and token, Vault secret bundles, endpoints, Notifications and error bodies. */
#include "test.h"
#include "common/oci.h"
#include "common/codec.h"
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static const char DOC[] =
    "{\"availabilityDomain\":\"Uocm:PHX-AD-1\",\"canonicalRegionName\":\"us-phoenix-1\","
    "\"compartmentId\":\"ocid1.compartment.oc1..c\",\"id\":\"ocid1.instance.oc1.phx.i\",\"region\":\"phx\","
    "\"regionInfo\":{\"realmDomainComponent\":\"oraclecloud.com\"},\"tenantId\":\"ocid1.tenancy.oc1..t\","
    "\"metadata\":{\"ssh_authorized_keys\":\"ssh-ed25519 AAAA\",\"paypal_client_id\":\"cid\",\"domain\":\"d.example\","
    "\"secret_ocid\":\"ocid1.vaultsecret.oc1.phx.s\",\"paypal_api_base\":\"https://evil\",\"notification_topic_id\":7}}";

struct applied { char keys[8][32]; int n; int fail_on; };

static int record(void *arg, const char *k, const char *v)
{
    struct applied *a = arg;
    if (a->n == a->fail_on)
        return -1;
    snprintf(a->keys[a->n++], 32, "%s", k);
    return 0;
}

TEST(instance_document)
{
    struct oci_instance in;
    CHECK(oci_instance_parse(DOC, sizeof DOC - 1, &in) == CLOUD_OK);
    CHECK_STR(in.region, "us-phoenix-1");
    CHECK_STR(in.tenancy, "ocid1.tenancy.oc1..t");
    CHECK_STR(in.id, "ocid1.instance.oc1.phx.i");
    struct applied a = {.fail_on = -1};
    unsigned ignored;
    CHECK(oci_instance_each_trusted(&in, record, &a, &ignored) == 3);
    /* only trust-rule keys, in the rule's order; a number is not a value */
    CHECK(a.n == 3);
    CHECK_STR(a.keys[0], "paypal_client_id");
    CHECK_STR(a.keys[1], "domain");
    CHECK_STR(a.keys[2], "secret_ocid");
    CHECK(ignored == 3);   /* ssh_authorized_keys, paypal_api_base, notification_topic_id (not a string) */
    struct applied b = {.fail_on = 1};
    CHECK(oci_instance_each_trusted(&in, record, &b, &ignored) == -1);
    oci_instance_clear(&in);
}

TEST(instance_document_refusals)
{
    struct oci_instance in;
    const char *bad[] = {
        "{\"canonicalRegionName\":\"us-phoenix-1\",\"compartmentId\":\"c\",\"id\":\"i\"}",          /* no tenantId */
        "{\"canonicalRegionName\":\"evil.com/x\",\"tenantId\":\"t\",\"compartmentId\":\"c\",\"id\":\"i\"}",
        "{\"canonicalRegionName\":\"us-phoenix-1\",\"tenantId\":\"t\",\"compartmentId\":\"c\",\"id\":\"i\",\"metadata\":[]}",
        "{\"canonicalRegionName\":\"US\",\"tenantId\":\"t\",\"compartmentId\":\"c\",\"id\":\"i\"}",
        "[1]", "{", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(oci_instance_parse(bad[i], strlen(bad[i]), &in) == CLOUD_ERR_FORMAT);
        CHECK(in.region == NULL && in.user == NULL);
    }
    /* a duplicate key could smuggle a second value past a reviewer */
    const char *dup = "{\"canonicalRegionName\":\"a\",\"canonicalRegionName\":\"b\",\"tenantId\":\"t\",\"compartmentId\":\"c\",\"id\":\"i\"}";
    CHECK(oci_instance_parse(dup, strlen(dup), &in) == CLOUD_ERR_FORMAT);
    const char *ok = "{\"canonicalRegionName\":\"a\",\"tenantId\":\"t\",\"compartmentId\":\"c\",\"id\":\"i\"}";
    CHECK(oci_instance_parse(ok, strlen(ok), &in) == CLOUD_OK);
    unsigned ig;
    struct applied a = {.fail_on = -1};
    CHECK(oci_instance_each_trusted(&in, record, &a, &ig) == 0 && ig == 0);
    oci_instance_clear(&in);
}

/* ---- identity: a small CA -> intermediate -> leaf made here ---------------------------------- */

static X509 *mkcert(EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, const char *const *ous, const char *cn, int ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    for (; ous && *ous; ous++)
        X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)*ous, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, signer, EVP_sha256());
    return x;
}

static char *pem_of(X509 *x, EVP_PKEY *k, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (x) PEM_write_bio_X509(b, x);
    if (k) PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *out = malloc((size_t)n + 1);
    memcpy(out, p, (size_t)n);
    out[n] = 0;
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

struct pki { EVP_PKEY *ca_k, *int_k, *leaf_k; X509 *ca, *inter, *leaf; char *cert, *key, *ipem; size_t cl, kl, il; };

static void pki_make(struct pki *p, const char *const *ous)
{
    p->ca_k = EVP_RSA_gen(2048);
    p->int_k = EVP_RSA_gen(2048);
    p->leaf_k = EVP_RSA_gen(2048);
    p->ca = mkcert(p->ca_k, p->ca_k, NULL, NULL, "root", 1);
    p->inter = mkcert(p->int_k, p->ca_k, p->ca, NULL, "intermediate", 1);
    p->leaf = mkcert(p->leaf_k, p->int_k, p->inter, ous, "ocid1.instance.oc1.phx.i", 0);
    p->cert = pem_of(p->leaf, NULL, &p->cl);
    p->key = pem_of(NULL, p->leaf_k, &p->kl);
    p->ipem = pem_of(p->inter, NULL, &p->il);
}

static void pki_free(struct pki *p)
{
    EVP_PKEY_free(p->ca_k); EVP_PKEY_free(p->int_k); EVP_PKEY_free(p->leaf_k);
    X509_free(p->ca); X509_free(p->inter); X509_free(p->leaf);
    free(p->cert); free(p->key); free(p->ipem);
}

TEST(identity_and_federation_request)
{
    static const char *const ous[] = {"opc-certtype:instance", "opc-identity:ocid1.tenancy.oc1..idn",
                                      "opc-tenant:ocid1.tenancy.oc1..ten", NULL};
    struct pki p;
    pki_make(&p, ous);
    struct oci_identity id;
    CHECK(oci_identity_load(&id, p.cert, p.cl, p.key, p.kl, p.ipem, p.il) == CLOUD_OK);
    CHECK_STR(id.tenancy, "ocid1.tenancy.oc1..ten");   /* opc-tenant wins over opc-identity */
    unsigned char md[32];
    unsigned mdl;
    X509_digest(p.leaf, EVP_sha256(), md, &mdl);
    char want[97];
    for (int i = 0; i < 32; i++)
        snprintf(want + 3 * i, 4, "%02x%s", md[i], i < 31 ? ":" : "");
    CHECK_STR(id.fingerprint, want);
    char *kid = oci_federation_key_id(&id);
    char wkid[200];
    snprintf(wkid, sizeof wkid, "ocid1.tenancy.oc1..ten/fed-x509-sha256/%s", want);
    CHECK_STR(kid, wkid);
    free(kid);

    EVP_PKEY *session = EVP_RSA_gen(2048);
    char *body = oci_federation_body(&id, session);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    CHECK(j && json_object_size(j) == 4);
    CHECK_STR(json_string_value(json_object_get(j, "fingerprintAlgorithm")), "SHA256");
    /* certificate: base64 DER, i.e. the PEM body without header lines or newlines */
    const char *c = json_string_value(json_object_get(j, "certificate"));
    CHECK(c && !strchr(c, '\n') && !strstr(c, "BEGIN"));
    size_t dl;
    uint8_t *der = c ? codec_b64_decode_alloc(c, strlen(c), &dl) : NULL;
    const uint8_t *dp = der;
    X509 *back = der ? d2i_X509(NULL, &dp, (long)dl) : NULL;
    CHECK(back && X509_cmp(back, p.leaf) == 0);
    X509_free(back);
    free(der);
    const char *pk = json_string_value(json_object_get(j, "publicKey"));
    dp = pk ? codec_b64_decode_alloc(pk, strlen(pk), &dl) : NULL;
    der = (uint8_t *)dp;
    EVP_PKEY *pub = dp ? d2i_PUBKEY(NULL, &dp, (long)dl) : NULL;
    CHECK(pub && EVP_PKEY_eq(pub, session) == 1);
    EVP_PKEY_free(pub);
    free(der);
    CHECK(json_array_size(json_object_get(j, "intermediateCertificates")) == 1);
    json_decref(j);
    free(body);
    EVP_PKEY_free(session);
    oci_identity_clear(&id);
    pki_free(&p);
}

TEST(identity_refusals)
{
    static const char *const only_identity[] = {"opc-identity:ocid1.tenancy.oc1..idn", NULL};
    static const char *const none[] = {"opc-certtype:instance", NULL};
    struct pki p, q;
    struct oci_identity id;
    pki_make(&p, only_identity);
    CHECK(oci_identity_load(&id, p.cert, p.cl, p.key, p.kl, p.ipem, p.il) == CLOUD_OK);
    CHECK_STR(id.tenancy, "ocid1.tenancy.oc1..idn");
    oci_identity_clear(&id);
    pki_make(&q, none);
    CHECK(oci_identity_load(&id, q.cert, q.cl, q.key, q.kl, q.ipem, q.il) == CLOUD_ERR_FORMAT);
    CHECK(id.leaf == NULL && id.key == NULL);
    /* a key that is not the certificate's */
    CHECK(oci_identity_load(&id, p.cert, p.cl, q.key, q.kl, p.ipem, p.il) == CLOUD_ERR_CRYPTO);
    /* no intermediate */
    CHECK(oci_identity_load(&id, p.cert, p.cl, p.key, p.kl, "", 0) == CLOUD_ERR_CRYPTO);
    CHECK(oci_identity_load(&id, "junk", 4, p.key, p.kl, p.ipem, p.il) == CLOUD_ERR_CRYPTO);
    pki_free(&p);
    pki_free(&q);
}

static char *jwt_with(const char *claims)
{
    char *p = codec_b64url_encode_alloc((const uint8_t *)claims, strlen(claims));
    size_t n = strlen(p) + 64;
    char *t = malloc(n);
    snprintf(t, n, "eyJhbGciOiJSUzI1NiJ9.%s.c2ln", p);
    free(p);
    return t;
}

TEST(tokens)
{
    int64_t exp = 0;
    char *t = jwt_with("{\"sub\":\"x\",\"exp\":1900000000,\"jwk\":\"{}\"}");
    CHECK(oci_jwt_exp(t, strlen(t), &exp) == CLOUD_OK && exp == 1900000000);
    char body[512], *tok = NULL;
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", t);
    CHECK(oci_federation_parse(body, strlen(body), &tok, &exp) == CLOUD_OK);
    CHECK_STR(tok, t);
    free(tok);
    free(t);
    t = jwt_with("{\"sub\":\"x\"}");
    CHECK(oci_jwt_exp(t, strlen(t), &exp) == CLOUD_ERR_FORMAT);
    free(t);
    t = jwt_with("{\"exp\":\"soon\"}");
    CHECK(oci_jwt_exp(t, strlen(t), &exp) == CLOUD_ERR_FORMAT);
    free(t);
    CHECK(oci_jwt_exp("a.b", 3, &exp) == CLOUD_ERR_FORMAT);
    CHECK(oci_jwt_exp("a.!!.c", 6, &exp) == CLOUD_ERR_FORMAT);
    CHECK(oci_jwt_exp("a.b.c.d", 7, &exp) == CLOUD_ERR_FORMAT);
    CHECK(oci_federation_parse("{\"tok\":1}", 9, &tok, &exp) == CLOUD_ERR_FORMAT && tok == NULL);
}

TEST(vault_bundle)
{
    const char *ok = "{\"secretId\":\"s\",\"secretBundleContent\":{\"contentType\":\"BASE64\",\"content\":\"c2Vrcml0\"}}";
    uint8_t *s;
    size_t n;
    CHECK(oci_vault_parse(ok, strlen(ok), &s, &n) == CLOUD_OK && n == 6 && !memcmp(s, "sekrit", 6) && s[6] == 0);
    free(s);
    const char *bad[] = {
        "{\"secretBundleContent\":{\"contentType\":\"TEXT\",\"content\":\"c2Vrcml0\"}}",
        "{\"secretBundleContent\":{\"contentType\":\"BASE64\",\"content\":\"c2Vrcml0\\n\"}}",
        "{\"secretBundleContent\":{\"contentType\":\"BASE64\"}}",
        "{\"code\":\"NotAuthorizedOrNotFound\"}", "nope",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(oci_vault_parse(bad[i], strlen(bad[i]), &s, &n) == CLOUD_ERR_FORMAT);
        CHECK(s == NULL);
    }
}

TEST(endpoints)
{
    char *u = oci_vault_url(NULL, "us-phoenix-1", "ocid1.vaultsecret.oc1.phx.abc");
    CHECK_STR(u, "https://secrets.vaults.us-phoenix-1.oci.oraclecloud.com/20190301/secretbundles/ocid1.vaultsecret.oc1.phx.abc");
    free(u);
    u = oci_notify_url(NULL, "eu-frankfurt-1", "ocid1.onstopic.oc1.eu-frankfurt-1.t");
    CHECK_STR(u, "https://notification.eu-frankfurt-1.oraclecloud.com/20181201/topics/ocid1.onstopic.oc1.eu-frankfurt-1.t/messages");
    free(u);
    u = oci_auth_url(NULL, "us-ashburn-1");
    CHECK_STR(u, "https://auth.us-ashburn-1.oraclecloud.com/v1/x509");
    free(u);
    u = oci_auth_url("https://127.0.0.1:9443", "us-ashburn-1");
    CHECK_STR(u, "https://127.0.0.1:9443/v1/x509");
    free(u);
    CHECK(oci_vault_url(NULL, "r", "ocid1/../../x") == NULL);
    CHECK(oci_vault_url(NULL, "r", "a?b") == NULL);
    CHECK(oci_vault_url(NULL, "r", "") == NULL);
    CHECK(oci_notify_url(NULL, NULL, "t") == NULL);
}

TEST(notifications_and_errors)
{
    char title[400];
    memset(title, 'a', sizeof title);
    memcpy(title + 254, "\xc3\xa9", 2);   /* an é across the 255-byte cut */
    title[399] = 0;
    char *b = oci_notify_body(title, "body");
    json_t *j = b ? json_loads(b, 0, NULL) : NULL;
    CHECK(j && strlen(json_string_value(json_object_get(j, "title"))) == 254);
    CHECK_STR(json_string_value(json_object_get(j, "body")), "body");
    json_decref(j);
    free(b);
    CHECK(oci_notify_body("t", "\xff\xfe") == NULL);   /* not UTF-8: not sent */

    char code[32], msg[64];
    const char *e = "{\"code\":\"NotAuthenticated\",\"message\":\"Date 'x' is not within allowed clock skew.\\nNow\"}";
    oci_error_parse(e, strlen(e), code, sizeof code, msg, sizeof msg);
    CHECK_STR(code, "NotAuthenticated");
    CHECK(!strchr(msg, '\n') && strstr(msg, "clock skew"));
    CHECK(oci_error_is_clock_skew(401, msg) && !oci_error_is_clock_skew(404, msg));
    oci_error_parse("<html>", 6, code, sizeof code, msg, sizeof msg);
    CHECK(code[0] == 0 && msg[0] == 0);
}

int main(void)
{
    RUN(instance_document);
    RUN(instance_document_refusals);
    RUN(identity_and_federation_request);
    RUN(identity_refusals);
    RUN(tokens);
    RUN(vault_bundle);
    RUN(endpoints);
    RUN(notifications_and_errors);
    return test_done();
}
