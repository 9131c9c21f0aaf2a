/* oid4vci: token request, credential request and JWT proof parsing (OID4VCI 1.0). */
#include "common/oid4vci.h"
#include "common/jose.h"
#include <stdlib.h>
#include <string.h>

const char *oid4vci_strerror(oid4vci_err e)
{
    switch (e) {
    case OID4VCI_OK: return "ok";
    case OID4VCI_ERR_NOMEM: return "out of memory";
    case OID4VCI_ERR_FORMAT: return "malformed request";
    case OID4VCI_ERR_GRANT_TYPE: return "grant_type must be the pre-authorized code grant";
    case OID4VCI_ERR_TX_CODE: return "tx_code given, but this issuer's offers need none";
    case OID4VCI_ERR_CONFIG: return "credential_configuration_id missing";
    case OID4VCI_ERR_PROOF_MISSING: return "proofs.jwt must hold exactly one JWT proof";
    case OID4VCI_ERR_PROOF_FORMAT: return "proof JWT malformed (typ openid4vci-proof+jwt, alg ES256, jwk, aud, iat, nonce)";
    case OID4VCI_ERR_PROOF_KEY: return "proof jwk is not an EC P-256 public key";
    case OID4VCI_ERR_PROOF_SIGNATURE: return "proof signature does not verify with its jwk";
    case OID4VCI_ERR_PROOF_AUD: return "proof aud is not this credential issuer";
    case OID4VCI_ERR_PROOF_NONCE: return "proof nonce is not a current one from this issuer";
    case OID4VCI_ERR_PROOF_TIME: return "proof iat too old or in the future";
    }
    return "unknown error";
}

const char *oid4vci_error_code(oid4vci_err e)
{
    switch (e) {
    case OID4VCI_ERR_GRANT_TYPE: return "unsupported_grant_type";
    case OID4VCI_ERR_TX_CODE: return "invalid_grant";
    case OID4VCI_ERR_CONFIG: return "unknown_credential_configuration";
    case OID4VCI_ERR_PROOF_NONCE: return "invalid_nonce";
    case OID4VCI_ERR_PROOF_MISSING: case OID4VCI_ERR_PROOF_FORMAT: case OID4VCI_ERR_PROOF_KEY:
    case OID4VCI_ERR_PROOF_SIGNATURE: case OID4VCI_ERR_PROOF_AUD: case OID4VCI_ERR_PROOF_TIME:
        return "invalid_proof";
    default: return "invalid_request";
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Value of name in a form body, percent-decoded into out (cap bytes incl. NUL): its length, -1 when
 * absent, -2 when malformed, too long, repeated or holding a NUL. */
static long form_value(const char *b, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    long found = -1;
    for (size_t i = 0; i <= len;) {
        const char *amp = memchr(b + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - b) : len;
        const char *eq = memchr(b + i, '=', end - i);
        if (eq && (size_t)(eq - (b + i)) == nl && !memcmp(b + i, name, nl)) {
            if (found >= 0)
                return -2;
            size_t o = 0;
            for (size_t j = (size_t)(eq - b) + 1; j < end; j++) {
                int c = (unsigned char)b[j];
                if (c == '+')
                    c = ' ';
                else if (c == '%') {
                    int h = j + 2 < end ? hexval(b[j + 1]) : -1, l = j + 2 < end ? hexval(b[j + 2]) : -1;
                    if (h < 0 || l < 0)
                        return -2;
                    c = h * 16 + l;
                    j += 2;
                }
                if (!c || o + 1 >= cap)
                    return -2;
                out[o++] = (char)c;
            }
            out[o] = 0;
            found = (long)o;
        }
        if (!amp)
            break;
        i = end + 1;
    }
    return found;
}

oid4vci_err oid4vci_token_request_parse(const char *body, size_t len, struct oid4vci_token_request *out)
{
    char grant[80], tx[8];
    memset(out, 0, sizeof *out);
    if (!body || len > OID4VCI_MAX_BODY)
        return OID4VCI_ERR_FORMAT;
    long g = form_value(body, len, "grant_type", grant, sizeof grant);
    if (g < 0)
        return g == -1 ? OID4VCI_ERR_FORMAT : OID4VCI_ERR_GRANT_TYPE;
    if (strcmp(grant, OID4VCI_GRANT_PRE_AUTH))
        return OID4VCI_ERR_GRANT_TYPE;
    if (form_value(body, len, "tx_code", tx, sizeof tx) != -1)
        return OID4VCI_ERR_TX_CODE;
    long c = form_value(body, len, "pre-authorized_code", out->code, sizeof out->code);
    return c > 0 ? OID4VCI_OK : OID4VCI_ERR_FORMAT;
}

void oid4vci_credential_request_clear(struct oid4vci_credential_request *r)
{
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

oid4vci_err oid4vci_credential_request_parse(const char *body, size_t len, struct oid4vci_credential_request *out)
{
    json_error_t je;
    memset(out, 0, sizeof *out);
    if (!body || len > OID4VCI_MAX_BODY)
        return OID4VCI_ERR_FORMAT;
    out->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(out->root)) {
        oid4vci_credential_request_clear(out);
        return OID4VCI_ERR_FORMAT;
    }
    out->config_id = json_string_value(json_object_get(out->root, "credential_configuration_id"));
    if (!out->config_id) {
        oid4vci_credential_request_clear(out);
        return OID4VCI_ERR_CONFIG;
    }
    json_t *jwts = json_object_get(json_object_get(out->root, "proofs"), "jwt");
    if (json_object_get(out->root, "proof") || json_array_size(jwts) != 1 ||
        !(out->proof_jwt = json_string_value(json_array_get(jwts, 0)))) {
        oid4vci_credential_request_clear(out);
        return OID4VCI_ERR_PROOF_MISSING;
    }
    return OID4VCI_OK;
}

static int aud_holds(const json_t *aud, const char *issuer)
{
    size_t i;
    json_t *v;
    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), issuer);
    json_array_foreach(aud, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), issuer))
            return 1;
    return 0;
}

