/* sd_jwt: RFC 9901 processing and the SD-JWT VC checks, on jose.c's JWS parser and ES256. */
#include "common/sd_jwt.h"
#include "common/codec.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

const char *sd_jwt_strerror(sd_jwt_err e)
{
    switch (e) {
    case SD_JWT_OK: return "ok";
    case SD_JWT_ERR_NOMEM: return "out of memory";
    case SD_JWT_ERR_FORMAT: return "not an SD-JWT (JWT~disclosures~[KB-JWT])";
    case SD_JWT_ERR_TOOBIG: return "too large (size, disclosures or nesting)";
    case SD_JWT_ERR_DISCLOSURE: return "a disclosure is not base64url JSON [salt, name, value] or [salt, value]";
    case SD_JWT_ERR_UNREFERENCED: return "a disclosure's digest is not in the signed payload (tampered or foreign)";
    case SD_JWT_ERR_REPEATED: return "a digest or a disclosure appears more than once";
    case SD_JWT_ERR_CLAIM: return "a disclosed claim clashes with another or has a reserved name";
    case SD_JWT_ERR_SD_ALG: return "_sd_alg is not sha-256";
    case SD_JWT_ERR_HEADER: return "issuer JWT header: alg must be ES256, typ dc+sd-jwt, no crit";
    case SD_JWT_ERR_SIGNATURE: return "the issuer's signature does not verify";
    case SD_JWT_ERR_NO_KEY: return "no issuer key with the JWT's kid";
    case SD_JWT_ERR_KB_MISSING: return "no key-binding JWT (the presentation does not prove possession)";
    case SD_JWT_ERR_KB_FORMAT: return "key-binding JWT malformed (typ kb+jwt, alg ES256, iat, aud, nonce, sd_hash)";
    case SD_JWT_ERR_KB_CNF: return "the credential has no usable cnf.jwk";
    case SD_JWT_ERR_KB_SIGNATURE: return "the key-binding JWT's signature does not verify with cnf.jwk";
    case SD_JWT_ERR_KB_SD_HASH: return "the key-binding JWT's sd_hash is not this presentation's";
    case SD_JWT_ERR_KB_NONCE: return "the key-binding JWT's nonce is not the expected one";
    case SD_JWT_ERR_KB_AUD: return "the key-binding JWT's aud is not the expected one";
    case SD_JWT_ERR_KB_TIME: return "the key-binding JWT's iat is too old or in the future";
    case SD_JWT_ERR_EXPIRED: return "the credential has expired or is not valid yet";
    }
    return "unknown error";
}

void sd_jwt_digest(const char *text, size_t len, char out[SD_JWT_DIGEST_LEN + 1])
{
    uint8_t h[32];
    EVP_Digest(text, len, h, NULL, EVP_sha256(), NULL);
    codec_b64url_encode(h, sizeof h, out, SD_JWT_DIGEST_LEN + 1);
}

void sd_jwt_clear(struct sd_jwt *sd)
{
    if (!sd)
        return;
    jose_jws_clear(&sd->jwt);
    json_decref(sd->payload);
    json_decref(sd->claims);
    for (size_t i = 0; i < sd->ndisc; i++)
        json_decref(sd->disc[i].arr);
    if (sd->has_kb)
        jose_jws_clear(&sd->kb);
    json_decref(sd->kb_claims);
    memset(sd, 0, sizeof *sd);
}

