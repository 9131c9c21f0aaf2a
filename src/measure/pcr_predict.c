/* PCR 4 prediction (see pcr_predict.h). */
#include "measure/pcr_predict.h"

#include <string.h>

#include "common/tpm_eventlog.h"
#include "measure/pe_hash.h"

#include <openssl/evp.h>

static measure_err add(pcr_predict_pcr4_result *r, uint32_t type, const uint8_t digest[PCR_PREDICT_SHA256])
{
    pcr_predict_event *e = &r->events[r->nevents++];
    e->type = type;
    memcpy(e->digest, digest, PCR_PREDICT_SHA256);
    if (tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, r->pcr4, digest) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    memcpy(e->pcr_after, r->pcr4, PCR_PREDICT_SHA256);
    return MEASURE_OK;
}

static measure_err add_action(pcr_predict_pcr4_result *r, const char *text)
{
    uint8_t d[PCR_PREDICT_SHA256];
    if (tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, text, strlen(text), d) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    measure_err rc = add(r, TPM_EVENTLOG_EV_EFI_ACTION, d);
    if (rc == MEASURE_OK)
        r->events[r->nevents - 1].action = text;
    return rc;
}

measure_err pcr_predict_pcr4(const uint8_t (*app_sha256)[PCR_PREDICT_SHA256], size_t napps,
                             unsigned failed_boots, pcr_predict_pcr4_result *out)
{
    static const uint8_t separator[4] = { 0, 0, 0, 0 };
    uint8_t d[PCR_PREDICT_SHA256];
    measure_err rc;

    if (!app_sha256 || !out || napps == 0 || napps > PCR_PREDICT_MAX_APPS ||
        failed_boots > PCR_PREDICT_MAX_FAILED_BOOTS)
        return MEASURE_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if ((rc = add_action(out, PCR_PREDICT_CALLING_EFI_APP)) != MEASURE_OK)
        return rc;
    if (tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, separator, sizeof(separator), d) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    if ((rc = add(out, TPM_EVENTLOG_EV_SEPARATOR, d)) != MEASURE_OK)
        return rc;
    for (unsigned i = 0; i < failed_boots; i++) {
        if ((rc = add_action(out, PCR_PREDICT_RETURNING_EFI_APP)) != MEASURE_OK ||
            (rc = add_action(out, PCR_PREDICT_CALLING_EFI_APP)) != MEASURE_OK)
            return rc;
    }
    for (size_t i = 0; i < napps; i++)
        if ((rc = add(out, TPM_EVENTLOG_EV_EFI_BOOT_SERVICES_APPLICATION, app_sha256[i])) != MEASURE_OK)
            return rc;
    return MEASURE_OK;
}

static const char *const UKI_SECTIONS[PCR_PREDICT_UKI_SECTIONS] = {
    ".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey",
};

/* SHA-256 of a section as the loaded image holds it: raw bytes, then zeros up to VirtualSize. */
static measure_err section_digest(const uint8_t *image, const pe_section *s, uint8_t out[PCR_PREDICT_SHA256])
{
    static const uint8_t zeros[4096];
    measure_err rc = MEASURE_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return MEASURE_ERR_NOMEM;
    uint32_t from_raw = s->raw_size < s->virtual_size ? s->raw_size : s->virtual_size;
    uint64_t pad = (uint64_t)s->virtual_size - from_raw;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, image + s->raw_ptr, from_raw) != 1) {
        rc = MEASURE_ERR_CRYPTO;
        goto out;
    }
    while (pad > 0) {
        size_t n = pad > sizeof(zeros) ? sizeof(zeros) : (size_t)pad;
        if (EVP_DigestUpdate(ctx, zeros, n) != 1) {
            rc = MEASURE_ERR_CRYPTO;
            goto out;
        }
        pad -= n;
    }
    if (EVP_DigestFinal_ex(ctx, out, NULL) != 1)
        rc = MEASURE_ERR_CRYPTO;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* UTF-8 command line (up to its first NUL) to UTF-16LE with a terminating NUL, as systemd-stub hands
 * it to the kernel as LoadOptions. BMP characters only; returns the byte length or 0 (unsupported). */
