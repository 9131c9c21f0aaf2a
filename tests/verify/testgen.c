/* testgen: test-only generator of sealed-login evidence for sealed-verify's whole-binary tests.
 * It makes what the real service and real hardware would: an evidence-v1 payload signed as a
 * compact ES256 JWS with a fresh key, and (on request) a structurally exact SEV-SNP report
 * (version 2, 3 or 5; Milan/Genoa/Turin TCB layout; VCEK or VLEK) signed by a freshly generated
 * TEST ARK -> ASK/ASVK -> VCEK/VLEK chain (RSA-PSS SHA-384 salt 48, AMD's extensions), or a TPM 2.0
 * quote (TPMS_ATTEST + TPMT_SIGNATURE, ECDSA P-256 AK), or an Intel TDX DCAP v4/v5 quote under a
 * TEST PCK chain with a CCEL event log that replays to its RTMRs. Never used by the product; the test root it
 * writes is only accepted by sealed-verify with --trust-root.
 *
 * usage: testgen result OUT [--type none|sev-snp|tpm2|sev-snp+tpm2] [--dir DIR] [--version 2|3|5]
 *                [--product milan|genoa|turin] [--signer vcek|vlek] [--policy HEX] [--vmpl N]
 *                [--iat N] [--user-id S] [--client-id S] [--env live|sandbox|local] [--bad-kid] [--bad-payload-rd]
 *                [--bad-snp-rd] [--bad-quote-extra] [--no-ark] [--chip-zero] [--key P256-PEM]
 *                [--measurement HEX] (the SNP launch measurement / TDX MRTD to report)
 *                [--reported-tcb HEX] [--current-tcb HEX] [--committed-tcb HEX] [--launch-tcb HEX]
 *                [--committed-build N] [--platform-info HEX]   (raw 64-bit values; the VCEK's
 *                                   extensions follow REPORTED_TCB; default: a TCB at the product's
 *                                   built-in floor, everywhere)
 *                [--tdx-version 4|5] [--tdx-debug]   (--type tdx: a DCAP quote under a TEST PCK chain,
 *                                   DIR/tdx_quote.bin, ccel.bin, tdx_root.pem)
 *                [--tpm-dir DIR]   (tpm2 evidence from a real TPM: DIR/quote.bin, sig.bin, ak.pem,
 *                                   pcrs.json and optional eventlog.bin, made for payload.json's
 *                                   report_data of an earlier run with the same --key and --iat)
 *   DIR receives ark.pem (test root), chain.pem (ASK+ARK), vcek.pem, report.bin, certs.bin (an
 *   extended-report certificate table), ak.pem, quote.bin, sig.bin, pcrs.json, signer.jwk,
 *   measurement.hex, manifest.json, and the TEST ARK's CRLs in AMD's form (RSA-PSS): crl.pem (none
 *   revoked), crl-ask-revoked.pem (the ASK/ASVK revoked), crl-stale.pem (nextUpdate passed). */
#include "common/binding.h"
#include "common/codec.h"
#include "common/jose.h"
#include "common/trust.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>

struct opts {
    const char *out, *dir, *type, *product, *signer, *user_id, *client_id, *env, *key, *tpm_dir, *measurement;
    const char *trust, *source_commit, *cmdline, *manifest_commit;
    int no_trust;
    unsigned version, vmpl;
    unsigned long long policy;
    long long iat;
    int bad_kid, bad_payload_rd, bad_snp_rd, bad_quote_extra, no_ark, chip_zero, tdx_debug, tdx_version, no_ak_cert;
    const char *reported_tcb, *current_tcb, *committed_tcb, *launch_tcb, *platform_info;
    int committed_build;
};

static void die(const char *m)
{
    fprintf(stderr, "testgen: %s\n", m);
    exit(2);
}

static void write_file(const char *dir, const char *name, const void *b, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f))
        die("cannot write output");
}

static char *pem_of(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    BIO_free(b);
    return s;
}

static EVP_PKEY *gen_rsa(void)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    if (!k)
        die("rsa keygen");
    return k;
}

static EVP_PKEY *gen_ec(const char *curve)
{
    EVP_PKEY *k = EVP_EC_gen(curve);
    if (!k)
        die("ec keygen");
    return k;
}

static X509_NAME *amd_name(const char *cn)
{
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC, (const unsigned char *)"Engineering", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"TEST ONLY (not AMD)", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    return n;
}

/* Adds an extension whose value is the given DER (or raw bytes, for hwID). */
static void add_ext(X509 *x, const char *oid, const uint8_t *val, size_t n)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(os, val, (int)n);
    X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(o);
}

static void add_int_ext(X509 *x, const char *oid, unsigned v)
{
    uint8_t d[4] = {0x02, 0x01, (uint8_t)v, 0};
    if (v >= 0x80) {   /* DER: positive INTEGER needs a leading zero */
        d[1] = 2;
        d[2] = 0;
        d[3] = (uint8_t)v;
        add_ext(x, oid, d, 4);
    } else {
        add_ext(x, oid, d, 3);
    }
}

static void add_ia5_ext(X509 *x, const char *oid, const char *s)
{
    uint8_t d[64];
    size_t n = strlen(s);
    d[0] = 0x16;
    d[1] = (uint8_t)n;
    memcpy(d + 2, s, n);
    add_ext(x, oid, d, n + 2);
}

