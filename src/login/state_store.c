/* state_store: header (80 bytes) = "SEALEDST" | u32 version | u32 header_len | u64 epoch |
 * id[16] | u64 generation | SHA-256 of the 48 bytes before; then records, each
 * u32 type | u32 len | check[8] | payload[len] | SHA-256(previous hash | type | len | check | payload),
 * the first "previous hash" being the header's; check = SHA-256(previous hash | type | len)[0..8], so
 * that a damaged length is told apart from a record cut short by a crash inside an append (the only
 * tail that is cut off: its result was never handed out). Integers little-endian; loading mmaps. */
#define OPENSSL_SUPPRESS_DEPRECATED   /* SHA256_CTX, as idset.c: one hash context per record */
#include "login/state_store.h"
#include "login/fault.h"
#include "login/limits.h"
#include "login/log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define MAGIC       "SEALEDST"
#define HEADER_LEN  80
#define REC_HDR     16
#define HASH_LEN    32

struct state_store {
    int fd;                          /* owned: the state file, open for appends */
    int dirfd;                       /* owned */
    struct state_meta meta;
    uint8_t chain[HASH_LEN];         /* hash of the last record (or of the header) */
    uint64_t size, base_size;
    int broken;
};

struct state_writer {
    int fd;
    uint8_t chain[HASH_LEN];
    uint64_t size;
};

const char *state_strerror(state_err e)
{
    switch (e) {
    case STATE_OK: return "ok";
    case STATE_ERR_IO: return "input/output error";
    case STATE_ERR_CORRUPT: return "the state file fails its checksums or framing";
    case STATE_ERR_VERSION: return "the state file has a format version this build does not know";
    case STATE_ERR_NOMEM: return "out of memory";
    case STATE_ERR_TOOBIG: return "the state is over its size cap";
    case STATE_ERR_BROKEN: return "an earlier write could not be undone";
    case STATE_ERR_LOCKED: return "another service process is using this state";
    }
    return "unknown";
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = v << 8 | p[i]; return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static void record_hash(const uint8_t prev[HASH_LEN], const uint8_t hdr[REC_HDR], const void *p, size_t len,
                        uint8_t out[HASH_LEN])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, prev, HASH_LEN);
    SHA256_Update(&c, hdr, REC_HDR);
    SHA256_Update(&c, p, len);
    SHA256_Final(out, &c);
}

static void header_check(const uint8_t prev[HASH_LEN], const uint8_t tl[8], uint8_t out[8])
{
    uint8_t h[HASH_LEN];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, prev, HASH_LEN);
    SHA256_Update(&c, tl, 8);
    SHA256_Final(h, &c);
    memcpy(out, h, 8);
}

static void header_encode(const struct state_meta *m, uint8_t h[HEADER_LEN])
{
    memcpy(h, MAGIC, 8);
    put32(h + 8, STATE_STORE_VERSION);
    put32(h + 12, HEADER_LEN);
    put64(h + 16, m->epoch);
    memcpy(h + 24, m->id, STATE_ID_LEN);
    put64(h + 40, m->generation);
    SHA256(h, 48, h + 48);
}

static int write_all(int fd, const void *p, size_t n, uint64_t off)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Writes one framed record at off; updates chain. */
static int put_record(int fd, uint8_t chain[HASH_LEN], uint64_t off, uint32_t type, const void *p, size_t len)
{
    uint8_t hdr[REC_HDR], h[HASH_LEN];
    put32(hdr, type);
    put32(hdr + 4, (uint32_t)len);
    header_check(chain, hdr, hdr + 8);
    record_hash(chain, hdr, p, len, h);
    if (write_all(fd, hdr, REC_HDR, off) || write_all(fd, p, len, off + REC_HDR) ||
        write_all(fd, h, HASH_LEN, off + REC_HDR + len))
        return -1;
    memcpy(chain, h, HASH_LEN);
    return 0;
}

