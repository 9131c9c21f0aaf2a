/* The SEV hashes table QEMU places in guest memory for measured direct boot (-kernel/-initrd/
 * -append with kernel-hashes=on): a GUIDed table of the SHA-256 of the command line, initrd and
 * kernel, byte-identical to QEMU's so that the launch digest matches. Computes; reads the files. */
#ifndef SEALED_MEASURE_SEV_HASHES_H
#define SEALED_MEASURE_SEV_HASHES_H
#include "measure/measure.h"

#define SEV_HASHES_TABLE_LEN      168u   /* header + 3 entries, before 16-byte alignment */
#define SEV_HASHES_TABLE_PADDED   176u

typedef struct {
    uint8_t cmdline[32];   /* SHA-256 of the command line bytes plus a NUL */
    uint8_t initrd[32];    /* SHA-256 of the initrd file (of "" when none) */
    uint8_t kernel[32];    /* SHA-256 of the kernel file */
} sev_hashes;

/* Hashes the inputs. initrd may be NULL (empty initrd); append may be NULL or "" (the command
 * line is then a single NUL), otherwise at most MEASURE_MAX_APPEND bytes. */
measure_err sev_hashes_compute(const char *kernel_path, const char *initrd_path, const char *append,
                               sev_hashes *out);

/* Writes the padded table (SEV_HASHES_TABLE_PADDED bytes). */
void sev_hashes_table(const sev_hashes *h, uint8_t out[SEV_HASHES_TABLE_PADDED]);

/* Writes the 4 KiB page holding the table at offset (offset + table must fit in the page). */
measure_err sev_hashes_page(const sev_hashes *h, uint32_t offset, uint8_t page[MEASURE_PAGE]);
#endif