static X509 *make_cert(const char *subj, const char *issuer, EVP_PKEY *pub, EVP_PKEY *signer, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME *s = amd_name(subj), *i = amd_name(issuer);
    X509_set_subject_name(x, s);
    X509_set_issuer_name(x, i);
    X509_NAME_free(s);
    X509_NAME_free(i);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 30);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 20);
    X509_set_pubkey(x, pub);
    (void)signer;
    return x;
}

static void sign_pss(X509 *x, EVP_PKEY *key)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    if (EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) != 1 ||
        X509_sign_ctx(x, m) <= 0)
        die("pss sign");
    EVP_MD_CTX_free(m);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A TCB at or above the verifier's built-in floor for the product's classic line (snp_tcb_floor.c),
 * in the product's layout: Milan bl=4 snp=0x1D ucode=0xDE; Genoa bl=10 snp=0x1B ucode=0x56;
 * Turin fmc=1 bl=3 tee=2 snp=5 ucode=0x61. */
static uint64_t tcb_raw(const char *prod)
{
    if (!strcmp(prod, "Turin"))
        return 1ull | 3ull << 8 | 2ull << 16 | 5ull << 24 | 0x61ull << 56;
    if (!strcmp(prod, "Genoa"))
        return 10ull | 0ull << 8 | 0x1Bull << 48 | 0x56ull << 56;
    return 4ull | 0ull << 8 | 0x1Dull << 48 | 0xDEull << 56;
}

static uint64_t tcb_opt(const char *hex, uint64_t dflt)
{
    return hex ? strtoull(hex, NULL, 16) : dflt;
}

/* An AMD-style CRL (RSA-PSS SHA-384, salt 48) from the test ARK; revoked: a serial or -1. */
static void write_crl(const char *dir, const char *name, X509 *ark, EVP_PKEY *key, long revoked, long next_days)
{
    X509_CRL *c = X509_CRL_new();
    X509_CRL_set_version(c, 1);
    X509_CRL_set_issuer_name(c, X509_get_subject_name(ark));
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), -1, 0);
    X509_CRL_set1_lastUpdate(c, t);
    ASN1_TIME_free(t);
    t = ASN1_TIME_adj(NULL, time(NULL), (int)next_days, 0);
    X509_CRL_set1_nextUpdate(c, t);
    ASN1_TIME_free(t);
    if (revoked >= 0) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_INTEGER_set(sn, revoked);
        X509_REVOKED_set_serialNumber(r, sn);
        ASN1_INTEGER_free(sn);
        t = ASN1_TIME_adj(NULL, time(NULL), -1, 0);
        X509_REVOKED_set_revocationDate(r, t);
        ASN1_TIME_free(t);
        X509_CRL_add0_revoked(c, r);
    }
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    if (EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, key) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) != 1 ||
        X509_CRL_sign_ctx(c, m) <= 0)
        die("crl sign");
    EVP_MD_CTX_free(m);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(b, c);
    char *d;
    long n = BIO_get_mem_data(b, &d);
    write_file(dir, name, d, (size_t)n);
    BIO_free(b);
    X509_CRL_free(c);
}

struct snp_out {
    char *report_b64, *vek_pem, *ask_pem, *ark_pem;
    int vlek;
};

static uint8_t MEASUREMENT[48] = {
    0x5e, 0xa1, 0xed, 0x10, 0x61, 0x17, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
    0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29};

