/* sealed-oci-request: signs an arbitrary OCI API request (signature v1, rsa-sha256) with a given
 * key, key id, date and body, and sends it or only prints it — like `oci raw-request`, for
 * debugging IAM policies and for checking the signing against OCI's published vectors. Uses
 * common/oci_sign for the signature and blocking libcurl for the one request; never prints the key. */
#include "common/file.h"
#include "common/oci_sign.h"
#include "oci-request/instance_principal.h"
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OCIREQ_MAX_FILE      (16u * 1024 * 1024)   /* body, key or token file */
#define OCIREQ_MAX_EXTRA_HDR 32                    /* -H options */
#define OCIREQ_TIMEOUT_MS    60000L

static void wipe_free(void *p, size_t n)
{
    if (p)
        OPENSSL_cleanse(p, n);
    free(p);
}

static void usage(FILE *f)
{
    fputs("usage: sealed-oci-request [options] METHOD URL\n"
          "Signs an OCI API request (signature version 1, rsa-sha256) and sends it, or prints it.\n"
          "  -k, --key FILE           RSA private key, PEM (PKCS#1 or PKCS#8, unencrypted)\n"
          "      --instance-principal sign as the OCI instance this runs on (metadata identity, federation)\n"
          "      --metadata-base URL  with --instance-principal: metadata server (default http://169.254.169.254)\n"
          "      --auth-base URL      with --instance-principal: auth service base (default by region)\n"
          "  -i, --key-id ID          keyId: TENANCY/USER/FINGERPRINT, TENANCY/fed-x509-sha256/FP or ST$TOKEN\n"
          "      --token-file FILE    keyId = \"ST$\" + the security token in FILE\n"
          "  -d, --date DATE          date to sign and send, e.g. 'Thu, 05 Jan 2014 21:31:40 GMT' (default: now)\n"
          "  -b, --body FILE          request body for POST/PUT/PATCH ('-' = stdin)\n"
          "      --body-string TEXT   request body given inline\n"
          "  -t, --content-type TYPE  content-type of the body (default application/json)\n"
          "      --federation         sign the /v1/x509 header set (no host header)\n"
          "  -H, --header 'N: V'      extra header, sent but not signed (repeatable)\n"
          "  -p, --print              print the headers that would be sent; send nothing\n"
          "  -s, --signing-string     print the exact signing string; send nothing\n"
          "      --ca-file FILE       CA bundle to trust instead of the system's\n"
          "      --fingerprint        print the key's API-key fingerprint (MD5 of the public key) and exit\n"
          "  -v, --verbose            print the response status and headers to stderr\n"
          "Exit status: 0 for a 2xx answer (or printing), 1 for another status, 2 for local errors.\n",
          f);
}

/* Reads a whole file ("-" = stdin) up to OCIREQ_MAX_FILE; returns a malloc'd buffer with a NUL
 * after *len bytes, or NULL (message printed). */
static char *read_all(const char *path, size_t *len)
{
    uint8_t *b;
    file_err e = file_read_all(path, OCIREQ_MAX_FILE, 1, &b, len);
    if (e == FILE_ERR_TOOBIG)
        fprintf(stderr, "sealed-oci-request: %s is larger than %u bytes\n", path, OCIREQ_MAX_FILE);
    else if (e)
        fprintf(stderr, "sealed-oci-request: cannot %s %s: %s\n", e == FILE_ERR_OPEN ? "open" : "read", path,
                strerror(errno));
    return (char *)b;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    fwrite(p, size, n, stderr);
    return size * n;
}