static sd_jwt_err disclosure_decode(const char *p, size_t n, struct sd_jwt_disclosure *d)
{
    size_t bl;
    uint8_t *b = codec_b64url_decode_alloc(p, n, &bl);
    if (!b)
        return SD_JWT_ERR_DISCLOSURE;
    json_error_t je;
    d->arr = json_loadb((const char *)b, bl, JSON_REJECT_DUPLICATES, &je);
    free(b);
    size_t an = json_array_size(d->arr);
    if (!json_is_array(d->arr) || (an != 2 && an != 3) || !json_is_string(json_array_get(d->arr, 0)))
        return SD_JWT_ERR_DISCLOSURE;
    if (an == 3) {
        if (!json_is_string(json_array_get(d->arr, 1)))
            return SD_JWT_ERR_DISCLOSURE;
        d->name = json_string_value(json_array_get(d->arr, 1));
        if (!strcmp(d->name, "_sd") || !strcmp(d->name, "..."))
            return SD_JWT_ERR_CLAIM;   /* RFC 9901 §7.1 step 3.3.2.3 */
    }
    d->value = json_array_get(d->arr, an - 1);
    sd_jwt_digest(p, n, d->digest);
    return SD_JWT_OK;
}

/* Processing state: which disclosures were used, and every digest seen (for repeats). */
struct walk {
    struct sd_jwt *sd;
    unsigned char used[SD_JWT_MAX_DISCLOSURES];
    size_t seen;      /* digests seen so far: bounded by the payload's size */
    json_t *digests;  /* owned: object of digests seen */
};

static sd_jwt_err note_digest(struct walk *w, const char *dg, int *idx)
{
    if (json_object_get(w->digests, dg))
        return SD_JWT_ERR_REPEATED;
    if (json_object_set_new(w->digests, dg, json_true()))
        return SD_JWT_ERR_NOMEM;
    *idx = -1;
    for (size_t i = 0; i < w->sd->ndisc; i++)
        if (!strcmp(w->sd->disc[i].digest, dg)) {
            if (w->used[i])
                return SD_JWT_ERR_REPEATED;
            w->used[i] = 1;
            *idx = (int)i;
            break;
        }
    return SD_JWT_OK;
}

/* Returns a new processed copy of v (RFC 9901 §7.1 step 3). */
static sd_jwt_err process(struct walk *w, const json_t *v, int depth, json_t **out)
{
    sd_jwt_err e = SD_JWT_OK;
    *out = NULL;
    if (depth > SD_JWT_MAX_DEPTH)
        return SD_JWT_ERR_TOOBIG;
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *m;
        if (!o)
            return SD_JWT_ERR_NOMEM;
        json_object_foreach((json_t *)v, k, m) {
            if (!strcmp(k, "_sd") || (depth == 0 && !strcmp(k, "_sd_alg")))
                continue;
            json_t *pm;
            if ((e = process(w, m, depth + 1, &pm)))
                goto fail_o;
            if (json_object_set_new(o, k, pm)) {
                e = SD_JWT_ERR_NOMEM;
                goto fail_o;
            }
        }
        json_t *sdarr = json_object_get(v, "_sd");
        if (sdarr && !json_is_array(sdarr)) {
            e = SD_JWT_ERR_CLAIM;
            goto fail_o;
        }
        size_t i;
        json_array_foreach(sdarr, i, m) {
            int idx;
            if (!json_is_string(m)) {
                e = SD_JWT_ERR_CLAIM;
                goto fail_o;
            }
            if ((e = note_digest(w, json_string_value(m), &idx)))
                goto fail_o;
            if (idx < 0)
                continue;   /* a decoy, or a disclosure the holder did not present */
            struct sd_jwt_disclosure *d = &w->sd->disc[idx];
            json_t *pv;
            if (!d->name || json_object_get(o, d->name)) {
                e = SD_JWT_ERR_CLAIM;   /* an array-element disclosure in _sd, or a clash */
                goto fail_o;
            }
            if ((e = process(w, d->value, depth + 1, &pv)))
                goto fail_o;
            if (json_object_set_new(o, d->name, pv)) {
                e = SD_JWT_ERR_NOMEM;
                goto fail_o;
            }
        }
        *out = o;
        return SD_JWT_OK;
fail_o:
        json_decref(o);
        return e;
    }
    if (json_is_array(v)) {
        json_t *a = json_array(), *m;
        size_t i;
        if (!a)
            return SD_JWT_ERR_NOMEM;
        json_array_foreach(v, i, m) {
            json_t *dots = json_is_object(m) ? json_object_get(m, "...") : NULL;
            json_t *pm;
            if (dots) {
                int idx;
                if (json_object_size(m) != 1 || !json_is_string(dots)) {
                    e = SD_JWT_ERR_CLAIM;
                    goto fail_a;
                }
                if ((e = note_digest(w, json_string_value(dots), &idx)))
                    goto fail_a;
                if (idx < 0)
                    continue;   /* not disclosed: the element is removed */
                if (w->sd->disc[idx].name) {
                    e = SD_JWT_ERR_CLAIM;   /* an object-property disclosure in an array */
                    goto fail_a;
                }
                m = w->sd->disc[idx].value;
            }
            if ((e = process(w, m, depth + 1, &pm)))
                goto fail_a;
            if (json_array_append_new(a, pm)) {
                e = SD_JWT_ERR_NOMEM;
                goto fail_a;
            }
        }
        *out = a;
        return SD_JWT_OK;
fail_a:
        json_decref(a);
        return e;
    }
    *out = json_deep_copy(v);
    return *out ? SD_JWT_OK : SD_JWT_ERR_NOMEM;
}

