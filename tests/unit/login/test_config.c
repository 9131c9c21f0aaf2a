/* Unit tests for login/config: file syntax errors, env, and the metadata trust rule. */
#include "test.h"
#include "login/config.h"
#include "login/limits.h"
#include <stdlib.h>
#include <unistd.h>

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/sealed-config-test-%d", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(defaults_and_finish_for_each_env)
{
    struct config c;
    char err[256];
    CHECK(config_defaults(&c) == 0);
    CHECK(config_finish(&c, err, sizeof err) == 0);
    CHECK_STR(c.paypal_authorize_url, "https://www.sandbox.paypal.com/signin/authorize");
    CHECK_STR(c.paypal_api_base, "https://api-m.sandbox.paypal.com");
    CHECK_STR(c.domain, "localhost:8443");
    config_clear(&c);
    config_defaults(&c);
    c.paypal_env = PAYPAL_ENV_LIVE;
    CHECK(config_finish(&c, err, sizeof err) == 0);
    CHECK_STR(c.paypal_authorize_url, "https://www.paypal.com/signin/authorize");
    CHECK_STR(c.paypal_api_base, "https://api-m.paypal.com");
    config_clear(&c);
    config_defaults(&c);
    c.paypal_env = PAYPAL_ENV_LOCAL_FAKE;
    CHECK(config_finish(&c, err, sizeof err) == -1);   /* the fake's URLs must be given */
    config_clear(&c);
}

TEST(file_keys_values_and_errors)
{
    struct config c;
    char err[256];
    config_defaults(&c);
    CHECK(config_load_file(&c, write_tmp("# comment\n domain = example.org \nhttps_port=443\npaypal_env = live\n"), err, sizeof err) == 0);
    CHECK_STR(c.domain, "example.org");
    CHECK(c.https_port == 443 && c.paypal_env == PAYPAL_ENV_LIVE);
    CHECK(config_load_file(&c, write_tmp("nonsense = 1\n"), err, sizeof err) == -1);
    CHECK(strstr(err, ":1: unknown key 'nonsense'") != NULL);
    CHECK(config_load_file(&c, write_tmp("\nhttps_port = 70000\n"), err, sizeof err) == -1);
    CHECK(strstr(err, ":2: https_port") != NULL);
    CHECK(config_load_file(&c, write_tmp("paypal_env = prod\n"), err, sizeof err) == -1);
    CHECK(config_load_file(&c, write_tmp("just words\n"), err, sizeof err) == -1);
    CHECK(config_load_file(&c, "/nonexistent/x", err, sizeof err) == -1);
    config_clear(&c);
    config_defaults(&c);
    config_set_str(&c.domain, "bad domain/");
    CHECK(config_finish(&c, err, sizeof err) == -1);
    config_clear(&c);
}

TEST(environment_overrides_file)
{
    struct config c;
    char err[256];
    config_defaults(&c);
    setenv("SEALED_IDSET_CAPACITY", "42", 1);
    setenv("PAYPAL_CLIENT_ID", "cid", 1);
    CHECK(config_load_env(&c, err, sizeof err) == 0);
    CHECK(c.idset_capacity == 42);
    CHECK_STR(c.paypal_client_id, "cid");
    setenv("SEALED_IDSET_CAPACITY", "0", 1);
    CHECK(config_load_env(&c, err, sizeof err) == -1);
    CHECK(strstr(err, "SEALED_IDSET_CAPACITY") != NULL);
    unsetenv("SEALED_IDSET_CAPACITY");
    unsetenv("PAYPAL_CLIENT_ID");
    config_clear(&c);
}