static void make_snp(const struct opts *o, const uint8_t rd[64], struct snp_out *out)
{
    const char *prod = !strcmp(o->product, "genoa") ? "Genoa" : !strcmp(o->product, "turin") ? "Turin" : "Milan";
    int turin = !strcmp(prod, "Turin"), vlek = !strcmp(o->signer, "vlek");
    char cn[64];
    EVP_PKEY *ark = gen_rsa(), *ask = gen_rsa(), *vek = gen_ec("P-384");
    snprintf(cn, sizeof cn, "ARK-%s", prod);
    char askcn[64];
    snprintf(askcn, sizeof askcn, vlek ? "SEV-VLEK-%s" : "SEV-%s", prod);
    X509 *arkc = make_cert(cn, cn, ark, ark, 1);
    sign_pss(arkc, ark);
    X509 *askc = make_cert(askcn, cn, ask, ark, 2);
    sign_pss(askc, ark);
    X509 *vekc = make_cert(vlek ? "SEV-VLEK" : "SEV-VCEK", askcn, vek, ask, 3);
    uint8_t chip[64];
    for (int i = 0; i < 64; i++)
        chip[i] = o->chip_zero ? 0 : (uint8_t)(0xc0 + i);
    char pname[32];
    snprintf(pname, sizeof pname, turin ? "%s" : "%s-B0", prod);
    add_int_ext(vekc, "1.3.6.1.4.1.3704.1.1", 0);
    add_ia5_ext(vekc, "1.3.6.1.4.1.3704.1.2", pname);
    uint64_t tcb = tcb_opt(o->reported_tcb, tcb_raw(prod));
    add_int_ext(vekc, "1.3.6.1.4.1.3704.1.3.1", (unsigned)(turin ? tcb >> 8 : tcb) & 0xff);
    add_int_ext(vekc, "1.3.6.1.4.1.3704.1.3.2", (unsigned)(turin ? tcb >> 16 : tcb >> 8) & 0xff);
    add_int_ext(vekc, "1.3.6.1.4.1.3704.1.3.3", (unsigned)(turin ? tcb >> 24 : tcb >> 48) & 0xff);
    add_int_ext(vekc, "1.3.6.1.4.1.3704.1.3.8", (unsigned)(tcb >> 56) & 0xff);
    if (turin)
        add_int_ext(vekc, "1.3.6.1.4.1.3704.1.3.9", (unsigned)tcb & 0xff);
    if (vlek)
        add_ia5_ext(vekc, "1.3.6.1.4.1.3704.1.5", "test-cloud");
    else
        add_ext(vekc, "1.3.6.1.4.1.3704.1.4", chip, turin ? 8 : 64);
    sign_pss(vekc, ask);

    uint8_t r[1184];
    memset(r, 0, sizeof r);
    put32(r + 0x00, o->version);
    put64(r + 0x08, o->policy);
    put32(r + 0x30, o->vmpl);
    put32(r + 0x34, 1);
    put64(r + 0x38, tcb_opt(o->current_tcb, tcb));
    put64(r + 0x40, tcb_opt(o->platform_info, 1));
    put32(r + 0x48, (vlek ? 1u : 0u) << 2);
    memcpy(r + 0x50, rd, 64);
    if (o->bad_snp_rd)
        r[0x50 + 40] ^= 1;
    memcpy(r + 0x90, MEASUREMENT, 48);
    for (int i = 0; i < 32; i++)
        r[0x140 + i] = (uint8_t)(0x40 + i);
    memset(r + 0x160, 0xff, 32);
    put64(r + 0x180, tcb);
    if (o->version >= 3) {
        r[0x188] = turin ? 0x1A : 0x19;
        r[0x189] = turin ? 0x02 : !strcmp(prod, "Genoa") ? 0x11 : 0x01;
        r[0x18A] = 1;
    }
    memcpy(r + 0x1A0, chip, 64);
    put64(r + 0x1E0, tcb_opt(o->committed_tcb, tcb));
    r[0x1E8] = 4;
    r[0x1E9] = 52;
    r[0x1EA] = 1;
    r[0x1EC] = (uint8_t)(o->committed_build >= 0 ? o->committed_build : 4);
    r[0x1ED] = 52;
    r[0x1EE] = 1;
    put64(r + 0x1F0, tcb_opt(o->launch_tcb, tcb));
    if (o->version >= 5) {
        put64(r + 0x1F8, 3);
        put64(r + 0x200, 3);
    }
    /* ECDSA P-384 over 0x000-0x29F, R and S little-endian in 72-byte fields */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    uint8_t der[128];
    size_t dl = sizeof der;
    if (EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, vek) != 1 || EVP_DigestSign(m, der, &dl, r, 0x2A0) != 1)
        die("ecdsa sign");
    EVP_MD_CTX_free(m);
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
    const BIGNUM *br, *bs;
    ECDSA_SIG_get0(es, &br, &bs);
    BN_bn2lebinpad(br, r + 0x2A0, 72);
    BN_bn2lebinpad(bs, r + 0x2A0 + 72, 72);
    ECDSA_SIG_free(es);

    out->report_b64 = codec_b64_encode_alloc(r, sizeof r);
    out->vek_pem = pem_of(vekc);
    out->ask_pem = pem_of(askc);
    out->ark_pem = pem_of(arkc);
    out->vlek = vlek;
    write_file(o->dir, "report.bin", r, sizeof r);
    write_file(o->dir, "ark.pem", out->ark_pem, strlen(out->ark_pem));
    write_file(o->dir, vlek ? "vlek.pem" : "vcek.pem", out->vek_pem, strlen(out->vek_pem));
    char chain[16384];
    snprintf(chain, sizeof chain, "%s%s", out->ask_pem, out->ark_pem);
    write_file(o->dir, "chain.pem", chain, strlen(chain));
    char mh[97];
    codec_hex_encode(MEASUREMENT, 48, mh, sizeof mh);
    write_file(o->dir, "measurement.hex", mh, 96);

    /* extended-report certificate table: VCEK/VLEK, ASK, ARK as DER, GUIDs in RFC 4122 order */
    uint8_t tbl[16384];
    memset(tbl, 0, sizeof tbl);
    X509 *certs[3] = {vekc, askc, arkc};
    static const uint8_t g_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64, 0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
    static const uint8_t g_vlek[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e, 0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
    static const uint8_t g_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4, 0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
    static const uint8_t g_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52, 0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
    const uint8_t *guids[3] = {vlek ? g_vlek : g_vcek, g_ask, g_ark};
    size_t off = 4 * 24;
    for (int i = 0; i < 3; i++) {
        unsigned char *cd = NULL;
        int cl = i2d_X509(certs[i], &cd);
        memcpy(tbl + i * 24, guids[i], 16);
        put32(tbl + i * 24 + 16, (uint32_t)off);
        put32(tbl + i * 24 + 20, (uint32_t)cl);
        memcpy(tbl + off, cd, (size_t)cl);
        off += (size_t)cl;
        OPENSSL_free(cd);
    }
    write_file(o->dir, "certs.bin", tbl, off);
    write_crl(o->dir, "crl.pem", arkc, ark, -1, 30);
    write_crl(o->dir, "crl-ask-revoked.pem", arkc, ark, 2, 30);
    write_crl(o->dir, "crl-stale.pem", arkc, ark, -1, -1);
    X509_free(arkc);
    X509_free(askc);
    X509_free(vekc);
    EVP_PKEY_free(ark);
    EVP_PKEY_free(ask);
    EVP_PKEY_free(vek);
}

