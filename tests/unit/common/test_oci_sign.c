/* Unit tests for common/oci_sign against OCI's published request-signing vectors
 * (../shared/testdata/oci-request-signing): signing strings, signatures and Authorization headers
 * byte for byte, plus the federation header set, dates and fingerprints. */
#include "test.h"
#include "common/oci_sign.h"
#include "common/codec.h"
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/ec.h>
#include <openssl/x509.h>

#define VEC(f) TESTDATA("oci-request-signing/" f)

static json_t *expected(void)
{
    json_error_t e;
    json_t *j = json_load_file(VEC("expected.json"), 0, &e);
    if (!j) fprintf(stderr, "  expected.json: %s\n", e.text);
    return j;
}

static EVP_PKEY *test_key(void)
{
    size_t n;
    unsigned char *pem = test_read_file(VEC("test_private_key.pem"), &n);
    EVP_PKEY *k = pem ? oci_sign_load_key_pem((const char *)pem, n) : NULL;
    free(pem);
    return k;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
    return json_string_value(json_object_get(b ? json_object_get(o, a) : o, b ? b : a));
}

static int verify(const char *data, size_t len, const char *sig_b64)
{
    size_t n;
    unsigned char *pem = test_read_file(VEC("test_public_key.pem"), &n);
    BIO *b = BIO_new_mem_buf(pem, (int)n);
    EVP_PKEY *pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    size_t sl;
    uint8_t *sig = codec_b64_decode_alloc(sig_b64, strlen(sig_b64), &sl);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = pub && sig && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
             EVP_DigestVerify(ctx, sig, sl, (const uint8_t *)data, len) == 1;
    EVP_MD_CTX_free(ctx);
    free(sig);
    EVP_PKEY_free(pub);
    BIO_free(b);
    free(pem);
    return ok;
}

TEST(get_vector_byte_exact)
{
    json_t *x = expected();
    EVP_PKEY *k = test_key();
    size_t n;
    unsigned char *ss = test_read_file(VEC("get_signing_string.txt"), &n);
    CHECK(x && k && ss);
    struct oci_sign_request rq = {
        .method = "GET", .url = jstr(x, "get", "url"), .date = "Thu, 05 Jan 2014 21:31:40 GMT",
    };
    struct oci_sign_result r;
    CHECK(oci_sign_request(k, jstr(x, "key", "key_id_sdk_test"), &rq, &r) == OCI_SIGN_OK);
    CHECK(r.signing_string_len == n && n == 371 && !memcmp(r.signing_string, ss, n));
    CHECK_STR(r.signature_b64, jstr(x, "get", "expected_signature_b64"));
    CHECK_STR(r.authorization, jstr(x, "get", "expected_authorization"));
    CHECK_STR(r.headers[0], "date: Thu, 05 Jan 2014 21:31:40 GMT");
    CHECK_STR(r.headers[1], "host: iaas.us-phoenix-1.oraclecloud.com");
    CHECK(!strncmp(r.headers[2], "authorization: Signature version=\"1\"", 36));
    CHECK(r.headers[3] == NULL);
    CHECK(verify(r.signing_string, r.signing_string_len, r.signature_b64));
    oci_sign_result_clear(&r);
    free(ss);
    EVP_PKEY_free(k);
    json_decref(x);
}

