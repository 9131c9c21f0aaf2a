/* service_state: everything that must outlive the service process — the used-id set and its HMAC
 * key, the login-cookie key, the spent login states, the results of the last 24 hours, and the
 * ACME and TLS blobs — loaded from and saved to state_store (SEALED_STATE_DIR; in the image a
 * tmpfs PID 1 mounted, so it survives a service restart but not a reboot). State that fails its
 * checks is never replaced by an empty one: the service refuses logins (service_state_broken)
 * and leaves the file alone. Without a directory everything lives in this process only. */
#ifndef SEALED_SERVICE_STATE_H
#define SEALED_SERVICE_STATE_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "login/idset.h"
#include "login/login_spent.h"
#include "login/result_store.h"

struct service_state;
struct login_state_keys;

typedef enum {
    SS_OK = 0,
    SS_SEEN,          /* spend_login: this login state was already used */
    SS_PRESENT,       /* commit: the id is already used */
    SS_FULL,          /* a cap (ids, results, spent states) is reached: refused, nothing changed */
    SS_SAVE_FAILED,   /* the state could not be saved: refused, nothing changed */
    SS_BROKEN,        /* the state failed its checks at load: logins are refused */
    SS_UNKNOWN,       /* vc_*: no live offer or token with this hash */
} ss_err;

enum ss_blob { SS_BLOB_ACME = 0, SS_BLOB_TLS = 1, SS_BLOB_COUNT };

/* Opens the state in dir (NULL: this process only). Returns NULL only when out of memory; a state
 * that cannot be loaded gives an object whose service_state_broken() says why. */
struct service_state *service_state_open(const char *dir, uint64_t idset_capacity);
/* Rewrites the state compactly when it has grown (or always when force), then frees. NULL is fine. */
void service_state_close(struct service_state *ss);

/* Why logins must be refused (a sentence for the page), or NULL when the state is usable. */
const char *service_state_broken(const struct service_state *ss);
struct idset *service_state_ids(struct service_state *ss);                       /* borrowed */
const struct login_state_keys *service_state_cookie_keys(const struct service_state *ss); /* borrowed */
struct result_store *service_state_results(struct service_state *ss);            /* borrowed */

/* When this state began (unix seconds), and how far "once per account" reaches:
 * "boot" (PID 1's memory: survives service restarts, not a reboot), "directory" (a directory
 * outside the image), or "process" (no state directory: this process only). */
uint64_t service_state_epoch(const struct service_state *ss);
const char *service_state_scope(const struct service_state *ss);
/* A sentence for pages: "once per PayPal account since 2026-12-07T13:00:00Z, within this boot". */
void service_state_guarantee(const struct service_state *ss, char *out, size_t cap);

/* Marks a login state spent, saved before returning SS_OK; SS_SEEN if it was already. */
ss_err service_state_spend_login(struct service_state *ss, const struct login_spent_entry *e);

/* Commits a result: saves (the id, the result under its retrieval code (result_code_new), the
 * retrieval secret's hash) and only then marks the id used and keeps the result. Any error changes
 * nothing: the id stays unused. */
ss_err service_state_commit(struct service_state *ss, const struct idset_key *key, const uint8_t secret_hash[32],
                            const char *jws, size_t jws_len, const char code[RESULT_CODE_LEN + 1]);

/* OID4VCI redemption (vc_offers.h), each saved before it returns SS_OK and before anything is
 * handed out. vc_offer: a new offer for a committed result (SS_PRESENT: the account already has a
 * live one; SS_FULL). vc_redeem: the offered code hashing to code_hash becomes redeemed for
 * token_hash until token_expires (SS_UNKNOWN: no live offer; SS_SEEN: already redeemed); *out gets
 * a copy. vc_token: the redeemed, not yet issued entry of token_hash (SS_UNKNOWN, or SS_SEEN when its
 * credential was issued); vc_issued: marks it issued (the credential may go out only after SS_OK). */
struct vc_offer;
ss_err service_state_vc_offer(struct service_state *ss, const struct vc_offer *e);
ss_err service_state_vc_redeem(struct service_state *ss, const uint8_t code_hash[16], const uint8_t token_hash[16],
                               uint64_t token_expires, struct vc_offer *out);
ss_err service_state_vc_token(struct service_state *ss, const uint8_t token_hash[16], struct vc_offer *out);
ss_err service_state_vc_issued(struct service_state *ss, const uint8_t token_hash[16]);

/* Opaque blobs owned by other modules (ACME account and ledger, TLS key and chain): the last one
 * put wins. put returns 0 or -1 (not saved). get returns NULL when none; borrowed until the next put. */
int service_state_put_blob(struct service_state *ss, enum ss_blob which, const void *p, size_t len);
const uint8_t *service_state_get_blob(const struct service_state *ss, enum ss_blob which, size_t *len);

/* Rewrites the state file compactly now (graceful stop). 0 or -1. */
int service_state_save(struct service_state *ss);

/* The /status section (new reference). */
json_t *service_state_status(struct service_state *ss);

/* ---- for state_sync (sealed state outside the VM) ------------------------------------------ */
/* Refuses logins from now on with why (a sentence); the first reason stays. */
void service_state_set_broken(struct service_state *ss, const char *why);
/* Overrides the scope ("sealed-vtpm", "sealed-snp"; a static string). */
void service_state_set_scope(struct service_state *ss, const char *scope);
/* fn(arg) runs after each append that is not a commit (spent login states, ACME/TLS blobs). */
void service_state_on_change(struct service_state *ss, void (*fn)(void *arg), void *arg);
/* The checks of service_state_commit without saving: SS_OK when the commit would be accepted. */
ss_err service_state_check_commit(struct service_state *ss, const struct idset_key *key, size_t jws_len);
/* A result waiting for the save that delivers it (borrowed strings). */
struct ss_pending {
    struct idset_key key;
    uint8_t secret_hash[32];
    const char *jws;
    size_t jws_len;
    char code[RESULT_CODE_LEN + 1];
    uint64_t created;
};
/* The state file's bytes as if the n pending results were committed (*out malloc'd; the caller
 * wipes and frees it). -1 without a state directory, when broken, or on failure. */
int service_state_snapshot(struct service_state *ss, const struct ss_pending *p, size_t n, uint8_t **out, size_t *len);
#endif
