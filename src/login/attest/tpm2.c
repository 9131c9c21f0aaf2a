/* attest/tpm2: the TPM 2.0 evidence provider (DESIGN.md tpm2 object). At probe it creates the
 * attestation key once (GCP's Google-provisioned AK from its NV template when present, else a
 * restricted ECC P-256 signing primary under the endorsement hierarchy) and reads the AK and EK
 * certificates; per request it quotes PCRs 0-15 (SHA-256) with qualifying data
 * SHA-256(REPORT_DATA), reads the PCRs, checks the quote itself, and attaches the firmware event
 * log (and on a real machine the kernel's IMA log for PCR 10). Talks only to the TPM named in the
 * config and reads only those two log files. */
#include "login/attest.h"
#include "login/config.h"
#include "login/log.h"
#include "login/attest/attest_limits.h"
#include "login/attest/attest_util.h"
#include "login/attest/tpm2_wire.h"
#include "common/codec.h"
#include "common/tpm_ak_root.h"
#include <time.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#define DEFAULT_TPM_DEV  "/dev/tpmrm0"
#define DEFAULT_EVENTLOG "/sys/kernel/security/tpm0/binary_bios_measurements"
/* The kernel's own measurements into PCR 10 (IMA; Debian's kernel always records boot_aggregate).
 * Read only when the firmware log is the default securityfs one, i.e. on a real machine. */
#define DEFAULT_IMA_LOG  "/sys/kernel/security/ima/binary_runtime_measurements"

/* NV indices: GCE AK templates and certificates (go-tpm-tools), TCG EK certificates. */
#define NV_GCE_AK_CERT_RSA 0x01c10000u
#define NV_GCE_AK_TMPL_RSA 0x01c10001u
#define NV_GCE_AK_CERT_ECC 0x01c10002u
#define NV_GCE_AK_TMPL_ECC 0x01c10003u
/* TCG EK Credential Profile 2.x: RSA 2048, ECC P-256, then the high range (RSA 2048, P-256, P-384) */
static const uint32_t nv_ek_cert[] = { 0x01c00002u, 0x01c0000au, 0x01c00012u, 0x01c00014u, 0x01c00016u };

#define PCR_MASK ((1u << ATTEST_TPM_PCR_COUNT) - 1)

struct tpm2_state {
    char     *spec;              /* owned: device path or unix:/tcp: socket */
    char     *eventlog_path;     /* owned */
    struct tpm2w_conn *conn;     /* owned; kept open so the AK stays loaded */
    uint32_t  ak_handle;
    int       ak_loaded;
    uint8_t   ak_tmpl[ATTEST_TPM_NV_MAX];
    size_t    ak_tmpl_len;
    uint8_t   ak_public[1024];   /* TPMT_PUBLIC of the AK as created at probe */
    size_t    ak_public_len;
    const char *ak_source;       /* static string: where the AK came from */
    EVP_PKEY *ak_key;            /* owned */
    json_t   *ak_pub_pem;        /* owned JSON strings (or json_null) */
    json_t   *ak_cert_pem;
    json_t   *ek_cert_pem;
    char      ak_root[128];      /* the pinned vendor root the AK certificate chains to, or "" */
    uint32_t  manufacturer;
};

static const char *werr(tpm2w_err e)
{
    switch (e) {
    case TPM2W_OK:         return "ok";
    case TPM2W_ERR_IO:     return "TPM I/O failed or timed out";
    case TPM2W_ERR_PROTO:  return "malformed TPM response";
    case TPM2W_ERR_TPM:    return "TPM returned an error";
    case TPM2W_ERR_NOMEM:  return "out of memory";
    case TPM2W_ERR_CRYPTO: return "quote did not verify";
    case TPM2W_ERR_INVAL:  return "unsupported TPM object";
    }
    return "?";
}

static void tpm2_free(void *arg)
{
    struct tpm2_state *s = arg;
    if (!s)
        return;
    if (s->conn && s->ak_loaded)
        tpm2w_flush(s->conn, s->ak_handle);
    tpm2w_close(s->conn);
    EVP_PKEY_free(s->ak_key);
    json_decref(s->ak_pub_pem);
    json_decref(s->ak_cert_pem);
    json_decref(s->ek_cert_pem);
    free(s->spec);
    free(s->eventlog_path);
    free(s);
}

