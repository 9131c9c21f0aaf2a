/* tpm_check: one TPM 2.0 quote, every step recorded; see tpm_check.h. */
#include "verify/tpm_check.h"
#include "common/tpm2_struct.h"
#include "verify/firmware_pcrs.h"
#include "verify/verify_limits.h"
#include "verify/amd_chain.h"
#include "common/codec.h"
#include "common/tpm_eventlog.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

static const char *alg_name(uint16_t alg)
{
    const char *n = tpm_eventlog_alg_name(alg);
    return n ? n : "unknown-hash";
}

int tpm_check_pcr_value(const json_t *pcrs, const char *bank, unsigned index, uint8_t *out, size_t cap)
{
    char k[8];
    snprintf(k, sizeof k, "%u", index);
    json_t *v = json_object_get(json_object_get(pcrs, bank), k);
    if (!json_is_string(v))
        return -1;
    size_t n = codec_hex_decode(json_string_value(v), json_string_length(v), out, cap);
    return n == (size_t)-1 ? -1 : (int)n;
}

static void pcr_list(const struct tpm2_pcr_selection *s, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (unsigned i = 0; i < (unsigned)s->size * 8 && n + 4 < cap; i++)
        if (s->select[i / 8] & (1u << (i % 8)))
            n += (size_t)snprintf(out + n, cap - n, "%s%u", n ? "," : "", i);
}

static void check_eventlog(const struct tpm_check_in *in, const struct tpm2_quote *q, struct steps *st)
{
    uint16_t fw_bank = 0;   /* a bank whose quoted PCRs 0-7 the log replays to: the firmware policy reads it */
    tpm_eventlog *log = NULL;
    tpm_eventlog_err le = tpm_eventlog_parse(in->eventlog, in->eventlog_len, &log);
    if (le) {
        steps_add(st, STEP_FAIL, "tpm.eventlog.parse", "event log: %s", tpm_eventlog_strerror(le));
        return;
    }
    steps_add(st, STEP_PASS, "tpm.eventlog.parse", "event log parsed: %s format, %zu records",
              log->crypto_agile ? "TCG2 crypto-agile" : "legacy TCG 1.2 SHA-1", log->nevents);
    for (size_t k = 0; k < q->nsel; k++) {
        const struct tpm2_pcr_selection *s = &q->sel[k];
        const char *bank = alg_name(s->hash);
        tpm_eventlog_bank b;
        le = tpm_eventlog_replay(log, s->hash, &b);
        if (le) {
            steps_add(st, STEP_FAIL, "tpm.eventlog.replay", "event log cannot be replayed for %s: %s", bank,
                      tpm_eventlog_strerror(le));
            continue;
        }
        char match[128] = "", bad[128] = "", outside[128] = "";
        size_t nm = 0, nb = 0, no = 0;
        for (unsigned i = 0; i < (unsigned)s->size * 8 && i < TPM_EVENTLOG_NUM_PCRS; i++) {
            if (!(s->select[i / 8] & (1u << (i % 8))))
                continue;
            uint8_t v[TPM2_MAX_DIGEST];
            int vl = tpm_check_pcr_value(in->pcrs, bank, i, v, sizeof v);
            int same = vl == (int)b.digest_len && !memcmp(v, b.pcr[i], b.digest_len);
            if (b.extended_mask & (1u << i)) {
                if (same)
                    nm += (size_t)snprintf(match + nm, sizeof match - nm, "%s%u", nm ? "," : "", i);
                else
                    nb += (size_t)snprintf(bad + nb, sizeof bad - nb, "%s%u", nb ? "," : "", i);
            } else if (!same) {
                no += (size_t)snprintf(outside + no, sizeof outside - no, "%s%u", no ? "," : "", i);
            }
            if (nm >= sizeof match) nm = sizeof match - 1;
            if (nb >= sizeof bad) nb = sizeof bad - 1;
            if (no >= sizeof outside) no = sizeof outside - 1;
        }
        steps_check(st, nb == 0, NULL, "tpm.eventlog.replay", "event log replays to the quoted %s PCRs [%s]%s%s", bank,
                    match, nb ? "; mismatch in PCRs " : "", bad);
        if (nb == 0 && !fw_bank && s->size >= 1 && s->select[0] == 0xff)
            fw_bank = s->hash;
        if (no)
            steps_add(st, STEP_INFO, "tpm.eventlog.outside", "%s PCRs [%s] were extended by something not in the event log: "
                      "their values are covered by the quote but not explained by the log", bank, outside);
    }
    if (fw_bank) {
        struct firmware_pcrs_out fo;
        firmware_pcrs_check(log, fw_bank, in->allow_option_roms, st, &fo);
    } else {
        steps_add(st, STEP_INFO, "firmware", "firmware PCRs 0-7 not checked: the quote does not cover all of them, or "
                  "the log does not replay to them");
    }
    tpm_eventlog_free(log);
}

