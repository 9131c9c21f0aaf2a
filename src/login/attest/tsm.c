/* attest/tsm: configfs-tsm report entries (create, write inblob, read outblob/auxblob, check
 * generation, remove). Kernel ABI: Documentation/ABI/testing/configfs-tsm. Reads and writes only
 * the attribute files of the entry it created. */
#include "login/log.h"
#include "login/attest/tsm.h"
#include "login/attest/attest_util.h"
#include "common/codec.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int attr_path(const struct attest_tsm *t, const char *name, char *out, size_t cap)
{
    return attest_util_path(out, cap, t->path, name);
}

/* Reads a small text attribute ("sev_guest\n", "12\n") without its trailing newline. */
static int read_text(const struct attest_tsm *t, const char *name, char *out, size_t cap)
{
    char p[ATTEST_PATH_MAX];
    size_t n;
    if (attr_path(t, name, p, sizeof p) != 0)
        return -1;
    uint8_t *b = attest_util_read_file(p, 64, &n);
    if (!b)
        return -1;
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == 0))
        n--;
    if (n >= cap) {
        free(b);
        errno = EFBIG;
        return -1;
    }
    memcpy(out, b, n);
    out[n] = 0;
    free(b);
    return 0;
}

static int read_u64(const struct attest_tsm *t, const char *name, uint64_t *v)
{
    char s[32];
    if (read_text(t, name, s, sizeof s) != 0)
        return -1;
    if (codec_parse_u64(s, strlen(s), 0, UINT64_MAX, v) != 0) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int attest_tsm_open(struct attest_tsm *t, const char *dir, const char *tag, const char *provider,
                    char *err, size_t errlen)
{
    struct stat st;
    char name[64];
    memset(t, 0, sizeof *t);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    snprintf(name, sizeof name, "sealed-login-%ld-%s", (long)getpid(), tag);
    if (attest_util_path(t->path, sizeof t->path, dir, name) != 0) {
        snprintf(err, errlen, "configfs-tsm path too long");
        return -1;
    }
    if (mkdir(t->path, 0700) != 0 && errno != EEXIST) {
        if (errno == ENXIO || errno == ENODEV || errno == EOPNOTSUPP)
            return 0;     /* the directory exists but no TSM provider is registered */
        snprintf(err, errlen, "mkdir %s: %s", t->path, strerror(errno));
        return -1;
    }
    t->created = 1;
    char prov[64];
    if (read_text(t, "provider", prov, sizeof prov) != 0) {
        snprintf(err, errlen, "%s/provider: %s", t->path, strerror(errno));
        attest_tsm_close(t);
        return -1;
    }
    if (strcmp(prov, provider) != 0) {
        attest_tsm_close(t);
        return 0;
    }
    /* privlevel exists for providers with privilege levels (SEV-SNP VMPL): use the floor */
    uint64_t floor = 0;
    char p[ATTEST_PATH_MAX];
    if (attr_path(t, "privlevel_floor", p, sizeof p) == 0 && access(p, R_OK) == 0) {
        if (read_u64(t, "privlevel_floor", &floor) != 0 || floor > 3) {
            snprintf(err, errlen, "%s/privlevel_floor unreadable", t->path);
            attest_tsm_close(t);
            return -1;
        }
    }
    if (attr_path(t, "privlevel", p, sizeof p) == 0 && access(p, W_OK) == 0) {
        char v[4];
        int n = snprintf(v, sizeof v, "%u", (unsigned)floor);
        if (attest_util_write_file(p, v, (size_t)n) != 0) {
            snprintf(err, errlen, "%s/privlevel: %s", t->path, strerror(errno));
            attest_tsm_close(t);
            return -1;
        }
    }
    t->privlevel = (uint32_t)floor;
    return 1;
}

void attest_tsm_close(struct attest_tsm *t)
{
    if (t->created && rmdir(t->path) != 0 && errno != ENOENT)
        log_warn("attest.provider", "provider=configfs-tsm reason=\"rmdir %s: %s\"", t->path, strerror(errno));
    t->created = 0;
}

int attest_tsm_report(struct attest_tsm *t, const uint8_t data[64], uint8_t **out, size_t *outlen,
                      size_t outcap, uint8_t **aux, size_t *auxlen, char *err, size_t errlen)
{
    char p[ATTEST_PATH_MAX];
    *out = NULL;
    if (aux)
        *aux = NULL;
    for (int tries = 0; tries < ATTEST_TSM_TRIES; tries++) {
        uint64_t g0, g1;
        if (read_u64(t, "generation", &g0) != 0) {
            snprintf(err, errlen, "generation: %s", strerror(errno));
            return -1;
        }
        if (attr_path(t, "inblob", p, sizeof p) != 0 || attest_util_write_file(p, data, 64) != 0) {
            snprintf(err, errlen, "inblob: %s", strerror(errno));
            return -1;
        }
        if (attr_path(t, "outblob", p, sizeof p) != 0 || !(*out = attest_util_read_file(p, outcap, outlen))) {
            snprintf(err, errlen, "outblob: %s", strerror(errno));
            return -1;
        }
        if (aux && attr_path(t, "auxblob", p, sizeof p) == 0) {
            *aux = attest_util_read_file(p, ATTEST_TSM_BLOB_MAX, auxlen);
            if (!*aux && errno != ENOENT) {
                snprintf(err, errlen, "auxblob: %s", strerror(errno));
                goto retry_fail;
            }
            if (*aux && *auxlen == 0) {
                free(*aux);
                *aux = NULL;
            }
        }
        if (read_u64(t, "generation", &g1) != 0) {
            snprintf(err, errlen, "generation: %s", strerror(errno));
            goto retry_fail;
        }
        if (g1 == g0 + 1)
            return 0;
        /* someone else wrote to our entry between our write and read: the blob may be theirs */
        free(*out);
        *out = NULL;
        if (aux) {
            free(*aux);
            *aux = NULL;
        }
    }
    snprintf(err, errlen, "configfs-tsm generation kept changing (another writer?)");
    return -1;
retry_fail:
    free(*out);
    *out = NULL;
    if (aux) {
        free(*aux);
        *aux = NULL;
    }
    return -1;
}
