/* cmd_fetch: `sealed-verify fetch REPORT [--product P] [--kds-cache DIR]`, the only command that
 * uses the network: downloads the report's VCEK (by chip id and REPORTED_TCB), the product's
 * certificate chain and its CRL from AMD's KDS into the local cache (amd_collateral.h) that
 * `result` and `snp-report` read when evidence carries no certificate. It checks only form (sizes,
 * DER/PEM, that the VCEK is for this chip and TCB); trust is decided offline by the verifying
 * commands, against the pinned AMD roots. The KDS URL is compiled in; only the test-labelled
 * environment variable SEALED_VERIFY_TEST_KDS_URL (a local fake) replaces it. Honours 429/503 with
 * Retry-After, bounded (verify_limits.h). Never sends anything but GET requests for public data. */
#include "verify/cli.h"
#include "verify/amd_chain.h"
#include "verify/amd_collateral.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include "common/codec.h"
#include "common/dynbuf.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>

/* GET base+path into *bd. Returns the final HTTP status (200 ...), or -1 on a transport error or a
 * body above the cap (message in err). Retries 429/503 after Retry-After (or a default backoff),
 * at most VERIFY_KDS_MAX_ATTEMPTS times and never waiting longer than VERIFY_KDS_MAX_RETRY_AFTER_S. */
