/* Unit tests for src/common/tpm_eventlog: real UEFI logs (google/go-eventlog testdata) replay to
 * the PCR values read from their TPMs; hostile input (truncation, corruption, lying lengths,
 * caps) is rejected without reading out of bounds. */
#include "test.h"
#include "common/tpm_eventlog.h"

#include <jansson.h>

#define LOGDIR "../shared/testdata/tpm-eventlogs-go-eventlog/"

static unsigned char *load_log(const char *rel, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), LOGDIR "%s", rel);
    return test_read_file(path, len);
}

/* Replays every log listed in expected_pcrs.json and compares each listed PCR of each bank
 * (upstream values, and the derived SHA-384 values), the event count and the EFI application
 * digests measured into PCR 4. Returns the number of logs checked. */
static int check_all_logs(int *test_case_failed_p)
{
    json_error_t jerr;
    json_t *root = json_load_file(LOGDIR "expected_pcrs.json", 0, &jerr);
    CHECK(root != NULL);
    if (!root) return 0;
    int checked = 0;
    const char *name;
    json_t *entry;
    json_object_foreach(root, name, entry) {
        if (!json_is_object(entry)) continue;
        const char *file = json_string_value(json_object_get(entry, "log_file"));
        if (!file) continue;
        size_t len = 0;
        unsigned char *buf = load_log(file, &len);
        CHECK(buf != NULL);
        if (!buf) continue;
        tpm_eventlog *log = NULL;
        tpm_eventlog_err rc = tpm_eventlog_parse(buf, len, &log);
        if (rc) fprintf(stderr, "  %s: %s\n", name, tpm_eventlog_strerror(rc));
        CHECK(rc == TPM_EVENTLOG_OK);
        if (rc) { free(buf); continue; }
        json_t *nev = json_object_get(entry, "events_including_header");
        if (json_is_integer(nev)) {
            if ((size_t)json_integer_value(nev) != log->nevents)
                fprintf(stderr, "  %s: %zu events, want %lld\n", name, log->nevents,
                        (long long)json_integer_value(nev));
            CHECK((size_t)json_integer_value(nev) == log->nevents);
        }
        const char *fmt = json_string_value(json_object_get(entry, "format"));
        if (fmt) CHECK(log->crypto_agile == (strstr(fmt, "crypto-agile") != NULL));

        const char *groups[] = { "expected_pcrs", "derived_replay" };
        for (size_t g = 0; g < 2; g++) {
            json_t *banks = g == 0 ? json_object_get(entry, "expected_pcrs") : NULL;
            json_t *derived = NULL;
            if (g == 1) {
                derived = json_object();
                json_t *d384 = json_object_get(entry, "derived_replay_sha384");
                if (d384) json_object_set(derived, "sha384", d384);
                banks = derived;
            }
            const char *bank_name;
            json_t *pcrs;
            json_object_foreach(banks, bank_name, pcrs) {
                uint16_t alg = tpm_eventlog_alg_from_name(bank_name);
                CHECK(alg != 0);
                tpm_eventlog_bank bank;
                rc = tpm_eventlog_replay(log, alg, &bank);
                CHECK(rc == TPM_EVENTLOG_OK);
                if (rc) continue;
                const char *idx;
                json_t *hexv;
                json_object_foreach(pcrs, idx, hexv) {
                    int pcr = atoi(idx);
                    uint8_t want[TPM_EVENTLOG_MAX_DIGEST];
                    int n = test_unhex(json_string_value(hexv), want, sizeof(want));
                    CHECK(n == (int)bank.digest_len);
                    if (pcr < 0 || pcr >= (int)TPM_EVENTLOG_NUM_PCRS || n != (int)bank.digest_len) continue;
                    if (memcmp(bank.pcr[pcr], want, (size_t)n) != 0) {
                        fprintf(stderr, "  %s %s %s PCR %d mismatch\n", name, groups[g], bank_name, pcr);
                        test_case_failed = 1;
                    }
                }
            }
            json_decref(derived);
        }

        /* The EFI applications the firmware measured into PCR 4, in order. */
        json_t *apps = json_object_get(entry, "expected_efi_app_digests");
        const char *bank_name;
        json_t *list;
        json_object_foreach(apps, bank_name, list) {
            uint16_t alg = tpm_eventlog_alg_from_name(bank_name);
            size_t k = 0;
            for (size_t i = 0; i < log->nevents; i++) {
                const tpm_eventlog_event *ev = &log->events[i];
                if (ev->pcr != 4 || ev->type != TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION) continue;
                const tpm_eventlog_digest *d = tpm_eventlog_event_digest(ev, alg);
                CHECK(d != NULL);
                if (!d || k >= json_array_size(list)) { k++; continue; }
                uint8_t want[TPM_EVENTLOG_MAX_DIGEST];
                int n = test_unhex(json_string_value(json_array_get(list, k)), want, sizeof(want));
                CHECK(n == d->len && memcmp(d->digest, want, d->len) == 0);
                k++;
            }
            CHECK(k == json_array_size(list));
        }
        tpm_eventlog_free(log);
        free(buf);
        checked++;
    }
    json_decref(root);
    return checked;
}

