/* limits: every cap and timeout of the service in one place (STYLE.md "Every buffer has a named
 * cap"). Tighter caps apply before a visitor is authenticated; the service never authenticates
 * visitors, so these are the tight ones. Compiled in: part of the measured image. */
#ifndef SEALED_LIMITS_H
#define SEALED_LIMITS_H

/* inbound HTTP (http_server.c, http_parse.c) */
#define LIMIT_REQUEST_LINE_BYTES     2048   /* method SP target SP version; longer gets 414 */
#define LIMIT_KERNEL_CMDLINE_BYTES   1024   /* /proc/cmdline shown on the pages (rebuild command) */
#define LIMIT_HEADER_BYTES           8192   /* request line + all header lines; more gets 431 */
#define LIMIT_HEADER_COUNT           48     /* header fields; more gets 431 */
#define LIMIT_BODY_BYTES             4096   /* OID4VCI token/credential requests only; more gets 413 */
#define LIMIT_REQUESTS_PER_CONN      1000   /* keep-alive requests before the server closes */
#define LIMIT_CONNECTIONS_TOTAL      4096   /* concurrent connections; when full a waiting one gives way (http_server.c), else accept+close */
#define LIMIT_CONNECTIONS_PER_IP     64     /* concurrent connections per client address */
#define LIMIT_READ_CHUNK_BYTES       2000   /* one read from a client: input grows in 2 KiB steps (libevent chains), not 16 KiB at once */
#define LIMIT_IPV6_PREFIX_BITS       64     /* per-address limits count an IPv6 /64 as one address */
#define LIMIT_HANDSHAKE_TIMEOUT_MS   10000  /* TLS handshake */
#define LIMIT_HEADER_TIMEOUT_MS      10000  /* first byte to end of headers; then 408 */
#define LIMIT_BODY_TIMEOUT_MS        10000  /* end of headers to end of body; then 408 */
#define LIMIT_IDLE_TIMEOUT_MS        30000  /* keep-alive idle between requests */
#define LIMIT_WRITE_TIMEOUT_MS       30000  /* a client not reading its response */
#define LIMIT_RESPONSE_WAIT_MS       45000  /* a request waiting on PayPal + evidence */
#define LIMIT_QUERY_PARAMS           32     /* query parameters considered in a request target */
#define LIMIT_LINGER_MS              2000   /* after a closing response: drain the client this long */
#define LIMIT_LINGER_BYTES           (256 * 1024) /* ... or this many bytes, then close */
#define LIMIT_FD_RESERVE             128    /* descriptors kept for outbound calls, files, listeners */
#define LIMIT_COOKIE_BYTES           1024   /* our login cookie */
#define LIMIT_PAGE_BYTES             (4 * 1024 * 1024) /* one rendered HTML page (a result page escapes the JWS) */

/* TLS session resumption (tls_tickets.c): stateless tickets, no server-side session cache. A
 * ticket opens for at least TLS_SESSION_LIFETIME_S and never after TLS_TICKET_KEYS rotations. */
#define TLS_TICKET_ROTATE_S          3600   /* a fresh ticket key every hour */
#define TLS_TICKET_KEYS              2      /* current + previous: older tickets get a full handshake */
#define TLS_SESSION_LIFETIME_S       3600   /* ticket lifetime hint and server-side expiry */
#define TLS_TICKETS_PER_HANDSHAKE    1      /* TLS 1.3 NewSessionTickets per connection (OpenSSL: 2) */
/* PROXY protocol v2 from the load balancer (proxy_v2.c; only on listeners configured for it) */
#define LIMIT_PROXY_V2_BYTES         536    /* whole header: 16 fixed + addresses + TLVs; more is refused */
#define LIMIT_PROXY_V2_TIMEOUT_MS    5000   /* accept to end of the header */
#define LIMIT_PROXY_V2_PENDING       512    /* connections still sending their header */

/* outbound HTTP (http_client.c, paypal.c) */
#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS   15000
#define HTTP_CLIENT_DEFAULT_MAX_RESPONSE (256 * 1024)
#define HTTP_CLIENT_MAX_HEADER_BYTES     (64 * 1024)
#define HTTP_CLIENT_MAX_CALLS            1024   /* calls in flight */
#define PAYPAL_TIMEOUT_MS                10000  /* per PayPal call */
#define PAYPAL_MAX_RESPONSE              (64 * 1024)
#define JSON_MAX_DEPTH                   16     /* nesting we accept in PayPal answers */
#define PAYPAL_JWKS_MIN_REFRESH_S        10     /* PayPal's JWKS fetched at most this often (unknown kid) */
#define PAYPAL_JWKS_MAX_AGE_S            3600   /* a cached JWKS older than this is fetched again */
/* the JWKS size and key-count caps and the id_token skew are common/id_token.h's (the verifier shares them) */

