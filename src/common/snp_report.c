/* snp_report: decodes SEV-SNP attestation reports and certificate tables, and checks a report's
 * ECDSA P-384 signature. Layout: SEV-SNP Firmware ABI specification, ATTESTATION_REPORT. */
#include "common/snp_report.h"
#include "common/byteorder.h"
#include <string.h>
#include <strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>

static int any_nonzero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc != 0;
}

const char *snp_strerror(snp_err e)
{
    switch (e) {
    case SNP_OK: return "ok";
    case SNP_ERR_ARG: return "invalid argument";
    case SNP_ERR_SIZE: return "wrong size";
    case SNP_ERR_VERSION: return "unsupported report version";
    case SNP_ERR_FORMAT: return "malformed";
    case SNP_ERR_SIG_ALGO: return "signature algorithm is not ECDSA P-384 with SHA-384";
    case SNP_ERR_KEY: return "key is not an EC P-384 public key";
    case SNP_ERR_SIGNATURE: return "signature does not verify";
    case SNP_ERR_NOMEM: return "out of memory";
    }
    return "unknown error";
}

snp_err snp_report_parse(const uint8_t *b, size_t len, struct snp_report *r)
{
    if (!b || !r)
        return SNP_ERR_ARG;
    memset(r, 0, sizeof *r);
    if (len != SNP_REPORT_SIZE)
        return SNP_ERR_SIZE;
    r->version = get_le32(b + 0x00);
    if (r->version < SNP_REPORT_VERSION_MIN)
        return SNP_ERR_VERSION;
    r->guest_svn = get_le32(b + 0x04);
    r->policy = get_le64(b + 0x08);
    memcpy(r->family_id, b + 0x10, 16);
    memcpy(r->image_id, b + 0x20, 16);
    r->vmpl = get_le32(b + 0x30);
    r->signature_algo = get_le32(b + 0x34);
    r->current_tcb = get_le64(b + 0x38);
    r->platform_info = get_le64(b + 0x40);
    r->key_info = get_le32(b + 0x48);
    memcpy(r->report_data, b + 0x50, 64);
    memcpy(r->measurement, b + 0x90, 48);
    memcpy(r->host_data, b + 0xC0, 32);
    memcpy(r->id_key_digest, b + 0xE0, 48);
    memcpy(r->author_key_digest, b + 0x110, 48);
    memcpy(r->report_id, b + 0x140, 32);
    memcpy(r->report_id_ma, b + 0x160, 32);
    r->reported_tcb = get_le64(b + 0x180);
    int rsv = any_nonzero(b + 0x4C, 4) || (r->key_info >> 5) != 0;
    if (r->version >= 3) {
        r->cpuid_fam_id = b[0x188];
        r->cpuid_mod_id = b[0x189];
        r->cpuid_step = b[0x18A];
        rsv |= any_nonzero(b + 0x18B, 0x1A0 - 0x18B);
    } else {
        rsv |= any_nonzero(b + 0x188, 0x1A0 - 0x188);
    }
    memcpy(r->chip_id, b + 0x1A0, 64);
    r->committed_tcb = get_le64(b + 0x1E0);
    r->current_build = b[0x1E8];
    r->current_minor = b[0x1E9];
    r->current_major = b[0x1EA];
    r->committed_build = b[0x1EC];
    r->committed_minor = b[0x1ED];
    r->committed_major = b[0x1EE];
    rsv |= b[0x1EB] | b[0x1EF];
    r->launch_tcb = get_le64(b + 0x1F0);
    if (r->version >= 5) {
        r->launch_mit_vector = get_le64(b + 0x1F8);
        r->current_mit_vector = get_le64(b + 0x200);
        rsv |= any_nonzero(b + 0x208, SNP_REPORT_SIGNED_LEN - 0x208);
    } else {
        rsv |= any_nonzero(b + 0x1F8, SNP_REPORT_SIGNED_LEN - 0x1F8);
    }
    memcpy(r->sig_r, b + SNP_REPORT_SIG_OFFSET, SNP_SIG_COMPONENT_LEN);
    memcpy(r->sig_s, b + SNP_REPORT_SIG_OFFSET + SNP_SIG_COMPONENT_LEN, SNP_SIG_COMPONENT_LEN);
    r->reserved_nonzero = rsv != 0;
    return SNP_OK;
}

int snp_report_version_known(uint32_t v)
{
    return v == 2 || v == 3 || v == 5;
}

