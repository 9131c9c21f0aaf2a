/* tls_tickets: the ticket key ring and OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_
 * key_evp_cb, the EVP_MAC form of OpenSSL 3). Rotation is driven by the callback itself from the
 * monotonic clock, so an idle service needs no timer and a service that slept through several
 * periods drops every stale key at once. */
#include "login/tls_tickets.h"
#include "login/limits.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

struct ticket_key {
    uint8_t name[16];   /* sent in clear inside the ticket; picks the key */
    uint8_t aes[32];
    uint8_t hmac[32];
    int live;
};

struct tls_tickets {
    struct ticket_key keys[TLS_TICKET_KEYS];   /* [0] seals; all open */
    int64_t period_end;                        /* monotonic seconds: rotate at or after this */
    EVP_CIPHER *aes;                           /* owned: fetched once, not per ticket */
    struct tls_tickets_stats stats;
};

static int ex_index = -1;

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int key_fresh(struct ticket_key *k)
{
    if (RAND_bytes(k->name, sizeof k->name) != 1 || RAND_priv_bytes(k->aes, sizeof k->aes) != 1 ||
        RAND_priv_bytes(k->hmac, sizeof k->hmac) != 1) {
        OPENSSL_cleanse(k, sizeof *k);
        return -1;
    }
    k->live = 1;
    return 0;
}

int tls_tickets_rotate(struct tls_tickets *t)
{
    struct ticket_key k;
    if (key_fresh(&k))
        return -1;
    OPENSSL_cleanse(&t->keys[TLS_TICKET_KEYS - 1], sizeof t->keys[0]);
    memmove(&t->keys[1], &t->keys[0], (TLS_TICKET_KEYS - 1) * sizeof t->keys[0]);
    t->keys[0] = k;
    OPENSSL_cleanse(&k, sizeof k);
    t->period_end = mono_s() + TLS_TICKET_ROTATE_S;
    t->stats.rotations++;
    return 0;
}

/* Rotates as many times as periods have passed (at most the ring's length: all keys renewed). */
static void rotate_if_due(struct tls_tickets *t)
{
    int64_t now = mono_s();
    for (int i = 0; i < TLS_TICKET_KEYS && now >= t->period_end; i++)
        if (tls_tickets_rotate(t))
            break;
}

struct tls_tickets *tls_tickets_new(void)
{
    if (ex_index < 0 && (ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0)
        return NULL;
    struct tls_tickets *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (!(t->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) || key_fresh(&t->keys[0])) {
        tls_tickets_free(t);
        return NULL;
    }
    t->period_end = mono_s() + TLS_TICKET_ROTATE_S;
    return t;
}

void tls_tickets_free(struct tls_tickets *t)
{
    if (!t)
        return;
    EVP_CIPHER_free(t->aes);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}

/* OpenSSL calls this to seal (enc=1) or open (enc=0) a ticket. Returns, per SSL_CTX_set_tlsext_
 * ticket_key_evp_cb(3): 1 ok; 2 opened with an older key, issue a new ticket; 0 unknown key, do
 * a full handshake; -1 error (aborts the handshake). */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    struct tls_tickets *t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
    if (!t)
        return enc ? -1 : 0;
    rotate_if_due(t);
    const struct ticket_key *k = NULL;
    if (enc) {
        k = &t->keys[0];
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(t->aes)) != 1)
            return -1;
        memcpy(name, k->name, sizeof k->name);
        if (!EVP_EncryptInit_ex2(cctx, t->aes, k->aes, iv, NULL))
            return -1;
    } else {
        for (int i = 0; i < TLS_TICKET_KEYS && !k; i++)
            if (t->keys[i].live && !memcmp(name, t->keys[i].name, sizeof t->keys[i].name))
                k = &t->keys[i];
        if (!k) {
            t->stats.unknown_key++;
            return 0;
        }
        if (!EVP_DecryptInit_ex2(cctx, t->aes, k->aes, iv, NULL))
            return -1;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac, sizeof k->hmac),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(hctx, params))
        return -1;
    if (enc) {
        t->stats.sealed++;
        return 1;
    }
    t->stats.key_hits++;
    if (k != &t->keys[0]) {
        t->stats.renewed++;
        return 2;
    }
    return 1;
}

int tls_tickets_attach(struct tls_tickets *t, SSL_CTX *ctx)
{
    if (!SSL_CTX_set_ex_data(ctx, ex_index, t) || !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb))
        return -1;
    SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_timeout(ctx, TLS_SESSION_LIFETIME_S);
    SSL_CTX_set_num_tickets(ctx, TLS_TICKETS_PER_HANDSHAKE);
    return 0;
}

void tls_tickets_stats(const struct tls_tickets *t, struct tls_tickets_stats *out)
{
    *out = t->stats;
}
