/* attest/snp_ioctl: SEV-SNP evidence through /dev/sev-guest (uapi linux/sev-guest.h) for kernels
 * without configfs-tsm: SNP_GET_EXT_REPORT with the host's certificate table, growing the buffer
 * when the host says it is too small, falling back to SNP_GET_REPORT when the host has no
 * extended request. Only used when configfs-tsm does not offer sev_guest (attest/snp_tsm.c then
 * does the same through the same driver). Touches only the sev-guest device (and KDS). */
#include "login/attest.h"
#include "login/config.h"
#include "login/log.h"
#include "login/attest/attest_util.h"
#include "login/attest/snp_common.h"
#include "login/attest/tsm.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/sev-guest.h>

#define DEFAULT_SEV_GUEST "/dev/sev-guest"
#define PAGE 4096u
#define VMM_ERR(x) ((uint32_t)((x) >> 32))
#define VMM_INVALID_LEN 1u
#define VMM_BUSY        2u

struct snp_ioctl_state {
    int      fd;                 /* owned */
    int      no_ext;             /* the driver has no SNP_GET_EXT_REPORT: plain reports only */
    uint32_t version;
    struct snp_ev_cache chain;
};

static void snp_ioctl_free(void *arg)
{
    struct snp_ioctl_state *s = arg;
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    snp_ev_cache_clear(&s->chain);
    free(s);
}

/* Issues one ioctl, retrying while the host reports busy. Returns 0, or -1 with errno and
 * *exitinfo2 as the kernel left them. */
static int guest_request(int fd, unsigned long cmd, void *req, struct snp_report_resp *resp, uint64_t *exitinfo2)
{
    for (int i = 0; i < ATTEST_SNP_FW_RETRIES; i++) {
        struct snp_guest_request_ioctl io;
        memset(&io, 0, sizeof io);
        io.msg_version = 1;
        io.req_data = (uint64_t)(uintptr_t)req;
        io.resp_data = (uint64_t)(uintptr_t)resp;
        int r = ioctl(fd, cmd, &io);
        *exitinfo2 = io.exitinfo2;
        if (r == 0)
            return 0;
        if (errno == EIO && VMM_ERR(io.exitinfo2) == VMM_BUSY) {
            struct timespec ts = { 0, 100000000L << (i < 3 ? i : 3) };
            nanosleep(&ts, NULL);
            continue;
        }
        return -1;
    }
    errno = EBUSY;
    return -1;
}

