/* sealed-init: PID 1 of the sealed image (the initramfs's /init). Owns the early mounts, loading the
 * baked kernel modules, the static network setup from the kernel command line (or pointing the
 * resolver at what the kernel's own ip=dhcp learnt), starting and restarting /bin/sealed-login,
 * reaping every child, signals and the ACPI power button, power-off; the tmpfs that holds the
 * service's state across its restarts (only mounted here: PID 1 never reads it); the crash-loop
 * limit (init_restart.c).
 * Never parses network input, never sees a key, secret or the service's settings, never exits. */
#include "init/init.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVICE_BIN      "/bin/sealed-login"
#define SERVICE_CONF     "/etc/sealed-login.conf"
#define MODULE_LIST      "/etc/sealed-init/modules"
#define RESOLV_CONF      "/etc/resolv.conf"
#define KERNEL_PNP       "/proc/net/pnp"   /* what the kernel's ip=dhcp learnt, in resolv.conf format */
#define STATE_DIR        "/run/sealed-state"   /* the service's state (SEALED_STATE_DIR); outlives it */
#define STOP_GRACE_MS    25000    /* SIGTERM to SIGKILL: the service drains logins for up to 20 s */
#define IFACE_WAIT_MS    5000     /* for the network driver to register its interface */

static pid_t service_pid;
static long long service_started_ms;
static struct init_restart restarts;
static long long restart_at_ms;   /* 0 = no restart pending */
static int stopping;
static long long stop_deadline_ms;
static int killed;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line per event on the console: "sealed-init: EVENT key=value ...". */
__attribute__((format(printf, 1, 2))) static void logline(const char *fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "sealed-init: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    (void)!write(2, buf, (size_t)n);
}

static void console_open(void)
{
    if (fcntl(2, F_GETFD) >= 0)
        return;   /* the kernel opened /dev/console from the initramfs for fds 0-2 */
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fd != i)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

/* Reads at most cap - 1 bytes of a small file, NUL-terminates. Returns the length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n < cap - 1) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

static int fs_available(const char *type)
{
    char buf[8192], want[64];
    snprintf(want, sizeof want, "\t%s\n", type);
    return read_small("/proc/filesystems", buf, sizeof buf) > 0 && strstr(buf, want) != NULL;
}

static void mount_one(const char *type, const char *target, unsigned long flags, const char *data, int optional)
{
    if (optional && !fs_available(type)) {
        logline("mount target=%s type=%s result=absent", target, type);
        return;
    }
    mkdir(target, 0755);
    if (mount(type, target, type, flags, data))
        logline("mount target=%s type=%s result=error errno=%d", target, type, errno);
    else
        logline("mount target=%s type=%s result=ok", target, type);
}

/* What the kernel offers for hardware evidence, on the console for whoever reads the boot log (the
 * service probes the same paths itself and says what it uses: attest.ready). Existence only. */
static void report_attestation_interfaces(void)
{
    static const struct { const char *name, *path; } ifs[] = {
        {"configfs-tsm", "/sys/kernel/config/tsm/report"},
        {"sev-guest", "/dev/sev-guest"},
        {"tdx-guest", "/dev/tdx_guest"},
        {"tpm", "/dev/tpmrm0"},
    };
    char line[192];
    size_t n = 0;
    for (size_t i = 0; i < sizeof ifs / sizeof ifs[0] && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s=%s", i ? " " : "", ifs[i].name,
                              access(ifs[i].path, F_OK) == 0 ? "present" : "absent");
    logline("attestation %s", line);
}

static void load_modules(void)
{
    static char buf[INIT_MODLIST_MAX];
    char path[INIT_PATH_MAX], name[64];
    ssize_t n = read_small(MODULE_LIST, buf, sizeof buf);
    if (n < 0) {
        logline("modules list=%s result=absent", MODULE_LIST);
        return;
    }
    struct init_modlist it;
    enum init_err e;
    unsigned loaded = 0;
    init_modlist_begin(&it, buf, (size_t)n);
    while ((e = init_modlist_next(&it, path, sizeof path)) == INIT_OK) {
        init_module_name(path, name, sizeof name);
        long long t0 = now_ms();
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            logline("module name=%s result=error errno=%d", name, errno);
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) == 0) {
            loaded++;
            logline("module name=%s result=loaded ms=%lld", name, now_ms() - t0);
        } else if (errno == EEXIST) {
            logline("module name=%s result=present", name);
        } else if (errno == ENODEV) {   /* e.g. sev-guest outside an SEV-SNP guest */
            logline("module name=%s result=no-device", name);
        } else {
            logline("module name=%s result=error errno=%d", name, errno);
        }
        close(fd);
    }
    if (e != INIT_DONE)
        logline("modules list=%s line=%u result=%s", MODULE_LIST, it.line, init_err_str(e));
    logline("modules loaded=%u listed=%u", loaded, it.count);
}

