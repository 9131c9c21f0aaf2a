/* Runs a libFuzzer target over files named on the command line, without libFuzzer: the committed
 * corpus and the shared testdata become a regression test under ASan/UBSan (tests/measure/
 * test_fuzz_corpus.sh). Prints one TAP line per file. */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            printf("not ok %d - %s (cannot open)\n", i, argv[i]);
            continue;
        }
        size_t cap = 1 << 16, n = 0, r;
        unsigned char *b = malloc(cap);
        while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
            n += r;
            if (n == cap) {
                unsigned char *nb = realloc(b, cap *= 2);
                if (!nb) { free(b); b = NULL; }
                else b = nb;
            }
        }
        fclose(f);
        if (!b) return 2;
        /* an exact-size copy, so that ASan catches a read one past the end */
        unsigned char *exact = malloc(n ? n : 1);
        for (size_t k = 0; k < n; k++) exact[k] = b[k];
        free(b);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
        printf("ok %d - %s\n", i, argv[i]);
    }
    return 0;
}