sd_jwt_err sd_jwt_parse(const char *s, size_t len, struct sd_jwt *out)
{
    sd_jwt_err e = SD_JWT_OK;
    memset(out, 0, sizeof *out);
    struct walk w = {.sd = out};
    if (len > SD_JWT_MAX_LEN)
        return SD_JWT_ERR_TOOBIG;
    const char *t1 = memchr(s, '~', len), *last = NULL;
    if (!t1)
        return SD_JWT_ERR_FORMAT;   /* an SD-JWT always has at least one '~' */
    for (const char *p = s; p < s + len; p++)
        if (*p == '~')
            last = p;
    if (jose_jws_parse(s, (size_t)(t1 - s), &out->jwt))
        return SD_JWT_ERR_FORMAT;
    json_error_t je;
    out->payload = json_loadb((const char *)out->jwt.payload, out->jwt.payload_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(out->payload)) {
        e = SD_JWT_ERR_FORMAT;
        goto fail;
    }
    for (const char *p = t1 + 1; p < last + 1;) {
        const char *q = memchr(p, '~', (size_t)(last + 1 - p));
        if (q == p) {
            e = SD_JWT_ERR_FORMAT;   /* an empty disclosure ("~~") */
            goto fail;
        }
        if (out->ndisc == SD_JWT_MAX_DISCLOSURES) {
            e = SD_JWT_ERR_TOOBIG;
            goto fail;
        }
        if ((e = disclosure_decode(p, (size_t)(q - p), &out->disc[out->ndisc++])))
            goto fail;
        p = q + 1;
    }
    for (size_t i = 0; i < out->ndisc; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(out->disc[i].digest, out->disc[j].digest)) {
                e = SD_JWT_ERR_REPEATED;
                goto fail;
            }
    sd_jwt_digest(s, (size_t)(last + 1 - s), out->sd_hash);
    if (last + 1 < s + len) {
        out->has_kb = 1;
        if (jose_jws_parse(last + 1, (size_t)(s + len - last - 1), &out->kb)) {
            e = SD_JWT_ERR_KB_FORMAT;
            goto fail;
        }
        /* json_is_object evaluates its argument twice: load first */
        out->kb_claims = json_loadb((const char *)out->kb.payload, out->kb.payload_len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(out->kb_claims)) {
            e = SD_JWT_ERR_KB_FORMAT;
            goto fail;
        }
    }
    json_t *alg = json_object_get(out->payload, "_sd_alg");
    if (alg && (!json_is_string(alg) || strcmp(json_string_value(alg), "sha-256"))) {
        e = SD_JWT_ERR_SD_ALG;
        goto fail;
    }
    if (!(w.digests = json_object())) {
        e = SD_JWT_ERR_NOMEM;
        goto fail;
    }
    if ((e = process(&w, out->payload, 0, &out->claims)))
        goto fail;
    for (size_t i = 0; i < out->ndisc; i++)
        if (!w.used[i]) {
            e = SD_JWT_ERR_UNREFERENCED;   /* RFC 9901 §7.1 step 4 */
            goto fail;
        }
    json_decref(w.digests);
    return SD_JWT_OK;
fail:
    json_decref(w.digests);
    sd_jwt_clear(out);
    return e;
}