int tpm_check_run(const struct tpm_check_in *in, struct steps *st, const char *key, struct tpm_ak_root_result *root)
{
    int before = st->failed;
    memset(root, 0, sizeof *root);
    struct tpm2_quote q;
    tpm2_err e = tpm2_quote_parse(in->quote, in->quote_len, &q);
    if (e) {
        steps_add(st, STEP_FAIL, "tpm.quote.parse", "TPMS_ATTEST: %s", tpm2_strerror(e));
        return st->failed - before;
    }
    steps_add(st, STEP_PASS, "tpm.quote.parse", "TPMS_ATTEST parsed: a TPM2_Quote (magic TPM_GENERATED_VALUE, %zu bytes)",
              in->quote_len);
    json_t *f = json_object();
    char hex[2 * TPM2_MAX_NAME + 1];
    codec_hex_encode(q.qualified_signer, q.qualified_signer_len, hex, sizeof hex);
    json_object_set_new(f, "qualified_signer", json_string(hex));
    codec_hex_encode(q.extra_data, q.extra_data_len, hex, sizeof hex);
    json_object_set_new(f, "extra_data", json_string(hex));
    json_object_set_new(f, "clock", json_integer((json_int_t)q.clock));
    json_object_set_new(f, "reset_count", json_integer(q.reset_count));
    json_object_set_new(f, "restart_count", json_integer(q.restart_count));
    json_object_set_new(f, "safe", json_boolean(q.safe));
    char fw[24];
    snprintf(fw, sizeof fw, "0x%016" PRIx64, q.firmware_version);
    json_object_set_new(f, "firmware_version", json_string(fw));
    codec_hex_encode(q.pcr_digest, q.pcr_digest_len, hex, sizeof hex);
    json_object_set_new(f, "pcr_digest", json_string(hex));
    json_t *sel = json_object();
    for (size_t k = 0; k < q.nsel; k++) {
        char l[128];
        pcr_list(&q.sel[k], l, sizeof l);
        json_object_set_new(sel, alg_name(q.sel[k].hash), json_string(l));
    }
    json_object_set_new(f, "pcr_selection", sel);
    json_object_set_new(st->fields, key, f);

    /* signature with the AK */
    struct tpm2_signature s;
    e = tpm2_signature_parse(in->sig, in->sig_len, &s);
    if (e) {
        steps_add(st, STEP_FAIL, "tpm.signature", "TPMT_SIGNATURE: %s", tpm2_strerror(e));
    } else if (!in->ak) {
        steps_add(st, STEP_FAIL, "tpm.signature", "no attestation key given: the quote signature cannot be checked");
    } else {
        tpm2_err ve = tpm2_signature_verify(in->ak, &s, in->quote, in->quote_len);
        int ok = ve == TPM2_OK;
        const char *why = ok ? "" : tpm2_strerror(ve);
        steps_check(st, ok, NULL, "tpm.signature", "quote signature (%s with %s) verifies with the AK (%s %d bits)%s%s",
                    tpm2_sig_alg_name(s.sig_alg), alg_name(s.hash_alg),
                    EVP_PKEY_get_base_id(in->ak) == EVP_PKEY_RSA ? "RSA" : "EC", EVP_PKEY_get_bits(in->ak),
                    ok ? "" : ": ", ok ? "" : why);
    }

    /* qualifying data */
    codec_hex_encode(q.extra_data, q.extra_data_len, hex, sizeof hex);
    if (in->expected_extra)
        steps_check(st, q.extra_data_len == in->expected_extra_len &&
                    CRYPTO_memcmp(q.extra_data, in->expected_extra, q.extra_data_len) == 0, NULL, "tpm.qualifying_data",
                    "qualifying data %s equals %s", hex, in->expected_extra_what ? in->expected_extra_what : "the expected value");
    else
        steps_add(st, STEP_INFO, "tpm.qualifying_data", "qualifying data %s (not compared: no --report-data or --nonce)", hex);

    /* PCR digest */
    if (!in->pcrs) {
        steps_add(st, STEP_FAIL, "tpm.pcr_digest", "no PCR values given: the quoted PCR digest cannot be interpreted");
    } else if (e != TPM2_OK || !tpm2_md(s.hash_alg)) {
        steps_add(st, STEP_FAIL, "tpm.pcr_digest", "the PCR digest cannot be recomputed: the signature's hash algorithm is unknown");
    } else {
        const EVP_MD *md = tpm2_md(s.hash_alg);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = md && ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1;
        char missing[160] = "", sels[256] = "";
        size_t mn = 0, sn = 0;
        for (size_t k = 0; ok && k < q.nsel; k++) {
            const struct tpm2_pcr_selection *ps = &q.sel[k];
            char l[128];
            pcr_list(ps, l, sizeof l);
            sn += (size_t)snprintf(sels + sn, sizeof sels - sn, "%s%s [%s]", sn ? ", " : "", alg_name(ps->hash), l);
            if (sn >= sizeof sels)
                sn = sizeof sels - 1;
            for (unsigned i = 0; i < (unsigned)ps->size * 8; i++) {
                if (!(ps->select[i / 8] & (1u << (i % 8))))
                    continue;
                uint8_t v[TPM2_MAX_DIGEST];
                int vl = tpm_check_pcr_value(in->pcrs, alg_name(ps->hash), i, v, sizeof v);
                if (vl <= 0 || (size_t)vl != tpm_eventlog_alg_size(ps->hash)) {
                    mn += (size_t)snprintf(missing + mn, sizeof missing - mn, "%s%s:%u", mn ? "," : "", alg_name(ps->hash), i);
                    if (mn >= sizeof missing)
                        mn = sizeof missing - 1;
                    continue;
                }
                EVP_DigestUpdate(ctx, v, (size_t)vl);
            }
        }
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        if (ok)
            ok = EVP_DigestFinal_ex(ctx, d, &dl) == 1;
        EVP_MD_CTX_free(ctx);
        if (mn)
            steps_add(st, STEP_FAIL, "tpm.pcr_digest", "the PCR values for %s are missing or malformed", missing);
        else
            steps_check(st, ok && dl == q.pcr_digest_len && CRYPTO_memcmp(d, q.pcr_digest, dl) == 0, NULL,
                        "tpm.pcr_digest", "the quoted PCR digest equals the hash of the given PCR values (%s)", sels);
    }

    /* event log */
    if (in->eventlog && in->pcrs)
        check_eventlog(in, &q, st);
    else
        steps_add(st, STEP_INFO, "tpm.eventlog", "no event log: PCR values are quoted but not explained");

    /* AK certificate: is the AK rooted in a vendor CA? Without that, nothing ties it to a TPM. */
    int key_ok = 0;
    if (in->ak_cert) {
        char cn[64], icn[64];
        amd_chain_cn(X509_get_subject_name(in->ak_cert), cn, sizeof cn);
        amd_chain_cn(X509_get_issuer_name(in->ak_cert), icn, sizeof icn);
        EVP_PKEY *ck = X509_get0_pubkey(in->ak_cert);
        key_ok = steps_check(st, ck && in->ak && EVP_PKEY_eq(ck, in->ak) == 1, NULL, "tpm.ak_cert.key",
                             "AK certificate (CN=%s, issuer CN=%s) certifies the AK that signed the quote", cn, icn);
    }
    const char *allow = in->allow_unrooted ? "--allow-unrooted-ak" : NULL;
    if (!in->ak_cert) {
        steps_check(st, 0, allow, "tpm.ak_cert.root", "no AK certificate: nothing ties the AK to a real TPM, so the "
                    "quote shows only what the holder of this key signed (anyone can make such a quote)");
    } else if (!key_ok) {
        steps_check(st, 0, allow, "tpm.ak_cert.root", "the AK certificate is for another key: the AK is not rooted");
    } else {
        tpm_ak_root_kind k = tpm_ak_root_check(in->ak_cert, in->ak_chain, in->nak_chain, in->ca, in->nca, in->at, root);
        if (k == TPM_AK_ROOT_VENDOR)
            steps_add(st, STEP_PASS, "tpm.ak_cert.root", "AK certificate chains to the pinned vendor root %s (%s)",
                      root->root, root->chain);
        else if (k == TPM_AK_ROOT_TEST)
            steps_add(st, STEP_PASS, "tpm.ak_cert.root", "AK certificate chains to the TEST root CN=%s given with "
                      "--tpm-ca (%s), not to a vendor root: not evidence of a real TPM", root->root, root->chain);
        else
            steps_check(st, 0, allow, "tpm.ak_cert.root", "AK certificate %s: nothing ties the AK to a real TPM",
                        root->why);
    }
    json_t *rj = json_object();
    json_object_set_new(rj, "kind", json_string(root->kind == TPM_AK_ROOT_VENDOR ? "vendor" :
                                                root->kind == TPM_AK_ROOT_TEST ? "test" : "none"));
    if (root->kind != TPM_AK_ROOT_NONE) {
        json_object_set_new(rj, "root", json_string(root->root));
        json_object_set_new(rj, "chain", json_string(root->chain));
    }
    json_object_set_new(f, "ak_root", rj);
    return st->failed - before;
}
