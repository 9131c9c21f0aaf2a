/* tls: the service's TLS server side. Holds the current SSL_CTX (TLS 1.2/1.3, ECDSA P-256 key,
 * X25519 then P-256 key exchange) and swaps in a new certificate and key atomically: connections
 * in flight keep the context they started with (SSL_CTX is reference counted), new ones get the
 * new one. Session resumption is by stateless ticket only (tls_tickets.c), with one key ring
 * shared by every context. Owns the private key only inside the SSL_CTX; never writes it. */
#ifndef SEALED_TLS_H
#define SEALED_TLS_H
#include <stddef.h>
#include <time.h>
#include <jansson.h>
#include <openssl/ssl.h>

struct tls;
struct tls_tickets;

struct tls *tls_new(void);
void tls_free(struct tls *t);

/* Generates a fresh P-256 key and a self-signed certificate for cn (and SAN DNS cn, IP 127.0.0.1
 * when cn is "localhost"), valid for days, and installs it. Returns 0 or -1 (logged). */
int tls_install_self_signed(struct tls *t, const char *cn, int days);
/* Installs key + leaf + chain (chain may be NULL; references are taken, the caller keeps its
 * own). The key must match the leaf. Returns 0 or -1 (logged); on failure the old context stays. */
int tls_install(struct tls *t, EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain);
/* Installs from PEM (key, then certificate chain leaf first). Same contract as tls_install. */
int tls_install_pem(struct tls *t, const char *key_pem, size_t key_len, const char *chain_pem, size_t chain_len);

/* A new SSL for an accepted connection, from the current context. NULL if none installed yet. */
SSL *tls_ssl_new(struct tls *t);
/* 1 once a certificate is installed. */
int tls_ready(const struct tls *t);
/* notAfter of the current certificate (0 if none), and how many installs happened. */
time_t tls_not_after(const struct tls *t);
unsigned tls_generation(const struct tls *t);
/* The ticket key ring (borrowed; for tests). */
struct tls_tickets *tls_tickets_of(struct tls *t);
/* /status hook (app_add_status): resumption counters as a new JSON object (caller owns it). */
json_t *tls_status_hook(void *tls);
/* Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo of the certificate an SSL connection
 * presents (out: 65 bytes). Returns 0 or -1. */
int tls_spki_sha256_hex_of(SSL *ssl, char out[65]);
/* Same for the current context's certificate. */
int tls_spki_sha256_hex(const struct tls *t, char out[65]);
#endif