static void be16(uint8_t **p, uint16_t v)
{
    (*p)[0] = (uint8_t)(v >> 8);
    (*p)[1] = (uint8_t)v;
    *p += 2;
}

static void be32(uint8_t **p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p, (uint16_t)v);
}

static void be64(uint8_t **p, uint64_t v)
{
    be32(p, (uint32_t)(v >> 32));
    be32(p, (uint32_t)v);
}

static void bytes(uint8_t **p, const void *b, size_t n)
{
    memcpy(*p, b, n);
    *p += n;
}

/* An ECDSA-SHA256 certificate CN=cn issued by CN=issuer (a CA when ca). */
static X509 *make_ec_cert(const char *cn, const char *issuer, EVP_PKEY *pub, EVP_PKEY *signer, long serial, int ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME *s = X509_NAME_new(), *i = X509_NAME_new();
    X509_NAME_add_entry_by_txt(s, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(i, "CN", MBSTRING_ASC, (const unsigned char *)issuer, -1, -1, 0);
    X509_set_subject_name(x, s);
    X509_set_issuer_name(x, i);
    X509_NAME_free(s);
    X509_NAME_free(i);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 30);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 20);
    X509_set_pubkey(x, pub);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (X509_sign(x, signer, EVP_sha256()) <= 0)
        die("ec cert sign");
    return x;
}

/* A test AK PKI: root -> intermediate -> AK certificate; writes tpm_root.pem, tpm_intermediate.pem
 * and akcert.pem, and sets the evidence's ak_cert and ak_chain. */
static void make_ak_cert(const struct opts *o, EVP_PKEY *ak, json_t *ev)
{
    EVP_PKEY *rk = gen_ec("P-256"), *ik = gen_ec("P-256");
    X509 *root = make_ec_cert("Test vTPM AK Root", "Test vTPM AK Root", rk, rk, 1, 1);
    X509 *mid = make_ec_cert("Test vTPM AK Intermediate", "Test vTPM AK Root", ik, rk, 2, 1);
    X509 *leaf = make_ec_cert("test-instance-ak", "Test vTPM AK Intermediate", ak, ik, 3, 0);
    char *rp = pem_of(root), *mp = pem_of(mid), *lp = pem_of(leaf);
    write_file(o->dir, "tpm_root.pem", rp, strlen(rp));
    write_file(o->dir, "tpm_intermediate.pem", mp, strlen(mp));
    write_file(o->dir, "akcert.pem", lp, strlen(lp));
    json_object_set_new(ev, "ak_cert", json_string(lp));
    json_object_set_new(ev, "ak_chain", json_pack("[s]", mp));
    free(rp);
    free(mp);
    free(lp);
    X509_free(root);
    X509_free(mid);
    X509_free(leaf);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
}

