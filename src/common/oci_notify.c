/* oci_notify: the OCI Notifications PublishMessage body and OCI's error answers (code, message,
 * the clock-skew rejection). Titles and bodies are capped; nothing personal is ever passed in. */
#include "common/oci.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of s cut to at most cap bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n <= cap)
        return n;
    n = cap;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

char *oci_notify_body(const char *title, const char *body)
{
    json_t *o = json_object();
    char *out = NULL;
    if (!o)
        return NULL;
    json_t *t = json_stringn(title ? title : "", utf8_cut(title ? title : "", CLOUD_NOTIFY_MAX_TITLE));
    json_t *b = json_stringn(body ? body : "", utf8_cut(body ? body : "", CLOUD_NOTIFY_MAX_BODY));
    /* json_stringn refuses invalid UTF-8: such text is not ours to send. json_object_set_new
     * consumes its value even when it fails. */
    if (!t || !b) {
        json_decref(t);
        json_decref(b);
    } else if (json_object_set_new(o, "title", t)) {
        json_decref(b);
    } else if (!json_object_set_new(o, "body", b)) {
        out = json_dumps(o, JSON_COMPACT);
    }
    json_decref(o);
    return out;
}

static void copy_cut(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return;
    size_t n = src ? utf8_cut(src, cap - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = 0;
    for (size_t i = 0; i < n; i++)   /* one log line: no control characters */
        if ((unsigned char)dst[i] < 0x20)
            dst[i] = ' ';
}

void oci_error_parse(const char *json, size_t len, char *code, size_t code_cap, char *msg, size_t msg_cap)
{
    json_t *doc = len <= CLOUD_TOKEN_MAX ? json_loadb(json, len, 0, NULL) : NULL;
    copy_cut(code, code_cap, json_string_value(json_object_get(doc, "code")));
    copy_cut(msg, msg_cap, json_string_value(json_object_get(doc, "message")));
    json_decref(doc);
}

int oci_error_is_clock_skew(long status, const char *msg)
{
    return status == 401 && msg && strstr(msg, "clock skew") != NULL;
}