TEST(metadata_sets_only_trust_rule_keys)
{
    struct config c;
    config_defaults(&c);
    CHECK(config_apply_metadata(&c, "paypal_client_id", "AbC") == 0);
    CHECK(config_apply_metadata(&c, "domain", "login.example.org") == 0);
    CHECK(config_apply_metadata(&c, "secret_ocid", "ocid1.vaultsecret.x") == 0);
    CHECK(config_apply_metadata(&c, "signing_key_secret_ocid", "ocid1.vaultsecret.y") == 0);
    CHECK(config_apply_metadata(&c, "notification_topic_id", "ocid1.onstopic.z") == 0);
    /* whom the VM trusts or talks to is measured, never metadata */
    const char *refused[] = {"paypal_api_base", "paypal_authorize_url", "paypal_env", "acme_directory",
                             "paypal_ca_file", "acme_ca_file", "paypal_secret", "signing_key",
                             "measurement", "source_commit", "idset_capacity", "https_port", "unknown"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        CHECK(config_apply_metadata(&c, refused[i], "https://evil.example") == -1);
    CHECK(c.paypal_api_base == NULL && c.acme_directory == NULL);
    config_clear(&c);
}

TEST(domain_is_split_once_where_it_is_set)
{
    struct config c;
    char err[256];
    config_defaults(&c);
    CHECK(config_apply_metadata(&c, "domain", "login.example.com:8443") == 0);
    CHECK_STR(c.domain_host, "login.example.com");
    CHECK(c.domain_port == 8443);
    CHECK(config_apply_metadata(&c, "domain", "login.example.com") == 0);
    CHECK_STR(c.domain_host, "login.example.com");
    CHECK(c.domain_port == 0);
    CHECK(config_apply_metadata(&c, "domain", "bad/host") == -1);
    CHECK(config_apply_metadata(&c, "domain", "host:99999") == -1);
    CHECK(config_apply_metadata(&c, "domain", "host:") == -1);
    config_set_str(&c.domain, "localhost:8443");
    CHECK(config_domain_split(&c, err, sizeof err) == 0 && !strcmp(c.domain_host, "localhost") && c.domain_port == 8443);
    config_clear(&c);
}

TEST(source_commit_must_be_a_commit_id)
{
    const char *good[] = {"0123456", "0123456789abcdef0123456789abcdef01234567",
                          "0123456789abcdef0123456789abcdef01234567+dirty"};
    const char *bad[] = {"012345", "0123456789ABCDEF", "main", "0123456789abcdef+clean", "0123456789abcdef 1",
                         "0123456789abcdef\"><script>"};
    char err[256];
    struct config c;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        config_defaults(&c);
        CHECK(config_set_str(&c.source_commit, good[i]) == 0);
        CHECK(config_finish(&c, err, sizeof err) == 0);
        config_clear(&c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        config_defaults(&c);
        CHECK(config_set_str(&c.source_commit, bad[i]) == 0);
        CHECK(config_finish(&c, err, sizeof err) == -1 && strstr(err, "source_commit"));
        config_clear(&c);
    }
}

TEST(kernel_cmdline_is_read_only_for_an_image_and_only_when_plain)
{
    struct config c;
    config_defaults(&c);
    c.kernel_cmdline_file = NULL;
    config_set_str(&c.kernel_cmdline_file, write_tmp("console=ttyS0 quiet sealed.ip=10.0.1.50/24\n"));
    CHECK(config_load_cmdline(&c) == 0 && c.kernel_cmdline == NULL);          /* no source_commit: not an image */
    config_set_str(&c.source_commit, "0123456789abcdef");
    CHECK(config_load_cmdline(&c) == 0);
    CHECK_STR(c.kernel_cmdline, "console=ttyS0 quiet sealed.ip=10.0.1.50/24");
    const char *bad[] = {"a='b'\n", "a\\b", "x\x01y", "\n", "a\"b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        config_set_str(&c.kernel_cmdline_file, write_tmp(bad[i]));
        CHECK(config_load_cmdline(&c) == 0 && c.kernel_cmdline == NULL);
    }
    char big[LIMIT_KERNEL_CMDLINE_BYTES + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    config_set_str(&c.kernel_cmdline_file, write_tmp(big));
    CHECK(config_load_cmdline(&c) == 0 && c.kernel_cmdline == NULL);
    config_set_str(&c.kernel_cmdline_file, "/nonexistent/cmdline");
    CHECK(config_load_cmdline(&c) == 0 && c.kernel_cmdline == NULL);
    config_clear(&c);
}

int main(void)
{
    RUN(defaults_and_finish_for_each_env);
    RUN(file_keys_values_and_errors);
    RUN(environment_overrides_file);
    RUN(metadata_sets_only_trust_rule_keys);
    RUN(domain_is_split_once_where_it_is_set);
    RUN(source_commit_must_be_a_commit_id);
    RUN(kernel_cmdline_is_read_only_for_an_image_and_only_when_plain);
    return test_done();
}