/* Reads an NV index if it exists: 1 read, 0 absent, -1 error. */
static int nv_read_opt(struct tpm2_state *s, uint32_t idx, uint8_t *buf, size_t cap, size_t *len)
{
    tpm2w_err e = tpm2w_nv_read_all(s->conn, idx, buf, cap, len);
    if (e == TPM2W_OK)
        return 1;
    if (e == TPM2W_ERR_TPM && tpm2w_rc_is_handle(tpm2w_last_rc(s->conn)))
        return 0;
    log_warn("attest.provider", "provider=tpm2 reason=\"NV 0x%08x: %s (rc 0x%x)\"", idx, werr(e), tpm2w_last_rc(s->conn));
    return -1;
}

/* (Re)creates the AK from the template chosen at probe; the public part must not change. */
static tpm2w_err load_ak(struct tpm2_state *s)
{
    uint8_t pub[sizeof s->ak_public];
    size_t pl;
    tpm2w_err e = tpm2w_create_primary(s->conn, TPM2_RH_ENDORSEMENT, s->ak_tmpl, s->ak_tmpl_len,
                                       &s->ak_handle, pub, sizeof pub, &pl);
    if (e)
        return e;
    s->ak_loaded = 1;
    if (s->ak_public_len == 0) {
        memcpy(s->ak_public, pub, pl);
        s->ak_public_len = pl;
    } else if (pl != s->ak_public_len || memcmp(pub, s->ak_public, pl) != 0) {
        return TPM2W_ERR_CRYPTO;   /* endorsement seed changed under us */
    }
    return TPM2W_OK;
}

/* Picks the AK template: GCE's ECC, then GCE's RSA, then ours. Reads the matching certificate. */
static int choose_ak(struct tpm2_state *s)
{
    static const struct { uint32_t tmpl, cert; const char *name; } gce[] = {
        { NV_GCE_AK_TMPL_ECC, NV_GCE_AK_CERT_ECC, "gce-ak-ecc" },
        { NV_GCE_AK_TMPL_RSA, NV_GCE_AK_CERT_RSA, "gce-ak-rsa" },
    };
    for (size_t i = 0; i < sizeof gce / sizeof gce[0]; i++) {
        int r = nv_read_opt(s, gce[i].tmpl, s->ak_tmpl, sizeof s->ak_tmpl, &s->ak_tmpl_len);
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        s->ak_source = gce[i].name;
        uint8_t cert[ATTEST_TPM_NV_MAX];
        size_t cl;
        r = nv_read_opt(s, gce[i].cert, cert, sizeof cert, &cl);
        if (r < 0)
            return -1;
        if (r == 1 && !(s->ak_cert_pem = attest_util_cert_pem_json(cert, cl)))
            log_warn("attest.provider", "provider=tpm2 reason=\"AK certificate in NV 0x%08x does not parse\"", gce[i].cert);
        return 0;
    }
    s->ak_tmpl_len = tpm2w_ak_template_ecc_p256(s->ak_tmpl, sizeof s->ak_tmpl);
    s->ak_source = "endorsement-ecc-p256";
    return s->ak_tmpl_len ? 0 : -1;
}

/* The AK certificate must certify this AK; otherwise it is not attached (and we say so). */
static void check_ak_cert(struct tpm2_state *s)
{
    if (!s->ak_cert_pem)
        return;
    const char *pem = json_string_value(s->ak_cert_pem);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = x ? X509_get0_pubkey(x) : NULL;
    if (!k || EVP_PKEY_eq(k, s->ak_key) != 1) {
        log_warn("attest.provider", "provider=tpm2 reason=\"AK certificate does not match the AK; not attached\"");
        json_decref(s->ak_cert_pem);
        s->ak_cert_pem = NULL;
    } else {
        /* what the results will claim: only a vendor-rooted AK makes them hardware evidence */
        struct tpm_ak_root_result r;
        if (tpm_ak_root_check(x, NULL, 0, NULL, 0, time(NULL), &r) == TPM_AK_ROOT_VENDOR)
            snprintf(s->ak_root, sizeof s->ak_root, "%s", r.root);
        else
            log_warn("attest.provider", "provider=tpm2 reason=\"AK certificate is not rooted in a pinned vendor CA: "
                     "results say vtpm-unrooted\"");
    }
    X509_free(x);
    BIO_free(bio);
}

