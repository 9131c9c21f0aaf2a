/* instance_principal: sealed-oci-request's --instance-principal: the same federation the service
 * does (common/oci's wire code, the very parsers the service runs), blocking, for an operator on an ordinary OCI instance in the
 * sealed VM's dynamic group to check the IAM policies before deploying. Holds the instance key
 * only while signing the federation request; prints nothing secret. */
#include "oci-request/instance_principal.h"
#include "common/dynbuf.h"
#include "common/oci_sign.h"
#include "common/oci.h"
#include "common/cloud_wire.h"
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One blocking request; *status set; the answer in out (capped). 0, or -1 on a transport error. */
static int fetch(const char *method, const char *url, const char *const *hdrs, const char *body, const char *ca_file,
                 struct dynbuf *out, long *status)
{
    CURL *e = curl_easy_init();
    struct curl_slist *hl = NULL;
    int rc = -1;
    if (!e)
        return -1;
    for (; hdrs && *hdrs; hdrs++) {
        struct curl_slist *l = curl_slist_append(hl, *hdrs);
        if (!l)
            goto done;
        hl = l;
    }
    struct curl_slist *l = curl_slist_append(hl, "Expect:");
    if (!l)
        goto done;
    hl = l;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)CLOUD_API_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, dynbuf_curl_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sealed-oci-request/1");
    if (ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
    }
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        fprintf(stderr, "sealed-oci-request: %s: %s\n", url, curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    rc = 0;
done:
    curl_slist_free_all(hl);
    curl_easy_cleanup(e);
    return rc;
}

static int md_get(const char *base, const char *path, const char *ca_file, struct dynbuf *out)
{
    static const char *const hdrs[] = {OCI_METADATA_AUTH, NULL};
    char url[512];
    long st = 0;
    snprintf(url, sizeof url, "%s%s", base, path);
    dynbuf_init(out, CLOUD_METADATA_MAX, 1);
    if (fetch("GET", url, hdrs, NULL, ca_file, out, &st))
        return -1;
    if (st != 200) {
        fprintf(stderr, "sealed-oci-request: metadata %s: HTTP %ld\n", path, st);
        return -1;
    }
    return 0;
}

int ocireq_instance_principal(const char *metadata_base, const char *api_base, const char *ca_file, int verbose,
                              EVP_PKEY **session, char **key_id)
{
    struct dynbuf doc = {0}, cert = {0}, key = {0}, inter = {0}, ans = {0};
    struct oci_instance in = {0};
    struct oci_identity id = {0};
    struct oci_sign_result sr = {0};
    char *url = NULL, *kid = NULL, *body = NULL, *tok = NULL;
    EVP_PKEY *k = NULL;
    int rc = -1;
    const char *md = metadata_base ? metadata_base : OCI_METADATA_V4;
    *session = NULL;
    *key_id = NULL;
    if (md_get(md, "/opc/v2/instance/", NULL, &doc) || md_get(md, "/opc/v2/identity/cert.pem", NULL, &cert) ||
        md_get(md, "/opc/v2/identity/key.pem", NULL, &key) || md_get(md, "/opc/v2/identity/intermediate.pem", NULL, &inter))
        goto done;
    cloud_err e;
    if ((e = oci_instance_parse(doc.p, doc.len, &in)) ||
        (e = oci_identity_load(&id, cert.p, cert.len, key.p, key.len, inter.p, inter.len))) {
        fprintf(stderr, "sealed-oci-request: instance identity: %s\n", cloud_strerror(e));
        goto done;
    }
    if (!(k = EVP_RSA_gen(CLOUD_SESSION_KEY_BITS)) || !(url = oci_auth_url(api_base, in.region)) ||
        !(kid = oci_federation_key_id(&id)) || !(body = oci_federation_body(&id, k)))
        goto done;
    struct oci_sign_request rq = {.method = "POST", .url = url, .body = (const uint8_t *)body, .body_len = strlen(body),
                                  .which = OCI_SIGN_HEADERS_FEDERATION};
    if (oci_sign_request(id.key, kid, &rq, &sr))
        goto done;
    long st = 0;
    dynbuf_init(&ans, CLOUD_TOKEN_MAX, 1);
    if (fetch("POST", url, (const char *const *)sr.headers, body, ca_file, &ans, &st))
        goto done;
    int64_t exp;
    if (st != 200 || oci_federation_parse(ans.p ? ans.p : "", ans.len, &tok, &exp)) {
        char code[64], msg[256];
        oci_error_parse(ans.p ? ans.p : "", ans.len, code, sizeof code, msg, sizeof msg);
        fprintf(stderr, "sealed-oci-request: federation: HTTP %ld %s %s\n", st, code, msg);
        goto done;
    }
    if (verbose)
        fprintf(stderr, "sealed-oci-request: instance principal: region=%s token expires at %lld\n", in.region,
                (long long)exp);
    size_t n = strlen(tok);
    if (!(*key_id = malloc(n + 4)))
        goto done;
    memcpy(*key_id, "ST$", 3);
    memcpy(*key_id + 3, tok, n + 1);
    *session = k;
    k = NULL;
    rc = 0;
done:
    if (tok)
        OPENSSL_clear_free(tok, strlen(tok));
    dynbuf_free(&doc);
    dynbuf_free(&cert);
    dynbuf_free(&key);
    dynbuf_free(&inter);
    dynbuf_free(&ans);
    oci_instance_clear(&in);
    oci_identity_clear(&id);
    oci_sign_result_clear(&sr);
    EVP_PKEY_free(k);
    free(url);
    free(kid);
    free(body);
    return rc;
}
