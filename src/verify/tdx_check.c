/* tdx_check: one TDX quote, every step recorded; see tdx_check.h. */
#include "verify/tdx_check.h"
#include "verify/amd_chain.h"
#include "verify/intel_root.h"
#include "verify/verify_limits.h"
#include "common/codec.h"
#include "common/tpm_eventlog.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>

#define TDX_MAX_CHAIN 4

/* EC P-256 public key from raw x || y. */
static EVP_PKEY *p256_from_xy(const uint8_t xy[64])
{
    uint8_t pt[65];
    pt[0] = 0x04;
    memcpy(pt + 1, xy, 64);
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *p = NULL;
    if (c && b && OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
        OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt) &&
        (p = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(c) == 1)
        EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, p);
    OSSL_PARAM_free(p);
    OSSL_PARAM_BLD_free(b);
    EVP_PKEY_CTX_free(c);
    return k;
}

/* ECDSA P-256 / SHA-256 with a raw 64-byte r || s signature. */
static int es256_raw(EVP_PKEY *k, const uint8_t *msg, size_t len, const uint8_t rs[64])
{
    int ok = 0;
    unsigned char *der = NULL;
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL), *sv = BN_bin2bn(rs + 32, 32, NULL);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!s || !r || !sv || !m || !ECDSA_SIG_set0(s, r, sv)) {
        BN_free(r);
        BN_free(sv);
        goto out;
    }
    int dl = i2d_ECDSA_SIG(s, &der);
    ok = dl > 0 && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, k) == 1 &&
         EVP_DigestVerify(m, der, (size_t)dl, msg, len) == 1;
out:
    OPENSSL_free(der);
    ECDSA_SIG_free(s);
    EVP_MD_CTX_free(m);
    return ok;
}

static json_t *hexj(const uint8_t *b, size_t n)
{
    char h[2 * 64 + 1];
    codec_hex_encode(b, n, h, sizeof h);
    return json_string(h);
}

static json_t *quote_json(const struct tdx_quote *q)
{
    json_t *o = json_object();
    char v[24];
    json_object_set_new(o, "version", json_integer(q->version));
    json_object_set_new(o, "body", json_string(q->body_type == 3 ? "TDX 1.5" : "TDX 1.0"));
    json_object_set_new(o, "qe_svn", json_integer(q->qe_svn));
    json_object_set_new(o, "pce_svn", json_integer(q->pce_svn));
    json_object_set_new(o, "qe_vendor_id", hexj(q->qe_vendor_id, 16));
    json_object_set_new(o, "tee_tcb_svn", hexj(q->tee_tcb_svn, 16));
    json_object_set_new(o, "mrseam", hexj(q->mrseam, 48));
    json_object_set_new(o, "mrsignerseam", hexj(q->mrsignerseam, 48));
    snprintf(v, sizeof v, "0x%016" PRIx64, q->seam_attributes);
    json_object_set_new(o, "seam_attributes", json_string(v));
    snprintf(v, sizeof v, "0x%016" PRIx64, q->td_attributes);
    json_object_set_new(o, "td_attributes", json_string(v));
    json_object_set_new(o, "td_debug", json_boolean(q->td_attributes & TDX_TD_ATTR_DEBUG));
    snprintf(v, sizeof v, "0x%016" PRIx64, q->xfam);
    json_object_set_new(o, "xfam", json_string(v));
    json_object_set_new(o, "mrtd", hexj(q->mrtd, 48));
    json_object_set_new(o, "mrconfigid", hexj(q->mrconfigid, 48));
    json_object_set_new(o, "mrowner", hexj(q->mrowner, 48));
    json_object_set_new(o, "mrownerconfig", hexj(q->mrownerconfig, 48));
    for (int i = 0; i < 4; i++) {
        char k[8];
        snprintf(k, sizeof k, "rtmr%d", i);
        json_object_set_new(o, k, hexj(q->rtmr[i], 48));
    }
    json_object_set_new(o, "report_data", hexj(q->report_data, 64));
    if (q->body_type == 3) {
        json_object_set_new(o, "tee_tcb_svn2", hexj(q->tee_tcb_svn2, 16));
        json_object_set_new(o, "mrservicetd", hexj(q->mrservicetd, 48));
    }
    return o;
}