static int if_set_up(int sock, const char *ifname)
{
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr))
        return -1;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int if_set_addr(int sock, const char *ifname, unsigned long req, uint32_t addr)
{
    struct ifreq ifr = {0};
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = addr};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    return ioctl(sock, req, &ifr);
}

/* The alphabetically first interface other than lo (or `want`), waiting for its driver. */
static int find_iface(const char *want, char *out, size_t cap)
{
    long long until = now_ms() + IFACE_WAIT_MS;
    do {
        DIR *d = opendir("/sys/class/net");
        out[0] = 0;
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                const char *nm = de->d_name;
                if (nm[0] == '.' || !strcmp(nm, "lo") || (want[0] && strcmp(nm, want)) || strlen(nm) >= cap)
                    continue;
                if (!out[0] || strcmp(nm, out) < 0)
                    snprintf(out, cap, "%s", nm);
            }
            closedir(d);
        }
        if (out[0])
            return 0;
        usleep(50 * 1000);
    } while (now_ms() < until);
    return -1;
}

static void write_resolv_conf(const struct init_net *net)
{
    char buf[INIT_DNS_MAX * 32 + 1], ip[INET_ADDRSTRLEN];
    size_t n = 0;
    for (unsigned i = 0; i < net->ndns; i++) {
        inet_ntop(AF_INET, &net->dns[i], ip, sizeof ip);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "nameserver %s\n", ip);
    }
    int fd = open(RESOLV_CONF, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, buf, n) != (ssize_t)n)
        logline("dns result=error errno=%d", errno);
    if (fd >= 0)
        close(fd);
}

/* Without sealed.ip: the kernel may have configured an interface itself (ip=dhcp on the command
 * line, CONFIG_IP_PNP_DHCP; net/ipv4/ipconfig.c runs before PID 1 starts). Its address is only
 * reported here. The nameservers it learnt are in /proc/net/pnp, which is in resolv.conf's format
 * ("nameserver A.B.C.D" lines, comments, and lines resolvers ignore): /etc/resolv.conf becomes a
 * symlink to it, so PID 1 never reads what came from the network. sealed.dns= still wins. */
static void kernel_net(int sock, const struct init_net *net)
{
    char ifname[IF_NAMESIZE], ip[INET_ADDRSTRLEN];
    struct ifreq ifr = {0};
    struct sockaddr_in sin, mask;
    if (find_iface(net->ifname, ifname, sizeof ifname)) {
        logline("net result=no-address reason=\"no sealed.ip= and no network interface\"");
        return;
    }
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(sock, SIOCGIFADDR, &ifr)) {
        logline("net if=%s result=no-address reason=\"neither sealed.ip= nor ip= (kernel DHCP) on the command line\"",
                ifname);
        return;
    }
    memcpy(&sin, &ifr.ifr_addr, sizeof sin);
    if (ioctl(sock, SIOCGIFNETMASK, &ifr))
        memset(&ifr.ifr_netmask, 0, sizeof ifr.ifr_netmask);
    memcpy(&mask, &ifr.ifr_netmask, sizeof mask);
    inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
    unsigned prefix = (unsigned)__builtin_popcount(mask.sin_addr.s_addr);
    if (net->ndns) {
        write_resolv_conf(net);
    } else {
        unlink(RESOLV_CONF);
        if (symlink(KERNEL_PNP, RESOLV_CONF))
            logline("dns result=error errno=%d", errno);
    }
    logline("net if=%s ip=%s/%u source=kernel dns=%s result=up", ifname, ip, prefix,
            net->ndns ? "cmdline" : KERNEL_PNP);
}

