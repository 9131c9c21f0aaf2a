/* libFuzzer target: SD-JWT parsing and processing (common/sd_jwt, RFC 9901 §7.1). Properties: a
 * parsed SD-JWT has at most SD_JWT_MAX_DISCLOSURES disclosures, each digest is base64url(SHA-256)
 * of one '~'-separated part of the input, no two are equal, the processed claims are an object with
 * no "_sd"/"_sd_alg" at the top; a failed parse leaves the struct zeroed. */
#include "fuzz.h"
#include "common/sd_jwt.h"

/* 1 when digest is the SD-JWT digest of one of the '~'-separated parts of s */
static int digest_of_a_part(const char *s, size_t size, const char *digest)
{
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && s[i] != '~')
            continue;
        char d[SD_JWT_DIGEST_LEN + 1];
        sd_jwt_digest(s + start, i - start, d);
        if (!strcmp(d, digest))
            return 1;
        start = i + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct sd_jwt sd, zero;
    memset(&zero, 0, sizeof zero);
    if (sd_jwt_parse(s, size, &sd) == SD_JWT_OK) {
        if (sd.ndisc > SD_JWT_MAX_DISCLOSURES || !json_is_object(sd.claims) || json_object_get(sd.claims, "_sd") ||
            json_object_get(sd.claims, "_sd_alg"))
            abort();
        for (size_t i = 0; i < sd.ndisc; i++) {
            FUZZ_REQUIRE(strlen(sd.disc[i].digest) == SD_JWT_DIGEST_LEN);
            FUZZ_REQUIRE(digest_of_a_part(s, size, sd.disc[i].digest));
            for (size_t j = 0; j < i; j++)
                if (!strcmp(sd.disc[i].digest, sd.disc[j].digest))
                    abort();
        }
        sd_jwt_verify_kb(&sd, "a", "n", 0);
        sd_jwt_check_time(&sd, 0);
        sd_jwt_clear(&sd);
    } else if (memcmp(&sd, &zero, sizeof sd)) {
        abort();
    }
    return 0;
}
