/* state_seal: AES-256-GCM framing of a state snapshot and the counter rules (state_seal.h). The
 * platform part (which key, which counter) is login/seal/'s; this file never touches a device
 * itself and never sees the network. */
#include "login/state_seal.h"
#include "login/seal/seal.h"
#include "login/fault.h"
#include "login/log.h"
#include "common/byteorder.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define MAGIC     "SLSEAL01"
#define HDR_FIXED 24            /* magic 8 | kind 1 | 0 3 | counter 8 | keymat_len 4 */
#define NONCE_LEN 12
#define TAG_LEN   16

struct state_seal {
    state_seal_kind kind;
    char *tpm_dev, *sev_dev;      /* owned */
    uint32_t pcr_mask, nv_index;
    uint8_t *key;                 /* owned (secure heap), SEAL_KEY_LEN; NULL until made or opened */
    uint8_t keymat[SEAL_KEYMAT_MAX];
    size_t keymat_len;
    uint64_t counter;             /* counter of the last blob wrapped or opened */
    uint64_t nv;                  /* TPM NV value as last read or set */
    int have_nv;
};

const char *state_seal_strerror(sseal_err e)
{
    switch (e) {
    case SSEAL_OK:              return "ok";
    case SSEAL_ERR_UNAVAILABLE: return "nothing on this machine can seal the state";
    case SSEAL_ERR_DEVICE:      return "the sealing device (TPM or SEV-SNP firmware) failed";
    case SSEAL_ERR_FORMAT:      return "the stored state is not a sealed state of this service, or it was altered";
    case SSEAL_ERR_KEY:         return "the stored state was sealed by another machine or another image (or altered), so it cannot be opened here";
    case SSEAL_ERR_ROLLBACK:    return "the stored state is older than the TPM's counter: an earlier copy was restored (rollback)";
    case SSEAL_ERR_COUNTER:     return "the TPM's monotonic counter does not match any state this machine saved (TPM cleared?)";
    case SSEAL_ERR_NOMEM:       return "out of memory";
    }
    return "?";
}

static sseal_err from_seal(seal_err e)
{
    switch (e) {
    case SEAL_OK:          return SSEAL_OK;
    case SEAL_ERR_POLICY:  return SSEAL_ERR_KEY;
    case SEAL_ERR_FORMAT:  return SSEAL_ERR_FORMAT;
    case SEAL_ERR_COUNTER: return SSEAL_ERR_COUNTER;
    case SEAL_ERR_NOMEM:   return SSEAL_ERR_NOMEM;
    default:               return SSEAL_ERR_DEVICE;
    }
}

static int tpm_answers(const char *spec)
{
    uint64_t v;
    /* any answer (even "no such counter") means a TPM is there */
    seal_err e = seal_tpm_counter(spec, SEAL_NV_INDEX, &v);
    return e == SEAL_OK || e == SEAL_ERR_COUNTER;
}

struct state_seal *state_seal_new(const char *mode, const char *tpm_dev, const char *sev_dev, uint32_t pcr_mask)
{
    struct state_seal *s = calloc(1, sizeof *s);
    if (!s || !(s->tpm_dev = strdup(tpm_dev ? tpm_dev : "")) || !(s->sev_dev = strdup(sev_dev ? sev_dev : ""))) {
        state_seal_free(s);
        return NULL;
    }
    s->pcr_mask = pcr_mask;
    s->nv_index = SEAL_NV_INDEX;
    if (!mode || !strcmp(mode, "none"))
        s->kind = STATE_SEAL_NONE;
    else if (!strcmp(mode, "tpm"))
        s->kind = STATE_SEAL_TPM;
    else if (!strcmp(mode, "snp"))
        s->kind = STATE_SEAL_SNP;
    else {   /* auto: the TPM first (it has a monotonic counter, and its key survives the VM moving to
              * another host; an SNP key is bound to one chip), else SNP */
        int fd = -1;
        if (tpm_dev && *tpm_dev && tpm_answers(tpm_dev))
            s->kind = STATE_SEAL_TPM;
        else if (sev_dev && *sev_dev && (fd = open(sev_dev, O_RDWR | O_CLOEXEC)) >= 0)
            s->kind = STATE_SEAL_SNP;
        else
            s->kind = STATE_SEAL_NONE;
        if (fd >= 0)
            close(fd);
    }
    return s;
}

