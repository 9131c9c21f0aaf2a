/* pcr_init: /init of the UKI boot test's initramfs. Prints the SHA-256 PCRs the kernel exposes
 * (/sys/class/tpm/tpm0/pcr-sha256/N) and the firmware event log (securityfs) as SEALED-* lines on
 * the serial console, then powers the VM off. Test-only: no error handling beyond printing. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

static void dump_file_hex(FILE *out, const char *tag, const char *path)
{
    unsigned char b[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY);
    fprintf(out, "%s=", tag);
    if (fd >= 0) {
        while ((n = read(fd, b, sizeof b)) > 0)
            for (ssize_t i = 0; i < n; i++)
                fprintf(out, "%02x", b[i]);
        close(fd);
    }
    fprintf(out, "\n");
}

int main(void)
{
    static const int pcrs[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14 };
    mkdir("/dev", 0755);
    mkdir("/sys", 0755);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
    FILE *out = fopen("/dev/ttyS0", "w");
    if (!out)
        out = stdout;
    for (unsigned i = 0; i < sizeof pcrs / sizeof pcrs[0]; i++) {
        char path[96], v[160] = "";
        snprintf(path, sizeof path, "/sys/class/tpm/tpm0/pcr-sha256/%d", pcrs[i]);
        int fd = open(path, O_RDONLY);
        if (fd >= 0) {
            ssize_t n = read(fd, v, sizeof v - 1);
            if (n > 0)
                v[n] = 0;
            close(fd);
        }
        v[strcspn(v, "\n")] = 0;
        fprintf(out, "SEALED-PCR%d=%s\n", pcrs[i], v);
    }
    dump_file_hex(out, "SEALED-LOG", "/sys/kernel/security/tpm0/binary_bios_measurements");
    fflush(out);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
