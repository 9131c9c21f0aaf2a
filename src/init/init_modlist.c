/* init_modlist: the baked list of kernel modules PID 1 loads, in order (written by
 * scripts/build-initramfs.sh from modules.dep). Pure parsing over (ptr, len): it never opens the
 * modules and never loads anything. */
#include "init/init.h"
#include <string.h>

void init_modlist_begin(struct init_modlist *it, const char *buf, size_t len)
{
    memset(it, 0, sizeof *it);
    it->buf = buf;
    it->len = len;
}

static int path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '+' || c == '-' || c == '/';
}

/* Checks one candidate path (n bytes, no NUL needed). */
static enum init_err check_path(const char *p, size_t n)
{
    static const char root[] = "/lib/modules/";
    if (n >= INIT_PATH_MAX)
        return INIT_ERR_TOOLONG;
    if (n < sizeof root - 1 + 4 || memcmp(p, root, sizeof root - 1) || memcmp(p + n - 3, ".ko", 3))
        return INIT_ERR_SYNTAX;
    for (size_t i = 0; i < n; i++)
        if (!path_char(p[i]))
            return INIT_ERR_SYNTAX;
    /* components: none empty, none "." or ".." (the list cannot point outside /lib/modules) */
    size_t start = 1;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        size_t c = i - start;
        if (c == 0 || (c == 1 && p[start] == '.') || (c == 2 && p[start] == '.' && p[start + 1] == '.'))
            return INIT_ERR_SYNTAX;
        start = i + 1;
    }
    return INIT_OK;
}

enum init_err init_modlist_next(struct init_modlist *it, char *path, size_t cap)
{
    while (it->pos < it->len) {
        const char *s = it->buf + it->pos;
        const char *nl = memchr(s, '\n', it->len - it->pos);
        size_t n = nl ? (size_t)(nl - s) : it->len - it->pos;
        it->pos += n + (nl ? 1 : 0);
        it->line++;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        size_t lead = 0;
        while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
            lead++;
        s += lead;
        n -= lead;
        if (n == 0 || s[0] == '#')
            continue;
        enum init_err e = check_path(s, n);
        if (e)
            return e;
        if (n + 1 > cap)
            return INIT_ERR_TOOLONG;
        if (it->count == INIT_MODULES_MAX)
            return INIT_ERR_TOOMANY;
        memcpy(path, s, n);
        path[n] = 0;
        it->count++;
        return INIT_OK;
    }
    return INIT_DONE;
}

void init_module_name(const char *path, char *name, size_t cap)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n >= 3 && !strcmp(b + n - 3, ".ko"))
        n -= 3;
    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        name[i] = b[i] == '-' ? '_' : b[i];
    name[n] = 0;
}
