/* login_state: random tokens, PKCE S256 and the sealed cookie
 * (base64url(iv[12] || AES-256-GCM(plaintext) || tag[16]), plaintext "v1|exp|state|verifier|nonce"). */
#include "login/login_state.h"
#include "login/limits.h"
#include "common/binding.h"
#include "common/codec.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

struct login_state_keys {
    uint8_t key[32];
};

static const char AAD[] = "sealed-login login cookie v1";

struct login_state_keys *login_state_keys_new(void)
{
    struct login_state_keys *k = OPENSSL_secure_zalloc(sizeof *k);
    if (k && RAND_bytes(k->key, sizeof k->key) != 1) {
        OPENSSL_secure_clear_free(k, sizeof *k);
        k = NULL;
    }
    return k;
}

struct login_state_keys *login_state_keys_from(const uint8_t key[32])
{
    struct login_state_keys *k = OPENSSL_secure_zalloc(sizeof *k);
    if (k)
        memcpy(k->key, key, sizeof k->key);
    return k;
}

void login_state_keys_free(struct login_state_keys *k)
{
    if (k)
        OPENSSL_secure_clear_free(k, sizeof *k);
}

int login_random_token(char out[LOGIN_TOKEN_LEN + 1])
{
    uint8_t r[32];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    codec_b64url_encode(r, sizeof r, out, LOGIN_TOKEN_LEN + 1);
    OPENSSL_cleanse(r, sizeof r);
    return 0;
}

int login_pending_new(struct login_pending *p, time_t now)
{
    memset(p, 0, sizeof *p);
    p->expires = (uint64_t)now + LOGIN_STATE_TTL_S;
    return login_random_token(p->state) || login_random_token(p->verifier) || login_random_token(p->nonce) ? -1 : 0;
}

void login_pkce_challenge(const char *verifier, char out[LOGIN_TOKEN_LEN + 1])
{
    uint8_t h[32];
    EVP_Digest(verifier, strlen(verifier), h, NULL, EVP_sha256(), NULL);
    codec_b64url_encode(h, sizeof h, out, LOGIN_TOKEN_LEN + 1);
}

int login_nonces(const struct login_pending *p, char nonce_hex[33], char oidc[44])
{
    static const char prefix[] = "sealed-login result nonce v1|";
    uint8_t h[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, prefix, sizeof prefix - 1) &&
             EVP_DigestUpdate(md, p->nonce, strnlen(p->nonce, LOGIN_TOKEN_LEN)) && EVP_DigestFinal_ex(md, h, NULL);
    EVP_MD_CTX_free(md);
    if (!ok || strnlen(p->nonce, LOGIN_TOKEN_LEN + 1) != LOGIN_TOKEN_LEN)
        return -1;
    codec_hex_encode(h, BINDING_NONCE_LEN, nonce_hex, 2 * BINDING_NONCE_LEN + 1);
    OPENSSL_cleanse(h, sizeof h);
    return binding_oidc_nonce(nonce_hex, oidc);
}

char *login_cookie_seal(const struct login_state_keys *k, const struct login_pending *p)
{
    char pt[256];
    int n = snprintf(pt, sizeof pt, "v1|%" PRIu64 "|%s|%s|%s", p->expires, p->state, p->verifier, p->nonce);
    uint8_t blob[12 + sizeof pt + 16];
    char *out = NULL;
    int len = 0, fl = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (n <= 0 || (size_t)n >= sizeof pt || !c || RAND_bytes(blob, 12) != 1 ||
        EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->key, blob) != 1 ||
        EVP_EncryptUpdate(c, NULL, &len, (const uint8_t *)AAD, (int)strlen(AAD)) != 1 ||
        EVP_EncryptUpdate(c, blob + 12, &len, (const uint8_t *)pt, n) != 1 ||
        EVP_EncryptFinal_ex(c, blob + 12 + len, &fl) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, blob + 12 + len + fl) != 1)
        goto out;
    out = codec_b64url_encode_alloc(blob, (size_t)(12 + len + fl + 16));
out:
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(pt, sizeof pt);
    return out;
}

/* Splits "v1|exp|state|verifier|nonce" into p; 0 or -1. */
static int parse_plain(const char *s, size_t len, struct login_pending *p)
{
    const char *f[5];
    size_t fl[5];
    size_t start = 0;
    int nf = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '|') {
            if (nf == 5)
                return -1;
            f[nf] = s + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    }
    if (nf != 5 || fl[0] != 2 || memcmp(f[0], "v1", 2) || fl[2] != LOGIN_TOKEN_LEN ||
        fl[3] != LOGIN_TOKEN_LEN || fl[4] != LOGIN_TOKEN_LEN ||
        codec_parse_u64(f[1], fl[1], 1, UINT64_MAX, &p->expires))
        return -1;
    memcpy(p->state, f[2], LOGIN_TOKEN_LEN);
    memcpy(p->verifier, f[3], LOGIN_TOKEN_LEN);
    memcpy(p->nonce, f[4], LOGIN_TOKEN_LEN);
    p->state[LOGIN_TOKEN_LEN] = p->verifier[LOGIN_TOKEN_LEN] = p->nonce[LOGIN_TOKEN_LEN] = 0;
    return 0;
}

login_state_err login_cookie_check(const struct login_state_keys *k, const char *cookie, size_t cookie_len,
                                   const char *state, size_t state_len, time_t now, struct login_pending *p)
{
    memset(p, 0, sizeof *p);
    if (!cookie || !cookie_len)
        return LOGIN_STATE_MISSING;
    if (cookie_len > LIMIT_COOKIE_BYTES)
        return LOGIN_STATE_INVALID;
    uint8_t blob[LIMIT_COOKIE_BYTES];
    uint8_t pt[LIMIT_COOKIE_BYTES];
    size_t bl = codec_b64url_decode(cookie, cookie_len, blob, sizeof blob);
    login_state_err rc = LOGIN_STATE_INVALID;
    int len = 0, fl = 0;
    EVP_CIPHER_CTX *c = NULL;
    if (bl == (size_t)-1 || bl < 12 + 16 + 1)
        goto out;
    c = EVP_CIPHER_CTX_new();
    if (!c || EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->key, blob) != 1 ||
        EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)AAD, (int)strlen(AAD)) != 1 ||
        EVP_DecryptUpdate(c, pt, &len, blob + 12, (int)(bl - 12 - 16)) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, blob + bl - 16) != 1 ||
        EVP_DecryptFinal_ex(c, pt + len, &fl) != 1)
        goto out;
    if (parse_plain((const char *)pt, (size_t)(len + fl), p))
        goto out;
    if (p->expires < (uint64_t)now) {
        rc = LOGIN_STATE_EXPIRED;
        goto out;
    }
    if (state_len != LOGIN_TOKEN_LEN || CRYPTO_memcmp(state, p->state, LOGIN_TOKEN_LEN)) {
        rc = LOGIN_STATE_MISMATCH;
        goto out;
    }
    rc = LOGIN_STATE_OK;
out:
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(pt, sizeof pt);
    if (rc != LOGIN_STATE_OK)
        OPENSSL_cleanse(p, sizeof *p);
    return rc;
}

const char *login_state_strerror(login_state_err e)
{
    switch (e) {
    case LOGIN_STATE_OK: return "ok";
    case LOGIN_STATE_MISSING: return "login cookie missing";
    case LOGIN_STATE_INVALID: return "login cookie invalid";
    case LOGIN_STATE_EXPIRED: return "login expired";
    case LOGIN_STATE_MISMATCH: return "state does not match";
    }
    return "unknown";
}
