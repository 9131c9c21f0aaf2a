/* cmd_result: `sealed-verify result FILE`: a sealed-login result (evidence format v1, DESIGN.md)
 * checked step by step: the service's JWS, the payload, REPORT_DATA recomputed from it, every
 * piece of hardware evidence, and the measurement; then a plain statement of what was and was not
 * proven. Reads only the files named on the command line; never trusts a root carried in the
 * evidence, never touches the network. */
#include "verify/cli.h"
#include "verify/amd_chain.h"
#include "verify/manifest.h"
#include "verify/pcr4_policy.h"
#include "verify/tpm_check.h"
#include "verify/tdx_check.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/binding.h"
#include "common/codec.h"
#include "common/id_token.h"
#include "common/jose.h"
#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include "common/trust.h"

struct result_ctx {
    struct verify_opts *o;
    struct steps st;
    struct manifest man;
    int have_manifest;
    uint8_t expect_meas[48];
    int have_expect;
    uint8_t report_data[64];       /* recomputed from the payload */
    int have_report_data;
    char kid[JOSE_THUMBPRINT_LEN + 1];
    int jws_ok;                    /* signature, alg and kid passed */
    int attested;                  /* some hardware evidence passed every step */
    int unattested;                /* evidence type none */
    int measurement_checked;
    int test_root;
    int unrooted;                  /* a TPM quote passed with --allow-unrooted-ak: not hardware evidence */
    int bare;                      /* a payload without its JWS: no kid, second half not recomputable */
    /* per evidence item: what the checks proved (common/trust.h), for the trust statement */
    struct {
        trust_item proved;         /* TRUST_UNKNOWN until checked */
        int failed;                /* a step of this item failed: its claim is moot */
        int skipped;               /* the measurement was not compared (--skip-measurement) */
    } ev[VERIFY_MAX_EVIDENCE];
    const json_t *payload;         /* borrowed during verify_buffer */
    json_t *paypal_jwks;           /* owned: --paypal-jwks, parsed, or NULL */
    int image_proven;              /* some passing item proved which image ran */
    int firmware_only;             /* an SNP item was taken as the cloud's firmware (not compared) */
    char proven[8][VERIFY_MAX_STEP_TEXT];
    int nproven;
    char unproven[8][VERIFY_MAX_STEP_TEXT];
    int nunproven;
};

/* Summary lines carry evidence strings (user ids): formatted, then sanitised like every step. */
__attribute__((format(printf, 3, 4)))
static void summary_line(char *dst, size_t cap, const char *fmt, ...)
{
    char raw[VERIFY_MAX_STEP_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    steps_sanitize(raw, dst, cap);
}
#define PROVEN(c, ...) do { if ((c)->nproven < 8) summary_line((c)->proven[(c)->nproven++], VERIFY_MAX_STEP_TEXT, __VA_ARGS__); } while (0)
#define UNPROVEN(c, ...) do { if ((c)->nunproven < 8) summary_line((c)->unproven[(c)->nunproven++], VERIFY_MAX_STEP_TEXT, __VA_ARGS__); } while (0)

static const char *jstr(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int is_lower_hex(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return 0;
    return 1;
}

/* A pinned signer key: a file holding a JWK or a PEM public key, or an inline JWK. */
static EVP_PKEY *load_signer_key(const char *arg, char *err, size_t errlen)
{
    uint8_t *b = NULL;
    size_t len;
    EVP_PKEY *k = NULL;
    if (arg[0] == '{') {
        b = (uint8_t *)strdup(arg);
        len = strlen(arg);
    } else {
        b = verify_read_file(arg, VERIFY_MAX_INPUT_FILE, &len, err, errlen);
    }
    if (!b)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)b, len, 0, &je);
    if (json_is_object(j)) {
        jose_err e;
        k = jose_pkey_from_jwk(j, &e);
        if (!k)
            snprintf(err, errlen, "--signer-key: %s", jose_strerror(e));
    } else {
        BIO *bio = BIO_new_mem_buf(b, (int)len);
        k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!k)
            snprintf(err, errlen, "--signer-key holds neither a JWK nor a PEM public key");
    }
    json_decref(j);
    free(b);
    return k;
}

/* Step 1: the JWS. Returns the payload (new reference) or NULL. */
static json_t *check_jws(struct result_ctx *c, const char *text, size_t len, EVP_PKEY *pinned)
{
    struct steps *st = &c->st;
    struct jose_jws jws;
    EVP_PKEY *key = NULL;
    json_t *payload = NULL;
    jose_err e = jose_jws_parse(text, len, &jws);
    if (e) {
        steps_add(st, STEP_FAIL, "jws.parse", "compact JWS: %s", jose_strerror(e));
        return NULL;
    }
    steps_add(st, STEP_PASS, "jws.parse", "compact JWS parsed (%zu bytes, payload %zu bytes)", len, jws.payload_len);
    const char *alg = jstr(jws.header, "alg"), *kid = jstr(jws.header, "kid");
    json_t *jwk = json_object_get(jws.header, "jwk");
    if (!steps_check(st, alg && !strcmp(alg, "ES256"), NULL, "jws.alg", "header alg is ES256 (%s)", alg ? alg : "absent"))
        goto out;
    json_t *own_jwk = NULL;
    if (!jwk && pinned) {
        /* no embedded key: the pinned one is the only candidate (e.g. RFC 7515 A.3) */
        steps_add(st, STEP_INFO, "jws.jwk", "header has no jwk: verifying with the --signer-key key");
        if (!(own_jwk = jose_jwk_from_pkey(pinned))) {
            steps_add(st, STEP_FAIL, "jws.jwk", "--signer-key is not an EC P-256 key");
            goto out;
        }
        jwk = own_jwk;
    } else if (!json_is_object(jwk) || json_object_get(jwk, "d")) {
        steps_add(st, STEP_FAIL, "jws.jwk", "header jwk %s", json_is_object(jwk) ? "holds a private key" : "is missing");
        goto out;
    }
    key = jose_pkey_from_jwk(jwk, &e);
    if (!steps_check(st, key != NULL, NULL, "jws.jwk", "%s is an EC P-256 public key%s%s",
                     own_jwk ? "--signer-key" : "header jwk", key ? "" : ": ", key ? "" : jose_strerror(e))) {
        json_decref(own_jwk);
        goto out;
    }
    e = jose_es256_verify(key, (const uint8_t *)jws.signing_input, jws.signing_input_len, jws.sig, jws.sig_len);
    int sig_ok = steps_check(st, e == JOSE_OK, NULL, "jws.signature", "JWS signature (ES256) verifies with the %s key%s%s",
                             own_jwk ? "pinned" : "embedded", e ? ": " : "", e ? jose_strerror(e) : "");
    e = jose_jwk_thumbprint(jwk, c->kid);
    json_decref(own_jwk);
    int kid_ok = e == JOSE_OK && kid && strlen(kid) == JOSE_THUMBPRINT_LEN &&
                 CRYPTO_memcmp(kid, c->kid, JOSE_THUMBPRINT_LEN) == 0;
    steps_check(st, kid_ok, c->o->allow_kid_mismatch ? "--allow-kid-mismatch" : NULL, "jws.kid",
                "header kid %s is the RFC 7638 thumbprint of the key (%s)", kid ? kid : "(absent)", c->kid);
    if (pinned)
        steps_check(st, EVP_PKEY_eq(key, pinned) == 1, NULL, "jws.pinned_key",
                    "the signing key is the one given with --signer-key");
    else
        steps_add(st, STEP_INFO, "jws.pinned_key", "signing key not pinned: any key the service embeds is accepted "
                  "(pass --signer-key to require the service's published key)");
    c->jws_ok = sig_ok && (kid_ok || c->o->allow_kid_mismatch);
    json_error_t je;
    payload = json_loadb((const char *)jws.payload, jws.payload_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(payload)) {
        steps_add(st, STEP_FAIL, "payload.parse", "payload is not a JSON object (%s)", je.text);
        json_decref(payload);
        payload = NULL;
    }
out:
    EVP_PKEY_free(key);
    jose_jws_clear(&jws);
    return payload;
}

