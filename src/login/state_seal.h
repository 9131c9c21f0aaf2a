/* state_seal: the sealed form of a state snapshot (the bytes of state.v1) for storage outside the
 * VM: AES-256-GCM under a key only this machine and image can recover (login/seal/: vTPM PCR
 * policy, or the SNP firmware's derived key), with a header authenticated as additional data
 * that carries the key material and a save counter. With a vTPM the counter is the TPM's NV
 * monotonic counter, so an older blob is refused as a rollback; SNP has no counter (the object
 * store's precondition is the only guard there). Never does network I/O, never logs key bytes.
 *
 * Blob v1: "SLSEAL01" | kind u8 | 0 u8[3] | counter u64 | keymat_len u32 | keymat | nonce[12] |
 *          ciphertext | tag[16]        (big-endian; AAD = everything before the nonce) */
#ifndef SEALED_STATE_SEAL_H
#define SEALED_STATE_SEAL_H
#include <stddef.h>
#include <stdint.h>

typedef enum { STATE_SEAL_NONE = 0, STATE_SEAL_TPM = 1, STATE_SEAL_SNP = 2 } state_seal_kind;

typedef enum {
    SSEAL_OK = 0,
    SSEAL_ERR_UNAVAILABLE, /* no sealing backend (mode none, or nothing found for auto) */
    SSEAL_ERR_DEVICE,      /* the TPM or SNP device failed */
    SSEAL_ERR_FORMAT,      /* not a v1 blob, or it fails authentication (tampered, truncated) */
    SSEAL_ERR_KEY,         /* the key cannot be recovered here: another TPM/chip, another image */
    SSEAL_ERR_ROLLBACK,    /* older than the TPM's counter: an earlier save, refused */
    SSEAL_ERR_COUNTER,     /* the TPM's counter is gone or ahead of every blob we could have written */
    SSEAL_ERR_NOMEM,
} sseal_err;

const char *state_seal_strerror(sseal_err e);

struct state_seal;
/* mode "auto" (the TPM when tpm_dev answers, else SNP when sev_dev opens, else none), "tpm",
 * "snp", "none". pcr_mask: the SHA-256 PCRs the TPM key is sealed to. NULL only on OOM. */
struct state_seal *state_seal_new(const char *mode, const char *tpm_dev, const char *sev_dev, uint32_t pcr_mask);
void state_seal_free(struct state_seal *s);   /* wipes the key; NULL is fine */
state_seal_kind state_seal_kind_of(const struct state_seal *s);
/* "sealed-vtpm", "sealed-snp", or NULL (nothing seals). */
const char *state_seal_scope(const struct state_seal *s);
/* The counter of the last blob wrapped or opened (0 before). */
uint64_t state_seal_counter(const struct state_seal *s);

/* Seals plain into a new blob (*blob malloc'd, caller frees). The first call makes the key
 * (TPM: seals a new random key to the PCRs and defines the NV counter) unless unwrap found one.
 * With a TPM the blob's counter is the NV value + 1: the save is complete only once
 * state_seal_saved has incremented the NV counter after the store took the blob. */
sseal_err state_seal_wrap(struct state_seal *s, const uint8_t *plain, size_t n, uint8_t **blob, size_t *bloblen);
/* After the store accepted the blob from the last wrap: TPM NV_Increment (nothing for SNP). */
sseal_err state_seal_saved(struct state_seal *s);
/* Opens a blob: recovers its key, authenticates, decrypts (*plain malloc'd, caller frees with
 * OPENSSL_clear_free), and checks the counter: a TPM blob must carry the NV value (or NV + 1 when
 * the last save stopped between the upload and the increment: then the increment is done now).
 * The key is kept for later wraps. */
sseal_err state_seal_unwrap(struct state_seal *s, const uint8_t *blob, size_t len, uint8_t **plain, size_t *n);
#endif
