/* Unit tests for the state outside the process: state_store (format, checksums, torn tails,
 * versions, rewrites), service_state (ids, results, spent states and blobs survive a reopen; a bad
 * file refuses logins and is left alone), result_store, login_spent and rate_limit. */
#include "test.h"
#include "login/limits.h"
#include "login/login_spent.h"
#include "login/rate_limit.h"
#include "login/result_store.h"
#include "login/service_state.h"
#include "login/state_store.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/sha.h>

static char dir[] = "/tmp/sealed-state-test-XXXXXX";

static void path_of(char *out, size_t cap) { snprintf(out, cap, "%s/%s", dir, STATE_STORE_FILE); }
static void wipe(void) { char p[256]; path_of(p, sizeof p); unlink(p); }

static long file_size(void) { char p[256]; struct stat st; path_of(p, sizeof p); return stat(p, &st) ? -1 : (long)st.st_size; }

static void poke(long off, uint8_t xor_with)
{
    char p[256];
    path_of(p, sizeof p);
    int fd = open(p, O_RDWR);
    uint8_t b;
    if (pread(fd, &b, 1, off) == 1) {
        b ^= xor_with;
        (void)!pwrite(fd, &b, 1, off);
    }
    close(fd);
}

struct seen { int n; uint32_t types[16]; size_t lens[16]; };
static int collect(void *arg, uint32_t type, const uint8_t *p, size_t len)
{
    struct seen *s = arg;
    if (s->n < 16) { s->types[s->n] = type; s->lens[s->n] = len; }
    s->n++;
    return 0;
}

TEST(store_roundtrip_and_checks)
{
    wipe();
    struct seen sn = {0};
    struct state_store *s = NULL;
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK && s);
    CHECK(sn.n == 0);
    uint64_t epoch = state_store_meta(s)->epoch;
    CHECK(state_store_append(s, 7, "hello", 5) == STATE_OK);
    CHECK(state_store_append(s, 8, "", 0) == STATE_OK);
    state_store_close(s);
    memset(&sn, 0, sizeof sn);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    CHECK(sn.n == 2 && sn.types[0] == 7 && sn.lens[0] == 5 && sn.types[1] == 8 && sn.lens[1] == 0);
    CHECK(state_store_meta(s)->epoch == epoch);
    state_store_close(s);
    long size = file_size();
    /* any flipped byte, in the header or in a record, is refused and the file left alone */
    for (long off = 0; off < size; off++) {
        poke(off, 0x40);
        memset(&sn, 0, sizeof sn);
        state_err e = state_store_open(dir, collect, &sn, 0, &s);
        CHECK(e == STATE_ERR_CORRUPT || e == STATE_ERR_VERSION);
        CHECK(s == NULL);
        CHECK(file_size() == size);
        poke(off, 0x40);
    }
    /* an unknown version */
    poke(8, 0x03);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_ERR_VERSION);
    poke(8, 0x03);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    state_store_close(s);
}

TEST(torn_tail_is_cut_and_later_appends_work)
{
    wipe();
    struct seen sn = {0};
    struct state_store *s = NULL;
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    CHECK(state_store_append(s, 1, "abcdef", 6) == STATE_OK);
    state_store_close(s);
    long good = file_size();
    char p[256];
    path_of(p, sizeof p);
    int fd = open(p, O_WRONLY | O_APPEND);
    (void)!write(fd, "\x02\x00\x00\x00\x10\x00\x00\x00partial", 15);   /* a record cut short */
    close(fd);
    memset(&sn, 0, sizeof sn);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    CHECK(sn.n == 1 && file_size() == good);
    CHECK(state_store_append(s, 3, "x", 1) == STATE_OK);
    state_store_close(s);
    memset(&sn, 0, sizeof sn);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    CHECK(sn.n == 2 && sn.types[1] == 3);
    /* a whole record header whose payload was cut short: dropped, the rest kept */
    CHECK(state_store_append(s, 4, "0123456789abcdef", 16) == STATE_OK);
    state_store_close(s);
    CHECK(truncate(p, file_size() - 20) == 0);
    memset(&sn, 0, sizeof sn);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    CHECK(sn.n == 2 && sn.types[1] == 3);
    state_store_close(s);
}