TEST(replays_real_logs_to_their_pcrs)
{
    int n = check_all_logs(test_case_failed_p);
    CHECK(n >= 3);
}

TEST(legacy_log_is_sha1_only)
{
    size_t len;
    unsigned char *buf = load_log("tpm/debian-10.bin", &len);
    CHECK(buf != NULL);
    if (!buf) return;
    tpm_eventlog *log = NULL;
    CHECK(tpm_eventlog_parse(buf, len, &log) == TPM_EVENTLOG_OK);
    if (log) {
        tpm_eventlog_bank bank;
        CHECK(!log->crypto_agile);
        CHECK(tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA256, &bank) == TPM_EVENTLOG_ERR_NO_BANK);
        CHECK(tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA1, &bank) == TPM_EVENTLOG_OK);
        CHECK(bank.extended_mask & (1u << 4));
    }
    tpm_eventlog_free(log);
    free(buf);
}

/* Every prefix of a real log either parses (ending on a record boundary) or fails cleanly;
 * run under ASan this also proves no read past len. */
TEST(every_truncation_is_safe)
{
    const char *files[] = { "tpm/rhel8-uefi.bin", "tpm/debian-10.bin" };
    for (size_t f = 0; f < 2; f++) {
        size_t len;
        unsigned char *buf = load_log(files[f], &len);
        CHECK(buf != NULL);
        if (!buf) continue;
        tpm_eventlog *full = NULL;
        CHECK(tpm_eventlog_parse(buf, len, &full) == TPM_EVENTLOG_OK);
        size_t ok = 0;
        for (size_t n = 0; n < len; n++) {
            unsigned char *copy = malloc(n ? n : 1);   /* exact size so ASan sees overreads */
            memcpy(copy, buf, n);
            tpm_eventlog *log = NULL;
            tpm_eventlog_err rc = tpm_eventlog_parse(copy, n, &log);
            if (rc == TPM_EVENTLOG_OK) {
                ok++;
                CHECK(log && log->nevents <= full->nevents);
                /* a prefix that parses holds whole records of the full log, followed at most by
                 * bytes that look like padding (all 0x00 or all 0xFF) */
                CHECK(log && log->nevents >= 1);
                if (log && log->nevents < full->nevents) {
                    size_t end = full->events[log->nevents].offset;
                    CHECK(end <= n);
                    for (size_t k = end; k < n; k++)
                        CHECK(copy[k] == copy[end]);
                }
            } else {
                CHECK(log == NULL);
            }
            tpm_eventlog_free(log);
            free(copy);
        }
        CHECK(ok >= full->nevents);   /* every record boundary is a valid end */
        tpm_eventlog_free(full);
        free(buf);
    }
}

/* Random byte corruption never crashes and never yields an event outside the buffer. */
TEST(corruption_is_safe)
{
    size_t len;
    unsigned char *buf = load_log("tpm/cos-101-amd-sev.bin", &len);
    CHECK(buf != NULL);
    if (!buf) return;
    unsigned seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        unsigned char *copy = malloc(len);
        memcpy(copy, buf, len);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            copy[pos] = (unsigned char)(seed >> 16);
        }
        tpm_eventlog *log = NULL;
        if (tpm_eventlog_parse(copy, len, &log) == TPM_EVENTLOG_OK) {
            for (size_t i = 0; i < log->nevents; i++) {
                const tpm_eventlog_event *ev = &log->events[i];
                CHECK(ev->data >= copy && ev->data + ev->data_len <= copy + len);
                for (size_t d = 0; d < ev->ndigests; d++)
                    CHECK(ev->digests[d].digest >= copy && ev->digests[d].digest + ev->digests[d].len <= copy + len);
            }
            tpm_eventlog_bank bank;
            (void)tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA256, &bank);
        }
        tpm_eventlog_free(log);
        free(copy);
    }
    free(buf);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* A legacy StartupLocality record (49 bytes, like go-attestation's short_no_action_eventlog). */
TEST(short_no_action_log_parses)
{
    uint8_t b[49] = { 0 };
    put32(b, 0);
    put32(b + 4, TPM_EVENTLOG_EV_NO_ACTION);
    put32(b + 28, 17);
    memcpy(b + 32, "StartupLocality", 16);
    b[48] = 3;
    tpm_eventlog *log = NULL;
    CHECK(tpm_eventlog_parse(b, sizeof(b), &log) == TPM_EVENTLOG_OK);
    if (!log) return;
    CHECK(log->nevents == 1);
    CHECK(log->startup_locality == 3);
    tpm_eventlog_bank bank;
    CHECK(tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA1, &bank) == TPM_EVENTLOG_OK);
    CHECK(bank.pcr[0][19] == 3 && bank.extended_mask == 0);
    tpm_eventlog_free(log);
}

