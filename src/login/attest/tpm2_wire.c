/* attest/tpm2_wire: TPM 2.0 transport (character device or swtpm socket) and the marshalling of
 * the handful of commands the tpm2 provider sends. Big-endian, sizes checked on every read;
 * responses never read past their header's size. Never holds a secret (empty-password sessions). */
#include "login/attest/tpm2_wire.h"
#include "login/attest/attest_limits.h"
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#define ST_NO_SESSIONS 0x8001u
#define ST_SESSIONS    0x8002u
#define RS_PW          0x40000009u
#define CC_NV_Read       0x0000014Eu
#define CC_NV_ReadPublic 0x00000169u
#define CC_CreatePrimary 0x00000131u
#define CC_Quote         0x00000158u
#define CC_PCR_Read      0x0000017Eu
#define CC_FlushContext  0x00000165u
#define CC_GetCapability 0x0000017Au
#define CAP_TPM_PROPERTIES 0x00000006u
#define PT_MANUFACTURER    0x00000105u

struct tpm2w_conn {
    int      fd;          /* owned */
    int      is_device;   /* one read() returns the whole response */
    uint32_t last_rc;
    uint8_t  cmd[ATTEST_TPM_BUF_MAX];
    uint8_t  rsp[ATTEST_TPM_BUF_MAX];
};

/* ---- transport --------------------------------------------------------------------------- */

static int connect_unix(const char *path)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof sa.sun_path)
        return -1;
    memcpy(sa.sun_path, path, n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *hostport)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || colon[1] == 0)
        return -1;
    char host[256];
    size_t hl = (size_t)(colon - hostport);
    if (hl >= sizeof host)
        return -1;
    memcpy(host, hostport, hl);
    host[hl] = 0;
    struct addrinfo hints, *res = NULL, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

tpm2w_err tpm2w_open(const char *spec, struct tpm2w_conn **out)
{
    *out = NULL;
    if (!spec || !*spec)
        return TPM2W_ERR_INVAL;
    struct tpm2w_conn *c = calloc(1, sizeof *c);
    if (!c)
        return TPM2W_ERR_NOMEM;
    if (strncmp(spec, "unix:", 5) == 0) {
        c->fd = connect_unix(spec + 5);
    } else if (strncmp(spec, "tcp:", 4) == 0) {
        c->fd = connect_tcp(spec + 4);
    } else {
        c->fd = open(spec, O_RDWR | O_CLOEXEC);
        c->is_device = 1;
    }
    if (c->fd < 0) {
        free(c);
        return TPM2W_ERR_IO;
    }
    *out = c;
    return TPM2W_OK;
}