/* Verifies the file image and feeds its records to fn. *good = bytes up to the last whole record. */
static state_err parse(const uint8_t *p, uint64_t n, struct state_meta *m, uint8_t chain[HASH_LEN], uint64_t *good,
                       state_record_fn fn, void *arg)
{
    if (n < 12 || memcmp(p, MAGIC, 8))
        return STATE_ERR_CORRUPT;
    if (get32(p + 8) != STATE_STORE_VERSION)
        return STATE_ERR_VERSION;
    uint8_t h[HASH_LEN];
    if (n < HEADER_LEN || get32(p + 12) != HEADER_LEN)
        return STATE_ERR_CORRUPT;
    SHA256(p, 48, h);
    if (CRYPTO_memcmp(h, p + 48, HASH_LEN))
        return STATE_ERR_CORRUPT;
    m->epoch = get64(p + 16);
    memcpy(m->id, p + 24, STATE_ID_LEN);
    m->generation = get64(p + 40);
    memcpy(chain, p + 48, HASH_LEN);
    uint64_t off = HEADER_LEN;
    while (off < n) {
        if (n - off < REC_HDR)
            break;   /* torn */
        uint32_t type = get32(p + off), len = get32(p + off + 4);
        uint8_t chk[8];
        header_check(chain, p + off, chk);
        if (CRYPTO_memcmp(chk, p + off + 8, 8) || len > STATE_RECORD_MAX_BYTES)
            return STATE_ERR_CORRUPT;
        if (n - off - REC_HDR < (uint64_t)len + HASH_LEN)
            break;   /* torn */
        record_hash(chain, p + off, p + off + REC_HDR, len, h);
        if (CRYPTO_memcmp(h, p + off + REC_HDR + len, HASH_LEN))
            return STATE_ERR_CORRUPT;
        memcpy(chain, h, HASH_LEN);
        if (fn(arg, type, p + off + REC_HDR, len))
            return STATE_ERR_CORRUPT;
        off += REC_HDR + len + HASH_LEN;
    }
    *good = off;
    return STATE_OK;
}

static int sync_rename(int dirfd, int fd, const char *tmp)
{
    if (fsync(fd) || renameat(dirfd, tmp, dirfd, STATE_STORE_FILE) || fsync(dirfd))
        return -1;
    return 0;
}

static state_err create_fresh(struct state_store *s)
{
    static const char tmp[] = STATE_STORE_FILE ".new";
    uint8_t h[HEADER_LEN];
    s->meta.epoch = (uint64_t)time(NULL);
    s->meta.generation = 0;
    if (RAND_bytes(s->meta.id, STATE_ID_LEN) != 1)
        return STATE_ERR_NOMEM;
    header_encode(&s->meta, h);
    int fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || FAULT("state_create") || write_all(fd, h, HEADER_LEN, 0) || sync_rename(s->dirfd, fd, tmp)) {
        log_error("state.create_failed", "errno=%d", errno);
        if (fd >= 0) {
            close(fd);
            unlinkat(s->dirfd, tmp, 0);
        }
        return STATE_ERR_IO;
    }
    s->fd = fd;
    memcpy(s->chain, h + 48, HASH_LEN);
    s->size = s->base_size = HEADER_LEN;
    return STATE_OK;
}

