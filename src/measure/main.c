/* sealed-measure: the command line. Computes the measurement a verifier should expect from the
 * build's own files: the SEV-SNP/SEV-ES/SEV launch digest (default command), the PCR 4 prediction
 * for our EFI binary (`pcrs`), and a TCG event-log replay (`eventlog`). Parses arguments, reads
 * the named files and prints; all arithmetic lives in the modules next to it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/codec.h"
#include "common/tpm_eventlog.h"
#include "measure/launch.h"
#include "measure/measure.h"
#include "measure/pcr_predict.h"
#include "measure/pe_hash.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fputs("usage: sealed-measure [--mode snp|seves|sev] --ovmf FILE [--ovmf-hash HEX]\n"
          "                      [--kernel FILE] [--initrd FILE] [--append STRING]\n"
          "                      --vcpus N [--vcpu-type NAME | --vcpu-sig HEX]\n"
          "                      [--vmm-type qemu|gce|ec2] [--guest-features HEX] [--json]\n"
          "       sealed-measure pcrs [--json] [--failed-boot-attempts N] [--log LOG] EFI-BINARY...\n"
          "       sealed-measure eventlog [--json] LOG\n"
          "\n"
          "Prints the expected launch digest (SEV-SNP: SHA-384; SEV-ES, SEV: SHA-256) as lowercase hex,\n"
          "or with --json every intermediate value. `pcrs` predicts PCR 4 (SHA-256) for EFI binaries\n"
          "loaded in that order by UEFI firmware; `eventlog` replays a TCG event log.\n"
          "vCPU types:", f);
    for (size_t i = 0; vmsa_vcpu_names[i]; i++)
        fprintf(f, " %s", vmsa_vcpu_names[i]);
    fputc('\n', f);
}

static int fail(const char *what, const char *msg)
{
    if (what)
        fprintf(stderr, "sealed-measure: error: %s: %s\n", what, msg);
    else
        fprintf(stderr, "sealed-measure: error: %s\n", msg);
    return EXIT_FAIL;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "sealed-measure: %s (see --help)\n", msg);
    return EXIT_USAGE;
}

/* Parses "0x1f", "1F" (hex, optional 0x) into [0, max]. */
static int parse_hex_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    if (!s)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++, n++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F') d = *s - 'A' + 10;
        else return -1;
        if (v > (UINT64_MAX >> 4))
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (n == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static char *hex(const uint8_t *b, size_t n)
{
    return codec_hex_encode_alloc(b, n);
}

/* json_object_set_new with a malloc'd string that it takes over. */
static void set_hex(json_t *o, const char *key, const uint8_t *b, size_t n)
{
    char *h = hex(b, n);
    json_object_set_new(o, key, h ? json_string(h) : json_null());
    free(h);
}

static void set_hexnum(json_t *o, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    json_object_set_new(o, key, json_string(buf));
}

static int print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        return fail(NULL, "cannot format JSON");
    puts(s);
    free(s);
    return 0;
}

static const char *section_name(uint32_t type)
{
    switch (type) {
    case OVMF_SECTION_SNP_SEC_MEM:       return "SNP_SEC_MEM";
    case OVMF_SECTION_SNP_SECRETS:       return "SNP_SECRETS";
    case OVMF_SECTION_CPUID:             return "CPUID";
    case OVMF_SECTION_SVSM_CAA:          return "SVSM_CAA";
    case OVMF_SECTION_SNP_KERNEL_HASHES: return "SNP_KERNEL_HASHES";
    }
    return "unknown";
}

/* ---- launch digest ------------------------------------------------------------------------ */

