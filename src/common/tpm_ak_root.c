/* tpm_ak_root: AK certificate chain building against pinned vendor roots or test roots; see the
 * header. */
#include "common/tpm_ak_root.h"
#include "common/gcp_vtpm_roots.h"
#include <stdio.h>
#include <string.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/objects.h>

static void cn_of(const X509_NAME *name, char *out, size_t cap)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)) : NULL;
    int n = s ? ASN1_STRING_length(s) : 0;
    const unsigned char *d = s ? ASN1_STRING_get0_data(s) : NULL;
    size_t k = 0;
    for (int j = 0; d && j < n && k + 1 < cap; j++)
        out[k++] = d[j] >= 0x20 && d[j] < 0x7f ? (char)d[j] : '?';   /* shown to people: printable only */
    out[k] = 0;
    if (!k && cap > 1)
        snprintf(out, cap, "?");
}

static void describe_chain(STACK_OF(X509) *ch, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < sk_X509_num(ch) && n < cap; i++) {
        char cn[96];
        cn_of(X509_get_subject_name(sk_X509_value(ch, i)), cn, sizeof cn);
        n += (size_t)snprintf(out + n, cap - n, "%sCN=%s", i ? " <- " : "", cn);
    }
}

/* One chain-building attempt: 1 verified (chain described in out), 0 not (reason in out->why). */
static int try_store(X509 *cert, X509_STORE *store, STACK_OF(X509) *untrusted, time_t at, int partial,
                     struct tpm_ak_root_result *out, X509 **anchor)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = 0;
    if (!ctx || X509_STORE_CTX_init(ctx, store, cert, untrusted) != 1) {
        snprintf(out->why, sizeof out->why, "cannot set up chain verification");
        goto out;
    }
    X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(p, at);
    if (partial)
        X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_PARTIAL_CHAIN);
    ok = X509_verify_cert(ctx) == 1;
    if (ok) {
        STACK_OF(X509) *ch = X509_STORE_CTX_get0_chain(ctx);
        describe_chain(ch, out->chain, sizeof out->chain);
        *anchor = sk_X509_value(ch, sk_X509_num(ch) - 1);
        X509_up_ref(*anchor);
    } else {
        snprintf(out->why, sizeof out->why, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
out:
    X509_STORE_CTX_free(ctx);
    return ok;
}

tpm_ak_root_kind tpm_ak_root_check(X509 *cert, X509 *const *chain, int nchain, X509 *const *test, int ntest,
                                   time_t at, struct tpm_ak_root_result *out)
{
    memset(out, 0, sizeof *out);
    if (!cert) {
        snprintf(out->why, sizeof out->why, "no AK certificate");
        return TPM_AK_ROOT_NONE;
    }
    X509_STORE *vendor = X509_STORE_new(), *tests = NULL;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509 *pinned[GCP_VTPM_MAX_CAS] = {0}, *anchor = NULL;
    size_t npinned = gcp_vtpm_ca_count() < GCP_VTPM_MAX_CAS ? gcp_vtpm_ca_count() : GCP_VTPM_MAX_CAS;
    if (!vendor || !untrusted) {
        snprintf(out->why, sizeof out->why, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < npinned; i++) {
        const struct gcp_vtpm_ca *ca = gcp_vtpm_ca_at(i);
        X509 *x = pinned[i] = gcp_vtpm_ca_load(ca);
        if (!x)
            continue;
        if (ca->is_root)
            X509_STORE_add_cert(vendor, x);
        else
            sk_X509_push(untrusted, x);
    }
    for (int i = 0; i < nchain; i++)
        if (chain[i])
            sk_X509_push(untrusted, chain[i]);
    char why_vendor[120];
    if (try_store(cert, vendor, untrusted, at, 0, out, &anchor)) {
        out->kind = TPM_AK_ROOT_VENDOR;
        for (size_t i = 0; i < npinned; i++)
            if (gcp_vtpm_ca_at(i)->is_root && pinned[i] && X509_cmp(pinned[i], anchor) == 0)
                snprintf(out->root, sizeof out->root, "%s", gcp_vtpm_ca_at(i)->name);
        goto out;
    }
    snprintf(why_vendor, sizeof why_vendor, "%.*s", (int)sizeof why_vendor - 1, out->why);
    snprintf(out->why, sizeof out->why, "does not chain to a pinned vendor root (Google vTPM CAs): %s", why_vendor);
    if (ntest > 0 && (tests = X509_STORE_new())) {
        for (int i = 0; i < ntest; i++)
            X509_STORE_add_cert(tests, test[i]);
        /* only the evidence's own chain links to a test root, never Google's intermediates */
        STACK_OF(X509) *own = sk_X509_new_null();
        for (int i = 0; own && i < nchain; i++)
            if (chain[i])
                sk_X509_push(own, chain[i]);
        struct tpm_ak_root_result t;
        memset(&t, 0, sizeof t);
        if (own && try_store(cert, tests, own, at, 1, &t, &anchor)) {
            out->kind = TPM_AK_ROOT_TEST;
            snprintf(out->chain, sizeof out->chain, "%s", t.chain);
            cn_of(X509_get_subject_name(anchor), out->root, sizeof out->root);
            out->why[0] = 0;
        } else {
            size_t n = strlen(out->why);
            snprintf(out->why + n, sizeof out->why - n, "; nor to the --tpm-ca test root: %s", t.why);
        }
        sk_X509_free(own);
    }
out:
    X509_free(anchor);
    sk_X509_free(untrusted);
    for (size_t i = 0; i < npinned; i++)
        X509_free(pinned[i]);
    X509_STORE_free(vendor);
    X509_STORE_free(tests);
    return out->kind;
}

int tpm_ak_gce_instance(X509 *cert, struct gce_instance_info *out, const char **why)
{
    memset(out, 0, sizeof *out);
    ASN1_OBJECT *oid = OBJ_txt2obj(GCE_INSTANCE_EXT_OID, 1);
    int at = oid ? X509_get_ext_by_OBJ(cert, oid, -1) : -1;
    ASN1_OBJECT_free(oid);
    if (at < 0)
        return 0;
    ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(cert, at));
    gce_ext_err e = v ? gce_instance_ext_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), out)
                      : GCE_EXT_ERR_DER;
    if (e) {
        *why = gce_ext_strerror(e);
        return -1;
    }
    return 1;
}

json_t *tpm_ak_gce_instance_json(const struct gce_instance_info *g)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "zone", g->zone, "project_number",
                          (json_int_t)g->project_number, "project_id", g->project_id, "instance_name",
                          g->instance_name, "instance_id", "");
    if (!o)
        return NULL;
    char id[24];
    snprintf(id, sizeof id, "%llu", (unsigned long long)g->instance_id);   /* beyond 2^53: a string */
    json_object_set_new(o, "instance_id", json_string(id));
    if (g->has_security)
        json_object_set_new(o, "security_properties",
                            json_pack("{s:I, s:b, s:b, s:b, s:b, s:b}", "security_version",
                                      (json_int_t)g->security_version, "is_production", g->is_production,
                                      "tpm_data_always_encrypted", g->tpm_data_always_encrypted,
                                      "suspend_resume_always_disabled", g->suspend_resume_always_disabled,
                                      "vmtd_always_disabled", g->vmtd_always_disabled, "always_in_yarn",
                                      g->always_in_yarn));
    return o;
}
