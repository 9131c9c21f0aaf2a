/* issuer: OID4VCI routes and offers on service_state's redemption records. */
#include "login/issuer.h"
#include "common/byteorder.h"
#include "common/codec.h"
#include "common/oid4vci.h"
#include "login/credential.h"
#include "login/http_server.h"
#include "login/limits.h"
#include "login/log.h"
#include "login/result_store.h"
#include "login/service_state.h"
#include "login/signer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SECRET_BYTES 32
#define TOKEN_LEN    CODEC_B64URL_LEN(SECRET_BYTES)
#define NONCE_RAW    (8 + 8 + 16)   /* expires | random | HMAC truncated */

struct issuer {
    struct service_state *ss;       /* borrowed */
    uint8_t nonce_key[32];          /* per process: a restart ends every c_nonce (the wallet asks again) */
    uint64_t tokens, credentials, refused;
};

struct issuer *issuer_new(struct service_state *ss)
{
    struct issuer *is = calloc(1, sizeof *is);
    if (!is || RAND_bytes(is->nonce_key, sizeof is->nonce_key) != 1) {
        free(is);
        return NULL;
    }
    is->ss = ss;
    return is;
}

void issuer_free(struct issuer *is)
{
    if (is)
        OPENSSL_clear_free(is, sizeof *is);
}