unsigned snp_report_signer(const struct snp_report *r)
{
    return (r->key_info >> 2) & 7u;
}

const char *snp_signer_name(unsigned s)
{
    switch (s) {
    case SNP_SIGNER_VCEK: return "VCEK";
    case SNP_SIGNER_VLEK: return "VLEK";
    case SNP_SIGNER_NONE: return "none";
    }
    return "reserved";
}

snp_product snp_report_product(const struct snp_report *r)
{
    if (r->version < 3)
        return SNP_PRODUCT_UNKNOWN;
    /* CPUID_FAM_ID / CPUID_MOD_ID are the combined (extended + base) family and model. */
    if (r->cpuid_fam_id == 0x19) {
        if (r->cpuid_mod_id <= 0x0F)
            return SNP_PRODUCT_MILAN;
        if ((r->cpuid_mod_id >= 0x10 && r->cpuid_mod_id <= 0x1F) ||
            (r->cpuid_mod_id >= 0xA0 && r->cpuid_mod_id <= 0xAF))
            return SNP_PRODUCT_GENOA;   /* Genoa, Genoa-X, Bergamo, Siena share Genoa's keys */
    } else if (r->cpuid_fam_id == 0x1A) {
        return SNP_PRODUCT_TURIN;
    }
    return SNP_PRODUCT_UNKNOWN;
}

const char *snp_product_name(snp_product p)
{
    switch (p) {
    case SNP_PRODUCT_MILAN: return "Milan";
    case SNP_PRODUCT_GENOA: return "Genoa";
    case SNP_PRODUCT_TURIN: return "Turin";
    case SNP_PRODUCT_UNKNOWN: break;
    }
    return "unknown";
}

snp_product snp_product_from_name(const char *s, size_t len)
{
    static const struct { const char *name; snp_product p; } names[] = {
        {"Milan", SNP_PRODUCT_MILAN}, {"Genoa", SNP_PRODUCT_GENOA},
        {"Siena", SNP_PRODUCT_GENOA}, {"Turin", SNP_PRODUCT_TURIN},
    };
    if (!s)
        return SNP_PRODUCT_UNKNOWN;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i].name);
        /* exact name, or a KDS productName "<name>-<stepping>" */
        if (len >= n && !strncasecmp(s, names[i].name, n) && (len == n || s[n] == '-'))
            return names[i].p;
    }
    return SNP_PRODUCT_UNKNOWN;
}

void snp_tcb_decode(uint64_t raw, snp_product p, struct snp_tcb *t)
{
    memset(t, 0, sizeof *t);
    t->raw = raw;
    if (p == SNP_PRODUCT_TURIN) {
        t->fmc = (uint8_t)raw;
        t->bootloader = (uint8_t)(raw >> 8);
        t->tee = (uint8_t)(raw >> 16);
        t->snp = (uint8_t)(raw >> 24);
    } else {
        t->bootloader = (uint8_t)raw;
        t->tee = (uint8_t)(raw >> 8);
        t->snp = (uint8_t)(raw >> 48);
    }
    t->microcode = (uint8_t)(raw >> 56);
}

/* Little-endian 72-byte integer to a BIGNUM; the top 24 bytes must be zero for P-384. */
static BIGNUM *le_component(const uint8_t *p)
{
    if (any_nonzero(p + 48, SNP_SIG_COMPONENT_LEN - 48))
        return NULL;
    return BN_lebin2bn(p, 48, NULL);
}

snp_err snp_report_verify_signature(const uint8_t *report, size_t len, EVP_PKEY *vek)
{
    if (!report || !vek)
        return SNP_ERR_ARG;
    if (len != SNP_REPORT_SIZE)
        return SNP_ERR_SIZE;
    if (get_le32(report + 0x34) != 1)
        return SNP_ERR_SIG_ALGO;
    char group[32];
    size_t gl = 0;
    if (EVP_PKEY_get_base_id(vek) != EVP_PKEY_EC ||
        !EVP_PKEY_get_utf8_string_param(vek, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) ||
        strcmp(group, "secp384r1"))
        return SNP_ERR_KEY;
    snp_err rc = SNP_ERR_SIGNATURE;
    unsigned char *der = NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = le_component(report + SNP_REPORT_SIG_OFFSET);
    BIGNUM *s = le_component(report + SNP_REPORT_SIG_OFFSET + SNP_SIG_COMPONENT_LEN);
    if (!sig) {
        rc = SNP_ERR_NOMEM;
        goto fail;
    }
    if (!r || !s)
        goto fail;   /* out-of-range component: cannot be a valid signature */
    if (!ECDSA_SIG_set0(sig, r, s)) {
        rc = SNP_ERR_NOMEM;
        goto fail;
    }
    r = s = NULL;   /* owned by sig now */
    int dl = i2d_ECDSA_SIG(sig, &der);
    if (dl <= 0 || !(md = EVP_MD_CTX_new())) {
        rc = SNP_ERR_NOMEM;
        goto fail;
    }
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, vek) == 1 &&
        EVP_DigestVerify(md, der, (size_t)dl, report, SNP_REPORT_SIGNED_LEN) == 1)
        rc = SNP_OK;
