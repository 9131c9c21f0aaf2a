/* snp_check: one SEV-SNP report, every step recorded; see snp_check.h. */
#include "verify/snp_check.h"
#include "verify/amd_chain.h"
#include "verify/snp_tcb_floor.h"
#include "verify/verify_limits.h"
#include "common/amd_roots.h"
#include "common/codec.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>

void snp_policy_defaults(struct snp_policy *p)
{
    memset(p, 0, sizeof *p);
    p->vmpl = 0;
    p->signers = SNP_CHECK_SIGNER_VCEK | SNP_CHECK_SIGNER_VLEK;
    p->at = time(NULL);
}

void snp_policy_default_min_tcb(snp_product p, struct snp_tcb *t)
{
    const struct snp_tcb_floor *f = snp_tcb_floor_for(p, NULL);
    memset(t, 0, sizeof *t);
    if (f)
        *t = f->min;
}

json_t *snp_check_platform_info_json(uint64_t pi)
{
    static const struct { unsigned bit; const char *name; } bits[] = {
        {0, "smt_enabled"}, {1, "tsme_enabled"}, {2, "ecc_enabled"}, {3, "rapl_disabled"},
        {4, "ciphertext_hiding_dram_enabled"}, {5, "alias_check_complete"}, {7, "tio_enabled"},
    };
    json_t *o = json_object();
    uint64_t known = 0;
    char raw[24];
    if (!o)
        return NULL;
    snprintf(raw, sizeof raw, "0x%" PRIx64, pi);
    json_object_set_new(o, "raw", json_string(raw));
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        json_object_set_new(o, bits[i].name, json_boolean((pi >> bits[i].bit) & 1));
        known |= 1ull << bits[i].bit;
    }
    if (pi & ~known) {
        snprintf(raw, sizeof raw, "0x%" PRIx64, pi & ~known);
        json_object_set_new(o, "unknown_bits", json_string(raw));
    }
    return o;
}

int snp_policy_parse_tcb(const char *s, struct snp_tcb *out)
{
    memset(out, 0, sizeof *out);
    while (*s) {
        const char *comma = strchr(s, ','), *end = comma ? comma : s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        uint64_t v;
        if (!eq || codec_parse_u64(eq + 1, (size_t)(end - eq - 1), 0, 255, &v))
            return -1;
        size_t kl = (size_t)(eq - s);
        uint8_t *dst = NULL;
        if (kl == 2 && !memcmp(s, "bl", 2)) dst = &out->bootloader;
        else if (kl == 3 && !memcmp(s, "tee", 3)) dst = &out->tee;
        else if (kl == 3 && !memcmp(s, "snp", 3)) dst = &out->snp;
        else if (kl == 5 && !memcmp(s, "ucode", 5)) dst = &out->microcode;
        else if (kl == 3 && !memcmp(s, "fmc", 3)) dst = &out->fmc;
        if (!dst)
            return -1;
        *dst = (uint8_t)v;
        s = comma ? comma + 1 : end;
    }
    return 0;
}

static void hexs(const uint8_t *b, size_t n, char *out, size_t cap)
{
    if (codec_hex_encode(b, n, out, cap) == (size_t)-1 && cap)
        out[0] = 0;
}

static json_t *hexj(const uint8_t *b, size_t n)
{
    char buf[2 * 72 + 1];
    hexs(b, n, buf, sizeof buf);
    return json_string(buf);
}

static json_t *tcbj(uint64_t raw, snp_product p)
{
    struct snp_tcb t;
    char r[24];
    snp_tcb_decode(raw, p, &t);
    snprintf(r, sizeof r, "0x%016" PRIx64, raw);
    json_t *o = json_pack("{s:s, s:i, s:i, s:i, s:i}", "raw", r, "bootloader", t.bootloader, "tee", t.tee,
                          "snp", t.snp, "microcode", t.microcode);
    if (o && p == SNP_PRODUCT_TURIN)
        json_object_set_new(o, "fmc", json_integer(t.fmc));
    return o;
}

