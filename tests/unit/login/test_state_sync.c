/* Unit tests for login/state_sync, the parts that run without an event loop, a cloud or a sealing
 * device: when it stays off (no state directory, no store on a local run, store "none", nothing
 * that can seal) and what off means (restore, attach, settle and status do nothing); and a
 * restart within a boot whose last sealed copy cannot be read or opened: logins are refused with
 * the reason, the state directory is left alone, nothing is queued and /status says why. The
 * boot restore (it waits on the event loop for the cloud's identity) and the saves (they need a
 * TPM or SNP key and the object store) are covered whole-binary by tests/login/test_state_sealed*.py.
 * The state snapshot is tests/unit/login/test_service_state.c, the seal test_state_seal.c and the
 * object names test_state_remote.c. */
#include "test.h"
#include "state_dir.h"
#include "login/config.h"
#include "login/service_state.h"
#include "login/state_seal.h"
#include "login/state_sync.h"
#include <sys/stat.h>

/* The service on GCP with its state sealed by a TPM that is not there: a candidate for syncing
 * (the device is only used to wrap or unwrap). */
static struct config sealed_cfg(void)
{
    struct config c = {0};
    c.state_dir = dir;
    c.platform = "gcp";
    c.state_store = "gcs:bucket/state.v1";
    c.state_store_base = "http://127.0.0.1:9";
    c.state_seal = "tpm";
    c.state_tpm_dev = "/nonexistent-tpm";
    c.state_seal_pcrs = 0x10;
    return c;
}

static int done_calls;
static void on_done(void *arg, ss_err r) { done_calls++; }

static const char *last_copy(void)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/sealed.last", dir);
    return p;
}

/* Off: restore has nothing to do, attach leaves the state as it is, settle is settled, status
 * says not sealed. */
static void check_off(int *test_case_failed_p, struct state_sync *s)
{
    CHECK(s && !state_sync_active(s));
    CHECK(state_sync_restore(s) == NULL && !state_sync_active(s));
    struct service_state *ss = service_state_open(dir, 1000);
    const char *scope = service_state_scope(ss);
    state_sync_attach(s, ss);
    CHECK(!service_state_broken(ss) && service_state_scope(ss) == scope);
    CHECK(state_sync_settle(s) == SYNC_SETTLED);
    json_t *st = state_sync_status(s);
    CHECK(st && json_object_size(st) == 1 && json_is_false(json_object_get(st, "sealed")));
    json_decref(st);
    service_state_close(ss);
    state_sync_free(s);
}

TEST(off_without_a_state_dir_a_store_or_a_sealing_device)
{
    wipe();
    struct config c = sealed_cfg();
    c.state_dir = NULL;                       /* the state lives in the process only */
    check_off(test_case_failed_p, state_sync_new(NULL, NULL, &c));
    c = sealed_cfg();
    c.platform = "none";                      /* a local run names no store */
    c.state_store = NULL;
    check_off(test_case_failed_p, state_sync_new(NULL, NULL, &c));
    c = sealed_cfg();
    c.state_store = "none";
    check_off(test_case_failed_p, state_sync_new(NULL, NULL, &c));
    c = sealed_cfg();
    c.state_seal = "none";                    /* nothing can seal: it stays within this boot */
    check_off(test_case_failed_p, state_sync_new(NULL, NULL, &c));
    CHECK(!state_sync_active(NULL) && state_sync_settle(NULL) == SYNC_SETTLED);
    state_sync_free(NULL);
}

/* A restart within this boot: the state file and sealed.last are there. s is the new sync;
 * returns the reason restore gave. */
static const char *restart(int *test_case_failed_p, struct state_sync *s, long *size)
{
    struct service_state *ss = service_state_open(dir, 1000);
    CHECK(ss && !service_state_broken(ss));
    service_state_close(ss);
    *size = file_size();
    CHECK(*size > 0);
    CHECK(s && !state_sync_active(s));
    const char *why = state_sync_restore(s);
    CHECK(why && state_sync_active(s));
    return why;
}

TEST(a_restart_whose_sealed_copy_cannot_be_opened_refuses_logins)
{
    wipe();
    static const uint8_t junk[64] = "SLSEAL02";   /* not a v1 blob */
    FILE *f = fopen(last_copy(), "wb");
    CHECK(f && fwrite(junk, 1, sizeof junk, f) == sizeof junk);
    if (f)
        fclose(f);
    struct config c = sealed_cfg();
    struct state_sync *s = state_sync_new(NULL, NULL, &c);
    long size;
    const char *why = restart(test_case_failed_p, s, &size);
    CHECK(why && strstr(why, "cannot be opened after a restart") && strstr(why, state_seal_strerror(SSEAL_ERR_FORMAT)));
    /* the service opens its state: attach closes logins with the reason, nothing is claimed */
    struct service_state *ss = service_state_open(dir, 1000);
    state_sync_attach(s, ss);
    CHECK(service_state_broken(ss) && why && !strcmp(service_state_broken(ss), why));
    struct ss_pending p = {.jws = "a.b.c", .jws_len = 5};
    done_calls = 0;
    CHECK(state_sync_commit(s, &p, on_done, NULL) == SS_BROKEN && done_calls == 0);
    CHECK(state_sync_settle(s) == SYNC_REFUSED);   /* a refused state is never saved at stop */
    json_t *st = state_sync_status(s);
    CHECK(json_is_true(json_object_get(st, "sealed")) && json_is_false(json_object_get(st, "owner")));
    CHECK_STR(json_string_value(json_object_get(st, "seal")), "sealed-vtpm");
    CHECK_STR(json_string_value(json_object_get(st, "store")), "gcs bucket/state.v1");
    CHECK(json_integer_value(json_object_get(st, "saves")) == 0 && json_integer_value(json_object_get(st, "counter")) == 0);
    CHECK(why && json_string_value(json_object_get(st, "last_error")) &&
          !strcmp(json_string_value(json_object_get(st, "last_error")), why));
    json_decref(st);
    service_state_close(ss);
    state_sync_free(s);
    CHECK(file_size() == size);   /* the state directory was not touched */
    unlink(last_copy());
}

TEST(a_restart_whose_sealed_copy_cannot_be_read_refuses_logins)
{
    wipe();
    CHECK(mkdir(last_copy(), 0700) == 0);   /* there, but not a file */
    struct config c = sealed_cfg();
    c.state_store = NULL;   /* the image's store comes with the metadata: not known yet */
    c.platform = "auto";
    struct state_sync *s = state_sync_new(NULL, NULL, &c);
    long size;
    const char *why = restart(test_case_failed_p, s, &size);
    CHECK(why && strstr(why, "last sealed copy of the state in the state directory cannot be read"));
    json_t *st = state_sync_status(s);   /* no store yet: nothing to show */
    CHECK(st && json_is_false(json_object_get(st, "sealed")));
    json_decref(st);
    state_sync_free(s);
    CHECK(file_size() == size);
    rmdir(last_copy());
}

int main(void)
{
    if (state_dir_make())
        return 1;
    RUN(off_without_a_state_dir_a_store_or_a_sealing_device);
    RUN(a_restart_whose_sealed_copy_cannot_be_opened_refuses_logins);
    RUN(a_restart_whose_sealed_copy_cannot_be_read_refuses_logins);
    state_dir_remove();
    return test_done();
}
