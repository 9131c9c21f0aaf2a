/* snp_emu: report and quote generation for the test emulators (see snp_emu.h). Environment:
 *   SNP_EMU_KEYS     directory: vcek.key (EC P-384 PEM), vcek.der, ask.der, ark.der
 *                    [vlek.key, vlek.der, asvk.der for SNP_EMU_SIGNER=vlek]
 *   SNP_EMU_VERSION  2, 3 or 5 (default 3)
 *   SNP_EMU_PRODUCT  milan, genoa or turin (CPUID fields of v3+ reports; TCB layout)
 *   SNP_EMU_TCB      reported/current/committed/launch TCB as hex u64
 *   SNP_EMU_CHIP_ID  128 hex chars
 *   SNP_EMU_CERTS    host (VCEK/VLEK, ASK, ARK), chain-only (ASK, ARK), none
 *   SNP_EMU_SIGNER   vcek or vlek
 *   TDX_EMU_KEYS     directory: pck.key (EC P-256 PEM), pck_chain.pem (PCK, intermediate, root)
 * Test code: it signs whatever it is given. */
#include "snp_emu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

static EVP_PKEY *sign_key;            /* VCEK or VLEK */
static uint8_t *der_key, *der_ask, *der_ark;
static size_t len_key, len_ask, len_ark;
static int is_vlek;

static EVP_PKEY *tdx_att_key, *tdx_pck_key;
static char *tdx_chain;
static size_t tdx_chain_len;

static const char *env(const char *k, const char *def)
{
    const char *v = getenv(k);
    return v && *v ? v : def;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    uint8_t *b = malloc(1 << 16);
    size_t n = b ? fread(b, 1, 1 << 16, f) : 0;
    fclose(f);
    *len = n;
    return b;
}

static EVP_PKEY *load_key(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

int snp_emu_init(void)
{
    const char *dir = env("SNP_EMU_KEYS", NULL);
    if (!dir) {
        fprintf(stderr, "snp_emu: SNP_EMU_KEYS not set\n");
        return -1;
    }
    is_vlek = strcmp(env("SNP_EMU_SIGNER", "vcek"), "vlek") == 0;
    sign_key = load_key(dir, is_vlek ? "vlek.key" : "vcek.key");
    der_key = slurp(dir, is_vlek ? "vlek.der" : "vcek.der", &len_key);
    der_ask = slurp(dir, is_vlek ? "asvk.der" : "ask.der", &len_ask);
    der_ark = slurp(dir, "ark.der", &len_ark);
    if (!sign_key || !der_key || !der_ask || !der_ark) {
        fprintf(stderr, "snp_emu: keys missing in %s\n", dir);
        return -1;
    }
    return 0;
}

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void hexfill(uint8_t *out, size_t n, const char *hex, uint8_t pattern)
{
    if (hex && strlen(hex) == 2 * n) {
        for (size_t i = 0; i < n; i++) {
            unsigned v;
            char t[3] = { hex[2 * i], hex[2 * i + 1], 0 };
            v = (unsigned)strtoul(t, NULL, 16);
            out[i] = (uint8_t)v;
        }
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = (uint8_t)(pattern + i);
    }
}

/* ECDSA over msg with key, returning r and s as big-endian fixed-width fields of flen bytes. */
static int ecdsa_rs(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg, size_t len, uint8_t *r, uint8_t *s, int flen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[160];
    size_t dl = sizeof der;
    int rc = -1;
    if (!ctx || EVP_DigestSignInit(ctx, NULL, md, NULL, key) <= 0 || EVP_DigestSign(ctx, der, &dl, msg, len) <= 0)
        goto done;
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dl);
    if (!sig)
        goto done;
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig), r, flen) == flen && BN_bn2binpad(ECDSA_SIG_get0_s(sig), s, flen) == flen)
        rc = 0;
    ECDSA_SIG_free(sig);
done:
    EVP_MD_CTX_free(ctx);
    return rc;
}

