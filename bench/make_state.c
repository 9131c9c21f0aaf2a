/* make_state: writes a service state directory (state.v1) holding N used ids, and M of them with a
 * signed result of JWS_BYTES kept for 24 hours, for measuring what a sealed save costs
 * (bench/state_save.py). Usage: make_state DIR N [M [JWS_BYTES]]. Test tooling, never in the image. */
#include "login/service_state.h"
#include "login/state_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>

static int no_records(void *arg, uint32_t t, const uint8_t *p, size_t l) { return 0; }

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *dir = argv[1];
    long n = atol(argv[2]), m = argc > 3 ? atol(argv[3]) : 0, jl = argc > 4 ? atol(argv[4]) : 3300;
    if (n < m || jl < 1 || jl > 65536)
        return 2;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, STATE_STORE_FILE);
    unlink(path);
    /* the ids without results, as state_store records (service_state.c: R_KEYS 1, R_IDS 2) */
    struct state_store *st = NULL;
    if (state_store_open(dir, no_records, NULL, 0, &st))
        return 1;
    uint8_t keys[64], *batch = malloc(4096 * 16);
    RAND_bytes(keys, sizeof keys);
    if (!batch || state_store_append(st, 1, keys, sizeof keys))
        return 1;
    for (long done = 0; done < n - m;) {
        long k = n - m - done < 4096 ? n - m - done : 4096;
        RAND_bytes(batch, (int)(k * 16));
        if (state_store_append(st, 2, batch, (size_t)k * 16))
            return 1;
        done += k;
    }
    state_store_close(st);
    free(batch);
    /* the rest through the service's own commit: id, result and retrieval code */
    struct service_state *ss = service_state_open(dir, (uint64_t)n + 16);
    if (!ss || service_state_broken(ss))
        return 1;
    char *jws = malloc((size_t)jl + 1), code[RESULT_CODE_LEN + 1];
    memset(jws, 'A', (size_t)jl);
    jws[jl] = 0;
    uint8_t sec[32] = {1};
    for (long i = 0; i < m; i++) {
        struct idset_key k;
        char id[32];
        int l = snprintf(id, sizeof id, "bench-user-%ld", i);
        idset_key_of(service_state_ids(ss), id, (size_t)l, &k);
        result_code_new(code);
        if (service_state_commit(ss, &k, sec, jws, (size_t)jl, code) != SS_OK)
            return 1;
    }
    int ok = idset_count(service_state_ids(ss)) == (uint64_t)n && !service_state_save(ss);
    service_state_close(ss);
    free(jws);
    printf("{\"ids\": %ld, \"results\": %ld, \"jws_bytes\": %ld, \"ok\": %s}\n", n, m, jl, ok ? "true" : "false");
    return ok ? 0 : 1;
}