/* login flow */
#define LOGIN_STATE_TTL_S            600    /* state/PKCE cookie lifetime (10 minutes) */
#define LOGIN_MAX_PENDING            1024   /* callbacks waiting on PayPal or evidence */
#define IDSET_DEFAULT_CAPACITY       10000000ull

/* state outside the service process (state_store.c, service_state.c, result_store.c) */
#define STATE_FILE_MAX_BYTES         (1ull << 34)  /* a state file larger than this is refused (16 GiB) */
#define STATE_RECORD_MAX_BYTES       (8u * 1024 * 1024) /* one record (a result JWS is capped below) */
#define STATE_IDS_PER_RECORD         4096   /* used ids per record when the state is rewritten */
#define STATE_REMOTE_TIMEOUT_MS      20000  /* one object store GET or PUT of the sealed state */
#define STATE_REMOTE_MAX_BYTES       (256u << 20)  /* largest sealed state read back (a 10 M-id state is 160 MB) */
#define STATE_SYNC_BATCH_MS          1000   /* results wait at most this long for the save that delivers them */
#define STATE_SYNC_RETRY_MS          5000   /* a failed background save (no result waiting) is retried after this */
#define STATE_LOCK_WAIT_MS           30000  /* at start, for a predecessor still draining (STOP_DRAIN_MS) */
#define STATE_COMPACT_MIN_BYTES      (16u * 1024 * 1024) /* rewrite when the file exceeds twice its live size + this */
#define RESULT_KEEP_S                (24 * 3600) /* a signed result can be fetched again this long */
#define RESULT_STORE_MAX_BYTES       (128u * 1024 * 1024) /* results kept in memory and state; full: 503, nothing spent */
#define RESULT_STORE_MAX_COUNT       65536
#define RESULT_CODE_LEN              10     /* retrieval code shown on the page (base32, 50 bits) */
#define RESULT_COOKIE_NAME           "__Host-sealed_result"
#define LOGIN_USED_STATES_MAX        65536
/* OID4VCI (issuer.c, vc_offers.c): the credential offer on a result page */
#define VC_OFFER_TTL_S               600    /* a pre-authorized code redeems once, within 10 minutes */
#define VC_TOKEN_TTL_S               300    /* the access token it gives gets one credential, within 5 minutes */
#define VC_NONCE_TTL_S               300    /* a c_nonce from /nonce */
#define VC_OFFERS_MAX                4096   /* live offers; full: the page shows no offer, nothing spent */  /* login states already spent, remembered until they expire */
/* /callback rate limits (each one may cost a token request to PayPal) */
#define CALLBACK_RATE_PER_ADDR_PER_MIN   30    /* per client IPv4 address or IPv6 /64; also the burst */
#define CALLBACK_RATE_GLOBAL_PER_S       20    /* all clients together; burst 5x */
#define CALLBACK_RATE_TABLE              4096  /* address buckets remembered (direct-mapped, keyed hash) */
/* graceful stop (SIGTERM): the service drains for this long; PID 1 waits a little longer */
#define STOP_DRAIN_MS                    20000
/* then the last changes go to the sealed state's object store for at most this long: the two
 * together stay under PID 1's STOP_GRACE_MS (25 s, src/init/main.c) before SIGKILL */
#define STOP_SAVE_MS                     4000

