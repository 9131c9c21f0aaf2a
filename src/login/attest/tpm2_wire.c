/* attest/tpm2_wire: TPM 2.0 transport (character device or swtpm socket) and the marshalling of
 * the handful of commands the tpm2 provider sends. Big-endian, sizes checked on every read;
 * responses never read past their header's size. Never holds a secret (empty-password sessions). */
#include "login/attest/tpm2_wire.h"
#include "login/attest/attest_limits.h"
#include "common/reader.h"
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
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

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
#define CC_Create          0x00000153u
#define CC_Load            0x00000157u
#define CC_Unseal          0x0000015Eu
#define CC_StartAuthSession 0x00000176u
#define CC_PolicyPCR       0x0000017Fu
#define CC_NV_DefineSpace  0x0000012Au
#define CC_NV_Increment    0x00000134u
#define RH_NULL            0x40000007u

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
            uint32_t sz = get_be32(rsp + 2);
            if (sz < 10 || sz > cap)
                return TPM2W_ERR_PROTO;
            want = sz;
            if (got > want)
                return TPM2W_ERR_PROTO;
        }
    }
    uint16_t tag = get_be16(rsp);
    if (tag != ST_NO_SESSIONS && tag != ST_SESSIONS)
        return TPM2W_ERR_PROTO;
    *rsplen = got;
    c->last_rc = get_be32(rsp + 6);
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
static void put16(struct wbuf *b, uint16_t v) { uint8_t t[2]; put_be16(t, v); put(b, t, 2); }
static void put32(struct wbuf *b, uint32_t v) { uint8_t t[4]; put_be32(t, v); put(b, t, 4); }
static void put2b(struct wbuf *b, const uint8_t *d, size_t n)
{
    if (n > 0xFFFF) { b->err = 1; return; }
    put16(b, (uint16_t)n);
    put(b, d, n);
}
static void set32(struct wbuf *b, size_t at, uint32_t v)
{
    if (b->err || at + 4 > b->len) { b->err = 1; return; }
    put_be32(b->p + at, v);
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

/* A TPM2B's bytes (borrowed); *n its size. */
static const uint8_t *get2b(struct rd *r, size_t *n)
{
    *n = rd_be16(r);
    return rd_take(r, *n);
}

/* Sends the command in c->cmd and sets *r to the response parameters: after the header, the
 * nhandles response handles (written to handles) and, for a sessions response, parameterSize. */
static tpm2w_err cmd_send(struct tpm2w_conn *c, struct wbuf *b, int nhandles, uint32_t *handles,
                          struct rd *r)
{
    if (b->err)
        return TPM2W_ERR_INVAL;
    set32(b, 2, (uint32_t)b->len);
    size_t rl;
    tpm2w_err e = tpm2w_transact(c, b->p, b->len, c->rsp, sizeof c->rsp, &rl);
    if (e)
        return e;
    *r = rd_init(c->rsp + 10, rl - 10);
    for (int i = 0; i < nhandles; i++) {
        uint32_t h = rd_be32(r);
        if (handles)
            handles[i] = h;
    }
    if (get_be16(c->rsp) == ST_SESSIONS) {
        uint32_t psize = rd_be32(r);
        if (r->bad || psize > r->left)
            return TPM2W_ERR_PROTO;
        r->left = psize;   /* ignore the (empty-password) auth response area */
    }
    return r->bad ? TPM2W_ERR_PROTO : TPM2W_OK;
}

/* ---- commands ---------------------------------------------------------------------------- */

tpm2w_err tpm2w_get_manufacturer(struct tpm2w_conn *c, uint32_t *manufacturer)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 0, CC_GetCapability);
    put32(&b, CAP_TPM_PROPERTIES);
    put32(&b, PT_MANUFACTURER);
    put32(&b, 1);
    tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
    if (e)
        return e;
    rd_u8(&r);                              /* moreData */
    uint32_t cap = rd_be32(&r), count = rd_be32(&r);
    uint32_t prop = rd_be32(&r), val = rd_be32(&r);
    if (r.bad || cap != CAP_TPM_PROPERTIES || count < 1 || prop != PT_MANUFACTURER)
        return TPM2W_ERR_PROTO;
    *manufacturer = val;
    return TPM2W_OK;
}