/* Step 2: payload fields and REPORT_DATA. Returns 1 when the binding can be recomputed. */
static int check_payload(struct result_ctx *c, const json_t *p)
{
    struct steps *st = &c->st;
    json_t *ver = json_object_get(p, "ver"), *iat = json_object_get(p, "iat"), *pp = json_object_get(p, "paypal");
    const char *iss = jstr(p, "iss"), *nonce = jstr(p, "nonce"), *spki = jstr(p, "tls_spki_sha256");
    const char *rd = jstr(p, "report_data");
    const char *env = jstr(pp, "env");
    json_t *cid = json_object_get(pp, "client_id"), *uid = json_object_get(pp, "user_id");
    json_t *ui = json_object_get(pp, "userinfo");
    steps_check(st, json_is_integer(ver) && json_integer_value(ver) == 1, NULL, "payload.ver", "evidence format version is 1");
    steps_check(st, iss && !strncmp(iss, "https://", 8) && strlen(iss) > 8, NULL, "payload.iss", "issuer %s is an https origin",
                iss ? iss : "(absent)");
    int fields_ok = json_is_integer(iat) && json_integer_value(iat) >= 0 && is_lower_hex(nonce, 32) &&
                    is_lower_hex(spki, 64) && is_lower_hex(rd, 128) && json_is_object(pp) && json_is_string(cid) &&
                    json_is_string(uid) && json_is_object(ui) && env;
    if (!steps_check(st, fields_ok, NULL, "payload.fields",
                     "payload has iat, nonce (32 hex), tls_spki_sha256 (64 hex), report_data (128 hex) and paypal{env, client_id, user_id, userinfo}"))
        return 0;
    const char *ui_uid = jstr(ui, "user_id");
    if (ui_uid)
        steps_check(st, json_string_length(uid) == strlen(ui_uid) && !memcmp(ui_uid, json_string_value(uid), strlen(ui_uid)),
                    NULL, "payload.user_id", "paypal.user_id equals the user_id in PayPal's userinfo");
    steps_add(st, STEP_INFO, "payload.paypal", "PayPal %s, client id %s, user id %s", env, json_string_value(cid),
              json_string_value(uid));
    if (strcmp(env, "live") && strcmp(env, "sandbox")) {
        steps_add(st, STEP_INFO, "payload.env", "paypal.env is %s, not live or sandbox: the user was not vouched for by PayPal", env);
        UNPROVEN(c, "that PayPal vouched for this user: paypal.env is %s (a development stand-in)", env);
    }
    json_t *claimed = json_object_get(p, "measurement");
    if (json_is_string(claimed))
        steps_add(st, STEP_INFO, "payload.measurement", "the service states its measurement is %s (informational: only "
                  "your own expected value counts)", json_string_value(claimed));
    if (c->o->client_id)
        steps_check(st, json_string_length(cid) == strlen(c->o->client_id) &&
                    !memcmp(json_string_value(cid), c->o->client_id, json_string_length(cid)), NULL,
                    "payload.client_id", "client id equals --client-id %s", c->o->client_id);
    else
        steps_add(st, STEP_INFO, "payload.client_id", "client id not pinned (pass --client-id to require yours)");
    char ts[40], now[40];
    verify_format_time((time_t)json_integer_value(iat), ts, sizeof ts);
    verify_format_time(c->o->at, now, sizeof now);
    steps_check(st, json_integer_value(iat) <= (json_int_t)c->o->at + c->o->max_skew,
                c->o->allow_future_iat ? "--allow-future-iat" : NULL, "payload.iat",
                "issued at %s, not in the future (verification time %s, tolerance %lds)", ts, now, c->o->max_skew);

    struct binding_input in = {
        .client_id = json_string_value(cid), .client_id_len = json_string_length(cid),
        .user_id = json_string_value(uid), .user_id_len = json_string_length(uid),
        .kid = c->kid, .tls_spki_sha256_hex = spki, .iat = (uint64_t)json_integer_value(iat), .nonce_hex = nonce,
    };
    uint8_t given[64];
    codec_hex_decode(rd, 128, given, sizeof given);
    const char *allow = c->o->allow_report_data_mismatch ? "--allow-report-data-mismatch" : NULL;
    if (!c->kid[0]) {
        /* a bare payload: no signer kid, so only binding_a (client id, user id) can be recomputed,
         * which is what the original specification's verifier checks */
        size_t al;
        char *a = binding_a_string(&in, &al);
        if (!a || !EVP_Digest(a, al, c->report_data, NULL, EVP_sha256(), NULL)) {
            free(a);
            steps_add(st, STEP_FAIL, "report_data.recompute", "REPORT_DATA cannot be recomputed from the payload");
            return 0;
        }
        free(a);
        memcpy(c->report_data + 32, given + 32, 32);
        c->have_report_data = 1;
        c->bare = 1;
        steps_check(st, CRYPTO_memcmp(given, c->report_data, 32) == 0, allow, "report_data.payload_a",
                    "payload report_data first half = SHA-256(\"PAYPAL_CLIENT_ID=...|PAYPAL_USER_ID=...\") recomputed");
        steps_add(st, STEP_INFO, "report_data.payload_b", "report_data second half taken from the payload as given: "
                  "it cannot be recomputed without the signer's kid (binds nothing here)");
        UNPROVEN(c, "which key, TLS key and moment the evidence was made for: no JWS, so the second half of REPORT_DATA is unchecked");
        return 1;
    }
    if (binding_report_data(&in, c->report_data)) {
        steps_add(st, STEP_FAIL, "report_data.recompute", "REPORT_DATA cannot be recomputed from the payload");
        return 0;
    }
    c->have_report_data = 1;
    steps_check(st, CRYPTO_memcmp(given, c->report_data, 32) == 0, allow, "report_data.payload_a",
                "payload report_data first half = SHA-256(\"PAYPAL_CLIENT_ID=...|PAYPAL_USER_ID=...\") recomputed");
    steps_check(st, CRYPTO_memcmp(given + 32, c->report_data + 32, 32) == 0, allow, "report_data.payload_b",
                "payload report_data second half = SHA-256(\"SEALED_LOGIN_V1|SIGNER_JWK_THUMBPRINT=<kid>|TLS_SPKI_SHA256=...|IAT=...|NONCE=...\") recomputed");
    return 1;
}

/* PayPal's own statement: the id_token the service kept (RS256 only), its claims bound to this
 * result (aud = client id, subject = user id, nonce derived from the result's nonce, issued around
 * the result's iat), and its signature against PayPal's JWKS when one was given. */
