/* sevguest_shim: LD_PRELOAD interposer that makes the path in $SEVGUEST_SHIM_DEV behave like
 * the kernel's /dev/sev-guest (drivers/virt/coco/sev-guest, uapi linux/sev-guest.h) for the
 * process it is loaded into, so the provider's real open/ioctl code runs without SNP hardware.
 * Semantics kept from the kernel: msg_version must be non-zero; SNP_GET_EXT_REPORT needs a
 * page-aligned certs_len of at most 16 KiB and, when that is too small for the host's table,
 * fails with EIO, vmm_error SNP_GUEST_VMM_ERR_INVALID_LEN and certs_len set to what is needed.
 * Test knobs: SEVGUEST_SHIM_BUSY=N (first N requests: host busy), SEVGUEST_SHIM_NO_EXT=1 (host
 * without extended requests), SEVGUEST_SHIM_FAULTS (comma-separated, one item per request in
 * turn, busy answers not counted: "-" none, "eio" the firmware fails the request, "status" the
 * response carries a non-zero status, "size" a wrong report size), plus the snp_emu.h variables.
 * SNP_GET_DERIVED_KEY (MSG_KEY_REQ): a key derived, like the AMD-SP's, from a per-chip secret
 * ($SNP_EMU_CHIP_ID) and the fields the request selects (policy $SNP_EMU_POLICY, measurement
 * $SNP_EMU_MEASUREMENT, VMPL); a VMPL below the guest's (0) or a VMRK root is refused with status
 * 0x16 (INVALID_PARAM) as the firmware does for a guest without a migration agent.
 * Test code only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/sev-guest.h>
#include <stdio.h>
#include <openssl/sha.h>
#include "snp_emu.h"

#define FW_BLOB_MAX 0x4000u
#define PAGE 4096u

static volatile char emu_fds[1024];   /* fds opened on the emulated device (several users may open it) */
static int inited, busy_left = -1, request_no;

/* The fault planned for the current request ("-" when none). */
static const char *fault_now(void)
{
    const char *f = getenv("SEVGUEST_SHIM_FAULTS");
    static char item[16];
    int i = 1;
    while (f && *f) {
        size_t n = strcspn(f, ",");
        if (i == request_no) {
            memcpy(item, f, n < 15 ? n : 15);
            item[n < 15 ? n : 15] = 0;
            return item;
        }
        f += n + (f[n] == ',');
        i++;
    }
    return "-";
}

static int is_dev(const char *path)
{
    const char *d = getenv("SEVGUEST_SHIM_DEV");
    return d && path && !strcmp(path, d);
}

static int open_emu(void)
{
    if (!inited) {
        if (snp_emu_init() != 0) {
            errno = ENODEV;
            return -1;
        }
        inited = 1;
    }
    int (*real_open)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    int fd = real_open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0 && fd < (int)sizeof emu_fds)
        emu_fds[fd] = 1;
    return fd;
}

#define OPEN_WRAPPER(fn)                                                              \
    int fn(const char *path, int flags, ...)                                          \
    {                                                                                 \
        mode_t mode = 0;                                                              \
        if (flags & (O_CREAT | O_TMPFILE)) {                                          \
            va_list ap;                                                               \
            va_start(ap, flags);                                                      \
            mode = va_arg(ap, mode_t);                                                \
            va_end(ap);                                                               \
        }                                                                             \
        if (is_dev(path))                                                             \
            return open_emu();                                                        \
        int (*real)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #fn); \
        return real(path, flags, mode);                                               \
    }
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

int __open_2(const char *path, int flags)
{
    if (is_dev(path))
        return open_emu();
    int (*real)(const char *, int) = (int (*)(const char *, int))dlsym(RTLD_NEXT, "__open_2");
    return real(path, flags);
}

int __open64_2(const char *path, int flags)
{
    if (is_dev(path))
        return open_emu();
    int (*real)(const char *, int) = (int (*)(const char *, int))dlsym(RTLD_NEXT, "__open64_2");
    return real(path, flags);
}

int close(int fd)
{
    if (fd >= 0 && fd < (int)sizeof emu_fds)
        emu_fds[fd] = 0;
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "close");
    return real(fd);
}

static void fill_resp(struct snp_report_resp *resp, const uint8_t *report)
{
    memset(resp, 0, sizeof *resp);
    uint32_t size = SNP_EMU_REPORT_LEN, status = 0;
    if (!strcmp(fault_now(), "status"))
        status = 0x16;                          /* SEV_RET_INVALID_PARAM */
    if (!strcmp(fault_now(), "size"))
        size = 1000;
    memcpy(resp->data, &status, 4);
    memcpy(resp->data + 4, &size, 4);           /* status, report_size, 24 reserved bytes */
    memcpy(resp->data + 0x20, report, SNP_EMU_REPORT_LEN);
}

