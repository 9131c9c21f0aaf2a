/* evidence: assembles a result of Evidence format v1 (docs/evidence.md): the REPORT_DATA for
 * this login, and the signed payload once the attestation providers have answered. Holds no
 * keys (signer.c signs) and no state between calls. */
#ifndef SEALED_EVIDENCE_H
#define SEALED_EVIDENCE_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "common/binding.h"
#include "common/trust.h"
#include <time.h>

struct evidence_input {
    const char *iss;              /* "https://DOMAIN" */
    const char *paypal_env;       /* "live", "sandbox" or "local" */
    const char *client_id;
    const char *user_id;          /* borrowed from userinfo */
    size_t user_id_len;
    json_t *userinfo;             /* borrowed: the object PayPal returned */
    const char *id_token;         /* borrowed: PayPal's RS256 id_token for this login, or NULL
                                     (HS256 tokens never go into a result) */
    const char *kid;
    char tls_spki_sha256[65];     /* of the key serving this connection */
    uint64_t iat;
    char nonce_hex[2 * BINDING_NONCE_LEN + 1];   /* set by the caller (login_nonces), or empty */
    const char *measurement;      /* this build's measurement, or NULL */
    const char *instance;         /* random id of this service process (its used-id set), or NULL */
    const char *trust;            /* the trust statement of the evidence (common/trust.h), or NULL */
    const char *source_commit;    /* the commit the image was built from (measured), or NULL */
    const char *kernel_cmdline;   /* the booted kernel command line (measured), or NULL */
    uint64_t state_epoch;         /* when the used-id set began (unix seconds); with state_scope */
    const char *state_scope;      /* "boot", "directory" or "process" (service_state.h), or NULL */
};

/* Fills iat (now) and, when nonce_hex is empty, a fresh random nonce; returns 0 or -1. */
int evidence_prepare(struct evidence_input *in);
/* REPORT_DATA of in; 0 or -1. */
int evidence_report_data(const struct evidence_input *in, uint8_t rd[BINDING_REPORT_DATA_LEN]);
/* The trust statement one evidence item of type type deserves on platform ("oci", "gcp", "none"):
 * ak_rooted says a tpm2 item's AK certificate chains to a pinned vendor root. */
trust_item evidence_trust_item(const char *type, int ak_rooted, const char *platform);
/* The joined trust statement of an evidence array (tpm2 AK certificates checked at now) into out;
 * 0, or -1 when the array is malformed or the text does not fit. */
int evidence_trust(const json_t *evidence, const char *platform, time_t now, char *out, size_t cap);

/* The payload JSON text (malloc'd) with the evidence array (borrowed); NULL on failure. */
char *evidence_payload(const struct evidence_input *in, const uint8_t rd[BINDING_REPORT_DATA_LEN],
                       json_t *evidence);
#endif