/* Big-endian hex of a little-endian signature component (how tools print R and S). */
static json_t *sigj(const uint8_t *le)
{
    uint8_t be[48];
    for (int i = 0; i < 48; i++)
        be[i] = le[47 - i];
    return hexj(be, 48);
}

json_t *snp_check_report_json(const struct snp_report *r, snp_product p)
{
    char pol[24], pi[24];
    snprintf(pol, sizeof pol, "0x%" PRIx64, r->policy);
    snprintf(pi, sizeof pi, "0x%" PRIx64, r->platform_info);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "guest_svn", json_integer(r->guest_svn));
    json_object_set_new(o, "policy", json_string(pol));
    json_object_set_new(o, "policy_debug", json_boolean(r->policy & SNP_POLICY_DEBUG));
    json_object_set_new(o, "policy_migrate_ma", json_boolean(r->policy & SNP_POLICY_MIGRATE_MA));
    json_object_set_new(o, "policy_smt", json_boolean(r->policy & SNP_POLICY_SMT));
    json_object_set_new(o, "policy_single_socket", json_boolean(r->policy & SNP_POLICY_SINGLE_SOCKET));
    json_object_set_new(o, "family_id", hexj(r->family_id, 16));
    json_object_set_new(o, "image_id", hexj(r->image_id, 16));
    json_object_set_new(o, "vmpl", json_integer(r->vmpl));
    json_object_set_new(o, "signature_algo", json_integer(r->signature_algo));
    json_object_set_new(o, "current_tcb", tcbj(r->current_tcb, p));
    json_object_set_new(o, "platform_info", json_string(pi));
    json_object_set_new(o, "platform_info_bits", snp_check_platform_info_json(r->platform_info));
    json_object_set_new(o, "author_key_en", json_integer(r->key_info & 1));
    json_object_set_new(o, "mask_chip_key", json_integer((r->key_info >> 1) & 1));
    json_object_set_new(o, "signing_key", json_string(snp_signer_name(snp_report_signer(r))));
    json_object_set_new(o, "report_data", hexj(r->report_data, 64));
    json_object_set_new(o, "measurement", hexj(r->measurement, 48));
    json_object_set_new(o, "host_data", hexj(r->host_data, 32));
    json_object_set_new(o, "id_key_digest", hexj(r->id_key_digest, 48));
    json_object_set_new(o, "author_key_digest", hexj(r->author_key_digest, 48));
    json_object_set_new(o, "report_id", hexj(r->report_id, 32));
    json_object_set_new(o, "report_id_ma", hexj(r->report_id_ma, 32));
    json_object_set_new(o, "reported_tcb", tcbj(r->reported_tcb, p));
    if (r->version >= 3) {
        json_object_set_new(o, "cpuid_fam_id", json_integer(r->cpuid_fam_id));
        json_object_set_new(o, "cpuid_mod_id", json_integer(r->cpuid_mod_id));
        json_object_set_new(o, "cpuid_step", json_integer(r->cpuid_step));
    }
    json_object_set_new(o, "chip_id", hexj(r->chip_id, 64));
    json_object_set_new(o, "committed_tcb", tcbj(r->committed_tcb, p));
    char fw[32];
    snprintf(fw, sizeof fw, "%u.%u build %u", r->current_major, r->current_minor, r->current_build);
    json_object_set_new(o, "current_firmware", json_string(fw));
    snprintf(fw, sizeof fw, "%u.%u build %u", r->committed_major, r->committed_minor, r->committed_build);
    json_object_set_new(o, "committed_firmware", json_string(fw));
    json_object_set_new(o, "launch_tcb", tcbj(r->launch_tcb, p));
    if (r->version >= 5) {
        char mv[24];
        snprintf(mv, sizeof mv, "0x%" PRIx64, r->launch_mit_vector);
        json_object_set_new(o, "launch_mit_vector", json_string(mv));
        snprintf(mv, sizeof mv, "0x%" PRIx64, r->current_mit_vector);
        json_object_set_new(o, "current_mit_vector", json_string(mv));
    }
    json_object_set_new(o, "signature_r", sigj(r->sig_r));
    json_object_set_new(o, "signature_s", sigj(r->sig_s));
    return o;
}

