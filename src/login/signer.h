/* signer: the service key, the only module that holds its private half. It loads the P-256 key
 * from SEALED_SIGNING_KEY (PEM) or the secret store, or makes a per-boot key, and signs result
 * payloads as compact JWS (ES256, header kid = RFC 7638 thumbprint and the public jwk). Callers
 * get only the public JWK, the kid, and signatures. */
#ifndef SEALED_SIGNER_H
#define SEALED_SIGNER_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "common/jose.h"

struct signer;

/* From a PEM private key (PKCS#8 or SEC1, P-256 only). NULL with a reason in err on failure. */
struct signer *signer_from_pem(const char *pem, size_t len, char *err, size_t errlen);
/* A fresh per-boot key. */
struct signer *signer_ephemeral(void);
void signer_free(struct signer *s);

/* 1 if the key was generated at boot (pages must say results cannot be tied to a published key). */
int signer_is_ephemeral(const struct signer *s);
const char *signer_kid(const struct signer *s);            /* borrowed */
const json_t *signer_public_jwk(const struct signer *s);   /* borrowed */
/* PEM of the public key (borrowed). */
const char *signer_public_pem(const struct signer *s);

/* Signs payload bytes; returns a malloc'd compact JWS or NULL. */
char *signer_sign(const struct signer *s, const uint8_t *payload, size_t len);
/* Signs a JWT whose header is {"alg":"ES256","kid":kid,"typ":typ} (no embedded key: an SD-JWT VC
 * issuer key is found by kid in /.well-known/jwt-vc-issuer); malloc'd compact JWS or NULL. */
char *signer_sign_typed(const struct signer *s, const char *typ, const uint8_t *payload, size_t len);
#endif
