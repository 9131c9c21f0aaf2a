/* tsm_fuse: a FUSE file system that behaves like the kernel's configfs-tsm report directory
 * (Documentation/ABI/testing/configfs-tsm; drivers/virt/coco/tsm.c) for one provider, so the
 * providers' real file I/O can be tested without SEV-SNP or TDX hardware:
 *   mkdir NAME        creates an entry with provider, generation, inblob, outblob, and for
 *                     sev_guest also auxblob, privlevel, privlevel_floor
 *   inblob            binary, at most 64 bytes, committed when the writer closes (zero-padded)
 *   privlevel         text 0..3, not below privlevel_floor
 *   generation        bumped by every committed write
 *   outblob/auxblob   generated on read when the generation moved since the last report
 *   rmdir NAME        removes the entry
 * Usage: tsm_fuse MOUNTPOINT (foreground, single-threaded) with TSM_EMU_PROVIDER=sev_guest|tdx_guest,
 * TSM_EMU_PRIVLEVEL_FLOOR, TSM_EMU_RACE=N (the first N reports see an extra writer bump the
 * generation), TSM_EMU_FAULTS (comma-separated, one item per inblob write in turn, the probe's
 * first: "-" none, "inblob" the write fails, "outblob"/"auxblob" that read fails, "gen" the
 * generation read after the report fails, "delayMS" the report takes that long), and the
 * snp_emu.h variables. Test code only. */
#define FUSE_USE_VERSION 31
#include <fuse.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "snp_emu.h"

#define MAX_ENTRIES 16

struct entry {
    char     name[64];
    int      used;
    uint8_t  inblob[64];
    uint32_t privlevel;
    uint64_t gen, report_gen;
    int      have_report;
    uint8_t *out, *aux;
    size_t   out_len, aux_len;
};

static struct entry entries[MAX_ENTRIES];
static int is_snp;
static uint32_t floor_level;
static int race_left;
static unsigned reports_made;
static char faults[64][16];
static int nfaults, cycle;        /* cycle: inblob writes so far (1-based fault index) */
static int reported_this_cycle;

static const char *fault_now(void)
{
    return cycle >= 1 && cycle <= nfaults ? faults[cycle - 1] : "-";
}

/* Open-file handles for writes: buffered until flush, as configfs does until release. */
struct wh { struct entry *e; int attr; uint8_t buf[128]; size_t len; int overflow; };

enum { A_NONE, A_PROVIDER, A_GENERATION, A_INBLOB, A_OUTBLOB, A_AUXBLOB, A_PRIVLEVEL, A_FLOOR };
static const struct { const char *name; int id; int snp_only; mode_t mode; } attrs[] = {
    { "provider", A_PROVIDER, 0, 0444 },   { "generation", A_GENERATION, 0, 0444 },
    { "inblob", A_INBLOB, 0, 0200 },       { "outblob", A_OUTBLOB, 0, 0444 },
    { "auxblob", A_AUXBLOB, 1, 0444 },     { "privlevel", A_PRIVLEVEL, 1, 0644 },
    { "privlevel_floor", A_FLOOR, 1, 0444 },
};

static struct entry *find(const char *name, size_t n)
{
    for (int i = 0; i < MAX_ENTRIES; i++)
        if (entries[i].used && strlen(entries[i].name) == n && !memcmp(entries[i].name, name, n))
            return &entries[i];
    return NULL;
}

/* Splits "/NAME[/ATTR]": returns 0 root, 1 entry, 2 attribute, -1 nothing. */
static int resolve(const char *path, struct entry **e, int *attr)
{
    *e = NULL;
    *attr = A_NONE;
    if (!strcmp(path, "/"))
        return 0;
    const char *p = path + 1, *slash = strchr(p, '/');
    *e = find(p, slash ? (size_t)(slash - p) : strlen(p));
    if (!*e)
        return -1;
    if (!slash)
        return 1;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (!strcmp(slash + 1, attrs[i].name) && (is_snp || !attrs[i].snp_only)) {
            *attr = attrs[i].id;
            return 2;
        }
    return -1;
}

static mode_t attr_mode(int id)
{
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (attrs[i].id == id)
            return attrs[i].mode;
    return 0;
}

