/* acme_problem: problem+json decoding and the log line made from it. Pure functions on the CA's
 * bytes; never touches keys, the network or ACME state. */
#include "login/acme/acme_problem.h"
#include "login/acme/acme_log.h"
#include "login/limits.h"
#include <stdio.h>
#include <string.h>

#define ACME_ERR_NS "urn:ietf:params:acme:error:"

static const struct { const char *name; acme_problem_kind kind; const char *meaning; } kinds[] = {
    {"badNonce", ACME_PROB_BAD_NONCE, "the CA refused our anti-replay nonce; retrying with a fresh one"},
    {"rateLimited", ACME_PROB_RATE_LIMITED, "a CA rate limit was hit; waiting as the CA asks"},
    {"alreadyReplaced", ACME_PROB_ALREADY_REPLACED, "the certificate was already replaced; ordering without replaces"},
    {"serverInternal", ACME_PROB_SERVER_INTERNAL, "the CA had an internal error"},
    {"malformed", ACME_PROB_MALFORMED, "the CA rejected our request as malformed (client bug or CA change)"},
    {"unauthorized", ACME_PROB_UNAUTHORIZED, "the account is not authorised for this (CAA, policy or a failed challenge)"},
    {"accountDoesNotExist", ACME_PROB_ACCOUNT_DOES_NOT_EXIST, "the CA does not know our account"},
    {"orderNotReady", ACME_PROB_ORDER_NOT_READY, "the order was finalised before its authorisations were valid"},
    {"badCSR", ACME_PROB_BAD_CSR, "the CA rejected our certificate signing request"},
    {"rejectedIdentifier", ACME_PROB_REJECTED_IDENTIFIER, "the CA will not issue for this domain name"},
    {"caa", ACME_PROB_CAA, "the domain's CAA records forbid this CA"},
    {"dns", ACME_PROB_DNS, "the CA could not resolve the domain (check its DNS records)"},
    {"connection", ACME_PROB_CONNECTION, "the CA could not connect to port 80 of the domain (firewall, DNS pointing elsewhere)"},
    {"incorrectResponse", ACME_PROB_INCORRECT_RESPONSE, "the CA reached port 80 but got the wrong key authorisation (another server answers)"},
    {"tls", ACME_PROB_TLS, "a TLS error on the CA's validation connection"},
    {"userActionRequired", ACME_PROB_USER_ACTION_REQUIRED, "the CA needs a person to act (e.g. new terms of service)"},
    {"invalidProfile", ACME_PROB_INVALID_PROFILE, "the CA does not offer the requested certificate profile"},
};

const char *acme_problem_meaning(acme_problem_kind k)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == k)
            return kinds[i].meaning;
    return k == ACME_PROB_NONE ? "the CA answered with an error and no problem document"
                               : "the CA reported an error";
}

static void put_sub(struct acme_problem *p, const json_t *sub)
{
    const char *t = json_string_value(json_object_get(sub, "type"));
    const char *d = json_string_value(json_object_get(sub, "detail"));
    json_t *id = json_object_get(sub, "identifier");
    const char *iv = json_string_value(json_object_get(id, "value"));
    char tmp[256], a[96], b[160], c[96];
    if (t && !strncmp(t, ACME_ERR_NS, strlen(ACME_ERR_NS)))
        t += strlen(ACME_ERR_NS);
    snprintf(tmp, sizeof tmp, "%s%s %s: %s", p->nsub ? "; " : "",
             acme_log_sanitize(iv ? iv : "?", iv ? strlen(iv) : 1, c, sizeof c),
             acme_log_sanitize(t ? t : "?", t ? strlen(t) : 1, a, sizeof a),
             acme_log_sanitize(d ? d : "", d ? strlen(d) : 0, b, sizeof b));
    size_t used = strlen(p->subproblems);
    snprintf(p->subproblems + used, sizeof p->subproblems - used, "%s", tmp);
    p->nsub++;
}

int acme_problem_from_json(const json_t *o, long http_status, struct acme_problem *p)
{
    memset(p, 0, sizeof *p);
    p->status = http_status;
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!json_is_object(o) || !type)
        return -1;
    const char *shortname = type;
    if (!strncmp(type, ACME_ERR_NS, strlen(ACME_ERR_NS)))
        shortname = type + strlen(ACME_ERR_NS);
    acme_log_sanitize(shortname, strlen(shortname), p->type, sizeof p->type);
    p->kind = ACME_PROB_OTHER;
    if (shortname != type)
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (!strcmp(shortname, kinds[i].name))
                p->kind = kinds[i].kind;
    const char *d = json_string_value(json_object_get(o, "detail"));
    if (d)
        acme_log_sanitize(d, strlen(d), p->detail, sizeof p->detail);
    json_t *st = json_object_get(o, "status");
    if (json_is_integer(st) && json_integer_value(st) >= 100 && json_integer_value(st) <= 599)
        p->status = (long)json_integer_value(st);
    json_t *subs = json_object_get(o, "subproblems");
    size_t i;
    json_t *s;
    if (json_is_array(subs))
        json_array_foreach(subs, i, s) {
            if (i >= ACME_PROBLEM_SUBPROBLEMS_MAX)
                break;
            if (json_is_object(s))
                put_sub(p, s);
        }
    return 0;
}

int acme_problem_parse(const uint8_t *body, size_t len, long http_status, struct acme_problem *p)
{
    memset(p, 0, sizeof *p);
    p->status = http_status;
    if (!body || !len || len > ACME_MAX_JSON_BYTES)
        return -1;
    json_error_t je;
    json_t *o = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return -1;
    int rc = acme_problem_from_json(o, http_status, p);
    json_decref(o);
    return rc;
}

void acme_problem_format(const struct acme_problem *p, char *out, size_t cap)
{
    snprintf(out, cap, "status=%ld type=%s meaning=\"%s\" detail=\"%s\"%s%s%s", p->status,
             p->kind == ACME_PROB_NONE ? "none" : p->type, acme_problem_meaning(p->kind), p->detail,
             p->nsub ? " subproblems=\"" : "", p->nsub ? p->subproblems : "", p->nsub ? "\"" : "");
}