static long kds_get(const char *base, int test_url, const char *path, size_t cap, struct dynbuf *bd, char *err, size_t errlen)
{
    char url[KDS_PATH_MAX + 256];
    snprintf(url, sizeof url, "%s%s", base, path);
    for (unsigned attempt = 1;; attempt++) {
        dynbuf_free(bd);
        dynbuf_init(bd, cap, 0);
        CURL *c = curl_easy_init();
        if (!c) {
            snprintf(err, errlen, "cannot initialise libcurl");
            return -1;
        }
        char ebuf[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, test_url ? "http,https" : "https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, VERIFY_KDS_CONNECT_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, VERIFY_KDS_TIMEOUT_S);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dynbuf_curl_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, bd);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "sealed-verify-fetch");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_off_t ra = -1;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra);
        curl_easy_cleanup(c);
        if (bd->err == DYNBUF_ERR_TOOBIG || rc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(err, errlen, "%s: the answer is larger than %zu bytes", url, cap);
            return -1;
        }
        if (rc != CURLE_OK) {
            snprintf(err, errlen, "%s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(rc));
            return -1;
        }
        if (status != 429 && status != 503)
            return status;
        long wait = ra >= 0 ? (long)ra : VERIFY_KDS_DEFAULT_BACKOFF_S;
        if (attempt >= VERIFY_KDS_MAX_ATTEMPTS || wait > VERIFY_KDS_MAX_RETRY_AFTER_S) {
            snprintf(err, errlen, "%s: KDS answered %ld %s; giving up after %u attempt%s%s", url, status,
                     status == 429 ? "Too Many Requests" : "Service Unavailable", attempt, attempt == 1 ? "" : "s",
                     wait > VERIFY_KDS_MAX_RETRY_AFTER_S ? " (Retry-After is longer than we wait: try again later)" : "");
            return -1;
        }
        fprintf(stderr, "sealed-verify fetch: KDS answered %ld, retrying in %ld s (%s)\n", status, wait,
                ra >= 0 ? "Retry-After" : "no Retry-After: default backoff");
        if (wait > 0)
            sleep((unsigned)wait);
    }
}

/* One download: status and size checked, then stored. Returns 1 on success. */
static int download(struct steps *st, const char *id, const char *what, const char *base, int test_url, const char *path,
                    size_t cap, struct dynbuf *bd)
{
    char err[KDS_PATH_MAX + 512] = "";
    long s = kds_get(base, test_url, path, cap, bd, err, sizeof err);
    if (s < 0) {
        steps_add(st, STEP_FAIL, id, "%s: %s", what, err);
        return 0;
    }
    if (s != 200) {
        steps_add(st, STEP_FAIL, id, "%s: KDS answered HTTP %ld for %s%s", what, s, path,
                  s == 404 ? " (KDS knows no such chip, TCB or product)" : s == 400 ? " (KDS rejected the request)" : "");
        return 0;
    }
    return 1;
}

static void store(struct steps *st, const char *id, const char *what, const char *file, const struct dynbuf *bd)
{
    if (kds_cache_store(file, (const uint8_t *)bd->p, bd->len))
        steps_add(st, STEP_FAIL, id, "%s: cannot write %s", what, file);
    else
        steps_add(st, STEP_PASS, id, "%s (%zu bytes) stored in %s", what, bd->len, file);
}

/* 1 if file holds one certificate (a damaged cache entry is fetched again). */
static int cached_vek_ok(const char *file)
{
    char err[256] = "";
    size_t n;
    X509 *x = NULL;
    uint8_t *b = verify_read_file(file, VERIFY_MAX_KDS_CERT, &n, err, sizeof err);
    int ok = b && amd_chain_load_certs(b, n, &x, 1) == 1;
    X509_free(ok ? x : NULL);
    free(b);
    return ok;
}

int cmd_fetch(struct verify_opts *o)
{
    int rc = 2;
    uint8_t *rep = NULL;
    size_t len = 0;
    char err[256] = "", cache[KDS_PATH_MAX], path[KDS_PATH_MAX], file[KDS_PATH_MAX];
    struct dynbuf bd;
    dynbuf_init(&bd, 0, 0);
    struct steps st;
    if (steps_init(&st))
        return 2;
    if (!o->file) {
        fprintf(stderr, "sealed-verify fetch: give the SNP report file (raw or hex)\n");
        goto out;
    }
    if (!(rep = verify_read_file(o->file, VERIFY_MAX_INPUT_FILE, &len, err, sizeof err))) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        goto out;
    }
    if (len != SNP_REPORT_SIZE) {
        size_t hl;
        uint8_t *h = verify_hex_text(rep, len, &hl);
        if (h) {
            free(rep);
            rep = h;
            len = hl;
        }
    }
    struct snp_report r;
    snp_err se = snp_report_parse(rep, len, &r);
    if (se) {
        fprintf(stderr, "sealed-verify fetch: %s: not an SNP report (%s)\n", o->file, snp_strerror(se));
        goto out;
    }
    struct kds_request q;
    kds_err ke = kds_request_from_report(&r, o->snp.product, &q);
    if (ke) {
        fprintf(stderr, "sealed-verify fetch: %s\n", kds_strerror(ke));
        goto out;
    }
    if (kds_cache_dir(o->kds_cache, cache, sizeof cache)) {
        fprintf(stderr, "sealed-verify fetch: no cache directory (set HOME or give --kds-cache DIR)\n");
        goto out;
    }
    const char *base = KDS_DEFAULT_BASE_URL, *test = getenv("SEALED_VERIFY_TEST_KDS_URL");
    int test_url = test && test[0];
    if (test_url) {
        base = test;
        steps_add(&st, STEP_WARN, "fetch.kds", "using the TEST KDS %s from SEALED_VERIFY_TEST_KDS_URL, not AMD's %s", base,
                  KDS_DEFAULT_BASE_URL);
    } else {
        steps_add(&st, STEP_INFO, "fetch.kds", "AMD KDS %s (the only network access of sealed-verify)", base);
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "sealed-verify fetch: cannot initialise libcurl\n");
        goto out;
    }
    steps_add(&st, STEP_INFO, "fetch.request", "%s report, product %s, %s, REPORTED_TCB 0x%016llx, cache %s",
              snp_signer_name(q.signer), snp_product_name(q.product),
              q.signer == SNP_SIGNER_VCEK ? "chip id from the report" : "VLEK (KDS serves VLEKs only to the cloud provider)",
              (unsigned long long)q.tcb.raw, cache);

    if (q.signer == SNP_SIGNER_VCEK) {
        if (kds_vek_path(&q, path, sizeof path) || kds_cache_vek_file(cache, &q, file, sizeof file)) {
            steps_add(&st, STEP_FAIL, "fetch.vcek", "VCEK: path too long");
        } else if (cached_vek_ok(file)) {
            steps_add(&st, STEP_INFO, "fetch.vcek", "VCEK already cached in %s (certificates for a chip and TCB do not change)", file);
        } else if (download(&st, "fetch.vcek", "VCEK", base, test_url, path, VERIFY_MAX_KDS_CERT, &bd)) {
            X509 *x = NULL;
            struct vek_info vi;
            int ok = amd_chain_load_certs((const uint8_t *)bd.p, bd.len, &x, 1) == 1 &&
                     !memmem(bd.p, bd.len, "-----BEGIN", 10) && amd_chain_vek_info(x, &vi) == AMD_CHAIN_OK;
            char h[129] = "";
            if (ok && vi.has_hwid && codec_hex_encode(vi.hwid, vi.hwid_len, h, sizeof h) == (size_t)-1)
                h[0] = 0;
            int match = ok && vi.has_hwid && !strcmp(h, q.hwid_hex) && vi.has_bl && vi.bl == q.tcb.bootloader && vi.has_tee &&
                        vi.tee == q.tcb.tee && vi.has_snp && vi.snp == q.tcb.snp && vi.has_ucode && vi.ucode == q.tcb.microcode &&
                        (q.product != SNP_PRODUCT_TURIN || (vi.has_fmc && vi.fmc == q.tcb.fmc));
            X509_free(x);
            if (!ok)
                steps_add(&st, STEP_FAIL, "fetch.vcek", "VCEK: KDS's answer is not one DER certificate with AMD's extensions");
            else if (!match)
                steps_add(&st, STEP_FAIL, "fetch.vcek", "VCEK: KDS's certificate is for another chip or TCB (hwID %s): not stored", h);
            else
                store(&st, "fetch.vcek", "VCEK for this chip and TCB", file, &bd);
        }
    }
    if (kds_chain_path(&q, path, sizeof path) || kds_cache_chain_file(cache, &q, file, sizeof file)) {
        steps_add(&st, STEP_FAIL, "fetch.chain", "certificate chain: path too long");
    } else if (download(&st, "fetch.chain", "certificate chain", base, test_url, path, VERIFY_MAX_KDS_CHAIN, &bd)) {
        X509 *c[3] = {0};
        int n = memmem(bd.p, bd.len, "-----BEGIN", 10) ? amd_chain_load_certs((const uint8_t *)bd.p, bd.len, c, 3) : -1;
        if (n != 2)
            steps_add(&st, STEP_FAIL, "fetch.chain", "certificate chain: KDS's answer is not two PEM certificates (ASK, ARK)");
        else
            store(&st, "fetch.chain", "certificate chain (ASK/ASVK, ARK)", file, &bd);
        for (int i = 0; i < 3; i++)
            X509_free(c[i]);
    }
    if (kds_crl_path(&q, path, sizeof path) || kds_cache_crl_file(cache, &q, file, sizeof file)) {
        steps_add(&st, STEP_FAIL, "fetch.crl", "CRL: path too long");
    } else if (download(&st, "fetch.crl", "CRL", base, test_url, path, VERIFY_MAX_KDS_CRL, &bd)) {
        X509_CRL *crl = amd_chain_load_crl((const uint8_t *)bd.p, bd.len);
        if (!crl)
            steps_add(&st, STEP_FAIL, "fetch.crl", "CRL: KDS's answer is not a DER CRL");
        else
            store(&st, "fetch.crl", "CRL (check it offline with --crl)", file, &bd);
        X509_CRL_free(crl);
    }
    curl_global_cleanup();
    if (o->json) {
        steps_print_json(&st, stdout, "fetch");
    } else {
        steps_print(&st, stdout, "sealed-verify fetch");
        printf("%s\n", st.failed ? "RESULT: FAIL - not everything could be fetched" :
               "RESULT: DONE - fetched and cached; nothing is trusted until `result` or `snp-report` verifies it "
               "against the pinned AMD roots");
    }
    rc = st.failed ? 1 : 0;
out:
    dynbuf_free(&bd);
    free(rep);
    steps_free(&st);
    return rc;
}
