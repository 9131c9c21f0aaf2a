/* oci_sign: Oracle Cloud request signatures, version 1 (OCI's profile of draft-cavage HTTP
 * signatures, rsa-sha256). Builds the signing string and the headers to send for one request;
 * shared by the service (Vault, Notifications, federation) and sealed-oci-request. Pure: no
 * network, no clock unless the caller passes no date; never keeps or logs the key it is given. */
#ifndef SEALED_OCI_SIGN_H
#define SEALED_OCI_SIGN_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/evp.h>

#define OCI_SIGN_DATE_LEN     29              /* "Thu, 05 Jan 2014 21:31:40 GMT" */
#define OCI_SIGN_MAX_URL      8192            /* longest URL we sign */
#define OCI_SIGN_MAX_KEY_ID   16384           /* "ST$" + a security token is a few KiB */
#define OCI_SIGN_MAX_HEADERS  8               /* lines in oci_sign_result.headers */

typedef enum {
    OCI_SIGN_OK = 0,
    OCI_SIGN_ERR_NOMEM,
    OCI_SIGN_ERR_ARG,       /* missing method/key id, unknown method, bad date */
    OCI_SIGN_ERR_URL,       /* not an absolute http(s) URL, or over OCI_SIGN_MAX_URL */
    OCI_SIGN_ERR_KEY,       /* not an RSA private key, or a PEM that does not parse */
    OCI_SIGN_ERR_CRYPTO,    /* OpenSSL failed while hashing or signing */
} oci_sign_err;

const char *oci_sign_strerror(oci_sign_err e);

/* Which headers go into the signature. */
enum oci_sign_headers {
    OCI_SIGN_HEADERS_AUTO = 0,   /* by method: GET/HEAD/DELETE "date (request-target) host";
                                    POST/PUT/PATCH add "content-length content-type x-content-sha256" */
    OCI_SIGN_HEADERS_FEDERATION, /* the /v1/x509 endpoint: "date (request-target) content-length
                                    content-type x-content-sha256" (no host) */
};

struct oci_sign_request {
    const char *method;          /* "GET", "POST", ... (case-insensitive; signed in lower case) */
    const char *url;             /* absolute, already percent-encoded exactly as it is sent */
    const char *date;            /* IMF-fixdate to sign and send; NULL = now (+ clock_offset) */
    long clock_offset_s;         /* added to the clock when date is NULL (server skew correction) */
    const uint8_t *body;         /* body methods only; NULL = empty body */
    size_t body_len;
    const char *content_type;    /* body methods; NULL = "application/json" */
    enum oci_sign_headers which;
};

/* The signed request. Every string is owned; oci_sign_result_clear frees them. */
struct oci_sign_result {
    char *signing_string;        /* the exact bytes signed (lines joined by "\n", no final newline) */
    size_t signing_string_len;
    char *signature_b64;         /* base64 (padded) RSASSA-PKCS1-v1_5 SHA-256 signature */
    char *authorization;         /* value of the Authorization header */
    char *headers[OCI_SIGN_MAX_HEADERS + 1]; /* "name: value" lines to send, NULL-terminated:
                                    date, host (when signed), content-type, content-length,
                                    x-content-sha256 (body methods), authorization */
};

/* Signs one request with key (an RSA private key) under key_id ("tenancy/user/fingerprint",
 * "tenancy/fed-x509-sha256/fingerprint" or "ST$token"). On success fills *out (caller clears it);
 * on failure *out holds nothing. */
oci_sign_err oci_sign_request(EVP_PKEY *key, const char *key_id, const struct oci_sign_request *req,
                              struct oci_sign_result *out);
void oci_sign_result_clear(struct oci_sign_result *r);

/* rsa-sha256 over (data, len); *b64 is a malloc'd base64 string (caller frees). */
oci_sign_err oci_sign_rsa_sha256(EVP_PKEY *key, const uint8_t *data, size_t len, char **b64);

/* Formats t (+ nothing else) as an IMF-fixdate into out; locale-independent. */
void oci_sign_format_date(time_t t, char out[OCI_SIGN_DATE_LEN + 1]);
/* Parses an IMF-fixdate (the HTTP Date header) of len bytes; returns 0 and sets *t, or -1. */
int oci_sign_parse_date(const char *s, size_t len, time_t *t);

/* Loads an RSA private key from PEM (PKCS#1 or PKCS#8, unencrypted). NULL on error. The caller
 * frees it with EVP_PKEY_free. */
EVP_PKEY *oci_sign_load_key_pem(const char *pem, size_t len);

/* Colon-separated lowercase hex of a digest: the SHA-256 fingerprint of a DER certificate (the
 * fed-x509-sha256 key id) or the MD5 fingerprint of a DER public key (API signing key ids).
 * md is "SHA256" or "MD5". Returns a malloc'd string or NULL. */
char *oci_sign_fingerprint(const char *md, const uint8_t *der, size_t len);
#endif
