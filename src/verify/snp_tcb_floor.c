/* snp_tcb_floor: built-in minimum TCBs per AMD product and silicon line; see snp_tcb_floor.h.
 *
 * Where the numbers come from. AMD's security bulletins (https://www.amd.com/en/resources/
 * product-security/bulletin/amd-sb-NNNN.html) list, per product, the firmware and microcode that
 * mitigate each issue and the TCB value a guest sees in its attestation report: TCB[SNP] is the SEV
 * firmware's SNP SPL, TCB[MICROCODE] is the low byte of the microcode patch level (0x0A0011DE ->
 * 0xDE). Microcode patch levels are numbered per silicon line, so Milan-X, Genoa-X and the Zen 4c
 * parts (Bergamo, Siena) have their own, lower, microcode floors. A component no bulletin floors is
 * 0 here. Each value below names its bulletin and the bulletin's publication date; docs/verify.md
 * has the same table. Raising a floor is a one-line change here plus the table in the docs. */
#include "verify/snp_tcb_floor.h"
#include <stdio.h>
#include <string.h>

#define T(f, b, t, s, u) {.raw = 0, .fmc = (f), .bootloader = (b), .tee = (t), .snp = (s), .microcode = (u)}

static const struct snp_tcb_floor floors[] = {
    /* index 0..: the first entry of each product is its classic line (the fallback) */
    {SNP_PRODUCT_MILAN, "Milan (B1)",
     T(0, 0, 0,
       0x1D,   /* SNP: AMD-SB-3030, 2026-05 (CVE-2025-61971, NBIO lock bits): TCB[SNP] >= 0x1D */
       0xDE),  /* microcode: AMD-SB-3030, 2026-05: B1 0x0A0011DE (above AMD-SB-3019's 0x0A0011DB, 2025-02-03) */
     "AMD-SB-3030 (2026-05); microcode above AMD-SB-3019 (2025-02-03)"},
    {SNP_PRODUCT_MILAN, "Milan-X (B2)",
     T(0, 0, 0,
       0x1D,   /* SNP: AMD-SB-3030, 2026-05 */
       0x47),  /* microcode: AMD-SB-3030, 2026-05: B2 0x0A001247 (AMD-SB-3019, 2025-02-03: 0x0A001244) */
     "AMD-SB-3030 (2026-05); microcode above AMD-SB-3019 (2025-02-03)"},
    {SNP_PRODUCT_GENOA, "Genoa (B1)",
     T(0, 0, 0,
       0x1B,   /* SNP: AMD-SB-3020, 2025-10-14 (CVE-2025-0033, RMP init): SEV FW 1.37.31, SPL 0x1B */
       0x56),  /* microcode: AMD-SB-3027, 2026-01 (CVE-2025-29943): TCB[MICROCODE] >= 0x56 (0x0A101156) */
     "AMD-SB-3020 (2025-10-14), AMD-SB-3027 (2026-01)"},
    {SNP_PRODUCT_GENOA, "Genoa-X (B2)",
     T(0, 0, 0,
       0x1B,   /* SNP: AMD-SB-3020, 2025-10-14 */
       0x51),  /* microcode: AMD-SB-3027, 2026-01: Genoa-X TCB[MICROCODE] >= 0x51 (0x0A101251) */
     "AMD-SB-3020 (2025-10-14), AMD-SB-3027 (2026-01)"},
    {SNP_PRODUCT_GENOA, "Bergamo/Siena (Zen 4c)",
     T(0, 0, 0,
       0x1B,   /* SNP: AMD-SB-3020, 2025-10-14 (same SEV firmware as Genoa) */
       0x19),  /* microcode: AMD-SB-3019, 2025-02-03: 0x0AA00219; no later Zen 4c value transcribed */
     "AMD-SB-3020 (2025-10-14); microcode AMD-SB-3019 (2025-02-03)"},
    {SNP_PRODUCT_TURIN, "Turin",
     T(0, 0, 0,   /* FMC, bootloader, TEE: no bulletin value transcribed */
       0x04,   /* SNP: AMD-SB-3020, 2025-10-14: Turin SPL 0x04 */
       0x51),  /* microcode: AMD-SB-3027, 2026-01: Turin TCB[MICROCODE] >= 0x51 (AMD-SB-3020: 0x0B002150) */
     "AMD-SB-3020 (2025-10-14), AMD-SB-3027 (2026-01)"},
};
#undef T