static json_t *pkey_pem_json(EVP_PKEY *k)
{
    BIO *bio = BIO_new(BIO_s_mem());
    json_t *j = NULL;
    char *mem;
    if (bio && PEM_write_bio_PUBKEY(bio, k)) {
        long ml = BIO_get_mem_data(bio, &mem);
        if (ml > 0)
            j = json_stringn(mem, (size_t)ml);
    }
    BIO_free(bio);
    return j;
}

static int tpm2_probe(const struct config *cfg, void **state)
{
    *state = NULL;
    const char *spec = cfg && cfg->tpm_dev ? cfg->tpm_dev : DEFAULT_TPM_DEV;
    const char *log = cfg && cfg->tpm_eventlog ? cfg->tpm_eventlog : DEFAULT_EVENTLOG;
    struct tpm2_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    if (!(s->spec = strdup(spec)) || !(s->eventlog_path = strdup(log)))
        goto fail;
    tpm2w_err e = tpm2w_open(spec, &s->conn);
    if (e == TPM2W_ERR_IO && spec[0] == '/' && (errno == ENOENT || errno == ENODEV || errno == ENXIO)) {
        tpm2_free(s);
        return 0;                       /* no TPM on this platform */
    }
    if (e) {
        log_warn("attest.provider", "provider=tpm2 reason=\"cannot open %s: %s\"", spec, strerror(errno));
        goto fail;
    }
    if ((e = tpm2w_get_manufacturer(s->conn, &s->manufacturer)) != TPM2W_OK) {
        log_warn("attest.provider", "provider=tpm2 reason=\"%s does not answer as a TPM 2.0: %s\"", spec, werr(e));
        goto fail;
    }
    if (choose_ak(s) != 0)
        goto fail;
    if ((e = load_ak(s)) != TPM2W_OK) {
        log_warn("attest.provider", "provider=tpm2 reason=\"cannot create the AK (%s): %s (rc 0x%x)\"", s->ak_source,
                werr(e), tpm2w_last_rc(s->conn));
        goto fail;
    }
    tpm2_err pe = tpm2_public_to_pkey(s->ak_public, s->ak_public_len, &s->ak_key);
    if (pe != TPM2_OK) {
        log_warn("attest.provider", "provider=tpm2 reason=\"AK public area: %s\"", tpm2_strerror(pe));
        goto fail;
    }
    if (!(s->ak_pub_pem = pkey_pem_json(s->ak_key)))
        goto fail;
    check_ak_cert(s);
    uint8_t cert[ATTEST_TPM_NV_MAX];
    size_t cl;
    for (size_t i = 0; i < sizeof nv_ek_cert / sizeof nv_ek_cert[0] && !s->ek_cert_pem; i++) {
        int r = nv_read_opt(s, nv_ek_cert[i], cert, sizeof cert, &cl);
        if (r == 1)
            s->ek_cert_pem = attest_util_cert_pem_json(cert, cl);
    }
    *state = s;
    return 1;
fail:
    tpm2_free(s);
    return -1;
}

/* One quote attempt with the PCR values read just before it. Returns TPM2W_OK, or
 * TPM2W_ERR_CRYPTO when the PCRs moved in between (the caller retries). */
