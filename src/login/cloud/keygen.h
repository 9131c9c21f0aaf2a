/* keygen: RSA session keys for OCI federation made on a helper thread, so the event loop never
 * stalls for the 0.1-0.5 s an RSA-2048 key takes (the attest worker's pipe pattern: libevent needs
 * no thread support). Owns the thread and the key until it hands the key over. */
#ifndef SEALED_CLOUD_KEYGEN_H
#define SEALED_CLOUD_KEYGEN_H
#include <openssl/evp.h>

struct event_base;
struct cloud_keygen;

/* done(arg, key) runs on the loop once per cloud_keygen_start; key (owned by the callee) is NULL
 * when generation failed. NULL on allocation failure. */
struct cloud_keygen *cloud_keygen_new(struct event_base *base, int bits, void (*done)(void *arg, EVP_PKEY *key),
                                      void *arg);
/* Starts one generation. -1 when one is already running or the thread cannot start. */
int cloud_keygen_start(struct cloud_keygen *k);
/* 1 while a generation runs. */
int cloud_keygen_busy(const struct cloud_keygen *k);
/* Waits for a running generation (its key is freed, done is not called) and frees. Accepts NULL. */
void cloud_keygen_free(struct cloud_keygen *k);
#endif