/* A TPM2_Quote over sha256 PCRs 0-15 with qualifying data SHA-256(rd), ECDSA P-256 AK. */
static json_t *make_tpm(const struct opts *o, const uint8_t rd[64])
{
    uint8_t pcr[16][32], cat[16 * 32];
    json_t *bank = json_object();
    char hex[65], idx[4];
    for (int i = 0; i < 16; i++) {
        char seed[16];
        snprintf(seed, sizeof seed, "pcr%d", i);
        EVP_Digest(seed, strlen(seed), pcr[i], NULL, EVP_sha256(), NULL);
        memcpy(cat + 32 * i, pcr[i], 32);
        codec_hex_encode(pcr[i], 32, hex, sizeof hex);
        snprintf(idx, sizeof idx, "%d", i);
        json_object_set_new(bank, idx, json_string(hex));
    }
    uint8_t digest[32], extra[32];
    EVP_Digest(cat, sizeof cat, digest, NULL, EVP_sha256(), NULL);
    EVP_Digest(rd, 64, extra, NULL, EVP_sha256(), NULL);
    if (o->bad_quote_extra)
        extra[0] ^= 1;
    uint8_t q[512], *p = q;
    be32(&p, 0xff544347);
    be16(&p, 0x8018);
    uint8_t name[34] = {0x00, 0x0b};
    for (int i = 2; i < 34; i++)
        name[i] = (uint8_t)i;
    be16(&p, sizeof name);
    bytes(&p, name, sizeof name);
    be16(&p, 32);
    bytes(&p, extra, 32);
    be64(&p, 123456789);   /* clock */
    be32(&p, 1);           /* resetCount */
    be32(&p, 0);           /* restartCount */
    *p++ = 1;              /* safe */
    be64(&p, 0x2011002400000000ull);
    be32(&p, 1);           /* one selection */
    be16(&p, 0x000b);
    *p++ = 3;
    *p++ = 0xff;
    *p++ = 0xff;
    *p++ = 0x00;
    be16(&p, 32);
    bytes(&p, digest, 32);
    size_t ql = (size_t)(p - q);

    EVP_PKEY *ak = gen_ec("P-256");
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t dl = sizeof der;
    if (EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, ak) != 1 || EVP_DigestSign(m, der, &dl, q, ql) != 1)
        die("ak sign");
    EVP_MD_CTX_free(m);
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
    const BIGNUM *br, *bs;
    ECDSA_SIG_get0(es, &br, &bs);
    uint8_t s[80], *sp = s;
    be16(&sp, 0x0018);
    be16(&sp, 0x000b);
    be16(&sp, 32);
    BN_bn2binpad(br, sp, 32);
    sp += 32;
    be16(&sp, 32);
    BN_bn2binpad(bs, sp, 32);
    sp += 32;
    ECDSA_SIG_free(es);
    size_t sl = (size_t)(sp - s);

    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, ak);
    char *pem;
    long pl = BIO_get_mem_data(b, &pem);
    char *akpem = strndup(pem, (size_t)pl);
    BIO_free(b);

    write_file(o->dir, "quote.bin", q, ql);
    write_file(o->dir, "sig.bin", s, sl);
    write_file(o->dir, "ak.pem", akpem, strlen(akpem));
    json_t *pcrs = json_pack("{s:o}", "sha256", bank);
    char *pj = json_dumps(pcrs, JSON_COMPACT | JSON_SORT_KEYS);
    write_file(o->dir, "pcrs.json", pj, strlen(pj));
    free(pj);
    char *qb = codec_b64_encode_alloc(q, ql), *sb = codec_b64_encode_alloc(s, sl);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:n, s:O, s:n}", "type", "tpm2", "quote", qb, "signature", sb,
                           "ak_pub", akpem, "ak_cert", "pcrs", pcrs, "event_log");
    if (!o->no_ak_cert)
        make_ak_cert(o, ak, ev);
    EVP_PKEY_free(ak);
    free(qb);
    free(sb);
    free(akpem);
    json_decref(pcrs);
    return ev;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *len, int must)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) {
        if (must)
            die("--tpm-dir: a file is missing");
        return NULL;
    }
    uint8_t *b = malloc(8u << 20);
    *len = fread(b, 1, (8u << 20) - 1, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

/* tpm2 evidence from files a real TPM produced (see the usage). */
static json_t *tpm_from_dir(const char *dir)
{
    size_t ql, sl, al, pl, ll = 0;
    uint8_t *q = slurp(dir, "quote.bin", &ql, 1), *s = slurp(dir, "sig.bin", &sl, 1);
    uint8_t *ak = slurp(dir, "ak.pem", &al, 1), *pj = slurp(dir, "pcrs.json", &pl, 1);
    uint8_t *log = slurp(dir, "eventlog.bin", &ll, 0);
    json_error_t je;
    json_t *pcrs = json_loadb((const char *)pj, pl, 0, &je);
    char *qb = codec_b64_encode_alloc(q, ql), *sb = codec_b64_encode_alloc(s, sl);
    char *lb = log ? codec_b64_encode_alloc(log, ll) : NULL;
    json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:n, s:o, s:s?}", "type", "tpm2", "quote", qb, "signature", sb,
                           "ak_pub", (const char *)ak, "ak_cert", "pcrs", pcrs, "event_log", lb);
    if (!ev)
        die("--tpm-dir: bad files");
    if (!lb)
        json_object_set_new(ev, "event_log", json_null());
    free(q);
    free(s);
    free(ak);
    free(pj);
    free(log);
    free(qb);
    free(sb);
    free(lb);
    return ev;
}

/* ---- TDX ---------------------------------------------------------------------------------- */

static void le16(uint8_t **p, uint16_t v)
{
    (*p)[0] = (uint8_t)v;
    (*p)[1] = (uint8_t)(v >> 8);
    *p += 2;
}

static void le32(uint8_t **p, uint32_t v)
{
    le16(p, (uint16_t)v);
    le16(p, (uint16_t)(v >> 16));
}

static void le64(uint8_t **p, uint64_t v)
{
    le32(p, (uint32_t)v);
    le32(p, (uint32_t)(v >> 32));
}

static X509 *ec_cert(const char *cn, X509 *issuer, EVP_PKEY *key, EVP_PKEY *signer, int ca, long serial)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"TEST ONLY (not Intel)", -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_NAME_free(n);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 30);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365 * 10);
    X509_set_pubkey(x, key);
    if (ca) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (X509_sign(x, signer, EVP_sha256()) <= 0)
        die("tdx cert sign");
    return x;
}

static void raw_sig(EVP_PKEY *k, const uint8_t *m, size_t n, uint8_t rs[64])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t dl = sizeof der;
    if (EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k) != 1 || EVP_DigestSign(c, der, &dl, m, n) != 1)
        die("tdx sign");
    EVP_MD_CTX_free(c);
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    BN_bn2binpad(r, rs, 32);
    BN_bn2binpad(s, rs + 32, 32);
    ECDSA_SIG_free(es);
}

