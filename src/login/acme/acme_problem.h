/* acme_problem: decodes RFC 8555 §6.7 / RFC 7807 "application/problem+json" error bodies from the
 * CA into a fixed struct and one clear log line (what went wrong, what it means for us, the CA's
 * own detail). Parses untrusted (ptr, len) input only; holds no keys, sends nothing. */
#ifndef SEALED_ACME_PROBLEM_H
#define SEALED_ACME_PROBLEM_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* The error types this client acts on differently; everything else is ACME_PROB_OTHER. */
typedef enum {
    ACME_PROB_NONE = 0,          /* body was not a problem document */
    ACME_PROB_BAD_NONCE,         /* retry with the fresh nonce */
    ACME_PROB_RATE_LIMITED,      /* wait for Retry-After */
    ACME_PROB_ALREADY_REPLACED,  /* RFC 9773: drop "replaces" and order again */
    ACME_PROB_SERVER_INTERNAL,
    ACME_PROB_MALFORMED,
    ACME_PROB_UNAUTHORIZED,
    ACME_PROB_ACCOUNT_DOES_NOT_EXIST,
    ACME_PROB_ORDER_NOT_READY,
    ACME_PROB_BAD_CSR,
    ACME_PROB_REJECTED_IDENTIFIER,
    ACME_PROB_CAA,
    ACME_PROB_DNS,
    ACME_PROB_CONNECTION,
    ACME_PROB_INCORRECT_RESPONSE,
    ACME_PROB_TLS,
    ACME_PROB_USER_ACTION_REQUIRED,
    ACME_PROB_INVALID_PROFILE,
    ACME_PROB_OTHER,
} acme_problem_kind;

#define ACME_PROBLEM_TYPE_MAX    96
#define ACME_PROBLEM_DETAIL_MAX  384
#define ACME_PROBLEM_SUB_MAX     384

struct acme_problem {
    acme_problem_kind kind;
    long status;                              /* "status" member, else the HTTP status */
    char type[ACME_PROBLEM_TYPE_MAX];         /* short type ("badNonce") or the full URI */
    char detail[ACME_PROBLEM_DETAIL_MAX];     /* sanitised, truncated */
    char subproblems[ACME_PROBLEM_SUB_MAX];   /* "dns:name type: detail; ..." sanitised */
    unsigned nsub;
};

/* Decodes a problem document of len bytes (JSON object; depth and size capped). Returns 0 and fills
 * out when body is a problem object with a string "type"; -1 otherwise (out->kind = NONE,
 * out->status = http_status). Never reads past len. */
int acme_problem_parse(const uint8_t *body, size_t len, long http_status, struct acme_problem *out);
/* Same from an already-parsed object (e.g. a challenge's "error" member). */
int acme_problem_from_json(const json_t *obj, long http_status, struct acme_problem *out);
/* What the error means for the service, in a few words ("the CA could not connect to port 80"). */
const char *acme_problem_meaning(acme_problem_kind k);
/* Writes 'status=N type=T meaning="..." detail="..." [subproblems="..."]' into out. */
void acme_problem_format(const struct acme_problem *p, char *out, size_t cap);
#endif
