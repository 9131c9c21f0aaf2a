/* tpm_ak_root: decides whether a TPM attestation-key certificate is rooted, i.e. chains to a
 * pinned vendor CA (Google's Shielded VM vTPM roots, common/gcp_vtpm_roots.h) or, only when the
 * user names one, to a TEST root (--tpm-ca). The two are checked separately, so a result can never
 * be labelled vendor-rooted because of a test root. Does not compare the certificate's key with
 * the AK (tpm_check does); reads no files. */
#ifndef SEALED_TPM_AK_ROOT_H
#define SEALED_TPM_AK_ROOT_H
#include <time.h>
#include <openssl/x509.h>
#include <jansson.h>
#include "common/gce_instance_ext.h"

typedef enum {
    TPM_AK_ROOT_NONE = 0,   /* chains to nothing we trust: proves nothing about the TPM */
    TPM_AK_ROOT_VENDOR,     /* chains to a pinned vendor root */
    TPM_AK_ROOT_TEST,       /* chains to a --tpm-ca test root: not evidence of real hardware */
} tpm_ak_root_kind;

struct tpm_ak_root_result {
    tpm_ak_root_kind kind;
    char root[128];         /* the anchor's name (vendor) or subject CN (test) */
    char chain[512];        /* "CN=leaf <- CN=intermediate <- CN=root" */
    char why[192];          /* when kind is NONE: why not */
};

/* Checks cert at time at against the pinned vendor roots (with the pinned intermediates and the
 * given untrusted chain certificates as links), then, if that fails and ntest > 0, against the test
 * roots alone. Fills *out; returns out->kind. Borrowed arguments; cert NULL gives NONE. */
tpm_ak_root_kind tpm_ak_root_check(X509 *cert, X509 *const *chain, int nchain, X509 *const *test, int ntest,
                                   time_t at, struct tpm_ak_root_result *out);

/* GCE's instance-identity extension of cert: 1 found and parsed into *out, 0 absent, -1 malformed
 * (reason in *why). Says nothing about whether the certificate is genuine. */
int tpm_ak_gce_instance(X509 *cert, struct gce_instance_info *out, const char **why);
/* The parsed extension as a JSON object (new reference; NULL on allocation failure). */
json_t *tpm_ak_gce_instance_json(const struct gce_instance_info *g);
#endif
