/* attest/snp_common: report sanity checks, the certificate table by GUID, the VCEK/ASK/ARK
 * cache with the KDS fallback, and the sev-snp evidence object. Shared by attest/snp_tsm.c and
 * attest/snp_ioctl.c; never talks to the kernel itself. */
#include "login/attest/snp_common.h"
#include "login/attest/amd_kds.h"
#include "login/config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define DEFAULT_KDS_URL "https://kdsintf.amd.com"

/* GUIDs of the GHCB certificate table, in the table's (RFC 4122) byte order. */
static const uint8_t GUID_VCEK[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                       0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t GUID_VLEK[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                       0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };
static const uint8_t GUID_ASK[16]  = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                       0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t GUID_ARK[16]  = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                       0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

int snp_report_check(const uint8_t *rep, size_t len, const uint8_t report_data[64], uint32_t vmpl,
                     char *err, size_t errlen)
{
    if (len != ATTEST_SNP_REPORT_LEN) {
        snprintf(err, errlen, "SNP report is %zu bytes, not %d", len, ATTEST_SNP_REPORT_LEN);
        return -1;
    }
    uint32_t ver = le32(rep + SNP_OFF_VERSION);
    if (ver < 2 || ver > 5) {
        snprintf(err, errlen, "SNP report version %u is not known", ver);
        return -1;
    }
    if (memcmp(rep + SNP_OFF_REPORT_DATA, report_data, 64) != 0) {
        snprintf(err, errlen, "SNP report does not carry our REPORT_DATA");
        return -1;
    }
    if (le32(rep + SNP_OFF_VMPL) != vmpl) {
        snprintf(err, errlen, "SNP report VMPL %u, asked for %u", le32(rep + SNP_OFF_VMPL), vmpl);
        return -1;
    }
    if (le32(rep + SNP_OFF_SIG_ALGO) != 1) {
        snprintf(err, errlen, "SNP report signature algorithm %u is not ECDSA P-384", le32(rep + SNP_OFF_SIG_ALGO));
        return -1;
    }
    enum snp_signer s = snp_report_signer(rep);
    if (s != SNP_SIGNER_VCEK && s != SNP_SIGNER_VLEK) {
        snprintf(err, errlen, "SNP report is not signed by a VCEK or VLEK");
        return -1;
    }
    return 0;
}

enum snp_signer snp_report_signer(const uint8_t rep[ATTEST_SNP_REPORT_LEN])
{
    return (enum snp_signer)((le32(rep + SNP_OFF_KEY_INFO) >> 2) & 7);
}

enum snp_product snp_report_product(const uint8_t rep[ATTEST_SNP_REPORT_LEN])
{
    if (le32(rep + SNP_OFF_VERSION) < 3)
        return SNP_PRODUCT_UNKNOWN;
    uint8_t fam = rep[SNP_OFF_CPUID_FAM], mod = rep[SNP_OFF_CPUID_MOD];
    if (fam == 0x19 && mod <= 0x0F)
        return SNP_PRODUCT_MILAN;
    if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF)))
        return SNP_PRODUCT_GENOA;
    if (fam == 0x1A)
        return SNP_PRODUCT_TURIN;
    return SNP_PRODUCT_UNKNOWN;
}

const char *snp_product_name(enum snp_product p)
{
    switch (p) {
    case SNP_PRODUCT_MILAN: return "Milan";
    case SNP_PRODUCT_GENOA: return "Genoa";
    case SNP_PRODUCT_TURIN: return "Turin";
    default:                return NULL;
    }
}

