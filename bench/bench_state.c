/* Benchmark of the service state (service_state.c over state_store.c) in one directory:
 * commits per second (a 6 KiB result appended and fdatasync'd each; the peer is a bare
 * write()+fdatasync() of the same bytes, the floor any journal pays), spent login states per
 * second, and start-up (load, verify, compact) with N used ids. Usage: bench_state DIR [N].
 * Prints JSON. Not a test: never timed in `make test`. */
#include "login/service_state.h"
#include "login/state_store.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wipe(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, STATE_STORE_FILE);
    unlink(p);
}

static int no_records(void *arg, uint32_t t, const uint8_t *p, size_t l) { return 0; }

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *dir = argv[1];
    long n_ids = argc > 2 ? atol(argv[2]) : 1000000;
    const int COMMITS = 2000, SPENDS = 5000;
    static char jws[6144 + 128];   /* the JWS, and room for the peer's record framing */
    memset(jws, 'A', 6143);
    const size_t JWS_LEN = 6143;
    wipe(dir);
    struct service_state *ss = service_state_open(dir, (uint64_t)n_ids + COMMITS + 16);
    uint8_t sec[32] = {1};
    char code[RESULT_CODE_LEN + 1];
    double t0 = now_s();
    for (int i = 0; i < COMMITS; i++) {
        struct idset_key k;
        char id[32];
        int l = snprintf(id, sizeof id, "user-%d", i);
        idset_key_of(service_state_ids(ss), id, (size_t)l, &k);
        result_code_new(code);
        if (service_state_commit(ss, &k, sec, jws, JWS_LEN, code) != SS_OK) {
            fprintf(stderr, "commit %d failed\n", i);
            return 1;
        }
    }
    double commit_s = now_s() - t0;
    t0 = now_s();
    for (int i = 0; i < SPENDS; i++) {
        struct login_spent_entry e;
        char st[32];
        int l = snprintf(st, sizeof st, "state-%d", i);
        login_spent_entry_of(st, (size_t)l, (uint64_t)time(NULL) + 600, &e);
        if (service_state_spend_login(ss, &e) != SS_OK) {
            fprintf(stderr, "spend %d failed\n", i);
            return 1;
        }
    }
    double spend_s = now_s() - t0;
    service_state_close(ss);

    /* the peer: the same bytes, bare appends + fdatasync */
    char peer[512];
    snprintf(peer, sizeof peer, "%s/peer.bin", dir);
    int fd = open(peer, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    t0 = now_s();
    for (int i = 0; i < COMMITS; i++)
        if (write(fd, jws, JWS_LEN + 90) < 0 || fdatasync(fd))
            return 1;
    double peer_s = now_s() - t0;
    close(fd);
    unlink(peer);

    /* start-up with n_ids used ids: a state file of KEYS + IDS records, then open it */
    wipe(dir);
    struct state_store *st = NULL;
    if (state_store_open(dir, no_records, NULL, 0, &st))
        return 1;
    uint8_t keys[64] = {0}, *batch = malloc(4096 * 16);
    state_store_append(st, 1, keys, sizeof keys);
    for (long done = 0; done < n_ids;) {
        long k = n_ids - done < 4096 ? n_ids - done : 4096;
        RAND_bytes(batch, (int)(k * 16));
        state_store_append(st, 2, batch, (size_t)k * 16);
        done += k;
    }
    uint64_t bytes = state_store_bytes(st);
    state_store_close(st);
    t0 = now_s();
    ss = service_state_open(dir, (uint64_t)n_ids + 16);
    double open_s = now_s() - t0;
    int ok = ss && !service_state_broken(ss) && idset_count(service_state_ids(ss)) == (uint64_t)n_ids;
    service_state_close(ss);
    wipe(dir);
    printf("{\"dir\": \"%s\", \"commits_per_s\": %.0f, \"peer_bare_append_fdatasync_per_s\": %.0f, "
           "\"spent_states_per_s\": %.0f, \"ids\": %ld, \"state_bytes\": %llu, \"start_s\": %.2f, \"ok\": %s}\n",
           dir, COMMITS / commit_s, COMMITS / peer_s, SPENDS / spend_s, n_ids, (unsigned long long)bytes, open_s,
           ok ? "true" : "false");
    return ok ? 0 : 1;
}