static int secret_new(char out[TOKEN_LEN])
{
    uint8_t r[SECRET_BYTES];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    codec_b64url_encode(r, sizeof r, out, TOKEN_LEN);
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

static void respond_json(struct http_exchange *x, int status, json_t *body, const char *extra)
{
    const char *hdrs[] = {"Cache-Control: no-store", extra, NULL};
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (s)
        http_respond(x, status, "application/json", hdrs, s, strlen(s));
    else
        http_respond(x, 503, "text/plain; charset=utf-8", NULL, "out of memory\n", 14);
    if (s)
        OPENSSL_clear_free(s, strlen(s));
    json_decref(body);
}

/* One funnel for refusals: an OAuth error body, logged once without secrets. */
static void refuse(struct issuer *is, struct http_exchange *x, int status, const char *step, const char *code,
                   const char *why)
{
    is->refused++;
    log_info("vc.refused", "step=%s error=%s", step, code);
    respond_json(x, status, json_pack("{s:s, s:s}", "error", code, "error_description", why),
                 status == 401 ? "WWW-Authenticate: Bearer error=\"invalid_token\"" : NULL);
}

/* c_nonce: base64url(expires | random | HMAC(nonce_key, expires | random)[0..16]): checked without
 * a table, so a wallet's nonce works until it expires. */
static int nonce_new(struct issuer *is, char out[CODEC_B64URL_LEN(NONCE_RAW)])
{
    uint8_t raw[NONCE_RAW], mac[32];
    unsigned ml = 0;
    put_le64(raw, (uint64_t)time(NULL) + VC_NONCE_TTL_S);
    if (RAND_bytes(raw + 8, 8) != 1 || !HMAC(EVP_sha256(), is->nonce_key, sizeof is->nonce_key, raw, 16, mac, &ml))
        return -1;
    memcpy(raw + 16, mac, 16);
    codec_b64url_encode(raw, sizeof raw, out, CODEC_B64URL_LEN(NONCE_RAW));
    return 0;
}

static int nonce_ok(void *arg, const char *n)
{
    struct issuer *is = arg;
    uint8_t raw[NONCE_RAW + 4], mac[32];
    unsigned ml = 0;
    if (codec_b64url_decode(n, strlen(n), raw, sizeof raw) != NONCE_RAW ||
        !HMAC(EVP_sha256(), is->nonce_key, sizeof is->nonce_key, raw, 16, mac, &ml) ||
        CRYPTO_memcmp(mac, raw + 16, 16))
        return 0;
    return get_le64(raw) > (uint64_t)time(NULL);
}

static void route_nonce(struct issuer *is, struct http_exchange *x)
{
    char n[CODEC_B64URL_LEN(NONCE_RAW)];
    if (nonce_new(is, n)) {
        refuse(is, x, 503, "nonce", "server_error", "no randomness");
        return;
    }
    respond_json(x, 200, json_pack("{s:s}", "c_nonce", n), NULL);
}

static void route_token(struct issuer *is, struct http_exchange *x)
{
    size_t len;
    const char *body = http_body(x, &len);
    struct oid4vci_token_request tr;
    oid4vci_err e = oid4vci_token_request_parse(body, len, &tr);
    if (e) {
        refuse(is, x, 400, "token", oid4vci_error_code(e), oid4vci_strerror(e));
        return;
    }
    char tok[TOKEN_LEN];
    uint8_t ch[VC_HASH_LEN], th[VC_HASH_LEN];
    struct vc_offer o;
    vc_hash(tr.code, strlen(tr.code), ch);
    OPENSSL_cleanse(&tr, sizeof tr);
    if (secret_new(tok)) {
        refuse(is, x, 503, "token", "server_error", "no randomness");
        return;
    }
    vc_hash(tok, strlen(tok), th);
    ss_err r = service_state_vc_redeem(is->ss, ch, th, (uint64_t)time(NULL) + VC_TOKEN_TTL_S, &o);
    if (r) {
        OPENSSL_cleanse(tok, sizeof tok);
        if (r == SS_UNKNOWN || r == SS_SEEN)
            refuse(is, x, 400, "token", "invalid_grant", r == SS_SEEN ? "this pre-authorized code was already redeemed"
                   : "no such pre-authorized code, or it has expired");
        else
            refuse(is, x, 503, "token", "server_error", "the redemption could not be saved; nothing was used up");
        return;
    }
    is->tokens++;
    log_info("vc.token", "result=redeemed");
    respond_json(x, 200, json_pack("{s:s, s:s, s:i}", "access_token", tok, "token_type", "Bearer", "expires_in",
                                   VC_TOKEN_TTL_S), NULL);
    OPENSSL_cleanse(tok, sizeof tok);
}

/* The kept result this offer was made for (its code and account), or NULL once it is gone. */
static const struct stored_result *offer_result(struct service_state *ss, const struct vc_offer *o)
{
    struct result_store *rs = service_state_results(ss);
    const struct stored_result *r;
    size_t i = 0;
    while ((r = result_store_next(rs, &i, NULL)))
        if (!strcmp(r->code, o->result_code) && r->key.lo == o->key.lo && r->key.hi == o->key.hi)
            return r;
    return NULL;
}

static void route_credential(struct issuer *is, const struct signer *s, const char *iss, struct http_exchange *x)
{
    const char *auth = http_header(x, "Authorization");
    size_t len;
    const char *body = http_body(x, &len);
    uint8_t th[VC_HASH_LEN];
    struct vc_offer o;
    struct oid4vci_credential_request cr = {0};
    json_t *jwk = NULL;
    char *cred = NULL;
    if (!auth || strncasecmp(auth, "Bearer ", 7) || !auth[7]) {
        refuse(is, x, 401, "credential", "invalid_token", "an access token from the token endpoint is required");
        return;
    }
    vc_hash(auth + 7, strlen(auth + 7), th);
    ss_err r = service_state_vc_token(is->ss, th, &o);
    if (r) {
        refuse(is, x, 401, "credential", "invalid_token", r == SS_SEEN ? "this access token's credential was already "
               "issued" : "unknown or expired access token");
        return;
    }
    oid4vci_err e = oid4vci_credential_request_parse(body, len, &cr);
    if (!e && strcmp(cr.config_id, CREDENTIAL_CONFIG_ID))
        e = OID4VCI_ERR_CONFIG;
    if (!e)
        e = oid4vci_proof_verify(cr.proof_jwt, strlen(cr.proof_jwt), iss, nonce_ok, is, (uint64_t)time(NULL), &jwk);
    if (e) {   /* OID4VCI 1.0 §8.3.1.2: a malformed request is invalid_credential_request */
        refuse(is, x, 400, "credential", e == OID4VCI_ERR_FORMAT ? "invalid_credential_request" : oid4vci_error_code(e),
               oid4vci_strerror(e));
        goto done;
    }
    const struct stored_result *res = offer_result(is->ss, &o);
    if (!res || !(cred = credential_from_result(s, res->jws, res->jws_len, jwk, (uint64_t)time(NULL)))) {
        refuse(is, x, 503, "credential", "credential_request_denied", "the result behind this offer is no longer kept");
        goto done;
    }
    /* saved as issued before it goes out: a lost answer is lost, a second credential never made */
    r = service_state_vc_issued(is->ss, th);
    if (r) {
        refuse(is, x, r == SS_SAVE_FAILED ? 503 : 401, "credential", r == SS_SAVE_FAILED ? "server_error" : "invalid_token",
               r == SS_SAVE_FAILED ? "the issuance could not be saved; try again" : "this access token's credential was "
               "already issued");
        goto done;
    }
    is->credentials++;
    log_info("vc.credential", "result=issued binding=jwk");
    respond_json(x, 200, json_pack("{s:[{s:s}]}", "credentials", "credential", cred), NULL);
done:
    oid4vci_credential_request_clear(&cr);
    json_decref(jwk);
    free(cred);
}

int issuer_route(struct issuer *is, const struct signer *s, const char *iss, struct http_exchange *x)
{
    const char *p = http_path(x), *m = http_method(x);
    int get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), post = !strcmp(m, "POST");
    json_t *doc = NULL;
    if (!strcmp(p, "/.well-known/jwt-vc-issuer"))
        doc = credential_issuer_metadata(s, iss);
    else if (!strcmp(p, "/.well-known/openid-credential-issuer"))
        doc = credential_oid4vci_metadata(iss);
    else if (!strcmp(p, "/.well-known/oauth-authorization-server"))
        doc = credential_as_metadata(iss);
    else if (strcmp(p, "/token") && strcmp(p, "/nonce") && strcmp(p, "/credential"))
        return 0;
    if (doc || p[1] == '.') {
        if (!get) {
            json_decref(doc);
            const char *allow[] = {"Allow: GET, HEAD", NULL};
            http_respond(x, 405, "text/plain; charset=utf-8", allow, "use GET\n", 8);
            return 1;
        }
        char *body = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
        json_decref(doc);
        if (body)
            http_respond(x, 200, "application/json", NULL, body, strlen(body));
        else
            http_respond(x, 503, "text/plain; charset=utf-8", NULL, "out of memory\n", 14);
        free(body);
        return 1;
    }
    if (!post) {
        const char *allow[] = {"Allow: POST", NULL};
        http_respond(x, 405, "text/plain; charset=utf-8", allow, "use POST\n", 9);
        return 1;
    }
    if (!strcmp(p, "/token"))
        route_token(is, x);
    else if (!strcmp(p, "/nonce"))
        route_nonce(is, x);
    else
        route_credential(is, s, iss, x);
    return 1;
}

