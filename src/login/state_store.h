/* state_store: the on-disk (in the image: PID 1's tmpfs) format of the service state: a versioned
 * header and an append-only journal of typed records, each chained to the previous one with
 * SHA-256, rewritten (compacted) atomically by rename. Knows nothing of what the records mean
 * (service_state.c does); never decides to start empty over a file that fails its checks. */
#ifndef SEALED_STATE_STORE_H
#define SEALED_STATE_STORE_H
#include <stddef.h>
#include <stdint.h>

#define STATE_STORE_VERSION 1
#define STATE_STORE_FILE    "state.v1"
#define STATE_ID_LEN        16

typedef enum {
    STATE_OK = 0,
    STATE_ERR_IO,        /* open, read, write, fsync or rename failed (errno logged) */
    STATE_ERR_CORRUPT,   /* bad magic, checksum or framing: refused, the file is left alone */
    STATE_ERR_VERSION,   /* a format version this build does not know: refused */
    STATE_ERR_NOMEM,
    STATE_ERR_TOOBIG,    /* a record or the file is over its cap (limits.h) */
    STATE_ERR_BROKEN,    /* an earlier append could not be rolled back: no more writes */
    STATE_ERR_LOCKED,    /* another process holds the state directory (flock) */
} state_err;

const char *state_strerror(state_err e);

struct state_store;

/* What the header says. */
struct state_meta {
    uint64_t epoch;                  /* unix seconds when this state began (kept by compaction) */
    uint8_t id[STATE_ID_LEN];        /* random name of this state lineage */
    uint64_t generation;             /* compactions so far */
};

/* Called for each record in file order; return 0 to go on, non-zero to stop with
 * STATE_ERR_CORRUPT (the record's content is invalid). ptr is borrowed for the call only. */
typedef int (*state_record_fn)(void *arg, uint32_t type, const uint8_t *ptr, size_t len);

/* Opens DIR/STATE_STORE_FILE, creating a fresh state (epoch = now) when none exists; holds an
 * exclusive flock on DIR until closed, waiting up to lock_wait_ms for another process to let go
 * (then STATE_ERR_LOCKED). Every record
 * is verified and handed to fn before anything else happens. A torn last record (the process died
 * inside an append, so nothing was delivered for it) is cut off and logged. On error *out is NULL
 * and, for CORRUPT and VERSION, the file is left untouched. */
state_err state_store_open(const char *dir, state_record_fn fn, void *arg, unsigned lock_wait_ms,
                           struct state_store **out);
/* Closes (NULL is fine). */
void state_store_close(struct state_store *s);
const struct state_meta *state_store_meta(const struct state_store *s);
/* File size now, and right after the last open or rewrite. */
uint64_t state_store_bytes(const struct state_store *s);
uint64_t state_store_base_bytes(const struct state_store *s);

/* Appends one record and syncs it. On failure the file is cut back to where it was (or the store
 * becomes BROKEN if that fails too): a failed append leaves no half record behind. */
state_err state_store_append(struct state_store *s, uint32_t type, const void *ptr, size_t len);

/* Rewrites the whole state: a temporary file gets the header (same epoch and id, generation + 1)
 * and every record that emit(arg, w) writes with state_store_put, then is synced and renamed over
 * the file. On any failure the old file stays as it was. */
struct state_writer;
typedef int (*state_emit_fn)(void *arg, struct state_writer *w);
state_err state_store_rewrite(struct state_store *s, state_emit_fn emit, void *arg);
/* For emit: one record into the new file; non-zero on failure (emit should then return non-zero). */
int state_store_put(struct state_writer *w, uint32_t type, const void *ptr, size_t len);

/* The state as it would be after appending the extra records, in memory (*out malloc'd, wiped
 * and freed by the caller): the file's bytes followed by the records, chained. The file is not
 * changed. What state_remote stores (sealed) and state_store_install writes back after a reboot. */
struct state_extra { uint32_t type; const void *ptr; size_t len; };
state_err state_store_snapshot(struct state_store *s, const struct state_extra *extra, size_t nextra, uint8_t **out,
                               size_t *len);
/* Writes bytes (a snapshot) as DIR/STATE_STORE_FILE atomically (temporary file, fsync, rename),
 * creating DIR 0700 when missing. Call before state_store_open; the bytes are checked there. */
state_err state_store_install(const char *dir, const uint8_t *p, size_t len);
#endif