int main(int argc, char **argv)
{
    enum { O_TOKEN = 256, O_BODYSTR, O_FED, O_CA, O_FP, O_IP, O_MDBASE, O_AUTHBASE };
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},        {"key-id", required_argument, NULL, 'i'},
        {"token-file", required_argument, NULL, O_TOKEN}, {"date", required_argument, NULL, 'd'},
        {"body", required_argument, NULL, 'b'},       {"body-string", required_argument, NULL, O_BODYSTR},
        {"content-type", required_argument, NULL, 't'}, {"federation", no_argument, NULL, O_FED},
        {"header", required_argument, NULL, 'H'},     {"print", no_argument, NULL, 'p'},
        {"signing-string", no_argument, NULL, 's'},   {"ca-file", required_argument, NULL, O_CA},
        {"fingerprint", no_argument, NULL, O_FP},     {"verbose", no_argument, NULL, 'v'},
        {"instance-principal", no_argument, NULL, O_IP}, {"metadata-base", required_argument, NULL, O_MDBASE},
        {"auth-base", required_argument, NULL, O_AUTHBASE},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0},
    };
    const char *key_file = NULL, *key_id = NULL, *token_file = NULL, *date = NULL, *body_file = NULL;
    const char *body_str = NULL, *ctype = NULL, *ca_file = NULL, *md_base = NULL, *auth_base = NULL;
    int instance_principal = 0;
    const char *extra[OCIREQ_MAX_EXTRA_HDR];
    int n_extra = 0, print = 0, print_ss = 0, federation = 0, fingerprint = 0, verbose = 0, c;
    int rc = 2;
    char *key_pem = NULL, *token = NULL, *body = NULL, *key_id_buf = NULL;
    size_t key_len = 0, token_len = 0, body_len = 0;
    EVP_PKEY *key = NULL;
    struct oci_sign_result sr = {0};
    CURL *e = NULL;
    struct curl_slist *hl = NULL;

    while ((c = getopt_long(argc, argv, "k:i:d:b:t:H:psvh", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key_file = optarg; break;
        case 'i': key_id = optarg; break;
        case O_TOKEN: token_file = optarg; break;
        case 'd': date = optarg; break;
        case 'b': body_file = optarg; break;
        case O_BODYSTR: body_str = optarg; break;
        case 't': ctype = optarg; break;
        case O_FED: federation = 1; break;
        case 'H':
            if (n_extra == OCIREQ_MAX_EXTRA_HDR) {
                fprintf(stderr, "sealed-oci-request: at most %d -H options\n", OCIREQ_MAX_EXTRA_HDR);
                return 2;
            }
            extra[n_extra++] = optarg;
            break;
        case 'p': print = 1; break;
        case 's': print_ss = 1; break;
        case O_CA: ca_file = optarg; break;
        case O_FP: fingerprint = 1; break;
        case O_IP: instance_principal = 1; break;
        case O_MDBASE: md_base = optarg; break;
        case O_AUTHBASE: auth_base = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!key_file == !instance_principal || (instance_principal && (key_id || token_file || fingerprint))) {
        usage(stderr);
        return 2;
    }
    if (instance_principal) {
        if (argc - optind != 2 || (body_file && body_str)) {
            usage(stderr);
            return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) ||
            ocireq_instance_principal(md_base, auth_base, ca_file, verbose, &key, &key_id_buf))
            goto out;
        key_id = key_id_buf;
    } else if (!(key_pem = read_all(key_file, &key_len))) {
        goto out;
    } else if (!(key = oci_sign_load_key_pem(key_pem, key_len))) {
        fprintf(stderr, "sealed-oci-request: %s is not an unencrypted RSA private key in PEM\n", key_file);
        goto out;
    }
    if (fingerprint) {
        uint8_t *der = NULL;
        int n = i2d_PUBKEY(key, &der);
        char *fp = n > 0 ? oci_sign_fingerprint("MD5", der, (size_t)n) : NULL;
        OPENSSL_free(der);
        if (!fp)
            goto out;
        printf("%s\n", fp);
        free(fp);
        rc = 0;
        goto out;
    }
    if (argc - optind != 2 || (!key_id == !token_file && !instance_principal) || (body_file && body_str)) {
        usage(stderr);
        goto out;
    }
    const char *method = argv[optind], *url = argv[optind + 1];
    if (token_file) {
        if (!(token = read_all(token_file, &token_len)))
            goto out;
        while (token_len && (token[token_len - 1] == '\n' || token[token_len - 1] == '\r' || token[token_len - 1] == ' '))
            token[--token_len] = 0;
        if (!(key_id_buf = malloc(token_len + 4)))
            goto out;
        memcpy(key_id_buf, "ST$", 3);
        memcpy(key_id_buf + 3, token, token_len + 1);
        key_id = key_id_buf;
    }
    if (body_file && !(body = read_all(body_file, &body_len)))
        goto out;
    if (body_str) {
        body_len = strlen(body_str);
        if (!(body = malloc(body_len + 1)))
            goto out;
        memcpy(body, body_str, body_len + 1);
    }
    struct oci_sign_request rq = {
        .method = method, .url = url, .date = date, .body = (const uint8_t *)body, .body_len = body_len,
        .content_type = ctype, .which = federation ? OCI_SIGN_HEADERS_FEDERATION : OCI_SIGN_HEADERS_AUTO,
    };
    oci_sign_err se = oci_sign_request(key, key_id, &rq, &sr);
    if (se) {
        fprintf(stderr, "sealed-oci-request: %s\n", oci_sign_strerror(se));
        goto out;
    }
    if (print_ss) {
        fwrite(sr.signing_string, 1, sr.signing_string_len, stdout);
        rc = 0;
        goto out;
    }
    if (print) {
        printf("%s %s\n", method, url);
        for (int i = 0; sr.headers[i]; i++)
            printf("%s\n", sr.headers[i]);
        for (int i = 0; i < n_extra; i++)
            printf("%s\n", extra[i]);
        rc = 0;
        goto out;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(e = curl_easy_init()))
        goto out;
    for (int i = 0; sr.headers[i]; i++) {
        struct curl_slist *l = curl_slist_append(hl, sr.headers[i]);
        if (!l)
            goto out;
        hl = l;
    }
    for (int i = 0; i < n_extra; i++) {
        struct curl_slist *l = curl_slist_append(hl, extra[i]);
        if (!l)
            goto out;
        hl = l;
    }
    struct curl_slist *l = curl_slist_append(hl, "Expect:");
    if (!l)
        goto out;
    hl = l;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, OCIREQ_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sealed-oci-request/1");
    if (ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    if (!strcmp(method, "HEAD") || !strcmp(method, "head")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (body || strcasecmp(method, "GET")) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    if (strcasecmp(method, "POST") && strcasecmp(method, "HEAD") && strcasecmp(method, "GET"))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    else if (!strcasecmp(method, "GET") && body)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "GET");
    if (verbose) {
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    }
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        fprintf(stderr, "sealed-oci-request: %s\n", curl_easy_strerror(cc));
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    fflush(stdout);
    fprintf(stderr, "sealed-oci-request: HTTP %ld\n", status);
    rc = status >= 200 && status < 300 ? 0 : 1;
out:
    curl_slist_free_all(hl);
    if (e)
        curl_easy_cleanup(e);
    oci_sign_result_clear(&sr);
    EVP_PKEY_free(key);
    wipe_free(key_pem, key_len);
    wipe_free(token, token_len);
    wipe_free(key_id_buf, key_id_buf ? strlen(key_id_buf) : 0);
    wipe_free(body, body_len);   /* a body may carry a secret (e.g. a Vault secret's content) */
    return rc;
}
