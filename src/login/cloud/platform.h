/* platform: the cheap, local half of cloud detection: the firmware's DMI strings
 * (/sys/class/dmi/id). OCI sets chassis_asset_tag "OracleCloud.com"; GCP sets sys_vendor and
 * product_name "Google" / "Google Compute Engine". cloud.c probes the metadata servers when DMI
 * says nothing. Reads files only; no network. */
#ifndef SEALED_CLOUD_PLATFORM_H
#define SEALED_CLOUD_PLATFORM_H
#include "login/cloud/cloud.h"

#define CLOUD_DMI_DIR "/sys/class/dmi/id"

/* The platform the DMI strings under dmi_dir name; *known is 1 when any DMI string could be read
 * (then NONE means "neither cloud"), 0 when there is no DMI at all (then NONE means "unknown"). */
cloud_platform cloud_platform_from_dmi(const char *dmi_dir, int *known);
/* Parses a config value: "oci", "gcp", "none" set *p; "auto" sets *is_auto. -1 for anything else. */
int cloud_platform_parse(const char *s, cloud_platform *p, int *is_auto);
#endif