tpm2w_err tpm2w_nv_read_public(struct tpm2w_conn *c, uint32_t index, uint32_t *attrs, uint16_t *size)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 0, CC_NV_ReadPublic);
    put32(&b, index);
    tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
    if (e)
        return e;
    size_t n;
    const uint8_t *pub = get2b(&r, &n);     /* TPM2B_NV_PUBLIC */
    if (r.bad || n < 14)
        return TPM2W_ERR_PROTO;
    struct rd p = rd_init(pub, n);
    uint32_t idx = rd_be32(&p);
    rd_be16(&p);                              /* nameAlg */
    *attrs = rd_be32(&p);
    size_t pl;
    get2b(&p, &pl);                         /* authPolicy */
    *size = rd_be16(&p);
    if (p.bad || idx != index)
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
    if (attrs & TPM2_NV_OWNERREAD)
        auth = TPM2_RH_OWNER;
    else if (attrs & TPM2_NV_AUTHREAD)
        auth = index;
    else
        return TPM2W_ERR_INVAL;             /* platform-only read: not ours to read */
    size_t off = 0;
    while (off < size) {
        uint16_t chunk = (uint16_t)(size - off > ATTEST_TPM_NV_CHUNK ? ATTEST_TPM_NV_CHUNK : size - off);
        struct wbuf b; struct rd r;
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
        if (r.bad || n != chunk)
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
    struct wbuf b; struct rd r;
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
    if (r.bad)
        return TPM2W_ERR_PROTO;
    if (n > pubcap)
        return TPM2W_ERR_INVAL;
    memcpy(pub, p, n);
    *publen = n;
    return TPM2W_OK;
}

tpm2w_err tpm2w_flush(struct tpm2w_conn *c, uint32_t handle)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 0, CC_FlushContext);
    put32(&b, handle);
    return cmd_send(c, &b, 0, NULL, &r);
}

static void put_sha256_selection(struct wbuf *b, uint32_t mask)
{
    put32(b, 1);                    /* TPML_PCR_SELECTION.count */
    put16(b, TPM2_ALG_SHA256);
    put8(b, 3);                     /* sizeofSelect: PCRs 0-23 */
    put8(b, (uint8_t)mask);
    put8(b, (uint8_t)(mask >> 8));
    put8(b, (uint8_t)(mask >> 16));
}

/* Reads a TPML_PCR_SELECTION holding at most one bank; returns its hash and mask. */
static int get_selection(struct rd *r, uint16_t *hash, uint32_t *mask)
{
    uint32_t count = rd_be32(r);
    *hash = TPM2_ALG_NULL;
    *mask = 0;
    if (r->bad || count > 1)
        return -1;
    if (count == 0)
        return 0;
    *hash = rd_be16(r);
    uint8_t sz = rd_u8(r);
    const uint8_t *sel = rd_take(r, sz);
    if (r->bad || sz > 4)
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
        struct wbuf b; struct rd r;
        cmd_begin(c, &b, 0, CC_PCR_Read);
        put_sha256_selection(&b, left);
        tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
        if (e)
            return e;
        *update_counter = rd_be32(&r);
        uint16_t hash;
        uint32_t got;
        if (get_selection(&r, &hash, &got) != 0)
            return TPM2W_ERR_PROTO;
        if (got == 0 || (got & ~left) || hash != TPM2_ALG_SHA256)
            return TPM2W_ERR_PROTO;     /* bank not allocated, or an answer we did not ask for */
        uint32_t ndig = rd_be32(&r);
        for (int i = 0; i < 24; i++) {
            if (!(got & (1u << i)))
                continue;
            if (ndig-- == 0)
                return TPM2W_ERR_PROTO;
            size_t n;
            const uint8_t *d = get2b(&r, &n);
            if (r.bad || n != 32)
                return TPM2W_ERR_PROTO;
            memcpy(pcrs[i], d, 32);
        }
        if (r.bad || ndig != 0)
            return TPM2W_ERR_PROTO;
        left &= ~got;
    }
    return left ? TPM2W_ERR_PROTO : TPM2W_OK;
}

tpm2w_err tpm2w_quote_sha256(struct tpm2w_conn *c, uint32_t key, const uint8_t *qual, size_t qual_len,
                             uint32_t mask, uint8_t *attest, size_t acap, size_t *alen,
                             uint8_t *sig, size_t scap, size_t *slen)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 1, CC_Quote);
    put32(&b, key);
    put_pw_session(&b);
    put2b(&b, qual, qual_len);
    put16(&b, TPM2_ALG_NULL);     /* inScheme: the key's own */
    put_sha256_selection(&b, mask);
    tpm2w_err e = cmd_send(c, &b, 0, NULL, &r);
    if (e)
        return e;
    size_t n;
    const uint8_t *q = get2b(&r, &n);
    if (r.bad)
        return TPM2W_ERR_PROTO;
    if (n > acap)
        return TPM2W_ERR_INVAL;
    memcpy(attest, q, n);
    *alen = n;
    /* the rest of the parameter area is the TPMT_SIGNATURE */
    size_t sl = r.left;
    if (sl < 4)
        return TPM2W_ERR_PROTO;
    if (sl > scap)
        return TPM2W_ERR_INVAL;
    memcpy(sig, r.p, sl);
    *slen = sl;
    return TPM2W_OK;
}