void tpm2w_close(struct tpm2w_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

uint32_t tpm2w_last_rc(const struct tpm2w_conn *c) { return c->last_rc; }

int tpm2w_rc_is_handle(uint32_t rc)
{
    /* format-one codes carry the handle/parameter number in bits 8-11: mask them off */
    return (rc & 0x80u) && (rc & 0x3Fu) == (TPM2W_RC_HANDLE_BASE & 0x3Fu);
}

static long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, long deadline)
{
    for (;;) {
        long left = deadline - ms_now();
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = fd, .events = ev };
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static tpm2w_err transact_once(struct tpm2w_conn *c, const uint8_t *cmd, size_t cmdlen,
                               uint8_t *rsp, size_t cap, size_t *rsplen)
{
    long deadline = ms_now() + ATTEST_TPM_TIMEOUT_MS;
    size_t off = 0;
    *rsplen = 0;
    while (off < cmdlen) {
        if (wait_fd(c->fd, POLLOUT, deadline) != 0)
            return TPM2W_ERR_IO;
        /* a socket peer that went away must give EPIPE, not SIGPIPE */
        ssize_t w = c->is_device ? write(c->fd, cmd + off, cmdlen - off)
                                 : send(c->fd, cmd + off, cmdlen - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return TPM2W_ERR_IO;
        off += (size_t)w;
    }
    size_t got = 0, want = 10;
    while (got < want) {
        if (wait_fd(c->fd, POLLIN, deadline) != 0)
            return TPM2W_ERR_IO;
        /* the kernel device hands the whole response to one read; a socket may split it */
        ssize_t r = read(c->fd, rsp + got, c->is_device ? cap - got : want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return TPM2W_ERR_IO;
        got += (size_t)r;
        if (want == 10 && got >= 10) {
            uint32_t sz = be32(rsp + 2);
            if (sz < 10 || sz > cap)
                return TPM2W_ERR_PROTO;
            want = sz;
            if (got > want)
                return TPM2W_ERR_PROTO;
        }
    }
    uint16_t tag = be16(rsp);
    if (tag != ST_NO_SESSIONS && tag != ST_SESSIONS)
        return TPM2W_ERR_PROTO;
    *rsplen = got;
    c->last_rc = be32(rsp + 6);
    return c->last_rc ? TPM2W_ERR_TPM : TPM2W_OK;
}

/* TPM_RC_RETRY, TPM_RC_YIELDED, TPM_RC_TESTING: the TPM asks for the same command again. */
static int rc_is_retry(uint32_t rc) { return rc == 0x922u || rc == 0x908u || rc == 0x90Au; }

tpm2w_err tpm2w_transact(struct tpm2w_conn *c, const uint8_t *cmd, size_t cmdlen,
                         uint8_t *rsp, size_t cap, size_t *rsplen)
{
    tpm2w_err e = TPM2W_ERR_IO;
    for (int i = 0; i < ATTEST_TPM_RETRY_TRIES; i++) {
        e = transact_once(c, cmd, cmdlen, rsp, cap, rsplen);
        if (e != TPM2W_ERR_TPM || !rc_is_retry(c->last_rc))
            break;
        struct timespec ts = { 0, ATTEST_TPM_RETRY_WAIT_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    return e;
}

/* ---- marshalling ------------------------------------------------------------------------- */

struct wbuf { uint8_t *p; size_t len, cap; int err; };

static void put(struct wbuf *b, const void *d, size_t n)
{
    if (b->err || n > b->cap - b->len) { b->err = 1; return; }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
static void put8(struct wbuf *b, uint8_t v) { put(b, &v, 1); }
static void put16(struct wbuf *b, uint16_t v) { uint8_t t[2] = { (uint8_t)(v >> 8), (uint8_t)v }; put(b, t, 2); }
static void put32(struct wbuf *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(b, t, 4);
}
static void put2b(struct wbuf *b, const uint8_t *d, size_t n)
{
    if (n > 0xFFFF) { b->err = 1; return; }
    put16(b, (uint16_t)n);
    put(b, d, n);
}
static void set32(struct wbuf *b, size_t at, uint32_t v)
{
    if (b->err || at + 4 > b->len) { b->err = 1; return; }
    b->p[at] = (uint8_t)(v >> 24); b->p[at + 1] = (uint8_t)(v >> 16);
    b->p[at + 2] = (uint8_t)(v >> 8); b->p[at + 3] = (uint8_t)v;
}

static void cmd_begin(struct tpm2w_conn *c, struct wbuf *b, int sessions, uint32_t cc)
{
    b->p = c->cmd; b->len = 0; b->cap = sizeof c->cmd; b->err = 0;
    put16(b, sessions ? ST_SESSIONS : ST_NO_SESSIONS);
    put32(b, 0);   /* size, set by cmd_send */
    put32(b, cc);
}

/* One empty-password session (TPMS_AUTH_COMMAND for TPM_RS_PW), after the handles. */
static void put_pw_session(struct wbuf *b)
{
    put32(b, 9);          /* authorizationSize */
    put32(b, RS_PW);
    put16(b, 0);          /* nonce */
    put8(b, 0);           /* sessionAttributes */
    put16(b, 0);          /* hmac = empty password */
}

struct rbuf { const uint8_t *p; size_t len, off; int err; };

static const uint8_t *get(struct rbuf *r, size_t n)
{
    if (r->err || n > r->len - r->off) { r->err = 1; return NULL; }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}
static uint8_t get8(struct rbuf *r) { const uint8_t *p = get(r, 1); return p ? p[0] : 0; }
static uint16_t get16(struct rbuf *r) { const uint8_t *p = get(r, 2); return p ? be16(p) : 0; }
static uint32_t get32(struct rbuf *r) { const uint8_t *p = get(r, 4); return p ? be32(p) : 0; }
static uint64_t get64(struct rbuf *r)
{
    const uint8_t *p = get(r, 8);
    return p ? (uint64_t)be32(p) << 32 | be32(p + 4) : 0;
}
static const uint8_t *get2b(struct rbuf *r, size_t *n)
{
    *n = get16(r);
    return get(r, *n);
}

/* Sends the command in c->cmd and sets *r to the response parameters: after the header, the
 * nhandles response handles (written to handles) and, for a sessions response, parameterSize. */
static tpm2w_err cmd_send(struct tpm2w_conn *c, struct wbuf *b, int nhandles, uint32_t *handles,
                          struct rbuf *r)
{
    if (b->err)
        return TPM2W_ERR_INVAL;
    set32(b, 2, (uint32_t)b->len);
    size_t rl;
    tpm2w_err e = tpm2w_transact(c, b->p, b->len, c->rsp, sizeof c->rsp, &rl);
    if (e)
        return e;
    r->p = c->rsp; r->len = rl; r->off = 10; r->err = 0;
    for (int i = 0; i < nhandles; i++) {
        uint32_t h = get32(r);
        if (handles)
            handles[i] = h;
    }
    if (be16(c->rsp) == ST_SESSIONS) {
        uint32_t psize = get32(r);
        if (r->err || psize > r->len - r->off)
            return TPM2W_ERR_PROTO;
        r->len = r->off + psize;   /* ignore the (empty-password) auth response area */
    }
    return r->err ? TPM2W_ERR_PROTO : TPM2W_OK;
}

/* ---- commands ---------------------------------------------------------------------------- */

tpm2w_err tpm2w_get_manufacturer(struct tpm2w_conn *c, uint32_t *manufacturer)
{
    struct wbuf b; struct rbuf r;
    cmd_begin(c, &b, 0, CC_GetCapability);
    put32(&b, CAP_TPM_PROPERTIES);
    put32(&b, PT_MANUFACTURER);
    put32(&b, 1);
    tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
    if (e)
        return e;
    get8(&r);                              /* moreData */
    uint32_t cap = get32(&r), count = get32(&r);
    uint32_t prop = get32(&r), val = get32(&r);
    if (r.err || cap != CAP_TPM_PROPERTIES || count < 1 || prop != PT_MANUFACTURER)
        return TPM2W_ERR_PROTO;
    *manufacturer = val;
    return TPM2W_OK;
}

tpm2w_err tpm2w_nv_read_public(struct tpm2w_conn *c, uint32_t index, uint32_t *attrs, uint16_t *size)
{
    struct wbuf b; struct rbuf r;
    cmd_begin(c, &b, 0, CC_NV_ReadPublic);
    put32(&b, index);
    tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
    if (e)
        return e;
    size_t n;
    const uint8_t *pub = get2b(&r, &n);     /* TPM2B_NV_PUBLIC */
    if (r.err || n < 14)
        return TPM2W_ERR_PROTO;
    struct rbuf p = { pub, n, 0, 0 };
    uint32_t idx = get32(&p);
    get16(&p);                              /* nameAlg */
    *attrs = get32(&p);
    size_t pl;
    get2b(&p, &pl);                         /* authPolicy */
    *size = get16(&p);
    if (p.err || idx != index)
        return TPM2W_ERR_PROTO;
    return TPM2W_OK;
}

tpm2w_err tpm2w_nv_read_all(struct tpm2w_conn *c, uint32_t index, uint8_t *out, size_t cap, size_t *len)
{
    uint32_t attrs;
    uint16_t size;
    *len = 0;
    tpm2w_err e = tpm2w_nv_read_public(c, index, &attrs, &size);
    if (e)
        return e;
    if (size > cap)
        return TPM2W_ERR_INVAL;
    uint32_t auth;
    if (attrs & TPM2W_NV_OWNERREAD)
        auth = TPM2W_RH_OWNER;
    else if (attrs & TPM2W_NV_AUTHREAD)
        auth = index;
    else
        return TPM2W_ERR_INVAL;             /* platform-only read: not ours to read */
    size_t off = 0;
    while (off < size) {
        uint16_t chunk = (uint16_t)(size - off > ATTEST_TPM_NV_CHUNK ? ATTEST_TPM_NV_CHUNK : size - off);
        struct wbuf b; struct rbuf r;
        cmd_begin(c, &b, 1, CC_NV_Read);
        put32(&b, auth);
        put32(&b, index);
        put_pw_session(&b);
        put16(&b, chunk);
        put16(&b, (uint16_t)off);
        e = cmd_send(c, &b, 0, NULL, &r);
        if (e)
            return e;
        size_t n;
        const uint8_t *d = get2b(&r, &n);
        if (r.err || n != chunk)
            return TPM2W_ERR_PROTO;
        memcpy(out + off, d, n);
        off += n;
    }
    *len = size;
    return TPM2W_OK;
}

tpm2w_err tpm2w_create_primary(struct tpm2w_conn *c, uint32_t hierarchy, const uint8_t *tmpl,
                               size_t tmpl_len, uint32_t *handle, uint8_t *pub, size_t pubcap,
                               size_t *publen)
{
    struct wbuf b; struct rbuf r;
    cmd_begin(c, &b, 1, CC_CreatePrimary);
    put32(&b, hierarchy);
    put_pw_session(&b);
    put16(&b, 4);            /* TPM2B_SENSITIVE_CREATE: userAuth and data both empty */
    put16(&b, 0);
    put16(&b, 0);
    put2b(&b, tmpl, tmpl_len);   /* TPM2B_PUBLIC */
    put16(&b, 0);            /* outsideInfo */
    put32(&b, 0);            /* creationPCR: no banks */
    tpm2w_err e = cmd_send(c, &b, 1, handle, &r);
    if (e)
        return e;
    size_t n;
    const uint8_t *p = get2b(&r, &n);
    if (r.err)
        return TPM2W_ERR_PROTO;
    if (n > pubcap)
        return TPM2W_ERR_INVAL;
    memcpy(pub, p, n);
    *publen = n;
    return TPM2W_OK;
}

tpm2w_err tpm2w_flush(struct tpm2w_conn *c, uint32_t handle)
{
    struct wbuf b; struct rbuf r;
    cmd_begin(c, &b, 0, CC_FlushContext);
    put32(&b, handle);
    return cmd_send(c, &b, 0, NULL, &r);
}

static void put_sha256_selection(struct wbuf *b, uint32_t mask)
{
    put32(b, 1);                    /* TPML_PCR_SELECTION.count */
    put16(b, TPM2W_ALG_SHA256);
    put8(b, 3);                     /* sizeofSelect: PCRs 0-23 */
    put8(b, (uint8_t)mask);
    put8(b, (uint8_t)(mask >> 8));
    put8(b, (uint8_t)(mask >> 16));
}

/* Reads a TPML_PCR_SELECTION holding at most one bank; returns its hash and mask. */
static int get_selection(struct rbuf *r, uint16_t *hash, uint32_t *mask)
{
    uint32_t count = get32(r);
    *hash = TPM2W_ALG_NULL;
    *mask = 0;
    if (r->err || count > 1)
        return -1;
    if (count == 0)
        return 0;
    *hash = get16(r);
    uint8_t sz = get8(r);
    const uint8_t *sel = get(r, sz);
    if (r->err || sz > 4)
        return -1;
    for (unsigned i = 0; i < sz; i++)
        *mask |= (uint32_t)sel[i] << (8 * i);
    return 0;
}

tpm2w_err tpm2w_pcr_read_sha256(struct tpm2w_conn *c, uint32_t mask, uint8_t pcrs[24][32],
                                uint32_t *update_counter)
{
    if (mask >> 24)
        return TPM2W_ERR_INVAL;
    uint32_t left = mask;
    for (int loop = 0; left && loop < ATTEST_TPM_PCR_READ_LOOPS; loop++) {
        struct wbuf b; struct rbuf r;
        cmd_begin(c, &b, 0, CC_PCR_Read);
        put_sha256_selection(&b, left);
        tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
        if (e)
            return e;
        *update_counter = get32(&r);
        uint16_t hash;
        uint32_t got;
        if (get_selection(&r, &hash, &got) != 0)
            return TPM2W_ERR_PROTO;
        if (got == 0 || (got & ~left) || hash != TPM2W_ALG_SHA256)
            return TPM2W_ERR_PROTO;     /* bank not allocated, or an answer we did not ask for */
        uint32_t ndig = get32(&r);
        for (int i = 0; i < 24; i++) {
            if (!(got & (1u << i)))
                continue;
            if (ndig-- == 0)
                return TPM2W_ERR_PROTO;
            size_t n;
            const uint8_t *d = get2b(&r, &n);
            if (r.err || n != 32)
                return TPM2W_ERR_PROTO;
            memcpy(pcrs[i], d, 32);
        }
        if (r.err || ndig != 0)
            return TPM2W_ERR_PROTO;
        left &= ~got;
    }
    return left ? TPM2W_ERR_PROTO : TPM2W_OK;
}

tpm2w_err tpm2w_quote_sha256(struct tpm2w_conn *c, uint32_t key, const uint8_t *qual, size_t qual_len,
                             uint32_t mask, uint8_t *attest, size_t acap, size_t *alen,
                             uint8_t *sig, size_t scap, size_t *slen)
{
    struct wbuf b; struct rbuf r;
    cmd_begin(c, &b, 1, CC_Quote);
    put32(&b, key);
    put_pw_session(&b);
    put2b(&b, qual, qual_len);
    put16(&b, TPM2W_ALG_NULL);     /* inScheme: the key's own */
    put_sha256_selection(&b, mask);
    tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
    if (e)
        return e;
    size_t n;
    const uint8_t *q = get2b(&r, &n);
    if (r.err)
        return TPM2W_ERR_PROTO;
    if (n > acap)
        return TPM2W_ERR_INVAL;
    memcpy(attest, q, n);
    *alen = n;
    /* the rest of the parameter area is the TPMT_SIGNATURE */
    size_t sl = r.len - r.off;
    if (sl < 4)
        return TPM2W_ERR_PROTO;
    if (sl > scap)
        return TPM2W_ERR_INVAL;
    memcpy(sig, r.p + r.off, sl);
    *slen = sl;
    return TPM2W_OK;
}

/* ---- structures -------------------------------------------------------------------------- */

size_t tpm2w_ak_template_ecc_p256(uint8_t *out, size_t cap)
{
    struct wbuf b = { out, 0, cap, 0 };
    put16(&b, TPM2W_ALG_ECC);
    put16(&b, TPM2W_ALG_SHA256);            /* nameAlg */
    /* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign */
    put32(&b, 0x00000002u | 0x00000010u | 0x00000020u | 0x00000040u | 0x00010000u | 0x00040000u);
    put16(&b, 0);                           /* authPolicy */
    put16(&b, TPM2W_ALG_NULL);              /* symmetric */
    put16(&b, TPM2W_ALG_ECDSA);             /* scheme */
    put16(&b, TPM2W_ALG_SHA256);
    put16(&b, 0x0003);                      /* TPM_ECC_NIST_P256 */
    put16(&b, TPM2W_ALG_NULL);              /* kdf */
    put16(&b, 0);                           /* unique.x */
    put16(&b, 0);                           /* unique.y */
    return b.err ? 0 : b.len;
}

tpm2w_err tpm2w_parse_quote(const uint8_t *p, size_t len, struct tpm2w_quote_info *out)
{
    struct rbuf r = { p, len, 0, 0 };
    memset(out, 0, sizeof *out);
    if (get32(&r) != TPM2W_GENERATED_VALUE || get16(&r) != TPM2W_ST_ATTEST_QUOTE)
        return TPM2W_ERR_PROTO;
    out->signer = get2b(&r, &out->signer_len);
    out->extra = get2b(&r, &out->extra_len);
    out->clock = get64(&r);
    out->reset_count = get32(&r);
    out->restart_count = get32(&r);
    out->safe = get8(&r);
    out->firmware_version = get64(&r);
    if (get_selection(&r, &out->pcr_hash, &out->pcr_mask) != 0)
        return TPM2W_ERR_PROTO;
    out->pcr_digest = get2b(&r, &out->pcr_digest_len);
    if (r.err || r.off != len)
        return TPM2W_ERR_PROTO;
    return TPM2W_OK;
}

/* Skips a TPMT_*_SCHEME / TPMT_SYM_DEF_OBJECT: the algorithm, then its details when not NULL. */
static void skip_scheme(struct rbuf *r, int is_sym)
{
    uint16_t alg = get16(r);
    if (alg == TPM2W_ALG_NULL)
        return;
    get16(r);                /* keyBits / hashAlg */
    if (is_sym || alg == 0x001A /* ECDAA: count */)
        get16(r);            /* mode / count */
}


tpm2w_err tpm2w_public_to_pkey(const uint8_t *p, size_t len, EVP_PKEY **out)
{
    struct rbuf r = { p, len, 0, 0 };
    tpm2w_err rc = TPM2W_ERR_CRYPTO;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    uint8_t point[1 + 2 * 66];
    *out = NULL;
    uint16_t type = get16(&r);
    get16(&r);                               /* nameAlg */
    get32(&r);                               /* objectAttributes */
    size_t pl;
    get2b(&r, &pl);                          /* authPolicy */
    skip_scheme(&r, 1);
    skip_scheme(&r, 0);
    if (r.err)
        return TPM2W_ERR_PROTO;
    if (!(bld = OSSL_PARAM_BLD_new()))
        return TPM2W_ERR_NOMEM;
    const char *kt;
    if (type == TPM2W_ALG_RSA) {
        kt = "RSA";
        get16(&r);                           /* keyBits */
        uint32_t exp = get32(&r);
        size_t ml;
        const uint8_t *mod = get2b(&r, &ml);
        if (r.err || r.off != len || ml < 128) { rc = TPM2W_ERR_PROTO; goto fail; }
        if (!(n = BN_bin2bn(mod, (int)ml, NULL)) || !(e = BN_new()) || !BN_set_word(e, exp ? exp : 65537))
            goto fail;
        if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
            goto fail;
    } else if (type == TPM2W_ALG_ECC) {
        kt = "EC";
        uint16_t curve = get16(&r);
        skip_scheme(&r, 0);                  /* kdf */
        size_t xl, yl;
        const uint8_t *x = get2b(&r, &xl), *y = get2b(&r, &yl);
        const char *group;
        size_t fl;
        if (curve == 0x0003) { group = "prime256v1"; fl = 32; }
        else if (curve == 0x0004) { group = "secp384r1"; fl = 48; }
        else { rc = TPM2W_ERR_INVAL; goto fail; }
        if (r.err || r.off != len || xl != fl || yl != fl) { rc = TPM2W_ERR_PROTO; goto fail; }
        point[0] = 0x04;
        memcpy(point + 1, x, fl);
        memcpy(point + 1 + fl, y, fl);
        if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * fl))
            goto fail;
    } else {
        rc = TPM2W_ERR_INVAL;
        goto fail;
    }
    if (!(params = OSSL_PARAM_BLD_to_param(bld)) || !(ctx = EVP_PKEY_CTX_new_from_name(NULL, kt, NULL)) ||
        EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto fail;
    rc = TPM2W_OK;
fail:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return rc;
}

static const EVP_MD *md_for(uint16_t alg)
{
    switch (alg) {
    case TPM2W_ALG_SHA1:   return EVP_sha1();
    case TPM2W_ALG_SHA256: return EVP_sha256();
    case TPM2W_ALG_SHA384: return EVP_sha384();
    case TPM2W_ALG_SHA512: return EVP_sha512();
    default:               return NULL;
    }
}

tpm2w_err tpm2w_verify_signature(EVP_PKEY *key, const uint8_t *msg, size_t msg_len,
                                 const uint8_t *sig, size_t sig_len)
{
    struct rbuf r = { sig, sig_len, 0, 0 };
    uint16_t alg = get16(&r), hash = get16(&r);
    const EVP_MD *md = md_for(hash);
    unsigned char *der = NULL;
    int derlen = 0;
    ECDSA_SIG *es = NULL;
    EVP_MD_CTX *mctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    tpm2w_err rc = TPM2W_ERR_CRYPTO;
    const uint8_t *s1, *s2 = NULL;
    size_t l1, l2 = 0;
    if (r.err || !md)
        return TPM2W_ERR_INVAL;
    s1 = get2b(&r, &l1);
    if (alg == TPM2W_ALG_ECDSA)
        s2 = get2b(&r, &l2);
    if (r.err || r.off != sig_len)
        return TPM2W_ERR_PROTO;
    if (alg == TPM2W_ALG_ECDSA) {
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
            return TPM2W_ERR_INVAL;
        BIGNUM *br = BN_bin2bn(s1, (int)l1, NULL), *bs = BN_bin2bn(s2, (int)l2, NULL);
        if (!br || !bs || !(es = ECDSA_SIG_new()) || !ECDSA_SIG_set0(es, br, bs)) {
            BN_free(br);
            BN_free(bs);
            goto fail;
        }
        if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
            goto fail;
        s1 = der;
        l1 = (size_t)derlen;
    } else if (alg == TPM2W_ALG_RSASSA || alg == TPM2W_ALG_RSAPSS) {
        if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
            return TPM2W_ERR_INVAL;
    } else {
        return TPM2W_ERR_INVAL;
    }
    if (!(mctx = EVP_MD_CTX_new()) || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) <= 0)
        goto fail;
    if (alg == TPM2W_ALG_RSAPSS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0))
        goto fail;
    if (EVP_DigestVerify(mctx, s1, l1, msg, msg_len) == 1)
        rc = TPM2W_OK;
fail:
    EVP_MD_CTX_free(mctx);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    return rc;
}
