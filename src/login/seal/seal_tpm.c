/* seal/seal_tpm: the vTPM backend of state sealing. The key is random, sealed once per state
 * lineage into a KEYEDHASH object under the owner hierarchy's ECC storage primary (re-created
 * from its template on every boot: same TPM seed, same key), with authPolicy = PolicyPCR over the
 * PCRs of the boot chain (our UKI: the values the manifest predicts); the NV counter at
 * SEAL_NV_INDEX orders the saves. Talks only to the TPM named in the config, through
 * attest/tpm2_wire (the same hand-marshalled transport the quote provider uses). */
#include "login/seal/seal.h"
#include "login/attest/tpm2_wire.h"
#include "login/log.h"
#include "common/byteorder.h"
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* keymat: nv_index u32 | pcr_mask u32 | priv_len u16 | priv | pub_len u16 | pub (big-endian) */

const char *seal_strerror(seal_err e)
{
    switch (e) {
    case SEAL_OK:          return "ok";
    case SEAL_ERR_DEVICE:  return "the sealing device failed or cannot be reached";
    case SEAL_ERR_POLICY:  return "the key cannot be recovered on this machine (another TPM, chip or image)";
    case SEAL_ERR_FORMAT:  return "malformed key material";
    case SEAL_ERR_COUNTER: return "the TPM's monotonic counter is missing (TPM cleared, or another TPM)";
    case SEAL_ERR_NOMEM:   return "out of memory";
    }
    return "?";
}

static seal_err werr(struct tpm2w_conn *c, tpm2w_err e, const char *what)
{
    log_warn("seal.tpm_failed", "step=%s err=%d rc=0x%x", what, (int)e, c ? tpm2w_last_rc(c) : 0);
    return e == TPM2W_ERR_NOMEM ? SEAL_ERR_NOMEM : SEAL_ERR_DEVICE;
}

static seal_err primary(struct tpm2w_conn *c, uint32_t *h)
{
    uint8_t tmpl[128], pub[512];
    size_t tl = tpm2w_storage_template_ecc_p256(tmpl, sizeof tmpl), pl;
    tpm2w_err e = tl ? tpm2w_create_primary(c, TPM2_RH_OWNER, tmpl, tl, h, pub, sizeof pub, &pl) : TPM2W_ERR_INVAL;
    return e ? werr(c, e, "create_primary") : SEAL_OK;
}

seal_err seal_tpm_new(const char *spec, uint32_t pcr_mask, uint32_t nv_index, uint8_t key[SEAL_KEY_LEN],
                      uint8_t *keymat, size_t *keymat_len)
{
    struct tpm2w_conn *c = NULL;
    uint8_t pcrs[24][32], policy[32], priv[512], pub[256];
    size_t privlen = 0, publen = 0;
    uint32_t upd, h = 0, attrs;
    uint16_t size;
    seal_err rc = SEAL_OK;
    tpm2w_err e;
    if ((e = tpm2w_open(spec, &c)))
        return werr(NULL, e, "open");
    if ((e = tpm2w_pcr_read_sha256(c, pcr_mask, pcrs, &upd)) || tpm2w_policy_pcr_digest(pcr_mask, pcrs, policy)) {
        rc = werr(c, e, "pcr_read");
        goto done;
    }
    if ((rc = primary(c, &h)))
        goto done;
    if (RAND_bytes(key, SEAL_KEY_LEN) != 1) {
        rc = SEAL_ERR_NOMEM;
        goto done;
    }
    e = tpm2w_create_sealed(c, h, policy, key, SEAL_KEY_LEN, priv, sizeof priv, &privlen, pub, sizeof pub, &publen);
    tpm2w_flush(c, h);
    if (e) {
        rc = werr(c, e, "create_sealed");
        goto done;
    }
    e = tpm2w_nv_read_public(c, nv_index, &attrs, &size);
    if (e == TPM2W_ERR_TPM && tpm2w_rc_is_handle(tpm2w_last_rc(c))) {
        if ((e = tpm2w_nv_define_counter(c, nv_index)) || (e = tpm2w_nv_increment(c, nv_index))) {
            rc = werr(c, e, "nv_define");
            goto done;
        }
        log_info("seal.tpm_counter_defined", "index=0x%08x", nv_index);
    } else if (e) {
        rc = werr(c, e, "nv_read_public");
        goto done;
    } else if ((attrs & 0xF0u) != 0x10u) {
        log_error("seal.tpm_counter_wrong_type", "index=0x%08x attrs=0x%08x", nv_index, attrs);
        rc = SEAL_ERR_COUNTER;
        goto done;
    }
    if (12 + privlen + publen > SEAL_KEYMAT_MAX) {
        rc = SEAL_ERR_FORMAT;
        goto done;
    }
    put_be32(keymat, nv_index);
    put_be32(keymat + 4, pcr_mask);
    put_be16(keymat + 8, (uint16_t)privlen);
    memcpy(keymat + 10, priv, privlen);
    put_be16(keymat + 10 + privlen, (uint16_t)publen);
    memcpy(keymat + 12 + privlen, pub, publen);
    *keymat_len = 12 + privlen + publen;
done:
    if (rc)
        OPENSSL_cleanse(key, SEAL_KEY_LEN);
    tpm2w_close(c);
    return rc;
}