void state_seal_free(struct state_seal *s)
{
    if (!s)
        return;
    if (s->key)
        OPENSSL_secure_clear_free(s->key, SEAL_KEY_LEN);
    free(s->tpm_dev);
    free(s->sev_dev);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

state_seal_kind state_seal_kind_of(const struct state_seal *s) { return s ? s->kind : STATE_SEAL_NONE; }
uint64_t state_seal_counter(const struct state_seal *s) { return s->counter; }

const char *state_seal_scope(const struct state_seal *s)
{
    switch (state_seal_kind_of(s)) {
    case STATE_SEAL_TPM: return "sealed-vtpm";
    case STATE_SEAL_SNP: return "sealed-snp";
    default:             return NULL;
    }
}

static sseal_err ensure_key(struct state_seal *s)
{
    if (s->key)
        return SSEAL_OK;
    if (!(s->key = OPENSSL_secure_malloc(SEAL_KEY_LEN)))
        return SSEAL_ERR_NOMEM;
    seal_err e = SEAL_ERR_DEVICE;
    s->keymat_len = 0;
    if (s->kind == STATE_SEAL_TPM)
        e = seal_tpm_new(s->tpm_dev, s->pcr_mask, s->nv_index, s->key, s->keymat, &s->keymat_len);
    else if (s->kind == STATE_SEAL_SNP)
        e = seal_snp_key(s->sev_dev, s->keymat, &s->keymat_len, s->key);
    if (!e && s->kind == STATE_SEAL_TPM) {
        e = seal_tpm_counter(s->tpm_dev, s->nv_index, &s->nv);
        s->have_nv = !e;
    }
    if (e) {
        OPENSSL_secure_clear_free(s->key, SEAL_KEY_LEN);
        s->key = NULL;
        return from_seal(e);
    }
    log_info("seal.key_made", "kind=%s", state_seal_scope(s));
    return SSEAL_OK;
}

sseal_err state_seal_wrap(struct state_seal *s, const uint8_t *plain, size_t n, uint8_t **blob, size_t *bloblen)
{
    *blob = NULL;
    if (s->kind == STATE_SEAL_NONE)
        return SSEAL_ERR_UNAVAILABLE;
    if (FAULT("seal_wrap"))
        return SSEAL_ERR_DEVICE;
    sseal_err rc = ensure_key(s);
    if (rc)
        return rc;
    uint64_t counter = s->kind == STATE_SEAL_TPM ? s->nv + 1 : s->counter + 1;
    size_t hl = HDR_FIXED + s->keymat_len, total = hl + NONCE_LEN + n + TAG_LEN;
    uint8_t *b = malloc(total);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int l = 0;
    if (!b || !ctx) {
        rc = SSEAL_ERR_NOMEM;
        goto done;
    }
    memcpy(b, MAGIC, 8);
    b[8] = (uint8_t)s->kind;
    b[9] = b[10] = b[11] = 0;
    put_be64(b + 12, counter);
    put_be32(b + 20, (uint32_t)s->keymat_len);
    memcpy(b + HDR_FIXED, s->keymat, s->keymat_len);
    uint8_t *nonce = b + hl, *ct = nonce + NONCE_LEN;
    if (RAND_bytes(nonce, NONCE_LEN) != 1 || !EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, s->key, nonce) ||
        !EVP_EncryptUpdate(ctx, NULL, &l, b, (int)hl) || !EVP_EncryptUpdate(ctx, ct, &l, plain, (int)n) ||
        !EVP_EncryptFinal_ex(ctx, ct + l, &l) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + n)) {
        rc = SSEAL_ERR_NOMEM;
        goto done;
    }
    s->counter = counter;
    *blob = b;
    *bloblen = total;
    b = NULL;
done:
    EVP_CIPHER_CTX_free(ctx);
    free(b);
    return rc;
}

sseal_err state_seal_saved(struct state_seal *s)
{
    if (s->kind != STATE_SEAL_TPM)
        return SSEAL_OK;
    if (FAULT("seal_counter"))
        return SSEAL_ERR_DEVICE;
    seal_err e = seal_tpm_increment(s->tpm_dev, s->nv_index);
    if (!e)
        e = seal_tpm_counter(s->tpm_dev, s->nv_index, &s->nv);
    if (e)
        return from_seal(e);
    if (s->nv != s->counter) {
        log_error("seal.counter_mismatch", "nv=%llu blob=%llu", (unsigned long long)s->nv, (unsigned long long)s->counter);
        return SSEAL_ERR_COUNTER;
    }
    return SSEAL_OK;
}

