/* cmd_tpm: `sealed-verify tpm-quote` (a TPM 2.0 quote from files) and `sealed-verify eventlog LOG`
 * (replay a UEFI event log to PCR values). Loads files only; the checks are tpm_check's and the
 * replay is common/tpm_eventlog's. */
#include "verify/cli.h"
#include "verify/tpm_check.h"
#include "verify/amd_chain.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/codec.h"
#include "common/tpm_eventlog.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>

/* An AK public key from PEM/DER SubjectPublicKeyInfo, or from a certificate (then *cert is set). */
static EVP_PKEY *load_ak(const uint8_t *b, size_t len, X509 **cert)
{
    EVP_PKEY *k = NULL;
    *cert = NULL;
    if (amd_chain_load_certs(b, len, cert, 1) == 1)
        return EVP_PKEY_dup(X509_get0_pubkey(*cert));
    *cert = NULL;
    BIO *bio = BIO_new_mem_buf(b, (int)len);
    if (bio) {
        k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if (!k) {
        const unsigned char *p = b;
        k = d2i_PUBKEY(NULL, &p, (long)len);
    }
    return k;
}

static json_t *load_json_file(const char *path, char *err, size_t errlen)
{
    size_t len;
    uint8_t *b = verify_read_file(path, VERIFY_MAX_INPUT_FILE, &len, err, errlen);
    if (!b)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)b, len, JSON_REJECT_DUPLICATES, &je);
    free(b);
    if (!json_is_object(j)) {
        snprintf(err, errlen, "%s: not a JSON object (%s)", path, je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

int cmd_tpm_quote(struct verify_opts *o)
{
    int rc = 2, nca = 0;
    uint8_t *quote = NULL, *sig = NULL, *akb = NULL, *log = NULL;
    size_t ql = 0, sl = 0, al = 0, ll = 0;
    EVP_PKEY *ak = NULL;
    X509 *akcert = NULL, *ca[VERIFY_MAX_CHAIN_CERTS] = {0};
    json_t *pcrs = NULL;
    char err[256] = "";
    uint8_t extra[64];
    struct steps st;
    if (steps_init(&st))
        return 2;
    if (!o->quote || !o->signature || !o->ak) {
        fprintf(stderr, "sealed-verify tpm-quote: --quote, --signature and --ak are required\n");
        goto out;
    }
    if (!(quote = verify_read_file(o->quote, VERIFY_MAX_INPUT_FILE, &ql, err, sizeof err)) ||
        !(sig = verify_read_file(o->signature, VERIFY_MAX_INPUT_FILE, &sl, err, sizeof err)) ||
        !(akb = verify_read_file(o->ak, VERIFY_MAX_INPUT_FILE, &al, err, sizeof err)) ||
        (o->eventlog && !(log = verify_read_file(o->eventlog, VERIFY_MAX_EVENTLOG, &ll, err, sizeof err))) ||
        (o->pcrs && !(pcrs = load_json_file(o->pcrs, err, sizeof err)))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    if (!(ak = load_ak(akb, al, &akcert))) {
        fprintf(stderr, "sealed-verify: %s holds no public key or certificate\n", o->ak);
        goto out;
    }
    if (o->ak_ca && (nca = cli_load_certs_file(o->ak_ca, ca, VERIFY_MAX_CHAIN_CERTS, err, sizeof err)) < 0) {
        fprintf(stderr, "sealed-verify: --tpm-ca: %s\n", err);
        nca = 0;
        goto out;
    }
    struct tpm_check_in in = {
        .quote = quote, .quote_len = ql, .sig = sig, .sig_len = sl, .ak = ak, .ak_cert = akcert,
        .ca = ca, .nca = nca, .pcrs = pcrs, .eventlog = log, .eventlog_len = ll, .at = o->at,
        .allow_unrooted = o->allow_unrooted_ak, .allow_option_roms = o->allow_option_roms,
    };
    if (o->report_data) {
        uint8_t rd[64];
        if (verify_hex_arg(o->report_data, rd, sizeof rd) != 64) {
            fprintf(stderr, "sealed-verify: --report-data wants 128 lowercase hex digits\n");
            goto out;
        }
        EVP_Digest(rd, 64, extra, NULL, EVP_sha256(), NULL);
        in.expected_extra = extra;
        in.expected_extra_len = 32;
        in.expected_extra_what = "SHA-256(--report-data)";
    } else if (o->nonce) {
        size_t n = verify_hex_arg(o->nonce, extra, sizeof extra);
        if (n == (size_t)-1) {
            fprintf(stderr, "sealed-verify: --nonce wants lowercase hex (at most 64 bytes)\n");
            goto out;
        }
        in.expected_extra = extra;
        in.expected_extra_len = n;
        in.expected_extra_what = "--nonce";
    }
    struct tpm_ak_root_result root;
    tpm_check_run(&in, &st, "quote", &root);
    if (o->json) {
        steps_print_json(&st, stdout, "tpm-quote");
    } else {
        steps_print(&st, stdout, "sealed-verify tpm-quote");
        printf("fields:\n");
        cli_print_fields(json_object_get(st.fields, "quote"), stdout, 2);
        printf("%s\n", st.failed ? "RESULT: FAIL - at least one check above failed" :
               root.kind == TPM_AK_ROOT_VENDOR ? "RESULT: PASS - a vendor-certified TPM key signed these PCR values "
                                                 "over the expected qualifying data" :
               root.kind == TPM_AK_ROOT_TEST ? "RESULT: PASS (against a TEST root: not evidence of a real TPM)" :
               "RESULT: PASS (--allow-unrooted-ak: the holder of this AK signed these PCR values; nothing shows it "
               "is a real TPM)");
    }
    rc = st.failed ? 1 : 0;
out:
    free(quote);
    free(sig);
    free(akb);
    free(log);
    EVP_PKEY_free(ak);
    X509_free(akcert);
    for (int i = 0; i < nca; i++)
        X509_free(ca[i]);
    json_decref(pcrs);
    steps_free(&st);
    return rc;
}

int cmd_eventlog(struct verify_opts *o)
{
    int rc = 2;
    size_t len = 0;
    char err[256] = "";
    uint8_t *b = NULL;
    tpm_eventlog *log = NULL;
    json_t *want = NULL;
    struct steps st;
    if (steps_init(&st))
        return 2;
    if (!o->file) {
        fprintf(stderr, "sealed-verify eventlog: give the event log file\n");
        goto out;
    }
    uint16_t only = 0;
    if (o->bank && !(only = tpm_eventlog_alg_from_name(o->bank))) {
        fprintf(stderr, "sealed-verify: --bank wants sha1, sha256, sha384 or sha512\n");
        goto out;
    }
    if (!(b = verify_read_file(o->file, VERIFY_MAX_EVENTLOG, &len, err, sizeof err)) ||
        (o->pcrs && !(want = load_json_file(o->pcrs, err, sizeof err)))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    tpm_eventlog_err le = tpm_eventlog_parse(b, len, &log);
    if (le) {
        steps_add(&st, STEP_FAIL, "eventlog.parse", "event log %s: %s", o->file, tpm_eventlog_strerror(le));
    } else {
        steps_add(&st, STEP_PASS, "eventlog.parse", "event log parsed: %s format, %zu records, startup locality %u",
                  log->crypto_agile ? "TCG2 crypto-agile" : "legacy TCG 1.2 SHA-1", log->nevents, log->startup_locality);
        json_t *banks = json_object();
        for (size_t a = 0; a < log->nalgs; a++) {
            uint16_t alg = log->algs[a].alg;
            const char *name = tpm_eventlog_alg_name(alg);
            if ((only && alg != only) || !name)
                continue;
            tpm_eventlog_bank bank;
            le = tpm_eventlog_replay(log, alg, &bank);
            if (le) {
                steps_add(&st, STEP_FAIL, "eventlog.replay", "%s bank: %s", name, tpm_eventlog_strerror(le));
                continue;
            }
            json_t *pj = json_object();
            char idx[8], hex[2 * TPM_EVENTLOG_MAX_DIGEST + 1];
            for (unsigned i = 0; i < TPM_EVENTLOG_NUM_PCRS; i++) {
                if (!(bank.extended_mask & (1u << i)))
                    continue;
                snprintf(idx, sizeof idx, "%u", i);
                codec_hex_encode(bank.pcr[i], bank.digest_len, hex, sizeof hex);
                json_object_set_new(pj, idx, json_string(hex));
                if (want && json_object_get(json_object_get(want, name), idx)) {
                    uint8_t v[TPM_EVENTLOG_MAX_DIGEST];
                    int vl = tpm_check_pcr_value(want, name, i, v, sizeof v);
                    steps_check(&st, vl == (int)bank.digest_len && !memcmp(v, bank.pcr[i], bank.digest_len), NULL,
                                "eventlog.pcr", "%s PCR %u replays to the expected %s", name, i, hex);
                }
            }
            steps_add(&st, STEP_PASS, "eventlog.replay", "%s bank replayed", name);
            json_object_set_new(banks, name, pj);
        }
        if (want) {
            /* expected PCRs the log never extends cannot be predicted from it */
            const char *bk;
            json_t *bv;
            json_object_foreach(want, bk, bv) {
                const char *ik;
                json_t *iv;
                json_t *have = json_object_get(banks, bk);
                if ((only && tpm_eventlog_alg_from_name(bk) != only) || !json_is_object(bv))
                    continue;
                json_object_foreach(bv, ik, iv)
                    if (!json_object_get(have, ik))
                        steps_add(&st, STEP_FAIL, "eventlog.pcr", "%s PCR %s is expected but the log has no event for it", bk, ik);
            }
        }
        json_object_set_new(st.fields, "pcrs", banks);
    }
    if (o->json) {
        steps_print_json(&st, stdout, "eventlog");
    } else {
        steps_print(&st, stdout, "sealed-verify eventlog");
        json_t *banks = json_object_get(st.fields, "pcrs");
        const char *bk;
        json_t *bv;
        json_object_foreach(banks, bk, bv) {
            printf("%s:\n", bk);
            for (unsigned i = 0; i < TPM_EVENTLOG_NUM_PCRS; i++) {
                char idx[8];
                snprintf(idx, sizeof idx, "%u", i);
                json_t *v = json_object_get(bv, idx);
                if (v)
                    printf("  PCR %2u: %s\n", i, json_string_value(v));
            }
        }
        printf("%s\n", st.failed ? "RESULT: FAIL" : "RESULT: PASS");
    }
    rc = st.failed ? 1 : 0;
out:
    tpm_eventlog_free(log);
    free(b);
    json_decref(want);
    steps_free(&st);
    return rc;
}