TEST(one_process_per_state_directory)
{
    wipe();
    struct seen sn = {0};
    struct state_store *a = NULL, *b = NULL;
    CHECK(state_store_open(dir, collect, &sn, 0, &a) == STATE_OK);
    /* another holder (here: another open file description, as another process would have) */
    CHECK(state_store_open(dir, collect, &sn, 300, &b) == STATE_ERR_LOCKED && !b);
    state_store_close(a);
    CHECK(state_store_open(dir, collect, &sn, 0, &b) == STATE_OK);
    state_store_close(b);
}

static int emit_two(void *arg, struct state_writer *w)
{
    return state_store_put(w, 9, "a", 1) || state_store_put(w, 10, "bb", 2);
}

TEST(rewrite_replaces_atomically_and_keeps_epoch)
{
    wipe();
    struct seen sn = {0};
    struct state_store *s = NULL;
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    uint64_t epoch = state_store_meta(s)->epoch;
    for (int i = 0; i < 10; i++)
        CHECK(state_store_append(s, 1, "0123456789", 10) == STATE_OK);
    CHECK(state_store_rewrite(s, emit_two, NULL) == STATE_OK);
    CHECK(state_store_meta(s)->generation == 1);
    CHECK(state_store_append(s, 11, "ccc", 3) == STATE_OK);
    state_store_close(s);
    memset(&sn, 0, sizeof sn);
    CHECK(state_store_open(dir, collect, &sn, 0, &s) == STATE_OK);
    CHECK(sn.n == 3 && sn.types[0] == 9 && sn.types[1] == 10 && sn.types[2] == 11);
    CHECK(state_store_meta(s)->epoch == epoch && state_store_meta(s)->generation == 1);
    state_store_close(s);
}

static void hash_of(const char *s, uint8_t out[32]) { SHA256((const uint8_t *)s, strlen(s), out); }

TEST(service_state_survives_reopen)
{
    wipe();
    struct service_state *ss = service_state_open(dir, 1000);
    CHECK(ss && !service_state_broken(ss));
    CHECK(!strcmp(service_state_scope(ss), "directory") || !strcmp(service_state_scope(ss), "boot"));
    struct idset_key ka, kb;
    idset_key_of(service_state_ids(ss), "alice", 5, &ka);
    idset_key_of(service_state_ids(ss), "bob", 3, &kb);
    uint8_t sec[32], other[32];
    hash_of("browser-1", sec);
    hash_of("browser-2", other);
    char code[RESULT_CODE_LEN + 1];
    CHECK(result_code_new(code) == 0 && strlen(code) == RESULT_CODE_LEN);
    CHECK(service_state_commit(ss, &ka, sec, "jws.of.alice", 12, code) == SS_OK);
    CHECK(service_state_commit(ss, &ka, sec, "jws.of.alice", 12, code) == SS_PRESENT);
    struct login_spent_entry e;
    login_spent_entry_of("state-1", 7, (uint64_t)time(NULL) + 600, &e);
    CHECK(service_state_spend_login(ss, &e) == SS_OK);
    CHECK(service_state_spend_login(ss, &e) == SS_SEEN);
    CHECK(service_state_put_blob(ss, SS_BLOB_ACME, "acme-blob", 9) == 0);
    CHECK(service_state_put_blob(ss, SS_BLOB_ACME, "acme-blob-2", 11) == 0);
    uint64_t epoch = service_state_epoch(ss);
    service_state_close(ss);

    ss = service_state_open(dir, 1000);
    CHECK(ss && !service_state_broken(ss));
    CHECK(service_state_epoch(ss) == epoch);
    struct idset_key ka2;
    idset_key_of(service_state_ids(ss), "alice", 5, &ka2);   /* same HMAC key after the reopen */
    CHECK(ka2.lo == ka.lo && ka2.hi == ka.hi);
    CHECK(idset_contains(service_state_ids(ss), &ka) && !idset_contains(service_state_ids(ss), &kb));
    CHECK(service_state_commit(ss, &ka, sec, "again", 5, code) == SS_PRESENT);
    CHECK(service_state_spend_login(ss, &e) == SS_SEEN);
    const struct stored_result *r = result_store_find(service_state_results(ss), code, strlen(code), sec);
    CHECK(r && r->jws_len == 12 && !memcmp(r->jws, "jws.of.alice", 12));
    CHECK(!result_store_find(service_state_results(ss), code, strlen(code), other));
    size_t bl = 0;
    const uint8_t *b = service_state_get_blob(ss, SS_BLOB_ACME, &bl);
    CHECK(b && bl == 11 && !memcmp(b, "acme-blob-2", 11));
    char code2[RESULT_CODE_LEN + 1];
    result_code_new(code2);
    CHECK(service_state_commit(ss, &kb, other, "jws.of.bob", 10, code2) == SS_OK);
    CHECK(service_state_save(ss) == 0);   /* compaction keeps everything */
    service_state_close(ss);
    ss = service_state_open(dir, 1000);
    CHECK(ss && !service_state_broken(ss));
    CHECK(idset_count(service_state_ids(ss)) == 2);
    CHECK(result_store_count(service_state_results(ss)) == 2);
    CHECK(service_state_spend_login(ss, &e) == SS_SEEN);
    service_state_close(ss);
}

