/* attest/tpm2_wire: the few TPM 2.0 commands the tpm2 provider needs, marshalled by hand (Part 3
 * of the TPM 2.0 Library specification), over a small transport: the kernel's resource-managed
 * character device in production, a swtpm socket (raw command stream) in tests, and the
 * attestation-key template. The structures a quote travels in (TPMS_ATTEST, TPMT_SIGNATURE,
 * TPMT_PUBLIC) and the TPM constants are common/tpm2_struct's, shared with sealed-verify. Only
 * empty-password sessions (TPM_RS_PW) are used: no secret ever crosses this module. Never touches
 * files other than the TPM it is given. */
#ifndef SEALED_TPM2_WIRE_H
#define SEALED_TPM2_WIRE_H
#include <stddef.h>
#include <stdint.h>
#include "common/tpm2_struct.h"

typedef enum {
    TPM2W_OK = 0,
    TPM2W_ERR_IO,      /* open/read/write failed, peer closed, or timed out */
    TPM2W_ERR_PROTO,   /* malformed or truncated response or structure */
    TPM2W_ERR_TPM,     /* the TPM answered with a non-zero response code (tpm2w_last_rc) */
    TPM2W_ERR_NOMEM,
    TPM2W_ERR_CRYPTO,  /* OpenSSL failed, or a signature/digest did not verify */
    TPM2W_ERR_INVAL,   /* caller error: bad spec, buffer too small, unsupported algorithm */
} tpm2w_err;

#define TPM2W_RC_HANDLE_BASE  0x08Bu   /* TPM_RC_HANDLE (format-one, masked) */

struct tpm2w_conn;   /* one open TPM: owns the file descriptor and its buffers */

/* Opens a TPM. spec is a character device path ("/dev/tpmrm0"), "unix:/path/to/socket" or
 * "tcp:HOST:PORT" (swtpm's server socket, which carries the raw command stream). The device path
 * must be the resource-managed one when other users share the TPM. *out is owned by the caller
 * (tpm2w_close). */
tpm2w_err tpm2w_open(const char *spec, struct tpm2w_conn **out);
void tpm2w_close(struct tpm2w_conn *c);   /* accepts NULL */
/* The response code of the last command that returned TPM2W_ERR_TPM. */
uint32_t tpm2w_last_rc(const struct tpm2w_conn *c);
/* True when rc (from tpm2w_last_rc) means "no such handle/index" (TPM_RC_HANDLE in any position). */
int tpm2w_rc_is_handle(uint32_t rc);

/* Sends one marshalled command and reads its response into rsp (cap bytes); checks the header
 * (tag, size) and returns TPM2W_ERR_TPM with the code kept when rc != 0. */
tpm2w_err tpm2w_transact(struct tpm2w_conn *c, const uint8_t *cmd, size_t cmdlen,
                         uint8_t *rsp, size_t cap, size_t *rsplen);

/* ---- commands ---------------------------------------------------------------------------- */
/* TPM2_GetCapability(TPM_PT_MANUFACTURER): a cheap "is this a TPM 2.0 that answers" probe. */
tpm2w_err tpm2w_get_manufacturer(struct tpm2w_conn *c, uint32_t *manufacturer);
/* TPM2_NV_ReadPublic: *attrs = TPMA_NV, *size = dataSize. TPM2W_ERR_TPM with a handle rc when
 * the index does not exist. */
tpm2w_err tpm2w_nv_read_public(struct tpm2w_conn *c, uint32_t index, uint32_t *attrs, uint16_t *size);
/* Reads a whole NV index (at most cap bytes) with an empty password, authorising as the owner
 * when the index allows OWNERREAD, else as the index itself (AUTHREAD). */
tpm2w_err tpm2w_nv_read_all(struct tpm2w_conn *c, uint32_t index, uint8_t *out, size_t cap, size_t *len);
/* TPM2_CreatePrimary under hierarchy (empty auth) from a marshalled TPMT_PUBLIC template.
 * Writes the transient handle and the new key's TPMT_PUBLIC (pubcap bytes at most). */
