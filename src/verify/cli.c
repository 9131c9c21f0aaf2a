/* cli: option parsing and usage text for sealed-verify; see cli.h. */
#include "verify/cli.h"
#include "verify/util.h"
#include "verify/amd_chain.h"
#include "verify/amd_collateral.h"
#include "verify/verify_limits.h"
#include <stdlib.h>
#include "common/codec.h"
#include <stdio.h>
#include <string.h>

void cli_usage(FILE *out)
{
    fputs(
"usage: sealed-verify COMMAND [ARGS]\n"
"\n"
"  result FILE              check a sealed-login result (compact JWS, or its JSON payload)\n"
"      [--expect-measurement HEX | --manifest build-manifest.json | --skip-measurement]\n"
"      [--client-id ID] [--signer-key JWK-or-PEM-file] [--paypal-jwks FILE] [--at RFC3339] [--json]\n"
"      [--allow-unattested] [--max-skew SECONDS] [--allow-future-iat] [--allow-kid-mismatch]\n"
"      [--allow-report-data-mismatch] [--allow-unsigned] [--tpm-ca PEM] [--allow-unrooted-ak]\n"
"      [--allow-dirty] [--allow-option-roms] plus the SNP policy flags\n"
"      [--vcek F | --vlek F] [--chain F] (when the evidence lacks them, e.g. fetched from AMD KDS)\n"
"  snp-report REPORT        check a raw (or hex) SEV-SNP attestation report\n"
"      [--vcek F | --vlek F] [--chain F] [--certs CERT-TABLE] [--product Milan|Genoa|Turin]\n"
"      [--at TIME] [--trust-root F] [--json] [--report-data HEX]\n"
"  tpm-quote --quote F --signature F --ak PEM [--pcrs JSON] [--eventlog LOG]\n"
"      [--report-data HEX | --nonce HEX] [--tpm-ca PEM] [--allow-unrooted-ak] [--json]\n"
"  tdx-quote QUOTE [--ccel LOG] [--report-data HEX] [--trust-root F] [--at TIME] [--json]\n"
"  eventlog LOG [--bank sha1|sha256|sha384|sha512] [--pcrs JSON] [--json]\n"
"  tpm-ak-cert CERT [--chain FILE] [--tpm-ca FILE] [--at TIME] [--json]\n"
"                           check a TPM AK/EK certificate against the pinned vendor roots; shows the\n"
"                           GCE instance it names\n"
"  sd-jwt FILE [--issuer-jwks FILE | --result RESULT.jws] [--nonce N --aud A] [--require-kb]\n"
"      [--client-id ID] [--at TIME] [--generic] [--json]\n"
"                           check the result as an SD-JWT VC (RFC 9901) or a presentation of it with a\n"
"                           key-binding JWT; prints exactly which claims were proven\n"
"  fetch REPORT [--product P] [--kds-cache DIR] [--json]\n"
"                           download the report's VCEK, the product's chain and CRL from AMD's KDS into\n"
"                           the cache (the only command that uses the network)\n"
"  --version                the source commit this verifier was built from\n"
"\n"
"A TPM quote passes only when its AK certificate (ak_cert, with ak_chain) chains to a pinned vendor root\n"
"  (Google's Shielded VM vTPM CAs); --tpm-ca PEM adds a TEST root; --allow-unrooted-ak accepts any AK\n"
"  as not hardware-attested. With an event log covering PCRs 0-7, anything but a separator in PCR 2, 3\n"
"  or 6 and any device driver fails unless --allow-option-roms; PCR 7's Secure Boot state is shown.\n"
"TDX evidence is checked up to the pinned Intel SGX Root CA; --allow-debug also allows a debug TD.\n"
"SNP policy flags (strict by default): --allow-debug --allow-migration-agent --vmpl N|any\n"
"  --signer vcek|vlek|vcek,vlek --min-tcb bl=N,tee=N,snp=N,ucode=N[,fmc=N] --allow-unknown-version\n"
"  --trust-root FILE (a TEST root: only then is a non-AMD chain accepted)\n"
"  --min-launch-tcb bl=N,.. (default: the --min-tcb or built-in floor) --allow-provisional-firmware\n"
"  --crl FILE (AMD's CRL, from `fetch`) --kds-cache DIR | --no-kds-cache (a VCEK missing from the\n"
"  evidence is read from the cache `fetch` fills)\n"
"Exit status: 0 every check passed, 1 a check failed, 2 usage error or unreadable input.\n", out);
}

static int need(int i, int argc, const char *name)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "sealed-verify: %s needs a value\n", name);
        return -1;
    }
    return 0;
}

