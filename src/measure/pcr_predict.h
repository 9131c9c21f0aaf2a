/* PCR prediction for a UEFI boot of our disk image (SHA-256 bank). Only what our own bytes decide:
 * PCR 4 = the boot-manager action, the separator, then each EFI application the firmware loads
 * (Authenticode digests). Firmware-owned PCRs (0-3, 5-7) are never predicted here. Uses the shared
 * extend arithmetic of common/tpm_eventlog. */
#ifndef SEALED_MEASURE_PCR_PREDICT_H
#define SEALED_MEASURE_PCR_PREDICT_H
#include "measure/measure.h"

#define PCR_PREDICT_MAX_APPS 8u
#define PCR_PREDICT_SHA256   32u
/* The EV_EFI_ACTION string edk2's boot manager measures before starting a boot option. */
#define PCR_PREDICT_CALLING_EFI_APP "Calling EFI Application from Boot Option"
/* ... and after a boot option failed or returned, before the next one. */
#define PCR_PREDICT_RETURNING_EFI_APP "Returning from EFI Application from Boot Option"
#define PCR_PREDICT_MAX_FAILED_BOOTS 8u

typedef struct {
    uint32_t type;                         /* TPM_EVENTLOG_EV_* */
    const char *action;                    /* EV_EFI_ACTION text (static), else NULL */
    uint8_t digest[PCR_PREDICT_SHA256];
    uint8_t pcr_after[PCR_PREDICT_SHA256];
} pcr_predict_event;

typedef struct {
    size_t nevents;
    pcr_predict_event events[2 + 2 * PCR_PREDICT_MAX_FAILED_BOOTS + PCR_PREDICT_MAX_APPS];
    uint8_t pcr4[PCR_PREDICT_SHA256];
} pcr_predict_pcr4_result;

/* PCR 4 as edk2's Tcg2Dxe and boot manager build it: EV_EFI_ACTION "Calling EFI Application from
 * Boot Option" and EV_SEPARATOR (0x00000000) at the first boot attempt; for each earlier boot option
 * that failed to load or returned (failed_boots, 0..PCR_PREDICT_MAX_FAILED_BOOTS) EV_EFI_ACTION
 * "Returning from EFI Application from Boot Option" then "Calling ..." again; then one
 * EV_EFI_BOOT_SERVICES_APPLICATION per digest in load order (napps 1..PCR_PREDICT_MAX_APPS). */
measure_err pcr_predict_pcr4(const uint8_t (*app_sha256)[PCR_PREDICT_SHA256], size_t napps,
                             unsigned failed_boots, pcr_predict_pcr4_result *out);
/* systemd-stub (a UKI's boot stub, systemd 252 as in Debian bookworm) measures its payload sections
 * into PCR 11 before starting the kernel: for each of .linux .osrel .cmdline .initrd .splash .dtb
 * .pcrpkey present with a non-zero VirtualSize, in that order, EV_IPL of the section name with its
 * NUL, then EV_IPL of the section's VirtualSize bytes as loaded (raw data, zero-filled past it). */
#define PCR_PREDICT_UKI_SECTIONS 7u

typedef struct {
    char section[9];
    int is_name;                           /* 1: the name event, 0: the contents event */
    uint8_t digest[PCR_PREDICT_SHA256];
} pcr_predict_uki_event;

typedef struct {
    int is_uki;                            /* the image has a .linux section */
    size_t nevents;
    pcr_predict_uki_event events[2 * PCR_PREDICT_UKI_SECTIONS];
    uint8_t pcr11[PCR_PREDICT_SHA256];
    /* systemd-stub starts the embedded kernel with LoadImage, so the firmware measures the .linux
     * section, a PE image itself, into PCR 4 after the UKI: its Authenticode digest. */
    int has_linux_pe;
    uint8_t linux_authenticode[PCR_PREDICT_SHA256];
    /* The Linux EFI stub (seen with Debian's 6.1) then measures into PCR 9, as EV_EVENT_TAG:
     * "LOADED_IMAGE::LoadOptions" = SHA-256 of the UTF-16 command line systemd-stub passes (the
     * .cmdline section, with its NUL), and "Linux initrd" = SHA-256 of the initrd (.initrd). */
    int has_pcr9;                          /* predicted only with both .cmdline and .initrd (the case
                                              verified on a real boot) and a UTF-8 BMP command line */
    int has_load_options, has_initrd;
    uint8_t load_options_digest[PCR_PREDICT_SHA256];
    uint8_t initrd_digest[PCR_PREDICT_SHA256];
    uint8_t pcr9[PCR_PREDICT_SHA256];
} pcr_predict_uki_result;

/* Computes PCR 11 for a UKI image held in image[0..len). A PE without a .linux section is not a UKI:
 * is_uki = 0 and MEASURE_OK. Malformed PE: MEASURE_ERR_PE_FORMAT. */
measure_err pcr_predict_uki_pcr11(const uint8_t *image, size_t len, pcr_predict_uki_result *out);
#endif
