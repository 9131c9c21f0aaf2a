/* For the unit tests of common/sd_jwt and common/oid4vci: a compact ES256 JWT signed by k over a
 * header and a payload (both consumed, whatever happens); the JWT is malloc'd, NULL on failure.
 * Test code only. */
#ifndef SEALED_TEST_JWT_SIGN_H
#define SEALED_TEST_JWT_SIGN_H
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/jose.h"

static inline char *sign_jwt(EVP_PKEY *k, json_t *hdr, json_t *payload)
{
    char *p = json_dumps(payload, JSON_COMPACT);
    char *j = jose_jws_compact_sign(k, hdr, (const uint8_t *)p, strlen(p));
    free(p);
    json_decref(hdr);
    json_decref(payload);
    return j;
}
#endif
