/* acme_persist: {"v":1, "directory", "domain", "account_key": PKCS#8 PEM, "kid", "ledger":
 * {"failed_validations"|"new_certs"|"new_accounts": [unix ms, ...]}, "tls_key": PEM, "chain": PEM
 * (leaf first)}. PEM through memory BIOs, wiped after use. */
#include "login/acme/acme_persist.h"
#include "login/acme/acme_parse.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

static char *key_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_secmem());
    char *out = NULL, *p;
    long n;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 && (n = BIO_get_mem_data(b, &p)) > 0 &&
        (out = malloc((size_t)n + 1))) {
        memcpy(out, p, (size_t)n);
        out[n] = 0;
    }
    BIO_free(b);
    return out;
}

static char *chain_pem(X509 *leaf, STACK_OF(X509) *chain)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL, *p;
    long n;
    int ok = b && PEM_write_bio_X509(b, leaf) == 1;
    for (int i = 0; ok && chain && i < sk_X509_num(chain); i++)
        ok = PEM_write_bio_X509(b, sk_X509_value(chain, i)) == 1;
    if (ok && (n = BIO_get_mem_data(b, &p)) > 0 && (out = malloc((size_t)n + 1))) {
        memcpy(out, p, (size_t)n);
        out[n] = 0;
    }
    BIO_free(b);
    return out;
}

static json_t *ledger_json(const struct acme_ledger *l)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < l->n && i < ACME_LEDGER_SLOTS; i++)
        json_array_append_new(a, json_integer((json_int_t)l->at[i]));
    return a;
}

char *acme_saved_encode(const struct acme_saved *s)
{
    char *ak = s->account_key ? key_pem(s->account_key) : NULL;
    char *tk = s->tls_key && s->leaf ? key_pem(s->tls_key) : NULL;
    char *ch = s->tls_key && s->leaf ? chain_pem(s->leaf, s->chain) : NULL;
    char *out = NULL;
    json_t *o = NULL;
    if (!ak || !s->directory || !s->domain || (s->tls_key && s->leaf && (!tk || !ch)))
        goto done;
    o = json_pack("{s:i, s:s, s:s, s:s, s:s?, s:{s:o, s:o, s:o}, s:s?, s:s?}", "v", 1, "directory", s->directory,
                  "domain", s->domain, "account_key", ak, "kid", s->kid, "ledger",
                  "failed_validations", ledger_json(&s->failed_validations), "new_certs", ledger_json(&s->new_certs),
                  "new_accounts", ledger_json(&s->new_accounts), "tls_key", tk, "chain", ch);
    if (o)
        out = json_dumps(o, JSON_COMPACT);
done:
    if (o) {   /* the JSON strings hold key PEM: wipe them before jansson frees them */
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
            if (json_is_string(v))
                OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(o);
    if (ak) OPENSSL_clear_free(ak, strlen(ak));
    if (tk) OPENSSL_clear_free(tk, strlen(tk));
    free(ch);
    return out;
}

static EVP_PKEY *key_from(const char *pem, size_t len)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (k && EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {   /* we only ever make P-256 keys */
        EVP_PKEY_free(k);
        k = NULL;
    }
    return k;
}

static int ledger_from(json_t *a, struct acme_ledger *l)
{
    size_t i;
    json_t *v;
    memset(l, 0, sizeof *l);
    if (!json_is_array(a) || json_array_size(a) > ACME_LEDGER_SLOTS)
        return -1;
    json_array_foreach(a, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return -1;
        l->at[l->n++] = (int64_t)json_integer_value(v);
    }
    return 0;
}

static char *dup_str(json_t *v)
{
    return json_is_string(v) ? strndup(json_string_value(v), json_string_length(v)) : NULL;
}

int acme_saved_decode(const char *p, size_t len, struct acme_saved *out)
{
    memset(out, 0, sizeof *out);
    if (len > ACME_PERSIST_MAX_BYTES)
        return -1;
    json_error_t e;
    json_t *o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &e);
    json_t *ak = json_object_get(o, "account_key"), *tk = json_object_get(o, "tls_key"), *ch = json_object_get(o, "chain");
    json_t *led = json_object_get(o, "ledger"), *kid = json_object_get(o, "kid");
    int rc = -1;
    if (!json_is_object(o) || json_integer_value(json_object_get(o, "v")) != 1 || !json_is_string(ak) ||
        !(out->directory = dup_str(json_object_get(o, "directory"))) || !(out->domain = dup_str(json_object_get(o, "domain"))) ||
        !(out->account_key = key_from(json_string_value(ak), json_string_length(ak))) ||
        (kid && !json_is_null(kid) && !(out->kid = dup_str(kid))) ||
        ledger_from(json_object_get(led, "failed_validations"), &out->failed_validations) ||
        ledger_from(json_object_get(led, "new_certs"), &out->new_certs) ||
        ledger_from(json_object_get(led, "new_accounts"), &out->new_accounts))
        goto done;
    if (json_is_string(tk) && json_is_string(ch)) {
        if (!(out->tls_key = key_from(json_string_value(tk), json_string_length(tk))) ||
            acme_pem_chain_parse(json_string_value(ch), json_string_length(ch), &out->leaf, &out->chain))
            goto done;
    } else if (tk && !json_is_null(tk)) {
        goto done;
    }
    rc = 0;
done:
    if (json_is_string(ak))
        OPENSSL_cleanse((char *)json_string_value(ak), json_string_length(ak));
    if (json_is_string(tk))
        OPENSSL_cleanse((char *)json_string_value(tk), json_string_length(tk));
    json_decref(o);
    if (rc)
        acme_saved_clear(out);
    return rc;
}

void acme_saved_clear(struct acme_saved *s)
{
    free(s->directory);
    free(s->domain);
    free(s->kid);
    EVP_PKEY_free(s->account_key);
    EVP_PKEY_free(s->tls_key);
    X509_free(s->leaf);
    sk_X509_pop_free(s->chain, X509_free);
    memset(s, 0, sizeof *s);
}
