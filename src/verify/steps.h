/* steps: the verifier's record of what it checked. Every check adds one step (pass, fail, warn
 * for a failure a named flag allowed, info for a fact or something not checked); the record
 * prints as readable lines (✓ ✗ ! ·) or as JSON, and decides the exit code. Holds no keys and
 * parses nothing. */
#ifndef SEALED_VERIFY_STEPS_H
#define SEALED_VERIFY_STEPS_H
#include <stdio.h>
#include <jansson.h>

typedef enum { STEP_PASS, STEP_FAIL, STEP_WARN, STEP_INFO } step_status;

struct step {
    step_status status;
    char id[48];          /* stable machine name, e.g. "snp.signature" */
    char *text;           /* owned */
};

struct steps {
    struct step *v;       /* owned array */
    size_t n, cap;
    int failed;           /* count of STEP_FAIL */
    int truncated;        /* more than VERIFY_MAX_STEPS were added */
    json_t *fields;       /* owned object: parsed values for --json ("payload", "snp", ...) */
};

/* Initialises an empty record; returns 0 or -1 on allocation failure. */
int steps_init(struct steps *s);
void steps_free(struct steps *s);

/* Adds a step; text is printf-formatted. Allocation failure counts as a failed step. */
void steps_add(struct steps *s, step_status st, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* STEP_PASS if cond, else STEP_FAIL; or STEP_WARN (with the flag named) when allowed_by is set.
 * Returns 1 if the check passed, 0 otherwise. */
int steps_check(struct steps *s, int cond, const char *allowed_by, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Copies in to out (cap bytes, NUL-terminated) with terminal controls escaped as \xNN: C0/C1
 * controls, DEL and Unicode bidi overrides, so that attacker-chosen strings in evidence (user ids,
 * reasons, names) can never forge or hide a printed line. Every step's text goes through it. */
size_t steps_sanitize(const char *in, char *out, size_t cap);

/* Human output: a title line, then one line per step. */
void steps_print(const struct steps *s, FILE *out, const char *title);
/* JSON output: {"ok":bool,"command":..,"steps":[{"id","status","text"}],"fields":{...}}. */
void steps_print_json(const struct steps *s, FILE *out, const char *command);
#endif