static const char *str_of(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

sd_jwt_err sd_jwt_verify_issuer(const struct sd_jwt *sd, EVP_PKEY *key, const char *typ)
{
    const char *alg = str_of(sd->jwt.header, "alg"), *t = str_of(sd->jwt.header, "typ");
    if (!alg || strcmp(alg, "ES256") || json_object_get(sd->jwt.header, "crit") || (typ && (!t || strcmp(t, typ))))
        return SD_JWT_ERR_HEADER;
    return jose_es256_verify(key, (const uint8_t *)sd->jwt.signing_input, sd->jwt.signing_input_len, sd->jwt.sig,
                             sd->jwt.sig_len) ? SD_JWT_ERR_SIGNATURE : SD_JWT_OK;
}

EVP_PKEY *sd_jwt_issuer_key(const struct sd_jwt *sd, const json_t *jwks, sd_jwt_err *err)
{
    const char *kid = str_of(sd->jwt.header, "kid");
    json_t *keys = json_object_get(jwks, "keys"), *k;
    size_t i;
    *err = SD_JWT_ERR_NO_KEY;
    if (!kid && json_array_size(keys) == 1) {   /* no kid anywhere: a JWKS of one key (RFC 9901's examples) */
        jose_err je;
        EVP_PKEY *pk = str_of(json_array_get(keys, 0), "kid") ? NULL : jose_pkey_from_jwk(json_array_get(keys, 0), &je);
        if (pk)
            *err = SD_JWT_OK;
        return pk;
    }
    if (!kid)
        return NULL;
    json_array_foreach(keys, i, k) {
        char tp[JOSE_THUMBPRINT_LEN + 1];
        const char *kk = str_of(k, "kid");
        if (!kk && !jose_jwk_thumbprint(k, tp))
            kk = tp;
        if (!kk || strcmp(kk, kid))
            continue;
        jose_err je;
        EVP_PKEY *pk = jose_pkey_from_jwk(k, &je);
        if (pk) {
            *err = SD_JWT_OK;
            return pk;
        }
    }
    return NULL;
}

sd_jwt_err sd_jwt_verify_kb(const struct sd_jwt *sd, const char *aud, const char *nonce, uint64_t now)
{
    if (!sd->has_kb)
        return SD_JWT_ERR_KB_MISSING;
    const char *alg = str_of(sd->kb.header, "alg"), *typ = str_of(sd->kb.header, "typ");
    const char *k_aud = str_of(sd->kb_claims, "aud"), *k_nonce = str_of(sd->kb_claims, "nonce");
    const char *k_hash = str_of(sd->kb_claims, "sd_hash");
    json_t *iat = json_object_get(sd->kb_claims, "iat");
    if (!alg || strcmp(alg, "ES256") || !typ || strcmp(typ, SD_JWT_KB_TYP) || json_object_get(sd->kb.header, "crit") ||
        !k_aud || !k_nonce || !k_hash || !json_is_integer(iat))
        return SD_JWT_ERR_KB_FORMAT;
    json_t *jwk = json_object_get(json_object_get(sd->claims, "cnf"), "jwk");
    jose_err je;
    EVP_PKEY *key = json_is_object(jwk) && !json_object_get(jwk, "d") ? jose_pkey_from_jwk(jwk, &je) : NULL;
    if (!key)
        return SD_JWT_ERR_KB_CNF;
    int bad = jose_es256_verify(key, (const uint8_t *)sd->kb.signing_input, sd->kb.signing_input_len, sd->kb.sig,
                                sd->kb.sig_len) != JOSE_OK;
    EVP_PKEY_free(key);
    if (bad)
        return SD_JWT_ERR_KB_SIGNATURE;
    if (strlen(k_hash) != SD_JWT_DIGEST_LEN || CRYPTO_memcmp(k_hash, sd->sd_hash, SD_JWT_DIGEST_LEN))
        return SD_JWT_ERR_KB_SD_HASH;
    if (nonce && strcmp(k_nonce, nonce))
        return SD_JWT_ERR_KB_NONCE;
    if (aud && strcmp(k_aud, aud))
        return SD_JWT_ERR_KB_AUD;
    json_int_t t = json_integer_value(iat);
    if (t < 0 || (uint64_t)t > now + SD_JWT_KB_SKEW_S || (uint64_t)t + SD_JWT_KB_MAX_AGE_S < now)
        return SD_JWT_ERR_KB_TIME;
    return SD_JWT_OK;
}

sd_jwt_err sd_jwt_check_time(const struct sd_jwt *sd, uint64_t now)
{
    json_t *exp = json_object_get(sd->claims, "exp"), *nbf = json_object_get(sd->claims, "nbf");
    if (exp && (!json_is_integer(exp) || json_integer_value(exp) < 0 || (uint64_t)json_integer_value(exp) + 60 <= now))
        return SD_JWT_ERR_EXPIRED;
    if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) < 0 || (uint64_t)json_integer_value(nbf) > now + 60))
        return SD_JWT_ERR_EXPIRED;
    return SD_JWT_OK;
}

