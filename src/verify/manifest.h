/* manifest: what sealed-verify reads from a build-manifest.json (written by the image build with
 * sealed-measure): the expected SEV-SNP launch measurements (every 96-hex-digit string under a
 * member named "measurement", "expected_measurement" or "launch_digest"), the targets that say they
 * have none ("measurement": null, with their "reason"), TDX MRTDs (members named "mrtd"), and the
 * expected TPM PCR sets (every object
 * under a member "pcrs" shaped {"sha256":{"4":"hex",...}}, with the object that holds it, whose
 * "efi_applications" list the expected PCR 4 applications). Tolerant of the manifest's layout, strict
 * about the values. Reads JSON only; decides nothing. */
#ifndef SEALED_VERIFY_MANIFEST_H
#define SEALED_VERIFY_MANIFEST_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "verify/verify_limits.h"

struct manifest_measurement {
    uint8_t value[48];
    char path[160];          /* where in the manifest it was found, for the message */
};

struct manifest_pcrs {
    const json_t *pcrs;      /* borrowed from the manifest's JSON: {"bank":{"idx":"hex"}} */
    const json_t *target;    /* borrowed: the object holding "pcrs" (its "efi_applications", if any) */
    char path[160];
};

struct manifest_null {
    char path[160];          /* a target whose "measurement" is null */
    const char *reason;      /* borrowed from root: its "reason" */
};

struct manifest {
    json_t *root;            /* owned */
    size_t nsnp, npcrs, nnull, ntdx;
    struct manifest_measurement tdx[VERIFY_MAX_MANIFEST_MEASUREMENTS];   /* "mrtd" values */
    struct manifest_null nulls[VERIFY_MAX_MANIFEST_MEASUREMENTS];
    struct manifest_measurement snp[VERIFY_MAX_MANIFEST_MEASUREMENTS];
    struct manifest_pcrs pcrs[VERIFY_MAX_MANIFEST_MEASUREMENTS];
};

/* Parses a manifest from (buf, len). 0, or -1 with a message in err. */
int manifest_load(const uint8_t *buf, size_t len, struct manifest *out, char *err, size_t errlen);
void manifest_free(struct manifest *m);
#endif