static int is_self_signed(X509 *x)
{
    return X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0;
}

/* Product named by a certificate: productName extension, else the issuer CN "SEV-[VLEK-]<p>". */
static snp_product product_of_cert(const struct vek_info *vi)
{
    if (vi->has_product)
        return snp_product_from_name(vi->product, strlen(vi->product));
    const char *cn = vi->issuer_cn;
    if (!strncmp(cn, "SEV-VLEK-", 9))
        return snp_product_from_name(cn + 9, strlen(cn + 9));
    if (!strncmp(cn, "SEV-", 4))
        return snp_product_from_name(cn + 4, strlen(cn + 4));
    return SNP_PRODUCT_UNKNOWN;
}

static void check_validity(struct steps *st, X509 *x, const char *what, time_t at)
{
    char cn[64];
    amd_chain_cn(X509_get_subject_name(x), cn, sizeof cn);
    steps_check(st, amd_chain_valid_at(x, at), NULL, "snp.chain.validity",
                "%s certificate %s is within its validity period at the verification time", what, cn);
}

/* AMD's CRL for the product: signed by the trust anchor (the ARK), current at the verification
 * time, and listing neither the intermediate nor the VEK. Returns 1 when all hold. */
static int check_crl(const struct snp_policy *pol, X509 *anchor, X509 *mid, const char *midname, X509 *vek,
                     const char *vekname, struct steps *st)
{
    const char *f = pol->crl_file ? pol->crl_file : "--crl";
    char cn[64];
    amd_chain_cn(X509_get_subject_name(anchor), cn, sizeof cn);
    amd_chain_err e = amd_chain_verify_crl(pol->crl, anchor);
    int ok = steps_check(st, e == AMD_CHAIN_OK, NULL, "snp.crl.signature", "CRL %s is signed by %s (RSA-PSS SHA-384, salt 48)%s%s",
                         f, cn, e ? ": " : "", e ? amd_chain_strerror(e) : "");
    time_t at = pol->at;
    const ASN1_TIME *lu = X509_CRL_get0_lastUpdate(pol->crl), *nu = X509_CRL_get0_nextUpdate(pol->crl);
    int fresh = lu && X509_cmp_time(lu, &at) < 0 && (!nu || X509_cmp_time(nu, &at) > 0);
    ok &= steps_check(st, fresh, NULL, "snp.crl.current",
                      "CRL %s is current at the verification time (thisUpdate before it, nextUpdate after it)", f);
    int rmid = amd_chain_crl_revokes(pol->crl, mid), rvek = amd_chain_crl_revokes(pol->crl, vek);
    ok &= steps_check(st, e == AMD_CHAIN_OK && !rmid, NULL, "snp.crl.intermediate", "%s is not revoked by the CRL%s", midname,
                      e ? " (CRL not trusted)" : rmid ? ": its serial number is listed" : "");
    ok &= steps_check(st, e == AMD_CHAIN_OK && !rvek, NULL, "snp.crl.vek", "%s is not revoked by the CRL%s", vekname,
                      e ? " (CRL not trusted)" : rvek ? ": its serial number is listed" : "");
    return ok;
}

/* Chain: VEK -> intermediate -> anchor. The anchor is AMD's pinned ARK for the product or, only
 * when --trust-root gave one and the intermediate is signed by it, a test root. Returns 1 when
 * every link and validity check passed. */
