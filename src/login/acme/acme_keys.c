/* acme_keys: account key, request signing, key authorizations, the order's and the installed TLS
 * key, CSRs. The one file of the ACME client that touches private keys; it never sees a response
 * from the CA (only the parsed certificate, to check it certifies the order key). */
#include "login/acme/acme_keys.h"
#include "login/limits.h"
#include "common/codec.h"
#include <openssl/ec.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

struct acme_keys {
    EVP_PKEY *account;                         /* owned, private */
    json_t *jwk;                               /* owned, public JWK */
    char thumbprint[JOSE_THUMBPRINT_LEN + 1];
    EVP_PKEY *order_tls;                       /* owned, private: key of the order in flight */
    EVP_PKEY *installed_tls;                   /* owned reference: key of the installed certificate */
};

EVP_PKEY *acme_keys_new_tls_key(void)
{
    return EVP_EC_gen("P-256");
}

struct acme_keys *acme_keys_from_pkey(EVP_PKEY *key)
{
    struct acme_keys *k = calloc(1, sizeof *k);
    if (!k || !key || !EVP_PKEY_up_ref(key)) {
        free(k);
        return NULL;
    }
    k->account = key;
    if (!(k->jwk = jose_jwk_from_pkey(key)) || jose_jwk_thumbprint(k->jwk, k->thumbprint)) {
        acme_keys_free(k);
        return NULL;
    }
    return k;
}

struct acme_keys *acme_keys_new(void)
{
    EVP_PKEY *key = acme_keys_new_tls_key();
    struct acme_keys *k = key ? acme_keys_from_pkey(key) : NULL;
    EVP_PKEY_free(key);
    return k;
}

void acme_keys_free(struct acme_keys *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->account);
    EVP_PKEY_free(k->order_tls);
    EVP_PKEY_free(k->installed_tls);
    json_decref(k->jwk);
    free(k);
}

char *acme_keys_order_csr(struct acme_keys *k, const char *domain)
{
    acme_keys_order_drop(k);
    if (!(k->order_tls = acme_keys_new_tls_key()))
        return NULL;
    char *csr = acme_keys_csr_b64url(k->order_tls, domain);
    if (!csr)
        acme_keys_order_drop(k);
    return csr;
}

int acme_keys_order_pending(const struct acme_keys *k)
{
    return k->order_tls != NULL;
}

void acme_keys_order_drop(struct acme_keys *k)
{
    EVP_PKEY_free(k->order_tls);
    k->order_tls = NULL;
}

int acme_keys_order_matches(const struct acme_keys *k, X509 *leaf)
{
    return k->order_tls && leaf && X509_check_private_key(leaf, k->order_tls) == 1;
}

int acme_keys_order_install(struct acme_keys *k, struct tls *t, X509 *leaf, STACK_OF(X509) *chain)
{
    if (!k->order_tls || tls_install(t, k->order_tls, leaf, chain))
        return -1;
    EVP_PKEY_free(k->installed_tls);
    k->installed_tls = k->order_tls;           /* the TLS context holds its own reference */
    k->order_tls = NULL;
    return 0;
}

int acme_keys_install_saved(struct acme_keys *k, struct tls *t, EVP_PKEY *key, X509 *leaf,
                            STACK_OF(X509) *chain)
{
    if (!key || !leaf || X509_check_private_key(leaf, key) != 1 || !EVP_PKEY_up_ref(key))
        return -1;
    if (tls_install(t, key, leaf, chain)) {
        EVP_PKEY_free(key);
        return -1;
    }
    EVP_PKEY_free(k->installed_tls);
    k->installed_tls = key;
    return 0;
}

const EVP_PKEY *acme_keys_installed(const struct acme_keys *k)
{
    return k->installed_tls;
}

const char *acme_keys_thumbprint(const struct acme_keys *k)
{
    return k->thumbprint;
}

char *acme_keys_key_authorization(const struct acme_keys *k, const char *token, size_t len)
{
    if (!token || !len || len > ACME_TOKEN_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return NULL;
    }
    char *out = malloc(len + 1 + JOSE_THUMBPRINT_LEN + 1);
    if (!out)
        return NULL;
    memcpy(out, token, len);
    out[len] = '.';
    memcpy(out + len + 1, k->thumbprint, JOSE_THUMBPRINT_LEN + 1);
    return out;
}

char *acme_keys_sign_request(const struct acme_keys *k, const char *url, const char *nonce,
                             const char *kid, const char *payload)
{
    char *out = NULL;
    json_t *jws = NULL;
    json_t *hdr = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "nonce", nonce, "url", url);
    if (!hdr)
        goto fail;
    if (kid ? json_object_set_new(hdr, "kid", json_string(kid)) : json_object_set(hdr, "jwk", k->jwk))
        goto fail;
    const char *p = payload ? payload : "";
    if (!(jws = jose_jws_flat_sign(k->account, hdr, (const uint8_t *)p, strlen(p))))
        goto fail;
    out = json_dumps(jws, JSON_COMPACT);
fail:
    json_decref(hdr);
    json_decref(jws);
    return out;
}

char *acme_keys_csr_b64url(EVP_PKEY *key, const char *domain)
{
    char *out = NULL;
    unsigned char *der = NULL;
    X509_REQ *req = X509_REQ_new();
    X509_NAME *name = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    GENERAL_NAMES *gens = GENERAL_NAMES_new();
    GENERAL_NAME *gen = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    X509_EXTENSION *ext = NULL;
    if (!req || !name || !exts || !gens || !gen || !ia5 || !domain || strlen(domain) > 253)
        goto fail;
    if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)domain, -1, -1, 0) ||
        !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, key))
        goto fail;
    if (!ASN1_STRING_set(ia5, domain, (int)strlen(domain)))
        goto fail;
    GENERAL_NAME_set0_value(gen, GEN_DNS, ia5);
    ia5 = NULL;
    if (!sk_GENERAL_NAME_push(gens, gen))
        goto fail;
    gen = NULL;
    if (!(ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) || !sk_X509_EXTENSION_push(exts, ext))
        goto fail;
    ext = NULL;
    if (!X509_REQ_add_extensions(req, exts) || X509_REQ_sign(req, key, EVP_sha256()) <= 0)
        goto fail;
    int dl = i2d_X509_REQ(req, &der);
    if (dl <= 0)
        goto fail;
    out = codec_b64url_encode_alloc(der, (size_t)dl);
fail:
    OPENSSL_free(der);
    X509_EXTENSION_free(ext);
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(name);
    X509_REQ_free(req);
    return out;
}

const EVP_PKEY *acme_keys_account(const struct acme_keys *k) { return k->account; }
