/* gce_instance_ext: Google's instance-identity extension (OID 1.3.6.1.4.1.11129.2.1.21) in the
 * AK and EK certificates GCE writes into a Shielded VM's vTPM: which zone, project and instance
 * held the TPM, and its security properties. Parses the extension's DER value only (bounded, no
 * allocation); whether the certificate is genuine is the chain check's business, not this one's. */
#ifndef SEALED_GCE_INSTANCE_EXT_H
#define SEALED_GCE_INSTANCE_EXT_H
#include <stddef.h>
#include <stdint.h>

#define GCE_INSTANCE_EXT_OID "1.3.6.1.4.1.11129.2.1.21"
#define GCE_EXT_MAX_STR 128u   /* bytes of zone, project id or instance name */

typedef enum {
    GCE_EXT_OK = 0,
    GCE_EXT_ERR_DER,        /* not well-formed DER (tag, length, truncation, trailing bytes) */
    GCE_EXT_ERR_TYPE,       /* a field has the wrong ASN.1 type */
    GCE_EXT_ERR_RANGE,      /* a number is negative or too large, a string too long or not printable */
} gce_ext_err;

struct gce_instance_info {
    char zone[GCE_EXT_MAX_STR + 1];
    uint64_t project_number;
    char project_id[GCE_EXT_MAX_STR + 1];
    uint64_t instance_id;
    char instance_name[GCE_EXT_MAX_STR + 1];
    int has_security;                   /* the optional [0] security properties were present */
    uint64_t security_version;          /* [0] */
    int is_production;                  /* [1] */
    int tpm_data_always_encrypted;      /* [2] */
    int suspend_resume_always_disabled; /* [3] */
    int vmtd_always_disabled;           /* [4] */
    int always_in_yarn;                 /* [5] */
};

/* Parses the extension value (the OCTET STRING's contents) in (der, len) into *out. Strings are
 * UTF8String with printable ASCII only (so they can be shown without escaping surprises). */
gce_ext_err gce_instance_ext_parse(const uint8_t *der, size_t len, struct gce_instance_info *out);
const char *gce_ext_strerror(gce_ext_err e);
#endif
