/* Unit tests for init/init_modlist: the baked module list (order, comments, path rules, caps).
 * Lists are copied into exact-size heap blocks (no NUL) so ASan sees any read past len. */
#include "test.h"
#include "init/init.h"

static char *dup_exact(const char *s, size_t *len)
{
    *len = strlen(s);
    char *b = malloc(*len ? *len : 1);
    memcpy(b, s, *len);
    return b;
}

TEST(paths_come_back_in_order_skipping_comments_and_blanks)
{
    size_t len;
    char *b = dup_exact("# load order\n"
                        "/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio_ring.ko\n"
                        "\n"
                        "   \t\n"
                        "  /lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio.ko  \r\n"
                        "/lib/modules/6.1.0-56-amd64/kernel/drivers/virt/coco/sev-guest/sev-guest.ko", &len);
    struct init_modlist it;
    char path[INIT_PATH_MAX];
    init_modlist_begin(&it, b, len);
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_OK);
    CHECK_STR(path, "/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio_ring.ko");
    CHECK(it.line == 2);
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_OK);
    CHECK_STR(path, "/lib/modules/6.1.0-56-amd64/kernel/drivers/virtio/virtio.ko");
    CHECK(it.line == 5);
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_OK);   /* last line without '\n' */
    CHECK_STR(path, "/lib/modules/6.1.0-56-amd64/kernel/drivers/virt/coco/sev-guest/sev-guest.ko");
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_DONE);
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_DONE);
    CHECK(it.count == 3);
    free(b);
}

TEST(empty_list_is_done_at_once)
{
    struct init_modlist it;
    char path[INIT_PATH_MAX];
    init_modlist_begin(&it, "", 0);
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_DONE && it.count == 0);
    init_modlist_begin(&it, "# nothing\n\n", 11);
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_DONE);
}

TEST(paths_outside_lib_modules_or_not_ko_are_refused)
{
    static const char *bad[] = {
        "/lib/modules/../../bin/sealed-login.ko", "/lib/modules/x/../y.ko", "/lib/modules/./x.ko",
        "/lib/modules//x.ko", "lib/modules/x.ko", "/lib/modulesx/x.ko", "/lib/modules/x.ko.xz",
        "/lib/modules/x.kox", "/lib/modules/x y.ko", "/lib/modules/x;y.ko", "/lib/modules/.ko",
        "/etc/x.ko", "/lib/modules/", "/lib/modules/x/.ko/", "/lib/modules/\x01.ko",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len;
        char *b = dup_exact(bad[i], &len);
        struct init_modlist it;
        char path[INIT_PATH_MAX];
        init_modlist_begin(&it, b, len);
        enum init_err e = init_modlist_next(&it, path, sizeof path);
        if (e != INIT_ERR_SYNTAX)
            fprintf(stderr, "  %s -> %s\n", bad[i], init_err_str(e));
        CHECK(e == INIT_ERR_SYNTAX);
        free(b);
    }
}

TEST(caps_on_path_length_and_count)
{
    char line[INIT_PATH_MAX + 8];
    size_t n = (size_t)snprintf(line, sizeof line, "/lib/modules/");
    while (n < INIT_PATH_MAX - 3)
        line[n++] = 'a';
    memcpy(line + n, ".ko", 4);   /* INIT_PATH_MAX bytes long: one too many */
    struct init_modlist it;
    char path[INIT_PATH_MAX];
    init_modlist_begin(&it, line, strlen(line));
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_ERR_TOOLONG);
    memcpy(line + n - 1, ".ko", 4);   /* INIT_PATH_MAX - 1: fits */
    init_modlist_begin(&it, line, strlen(line));
    CHECK(init_modlist_next(&it, path, sizeof path) == INIT_OK && strlen(path) == INIT_PATH_MAX - 1);
    /* a caller buffer smaller than the path is refused, never overrun */
    init_modlist_begin(&it, "/lib/modules/abc.ko", 19);
    CHECK(init_modlist_next(&it, path, 10) == INIT_ERR_TOOLONG);

    size_t cap = (INIT_MODULES_MAX + 1) * 24, len = 0;
    char *b = malloc(cap);
    for (int i = 0; i <= INIT_MODULES_MAX; i++)
        len += (size_t)snprintf(b + len, cap - len, "/lib/modules/m%03d.ko\n", i);
    init_modlist_begin(&it, b, len);
    enum init_err e;
    while ((e = init_modlist_next(&it, path, sizeof path)) == INIT_OK)
        ;
    CHECK(e == INIT_ERR_TOOMANY && it.count == INIT_MODULES_MAX);
    free(b);
}

TEST(module_names_as_the_kernel_shows_them)
{
    char name[64];
    init_module_name("/lib/modules/6.1/kernel/drivers/virt/coco/sev-guest/sev-guest.ko", name, sizeof name);
    CHECK_STR(name, "sev_guest");
    init_module_name("virtio_net.ko", name, sizeof name);
    CHECK_STR(name, "virtio_net");
    init_module_name("/lib/modules/x/very_long_module_name.ko", name, 5);
    CHECK_STR(name, "very");
}

int main(void)
{
    RUN(paths_come_back_in_order_skipping_comments_and_blanks);
    RUN(empty_list_is_done_at_once);
    RUN(paths_outside_lib_modules_or_not_ko_are_refused);
    RUN(caps_on_path_length_and_count);
    RUN(module_names_as_the_kernel_shows_them);
    return test_done();
}
