/* firmware_pcrs: PCR 0-7 event policy; see the header. */
#include "verify/firmware_pcrs.h"
#include <stdio.h>
#include <string.h>

#define EV_EFI_BOOT_SERVICES_DRIVER    0x80000004u
#define EV_EFI_RUNTIME_SERVICES_DRIVER 0x80000005u
#define EV_EFI_VARIABLE_AUTHORITY      0x800000e0u

/* 1 when ev is a genuine separator in bank alg: data 00000000 or FFFFFFFF and digest = H(data). */
static int real_separator(const tpm_eventlog_event *ev, uint16_t alg)
{
    static const uint8_t zero[4] = {0}, ones[4] = {0xff, 0xff, 0xff, 0xff};
    if (ev->type != TPM_EVENTLOG_EV_SEPARATOR || ev->data_len != 4 ||
        (memcmp(ev->data, zero, 4) && memcmp(ev->data, ones, 4)))
        return 0;
    const tpm_eventlog_digest *d = tpm_eventlog_event_digest(ev, alg);
    uint8_t h[TPM_EVENTLOG_MAX_DIGEST];
    return d && tpm_eventlog_hash(alg, ev->data, 4, h) == TPM_EVENTLOG_OK && d->len == tpm_eventlog_alg_size(alg) &&
           !memcmp(h, d->digest, d->len);
}

/* UEFI_VARIABLE_DATA: GUID(16) UnicodeNameLength(8) VariableDataLength(8) name(UTF-16LE) data.
 * Copies the ASCII of the name into name (cap) and points *val at the data; 0, or -1 if malformed. */
static int uefi_variable(const tpm_eventlog_event *ev, char *name, size_t cap, const uint8_t **val, size_t *vlen)
{
    if (ev->data_len < 32 || cap == 0)
        return -1;
    uint64_t nl = 0, dl = 0;
    for (int i = 7; i >= 0; i--) {
        nl = nl << 8 | ev->data[16 + i];
        dl = dl << 8 | ev->data[24 + i];
    }
    if (nl > 256 || dl > ev->data_len || 32 + 2 * nl + dl != ev->data_len)
        return -1;
    size_t k = 0;
    for (uint64_t i = 0; i < nl && k + 1 < cap; i++) {
        uint8_t lo = ev->data[32 + 2 * i], hi = ev->data[33 + 2 * i];
        name[k++] = hi == 0 && lo >= 0x20 && lo < 0x7f ? (char)lo : '?';
    }
    name[k] = 0;
    *val = ev->data + 32 + 2 * nl;
    *vlen = (size_t)dl;
    return 0;
}

static int data_matches_digest(const tpm_eventlog_event *ev, uint16_t alg)
{
    const tpm_eventlog_digest *d = tpm_eventlog_event_digest(ev, alg);
    uint8_t h[TPM_EVENTLOG_MAX_DIGEST];
    return d && tpm_eventlog_hash(alg, ev->data, ev->data_len, h) == TPM_EVENTLOG_OK &&
           d->len == tpm_eventlog_alg_size(alg) && !memcmp(h, d->digest, d->len);
}

int firmware_pcrs_check(const tpm_eventlog *log, uint16_t alg, int allow_option_roms, struct steps *st,
                        struct firmware_pcrs_out *out)
{
    int before = st->failed;
    const char *allow = allow_option_roms ? "--allow-option-roms" : NULL;
    unsigned n[8] = {0}, other[8] = {0}, drivers = 0, apps_elsewhere = 0, bootvars = 0, authorities = 0;
    char bootnames[160] = "";
    size_t bn = 0;
    out->secure_boot = -1;
    out->unexpected = 0;
    for (size_t i = 0; i < log->nevents; i++) {
        const tpm_eventlog_event *ev = &log->events[i];
        if (ev->pcr >= 8 || ev->type == TPM_EVENTLOG_EV_NO_ACTION)
            continue;
        n[ev->pcr]++;
        if (ev->type == EV_EFI_BOOT_SERVICES_DRIVER || ev->type == EV_EFI_RUNTIME_SERVICES_DRIVER)
            drivers++;
        if (ev->type == TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION && ev->pcr != 4)
            apps_elsewhere++;
        if ((ev->pcr == 2 || ev->pcr == 3 || ev->pcr == 6) && !real_separator(ev, alg))
            other[ev->pcr]++;
        char name[64];
        const uint8_t *val;
        size_t vl;
        if (ev->pcr == 1 && ev->type == TPM_EVENTLOG_EV_EFI_VARIABLE_BOOT &&
            uefi_variable(ev, name, sizeof name, &val, &vl) == 0) {
            bootvars++;
            if (bn + strlen(name) + 3 < sizeof bootnames)
                bn += (size_t)snprintf(bootnames + bn, sizeof bootnames - bn, "%s%s", bn ? ", " : "", name);
        }
        if (ev->pcr == 7 && ev->type == EV_EFI_VARIABLE_AUTHORITY)
            authorities++;
        if (ev->pcr == 7 && ev->type == TPM_EVENTLOG_EV_EFI_VARIABLE_DRIVER_CONFIG &&
            uefi_variable(ev, name, sizeof name, &val, &vl) == 0 && !strcmp(name, "SecureBoot") &&
            data_matches_digest(ev, alg))
            out->secure_boot = vl == 1 ? val[0] == 1 : vl == 0 ? 0 : -1;
    }
    steps_add(st, STEP_INFO, "firmware.pcr0", "PCR 0 (firmware code): %u events measured by the firmware", n[0]);
    steps_add(st, STEP_INFO, "firmware.pcr1", "PCR 1 (firmware configuration): %u events, boot variables: %s",
              n[1], bootvars ? bootnames : "none");
    static const char *what[8] = {"", "", "code from option ROMs or devices", "option ROM configuration", "", "",
                                  "platform-specific events"};
    static const unsigned separator_only[] = {2, 3, 6};
    for (size_t k = 0; k < sizeof separator_only / sizeof separator_only[0]; k++) {
        unsigned p = separator_only[k];
        if (other[p]) {
            out->unexpected += other[p];
            steps_check(st, 0, allow, "firmware.pcr_extra", "PCR %u (%s): %u event%s besides the separator: the "
                        "firmware measured something this image does not expect", p, what[p], other[p],
                        other[p] == 1 ? "" : "s");
        } else {
            steps_add(st, STEP_PASS, "firmware.pcr_extra", "PCR %u (%s): nothing but the separator", p, what[p]);
        }
    }
    if (drivers) {
        out->unexpected += drivers;
        steps_check(st, 0, allow, "firmware.drivers", "%u UEFI driver%s from devices or option ROMs ran before the "
                    "image", drivers, drivers == 1 ? "" : "s");
    }
    if (apps_elsewhere) {
        out->unexpected += apps_elsewhere;
        steps_add(st, STEP_FAIL, "firmware.applications", "%u EFI application%s measured outside PCR 4", apps_elsewhere,
                  apps_elsewhere == 1 ? "" : "s");
    }
    steps_add(st, STEP_INFO, "firmware.pcr5", "PCR 5 (boot manager configuration, GPT, ExitBootServices): %u events",
              n[5]);
    steps_add(st, STEP_INFO, "firmware.secure_boot", "PCR 7: Secure Boot is %s%s (%u authority event%s)",
              out->secure_boot == 1 ? "ON" : out->secure_boot == 0 ? "OFF" : "not stated by the log",
              out->secure_boot == 0 ? ": the firmware ran unsigned code such as this UKI without checking signatures" : "",
              authorities, authorities == 1 ? "" : "s");
    return st->failed - before;
}