static void check_id_token(struct result_ctx *c, const json_t *p)
{
    struct steps *st = &c->st;
    const json_t *pp = json_object_get(p, "paypal");
    json_t *it = json_object_get(pp, "id_token");
    const char *env = jstr(pp, "env"), *cid = jstr(pp, "client_id"), *nonce = jstr(p, "nonce");
    json_t *uid = json_object_get(pp, "user_id");
    struct id_token t;
    if (!it) {
        steps_add(st, STEP_INFO, "paypal.id_token", "the result carries no PayPal id_token: PayPal's own signature "
                  "is not part of it (a result made before issue 14, or PayPal signed with HS256, which only the "
                  "app can check)");
        UNPROVEN(c, "that PayPal itself signed this login: the result carries no id_token");
        return;
    }
    if (!steps_check(st, json_is_string(it), NULL, "paypal.id_token", "paypal.id_token is a string"))
        return;
    id_token_err e = id_token_parse(json_string_value(it), json_string_length(it), &t);
    if (!steps_check(st, e == ID_TOKEN_OK, NULL, "paypal.id_token", "paypal.id_token is a JWT signed with RS256 or "
                     "HS256%s%s", e ? ": " : "", e ? id_token_strerror(e) : ""))
        return;
    if (!steps_check(st, !strcmp(t.alg, "RS256"), NULL, "paypal.id_token.alg",
                     "the id_token is RS256 (an HS256 token is keyed with the app's secret: no third party can check "
                     "it, and the service never puts one in a result) (%s)", t.alg))
        goto out;
    /* the issuer PayPal uses for this environment; the development stand-in names its own */
    const char *iss = env && !strcmp(env, "live") ? PAYPAL_ISSUER_LIVE
                    : env && !strcmp(env, "sandbox") ? PAYPAL_ISSUER_SANDBOX : jstr(t.claims, "iss");
    char oidc[BINDING_OIDC_NONCE_LEN + 1] = "";
    json_t *iat = json_object_get(p, "iat");
    struct id_token_expect x = {
        .iss = iss, .client_id = cid, .nonce = binding_oidc_nonce(nonce, oidc) ? NULL : oidc,
        .subject = json_string_value(uid), .subject_len = json_string_length(uid),
        .at = (time_t)json_integer_value(iat),
    };
    e = id_token_check_claims(&t, &x);
    steps_check(st, e == ID_TOKEN_OK, NULL, "paypal.id_token.claims", "the id_token is about this result: issuer %s, "
                "audience the client id, subject the user id, nonce derived from the result's nonce, valid at the "
                "result's iat%s%s", iss ? iss : "(none)", e ? ": " : "", e ? id_token_strerror(e) : "");
    if (env && strcmp(env, "live") && strcmp(env, "sandbox"))
        steps_add(st, STEP_INFO, "paypal.id_token.iss", "paypal.env is %s: the issuer %s is whatever the development "
                  "stand-in calls itself", env, iss ? iss : "(none)");
    long long when = 0;
    json_t *ti = json_object_get(t.claims, "iat");
    if (json_is_integer(ti))
        when = (long long)json_integer_value(ti);
    char ts[40];
    verify_format_time((time_t)when, ts, sizeof ts);
    if (!c->paypal_jwks) {
        steps_add(st, STEP_INFO, "paypal.id_token.signature", "the id_token was NOT checked against PayPal's keys: "
                  "give --paypal-jwks FILE (PayPal's JWKS, %s)", env && !strcmp(env, "sandbox") ? PAYPAL_JWKS_SANDBOX
                                                                                                   : PAYPAL_JWKS_LIVE);
        UNPROVEN(c, "that PayPal itself signed this login: the id_token was not checked (no --paypal-jwks)");
        goto out;
    }
    id_token_err se = id_token_verify_jwks(&t, c->paypal_jwks);
    if (steps_check(st, se == ID_TOKEN_OK && e == ID_TOKEN_OK, NULL, "paypal.id_token.signature",
                    se ? "the id_token's signature against --paypal-jwks: %s" : e ? "the id_token's signature verifies "
                    "with --paypal-jwks, but its claims do not match this result (%s)" : "PayPal signed that account %s "
                    "logged in to app %s at %s",
                    se ? id_token_strerror(se) : e ? id_token_strerror(e) : json_string_value(uid), cid, ts))
        PROVEN(c, "PayPal (%s) signed that account %s logged in to app %s at %s, for this very result (the nonce)",
               iss, json_string_value(uid), cid, ts);
out:
    id_token_clear(&t);
}

/* The item the payload's trust statement claims for evidence[idx]; TRUST_UNKNOWN when there is no
 * (well-formed) statement. */
static trust_item claimed_item(const struct result_ctx *c, size_t idx)
{
    const char *t = jstr(c->payload, "trust");
    trust_item items[TRUST_MAX_ITEMS];
    int n = t ? trust_split(t, strlen(t), items, TRUST_MAX_ITEMS) : -1;
    return n > 0 && idx < (size_t)n ? items[idx] : TRUST_UNKNOWN;
}

/* Compares an SNP launch digest with the expected one; 1 when it matched, 0 when it did not or
 * was not compared (*skipped set when nothing was given to compare with). */
static int check_measurement_snp(struct result_ctx *c, const uint8_t m[48], int *skipped)
{
    *skipped = 0;
    char hex[97];
    codec_hex_encode(m, 48, hex, sizeof hex);
    if (c->have_expect) {
        c->measurement_checked = 1;
        return steps_check(&c->st, CRYPTO_memcmp(m, c->expect_meas, 48) == 0, NULL, "measurement",
                           "launch measurement %s equals --expect-measurement", hex);
    } else if (c->have_manifest) {
        c->measurement_checked = 1;
        const char *where = NULL;
        for (size_t i = 0; i < c->man.nsnp && !where; i++)
            if (!CRYPTO_memcmp(m, c->man.snp[i].value, 48))
                where = c->man.snp[i].path;
        if (where)
            steps_add(&c->st, STEP_PASS, "measurement", "launch measurement %s equals the manifest's %s", hex, where);
        else
            steps_add(&c->st, STEP_FAIL, "measurement", "launch measurement %s is none of the %zu SNP measurements in the manifest",
                      hex, c->man.nsnp);
        for (size_t i = 0; !where && i < c->man.nnull; i++)
            steps_add(&c->st, STEP_INFO, "measurement.none", "manifest target %s has no SNP measurement: %s",
                      c->man.nulls[i].path, c->man.nulls[i].reason);
        return where != NULL;
    } else {
        *skipped = 1;
        steps_check(&c->st, 0, c->o->skip_measurement ? "--skip-measurement" : NULL, "measurement",
                    "launch measurement %s not compared: give --expect-measurement or --manifest", hex);
        return 0;
    }
    return 0;
}

static X509 *pem_member(const json_t *ev, const char *k)
{
    const char *s = jstr(ev, k);
    X509 *x = NULL;
    if (s && amd_chain_load_certs((const uint8_t *)s, strlen(s), &x, 1) == 1)
        return x;
    return NULL;
}

static uint8_t *b64_member(const json_t *ev, const char *k, size_t *len)
{
    const char *s = jstr(ev, k);
    return s ? codec_b64_decode_alloc(s, strlen(s), len) : NULL;
}