TEST(post_vector_byte_exact)
{
    json_t *x = expected();
    EVP_PKEY *k = test_key();
    size_t n, bn;
    unsigned char *ss = test_read_file(VEC("post_signing_string.txt"), &n);
    unsigned char *body = test_read_file(VEC("post_body.json"), &bn);
    CHECK(x && k && ss && body && bn == 316);
    struct oci_sign_request rq = {
        .method = "POST", .url = jstr(x, "post", "url"), .date = "Thu, 05 Jan 2014 21:31:40 GMT",
        .body = body, .body_len = bn, .content_type = "application/json",
    };
    struct oci_sign_result r;
    CHECK(oci_sign_request(k, jstr(x, "key", "key_id_sdk_test"), &rq, &r) == OCI_SIGN_OK);
    CHECK(r.signing_string_len == n && n == 240 && !memcmp(r.signing_string, ss, n));
    CHECK_STR(r.signature_b64, jstr(x, "post", "expected_signature_b64"));
    CHECK_STR(r.authorization, jstr(x, "post", "expected_authorization"));
    CHECK_STR(r.headers[2], "content-type: application/json");
    CHECK_STR(r.headers[3], "content-length: 316");
    CHECK_STR(r.headers[4], "x-content-sha256: V9Z20UJTvkvpJ50flBzKE32+6m2zJjweHpDMX/U4Uy0=");
    CHECK(r.headers[5] && r.headers[6] == NULL);
    oci_sign_result_clear(&r);
    /* one changed body byte changes the digest line and the signature */
    body[10] ^= 1;
    CHECK(oci_sign_request(k, jstr(x, "key", "key_id_sdk_test"), &rq, &r) == OCI_SIGN_OK);
    CHECK(r.signing_string_len == n && memcmp(r.signing_string, ss, n) != 0);
    CHECK(strcmp(r.signature_b64, jstr(x, "post", "expected_signature_b64")) != 0);
    oci_sign_result_clear(&r);
    free(body);
    free(ss);
    EVP_PKEY_free(k);
    json_decref(x);
}

TEST(empty_body_post_has_digest)
{
    EVP_PKEY *k = test_key();
    struct oci_sign_request rq = {.method = "post", .url = "https://x.example/a", .date = "Thu, 05 Jan 2014 21:31:40 GMT"};
    struct oci_sign_result r;
    CHECK(k && oci_sign_request(k, "t/u/f", &rq, &r) == OCI_SIGN_OK);
    CHECK(strstr(r.signing_string, "\nx-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") != NULL);
    CHECK(strstr(r.signing_string, "\ncontent-length: 0\n") != NULL);
    CHECK(strstr(r.signing_string, "(request-target): post /a\n") != NULL);
    oci_sign_result_clear(&r);
    EVP_PKEY_free(k);
}

TEST(federation_header_set_has_no_host)
{
    EVP_PKEY *k = test_key();
    const char *b = "{\"a\":1}";
    struct oci_sign_request rq = {.method = "POST", .url = "https://auth.us-ashburn-1.oraclecloud.com/v1/x509",
                                  .date = "Thu, 05 Jan 2014 21:31:40 GMT", .body = (const uint8_t *)b,
                                  .body_len = strlen(b), .which = OCI_SIGN_HEADERS_FEDERATION};
    struct oci_sign_result r;
    CHECK(k && oci_sign_request(k, "ocid1.tenancy.oc1..x/fed-x509-sha256/aa:bb", &rq, &r) == OCI_SIGN_OK);
    CHECK(!strncmp(r.signing_string, "date: Thu, 05 Jan 2014 21:31:40 GMT\n(request-target): post /v1/x509\n"
                   "content-length: 7\ncontent-type: application/json\nx-content-sha256: ", 135));
    CHECK(strstr(r.authorization, "headers=\"date (request-target) content-length content-type x-content-sha256\"") != NULL);
    CHECK(strstr(r.signing_string, "host:") == NULL);
    for (int i = 0; r.headers[i]; i++)
        CHECK(strncmp(r.headers[i], "host:", 5) != 0);
    oci_sign_result_clear(&r);
    /* federation with GET makes no sense */
    rq.method = "GET";
    CHECK(oci_sign_request(k, "a/b/c", &rq, &r) == OCI_SIGN_ERR_ARG);
    EVP_PKEY_free(k);
}

