/* seal: the platform backends that give state_seal.c a 32-byte key only this VM (and this image)
 * can obtain again after a reboot, and, where one exists, a monotonic counter against rollback:
 *   seal_tpm.c  a random key in a TPM sealed-data object bound by PolicyPCR to the PCRs of the
 *               running boot chain, plus a TPM NV counter (TPM_NT_COUNTER);
 *   seal_snp.c  a key the AMD-SP derives (MSG_KEY_REQ) from the chip's VCEK and the launch
 *               measurement and policy; no counter exists there.
 * Key material that must travel with the blob (the TPM's sealed object, the SNP field selection)
 * is opaque "keymat". Keys are wiped by the caller (OPENSSL_cleanse). Never does network I/O. */
#ifndef SEALED_SEAL_H
#define SEALED_SEAL_H
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_LEN     32
#define SEAL_KEYMAT_MAX  1024
#define SEAL_NV_INDEX    0x0100534Cu   /* owner range; "SL" */

typedef enum {
    SEAL_OK = 0,
    SEAL_ERR_DEVICE,    /* the TPM or /dev/sev-guest cannot be reached or failed */
    SEAL_ERR_POLICY,    /* the key cannot be recovered here: another TPM, another image (PCRs), another chip */
    SEAL_ERR_FORMAT,    /* keymat malformed */
    SEAL_ERR_COUNTER,   /* the NV counter is missing (TPM cleared or another TPM) */
    SEAL_ERR_NOMEM,
} seal_err;

const char *seal_strerror(seal_err e);

/* TPM: a new random key sealed to the current values of the SHA-256 PCRs in pcr_mask under the
 * owner storage primary; defines the NV counter at nv_index when absent. Writes key and keymat. */
seal_err seal_tpm_new(const char *spec, uint32_t pcr_mask, uint32_t nv_index, uint8_t key[SEAL_KEY_LEN],
                      uint8_t *keymat, size_t *keymat_len);
/* TPM: recovers the key from keymat (SEAL_ERR_POLICY when the PCRs or the TPM differ). */
seal_err seal_tpm_open(const char *spec, const uint8_t *keymat, size_t keymat_len, uint8_t key[SEAL_KEY_LEN],
                       uint32_t *nv_index);
/* TPM: the counter's value (SEAL_ERR_COUNTER when the index does not exist or was never
 * incremented), and one increment. */
seal_err seal_tpm_counter(const char *spec, uint32_t nv_index, uint64_t *value);
seal_err seal_tpm_increment(const char *spec, uint32_t nv_index);

/* SNP: the derived key for keymat (a new one when *keymat_len is 0: field selection measurement +
 * policy, VMPL 0, VCEK root). */
seal_err seal_snp_key(const char *dev, uint8_t *keymat, size_t *keymat_len, uint8_t key[SEAL_KEY_LEN]);
#endif