int cli_parse(int argc, char **argv, struct verify_opts *o)
{
    memset(o, 0, sizeof *o);
    snp_policy_defaults(&o->snp);
    o->at = o->snp.at;
    o->max_skew = VERIFY_DEFAULT_SKEW_S;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
#define VAL(name, field) if (!strcmp(a, name)) { if (need(i, argc, name)) return -1; o->field = argv[++i]; continue; }
#define FLAG(name, field) if (!strcmp(a, name)) { o->field = 1; continue; }
        FLAG("--json", json)
        FLAG("--help", help)
        FLAG("-h", help)
        VAL("--expect-measurement", expect_measurement)
        VAL("--manifest", manifest)
        VAL("--client-id", client_id)
        VAL("--signer-key", signer_key)
        VAL("--paypal-jwks", paypal_jwks)
        VAL("--issuer-jwks", issuer_jwks)
        VAL("--result", result)
        VAL("--aud", aud)
        FLAG("--require-kb", require_kb)
        FLAG("--generic", generic)
        FLAG("--allow-unattested", allow_unattested)
        FLAG("--allow-report-data-mismatch", allow_report_data_mismatch)
        FLAG("--allow-kid-mismatch", allow_kid_mismatch)
        FLAG("--allow-future-iat", allow_future_iat)
        FLAG("--allow-unsigned", allow_unsigned)
        FLAG("--skip-measurement", skip_measurement)
        FLAG("--allow-unrooted-ak", allow_unrooted_ak)
        FLAG("--allow-dirty", allow_dirty)
        FLAG("--allow-option-roms", allow_option_roms)
        VAL("--vcek", vcek)
        VAL("--vlek", vlek)
        VAL("--chain", chain)
        VAL("--certs", certs)
        VAL("--trust-root", trust_root)
        VAL("--quote", quote)
        VAL("--signature", signature)
        VAL("--ak", ak)
        VAL("--pcrs", pcrs)
        VAL("--eventlog", eventlog)
        VAL("--nonce", nonce)
        VAL("--report-data", report_data)
        VAL("--tpm-ca", ak_ca)
        VAL("--bank", bank)
        VAL("--ccel", ccel)
        FLAG("--allow-debug", snp.allow_debug)
        FLAG("--allow-migration-agent", snp.allow_migration_agent)
        FLAG("--allow-unknown-version", snp.allow_unknown_version)
        FLAG("--allow-provisional-firmware", snp.allow_provisional_firmware)
        VAL("--crl", crl)
        VAL("--kds-cache", kds_cache)
        FLAG("--no-kds-cache", no_kds_cache)
#undef VAL
#undef FLAG
        if (!strcmp(a, "--at")) {
            if (need(i, argc, a))
                return -1;
            if (verify_parse_time(argv[++i], &o->at)) {
                fprintf(stderr, "sealed-verify: --at wants RFC 3339 (2025-01-31T12:00:00Z) or @unix, not %s\n", argv[i]);
                return -1;
            }
            o->snp.at = o->at;
            o->at_given = 1;
        } else if (!strcmp(a, "--max-skew")) {
            uint64_t v;
            if (need(i, argc, a))
                return -1;
            i++;
            if (codec_parse_u64(argv[i], strlen(argv[i]), 0, 86400 * 366, &v)) {
                fprintf(stderr, "sealed-verify: --max-skew wants seconds\n");
                return -1;
            }
            o->max_skew = (long)v;
        } else if (!strcmp(a, "--vmpl")) {
            uint64_t v;
            if (need(i, argc, a))
                return -1;
            i++;
            if (!strcmp(argv[i], "any"))
                o->snp.vmpl = -1;
            else if (codec_parse_u64(argv[i], strlen(argv[i]), 0, 3, &v) == 0)
                o->snp.vmpl = (int)v;
            else {
                fprintf(stderr, "sealed-verify: --vmpl wants 0-3 or any\n");
                return -1;
            }
        } else if (!strcmp(a, "--signer")) {
            if (need(i, argc, a))
                return -1;
            const char *v = argv[++i];
            o->snp.signers = !strcmp(v, "vcek") ? SNP_CHECK_SIGNER_VCEK : !strcmp(v, "vlek") ? SNP_CHECK_SIGNER_VLEK :
                             (!strcmp(v, "vcek,vlek") || !strcmp(v, "vlek,vcek") || !strcmp(v, "any")) ?
                             SNP_CHECK_SIGNER_VCEK | SNP_CHECK_SIGNER_VLEK : 0;
            if (!o->snp.signers) {
                fprintf(stderr, "sealed-verify: --signer wants vcek, vlek or vcek,vlek\n");
                return -1;
            }
        } else if (!strcmp(a, "--min-tcb")) {
            if (need(i, argc, a))
                return -1;
            if (snp_policy_parse_tcb(argv[++i], &o->snp.min_tcb)) {
                fprintf(stderr, "sealed-verify: --min-tcb wants bl=N,tee=N,snp=N,ucode=N[,fmc=N]\n");
                return -1;
            }
            o->snp.min_tcb_given = 1;
        } else if (!strcmp(a, "--min-launch-tcb")) {
            if (need(i, argc, a))
                return -1;
            if (snp_policy_parse_tcb(argv[++i], &o->snp.min_launch_tcb)) {
                fprintf(stderr, "sealed-verify: --min-launch-tcb wants bl=N,tee=N,snp=N,ucode=N[,fmc=N]\n");
                return -1;
            }
            o->snp.min_launch_tcb_given = 1;
        } else if (!strcmp(a, "--product")) {
            if (need(i, argc, a))
                return -1;
            i++;
            o->snp.product = snp_product_from_name(argv[i], strlen(argv[i]));
            if (!o->snp.product) {
                fprintf(stderr, "sealed-verify: --product wants Milan, Genoa or Turin\n");
                return -1;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sealed-verify: unknown option %s\n", a);
            return -1;
        } else if (!o->file) {
            o->file = a;
        } else {
            fprintf(stderr, "sealed-verify: unexpected argument %s\n", a);
            return -1;
        }
    }
    if (o->vcek && o->vlek) {
        fprintf(stderr, "sealed-verify: give --vcek or --vlek, not both\n");
        return -1;
    }
    return 0;
}

