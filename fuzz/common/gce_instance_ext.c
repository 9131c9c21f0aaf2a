/* libFuzzer target: GCE's instance-identity certificate extension (common/gce_instance_ext).
 * Properties: whatever parses has NUL-terminated printable strings; re-encoding the parsed values
 * as canonical DER and parsing that gives the same values; a failed parse leaves *out zeroed. */
#include "common/gce_instance_ext.h"
#include <stdlib.h>
#include <string.h>

static uint8_t buf[4096];

static size_t tlv(uint8_t *p, uint8_t tag, const uint8_t *v, size_t n)
{
    size_t h = 0;
    p[h++] = tag;
    if (n < 0x80) {
        p[h++] = (uint8_t)n;
    } else if (n < 0x100) {
        p[h++] = 0x81;
        p[h++] = (uint8_t)n;
    } else {
        p[h++] = 0x82;
        p[h++] = (uint8_t)(n >> 8);
        p[h++] = (uint8_t)n;
    }
    memmove(p + h, v, n);
    return h + n;
}

static size_t integer(uint8_t *p, uint64_t x)
{
    uint8_t v[9];
    size_t n = 0;
    for (int i = 7; i >= 0; i--)
        if (n || (x >> (8 * i)) & 0xff || i == 0)
            v[n++] = (uint8_t)(x >> (8 * i));
    if (v[0] & 0x80) {
        memmove(v + 1, v, n++);
        v[0] = 0;
    }
    return tlv(p, 0x02, v, n);
}

static size_t str(uint8_t *p, const char *s)
{
    return tlv(p, 0x0c, (const uint8_t *)s, strlen(s));
}

static size_t encode(const struct gce_instance_info *g, uint8_t *out)
{
    uint8_t body[1024], props[128], tmp[160];
    size_t n = 0, pn = 0;
    n += str(body + n, g->zone);
    n += integer(body + n, g->project_number);
    n += str(body + n, g->project_id);
    n += integer(body + n, g->instance_id);
    n += str(body + n, g->instance_name);
    if (g->has_security) {
        size_t t = integer(tmp, g->security_version);
        pn += tlv(props + pn, 0xa0, tmp, t);
        const int b[5] = {g->is_production, g->tpm_data_always_encrypted, g->suspend_resume_always_disabled,
                          g->vmtd_always_disabled, g->always_in_yarn};
        for (int i = 0; i < 5; i++) {
            uint8_t v = b[i] ? 0xff : 0;
            t = tlv(tmp, 0x01, &v, 1);
            pn += tlv(props + pn, (uint8_t)(0xa1 + i), tmp, t);
        }
        size_t sn = tlv(tmp, 0x30, props, pn);
        n += tlv(body + n, 0xa0, tmp, sn);
    }
    return tlv(out, 0x30, body, n);
}

static void check_str(const char *s)
{
    size_t n = strnlen(s, GCE_EXT_MAX_STR + 1);
    if (n > GCE_EXT_MAX_STR)
        abort();
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gce_instance_info g, h;
    static const struct gce_instance_info zero;
    if (gce_instance_ext_parse(data, size, &g) != GCE_EXT_OK) {
        if (memcmp(&g, &zero, sizeof g))
            abort();
        return 0;
    }
    check_str(g.zone);
    check_str(g.project_id);
    check_str(g.instance_name);
    size_t n = encode(&g, buf);
    if (gce_instance_ext_parse(buf, n, &h) != GCE_EXT_OK || memcmp(&g, &h, sizeof g))
        abort();
    return 0;
}
