/* manifest: collects expected measurements from a build manifest; see manifest.h. */
#include "verify/manifest.h"
#include "common/codec.h"
#include <stdio.h>
#include <string.h>

/* 1 if the last member name in a path like "a.b[2].measurement" is key. */
static int last_key_is(const char *path, const char *key)
{
    const char *dot = strrchr(path, '.');
    const char *last = dot ? dot + 1 : path;
    return !strcmp(last, key);
}

static void walk(struct manifest *m, const json_t *v, const char *path, unsigned depth)
{
    if (depth > VERIFY_MAX_JSON_DEPTH)
        return;
    char sub[160];
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
            if (!strcmp(k, "measurement") && json_is_null(c) && m->nnull < VERIFY_MAX_MANIFEST_MEASUREMENTS) {
                json_t *why = json_object_get(v, "reason");
                snprintf(m->nulls[m->nnull].path, sizeof m->nulls[m->nnull].path, "%s", path);
                m->nulls[m->nnull].reason = json_is_string(why) ? json_string_value(why) : "no reason given";
                m->nnull++;
                continue;
            }
            if (!strcmp(k, "pcrs") && json_is_object(c) && m->npcrs < VERIFY_MAX_MANIFEST_MEASUREMENTS) {
                m->pcrs[m->npcrs].pcrs = c;
                m->pcrs[m->npcrs].target = v;
                snprintf(m->pcrs[m->npcrs].path, sizeof m->pcrs[m->npcrs].path, "%s", sub);
                m->npcrs++;
                continue;
            }
            walk(m, c, sub, depth + 1);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            walk(m, c, sub, depth + 1);
        }
    } else if (json_is_string(v) && json_string_length(v) == 96 && last_key_is(path, "mrtd") &&
               m->ntdx < VERIFY_MAX_MANIFEST_MEASUREMENTS) {
        struct manifest_measurement *mm = &m->tdx[m->ntdx];
        if (codec_hex_decode(json_string_value(v), 96, mm->value, sizeof mm->value) == 48) {
            snprintf(mm->path, sizeof mm->path, "%s", path);
            m->ntdx++;
        }
    } else if (json_is_string(v) && json_string_length(v) == 96 && m->nsnp < VERIFY_MAX_MANIFEST_MEASUREMENTS &&
               (last_key_is(path, "measurement") || last_key_is(path, "expected_measurement") ||
                last_key_is(path, "launch_digest"))) {
        struct manifest_measurement *mm = &m->snp[m->nsnp];
        if (codec_hex_decode(json_string_value(v), 96, mm->value, sizeof mm->value) == 48) {
            snprintf(mm->path, sizeof mm->path, "%s", path);
            m->nsnp++;
        }
    }
}

int manifest_load(const uint8_t *buf, size_t len, struct manifest *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    json_error_t je;
    m->root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(m->root)) {
        snprintf(err, errlen, "manifest is not a JSON object (%s)", je.text);
        manifest_free(m);
        return -1;
    }
    walk(m, m->root, "", 0);
    return 0;
}

void manifest_free(struct manifest *m)
{
    json_decref(m->root);
    memset(m, 0, sizeof *m);
}
