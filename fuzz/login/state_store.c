/* libFuzzer target for the saved state's file format (src/login/state_store.c): the input is written
 * as the state file and opened. Asserts properties: a refused file is left byte-for-byte unchanged;
 * an accepted one, reopened, yields the same records again and never grows. */
#include "login/state_store.h"
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

struct digest { uint64_t n, sum; };
static int count(void *arg, uint32_t type, const uint8_t *p, size_t len)
{
    struct digest *d = arg;
    d->n++;
    d->sum = d->sum * 1000003u + type * 31u + len;
    for (size_t i = 0; i < len; i++)
        d->sum = d->sum * 131u + p[i];
    return 0;
}

static void fuzz_store(const uint8_t *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, STATE_STORE_FILE);
    FILE *f = fopen(path, "wb");
    assert(f);
    if (len)
        fwrite(data, 1, len, f);
    fclose(f);
    struct digest a = {0}, b = {0};
    struct state_store *s = NULL;
    state_err e = state_store_open(dir, count, &a, 0, &s);
    struct stat st;
    assert(stat(path, &st) == 0);
    if (e) {
        assert(!s && (size_t)st.st_size == len);
        if (len) {   /* unchanged bytes */
            uint8_t *back = malloc(len);
            f = fopen(path, "rb");
            assert(back && f && fread(back, 1, len, f) == len);
            fclose(f);
            assert(!memcmp(back, data, len));
            free(back);
        }
        return;
    }
    assert((size_t)st.st_size <= len || len == 0);
    state_store_close(s);
    assert(state_store_open(dir, count, &b, 0, &s) == STATE_OK);
    assert(a.n == b.n && a.sum == b.sum);
    state_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz-state-XXXXXX");
        assert(mkdtemp(dir));
    }
    fuzz_store(data, len);
    return 0;
}