static int check_chain(const struct snp_policy *pol, snp_product prod, unsigned signer, X509 *vek,
                       X509 *const *sup, int nsup, struct steps *st)
{
    int ok = 1;
    X509 *pinned_ark = NULL, *pinned_mid = NULL, *anchor = NULL, *mid = NULL;
    const char *midname = signer == SNP_SIGNER_VLEK ? "ASVK" : "ASK";
    const char *vekname = signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK";
    const struct amd_roots *roots = amd_roots_for(prod);
    char cn[64], fp[65];

    if (roots) {
        pinned_ark = amd_roots_load(roots->ark_pem);
        pinned_mid = amd_roots_load(signer == SNP_SIGNER_VLEK ? roots->asvk_pem : roots->ask_pem);
        if (!pinned_ark || !pinned_mid) {
            steps_add(st, STEP_FAIL, "snp.chain.root", "cannot load the pinned AMD certificates");
            ok = 0;
            goto out;
        }
    }
    /* intermediate: one supplied (evidence, --chain, --trust-root file) whose subject is the VEK's
     * issuer, else the pinned one */
    for (int i = 0; i < nsup && !mid; i++)
        if (!is_self_signed(sup[i]) &&
            X509_NAME_cmp(X509_get_subject_name(sup[i]), X509_get_issuer_name(vek)) == 0)
            mid = sup[i];
    for (int i = 0; i < pol->ntrust_roots && !mid; i++)
        if (!is_self_signed(pol->trust_roots[i]) &&
            X509_NAME_cmp(X509_get_subject_name(pol->trust_roots[i]), X509_get_issuer_name(vek)) == 0)
            mid = pol->trust_roots[i];
    for (int i = 0; i < nsup; i++)
        if (!is_self_signed(sup[i]) && sup[i] != mid) {
            amd_chain_cn(X509_get_subject_name(sup[i]), cn, sizeof cn);
            steps_add(st, STEP_INFO, "snp.chain.unused", "supplied certificate %s is not the issuer of this %s: not used",
                      cn, vekname);
        }
    if (!mid && pinned_mid) {
        mid = pinned_mid;
        steps_add(st, STEP_INFO, "snp.chain.intermediate", "%s: none supplied with the evidence, using AMD's pinned SEV-%s%s",
                  midname, signer == SNP_SIGNER_VLEK ? "VLEK-" : "", snp_product_name(prod));
    }
    if (!mid) {
        steps_add(st, STEP_FAIL, "snp.chain.intermediate", "no %s certificate matches the %s issuer%s", midname, vekname,
                  roots ? "" : " (and no pinned AMD root for an unknown product: use --product)");
        ok = 0;
        goto out;
    }
    /* anchor: a test root from --trust-root only if it signed the intermediate; else AMD's */
    for (int i = 0; i < pol->ntrust_roots && !anchor; i++)
        if (is_self_signed(pol->trust_roots[i]) && amd_chain_verify_link(mid, pol->trust_roots[i]) == AMD_CHAIN_OK)
            anchor = pol->trust_roots[i];
    if (anchor) {
        amd_chain_cn(X509_get_subject_name(anchor), cn, sizeof cn);
        amd_chain_fingerprint(anchor, fp);
        steps_add(st, STEP_WARN, "snp.chain.root",
                  "trust root is the TEST root %s (sha256 %s) from --trust-root %s, not AMD's pinned root: "
                  "this proves nothing about real AMD hardware", cn, fp,
                  pol->trust_root_file ? pol->trust_root_file : "");
    } else if (pinned_ark) {
        anchor = pinned_ark;
        steps_add(st, STEP_INFO, "snp.chain.root", "trust root: AMD ARK-%s pinned in this verifier (sha256 %s)%s",
                  snp_product_name(prod), roots->ark_sha256,
                  pol->ntrust_roots ? " (no --trust-root certificate signed this chain)" : "");
    } else {
        steps_add(st, STEP_FAIL, "snp.chain.root", "no trusted root: the product is unknown and no --trust-root signed this chain");
        ok = 0;
        goto out;
    }
    /* a root carried with the evidence must be the anchor itself */
    for (int i = 0; i < nsup; i++) {
        if (!is_self_signed(sup[i]))
            continue;
        amd_chain_cn(X509_get_subject_name(sup[i]), cn, sizeof cn);
        ok &= steps_check(st, amd_chain_same_cert(sup[i], anchor), NULL, "snp.chain.supplied_root",
                          "the root %s supplied with the evidence is identical to the trusted root", cn);
    }
    amd_chain_err e = amd_chain_verify_link(anchor, anchor);
    amd_chain_cn(X509_get_subject_name(anchor), cn, sizeof cn);
    ok &= steps_check(st, e == AMD_CHAIN_OK, NULL, "snp.chain.root_self_signed",
                      "%s is self-signed (RSA-PSS SHA-384)%s%s", cn, e ? ": " : "", e ? amd_chain_strerror(e) : "");
    char mcn[64];
    amd_chain_cn(X509_get_subject_name(mid), mcn, sizeof mcn);
    e = amd_chain_verify_link(mid, anchor);
    ok &= steps_check(st, e == AMD_CHAIN_OK, NULL, "snp.chain.intermediate_signed",
                      "%s %s is signed by %s (RSA-PSS SHA-384, salt 48)%s%s", midname, mcn, cn,
                      e ? ": " : "", e ? amd_chain_strerror(e) : "");
    char vcn[64];
    amd_chain_cn(X509_get_subject_name(vek), vcn, sizeof vcn);
    e = amd_chain_verify_link(vek, mid);
    ok &= steps_check(st, e == AMD_CHAIN_OK, NULL, "snp.chain.vek_signed",
                      "%s %s is signed by %s %s (RSA-PSS SHA-384, salt 48)%s%s", vekname, vcn, midname, mcn,
                      e ? ": " : "", e ? amd_chain_strerror(e) : "");
    check_validity(st, anchor, "root", pol->at);
    check_validity(st, mid, midname, pol->at);
    check_validity(st, vek, vekname, pol->at);
    ok &= amd_chain_valid_at(anchor, pol->at) && amd_chain_valid_at(mid, pol->at) && amd_chain_valid_at(vek, pol->at);
    if (pol->crl)
        ok &= check_crl(pol, anchor, mid, midname, vek, vekname, st);
    else
        steps_add(st, STEP_INFO, "snp.crl", "revocation not checked: no AMD CRL given (--crl FILE; `sealed-verify fetch` "
                  "downloads it)");
out:
    X509_free(pinned_ark);
    X509_free(pinned_mid);
    return ok;
}