tpm2w_err tpm2w_create_primary(struct tpm2w_conn *c, uint32_t hierarchy, const uint8_t *tmpl,
                               size_t tmpl_len, uint32_t *handle, uint8_t *pub, size_t pubcap,
                               size_t *publen);
tpm2w_err tpm2w_flush(struct tpm2w_conn *c, uint32_t handle);
/* TPM2_PCR_Read of the SHA-256 bank for the PCRs in mask (bit i = PCR i, i < 24), looping until
 * all were returned. Writes pcrs[i] for each i in mask and the last pcrUpdateCounter. */
tpm2w_err tpm2w_pcr_read_sha256(struct tpm2w_conn *c, uint32_t mask, uint8_t pcrs[24][32],
                                uint32_t *update_counter);
/* TPM2_Quote with the key's own scheme over the SHA-256 PCRs in mask. Writes the TPMS_ATTEST
 * (the TPM2B_ATTEST's contents) and the marshalled TPMT_SIGNATURE. */
tpm2w_err tpm2w_quote_sha256(struct tpm2w_conn *c, uint32_t key, const uint8_t *qual, size_t qual_len,
                             uint32_t mask, uint8_t *attest, size_t acap, size_t *alen,
                             uint8_t *sig, size_t scap, size_t *slen);

/* ---- sealing (login/seal/seal_tpm.c) ----------------------------------------------------
 * These are the only commands that carry a secret (the sealed state key): the command and
 * response buffers are wiped after each of them. The key crosses the TPM interface in the clear
 * (no parameter encryption): on a vTPM the host that runs the vTPM sees it anyway. */
/* The policy digest of TPM2_PolicyPCR over the SHA-256 PCRs in mask with the given values (a
 * trial session computed here): what a sealed object's authPolicy must be. 0 or -1. */
int tpm2w_policy_pcr_digest(uint32_t mask, const uint8_t pcrs[24][32], uint8_t out[32]);
/* The storage primary template: ECC P-256 restricted decryption key, AES-128-CFB, noDA. Same
 * template under the owner hierarchy = the same key on every boot of the same TPM. */
size_t tpm2w_storage_template_ecc_p256(uint8_t *out, size_t cap);
/* TPM2_Create of a sealed data object (KEYEDHASH) holding data, usable only through policy (no
 * userWithAuth), under parent. Writes TPM2B_PRIVATE's and TPM2B_PUBLIC's contents. */
tpm2w_err tpm2w_create_sealed(struct tpm2w_conn *c, uint32_t parent, const uint8_t policy[32],
                              const uint8_t *data, size_t data_len, uint8_t *priv, size_t privcap,
                              size_t *privlen, uint8_t *pub, size_t pubcap, size_t *publen);
/* TPM2_Load; *handle is transient (tpm2w_flush). */
tpm2w_err tpm2w_load(struct tpm2w_conn *c, uint32_t parent, const uint8_t *priv, size_t privlen,
                     const uint8_t *pub, size_t publen, uint32_t *handle);
/* StartAuthSession (policy, unsalted) → PolicyPCR(mask, current values) → Unseal(item). Fails
 * with TPM2W_ERR_TPM (a policy rc) when the PCRs differ from those the object was sealed to. The
 * caller wipes out. */
tpm2w_err tpm2w_unseal_pcr(struct tpm2w_conn *c, uint32_t item, uint32_t mask, uint8_t *out, size_t cap,
                           size_t *len);
/* NV_DefineSpace (owner, empty auth) of an 8-byte monotonic counter (TPM_NT_COUNTER, AUTHREAD,
 * AUTHWRITE, NO_DA); it has no value until the first increment. */
tpm2w_err tpm2w_nv_define_counter(struct tpm2w_conn *c, uint32_t index);
tpm2w_err tpm2w_nv_increment(struct tpm2w_conn *c, uint32_t index);

/* ---- structures -------------------------------------------------------------------------- */
/* Writes our default attestation key template (TPMT_PUBLIC): ECC NIST P-256, restricted signing,
 * ECDSA-SHA256, fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth, no policy. Returns the
 * length or 0 when cap is too small. */
size_t tpm2w_ak_template_ecc_p256(uint8_t *out, size_t cap);
#endif
