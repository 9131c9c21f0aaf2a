/* attest_probe: test driver that runs the evidence providers (attest/providers.c) outside the
 * service, against devices named on the command line (swtpm, the configfs-tsm and sev-guest
 * emulators), and prints one JSON object: {"providers":[...],"evidence":[...],"errors":[...],
 * "ms":[...]}. It never fabricates evidence; every piece comes from a provider.
 *   attest_probe [--tpm SPEC] [--eventlog PATH] [--tsm DIR] [--sev DEV] [--acpi DIR] [--kds URL]
 *                [--only TYPE] [--count N] [--keep-going] REPORT_DATA_HEX
 * --keep-going: a failed request is recorded in "errors" and the next one is made anyway. */
#include "login/attest.h"
#include "login/config.h"
#include "login/attest/attest_util.h"
#include "common/codec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *only = NULL, *rd_hex = NULL;
    long count = 1;
    int keep_going = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char **slot = NULL;
        if (!strcmp(a, "--tpm")) slot = &cfg.tpm_dev;
        else if (!strcmp(a, "--eventlog")) slot = &cfg.tpm_eventlog;
        else if (!strcmp(a, "--tsm")) slot = &cfg.tsm_report_dir;
        else if (!strcmp(a, "--sev")) slot = &cfg.sev_guest_dev;
        else if (!strcmp(a, "--acpi")) slot = &cfg.acpi_tables_dir;
        else if (!strcmp(a, "--kds")) slot = &cfg.amd_kds_url;
        if (!strcmp(a, "--keep-going")) {
            keep_going = 1;
        } else if (slot || !strcmp(a, "--only") || !strcmp(a, "--count")) {
            if (i + 1 >= argc) { fprintf(stderr, "%s needs a value\n", a); return 2; }
            const char *v = argv[++i];
            if (slot) *slot = (char *)v;
            else if (!strcmp(a, "--only")) only = v;
            else count = strtol(v, NULL, 10);
        } else {
            rd_hex = a;
        }
    }
    uint8_t rd[64];
    if (!rd_hex || codec_hex_decode(rd_hex, strlen(rd_hex), rd, sizeof rd) != 64 || count < 1) {
        fprintf(stderr, "usage: attest_probe [options] REPORT_DATA_HEX(128 chars)\n");
        return 2;
    }
    json_t *res = json_object(), *provs = json_array(), *evs = json_array(), *errs = json_array(),
           *ms = json_array(), *status = json_array();
    int failed = 0;
    for (size_t i = 0; attest_providers[i]; i++) {
        const struct attest_provider *p = attest_providers[i];
        if (only && strcmp(only, p->type) != 0)
            continue;
        void *st = NULL;
        int r = p->probe(&cfg, &st);
        if (r < 0) {
            json_array_append_new(errs, json_pack("{s:s,s:s}", "type", p->type, "error", "probe failed"));
            failed = 1;
            continue;
        }
        if (r == 0)
            continue;
        json_array_append_new(provs, json_string(p->type));
        struct attest_util_stats stats;   /* what the attest worker keeps per provider */
        attest_util_stats_init(&stats);
        for (long n = 0; n < count; n++) {
            json_t *ev = NULL;
            char err[256] = "";
            double t0 = attest_util_now_ms();
            int prc = p->evidence(st, rd, &ev, err, sizeof err);
            attest_util_stats_add(&stats, prc == 0, attest_util_now_ms() - t0, err);
            if (prc != 0) {
                json_array_append_new(errs, json_pack("{s:s,s:s,s:i}", "type", p->type, "error", err, "request", (int)n));
                failed = 1;
                if (!keep_going)
                    break;
                continue;
            }
            json_array_append_new(ms, json_real(attest_util_now_ms() - t0));
            if (n == count - 1)
                json_array_append_new(evs, ev);
            else
                json_decref(ev);
        }
        if (p->status) {
            json_t *s = p->status(st);
            if (s) {
                attest_util_stats_json(&stats, s);
                json_array_append_new(status, s);
            }
        }
        pthread_mutex_destroy(&stats.mu);
        p->free(st);
    }
    json_object_set_new(res, "providers", provs);
    json_object_set_new(res, "evidence", evs);
    json_object_set_new(res, "errors", errs);
    json_object_set_new(res, "ms", ms);
    json_object_set_new(res, "status", status);
    json_dumpf(res, stdout, JSON_INDENT(1));
    putchar('\n');
    json_decref(res);
    return failed;
}