static void check_snp(struct result_ctx *c, const json_t *ev, size_t idx)
{
    struct steps *st = &c->st;
    size_t rl = 0;
    uint8_t *rep = b64_member(ev, "report", &rl);
    X509 *vek = pem_member(ev, "vcek"), *sup[2] = {pem_member(ev, "ask"), pem_member(ev, "ark")};
    X509 *extra[VERIFY_MAX_CHAIN_CERTS] = {0};
    int is_vlek = 0, nextra = 0;
    char err[256];
    if (!vek) {
        vek = pem_member(ev, "vlek");
        is_vlek = vek != NULL;
    }
    if (!vek && (c->o->vcek || c->o->vlek)) {
        /* the evidence came without its VCEK/VLEK: one the user fetched from AMD's KDS */
        X509 *one[1] = {NULL};
        const char *f = c->o->vcek ? c->o->vcek : c->o->vlek;
        if (cli_load_certs_file(f, one, 1, err, sizeof err) == 1) {
            vek = one[0];
            is_vlek = c->o->vlek != NULL;
            steps_add(st, STEP_INFO, "snp.vek.source", "evidence[%zu] carries no VCEK/VLEK: using %s from the command line", idx, f);
        } else {
            steps_add(st, STEP_FAIL, "snp.vek.source", "%s", err);
        }
    }
    if (c->o->chain) {
        nextra = cli_load_certs_file(c->o->chain, extra, VERIFY_MAX_CHAIN_CERTS, err, sizeof err);
        if (nextra < 0) {
            steps_add(st, STEP_FAIL, "snp.chain.source", "--chain: %s", err);
            nextra = 0;
        }
    }
    if (!vek && rep) {
        /* no VCEK in the evidence or on the command line: the one `sealed-verify fetch` cached, with
         * the cached chain (checked like any other) */
        char cpath[1024];
        if ((vek = cli_cached_vek(c->o, rep, rl, cpath, sizeof cpath))) {
            steps_add(st, STEP_INFO, "snp.vek.source", "evidence[%zu] carries no VCEK: using the cached %s", idx, cpath);
            nextra += cli_cached_chain(c->o, rep, rl, extra + nextra, VERIFY_MAX_CHAIN_CERTS - nextra);
        }
    }
    int nsup = 0;
    X509 *sv[2 + VERIFY_MAX_CHAIN_CERTS];
    for (int i = 0; i < 2; i++)
        if (sup[i])
            sv[nsup++] = sup[i];
    for (int i = 0; i < nextra; i++)
        sv[nsup++] = extra[i];
    if (!rep) {
        steps_add(st, STEP_FAIL, "snp.report", "evidence[%zu] sev-snp: report is missing or not base64", idx);
        goto out;
    }
    if (rl == SNP_REPORT_SIZE && c->have_report_data) {
        const uint8_t *rd = rep + 0x50;
        const char *allow = c->o->allow_report_data_mismatch ? "--allow-report-data-mismatch" : NULL;
        steps_check(st, CRYPTO_memcmp(rd, c->report_data, 32) == 0, allow, "snp.report_data_a",
                    "SNP REPORT_DATA first half equals SHA-256(binding_a) recomputed from the payload (client id, user id)");
        steps_check(st, CRYPTO_memcmp(rd + 32, c->report_data + 32, 32) == 0, allow, "snp.report_data_b",
                    c->bare ? "SNP REPORT_DATA second half equals the payload's (not recomputable without a JWS)" :
                    "SNP REPORT_DATA second half equals SHA-256(binding_b) recomputed (signer kid, TLS key, iat, nonce)");
    }
    char key[16];
    snprintf(key, sizeof key, "snp%zu", idx);
    struct snp_report r;
    int parsed = 0, before = st->failed;
    snp_check_run(&c->o->snp, rep, rl, vek, sv, nsup, st, key, &r, &parsed);
    trust_item claim = claimed_item(c, idx);
    int matched = 0, skipped = 0;
    if (parsed && (claim == TRUST_GCE_SNP_FIRMWARE || claim == TRUST_SNP_FIRMWARE)) {
        /* the report measures the cloud's firmware, not our image: nothing in the manifest to match */
        char m[97];
        codec_hex_encode(r.measurement, 48, m, sizeof m);
        steps_add(st, STEP_INFO, "measurement.firmware", "evidence[%zu]: launch measurement %s is the cloud's "
                  "firmware (the result says %s): not compared, no launch endorsement for it was given; which "
                  "image ran can only be proven by other evidence (a rooted vTPM quote)", idx, m,
                  trust_item_name(claim));
        c->ev[idx].proved = claim;
        c->firmware_only = 1;
    } else if (parsed) {
        matched = check_measurement_snp(c, r.measurement, &skipped);
        c->ev[idx].proved = matched ? TRUST_SNP_MEASURED_DIRECT_BOOT : TRUST_SNP_FIRMWARE;
        c->ev[idx].skipped = skipped;
    }
    if (st->failed == before) {
        c->image_proven |= matched;
        c->attested = 1;
        char m[97];
        codec_hex_encode(r.measurement, 48, m, sizeof m);
        PROVEN(c, "an AMD SEV-SNP %s%s signed a report binding this result to a VM with launch measurement %.16s...",
               is_vlek ? "(VLEK, cloud-provider key) " : "", c->o->snp.ntrust_roots ? "(TEST ROOT)" : "processor", m);
        if (c->o->snp.ntrust_roots)
            c->test_root = 1;
    }
out:
    free(rep);
    X509_free(vek);
    X509_free(sup[0]);
    X509_free(sup[1]);
    for (int i = 0; i < nextra; i++)
        X509_free(extra[i]);
}

static void check_tdx(struct result_ctx *c, const json_t *ev, size_t idx)
{
    struct steps *st = &c->st;
    size_t ql = 0, ll = 0;
    uint8_t *quote = b64_member(ev, "quote", &ql);
    uint8_t *log = json_is_string(json_object_get(ev, "ccel_log")) ? b64_member(ev, "ccel_log", &ll) : NULL;
    if (!quote) {
        steps_add(st, STEP_FAIL, "tdx.evidence", "evidence[%zu] tdx: quote is missing or not base64", idx);
        goto out;
    }
    if (json_is_string(json_object_get(ev, "ccel_log")) && !log) {
        steps_add(st, STEP_FAIL, "tdx.evidence", "evidence[%zu] tdx: ccel_log is not base64", idx);
        goto out;
    }
    struct tdx_check_in in = {
        .quote = quote, .quote_len = ql, .ccel = log, .ccel_len = ll, .trust_roots = c->o->snp.trust_roots,
        .ntrust_roots = c->o->snp.ntrust_roots, .trust_root_file = c->o->trust_root, .at = c->o->at,
        .allow_debug = c->o->snp.allow_debug,
    };
    struct tdx_quote q;
    int parsed = 0, before = st->failed;
    char key[16];
    snprintf(key, sizeof key, "tdx%zu", idx);
    if (c->have_report_data && ql > 48) {
        struct tdx_quote pre;
        if (tdx_quote_parse(quote, ql, &pre) == TDX_QUOTE_OK) {
            const char *allow = c->o->allow_report_data_mismatch ? "--allow-report-data-mismatch" : NULL;
            steps_check(st, CRYPTO_memcmp(pre.report_data, c->report_data, 32) == 0, allow, "tdx.report_data_a",
                        "TDX REPORTDATA first half equals SHA-256(binding_a) recomputed from the payload (client id, user id)");
            steps_check(st, CRYPTO_memcmp(pre.report_data + 32, c->report_data + 32, 32) == 0, allow, "tdx.report_data_b",
                        c->bare ? "TDX REPORTDATA second half equals the payload's (not recomputable without a JWS)" :
                        "TDX REPORTDATA second half equals SHA-256(binding_b) recomputed (signer kid, TLS key, iat, nonce)");
        }
    }
    tdx_check_run(&in, st, key, &q, &parsed);
    int test_root = 0;
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].id, "tdx.root") && st->v[i].status == STEP_WARN)
            test_root = 1;
    if (parsed) {
        char hex[97];
        codec_hex_encode(q.mrtd, 48, hex, sizeof hex);
        if (c->have_expect) {
            c->measurement_checked = 1;
            steps_check(st, CRYPTO_memcmp(q.mrtd, c->expect_meas, 48) == 0, NULL, "measurement",
                        "MRTD %s equals --expect-measurement", hex);
        } else if (c->have_manifest && c->man.ntdx) {
            c->measurement_checked = 1;
            const char *where = NULL;
            for (size_t i = 0; i < c->man.ntdx && !where; i++)
                if (!CRYPTO_memcmp(q.mrtd, c->man.tdx[i].value, 48))
                    where = c->man.tdx[i].path;
            if (where)
                steps_add(st, STEP_PASS, "measurement", "MRTD %s equals the manifest's %s", hex, where);
            else
                steps_add(st, STEP_FAIL, "measurement", "MRTD %s is none of the %zu MRTDs in the manifest", hex, c->man.ntdx);
        } else {
            c->ev[idx].skipped = 1;
            steps_check(st, 0, c->o->skip_measurement ? "--skip-measurement" : NULL, "measurement",
                        "MRTD %s not compared: give --expect-measurement or a --manifest with an \"mrtd\"", hex);
        }
    }
    c->ev[idx].proved = TRUST_TDX_RTMR;
    if (st->failed == before) {
        c->image_proven |= c->measurement_checked && !c->o->skip_measurement;
        c->attested = 1;
        PROVEN(c, "an Intel TDX %s quoting enclave signed a quote binding this result to a TD", test_root ? "(TEST ROOT)" : "");
        UNPROVEN(c, "that the TDX module and quoting enclave are up to date: Intel's TCB collateral was not checked");
        if (test_root)
            c->test_root = 1;
    }
