/* Unit tests for acme_keys (JWS requests, key authorizations, CSRs) and acme_policy (backoff,
 * rate-limit ledger). */
#include "test.h"
#include "login/acme/acme_keys.h"
#include "login/acme/acme_policy.h"
#include "common/codec.h"
#include "common/jose.h"
#include <openssl/x509v3.h>

/* Verifies a flattened JWS the way an ACME server does; returns the decoded header. */
static json_t *verify_flat(const char *text, EVP_PKEY *pub, char **payload_out)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    const char *ph = json_string_value(json_object_get(o, "protected"));
    const char *pl = json_string_value(json_object_get(o, "payload"));
    const char *sg = json_string_value(json_object_get(o, "signature"));
    json_t *hdr = NULL;
    if (!ph || !pl || !sg || json_object_size(o) != 3)
        goto out;
    size_t inlen = strlen(ph) + 1 + strlen(pl);
    char *in = malloc(inlen + 1);
    snprintf(in, inlen + 1, "%s.%s", ph, pl);
    uint8_t sig[64];
    size_t sl = codec_b64url_decode(sg, strlen(sg), sig, sizeof sig);
    int ok = sl == 64 && jose_es256_verify(pub, (uint8_t *)in, inlen, sig, sl) == JOSE_OK;
    free(in);
    if (!ok)
        goto out;
    size_t hl, pll;
    uint8_t *h = codec_b64url_decode_alloc(ph, strlen(ph), &hl);
    hdr = h ? json_loadb((char *)h, hl, 0, &e) : NULL;
    free(h);
    *payload_out = (char *)codec_b64url_decode_alloc(pl, strlen(pl), &pll);
out:
    json_decref(o);
    return hdr;
}

TEST(sign_new_account_with_jwk)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    struct acme_keys *ak = acme_keys_from_pkey(k);
    CHECK(ak != NULL);
    char *jws = acme_keys_sign_request(ak, "https://ca.test/new-acct", "NONCE_1", NULL, "{\"termsOfServiceAgreed\":true}");
    CHECK(jws != NULL);
    char *payload = NULL;
    json_t *h = verify_flat(jws, k, &payload);
    CHECK(h != NULL);
    CHECK_STR(json_string_value(json_object_get(h, "alg")), "ES256");
    CHECK_STR(json_string_value(json_object_get(h, "nonce")), "NONCE_1");
    CHECK_STR(json_string_value(json_object_get(h, "url")), "https://ca.test/new-acct");
    CHECK(json_object_get(h, "kid") == NULL);
    json_t *jwk = json_object_get(h, "jwk");
    CHECK(jwk && !json_object_get(jwk, "d"));   /* never the private part */
    char tp[JOSE_THUMBPRINT_LEN + 1];
    CHECK(jwk && jose_jwk_thumbprint(jwk, tp) == JOSE_OK);
    CHECK_STR(tp, acme_keys_thumbprint(ak));
    CHECK_STR(payload, "{\"termsOfServiceAgreed\":true}");
    free(payload);
    json_decref(h);
    free(jws);
    acme_keys_free(ak);
    EVP_PKEY_free(k);
}

TEST(sign_post_as_get_with_kid)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    struct acme_keys *ak = acme_keys_from_pkey(k);
    char *jws = acme_keys_sign_request(ak, "https://ca.test/authz/1", "N2", "https://ca.test/acct/7", NULL);
    char *payload = NULL;
    json_t *h = jws ? verify_flat(jws, k, &payload) : NULL;
    CHECK(h != NULL);
    CHECK_STR(json_string_value(json_object_get(h, "kid")), "https://ca.test/acct/7");
    CHECK(json_object_get(h, "jwk") == NULL);
    CHECK(payload && payload[0] == 0);     /* POST-as-GET: empty payload */
    CHECK(strstr(jws, "\"payload\":\"\"") != NULL);
    /* a different key must not verify it */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    char *p2 = NULL;
    json_t *h2 = verify_flat(jws, other, &p2);
    CHECK(h2 == NULL);
    EVP_PKEY_free(other);
    free(payload);
    json_decref(h);
    free(jws);
    acme_keys_free(ak);
    EVP_PKEY_free(k);
}

