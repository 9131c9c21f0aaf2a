/* vc_offers: the OID4VCI redemption state: each credential offer's pre-authorized code (held as a
 * hash), the account and result it was made for, and how far it got (offered -> redeemed for one
 * access token -> credential issued). In memory, loaded from and written to the service state's
 * journal (records VC_REC_*, service_state.c appends them before anything is handed out), so a
 * restart forgets nothing: a code redeems once, a token gets one credential, an account one offer.
 * Holds hashes only, never a code, token or PayPal id. */
#ifndef SEALED_VC_OFFERS_H
#define SEALED_VC_OFFERS_H
#include <stddef.h>
#include <stdint.h>
#include "login/idset.h"
#include "login/limits.h"

struct state_writer;

/* Journal record types (service_state.c's list; format v1, little-endian):
 *   7 VC_OFFER   code_hash[16] | id key lo u64 | hi u64 | result code[10] | expires u64
 *   8 VC_REDEEM  code_hash[16] | token_hash[16] | token expires u64
 *   9 VC_ISSUED  code_hash[16] */
enum { VC_REC_OFFER = 7, VC_REC_REDEEM = 8, VC_REC_ISSUED = 9 };
#define VC_HASH_LEN 16
#define VC_OFFER_REC_LEN  (VC_HASH_LEN + 16 + RESULT_CODE_LEN + 8)
#define VC_REDEEM_REC_LEN (2 * VC_HASH_LEN + 8)

enum vc_phase { VC_OFFERED = 1, VC_REDEEMED = 2, VC_ISSUED = 3 };

struct vc_offer {
    uint8_t code_hash[VC_HASH_LEN];    /* SHA-256 of the pre-authorized code, truncated */
    uint8_t token_hash[VC_HASH_LEN];   /* SHA-256 of the access token, once redeemed */
    struct idset_key key;              /* the account (the used-id set's keyed hash) */
    char result_code[RESULT_CODE_LEN + 1];
    uint64_t expires;                  /* the code's, then (redeemed) the token's */
    enum vc_phase phase;
};

struct vc_offers;
struct vc_offers *vc_offers_new(void);
void vc_offers_free(struct vc_offers *o);   /* NULL is fine */

/* The truncated SHA-256 the table keys codes and tokens by. */
void vc_hash(const char *s, size_t len, uint8_t out[VC_HASH_LEN]);

/* Loading: one record of type VC_REC_*; 0, or -1 when it is malformed (the load fails closed).
 * Expired entries are dropped; a REDEEM/ISSUED for a dropped offer is ignored. */
int vc_offers_load(struct vc_offers *o, uint32_t type, const uint8_t *p, size_t len, uint64_t now);
/* Compaction: every live entry as its records. 0 or -1. */
int vc_offers_emit(struct vc_offers *o, struct state_writer *w, uint64_t now);

/* Record encoders for service_state.c's appends. */
void vc_offer_record(const struct vc_offer *e, uint8_t rec[VC_OFFER_REC_LEN]);
void vc_redeem_record(const struct vc_offer *e, uint8_t rec[VC_REDEEM_REC_LEN]);

/* 1 if one more offer fits (VC_OFFERS_MAX live, after dropping expired ones) and key has no live offer. */
int vc_offers_can_add(struct vc_offers *o, const struct idset_key *key, uint64_t now);
/* Adds (after the record was saved); 0 or -1 (full). */
int vc_offers_add(struct vc_offers *o, const struct vc_offer *e);
/* The live entry whose code (phase VC_OFFERED) or token (VC_REDEEMED) hashes to h; borrowed until
 * the next add or load; NULL when none or expired. by_token chooses which hash. */
struct vc_offer *vc_offers_find(struct vc_offers *o, const uint8_t h[VC_HASH_LEN], int by_token, uint64_t now);
size_t vc_offers_count(const struct vc_offers *o);
#endif