int snp_emu_report(const uint8_t report_data[64], uint32_t vmpl, uint8_t out[SNP_EMU_REPORT_LEN])
{
    int version = atoi(env("SNP_EMU_VERSION", "3"));
    const char *product = env("SNP_EMU_PRODUCT", "milan");
    uint64_t tcb = strtoull(env("SNP_EMU_TCB", "d516000000000004"), NULL, 16);
    memset(out, 0, SNP_EMU_REPORT_LEN);
    put32(out + 0x000, (uint32_t)version);
    put32(out + 0x004, 0);                     /* GUEST_SVN */
    put64(out + 0x008, 0x30000);               /* POLICY: reserved bit 17, SMT allowed */
    put32(out + 0x030, vmpl);
    put32(out + 0x034, 1);                     /* ECDSA P-384 with SHA-384 */
    put64(out + 0x038, tcb);                   /* CURRENT_TCB */
    put64(out + 0x040, 0x1);                   /* PLATFORM_INFO: SMT enabled */
    put32(out + 0x048, (is_vlek ? 1u : 0u) << 2);
    memcpy(out + 0x050, report_data, 64);
    hexfill(out + 0x090, 48, getenv("SNP_EMU_MEASUREMENT"), 0xA0);
    RAND_bytes(out + 0x140, 32);               /* REPORT_ID */
    memset(out + 0x160, 0xFF, 32);             /* REPORT_ID_MA: no migration agent */
    put64(out + 0x180, tcb);                   /* REPORTED_TCB */
    if (version >= 3) {
        uint8_t fam = 0x19, mod = 0x01, step = 0x01;
        if (!strcmp(product, "genoa")) { mod = 0x11; step = 0x01; }
        if (!strcmp(product, "turin")) { fam = 0x1A; mod = 0x02; step = 0x00; }
        out[0x188] = fam; out[0x189] = mod; out[0x18A] = step;
    }
    hexfill(out + 0x1A0, 64, getenv("SNP_EMU_CHIP_ID"), 0x11);
    put64(out + 0x1E0, tcb);                   /* COMMITTED_TCB */
    out[0x1E8] = 3; out[0x1E9] = 55; out[0x1EA] = 1;   /* current build 3, 1.55 */
    out[0x1EC] = 3; out[0x1ED] = 55; out[0x1EE] = 1;   /* committed */
    put64(out + 0x1F0, tcb);                   /* LAUNCH_TCB */
    if (version >= 5) {
        put64(out + 0x1F8, 0x1);               /* LAUNCH_MIT_VECTOR */
        put64(out + 0x200, 0x1);               /* CURRENT_MIT_VECTOR */
    }
    uint8_t r[48], s[48];
    if (ecdsa_rs(sign_key, EVP_sha384(), out, 0x2A0, r, s, 48) != 0)
        return -1;
    for (int i = 0; i < 48; i++) {            /* little-endian, zero-extended to 72 bytes */
        out[0x2A0 + i] = r[47 - i];
        out[0x2E8 + i] = s[47 - i];
    }
    return 0;
}

static const uint8_t G_VCEK[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
static const uint8_t G_VLEK[16] = { 0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1 };
static const uint8_t G_ASK[16]  = { 0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82 };
static const uint8_t G_ARK[16]  = { 0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae };

int snp_emu_cert_table(uint8_t **out, size_t *len)
{
    const char *mode = env("SNP_EMU_CERTS", "host");
    const uint8_t *guids[3];
    const uint8_t *ders[3];
    size_t lens[3];
    int n = 0;
    *out = NULL;
    *len = 0;
    if (!strcmp(mode, "none"))
        return 0;
    if (!strcmp(mode, "host")) {
        guids[n] = is_vlek ? G_VLEK : G_VCEK; ders[n] = der_key; lens[n++] = len_key;
    }
    guids[n] = G_ASK; ders[n] = der_ask; lens[n++] = len_ask;
    guids[n] = G_ARK; ders[n] = der_ark; lens[n++] = len_ark;
    size_t off = (size_t)(n + 1) * 24, total = off;
    for (int i = 0; i < n; i++)
        total += lens[i];
    uint8_t *t = calloc(1, total);
    if (!t)
        return -1;
    for (int i = 0; i < n; i++) {
        memcpy(t + 24 * i, guids[i], 16);
        put32(t + 24 * i + 16, (uint32_t)off);
        put32(t + 24 * i + 20, (uint32_t)lens[i]);
        memcpy(t + off, ders[i], lens[i]);
        off += lens[i];
    }
    *out = t;
    *len = total;
    return 0;
}

/* ---- TDX ---------------------------------------------------------------------------------- */

int tdx_emu_init(void)
{
    const char *dir = env("TDX_EMU_KEYS", NULL);
    if (!dir)
        return -1;
    tdx_pck_key = load_key(dir, "pck.key");
    tdx_chain = (char *)slurp(dir, "pck_chain.pem", &tdx_chain_len);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (!c || EVP_PKEY_keygen_init(c) <= 0 || EVP_PKEY_CTX_set_group_name(c, "P-256") <= 0 ||
        EVP_PKEY_keygen(c, &tdx_att_key) <= 0)
        tdx_att_key = NULL;
    EVP_PKEY_CTX_free(c);
    if (!tdx_pck_key || !tdx_chain || !tdx_att_key) {
        fprintf(stderr, "tdx_emu: keys missing in %s\n", dir);
        return -1;
    }
    return 0;
}

static void put16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }

