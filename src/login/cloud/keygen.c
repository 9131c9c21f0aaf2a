/* keygen: one helper thread per RSA key generation; the result comes back to the loop through a
 * pipe. The thread touches only its own key slot; everything else stays on the loop. */
#include "login/cloud/keygen.h"
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct cloud_keygen {
    struct event_base *base;     /* borrowed */
    struct event *wake;          /* owned */
    int pipefd[2];
    int bits;
    pthread_t thread;
    int busy;
    EVP_PKEY *result;            /* written by the thread before it signals */
    void (*done)(void *arg, EVP_PKEY *key);
    void *arg;
};

static void *worker(void *arg)
{
    struct cloud_keygen *k = arg;
    k->result = EVP_RSA_gen((unsigned)k->bits);
    ssize_t w = write(k->pipefd[1], "k", 1);
    (void)w;
    return NULL;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct cloud_keygen *k = arg;
    char b;
    if (read(fd, &b, 1) != 1 || !k->busy)
        return;
    pthread_join(k->thread, NULL);
    k->busy = 0;
    EVP_PKEY *key = k->result;
    k->result = NULL;
    k->done(k->arg, key);
}

struct cloud_keygen *cloud_keygen_new(struct event_base *base, int bits, void (*done)(void *arg, EVP_PKEY *key),
                                      void *arg)
{
    struct cloud_keygen *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->base = base;
    k->bits = bits;
    k->done = done;
    k->arg = arg;
    k->pipefd[0] = k->pipefd[1] = -1;
    if (pipe2(k->pipefd, O_NONBLOCK | O_CLOEXEC) ||
        !(k->wake = event_new(base, k->pipefd[0], EV_READ | EV_PERSIST, on_wake, k)) || event_add(k->wake, NULL)) {
        cloud_keygen_free(k);
        return NULL;
    }
    return k;
}

int cloud_keygen_start(struct cloud_keygen *k)
{
    if (k->busy)
        return -1;
    k->result = NULL;
    if (pthread_create(&k->thread, NULL, worker, k))
        return -1;
    k->busy = 1;
    return 0;
}

int cloud_keygen_busy(const struct cloud_keygen *k) { return k->busy; }

void cloud_keygen_free(struct cloud_keygen *k)
{
    if (!k)
        return;
    if (k->busy) {
        pthread_join(k->thread, NULL);
        EVP_PKEY_free(k->result);
    }
    if (k->wake)
        event_free(k->wake);
    if (k->pipefd[0] >= 0)
        close(k->pipefd[0]);
    if (k->pipefd[1] >= 0)
        close(k->pipefd[1]);
    free(k);
}
