/* bench_idset: the used-id set at its target size. Inserts N ids (default 10 million) made like
 * PayPal's (https://www.paypal.com/webapps/auth/identity/user/ + 43 chars), measuring
 *   - the keyed hash alone (idset_key_of), and the same HMAC-SHA-256 through OpenSSL's generic
 *     EVP_MAC API (key set once, EVP_MAC_CTX_dup per id: the obvious implementation) as the peer,
 *   - keyed hash + test-and-insert per second (what /callback does per login) on a fresh table,
 *     whose pages are touched for the first time (page faults: costly under nested
 *     virtualisation, a start-up cost only), and on a warm table (a running service: the set
 *     already holds N other ids, the N measured ones take it from 3/8 to 3/4 full),
 *   - test-and-insert alone on precomputed keys (the table itself), lookups of present ids,
 *   - resident memory growth (VmRSS) for the whole set,
 * and compares with the peer in the same run: a C++ std::unordered_set<std::string> holding the
 * raw ids (what a naive implementation keeps), built by bench/run.sh as bench_peer. One core;
 * rates are per second of this thread's CPU time. */
#include "login/idset.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* CPU time of this thread, not wall time: on a shared machine the wall clock also counts the
 * time other processes held the core. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
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

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
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
    /* id generation alone, to subtract it */
    double t = now_s();
    volatile int sink = 0;
    for (uint64_t i = 0; i < n; i++)
        sink += make_id(id, i);
    double t_gen = now_s() - t;
    /* 0. the keyed hash alone, ours and the peer's */
    struct idset_key k;
    t = now_s();
    for (uint64_t i = 0; i < n; i++) {
        int l = make_id(id, i);
        idset_key_of(s, id, (size_t)l, &k);
        sink += (int)k.lo;
    }
    double t_hash = now_s() - t;
    uint64_t n_peer = n / 4;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *proto = mac ? EVP_MAC_CTX_new(mac) : NULL;
    static const unsigned char mac_key[32] = {1};
    OSSL_PARAM prm[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                        OSSL_PARAM_construct_end()};
    if (!proto || !EVP_MAC_init(proto, mac_key, sizeof mac_key, prm))
        return 1;
    unsigned char out[32];
    size_t outl;
    t = now_s();
    for (uint64_t i = 0; i < n_peer; i++) {
        int l = make_id(id, i);
        EVP_MAC_CTX *c = EVP_MAC_CTX_dup(proto);
        if (!c || !EVP_MAC_update(c, (unsigned char *)id, (size_t)l) || !EVP_MAC_final(c, out, &outl, sizeof out))
            return 1;
        EVP_MAC_CTX_free(c);
        sink += out[0];
    }
    double t_peer_hash = now_s() - t;
    EVP_MAC_CTX_free(proto);
    EVP_MAC_free(mac);
    /* 1. hash + insert, as the service does, on a fresh table (first touch of every page) */
    long flt0 = minor_faults();
    t = now_s();
    for (uint64_t i = 0; i < n; i++) {
        int l = make_id(id, i);
        idset_key_of(s, id, (size_t)l, &keys[i]);
        if (idset_insert_once(s, &keys[i]) != IDSET_INSERTED) { fprintf(stderr, "collision?\n"); return 1; }
    }
    double t_hash_insert = now_s() - t;
    long faults = minor_faults() - flt0;
    long rss_set = rss_kb() - rss0 - (long)(n * sizeof *keys / 1024);
    /* 1b. the same on a warm table: N other ids first, then the N measured ones */
    struct idset *w = idset_new(2 * n);
    if (!w)
        return 1;
    for (uint64_t i = 0; i < n; i++) {
        int l = make_id(id, i + n);
        idset_key_of(w, id, (size_t)l, &k);
        idset_insert_once(w, &k);
    }
    t = now_s();
    for (uint64_t i = 0; i < n; i++) {
        int l = make_id(id, i);
        idset_key_of(w, id, (size_t)l, &k);
        if (idset_insert_once(w, &k) != IDSET_INSERTED) { fprintf(stderr, "collision?\n"); return 1; }
    }
    double t_hash_insert_warm = now_s() - t;
    idset_free(w);
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
    printf("{\"impl\":\"sealed-login idset\",\"ids\":%llu,\"rss_mb\":%.1f,\"table_mb\":%.1f,"
           "\"keyed_hash_per_s\":%.0f,\"peer_evp_mac_hmac_per_s\":%.0f,"
           "\"hash_and_insert_per_s\":%.0f,\"hash_and_insert_page_faults\":%ld,"
           "\"hash_and_insert_warm_per_s\":%.0f,"
           "\"insert_per_s\":%.0f,\"replay_lookup_per_s\":%.0f,\"present\":%llu}\n",
           (unsigned long long)n, rss_set / 1024.0, idset_table_bytes(s) / 1048576.0,
           n / (t_hash - t_gen), n_peer / (t_peer_hash - t_gen / 4), n / (t_hash_insert - t_gen), faults,
           n / (t_hash_insert_warm - t_gen), n / t_insert, n / t_replay, (unsigned long long)present);
    idset_free(s);
    idset_free(s2);
    free(keys);
    return 0;
}
