/* Unit tests for login/service_state: ids, results, spent states and blobs survive a reopen and a
 * compaction; a bad file refuses logins and is left alone; more ids than the capacity are
 * refused, not truncated; a snapshot with pending results, installed in another directory, opens
 * there with every id, and an altered one refuses logins. The file format itself is
 * tests/unit/login/test_state_store.c. */
#include "test.h"
#include "state_dir.h"
#include "login/login_spent.h"
#include "login/result_store.h"
#include "login/service_state.h"
#include <stdint.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

/* Where a snapshot is installed (state_store_install creates it). */
static char copy[] = "/tmp/sealed-state-copy-XXXXXX";

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

TEST(snapshot_with_pending_results_installs_elsewhere)
{
    wipe();
    struct service_state *a = service_state_open(dir, 1000);
    CHECK(a && !service_state_broken(a));
    struct idset_key k1, k2;
    idset_key_of(service_state_ids(a), "user-1", 6, &k1);
    idset_key_of(service_state_ids(a), "user-2", 6, &k2);
    uint8_t h[32] = {1};
    char code1[RESULT_CODE_LEN + 1], code2[RESULT_CODE_LEN + 1];
    CHECK(!result_code_new(code1) && !result_code_new(code2));
    CHECK(service_state_commit(a, &k1, h, "jws.one.x", 9, code1) == SS_OK);
    CHECK(service_state_check_commit(a, &k1, 9) == SS_PRESENT);
    CHECK(service_state_check_commit(a, &k2, 9) == SS_OK);
    struct ss_pending p = {.key = k2, .jws = "jws.two.y", .jws_len = 9, .created = 1};
    memcpy(p.code, code2, sizeof p.code);
    uint8_t *snap = NULL;
    size_t n = 0;
    CHECK(service_state_snapshot(a, &p, 1, &snap, &n) == 0 && snap && n > 80);
    CHECK(!idset_contains(service_state_ids(a), &k2));   /* the snapshot changes nothing here */
    uint64_t epoch = service_state_epoch(a);
    CHECK(state_store_install(copy, snap, n) == STATE_OK);
    struct service_state *b = service_state_open(copy, 1000);
    CHECK(b && !service_state_broken(b));
    CHECK(idset_contains(service_state_ids(b), &k1) && idset_contains(service_state_ids(b), &k2));
    CHECK(service_state_epoch(b) == epoch);
    service_state_close(b);
    /* one flipped byte: refused, logins closed, the file left alone */
    snap[n - 40] ^= 1;
    CHECK(state_store_install(copy, snap, n) == STATE_OK);
    b = service_state_open(copy, 1000);
    CHECK(b && service_state_broken(b));
    service_state_close(b);
    OPENSSL_clear_free(snap, n);
    service_state_close(a);
}

int main(void)
{
    if (state_dir_make() || !mkdtemp(copy))
        return 1;
    rmdir(copy);   /* state_store_install creates it */
    RUN(service_state_survives_reopen);
    RUN(bad_state_refuses_logins_and_is_kept);
    RUN(snapshot_with_pending_results_installs_elsewhere);
    state_dir_remove();
    state_dir_remove_at(copy);
    return test_done();
}