sseal_err state_seal_unwrap(struct state_seal *s, const uint8_t *b, size_t len, uint8_t **plain, size_t *n)
{
    *plain = NULL;
    if (s->kind == STATE_SEAL_NONE)
        return SSEAL_ERR_UNAVAILABLE;
    if (len < HDR_FIXED || memcmp(b, MAGIC, 8) || b[9] || b[10] || b[11])
        return SSEAL_ERR_FORMAT;
    if (b[8] != (uint8_t)s->kind)
        return SSEAL_ERR_KEY;   /* sealed by the other kind of platform */
    uint64_t counter = get_be64(b + 12);
    size_t kl = get_be32(b + 20);
    if (kl > SEAL_KEYMAT_MAX || len < HDR_FIXED + kl + NONCE_LEN + TAG_LEN)
        return SSEAL_ERR_FORMAT;
    size_t hl = HDR_FIXED + kl, cl = len - hl - NONCE_LEN - TAG_LEN;
    uint8_t key[SEAL_KEY_LEN], km[SEAL_KEYMAT_MAX];
    uint32_t nv_index = s->nv_index;
    size_t kml = kl;
    memcpy(km, b + HDR_FIXED, kl);
    seal_err se = FAULT("seal_unwrap") ? SEAL_ERR_DEVICE
                  : s->kind == STATE_SEAL_TPM ? seal_tpm_open(s->tpm_dev, km, kl, key, &nv_index)
                                              : seal_snp_key(s->sev_dev, km, &kml, key);
    if (se)
        return from_seal(se);
    sseal_err rc = SSEAL_OK;
    uint8_t *p = malloc(cl ? cl : 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int l = 0;
    const uint8_t *nonce = b + hl, *ct = nonce + NONCE_LEN;
    if (!p || !ctx) {
        rc = SSEAL_ERR_NOMEM;
        goto done;
    }
    if (!EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) || !EVP_DecryptUpdate(ctx, NULL, &l, b, (int)hl) ||
        !EVP_DecryptUpdate(ctx, p, &l, ct, (int)cl) ||
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)(ct + cl)) || EVP_DecryptFinal_ex(ctx, p + l, &l) <= 0) {
        /* SNP derives a key for any chip and image: another one shows only here, as a wrong key */
        rc = s->kind == STATE_SEAL_SNP ? SSEAL_ERR_KEY : SSEAL_ERR_FORMAT;
        goto done;
    }
    if (s->kind == STATE_SEAL_TPM) {
        uint64_t nv = 0;
        seal_err e = seal_tpm_counter(s->tpm_dev, nv_index, &nv);
        if (e) {
            rc = from_seal(e);
            goto done;
        }
        if (counter < nv) {
            log_error("seal.rollback", "blob=%llu nv=%llu", (unsigned long long)counter, (unsigned long long)nv);
            rc = SSEAL_ERR_ROLLBACK;
            goto done;
        }
        if (counter > nv + 1) {
            log_error("seal.counter_ahead", "blob=%llu nv=%llu", (unsigned long long)counter, (unsigned long long)nv);
            rc = SSEAL_ERR_COUNTER;
            goto done;
        }
        if (counter == nv + 1) {   /* the last save reached the store but not the increment */
            if ((e = seal_tpm_increment(s->tpm_dev, nv_index))) {
                rc = from_seal(e);
                goto done;
            }
            nv++;
            log_info("seal.counter_caught_up", "nv=%llu", (unsigned long long)nv);
        }
        s->nv = nv;
        s->have_nv = 1;
    }
    if (!s->key && !(s->key = OPENSSL_secure_malloc(SEAL_KEY_LEN))) {
        rc = SSEAL_ERR_NOMEM;
        goto done;
    }
    memcpy(s->key, key, SEAL_KEY_LEN);
    memcpy(s->keymat, km, kl);
    s->keymat_len = kl;
    s->nv_index = nv_index;
    s->counter = counter;
    *plain = p;
    *n = cl;
    p = NULL;
done:
    OPENSSL_cleanse(key, sizeof key);
    EVP_CIPHER_CTX_free(ctx);
    if (p)
        OPENSSL_clear_free(p, cl ? cl : 1);
    return rc;
}
