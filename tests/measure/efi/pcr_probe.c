/* pcr_probe: a tiny UEFI application for the boot test. Firmware measures it into PCR 4 before
 * starting it; it reads PCR 4 (SHA-256 bank) back from the TPM through EFI_TCG2_PROTOCOL, prints
 * "SEALED-PCR4=<hex>" on the console and on QEMU's debug port (0x402), dumps the firmware's TCG2
 * event log as "SEALED-LOG=<hex>" on the debug port, and powers the VM off.
 * Freestanding: no EFI headers, the few table offsets it needs are spelled out below. */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
#define EFIAPI __attribute__((ms_abi))

typedef struct { u32 d1; u16 d2, d3; u8 d4[8]; } guid;
typedef u64 (EFIAPI *fn_locate_protocol)(const guid *, void *, void **);
typedef u64 (EFIAPI *fn_get_log)(void *self, u32 format, u64 *location, u64 *last, u8 *truncated);
typedef u64 (EFIAPI *fn_submit)(void *self, u32 in_size, const u8 *in, u32 out_size, u8 *out);
typedef u64 (EFIAPI *fn_output)(void *self, const u16 *s);
typedef void (EFIAPI *fn_reset)(u32 type, u64 status, u64 size, void *data);

static const guid TCG2_GUID = { 0x607f766c, 0x7455, 0x42be, { 0x93, 0x0b, 0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f } };

#define ST_CONOUT        64   /* EFI_SYSTEM_TABLE.ConOut */
#define ST_RUNTIME       88   /* .RuntimeServices */
#define ST_BOOT          96   /* .BootServices */
#define BS_LOCATE_PROTO  320  /* EFI_BOOT_SERVICES.LocateProtocol */
#define RT_RESET         104  /* EFI_RUNTIME_SERVICES.ResetSystem */
#define TCG2_GET_LOG     8    /* EFI_TCG2_PROTOCOL.GetEventLog (2nd member) */
#define TCG2_SUBMIT      24   /* EFI_TCG2_PROTOCOL.SubmitCommand (4th member) */

#define PTR(base, off) (*(void **)((u8 *)(base) + (off)))

static void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static void say(void *systab, const char *s)
{
    u16 w[128];
    int i = 0;
    void *conout = PTR(systab, ST_CONOUT);
    for (; s[i] && i < 126; i++) {
        w[i] = (u16)(u8)s[i];
        outb(0x402, (u8)s[i]);
    }
    w[i++] = '\r';
    w[i] = 0;
    outb(0x402, '\n');
    ((fn_output)PTR(conout, 8))(conout, w);
    ((fn_output)PTR(conout, 8))(conout, (const u16 *)L"\n");
}

static u32 rd32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }

static u32 alg_size(u16 alg)
{
    switch (alg) {
    case 0x04: return 20;
    case 0x0b: case 0x12: return 32;
    case 0x0c: return 48;
    case 0x0d: return 64;
    }
    return 0;
}

/* Writes the TCG2 (crypto-agile) log from its first entry to the end of its last entry. */
static void dump_log(void *tcg2)
{
    static const char hexd[] = "0123456789abcdef";
    static const char tag[] = "SEALED-LOG=";
    u64 loc = 0, last = 0;
    u8 truncated = 0;
    if (((fn_get_log)PTR(tcg2, TCG2_GET_LOG))(tcg2, 2 /* TCG_2 */, &loc, &last, &truncated) != 0 || !loc)
        return;
    const u8 *p = (const u8 *)loc, *l = (const u8 *)last;
    u64 end;
    if (l == p) {                      /* only the legacy-format Spec ID header */
        end = last + 32 + rd32(l + 28);
    } else {
        const u8 *q = l + 12;
        u32 n = rd32(l + 8);
        for (u32 i = 0; i < n && i < 8; i++) {
            u32 sz = alg_size((u16)(q[0] | q[1] << 8));
            if (!sz) return;
            q += 2 + sz;
        }
        end = (u64)(q + 4 + rd32(q));
    }
    for (unsigned i = 0; tag[i]; i++) outb(0x402, (u8)tag[i]);
    for (u64 a = loc; a < end; a++) {
        u8 b = *(const u8 *)a;
        outb(0x402, (u8)hexd[b >> 4]);
        outb(0x402, (u8)hexd[b & 15]);
    }
    outb(0x402, '\n');
    if (truncated) {
        static const char t[] = "SEALED-LOG-TRUNCATED\n";
        for (unsigned i = 0; t[i]; i++) outb(0x402, (u8)t[i]);
    }
}

u64 EFIAPI efi_main(void *image, void *systab)
{
    /* TPM2_PCR_Read(sha256: PCR 4) */
    static const u8 cmd[20] = { 0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7e,
                                0, 0, 0, 1, 0x00, 0x0b, 3, 0x10, 0, 0 };
    u8 rsp[128];
    char line[16 + 64 + 1] = "SEALED-PCR4=";
    static const char hexd[] = "0123456789abcdef";
    void *bs = PTR(systab, ST_BOOT), *rt = PTR(systab, ST_RUNTIME), *tcg2 = 0;
    (void)image;

    for (unsigned i = 0; i < sizeof(rsp); i++)
        rsp[i] = 0;
    if (((fn_locate_protocol)PTR(bs, BS_LOCATE_PROTO))(&TCG2_GUID, 0, &tcg2) != 0 || !tcg2) {
        say(systab, "SEALED-PCR4=error-no-tcg2");
    } else if (((fn_submit)PTR(tcg2, TCG2_SUBMIT))(tcg2, sizeof(cmd), cmd, sizeof(rsp), rsp) != 0 ||
               rsp[6] | rsp[7] | rsp[8] | rsp[9]) {
        say(systab, "SEALED-PCR4=error-pcr-read");
    } else {
        /* header 10, update counter 4, selection 10, digest count 4, digest size 2 */
        const u8 *d = rsp + 30;
        for (int i = 0; i < 32; i++) {
            line[12 + 2 * i] = hexd[d[i] >> 4];
            line[13 + 2 * i] = hexd[d[i] & 15];
        }
        line[12 + 64] = 0;
        say(systab, line);
        dump_log(tcg2);
    }
    ((fn_reset)PTR(rt, RT_RESET))(2 /* EfiResetShutdown */, 0, 0, 0);
    return 0;
}
