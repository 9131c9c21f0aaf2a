/* evidence: binding inputs → REPORT_DATA, and the v1 payload object. */
#include "login/evidence.h"
#include "common/tpm_ak_root.h"
#include <string.h>
#include <openssl/pem.h>
#include "common/codec.h"
#include <string.h>
#include <time.h>
#include <openssl/rand.h>

int evidence_prepare(struct evidence_input *in)
{
    uint8_t n[BINDING_NONCE_LEN];
    if (!in->nonce_hex[0]) {   /* a login sets the nonce its OIDC nonce was derived from */
        if (RAND_bytes(n, sizeof n) != 1)
            return -1;
        codec_hex_encode(n, sizeof n, in->nonce_hex, sizeof in->nonce_hex);
    }
    in->iat = (uint64_t)time(NULL);
    return 0;
}

static struct binding_input binding_of(const struct evidence_input *in)
{
    return (struct binding_input){
        .client_id = in->client_id, .client_id_len = strlen(in->client_id),
        .user_id = in->user_id, .user_id_len = in->user_id_len,
        .kid = in->kid, .tls_spki_sha256_hex = in->tls_spki_sha256,
        .iat = in->iat, .nonce_hex = in->nonce_hex,
    };
}

int evidence_report_data(const struct evidence_input *in, uint8_t rd[BINDING_REPORT_DATA_LEN])
{
    struct binding_input b = binding_of(in);
    return binding_report_data(&b, rd);
}

char *evidence_payload(const struct evidence_input *in, const uint8_t rd[BINDING_REPORT_DATA_LEN], json_t *evidence)
{
    char rdhex[CODEC_HEX_LEN(BINDING_REPORT_DATA_LEN)];
    codec_hex_encode(rd, BINDING_REPORT_DATA_LEN, rdhex, sizeof rdhex);
    json_t *uid = json_stringn(in->user_id, in->user_id_len);
    json_t *p = json_pack("{s:i, s:s, s:I, s:s, s:{s:s, s:s, s:o, s:O}, s:s, s:s, s:O, s:o}",
                          "ver", 1, "iss", in->iss, "iat", (json_int_t)in->iat, "nonce", in->nonce_hex,
                          "paypal", "env", in->paypal_env, "client_id", in->client_id, "user_id", uid,
                          "userinfo", in->userinfo,
                          "tls_spki_sha256", in->tls_spki_sha256, "report_data", rdhex,
                          "evidence", evidence,
                          "measurement", in->measurement ? json_string(in->measurement) : json_null());
    if (!p)
        return NULL;
    if (in->id_token)   /* PayPal's own signed statement (RS256 only: anyone can check it) */
        json_object_set_new(json_object_get(p, "paypal"), "id_token", json_string(in->id_token));
    if (in->instance)
        json_object_set_new(p, "instance", json_string(in->instance));
    if (in->trust)
        json_object_set_new(p, "trust", json_string(in->trust));
    json_object_set_new(p, "source_commit", in->source_commit ? json_string(in->source_commit) : json_null());
    json_object_set_new(p, "kernel_cmdline", in->kernel_cmdline ? json_string(in->kernel_cmdline) : json_null());
    if (in->state_scope) {   /* how far "once per account" reaches for this result */
        json_object_set_new(p, "state_epoch", json_integer((json_int_t)in->state_epoch));
        json_object_set_new(p, "state_scope", json_string(in->state_scope));
    }
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return s;
}

trust_item evidence_trust_item(const char *type, int ak_rooted, const char *platform)
{
    int gcp = platform && !strcmp(platform, "gcp"), oci = platform && !strcmp(platform, "oci");
    if (!strcmp(type, "sev-snp"))
        return gcp ? TRUST_GCE_SNP_FIRMWARE : TRUST_SNP_MEASURED_DIRECT_BOOT;
    if (!strcmp(type, "tdx"))
        return TRUST_TDX_RTMR;
    if (!strcmp(type, "tpm2"))
        return ak_rooted ? TRUST_GCE_VTPM_GOOGLE_ROOTED : oci ? TRUST_OCI_VTPM_UNROOTED : TRUST_VTPM_UNROOTED;
    return TRUST_NONE;
}

int evidence_trust(const json_t *evidence, const char *platform, time_t now, char *out, size_t cap)
{
    trust_item items[TRUST_MAX_ITEMS];
    size_t n = json_array_size(evidence);
    if (!json_is_array(evidence) || n == 0 || n > TRUST_MAX_ITEMS)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(evidence, i);
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *pem = json_string_value(json_object_get(e, "ak_cert"));
        int rooted = 0;
        if (!type)
            return -1;
        if (pem) {
            BIO *b = BIO_new_mem_buf(pem, -1);
            X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
            struct tpm_ak_root_result r;
            rooted = x && tpm_ak_root_check(x, NULL, 0, NULL, 0, now, &r) == TPM_AK_ROOT_VENDOR;
            X509_free(x);
            BIO_free(b);
        }
        items[i] = evidence_trust_item(type, rooted, platform);
    }
    return trust_join(items, n, out, cap);
}
