/* Unit tests for sealed-verify's helpers: RFC 3339 times, hex input detection, the build-manifest
 * reader, TCB specs, and the step record's pass/fail/allowed accounting. */
#include "test.h"
#include "verify/util.h"
#include "verify/manifest.h"
#include "verify/snp_check.h"
#include "verify/steps.h"

TEST(times)
{
    time_t t;
    CHECK(verify_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    CHECK(verify_parse_time("2023-11-14T22:13:20Z", &t) == 0 && t == 1700000000);
    CHECK(verify_parse_time("2023-11-14T23:13:20+01:00", &t) == 0 && t == 1700000000);
    CHECK(verify_parse_time("2023-11-14T22:13:20.999Z", &t) == 0 && t == 1700000000);
    CHECK(verify_parse_time("2024-02-29T00:00:00Z", &t) == 0 && t == 1709164800);
    CHECK(verify_parse_time("@1700000000", &t) == 0 && t == 1700000000);
    CHECK(verify_parse_time("2023-11-14T22:13:20", &t) == -1);      /* no zone */
    CHECK(verify_parse_time("2023-13-14T22:13:20Z", &t) == -1);
    CHECK(verify_parse_time("2023-11-14T22:13:20Zjunk", &t) == -1);
    CHECK(verify_parse_time("@", &t) == -1);
    CHECK(verify_parse_time("@-5", &t) == -1);
    char s[32];
    verify_format_time(1700000000, s, sizeof s);
    CHECK_STR(s, "2023-11-14T22:13:20Z");
}

TEST(hex_text)
{
    size_t n;
    uint8_t *b = verify_hex_text((const uint8_t *)"0A0b\n", 5, &n);
    CHECK(b && n == 2 && b[0] == 0x0a && b[1] == 0x0b);
    free(b);
    CHECK(verify_hex_text((const uint8_t *)"0A0", 3, &n) == NULL);
    CHECK(verify_hex_text((const uint8_t *)"zz", 2, &n) == NULL);
    CHECK(verify_hex_text((const uint8_t *)"\n", 1, &n) == NULL);
    uint8_t o[4];
    CHECK(verify_hex_arg("DeadBEEF", o, sizeof o) == 4 && o[0] == 0xde && o[3] == 0xef);
    CHECK(verify_hex_arg("deadbeef00", o, sizeof o) == (size_t)-1);   /* longer than cap */
    CHECK(verify_hex_arg("", o, sizeof o) == (size_t)-1);
    CHECK(verify_hex_arg("xyz0", o, sizeof o) == (size_t)-1);
}

TEST(manifest_collects_measurements_and_pcrs)
{
    const char *m96 = "5ea1ed106117000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223242526272829";
    char js[2048];
    snprintf(js, sizeof js,
             "{\"artifacts\":{\"disk.raw\":{\"sha384\":\"%s\"}},\"fw\":{\"snp_ovmf_hash\":\"%s\"},"
             "\"gce-sev-snp\":{\"measurement\":null,\"reason\":\"cloud firmware\"},"
             "\"targets\":{\"qemu-snp\":[{\"vcpus\":1,\"measurement\":\"%s\"},{\"vcpus\":2,\"launch_digest\":\"%s\"}],"
             "\"uefi\":{\"pcrs\":{\"sha256\":{\"4\":\"00\"}}}}}", m96, m96, m96, m96);
    struct manifest m;
    char err[128];
    CHECK(manifest_load((const uint8_t *)js, strlen(js), &m, err, sizeof err) == 0);
    CHECK(m.nsnp == 2);   /* the artifact's sha384 is not a measurement */
    CHECK(m.npcrs == 1);
    CHECK(m.nnull == 1 && !strcmp(m.nulls[0].path, "gce-sev-snp") && !strcmp(m.nulls[0].reason, "cloud firmware"));
    CHECK_STR(m.snp[0].path, "targets.qemu-snp[0].measurement");
    CHECK_STR(m.pcrs[0].path, "targets.uefi.pcrs");
    CHECK(m.snp[0].value[0] == 0x5e && m.snp[0].value[47] == 0x29);
    manifest_free(&m);
    CHECK(manifest_load((const uint8_t *)"[1]", 3, &m, err, sizeof err) == -1);
    CHECK(manifest_load((const uint8_t *)"{", 1, &m, err, sizeof err) == -1);
}

TEST(tcb_spec)
{
    struct snp_tcb t;
    CHECK(snp_policy_parse_tcb("bl=2,tee=0,snp=5,ucode=68", &t) == 0);
    CHECK(t.bootloader == 2 && t.tee == 0 && t.snp == 5 && t.microcode == 68 && t.fmc == 0);
    CHECK(snp_policy_parse_tcb("fmc=1,ucode=255", &t) == 0 && t.fmc == 1 && t.microcode == 255);
    CHECK(snp_policy_parse_tcb("ucode=256", &t) == -1);
    CHECK(snp_policy_parse_tcb("xx=1", &t) == -1);
    CHECK(snp_policy_parse_tcb("bl", &t) == -1);
    CHECK(snp_policy_parse_tcb("bl=", &t) == -1);
}

TEST(steps_accounting)
{
    struct steps s;
    CHECK(steps_init(&s) == 0);
    CHECK(steps_check(&s, 1, NULL, "a", "passes") == 1);
    CHECK(s.failed == 0);
    CHECK(steps_check(&s, 0, "--flag", "b", "allowed") == 0);
    CHECK(s.failed == 0 && s.v[1].status == STEP_WARN && strstr(s.v[1].text, "allowed by --flag"));
    CHECK(steps_check(&s, 0, NULL, "c", "fails %d", 3) == 0);
    CHECK(s.failed == 1 && s.v[2].status == STEP_FAIL);
    CHECK_STR(s.v[2].text, "fails 3");
    for (int i = 0; i < 400; i++)
        steps_add(&s, STEP_FAIL, "x", "many");
    CHECK(s.truncated && s.failed == 401);   /* dropped lines still count */
    steps_free(&s);
}

TEST(hostile_strings_cannot_forge_lines)
{
    char out[128];
    steps_sanitize("user\n  \xe2\x9c\x93 fake line\x1b[2K", out, sizeof out);
    CHECK_STR(out, "user\\x0a  \xe2\x9c\x93 fake line\\x1b[2K");
    steps_sanitize("a\xe2\x80\xae" "b\xc2\x9b" "c\x7f", out, sizeof out);
    CHECK_STR(out, "a\\xe2\\x80\\xaeb\\xc2\\x9bc\\x7f");
    steps_sanitize("Zo\xc3\xab" "l", out, sizeof out);   /* ordinary UTF-8 stays */
    CHECK_STR(out, "Zo\xc3\xab" "l");
    steps_sanitize("\n\n\n\n", out, 9);               /* never overflows, never splits an escape */
    CHECK_STR(out, "\\x0a\\x0a");
    struct steps s;
    CHECK(steps_init(&s) == 0);
    steps_add(&s, STEP_INFO, "x", "user id %s", "evil\r\n  \xe2\x9c\x93 everything verified");
    CHECK(strchr(s.v[0].text, '\n') == NULL && strchr(s.v[0].text, '\r') == NULL);
    steps_free(&s);
}

int main(void)
{
    RUN(times);
    RUN(hex_text);
    RUN(manifest_collects_measurements_and_pcrs);
    RUN(tcb_spec);
    RUN(steps_accounting);
    RUN(hostile_strings_cannot_forge_lines);
    return test_done();
}
