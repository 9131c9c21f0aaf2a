/* tls_fallback: the part of login/tls.h the ACME test driver needs (tls_new/free/install/ssl_new/
 * ready/not_after/generation), linked into the driver only while src/login/tls.c does not exist
 * yet (mk/acme.mk). Same contract: the SSL_CTX is swapped under reference counting, so
 * connections in flight keep theirs. Test-only; the service always uses src/login/tls.c. */
#include "login/tls.h"
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <time.h>

struct tls {
    SSL_CTX *ctx;            /* owned reference; NULL until the first install */
    time_t not_after;
    unsigned generation;
};

struct tls *tls_new(void) { return calloc(1, sizeof(struct tls)); }

void tls_free(struct tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

int tls_install(struct tls *t, EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return -1;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate(ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    for (int i = 0; chain && i < sk_X509_num(chain); i++)
        if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)) != 1)
            goto fail;
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1)
        t->not_after = timegm(&tm);
    SSL_CTX_free(t->ctx);   /* connections hold their own references */
    t->ctx = ctx;
    t->generation++;
    return 0;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return -1;
}

SSL *tls_ssl_new(struct tls *t) { return t->ctx ? SSL_new(t->ctx) : NULL; }
int tls_ready(const struct tls *t) { return t->ctx != NULL; }
time_t tls_not_after(const struct tls *t) { return t->not_after; }
unsigned tls_generation(const struct tls *t) { return t->generation; }
