/* firmware_pcrs on real GCE logs (../shared/testdata/tpm-eventlogs-go-eventlog: nothing but
 * separators in PCR 2, 3, 6, Secure Boot stated in PCR 7) and on synthetic crypto-agile logs:
 * a driver from an option ROM, a driver disguised as a separator, an application outside PCR 4. */
#include "test.h"
#include "common/tpm_eventlog.h"
#include "verify/firmware_pcrs.h"
#include "eventlog_build.h"
#include <stdint.h>

#define LOGDIR "../shared/testdata/tpm-eventlogs-go-eventlog/tpm/"

static const uint8_t zero4[4];

static void separators(struct logbuf *l)
{
    for (uint32_t p = 0; p < 8; p++)
        log_event_data(l, p, TPM_EVENTLOG_EV_SEPARATOR, zero4, 4, NULL);
}

static int check(const uint8_t *b, size_t n, int allow, struct steps *st, struct firmware_pcrs_out *o)
{
    tpm_eventlog *el = NULL;
    if (tpm_eventlog_parse(b, n, &el) != TPM_EVENTLOG_OK)
        return -1;
    steps_init(st);
    int f = firmware_pcrs_check(el, TPM_EVENTLOG_ALG_SHA256, allow, st, o);
    tpm_eventlog_free(el);
    return f;
}

static int has(const struct steps *st, const char *id, step_status s, const char *text)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->v[i].id, id) && st->v[i].status == s && (!text || strstr(st->v[i].text, text)))
            return 1;
    return 0;
}

TEST(real_gce_logs_have_nothing_unexpected)
{
    static const char *logs[] = {LOGDIR "rhel8-uefi.bin", LOGDIR "cos-101-amd-sev.bin"};
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        unsigned char *b = test_read_file(logs[i], &n);
        struct steps st;
        struct firmware_pcrs_out o;
        CHECK(b && check(b, n, 0, &st, &o) == 0);
        CHECK(o.unexpected == 0);
        CHECK(has(&st, "firmware.pcr_extra", STEP_PASS, "PCR 2 (code from option ROMs or devices): nothing but"));
        CHECK(has(&st, "firmware.pcr1", STEP_INFO, "BootOrder"));
        CHECK(o.secure_boot == 0 || o.secure_boot == 1);
        CHECK(has(&st, "firmware.secure_boot", STEP_INFO, o.secure_boot ? "Secure Boot is ON" : "Secure Boot is OFF"));
        steps_free(&st);
        free(b);
    }
}

TEST(an_option_rom_driver_fails_unless_allowed)
{
    struct logbuf l;
    log_start(&l);
    log_event_data(&l, 2, 0x80000004u, "driver image", 12, NULL);
    separators(&l);
    struct steps st;
    struct firmware_pcrs_out o;
    CHECK(check(l.b, l.n, 0, &st, &o) == 2);   /* PCR 2 extra and the driver */
    CHECK(has(&st, "firmware.drivers", STEP_FAIL, "1 UEFI driver"));
    CHECK(o.unexpected == 2 && o.secure_boot == -1);
    steps_free(&st);
    CHECK(check(l.b, l.n, 1, &st, &o) == 0);
    CHECK(has(&st, "firmware.drivers", STEP_WARN, "--allow-option-roms"));
    steps_free(&st);
}

TEST(a_driver_disguised_as_a_separator_is_seen)
{
    struct logbuf l;
    uint8_t driver[32];
    memset(driver, 0x5a, 32);
    log_start(&l);
    log_event_data(&l, 3, TPM_EVENTLOG_EV_SEPARATOR, zero4, 4, driver);   /* separator data, another digest */
    log_event_data(&l, 6, TPM_EVENTLOG_EV_SEPARATOR, "\1\0\0\0", 4, NULL);  /* not a standard separator */
    separators(&l);
    struct steps st;
    struct firmware_pcrs_out o;
    CHECK(check(l.b, l.n, 0, &st, &o) == 2);
    CHECK(has(&st, "firmware.pcr_extra", STEP_FAIL, "PCR 3"));
    CHECK(has(&st, "firmware.pcr_extra", STEP_FAIL, "PCR 6"));
    steps_free(&st);
}

TEST(an_application_outside_pcr4_fails_even_when_allowed)
{
    struct logbuf l;
    log_start(&l);
    log_event_data(&l, 5, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, "app", 3, NULL);
    separators(&l);
    struct steps st;
    struct firmware_pcrs_out o;
    CHECK(check(l.b, l.n, 1, &st, &o) == 1);
    CHECK(has(&st, "firmware.applications", STEP_FAIL, "outside PCR 4"));
    steps_free(&st);
}

TEST(secure_boot_state_only_from_an_event_whose_digest_matches)
{
    /* UEFI_VARIABLE_DATA for SecureBoot = 1 */
    uint8_t v[32 + 20 + 1] = {0};
    v[16] = 10;                          /* name length in UTF-16 units */
    v[24] = 1;                           /* data length */
    const char *nm = "SecureBoot";
    for (int i = 0; i < 10; i++)
        v[32 + 2 * i] = (uint8_t)nm[i];
    v[52] = 1;
    struct logbuf l;
    log_start(&l);
    log_event_data(&l, 7, TPM_EVENTLOG_EV_EFI_VARIABLE_DRIVER_CONFIG, v, sizeof v, NULL);
    separators(&l);
    struct steps st;
    struct firmware_pcrs_out o;
    CHECK(check(l.b, l.n, 0, &st, &o) == 0 && o.secure_boot == 1);
    steps_free(&st);
    uint8_t other[32];
    memset(other, 1, 32);
    log_start(&l);
    log_event_data(&l, 7, TPM_EVENTLOG_EV_EFI_VARIABLE_DRIVER_CONFIG, v, sizeof v, other);   /* data lies */
    separators(&l);
    CHECK(check(l.b, l.n, 0, &st, &o) == 0 && o.secure_boot == -1);
    steps_free(&st);
}

int main(void)
{
    RUN(real_gce_logs_have_nothing_unexpected);
    RUN(an_option_rom_driver_fails_unless_allowed);
    RUN(a_driver_disguised_as_a_separator_is_seen);
    RUN(an_application_outside_pcr4_fails_even_when_allowed);
    RUN(secure_boot_state_only_from_an_event_whose_digest_matches);
    return test_done();
}