int sd_jwt_disclose(const char *name, const json_t *value, struct dynbuf *out, char digest[SD_JWT_DIGEST_LEN + 1])
{
    uint8_t salt[SD_JWT_SALT_BYTES];
    char s64[CODEC_B64URL_LEN(SD_JWT_SALT_BYTES)];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return -1;
    codec_b64url_encode(salt, sizeof salt, s64, sizeof s64);
    json_t *arr = name ? json_pack("[s, s, O]", s64, name, value) : json_pack("[s, O]", s64, value);
    char *txt = arr ? json_dumps(arr, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *b64 = txt ? codec_b64url_encode_alloc((const uint8_t *)txt, strlen(txt)) : NULL;
    json_decref(arr);
    free(txt);
    if (!b64)
        return -1;
    sd_jwt_digest(b64, strlen(b64), digest);
    dynbuf_addstr(out, b64);
    dynbuf_add(out, "~", 1);
    free(b64);
    return out->err ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sd_jwt_conceal(json_t *payload, const json_t *sd, unsigned ndecoys, struct dynbuf *out)
{
    size_t n = json_object_size(sd) + ndecoys, i = 0;
    char (*dg)[SD_JWT_DIGEST_LEN + 1] = calloc(n ? n : 1, sizeof *dg);
    const char **order = calloc(n ? n : 1, sizeof *order);
    json_t *arr = json_array(), *v;
    const char *k;
    int rc = -1;
    if (!dg || !order || !arr)
        goto done;
    json_object_foreach((json_t *)sd, k, v) {
        if (sd_jwt_disclose(k, v, out, dg[i]))
            goto done;
        i++;
    }
    for (unsigned d = 0; d < ndecoys; d++, i++) {
        uint8_t r[32];
        if (RAND_bytes(r, sizeof r) != 1)
            goto done;
        sd_jwt_digest((const char *)r, sizeof r, dg[i]);   /* the digest of a random value (RFC 9901 §4.2.5) */
    }
    for (i = 0; i < n; i++)
        order[i] = dg[i];
    qsort(order, n, sizeof *order, cmp_str);   /* sorted: the order says nothing about the claims */
    for (i = 0; i < n; i++)
        if (json_array_append_new(arr, json_string(order[i])))
            goto done;
    if (json_object_set(payload, "_sd", arr) || json_object_set_new(payload, "_sd_alg", json_string("sha-256")))
        goto done;
    rc = 0;
done:
    json_decref(arr);
    free(dg);
    free(order);
    return rc;
}
