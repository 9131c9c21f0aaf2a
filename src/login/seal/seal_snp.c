/* seal/seal_snp: the SEV-SNP backend of state sealing. SNP_GET_DERIVED_KEY (MSG_KEY_REQ) asks
 * the AMD Secure Processor for a key derived from the chip's VCEK and the fields we select: the
 * launch measurement and the guest policy, at VMPL 0. The same image with the same policy on the
 * same chip gets the same key after a reboot; another image, policy or chip gets another key, so
 * the blob does not open. SNP has no monotonic counter: rollback is guarded only by the object
 * store's precondition (state_remote.c). Touches only the device named in the config. */
#include "login/seal/seal.h"
#include "login/log.h"
#include "common/byteorder.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sev-guest.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* guest_field_select bits (SNP ABI, MSG_KEY_REQ) */
#define FIELD_POLICY      (1u << 0)
#define FIELD_MEASUREMENT (1u << 3)

/* keymat: "SNP1" | root_key_select u32 | guest_field_select u64 | vmpl u32 (big-endian) */
#define KEYMAT_LEN 20

seal_err seal_snp_key(const char *dev, uint8_t *km, size_t *kl, uint8_t key[SEAL_KEY_LEN])
{
    if (!*kl) {
        memcpy(km, "SNP1", 4);
        put_be32(km + 4, 0);                                  /* VCEK: bound to this chip */
        put_be64(km + 8, FIELD_POLICY | FIELD_MEASUREMENT);
        put_be32(km + 16, 0);                                 /* VMPL 0 */
        *kl = KEYMAT_LEN;
    }
    if (*kl != KEYMAT_LEN || memcmp(km, "SNP1", 4))
        return SEAL_ERR_FORMAT;
    struct snp_derived_key_req req;
    struct snp_derived_key_resp resp;
    struct snp_guest_request_ioctl io;
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    memset(&io, 0, sizeof io);
    req.root_key_select = get_be32(km + 4);
    req.guest_field_select = get_be64(km + 8);
    req.vmpl = get_be32(km + 16);
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&req;
    io.resp_data = (uint64_t)(uintptr_t)&resp;
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        log_warn("seal.snp_open_failed", "errno=%d", errno);
        return SEAL_ERR_DEVICE;
    }
    int r = ioctl(fd, SNP_GET_DERIVED_KEY, &io);
    int err = errno;
    close(fd);
    seal_err rc = SEAL_OK;
    if (r) {
        log_warn("seal.snp_key_failed", "errno=%d exitinfo2=0x%llx", err, (unsigned long long)io.exitinfo2);
        rc = SEAL_ERR_DEVICE;
    } else if (get_le32(resp.data) != 0) {   /* MSG_KEY_RSP.status */
        log_warn("seal.snp_key_refused", "status=0x%x", get_le32(resp.data));
        rc = SEAL_ERR_POLICY;
    } else {
        /* the firmware's key, through HMAC so it is never used for anything but this state */
        unsigned int n = 0;
        static const char label[] = "sealed-login state key v1";
        if (!HMAC(EVP_sha256(), resp.data + 32, 32, (const uint8_t *)label, sizeof label - 1, key, &n) || n != 32)
            rc = SEAL_ERR_NOMEM;
    }
    OPENSSL_cleanse(&resp, sizeof resp);
    return rc;
}