/* RFC 3986 unreserved stay, everything else is %XX: the offer JSON inside a URI query. */
static char *uri_encode(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *q = o;
    if (!o)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p))
            *q++ = (char)*p;
        else {
            static const char hx[] = "0123456789ABCDEF";
            *q++ = '%';
            *q++ = hx[*p >> 4];
            *q++ = hx[*p & 15];
        }
    }
    *q = 0;
    return o;
}

char *issuer_offer_prepare(const char *iss, const struct idset_key *key, const char *result_code, struct vc_offer *e)
{
    char code[TOKEN_LEN];
    memset(e, 0, sizeof *e);
    if (secret_new(code))
        return NULL;
    vc_hash(code, strlen(code), e->code_hash);
    e->key = *key;
    snprintf(e->result_code, sizeof e->result_code, "%s", result_code);
    e->expires = (uint64_t)time(NULL) + VC_OFFER_TTL_S;
    e->phase = VC_OFFERED;
    /* OID4VCI 1.0 §4.1.1: the offer by value */
    json_t *offer = json_pack("{s:s, s:[s], s:{s:{s:s}}}", "credential_issuer", iss, "credential_configuration_ids",
                              CREDENTIAL_CONFIG_ID, "grants", OID4VCI_GRANT_PRE_AUTH, "pre-authorized_code", code);
    char *js = offer ? json_dumps(offer, JSON_COMPACT) : NULL, *enc = js ? uri_encode(js) : NULL, *uri = NULL;
    json_decref(offer);
    OPENSSL_cleanse(code, sizeof code);
    static const char pre[] = "openid-credential-offer://?credential_offer=";
    if (enc && (uri = malloc(sizeof pre + strlen(enc)))) {
        memcpy(uri, pre, sizeof pre - 1);
        memcpy(uri + sizeof pre - 1, enc, strlen(enc) + 1);
    }
    if (js)
        OPENSSL_clear_free(js, strlen(js));
    if (enc)
        OPENSSL_clear_free(enc, strlen(enc));
    return uri;
}

int issuer_offer_commit(struct issuer *is, const struct vc_offer *e)
{
    ss_err r = service_state_vc_offer(is->ss, e);
    if (r)
        log_error("vc.offer_not_saved", "result=%d", (int)r);
    return r ? -1 : 0;
}

json_t *issuer_status(void *arg)
{
    struct issuer *is = arg;
    return json_pack("{s:I, s:I, s:I}", "tokens_issued", (json_int_t)is->tokens, "credentials_issued",
                     (json_int_t)is->credentials, "requests_refused", (json_int_t)is->refused);
}