/* Loopback, then the static address, default route and nameservers from sealed.* parameters. */
static void net_setup(void)
{
    static char cmdline[INIT_CMDLINE_MAX];
    struct init_net net;
    const char *bad = NULL;
    size_t badlen = 0;
    char ifname[IF_NAMESIZE], ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN] = "none";
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || if_set_up(sock, "lo"))
        logline("net if=lo result=error errno=%d", errno);
    else
        logline("net if=lo result=up");
    ssize_t n = read_small("/proc/cmdline", cmdline, sizeof cmdline);
    enum init_err e = n < 0 ? INIT_ERR_SYNTAX : init_cmdline_parse(cmdline, (size_t)n, &net, &bad, &badlen);
    if (e) {
        logline("net result=%s word=\"%.*s\"", init_err_str(e), (int)(badlen > 64 ? 64 : badlen), bad ? bad : "");
        goto out;
    }
    if (!net.have_ip) {
        kernel_net(sock, &net);
        goto out;
    }
    if (find_iface(net.ifname, ifname, sizeof ifname)) {
        logline("net if=%s result=error reason=\"no such interface\"", net.ifname[0] ? net.ifname : "any");
        goto out;
    }
    inet_ntop(AF_INET, &net.ip, ip, sizeof ip);
    if (if_set_addr(sock, ifname, SIOCSIFADDR, net.ip) ||
        if_set_addr(sock, ifname, SIOCSIFNETMASK, init_prefix_mask(net.prefix)) || if_set_up(sock, ifname)) {
        logline("net if=%s ip=%s/%u result=error errno=%d", ifname, ip, net.prefix, errno);
        goto out;
    }
    if (net.have_gw) {
        struct rtentry rt = {0};
        struct sockaddr_in any = {.sin_family = AF_INET}, via = {.sin_family = AF_INET, .sin_addr.s_addr = net.gw};
        memcpy(&rt.rt_dst, &any, sizeof any);
        memcpy(&rt.rt_genmask, &any, sizeof any);
        memcpy(&rt.rt_gateway, &via, sizeof via);
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = ifname;
        inet_ntop(AF_INET, &net.gw, gw, sizeof gw);
        if (ioctl(sock, SIOCADDRT, &rt)) {
            logline("net if=%s gw=%s result=error errno=%d", ifname, gw, errno);
            goto out;
        }
    }
    if (net.ndns)
        write_resolv_conf(&net);
    logline("net if=%s ip=%s/%u gw=%s dns=%u result=up", ifname, ip, net.prefix, gw, net.ndns);
out:
    if (sock >= 0)
        close(sock);
}

/* Opens the evdev devices that can report KEY_POWER (the ACPI power button). Returns the count. */
static int open_power_buttons(struct pollfd *pfd, int cap)
{
    int n = 0;
    DIR *d = opendir("/dev/input");
    struct dirent *de;
    while (d && n < cap && (de = readdir(d))) {
        char path[16 + sizeof de->d_name];
        unsigned long bits[KEY_MAX / (8 * sizeof(unsigned long)) + 1] = {0};
        if (strncmp(de->d_name, "event", 5))
            continue;
        snprintf(path, sizeof path, "/dev/input/%s", de->d_name);
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof bits), bits) < 0 ||
            !(bits[KEY_POWER / (8 * sizeof(unsigned long))] & (1UL << (KEY_POWER % (8 * sizeof(unsigned long)))))) {
            close(fd);
            continue;
        }
        pfd[n].fd = fd;
        pfd[n].events = POLLIN;
        n++;
        logline("power-button device=%s", path);
    }
    if (d)
        closedir(d);
    if (!n)
        logline("power-button result=absent");
    return n;
}

static void start_service(void)
{
    static char *const argv[] = {"sealed-login", "--config", SERVICE_CONF, NULL};
    static char *const envp[] = {"PATH=/bin", "HOME=/", "TZ=UTC",
                                 "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                                 "SEALED_STATE_DIR=" STATE_DIR, NULL};
    restart_at_ms = 0;
    pid_t pid = fork();
    if (pid < 0) {
        logline("service result=fork-error errno=%d", errno);
        restart_at_ms = now_ms() + INIT_RESTART_MAX_MS;
        return;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
        int null = open("/dev/null", O_RDONLY);   /* the service reads nothing from the console */
        if (null > 0) {
            dup2(null, 0);
            close(null);
        }
        execve(SERVICE_BIN, argv, envp);
        logline("service result=exec-error errno=%d", errno);
        _exit(127);
    }
    service_pid = pid;
    service_started_ms = now_ms();
    logline("service pid=%d result=started uptime_ms=%lld", (int)pid, service_started_ms);
}

static __attribute__((noreturn)) void power_off(void)
{
    logline("poweroff uptime_ms=%lld", now_ms());
    kill(-1, SIGKILL);   /* anything left besides us; the service has already exited */
    sync();
    reboot(RB_POWER_OFF);
    logline("poweroff result=error errno=%d", errno);
    for (;;)
        pause();   /* PID 1 must never exit: the kernel would panic */
}

static void begin_shutdown(const char *reason)
{
    if (stopping)
        return;
    stopping = 1;
    logline("shutdown reason=%s", reason);
    if (!service_pid)
        power_off();
    kill(service_pid, SIGTERM);
    stop_deadline_ms = now_ms() + STOP_GRACE_MS;
}

static void reap(void)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        if (pid != service_pid)
            continue;   /* an orphan re-parented to us: reaped, nothing else to do */
        long long ran = now_ms() - service_started_ms;
        service_pid = 0;
        if (WIFEXITED(st))
            logline("service result=exited status=%d ran_ms=%lld", WEXITSTATUS(st), ran);
        else
            logline("service result=killed signal=%d ran_ms=%lld", WTERMSIG(st), ran);
        if (stopping || (WIFEXITED(st) && WEXITSTATUS(st) == 0))
            power_off();   /* asked to stop, or the service stopped cleanly by itself */
        long long delay = init_restart_after_exit(&restarts, now_ms(), ran);
        if (delay < 0) {
            logline("service result=crash-loop crashes=%u window_ms=%d action=poweroff", restarts.n,
                    INIT_CRASH_WINDOW_MS);
            power_off();
        }
        restart_at_ms = now_ms() + delay;
        logline("service crashes_in_window=%u max=%d", restarts.n, INIT_CRASH_MAX);
        logline("service result=restarting delay_ms=%lld", delay);
    }
}