static int t_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    struct entry *e;
    int a;
    memset(st, 0, sizeof *st);
    switch (resolve(path, &e, &a)) {
    case 0: case 1:
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return 0;
    case 2:
        st->st_mode = S_IFREG | attr_mode(a);
        st->st_nlink = 1;
        st->st_size = a == A_OUTBLOB || a == A_AUXBLOB || a == A_INBLOB ? 0 : 4096;
        return 0;
    }
    return -ENOENT;
}

static int t_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                     struct fuse_file_info *fi, enum fuse_readdir_flags fl)
{
    struct entry *e;
    int a, r = resolve(path, &e, &a);
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    if (r == 0) {
        for (int i = 0; i < MAX_ENTRIES; i++)
            if (entries[i].used)
                fill(buf, entries[i].name, NULL, 0, 0);
        return 0;
    }
    if (r == 1) {
        for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
            if (is_snp || !attrs[i].snp_only)
                fill(buf, attrs[i].name, NULL, 0, 0);
        return 0;
    }
    return -ENOTDIR;
}

static int t_mkdir(const char *path, mode_t mode)
{
    const char *name = path + 1;
    if (strchr(name, '/') || strlen(name) >= sizeof entries[0].name)
        return -EPERM;
    if (find(name, strlen(name)))
        return -EEXIST;
    for (int i = 0; i < MAX_ENTRIES; i++)
        if (!entries[i].used) {
            memset(&entries[i], 0, sizeof entries[i]);
            entries[i].used = 1;
            snprintf(entries[i].name, sizeof entries[i].name, "%s", name);
            entries[i].privlevel = floor_level;
            return 0;
        }
    return -ENOSPC;
}

static int t_rmdir(const char *path)
{
    struct entry *e;
    int a;
    if (resolve(path, &e, &a) != 1)
        return -ENOENT;
    free(e->out);
    free(e->aux);
    memset(e, 0, sizeof *e);
    return 0;
}

static int t_open(const char *path, struct fuse_file_info *fi)
{
    struct entry *e;
    int a;
    if (resolve(path, &e, &a) != 2)
        return -ENOENT;
    int wr = (fi->flags & O_ACCMODE) != O_RDONLY;
    if (wr && !(attr_mode(a) & 0200))
        return -EACCES;
    if (!wr && !(attr_mode(a) & 0444))
        return -EACCES;
    fi->direct_io = 1;           /* sizes are not known in advance, like sysfs/configfs */
    if (wr) {
        struct wh *h = calloc(1, sizeof *h);
        if (!h)
            return -ENOMEM;
        h->e = e;
        h->attr = a;
        fi->fh = (uint64_t)(uintptr_t)h;
    }
    return 0;
}

static int make_report(struct entry *e)
{
    free(e->out);
    free(e->aux);
    e->out = e->aux = NULL;
    e->out_len = e->aux_len = 0;
    if (is_snp) {
        e->out = malloc(SNP_EMU_REPORT_LEN);
        if (!e->out || snp_emu_report(e->inblob, e->privlevel, e->out) != 0)
            return -EIO;
        e->out_len = SNP_EMU_REPORT_LEN;
        if (snp_emu_cert_table(&e->aux, &e->aux_len) != 0)
            return -EIO;
    } else if (tdx_emu_quote(e->inblob, &e->out, &e->out_len) != 0) {
        return -EIO;
    }
    reports_made++;
    e->report_gen = e->gen;
    e->have_report = 1;
    if (race_left > 0) {         /* another writer touched the entry meanwhile */
        race_left--;
        e->gen++;
    }
    return 0;
}

