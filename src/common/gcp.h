/* gcp: Google Cloud wire formats, pure functions on (ptr, len): metadata server attributes and the
 * service-account token (computeMetadata/v1), Secret Manager's versions.access answer with its
 * CRC32C check. login/cloud/cloud.c drives them over http_client. Nothing here logs. */
#ifndef SEALED_COMMON_GCP_H
#define SEALED_COMMON_GCP_H
#include "common/cloud_wire.h"
#include <stddef.h>
#include <stdint.h>

#define GCP_METADATA_BASE        "http://169.254.169.254"   /* metadata.google.internal, no DNS needed */
#define GCP_METADATA_FLAVOR      "Metadata-Flavor: Google"
#define GCP_SECRETMANAGER_BASE   "https://secretmanager.googleapis.com"

/* CRC32C (Castagnoli), as Secret Manager's dataCrc32c. */
uint32_t gcp_crc32c(const uint8_t *p, size_t n);

/* Parses instance/attributes/?recursive=true (a JSON object of strings) and calls apply for each
 * trust-rule key present (common/cloud_wire's cloud_trusted_metadata_keys); counts others into
 * *ignored. Returns the number applied, or -1 (malformed, or apply failed). */
int gcp_attributes_each_trusted(const char *json, size_t len, int (*apply)(void *arg, const char *k, const char *v),
                                void *arg, unsigned *ignored);

/* Parses {"access_token","expires_in","token_type":"Bearer"}: *token malloc'd (caller wipes). */
cloud_err gcp_token_parse(const char *json, size_t len, char **token, int64_t *expires_in);

/* https://secretmanager.googleapis.com/v1/{name}:access, where name is
 * "projects/P/secrets/S[/versions/V]" or a bare secret id S (then in project, version "latest").
 * api_base (tests) replaces the host. malloc'd; NULL when name or project is not well formed. */
char *gcp_secret_url(const char *api_base, const char *project, const char *name);

/* Decodes payload.data of a versions.access answer; when payload.dataCrc32c is present it must
 * match (CLOUD_ERR_INTEGRITY otherwise) and *crc_checked is set. Caller wipes and frees *out. */
cloud_err gcp_secret_parse(const char *json, size_t len, uint8_t **out, size_t *outlen, int *crc_checked);

/* An error answer {"error":{"code","message","status"}}: status and message cut into buffers. */
void gcp_error_parse(const char *json, size_t len, char *status, size_t status_cap, char *msg, size_t msg_cap);
#endif
