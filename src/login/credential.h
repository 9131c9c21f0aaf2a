/* credential: the result as an SD-JWT VC (RFC 9901 + draft-ietf-oauth-sd-jwt-vc, docs/credential.md):
 * made from a signed result (the JWS the service kept), signed by the same service key (signer.c)
 * with typ dc+sd-jwt. What a relying party must see is always disclosed (issuer, vct, PayPal
 * client and account id, the result's digest, trust statement and REPORT_DATA with the values it
 * binds); the personal data (name, e-mail, verified-account status, address) is selectively
 * disclosable. Also the issuer metadata documents. Holds no state; never sees a private key. */
#ifndef SEALED_CREDENTIAL_H
#define SEALED_CREDENTIAL_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "common/sd_jwt.h"

struct signer;

#define CREDENTIAL_VCT        SD_JWT_SEALED_VCT
#define CREDENTIAL_CONFIG_ID  "sealed_login_paypal_sd_jwt"   /* OID4VCI credential_configuration_id */
#define CREDENTIAL_DECOYS     2

/* An SD-JWT VC ("<jwt>~<disclosure>~...~", malloc'd) for the result JWS (result_len bytes, as the
 * service signed it), issued at now; bound to cnf_jwk (the wallet's public JWK, borrowed) when
 * given. NULL when the result cannot be read or out of memory. */
char *credential_from_result(const struct signer *s, const char *result, size_t result_len, const json_t *cnf_jwk,
                             uint64_t now);

/* /.well-known/jwt-vc-issuer (draft-ietf-oauth-sd-jwt-vc §5): {"issuer", "jwks": {"keys": [...]}}. */
json_t *credential_issuer_metadata(const struct signer *s, const char *iss);
/* /.well-known/openid-credential-issuer (OID4VCI 1.0 §12.2). */
json_t *credential_oid4vci_metadata(const char *iss);
/* /.well-known/oauth-authorization-server (RFC 8414; OID4VCI 1.0 §12.3): the token endpoint of
 * the pre-authorized code flow. */
json_t *credential_as_metadata(const char *iss);
#endif