state_err state_store_open(const char *dir, state_record_fn fn, void *arg, unsigned lock_wait_ms,
                           struct state_store **out)
{
    *out = NULL;
    struct state_store *s = calloc(1, sizeof *s);
    if (!s)
        return STATE_ERR_NOMEM;
    s->fd = -1;
    state_err rc = STATE_ERR_IO;
    void *map = MAP_FAILED;
    struct stat st;
    if (mkdir(dir, 0700) && errno != EEXIST)
        log_warn("state.mkdir_failed", "errno=%d", errno);
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        log_error("state.open_failed", "what=dir errno=%d", errno);
        goto fail;
    }
    /* one process per state: two appending to one journal would both serve an id (and break the
     * chain). The lock is on the directory, so it survives the rename of a rewrite; the kernel
     * drops it when the process dies, however it dies. */
    for (unsigned waited = 0; flock(s->dirfd, LOCK_EX | LOCK_NB); waited += 100) {
        if (errno != EWOULDBLOCK || waited >= lock_wait_ms) {   /* e.g. a predecessor still draining */
            log_error("state.locked", "errno=%d waited_ms=%u", errno, waited);
            rc = errno == EWOULDBLOCK ? STATE_ERR_LOCKED : STATE_ERR_IO;
            goto fail;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int fd = openat(s->dirfd, STATE_STORE_FILE, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if ((rc = create_fresh(s)))
            goto fail;
        log_info("state.created", "epoch=%llu", (unsigned long long)s->meta.epoch);
        *out = s;
        return STATE_OK;
    }
    if (fd < 0 || FAULT("state_load") || fstat(fd, &st)) {
        log_error("state.open_failed", "what=file errno=%d", errno);
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    s->fd = fd;
    if ((uint64_t)st.st_size > STATE_FILE_MAX_BYTES) {
        rc = STATE_ERR_TOOBIG;
        goto fail;
    }
    if (st.st_size == 0) {
        rc = STATE_ERR_CORRUPT;
        goto fail;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        log_error("state.open_failed", "what=mmap errno=%d", errno);
        goto fail;
    }
    uint64_t good = 0;
    if ((rc = parse(map, (uint64_t)st.st_size, &s->meta, s->chain, &good, fn, arg)))
        goto fail;
    if (good < (uint64_t)st.st_size) {
        /* the process died inside an append: that record's result was never handed out */
        log_warn("state.torn_tail", "bytes=%llu", (unsigned long long)((uint64_t)st.st_size - good));
        if (ftruncate(fd, (off_t)good) || fsync(fd)) {
            log_error("state.open_failed", "what=truncate errno=%d", errno);
            rc = STATE_ERR_IO;
            goto fail;
        }
    }
    munmap(map, (size_t)st.st_size);
    s->size = s->base_size = good;
    log_info("state.loaded", "epoch=%llu generation=%llu bytes=%llu", (unsigned long long)s->meta.epoch,
             (unsigned long long)s->meta.generation, (unsigned long long)good);
    *out = s;
    return STATE_OK;
fail:
    if (map != MAP_FAILED)
        munmap(map, (size_t)st.st_size);
    if (rc == STATE_ERR_CORRUPT || rc == STATE_ERR_VERSION || rc == STATE_ERR_TOOBIG)
        log_error("state.refused", "reason=\"%s\"", state_strerror(rc));
    state_store_close(s);
    return rc;
}

void state_store_close(struct state_store *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

const struct state_meta *state_store_meta(const struct state_store *s) { return &s->meta; }
uint64_t state_store_bytes(const struct state_store *s) { return s->size; }
uint64_t state_store_base_bytes(const struct state_store *s) { return s->base_size; }

state_err state_store_append(struct state_store *s, uint32_t type, const void *ptr, size_t len)
{
    if (s->broken)
        return STATE_ERR_BROKEN;
    if (len > STATE_RECORD_MAX_BYTES || s->size + REC_HDR + len + HASH_LEN > STATE_FILE_MAX_BYTES)
        return STATE_ERR_TOOBIG;
    uint8_t chain[HASH_LEN];
    memcpy(chain, s->chain, HASH_LEN);
    if (!FAULT("state_append") && !put_record(s->fd, chain, s->size, type, ptr, len) && !fdatasync(s->fd)) {
        memcpy(s->chain, chain, HASH_LEN);
        s->size += REC_HDR + len + HASH_LEN;
        return STATE_OK;
    }
    log_error("state.append_failed", "type=%u errno=%d", type, errno);
    if (ftruncate(s->fd, (off_t)s->size) || fdatasync(s->fd)) {
        s->broken = 1;
        log_error("state.broken", "errno=%d", errno);
        return STATE_ERR_BROKEN;
    }
    return STATE_ERR_IO;
}

int state_store_put(struct state_writer *w, uint32_t type, const void *ptr, size_t len)
{
    if (len > STATE_RECORD_MAX_BYTES || put_record(w->fd, w->chain, w->size, type, ptr, len))
        return -1;
    w->size += REC_HDR + len + HASH_LEN;
    return 0;
}

state_err state_store_rewrite(struct state_store *s, state_emit_fn emit, void *arg)
{
    static const char tmp[] = STATE_STORE_FILE ".new";
    if (s->broken)
        return STATE_ERR_BROKEN;
    struct state_meta m = s->meta;
    m.generation++;
    uint8_t h[HEADER_LEN];
    header_encode(&m, h);
    struct state_writer w = {.fd = -1, .size = HEADER_LEN};
    memcpy(w.chain, h + 48, HASH_LEN);
    w.fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (w.fd < 0 || FAULT("state_rewrite") || write_all(w.fd, h, HEADER_LEN, 0) || emit(arg, &w) ||
        sync_rename(s->dirfd, w.fd, tmp)) {
        log_error("state.rewrite_failed", "errno=%d", errno);
        if (w.fd >= 0) {
            close(w.fd);
            unlinkat(s->dirfd, tmp, 0);
        }
        return STATE_ERR_IO;
    }
    close(s->fd);
    s->fd = w.fd;
    s->meta = m;
    memcpy(s->chain, w.chain, HASH_LEN);
    s->size = s->base_size = w.size;
    log_info("state.rewritten", "generation=%llu bytes=%llu", (unsigned long long)m.generation,
             (unsigned long long)w.size);
    return STATE_OK;
}

state_err state_store_snapshot(struct state_store *s, const struct state_extra *extra, size_t nextra, uint8_t **out,
                               size_t *len)
{
    *out = NULL;
    if (s->broken)
        return STATE_ERR_BROKEN;
    size_t total = (size_t)s->size;
    for (size_t i = 0; i < nextra; i++) {
        if (extra[i].len > STATE_RECORD_MAX_BYTES)
            return STATE_ERR_TOOBIG;
        total += REC_HDR + extra[i].len + HASH_LEN;
    }
    uint8_t *b = malloc(total ? total : 1);
    if (!b)
        return STATE_ERR_NOMEM;
    size_t got = 0;
    while (got < s->size) {
        ssize_t r = pread(s->fd, b + got, (size_t)s->size - got, (off_t)got);
        if (r <= 0) {
            OPENSSL_clear_free(b, total ? total : 1);
            return STATE_ERR_IO;
        }
        got += (size_t)r;
    }
    uint8_t chain[HASH_LEN];
    memcpy(chain, s->chain, HASH_LEN);
    for (size_t i = 0; i < nextra; i++) {
        uint8_t *hdr = b + got, h[HASH_LEN];
        put32(hdr, extra[i].type);
        put32(hdr + 4, (uint32_t)extra[i].len);
        header_check(chain, hdr, hdr + 8);
        record_hash(chain, hdr, extra[i].ptr, extra[i].len, h);
        memcpy(b + got + REC_HDR, extra[i].ptr, extra[i].len);
        memcpy(b + got + REC_HDR + extra[i].len, h, HASH_LEN);
        memcpy(chain, h, HASH_LEN);
        got += REC_HDR + extra[i].len + HASH_LEN;
    }
    *out = b;
    *len = total;
    return STATE_OK;
}

state_err state_store_install(const char *dir, const uint8_t *p, size_t len)
{
    static const char tmp[] = STATE_STORE_FILE ".restore";
    if (mkdir(dir, 0700) && errno != EEXIST)
        return STATE_ERR_IO;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return STATE_ERR_IO;
    int fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    state_err rc = STATE_OK;
    if (fd < 0 || FAULT("state_install") || write_all(fd, p, len, 0) || sync_rename(dirfd, fd, tmp)) {
        log_error("state.install_failed", "errno=%d", errno);
        if (fd >= 0)
            unlinkat(dirfd, tmp, 0);
        rc = STATE_ERR_IO;
    }
    if (fd >= 0)
        close(fd);
    close(dirfd);
    return rc;
}