/* A CCEL log (crypto-agile, SHA-384 only) with three events into RTMR0-2; rtmr gets the replay. */
static size_t make_ccel(uint8_t *out, uint8_t rtmr[4][48])
{
    uint8_t *p = out;
    static const uint8_t spec_sig[16] = "Spec ID Event03";
    uint8_t spec[64], *sp = spec;
    memcpy(sp, spec_sig, 16);
    sp += 16;
    le32(&sp, 0);
    *sp++ = 0;
    *sp++ = 2;
    *sp++ = 0;
    *sp++ = 2;
    le32(&sp, 1);
    le16(&sp, 0x000C);
    le16(&sp, 48);
    *sp++ = 0;
    size_t specl = (size_t)(sp - spec);
    le32(&p, 0);
    le32(&p, 3);
    memset(p, 0, 20);
    p += 20;
    le32(&p, (uint32_t)specl);
    memcpy(p, spec, specl);
    p += specl;
    memset(rtmr, 0, 4 * 48);
    static const char *data[3] = {"firmware volume", "kernel command line", "initrd"};
    for (int i = 0; i < 3; i++) {
        uint8_t d[48], cat[96];
        EVP_Digest(data[i], strlen(data[i]), d, NULL, EVP_sha384(), NULL);
        le32(&p, (uint32_t)(i + 1));          /* CC MR index: 1..4 = RTMR0..3 */
        le32(&p, 0x0000000D);                 /* EV_IPL */
        le32(&p, 1);
        le16(&p, 0x000C);
        memcpy(p, d, 48);
        p += 48;
        le32(&p, (uint32_t)strlen(data[i]));
        memcpy(p, data[i], strlen(data[i]));
        p += strlen(data[i]);
        memcpy(cat, rtmr[i], 48);
        memcpy(cat + 48, d, 48);
        EVP_Digest(cat, 96, rtmr[i], NULL, EVP_sha384(), NULL);
    }
    return (size_t)(p - out);
}

static json_t *make_tdx(const struct opts *o, const uint8_t rd[64])
{
    EVP_PKEY *rk = gen_ec("P-256"), *ik = gen_ec("P-256"), *pk = gen_ec("P-256"), *ak = gen_ec("P-256");
    X509 *root = ec_cert("TEST SGX Root CA (not Intel)", NULL, rk, rk, 1, 1);
    X509 *inter = ec_cert("TEST SGX PCK Platform CA", root, ik, rk, 1, 2);
    X509 *pck = ec_cert("TEST SGX PCK Certificate", inter, pk, ik, 0, 3);
    char *pem_leaf = pem_of(pck), *pem_inter = pem_of(inter), *pem_root = pem_of(root);
    char chain[8192];
    int cl = snprintf(chain, sizeof chain, "%s%s%s", pem_leaf, pem_inter, pem_root);
    write_file(o->dir, "tdx_root.pem", pem_root, strlen(pem_root));
    uint8_t rtmr[4][48], ccel[2048];
    size_t ccl = make_ccel(ccel, rtmr);
    write_file(o->dir, "ccel.bin", ccel, ccl);

    int v5 = o->tdx_version == 5;
    size_t bodyl = v5 ? 648 : 584, qa = 32;
    size_t certdata = 384 + 64 + 2 + qa + 2 + 4 + (size_t)cl;
    size_t sigdata = 64 + 64 + 2 + 4 + certdata;
    size_t total = 48 + (v5 ? 6 : 0) + bodyl + 4 + sigdata;
    uint8_t *q = calloc(1, total), *p = q;
    le16(&p, v5 ? 5 : 4);
    le16(&p, 2);
    le32(&p, 0x81);
    le16(&p, 8);
    le16(&p, 13);
    memset(p, 0x93, 16);
    p += 16;
    p += 20;
    if (v5) {
        le16(&p, 3);
        le32(&p, 648);
    }
    memset(p, 3, 16);                 /* TEE_TCB_SVN */
    memset(p + 16, 0x20, 48);         /* MRSEAM */
    p += 112;
    le64(&p, 0);                      /* SEAMATTRIBUTES */
    le64(&p, o->tdx_debug ? 0x10000001ull : 0x10000000ull);
    le64(&p, 0x642e7);
    memcpy(p, MEASUREMENT, 48);       /* MRTD */
    p += 48 + 3 * 48;                 /* then MRCONFIGID, MROWNER, MROWNERCONFIG: zero */
    memcpy(p, rtmr, 4 * 48);
    p += 4 * 48;
    memcpy(p, rd, 64);
    if (o->bad_snp_rd)
        p[40] ^= 1;
    p += 64;
    if (v5)
        p += 64;                      /* TEE_TCB_SVN2, MRSERVICETD zero */
    size_t signed_len = (size_t)(p - q);
    le32(&p, (uint32_t)sigdata);
    uint8_t *sig = p;
    raw_sig(ak, q, signed_len, sig);
    p += 64;
    uint8_t pub[65];
    size_t pl = 0;
    EVP_PKEY_get_octet_string_param(ak, "encoded-pub-key", pub, sizeof pub, &pl);
    memcpy(p, pub + 1, 64);
    p += 64;
    le16(&p, 6);
    le32(&p, (uint32_t)certdata);
    uint8_t *qe = p;
    memset(qe, 0x05, 16);
    p += 384;
    uint8_t *qesig = p;
    p += 64;
    le16(&p, (uint16_t)qa);
    uint8_t *auth = p;
    for (size_t i = 0; i < qa; i++)
        auth[i] = (uint8_t)i;
    p += qa;
    uint8_t cat[96];
    memcpy(cat, pub + 1, 64);
    memcpy(cat + 64, auth, qa);
    EVP_Digest(cat, 64 + qa, qe + 320, NULL, EVP_sha256(), NULL);
    raw_sig(pk, qe, 384, qesig);
    le16(&p, 5);
    le32(&p, (uint32_t)cl);
    memcpy(p, chain, (size_t)cl);
    p += cl;
    if ((size_t)(p - q) != total)
        die("tdx quote size");
    write_file(o->dir, "tdx_quote.bin", q, total);
    char *qb = codec_b64_encode_alloc(q, total), *lb = codec_b64_encode_alloc(ccel, ccl);
    json_t *ev = json_pack("{s:s, s:s, s:s, s:n, s:s}", "type", "tdx", "quote", qb, "ccel_log", lb, "ccel_table",
                           "via", "testgen");
    free(qb);
    free(lb);
    free(q);
    free(pem_leaf);
    free(pem_inter);
    free(pem_root);
    X509_free(root);
    X509_free(inter);
    X509_free(pck);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(ak);
    return ev;
}

