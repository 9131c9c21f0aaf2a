/* oci_federation: OCI instance principals. Loads the instance identity the metadata server hands
 * out (leaf certificate, its key, intermediates), derives the tenancy and the fed-x509-sha256 key
 * id, builds the X.509 federation request and reads the security token's expiry. Holds the leaf
 * key only inside struct oci_identity; signing is oci_sign's job, sending is cloud.c's. */
#include "common/oci.h"
#include "common/codec.h"
#include "common/oci_sign.h"
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

static X509 *read_cert(BIO *b)
{
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    if (!x)
        ERR_clear_error();
    return x;
}

/* The value after "opc-tenant:" (preferred) or "opc-identity:" in the subject's OU attributes. */
static char *subject_tenancy(X509 *x)
{
    X509_NAME *n = X509_get_subject_name(x);
    char *found = NULL;
    int found_rank = 0;
    for (int i = 0; i < X509_NAME_entry_count(n); i++) {
        X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
        if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_organizationalUnitName)
            continue;
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(e);
        const char *d = (const char *)ASN1_STRING_get0_data(s);
        size_t len = (size_t)ASN1_STRING_length(s);
        static const struct { const char *p; int rank; } prefixes[] = {{"opc-tenant:", 2}, {"opc-identity:", 1}};
        for (size_t k = 0; k < 2; k++) {
            size_t pl = strlen(prefixes[k].p);
            if (len > pl && !memcmp(d, prefixes[k].p, pl) && prefixes[k].rank > found_rank &&
                !memchr(d + pl, 0, len - pl) && !memchr(d + pl, '/', len - pl) && !memchr(d + pl, '"', len - pl)) {
                char *v = strndup(d + pl, len - pl);
                if (!v)
                    continue;
                free(found);
                found = v;
                found_rank = prefixes[k].rank;
            }
        }
    }
    return found;
}

cloud_err oci_identity_load(struct oci_identity *out, const char *cert_pem, size_t cert_len,
                            const char *key_pem, size_t key_len, const char *inter_pem, size_t inter_len)
{
    cloud_err rc = CLOUD_ERR_CRYPTO;
    BIO *b = NULL;
    uint8_t *der = NULL;
    memset(out, 0, sizeof *out);
    if (cert_len > CLOUD_METADATA_MAX || key_len > CLOUD_METADATA_MAX || inter_len > CLOUD_METADATA_MAX)
        return CLOUD_ERR_TOOBIG;
    if (!(b = BIO_new_mem_buf(cert_pem, (int)cert_len)))
        return CLOUD_ERR_NOMEM;
    out->leaf = read_cert(b);
    BIO_free(b);
    if (!out->leaf)
        goto fail;
    if (!(out->key = oci_sign_load_key_pem(key_pem, key_len)) || X509_check_private_key(out->leaf, out->key) != 1)
        goto fail;
    if (!(b = BIO_new_mem_buf(inter_pem, (int)inter_len))) {
        rc = CLOUD_ERR_NOMEM;
        goto fail;
    }
    X509 *x;
    while (out->n_inter < OCI_MAX_INTERMEDIATES && (x = read_cert(b)))
        out->inter[out->n_inter++] = x;
    BIO_free(b);
    b = NULL;
    if (out->n_inter == 0)
        goto fail;
    if (!(out->tenancy = subject_tenancy(out->leaf))) {
        rc = CLOUD_ERR_FORMAT;
        goto fail;
    }
    int n = i2d_X509(out->leaf, &der);
    if (n <= 0 || !(out->fingerprint = oci_sign_fingerprint("SHA256", der, (size_t)n)))
        goto fail;
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(out->leaf), &tm) != 1)
        goto fail;
    out->not_after = timegm(&tm);
    OPENSSL_free(der);
    return CLOUD_OK;
fail:
    ERR_clear_error();
    OPENSSL_free(der);
    oci_identity_clear(out);
    return rc;
}

