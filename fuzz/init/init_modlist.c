/* libFuzzer target for sealed-init's baked module list (src/init/init_modlist.c). Properties: every
 * module path is inside /lib/modules, a .ko without . or .. or empty components, within the caps
 * and copied verbatim from the input; module names have no '-' or '/'; iteration always ends, within
 * the list's lines and INIT_MODULES_MAX. */
#include "fuzz.h"
#include "init/init.h"

#define ASSERT(c) FUZZ_REQUIRE(c)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    enum init_err e;
    struct init_modlist it;
    char path[INIT_PATH_MAX];
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += p[i] == '\n';
    init_modlist_begin(&it, p, size);
    unsigned steps = 0;
    while ((e = init_modlist_next(&it, path, sizeof path)) == INIT_OK) {
        size_t l = strlen(path);
        ASSERT(l < INIT_PATH_MAX && l > 16 && !memcmp(path, "/lib/modules/", 13) && !strcmp(path + l - 3, ".ko"));
        ASSERT(!strstr(path, "/../") && !strstr(path, "/./") && !strstr(path, "//"));
        ASSERT(memmem(p, size, path, l) != NULL);
        ASSERT(++steps <= INIT_MODULES_MAX && it.line <= lines);
        char name[64];
        init_module_name(path, name, sizeof name);
        ASSERT(strlen(name) < sizeof name && !strchr(name, '-') && !strchr(name, '/'));
    }
    ASSERT(it.count == steps && it.line <= lines);
    return 0;
}
