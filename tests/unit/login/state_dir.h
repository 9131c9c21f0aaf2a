/* A scratch state directory for the unit tests of login/state_store, login/service_state and
 * login/state_sync: made under /tmp by state_dir_make(), removed by state_dir_remove(); the
 * helpers reach into its one file (STATE_STORE_FILE) to measure it or flip a byte in place.
 * state_dir_remove_at() removes another such directory. Test code only. */
#ifndef SEALED_TEST_STATE_DIR_H
#define SEALED_TEST_STATE_DIR_H
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "login/state_store.h"

static char dir[] = "/tmp/sealed-state-test-XXXXXX";

static inline void path_of(char *out, size_t cap) { snprintf(out, cap, "%s/%s", dir, STATE_STORE_FILE); }
static inline void wipe(void) { char p[256]; path_of(p, sizeof p); unlink(p); }

static inline long file_size(void) { char p[256]; struct stat st; path_of(p, sizeof p); return stat(p, &st) ? -1 : (long)st.st_size; }

/* XORs the byte at off of the state file with xor_with (twice restores it). */
static inline void poke(long off, uint8_t xor_with)
{
    char p[256];
    path_of(p, sizeof p);
    int fd = open(p, O_RDWR);
    uint8_t b;
    if (pread(fd, &b, 1, off) == 1) {
        b ^= xor_with;
        (void)!pwrite(fd, &b, 1, off);
    }
    close(fd);
}

/* Removes directory d and what the state code leaves in it: the state file, its .new and
 * .restore temporaries, and state_sync's sealed.last and sealed.version (with their .new). */
static inline void state_dir_remove_at(const char *d)
{
    char p[256];
    static const char *const names[] = {STATE_STORE_FILE, STATE_STORE_FILE ".new", STATE_STORE_FILE ".restore",
                                        "sealed.last", "sealed.last.new", "sealed.version", "sealed.version.new",
                                        NULL};
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", d, names[i]);
        unlink(p);
    }
    rmdir(d);
}

static inline int state_dir_make(void) { return mkdtemp(dir) ? 0 : -1; }
static inline void state_dir_remove(void) { state_dir_remove_at(dir); }
#endif
