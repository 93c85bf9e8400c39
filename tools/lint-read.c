/*
 * Reading a stream whole, with the library's size cap: standard input and
 * named pipes (ksafe-lint.c), and files again for SARIF's UTF-16 columns
 * (lint-output.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lint.h"

char *lint_read_stream(FILE *in, size_t *lenp)
{
        char *data = NULL;
        size_t len = 0, cap = 0, n;
        do {
                if (len + 65536 > cap) {
                        char *bigger = realloc(data, cap = 2 * cap + 65536);
                        if (!bigger) {
                                free(data);
                                errno = ENOMEM;
                                return NULL;
                        }
                        data = bigger;
                }
                n = fread(data + len, 1, cap - len, in);
                len += n;
        } while (n > 0 && len <= KSAFE_CONFIG_MAX_SIZE);
        if (ferror(in) || len > KSAFE_CONFIG_MAX_SIZE) {
                errno = ferror(in) ? (errno ? errno : EIO) : EFBIG;
                free(data);
                return NULL;
        }
        *lenp = len;
        return data;
}