TEST(key_authorization)
{
    struct acme_keys *ak = acme_keys_new();
    CHECK(ak != NULL);
    const char *tok = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    char *ka = acme_keys_key_authorization(ak, tok, strlen(tok));
    char want[200];
    snprintf(want, sizeof want, "%s.%s", tok, acme_keys_thumbprint(ak));
    CHECK_STR(ka, want);
    CHECK(strlen(acme_keys_thumbprint(ak)) == JOSE_THUMBPRINT_LEN);
    free(ka);
    CHECK(acme_keys_key_authorization(ak, "../etc", 6) == NULL);
    CHECK(acme_keys_key_authorization(ak, "abc=", 4) == NULL);
    CHECK(acme_keys_key_authorization(ak, "", 0) == NULL);
    char big[200];
    memset(big, 'a', sizeof big);
    CHECK(acme_keys_key_authorization(ak, big, sizeof big) == NULL);
    /* two clients, two thumbprints */
    struct acme_keys *ak2 = acme_keys_new();
    CHECK(strcmp(acme_keys_thumbprint(ak), acme_keys_thumbprint(ak2)) != 0);
    acme_keys_free(ak2);
    acme_keys_free(ak);
}

TEST(csr_for_domain)
{
    EVP_PKEY *k = acme_keys_new_tls_key();
    char *b64 = acme_keys_csr_b64url(k, "login.example.org");
    CHECK(b64 != NULL);
    size_t dl = 0;
    uint8_t *der = b64 ? codec_b64url_decode_alloc(b64, strlen(b64), &dl) : NULL;
    const unsigned char *p = der;
    X509_REQ *req = der ? d2i_X509_REQ(NULL, &p, (long)dl) : NULL;
    CHECK(req != NULL);
    if (req) {
        EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
        CHECK(X509_REQ_verify(req, pub) == 1);
        CHECK(EVP_PKEY_eq(pub, k) == 1);
        CHECK(EVP_PKEY_get_bits(pub) == 256);
        STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
        int found = 0;
        for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++) {
            X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
            if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) != NID_subject_alt_name)
                continue;
            GENERAL_NAMES *g = X509V3_EXT_d2i(e);
            for (int j = 0; g && j < sk_GENERAL_NAME_num(g); j++) {
                GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, j);
                if (gn->type == GEN_DNS && ASN1_STRING_length(gn->d.dNSName) == 17 &&
                    !memcmp(ASN1_STRING_get0_data(gn->d.dNSName), "login.example.org", 17))
                    found = 1;
            }
            GENERAL_NAMES_free(g);
        }
        CHECK(found);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
        X509_REQ_free(req);
    }
    free(der);
    free(b64);
    CHECK(acme_keys_csr_b64url(k, NULL) == NULL);
    EVP_PKEY_free(k);
}

static X509 *cert_for(EVP_PKEY *pub)
{
    X509 *x = X509_new();
    if (x && X509_set_pubkey(x, pub) == 1)
        return x;
    X509_free(x);
    return NULL;
}

/* The order's TLS key lives in acme_keys: made with its CSR, checked against the certificate,
 * dropped with the order; acme.c never sees it. */
TEST(order_key_kept_and_checked)
{
    struct acme_keys *ak = acme_keys_new();
    CHECK(ak && !acme_keys_order_pending(ak) && acme_keys_installed(ak) == NULL);
    char *b64 = acme_keys_order_csr(ak, "login.example.org");
    CHECK(b64 != NULL && acme_keys_order_pending(ak));
    size_t dl = 0;
    uint8_t *der = b64 ? codec_b64url_decode_alloc(b64, strlen(b64), &dl) : NULL;
    const unsigned char *p = der;
    X509_REQ *req = der ? d2i_X509_REQ(NULL, &p, (long)dl) : NULL;
    X509 *good = req ? cert_for(X509_REQ_get0_pubkey(req)) : NULL;
    EVP_PKEY *other = acme_keys_new_tls_key();
    X509 *bad = cert_for(other);
    CHECK(good && acme_keys_order_matches(ak, good) == 1);
    CHECK(bad && acme_keys_order_matches(ak, bad) == 0);
    CHECK(acme_keys_order_matches(ak, NULL) == 0);
    char *b64b = acme_keys_order_csr(ak, "login.example.org");   /* a new order: a new key */
    CHECK(b64b && acme_keys_order_matches(ak, good) == 0);
    acme_keys_order_drop(ak);
    CHECK(!acme_keys_order_pending(ak) && acme_keys_order_matches(ak, good) == 0);
    CHECK(acme_keys_order_install(ak, NULL, good, NULL) == -1);      /* nothing pending */
    CHECK(acme_keys_install_saved(ak, NULL, other, good, NULL) == -1); /* not its key */
    CHECK(acme_keys_installed(ak) == NULL);
    X509_free(good);
    X509_free(bad);
    EVP_PKEY_free(other);
    X509_REQ_free(req);
    free(der);
    free(b64);
    free(b64b);
    acme_keys_free(ak);
}