/* The report's four TCBs: REPORTED <= CURRENT, COMMITTED == CURRENT (and the committed firmware
 * version == the current one) unless provisional firmware is allowed, then the floors on REPORTED
 * and LAUNCH. go-sev-guest's validateTcb makes the same comparisons. */
static void check_tcbs(const struct snp_policy *pol, const struct snp_report *r, snp_product prod, struct steps *st)
{
    struct snp_tcb rep, cur, com, lau;
    char a[80], b[80], c[80], def[160];
    snp_tcb_decode(r->reported_tcb, prod, &rep);
    snp_tcb_decode(r->current_tcb, prod, &cur);
    snp_tcb_decode(r->committed_tcb, prod, &com);
    snp_tcb_decode(r->launch_tcb, prod, &lau);
    snp_tcb_format(&rep, prod, a, sizeof a);
    snp_tcb_format(&cur, prod, b, sizeof b);
    int ok = snp_tcb_at_least(&cur, &rep, prod, def, sizeof def);
    steps_check(st, ok, NULL, "snp.tcb.reported_le_current", "REPORTED_TCB (%s) is not above CURRENT_TCB (%s)%s%s", a, b,
                ok ? "" : ": current ", def);
    snp_tcb_format(&com, prod, c, sizeof c);
    int fw_eq = r->committed_major == r->current_major && r->committed_minor == r->current_minor &&
                r->committed_build == r->current_build;
    int fw_le = (r->committed_major << 16 | r->committed_minor << 8 | r->committed_build) <=
                (r->current_major << 16 | r->current_minor << 8 | r->current_build);
    if (snp_tcb_equal(&com, &cur, prod) && fw_eq) {
        steps_add(st, STEP_PASS, "snp.tcb.committed", "COMMITTED_TCB (%s) and committed firmware %u.%u build %u equal the "
                  "current ones: the platform cannot be rolled back below what it reports", c, r->committed_major,
                  r->committed_minor, r->committed_build);
    } else {
        int le = snp_tcb_at_least(&cur, &com, prod, NULL, 0) && fw_le;
        steps_check(st, 0, le && pol->allow_provisional_firmware ? "--allow-provisional-firmware" : NULL, "snp.tcb.committed",
                    "COMMITTED_TCB (%s, firmware %u.%u build %u) %s CURRENT_TCB (%s, firmware %u.%u build %u)%s", c,
                    r->committed_major, r->committed_minor, r->committed_build, le ? "is below" : "is above",
                    b, r->current_major, r->current_minor, r->current_build,
                    !le ? ": an inconsistent report" :
                    ": provisional firmware, the host can roll back to the committed TCB");
    }

    const struct snp_tcb_floor *fl = snp_tcb_floor_for(prod, r);
    struct snp_tcb min, lmin;
    memset(&min, 0, sizeof min);
    if (pol->min_tcb_given)
        min = pol->min_tcb;
    else if (fl)
        min = fl->min;
    lmin = pol->min_launch_tcb_given ? pol->min_launch_tcb : min;
    char src[200];
    if (pol->min_tcb_given)
        snprintf(src, sizeof src, "--min-tcb");
    else if (fl)
        snprintf(src, sizeof src, "built-in floor for %s from %s", fl->line, fl->source);
    else
        snprintf(src, sizeof src, "no floor for an unknown product");
    snp_tcb_format(&min, prod, b, sizeof b);
    def[0] = 0;
    ok = (fl || pol->min_tcb_given) && snp_tcb_at_least(&rep, &min, prod, def, sizeof def);
    steps_check(st, ok, NULL, "policy.min_tcb", "REPORTED_TCB %s is at least the minimum %s (%s)%s%s", a, b, src,
                def[0] ? ": " : "", def);
    snp_tcb_format(&lau, prod, a, sizeof a);
    snp_tcb_format(&lmin, prod, b, sizeof b);
    def[0] = 0;
    ok = (fl || pol->min_launch_tcb_given || pol->min_tcb_given) && snp_tcb_at_least(&lau, &lmin, prod, def, sizeof def);
    steps_check(st, ok, NULL, "policy.min_launch_tcb", "LAUNCH_TCB %s (the platform's TCB when this guest started) is at least %s (%s)%s%s",
                a, b, pol->min_launch_tcb_given ? "--min-launch-tcb" : src, def[0] ? ": " : "", def);
}