TEST(bad_state_refuses_logins_and_is_kept)
{
    wipe();
    struct service_state *ss = service_state_open(dir, 1000);
    struct idset_key k;
    idset_key_of(service_state_ids(ss), "alice", 5, &k);
    uint8_t sec[32] = {1};
    char code[RESULT_CODE_LEN + 1];
    result_code_new(code);
    CHECK(service_state_commit(ss, &k, sec, "x.y.z", 5, code) == SS_OK);
    service_state_close(ss);
    long size = file_size();
    poke(size - 40, 0x01);   /* inside the last record */
    ss = service_state_open(dir, 1000);
    CHECK(ss && service_state_broken(ss) && strstr(service_state_broken(ss), "logins are refused"));
    struct idset_key k2;
    idset_key_of(service_state_ids(ss), "bob", 3, &k2);
    CHECK(service_state_commit(ss, &k2, sec, "a.b.c", 5, code) == SS_BROKEN);
    struct login_spent_entry e;
    login_spent_entry_of("s", 1, (uint64_t)time(NULL) + 60, &e);
    CHECK(service_state_spend_login(ss, &e) == SS_BROKEN);
    CHECK(service_state_save(ss) == 0);
    service_state_close(ss);
    CHECK(file_size() == size);   /* never replaced */
    /* more ids than this build's capacity: refused, not truncated */
    poke(size - 40, 0x01);
    ss = service_state_open(dir, 1000);
    CHECK(ss && !service_state_broken(ss));
    idset_key_of(service_state_ids(ss), "bob", 3, &k2);
    result_code_new(code);
    CHECK(service_state_commit(ss, &k2, sec, "a.b.c", 5, code) == SS_OK);
    service_state_close(ss);
    ss = service_state_open(dir, 1);
    CHECK(ss && service_state_broken(ss));
    service_state_close(ss);
    ss = service_state_open(dir, 2);
    CHECK(ss && !service_state_broken(ss) && idset_count(service_state_ids(ss)) == 2);
    service_state_close(ss);
}

TEST(results_expire_and_respect_caps)
{
    struct result_store *r = result_store_new();
    uint8_t h[32] = {7};
    struct idset_key k = {1, 2};
    CHECK(result_store_add(r, "AAAAAAAAAA", h, &k, 1000, "one", 3) == 0);
    CHECK(result_store_add(r, "BBBBBBBBBB", h, &k, 2000, "two", 3) == 0);
    CHECK(result_store_find(r, "AAAAAAAAAA", 10, h));
    CHECK(!result_store_find(r, "AAAAAAAAA", 9, h));
    result_store_expire(r, 1000 + RESULT_KEEP_S);
    CHECK(result_store_count(r) == 1 && !result_store_find(r, "AAAAAAAAAA", 10, h));
    CHECK(result_store_find(r, "BBBBBBBBBB", 10, h));
    CHECK(!result_store_fits(r, RESULT_STORE_MAX_BYTES, 2000));
    CHECK(result_store_fits(r, 100, 2000));
    result_store_pop_last(r);
    CHECK(result_store_count(r) == 0 && result_store_bytes(r) == 0);
    result_store_free(r);
}

