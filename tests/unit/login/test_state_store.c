/* Unit tests for login/state_store, the state outside the process: format, checksums, torn
 * tails, versions, the one-process lock and rewrites. What is kept in it is
 * tests/unit/login/test_service_state.c. */
#include "test.h"
#include "state_dir.h"
#include "login/state_store.h"
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

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

int main(void)
{
    if (state_dir_make())
        return 1;
    RUN(store_roundtrip_and_checks);
    RUN(torn_tail_is_cut_and_later_appends_work);
    RUN(rewrite_replaces_atomically_and_keeps_epoch);
    RUN(one_process_per_state_directory);
    state_dir_remove();
    return test_done();
}