static tpm2w_err quote_once(struct tpm2_state *s, const uint8_t qual[32], uint8_t pcrs[24][32],
                            uint8_t *attest, size_t *alen, uint8_t *sig, size_t *slen, char *err, size_t errlen)
{
    uint32_t counter;
    tpm2w_err e = tpm2w_pcr_read_sha256(s->conn, PCR_MASK, pcrs, &counter);
    if (e) {
        snprintf(err, errlen, "TPM2_PCR_Read: %s (rc 0x%x)", werr(e), tpm2w_last_rc(s->conn));
        return e;
    }
    e = tpm2w_quote_sha256(s->conn, s->ak_handle, qual, 32, PCR_MASK, attest, ATTEST_TPM_BUF_MAX, alen,
                           sig, ATTEST_TPM_BUF_MAX, slen);
    if (e) {
        snprintf(err, errlen, "TPM2_Quote: %s (rc 0x%x)", werr(e), tpm2w_last_rc(s->conn));
        return e;
    }
    struct tpm2_quote qi;
    struct tpm2_signature si;
    tpm2_err pe;
    if ((pe = tpm2_quote_parse(attest, *alen, &qi)) != TPM2_OK) {
        snprintf(err, errlen, "quote: %s", tpm2_strerror(pe));
        return TPM2W_ERR_PROTO;
    }
    if (qi.extra_data_len != 32 || memcmp(qi.extra_data, qual, 32) != 0 || qi.nsel != 1 ||
        qi.sel[0].hash != TPM2_ALG_SHA256 || tpm2_pcr_selection_mask(&qi.sel[0]) != PCR_MASK ||
        qi.pcr_digest_len != 32) {
        snprintf(err, errlen, "quote does not cover what was asked");
        return TPM2W_ERR_PROTO;
    }
    if ((pe = tpm2_signature_parse(sig, *slen, &si)) != TPM2_OK ||
        (pe = tpm2_signature_verify(s->ak_key, &si, attest, *alen)) != TPM2_OK) {
        snprintf(err, errlen, "quote signature does not verify with the AK: %s", tpm2_strerror(pe));
        return TPM2W_ERR_PROTO;
    }
    uint8_t d[32];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (int i = 0; ok && i < ATTEST_TPM_PCR_COUNT; i++)
        ok = EVP_DigestUpdate(md, pcrs[i], 32);
    ok = ok && EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    if (!ok) {
        snprintf(err, errlen, "out of memory");
        return TPM2W_ERR_NOMEM;
    }
    if (memcmp(d, qi.pcr_digest, 32) != 0) {
        snprintf(err, errlen, "PCRs changed during the quote");
        return TPM2W_ERR_CRYPTO;
    }
    return TPM2W_OK;
}

/* Reopens the TPM and recreates the AK after a transport failure or a lost handle. */
static tpm2w_err reconnect(struct tpm2_state *s)
{
    if (s->conn && s->ak_loaded)
        tpm2w_flush(s->conn, s->ak_handle);
    tpm2w_close(s->conn);
    s->conn = NULL;
    s->ak_loaded = 0;
    tpm2w_err e = tpm2w_open(s->spec, &s->conn);
    return e ? e : load_ak(s);
}