/* A minimal crypto-agile log: Spec ID header (sha256) + one event. */
static size_t make_agile(uint8_t *b, uint32_t pcr, uint32_t count, uint32_t datalen_field)
{
    memset(b, 0, 200);
    put32(b + 4, TPM_EVENTLOG_EV_NO_ACTION);
    put32(b + 28, 16 + 4 + 4 + 4 + 4 + 1);
    uint8_t *d = b + 32;
    memcpy(d, "Spec ID Event03", 16);
    d[20] = 0; d[21] = 2; d[23] = 2;
    put32(d + 24, 1);
    d[28] = 0x0B; d[29] = 0; d[30] = 32; d[31] = 0;
    d[32] = 0;
    size_t off = 32 + 33;
    put32(b + off, pcr);
    put32(b + off + 4, TPM_EVENTLOG_EV_SEPARATOR);
    put32(b + off + 8, count);
    b[off + 12] = 0x0B; b[off + 13] = 0;
    memset(b + off + 14, 0xAB, 32);
    put32(b + off + 46, datalen_field);
    memset(b + off + 50, 0, 4);
    return off + 54;
}

TEST(agile_synthetic_and_lies)
{
    uint8_t b[200];
    size_t n = make_agile(b, 7, 1, 4);
    tpm_eventlog *log = NULL;
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_OK);
    if (log) {
        tpm_eventlog_bank bank;
        uint8_t want[32] = { 0 }, dig[32];
        memset(dig, 0xAB, 32);
        CHECK(tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, want, dig) == TPM_EVENTLOG_OK);
        CHECK(tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA256, &bank) == TPM_EVENTLOG_OK);
        CHECK(memcmp(bank.pcr[7], want, 32) == 0);
        CHECK(bank.extended_mask == (1u << 7));
        CHECK(tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA1, &bank) == TPM_EVENTLOG_ERR_NO_BANK);
    }
    tpm_eventlog_free(log);
    log = NULL;
    n = make_agile(b, 24, 1, 4);                          /* PCR out of range */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_FORMAT && !log);
    n = make_agile(b, 7, 2, 4);                           /* more digests than banks */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_FORMAT && !log);
    n = make_agile(b, 7, 1, 5);                           /* data length past the end */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_TRUNCATED && !log);
    n = make_agile(b, 7, 1, 0xFFFFFFF0u);                 /* absurd data length */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_TOO_BIG && !log);
    n = make_agile(b, 7, 1, 4);
    b[32 + 28] = 0x0C;                                    /* header says sha384 with size 32 */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_FORMAT && !log);
    n = make_agile(b, 7, 1, 4);
    b[32 + 33 + 12] = 0x04;                               /* digest of an undeclared bank */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_UNKNOWN_ALG && !log);
    n = make_agile(b, 7, 1, 4);
    put32(b + 32 + 24, 1000);                             /* too many algorithms */
    CHECK(tpm_eventlog_parse(b, n, &log) == TPM_EVENTLOG_ERR_TOO_BIG && !log);
    n = make_agile(b, 7, 1, 4);
    memset(b + n, 0, 20);                                 /* zero padding after the last record */
    CHECK(tpm_eventlog_parse(b, n + 20, &log) == TPM_EVENTLOG_OK && log && log->nevents == 2);
    tpm_eventlog_free(log);
    log = NULL;
    CHECK(tpm_eventlog_parse(NULL, 0, &log) != TPM_EVENTLOG_OK);
    CHECK(tpm_eventlog_parse(b, n, NULL) == TPM_EVENTLOG_ERR_ARG);
}

TEST(names)
{
    CHECK(tpm_eventlog_alg_from_name("sha256") == TPM_EVENTLOG_ALG_SHA256);
    CHECK(tpm_eventlog_alg_from_name("md5") == 0);
    CHECK_STR(tpm_eventlog_event_type_name(0x80000003u), "EV_EFI_BOOT_SERVICES_APPLICATION");
    CHECK(tpm_eventlog_event_type_name(0x12345u) == NULL);
    CHECK(tpm_eventlog_alg_size(TPM_EVENTLOG_ALG_SHA384) == 48);
}

int main(void)
{
    RUN(replays_real_logs_to_their_pcrs);
    RUN(legacy_log_is_sha1_only);
    RUN(every_truncation_is_safe);
    RUN(corruption_is_safe);
    RUN(short_no_action_log_parses);
    RUN(agile_synthetic_and_lies);
    RUN(names);
    return test_done();
}