int snp_check_run(const struct snp_policy *pol, const uint8_t *report, size_t len, X509 *vek,
                  X509 *const *sup, int nsup, struct steps *st, const char *key,
                  struct snp_report *r, int *parsed_ok)
{
    int before = st->failed;
    *parsed_ok = 0;
    snp_err se = snp_report_parse(report, len, r);
    if (se) {
        steps_add(st, STEP_FAIL, "snp.parse", "SNP report: %s (%zu bytes; a report is exactly %u bytes, version >= 2)",
                  snp_strerror(se), len, SNP_REPORT_SIZE);
        return st->failed - before;
    }
    *parsed_ok = 1;
    steps_add(st, STEP_PASS, "snp.parse", "SNP report parsed: version %u, %u bytes", r->version, SNP_REPORT_SIZE);
    steps_check(st, snp_report_version_known(r->version), pol->allow_unknown_version ? "--allow-unknown-version" : NULL,
                "policy.version", "report version %u is one this verifier knows (2, 3, 5)", r->version);
    steps_check(st, !r->reserved_nonzero, NULL, "snp.reserved", "reserved bytes of the signed area are zero");
    steps_check(st, r->signature_algo == 1, NULL, "snp.sig_algo",
                "signature algorithm %u is ECDSA P-384 with SHA-384 (1)", r->signature_algo);