out:
    free(quote);
    free(log);
}

/* 1 when every expected value in want ({"bank":{"idx":"hex"}}) other than skip_idx (NULL: none)
 * equals the quoted one; *n counts the values compared. */
static int pcrs_equal(const json_t *want, const json_t *pcrs, const char *skip_idx, int *n)
{
    const char *bank, *idx;
    json_t *bv, *iv;
    int all = 1;
    *n = 0;
    json_object_foreach((json_t *)want, bank, bv) {
        json_object_foreach(bv, idx, iv) {
            if (skip_idx && !strcmp(bank, "sha256") && !strcmp(idx, skip_idx))
                continue;
            json_t *have = json_object_get(json_object_get(pcrs, bank), idx);
            (*n)++;
            if (!json_is_string(iv) || !json_is_string(have) || strcmp(json_string_value(iv), json_string_value(have)))
                all = 0;
        }
    }
    return all;
}

/* The manifest target's "efi_applications" Authenticode digests into apps; their number, or -1
 * when the target has none or one is malformed. */
static int manifest_apps(const json_t *target, uint8_t (*apps)[32], size_t cap)
{
    const json_t *list = json_object_get(target, "efi_applications");
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *hex = jstr(json_array_get(list, i), "authenticode_sha256");
        if (!hex || strlen(hex) != 64 || codec_hex_decode(hex, 64, apps[i], 32) != 32)
            return -1;
    }
    return (int)n;
}

/* Quoted PCRs against the manifest's expected sets: an exact match of every value, or, for a set
 * with expected EFI applications and a quote with an event log, PCR 4 by the log (pcr4_policy:
 * exactly those applications, after any number of failed boot attempts) and the rest exactly. */
/* Compares the quoted PCRs with the manifest's; 1 when they matched, 0 otherwise (*skipped when
 * there was nothing to compare with). */
static int check_tpm_measurement(struct result_ctx *c, const json_t *pcrs, const uint8_t *log, size_t loglen,
                                 int *skipped)
{
    *skipped = 0;
    if (!c->have_manifest || c->man.npcrs == 0) {
        steps_check(&c->st, 0, c->o->skip_measurement ? "--skip-measurement" : NULL, "measurement.tpm",
                    "quoted PCRs not compared with expected values: give --manifest with expected PCRs");
        *skipped = 1;
        return 0;
    }
    c->measurement_checked = 1;
    int n;
    for (size_t i = 0; i < c->man.npcrs; i++) {
        if (pcrs_equal(c->man.pcrs[i].pcrs, pcrs, NULL, &n) && n) {
            steps_add(&c->st, STEP_PASS, "measurement.tpm", "quoted PCRs equal the %d expected values in the manifest's %s",
                      n, c->man.pcrs[i].path);
            return 1;
        }
    }
    char why[sizeof ((struct pcr4_policy_result *)0)->why] = "";
    for (size_t i = 0; log && i < c->man.npcrs; i++) {
        uint8_t apps[PCR4_POLICY_MAX_APPS][32], quoted4[32];
        int napps = manifest_apps(c->man.pcrs[i].target, apps, PCR4_POLICY_MAX_APPS);
        const char *q4 = jstr(json_object_get(pcrs, "sha256"), "4");
        if (napps < 0 || !q4 || strlen(q4) != 64 || codec_hex_decode(q4, 64, quoted4, 32) != 32)
            continue;
        if (!json_object_get(json_object_get(c->man.pcrs[i].pcrs, "sha256"), "4") ||
            !pcrs_equal(c->man.pcrs[i].pcrs, pcrs, "4", &n))
            continue;
        struct pcr4_policy_result r;
        if (pcr4_policy_check(log, loglen, quoted4, (const uint8_t (*)[32])apps, (size_t)napps, &r) == 0) {
            steps_add(&c->st, STEP_PASS, "measurement.tpm",
                      "quoted PCR 4 records exactly the %d EFI applications of the manifest's %s (after %u failed boot "
                      "attempt%s, by the event log), and the other %d expected values are equal",
                      napps, c->man.pcrs[i].path, r.failed_attempts, r.failed_attempts == 1 ? "" : "s", n);
            return 1;
        }
        snprintf(why, sizeof why, "%s", r.why);
    }
    steps_add(&c->st, STEP_FAIL, "measurement.tpm", "quoted PCRs match none of the %zu expected PCR sets in the manifest%s%s",
              c->man.npcrs, *why ? ": " : "", why);
    return 0;
}

