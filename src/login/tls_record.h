/* tls_record: what the first bytes of a connection on a TLS port say about its first record (RFC
 * 8446 §5.1: type, legacy version, 16-bit length), read without consuming them: http_server.c
 * peeks at the socket and gives the connection to OpenSSL only once that record (the ClientHello,
 * or its first fragment) is complete. Pure function on (ptr, len): no I/O, no allocation; never
 * looks inside the handshake message (OpenSSL's job). */
#ifndef SEALED_TLS_RECORD_H
#define SEALED_TLS_RECORD_H
#include <stddef.h>
#include <stdint.h>

#define TLS_RECORD_HEADER_BYTES 5
#define TLS_RECORD_MAX_PLAINTEXT 16384   /* 2^14: a plaintext record is never longer (RFC 8446 §5.1) */
#define TLS_RECORD_MAX_BYTES (TLS_RECORD_HEADER_BYTES + TLS_RECORD_MAX_PLAINTEXT)

typedef enum {
    TLS_RECORD_COMPLETE,   /* a handshake record, all of it in: *need = its header + length */
    TLS_RECORD_SHORT,      /* a handshake record so far: *need = the bytes it takes in total (5 until the header is in) */
    TLS_RECORD_OTHER,      /* not the start of a plaintext TLS handshake record: OpenSSL answers it itself */
} tls_record_state;

/* Classifies the first len bytes of a connection (len may be 0). *need is set for COMPLETE and
 * SHORT (at most TLS_RECORD_MAX_BYTES; more than len when SHORT) and left alone for OTHER. */
tls_record_state tls_record_first(const uint8_t *p, size_t len, size_t *need);
#endif
