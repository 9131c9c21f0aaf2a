/* trust: the vocabulary of trust statements, one per piece of evidence and one per result, shared
 * by the service (which states what its evidence is) and the verifier (which recomputes it from
 * what it checked and fails a result that claims more). A result's statement is its items'
 * statements joined by '+', in evidence order. Strings only; decides nothing by itself.
 *
 *   none                       no hardware evidence; signed by the service key only
 *   snp-measured-direct-boot   SEV-SNP report whose launch digest covers firmware, kernel, initrd and
 *                              command line (KVM/QEMU measured direct boot), AMD-rooted
 *   gce-snp-firmware           SEV-SNP report measuring Google's firmware only, AMD-rooted; the image
 *                              is proven (if at all) by the vTPM item beside it
 *   snp-firmware               the same elsewhere (e.g. AWS): the platform is genuine, the image is not
 *                              measured by it
 *   tdx-rtmr                   TDX quote, Intel-rooted, boot chain in the RTMRs
 *   gce-vtpm-google-rooted     vTPM quote whose AK certificate chains to Google's pinned vTPM roots
 *   oci-vtpm-unrooted          vTPM quote on OCI: Oracle publishes no AK/EK certificate, so nothing
 *                              ties the AK to a TPM
 *   vtpm-unrooted              vTPM/TPM quote with no vendor-rooted AK certificate (swtpm, any other)
 */
#ifndef SEALED_TRUST_H
#define SEALED_TRUST_H
#include <stddef.h>

typedef enum {
    TRUST_NONE = 0,
    TRUST_VTPM_UNROOTED,
    TRUST_OCI_VTPM_UNROOTED,
    TRUST_SNP_FIRMWARE,
    TRUST_GCE_SNP_FIRMWARE,
    TRUST_GCE_VTPM_GOOGLE_ROOTED,
    TRUST_TDX_RTMR,
    TRUST_SNP_MEASURED_DIRECT_BOOT,
    TRUST_UNKNOWN,                  /* a name this build does not know */
} trust_item;

#define TRUST_MAX_ITEMS 8u          /* statements in one result (the evidence array's cap) */
#define TRUST_MAX_LEN   256u        /* bytes of a joined statement */

/* The name of an item ("none", "gce-vtpm-google-rooted", ...). */
const char *trust_item_name(trust_item t);
/* The item a name stands for (TRUST_UNKNOWN for anything else); (ptr, len), no NUL needed. */
trust_item trust_item_parse(const char *s, size_t len);
/* 1 when the item is evidence of real hardware rooted in a vendor key (not none, not unrooted). */
int trust_item_is_rooted(trust_item t);
/* 1 when the item by itself proves which image ran (measured direct boot, TDX RTMRs, a rooted vTPM
 * quote against a manifest's PCRs); 0 for firmware-only and unrooted items. */
int trust_item_proves_image(trust_item t);
/* A plain-language sentence for the item, for pages and the verifier's summary. */
const char *trust_item_describe(trust_item t);

/* Splits a joined statement into items (at most max); returns the count, or -1 when there are too
 * many, an item is empty, or the text is longer than TRUST_MAX_LEN. Unknown names give TRUST_UNKNOWN. */
int trust_split(const char *s, size_t len, trust_item *out, size_t max);
/* Joins items with '+' into out (cap bytes); 0, or -1 when it does not fit. */
int trust_join(const trust_item *items, size_t n, char *out, size_t cap);
#endif
