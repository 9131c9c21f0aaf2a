/* pages: the HTML the site serves (home, result, "already used", errors, status; the privacy
 * policy and user agreement are in pages_legal.c). Pure
 * rendering into a struct html: no I/O, no state; every untrusted string is escaped. No script
 * on any page (the CSP forbids it); the evidence download is a data: link so it needs no second
 * request to the server. */
#ifndef SEALED_PAGES_H
#define SEALED_PAGES_H
#include <jansson.h>
#include "login/html.h"

struct page_info {
    int dev_mode;                 /* local stand-in identity provider, not PayPal */
    const char *paypal_env;       /* "live", "sandbox", "local" */
    const char *domain;
    const char *measurement;      /* NULL: unmeasured development build */
    const char *source_commit;    /* NULL: not built from a recorded commit (development) */
    const char *kernel_cmdline;   /* the measured command line the image booted with, or NULL */
    const char *evidence_kind;    /* "none", "sev-snp+tpm2", ... */
    const char *trust;            /* trust statement (common/trust.h), e.g. "gce-vtpm-google-rooted" */
    int hardware_attested;        /* every item of trust is vendor-rooted hardware evidence */
    int ephemeral_key;
    const char *kid;
    const char *client_id;        /* may be NULL before metadata arrives */
    const char *guarantee;        /* the scope of "once per account" (service_state_guarantee), or NULL */
    const char *retrieval_code;   /* result page: the code to fetch the result again, or NULL */
    const char *paypal_scope;     /* the scopes the login asks PayPal for (measured config), or NULL */
    const char *state_scope;      /* where kept data lives: "boot", "directory", "process" (service_state_scope) */
    const char *credential;       /* result page: the result as an SD-JWT VC (pages_credential.c), or NULL */
    const char *credential_offer; /* result page: the openid-credential-offer:// URI, or NULL */
};

/* The Content-Security-Policy every page is served with. */
extern const char PAGES_CSP[];

/* Every page's frame: pages_open writes the head (title, style), the development banner and opens
 * <main>; pages_close closes it and writes the footer (the once-per-account scope and links to the
 * start page, privacy policy, user agreement and status). */
void pages_open(struct html *h, const struct page_info *pi, const char *title);
void pages_close(struct html *h, const struct page_info *pi);

void pages_home(struct html *h, const struct page_info *pi, int login_available, const char *unavailable_why);
/* jws: the compact result; evidence: the array in it; userinfo: PayPal's object. */
void pages_result(struct html *h, const struct page_info *pi, const json_t *userinfo, const char *jws,
                  const json_t *evidence, const char *report_data_hex);
/* /result: the results this browser can fetch again (codes and their JWS links). */
void pages_results_list(struct html *h, const struct page_info *pi, const char *const *codes, size_t n);
/* A page with a title and a sentence (errors, 409, 503). */
void pages_message(struct html *h, const struct page_info *pi, int status, const char *title, const char *text);
/* /status in HTML: the same object /status?format=json returns. */
void pages_status(struct html *h, const struct page_info *pi, const json_t *status);
/* /privacy and /terms: the privacy policy and user agreement a Live "Log in with PayPal" app must
 * link to (PayPal shows both on its consent page). Their text is compiled in, so it is measured. */
void pages_privacy(struct html *h, const struct page_info *pi);
void pages_terms(struct html *h, const struct page_info *pi);
#endif
