/* snp_report: the AMD SEV-SNP ATTESTATION_REPORT (SEV-SNP Firmware ABI, "ATTESTATION_REPORT
 * Structure", versions 2, 3 and 5; Turin's TCB_VERSION layout) and the extended-report certificate
 * table (GUID, offset, length entries; SNP_GET_EXT_REPORT / configfs-tsm auxblob). Decodes into
 * fixed structs, and checks the report's ECDSA P-384 signature with a caller-given key. Shared by
 * sealed-verify and the service's SNP evidence provider. Never decides policy, never trusts a
 * certificate: chains and TCB rules belong to the verifier. All parsers take (ptr, len). */
#ifndef SEALED_SNP_REPORT_H
#define SEALED_SNP_REPORT_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define SNP_REPORT_SIZE        0x4A0u  /* 1184 bytes */
#define SNP_REPORT_SIGNED_LEN  0x2A0u  /* bytes 0x000-0x29F are signed */
#define SNP_REPORT_SIG_OFFSET  0x2A0u
#define SNP_SIG_COMPONENT_LEN  72u     /* R and S, little-endian, zero-extended */
#define SNP_CERT_TABLE_MAX     16u     /* entries we accept in a certificate table */
#define SNP_CERT_TABLE_MAX_BYTES (1024u * 1024u)

/* Report versions this code knows the layout of. Later versions parse with the newest layout
 * (fields are only ever appended in reserved space) and are flagged by snp_report_version_known. */
#define SNP_REPORT_VERSION_MIN 2u
#define SNP_REPORT_VERSION_MAX_KNOWN 5u

/* GUEST_POLICY bits (ABI "GUEST_POLICY Structure"). */
#define SNP_POLICY_SMT            (1ull << 16)
#define SNP_POLICY_RESERVED_ONE   (1ull << 17)
#define SNP_POLICY_MIGRATE_MA     (1ull << 18)
#define SNP_POLICY_DEBUG          (1ull << 19)
#define SNP_POLICY_SINGLE_SOCKET  (1ull << 20)

/* Signing-key selector, bits 4:2 of the word at 0x48. */
#define SNP_SIGNER_VCEK 0u
#define SNP_SIGNER_VLEK 1u
#define SNP_SIGNER_NONE 7u

typedef enum {
    SNP_OK = 0,
    SNP_ERR_ARG,        /* NULL pointer */
    SNP_ERR_SIZE,       /* buffer is not exactly one report / table overruns its buffer */
    SNP_ERR_VERSION,    /* report version below 2 */
    SNP_ERR_FORMAT,     /* malformed table entry, duplicate, overlap, too many entries */
    SNP_ERR_SIG_ALGO,   /* SIGNATURE_ALGO is not 1 (ECDSA P-384 with SHA-384) */
    SNP_ERR_KEY,        /* the key is not an EC P-384 public key */
    SNP_ERR_SIGNATURE,  /* signature does not verify */
    SNP_ERR_NOMEM,
} snp_err;

typedef enum {
    SNP_PRODUCT_UNKNOWN = 0,
    SNP_PRODUCT_MILAN,
    SNP_PRODUCT_GENOA,
    SNP_PRODUCT_TURIN,
} snp_product;

/* A decoded TCB_VERSION. Milan/Genoa: byte0 bootloader, byte1 TEE, byte6 SNP, byte7 microcode.
 * Turin: byte0 FMC, byte1 bootloader, byte2 TEE, byte3 SNP, byte7 microcode. */
struct snp_tcb {
    uint64_t raw;
    uint8_t fmc;          /* Turin only; 0 otherwise */
    uint8_t bootloader, tee, snp, microcode;
};