    unsigned signer = snp_report_signer(r);
    unsigned bit = signer == SNP_SIGNER_VCEK ? SNP_CHECK_SIGNER_VCEK : signer == SNP_SIGNER_VLEK ? SNP_CHECK_SIGNER_VLEK : 0;
    steps_check(st, bit && (pol->signers & bit), NULL, "policy.signer",
                "signing key (bits 4:2 at 0x48) is %s, allowed: %s%s%s", snp_signer_name(signer),
                (pol->signers & SNP_CHECK_SIGNER_VCEK) ? "VCEK" : "",
                (pol->signers & SNP_CHECK_SIGNER_VCEK) && (pol->signers & SNP_CHECK_SIGNER_VLEK) ? ", " : "",
                (pol->signers & SNP_CHECK_SIGNER_VLEK) ? "VLEK" : "");

    struct vek_info vi;
    memset(&vi, 0, sizeof vi);
    if (vek) {
        amd_chain_err ve = amd_chain_vek_info(vek, &vi);
        steps_check(st, ve == AMD_CHAIN_OK, NULL, "snp.vek.extensions", "%s certificate (CN=%s, issuer CN=%s) AMD extensions readable%s%s",
                    signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK", vi.subject_cn, vi.issuer_cn,
                    ve ? ": " : "", ve ? amd_chain_strerror(ve) : "");
    }

    /* product: --product, else the report's CPUID (v3+), else the certificate */
    snp_product prod_r = snp_report_product(r), prod_c = vek ? product_of_cert(&vi) : SNP_PRODUCT_UNKNOWN;
    snp_product prod = pol->product ? pol->product : prod_r ? prod_r : prod_c;
    if (prod == SNP_PRODUCT_UNKNOWN)
        steps_add(st, STEP_FAIL, "snp.product", "product unknown: report version %u has no CPUID and no certificate names it (use --product)", r->version);
    else
        steps_add(st, STEP_INFO, "snp.product", "product: %s (from %s)", snp_product_name(prod),
                  pol->product ? "--product" : prod_r ? "the report's CPUID fields" : "the certificate");
    if (prod_r && prod != prod_r)
        steps_add(st, STEP_FAIL, "snp.product", "the report's CPUID says %s, not %s", snp_product_name(prod_r), snp_product_name(prod));
    if (prod_c && prod != prod_c)
        steps_add(st, STEP_FAIL, "snp.product", "the certificate is for %s, not %s", snp_product_name(prod_c), snp_product_name(prod));

    json_t *fj = snp_check_report_json(r, prod);
    if (fj) {
        json_object_set_new(fj, "product", json_string(snp_product_name(prod)));
        json_object_set_new(st->fields, key, fj);
    }

