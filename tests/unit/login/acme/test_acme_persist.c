/* Unit tests for acme_persist: the saved ACME state round-trips (account key, URL, ledgers, TLS
 * key and chain), and anything malformed, truncated or of another version is refused whole. */
#include "test.h"
#include "login/acme/acme_keys.h"
#include "login/acme/acme_persist.h"
#include <openssl/x509v3.h>

static X509 *self_signed(EVP_PKEY *k, const char *cn)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    return x;
}

static struct acme_saved sample(void)
{
    struct acme_saved s = {0};
    s.directory = strdup("https://ca.example/dir");
    s.domain = strdup("login.example");
    s.account_key = acme_keys_new_tls_key();
    s.kid = strdup("https://ca.example/acct/1");
    acme_ledger_add(&s.new_accounts, 1000);
    acme_ledger_add(&s.new_certs, 2000);
    acme_ledger_add(&s.new_certs, 3000);
    s.tls_key = acme_keys_new_tls_key();
    s.leaf = self_signed(s.tls_key, "login.example");
    s.chain = sk_X509_new_null();
    EVP_PKEY *ik = acme_keys_new_tls_key();
    sk_X509_push(s.chain, self_signed(ik, "intermediate"));
    EVP_PKEY_free(ik);
    return s;
}

TEST(roundtrip_keeps_every_field)
{
    struct acme_saved s = sample(), d;
    char *enc = acme_saved_encode(&s);
    CHECK(enc != NULL);
    CHECK(acme_saved_decode(enc, strlen(enc), &d) == 0);
    CHECK_STR(d.directory, s.directory);
    CHECK_STR(d.domain, s.domain);
    CHECK_STR(d.kid, s.kid);
    CHECK(EVP_PKEY_eq(d.account_key, s.account_key) == 1);
    CHECK(EVP_PKEY_eq(d.tls_key, s.tls_key) == 1);
    CHECK(d.leaf && X509_cmp(d.leaf, s.leaf) == 0);
    CHECK(d.chain && sk_X509_num(d.chain) == 1 && X509_cmp(sk_X509_value(d.chain, 0), sk_X509_value(s.chain, 0)) == 0);
    CHECK(d.new_accounts.n == 1 && d.new_accounts.at[0] == 1000);
    CHECK(d.new_certs.n == 2 && d.new_certs.at[1] == 3000 && d.failed_validations.n == 0);
    acme_saved_clear(&d);
    /* without a certificate */
    EVP_PKEY_free(s.tls_key);
    s.tls_key = NULL;
    free(enc);
    enc = acme_saved_encode(&s);
    CHECK(enc && acme_saved_decode(enc, strlen(enc), &d) == 0 && !d.leaf && !d.tls_key);
    acme_saved_clear(&d);
    free(enc);
    acme_saved_clear(&s);
}

TEST(malformed_is_refused_whole)
{
    struct acme_saved s = sample(), d;
    char *enc = acme_saved_encode(&s);
    size_t n = strlen(enc);
    for (size_t cut = 0; cut < n; cut += n / 50 + 1) {
        CHECK(acme_saved_decode(enc, cut, &d) == -1);
        CHECK(!d.account_key && !d.leaf && !d.directory);
    }
    char *v2 = strdup(enc);
    char *p = strstr(v2, "\"v\":1");
    if (p) p[4] = '2';
    CHECK(p && acme_saved_decode(v2, strlen(v2), &d) == -1);
    free(v2);
    const char *bad[] = {"", "[]", "{\"v\":1}", "{\"v\":1,\"directory\":\"x\",\"domain\":\"y\",\"account_key\":\"nope\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(acme_saved_decode(bad[i], strlen(bad[i]), &d) == -1);
    free(enc);
    acme_saved_clear(&s);
}

int main(void)
{
    RUN(roundtrip_keeps_every_field);
    RUN(malformed_is_refused_whole);
    return test_done();
}
