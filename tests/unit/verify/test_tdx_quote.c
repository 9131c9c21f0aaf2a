/* Unit tests for verify/tdx_quote and verify/intel_root: the pinned Intel SGX Root CA is the one
 * with Intel's published SHA-256, self-signed; DCAP v4/v5 layouts decode to the right offsets, every
 * truncation fails, trailing bytes and wrong version, TEE, key and certification types are refused. */
#include "test.h"
#include "verify/amd_chain.h"
#include "verify/intel_root.h"
#include "verify/tdx_quote.h"

TEST(intel_root_pinned)
{
    X509 *r = intel_root_load();
    char fp[65];
    CHECK(r != NULL);
    amd_chain_fingerprint(r, fp);
    CHECK_STR(fp, INTEL_ROOT_SHA256);
    CHECK(X509_verify(r, X509_get0_pubkey(r)) == 1);
    CHECK(intel_root_is(r));
    char cn[64];
    amd_chain_cn(X509_get_subject_name(r), cn, sizeof cn);
    CHECK_STR(cn, "Intel SGX Root CA");
    X509_free(r);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_pubkey(x, k);
    CHECK(!intel_root_is(x));
    X509_free(x);
    EVP_PKEY_free(k);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* A structurally complete quote; the body bytes are their offset's low byte. */
static size_t quote(uint8_t *q, int v5, int body15)
{
    size_t bl = body15 ? TDX_QUOTE_BODY15_LEN : TDX_QUOTE_BODY10_LEN, h = 48 + (v5 ? 6 : 0);
    static const char chain[] = "-----BEGIN CERTIFICATE-----\n";
    size_t cert = 384 + 64 + 2 + 4 + 2 + 4 + sizeof chain - 1, sig = 64 + 64 + 2 + 4 + cert;
    memset(q, 0, h + bl + 4 + sig);
    put16(q, v5 ? 5 : 4);
    put16(q + 2, 2);
    put32(q + 4, 0x81);
    put16(q + 8, 7);
    if (v5) {
        put16(q + 48, body15 ? 3 : 2);
        put32(q + 50, (uint32_t)bl);
    }
    for (size_t i = 0; i < bl; i++)
        q[h + i] = (uint8_t)i;
    uint8_t *s = q + h + bl;
    put32(s, (uint32_t)sig);
    s += 4;
    s[0] = 0xAA;        /* signature */
    s[64] = 0xBB;       /* attestation key */
    put16(s + 128, 6);
    put32(s + 130, (uint32_t)cert);
    uint8_t *c = s + 134;
    c[0] = 0xCC;        /* QE report */
    put16(c + 448, 4);
    memcpy(c + 450, "auth", 4);
    put16(c + 454, 5);
    put32(c + 456, (uint32_t)(sizeof chain - 1));
    memcpy(c + 460, chain, sizeof chain - 1);
    return h + bl + 4 + sig;
}

TEST(v4_layout)
{
    uint8_t q[2048];
    size_t n = quote(q, 0, 0);
    struct tdx_quote t;
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_OK);
    CHECK(t.version == 4 && t.body_type == 2 && t.qe_svn == 7 && t.signed_len == 48 + 584);
    CHECK(t.tee_tcb_svn[0] == 0 && t.mrseam[0] == 16 && t.mrtd[0] == 136 && t.rtmr[0][0] == (uint8_t)328);
    CHECK(t.rtmr[3][0] == (uint8_t)(328 + 144) && t.report_data[0] == (uint8_t)520);
    CHECK(t.td_attributes == 0x7f7e7d7c7b7a7978ull);   /* bytes 120..127, little-endian */
    CHECK(t.signature[0] == 0xAA && t.att_key[0] == 0xBB && t.qe_report[0] == 0xCC);
    CHECK(t.qe_auth_len == 4 && !memcmp(t.qe_auth, "auth", 4));
    CHECK(t.pck_chain_len == 28 && t.pck_chain + t.pck_chain_len == q + n);
    for (size_t l = 0; l < n; l++)
        CHECK(tdx_quote_parse(q, l, &t) == TDX_QUOTE_ERR_TRUNCATED);
    q[n] = 0;
    CHECK(tdx_quote_parse(q, n + 1, &t) == TDX_QUOTE_ERR_TRAILING);
}

TEST(v5_layouts)
{
    uint8_t q[2048];
    struct tdx_quote t;
    size_t n = quote(q, 1, 1);
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_OK);
    CHECK(t.version == 5 && t.body_type == 3 && t.signed_len == 54 + 648);
    CHECK(t.mrtd[0] == 136 && t.report_data[0] == (uint8_t)520 && t.tee_tcb_svn2[0] == (uint8_t)584);
    CHECK(t.mrservicetd[0] == (uint8_t)600);
    n = quote(q, 1, 0);
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_OK && t.body_type == 2 && t.signed_len == 54 + 584);
    put32(q + 50, 600);   /* body size disagrees with the type */
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_ERR_BODY);
}

TEST(refusals)
{
    uint8_t q[2048];
    struct tdx_quote t;
    size_t n = quote(q, 0, 0);
    q[0] = 3;
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_ERR_VERSION);
    n = quote(q, 0, 0);
    q[4] = 0;   /* SGX */
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_ERR_TEE);
    n = quote(q, 0, 0);
    q[2] = 3;   /* ECDSA P-384 */
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_ERR_KEY_TYPE);
    n = quote(q, 0, 0);
    q[48 + 584 + 4 + 128] = 5;   /* PCK chain directly, no QE report data */
    CHECK(tdx_quote_parse(q, n, &t) == TDX_QUOTE_ERR_CERT_TYPE);
    n = quote(q, 0, 0);
    q[48 + 584] ^= 1;            /* signature data length off by one */
    CHECK(tdx_quote_parse(q, n, &t) != TDX_QUOTE_OK);
    CHECK(tdx_quote_parse(NULL, 0, &t) == TDX_QUOTE_ERR_TRUNCATED);
}

int main(void)
{
    RUN(intel_root_pinned);
    RUN(v4_layout);
    RUN(v5_layouts);
    RUN(refusals);
    return test_done();
}
