/* sealed-measure's shared contract: the one error enum of the measure subsystem, its messages, and
 * the caps on every input (firmware, kernel, initrd, PE images, vCPU counts). Owns no state and
 * no I/O; every other file under src/measure/ reports failures through measure_err. */
#ifndef SEALED_MEASURE_H
#define SEALED_MEASURE_H
#include <stddef.h>
#include <stdint.h>

/* Caps. Inputs beyond them are refused, not truncated. */
#define MEASURE_MAX_OVMF_BYTES     (64u * 1024u * 1024u)    /* firmware volume read into memory */
#define MEASURE_MAX_FILE_BYTES     (4ull * 1024u * 1024u * 1024u) /* kernel/initrd (streamed) */
#define MEASURE_MAX_PE_BYTES       (512u * 1024u * 1024u)   /* EFI binary read into memory */
#define MEASURE_MAX_PE_SECTIONS    96u                      /* PE/COFF limit is 96 */
#define MEASURE_MAX_VCPUS          512u
#define MEASURE_MAX_SECTIONS       64u      /* SEV metadata section descriptors */
#define MEASURE_MAX_FOOTER_ENTRIES 64u      /* OVMF footer GUID table entries */
#define MEASURE_MAX_SECTION_BYTES  (256u * 1024u * 1024u)   /* one metadata section */
#define MEASURE_MAX_APPEND         (64u * 1024u)            /* kernel command line */
#define MEASURE_PAGE               4096u

typedef enum {
    MEASURE_OK = 0,
    MEASURE_ERR_ARG,               /* bad parameter combination or value */
    MEASURE_ERR_IO,                /* a file could not be opened or read */
    MEASURE_ERR_TOO_BIG,           /* a cap above was exceeded */
    MEASURE_ERR_NOMEM,
    MEASURE_ERR_CRYPTO,
    MEASURE_ERR_OVMF_FORMAT,       /* malformed footer table or SEV metadata */
    MEASURE_ERR_OVMF_SECTION,      /* unknown SEV metadata section type */
    MEASURE_ERR_NO_RESET_EIP,      /* firmware lacks the SEV-ES reset block (needed for APs) */
    MEASURE_ERR_NO_KERNEL_HASHES,  /* SNP: kernel given, no SNP_KERNEL_HASHES section */
    MEASURE_ERR_NO_HASH_TABLE,     /* SEV/SEV-ES: kernel given, no SEV hashes table */
    MEASURE_ERR_PE_FORMAT,         /* malformed PE/COFF image */
} measure_err;

/* A static, user-readable sentence for an error (the SNP kernel-hashes one is worded exactly as
 * sev-snp-measure words it, so scripts can match either tool). */
const char *measure_strerror(measure_err err);

/* Whole-file helpers (paths are trusted: they come from the operator's command line).
 * measure_read_file: malloc'd contents (caller frees) of at most cap bytes.
 * measure_sha256_file: streams the file; NULL path means the empty input. */
measure_err measure_read_file(const char *path, size_t cap, uint8_t **buf, size_t *len);
measure_err measure_sha256_file(const char *path, uint8_t out[32]);
#endif
