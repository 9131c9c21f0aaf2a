/* pcr4_policy on synthetic crypto-agile logs (SHA-256 bank): the normal boot, failed boot attempts
 * before ours, and every shape the policy must refuse. The same policy on real OVMF logs is
 * tests/image/test_disk.py. */
#include "test.h"
#include "common/tpm_eventlog.h"
#include "verify/pcr4_policy.h"
#include "eventlog_build.h"
#include <stdint.h>

/* An event with no data and the given digest. */
static void log_event(struct logbuf *l, uint32_t pcr, uint32_t type, const uint8_t digest[32])
{
    log_event_data(l, pcr, type, NULL, 0, digest);
}

static void sha(const char *s, uint8_t out[32])
{
    tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, s, strlen(s), out);
}

/* PCR 4 as the log's replay gives it (the "quoted" value of an honest TPM). */
static void replay4(const struct logbuf *l, uint8_t out[32])
{
    tpm_eventlog *el = NULL;
    tpm_eventlog_bank bank;
    memset(out, 0, 32);
    if (tpm_eventlog_parse(l->b, l->n, &el) == TPM_EVENTLOG_OK &&
        tpm_eventlog_replay(el, TPM_EVENTLOG_ALG_SHA256, &bank) == TPM_EVENTLOG_OK)
        memcpy(out, bank.pcr[4], 32);
    tpm_eventlog_free(el);
}

static uint8_t calling[32], returning[32], sep[32], uki[32], kernel[32], other[32];
static const uint8_t zero4[4];

static void setup(void)
{
    sha("Calling EFI Application from Boot Option", calling);
    sha("Returning from EFI Application from Boot Option", returning);
    tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, zero4, 4, sep);
    memset(uki, 0x11, 32);
    memset(kernel, 0x22, 32);
    memset(other, 0x33, 32);
}

/* Runs the policy on l against its own replay, expecting {uki, kernel}. */
static int run(const struct logbuf *l, struct pcr4_policy_result *r)
{
    uint8_t q[32], apps[2][32];
    memcpy(apps[0], uki, 32);
    memcpy(apps[1], kernel, 32);
    replay4(l, q);
    return pcr4_policy_check(l->b, l->n, q, (const uint8_t (*)[32])apps, 2, r);
}

static void normal_prefix(struct logbuf *l, int failed_attempts)
{
    log_start(l);
    log_event(l, 0, TPM_EVENTLOG_EV_SEPARATOR, sep);      /* other PCRs are not PCR 4's business */
    log_event(l, 4, TPM_EVENTLOG_EV_EFI_ACTION, calling);
    log_event(l, 4, TPM_EVENTLOG_EV_SEPARATOR, sep);
    for (int i = 0; i < failed_attempts; i++) {
        log_event(l, 4, TPM_EVENTLOG_EV_EFI_ACTION, returning);
        log_event(l, 4, TPM_EVENTLOG_EV_EFI_ACTION, calling);
    }
}

TEST(our_two_applications_after_zero_one_or_three_failed_attempts_pass)
{
    struct logbuf l;
    struct pcr4_policy_result r;
    for (int k = 0; k <= 3; k += (k == 1 ? 2 : 1)) {
        normal_prefix(&l, k);
        log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
        log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
        CHECK(run(&l, &r) == 0);
        CHECK(r.failed_attempts == (unsigned)k);
    }
}

TEST(a_log_that_does_not_replay_to_the_quoted_pcr4_is_refused)
{
    struct logbuf l;
    struct pcr4_policy_result r;
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    uint8_t q[32], a[2][32];
    replay4(&l, q);
    q[31] ^= 1;
    memcpy(a[0], uki, 32);
    memcpy(a[1], kernel, 32);
    CHECK(pcr4_policy_check(l.b, l.n, q, (const uint8_t (*)[32])a, 2, &r) == -1);
    CHECK(strstr(r.why, "replay differs") != NULL);
}

TEST(another_application_before_ours_is_refused_even_if_it_returned)
{
    struct logbuf l;
    struct pcr4_policy_result r;
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, other);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_ACTION, returning);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_ACTION, calling);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    CHECK(run(&l, &r) == -1);
    CHECK(strstr(r.why, "3333333333") && strstr(r.why, "application 1"));
}

TEST(an_application_after_ours_missing_ones_and_reordering_are_refused)
{
    struct logbuf l;
    struct pcr4_policy_result r;
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, other);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "beyond the 2 expected"));
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "1 of the 2 expected"));
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "application 1"));
}

TEST(other_actions_event_types_and_separators_in_pcr4_are_refused)
{
    struct logbuf l;
    struct pcr4_policy_result r;
    uint8_t x[32];
    sha("Exit Boot Services Invocation", x);            /* a real action, but PCR 5's */
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_ACTION, x);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "other than a boot attempt"));
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_POST_CODE, x);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "EV_POST_CODE"));
    normal_prefix(&l, 0);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_SEPARATOR, sep);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "separator out of place"));
    log_start(&l);                                        /* no separator at all */
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_ACTION, calling);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, uki);
    log_event(&l, 4, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, kernel);
    CHECK(run(&l, &r) == -1 && strstr(r.why, "0 separators"));
}

TEST(garbage_and_bad_arguments_fail_cleanly)
{
    struct logbuf l;
    struct pcr4_policy_result r;
    uint8_t q[32] = { 0 }, a[1][32] = { { 0 } };
    memset(&l, 0xEE, sizeof l);
    CHECK(pcr4_policy_check(l.b, 100, q, (const uint8_t (*)[32])a, 1, &r) == -1 && strstr(r.why, "cannot be replayed"));
    CHECK(pcr4_policy_check(NULL, 0, q, (const uint8_t (*)[32])a, 1, &r) == -1);
    CHECK(pcr4_policy_check(l.b, 100, q, (const uint8_t (*)[32])a, PCR4_POLICY_MAX_APPS + 1, &r) == -1);
}

int main(void)
{
    setup();
    RUN(our_two_applications_after_zero_one_or_three_failed_attempts_pass);
    RUN(a_log_that_does_not_replay_to_the_quoted_pcr4_is_refused);
    RUN(another_application_before_ours_is_refused_even_if_it_returned);
    RUN(an_application_after_ours_missing_ones_and_reordering_are_refused);
    RUN(other_actions_event_types_and_separators_in_pcr4_are_refused);
    RUN(garbage_and_bad_arguments_fail_cleanly);
    return test_done();
}
