/* attest/snp_tsm: SEV-SNP evidence through configfs-tsm (provider "sev_guest", kernel 6.7+):
 * write REPORT_DATA to inblob, read the report from outblob and the host's certificate table
 * from auxblob, check generation; the chain comes from the table or, failing that, AMD KDS.
 * Touches only its own configfs-tsm entry (and KDS through attest/amd_kds.c). */
#include "login/attest.h"
#include "login/config.h"
#include "login/log.h"
#include "login/attest/attest_util.h"
#include "login/attest/snp_common.h"
#include "login/attest/tsm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct snp_tsm_state {
    struct attest_tsm tsm;
    struct snp_ev_cache chain;
    uint32_t version;          /* report version seen at probe */
};

static void snp_tsm_free(void *arg)
{
    struct snp_tsm_state *s = arg;
    if (!s)
        return;
    attest_tsm_close(&s->tsm);
    snp_ev_cache_clear(&s->chain);
    free(s);
}

static int report_once(struct snp_tsm_state *s, const uint8_t rd[64], json_t **out, char *err, size_t errlen)
{
    uint8_t *rep = NULL, *aux = NULL;
    size_t rl = 0, al = 0;
    int rc = -1;
    if (attest_tsm_report(&s->tsm, rd, &rep, &rl, ATTEST_TSM_BLOB_MAX, &aux, &al, err, errlen) != 0)
        goto done;
    struct snp_report r;
    if (snp_ev_check(rep, rl, rd, s->tsm.privlevel, &r, err, errlen) != 0)
        goto done;
    if (!s->version)               /* set once, at probe (status() reads it) */
        s->version = r.version;
    rc = snp_ev_build(&s->chain, "configfs-tsm", rep, rl, &r, aux, al, out, err, errlen);
done:
    free(rep);
    free(aux);
    return rc;
}

static int snp_tsm_probe(const struct config *cfg, void **state)
{
    char err[256] = "";
    const char *dir = cfg && cfg->tsm_report_dir ? cfg->tsm_report_dir : ATTEST_TSM_DEFAULT_DIR;
    struct snp_tsm_state *s = calloc(1, sizeof *s);
    *state = NULL;
    if (!s)
        return -1;
    if (snp_ev_cache_init(&s->chain, cfg) != 0) {
        snp_tsm_free(s);
        return -1;
    }
    int r = attest_tsm_open(&s->tsm, dir, "snp", "sev_guest", err, sizeof err);
    if (r <= 0) {
        if (r < 0)
            log_warn("attest.provider", "provider=sev-snp/configfs-tsm reason=\"%s\"", err);
        snp_tsm_free(s);
        return r;
    }
    /* one report at start: proves the path works and fills the VCEK cache from KDS if needed */
    uint8_t zero[64] = { 0 };
    json_t *ev = NULL;
    if (report_once(s, zero, &ev, err, sizeof err) != 0) {
        log_warn("attest.provider", "provider=sev-snp/configfs-tsm reason=\"first report failed: %s\"", err);
        snp_tsm_free(s);
        return -1;
    }
    json_decref(ev);
    *state = s;
    return 1;
}

static int snp_tsm_evidence(void *arg, const uint8_t report_data[64], json_t **out, char *err, size_t errlen)
{
    struct snp_tsm_state *s = arg;
    return report_once(s, report_data, out, err, errlen);
}

static json_t *snp_tsm_status(void *arg)
{
    struct snp_tsm_state *s = arg;
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "type", json_string("sev-snp"));
    json_object_set_new(o, "via", json_string("configfs-tsm"));
    json_object_set_new(o, "report_version", json_integer(s->version));
    json_object_set_new(o, "vmpl", json_integer(s->tsm.privlevel));
    pthread_mutex_lock(&s->chain.mu);
    json_object_set_new(o, "vcek_from_kds", json_boolean(s->chain.fetched));
    pthread_mutex_unlock(&s->chain.mu);
    return o;
}

const struct attest_provider attest_provider_snp_tsm = {
    .type = "sev-snp",
    .probe = snp_tsm_probe,
    .evidence = snp_tsm_evidence,
    .status = snp_tsm_status,
    .free = snp_tsm_free,
};