/* ---- sealing (state_seal's TPM backend) --------------------------------------------------- */

/* The response buffer may hold an unsealed key: wiped after every sealing command. */
static void wipe_rsp(struct tpm2w_conn *c) { OPENSSL_cleanse(c->rsp, sizeof c->rsp); OPENSSL_cleanse(c->cmd, sizeof c->cmd); }

static void put_selection_mask(struct wbuf *b, uint32_t mask) { put_sha256_selection(b, mask); }

int tpm2w_policy_pcr_digest(uint32_t mask, const uint8_t pcrs[24][32], uint8_t out[32])
{
    uint8_t sel[16], cat[24 * 32];
    struct wbuf b = { sel, 0, sizeof sel, 0 };
    put_selection_mask(&b, mask);
    size_t n = 0;
    for (int i = 0; i < 24; i++)
        if (mask & (1u << i)) {
            memcpy(cat + n, pcrs[i], 32);
            n += 32;
        }
    uint8_t pcr_digest[32], cc[4];
    put_be32(cc, CC_PolicyPCR);
    unsigned int l = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t zero[32] = {0};
    int ok = !b.err && ctx && EVP_Digest(cat, n, pcr_digest, &l, EVP_sha256(), NULL) &&
             EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, zero, 32) &&
             EVP_DigestUpdate(ctx, cc, 4) && EVP_DigestUpdate(ctx, sel, b.len) &&
             EVP_DigestUpdate(ctx, pcr_digest, 32) && EVP_DigestFinal_ex(ctx, out, &l);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

size_t tpm2w_storage_template_ecc_p256(uint8_t *out, size_t cap)
{
    struct wbuf b = { out, 0, cap, 0 };
    put16(&b, TPM2_ALG_ECC);
    put16(&b, TPM2_ALG_SHA256);
    /* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | noDA | restricted | decrypt */
    put32(&b, 0x00000002u | 0x00000010u | 0x00000020u | 0x00000040u | 0x00000400u | 0x00010000u | 0x00020000u);
    put16(&b, 0);                           /* authPolicy */
    put16(&b, 0x0006);                      /* symmetric: AES */
    put16(&b, 128);
    put16(&b, 0x0043);                      /* CFB */
    put16(&b, TPM2_ALG_NULL);              /* scheme */
    put16(&b, TPM2_ECC_NIST_P256);
    put16(&b, TPM2_ALG_NULL);              /* kdf */
    put16(&b, 0);
    put16(&b, 0);
    return b.err ? 0 : b.len;
}

tpm2w_err tpm2w_create_sealed(struct tpm2w_conn *c, uint32_t parent, const uint8_t policy[32],
                              const uint8_t *data, size_t data_len, uint8_t *priv, size_t privcap,
                              size_t *privlen, uint8_t *pub, size_t pubcap, size_t *publen)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 1, CC_Create);
    put32(&b, parent);
    put_pw_session(&b);
    put16(&b, (uint16_t)(4 + data_len));   /* TPM2B_SENSITIVE_CREATE: empty userAuth, the data */
    put16(&b, 0);
    put2b(&b, data, data_len);
    uint8_t tmpl[64];
    struct wbuf t = { tmpl, 0, sizeof tmpl, 0 };
    put16(&t, 0x0008);                      /* TPM_ALG_KEYEDHASH: a sealed data object */
    put16(&t, TPM2_ALG_SHA256);
    put32(&t, 0x00000002u | 0x00000010u);  /* fixedTPM | fixedParent; no userWithAuth: policy only */
    put2b(&t, policy, 32);
    put16(&t, TPM2_ALG_NULL);              /* keyedHash scheme */
    put16(&t, 0);                           /* unique */
    put2b(&b, tmpl, t.err ? 0 : t.len);
    put16(&b, 0);                           /* outsideInfo */
    put32(&b, 0);                           /* creationPCR */
    tpm2w_err e = t.err ? TPM2W_ERR_INVAL : cmd_send(c, &b, 0, NULL, &r);
    if (!e) {
        size_t n1, n2;
        const uint8_t *p1 = get2b(&r, &n1), *p2 = get2b(&r, &n2);
        if (r.bad)
            e = TPM2W_ERR_PROTO;
        else if (n1 > privcap || n2 > pubcap)
            e = TPM2W_ERR_INVAL;
        else {
            memcpy(priv, p1, n1); *privlen = n1;
            memcpy(pub, p2, n2); *publen = n2;
        }
    }
    wipe_rsp(c);
    return e;
}

tpm2w_err tpm2w_load(struct tpm2w_conn *c, uint32_t parent, const uint8_t *priv, size_t privlen,
                     const uint8_t *pub, size_t publen, uint32_t *handle)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 1, CC_Load);
    put32(&b, parent);
    put_pw_session(&b);
    put2b(&b, priv, privlen);
    put2b(&b, pub, publen);
    return cmd_send(c, &b, 1, handle, &r);
}