fail:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return rc;
}

/* ---- certificate table ---------------------------------------------------------------------- */

static const uint8_t GUID_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t GUID_VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
static const uint8_t GUID_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t GUID_ARK[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
static const uint8_t GUID_CRL[16] = {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d,
                                     0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea};

const uint8_t *snp_cert_kind_guid(snp_cert_kind k)
{
    switch (k) {
    case SNP_CERT_VCEK: return GUID_VCEK;
    case SNP_CERT_VLEK: return GUID_VLEK;
    case SNP_CERT_ASK: return GUID_ASK;
    case SNP_CERT_ARK: return GUID_ARK;
    case SNP_CERT_CRL: return GUID_CRL;
    case SNP_CERT_OTHER: break;
    }
    return NULL;
}

const char *snp_cert_kind_name(snp_cert_kind k)
{
    switch (k) {
    case SNP_CERT_VCEK: return "VCEK";
    case SNP_CERT_VLEK: return "VLEK";
    case SNP_CERT_ASK: return "ASK";
    case SNP_CERT_ARK: return "ARK";
    case SNP_CERT_CRL: return "CRL";
    case SNP_CERT_OTHER: break;
    }
    return "other";
}

static snp_cert_kind kind_of(const uint8_t *g)
{
    for (snp_cert_kind k = SNP_CERT_VCEK; k <= SNP_CERT_CRL; k++)
        if (!memcmp(g, snp_cert_kind_guid(k), 16))
            return k;
    return SNP_CERT_OTHER;
}

snp_err snp_cert_table_parse(const uint8_t *buf, size_t len, struct snp_cert_table *t)
{
    if (!t || (!buf && len))
        return SNP_ERR_ARG;
    memset(t, 0, sizeof *t);
    if (len == 0)
        return SNP_OK;
    if (len > SNP_CERT_TABLE_MAX_BYTES)
        return SNP_ERR_SIZE;
    size_t off = 0;
    for (;;) {
        if (len - off < 24)
            return SNP_ERR_SIZE;       /* no terminator inside the buffer */
        const uint8_t *e = buf + off;
        uint32_t o = get_le32(e + 16), l = get_le32(e + 20);
        off += 24;
        if (!any_nonzero(e, 24))
            break;
        if (!any_nonzero(e, 16))
            return SNP_ERR_FORMAT;     /* zero GUID with a non-zero offset/length */
        if (t->n == SNP_CERT_TABLE_MAX)
            return SNP_ERR_FORMAT;
        if (l == 0 || o > len || l > len - o)
            return SNP_ERR_SIZE;
        struct snp_cert_entry *ce = &t->e[t->n++];
        memcpy(ce->guid, e, 16);
        ce->kind = kind_of(e);
        ce->data = buf + o;
        ce->len = l;
    }
    /* blobs lie after the table and do not overlap each other; known kinds appear once */
    for (size_t i = 0; i < t->n; i++) {
        size_t oi = (size_t)(t->e[i].data - buf);
        if (oi < off)
            return SNP_ERR_FORMAT;
        for (size_t j = i + 1; j < t->n; j++) {
            size_t oj = (size_t)(t->e[j].data - buf);
            if (oi < oj + t->e[j].len && oj < oi + t->e[i].len)
                return SNP_ERR_FORMAT;
            if (t->e[i].kind != SNP_CERT_OTHER && t->e[i].kind == t->e[j].kind)
                return SNP_ERR_FORMAT;
        }
    }
    return SNP_OK;
}

const struct snp_cert_entry *snp_cert_table_find(const struct snp_cert_table *t, snp_cert_kind k)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->e[i].kind == k)
            return &t->e[i];
    return NULL;
}