static int cmd_launch(int argc, char **argv)
{
    enum { O_MODE = 256, O_OVMF, O_OVMF_HASH, O_KERNEL, O_INITRD, O_APPEND, O_VCPUS, O_VCPU_TYPE,
           O_VCPU_SIG, O_VMM, O_FEATURES, O_JSON, O_HELP };
    static const struct option opts[] = {
        { "mode", required_argument, NULL, O_MODE },
        { "ovmf", required_argument, NULL, O_OVMF },
        { "ovmf-hash", required_argument, NULL, O_OVMF_HASH },
        { "kernel", required_argument, NULL, O_KERNEL },
        { "initrd", required_argument, NULL, O_INITRD },
        { "append", required_argument, NULL, O_APPEND },
        { "vcpus", required_argument, NULL, O_VCPUS },
        { "vcpu-type", required_argument, NULL, O_VCPU_TYPE },
        { "vcpu-sig", required_argument, NULL, O_VCPU_SIG },
        { "vmm-type", required_argument, NULL, O_VMM },
        { "guest-features", required_argument, NULL, O_FEATURES },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    const char *mode_s = "snp", *ovmf_path = NULL, *ovmf_hash_s = NULL, *kernel = NULL,
               *initrd = NULL, *append = NULL, *vcpus_s = NULL, *vcpu_type = NULL,
               *vcpu_sig_s = NULL, *vmm_s = "qemu", *features_s = "0x1";
    int json = 0, c, rc = EXIT_FAIL;
    uint8_t *ovmf = NULL, ovmf_hash[SNP_LD_LEN];
    size_t ovmf_len = 0;
    launch_params p;
    launch_result r;
    sev_hashes hashes;
    measure_err err;
    uint64_t v;

    memset(&p, 0, sizeof(p));
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_MODE: mode_s = optarg; break;
        case O_OVMF: ovmf_path = optarg; break;
        case O_OVMF_HASH: ovmf_hash_s = optarg; break;
        case O_KERNEL: kernel = optarg; break;
        case O_INITRD: initrd = optarg; break;
        case O_APPEND: append = optarg; break;
        case O_VCPUS: vcpus_s = optarg; break;
        case O_VCPU_TYPE: vcpu_type = optarg; break;
        case O_VCPU_SIG: vcpu_sig_s = optarg; break;
        case O_VMM: vmm_s = optarg; break;
        case O_FEATURES: features_s = optarg; break;
        case O_JSON: json = 1; break;
        case 'h': case O_HELP: usage(stdout); return 0;
        default:
            if (optopt)
                fprintf(stderr, "sealed-measure: option needs a value or is unknown: %s\n", argv[optind - 1]);
            else
                fprintf(stderr, "sealed-measure: unknown option: %s\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument");

    if (strcmp(mode_s, "snp") == 0) p.mode = LAUNCH_SNP;
    else if (strcmp(mode_s, "seves") == 0) p.mode = LAUNCH_SEV_ES;
    else if (strcmp(mode_s, "sev") == 0) p.mode = LAUNCH_SEV;
    else return usage_error("--mode must be snp, seves or sev");
    if (!ovmf_path)
        return usage_error("--ovmf FILE is required");
    if (vmsa_vmm_from_name(vmm_s, &p.vmm) != 0)
        return usage_error("--vmm-type must be qemu, gce or ec2");
    if ((initrd || append) && !kernel)
        return usage_error("--initrd and --append need --kernel");
    if (vcpu_type && vcpu_sig_s)
        return usage_error("give --vcpu-type or --vcpu-sig, not both");
    if (ovmf_hash_s) {
        if (p.mode != LAUNCH_SNP)
            return usage_error("--ovmf-hash works with --mode snp only");
        if (strlen(ovmf_hash_s) != 2 * SNP_LD_LEN ||
            codec_hex_decode(ovmf_hash_s, 2 * SNP_LD_LEN, ovmf_hash, sizeof(ovmf_hash)) != SNP_LD_LEN)
            return usage_error("--ovmf-hash must be 96 hex digits (a SHA-384)");
        p.ovmf_hash = ovmf_hash;
    }
    if (p.mode != LAUNCH_SEV) {
        if (!vcpus_s)
            return usage_error("--vcpus N is required");
        if (codec_parse_u64(vcpus_s, strlen(vcpus_s), 1, MEASURE_MAX_VCPUS, &v) != 0)
            return usage_error("--vcpus must be a number from 1 to 512");
        p.vcpus = (unsigned)v;
        if (vcpu_type) {
            if (vmsa_vcpu_sig_from_name(vcpu_type, &p.vcpu_sig) != 0)
                return usage_error("unknown --vcpu-type (see --help for the list)");
        } else if (vcpu_sig_s) {
            if (parse_hex_u64(vcpu_sig_s, UINT32_MAX, &v) != 0)
                return usage_error("--vcpu-sig must be a 32-bit hex number");
            p.vcpu_sig = (uint32_t)v;
        } else if (p.vmm == VMSA_VMM_QEMU) {
            return usage_error("--vcpu-type NAME or --vcpu-sig HEX is required with --vmm-type qemu");
        }
        if (parse_hex_u64(features_s, UINT64_MAX, &v) != 0)
            return usage_error("--guest-features must be a hex number");
        p.guest_features = v;
    } else if (vcpus_s && codec_parse_u64(vcpus_s, strlen(vcpus_s), 1, MEASURE_MAX_VCPUS, &v) != 0) {
        return usage_error("--vcpus must be a number from 1 to 512");
    }

    err = measure_read_file(ovmf_path, MEASURE_MAX_OVMF_BYTES, &ovmf, &ovmf_len);
    if (err) {
        rc = fail(ovmf_path, measure_strerror(err));
        goto out;
    }
    if (kernel) {
        err = sev_hashes_compute(kernel, initrd, append, &hashes);
        if (err) {
            rc = fail(err == MEASURE_ERR_TOO_BIG && append && strlen(append) > MEASURE_MAX_APPEND
                      ? "--append" : "kernel/initrd", measure_strerror(err));
            goto out;
        }
        p.hashes = &hashes;
    }
    p.ovmf = ovmf;
    p.ovmf_len = ovmf_len;
    err = launch_digest(&p, &r);
    if (err) {
        rc = fail(NULL, measure_strerror(err));
        goto out;
    }
    if (!json) {
        char *h = hex(r.digest, r.digest_len);
        if (!h) {
            rc = fail(NULL, "out of memory");
            goto out;
        }
        puts(h);
        free(h);
        rc = 0;
        goto out;
    }

    json_t *j = json_object();
    ovmf_info oi;
    (void)ovmf_parse(ovmf, ovmf_len, &oi);
    json_object_set_new(j, "mode", json_string(mode_s));
    set_hex(j, "measurement", r.digest, r.digest_len);
    json_object_set_new(j, "digest_alg", json_string(r.digest_len == SNP_LD_LEN ? "sha384" : "sha256"));
    if (p.mode != LAUNCH_SEV) {
        json_object_set_new(j, "vcpus", json_integer(p.vcpus));
        json_object_set_new(j, "vcpu_type", vcpu_type ? json_string(vcpu_type) : json_null());
        set_hexnum(j, "vcpu_sig", p.vcpu_sig);
        json_object_set_new(j, "vmm_type", json_string(vmsa_vmm_name(p.vmm)));
        set_hexnum(j, "guest_features", p.mode == LAUNCH_SNP ? p.guest_features : 0);
    }
    json_t *jo = json_object();
    json_object_set_new(jo, "file", json_string(ovmf_path));
    json_object_set_new(jo, "size", json_integer((json_int_t)ovmf_len));
    set_hexnum(jo, "gpa", oi.gpa);
    uint8_t fw_sha256[32];
    unsigned int n = 0;
    if (EVP_Digest(ovmf, ovmf_len, fw_sha256, &n, EVP_sha256(), NULL) == 1)
        set_hex(jo, "sha256", fw_sha256, 32);
    if (p.mode == LAUNCH_SNP) {
        set_hex(jo, "snp_ovmf_hash", r.ovmf_hash, SNP_LD_LEN);
        json_object_set_new(jo, "snp_ovmf_hash_given", json_boolean(p.ovmf_hash != NULL));
    }
    if (oi.has_reset_eip)
        set_hexnum(jo, "sev_es_reset_eip", oi.reset_eip);
    if (oi.has_hash_table)
        set_hexnum(jo, "sev_hashes_table_gpa", oi.hash_table_gpa);
    json_t *secs = json_array();
    for (size_t i = 0; i < oi.nsections; i++) {
        json_t *s = json_object();
        set_hexnum(s, "gpa", oi.sections[i].gpa);
        set_hexnum(s, "size", oi.sections[i].size);
        json_object_set_new(s, "type", json_string(section_name(oi.sections[i].type)));
        json_array_append_new(secs, s);
    }
    json_object_set_new(jo, "sev_metadata_sections", secs);
    json_object_set_new(j, "ovmf", jo);
    if (p.hashes) {
        json_t *k = json_object();
        json_object_set_new(k, "kernel", json_string(kernel));
        set_hex(k, "kernel_sha256", hashes.kernel, 32);
        json_object_set_new(k, "initrd", initrd ? json_string(initrd) : json_null());
        set_hex(k, "initrd_sha256", hashes.initrd, 32);
        json_object_set_new(k, "append", json_string(append ? append : ""));
        set_hex(k, "cmdline_sha256", hashes.cmdline, 32);
        set_hex(k, "sev_hashes_table", r.hashes_table, SEV_HASHES_TABLE_PADDED);
        json_object_set_new(j, "direct_boot", k);
    } else {
        json_object_set_new(j, "direct_boot", json_null());
    }
    if (p.mode != LAUNCH_SEV) {
        json_t *vm = json_object();
        set_hex(vm, "bsp_sha384", r.vmsa_bsp_sha384, SNP_LD_LEN);
        if (r.has_ap_vmsa)
            set_hex(vm, "ap_sha384", r.vmsa_ap_sha384, SNP_LD_LEN);
        json_object_set_new(j, "vmsa", vm);
    }
    if (p.mode == LAUNCH_SNP)
        json_object_set_new(j, "snp_page_info_updates", json_integer((json_int_t)r.snp_pages));
    rc = print_json(j) ? EXIT_FAIL : 0;
out:
    free(ovmf);
    return rc;
}

/* ---- pcrs --------------------------------------------------------------------------------- */

static int cmd_pcrs(int argc, char **argv)
{
    int json = 0, rc = EXIT_FAIL;
    unsigned failed_boots = 0;
    uint64_t v;
    const char *log_path = NULL;
    const char *files[PCR_PREDICT_MAX_APPS];
    size_t nfiles = 0;
    /* The applications the firmware loads, in order: each file, and after a UKI its kernel. */
    struct { const char *file; const char *part; uint8_t digest[PCR_PREDICT_SHA256]; pe_info info; } apps[PCR_PREDICT_MAX_APPS];
    size_t napps = 0;
    uint8_t digests[PCR_PREDICT_MAX_APPS][PCR_PREDICT_SHA256];
    pcr_predict_pcr4_result res;
    pcr_predict_uki_result uki;
    size_t uki_index = 0;
    int have_uki = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--log") == 0) {
            if (i + 1 >= argc)
                return usage_error("--log needs an event log file");
            log_path = argv[++i];
        }
        else if (strcmp(argv[i], "--failed-boot-attempts") == 0) {
            if (i + 1 >= argc || codec_parse_u64(argv[i + 1], strlen(argv[i + 1]), 0,
                                                 PCR_PREDICT_MAX_FAILED_BOOTS, &v) != 0)
                return usage_error("--failed-boot-attempts needs a number from 0 to 8");
            failed_boots = (unsigned)v;
            i++;
        }
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("unknown option for pcrs");
        else if (nfiles == PCR_PREDICT_MAX_APPS) return usage_error("too many EFI binaries");
        else files[nfiles++] = argv[i];
    }
    if (nfiles == 0)
        return usage_error("pcrs needs an EFI binary");
    for (size_t i = 0; i < nfiles; i++) {
        uint8_t *img = NULL;
        size_t len = 0, dlen = 0;
        pcr_predict_uki_result u;
        if (napps == PCR_PREDICT_MAX_APPS)
            return usage_error("too many EFI binaries");
        measure_err err = measure_read_file(files[i], MEASURE_MAX_PE_BYTES, &img, &len);
        if (!err)
            err = pe_authenticode_hash(img, len, "sha256", apps[napps].digest, &dlen, &apps[napps].info);
        /* A UKI's stub measures its sections into PCR 11 and loads its kernel, which the firmware
         * measures into PCR 4; the last UKI loaded is the one that starts the kernel. */
        if (!err)
            err = pcr_predict_uki_pcr11(img, len, &u);
        free(img);
        if (err)
            return fail(files[i], measure_strerror(err));
        apps[napps].file = files[i];
        apps[napps].part = NULL;
        napps++;
        if (u.is_uki) {
            uki = u;
            uki_index = i;
            have_uki = 1;
            if (u.has_linux_pe) {
                if (napps == PCR_PREDICT_MAX_APPS)
                    return usage_error("too many EFI binaries");
                apps[napps].file = files[i];
                apps[napps].part = ".linux";
                memcpy(apps[napps].digest, u.linux_authenticode, PCR_PREDICT_SHA256);
                memset(&apps[napps].info, 0, sizeof(apps[napps].info));
                napps++;
            }
        }
    }
    for (size_t i = 0; i < napps; i++)
        memcpy(digests[i], apps[i].digest, PCR_PREDICT_SHA256);
    if (pcr_predict_pcr4((const uint8_t (*)[PCR_PREDICT_SHA256])digests, napps, failed_boots, &res) != MEASURE_OK)
        return fail(NULL, "PCR 4 computation failed");
    int with_pcr9 = have_uki && uki.has_pcr9;

    /* --log: replay a real event log and compare its PCRs with the prediction. */
    tpm_eventlog_bank bank;
    int log_match = 1;
    if (log_path) {
        uint8_t *lb = NULL;
        size_t ll = 0;
        tpm_eventlog *log = NULL;
        measure_err err = measure_read_file(log_path, TPM_EVENTLOG_MAX_LOG_BYTES, &lb, &ll);
        if (err)
            return fail(log_path, measure_strerror(err));
        tpm_eventlog_err lerr = tpm_eventlog_parse(lb, ll, &log);
        if (!lerr)
            lerr = tpm_eventlog_replay(log, TPM_EVENTLOG_ALG_SHA256, &bank);
        tpm_eventlog_free(log);
        free(lb);
        if (lerr)
            return fail(log_path, tpm_eventlog_strerror(lerr));
        log_match = memcmp(bank.pcr[4], res.pcr4, 32) == 0 &&
                    (!have_uki || memcmp(bank.pcr[11], uki.pcr11, 32) == 0) &&
                    (!with_pcr9 || memcmp(bank.pcr[9], uki.pcr9, 32) == 0);
    }

    if (!json) {
        for (size_t i = 0; i < napps; i++) {
            char *h = hex(apps[i].digest, 32);
            printf("authenticode-sha256 %s %s%s%s\n", h ? h : "?", apps[i].file,
                   apps[i].part ? ":" : "", apps[i].part ? apps[i].part : "");
            free(h);
        }
        struct { int on; const char *name; const uint8_t *pred; int idx; } out[3] = {
            { 1, "pcr4", res.pcr4, 4 },
            { with_pcr9, "pcr9", with_pcr9 ? uki.pcr9 : NULL, 9 },
            { have_uki, "pcr11", have_uki ? uki.pcr11 : NULL, 11 },
        };
        for (int k = 0; k < 3; k++) {
            if (!out[k].on)
                continue;
            char *h = hex(out[k].pred, 32);
            printf("%s-sha256 %s\n", out[k].name, h ? h : "?");
            free(h);
            if (log_path) {
                h = hex(bank.pcr[out[k].idx], 32);
                printf("log-%s-sha256 %s %s\n", out[k].name, h ? h : "?",
                       memcmp(bank.pcr[out[k].idx], out[k].pred, 32) ? "differs" : "matches");
                free(h);
            }
        }
        return log_match ? 0 : EXIT_FAIL;
    }

    json_t *j = json_object();
    json_t *japps = json_array();
    for (size_t i = 0; i < napps; i++) {
        json_t *a = json_object();
        json_object_set_new(a, "file", json_string(apps[i].file));
        if (apps[i].part) {
            json_object_set_new(a, "section", json_string(apps[i].part));
            json_object_set_new(a, "loaded_by", json_string("systemd-stub (LoadImage)"));
        } else {
            set_hexnum(a, "machine", apps[i].info.machine);
            json_object_set_new(a, "subsystem", json_integer(apps[i].info.subsystem));
            json_object_set_new(a, "signed", json_boolean(apps[i].info.cert_size != 0));
        }
        set_hex(a, "authenticode_sha256", apps[i].digest, 32);
        json_array_append_new(japps, a);
    }
    json_object_set_new(j, "efi_applications", japps);
    json_object_set_new(j, "failed_boot_attempts", json_integer(failed_boots));
    json_t *evs = json_array();
    for (size_t i = 0; i < res.nevents; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "pcr", json_integer(4));
        json_object_set_new(e, "type", json_string(tpm_eventlog_event_type_name(res.events[i].type)));
        set_hex(e, "sha256", res.events[i].digest, 32);
        if (res.events[i].type == TPM_EVENTLOG_EV_EFI_ACTION)
            json_object_set_new(e, "data", json_string(res.events[i].action));
        json_array_append_new(evs, e);
    }
    if (with_pcr9) {
        const char *tags[2] = { "LOADED_IMAGE::LoadOptions", "Linux initrd" };
        const uint8_t *d9[2] = { uki.load_options_digest, uki.initrd_digest };
        for (int k = 0; k < 2; k++) {
            json_t *e = json_object();
            json_object_set_new(e, "pcr", json_integer(9));
            json_object_set_new(e, "type", json_string("EV_EVENT_TAG"));
            json_object_set_new(e, "data", json_string(tags[k]));
            set_hex(e, "sha256", d9[k], 32);
            json_array_append_new(evs, e);
        }
    }
    if (have_uki) {
        for (size_t i = 0; i < uki.nevents; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "pcr", json_integer(11));
            json_object_set_new(e, "type", json_string("EV_IPL"));
            json_object_set_new(e, "section", json_string(uki.events[i].section));
            json_object_set_new(e, "measures", json_string(uki.events[i].is_name ? "name" : "contents"));
            set_hex(e, "sha256", uki.events[i].digest, 32);
            json_array_append_new(evs, e);
        }
        json_object_set_new(j, "uki", json_string(files[uki_index]));
    }
    json_object_set_new(j, "events", evs);
    json_t *pcrs = json_object();
    set_hex(pcrs, "4", res.pcr4, 32);
    if (with_pcr9)
        set_hex(pcrs, "9", uki.pcr9, 32);
    if (have_uki)
        set_hex(pcrs, "11", uki.pcr11, 32);
    json_t *banks = json_object();
    json_object_set_new(banks, "sha256", pcrs);
    json_object_set_new(j, "pcrs", banks);
    if (log_path) {
        json_t *lg = json_object(), *lp = json_object();
        json_object_set_new(lg, "file", json_string(log_path));
        set_hex(lp, "4", bank.pcr[4], 32);
        if (with_pcr9)
            set_hex(lp, "9", bank.pcr[9], 32);
        if (have_uki)
            set_hex(lp, "11", bank.pcr[11], 32);
        json_object_set_new(lg, "pcrs", lp);
        json_object_set_new(lg, "matches", json_boolean(log_match));
        json_object_set_new(j, "log", lg);
    }
    json_object_set_new(j, "not_predicted",
                        json_string("PCR 0-3, 5-7 belong to the firmware and platform; record them "
                                    "from a real boot, never computed here. PCR 12/13 (systemd-stub "
                                    "credentials, sysexts, command-line overrides) stay unextended "
                                    "when the ESP holds none; PCR 9 is predicted only for a UKI with "
                                    ".cmdline and .initrd."));
    rc = print_json(j) ? EXIT_FAIL : (log_match ? 0 : EXIT_FAIL);
    return rc;
}