static void on_power_input(int fd)
{
    struct input_event ev[16];
    ssize_t r;
    while ((r = read(fd, ev, sizeof ev)) > 0)
        for (size_t i = 0; i < (size_t)r / sizeof ev[0]; i++)
            if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
                begin_shutdown("power-button");
}

int main(void)
{
    if (getpid() != 1) {
        static const char msg[] = "sealed-init: must run as PID 1 (the sealed image's /init)\n";
        (void)!write(2, msg, sizeof msg - 1);
        return 2;
    }
    console_open();
    umask(022);
    (void)!chdir("/");
    logline("start uptime_ms=%lld", now_ms());

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR2);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)   /* should not happen; the loop then polls for exited children every second */
        logline("signalfd result=error errno=%d", errno);
    reboot(RB_DISABLE_CAD);   /* Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot */

    mount_one("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0);
    mount_one("sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0);
    mount_one("devtmpfs", "/dev", MS_NOSUID, "mode=0755", 0);
    console_open();
    mount_one("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "mode=1777", 0);
    mount_one("tmpfs", "/run", MS_NOSUID | MS_NODEV, "mode=0755", 0);
    mount_one("tmpfs", STATE_DIR, MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700", 0);
    load_modules();
    mount_one("configfs", "/sys/kernel/config", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1);
    mount_one("securityfs", "/sys/kernel/security", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 1);
    report_attestation_interfaces();
    net_setup();

    struct pollfd pfd[1 + INIT_INPUT_MAX];
    pfd[0].fd = sfd;
    pfd[0].events = POLLIN;
    int npfd = 1 + open_power_buttons(pfd + 1, INIT_INPUT_MAX);
    init_restart_begin(&restarts);
    start_service();

    for (;;) {
        long long now = now_ms(), wake = -1;
        if (restart_at_ms && !stopping)
            wake = restart_at_ms;
        if (stopping)
            wake = stop_deadline_ms;
        int timeout = wake < 0 ? -1 : wake <= now ? 0 : (int)(wake - now);
        if (sfd < 0 && (timeout < 0 || timeout > 1000))
            timeout = 1000;
        if (poll(pfd, (nfds_t)npfd, timeout) < 0 && errno != EINTR)
            logline("poll result=error errno=%d", errno);
        struct signalfd_siginfo si;
        while (sfd >= 0 && read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
            switch (si.ssi_signo) {
            case SIGCHLD: reap(); break;
            case SIGTERM: begin_shutdown("SIGTERM"); break;
            case SIGUSR2: begin_shutdown("SIGUSR2"); break;
            case SIGINT:   /* forwarded: the service's clean exit then powers off */
                logline("signal SIGINT forwarded=%d", service_pid ? 1 : 0);
                if (service_pid)
                    kill(service_pid, SIGINT);
                else
                    begin_shutdown("SIGINT");
                break;
            }
        }
        if (sfd < 0)
            reap();
        for (int i = 1; i < npfd; i++)
            if (pfd[i].revents & POLLIN)
                on_power_input(pfd[i].fd);
        now = now_ms();
        if (restart_at_ms && !stopping && now >= restart_at_ms)
            start_service();
        if (stopping && now >= stop_deadline_ms) {
            if (!service_pid || killed)
                power_off();
            logline("service result=stop-timeout action=SIGKILL");
            kill(service_pid, SIGKILL);
            killed = 1;
            stop_deadline_ms = now + 2000;
        }
    }
}
