/* Unit tests for login/tls_tickets through real in-memory TLS 1.3 handshakes with the service's
 * own context (tls.c): a ticket resumes, a ticket from one rotation ago resumes and is renewed, a
 * ticket from before two rotations gets a full handshake, tickets survive a certificate renewal,
 * and the server keeps no session cache. */
#include "test.h"
#include "login/limits.h"
#include "login/tls.h"
#include "login/tls_tickets.h"
#include <openssl/err.h>

/* One handshake over a BIO pair; the client reads once more to take the NewSessionTickets.
 * Returns the client's session (owned by the caller) and sets *reused. NULL on failure. */
static SSL_SESSION *handshake(struct tls *t, SSL_CTX *cctx, SSL_SESSION *resume, int *reused)
{
    SSL *srv = tls_ssl_new(t), *cli = SSL_new(cctx);
    BIO *bs = NULL, *bc = NULL;
    SSL_SESSION *out = NULL;
    if (!srv || !cli || !BIO_new_bio_pair(&bs, 0, &bc, 0))
        goto done;
    SSL_set_bio(srv, bs, bs);
    SSL_set_bio(cli, bc, bc);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    if (resume)
        SSL_set_session(cli, resume);
    int cdone = 0, sdone = 0;
    for (int i = 0; i < 50 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(cli);
            if (r == 1) cdone = 1;
            else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ) goto done;
        }
        if (!sdone) {
            int r = SSL_do_handshake(srv);
            if (r == 1) sdone = 1;
            else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ) goto done;
        }
    }
    if (!cdone || !sdone)
        goto done;
    /* server → client: one byte of application data after the tickets, so the read returns */
    char b = 'x';
    if (SSL_write(srv, &b, 1) != 1 || SSL_read(cli, &b, 1) != 1)
        goto done;
    *reused = SSL_session_reused(cli);
    out = SSL_get1_session(cli);
    SSL_shutdown(cli);   /* freed without close_notify, a client session is marked not resumable */
done:
    ERR_clear_error();
    SSL_free(srv);
    SSL_free(cli);
    return out;
}

/* A copy of a saved session, as `openssl s_client -sess_in` reads one from its file each time
 * (OpenSSL's client marks a TLS 1.3 session used once it has resumed with it). */
static SSL_SESSION *saved(const unsigned char *der, long len)
{
    return d2i_SSL_SESSION(NULL, &der, len);
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    return c;
}

TEST(ticket_resumes_and_server_keeps_no_cache)
{
    struct tls *t = tls_new();
    SSL_CTX *c = client_ctx();
    CHECK(t && c && tls_install_self_signed(t, "localhost", 1) == 0);
    int reused = -1;
    SSL_SESSION *s1 = handshake(t, c, NULL, &reused);
    CHECK(s1 && reused == 0);
    CHECK(s1 && SSL_SESSION_has_ticket(s1));
    CHECK(s1 && SSL_SESSION_get_ticket_lifetime_hint(s1) == TLS_SESSION_LIFETIME_S);
    struct tls_tickets_stats st;
    tls_tickets_stats(tls_tickets_of(t), &st);
    CHECK(st.sealed == TLS_TICKETS_PER_HANDSHAKE);
    SSL_SESSION *s2 = handshake(t, c, s1, &reused);
    CHECK(s2 && reused == 1);
    tls_tickets_stats(tls_tickets_of(t), &st);
    CHECK(st.key_hits == 1 && st.renewed == 0 && st.unknown_key == 0);
    /* many handshakes later the server holds no session: stateless tickets only */
    SSL *probe = tls_ssl_new(t);
    CHECK(probe && SSL_CTX_sess_number(SSL_get_SSL_CTX(probe)) == 0);
    CHECK(probe && SSL_CTX_get_session_cache_mode(SSL_get_SSL_CTX(probe)) == SSL_SESS_CACHE_OFF);
    SSL_free(probe);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_CTX_free(c);
    tls_free(t);
}

TEST(one_rotation_resumes_and_renews_two_rotations_refuse)
{
    struct tls *t = tls_new();
    SSL_CTX *c = client_ctx();
    CHECK(t && c && tls_install_self_signed(t, "localhost", 1) == 0);
    int reused = -1;
    SSL_SESSION *first = handshake(t, c, NULL, &reused);
    CHECK(first && reused == 0);
    unsigned char der[4096], *p = der;
    int dlen = first ? i2d_SSL_SESSION(first, NULL) : 0;
    CHECK(dlen > 0 && dlen <= (int)sizeof der && i2d_SSL_SESSION(first, &p) == dlen);
    SSL_SESSION *old = saved(der, dlen);
    CHECK(tls_tickets_rotate(tls_tickets_of(t)) == 0);
    SSL_SESSION *s = handshake(t, c, old, &reused);          /* previous key: still opens */
    CHECK(s && reused == 1);
    struct tls_tickets_stats st;
    tls_tickets_stats(tls_tickets_of(t), &st);
    CHECK(st.renewed == 1);
    SSL_SESSION_free(s);
    CHECK(tls_tickets_rotate(tls_tickets_of(t)) == 0);
    SSL_SESSION_free(old);
    old = saved(der, dlen);
    s = handshake(t, c, old, &reused);                        /* key wiped: full handshake */
    CHECK(s && reused == 0);
    tls_tickets_stats(tls_tickets_of(t), &st);
    CHECK(st.unknown_key == 1 && st.rotations == 2);
    /* the fresh ticket from that full handshake resumes again */
    SSL_SESSION *s2 = handshake(t, c, s, &reused);
    CHECK(s2 && reused == 1);
    SSL_SESSION_free(s);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(old);
    SSL_SESSION_free(first);
    SSL_CTX_free(c);
    tls_free(t);
}

TEST(tickets_survive_a_certificate_renewal_but_not_a_restart)
{
    struct tls *t = tls_new(), *t2 = tls_new();
    SSL_CTX *c = client_ctx();
    CHECK(t && t2 && c && tls_install_self_signed(t, "localhost", 1) == 0);
    CHECK(tls_install_self_signed(t2, "localhost", 1) == 0);
    int reused = -1;
    SSL_SESSION *s1 = handshake(t, c, NULL, &reused);
    unsigned char der[4096], *p = der;
    int dlen = s1 ? i2d_SSL_SESSION(s1, NULL) : 0;
    CHECK(dlen > 0 && dlen <= (int)sizeof der && i2d_SSL_SESSION(s1, &p) == dlen);
    SSL_SESSION *copy = saved(der, dlen);
    CHECK(tls_install_self_signed(t, "localhost", 1) == 0);   /* new SSL_CTX, same key ring */
    SSL_SESSION *s2 = handshake(t, c, s1, &reused);
    CHECK(s2 && reused == 1);
    CHECK(copy && SSL_SESSION_is_resumable(copy));
    SSL_SESSION *s3 = handshake(t2, c, copy, &reused);       /* another process: other keys */
    CHECK(s3 && reused == 0);
    struct tls_tickets_stats st;
    tls_tickets_stats(tls_tickets_of(t2), &st);
    CHECK(st.unknown_key == 1);                               /* offered, and refused */
    SSL_SESSION_free(copy);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_SESSION_free(s3);
    SSL_CTX_free(c);
    tls_free(t);
    tls_free(t2);
}

int main(void)
{
    RUN(ticket_resumes_and_server_keeps_no_cache);
    RUN(one_rotation_resumes_and_renews_two_rotations_refuse);
    RUN(tickets_survive_a_certificate_renewal_but_not_a_restart);
    return test_done();
}
