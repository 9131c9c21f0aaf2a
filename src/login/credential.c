/* credential: SD-JWT VC issuance from a kept result, and the issuer metadata. */
#include "login/credential.h"
#include "common/codec.h"
#include "common/dynbuf.h"
#include "common/jose.h"
#include "common/sd_jwt.h"
#include "login/signer.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#define CREDENTIAL_MAX_BYTES (64 * 1024)   /* the personal data plus the fixed claims: far below */

/* The personal data PayPal's userinfo gave, under OpenID Connect claim names where one exists. */
static json_t *personal_claims(const json_t *ui)
{
    json_t *sd = json_object(), *v;
    static const char *const plain[] = {"name", "given_name", "family_name", "address"};
    if (!sd)
        return NULL;
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        if ((v = json_object_get(ui, plain[i])) && !json_is_null(v))
            json_object_set(sd, plain[i], v);
    /* e-mail: the primary of "emails" (PayPal's shape), else the first, else a plain "email" */
    json_t *emails = json_object_get(ui, "emails"), *pick = NULL, *e;
    size_t i;
    json_array_foreach(emails, i, e)
        if (json_is_string(json_object_get(e, "value")) && (!pick || json_is_true(json_object_get(e, "primary"))))
            pick = e;
    if (pick) {
        json_object_set(sd, "email", json_object_get(pick, "value"));
        if (json_is_boolean(json_object_get(pick, "confirmed")))
            json_object_set(sd, "email_verified", json_object_get(pick, "confirmed"));
    } else if ((v = json_object_get(ui, "email")) && json_is_string(v)) {
        json_object_set(sd, "email", v);
        if (json_is_boolean(json_object_get(ui, "email_verified")))
            json_object_set(sd, "email_verified", json_object_get(ui, "email_verified"));
    }
    /* PayPal sends verified_account as a boolean or as the string "true"/"false" */
    v = json_object_get(ui, "verified_account");
    if (json_is_boolean(v))
        json_object_set(sd, "verified_account", v);
    else if (json_is_string(v) && (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false")))
        json_object_set_new(sd, "verified_account", json_boolean(!strcmp(json_string_value(v), "true")));
    return sd;
}

char *credential_from_result(const struct signer *s, const char *result, size_t result_len, const json_t *cnf_jwk,
                             uint64_t now)
{
    struct jose_jws j;
    json_t *rp = NULL, *pl = NULL, *sd = NULL;
    char *payload = NULL, *jwt = NULL, *out = NULL;
    struct dynbuf disc;
    uint8_t h[32];
    char hex[65];
    json_error_t je;
    dynbuf_init(&disc, CREDENTIAL_MAX_BYTES, 1);
    if (jose_jws_parse(result, result_len, &j))
        return NULL;
    rp = json_loadb((const char *)j.payload, j.payload_len, 0, &je);
    json_t *paypal = json_object_get(rp, "paypal");
    if (!json_is_object(paypal))
        goto done;
    EVP_Digest(result, result_len, h, NULL, EVP_sha256(), NULL);
    codec_hex_encode(h, sizeof h, hex, sizeof hex);
    pl = json_pack("{s:O?, s:I, s:s, s:O?, s:O?, s:O?, s:s, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}",
                   "iss", json_object_get(rp, "iss"), "iat", (json_int_t)now, "vct", CREDENTIAL_VCT,
                   "paypal_env", json_object_get(paypal, "env"),
                   "client_id", json_object_get(paypal, "client_id"),
                   "account_id", json_object_get(paypal, "user_id"),
                   "evidence_digest", hex,
                   "trust", json_object_get(rp, "trust"),
                   "report_data", json_object_get(rp, "report_data"),
                   "result_iat", json_object_get(rp, "iat"),
                   "result_nonce", json_object_get(rp, "nonce"),
                   "tls_spki_sha256", json_object_get(rp, "tls_spki_sha256"),
                   "state_epoch", json_object_get(rp, "state_epoch"),
                   "state_scope", json_object_get(rp, "state_scope"));
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(pl, tmp, k, v)
        if (json_is_null(v))
            json_object_del(pl, k);   /* members an older result did not have */
    if (!pl || !json_is_string(json_object_get(pl, "account_id")) || !json_is_string(json_object_get(pl, "report_data")))
        goto done;
    if (cnf_jwk && json_object_set_new(pl, "cnf", json_pack("{s:O}", "jwk", cnf_jwk)))
        goto done;
    if (!(sd = personal_claims(json_object_get(paypal, "userinfo"))) || sd_jwt_conceal(pl, sd, CREDENTIAL_DECOYS, &disc))
        goto done;
    if (!(payload = json_dumps(pl, JSON_COMPACT | JSON_SORT_KEYS)) ||
        !(jwt = signer_sign_typed(s, SD_JWT_VC_TYP, (const uint8_t *)payload, strlen(payload))))
        goto done;
    struct dynbuf o;
    dynbuf_init(&o, CREDENTIAL_MAX_BYTES, 0);
    dynbuf_addstr(&o, jwt);
    dynbuf_add(&o, "~", 1);
    dynbuf_add(&o, disc.p ? disc.p : "", disc.len);
    out = dynbuf_take(&o, NULL);
done:
    jose_jws_clear(&j);
    json_decref(rp);
    json_decref(pl);
    json_decref(sd);
    free(payload);
    free(jwt);
    dynbuf_free(&disc);
    return out;
}

json_t *credential_issuer_metadata(const struct signer *s, const char *iss)
{
    json_t *k = json_deep_copy(signer_public_jwk(s));
    if (!k || json_object_set_new(k, "kid", json_string(signer_kid(s))) ||
        json_object_set_new(k, "use", json_string("sig")) || json_object_set_new(k, "alg", json_string("ES256"))) {
        json_decref(k);
        return NULL;
    }
    return json_pack("{s:s, s:{s:[o]}}", "issuer", iss, "jwks", "keys", k);
}

json_t *credential_oid4vci_metadata(const char *iss)
{
    char ce[400], ne[400];
    snprintf(ce, sizeof ce, "%s/credential", iss);
    snprintf(ne, sizeof ne, "%s/nonce", iss);
    json_t *claims = json_array();
    static const char *const names[][2] = {
        {"account_id", "PayPal account id"}, {"client_id", "PayPal application"}, {"name", "Name"},
        {"given_name", "Given name"}, {"family_name", "Family name"}, {"email", "E-mail"},
        {"email_verified", "E-mail confirmed by PayPal"}, {"verified_account", "Verified PayPal account"},
        {"address", "Address"}, {"trust", "Hardware evidence"}, {"evidence_digest", "Result digest (SHA-256)"},
    };
    for (size_t i = 0; claims && i < sizeof names / sizeof *names; i++)
        json_array_append_new(claims, json_pack("{s:[s], s:[{s:s, s:s}]}", "path", names[i][0], "display",
                                                "name", names[i][1], "locale", "en"));
    return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}], s:{s:{s:s, s:s, s:[s], s:[s], s:{s:{s:[s]}},"
                     " s:{s:[{s:s, s:s, s:s}], s:o}}}}",
                     "credential_issuer", iss, "credential_endpoint", ce, "nonce_endpoint", ne,
                     "display", "name", "sealed-login", "locale", "en",
                     "credential_configurations_supported", CREDENTIAL_CONFIG_ID,
                     "format", "dc+sd-jwt", "vct", CREDENTIAL_VCT,
                     "cryptographic_binding_methods_supported", "jwk",
                     "credential_signing_alg_values_supported", "ES256",
                     "proof_types_supported", "jwt", "proof_signing_alg_values_supported", "ES256",
                     "credential_metadata", "display", "name", "PayPal login (sealed-login)", "locale", "en",
                     "description", "PayPal confirmed this account's login to a sealed, attested server",
                     "claims", claims ? claims : json_array());
}

json_t *credential_as_metadata(const char *iss)
{
    char te[400];
    snprintf(te, sizeof te, "%s/token", iss);
    return json_pack("{s:s, s:s, s:[s], s:b, s:[s]}", "issuer", iss, "token_endpoint", te,
                     "grant_types_supported", "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                     "pre-authorized_grant_anonymous_access_supported", 1,
                     "token_endpoint_auth_methods_supported", "none");
}