static void check_pck_chain(const struct tdx_check_in *in, X509 *const *chain, int n, struct steps *st)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509 *intel = intel_root_load();
    int ok = 0;
    if (!store || !ctx || !untrusted || !intel) {
        steps_add(st, STEP_FAIL, "tdx.pck_chain", "out of memory checking the PCK chain");
        goto out;
    }
    X509_STORE_add_cert(store, intel);
    for (int i = 0; i < in->ntrust_roots; i++)
        if (X509_check_issued(in->trust_roots[i], in->trust_roots[i]) == X509_V_OK)
            X509_STORE_add_cert(store, in->trust_roots[i]);
    for (int i = 1; i < n; i++)
        sk_X509_push(untrusted, chain[i]);
    if (X509_STORE_CTX_init(ctx, store, chain[0], untrusted) == 1) {
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), in->at);
        ok = X509_verify_cert(ctx) == 1;
    }
    char cn[64];
    amd_chain_cn(X509_get_subject_name(chain[0]), cn, sizeof cn);
    if (!ok) {
        steps_add(st, STEP_FAIL, "tdx.pck_chain", "PCK certificate %s does not chain to the Intel SGX Root CA%s: %s", cn,
                  in->ntrust_roots ? " or the --trust-root" : "",
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    STACK_OF(X509) *vc = X509_STORE_CTX_get0_chain(ctx);
    X509 *top = sk_X509_value(vc, sk_X509_num(vc) - 1);
    char tcn[64], fp[65];
    amd_chain_cn(X509_get_subject_name(top), tcn, sizeof tcn);
    steps_add(st, STEP_PASS, "tdx.pck_chain", "PCK certificate %s chains to %s (%d certificates, ECDSA P-256, valid at the verification time)",
              cn, tcn, sk_X509_num(vc));
    if (intel_root_is(top)) {
        steps_add(st, STEP_INFO, "tdx.root", "trust root: Intel SGX Root CA pinned in this verifier (sha256 %s)", INTEL_ROOT_SHA256);
    } else {
        amd_chain_fingerprint(top, fp);
        steps_add(st, STEP_WARN, "tdx.root", "trust root is the TEST root %s (sha256 %s) from --trust-root %s, not Intel's: "
                  "this proves nothing about real Intel hardware", tcn, fp, in->trust_root_file ? in->trust_root_file : "");
    }
out:
    sk_X509_free(untrusted);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(intel);
}

static void check_ccel(const struct tdx_check_in *in, const struct tdx_quote *q, struct steps *st)
{
    tpm_eventlog *log = NULL;
    tpm_eventlog_err e = tpm_eventlog_parse(in->ccel, in->ccel_len, &log);
    if (e) {
        steps_add(st, STEP_FAIL, "tdx.ccel.parse", "CCEL event log: %s", tpm_eventlog_strerror(e));
        return;
    }
    tpm_eventlog_bank b;
    e = tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA384, &b);
    if (e) {
        steps_add(st, STEP_FAIL, "tdx.ccel.replay", "CCEL event log cannot be replayed in SHA-384: %s", tpm_eventlog_strerror(e));
        tpm_eventlog_free(log);
        return;
    }
    /* CC measurement register index: 0 = MRTD (not an extend register), 1..4 = RTMR0..3 */
    char match[64] = "", bad[64] = "", outside[64] = "";
    size_t nm = 0, nb = 0, no = 0;
    for (int i = 0; i < 4; i++) {
        int same = memcmp(b.pcr[i + 1], q->rtmr[i], 48) == 0;
        if (b.extended_mask & (1u << (i + 1))) {
            if (same)
                nm += (size_t)snprintf(match + nm, sizeof match - nm, "%sRTMR%d", nm ? "," : "", i);
            else
                nb += (size_t)snprintf(bad + nb, sizeof bad - nb, "%sRTMR%d", nb ? "," : "", i);
        } else if (!same) {
            no += (size_t)snprintf(outside + no, sizeof outside - no, "%sRTMR%d", no ? "," : "", i);
        }
    }
    steps_add(st, STEP_PASS, "tdx.ccel.parse", "CCEL event log parsed: %zu records", log->nevents);
    steps_check(st, nb == 0 && nm > 0, NULL, "tdx.ccel.replay", "CCEL event log replays to the quoted [%s]%s%s", match,
                nb ? "; mismatch in " : "", bad);
    if (no)
        steps_add(st, STEP_INFO, "tdx.ccel.outside", "[%s] were extended by something not in the log", outside);
    if (b.extended_mask & 1u)
        steps_add(st, STEP_INFO, "tdx.ccel.mrtd", "the log has MRTD (index 0) events: MRTD is a build-time hash and is not replayed");
    tpm_eventlog_free(log);
}

