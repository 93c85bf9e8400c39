/*
 * Runs saved inputs through a fuzz target's LLVMFuzzerTestOneInput()
 * without libFuzzer, so that the regression inputs replay in every build
 * (gcc, valgrind, sanitizers). A crash or a broken invariant aborts.
 *
 * Usage: fuzz_TARGET_replay FILE|DIR...   (prints TAP, one test per input;
 * a directory is read in sorted order, dot-files skipped; a directory that
 * does not exist holds no input)
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

static int count;

static int replay(const char *path)
{
        FILE *f = fopen(path, "rb");
        if (!f) {
                printf("not ok %d - %s: %s\n", ++count, path, strerror(errno));
                return 1;
        }
        uint8_t *data = NULL;
        size_t len = 0, cap = 0, n;
        do {
                if (len == cap) {
                        uint8_t *bigger = realloc(data, cap = cap * 2 + 4096);
                        if (!bigger) {
                                free(data);
                                fclose(f);
                                printf("not ok %d - %s: out of memory\n", ++count, path);
                                return 1;
                        }
                        data = bigger;
                }
                n = fread(data + len, 1, cap - len, f);
                len += n;
        } while (n > 0);
        fclose(f);
        fflush(stdout);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        printf("ok %d - %s\n", ++count, path);
        return 0;
}

static int skip_dots(const struct dirent *e)
{
        return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
        int failed = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) != 0 && errno == ENOENT)
                        continue;
                if (!S_ISDIR(st.st_mode)) {
                        failed |= replay(argv[i]);
                        continue;
                }
                struct dirent **list;
                int n = scandir(argv[i], &list, skip_dots, alphasort);
                for (int k = 0; k < n; k++) {
                        char path[4096];
                        if (snprintf(path, sizeof(path), "%s/%s", argv[i], list[k]->d_name) <
                            (int)sizeof(path))
                                failed |= replay(path);
                        free(list[k]);
                }
                if (n >= 0)
                        free(list);
        }
        if (count == 0)
                printf("1..0 # SKIP no inputs\n");
        else
                printf("1..%d\n", count);
        return failed;
}