static int t_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct entry *e;
    int a;
    char txt[32];
    const uint8_t *src = NULL;
    size_t len = 0;
    if (resolve(path, &e, &a) != 2)
        return -ENOENT;
    switch (a) {
    case A_PROVIDER:
        len = (size_t)snprintf(txt, sizeof txt, "%s\n", is_snp ? "sev_guest" : "tdx_guest");
        src = (const uint8_t *)txt;
        break;
    case A_GENERATION:
        if (reported_this_cycle && !strcmp(fault_now(), "gen")) {
            reported_this_cycle = 0;            /* only the read right after the report */
            return -EIO;
        }
        len = (size_t)snprintf(txt, sizeof txt, "%llu\n", (unsigned long long)e->gen);
        src = (const uint8_t *)txt;
        break;
    case A_PRIVLEVEL:
        len = (size_t)snprintf(txt, sizeof txt, "%u\n", e->privlevel);
        src = (const uint8_t *)txt;
        break;
    case A_FLOOR:
        len = (size_t)snprintf(txt, sizeof txt, "%u\n", floor_level);
        src = (const uint8_t *)txt;
        break;
    case A_OUTBLOB: case A_AUXBLOB:
        if (off == 0 && !strcmp(fault_now(), a == A_OUTBLOB ? "outblob" : "auxblob"))
            return -EIO;
        if (off == 0 && !strncmp(fault_now(), "delay", 5) && (!e->have_report || e->report_gen != e->gen)) {
            struct timespec ts = { atoi(fault_now() + 5) / 1000, (atoi(fault_now() + 5) % 1000) * 1000000L };
            nanosleep(&ts, NULL);
        }
        if (off == 0 && (!e->have_report || e->report_gen != e->gen)) {
            reported_this_cycle = 1;
            int r = make_report(e);
            if (r)
                return r;
        }
        src = a == A_OUTBLOB ? e->out : e->aux;
        len = a == A_OUTBLOB ? e->out_len : e->aux_len;
        break;
    default:
        return -EACCES;
    }
    if ((size_t)off >= len)
        return 0;
    if (size > len - (size_t)off)
        size = len - (size_t)off;
    memcpy(buf, src + off, size);
    return (int)size;
}

static int t_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct wh *h = (struct wh *)(uintptr_t)fi->fh;
    if (!h)
        return -EBADF;
    if ((size_t)off + size > sizeof h->buf || (h->attr == A_INBLOB && (size_t)off + size > 64)) {
        h->overflow = 1;
        return -EFBIG;
    }
    memcpy(h->buf + off, buf, size);
    if ((size_t)off + size > h->len)
        h->len = (size_t)off + size;
    return (int)size;
}

/* configfs commits a binary attribute when the writer closes; flush runs synchronously on close */
static int t_flush(const char *path, struct fuse_file_info *fi)
{
    struct wh *h = (struct wh *)(uintptr_t)fi->fh;
    if (!h || h->len == 0 || h->overflow)
        return 0;
    struct entry *e = h->e;
    if (h->attr == A_INBLOB) {
        cycle++;
        reported_this_cycle = 0;
        if (!strcmp(fault_now(), "inblob")) {
            h->len = 0;
            return -EIO;
        }
        memset(e->inblob, 0, 64);
        memcpy(e->inblob, h->buf, h->len);
        e->gen++;
    } else if (h->attr == A_PRIVLEVEL) {
        char t[8] = "";
        memcpy(t, h->buf, h->len < 7 ? h->len : 7);
        char *end;
        unsigned long v = strtoul(t, &end, 10);
        if (end == t || v > 3 || v < floor_level)
            return -EINVAL;
        e->privlevel = (uint32_t)v;
        e->gen++;
    }
    h->len = 0;
    return 0;
}

static int t_release(const char *path, struct fuse_file_info *fi)
{
    free((void *)(uintptr_t)fi->fh);
    return 0;
}

static int t_truncate(const char *path, off_t size, struct fuse_file_info *fi) { return 0; }

static const struct fuse_operations ops = {
    .getattr = t_getattr, .readdir = t_readdir, .mkdir = t_mkdir, .rmdir = t_rmdir,
    .open = t_open, .read = t_read, .write = t_write, .flush = t_flush, .release = t_release,
    .truncate = t_truncate,
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tsm_fuse MOUNTPOINT\n");
        return 2;
    }
    const char *prov = getenv("TSM_EMU_PROVIDER");
    is_snp = !prov || !strcmp(prov, "sev_guest");
    floor_level = getenv("TSM_EMU_PRIVLEVEL_FLOOR") ? (uint32_t)atoi(getenv("TSM_EMU_PRIVLEVEL_FLOOR")) : 0;
    race_left = getenv("TSM_EMU_RACE") ? atoi(getenv("TSM_EMU_RACE")) : 0;
    const char *fl = getenv("TSM_EMU_FAULTS");
    while (fl && *fl && nfaults < 64) {
        size_t n = strcspn(fl, ",");
        snprintf(faults[nfaults++], sizeof faults[0], "%.*s", (int)(n < 15 ? n : 15), fl);
        fl += n + (fl[n] == ',');
    }
    if (is_snp ? snp_emu_init() != 0 : tdx_emu_init() != 0)
        return 1;
    char *fargv[] = { argv[0], "-f", "-s", "-o", "default_permissions", argv[1], NULL };
    return fuse_main(6, fargv, &ops, NULL);
}
