/* amd_collateral: KDS request paths, the local KDS cache and CRL files; see amd_collateral.h. */
#include "verify/amd_collateral.h"
#include "verify/amd_chain.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/codec.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *kds_strerror(kds_err e)
{
    switch (e) {
    case KDS_OK: return "ok";
    case KDS_ERR_PRODUCT: return "product unknown (a version 2 report names none: give --product Milan|Genoa|Turin)";
    case KDS_ERR_SIGNER: return "the report is signed by neither a VCEK nor a VLEK";
    case KDS_ERR_CHIP_ID: return "CHIP_ID is masked (all zero) or malformed for the product: KDS cannot be asked for its VCEK";
    case KDS_ERR_PATH: return "path too long";
    case KDS_ERR_IO: return "input/output error";
    }
    return "unknown error";
}

static int all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

kds_err kds_request_from_report(const struct snp_report *r, snp_product forced, struct kds_request *q)
{
    memset(q, 0, sizeof *q);
    q->product = forced ? forced : snp_report_product(r);
    if (!q->product)
        return KDS_ERR_PRODUCT;
    q->signer = snp_report_signer(r);
    if (q->signer != SNP_SIGNER_VCEK && q->signer != SNP_SIGNER_VLEK)
        return KDS_ERR_SIGNER;
    snp_tcb_decode(r->reported_tcb, q->product, &q->tcb);
    if (q->signer == SNP_SIGNER_VCEK) {
        /* Turin's KDS hwid is the first 8 bytes of CHIP_ID; the rest must be zero */
        size_t n = q->product == SNP_PRODUCT_TURIN ? 8 : 64;
        if (all_zero(r->chip_id, n) || (n == 8 && !all_zero(r->chip_id + 8, 56)))
            return KDS_ERR_CHIP_ID;
        if (codec_hex_encode(r->chip_id, n, q->hwid_hex, sizeof q->hwid_hex) == (size_t)-1)
            return KDS_ERR_PATH;
    }
    return KDS_OK;
}