TEST(spent_states_are_bounded_and_expire)
{
    struct login_spent *s = login_spent_new();
    struct login_spent_entry e;
    char st[32];
    for (int i = 0; i < LOGIN_USED_STATES_MAX; i++) {
        int n = snprintf(st, sizeof st, "state-%d", i);
        login_spent_entry_of(st, (size_t)n, 1000 + (uint64_t)(i % 2) * 1000, &e);
        CHECK(login_spent_insert(s, &e, 500) == LOGIN_SPENT_NEW);
    }
    login_spent_entry_of("state-0", 7, 1000, &e);
    CHECK(login_spent_insert(s, &e, 500) == LOGIN_SPENT_SEEN);
    login_spent_entry_of("new", 3, 3000, &e);
    CHECK(!login_spent_has_room(s, 500) && login_spent_has_room(s, 1500));
    CHECK(login_spent_insert(s, &e, 500) == LOGIN_SPENT_FULL);   /* full of live states: refuse */
    CHECK(login_spent_insert(s, &e, 1500) == LOGIN_SPENT_NEW);   /* half of them expired */
    CHECK(login_spent_contains(s, &e, 1500));
    login_spent_entry_of("state-0", 7, 1000, &e);
    CHECK(!login_spent_contains(s, &e, 1500));
    login_spent_free(s);
}

TEST(rate_limit_per_address_per_64_and_global)
{
    uint8_t p[16];
    CHECK(rate_limit_prefix("192.0.2.1", p) == 4);
    CHECK(rate_limit_prefix("::ffff:192.0.2.1", p) == 4 && p[0] == 192);
    CHECK(rate_limit_prefix("2001:db8:1:2:3:4:5:6", p) == 8);
    CHECK(rate_limit_prefix("nonsense", p) == 0);
    struct rate_limit *r = rate_limit_new(3, 1000);
    unsigned retry;
    for (int i = 0; i < 3; i++)
        CHECK(rate_limit_take(r, "2001:db8:1:2::1", 1000, &retry) == RATE_OK);
    /* the same /64 shares the bucket; another /64 and IPv4 do not */
    CHECK(rate_limit_take(r, "2001:db8:1:2:ffff::9", 1000, &retry) == RATE_ADDR && retry >= 1 && retry <= 21);
    CHECK(rate_limit_take(r, "2001:db8:1:3::1", 1000, &retry) == RATE_OK);
    CHECK(rate_limit_take(r, "192.0.2.1", 1000, &retry) == RATE_OK);
    /* 3 per minute: one token back after 20 s */
    CHECK(rate_limit_take(r, "2001:db8:1:2::1", 21000, &retry) == RATE_OK);
    CHECK(rate_limit_take(r, "2001:db8:1:2::1", 21000, &retry) == RATE_ADDR);
    rate_limit_free(r);
    r = rate_limit_new(1000, 2);   /* global 2/s, burst 10 */
    char a[32];
    int ok = 0;
    for (int i = 0; i < 30; i++) {
        snprintf(a, sizeof a, "198.51.100.%d", i);
        ok += rate_limit_take(r, a, 5000, &retry) == RATE_OK;
    }
    CHECK(ok == 10);
    CHECK(rate_limit_take(r, "203.0.113.1", 5000, &retry) == RATE_GLOBAL);
    CHECK(rate_limit_take(r, "203.0.113.1", 5600, &retry) == RATE_OK);
    rate_limit_free(r);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(store_roundtrip_and_checks);
    RUN(torn_tail_is_cut_and_later_appends_work);
    RUN(rewrite_replaces_atomically_and_keeps_epoch);
    RUN(one_process_per_state_directory);
    RUN(service_state_survives_reopen);
    RUN(bad_state_refuses_logins_and_is_kept);
    RUN(results_expire_and_respect_caps);
    RUN(spent_states_are_bounded_and_expire);
    RUN(rate_limit_per_address_per_64_and_global);
    wipe();
    rmdir(dir);
    return test_done();
}
