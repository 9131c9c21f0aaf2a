/* attest/tsm: the Linux configfs-tsm report interface (Documentation/ABI/testing/configfs-tsm,
 * kernel 6.7+), shared by the SEV-SNP and TDX providers: one report entry per provider, created
 * under the report directory at probe and removed at free; a report is "write inblob, read
 * outblob (and auxblob), check generation". Touches only its own entry directory. */
#ifndef SEALED_ATTEST_TSM_H
#define SEALED_ATTEST_TSM_H
#include <stddef.h>
#include <stdint.h>
#include "login/attest/attest_limits.h"

#define ATTEST_TSM_DEFAULT_DIR "/sys/kernel/config/tsm/report"

struct attest_tsm {
    char     path[ATTEST_PATH_MAX];   /* our entry: DIR/sealed-login-PID-TAG */
    int      created;
    uint32_t privlevel;               /* written at open: the floor the kernel allows */
};

/* Creates our entry under dir and reads its provider. Returns 1 when it is `provider`
 * ("sev_guest", "tdx_guest"), 0 when dir is absent or the provider is another (entry removed),
 * -1 on error (err set). */
int attest_tsm_open(struct attest_tsm *t, const char *dir, const char *tag, const char *provider,
                    char *err, size_t errlen);
void attest_tsm_close(struct attest_tsm *t);

/* One report: writes the 64 bytes to inblob, reads outblob (and auxblob when aux != NULL; an
 * absent or empty auxblob gives *aux = NULL), and checks that the generation moved by exactly
 * our one write (else another writer raced us: retried up to ATTEST_TSM_TRIES times). Buffers
 * are malloc'd, owned by the caller. 0 or -1 with err set. */
int attest_tsm_report(struct attest_tsm *t, const uint8_t data[64], uint8_t **out, size_t *outlen,
                      size_t outcap, uint8_t **aux, size_t *auxlen, char *err, size_t errlen);
#endif