    if (!vek) {
        steps_add(st, STEP_FAIL, "snp.vek", "no %s certificate given: the report signature cannot be checked",
                  signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK");
    } else {
        EVP_PKEY *pk = X509_get0_pubkey(vek);
        snp_err e = pk ? snp_report_verify_signature(report, len, pk) : SNP_ERR_KEY;
        steps_check(st, e == SNP_OK, NULL, "snp.signature",
                    "report signature (ECDSA P-384, bytes 0x000-0x29F) verifies with the %s key%s%s",
                    signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK", e ? ": " : "", e ? snp_strerror(e) : "");
        int is_vlek_cert = !strncmp(vi.issuer_cn, "SEV-VLEK", 8);
        if (signer == SNP_SIGNER_VLEK || signer == SNP_SIGNER_VCEK)
            steps_check(st, is_vlek_cert == (signer == SNP_SIGNER_VLEK), NULL, "snp.vek.kind",
                        "the certificate (issuer %s) is a %s, as the report's signing-key bits say",
                        vi.issuer_cn, signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK");
        if (prod || pol->ntrust_roots)
            check_chain(pol, prod, signer, vek, sup, nsup, st);

        /* TCB extensions against REPORTED_TCB */
        struct snp_tcb rt;
        snp_tcb_decode(r->reported_tcb, prod, &rt);
        int tcb_ok = vi.has_bl && vi.has_tee && vi.has_snp && vi.has_ucode &&
                     vi.bl == rt.bootloader && vi.tee == rt.tee && vi.snp == rt.snp && vi.ucode == rt.microcode;
        if (prod == SNP_PRODUCT_TURIN)
            tcb_ok = tcb_ok && vi.has_fmc && vi.fmc == rt.fmc;
        char a[80], b[80];
        snp_tcb_format(&rt, prod, a, sizeof a);
        struct snp_tcb ct = {.fmc = vi.fmc, .bootloader = vi.bl, .tee = vi.tee, .snp = vi.snp, .microcode = vi.ucode};
        snp_tcb_format(&ct, prod, b, sizeof b);
        steps_check(st, tcb_ok, NULL, "snp.tcb", "the %s's TCB extensions (%s) equal REPORTED_TCB (%s)",
                    signer == SNP_SIGNER_VLEK ? "VLEK" : "VCEK", b, a);

        if (signer == SNP_SIGNER_VCEK) {
            /* Turin KDS certifies only the first 8 bytes of CHIP_ID */
            size_t want = prod == SNP_PRODUCT_TURIN ? 8 : 64;
            char h1[129], h2[129];
            hexs(r->chip_id, want, h1, sizeof h1);
            hexs(vi.hwid, vi.hwid_len, h2, sizeof h2);
            steps_check(st, vi.has_hwid && vi.hwid_len == want && CRYPTO_memcmp(vi.hwid, r->chip_id, want) == 0, NULL,
                        "snp.hwid", "CHIP_ID %s%s equals the VCEK hwID %s", h1, want == 8 ? "(first 8 bytes)" : "",
                        vi.has_hwid ? h2 : "(absent)");
        } else if (signer == SNP_SIGNER_VLEK) {
            steps_add(st, STEP_INFO, "snp.cspid", "VLEK issued to cloud provider %s (VLEKs carry no chip id)",
                      vi.has_csp_id ? vi.csp_id : "(no cspID extension)");
        }
    }

    /* guest policy */
    steps_check(st, !(r->policy & SNP_POLICY_DEBUG), pol->allow_debug ? "--allow-debug" : NULL, "policy.debug",
                "debug is off (policy bit 19 clear; policy 0x%" PRIx64 ")", r->policy);
    steps_check(st, !(r->policy & SNP_POLICY_MIGRATE_MA), pol->allow_migration_agent ? "--allow-migration-agent" : NULL,
                "policy.migration_agent", "migration agent is off (policy bit 18 clear)");
    if (pol->vmpl < 0)
        steps_add(st, STEP_INFO, "policy.vmpl", "VMPL %u (any accepted: --vmpl any)", r->vmpl);
    else
        steps_check(st, r->vmpl == (uint32_t)pol->vmpl, NULL, "policy.vmpl", "VMPL %u is the expected %d", r->vmpl, pol->vmpl);
    check_tcbs(pol, r, prod, st);
    steps_add(st, (r->platform_info & ~0xBFull) ? STEP_WARN : STEP_INFO, "snp.platform_info",
              "PLATFORM_INFO 0x%" PRIx64 " (shown, not a policy): SMT %s, TSME %s, ECC %s, RAPL %s, ciphertext hiding %s, "
              "alias check %s, SEV-TIO %s%s", r->platform_info, (r->platform_info & 1) ? "enabled" : "disabled",
              (r->platform_info & 2) ? "enabled" : "disabled", (r->platform_info & 4) ? "enabled" : "disabled",
              (r->platform_info & 8) ? "disabled" : "enabled", (r->platform_info & 16) ? "enabled" : "disabled",
              (r->platform_info & 32) ? "complete" : "not complete", (r->platform_info & 128) ? "enabled" : "disabled",
              (r->platform_info & ~0xBFull) ? "; bits this verifier does not know are set" : "");
    return st->failed - before;
}