tpm2w_err tpm2w_unseal_pcr(struct tpm2w_conn *c, uint32_t item, uint32_t mask, uint8_t *out, size_t cap,
                           size_t *len)
{
    struct wbuf b; struct rd r;
    uint32_t session = 0;
    uint8_t nonce[32];
    if (RAND_bytes(nonce, sizeof nonce) != 1)
        return TPM2W_ERR_CRYPTO;
    cmd_begin(c, &b, 0, CC_StartAuthSession);
    put32(&b, RH_NULL);                     /* tpmKey: unsalted */
    put32(&b, RH_NULL);                     /* bind: unbound */
    put2b(&b, nonce, sizeof nonce);
    put16(&b, 0);                           /* encryptedSalt */
    put8(&b, 0x01);                         /* TPM_SE_POLICY */
    put16(&b, TPM2_ALG_NULL);              /* symmetric */
    put16(&b, TPM2_ALG_SHA256);
    tpm2w_err e = cmd_send(c, &b, 1, &session, &r);
    if (e)
        return e;
    cmd_begin(c, &b, 0, CC_PolicyPCR);
    put32(&b, session);
    put16(&b, 0);                           /* pcrDigest: the TPM uses the current values */
    put_sha256_selection(&b, mask);
    e = cmd_send(c, &b, 0, NULL, &r);
    if (!e) {
        cmd_begin(c, &b, 1, CC_Unseal);
        put32(&b, item);
        put32(&b, 9);                       /* TPMS_AUTH_COMMAND with the policy session */
        put32(&b, session);
        put16(&b, 0);
        put8(&b, 0);                        /* continueSession clear: the TPM flushes it */
        put16(&b, 0);
        e = cmd_send(c, &b, 0, NULL, &r);
        if (!e) {
            size_t n;
            const uint8_t *p = get2b(&r, &n);
            if (r.bad)
                e = TPM2W_ERR_PROTO;
            else if (n > cap)
                e = TPM2W_ERR_INVAL;
            else {
                memcpy(out, p, n);
                *len = n;
            }
        } else if (e == TPM2W_ERR_TPM) {
            uint32_t rc = c->last_rc;
            tpm2w_flush(c, session);        /* a failed command leaves the session loaded */
            c->last_rc = rc;
        }
    } else {
        uint32_t rc = c->last_rc;
        tpm2w_flush(c, session);
        c->last_rc = rc;
    }
    wipe_rsp(c);
    return e;
}

tpm2w_err tpm2w_nv_define_counter(struct tpm2w_conn *c, uint32_t index)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 1, CC_NV_DefineSpace);
    put32(&b, TPM2_RH_OWNER);
    put_pw_session(&b);
    put16(&b, 0);                           /* auth: empty */
    put16(&b, 14);                          /* TPM2B_NV_PUBLIC */
    put32(&b, index);
    put16(&b, TPM2_ALG_SHA256);
    /* TPM_NT_COUNTER | AUTHWRITE | AUTHREAD | NO_DA */
    put32(&b, 0x00000010u | 0x00000004u | 0x00040000u | 0x02000000u);
    put16(&b, 0);                           /* authPolicy */
    put16(&b, 8);                           /* dataSize */
    return cmd_send(c, &b, 0, NULL, &r);
}

tpm2w_err tpm2w_nv_increment(struct tpm2w_conn *c, uint32_t index)
{
    struct wbuf b; struct rd r;
    cmd_begin(c, &b, 1, CC_NV_Increment);
    put32(&b, index);
    put32(&b, index);
    put_pw_session(&b);
    return cmd_send(c, &b, 0, NULL, &r);
}

/* ---- structures -------------------------------------------------------------------------- */

size_t tpm2w_ak_template_ecc_p256(uint8_t *out, size_t cap)
{
    struct wbuf b = { out, 0, cap, 0 };
    put16(&b, TPM2_ALG_ECC);
    put16(&b, TPM2_ALG_SHA256);            /* nameAlg */
    /* fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | restricted | sign */
    put32(&b, 0x00000002u | 0x00000010u | 0x00000020u | 0x00000040u | 0x00010000u | 0x00040000u);
    put16(&b, 0);                           /* authPolicy */
    put16(&b, TPM2_ALG_NULL);              /* symmetric */
    put16(&b, TPM2_ALG_ECDSA);             /* scheme */
    put16(&b, TPM2_ALG_SHA256);
    put16(&b, TPM2_ECC_NIST_P256);
    put16(&b, TPM2_ALG_NULL);              /* kdf */
    put16(&b, 0);                           /* unique.x */
    put16(&b, 0);                           /* unique.y */
    return b.err ? 0 : b.len;
}
