/* init: contracts of sealed-init's testable parts (the sealed image's PID 1, src/init/main.c):
 * the kernel command line's sealed.* network parameters and the baked kernel-module list. Both
 * parsers take (ptr, len), never read past len, need no NUL and return an init_err. Neither
 * touches the system: main.c owns every mount, module load, socket and process. */
#ifndef SEALED_INIT_H
#define SEALED_INIT_H
#include <stddef.h>
#include <stdint.h>

/* caps (PID 1 reads only what the kernel and the image give it, still every buffer has a cap) */
#define INIT_CMDLINE_MAX   4096   /* bytes of /proc/cmdline read (COMMAND_LINE_SIZE on x86 is 2048) */
#define INIT_IFNAME_MAX    15     /* IFNAMSIZ - 1 */
#define INIT_DNS_MAX       3      /* glibc reads at most three nameservers (MAXNS) */
#define INIT_MODLIST_MAX   16384  /* bytes of the baked module list */
#define INIT_MODULES_MAX   64     /* modules in that list */
#define INIT_PATH_MAX      256    /* one module path */
#define INIT_INPUT_MAX     8      /* /dev/input/event* devices watched for the power button */

enum init_err {
    INIT_OK = 0,
    INIT_DONE,            /* iterator: no more entries */
    INIT_ERR_SYNTAX,      /* malformed value (address, prefix, path) */
    INIT_ERR_UNKNOWN,     /* a sealed.* key this init does not know */
    INIT_ERR_TOOLONG,     /* a value or path over its cap */
    INIT_ERR_TOOMANY,     /* more entries than the cap (nameservers, modules) */
    INIT_ERR_DUPLICATE,   /* sealed.ip, sealed.gw or sealed.if given twice */
    INIT_ERR_GW_OFFLINK,  /* the gateway is not inside sealed.ip's subnet */
    INIT_ERR_GW_NO_IP,    /* sealed.gw without sealed.ip */
};

/* Restart policy for the service child (init_restart.c). A crash is any exit PID 1 did not ask for.
 * Back-off: INIT_RESTART_MIN_MS, doubling to INIT_RESTART_MAX_MS, back to the minimum after a run
 * of INIT_STABLE_MS. INIT_CRASH_MAX crashes within INIT_CRASH_WINDOW_MS: PID 1 stops restarting and
 * powers the VM off (docs/image.md "Crash loop"): a service that cannot stay up must not keep
 * knocking on PayPal, the CA or the cloud, and a stopped instance is what a deployer's console and
 * alerts show. The state in PID 1's tmpfs is lost with the power-off (as with any reboot). */
#define INIT_RESTART_MIN_MS    1000
#define INIT_RESTART_MAX_MS    60000
#define INIT_STABLE_MS         60000
#define INIT_CRASH_MAX         6
#define INIT_CRASH_WINDOW_MS   (10 * 60 * 1000)

struct init_restart {
    long long crash_ms[INIT_CRASH_MAX];   /* times of the crashes inside the window */
    unsigned n;
    unsigned delay_ms;                    /* the next back-off */
};
void init_restart_begin(struct init_restart *r);
/* Records a crash at now_ms of a service that ran ran_ms. Returns the delay before the next start,
 * or -1 when the crash-loop limit is reached (give up). */
long long init_restart_after_exit(struct init_restart *r, long long now_ms, long long ran_ms);

/* Short lowercase name of an error ("syntax", "gateway-offlink"); never NULL. */
const char *init_err_str(enum init_err e);

/* Static IPv4 settings from the kernel command line. Addresses are in network byte order. */
struct init_net {
    char     ifname[INIT_IFNAME_MAX + 1];  /* sealed.if=NAME; "" = the first non-loopback interface */
    int      have_ip;                      /* sealed.ip=A.B.C.D/N given */
    uint32_t ip;
    unsigned prefix;                       /* 0..32 */
    int      have_gw;                      /* sealed.gw=A.B.C.D given */
    uint32_t gw;
    unsigned ndns;                         /* sealed.dns=A.B.C.D[,A.B.C.D...] (may repeat) */
    uint32_t dns[INIT_DNS_MAX];
};

/* Parses the sealed.* parameters of a kernel command line (words separated by spaces, tabs or
 * newlines; "quoted words" are skipped as the kernel does). Other parameters are ignored. On
 * success fills *out (zeroed first) and returns INIT_OK; on failure returns the first error and,
 * when bad_key is not NULL, points *bad_key and *bad_len at the offending word inside p. */
enum init_err init_cmdline_parse(const char *p, size_t len, struct init_net *out,
                                 const char **bad_key, size_t *bad_len);

/* Parses one dotted-quad IPv4 address (exactly len bytes, no leading zeros, each part 0..255)
 * into *out (network byte order). */
enum init_err init_parse_ipv4(const char *p, size_t len, uint32_t *out);

/* Netmask for a prefix length 0..32, network byte order. */
uint32_t init_prefix_mask(unsigned prefix);

/* Iterator over the baked module list: one absolute path per line, in load order (dependencies
 * first); '#' comments, blank lines and trailing spaces are skipped. A path must start with
 * "/lib/modules/", end with ".ko", use only [A-Za-z0-9_.+/-], have no "//", "." or ".." component,
 * and be shorter than INIT_PATH_MAX. The list borrows buf; it must outlive the iterator. */
struct init_modlist {
    const char *buf;     /* borrowed */
    size_t      len;
    size_t      pos;
    unsigned    count;   /* paths returned so far */
    unsigned    line;    /* line number of the last path or error (1-based), for logs */
};
void init_modlist_begin(struct init_modlist *it, const char *buf, size_t len);
/* Copies the next path, NUL-terminated, into path[cap] (cap >= INIT_PATH_MAX). Returns INIT_OK,
 * INIT_DONE at the end, or an error for the current line (iteration cannot continue after one). */
enum init_err init_modlist_next(struct init_modlist *it, char *path, size_t cap);
/* The module's name as the kernel shows it: basename without ".ko", '-' read as '_'. Writes a
 * NUL-terminated string into name[cap] (truncated to fit). */
void init_module_name(const char *path, char *name, size_t cap);
#endif