static int report_once(struct snp_ioctl_state *s, const uint8_t rd[64], json_t **out, char *err, size_t errlen)
{
    struct snp_report_resp *resp = calloc(1, sizeof *resp);
    uint8_t *certs = NULL;
    size_t certs_len = 0;
    uint64_t ei = 0;
    int rc = -1;
    if (!resp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct snp_ext_report_req ext;
    memset(&ext, 0, sizeof ext);
    memcpy(ext.data.user_data, rd, 64);
    ext.data.vmpl = 0;
    int done = 0, plain = s->no_ext;
    if (!s->no_ext) {
        uint32_t cap = PAGE;     /* VCEK+ASK+ARK need ~2 pages: the host tells us */
        for (int tries = 0; tries < 3 && !done && !plain; tries++) {
            uint8_t *nc = realloc(certs, cap);
            if (!nc) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            certs = nc;
            memset(certs, 0, cap);
            ext.certs_address = (uint64_t)(uintptr_t)certs;
            ext.certs_len = cap;
            if (guest_request(s->fd, SNP_GET_EXT_REPORT, &ext, resp, &ei) == 0) {
                certs_len = cap;
                done = 1;
            } else if (errno == EIO && VMM_ERR(ei) == VMM_INVALID_LEN && ext.certs_len > cap &&
                       ext.certs_len <= ATTEST_SNP_CERTS_MAX) {
                cap = (ext.certs_len + PAGE - 1) / PAGE * PAGE;   /* the host said how much */
            } else if (errno == ENOTTY || errno == EOPNOTSUPP) {
                s->no_ext = plain = 1;                           /* this driver never will */
            } else if (errno == EIO && VMM_ERR(ei) != VMM_BUSY) {
                plain = 1;     /* host without (working) extended requests: a plain report */
            } else {
                snprintf(err, errlen, "SNP_GET_EXT_REPORT: %s (exitinfo2 0x%llx)", strerror(errno),
                         (unsigned long long)ei);
                goto fail;
            }
        }
        if (!done && !plain) {
            snprintf(err, errlen, "SNP_GET_EXT_REPORT: certificate buffer kept growing");
            goto fail;
        }
    }
    if (!done) {
        free(certs);
        certs = NULL;
        certs_len = 0;
        memset(resp, 0, sizeof *resp);
        if (guest_request(s->fd, SNP_GET_REPORT, &ext.data, resp, &ei) != 0) {
            snprintf(err, errlen, "SNP_GET_REPORT: %s (exitinfo2 0x%llx)", strerror(errno), (unsigned long long)ei);
            goto fail;
        }
    }
    /* MSG_REPORT_RSP: status, report_size, 24 reserved bytes, then the report */
    const uint8_t *d = resp->data;
    uint32_t status = d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    uint32_t size = d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16 | (uint32_t)d[7] << 24;
    if (status != 0 || size > sizeof resp->data - 0x20) {
        snprintf(err, errlen, "SNP firmware status 0x%x, report size %u", status, size);
        goto fail;
    }
    struct snp_report rep;
    if (snp_ev_check(d + 0x20, size, rd, 0, &rep, err, errlen) != 0)
        goto fail;
    if (!s->version)
        s->version = rep.version;
    rc = snp_ev_build(&s->chain, "sev-guest", d + 0x20, size, &rep, certs, certs_len, out, err, errlen);
fail:
    free(certs);
    free(resp);
    return rc;
}

static int snp_ioctl_probe(const struct config *cfg, void **state)
{
    char err[256] = "";
    *state = NULL;
    /* configfs-tsm sev_guest present: attest/snp_tsm.c covers this platform */
    struct attest_tsm t;
    const char *dir = cfg && cfg->tsm_report_dir ? cfg->tsm_report_dir : ATTEST_TSM_DEFAULT_DIR;
    int r = attest_tsm_open(&t, dir, "snpchk", "sev_guest", err, sizeof err);
    if (r == 1)
        attest_tsm_close(&t);
    if (r == 1)
        return 0;
    const char *dev = cfg && cfg->sev_guest_dev ? cfg->sev_guest_dev : DEFAULT_SEV_GUEST;
    struct snp_ioctl_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->fd = -1;
    if (snp_ev_cache_init(&s->chain, cfg) != 0)
        goto fail;
    s->fd = open(dev, O_RDWR | O_CLOEXEC);
    if (s->fd < 0) {
        if (errno == ENOENT || errno == ENODEV || errno == ENXIO) {
            snp_ioctl_free(s);
            return 0;
        }
        log_warn("attest.provider", "provider=sev-snp/sev-guest reason=\"open %s: %s\"", dev, strerror(errno));
        goto fail;
    }
    uint8_t zero[64] = { 0 };
    json_t *ev = NULL;
    if (report_once(s, zero, &ev, err, sizeof err) != 0) {
        log_warn("attest.provider", "provider=sev-snp/sev-guest reason=\"first report failed: %s\"", err);
        goto fail;
    }
    json_decref(ev);
    *state = s;
    return 1;
fail:
    snp_ioctl_free(s);
    return -1;
}

static int snp_ioctl_evidence(void *arg, const uint8_t report_data[64], json_t **out, char *err, size_t errlen)
{
    struct snp_ioctl_state *s = arg;
    return report_once(s, report_data, out, err, errlen);
}

static json_t *snp_ioctl_status(void *arg)
{
    struct snp_ioctl_state *s = arg;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "type", json_string("sev-snp"));
    json_object_set_new(o, "via", json_string("sev-guest"));
    json_object_set_new(o, "report_version", json_integer(s->version));
    pthread_mutex_lock(&s->chain.mu);
    json_object_set_new(o, "vcek_from_kds", json_boolean(s->chain.fetched));
    pthread_mutex_unlock(&s->chain.mu);
    return o;
}

const struct attest_provider attest_provider_snp_ioctl = {
    .type = "sev-snp",
    .probe = snp_ioctl_probe,
    .evidence = snp_ioctl_evidence,
    .status = snp_ioctl_status,
    .free = snp_ioctl_free,
};
