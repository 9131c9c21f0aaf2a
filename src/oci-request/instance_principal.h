/* instance_principal: OCI instance-principal credentials for sealed-oci-request: metadata v2
 * identity, X.509 federation, a fresh RSA-2048 session key. Blocking (a command, not the service). */
#ifndef SEALED_OCIREQ_INSTANCE_PRINCIPAL_H
#define SEALED_OCIREQ_INSTANCE_PRINCIPAL_H
#include <openssl/evp.h>

/* Federates as the instance this runs on. metadata_base NULL = http://169.254.169.254; api_base
 * NULL = https://auth.{region}.oraclecloud.com (else a test base); ca_file NULL = system roots.
 * On success *session (caller frees) signs requests under *key_id = "ST$<token>" (malloc'd, the
 * caller wipes and frees). Returns 0, or -1 with one line on stderr. */
int ocireq_instance_principal(const char *metadata_base, const char *api_base, const char *ca_file, int verbose,
                              EVP_PKEY **session, char **key_id);
#endif
