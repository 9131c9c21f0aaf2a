/* bench_idset: the used-id set at its target size. Inserts N ids (default 10 million) made like
 * PayPal's (https://www.paypal.com/webapps/auth/identity/user/ + 43 chars), measuring
 *   - keyed hash + test-and-insert per second (what /callback does per login),
 *   - test-and-insert alone on precomputed keys (the table itself),
 *   - lookups of present ids,
 *   - resident memory growth (VmRSS) for the whole set,
 * and compares with the peer in the same run: a C++ std::unordered_set<std::string> holding the
 * raw ids (what a naive implementation keeps), built by bench/run.sh as bench_peer. One core. */
#include "login/idset.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kb = strtol(line + 6, NULL, 10);
    if (f) fclose(f);
    return kb;
}

static int make_id(char *buf, uint64_t i)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    memcpy(buf, "https://www.paypal.com/webapps/auth/identity/user/", 50);
    uint64_t x = i * 0x9E3779B97F4A7C15ull + 12345;
    for (int k = 0; k < 43; k++) {
        x ^= x >> 29; x *= 0xBF58476D1CE4E5B9ull; x ^= x >> 32;
        buf[50 + k] = A[x & 63];
    }
    buf[93] = 0;
    return 93;
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ull;
    long rss0 = rss_kb();
    struct idset *s = idset_new(n);
    struct idset_key *keys = malloc(n * sizeof *keys);
    if (!s || !keys)
        return 1;
    char id[128];
    /* 1. hash + insert, as the service does */
    double t = now_s();
    for (uint64_t i = 0; i < n; i++) {
        int l = make_id(id, i);
        idset_key_of(s, id, (size_t)l, &keys[i]);
        if (idset_insert_once(s, &keys[i]) != IDSET_INSERTED) { fprintf(stderr, "collision?\n"); return 1; }
    }
    double t_hash_insert = now_s() - t;
    long rss_set = rss_kb() - rss0 - (long)(n * sizeof *keys / 1024);
    /* 2. the table alone: a fresh set, precomputed keys */
    struct idset *s2 = idset_new(n);
    t = now_s();
    for (uint64_t i = 0; i < n; i++)
        idset_insert_once(s2, &keys[i]);
    double t_insert = now_s() - t;
    /* 3. replays: every id again (all present) */
    t = now_s();
    uint64_t present = 0;
    for (uint64_t i = 0; i < n; i++)
        present += idset_insert_once(s2, &keys[i]) == IDSET_PRESENT;
    double t_replay = now_s() - t;
    /* id generation alone, to subtract it */
    t = now_s();
    volatile int sink = 0;
    for (uint64_t i = 0; i < n; i++)
        sink += make_id(id, i);
    double t_gen = now_s() - t;
    printf("{\"impl\":\"sealed-login idset\",\"ids\":%llu,\"rss_mb\":%.1f,\"table_mb\":%.1f,"
           "\"hash_and_insert_per_s\":%.0f,\"insert_per_s\":%.0f,\"replay_lookup_per_s\":%.0f,"
           "\"present\":%llu}\n",
           (unsigned long long)n, rss_set / 1024.0, idset_table_bytes(s) / 1048576.0,
           n / (t_hash_insert - t_gen), n / t_insert, n / t_replay, (unsigned long long)present);
    idset_free(s);
    idset_free(s2);
    free(keys);
    return 0;
}