int snp_cert_table_parse(const uint8_t *tab, size_t len, struct snp_certs *out)
{
    memset(out, 0, sizeof *out);
    if (!tab || len == 0)
        return 0;
    static const uint8_t zero[24];
    for (size_t i = 0;; i++) {
        size_t off = i * 24;
        if (i >= ATTEST_SNP_CERT_ENTRIES || off + 24 > len)
            return -1;                       /* no terminator within the table */
        const uint8_t *e = tab + off;
        if (memcmp(e, zero, 24) == 0)
            return 0;
        uint32_t o = le32(e + 16), l = le32(e + 20);
        if (o < off + 24 || o > len || l > len - o || l == 0)
            return -1;
        const uint8_t *d = tab + o;
        if (!memcmp(e, GUID_VCEK, 16)) { out->vcek = d; out->vcek_len = l; }
        else if (!memcmp(e, GUID_VLEK, 16)) { out->vlek = d; out->vlek_len = l; }
        else if (!memcmp(e, GUID_ASK, 16)) { out->ask = d; out->ask_len = l; }
        else if (!memcmp(e, GUID_ARK, 16)) { out->ark = d; out->ark_len = l; }
        /* other GUIDs (e.g. a CRL or platform-specific blobs) are not ours to interpret */
    }
}

int snp_chain_cache_init(struct snp_chain_cache *c, const struct config *cfg)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->kds_url = strdup(cfg && cfg->amd_kds_url ? cfg->amd_kds_url : DEFAULT_KDS_URL);
    return c->kds_url ? 0 : -1;
}

void snp_chain_cache_clear(struct snp_chain_cache *c)
{
    free(c->kds_url);
    free(c->vcek);
    free(c->ask);
    free(c->ark);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof *c);
}

/* Does the report's signature verify with this certificate's key? (ECDSA P-384 over bytes
 * 0x000-0x29F, r and s little-endian at 0x2A0 and 0x2E8.) 1 yes, 0 no. */
int snp_report_signed_by(const uint8_t rep[ATTEST_SNP_REPORT_LEN], const uint8_t *der, size_t len)
{
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    EVP_PKEY *k = x ? X509_get0_pubkey(x) : NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *sig = NULL;
    unsigned char *dsig = NULL;
    uint8_t r[48], s[48];
    int ok = 0;
    if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
        goto done;
    for (int i = 0; i < 48; i++) {
        r[i] = rep[0x2A0 + 47 - i];
        s[i] = rep[0x2E8 + 47 - i];
    }
    BIGNUM *br = BN_bin2bn(r, 48, NULL), *bs = BN_bin2bn(s, 48, NULL);
    if (!br || !bs || !(sig = ECDSA_SIG_new()) || !ECDSA_SIG_set0(sig, br, bs)) {
        BN_free(br);
        BN_free(bs);
        goto done;
    }
    int dl = i2d_ECDSA_SIG(sig, &dsig);
    if (dl <= 0 || !(md = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, k) <= 0)
        goto done;
    ok = EVP_DigestVerify(md, dsig, (size_t)dl, rep, 0x2A0) == 1;
done:
    EVP_MD_CTX_free(md);
    ECDSA_SIG_free(sig);
    OPENSSL_free(dsig);
    X509_free(x);
    return ok;
}

/* Fills the cache with a VCEK for this report (and the chain) from KDS. Called with c->mu held. */
static int cache_fetch(struct snp_chain_cache *c, const uint8_t *rep, char *err, size_t errlen)
{
    const uint8_t *chip = rep + SNP_OFF_CHIP_ID;
    uint64_t tcb = le64(rep + SNP_OFF_REPORTED_TCB);
    if (c->fetched && memcmp(c->chip_id, chip, 64) == 0 && c->tcb == tcb)
        return 0;
    enum snp_product p = snp_report_product(rep);
    enum snp_product tries[2] = { p, SNP_PRODUCT_UNKNOWN };
    if (p == SNP_PRODUCT_UNKNOWN) {          /* version 2 reports carry no CPUID */
        tries[0] = SNP_PRODUCT_MILAN;
        tries[1] = SNP_PRODUCT_GENOA;
    }
    uint8_t *vcek = NULL, *ask = NULL, *ark = NULL;
    size_t vl = 0, al = 0, rl = 0;
    amd_kds_err e = AMD_KDS_ERR_INVAL;
    for (int i = 0; i < 2 && tries[i] != SNP_PRODUCT_UNKNOWN; i++) {
        e = amd_kds_fetch_vcek(c->kds_url, tries[i], chip, tcb, &vcek, &vl, err, errlen);
        if (e == AMD_KDS_OK) {
            p = tries[i];
            break;
        }
        if (e != AMD_KDS_ERR_NOTFOUND)
            return -1;
    }
    if (e != AMD_KDS_OK)
        return -1;
    if (!snp_report_signed_by(rep, vcek, vl)) {
        snprintf(err, errlen, "the VCEK from KDS does not verify this report");
        free(vcek);
        return -1;
    }
    if (!c->ask || !c->ark) {
        if (amd_kds_fetch_chain(c->kds_url, p, &ask, &al, &ark, &rl, err, errlen) != AMD_KDS_OK) {
            free(vcek);
            return -1;
        }
        free(c->ask);
        free(c->ark);
        c->ask = ask; c->ask_len = al;
        c->ark = ark; c->ark_len = rl;
    }
    free(c->vcek);
    c->vcek = vcek;
    c->vcek_len = vl;
    memcpy(c->chip_id, chip, 64);
    c->tcb = tcb;
    c->fetched = 1;
    return 0;
}

