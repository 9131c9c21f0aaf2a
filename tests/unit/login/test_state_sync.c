/* Unit tests for the pieces of the sealed state that need no device or network: a snapshot with
 * pending results installed elsewhere opens with every id (state_store_snapshot/install via
 * service_state_snapshot), an altered snapshot refuses logins, state_seal refuses blobs that are
 * not its own, and state_remote accepts only well-formed object names. The TPM and SNP backends
 * and the stores are covered whole-binary (tests/login/test_state_sealed*.py). */
#include "test.h"
#include "login/idset.h"
#include "login/service_state.h"
#include "login/state_remote.h"
#include "login/state_seal.h"
#include "login/state_store.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>

static char d1[] = "/tmp/sealed-sync-a-XXXXXX", d2[] = "/tmp/sealed-sync-b-XXXXXX";

static void rmdir_all(const char *d)
{
    char p[256];
    const char *names[] = {STATE_STORE_FILE, STATE_STORE_FILE ".new", STATE_STORE_FILE ".restore", NULL};
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        unlink(p);
    }
    rmdir(d);
}

TEST(snapshot_with_pending_results_installs_elsewhere)
{
    struct service_state *a = service_state_open(d1, 1000);
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
    CHECK(state_store_install(d2, snap, n) == STATE_OK);
    struct service_state *b = service_state_open(d2, 1000);
    CHECK(b && !service_state_broken(b));
    CHECK(idset_contains(service_state_ids(b), &k1) && idset_contains(service_state_ids(b), &k2));
    CHECK(service_state_epoch(b) == epoch);
    service_state_close(b);
    /* one flipped byte: refused, logins closed, the file left alone */
    snap[n - 40] ^= 1;
    CHECK(state_store_install(d2, snap, n) == STATE_OK);
    b = service_state_open(d2, 1000);
    CHECK(b && service_state_broken(b));
    service_state_close(b);
    OPENSSL_clear_free(snap, n);
    service_state_close(a);
}

TEST(seal_refuses_what_it_did_not_make)
{
    struct state_seal *s = state_seal_new("none", NULL, NULL, 0);
    uint8_t *out = NULL;
    size_t n = 0;
    CHECK(s && state_seal_scope(s) == NULL);
    CHECK(state_seal_wrap(s, (const uint8_t *)"x", 1, &out, &n) == SSEAL_ERR_UNAVAILABLE && !out);
    state_seal_free(s);
    /* a TPM kind on a device that is not there: every blob is refused before any device use */
    s = state_seal_new("tpm", "/nonexistent-tpm", NULL, 0x10);
    CHECK(s && !strcmp(state_seal_scope(s), "sealed-vtpm"));
    static const uint8_t junk[64] = "SLSEAL02";
    CHECK(state_seal_unwrap(s, junk, sizeof junk, &out, &n) == SSEAL_ERR_FORMAT);
    uint8_t snp[64] = "SLSEAL01";
    snp[8] = 2;   /* sealed by SNP: not ours */
    CHECK(state_seal_unwrap(s, snp, sizeof snp, &out, &n) == SSEAL_ERR_KEY);
    uint8_t trunc[30] = "SLSEAL01";
    trunc[8] = 1;
    trunc[23] = 200;   /* keymat longer than the blob */
    CHECK(state_seal_unwrap(s, trunc, sizeof trunc, &out, &n) == SSEAL_ERR_FORMAT);
    state_seal_free(s);
}

TEST(remote_object_names)
{
    const char *good[] = {"gcs:bucket/state.v1", "oci:ns/bucket-1/state_v1", NULL};
    const char *bad[] = {"gcs:bucket", "gcs:/o", "gcs:b/../x", "gcs:b/a/b", "oci:ns/b", "s3:b/o", "gcs:b/o?x=1",
                         "gcs:b/.hidden", "oci:ns/b/o/", NULL};
    for (int i = 0; good[i]; i++) {
        struct state_remote *r = state_remote_new(NULL, good[i], NULL);
        CHECK(r != NULL);
        state_remote_free(r);
    }
    for (int i = 0; bad[i]; i++) {
        struct state_remote *r = state_remote_new(NULL, bad[i], NULL);
        CHECK(r == NULL);
        state_remote_free(r);
    }
}

int main(void)
{
    if (!mkdtemp(d1) || !mkdtemp(d2))
        return 1;
    rmdir(d2);   /* state_store_install creates it */
    RUN(snapshot_with_pending_results_installs_elsewhere);
    RUN(seal_refuses_what_it_did_not_make);
    RUN(remote_object_names);
    rmdir_all(d1);
    rmdir_all(d2);
    return test_done();
}