int tdx_check_run(const struct tdx_check_in *in, struct steps *st, const char *key, struct tdx_quote *q, int *parsed)
{
    int before = st->failed, nchain = 0;
    X509 *chain[TDX_MAX_CHAIN] = {0};
    EVP_PKEY *att = NULL;
    *parsed = 0;
    tdx_quote_err e = tdx_quote_parse(in->quote, in->quote_len, q);
    if (e) {
        steps_add(st, STEP_FAIL, "tdx.parse", "TDX quote: %s", tdx_quote_strerror(e));
        return st->failed - before;
    }
    *parsed = 1;
    steps_add(st, STEP_PASS, "tdx.parse", "TDX quote parsed: version %u, %s TD report, ECDSA P-256 attestation key, %zu bytes",
              q->version, q->body_type == 3 ? "TDX 1.5" : "TDX 1.0", in->quote_len);
    json_t *fj = quote_json(q);
    if (fj)
        json_object_set_new(st->fields, key, fj);
    if (in->expected_report_data)
        steps_check(st, CRYPTO_memcmp(q->report_data, in->expected_report_data, 64) == 0, NULL, "tdx.report_data",
                    "REPORTDATA equals the expected 64 bytes");

    att = p256_from_xy(q->att_key);
    steps_check(st, att && es256_raw(att, q->signed_data, q->signed_len, q->signature), NULL, "tdx.signature",
                "quote signature (ECDSA P-256, header and TD report) verifies with the attestation key in the quote");
    uint8_t h[32];
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    int hok = m && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(m, q->att_key, 64) == 1 &&
              EVP_DigestUpdate(m, q->qe_auth, q->qe_auth_len) == 1 && EVP_DigestFinal_ex(m, h, NULL) == 1;
    EVP_MD_CTX_free(m);
    static const uint8_t zero[32];
    steps_check(st, hok && !CRYPTO_memcmp(q->qe_report + 320, h, 32) && !memcmp(q->qe_report + 352, zero, 32), NULL,
                "tdx.qe_binding", "the QE report's REPORTDATA is SHA-256(attestation key || QE authentication data)");
    nchain = amd_chain_load_certs(q->pck_chain, q->pck_chain_len, chain, TDX_MAX_CHAIN);
    if (nchain < 1) {
        steps_add(st, STEP_FAIL, "tdx.pck_chain", "the quote carries no readable PCK certificate chain");
        nchain = 0;
    } else {
        EVP_PKEY *pck = X509_get0_pubkey(chain[0]);
        steps_check(st, pck && es256_raw(pck, q->qe_report, TDX_QUOTE_QE_REPORT_LEN, q->qe_report_signature), NULL,
                    "tdx.qe_signature", "QE report signature verifies with the PCK certificate's key");
        check_pck_chain(in, chain, nchain, st);
    }
    steps_add(st, STEP_INFO, "tdx.collateral", "Intel TCB info and QE identity are not checked (no collateral offline): "
              "whether this platform's TDX module and QE are up to date is not proven");
    steps_check(st, !(q->td_attributes & TDX_TD_ATTR_DEBUG), in->allow_debug ? "--allow-debug" : NULL, "policy.tdx_debug",
                "TD debug is off (TD_ATTRIBUTES bit 0 clear; 0x%016" PRIx64 ")", q->td_attributes);
    if (in->ccel)
        check_ccel(in, q, st);
    else
        steps_add(st, STEP_INFO, "tdx.ccel", "no CCEL event log: RTMRs are quoted but not explained");
    EVP_PKEY_free(att);
    for (int i = 0; i < nchain; i++)
        X509_free(chain[i]);
    return st->failed - before;
}
