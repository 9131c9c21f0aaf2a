/* tls_record: the record header of RFC 8446 §5.1, as a client's first bytes carry it. */
#include "login/tls_record.h"

#define CONTENT_HANDSHAKE 22

tls_record_state tls_record_first(const uint8_t *p, size_t len, size_t *need)
{
    /* decide as soon as a byte is wrong: a client speaking something else gets OpenSSL's answer at once */
    if (len >= 1 && p[0] != CONTENT_HANDSHAKE)
        return TLS_RECORD_OTHER;
    if (len >= 2 && p[1] != 3)   /* legacy_record_version 3.x */
        return TLS_RECORD_OTHER;
    if (len < TLS_RECORD_HEADER_BYTES) {
        *need = TLS_RECORD_HEADER_BYTES;
        return TLS_RECORD_SHORT;
    }
    size_t body = (size_t)p[3] << 8 | p[4];
    if (body == 0 || body > TLS_RECORD_MAX_PLAINTEXT)   /* OpenSSL refuses both with an alert */
        return TLS_RECORD_OTHER;
    *need = TLS_RECORD_HEADER_BYTES + body;
    return len >= *need ? TLS_RECORD_COMPLETE : TLS_RECORD_SHORT;
}
