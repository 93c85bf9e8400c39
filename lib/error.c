/* ksafe_error_t: filling it in, cut to its fields visibly and safely. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

/* The length of the longest prefix of s[0..n) that does not end inside a
 * UTF-8 sequence. */
static size_t utf8_head(const char *s, size_t n)
{
        size_t i = n;
        /* Step back over continuation bytes to the start of the last sequence. */
        while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && n - i < 3)
                i--;
        if (i == 0)
                return n;
        unsigned char lead = (unsigned char)s[i - 1];
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return n - (i - 1) >= want ? n : i - 1;
}

void ksafe_error__fit_head(char *dst, size_t size, const char *src)
{
        size_t len = strlen(src);
        if (size == 0)
                return;
        if (len < size) {
                memcpy(dst, src, len + 1);
                return;
        }
        size_t keep = size > 4 ? utf8_head(src, size - 4) : 0;
        memcpy(dst, src, keep);
        snprintf(dst + keep, size - keep, "%s", "...");
}

void ksafe_error__fit_tail(char *dst, size_t size, const char *src)
{
        size_t len = strlen(src);
        if (size == 0)
                return;
        if (len < size) {
                memcpy(dst, src, len + 1);
                return;
        }
        if (size <= 4) {
                snprintf(dst, size, "%s", "...");
                return;
        }
        /* "..." and the last size - 4 bytes, starting on a character. */
        const char *tail = src + len - (size - 4);
        while (*tail && ((unsigned char)*tail & 0xC0) == 0x80)
                tail++;
        snprintf(dst, size, "...%s", tail);
}

void ksafe_error__clear(ksafe_error_t *err)
{
        if (err)
                memset(err, 0, sizeof(*err));
}

void ksafe_error__set(ksafe_error_t *err, ksafe_error_code_t code, const char *source,
                      const char *path, int line, int column, const char *fmt, ...)
{
        if (!err)
                return;
        err->code = code;
        /* Escaped (ksafe_report_escape()): a file name, a JSON key or a
         * value quoted in an error cannot forge a line of whatever prints
         * it (ksafe-lint, the errstr of ksafe_producer_new()). */
        char *src = ksafe_report_escape(source ? source : "");
        char *where = ksafe_report_escape(path ? path : "");
        /* The end of a file name or JSON path says most: keep it. */
        ksafe_error__fit_tail(err->source, sizeof(err->source), src ? src : "?");
        ksafe_error__fit_tail(err->path, sizeof(err->path), where ? where : "?");
        free(src);
        free(where);
        err->line = line;
        err->column = column;
        ksafe_buf_t text = {0};
        va_list ap;
        va_start(ap, fmt);
        ksafe_buf__vprintf(&text, fmt, ap);
        va_end(ap);
        char *s = ksafe_buf__take(&text);
        char *shown = ksafe_report_escape(s);
        ksafe_error__fit_head(err->text, sizeof(err->text), shown ? shown : "out of memory");
        free(shown);
        free(s);
}

const char *ksafe_error__json_text(struct json_error_t *jerr)
{
        /* jansson ends with "near '<token>'", and the token may be a secret. */
        char *near = strstr(jerr->text, " near ");
        if (near)
                *near = '\0';
        return jerr->text;
}

ksafe_error_code_t ksafe_error_code(const ksafe_error_t *err)
{
        return err ? err->code : KSAFE_ERROR_NONE;
}

const char *ksafe_error_code_name(ksafe_error_code_t code)
{
        switch (code) {
        case KSAFE_ERROR_NONE: return "none";
        case KSAFE_ERROR_OUT_OF_MEMORY: return "out of memory";
        case KSAFE_ERROR_INVALID_ARGUMENT: return "invalid argument";
        case KSAFE_ERROR_IO: return "io";
        case KSAFE_ERROR_PARSE: return "parse";
        case KSAFE_ERROR_POLICY: return "policy";
        case KSAFE_ERROR_UNKNOWN_ENV: return "unknown environment";
        case KSAFE_ERROR_UNSAFE: return "unsafe";
        }
        return "unknown";
}

void ksafe_free(void *ptr)
{
        free(ptr);
}
