/* binding: builds the two binding strings of evidence v1 and hashes them into REPORT_DATA. */
#include "common/binding.h"
#include "common/codec.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

static int is_lower_hex(const char *s, size_t want)
{
    if (!s || strlen(s) != want)
        return 0;
    for (size_t i = 0; i < want; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static char *concat(const char *const *parts, const size_t *lens, int n, size_t *len)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += lens[i];
    char *s = malloc(total + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        memcpy(s + o, parts[i], lens[i]);
        o += lens[i];
    }
    s[o] = 0;
    *len = o;
    return s;
}

char *binding_a_string(const struct binding_input *in, size_t *len)
{
    const char *p[] = {"PAYPAL_CLIENT_ID=", in->client_id, "|PAYPAL_USER_ID=", in->user_id};
    size_t l[] = {17, in->client_id_len, 16, in->user_id_len};
    return concat(p, l, 4, len);
}

char *binding_b_string(const struct binding_input *in, size_t *len)
{
    char iat[24];
    int il = snprintf(iat, sizeof iat, "%" PRIu64, in->iat);
    const char *kid = in->kid ? in->kid : "", *spki = in->tls_spki_sha256_hex ? in->tls_spki_sha256_hex : "";
    const char *nonce = in->nonce_hex ? in->nonce_hex : "";
    const char *p[] = {"SEALED_LOGIN_V1|SIGNER_JWK_THUMBPRINT=", kid, "|TLS_SPKI_SHA256=", spki,
                       "|IAT=", iat, "|NONCE=", nonce};
    size_t l[] = {38, strlen(kid), 17, strlen(spki), 5, (size_t)il, 7, strlen(nonce)};
    return concat(p, l, 8, len);
}

int binding_report_data(const struct binding_input *in, uint8_t out[BINDING_REPORT_DATA_LEN])
{
    if (!in->kid || strlen(in->kid) != 43 || !is_lower_hex(in->tls_spki_sha256_hex, 64) ||
        !is_lower_hex(in->nonce_hex, 2 * BINDING_NONCE_LEN))
        return -1;
    size_t al, bl;
    char *a = binding_a_string(in, &al), *b = binding_b_string(in, &bl);
    int rc = -1;
    if (a && b && EVP_Digest(a, al, out, NULL, EVP_sha256(), NULL) &&
        EVP_Digest(b, bl, out + 32, NULL, EVP_sha256(), NULL))
        rc = 0;
    free(a);
    free(b);
    return rc;
}

int binding_oidc_nonce(const char *nonce_hex, char out[BINDING_OIDC_NONCE_LEN + 1])
{
    static const char prefix[] = "SEALED_LOGIN_V1|OIDC_NONCE=";
    uint8_t h[32];
    EVP_MD_CTX *md;
    out[0] = 0;
    if (!is_lower_hex(nonce_hex, 2 * BINDING_NONCE_LEN) || !(md = EVP_MD_CTX_new()))
        return -1;
    int ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, prefix, sizeof prefix - 1) &&
             EVP_DigestUpdate(md, nonce_hex, 2 * BINDING_NONCE_LEN) && EVP_DigestFinal_ex(md, h, NULL);
    EVP_MD_CTX_free(md);
    if (!ok)
        return -1;
    codec_b64url_encode(h, sizeof h, out, BINDING_OIDC_NONCE_LEN + 1);
    return 0;
}