void oci_identity_clear(struct oci_identity *id)
{
    X509_free(id->leaf);
    for (int i = 0; i < id->n_inter; i++)
        X509_free(id->inter[i]);
    EVP_PKEY_free(id->key);
    free(id->tenancy);
    free(id->fingerprint);
    memset(id, 0, sizeof *id);
}

char *oci_federation_key_id(const struct oci_identity *id)
{
    static const char mid[] = "/fed-x509-sha256/";
    size_t a = strlen(id->tenancy), b = strlen(id->fingerprint);
    char *s = malloc(a + sizeof mid - 1 + b + 1);
    if (!s)
        return NULL;
    memcpy(s, id->tenancy, a);
    memcpy(s + a, mid, sizeof mid - 1);
    memcpy(s + a + sizeof mid - 1, id->fingerprint, b + 1);
    return s;
}

/* base64 of a DER encoding, as a new JSON string. */
static json_t *b64_der(uint8_t *der, int n)
{
    if (n <= 0)
        return NULL;
    char *s = codec_b64_encode_alloc(der, (size_t)n);
    OPENSSL_free(der);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
}

char *oci_federation_body(const struct oci_identity *id, EVP_PKEY *session_key)
{
    char *out = NULL;
    uint8_t *der;
    json_t *inter = json_array();
    json_t *body = json_object();
    if (!inter || !body)
        goto done;
    int n;
    for (int i = 0; i < id->n_inter; i++) {
        der = NULL;
        n = i2d_X509(id->inter[i], &der);
        if (json_array_append_new(inter, b64_der(der, n)))
            goto done;
    }
    /* json_object_set_new consumes its value, NULL or not, success or not */
    der = NULL;
    n = i2d_X509(id->leaf, &der);
    if (json_object_set_new(body, "certificate", b64_der(der, n)))
        goto done;
    der = NULL;
    n = i2d_PUBKEY(session_key, &der);
    if (json_object_set_new(body, "publicKey", b64_der(der, n)) ||
        json_object_set(body, "intermediateCertificates", inter) ||
        json_object_set_new(body, "fingerprintAlgorithm", json_string("SHA256")))
        goto done;
    out = json_dumps(body, JSON_COMPACT);
done:
    json_decref(inter);
    json_decref(body);
    return out;
}

cloud_err oci_jwt_exp(const char *jwt, size_t len, int64_t *exp)
{
    const char *d1 = memchr(jwt, '.', len);
    if (!d1)
        return CLOUD_ERR_FORMAT;
    const char *p = d1 + 1;
    const char *d2 = memchr(p, '.', len - (size_t)(p - jwt));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt)))
        return CLOUD_ERR_FORMAT;
    size_t plen;
    uint8_t *payload = codec_b64url_decode_alloc(p, (size_t)(d2 - p), &plen);
    if (!payload)
        return CLOUD_ERR_FORMAT;
    json_t *claims = json_loadb((const char *)payload, plen, 0, NULL);
    free(payload);
    json_t *e = json_object_get(claims, "exp");
    cloud_err rc = CLOUD_ERR_FORMAT;
    if (json_is_integer(e) && json_integer_value(e) > 0) {
        *exp = json_integer_value(e);
        rc = CLOUD_OK;
    }
    json_decref(claims);
    return rc;
}

cloud_err oci_federation_parse(const char *json, size_t len, char **token, int64_t *exp)
{
    *token = NULL;
    if (len > CLOUD_TOKEN_MAX)
        return CLOUD_ERR_TOOBIG;
    json_t *doc = json_loadb(json, len, 0, NULL);
    const char *t = json_string_value(json_object_get(doc, "token"));
    cloud_err rc = CLOUD_ERR_FORMAT;
    if (t && strlen(t) + 3 <= OCI_SIGN_MAX_KEY_ID && !strchr(t, '"') && (rc = oci_jwt_exp(t, strlen(t), exp)) == CLOUD_OK) {
        if (!(*token = strdup(t)))
            rc = CLOUD_ERR_NOMEM;
    }
    json_decref(doc);
    return rc;
}