static int tpm2_evidence(void *arg, const uint8_t report_data[64], json_t **out, char *err, size_t errlen)
{
    struct tpm2_state *s = arg;
    uint8_t qual[32], pcrs[24][32];
    uint8_t *attest = malloc(ATTEST_TPM_BUF_MAX), *sig = malloc(ATTEST_TPM_BUF_MAX);
    uint8_t *log = NULL, *ima = NULL;
    size_t alen = 0, slen = 0, loglen = 0, imalen = 0;
    json_t *ev = NULL, *pcrobj = NULL;
    int rc = -1;
    *out = NULL;
    if (!attest || !sig) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    SHA256(report_data, 64, qual);
    tpm2w_err e = TPM2W_ERR_IO;
    int reconnected = 0;
    for (int t = 0; t < ATTEST_TPM_QUOTE_TRIES; t++) {
        if (!s->conn || !s->ak_loaded) {
            if ((e = reconnect(s)) != TPM2W_OK) {
                snprintf(err, errlen, "TPM unavailable: %s", werr(e));
                goto done;
            }
            reconnected = 1;
        }
        e = quote_once(s, qual, pcrs, attest, &alen, sig, &slen, err, errlen);
        if (e == TPM2W_OK)
            break;
        if (e == TPM2W_ERR_IO || (e == TPM2W_ERR_TPM && tpm2w_rc_is_handle(tpm2w_last_rc(s->conn)))) {
            if (reconnected)
                goto done;
            s->ak_loaded = 0;         /* lost connection or AK flushed by someone: once more */
            t--;
            continue;
        }
        if (e != TPM2W_ERR_CRYPTO)
            goto done;
    }
    if (e != TPM2W_OK)
        goto done;
    log = attest_util_read_file(s->eventlog_path, ATTEST_EVENTLOG_MAX, &loglen);
    if (!log && errno != ENOENT) {
        snprintf(err, errlen, "event log %s: %s", s->eventlog_path, strerror(errno));
        goto done;
    }
    /* read after the quote: a superset of what PCR 10 covers (a verifier replays a prefix) */
    if (!strcmp(s->eventlog_path, DEFAULT_EVENTLOG) &&
        !(ima = attest_util_read_file(DEFAULT_IMA_LOG, ATTEST_EVENTLOG_MAX, &imalen)) && errno != ENOENT) {
        snprintf(err, errlen, "IMA log: %s", strerror(errno));
        goto done;
    }
    if (!(ev = json_object()) || !(pcrobj = json_object()))
        goto nomem;
    for (int i = 0; i < ATTEST_TPM_PCR_COUNT; i++) {
        char hex[CODEC_HEX_LEN(32)], key[4];
        codec_hex_encode(pcrs[i], 32, hex, sizeof hex);
        snprintf(key, sizeof key, "%d", i);
        if (json_object_set_new(pcrobj, key, json_string(hex)) != 0)
            goto nomem;
    }
    json_t *banks = json_object();
    if (!banks || json_object_set_new(banks, "sha256", pcrobj) != 0) {
        json_decref(banks);
        goto nomem;
    }
    pcrobj = NULL;
    if (json_object_set_new(ev, "type", json_string("tpm2")) ||
        json_object_set_new(ev, "quote", attest_util_b64_json(attest, alen)) ||
        json_object_set_new(ev, "signature", attest_util_b64_json(sig, slen)) ||
        json_object_set(ev, "ak_pub", s->ak_pub_pem) ||
        json_object_set(ev, "ak_cert", s->ak_cert_pem ? s->ak_cert_pem : json_null()) ||
        json_object_set_new(ev, "ak_source", json_string(s->ak_source)) ||
        json_object_set(ev, "ek_cert", s->ek_cert_pem ? s->ek_cert_pem : json_null()) ||
        json_object_set_new(ev, "pcrs", banks) ||
        json_object_set_new(ev, "event_log", log ? attest_util_b64_json(log, loglen) : json_null()) ||
        json_object_set_new(ev, "ima_log", ima ? attest_util_b64_json(ima, imalen) : json_null()))
        goto nomem;
    *out = ev;
    ev = NULL;
    rc = 0;
    goto done;
nomem:
    snprintf(err, errlen, "out of memory");
done:
    json_decref(ev);
    json_decref(pcrobj);
    free(attest);
    free(sig);
    free(log);
    free(ima);
    return rc;
}

static json_t *tpm2_status(void *arg)
{
    struct tpm2_state *s = arg;
    json_t *o = json_object();
    if (!o)
        return NULL;
    char manuf[5];
    for (int i = 0; i < 4; i++) {
        char ch = (char)(s->manufacturer >> (24 - 8 * i));
        manuf[i] = (ch >= 0x20 && ch < 0x7f) ? ch : ' ';
    }
    manuf[4] = 0;
    json_object_set_new(o, "type", json_string("tpm2"));
    json_object_set_new(o, "manufacturer", json_string(manuf));
    json_object_set_new(o, "ak_source", json_string(s->ak_source));
    json_object_set_new(o, "ak_cert", json_boolean(s->ak_cert_pem != NULL));
    json_object_set_new(o, "ak_root", s->ak_root[0] ? json_string(s->ak_root) : json_null());
    json_object_set_new(o, "ek_cert", json_boolean(s->ek_cert_pem != NULL));
    return o;
}

const struct attest_provider attest_provider_tpm2 = {
    .type = "tpm2",
    .probe = tpm2_probe,
    .evidence = tpm2_evidence,
    .status = tpm2_status,
    .free = tpm2_free,
};
