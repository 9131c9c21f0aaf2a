/* Unit tests for login/cloud/platform.c: platform detection from DMI files and the platform
 * setting's values. */
#include "test.h"
#include "login/cloud/platform.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *dir, const char *name, const char *v)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(v, f);
    fclose(f);
}

TEST(dmi)
{
    char dir[] = "/tmp/dmi-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int known;
    CHECK(cloud_platform_from_dmi(dir, &known) == CLOUD_PLATFORM_NONE && known == 0);
    put(dir, "sys_vendor", "QEMU\n");
    CHECK(cloud_platform_from_dmi(dir, &known) == CLOUD_PLATFORM_NONE && known == 1);
    put(dir, "chassis_asset_tag", "OracleCloud.com\n");
    CHECK(cloud_platform_from_dmi(dir, &known) == CLOUD_PLATFORM_OCI);
    put(dir, "chassis_asset_tag", "\n");
    put(dir, "product_name", "Google Compute Engine\n");
    CHECK(cloud_platform_from_dmi(dir, &known) == CLOUD_PLATFORM_GCP);
    char p[600];
    const char *names[] = {"sys_vendor", "chassis_asset_tag", "product_name"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
    cloud_platform pl;
    int is_auto;
    CHECK(cloud_platform_parse("auto", &pl, &is_auto) == 0 && is_auto);
    CHECK(cloud_platform_parse("gcp", &pl, &is_auto) == 0 && pl == CLOUD_PLATFORM_GCP && !is_auto);
    CHECK(cloud_platform_parse("aws", &pl, &is_auto) == -1);
}

int main(void)
{
    RUN(dmi);
    return test_done();
}
