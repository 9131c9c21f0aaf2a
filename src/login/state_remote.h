/* state_remote: the sealed state's home outside the VM, one object in OCI Object Storage or
 * Google Cloud Storage, read and written with the instance's own identity (cloud_authed_call:
 * instance principals / the service account's token). Every write carries a precondition on the
 * version read or written last (OCI if-match ETag / if-none-match *, GCS
 * x-goog-if-generation-match), so of two VMs writing the same object only one can succeed: the
 * other gets SREM_PRECONDITION. Bodies are checked both ways (Content-MD5; GCS also CRC32C in
 * x-goog-hash). One call at a time. Never logs bodies or tokens. */
#ifndef SEALED_STATE_REMOTE_H
#define SEALED_STATE_REMOTE_H
#include <stddef.h>
#include <stdint.h>

struct cloud;
struct state_remote;

typedef enum {
    SREM_OK = 0,
    SREM_NOT_FOUND,      /* GET: no such object (a new state lineage may begin) */
    SREM_PRECONDITION,   /* PUT: the object changed since our version (another writer): 412 */
    SREM_NO_IDENTITY,    /* no instance identity at hand yet (or not on a cloud) */
    SREM_ERR_HTTP,       /* transport failure or an unexpected status */
    SREM_ERR_INTEGRITY,  /* the body does not match its MD5/CRC32C, or a version header is missing */
    SREM_ERR_BUSY,       /* another call is in flight */
} srem_err;

const char *state_remote_strerror(srem_err e);

/* spec "gcs:BUCKET/OBJECT" or "oci:NAMESPACE/BUCKET/OBJECT"; base overrides the service's host
 * (tests: a fake, http:// allowed), NULL = the real one. NULL on a malformed spec or OOM. */
struct state_remote *state_remote_new(struct cloud *cloud, const char *spec, const char *base);
void state_remote_free(struct state_remote *r);   /* cancels a call in flight; NULL is fine */
/* "gcs BUCKET/OBJECT" / "oci NAMESPACE/BUCKET/OBJECT" (for logs and /status). */
const char *state_remote_name(const struct state_remote *r);

/* version: the GCS generation or the OCI ETag; borrowed for the callback only. */
typedef void (*state_remote_get_fn)(void *arg, srem_err e, const uint8_t *body, size_t len, const char *version);
typedef void (*state_remote_put_fn)(void *arg, srem_err e, const char *version);
/* Starts a GET; done runs once, later (not when this returns non-OK). */
srem_err state_remote_get(struct state_remote *r, state_remote_get_fn done, void *arg);
/* Starts a PUT that succeeds only if the object is still at if_version (NULL: only if there is
 * no object yet). */
srem_err state_remote_put(struct state_remote *r, const uint8_t *body, size_t len, const char *if_version,
                          state_remote_put_fn done, void *arg);
#endif