int tdx_emu_quote(const uint8_t report_data[64], uint8_t **out, size_t *len)
{
    /* header 48 + TD report body 584 + sig len 4 + sig 64 + att key 64
     * + cert data {type 6, size, QE report 384, QE sig 64, auth {size 2, 32}, {type 5, size, chain}} */
    const size_t qe_auth_len = 32;
    size_t certdata = 384 + 64 + 2 + qe_auth_len + 2 + 4 + tdx_chain_len;
    size_t sigdata = 64 + 64 + 2 + 4 + certdata;
    size_t total = 48 + 584 + 4 + sigdata;
    uint8_t *q = calloc(1, total);
    if (!q)
        return -1;
    static const uint8_t qe_vendor[16] = { 0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                           0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07 };
    put16le(q, 4);                       /* version */
    put16le(q + 2, 2);                   /* ECDSA-256-with-P-256 */
    put32(q + 4, 0x81);                  /* TEE type: TDX */
    put16le(q + 8, 8);                   /* QE SVN */
    put16le(q + 10, 13);                 /* PCE SVN */
    memcpy(q + 12, qe_vendor, 16);
    uint8_t *b = q + 48;                 /* TD report body */
    hexfill(b, 16, NULL, 0x03);          /* TEE_TCB_SVN */
    hexfill(b + 16, 48, NULL, 0x20);     /* MRSEAM */
    put64(b + 120, 0x0000000010000000ull);   /* TD_ATTRIBUTES: SEPT_VE_DISABLE */
    put64(b + 128, 0x00000000000642e7ull);   /* XFAM */
    hexfill(b + 136, 48, getenv("TDX_EMU_MRTD"), 0x40);
    const char *rtmrs = getenv("TDX_EMU_RTMRS");   /* 4 x 96 hex chars, concatenated */
    for (int i = 0; i < 4; i++) {
        char h[97] = "";
        if (rtmrs && strlen(rtmrs) == 384) {
            memcpy(h, rtmrs + 96 * i, 96);
            h[96] = 0;
        }
        hexfill(b + 328 + 48 * i, 48, rtmrs ? h : NULL, (uint8_t)(0x60 + 16 * i));
    }
    memcpy(b + 520, report_data, 64);
    uint8_t *sd = q + 48 + 584;
    put32(sd, (uint32_t)sigdata);
    sd += 4;
    if (ecdsa_rs(tdx_att_key, EVP_sha256(), q, 48 + 584, sd, sd + 32, 32) != 0)
        goto fail;
    uint8_t pub[65];
    size_t pl = 0;
    if (!EVP_PKEY_get_octet_string_param(tdx_att_key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof pub, &pl) || pl != 65)
        goto fail;
    memcpy(sd + 64, pub + 1, 64);        /* attestation key x||y */
    uint8_t *cd = sd + 128;
    put16le(cd, 6);                      /* QE report certification data */
    put32(cd + 2, (uint32_t)certdata);
    uint8_t *qe = cd + 6;                /* SGX report body of the QE */
    hexfill(qe, 16, NULL, 0x05);         /* CPUSVN */
    hexfill(qe + 64, 32, NULL, 0x70);    /* MRENCLAVE */
    hexfill(qe + 128, 32, NULL, 0x80);   /* MRSIGNER */
    uint8_t *auth = qe + 384 + 64;
    put16le(auth, (uint16_t)qe_auth_len);
    for (size_t i = 0; i < qe_auth_len; i++)
        auth[2 + i] = (uint8_t)i;
    /* QE REPORT_DATA = SHA-256(attestation key || QE auth data) || 32 zero bytes */
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    int ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) && EVP_DigestUpdate(h, pub + 1, 64) &&
             EVP_DigestUpdate(h, auth + 2, qe_auth_len) && EVP_DigestFinal_ex(h, qe + 320, NULL);
    EVP_MD_CTX_free(h);
    if (!ok || ecdsa_rs(tdx_pck_key, EVP_sha256(), qe, 384, qe + 384, qe + 384 + 32, 32) != 0)
        goto fail;
    uint8_t *cert = auth + 2 + qe_auth_len;
    put16le(cert, 5);                    /* PCK certificate chain (PEM) */
    put32(cert + 2, (uint32_t)tdx_chain_len);
    memcpy(cert + 6, tdx_chain, tdx_chain_len);
    *out = q;
    *len = total;
    return 0;
fail:
    free(q);
    return -1;
}
