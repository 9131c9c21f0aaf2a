/* signer: P-256 key custody and JWS signing via common/jose. */
#include "login/signer.h"
#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>


/* An encrypted key is refused instead of prompting on a terminal (there is none in the image). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return 0;
}

struct signer {
    EVP_PKEY *key;       /* owned: the private key */
    json_t *jwk;         /* owned: public JWK */
    json_t *header;      /* owned: {"alg","kid","jwk"} */
    char kid[JOSE_THUMBPRINT_LEN + 1];
    char *public_pem;    /* owned */
    int ephemeral;
};

static struct signer *wrap(EVP_PKEY *key, int ephemeral)
{
    struct signer *s = calloc(1, sizeof *s);
    BIO *b = BIO_new(BIO_s_mem());
    if (!s || !b || !(s->jwk = jose_jwk_from_pkey(key)) || jose_jwk_thumbprint(s->jwk, s->kid) ||
        !(s->header = json_pack("{s:s, s:s, s:O}", "alg", "ES256", "kid", s->kid, "jwk", s->jwk)) ||
        PEM_write_bio_PUBKEY(b, key) != 1)
        goto fail;
    char *data;
    long n = BIO_get_mem_data(b, &data);
    if (n <= 0 || !(s->public_pem = strndup(data, (size_t)n)))
        goto fail;
    BIO_free(b);
    s->key = key;
    s->ephemeral = ephemeral;
    return s;
fail:
    BIO_free(b);
    if (s) {
        json_decref(s->jwk);
        json_decref(s->header);
        free(s);
    }
    EVP_PKEY_free(key);
    return NULL;
}

struct signer *signer_from_pem(const char *pem, size_t len, char *err, size_t errlen)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    char curve[32] = "";
    size_t cl;
    if (!key) {
        snprintf(err, errlen, "signing key: not a PEM private key");
        return NULL;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &cl) ||
        strcmp(curve, "prime256v1")) {
        snprintf(err, errlen, "signing key: must be an EC P-256 key");
        EVP_PKEY_free(key);
        return NULL;
    }
    struct signer *s = wrap(key, 0);
    if (!s)
        snprintf(err, errlen, "signing key: cannot use it (out of memory?)");
    return s;
}

struct signer *signer_ephemeral(void)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    return key ? wrap(key, 1) : NULL;
}

void signer_free(struct signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    json_decref(s->jwk);
    json_decref(s->header);
    free(s->public_pem);
    free(s);
}

int signer_is_ephemeral(const struct signer *s) { return s->ephemeral; }
const char *signer_kid(const struct signer *s) { return s->kid; }
const json_t *signer_public_jwk(const struct signer *s) { return s->jwk; }
const char *signer_public_pem(const struct signer *s) { return s->public_pem; }

char *signer_sign(const struct signer *s, const uint8_t *payload, size_t len)
{
    return jose_jws_compact_sign(s->key, s->header, payload, len);
}

char *signer_sign_typed(const struct signer *s, const char *typ, const uint8_t *payload, size_t len)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "kid", s->kid, "typ", typ);
    char *out = h ? jose_jws_compact_sign(s->key, h, payload, len) : NULL;
    json_decref(h);
    return out;
}
