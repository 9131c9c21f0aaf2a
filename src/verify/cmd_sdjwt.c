/* cmd_sdjwt: `sealed-verify sd-jwt FILE`: checks the result as an SD-JWT VC (RFC 9901,
 * draft-ietf-oauth-sd-jwt-vc) or a presentation of it (with a key-binding JWT): every disclosure
 * against the issuer-signed digests, the issuer's ES256 signature with a key from --issuer-jwks
 * (a JWKS or the issuer's /.well-known/jwt-vc-issuer document) or from the result JWS given with
 * --result, REPORT_DATA recomputed from the always-disclosed claims, and the key binding (nonce,
 * aud, sd_hash, iat). Prints what was proven, claim by claim, and what stayed undisclosed. Reads
 * files only; the hardware evidence itself is `sealed-verify result`'s job (on the --result file). */
#include "verify/cli.h"
#include "verify/steps.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/binding.h"
#include "common/codec.h"
#include "common/jose.h"
#include "common/sd_jwt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

static const char *cstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The issuer key: from a JWKS / jwt-vc-issuer document, or the result JWS's embedded key. */
static EVP_PKEY *issuer_key(struct verify_opts *o, struct steps *st, const struct sd_jwt *sd, const char *iss,
                            const uint8_t *res, size_t res_len)
{
    char err[256];
    sd_jwt_err e;
    EVP_PKEY *key = NULL;
    if (o->issuer_jwks) {
        size_t n;
        json_error_t je;
        uint8_t *b = verify_read_file(o->issuer_jwks, VERIFY_MAX_INPUT_FILE, &n, err, sizeof err);
        json_t *doc = b ? json_loadb((const char *)b, n, JSON_REJECT_DUPLICATES, &je) : NULL;
        free(b);
        json_t *jwks = json_object_get(doc, "jwks") ? json_object_get(doc, "jwks") : doc;
        if (json_object_get(doc, "issuer"))
            steps_check(st, iss && cstr(doc, "issuer") && !strcmp(cstr(doc, "issuer"), iss), NULL, "sdjwt.issuer_metadata",
                        "the issuer metadata names issuer %s (the credential's iss is %s)",
                        cstr(doc, "issuer") ? cstr(doc, "issuer") : "(none)", iss ? iss : "(none)");
        key = doc ? sd_jwt_issuer_key(sd, jwks, &e) : NULL;
        steps_check(st, key != NULL, NULL, "sdjwt.issuer_key", "%s", key ? "issuer key found in --issuer-jwks (by kid)" :
                    doc ? "no key in --issuer-jwks has the JWT's kid" : "--issuer-jwks is not a JSON JWKS");
        json_decref(doc);
        return key;
    }
    if (res) {
        struct jose_jws rj;
        if (jose_jws_parse((const char *)res, res_len, &rj) || jose_jws_verify_embedded(&rj, NULL, &key)) {
            steps_add(st, STEP_FAIL, "sdjwt.issuer_key", "the --result file is not a result JWS signed by its own key");
        } else {
            const char *kid = cstr(sd->jwt.header, "kid"), *rkid = cstr(rj.header, "kid");
            if (!steps_check(st, kid && rkid && !strcmp(kid, rkid), NULL, "sdjwt.issuer_key",
                             "the credential's kid %s is the result's signing key %s", kid ? kid : "(none)", rkid)) {
                EVP_PKEY_free(key);
                key = NULL;
            }
        }
        jose_jws_clear(&rj);
        return key;
    }
    steps_add(st, STEP_FAIL, "sdjwt.issuer_key", "no issuer key: give --issuer-jwks (the issuer's "
              "/.well-known/jwt-vc-issuer document or a JWKS) or --result (the result JWS it was made from)");
    return NULL;
}

/* REPORT_DATA recomputed from the always-disclosed claims and the issuer's key id. */
static void check_report_data(struct steps *st, const json_t *c, const char *kid)
{
    const char *cid = cstr(c, "client_id"), *uid = cstr(c, "account_id"), *spki = cstr(c, "tls_spki_sha256");
    const char *nonce = cstr(c, "result_nonce"), *rd = cstr(c, "report_data");
    json_t *iat = json_object_get(c, "result_iat");
    uint8_t out[BINDING_REPORT_DATA_LEN];
    char hex[2 * BINDING_REPORT_DATA_LEN + 1];
    if (!cid || !uid || !spki || !nonce || !rd || !json_is_integer(iat) || !kid) {
        steps_add(st, STEP_FAIL, "sdjwt.report_data", "the credential lacks a claim REPORT_DATA binds (client_id, "
                  "account_id, tls_spki_sha256, result_iat, result_nonce, report_data)");
        return;
    }
    struct binding_input bi = {cid, strlen(cid), uid, strlen(uid), kid, spki, (uint64_t)json_integer_value(iat), nonce};
    if (binding_report_data(&bi, out)) {
        steps_add(st, STEP_FAIL, "sdjwt.report_data", "REPORT_DATA cannot be recomputed (malformed binding values)");
        return;
    }
    codec_hex_encode(out, sizeof out, hex, sizeof hex);
    steps_check(st, !strcmp(hex, rd), NULL, "sdjwt.report_data", "REPORT_DATA recomputed from client_id, account_id, "
                "the issuer key %s, tls_spki_sha256, result_iat and result_nonce %s the credential's report_data",
                kid, strcmp(hex, rd) ? "differs from" : "equals");
}