static int derived_key(struct snp_guest_request_ioctl *io)
{
    struct snp_derived_key_req *req = (struct snp_derived_key_req *)(uintptr_t)io->req_data;
    struct snp_derived_key_resp *resp = (struct snp_derived_key_resp *)(uintptr_t)io->resp_data;
    memset(resp, 0, sizeof *resp);
    if (req->rsvd || req->vmpl > 3 || req->root_key_select > 1 || (req->guest_field_select >> 6)) {
        uint32_t st = 0x16;
        memcpy(resp->data, &st, 4);
        return 0;
    }
    const char *chip = getenv("SNP_EMU_CHIP_ID"), *m = getenv("SNP_EMU_MEASUREMENT"), *pol = getenv("SNP_EMU_POLICY");
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "chip=%s|root=%u|vmpl=%u|sel=%llu|pol=%s|m=%s|svn=%u|tcb=%llu",
                     chip ? chip : "", req->root_key_select, req->vmpl,
                     (unsigned long long)req->guest_field_select,
                     (req->guest_field_select & 1) ? (pol ? pol : "30000") : "",
                     (req->guest_field_select & 8) ? (m ? m : "") : "",
                     (req->guest_field_select & 16) ? req->guest_svn : 0,
                     (unsigned long long)((req->guest_field_select & 32) ? req->tcb_version : 0));
    SHA256((const unsigned char *)msg, (size_t)n, resp->data + 32);
    return 0;
}

static int guest_request(unsigned long cmd, struct snp_guest_request_ioctl *io)
{
    uint8_t report[SNP_EMU_REPORT_LEN];
    if (!io->msg_version || !io->req_data || !io->resp_data) {
        errno = EINVAL;
        return -1;
    }
    io->exitinfo2 = 0;
    if (busy_left < 0)
        busy_left = getenv("SEVGUEST_SHIM_BUSY") ? atoi(getenv("SEVGUEST_SHIM_BUSY")) : 0;
    if (busy_left > 0) {
        busy_left--;
        io->exitinfo2 = (uint64_t)SNP_GUEST_VMM_ERR_BUSY << 32;
        errno = EIO;
        return -1;
    }
    request_no++;
    if (!strcmp(fault_now(), "eio")) {
        io->exitinfo2 = 0x16;                   /* firmware error, no VMM error */
        errno = EIO;
        return -1;
    }
    if (cmd == SNP_GET_DERIVED_KEY)
        return derived_key(io);
    struct snp_report_resp *resp = (struct snp_report_resp *)(uintptr_t)io->resp_data;
    if (cmd == SNP_GET_REPORT) {
        struct snp_report_req *req = (struct snp_report_req *)(uintptr_t)io->req_data;
        if (req->vmpl > 3) {
            errno = EINVAL;
            return -1;
        }
        if (snp_emu_report(req->user_data, req->vmpl, report) != 0) {
            errno = EIO;
            return -1;
        }
        fill_resp(resp, report);
        return 0;
    }
    struct snp_ext_report_req *req = (struct snp_ext_report_req *)(uintptr_t)io->req_data;
    if (req->data.vmpl > 3 || req->certs_len > FW_BLOB_MAX || req->certs_len % PAGE != 0) {
        errno = EINVAL;
        return -1;
    }
    if (getenv("SEVGUEST_SHIM_NO_EXT")) {     /* the host does not implement the request */
        io->exitinfo2 = 0xffffffffu;          /* firmware error, no VMM error */
        errno = EIO;
        return -1;
    }
    uint8_t *tab = NULL;
    size_t tl = 0;
    if (snp_emu_cert_table(&tab, &tl) != 0) {
        errno = EIO;
        return -1;
    }
    if (tl > req->certs_len) {
        req->certs_len = (uint32_t)((tl + PAGE - 1) / PAGE * PAGE);
        io->exitinfo2 = (uint64_t)SNP_GUEST_VMM_ERR_INVALID_LEN << 32;
        free(tab);
        errno = EIO;
        return -1;
    }
    if (snp_emu_report(req->data.user_data, req->data.vmpl, report) != 0) {
        free(tab);
        errno = EIO;
        return -1;
    }
    fill_resp(resp, report);
    uint8_t *dst = (uint8_t *)(uintptr_t)req->certs_address;
    memset(dst, 0, req->certs_len);
    if (tl)
        memcpy(dst, tab, tl);
    free(tab);
    return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fd >= 0 && fd < (int)sizeof emu_fds && emu_fds[fd]) {
        if (req == SNP_GET_REPORT || req == SNP_GET_EXT_REPORT || req == SNP_GET_DERIVED_KEY)
            return guest_request(req, arg);
        errno = ENOTTY;
        return -1;
    }
    int (*real)(int, unsigned long, ...) = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real(fd, req, arg);
}