int cli_load_certs_file(const char *path, X509 **out, int max, char *err, size_t errlen)
{
    size_t len;
    err[0] = 0;
    uint8_t *b = verify_read_file(path, VERIFY_MAX_INPUT_FILE, &len, err, errlen);
    if (!b)
        return -1;
    int n = amd_chain_load_certs(b, len, out, max);
    free(b);
    if (n < 0)
        snprintf(err, errlen, "%s holds no PEM or DER certificate", path);
    return n;
}

int cli_load_trust_roots(struct verify_opts *o, X509 **store, int max)
{
    if (!o->trust_root)
        return 0;
    char err[256];
    int n = cli_load_certs_file(o->trust_root, store, max, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "sealed-verify: --trust-root: %s\n", err);
        return -1;
    }
    o->snp.trust_roots = store;
    o->snp.ntrust_roots = n;
    o->snp.trust_root_file = o->trust_root;
    return n;
}

void cli_print_fields(const json_t *fields, FILE *out, int indent)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)fields, k, v) {
        if (json_is_object(v) && json_object_get(v, "raw") && json_object_get(v, "microcode")) {
            /* a TCB: one line */
            fprintf(out, "%*s%s: %s (", indent, "", k, json_string_value(json_object_get(v, "raw")));
            const char *tk;
            json_t *tv;
            int first = 1;
            json_object_foreach(v, tk, tv) {
                if (!strcmp(tk, "raw"))
                    continue;
                fprintf(out, "%s%s=%lld", first ? "" : " ", tk, (long long)json_integer_value(tv));
                first = 0;
            }
            fprintf(out, ")\n");
        } else if (json_is_object(v)) {
            fprintf(out, "%*s%s:\n", indent, "", k);
            cli_print_fields(v, out, indent + 2);
        } else if (json_is_string(v)) {
            char safe[512];
            steps_sanitize(json_string_value(v), safe, sizeof safe);
            fprintf(out, "%*s%s: %s\n", indent, "", k, safe);
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            fprintf(out, "%*s%s: %s\n", indent, "", k, s ? s : "?");
            free(s);
        }
    }
}

int cli_load_crl(struct verify_opts *o)
{
    char err[256];
    if (!o->crl)
        return 0;
    if (!(o->crl_loaded = kds_load_crl_file(o->crl, err, sizeof err))) {
        fprintf(stderr, "sealed-verify: --crl: %s\n", err);
        return -1;
    }
    o->snp.crl = o->crl_loaded;
    o->snp.crl_file = o->crl;
    return 0;
}

X509 *cli_cached_vek(const struct verify_opts *o, const uint8_t *report, size_t len, char *path, size_t cap)
{
    if (o->no_kds_cache)
        return NULL;
    return kds_cache_lookup_vek(o->kds_cache, report, len, o->snp.product, path, cap);
}

int cli_cached_chain(const struct verify_opts *o, const uint8_t *report, size_t len, X509 **out, int max)
{
    if (o->no_kds_cache)
        return 0;
    return kds_cache_lookup_chain(o->kds_cache, report, len, o->snp.product, out, max);
}