static void check_tpm(struct result_ctx *c, const json_t *ev, size_t idx)
{
    size_t ql = 0, sl = 0, ll = 0;
    uint8_t *quote = b64_member(ev, "quote", &ql), *sig = b64_member(ev, "signature", &sl);
    uint8_t *log = json_is_string(json_object_get(ev, "event_log")) ? b64_member(ev, "event_log", &ll) : NULL;
    X509 *akcert = pem_member(ev, "ak_cert");
    EVP_PKEY *ak = NULL;
    X509 *ca[VERIFY_MAX_CHAIN_CERTS] = {0}, *chain[VERIFY_MAX_CHAIN_CERTS] = {0};
    int nca = 0, nchain = 0;
    const char *akpem = jstr(ev, "ak_pub");
    if (akpem) {
        BIO *b = BIO_new_mem_buf(akpem, -1);
        ak = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
    }
    if (!quote || !sig) {
        steps_add(&c->st, STEP_FAIL, "tpm.evidence", "evidence[%zu] tpm2: quote or signature missing or not base64", idx);
        goto out;
    }
    if (json_is_string(json_object_get(ev, "event_log")) && !log) {
        steps_add(&c->st, STEP_FAIL, "tpm.evidence", "evidence[%zu] tpm2: event_log is not base64", idx);
        goto out;
    }
    const json_t *jchain = json_object_get(ev, "ak_chain");
    if (jchain && !json_is_null(jchain)) {
        size_t i;
        const json_t *v;
        int bad = !json_is_array(jchain) || json_array_size(jchain) > VERIFY_MAX_CHAIN_CERTS;
        json_array_foreach(jchain, i, v) {
            if (bad)
                break;
            const char *pem = json_string_value(v);
            if (!pem || amd_chain_load_certs((const uint8_t *)pem, strlen(pem), &chain[nchain], 1) != 1)
                bad = 1;
            else
                nchain++;
        }
        if (bad) {
            steps_add(&c->st, STEP_FAIL, "tpm.evidence", "evidence[%zu] tpm2: ak_chain must be null or an array of at "
                      "most %u PEM certificates", idx, VERIFY_MAX_CHAIN_CERTS);
            goto out;
        }
    }
    if (c->o->ak_ca) {
        char err[256];
        nca = cli_load_certs_file(c->o->ak_ca, ca, VERIFY_MAX_CHAIN_CERTS, err, sizeof err);
        if (nca < 0) {
            steps_add(&c->st, STEP_FAIL, "tpm.ak_cert.chain", "--tpm-ca: %s", err);
            nca = 0;
        }
    }
    uint8_t extra[32];
    EVP_Digest(c->report_data, 64, extra, NULL, EVP_sha256(), NULL);
    const json_t *pcrs = json_object_get(ev, "pcrs");
    struct tpm_check_in in = {
        .quote = quote, .quote_len = ql, .sig = sig, .sig_len = sl, .ak = ak, .ak_cert = akcert, .ca = ca, .nca = nca,
        .ak_chain = chain, .nak_chain = nchain, .allow_unrooted = c->o->allow_unrooted_ak, .allow_option_roms = c->o->allow_option_roms,
        .pcrs = json_is_object(pcrs) ? pcrs : NULL, .eventlog = log, .eventlog_len = ll,
        .expected_extra = c->have_report_data ? extra : NULL, .expected_extra_len = 32,
        .expected_extra_what = "SHA-256(REPORT_DATA recomputed from the payload)", .at = c->o->at,
    };
    char key[16];
    snprintf(key, sizeof key, "tpm%zu", idx);
    int before = c->st.failed;
    struct tpm_ak_root_result root;
    tpm_check_run(&in, &c->st, key, &root);
    int matched = 0, skipped = 1;
    if (in.pcrs)
        matched = check_tpm_measurement(c, in.pcrs, log, ll, &skipped);
    c->ev[idx].proved = root.kind == TPM_AK_ROOT_NONE ? TRUST_VTPM_UNROOTED : TRUST_GCE_VTPM_GOOGLE_ROOTED;
    c->ev[idx].skipped = skipped;
    if (c->st.failed == before) {
        c->image_proven |= matched && root.kind != TPM_AK_ROOT_NONE;
        if (root.kind == TPM_AK_ROOT_VENDOR) {
            c->attested = 1;
            PROVEN(c, "a TPM whose attestation key %s certified signed these PCR values over SHA-256(REPORT_DATA) "
                   "of this result", root.root);
        } else if (root.kind == TPM_AK_ROOT_TEST) {
            c->attested = 1;
            c->test_root = 1;
            PROVEN(c, "a TPM attestation key certified by the TEST root CN=%s signed these PCR values over "
                   "SHA-256(REPORT_DATA) of this result", root.root);
        } else {
            c->unrooted = 1;
            PROVEN(c, "the holder of TPM attestation key in evidence[%zu] signed these PCR values over "
                   "SHA-256(REPORT_DATA) of this result", idx);
            UNPROVEN(c, "that a real TPM made the quote in evidence[%zu]: its attestation key is not rooted in a "
                     "vendor CA (accepted only because of --allow-unrooted-ak); whoever holds that key, for example "
                     "the operator, could have made it", idx);
        }
    }
out:
    free(quote);
    free(sig);
    free(log);
    X509_free(akcert);
    EVP_PKEY_free(ak);
    for (int i = 0; i < nca; i++)
        X509_free(ca[i]);
    for (int i = 0; i < nchain; i++)
        X509_free(chain[i]);
}

static void check_evidence(struct result_ctx *c, const json_t *p)
{
    json_t *ev = json_object_get(p, "evidence");
    size_t n = json_array_size(ev);
    if (!json_is_array(ev) || n == 0 || n > VERIFY_MAX_EVIDENCE) {
        steps_add(&c->st, STEP_FAIL, "evidence", "evidence must be an array of 1 to %u items", VERIFY_MAX_EVIDENCE);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(ev, i);
        const char *type = jstr(e, "type");
        int before = c->st.failed;
        c->ev[i].proved = TRUST_UNKNOWN;
        steps_add(&c->st, STEP_INFO, "evidence.type", "evidence[%zu]: type %s", i, type ? type : "(absent)");
        if (!type) {
            steps_add(&c->st, STEP_FAIL, "evidence.type", "evidence[%zu] has no type", i);
        } else if (!strcmp(type, "none")) {
            const char *reason = jstr(e, "reason");
            steps_check(&c->st, n == 1, NULL, "evidence.none_alone", "evidence type none stands alone in the array");
            steps_check(&c->st, 0, c->o->allow_unattested ? "--allow-unattested" : NULL, "evidence.none",
                        "evidence type none: this result is signed but not hardware-attested (the service says: %s)",
                        reason ? reason : "no reason given");
            c->unattested = 1;
            c->ev[i].proved = TRUST_NONE;
        } else if (!strcmp(type, "sev-snp")) {
            check_snp(c, e, i);
        } else if (!strcmp(type, "tpm2")) {
            check_tpm(c, e, i);
        } else if (!strcmp(type, "tdx")) {
            check_tdx(c, e, i);
        } else {
            steps_add(&c->st, STEP_FAIL, "evidence.unsupported", "evidence[%zu] type %s cannot be checked by this verifier", i, type);
        }
        c->ev[i].failed = c->st.failed != before;
    }
}

/* rank of an item: what it proves (rooted in a vendor key: 1; proves the image: +2) */
static int trust_rank(trust_item t)
{
    return trust_item_is_rooted(t) + 2 * trust_item_proves_image(t);
}

/* the kind of evidence an item is about: claims are compared within one kind only */
static int trust_family(trust_item t)
{
    switch (t) {
    case TRUST_SNP_MEASURED_DIRECT_BOOT: case TRUST_GCE_SNP_FIRMWARE: case TRUST_SNP_FIRMWARE: return 1;
    case TRUST_GCE_VTPM_GOOGLE_ROOTED: case TRUST_OCI_VTPM_UNROOTED: case TRUST_VTPM_UNROOTED: return 2;
    case TRUST_TDX_RTMR: return 3;
    case TRUST_NONE: return 4;
    default: return 0;
    }
}

/* The payload's trust statement against what the evidence checks proved: a result may claim less
 * than it proves, never more. */
