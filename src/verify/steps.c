/* steps: records checks and prints them; see steps.h. */
#include "verify/steps.h"
#include "verify/verify_limits.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

size_t steps_sanitize(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)in;
    size_t n = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; u[i];) {
        size_t skip = 0;
        if (u[i] < 0x20 || u[i] == 0x7f)
            skip = 1;                                            /* C0 controls, DEL */
        else if (u[i] == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
            skip = 2;                                            /* C1 controls */
        else if (u[i] == 0xe2 && u[i + 1] == 0x80 && u[i + 2] >= 0xaa && u[i + 2] <= 0xae)
            skip = 3;                                            /* U+202A-202E bidi embeddings/overrides */
        else if (u[i] == 0xe2 && u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)
            skip = 3;                                            /* U+2066-2069 bidi isolates */
        if (!skip) {
            if (n + 1 >= cap)
                break;
            out[n++] = (char)u[i++];
            continue;
        }
        for (size_t k = 0; k < skip; k++) {
            if (n + 4 >= cap)
                goto done;
            out[n++] = '\\';
            out[n++] = 'x';
            out[n++] = hex[u[i] >> 4];
            out[n++] = hex[u[i] & 15];
            i++;
        }
    }
done:
    out[n] = 0;
    return n;
}

int steps_init(struct steps *s)
{
    memset(s, 0, sizeof *s);
    s->fields = json_object();
    return s->fields ? 0 : -1;
}

void steps_free(struct steps *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
    json_decref(s->fields);
    memset(s, 0, sizeof *s);
}

__attribute__((format(printf, 4, 0)))
static void vadd(struct steps *s, step_status st, const char *id, const char *fmt, va_list ap)
{
    if (st == STEP_FAIL)
        s->failed++;
    if (s->n >= VERIFY_MAX_STEPS) {
        s->truncated = 1;
        return;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        struct step *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) {
            if (st != STEP_FAIL)
                s->failed++;
            return;
        }
        s->v = nv;
        s->cap = nc;
    }
    struct step *p = &s->v[s->n];
    char buf[VERIFY_MAX_STEP_TEXT], safe[VERIFY_MAX_STEP_TEXT];
    vsnprintf(buf, sizeof buf, fmt, ap);
    steps_sanitize(buf, safe, sizeof safe);
    p->text = strdup(safe);
    if (!p->text) {
        if (st != STEP_FAIL)
            s->failed++;
        return;
    }
    p->status = st;
    snprintf(p->id, sizeof p->id, "%s", id);
    s->n++;
}

void steps_add(struct steps *s, step_status st, const char *id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(s, st, id, fmt, ap);
    va_end(ap);
}

int steps_check(struct steps *s, int cond, const char *allowed_by, const char *id, const char *fmt, ...)
{
    char buf[VERIFY_MAX_STEP_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (cond)
        steps_add(s, STEP_PASS, id, "%s", buf);
    else if (allowed_by)
        steps_add(s, STEP_WARN, id, "%s (allowed by %s)", buf, allowed_by);
    else
        steps_add(s, STEP_FAIL, id, "%s", buf);
    return cond != 0;
}

static const char *mark(step_status st)
{
    switch (st) {
    case STEP_PASS: return "\xe2\x9c\x93";   /* ✓ */
    case STEP_FAIL: return "\xe2\x9c\x97";   /* ✗ */
    case STEP_WARN: return "!";
    case STEP_INFO: return "\xc2\xb7";       /* · */
    }
    return "?";
}

static const char *status_name(step_status st)
{
    switch (st) {
    case STEP_PASS: return "pass";
    case STEP_FAIL: return "fail";
    case STEP_WARN: return "warn";
    case STEP_INFO: return "info";
    }
    return "?";
}

void steps_print(const struct steps *s, FILE *out, const char *title)
{
    if (title)
        fprintf(out, "%s\n", title);
    for (size_t i = 0; i < s->n; i++)
        fprintf(out, "  %s %s\n", mark(s->v[i].status), s->v[i].text);
    if (s->truncated)
        fprintf(out, "  %s more than %u steps: output truncated\n", mark(STEP_FAIL), VERIFY_MAX_STEPS);
}

void steps_print_json(const struct steps *s, FILE *out, const char *command)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id", s->v[i].id, "status",
                                             status_name(s->v[i].status), "text", s->v[i].text));
    json_t *o = json_pack("{s:b, s:s, s:i, s:o, s:O}", "ok", s->failed == 0, "command", command,
                          "failed", s->failed, "steps", arr ? arr : json_array(), "fields", s->fields);
    if (o) {
        json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS);
        fputc('\n', out);
    }
    json_decref(o);
}
