/* Where a policy error is (a source and a JSON path), and reporting it. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

/* A member name as it appears in a path: control characters escaped, so
 * that a key cannot break an error message into lines. */
static void append_key(ksafe_buf_t *buf, const char *key)
{
        for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
                if (*p == '\n')
                        ksafe_buf__append(buf, "\\n", 2);
                else if (*p < 0x20 || *p == 0x7f)
                        ksafe_buf__printf(buf, "\\x%02x", *p);
                else
                        ksafe_buf__append(buf, (const char *)p, 1);
        }
}

static void where_format(const where_t *w, ksafe_buf_t *buf)
{
        if (w->flat) {
                ksafe_buf__append(buf, w->flat, strlen(w->flat));
                return;
        }
        if (!w->up)
                return;
        where_format(w->up, buf);
        if (!w->key) {
                ksafe_buf__printf(buf, "[%zu]", w->index);
                return;
        }
        if (buf->len)
                ksafe_buf__append(buf, ".", 1);
        append_key(buf, w->key);
}

/* The path of `w` (free() it), or NULL when out of memory. */
char *ksafe_where__path(const where_t *w)
{
        ksafe_buf_t buf = {0};
        where_format(w, &buf);
        return ksafe_buf__take(&buf);
}

static bool vfail(loader_t *L, ksafe_error_code_t code, const where_t *w, const char *fmt,
                  va_list ap) KSAFE_PRINTF(4, 0);

/* Fill in the loader's error: `code` is what kind of error it is. */
static bool vfail(loader_t *L, ksafe_error_code_t code, const where_t *w, const char *fmt,
                  va_list ap)
{
        ksafe_buf_t tbuf = {0};
        ksafe_buf__vprintf(&tbuf, fmt, ap);
        char *text = ksafe_buf__take(&tbuf);
        char *raw = ksafe_where__path(w);
        /* The path in the text is the one in err->path: escaped as
         * ksafe_error__set() escapes it, then cut the same way. */
        char *path = raw ? ksafe_report_escape(raw) : NULL;
        free(raw);
        char shown[sizeof(((ksafe_error_t *)NULL)->path)];
        ksafe_error__fit_tail(shown, sizeof(shown), path ? path : "");
        if (!text)
                code = KSAFE_ERROR_OUT_OF_MEMORY;
        if (shown[0])
                ksafe_error__set(L->err, code, w->source, shown, 0, 0, "%s: %s", shown,
                                 text ? text : "out of memory");
        else
                ksafe_error__set(L->err, code, w->source, "", 0, 0, "%s",
                                 text ? text : "out of memory");
        free(path);
        free(text);
        return false;
}

bool ksafe_policy__fail_as(loader_t *L, ksafe_error_code_t code, const where_t *w, const char *fmt,
                           ...)
{
        va_list ap;
        va_start(ap, fmt);
        vfail(L, code, w, fmt, ap);
        va_end(ap);
        return false;
}

/* A policy that is not valid (KSAFE_ERROR_POLICY), or out of memory: every
 * "out of memory" of the loader is this very format string. */
bool ksafe_policy__fail(loader_t *L, const where_t *w, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vfail(L, strcmp(fmt, "out of memory") == 0 ? KSAFE_ERROR_OUT_OF_MEMORY : KSAFE_ERROR_POLICY,
              w, fmt, ap);
        va_end(ap);
        return false;
}