TEST(backoff_grows_caps_and_jitters)
{
    struct acme_policy p;
    acme_policy_defaults(&p);
    p.backoff_initial_ms = 1000;
    p.backoff_max_ms = 16000;
    CHECK(acme_policy_backoff_ms(&p, 1, 0) == 800);
    CHECK(acme_policy_backoff_ms(&p, 1, UINT32_MAX) == 1199);
    CHECK(acme_policy_backoff_ms(&p, 1, 0x80000000u) == 1000);
    CHECK(acme_policy_backoff_ms(&p, 2, 0x80000000u) == 2000);
    CHECK(acme_policy_backoff_ms(&p, 4, 0x80000000u) == 8000);
    CHECK(acme_policy_backoff_ms(&p, 5, 0x80000000u) == 16000);
    CHECK(acme_policy_backoff_ms(&p, 50, 0x80000000u) == 16000);    /* capped, no overflow */
    CHECK(acme_policy_backoff_ms(&p, 1000000, UINT32_MAX) <= 16000 * 12 / 10);
    acme_policy_defaults(&p);
    CHECK(acme_policy_backoff_ms(&p, 1, 0) >= 48000);              /* never faster than ~a minute */
}

TEST(poll_delays)
{
    struct acme_policy p;
    acme_policy_defaults(&p);
    p.poll_ms = 250;
    p.poll_max_ms = 8000;
    CHECK(acme_policy_poll_ms(&p, 0, -1) == 250);
    CHECK(acme_policy_poll_ms(&p, 1, -1) == 500);
    CHECK(acme_policy_poll_ms(&p, 5, -1) == 8000);
    CHECK(acme_policy_poll_ms(&p, 500, -1) == 8000);
    CHECK(acme_policy_poll_ms(&p, 0, 3) == 3000);     /* the CA's Retry-After wins */
    CHECK(acme_policy_poll_ms(&p, 9, 0) == 0);
}

TEST(ledger_keeps_under_limits)
{
    struct acme_ledger l = {0};
    const int64_t W = 3600000;
    CHECK(acme_ledger_next_allowed(&l, 1000, W, 4) == 1000);
    acme_ledger_add(&l, 1000);
    acme_ledger_add(&l, 2000);
    acme_ledger_add(&l, 3000);
    CHECK(acme_ledger_count(&l, 3000, W) == 3);
    CHECK(acme_ledger_next_allowed(&l, 3000, W, 4) == 3000);
    acme_ledger_add(&l, 4000);
    /* 4 in the window: the next may happen when the oldest leaves it */
    CHECK(acme_ledger_next_allowed(&l, 5000, W, 4) == 1000 + W);
    CHECK(acme_ledger_next_allowed(&l, 1000 + W, W, 4) == 1000 + W);
    CHECK(acme_ledger_count(&l, 1000 + W, W) == 3);
    CHECK(acme_ledger_next_allowed(&l, 5000, W, 2) == 3000 + W);
    CHECK(acme_ledger_next_allowed(&l, 5000, W, 0) == INT64_MAX);
    for (int i = 0; i < 40; i++)   /* more events than slots: the oldest drop out */
        acme_ledger_add(&l, 10000 + i);
    CHECK(l.n == ACME_LEDGER_SLOTS);
    CHECK(acme_ledger_count(&l, 10039, W) == ACME_LEDGER_SLOTS);
}

int main(void)
{
    RUN(sign_new_account_with_jwk);
    RUN(sign_post_as_get_with_kid);
    RUN(key_authorization);
    RUN(csr_for_domain);
    RUN(order_key_kept_and_checked);
    RUN(backoff_grows_caps_and_jitters);
    RUN(poll_delays);
    RUN(ledger_keeps_under_limits);
    return test_done();
}
