/* tls: SSL_CTX policy, self-signed certificates for local runs, and the atomic swap. */
#include "login/tls.h"
#include "login/log.h"
#include "login/tls_tickets.h"
#include "common/codec.h"
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>


/* An encrypted key is refused instead of prompting on a terminal (there is none in the image). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return 0;
}

struct tls {
    SSL_CTX *ctx;                  /* owned reference; SSLs hold their own */
    struct tls_tickets *tickets;   /* owned; shared by every context, so tickets survive a renewal */
    time_t not_after;
    unsigned generation;
};

struct tls *tls_new(void)
{
    struct tls *t = calloc(1, sizeof(struct tls));
    if (t && !(t->tickets = tls_tickets_new())) {
        free(t);
        return NULL;
    }
    return t;
}

void tls_free(struct tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    tls_tickets_free(t->tickets);
    free(t);
}

struct tls_tickets *tls_tickets_of(struct tls *t) { return t->tickets; }

json_t *tls_status_hook(void *arg)
{
    struct tls_tickets_stats st;
    tls_tickets_stats(((struct tls *)arg)->tickets, &st);
    return json_pack("{sI sI sI sI sI}", "tickets_sealed", (json_int_t)st.sealed,
                     "tickets_key_hits", (json_int_t)st.key_hits, "tickets_renewed", (json_int_t)st.renewed,
                     "tickets_unknown_key", (json_int_t)st.unknown_key,
                     "ticket_key_rotations", (json_int_t)st.rotations);
}

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char h11[] = "\x08http/1.1";
    unsigned char *o = NULL;
    if (SSL_select_next_proto(&o, outlen, h11, sizeof h11 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static void log_ssl_error(const char *event)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    log_error(event, "openssl=\"%s\"", buf);
    ERR_clear_error();
}

static SSL_CTX *ctx_new(struct tls *t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    if (!SSL_CTX_set1_groups_list(ctx, "X25519:P-256") ||
        !SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384") ||
        !SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384")) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (tls_tickets_attach(t->tickets, ctx)) {   /* resumption by ticket only, no session cache */
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"sealed-login", 12);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return timegm(&tm);
}

int tls_install(struct tls *t, EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain)
{
    SSL_CTX *ctx = ctx_new(t);
    if (!ctx || SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    for (int i = 0; chain && i < sk_X509_num(chain); i++)
        if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)) != 1)
            goto fail;
    SSL_CTX_free(t->ctx);
    t->ctx = ctx;
    t->not_after = asn1_to_time(X509_get0_notAfter(leaf));
    t->generation++;
    return 0;
fail:
    log_ssl_error("tls.install_failed");
    SSL_CTX_free(ctx);
    return -1;
}

int tls_install_pem(struct tls *t, const char *key_pem, size_t key_len, const char *chain_pem, size_t chain_len)
{
    int rc = -1;
    BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len), *cb = BIO_new_mem_buf(chain_pem, (int)chain_len);
    EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
    X509 *leaf = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *x;
    while (cb && chain && (x = PEM_read_bio_X509(cb, NULL, NULL, NULL)))
        sk_X509_push(chain, x);
    ERR_clear_error();   /* the loop ends on "no start line" */
    if (key && leaf && chain)
        rc = tls_install(t, key, leaf, chain);
    else
        log_error("tls.install_failed", "reason=\"unreadable PEM\"");
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    EVP_PKEY_free(key);
    BIO_free(kb);
    BIO_free(cb);
    return rc;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

int tls_install_self_signed(struct tls *t, const char *cn, int days)
{
    int rc = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    char san[300];
    if (!key || !x || RAND_bytes(serial, sizeof serial) != 1)
        goto out;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) || !X509_set_pubkey(x, key))
        goto out;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sealed-login (self-signed, local)", -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, name))
        goto out;
    if (!strcmp(cn, "localhost"))
        snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1");
    else
        snprintf(san, sizeof san, "DNS:%.250s", cn);
    if (!add_ext(x, NID_subject_alt_name, san) || !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_ext(x, NID_key_usage, "critical,digitalSignature") || !add_ext(x, NID_ext_key_usage, "serverAuth") ||
        !X509_sign(x, key, EVP_sha256()))
        goto out;
    rc = tls_install(t, key, x, NULL);
out:
    if (rc)
        log_ssl_error("tls.self_signed_failed");
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

SSL *tls_ssl_new(struct tls *t)
{
    return t->ctx ? SSL_new(t->ctx) : NULL;
}

int tls_ready(const struct tls *t) { return t->ctx != NULL; }
time_t tls_not_after(const struct tls *t) { return t->not_after; }
unsigned tls_generation(const struct tls *t) { return t->generation; }

static int spki_hex(X509 *x, char out[65])
{
    unsigned char *der = NULL;
    int len;
    uint8_t h[32];
    if (!x || (len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
        return -1;
    int ok = EVP_Digest(der, (size_t)len, h, NULL, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (!ok)
        return -1;
    codec_hex_encode(h, 32, out, 65);
    return 0;
}

int tls_spki_sha256_hex_of(SSL *ssl, char out[65])
{
    return spki_hex(SSL_get_certificate(ssl), out);
}

int tls_spki_sha256_hex(const struct tls *t, char out[65])
{
    return t->ctx ? spki_hex(SSL_CTX_get0_certificate(t->ctx), out) : -1;
}