/* evidence */
#define ATTEST_QUEUE_MAX             64     /* evidence requests waiting for the worker */
#define ATTEST_TIMEOUT_MS            20000  /* one evidence request, queue time included */
#define ATTEST_SHUTDOWN_WAIT_S       3      /* at exit, for a provider still in the hardware */
/* ACME client (src/login/acme/). Let's Encrypt's documented limits, and ours kept below them. */
#define ACME_TIMEOUT_MS                  15000  /* one call to the CA */
#define ACME_MAX_JSON_BYTES              (64 * 1024)   /* directory, account, order, authz, problem */
#define ACME_MAX_CHAIN_BYTES             (64 * 1024)   /* PEM certificate chain */
#define ACME_MAX_CHAIN_CERTS             8      /* leaf + intermediates we accept */
#define ACME_JSON_MAX_DEPTH              8      /* nesting accepted in the CA's JSON */
#define ACME_PROBLEM_SUBPROBLEMS_MAX     8      /* subproblems put into one log line */
#define ACME_URL_MAX                     2048   /* any URL the CA gives us */
#define ACME_TOKEN_MAX                   128    /* HTTP-01 token bytes (base64url) */
#define ACME_MAX_AUTHZ                   8      /* authorizations in one order (we ask for one name) */
#define ACME_BADNONCE_RETRIES            1      /* RFC 8555 §6.5: retry once with the fresh nonce */
#define ACME_TRANSIENT_RETRIES           3      /* network / 5xx retries of one request before the attempt fails */
#define ACME_TRANSIENT_RETRY_MS          2000   /* first such retry; doubles */
#define ACME_POLL_MS                     100    /* first authz/order poll when the CA gives no Retry-After; doubles */
#define ACME_POLL_MAX_DELAY_MS           8000   /* ... up to this */
#define ACME_POLL_MAX                    60     /* polls of one authz/order before the attempt fails */
#define ACME_BACKOFF_INITIAL_MS          60000  /* after a failed attempt; doubles, +-20% jitter */
#define ACME_BACKOFF_MAX_MS              (6 * 3600 * 1000)
#define ACME_RETRY_AFTER_MAX_S           (8 * 24 * 3600)  /* a longer Retry-After is clamped */
#define ACME_ARI_POLL_DEFAULT_MS         (6 * 3600 * 1000) /* RFC 9773 §4.3: no Retry-After given */
#define ACME_ARI_POLL_MIN_MS             60000  /* RFC 9773 §4.3.2: under a minute counts as a minute */
#define ACME_RENEW_FRACTION_NUM          2      /* no ARI: renew at 2/3 of the lifetime */
#define ACME_RENEW_FRACTION_DEN          3
/* Let's Encrypt: 5 failed validations per identifier per account per hour; we allow 4. */
#define ACME_FAILED_VALIDATIONS_MAX      4
#define ACME_FAILED_VALIDATIONS_WINDOW_S 3600
/* Let's Encrypt: 5 certificates per exact set of names per 7 days (ARI renewals with `replaces`
 * are exempt); we allow 5 non-exempt orders per window. */
#define ACME_CERTS_PER_NAMESET_MAX       5
#define ACME_CERTS_PER_NAMESET_WINDOW_S  (7 * 24 * 3600)
/* Let's Encrypt: 10 accounts per IP per 3 hours; we create at most 1 per process and 3 per window. */
#define ACME_ACCOUNTS_MAX                3
#define ACME_ACCOUNTS_WINDOW_S           (3 * 3600)

/* cloud (cloud/): metadata, identity, secrets, notifications */
/* the caps on cloud answers (CLOUD_METADATA_MAX, CLOUD_TOKEN_MAX, CLOUD_SECRET_MAX, notification
 * title and body, CLOUD_API_TIMEOUT_MS and
 * CLOUD_SESSION_KEY_BITS are common/cloud_wire.h's: the wire parsers there enforce them */
#include "common/cloud_wire.h"
#define CLOUD_METADATA_TIMEOUT_MS    3000   /* link-local metadata server, per call */
#define CLOUD_PROBE_TIMEOUT_MS       1500   /* platform detection probe, per call */
#define CLOUD_PROBE_ROUNDS           3      /* probe rounds before "auto" settles on none */
#define CLOUD_NOTIFY_ANSWER_MAX      (8 * 1024)
#define CLOUD_EGRESS_POLL_S          300    /* egress guard: default interval between readings */
#define CLOUD_EGRESS_STOP_DELAY_S    60     /* egress guard: notification first, then stop ourselves */
#define CLOUD_BACKOFF_MIN_MS         1000   /* first retry */
#define CLOUD_BACKOFF_MAX_MS         60000  /* retries settle at one a minute */
#define CLOUD_TOKEN_REFRESH_EARLY_S  300    /* renew the OCI token 5 minutes before exp */
#define CLOUD_TOKEN_MIN_LIFETIME_S   60     /* a token living less is refused as malformed */
#define CLOUD_NOTIFY_QUEUE_MAX       16     /* notifications waiting for a token */
#define CLOUD_SECRET_FAIL_NOTIFY     3      /* failed secret fetches before "secret fetch failing" */
#define CLOUD_DAILY_INTERVAL_S       86400
#define CLOUD_MAX_CLOCK_OFFSET_S     (7 * 86400) /* a larger server-clock correction is refused */
#endif
