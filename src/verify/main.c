/* sealed-verify: the offline verifier. Dispatches to the commands (cmd_*.c); every check they run
 * is printed as one line and decides the exit status. Only `fetch` (cmd_fetch.c) touches the
 * network. */
#include "verify/cli.h"
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        cli_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("sealed-verify %s\n", sealed_source_commit);
        return 0;
    }
    struct verify_opts o;
    if (cli_parse(argc - 2, argv + 2, &o)) {
        cli_usage(stderr);
        return 2;
    }
    if (o.help) {
        cli_usage(stdout);
        return 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "fetch"))
        return cmd_fetch(&o);
    if (cli_load_crl(&o))
        return 2;
    if (!strcmp(cmd, "result"))
        return cmd_result(&o);
    if (!strcmp(cmd, "snp-report"))
        return cmd_snp_report(&o);
    if (!strcmp(cmd, "tpm-quote"))
        return cmd_tpm_quote(&o);
    if (!strcmp(cmd, "eventlog"))
        return cmd_eventlog(&o);
    if (!strcmp(cmd, "tdx-quote"))
        return cmd_tdx_quote(&o);
    if (!strcmp(cmd, "sd-jwt"))
        return cmd_sd_jwt(&o);
    if (!strcmp(cmd, "tpm-ak-cert"))
        return cmd_tpm_ak_cert(&o);
    fprintf(stderr, "sealed-verify: unknown command %s\n", cmd);
    cli_usage(stderr);
    return 2;
}