static int set_pem(json_t *ev, const char *key, const uint8_t *der, size_t len)
{
    json_t *j = attest_util_cert_pem_json(der, len);
    return j ? json_object_set_new(ev, key, j) : -1;
}

int snp_evidence_build(struct snp_chain_cache *cache, const char *via,
                       const uint8_t rep[ATTEST_SNP_REPORT_LEN], const uint8_t *table, size_t table_len,
                       json_t **out, char *err, size_t errlen)
{
    struct snp_certs hc;
    json_t *ev = NULL;
    int rc = -1, locked = 0;
    *out = NULL;
    if (snp_cert_table_parse(table, table_len, &hc) != 0) {
        snprintf(err, errlen, "the host's certificate table is malformed");
        return -1;
    }
    enum snp_signer signer = snp_report_signer(rep);
    const uint8_t *key = NULL, *ask = hc.ask, *ark = hc.ark;
    size_t key_len = 0, ask_len = hc.ask_len, ark_len = hc.ark_len;
    const char *key_name = signer == SNP_SIGNER_VLEK ? "vlek" : "vcek";
    const char *source = "host";
    if (signer == SNP_SIGNER_VLEK) {
        key = hc.vlek;
        key_len = hc.vlek_len;
        if (!key || !ask || !ark) {
            snprintf(err, errlen, "report is VLEK-signed but the host gave no VLEK chain");
            return -1;
        }
    } else {
        key = hc.vcek;
        key_len = hc.vcek_len;
        /* a host VCEK that does not sign this report (stale after a TCB change) is replaced */
        if (!key || !snp_report_signed_by(rep, key, key_len) || !ask || !ark) {
            pthread_mutex_lock(&cache->mu);
            locked = 1;
            if (cache_fetch(cache, rep, err, errlen) != 0)
                goto done;
            key = cache->vcek; key_len = cache->vcek_len;
            ask = cache->ask;  ask_len = cache->ask_len;
            ark = cache->ark;  ark_len = cache->ark_len;
            source = "amd-kds";
        }
    }
    if (!(ev = json_object()) ||
        json_object_set_new(ev, "type", json_string("sev-snp")) ||
        json_object_set_new(ev, "report", attest_util_b64_json(rep, ATTEST_SNP_REPORT_LEN)) ||
        set_pem(ev, key_name, key, key_len) || set_pem(ev, "ask", ask, ask_len) || set_pem(ev, "ark", ark, ark_len) ||
        json_object_set_new(ev, "via", json_string(via)) ||
        json_object_set_new(ev, "certs_from", json_string(source))) {
        snprintf(err, errlen, "certificate does not parse, or out of memory");
        goto done;
    }
    *out = ev;
    ev = NULL;
    rc = 0;
done:
    if (locked)
        pthread_mutex_unlock(&cache->mu);
    json_decref(ev);
    return rc;
}
