/* Unit tests for acme_parse (Retry-After, RFC 3339, ARI identifier and window, PEM chains) and
 * acme_problem (problem+json decoding and the log line). */
#include "test.h"
#include "login/acme/acme_parse.h"
#include "login/acme/acme_problem.h"
#include "login/limits.h"
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define S(x) x, sizeof(x) - 1

TEST(retry_after_delta_seconds)
{
    CHECK(acme_retry_after_parse(S("120"), 1000) == 120);
    CHECK(acme_retry_after_parse(S(" 0 "), 1000) == 0);
    CHECK(acme_retry_after_parse(S("007"), 1000) == 7);
    CHECK(acme_retry_after_parse(S("99999999999"), 1000) == ACME_RETRY_AFTER_MAX_S);
    CHECK(acme_retry_after_parse(S("-5"), 1000) == -1);
    CHECK(acme_retry_after_parse(S("12a"), 1000) == -1);
    CHECK(acme_retry_after_parse(S(""), 1000) == -1);
    CHECK(acme_retry_after_parse(NULL, 0, 1000) == -1);
}

TEST(retry_after_http_date)
{
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
    CHECK(acme_retry_after_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777 - 30) == 30);
    CHECK(acme_retry_after_parse(S("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777 + 30) == 0);
    CHECK(acme_retry_after_parse(S("Sun, 06 Nov 1994 08:49:37 UTC"), 0) == -1);
    CHECK(acme_retry_after_parse(S("Sun, 06 Xyz 1994 08:49:37 GMT"), 0) == -1);
    CHECK(acme_retry_after_parse(S("Sun, 06 Nov 1994 25:49:37 GMT"), 0) == -1);
    CHECK(acme_retry_after_parse(S("Sunday, 06-Nov-94 08:49:37 GMT"), 0) == -1);
}

TEST(rfc3339)
{
    time_t t = 0;
    CHECK(acme_rfc3339_parse(S("2025-01-02T04:00:00Z"), &t) == 0 && t == 1735790400);
    CHECK(acme_rfc3339_parse(S("2025-01-02T04:00:00.123456Z"), &t) == 0 && t == 1735790400);
    CHECK(acme_rfc3339_parse(S("2025-01-02T06:00:00+02:00"), &t) == 0 && t == 1735790400);
    CHECK(acme_rfc3339_parse(S("2025-01-02T03:30:00-00:30"), &t) == 0 && t == 1735790400);
    CHECK(acme_rfc3339_parse(S("2025-01-02 04:00:00Z"), &t) == -1);
    CHECK(acme_rfc3339_parse(S("2025-13-02T04:00:00Z"), &t) == -1);
    CHECK(acme_rfc3339_parse(S("2025-01-02T04:00:00"), &t) == -1);
    CHECK(acme_rfc3339_parse(S("2025-01-02T04:00:00Zjunk"), &t) == -1);
    CHECK(acme_rfc3339_parse(S("2025-01-02T04:00:00."), &t) == -1);
    CHECK(acme_rfc3339_parse("2025-01-02T04:00:00Z", 10, &t) == -1);   /* never reads past len */
}

TEST(ari_window)
{
    /* RFC 9773 §4.2 example shape */
    const char *body = "{\"suggestedWindow\":{\"start\":\"2025-01-02T04:00:00Z\",\"end\":\"2025-01-03T04:00:00Z\"},"
                       "\"explanationURL\":\"https://acme.example.com/docs/ari\"}";
    struct acme_ari_window w;
    CHECK(acme_ari_parse((const uint8_t *)body, strlen(body), &w) == 0);
    CHECK(w.start == 1735790400 && w.end == 1735790400 + 86400);
    CHECK_STR(w.explanation, "https://acme.example.com/docs/ari");
    CHECK(acme_ari_pick(&w, 0) == w.start);
    CHECK(acme_ari_pick(&w, UINT32_MAX) == w.end);
    time_t mid = acme_ari_pick(&w, UINT32_MAX / 2);
    CHECK(mid > w.start + 43000 && mid < w.start + 43400);
    const char *rev = "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\",\"end\":\"2025-01-02T04:00:00Z\"}}";
    CHECK(acme_ari_parse((const uint8_t *)rev, strlen(rev), &w) == -1);
    const char *missing = "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\"}}";
    CHECK(acme_ari_parse((const uint8_t *)missing, strlen(missing), &w) == -1);
    CHECK(acme_ari_parse((const uint8_t *)"[]", 2, &w) == -1);
    CHECK(acme_ari_parse((const uint8_t *)"{", 1, &w) == -1);
}

TEST(json_caps)
{
    char deep[128];
    size_t n = 0;
    for (int i = 0; i < 12; i++) {
        memcpy(deep + n, "{\"a\":", 5);
        n += 5;
    }
    deep[n++] = '1';
    for (int i = 0; i < 12; i++)
        deep[n++] = '}';
    deep[n] = 0;
    CHECK(acme_json_load((const uint8_t *)deep, strlen(deep)) == NULL);
    json_t *o = acme_json_load((const uint8_t *)"{\"a\":{\"b\":[1]}}", 15);
    CHECK(o != NULL);
    json_decref(o);
    CHECK(acme_json_load((const uint8_t *)"{\"a\":1,\"a\":2}", 13) == NULL);   /* duplicate keys */
    CHECK(acme_json_load((const uint8_t *)"[1]", 3) == NULL);
}

static X509 *make_cert(EVP_PKEY *key, const uint8_t *serial, size_t slen, const uint8_t *akid, size_t alen)
{
    X509 *x = X509_new();
    BIGNUM *bn = BN_bin2bn(serial, (int)slen, NULL);
    ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
    X509_set_version(x, 2);
    X509_set_serialNumber(x, sn);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    if (akid) {
        AUTHORITY_KEYID *ak = AUTHORITY_KEYID_new();
        ak->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(ak->keyid, akid, (int)alen);
        X509_add1_ext_i2d(x, NID_authority_key_identifier, ak, 0, X509V3_ADD_DEFAULT);
        AUTHORITY_KEYID_free(ak);
    }
    X509_sign(x, key, EVP_sha256());
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    return x;
}

TEST(ari_cert_id_rfc9773_example)
{
    /* RFC 9773 §4.1: AKI keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4,
     * serial 0x87654321 (DER content 00 87 65 43 21) -> "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" */
    static const uint8_t akid[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                                   0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
    static const uint8_t serial[] = {0x87, 0x65, 0x43, 0x21};
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = make_cert(k, serial, sizeof serial, akid, sizeof akid);
    char *id = acme_ari_cert_id(x);
    CHECK_STR(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    free(id);
    X509_free(x);
    static const uint8_t serial2[] = {0x12, 0x34};
    x = make_cert(k, serial2, sizeof serial2, akid, sizeof akid);
    id = acme_ari_cert_id(x);
    CHECK_STR(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.EjQ");
    free(id);
    X509_free(x);
    x = make_cert(k, serial2, sizeof serial2, NULL, 0);
    CHECK(acme_ari_cert_id(x) == NULL);   /* no AKI: no ARI */
    X509_free(x);
    EVP_PKEY_free(k);
}

static void append_pem(BIO *b, X509 *x) { PEM_write_bio_X509(b, x); }

TEST(pem_chain)
{
    static const uint8_t s1[] = {1}, s2[] = {2}, s3[] = {3};
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *a = make_cert(k, s1, 1, NULL, 0), *b = make_cert(k, s2, 1, NULL, 0), *c = make_cert(k, s3, 1, NULL, 0);
    BIO *m = BIO_new(BIO_s_mem());
    append_pem(m, a);
    append_pem(m, b);
    append_pem(m, c);
    char *p;
    long n = BIO_get_mem_data(m, &p);
    X509 *leaf;
    STACK_OF(X509) *chain;
    CHECK(acme_pem_chain_parse(p, (size_t)n, &leaf, &chain) == 0);
    CHECK(leaf && X509_cmp(leaf, a) == 0);
    CHECK(chain && sk_X509_num(chain) == 2 && X509_cmp(sk_X509_value(chain, 1), c) == 0);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    /* truncated: the last block is cut, so only what is complete may parse -- and a cut inside the
     * leaf must fail */
    CHECK(acme_pem_chain_parse(p, 100, &leaf, &chain) == -1 && !leaf && !chain);
    /* a private key block in the chain is refused */
    BIO *m2 = BIO_new(BIO_s_mem());
    append_pem(m2, a);
    PEM_write_bio_PrivateKey(m2, k, NULL, NULL, 0, NULL, NULL);
    long n2 = BIO_get_mem_data(m2, &p);
    CHECK(acme_pem_chain_parse(p, (size_t)n2, &leaf, &chain) == -1);
    CHECK(acme_pem_chain_parse("", 0, &leaf, &chain) == -1);
    CHECK(acme_pem_chain_parse("garbage\n", 8, &leaf, &chain) == -1);
    BIO_free(m);
    BIO_free(m2);
    X509_free(a);
    X509_free(b);
    X509_free(c);
    EVP_PKEY_free(k);
}

TEST(problem_bad_nonce)
{
    const char *b = "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"JWS has an invalid anti-replay nonce: \\\"abc\\\"\",\"status\":400}";
    struct acme_problem p;
    CHECK(acme_problem_parse((const uint8_t *)b, strlen(b), 400, &p) == 0);
    CHECK(p.kind == ACME_PROB_BAD_NONCE);
    CHECK_STR(p.type, "badNonce");
    CHECK(p.status == 400);
    char line[800];
    acme_problem_format(&p, line, sizeof line);
    CHECK_STR(line, "status=400 type=badNonce meaning=\"the CA refused our anti-replay nonce; retrying with a fresh one\" "
                    "detail=\"JWS has an invalid anti-replay nonce: \\\"abc\\\"\"");
}

TEST(problem_rate_limited_and_subproblems)
{
    const char *b = "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many certificates (5) already issued\\nfor this exact set\",\"status\":429,"
                    "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"CAA forbids\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.example\"}},"
                    "{\"type\":\"urn:ietf:params:acme:error:dns\",\"detail\":\"NXDOMAIN\",\"identifier\":{\"type\":\"dns\",\"value\":\"b.example\"}}]}";
    struct acme_problem p;
    CHECK(acme_problem_parse((const uint8_t *)b, strlen(b), 400, &p) == 0);
    CHECK(p.kind == ACME_PROB_RATE_LIMITED && p.status == 429 && p.nsub == 2);
    CHECK_STR(p.detail, "too many certificates (5) already issued?for this exact set");
    CHECK_STR(p.subproblems, "a.example caa: CAA forbids; b.example dns: NXDOMAIN");
}

TEST(problem_other_and_bad)
{
    struct acme_problem p;
    const char *b = "{\"type\":\"about:blank\",\"detail\":\"x\"}";
    CHECK(acme_problem_parse((const uint8_t *)b, strlen(b), 500, &p) == 0 && p.kind == ACME_PROB_OTHER && p.status == 500);
    const char *ar = "{\"type\":\"urn:ietf:params:acme:error:alreadyReplaced\",\"status\":409}";
    CHECK(acme_problem_parse((const uint8_t *)ar, strlen(ar), 409, &p) == 0 && p.kind == ACME_PROB_ALREADY_REPLACED);
    CHECK(acme_problem_parse((const uint8_t *)"<html>", 6, 502, &p) == -1 && p.kind == ACME_PROB_NONE && p.status == 502);
    CHECK(acme_problem_parse((const uint8_t *)"{\"detail\":\"x\"}", 14, 400, &p) == -1);
    CHECK(acme_problem_parse((const uint8_t *)"{\"type\":5}", 10, 400, &p) == -1);
    /* a lookalike namespace is not an ACME type */
    const char *fake = "{\"type\":\"urn:ietf:params:acme:errorX:badNonce\"}";
    CHECK(acme_problem_parse((const uint8_t *)fake, strlen(fake), 400, &p) == 0 && p.kind == ACME_PROB_OTHER);
    char line[800];
    acme_problem_parse((const uint8_t *)"nope", 4, 503, &p);
    acme_problem_format(&p, line, sizeof line);
    CHECK(strstr(line, "status=503 type=none") == line);
}

int main(void)
{
    RUN(retry_after_delta_seconds);
    RUN(retry_after_http_date);
    RUN(rfc3339);
    RUN(ari_window);
    RUN(json_caps);
    RUN(ari_cert_id_rfc9773_example);
    RUN(pem_chain);
    RUN(problem_bad_nonce);
    RUN(problem_rate_limited_and_subproblems);
    RUN(problem_other_and_bad);
    return test_done();
}