static size_t cmdline_utf16(const uint8_t *s, size_t n, uint8_t *out, size_t cap)
{
    size_t o = 0, i = 0;
    while (i < n && s[i]) {
        uint32_t c = s[i], need = 0;
        if (c < 0x80) need = 0;
        else if ((c & 0xE0) == 0xC0) { c &= 0x1F; need = 1; }
        else if ((c & 0xF0) == 0xE0) { c &= 0x0F; need = 2; }
        else return 0;
        if (n - i - 1 < need)
            return 0;
        for (uint32_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (s[i + k] & 0x3F);
        }
        i += 1 + need;
        if (o + 2 > cap)
            return 0;
        out[o++] = (uint8_t)c;
        out[o++] = (uint8_t)(c >> 8);
    }
    if (o + 2 > cap)
        return 0;
    out[o++] = 0;
    out[o++] = 0;
    return o;
}

measure_err pcr_predict_uki_pcr11(const uint8_t *image, size_t len, pcr_predict_uki_result *out)
{
    pe_section secs[MEASURE_MAX_PE_SECTIONS];
    size_t n = 0;
    measure_err rc;

    if (!image || !out)
        return MEASURE_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if ((rc = pe_sections(image, len, secs, MEASURE_MAX_PE_SECTIONS, &n)) != MEASURE_OK)
        return rc;
    for (size_t k = 0; k < PCR_PREDICT_UKI_SECTIONS; k++) {
        const pe_section *s = NULL;
        for (size_t i = 0; i < n && !s; i++)      /* the first section of that name, as the stub */
            if (strcmp(secs[i].name, UKI_SECTIONS[k]) == 0)
                s = &secs[i];
        if (k == 0)
            out->is_uki = s != NULL;
        if (!out->is_uki)
            return MEASURE_OK;
        if (!s || s->virtual_size == 0)
            continue;
        if (s->virtual_size > MEASURE_MAX_PE_BYTES)
            return MEASURE_ERR_PE_FORMAT;
        if (k == 0 && s->raw_size >= s->virtual_size) {
            size_t dl = 0;
            if (pe_authenticode_hash(image + s->raw_ptr, s->virtual_size, "sha256",
                                     out->linux_authenticode, &dl, NULL) == MEASURE_OK)
                out->has_linux_pe = 1;
        }
        if (strcmp(UKI_SECTIONS[k], ".cmdline") == 0) {
            static uint8_t u16[2 * MEASURE_MAX_APPEND + 2];
            size_t avail = s->raw_size < s->virtual_size ? s->raw_size : s->virtual_size;
            size_t ul = avail <= MEASURE_MAX_APPEND ? cmdline_utf16(image + s->raw_ptr, avail, u16, sizeof(u16)) : 0;
            if (ul > 2) {
                if (tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, u16, ul, out->load_options_digest) != TPM_EVENTLOG_OK)
                    return MEASURE_ERR_CRYPTO;
                out->has_load_options = 1;
            } else if (ul == 0) {
                out->has_pcr9 = -1;        /* cannot say what the stub passes */
            }
        }
        for (int is_name = 1; is_name >= 0; is_name--) {
            pcr_predict_uki_event *e = &out->events[out->nevents++];
            memcpy(e->section, s->name, sizeof(e->section));
            e->is_name = is_name;
            if (is_name)
                rc = tpm_eventlog_hash(TPM_EVENTLOG_ALG_SHA256, UKI_SECTIONS[k], strlen(UKI_SECTIONS[k]) + 1,
                                       e->digest) == TPM_EVENTLOG_OK ? MEASURE_OK : MEASURE_ERR_CRYPTO;
            else
                rc = section_digest(image, s, e->digest);
            if (rc)
                return rc;
            if (tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, out->pcr11, e->digest) != TPM_EVENTLOG_OK)
                return MEASURE_ERR_CRYPTO;
            if (!is_name && strcmp(UKI_SECTIONS[k], ".initrd") == 0) {
                memcpy(out->initrd_digest, e->digest, PCR_PREDICT_SHA256);
                out->has_initrd = 1;
            }
        }
    }
    /* PCR 9, in the Linux stub's order: load options, then the initrd. */
    if (out->has_pcr9 == -1) {
        out->has_pcr9 = 0;
        return MEASURE_OK;
    }
    if (!out->has_load_options || !out->has_initrd)
        return MEASURE_OK;                 /* only the case seen on a real boot is predicted */
    out->has_pcr9 = 1;
    if (out->has_load_options &&
        tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, out->pcr9, out->load_options_digest) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    if (out->has_initrd &&
        tpm_eventlog_extend(TPM_EVENTLOG_ALG_SHA256, out->pcr9, out->initrd_digest) != TPM_EVENTLOG_OK)
        return MEASURE_ERR_CRYPTO;
    return MEASURE_OK;
}
