/* evidence: binding inputs → REPORT_DATA, and the v1 payload object. */
#include "login/evidence.h"
#include "common/codec.h"
#include <string.h>
#include <time.h>
#include <openssl/rand.h>

int evidence_prepare(struct evidence_input *in)
{
    uint8_t n[BINDING_NONCE_LEN];
    if (RAND_bytes(n, sizeof n) != 1)
        return -1;
    codec_hex_encode(n, sizeof n, in->nonce_hex, sizeof in->nonce_hex);
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
    if (in->instance)
        json_object_set_new(p, "instance", json_string(in->instance));
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    return s;
}
