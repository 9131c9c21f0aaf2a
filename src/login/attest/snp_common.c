/* attest/snp_common: report checks (on common/snp_report), the certificate table by GUID, the VCEK/ASK/ARK
 * cache with the KDS fallback, and the sev-snp evidence object. Shared by attest/snp_tsm.c and
 * attest/snp_ioctl.c; never talks to the kernel itself. */
#include "login/attest/snp_common.h"
#include "login/attest/amd_kds.h"
#include "login/config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define DEFAULT_KDS_URL "https://kdsintf.amd.com"

int snp_ev_check(const uint8_t *rep, size_t len, const uint8_t report_data[64], uint32_t vmpl,
                 struct snp_report *r, char *err, size_t errlen)
{
    snp_err e = snp_report_parse(rep, len, r);
    if (e != SNP_OK) {
        snprintf(err, errlen, "SNP report (%zu bytes): %s", len, snp_strerror(e));
        return -1;
    }
    if (!snp_report_version_known(r->version)) {
        snprintf(err, errlen, "SNP report version %u is not known", r->version);
        return -1;
    }
    if (memcmp(r->report_data, report_data, 64) != 0) {
        snprintf(err, errlen, "SNP report does not carry our REPORT_DATA");
        return -1;
    }
    if (r->vmpl != vmpl) {
        snprintf(err, errlen, "SNP report VMPL %u, asked for %u", r->vmpl, vmpl);
        return -1;
    }
    if (r->signature_algo != 1) {
        snprintf(err, errlen, "SNP report signature algorithm %u is not ECDSA P-384", r->signature_algo);
        return -1;
    }
    unsigned s = snp_report_signer(r);
    if (s != SNP_SIGNER_VCEK && s != SNP_SIGNER_VLEK) {
        snprintf(err, errlen, "SNP report is signed by %s, not a VCEK or VLEK", snp_signer_name(s));
        return -1;
    }
    return 0;
}

int snp_ev_signed_by(const uint8_t *rep, size_t len, const uint8_t *der, size_t der_len)
{
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)der_len);
    EVP_PKEY *k = x ? X509_get0_pubkey(x) : NULL;
    int ok = k && snp_report_verify_signature(rep, len, k) == SNP_OK;
    X509_free(x);
    return ok;
}

int snp_ev_cache_init(struct snp_ev_cache *c, const struct config *cfg)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->kds_url = strdup(cfg && cfg->amd_kds_url ? cfg->amd_kds_url : DEFAULT_KDS_URL);
    return c->kds_url ? 0 : -1;
}

void snp_ev_cache_clear(struct snp_ev_cache *c)
{
    free(c->kds_url);
    free(c->vcek);
    free(c->ask);
    free(c->ark);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof *c);
}

/* Fills the cache with a VCEK for this report (and the chain) from KDS. Called with c->mu held. */
static int cache_fetch(struct snp_ev_cache *c, const uint8_t *rep, size_t len, const struct snp_report *r,
                       char *err, size_t errlen)
{
    if (c->fetched && memcmp(c->chip_id, r->chip_id, 64) == 0 && c->tcb == r->reported_tcb)
        return 0;
    snp_product p = snp_report_product(r);
    snp_product tries[2] = { p, SNP_PRODUCT_UNKNOWN };
    if (p == SNP_PRODUCT_UNKNOWN) {          /* version 2 reports carry no CPUID */
        tries[0] = SNP_PRODUCT_MILAN;
        tries[1] = SNP_PRODUCT_GENOA;
    }
    uint8_t *vcek = NULL, *ask = NULL, *ark = NULL;
    size_t vl = 0, al = 0, rl = 0;
    amd_kds_err e = AMD_KDS_ERR_INVAL;
    for (int i = 0; i < 2 && tries[i] != SNP_PRODUCT_UNKNOWN; i++) {
        e = amd_kds_fetch_vcek(c->kds_url, tries[i], r->chip_id, r->reported_tcb, &vcek, &vl, err, errlen);
        if (e == AMD_KDS_OK) {
            p = tries[i];
            break;
        }
        if (e != AMD_KDS_ERR_NOTFOUND)
            return -1;
    }
    if (e != AMD_KDS_OK)
        return -1;
    if (!snp_ev_signed_by(rep, len, vcek, vl)) {
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
    memcpy(c->chip_id, r->chip_id, 64);
    c->tcb = r->reported_tcb;
    c->fetched = 1;
    return 0;
}

static int set_pem(json_t *ev, const char *key, const uint8_t *der, size_t len)
{
    json_t *j = attest_util_cert_pem_json(der, len);
    return j ? json_object_set_new(ev, key, j) : -1;
}

static void entry(const struct snp_cert_table *t, snp_cert_kind k, const uint8_t **d, size_t *l)
{
    const struct snp_cert_entry *e = snp_cert_table_find(t, k);
    *d = e ? e->data : NULL;
    *l = e ? e->len : 0;
}

int snp_ev_build(struct snp_ev_cache *cache, const char *via, const uint8_t *rep, size_t len,
                 const struct snp_report *r, const uint8_t *table, size_t table_len,
                 json_t **out, char *err, size_t errlen)
{
    struct snp_cert_table t;
    json_t *ev = NULL;
    int rc = -1, locked = 0;
    *out = NULL;
    snp_err pe = table_len ? snp_cert_table_parse(table, table_len, &t) : SNP_OK;
    if (!table_len)
        t.n = 0;
    if (pe != SNP_OK) {
        snprintf(err, errlen, "the host's certificate table: %s", snp_strerror(pe));
        return -1;
    }
    int vlek = snp_report_signer(r) == SNP_SIGNER_VLEK;
    const uint8_t *key, *ask, *ark;
    size_t key_len, ask_len, ark_len;
    entry(&t, vlek ? SNP_CERT_VLEK : SNP_CERT_VCEK, &key, &key_len);
    entry(&t, SNP_CERT_ASK, &ask, &ask_len);
    entry(&t, SNP_CERT_ARK, &ark, &ark_len);
    const char *source = "host";
    if (vlek) {
        if (!key || !ask || !ark) {
            snprintf(err, errlen, "report is VLEK-signed but the host gave no VLEK chain");
            return -1;
        }
    } else if (!key || !ask || !ark || !snp_ev_signed_by(rep, len, key, key_len)) {
        /* no host chain, or a stale host VCEK (TCB changed): AMD KDS, once, then cached */
        pthread_mutex_lock(&cache->mu);
        locked = 1;
        if (cache_fetch(cache, rep, len, r, err, errlen) != 0)
            goto done;
        key = cache->vcek; key_len = cache->vcek_len;
        ask = cache->ask;  ask_len = cache->ask_len;
        ark = cache->ark;  ark_len = cache->ark_len;
        source = "amd-kds";
    }
    if (!(ev = json_object()) ||
        json_object_set_new(ev, "type", json_string("sev-snp")) ||
        json_object_set_new(ev, "report", attest_util_b64_json(rep, len)) ||
        set_pem(ev, vlek ? "vlek" : "vcek", key, key_len) || set_pem(ev, "ask", ask, ask_len) ||
        set_pem(ev, "ark", ark, ark_len) ||
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
