/* Unit tests for login/evidence: the payload of a result, signed by an ephemeral signer, verifies
 * with its embedded key and says what docs/evidence.md says. The signer itself is
 * tests/unit/login/test_signer.c. */
#include "test.h"
#include "login/signer.h"
#include "login/evidence.h"
#include "common/jose.h"

TEST(signed_payload_verifies_with_embedded_key)
{
    struct signer *s = signer_ephemeral();
    CHECK(s && signer_is_ephemeral(s));
    json_t *ui = json_pack("{s:s, s:s}", "user_id", "https://www.paypal.com/webapps/auth/identity/user/X", "name", "A");
    struct evidence_input in = {
        .iss = "https://localhost:8443", .paypal_env = "sandbox", .client_id = "CID",
        .user_id = "https://www.paypal.com/webapps/auth/identity/user/X", .user_id_len = 51,
        .userinfo = ui, .kid = signer_kid(s),
        .tls_spki_sha256 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    };
    CHECK(evidence_prepare(&in) == 0 && strlen(in.nonce_hex) == 32);
    uint8_t rd[64];
    CHECK(evidence_report_data(&in, rd) == 0);
    json_t *ev = json_pack("[{s:s, s:s}]", "type", "none", "reason", "test");
    char *payload = evidence_payload(&in, rd, ev);
    CHECK(payload != NULL);
    char *jws = signer_sign(s, (const uint8_t *)payload, strlen(payload));
    struct jose_jws j;
    CHECK(jws && jose_jws_parse(jws, strlen(jws), &j) == JOSE_OK);
    CHECK(jose_jws_verify_embedded(&j, NULL, NULL) == JOSE_OK);
    json_t *p = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
    CHECK(json_integer_value(json_object_get(p, "ver")) == 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(p, "paypal"), "client_id")), "CID");
    CHECK(json_is_null(json_object_get(p, "measurement")));
    CHECK(strlen(json_string_value(json_object_get(p, "report_data"))) == 128);
    json_decref(p);
    jose_jws_clear(&j);
    free(jws);
    free(payload);
    json_decref(ev);
    json_decref(ui);
    signer_free(s);
}

int main(void)
{
    RUN(signed_payload_verifies_with_embedded_key);
    return test_done();
}
