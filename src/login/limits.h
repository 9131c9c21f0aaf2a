/* limits: every cap and timeout of the service in one place (STYLE.md "Every buffer has a named
 * cap"). Tighter caps apply before a visitor is authenticated; the service never authenticates
 * visitors, so these are the tight ones. Compiled in: part of the measured image. */
#ifndef SEALED_LIMITS_H
#define SEALED_LIMITS_H

/* inbound HTTP (http_server.c, http_parse.c) */
#define LIMIT_REQUEST_LINE_BYTES     2048   /* method SP target SP version; longer gets 414 */
#define LIMIT_HEADER_BYTES           8192   /* request line + all header lines; more gets 431 */
#define LIMIT_HEADER_COUNT           48     /* header fields; more gets 431 */
#define LIMIT_BODY_BYTES             4096   /* the site takes no uploads; more gets 413 */
#define LIMIT_REQUESTS_PER_CONN      1000   /* keep-alive requests before the server closes */
#define LIMIT_CONNECTIONS_TOTAL      4096   /* concurrent connections; beyond: accept+close */
#define LIMIT_CONNECTIONS_PER_IP     64     /* concurrent connections per client address */
#define LIMIT_HANDSHAKE_TIMEOUT_MS   10000  /* TLS handshake */
#define LIMIT_HEADER_TIMEOUT_MS      10000  /* first byte to end of headers; then 408 */
#define LIMIT_BODY_TIMEOUT_MS        10000  /* end of headers to end of body; then 408 */
#define LIMIT_IDLE_TIMEOUT_MS        30000  /* keep-alive idle between requests */
#define LIMIT_WRITE_TIMEOUT_MS       30000  /* a client not reading its response */
#define LIMIT_RESPONSE_WAIT_MS       45000  /* a request waiting on PayPal + evidence */
#define LIMIT_QUERY_PARAMS           32     /* query parameters considered in a request target */
#define LIMIT_COOKIE_BYTES           1024   /* our login cookie */

/* outbound HTTP (http_client.c, paypal.c) */
#define HTTP_CLIENT_DEFAULT_TIMEOUT_MS   15000
#define HTTP_CLIENT_DEFAULT_MAX_RESPONSE (256 * 1024)
#define HTTP_CLIENT_MAX_HEADER_BYTES     (64 * 1024)
#define HTTP_CLIENT_MAX_CALLS            1024   /* calls in flight */
#define PAYPAL_TIMEOUT_MS                10000  /* per PayPal call */
#define PAYPAL_MAX_RESPONSE              (64 * 1024)
#define JSON_MAX_DEPTH                   16     /* nesting we accept in PayPal answers */

/* login flow */
#define LOGIN_STATE_TTL_S            600    /* state/PKCE cookie lifetime (10 minutes) */
#define LOGIN_MAX_PENDING            1024   /* callbacks waiting on PayPal or evidence */
#define IDSET_DEFAULT_CAPACITY       10000000ull

/* evidence */
#define ATTEST_QUEUE_MAX             64     /* evidence requests waiting for the worker */
#define ATTEST_TIMEOUT_MS            20000  /* one evidence request, queue time included */
#endif
