/* libFuzzer target: the tpm2 provider (attest/tpm2.c, attest/tpm2_wire.c) against a TPM that
 * answers with fuzzer-chosen bytes, as a hostile host's vTPM could. The input is a sequence of
 * responses, each [u16 big-endian length][bytes]; a fake TPM on a unix socket answers every command
 * with the next one and hangs up when they run out. Properties: nothing crashes or leaks, and any
 * evidence the provider hands out is consistent on its own: the quote parses, carries
 * SHA-256(REPORT_DATA), its PCR digest is the SHA-256 of the 16 listed PCRs, and its signature
 * verifies with the listed AK. The seed corpus is a recorded swtpm session. */
#include "login/attest.h"
#include "login/config.h"
#include "login/attest/providers.h"
#include "login/attest/tpm2_wire.h"
#include "common/codec.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

static const uint8_t RD[64] = { 1, 2, 3, 4, 5, 6, 7, 8 };

struct fake { int lfd; const uint8_t *p; size_t len, off; pthread_mutex_t mu; };

static int read_all(int fd, uint8_t *b, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static void *serve(void *arg)
{
    struct fake *f = arg;
    uint8_t cmd[8192];
    for (;;) {
        int c = accept(f->lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        for (;;) {
            if (read_all(c, cmd, 10) != 0)
                break;
            uint32_t sz = (uint32_t)cmd[2] << 24 | (uint32_t)cmd[3] << 16 | (uint32_t)cmd[4] << 8 | cmd[5];
            if (sz < 10 || sz > sizeof cmd || read_all(c, cmd + 10, sz - 10) != 0)
                break;
            if (f->off + 2 > f->len)
                break;
            size_t n = (size_t)f->p[f->off] << 8 | f->p[f->off + 1];
            f->off += 2;
            if (n > f->len - f->off)
                n = f->len - f->off;
            if (n && send(c, f->p + f->off, n, MSG_NOSIGNAL) < 0)
                break;
            /* a response shorter than its header says: hang up, as a stalled TPM would only
             * after the provider's 30 s I/O timeout (not worth waiting for in a fuzzer) */
            uint32_t said = n >= 6 ? (uint32_t)f->p[f->off + 2] << 24 | (uint32_t)f->p[f->off + 3] << 16 |
                                     (uint32_t)f->p[f->off + 4] << 8 | f->p[f->off + 5] : 10;
            f->off += n;
            if (n < 10 || said > n)
                break;
        }
        close(c);
        if (f->off + 2 > f->len) {
            /* out of responses: the TPM is gone, a reconnect must be refused, not hang */
            pthread_mutex_lock(&f->mu);
            close(f->lfd);
            f->lfd = -1;
            pthread_mutex_unlock(&f->mu);
            return NULL;
        }
    }
}

static void check_evidence(json_t *ev)
{
    size_t ql, sl;
    const char *q64 = json_string_value(json_object_get(ev, "quote"));
    const char *s64 = json_string_value(json_object_get(ev, "signature"));
    const char *pem = json_string_value(json_object_get(ev, "ak_pub"));
    if (!q64 || !s64 || !pem)
        abort();
    uint8_t *q = codec_b64_decode_alloc(q64, strlen(q64), &ql), *s = codec_b64_decode_alloc(s64, strlen(s64), &sl);
    struct tpm2_quote qi;
    struct tpm2_signature si;
    if (!q || !s || tpm2_quote_parse(q, ql, &qi) != TPM2_OK)
        abort();
    uint8_t want[32], d[32];
    SHA256(RD, 64, want);
    if (qi.extra_data_len != 32 || memcmp(qi.extra_data, want, 32) != 0 || qi.pcr_digest_len != 32)
        abort();
    json_t *pcrs = json_object_get(json_object_get(ev, "pcrs"), "sha256");
    SHA256_CTX c;
    SHA256_Init(&c);
    for (int i = 0; i < 16; i++) {
        char k[4];
        uint8_t v[32];
        snprintf(k, sizeof k, "%d", i);
        const char *h = json_string_value(json_object_get(pcrs, k));
        if (!h || codec_hex_decode(h, strlen(h), v, sizeof v) != 32)
            abort();
        SHA256_Update(&c, v, 32);
    }
    SHA256_Final(d, &c);
    if (memcmp(d, qi.pcr_digest, 32) != 0)
        abort();
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    if (!k || tpm2_signature_parse(s, sl, &si) != TPM2_OK || tpm2_signature_verify(k, &si, q, ql) != TPM2_OK)
        abort();
    EVP_PKEY_free(k);
    BIO_free(b);
    free(q);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], spec[80];
    snprintf(path, sizeof path, "/tmp/fuzz-tpm2-%d.sock", (int)getpid());
    unlink(path);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    struct fake f = { socket(AF_UNIX, SOCK_STREAM, 0), data, size, 0, PTHREAD_MUTEX_INITIALIZER };
    if (f.lfd < 0 || bind(f.lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(f.lfd, 4) != 0)
        abort();
    pthread_t th;
    pthread_create(&th, NULL, serve, &f);
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(spec, sizeof spec, "unix:%s", path);
    cfg.tpm_dev = spec;
    cfg.tpm_eventlog = "/nonexistent";
    void *st = NULL;
    if (attest_provider_tpm2.probe(&cfg, &st) == 1) {
        for (int i = 0; i < 2; i++) {
            json_t *ev = NULL;
            char err[256];
            if (attest_provider_tpm2.evidence(st, RD, &ev, err, sizeof err) == 0) {
                check_evidence(ev);
                if (getenv("FUZZ_TPM2_VERBOSE"))
                    fprintf(stderr, "evidence %d verified\n", i);
                json_decref(ev);
            } else if (ev) {
                abort();              /* an error must not hand out evidence */
            }
        }
        json_decref(attest_provider_tpm2.status(st));
        attest_provider_tpm2.free(st);
    }
    pthread_mutex_lock(&f.mu);
    if (f.lfd >= 0)
        shutdown(f.lfd, SHUT_RDWR);    /* wakes accept(); the thread then ends */
    pthread_mutex_unlock(&f.mu);
    pthread_join(th, NULL);
    if (f.lfd >= 0)
        close(f.lfd);
    unlink(path);
    return 0;
}
