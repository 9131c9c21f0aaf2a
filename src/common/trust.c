/* trust: names, parsing and descriptions of trust statements; see the header. */
#include "common/trust.h"
#include <stdio.h>
#include <string.h>

static const struct trust_entry {
    trust_item t;
    const char *name;
    int rooted, image;
    const char *what;
} ITEMS[] = {
    {TRUST_NONE, "none", 0, 0, "no hardware evidence: signed by the service key only"},
    {TRUST_VTPM_UNROOTED, "vtpm-unrooted", 0, 0,
     "a TPM quote whose attestation key no vendor certified: it proves only what the key's holder signed"},
    {TRUST_OCI_VTPM_UNROOTED, "oci-vtpm-unrooted", 0, 0,
     "an OCI Shielded instance's vTPM quote: Oracle publishes no certificate for its vTPM keys, so nothing "
     "ties the quote to Oracle's hardware"},
    {TRUST_SNP_FIRMWARE, "snp-firmware", 1, 0,
     "an AMD SEV-SNP report (AMD-rooted) measuring the cloud's firmware only, not this image"},
    {TRUST_GCE_SNP_FIRMWARE, "gce-snp-firmware", 1, 0,
     "an AMD SEV-SNP report (AMD-rooted) of a GCE Confidential VM: it measures Google's firmware, not this image"},
    {TRUST_GCE_VTPM_GOOGLE_ROOTED, "gce-vtpm-google-rooted", 1, 1,
     "a GCE vTPM quote whose attestation key Google's vTPM CA certified: the image's boot chain, as Google's "
     "host vTPM saw it"},
    {TRUST_TDX_RTMR, "tdx-rtmr", 1, 1, "an Intel TDX quote (Intel-rooted) with the boot chain in its RTMRs"},
    {TRUST_SNP_MEASURED_DIRECT_BOOT, "snp-measured-direct-boot", 1, 1,
     "an AMD SEV-SNP report (AMD-rooted) whose launch digest covers the firmware, kernel, initramfs and "
     "command line of this image"},
};
#define NITEMS (sizeof ITEMS / sizeof ITEMS[0])

static const struct trust_entry *find(trust_item t)
{
    for (size_t i = 0; i < NITEMS; i++)
        if (ITEMS[i].t == t)
            return &ITEMS[i];
    return NULL;
}

const char *trust_item_name(trust_item t)
{
    const struct trust_entry *e = find(t);
    return e ? e->name : "unknown";
}

trust_item trust_item_parse(const char *s, size_t len)
{
    for (size_t i = 0; i < NITEMS; i++)
        if (strlen(ITEMS[i].name) == len && !memcmp(ITEMS[i].name, s, len))
            return ITEMS[i].t;
    return TRUST_UNKNOWN;
}

int trust_item_is_rooted(trust_item t)
{
    const struct trust_entry *e = find(t);
    return e && e->rooted;
}

int trust_item_proves_image(trust_item t)
{
    const struct trust_entry *e = find(t);
    return e && e->image;
}

const char *trust_item_describe(trust_item t)
{
    const struct trust_entry *e = find(t);
    return e ? e->what : "a kind of evidence this verifier does not know";
}

int trust_split(const char *s, size_t len, trust_item *out, size_t max)
{
    if (len == 0 || len > TRUST_MAX_LEN)
        return -1;
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '+')
            continue;
        if (i == start || n == max)
            return -1;
        out[n++] = trust_item_parse(s + start, i - start);
        start = i + 1;
    }
    return (int)n;
}

int trust_join(const trust_item *items, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    if (cap == 0)
        return -1;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + k, cap - k, "%s%s", i ? "+" : "", trust_item_name(items[i]));
        if (w < 0 || (size_t)w >= cap - k)
            return -1;
        k += (size_t)w;
    }
    return 0;
}
