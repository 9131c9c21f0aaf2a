/* snp_tcb_floor: the built-in minimum TCB per AMD product and silicon line (Milan, Milan-X, Genoa,
 * Genoa-X, Bergamo/Siena, Turin), each value taken from an AMD security bulletin named next to it
 * in snp_tcb_floor.c, and the component-wise comparisons the SNP policy uses. Pure data and
 * arithmetic: reads no files, decides nothing about which TCB of a report to compare. */
#ifndef SEALED_VERIFY_SNP_TCB_FLOOR_H
#define SEALED_VERIFY_SNP_TCB_FLOOR_H
#include <stddef.h>
#include "common/snp_report.h"

struct snp_tcb_floor {
    snp_product product;
    const char *line;        /* "Milan (B1)", "Genoa-X (B2)", ... */
    struct snp_tcb min;      /* raw is 0; fmc only for Turin */
    const char *source;      /* the bulletins the values come from, with their dates */
};

/* The floor for a report: its product's silicon line chosen by the report's CPUID family, model
 * and stepping (version >= 3). A report without CPUID fields, or an unlisted model, gets the
 * product's classic line, whose microcode floor is the highest (fails closed for X parts: pass
 * --min-tcb). NULL for SNP_PRODUCT_UNKNOWN. r may be NULL (classic line). Never fails otherwise. */
const struct snp_tcb_floor *snp_tcb_floor_for(snp_product p, const struct snp_report *r);

/* All built-in floors (for docs and tests); *n receives the count. */
const struct snp_tcb_floor *snp_tcb_floor_table(size_t *n);

/* 1 if every component of t (fmc only on Turin) is >= min's, else 0. When deficient is given, it
 * receives a list such as "snp 8 < 29, microcode 115 < 222" (cap bytes, NUL-terminated). */
int snp_tcb_at_least(const struct snp_tcb *t, const struct snp_tcb *min, snp_product p, char *deficient, size_t cap);

/* 1 if every component of a equals b's (fmc only on Turin). */
int snp_tcb_equal(const struct snp_tcb *a, const struct snp_tcb *b, snp_product p);

/* "bl=3 tee=0 snp=8 ucode=115" (Turin: "fmc=1 bl=..") into out. */
void snp_tcb_format(const struct snp_tcb *t, snp_product p, char *out, size_t cap);
#endif