/* ---- eventlog ----------------------------------------------------------------------------- */

static int cmd_eventlog(int argc, char **argv)
{
    int json = 0, rc = EXIT_FAIL;
    const char *path = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    tpm_eventlog *log = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("unknown option for eventlog");
        else if (path) return usage_error("eventlog takes one LOG");
        else path = argv[i];
    }
    if (!path)
        return usage_error("eventlog needs a LOG file");
    measure_err err = measure_read_file(path, TPM_EVENTLOG_MAX_LOG_BYTES, &buf, &len);
    if (err)
        return fail(path, measure_strerror(err));
    tpm_eventlog_err lerr = tpm_eventlog_parse(buf, len, &log);
    if (lerr) {
        rc = fail(path, tpm_eventlog_strerror(lerr));
        goto out;
    }
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string(log->crypto_agile ? "crypto-agile" : "legacy-sha1"));
    json_object_set_new(j, "events", json_integer((json_int_t)log->nevents));
    json_t *banks = json_object();
    for (size_t a = 0; a < log->nalgs; a++) {
        tpm_eventlog_bank bank;
        const char *name = tpm_eventlog_alg_name(log->algs[a].alg);
        if (!name || tpm_eventlog_replay(log, log->algs[a].alg, &bank) != TPM_EVENTLOG_OK)
            continue;
        json_t *b = json_object();
        for (unsigned i = 0; i < TPM_EVENTLOG_NUM_PCRS; i++) {
            if (!(bank.extended_mask & (1u << i)))
                continue;
            char key[4];
            snprintf(key, sizeof(key), "%u", i);
            set_hex(b, key, bank.pcr[i], bank.digest_len);
            if (!json) {
                char *h = hex(bank.pcr[i], bank.digest_len);
                printf("%s pcr%-2u %s\n", name, i, h ? h : "?");
                free(h);
            }
        }
        json_object_set_new(banks, name, b);
    }
    json_object_set_new(j, "pcrs", banks);
    if (json)
        rc = print_json(j) ? EXIT_FAIL : 0;
    else {
        json_decref(j);
        rc = 0;
    }
out:
    tpm_eventlog_free(log);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "pcrs") == 0)
        return cmd_pcrs(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "eventlog") == 0)
        return cmd_eventlog(argc - 1, argv + 1);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    return cmd_launch(argc, argv);
}
