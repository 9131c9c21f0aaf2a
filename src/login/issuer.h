/* issuer: the credential issuer's routes (docs/credential.md): the metadata documents
 * (/.well-known/jwt-vc-issuer, /.well-known/openid-credential-issuer,
 * /.well-known/oauth-authorization-server) and the OID4VCI 1.0 pre-authorized code flow
 * (POST /token, /nonce, /credential), plus the offers the result page shows. Every code, token and
 * issued credential goes through the service state (service_state_vc_*) before it is answered, so a
 * code redeems once and an account gets one wallet credential, across restarts. Parses the
 * wallet's bytes only through common/oid4vci; borrows the signer and the state; never logs codes,
 * tokens, proofs or personal data. */
#ifndef SEALED_ISSUER_H
#define SEALED_ISSUER_H
#include <stdint.h>
#include <jansson.h>
#include "login/idset.h"
#include "login/vc_offers.h"

struct issuer;
struct signer;
struct service_state;
struct http_exchange;

struct issuer *issuer_new(struct service_state *ss);   /* NULL when out of memory or no randomness */
void issuer_free(struct issuer *is);                    /* NULL is fine */

/* Answers x when its path is one of the issuer's (returns 1), else returns 0 and leaves x alone.
 * iss is "https://DOMAIN"; s the current service key. */
int issuer_route(struct issuer *is, const struct signer *s, const char *iss, struct http_exchange *x);

/* A new offer for the result result_code of the account key: fills *e (not saved yet) and returns
 * the malloc'd openid-credential-offer:// URI carrying the pre-authorized code, or NULL. */
char *issuer_offer_prepare(const char *iss, const struct idset_key *key, const char *result_code, struct vc_offer *e);
/* Saves a prepared offer once its result is committed; 0, or -1 (logged; the code will not redeem). */
int issuer_offer_commit(struct issuer *is, const struct vc_offer *e);

/* The /status section (new reference). */
json_t *issuer_status(void *is);
#endif