static void print_value(char *out, size_t cap, const json_t *v)
{
    char *s = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(out, cap, "%s", s ? s : json_string_value(v));
    free(s);
}

int cmd_sd_jwt(struct verify_opts *o)
{
    int rc = 2;
    char err[256];
    uint8_t *buf = NULL, *res = NULL;
    size_t len = 0, res_len = 0;
    struct sd_jwt sd;
    struct steps st;
    EVP_PKEY *key = NULL;
    memset(&sd, 0, sizeof sd);
    if (steps_init(&st))
        return 2;
    if (!o->file) {
        fprintf(stderr, "sealed-verify sd-jwt: give the credential or presentation file\n");
        goto out;
    }
    if (!(buf = verify_read_file(o->file, SD_JWT_MAX_LEN, &len, err, sizeof err)) ||
        (o->result && !(res = verify_read_file(o->result, VERIFY_MAX_INPUT_FILE, &res_len, err, sizeof err)))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    while (res_len && (res[res_len - 1] == '\n' || res[res_len - 1] == '\r' || res[res_len - 1] == ' '))
        res_len--;
    sd_jwt_err e = sd_jwt_parse((const char *)buf, len, &sd);
    if (!steps_check(&st, e == SD_JWT_OK, NULL, "sdjwt.parse", "%s", e ? sd_jwt_strerror(e) : "well-formed SD-JWT"))
        goto report;
    steps_add(&st, STEP_PASS, "sdjwt.disclosures", "%zu disclosure%s, each digest found exactly once in the signed "
              "payload (sha-256)", sd.ndisc, sd.ndisc == 1 ? "" : "s");
    const json_t *c = sd.claims;
    const char *iss = cstr(c, "iss"), *kid = cstr(sd.jwt.header, "kid");
    if ((key = issuer_key(o, &st, &sd, iss, res, res_len))) {
        const char *typ = cstr(sd.jwt.header, "typ");
        e = sd_jwt_verify_issuer(&sd, key, o->generic ? NULL : SD_JWT_VC_TYP);
        steps_check(&st, e == SD_JWT_OK, NULL, "sdjwt.signature", "%s%s%s", e ? sd_jwt_strerror(e) :
                    "the issuer's ES256 signature verifies (typ ", e ? "" : typ ? typ : "none", e ? "" : ")");
        json_t *jwk = jose_jwk_from_pkey(key);
        char tp[JOSE_THUMBPRINT_LEN + 1] = "";
        if (jwk)
            jose_jwk_thumbprint(jwk, tp);
        json_decref(jwk);
        if (o->generic)
            steps_add(&st, STEP_INFO, "sdjwt.kid", "header kid %s (the issuer key's RFC 7638 thumbprint is %s)",
                      kid ? kid : "(none)", tp);
        else
            steps_check(&st, kid && !strcmp(tp, kid), NULL, "sdjwt.kid", "header kid is the RFC 7638 thumbprint of "
                        "the issuer key (%s)", tp);
    }
    e = sd_jwt_check_time(&sd, (uint64_t)o->at);
    steps_check(&st, e == SD_JWT_OK, NULL, "sdjwt.time", "%s", e ? sd_jwt_strerror(e) : "not expired (exp/nbf)");
    if (o->generic) {
        steps_add(&st, STEP_INFO, "sdjwt.vct", "vct %s (--generic: not required to be sealed-login's)",
                  cstr(c, "vct") ? cstr(c, "vct") : "(missing)");
    } else {
        const char *vct = cstr(c, "vct");
        steps_check(&st, vct && !strcmp(vct, SD_JWT_SEALED_VCT), NULL, "sdjwt.vct", "vct is %s", vct ? vct : "(missing)");
        steps_check(&st, iss && !strncmp(iss, "https://", 8), NULL, "sdjwt.iss", "issuer %s", iss ? iss : "(missing)");
        check_report_data(&st, c, kid);
        if (o->client_id)
            steps_check(&st, cstr(c, "client_id") && !strcmp(cstr(c, "client_id"), o->client_id), NULL, "sdjwt.client_id",
                        "client_id is the expected PayPal application %s", o->client_id);
        if (res) {
            uint8_t h[32];
            char hex[65];
            EVP_Digest(res, res_len, h, NULL, EVP_sha256(), NULL);
            codec_hex_encode(h, sizeof h, hex, sizeof hex);
            const char *dg = cstr(c, "evidence_digest");
            steps_check(&st, dg && !strcmp(dg, hex), NULL, "sdjwt.evidence_digest", "evidence_digest %s the SHA-256 of "
                        "--result (check that file's hardware evidence with `sealed-verify result`)",
                        dg && !strcmp(dg, hex) ? "is" : "is not");
        } else {
            steps_add(&st, STEP_INFO, "sdjwt.evidence_digest", "evidence_digest %s names the result JWS whose hardware "
                      "evidence backs this credential: give it with --result and check it with `sealed-verify result`",
                      cstr(c, "evidence_digest") ? cstr(c, "evidence_digest") : "(missing)");
        }
}
    json_t *cnf = json_object_get(c, "cnf");
    if (sd.has_kb) {
        e = sd_jwt_verify_kb(&sd, o->aud, o->nonce, (uint64_t)o->at);
        steps_check(&st, e == SD_JWT_OK, NULL, "sdjwt.key_binding", "%s", e ? sd_jwt_strerror(e) :
                    "key-binding JWT signed by the holder's key (cnf.jwk) over this very presentation (sd_hash)");
        if (!o->nonce || !o->aud)
            steps_add(&st, o->require_kb ? STEP_FAIL : STEP_WARN, "sdjwt.kb_expected", "the key-binding JWT's %s%s%s "
                      "not compared with an expected value: give --nonce and --aud (a replayed presentation "
                      "would pass otherwise)", o->nonce ? "" : "nonce", !o->nonce && !o->aud ? " and " : "",
                      o->aud ? "" : "aud");
    } else if (o->require_kb) {
        steps_add(&st, STEP_FAIL, "sdjwt.key_binding", "%s", sd_jwt_strerror(SD_JWT_ERR_KB_MISSING));
    } else {
        steps_add(&st, STEP_INFO, "sdjwt.key_binding", cnf ? "no key-binding JWT: this is the credential as issued "
                  "(bound to a holder key), not a presentation" : "no key binding: an unbound (bearer) credential");
    }
    /* what was proven, claim by claim */
    static const char *const fixed[] = {"iss", "iat", "vct", "cnf", "paypal_env", "client_id", "account_id", "evidence_digest",
                                        "trust", "report_data", "result_iat", "result_nonce", "tls_spki_sha256",
                                        "state_epoch", "state_scope"};
    char v[VERIFY_MAX_STEP_TEXT];
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (json_object_get(c, fixed[i])) {
            print_value(v, sizeof v - 64, json_object_get(c, fixed[i]));
            steps_add(&st, STEP_INFO, "sdjwt.claim", "always disclosed, signed by the issuer: %s = %s", fixed[i], v);
        }
    for (size_t i = 0; i < sd.ndisc; i++) {
        print_value(v, sizeof v - 64, sd.disc[i].value);
        steps_add(&st, STEP_INFO, "sdjwt.disclosed", "selectively disclosed, signed by the issuer: %s = %s",
                  sd.disc[i].name ? sd.disc[i].name : "(array element)", v);
    }
    json_t *top = json_object_get(sd.payload, "_sd"), *dv;
    size_t ndg = json_array_size(top), shown = 0, di;
    json_array_foreach(top, di, dv)
        for (size_t i = 0; i < sd.ndisc; i++)
            if (json_is_string(dv) && !strcmp(json_string_value(dv), sd.disc[i].digest))
                shown++;
    steps_add(&st, STEP_INFO, "sdjwt.withheld", "%zu of the %zu top-level digests not disclosed here (withheld "
              "claims or decoys: nothing about them is shown)", ndg - shown, ndg);
    json_object_set(st.fields, "claims", (json_t *)c);
    json_object_set_new(st.fields, "key_binding", json_boolean(sd.has_kb));
report:
    if (o->json) {
        steps_print_json(&st, stdout, "sd-jwt");
    } else {
        steps_print(&st, stdout, "sealed-verify sd-jwt");
        printf("%s\n", st.failed ? "RESULT: FAIL" : sd.has_kb ? (o->generic ? "RESULT: PASS - an SD-JWT presentation, "
               "by the holder of its key" : "RESULT: PASS - a presentation of a sealed-login credential, by the holder "
               "of its key") : o->generic ? "RESULT: PASS - an SD-JWT signed by its issuer" :
               "RESULT: PASS - a sealed-login credential signed by its issuer");
    }
    rc = st.failed ? 1 : 0;
out:
    EVP_PKEY_free(key);
    sd_jwt_clear(&sd);
    free(buf);
    free(res);
    steps_free(&st);
    return rc;
}
