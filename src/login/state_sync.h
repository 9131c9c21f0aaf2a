/* state_sync: keeps the service state (state_store/service_state) sealed (state_seal) in an
 * object outside the VM (state_remote), so it survives a reboot, and decides when a result is
 * delivered: only once a save that records its id has reached the object store (saves are
 * batched: results arriving while one is in flight go in the next). At boot it restores the
 * state before the service opens it; a state it cannot open, a rollback, or an object another
 * VM wrote makes the service refuse logins and say why. Off (the state stays per boot, as
 * before) when no object is configured or nothing on the machine can seal. Owns the seal, the
 * remote client, the queue and its timer; borrows the event base, the cloud and the state. */
#ifndef SEALED_STATE_SYNC_H
#define SEALED_STATE_SYNC_H
#include <stddef.h>
#include <jansson.h>
#include "login/service_state.h"

struct event_base;
struct cloud;
struct config;
struct state_sync;

/* NULL only on OOM. Logs once why it is off, when it is. */
struct state_sync *state_sync_new(struct event_base *base, struct cloud *cloud, const struct config *cfg);
void state_sync_free(struct state_sync *s);   /* NULL is fine; waiting results fail */
int state_sync_active(const struct state_sync *s);

/* Before service_state_open: waits (running the loop) for the cloud's identity, reads the object
 * and, when there is one, opens it and installs its state in cfg->state_dir. Returns NULL, or a
 * sentence saying why logins must be refused (then the state directory was not touched). */
const char *state_sync_restore(struct state_sync *s);
/* After service_state_open: sets the state's scope, watches its changes, and claims the object
 * (a first save with the version just read, so an older VM still writing it loses). */
void state_sync_attach(struct state_sync *s, struct service_state *ss);

/* Queues a result (copied) for the next save; done(arg, r) runs once, on the loop: SS_OK once the
 * state recording it is saved outside the VM and committed here, else the error (nothing used). */
ss_err state_sync_commit(struct state_sync *s, const struct ss_pending *p, void (*done)(void *arg, ss_err r), void *arg);

/* Graceful stop, once no login is in flight: starts a save of whatever changed since the last
 * one, now rather than after the batch delay. Call again while it says SYNC_SAVING (up to the
 * caller's deadline); SYNC_SETTLED: everything is outside; SYNC_UNSAVED: a save failed since the
 * stop began and changes are left only here (it is not retried); SYNC_REFUSED: the state is refused
 * or another VM owns the object, so nothing may be saved. NULL or off: SYNC_SETTLED. */
enum sync_settle { SYNC_SETTLED = 0, SYNC_SAVING, SYNC_UNSAVED, SYNC_REFUSED };
enum sync_settle state_sync_settle(struct state_sync *s);

json_t *state_sync_status(struct state_sync *s);   /* new reference */
#endif