const struct snp_tcb_floor *snp_tcb_floor_table(size_t *n)
{
    *n = sizeof floors / sizeof floors[0];
    return floors;
}

static const struct snp_tcb_floor *by_line(const char *line)
{
    for (size_t i = 0; i < sizeof floors / sizeof floors[0]; i++)
        if (!strcmp(floors[i].line, line))
            return &floors[i];
    return NULL;
}

const struct snp_tcb_floor *snp_tcb_floor_for(snp_product p, const struct snp_report *r)
{
    int cpuid = r && r->version >= 3;
    uint8_t fam = cpuid ? r->cpuid_fam_id : 0, mod = cpuid ? r->cpuid_mod_id : 0, step = cpuid ? r->cpuid_step : 0;
    switch (p) {
    case SNP_PRODUCT_MILAN:
        /* Milan is family 19h model 01h; stepping 2 is Milan-X */
        return by_line(fam == 0x19 && mod == 0x01 && step == 2 ? "Milan-X (B2)" : "Milan (B1)");
    case SNP_PRODUCT_GENOA:
        if (fam == 0x19 && mod >= 0xA0 && mod <= 0xAF)
            return by_line("Bergamo/Siena (Zen 4c)");
        return by_line(fam == 0x19 && mod >= 0x10 && mod <= 0x1F && step == 2 ? "Genoa-X (B2)" : "Genoa (B1)");
    case SNP_PRODUCT_TURIN:
        return by_line("Turin");
    case SNP_PRODUCT_UNKNOWN:
        break;
    }
    return NULL;
}

static size_t add(char *out, size_t cap, size_t n, const char *name, unsigned have, unsigned want)
{
    if (n >= cap)
        return n;
    int w = snprintf(out + n, cap - n, "%s%s %u < %u", n ? ", " : "", name, have, want);
    return w < 0 ? n : n + (size_t)w;
}

int snp_tcb_at_least(const struct snp_tcb *t, const struct snp_tcb *min, snp_product p, char *def, size_t cap)
{
    size_t n = 0;
    int ok = 1;
    char dummy[1];
    if (!def || !cap) {
        def = dummy;
        cap = sizeof dummy;
    }
    def[0] = 0;
    if (p == SNP_PRODUCT_TURIN && t->fmc < min->fmc)
        ok = 0, n = add(def, cap, n, "fmc", t->fmc, min->fmc);
    if (t->bootloader < min->bootloader)
        ok = 0, n = add(def, cap, n, "bootloader", t->bootloader, min->bootloader);
    if (t->tee < min->tee)
        ok = 0, n = add(def, cap, n, "tee", t->tee, min->tee);
    if (t->snp < min->snp)
        ok = 0, n = add(def, cap, n, "snp", t->snp, min->snp);
    if (t->microcode < min->microcode)
        ok = 0, n = add(def, cap, n, "microcode", t->microcode, min->microcode);
    if (n >= cap)
        def[cap - 1] = 0;
    return ok;
}

int snp_tcb_equal(const struct snp_tcb *a, const struct snp_tcb *b, snp_product p)
{
    return a->bootloader == b->bootloader && a->tee == b->tee && a->snp == b->snp && a->microcode == b->microcode &&
           (p != SNP_PRODUCT_TURIN || a->fmc == b->fmc);
}

void snp_tcb_format(const struct snp_tcb *t, snp_product p, char *out, size_t cap)
{
    if (p == SNP_PRODUCT_TURIN)
        snprintf(out, cap, "fmc=%u bl=%u tee=%u snp=%u ucode=%u", t->fmc, t->bootloader, t->tee, t->snp, t->microcode);
    else
        snprintf(out, cap, "bl=%u tee=%u snp=%u ucode=%u", t->bootloader, t->tee, t->snp, t->microcode);
}