oid4vci_err oid4vci_proof_verify(const char *jwt, size_t len, const char *issuer,
                                 int (*nonce_ok)(void *arg, const char *nonce), void *arg, uint64_t now,
                                 json_t **jwk_out)
{
    struct jose_jws j;
    json_t *claims = NULL;
    EVP_PKEY *key = NULL;
    oid4vci_err rc = OID4VCI_ERR_PROOF_FORMAT;
    json_error_t je;
    *jwk_out = NULL;
    if (len > OID4VCI_MAX_BODY || jose_jws_parse(jwt, len, &j))
        return OID4VCI_ERR_PROOF_FORMAT;
    const char *alg = json_string_value(json_object_get(j.header, "alg"));
    const char *typ = json_string_value(json_object_get(j.header, "typ"));
    json_t *jwk = json_object_get(j.header, "jwk");
    if (!alg || strcmp(alg, "ES256") || !typ || strcmp(typ, OID4VCI_PROOF_TYP) || !json_is_object(jwk) ||
        json_object_get(j.header, "crit"))
        goto done;
    claims = json_loadb((const char *)j.payload, j.payload_len, JSON_REJECT_DUPLICATES, &je);
    json_t *iat = json_object_get(claims, "iat");
    const char *pn = json_string_value(json_object_get(claims, "nonce"));
    if (!json_is_object(claims) || !json_is_integer(iat) || !json_object_get(claims, "aud"))
        goto done;
    jose_err jerr;
    if (json_object_get(jwk, "d") || !(key = jose_pkey_from_jwk(jwk, &jerr))) {
        rc = OID4VCI_ERR_PROOF_KEY;
        goto done;
    }
    if (jose_es256_verify(key, (const uint8_t *)j.signing_input, j.signing_input_len, j.sig, j.sig_len)) {
        rc = OID4VCI_ERR_PROOF_SIGNATURE;
        goto done;
    }
    if (!aud_holds(json_object_get(claims, "aud"), issuer)) {
        rc = OID4VCI_ERR_PROOF_AUD;
        goto done;
    }
    if (!pn || !nonce_ok(arg, pn)) {
        rc = OID4VCI_ERR_PROOF_NONCE;
        goto done;
    }
    json_int_t t = json_integer_value(iat);
    if (t < 0 || (uint64_t)t > now + OID4VCI_PROOF_SKEW_S || (uint64_t)t + OID4VCI_PROOF_MAX_AGE_S < now) {
        rc = OID4VCI_ERR_PROOF_TIME;
        goto done;
    }
    if (!(*jwk_out = jose_jwk_from_pkey(key))) {
        rc = OID4VCI_ERR_NOMEM;
        goto done;
    }
    rc = OID4VCI_OK;
done:
    EVP_PKEY_free(key);
    json_decref(claims);
    jose_jws_clear(&j);
    return rc;
}
