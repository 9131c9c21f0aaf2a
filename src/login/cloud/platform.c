/* platform: reads the DMI strings that name the cloud, and parses the platform setting. Opens
 * only files under the DMI directory it is given; never touches the network. */
#include "login/cloud/platform.h"
#include <stdio.h>
#include <string.h>

/* Reads the first line of dmi_dir/name into buf (trailing whitespace cut); 0, or -1 if unreadable. */
static int dmi_read(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[512];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r' || buf[n - 1] == '\t'))
        buf[--n] = 0;
    return 0;
}

cloud_platform cloud_platform_from_dmi(const char *dmi_dir, int *known)
{
    char v[128];
    *known = 0;
    if (!dmi_read(dmi_dir, "chassis_asset_tag", v, sizeof v)) {
        *known = 1;
        if (!strcmp(v, "OracleCloud.com"))
            return CLOUD_PLATFORM_OCI;
    }
    if (!dmi_read(dmi_dir, "sys_vendor", v, sizeof v)) {
        *known = 1;
        if (!strcmp(v, "Google"))
            return CLOUD_PLATFORM_GCP;
    }
    if (!dmi_read(dmi_dir, "product_name", v, sizeof v)) {
        *known = 1;
        if (!strcmp(v, "Google Compute Engine"))
            return CLOUD_PLATFORM_GCP;
    }
    return CLOUD_PLATFORM_NONE;
}

int cloud_platform_parse(const char *s, cloud_platform *p, int *is_auto)
{
    *is_auto = 0;
    *p = CLOUD_PLATFORM_NONE;
    if (!s || !strcmp(s, "none"))
        return 0;
    if (!strcmp(s, "auto")) {
        *is_auto = 1;
        return 0;
    }
    if (!strcmp(s, "oci")) {
        *p = CLOUD_PLATFORM_OCI;
        return 0;
    }
    if (!strcmp(s, "gcp")) {
        *p = CLOUD_PLATFORM_GCP;
        return 0;
    }
    return -1;
}
