/* cmd_akcert: `sealed-verify tpm-ak-cert CERT [--chain FILE] [--tpm-ca FILE] [--json]`: checks one
 * TPM AK or EK certificate against the pinned vendor roots (or a named TEST root), prints the chain
 * and GCE's instance-identity extension, so a person sees which instance held the TPM. Exit 0 only
 * when the certificate is rooted. Reads files; never the network. */
#include "verify/cli.h"
#include "verify/amd_chain.h"
#include "verify/steps.h"
#include "common/tpm_ak_root.h"
#include "verify/util.h"
#include "verify/verify_limits.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_tpm_ak_cert(struct verify_opts *o)
{
    int rc = 2, nchain = 0, nca = 0;
    X509 *cert = NULL, *chain[VERIFY_MAX_CHAIN_CERTS] = {0}, *ca[VERIFY_MAX_CHAIN_CERTS] = {0};
    char err[256] = "";
    struct steps st;
    if (steps_init(&st))
        return 2;
    if (!o->file) {
        fprintf(stderr, "sealed-verify tpm-ak-cert: give the certificate file (PEM or DER)\n");
        goto out;
    }
    if (cli_load_certs_file(o->file, &cert, 1, err, sizeof err) != 1 ||
        (o->chain && (nchain = cli_load_certs_file(o->chain, chain, VERIFY_MAX_CHAIN_CERTS, err, sizeof err)) < 0) ||
        (o->ak_ca && (nca = cli_load_certs_file(o->ak_ca, ca, VERIFY_MAX_CHAIN_CERTS, err, sizeof err)) < 0)) {
        fprintf(stderr, "sealed-verify: %s\n", err);
        if (nchain < 0)
            nchain = 0;
        if (nca < 0)
            nca = 0;
        goto out;
    }
    char cn[96], icn[96], fp[65];
    amd_chain_cn(X509_get_subject_name(cert), cn, sizeof cn);
    amd_chain_cn(X509_get_issuer_name(cert), icn, sizeof icn);
    amd_chain_fingerprint(cert, fp);
    steps_add(&st, STEP_INFO, "akcert.parse", "certificate CN=%s issued by CN=%s, sha256 %s", cn, icn, fp);
    json_t *f = json_pack("{s:s, s:s, s:s}", "subject_cn", cn, "issuer_cn", icn, "sha256", fp);
    json_object_set_new(st.fields, "certificate", f);

    struct tpm_ak_root_result r;
    tpm_ak_root_kind k = tpm_ak_root_check(cert, chain, nchain, ca, nca, o->at, &r);
    if (k == TPM_AK_ROOT_VENDOR)
        steps_add(&st, STEP_PASS, "akcert.root", "chains to the pinned vendor root %s: %s", r.root, r.chain);
    else if (k == TPM_AK_ROOT_TEST)
        steps_add(&st, STEP_PASS, "akcert.root", "chains to the TEST root CN=%s given with --tpm-ca, not a vendor "
                  "root: %s", r.root, r.chain);
    else
        steps_add(&st, STEP_FAIL, "akcert.root", "%s", r.why);
    json_object_set_new(f, "root", json_pack("{s:s, s:s, s:s}", "kind", k == TPM_AK_ROOT_VENDOR ? "vendor" :
                                             k == TPM_AK_ROOT_TEST ? "test" : "none", "root", r.root,
                                             "chain", r.chain));

    struct gce_instance_info g;
    const char *why = "";
    int has = tpm_ak_gce_instance(cert, &g, &why);
    if (has < 0) {
        steps_add(&st, STEP_FAIL, "akcert.gce_instance", "GCE instance-identity extension is malformed: %s", why);
    } else if (has > 0) {
        json_object_set_new(f, "gce_instance", tpm_ak_gce_instance_json(&g));
        steps_add(&st, k == TPM_AK_ROOT_VENDOR ? STEP_PASS : STEP_INFO, "akcert.gce_instance",
                  "%s: GCE instance %s (id %llu) in project %s (number %llu), zone %s%s%s",
                  k == TPM_AK_ROOT_VENDOR ? "the vendor root vouches that this TPM belonged to" :
                  "the certificate claims (not vouched for by a vendor root) that this TPM belonged to",
                  g.instance_name, (unsigned long long)g.instance_id, g.project_id,
                  (unsigned long long)g.project_number, g.zone,
                  g.has_security && g.is_production ? ", production" : "",
                  g.has_security && g.tpm_data_always_encrypted ? ", TPM data always encrypted" : "");
    } else {
        steps_add(&st, STEP_INFO, "akcert.gce_instance", "no GCE instance-identity extension");
    }
    if (o->json) {
        steps_print_json(&st, stdout, "tpm-ak-cert");
    } else {
        steps_print(&st, stdout, "sealed-verify tpm-ak-cert");
        printf("%s\n", st.failed ? "RESULT: FAIL - the certificate is not rooted in a vendor CA" :
               k == TPM_AK_ROOT_TEST ? "RESULT: PASS (against a TEST root: not evidence of a real TPM)" :
               "RESULT: PASS - a vendor CA certified this TPM key");
    }
    rc = st.failed ? 1 : 0;
out:
    X509_free(cert);
    for (int i = 0; i < nchain; i++)
        X509_free(chain[i]);
    for (int i = 0; i < nca; i++)
        X509_free(ca[i]);
    steps_free(&st);
    return rc;
}
