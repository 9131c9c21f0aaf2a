/* A minimal PE32+ EFI application for the measure unit tests (test_pe_hash, test_pcr_predict): DOS
 * stub, PE32+ headers and one 512-byte .text section of known bytes; SizeOfHeaders 0x200. */
#ifndef SEALED_TEST_PE_BUILD_H
#define SEALED_TEST_PE_BUILD_H
#include <stdint.h>
#include <string.h>

static inline size_t build_pe(uint8_t *b, size_t cap)
{
    memset(b, 0, cap);
    b[0] = 'M'; b[1] = 'Z';
    b[0x3c] = 0x40;
    memcpy(b + 0x40, "PE\0\0", 4);
    uint8_t *coff = b + 0x44;
    coff[0] = 0x64; coff[1] = 0x86;        /* x86-64 */
    coff[2] = 1;                            /* one section */
    coff[16] = 240;                         /* SizeOfOptionalHeader */
    uint8_t *opt = coff + 20;
    opt[0] = 0x0b; opt[1] = 0x02;           /* PE32+ */
    opt[60] = 0x00; opt[61] = 0x02;         /* SizeOfHeaders 0x200 */
    opt[68] = 10;                           /* EFI application */
    opt[108] = 16;                          /* NumberOfRvaAndSizes */
    uint8_t *sh = opt + 240;
    memcpy(sh, ".text", 5);
    sh[16] = 0x00; sh[17] = 0x02;           /* SizeOfRawData 0x200 */
    sh[20] = 0x00; sh[21] = 0x02;           /* PointerToRawData 0x200 */
    for (size_t i = 0x200; i < 0x400; i++)
        b[i] = (uint8_t)i;
    return 0x400;
}
#endif