static void check_trust(struct result_ctx *c, const json_t *p)
{
    /* A firmware-only SNP report is compared with nothing: without another item that proves the
     * image (a rooted vTPM quote matching the manifest), a genuine report of any VM would pass. */
    if (c->firmware_only && !c->image_proven)
        steps_check(&c->st, 0, c->o->skip_measurement ? "--skip-measurement" : NULL, "measurement.image",
                    "the SNP report measures only the cloud's firmware, and no other evidence that passed proves "
                    "which image ran");
    const json_t *ev = json_object_get(p, "evidence");
    size_t n = json_array_size(ev);
    if (n == 0 || n > TRUST_MAX_ITEMS)
        return;   /* the evidence step failed already */
    trust_item proved[TRUST_MAX_ITEMS];
    int any_failed = 0;
    for (size_t i = 0; i < n; i++) {
        proved[i] = c->ev[i].proved;
        any_failed |= c->ev[i].failed || proved[i] == TRUST_UNKNOWN;
    }
    char got[TRUST_MAX_LEN + 1] = "";
    if (!any_failed && trust_join(proved, n, got, sizeof got) == 0)
        json_object_set_new(c->st.fields, "trust_proved", json_string(got));
    const json_t *jt = json_object_get(p, "trust");
    if (!jt) {
        steps_add(&c->st, STEP_INFO, "trust.statement", "the result states no trust statement (results made before "
                  "2026-12 have none)%s%s", *got ? "; the evidence checked is: " : "", got);
        return;
    }
    const char *claim = json_string_value(jt);
    trust_item items[TRUST_MAX_ITEMS];
    int k = claim ? trust_split(claim, strlen(claim), items, TRUST_MAX_ITEMS) : -1;
    if (k != (int)n) {
        steps_add(&c->st, STEP_FAIL, "trust.statement", "the trust statement %s%s%s does not name one known item per "
                  "evidence item (%zu)", claim ? "\"" : "", claim ? claim : "(not a string)", claim ? "\"" : "", n);
        return;
    }
    int ok = 1, warned = 0;
    for (size_t i = 0; i < n; i++) {
        if (c->ev[i].failed || proved[i] == TRUST_UNKNOWN)
            continue;   /* that item failed on its own: its claim is moot */
        if (items[i] == TRUST_UNKNOWN || trust_family(items[i]) != trust_family(proved[i])) {
            steps_add(&c->st, STEP_FAIL, "trust.statement", "evidence[%zu]: the result says %s, but the evidence is of "
                      "another kind (%s)", i, trust_item_name(items[i]), trust_item_name(proved[i]));
            ok = 0;
        } else if (trust_rank(items[i]) > trust_rank(proved[i])) {
            int only_image = trust_item_is_rooted(items[i]) <= trust_item_is_rooted(proved[i]);
            if (only_image && c->ev[i].skipped && c->o->skip_measurement) {
                steps_add(&c->st, STEP_WARN, "trust.statement", "evidence[%zu]: the result says %s; without a measurement "
                          "comparison only %s is proven (allowed by --skip-measurement)", i, trust_item_name(items[i]),
                          trust_item_name(proved[i]));
                warned = 1;
            } else {
                steps_add(&c->st, STEP_FAIL, "trust.statement", "evidence[%zu]: the result claims %s, but the checks "
                          "above prove only %s: %s", i, trust_item_name(items[i]), trust_item_name(proved[i]),
                          trust_item_describe(proved[i]));
                ok = 0;
            }
        }
    }
    if (ok && !warned)
        steps_add(&c->st, STEP_PASS, "trust.statement", "the result's trust statement \"%s\" claims no more than the "
                  "evidence checked above proves", claim);
}

/* source_commit and kernel_cmdline (both measured into the image) against the manifest's. */
static void check_source(struct result_ctx *c, const json_t *p)
{
    const char *commit = jstr(p, "source_commit"), *cmdline = jstr(p, "kernel_cmdline");
    if (!json_object_get(p, "source_commit")) {
        steps_add(&c->st, STEP_INFO, "payload.source", "the result does not say which commit built its image "
                  "(results made before 2026-12)");
        return;
    }
    if (!commit) {
        steps_add(&c->st, STEP_INFO, "payload.source", "the service's image records no source commit (a development "
                  "build): nobody can rebuild it");
        return;
    }
    if (!c->have_manifest) {
        steps_add(&c->st, STEP_INFO, "payload.source", "the image says it was built from commit %s with kernel "
                  "command line \"%s\" (not compared: no --manifest)", commit, cmdline ? cmdline : "");
        return;
    }
    const json_t *src = json_object_get(c->man.root, "source");
    const char *mc = jstr(src, "git_commit"), *ml = jstr(c->man.root, "cmdline");
    const char *dirty = c->o->allow_dirty ? "--allow-dirty" : NULL;
    if (!mc) {
        steps_add(&c->st, STEP_INFO, "payload.source", "the manifest records no source commit: the result's commit %s "
                  "is not compared", commit);
    } else {
        steps_check(&c->st, !strcmp(mc, commit), NULL, "payload.source_commit",
                    "the result's source commit %s equals the manifest's %s", commit, mc);
        if (strstr(mc, "+dirty") || strstr(commit, "+dirty"))
            steps_check(&c->st, 0, dirty, "manifest.dirty", "the image was built from a tree with uncommitted changes "
                        "(%s): nobody can rebuild it from published source, so its measurement proves nothing to you",
                        strstr(mc, "+dirty") ? mc : commit);
    }
    if (ml && cmdline)
        steps_check(&c->st, !strcmp(ml, cmdline), NULL, "payload.kernel_cmdline",
                    "the result's kernel command line \"%s\" equals the manifest's", cmdline);
    else if (cmdline)
        steps_add(&c->st, STEP_INFO, "payload.kernel_cmdline", "the manifest records no command line: the result's "
                  "\"%s\" is not compared", cmdline);
    if (mc && !strcmp(mc, commit) && (!ml || !cmdline || !strcmp(ml, cmdline)) && c->image_proven)
        PROVEN(c, "the image was built from commit %s with kernel command line \"%s\" (the manifest's, whose "
               "measurement the evidence matched)", commit, cmdline ? cmdline : "");
}

/* The compact JWS text inside the input: the file itself, a {"jws":...} wrapper, or a flattened JWS. */
static char *extract_jws(const uint8_t *b, size_t len, json_t **bare_payload, const char **form)
{
    *bare_payload = NULL;
    while (len && isspace(b[len - 1]))
        len--;
    while (len && isspace(*b)) {
        b++;
        len--;
    }
    if (len && b[0] != '{') {
        *form = "compact JWS";
        char *s = malloc(len + 1);
        if (s) {
            memcpy(s, b, len);
            s[len] = 0;
        }
        return s;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)b, len, JSON_REJECT_DUPLICATES, &je);
    char *out = NULL;
    const char *jws = jstr(j, "jws"), *pr = jstr(j, "protected"), *pl = jstr(j, "payload"), *sg = jstr(j, "signature");
    if (jws) {
        *form = "JSON with a compact JWS";
        out = strdup(jws);
    } else if (pr && pl && sg) {
        *form = "flattened JSON JWS";
        size_t n = strlen(pr) + strlen(pl) + strlen(sg) + 3;
        if ((out = malloc(n)))
            snprintf(out, n, "%s.%s.%s", pr, pl, sg);
    } else if (json_is_object(j) && json_object_get(j, "evidence")) {
        *form = "bare JSON payload";
        *bare_payload = json_incref(j);
    } else {
        *form = "unrecognised";
    }
    json_decref(j);
    return out;
}

/* The verdict line after "RESULT: " (also fields.summary.verdict in --json, which the browser
 * verifier shows): PASS or FAIL, and what kind of PASS. */
static const char *result_verdict(const struct result_ctx *c)
{
    return c->st.failed ? "FAIL - at least one check above failed" :
           c->unattested ? "PASS (signed only, not hardware-attested)" :
           c->unrooted ? "PASS (--allow-unrooted-ak: the TPM quote is not rooted in a vendor CA, so this "
                         "result is not hardware-attested)" :
           c->test_root ? "PASS (against a TEST root: not evidence of real hardware)" :
           !c->measurement_checked ? "PASS (measurement not compared)" : "PASS";
}

/* Every step for one result held in (file, len); the caller has set up c (options, manifest,
 * expected measurement, trust roots) and prints c->st afterwards. */
