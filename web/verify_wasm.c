/* verify_wasm: the one entry point of the browser verifier (build/sealed-verify.html). The page
 * writes the dropped files into the module's in-memory file system and calls sv_web_result with
 * the same arguments a person would give `sealed-verify result ... --json`; the checks are the C
 * verifier's own (cli_parse, cmd_result), so both give the same steps and verdict. Owns no state of
 * its own; never touches the network (there is none in the module) nor any file the page did not
 * write. */
#include "verify/cli.h"
#include <stdio.h>
#include <string.h>

/* argv are the words after `sealed-verify result` (the file first); --json is added here. Prints
 * the JSON record on stdout (the page collects it), usage errors on stderr. Returns the CLI's exit
 * code: 0 every check passed, 1 a check failed, 2 unusable arguments or input. */
int sv_web_result(int argc, char **argv)
{
    struct verify_opts o;
    int rc;
    if (cli_parse(argc, argv, &o)) {
        fflush(stderr);
        return 2;
    }
    o.json = 1;
    o.no_kds_cache = 1;   /* no AMD KDS cache in the page: a VCEK comes with the evidence or --vcek */
    if (cli_load_crl(&o)) {   /* --crl, as main.c loads it for the CLI */
        fflush(stderr);
        return 2;
    }
    rc = cmd_result(&o);
    fflush(stdout);
    fflush(stderr);
    return rc;
}