TEST(urls_and_hosts)
{
    EVP_PKEY *k = test_key();
    struct oci_sign_result r;
    struct oci_sign_request rq = {.method = "GET", .url = "https://127.0.0.1:8443", .date = "Thu, 05 Jan 2014 21:31:40 GMT"};
    CHECK(oci_sign_request(k, "ST$abc", &rq, &r) == OCI_SIGN_OK);
    CHECK(strstr(r.signing_string, "(request-target): get /\nhost: 127.0.0.1:8443") != NULL);
    oci_sign_result_clear(&r);
    rq.url = "http://[fd00:c1::a9fe:a9fe]/opc/v2/x?y=1#frag";
    CHECK(oci_sign_request(k, "ST$abc", &rq, &r) == OCI_SIGN_OK);
    CHECK(strstr(r.signing_string, "(request-target): get /opc/v2/x?y=1\nhost: [fd00:c1::a9fe:a9fe]") != NULL);
    oci_sign_result_clear(&r);
    rq.url = "ftp://x/";
    CHECK(oci_sign_request(k, "a", &rq, &r) == OCI_SIGN_ERR_URL);
    rq.url = "https:///nohost";
    CHECK(oci_sign_request(k, "a", &rq, &r) == OCI_SIGN_ERR_URL);
    rq.url = "https://h/";
    rq.method = "BREW";
    CHECK(oci_sign_request(k, "a", &rq, &r) == OCI_SIGN_ERR_ARG);
    rq.method = "GET";
    CHECK(oci_sign_request(k, "a\"b", &rq, &r) == OCI_SIGN_ERR_ARG);
    rq.date = "Thu, 05 Jan 2014 21:31:40 UTC";
    CHECK(oci_sign_request(k, "a", &rq, &r) == OCI_SIGN_ERR_ARG);
    EVP_PKEY_free(k);
}

TEST(non_rsa_key_refused)
{
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    struct oci_sign_result r;
    struct oci_sign_request rq = {.method = "GET", .url = "https://h/", .date = "Thu, 05 Jan 2014 21:31:40 GMT"};
    CHECK(ec && oci_sign_request(ec, "a", &rq, &r) == OCI_SIGN_ERR_KEY);
    CHECK(r.signing_string == NULL && r.headers[0] == NULL);
    CHECK(oci_sign_load_key_pem("junk", 4) == NULL);
    EVP_PKEY_free(ec);
}

TEST(dates)
{
    time_t t;
    char out[OCI_SIGN_DATE_LEN + 1];
    CHECK(oci_sign_parse_date("Thu, 05 Jan 2014 21:31:40 GMT", 29, &t) == 0 && t == 1388957500);
    oci_sign_format_date(t, out);
    CHECK_STR(out, "Sun, 05 Jan 2014 21:31:40 GMT");   /* the vector's "Thu" is a wrong weekday */
    oci_sign_format_date(0, out);
    CHECK_STR(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    CHECK(oci_sign_parse_date("Thu, 05 Foo 2014 21:31:40 GMT", 29, &t) == -1);
    CHECK(oci_sign_parse_date("Thu, 05 Jan 2014 21:31:4x GMT", 29, &t) == -1);
    CHECK(oci_sign_parse_date("Thu, 05 Jan 2014 21:31:40 GM", 28, &t) == -1);
    /* date = NULL means now, shifted by the clock offset */
    EVP_PKEY *k = test_key();
    struct oci_sign_result r;
    struct oci_sign_request rq = {.method = "GET", .url = "https://h/", .clock_offset_s = 3600};
    CHECK(oci_sign_request(k, "a", &rq, &r) == OCI_SIGN_OK);
    CHECK(oci_sign_parse_date(r.signing_string + 6, 29, &t) == 0);
    CHECK(t - time(NULL) > 3590 && t - time(NULL) < 3610);
    oci_sign_result_clear(&r);
    EVP_PKEY_free(k);
}

TEST(fingerprints)
{
    json_t *x = expected();
    EVP_PKEY *k = test_key();
    uint8_t *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    char *fp = n > 0 ? oci_sign_fingerprint("MD5", der, (size_t)n) : NULL;
    CHECK_STR(fp, jstr(x, "key", "fingerprint_actual_md5_of_public_key_DER"));
    free(fp);
    fp = oci_sign_fingerprint("SHA256", (const uint8_t *)"abc", 3);
    CHECK_STR(fp, "ba:78:16:bf:8f:01:cf:ea:41:41:40:de:5d:ae:22:23:b0:03:61:a3:96:17:7a:9c:b4:10:ff:61:f2:00:15:ad");
    free(fp);
    CHECK(oci_sign_fingerprint("SHA1", der, (size_t)n) == NULL);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    json_decref(x);
}

int main(void)
{
    RUN(get_vector_byte_exact);
    RUN(post_vector_byte_exact);
    RUN(empty_body_post_has_digest);
    RUN(federation_header_set_has_no_host);
    RUN(urls_and_hosts);
    RUN(non_rsa_key_refused);
    RUN(dates);
    RUN(fingerprints);
    return test_done();
}