static int fit(int w, size_t cap)
{
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

static const char *keyname(const struct kds_request *q)
{
    return q->signer == SNP_SIGNER_VLEK ? "vlek" : "vcek";
}

int kds_vek_path(const struct kds_request *q, char *out, size_t cap)
{
    const char *p = snp_product_name(q->product);
    const struct snp_tcb *t = &q->tcb;
    if (q->signer != SNP_SIGNER_VCEK || !q->product || !q->hwid_hex[0])
        return -1;
    if (q->product == SNP_PRODUCT_TURIN)
        return fit(snprintf(out, cap, "/vcek/v1/%s/%s?fmcSPL=%02u&blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", p,
                            q->hwid_hex, t->fmc, t->bootloader, t->tee, t->snp, t->microcode), cap);
    return fit(snprintf(out, cap, "/vcek/v1/%s/%s?blSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u", p, q->hwid_hex,
                        t->bootloader, t->tee, t->snp, t->microcode), cap);
}

int kds_chain_path(const struct kds_request *q, char *out, size_t cap)
{
    return q->product ? fit(snprintf(out, cap, "/%s/v1/%s/cert_chain", keyname(q), snp_product_name(q->product)), cap) : -1;
}

int kds_crl_path(const struct kds_request *q, char *out, size_t cap)
{
    return q->product ? fit(snprintf(out, cap, "/%s/v1/%s/crl", keyname(q), snp_product_name(q->product)), cap) : -1;
}

int kds_cache_dir(const char *dir, char *out, size_t cap)
{
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (dir && dir[0])
        return fit(snprintf(out, cap, "%s", dir), cap);
    if (x && x[0] == '/')
        return fit(snprintf(out, cap, "%s/sealed-verify/kds", x), cap);
    if (h && h[0] == '/')
        return fit(snprintf(out, cap, "%s/.cache/sealed-verify/kds", h), cap);
    return -1;
}

int kds_cache_vek_file(const char *cache, const struct kds_request *q, char *out, size_t cap)
{
    /* keyed by chip id and the raw REPORTED_TCB as KDS certifies it */
    uint64_t raw = q->tcb.raw;
    if (q->signer != SNP_SIGNER_VCEK || !q->hwid_hex[0])
        return -1;
    return fit(snprintf(out, cap, "%s/%s/%s/%016" PRIx64 "/vcek.der", cache, snp_product_name(q->product), q->hwid_hex, raw),
               cap);
}

int kds_cache_chain_file(const char *cache, const struct kds_request *q, char *out, size_t cap)
{
    return fit(snprintf(out, cap, "%s/%s/%s/cert_chain.pem", cache, snp_product_name(q->product), keyname(q)), cap);
}

int kds_cache_crl_file(const char *cache, const struct kds_request *q, char *out, size_t cap)
{
    return fit(snprintf(out, cap, "%s/%s/%s/crl.der", cache, snp_product_name(q->product), keyname(q)), cap);
}

static int mkdirs(char *path)
{
    /* path is a file path: create every directory above it */
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return 0;
}

int kds_cache_store(const char *path, const uint8_t *buf, size_t len)
{
    char dir[KDS_PATH_MAX], tmp[KDS_PATH_MAX + 16];
    if (fit(snprintf(dir, sizeof dir, "%s", path), sizeof dir) || fit(snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path), sizeof tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (mkdirs(dir))
        return -1;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int ok = off == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    if (close(fd))
        ok = 0;
    if (!ok || rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        errno = e ? e : EIO;
        return -1;
    }
    return 0;
}

X509 *kds_cache_lookup_vek(const char *cache_dir, const uint8_t *report, size_t len, snp_product forced, char *path,
                           size_t cap)
{
    struct snp_report r;
    struct kds_request q;
    char dir[KDS_PATH_MAX], err[256] = "";
    if (cap)
        path[0] = 0;
    if (snp_report_parse(report, len, &r) || kds_request_from_report(&r, forced, &q) || q.signer != SNP_SIGNER_VCEK ||
        kds_cache_dir(cache_dir, dir, sizeof dir) || kds_cache_vek_file(dir, &q, path, cap))
        return NULL;
    size_t n;
    uint8_t *b = verify_read_file(path, VERIFY_MAX_KDS_CERT, &n, err, sizeof err);
    X509 *x = NULL;
    if (b && amd_chain_load_certs(b, n, &x, 1) != 1)
        x = NULL;
    free(b);
    return x;
}

int kds_cache_lookup_chain(const char *cache_dir, const uint8_t *report, size_t len, snp_product forced, X509 **out,
                           int max)
{
    struct snp_report r;
    struct kds_request q;
    char dir[KDS_PATH_MAX], path[KDS_PATH_MAX], err[256] = "";
    if (snp_report_parse(report, len, &r) || kds_request_from_report(&r, forced, &q) == KDS_ERR_PRODUCT || !q.product ||
        kds_cache_dir(cache_dir, dir, sizeof dir) || kds_cache_chain_file(dir, &q, path, sizeof path))
        return 0;
    size_t n;
    uint8_t *b = verify_read_file(path, VERIFY_MAX_KDS_CHAIN, &n, err, sizeof err);
    int c = b ? amd_chain_load_certs(b, n, out, max) : 0;
    free(b);
    return c > 0 ? c : 0;
}

X509_CRL *kds_load_crl_file(const char *path, char *err, size_t errlen)
{
    size_t n;
    err[0] = 0;
    uint8_t *b = verify_read_file(path, VERIFY_MAX_KDS_CRL, &n, err, errlen);
    if (!b)
        return NULL;
    X509_CRL *c = amd_chain_load_crl(b, n);
    free(b);
    if (!c)
        snprintf(err, errlen, "%s holds no PEM or DER CRL", path);
    return c;
}