static void verify_buffer(struct result_ctx *c, const uint8_t *file, size_t len, EVP_PKEY *pinned)
{
    char *jws = NULL;
    json_t *payload = NULL;
    const char *form = "";
    json_t *bare = NULL;
    jws = extract_jws(file, len, &bare, &form);
    steps_add(&c->st, STEP_INFO, "input", "input %s: %s, %zu bytes", c->o->file, form, len);
    if (jws) {
        payload = check_jws(c, jws, strlen(jws), pinned);
    } else if (bare) {
        steps_check(&c->st, 0, c->o->allow_unsigned ? "--allow-unsigned" : NULL, "jws.signature",
                    "no JWS: only the payload was given, so the service's signature cannot be checked "
                    "(download the signed result)");
        UNPROVEN(c, "that the service signed this payload: it was given without its JWS");
        payload = bare;   /* fields are shown, but without a JWS there is no kid to bind */
    } else {
        steps_add(&c->st, STEP_FAIL, "input", "not a sealed-login result (compact JWS, or JSON with jws / protected+payload+signature)");
    }
    if (payload && c->jws_ok) {
        json_t *pp = json_object_get(payload, "paypal");
        PROVEN(c, "the service key %s signed this result for PayPal user %s of client %s", c->kid,
               jstr(pp, "user_id") ? jstr(pp, "user_id") : "?", jstr(pp, "client_id") ? jstr(pp, "client_id") : "?");
    }
    if (payload) {
        json_object_set(c->st.fields, "payload", payload);
        c->payload = payload;
        if (check_payload(c, payload)) {
            check_id_token(c, payload);
            check_evidence(c, payload);
            check_trust(c, payload);
            check_source(c, payload);
        }
    }

    if (payload) {   /* the scope of "once per account" the service claims (issue 12) */
        json_t *ep = json_object_get(payload, "state_epoch");
        const char *sc = jstr(payload, "state_scope");
        char when[32] = "?";
        time_t t = json_is_integer(ep) ? (time_t)json_integer_value(ep) : 0;
        struct tm tm;
        if (t > 0 && gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        const char *scope = !sc ? NULL
                            : !strcmp(sc, "boot") ? "within one boot of the VM (held by PID 1, lost at a reboot)"
                            : !strcmp(sc, "directory") ? "as long as the service's state directory is kept"
                            : !strcmp(sc, "process") ? "within one service process only"
                            : !strcmp(sc, "sealed-vtpm") ? "across reboots of the VM (state sealed to its vTPM and "
                                                           "image, kept outside the VM; the TPM's monotonic counter "
                                                           "refuses an older copy; lost at a redeploy or a new image)"
                            : !strcmp(sc, "sealed-snp") ? "across reboots of the VM on the same AMD chip (state sealed "
                                                          "with an SEV-SNP key bound to the image, kept outside the "
                                                          "VM; no monotonic counter: an older copy is refused only by "
                                                          "the object store's version check)"
                                                     : "an unknown scope";
        if (scope) {
            steps_add(&c->st, STEP_INFO, "state", "the service claims: once per PayPal account since %s, %s", when, scope);
            UNPROVEN(c, "that this is the account's only result: the service claims once per account since %s, %s; "
                        "no offline check can prove it", when, scope);
        } else {
            UNPROVEN(c, "that this is the account's only result: the result states no scope (an older service: "
                        "once per account per service process)");
        }
    }
    if (c->unattested)
        UNPROVEN(c, "anything about the hardware or the code that produced it: evidence type none, signed but not hardware-attested");
    if (c->attested && !c->measurement_checked)
        UNPROVEN(c, "which code ran: the measurement was not compared with an expected value");
    else if ((c->attested || c->unrooted) && !c->image_proven)
        UNPROVEN(c, "which image ran: no evidence that passed proves it (firmware-only or unrooted evidence, or a "
                    "measurement that was not compared)");
    if (c->test_root)
        UNPROVEN(c, "real hardware: a chain ends at a TEST root given with --trust-root");
    if (!c->o->signer_key && !c->bare)
        UNPROVEN(c, "that the signing key is the operator's published key (not pinned with --signer-key)");

    json_t *summary = json_object(), *pa = json_array(), *ua = json_array();
    for (int i = 0; i < c->nproven; i++)
        json_array_append_new(pa, json_string(c->proven[i]));
    for (int i = 0; i < c->nunproven; i++)
        json_array_append_new(ua, json_string(c->unproven[i]));
    json_object_set_new(summary, "proven", pa);
    json_object_set_new(summary, "not_proven", ua);
    json_object_set_new(summary, "hardware_attested",
                        json_boolean(c->attested && !c->unattested && !c->unrooted && !c->test_root));
    json_object_set_new(summary, "verdict", json_string(result_verdict(c)));
    json_object_set_new(c->st.fields, "summary", summary);
    free(jws);
    json_decref(payload);
}

int result_verify_buffer(struct verify_opts *o, const uint8_t *buf, size_t len, struct steps *out)
{
    struct result_ctx *c = calloc(1, sizeof *c);
    if (!c || steps_init(&c->st)) {
        free(c);
        return -1;
    }
    c->o = o;
    verify_buffer(c, buf, len, NULL);
    *out = c->st;   /* ownership moves to the caller */
    free(c);
    return out->failed;
}

int cmd_result(struct verify_opts *o)
{
    struct result_ctx *c = calloc(1, sizeof *c);
    int rc = 2, ntrust = 0;
    uint8_t *file = NULL;
    char err[256] = "";
    EVP_PKEY *pinned = NULL;
    X509 *trust[VERIFY_MAX_CHAIN_CERTS] = {0};
    size_t len = 0;
    if (!c || steps_init(&c->st)) {
        free(c);
        return 2;
    }
    c->o = o;
    if (!o->file) {
        fprintf(stderr, "sealed-verify result: give the result file\n");
        goto out;
    }
    if (!(file = verify_read_file(o->file, VERIFY_MAX_INPUT_FILE, &len, err, sizeof err))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    if (o->expect_measurement) {
        if (verify_hex_arg(o->expect_measurement, c->expect_meas, 48) != 48) {
            fprintf(stderr, "sealed-verify: --expect-measurement wants 96 lowercase hex digits (SHA-384)\n");
            goto out;
        }
        c->have_expect = 1;
    }
    if (o->manifest) {
        size_t ml;
        uint8_t *mb = verify_read_file(o->manifest, VERIFY_MAX_INPUT_FILE, &ml, err, sizeof err);
        if (!mb || manifest_load(mb, ml, &c->man, err, sizeof err)) {
            free(mb);
            fprintf(stderr, "sealed-verify: --manifest: %s\n", err);
            goto out;
        }
        free(mb);
        c->have_manifest = 1;
    }
    if (o->signer_key && !(pinned = load_signer_key(o->signer_key, err, sizeof err))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    if ((ntrust = cli_load_trust_roots(o, trust, VERIFY_MAX_CHAIN_CERTS)) < 0)
        goto out;
    if (o->paypal_jwks) {
        size_t jl;
        uint8_t *jb = verify_read_file(o->paypal_jwks, ID_TOKEN_JWKS_MAX_BYTES, &jl, err, sizeof err);
        if (!jb || id_token_jwks_parse(jb, jl, &c->paypal_jwks)) {
            fprintf(stderr, "sealed-verify: --paypal-jwks: %s\n", jb ? id_token_strerror(ID_TOKEN_ERR_JWKS) : err);
            free(jb);
            goto out;
        }
        free(jb);
    }

    verify_buffer(c, file, len, pinned);
    if (o->json) {
        steps_print_json(&c->st, stdout, "result");
    } else {
        steps_print(&c->st, stdout, "sealed-verify result");
        for (int i = 0; i < c->nproven; i++)
            printf("proven: %s\n", c->proven[i]);
        for (int i = 0; i < c->nunproven; i++)
            printf("NOT proven: %s\n", c->unproven[i]);
        printf("RESULT: %s\n", result_verdict(c));
    }
    rc = c->st.failed ? 1 : 0;
out:
    free(file);
    EVP_PKEY_free(pinned);
    for (int i = 0; i < ntrust; i++)
        X509_free(trust[i]);
    if (c->have_manifest)
        manifest_free(&c->man);
    json_decref(c->paypal_jwks);
    steps_free(&c->st);
    free(c);
    return rc;
}