seal_err seal_tpm_open(const char *spec, const uint8_t *km, size_t kl, uint8_t key[SEAL_KEY_LEN], uint32_t *nv_index)
{
    if (kl < 12)
        return SEAL_ERR_FORMAT;
    uint32_t mask = get_be32(km + 4);
    size_t privlen = get_be16(km + 8);
    if (10 + privlen + 2 > kl)
        return SEAL_ERR_FORMAT;
    size_t publen = get_be16(km + 10 + privlen);
    if (12 + privlen + publen != kl || mask >> 24)
        return SEAL_ERR_FORMAT;
    *nv_index = get_be32(km);
    struct tpm2w_conn *c = NULL;
    uint32_t h = 0, item = 0;
    uint8_t out[64];
    size_t n = 0;
    seal_err rc = SEAL_OK;
    tpm2w_err e;
    if ((e = tpm2w_open(spec, &c)))
        return werr(NULL, e, "open");
    if ((rc = primary(c, &h)))
        goto done;
    e = tpm2w_load(c, h, km + 10, privlen, km + 12 + privlen, publen, &item);
    tpm2w_flush(c, h);
    if (e) {
        /* integrity or a different storage key: the object was made by another TPM (or owner seed) */
        log_warn("seal.tpm_load_refused", "rc=0x%x", tpm2w_last_rc(c));
        rc = e == TPM2W_ERR_TPM ? SEAL_ERR_POLICY : werr(c, e, "load");
        goto done;
    }
    e = tpm2w_unseal_pcr(c, item, mask, out, sizeof out, &n);
    tpm2w_flush(c, item);
    if (e == TPM2W_ERR_TPM) {
        log_warn("seal.tpm_policy_refused", "rc=0x%x pcr_mask=0x%x", tpm2w_last_rc(c), mask);
        rc = SEAL_ERR_POLICY;
    } else if (e)
        rc = werr(c, e, "unseal");
    else if (n != SEAL_KEY_LEN)
        rc = SEAL_ERR_FORMAT;
    else
        memcpy(key, out, SEAL_KEY_LEN);
done:
    OPENSSL_cleanse(out, sizeof out);
    tpm2w_close(c);
    return rc;
}

seal_err seal_tpm_counter(const char *spec, uint32_t nv_index, uint64_t *value)
{
    struct tpm2w_conn *c = NULL;
    uint8_t v[8];
    size_t n = 0;
    tpm2w_err e = tpm2w_open(spec, &c);
    if (e)
        return werr(NULL, e, "open");
    e = tpm2w_nv_read_all(c, nv_index, v, sizeof v, &n);
    seal_err rc = SEAL_OK;
    if (e == TPM2W_ERR_TPM)
        rc = SEAL_ERR_COUNTER;   /* no such index, or never incremented */
    else if (e)
        rc = werr(c, e, "nv_read");
    else if (n != 8)
        rc = SEAL_ERR_COUNTER;
    else
        *value = get_be64(v);
    tpm2w_close(c);
    return rc;
}

seal_err seal_tpm_increment(const char *spec, uint32_t nv_index)
{
    struct tpm2w_conn *c = NULL;
    tpm2w_err e = tpm2w_open(spec, &c);
    if (!e)
        e = tpm2w_nv_increment(c, nv_index);
    seal_err rc = e ? werr(c, e, "nv_increment") : SEAL_OK;
    tpm2w_close(c);
    return rc;
}