/* Every field of a report, copied out (no pointers into the input). */
struct snp_report {
    uint32_t version, guest_svn;
    uint64_t policy;
    uint8_t  family_id[16], image_id[16];
    uint32_t vmpl, signature_algo;
    uint64_t current_tcb, platform_info;
    uint32_t key_info;            /* 0x48: author_key_en (bit 0), mask_chip_key (1), signing_key (4:2) */
    uint8_t  report_data[64];
    uint8_t  measurement[48];
    uint8_t  host_data[32];
    uint8_t  id_key_digest[48], author_key_digest[48];
    uint8_t  report_id[32], report_id_ma[32];
    uint64_t reported_tcb;
    uint8_t  cpuid_fam_id, cpuid_mod_id, cpuid_step;   /* version >= 3, else 0 */
    uint8_t  chip_id[64];
    uint64_t committed_tcb;
    uint8_t  current_build, current_minor, current_major;
    uint8_t  committed_build, committed_minor, committed_major;
    uint64_t launch_tcb;
    uint64_t launch_mit_vector, current_mit_vector;    /* version >= 5, else 0 */
    uint8_t  sig_r[SNP_SIG_COMPONENT_LEN], sig_s[SNP_SIG_COMPONENT_LEN];  /* as in the report (LE) */
    int      reserved_nonzero;    /* 1 if a reserved byte of the signed area is not zero */
};

/* Decodes exactly SNP_REPORT_SIZE bytes. Fails on any other length or a version below 2. */
snp_err snp_report_parse(const uint8_t *buf, size_t len, struct snp_report *out);

/* 1 for the versions whose layout this code was written against (2, 3, 5), else 0. */
int snp_report_version_known(uint32_t version);
/* SNP_SIGNER_VCEK, _VLEK, _NONE or another 3-bit value. */
unsigned snp_report_signer(const struct snp_report *r);
const char *snp_signer_name(unsigned signer);           /* "VCEK", "VLEK", "none", "reserved" */

/* Product from the CPUID fields of a version >= 3 report; UNKNOWN for version 2 or unknown ids. */
snp_product snp_report_product(const struct snp_report *r);
const char *snp_product_name(snp_product p);            /* "Milan", "Genoa", "Turin", "unknown" */
/* Parses "Milan", "Genoa", "Turin" (case-insensitive), also KDS productName values such as
 * "Milan-B0"; UNKNOWN otherwise. */
snp_product snp_product_from_name(const char *s, size_t len);

/* Splits a TCB_VERSION by the product's layout (Turin differs; others use Milan's). */
void snp_tcb_decode(uint64_t raw, snp_product p, struct snp_tcb *out);

/* Verifies the signature at 0x2A0 over bytes 0x000-0x29F of a whole raw report with vek, an
 * EC P-384 public key (the VCEK or VLEK). SNP_OK only if it verifies. */
snp_err snp_report_verify_signature(const uint8_t *report, size_t len, EVP_PKEY *vek);

const char *snp_strerror(snp_err e);

/* ---- extended-report certificate table ------------------------------------------------------ */

typedef enum {
    SNP_CERT_OTHER = 0,
    SNP_CERT_VCEK,
    SNP_CERT_VLEK,
    SNP_CERT_ASK,
    SNP_CERT_ARK,
    SNP_CERT_CRL,
} snp_cert_kind;

struct snp_cert_entry {
    snp_cert_kind kind;
    uint8_t guid[16];        /* as stored (RFC 4122 byte order) */
    const uint8_t *data;     /* borrowed from the table buffer */
    size_t len;
};

struct snp_cert_table {
    size_t n;
    struct snp_cert_entry e[SNP_CERT_TABLE_MAX];
};

/* Parses a table: 24-byte entries {GUID[16], u32 offset, u32 length} (little-endian) ended by an
 * all-zero entry; offsets are from the start of buf. Every blob must lie inside buf, after the
 * terminator, and not overlap another; a known kind may appear once. An empty buffer or a table of
 * only the terminator yields n == 0. GUIDs are matched in RFC 4122 byte order (what Linux hosts,
 * QEMU and the AMD tools write). Entries borrow from buf. */
snp_err snp_cert_table_parse(const uint8_t *buf, size_t len, struct snp_cert_table *out);
/* The entry of that kind, or NULL. */
const struct snp_cert_entry *snp_cert_table_find(const struct snp_cert_table *t, snp_cert_kind kind);
const char *snp_cert_kind_name(snp_cert_kind kind);     /* "VCEK", "VLEK", "ASK", "ARK", "CRL", "other" */
/* The 16 GUID bytes of a known kind (NULL for OTHER). */
const uint8_t *snp_cert_kind_guid(snp_cert_kind kind);
#endif