static void parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->dir = ".";
    o->type = "none";
    o->product = "milan";
    o->signer = "vcek";
    o->user_id = "https://www.paypal.com/webapps/auth/identity/user/TESTUSER123";
    o->client_id = "AeTestClientId-123";
    o->env = "sandbox";
    o->version = 2;
    o->policy = 0x30000;
    o->iat = (long long)time(NULL) - 60;
    o->source_commit = "0123456789abcdef0123456789abcdef01234567";
    o->cmdline = "console=ttyS0 sealed.test=1";
    o->committed_build = -1;
    if (argc < 3 || strcmp(argv[1], "result"))
        die("usage: testgen result OUT [options] (see the header comment)");
    o->out = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define V(name, field) if (!strcmp(a, name) && v) { o->field = v; i++; continue; }
#define F(name, field) if (!strcmp(a, name)) { o->field = 1; continue; }
        V("--type", type) V("--dir", dir) V("--product", product) V("--signer", signer) V("--user-id", user_id)
        V("--client-id", client_id) V("--env", env) V("--key", key) V("--tpm-dir", tpm_dir) V("--measurement", measurement)
        V("--trust", trust) V("--source-commit", source_commit) V("--cmdline", cmdline)
        V("--manifest-commit", manifest_commit) F("--no-trust", no_trust)
        V("--reported-tcb", reported_tcb) V("--current-tcb", current_tcb) V("--committed-tcb", committed_tcb)
        V("--launch-tcb", launch_tcb) V("--platform-info", platform_info)
        if (!strcmp(a, "--committed-build") && v) { o->committed_build = (int)strtol(v, NULL, 10); i++; continue; }
        F("--bad-kid", bad_kid) F("--bad-payload-rd", bad_payload_rd) F("--bad-snp-rd", bad_snp_rd)
        F("--bad-quote-extra", bad_quote_extra) F("--no-ark", no_ark) F("--chip-zero", chip_zero)
        F("--tdx-debug", tdx_debug) F("--no-ak-cert", no_ak_cert)
        if (!strcmp(a, "--tdx-version") && v) { o->tdx_version = (int)strtol(v, NULL, 10); i++; continue; }
        if (!strcmp(a, "--version") && v) { o->version = (unsigned)strtoul(v, NULL, 10); i++; continue; }
        if (!strcmp(a, "--vmpl") && v) { o->vmpl = (unsigned)strtoul(v, NULL, 10); i++; continue; }
        if (!strcmp(a, "--policy") && v) { o->policy = strtoull(v, NULL, 16); i++; continue; }
        if (!strcmp(a, "--iat") && v) { o->iat = strtoll(v, NULL, 10); i++; continue; }
        die("unknown option");
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    parse(argc, argv, &o);
    if (o.measurement && codec_hex_decode(o.measurement, strlen(o.measurement), MEASUREMENT, 48) != 48)
        die("--measurement wants 96 lowercase hex digits");
    EVP_PKEY *key = NULL;
    if (o.key) {
        FILE *kf = fopen(o.key, "r");
        key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
        if (kf)
            fclose(kf);
        if (!key)
            die("--key: cannot read a PEM private key");
    } else {
        key = gen_ec("P-256");
    }
    json_t *jwk = jose_jwk_from_pkey(key);
    char kid[JOSE_THUMBPRINT_LEN + 1];
    if (!jwk || jose_jwk_thumbprint(jwk, kid))
        die("jwk");
    char *jwks = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    write_file(o.dir, "signer.jwk", jwks, strlen(jwks));
    free(jwks);

    uint8_t nonce[16], spki[32];
    for (int i = 0; i < 16; i++)
        nonce[i] = (uint8_t)(0xa0 + i);
    EVP_Digest("test tls key", 12, spki, NULL, EVP_sha256(), NULL);
    char nonce_hex[33], spki_hex[65], rd_hex[129];
    codec_hex_encode(nonce, 16, nonce_hex, sizeof nonce_hex);
    codec_hex_encode(spki, 32, spki_hex, sizeof spki_hex);
    struct binding_input in = {
        .client_id = o.client_id, .client_id_len = strlen(o.client_id), .user_id = o.user_id,
        .user_id_len = strlen(o.user_id), .kid = kid, .tls_spki_sha256_hex = spki_hex, .iat = (uint64_t)o.iat,
        .nonce_hex = nonce_hex,
    };
    uint8_t rd[64];
    if (binding_report_data(&in, rd))
        die("binding");
    uint8_t prd[64];
    memcpy(prd, rd, 64);
    if (o.bad_payload_rd)
        prd[5] ^= 1;
    codec_hex_encode(prd, 64, rd_hex, sizeof rd_hex);

    json_t *evidence = json_array();
    if (!strcmp(o.type, "none")) {
        json_array_append_new(evidence, json_pack("{s:s, s:s}", "type", "none", "reason", "no TEE or TPM on this platform (test)"));
    }
    if (!strncmp(o.type, "sev-snp", 7)) {
        struct snp_out so;
        make_snp(&o, rd, &so);
        json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "type", "sev-snp", "report", so.report_b64,
                              so.vlek ? "vlek" : "vcek", so.vek_pem, "ask", so.ask_pem);
        if (!o.no_ark)
            json_object_set_new(e, "ark", json_string(so.ark_pem));
        json_array_append_new(evidence, e);
        free(so.report_b64);
        free(so.vek_pem);
        free(so.ask_pem);
        free(so.ark_pem);
    }
    if (strstr(o.type, "tdx"))
        json_array_append_new(evidence, make_tdx(&o, rd));
    if (o.tpm_dir)
        json_array_append_new(evidence, tpm_from_dir(o.tpm_dir));
    else if (strstr(o.type, "tpm2"))
        json_array_append_new(evidence, make_tpm(&o, rd));

    char mh[97];
    codec_hex_encode(MEASUREMENT, 48, mh, sizeof mh);
    /* a build manifest in the shape sealed-measure writes: SNP measurements per vCPU count and the
     * expected UEFI-disk PCR 4 (the test quote's PCR 4) */
    uint8_t p4[32];
    char p4h[65];
    EVP_Digest("pcr4", 4, p4, NULL, EVP_sha256(), NULL);
    codec_hex_encode(p4, 32, p4h, sizeof p4h);
    json_t *man = json_pack("{s:i, s:{s:[{s:i, s:s, s:s}]}, s:{s:{s:{s:{s:s}}}}, s:{s:s}}", "version", 1, "sev-snp",
                            "measurements", "vcpus", 1, "vcpu_type", "EPYC-v4", "measurement", mh, "tpm", "uefi-disk",
                            "pcrs", "sha256", "4", p4h, "tdx", "mrtd", mh);
    if (!man)
        die("manifest");
    json_object_set_new(man, "source", json_pack("{s:s}", "git_commit", o.manifest_commit ? o.manifest_commit : o.source_commit));
    json_object_set_new(man, "cmdline", json_string(o.cmdline));
    char *ms = json_dumps(man, JSON_INDENT(2) | JSON_SORT_KEYS);
    write_file(o.dir, "manifest.json", ms, strlen(ms));
    free(ms);
    json_decref(man);

    json_t *userinfo = json_pack("{s:s, s:s, s:s}", "user_id", o.user_id, "name", "Test <b>User</b>", "email", "test@example.com");
    json_t *payload = json_pack("{s:i, s:s, s:I, s:s, s:{s:s, s:s, s:s, s:o}, s:s, s:s, s:o}", "ver", 1, "iss",
                                "https://login.example.test", "iat", (json_int_t)o.iat, "nonce", nonce_hex, "paypal", "env",
                                o.env, "client_id", o.client_id, "user_id", o.user_id, "userinfo", userinfo,
                                "tls_spki_sha256", spki_hex, "report_data", rd_hex, "evidence", evidence);
    /* what the service would say of this evidence (login/evidence.c, platform none) */
    char trust[TRUST_MAX_LEN + 1] = "";
    for (size_t i = 0; i < json_array_size(evidence); i++) {
        const json_t *e = json_array_get(evidence, i);
        const char *t = json_string_value(json_object_get(e, "type"));
        const char *it = !strcmp(t, "sev-snp") ? "snp-measured-direct-boot" : !strcmp(t, "tdx") ? "tdx-rtmr" :
                         !strcmp(t, "tpm2") ? "vtpm-unrooted" : "none";   /* a test AK root is not Google's */
        size_t k = strlen(trust);
        snprintf(trust + k, sizeof trust - k, "%s%s", k ? "+" : "", it);
    }
    if (!o.no_trust) {
        json_object_set_new(payload, "trust", json_string(o.trust ? o.trust : trust));
        json_object_set_new(payload, "source_commit", json_string(o.source_commit));
        json_object_set_new(payload, "kernel_cmdline", json_string(o.cmdline));
    }
    char *ps = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *hdr = json_pack("{s:s, s:s, s:O}", "alg", "ES256", "kid", o.bad_kid ? "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" : kid,
                            "jwk", jwk);
    char *jws = jose_jws_compact_sign(key, hdr, (const uint8_t *)ps, strlen(ps));
    if (!jws)
        die("sign");
    FILE *f = fopen(o.out, "wb");
    if (!f || fputs(jws, f) < 0 || fclose(f))
        die("write result");
    write_file(o.dir, "payload.json", ps, strlen(ps));
    free(jws);
    free(ps);
    json_decref(hdr);
    json_decref(payload);
    json_decref(jwk);
    EVP_PKEY_free(key);
    return 0;
}
