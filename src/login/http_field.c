/* http_field: byte classes of RFC 9110 field names and values and of RFC 6750 Bearer tokens. */
#include "login/http_field.h"
#include <string.h>

int http_field_value_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}

static int tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

int http_field_line_ok(const char *line)
{
    size_t n = 0;
    while (tchar((unsigned char)line[n]))
        n++;
    if (!n || line[n] != ':')
        return 0;
    return http_field_value_ok(line + n + 1, strlen(line + n + 1));
}

int http_field_b64token_ok(const char *t, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'))
            break;
        i++;
    }
    if (!i)
        return 0;
    while (i < len && t[i] == '=')
        i++;
    return i == len;
}
