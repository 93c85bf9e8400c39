/* Small helpers: a growable string, strdup, file reading, errors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

static bool buf_reserve(ksafe_buf_t *buf, size_t extra)
{
        if (buf->failed)
                return false;
        if (extra > SIZE_MAX / 4 - buf->len) {
                buf->failed = true; /* a length that can only be a bug */
                return false;
        }
        if (buf->len + extra + 1 <= buf->cap)
                return true;
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap < buf->len + extra + 1)
                cap *= 2;
        char *data = realloc(buf->data, cap);
        if (!data) {
                buf->failed = true;
                return false;
        }
        buf->data = data;
        buf->cap = cap;
        return true;
}

void ksafe_buf_append(ksafe_buf_t *buf, const char *s, size_t len)
{
        if (!buf_reserve(buf, len))
                return;
        memcpy(buf->data + buf->len, s, len);
        buf->len += len;
        buf->data[buf->len] = '\0';
}

void ksafe_buf_printf(ksafe_buf_t *buf, const char *fmt, ...)
{
        if (!buf_reserve(buf, 64))
                return;
        /* Usually it fits in what is left: one pass. */
        size_t room = buf->cap - buf->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf->data + buf->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
                buf->failed = true;
                return;
        }
        if ((size_t)n >= room) {
                if (!buf_reserve(buf, (size_t)n))
                        return;
                va_start(ap, fmt);
                vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        buf->len += (size_t)n;
}

void ksafe_buf_json_string(ksafe_buf_t *buf, const char *s)
{
        ksafe_buf_append(buf, "\"", 1);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"': ksafe_buf_append(buf, "\\\"", 2); break;
                case '\\': ksafe_buf_append(buf, "\\\\", 2); break;
                case '\n': ksafe_buf_append(buf, "\\n", 2); break;
                case '\r': ksafe_buf_append(buf, "\\r", 2); break;
                case '\t': ksafe_buf_append(buf, "\\t", 2); break;
                default:
                        if (*p < 0x20)
                                ksafe_buf_printf(buf, "\\u%04x", *p);
                        else
                                ksafe_buf_append(buf, (const char *)p, 1);
                }
        }
        ksafe_buf_append(buf, "\"", 1);
}

char *ksafe_buf_take(ksafe_buf_t *buf)
{
        if (!buf->failed && !buf->data)
                buf_reserve(buf, 0);
        char *s = buf->failed ? NULL : buf->data;
        if (s)
                s[buf->len] = '\0';
        else
                free(buf->data);
        *buf = (ksafe_buf_t){0};
        return s;
}

void ksafe_buf_free(ksafe_buf_t *buf)
{
        free(buf->data);
        *buf = (ksafe_buf_t){0};
}

char *ksafe_strdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

char *ksafe_read_file(const char *path, size_t *lenp)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        ksafe_buf_t buf = {0};
        char chunk[65536];
        size_t n;
        /* Configs and policies are small: /dev/zero is not read forever. */
        while (!buf.failed && buf.len <= KSAFE_MAX_FILE && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                ksafe_buf_append(&buf, chunk, n);
        int failed = ferror(f);
        int saved = errno;
        fclose(f);
        if (failed || buf.failed || buf.len > KSAFE_MAX_FILE) {
                errno = failed ? (saved ? saved : EIO) : buf.failed ? ENOMEM : EFBIG;
                ksafe_buf_free(&buf);
                return NULL;
        }
        size_t len = buf.len;
        char *data = ksafe_buf_take(&buf);
        if (!data) {
                errno = ENOMEM;
                return NULL;
        }
        if (lenp)
                *lenp = len;
        return data;
}

void ksafe_error_set(ksafe_error_t *err, const char *source, const char *path, int line,
                     int column, const char *fmt, ...)
{
        if (!err)
                return;
        snprintf(err->source, sizeof(err->source), "%s", source ? source : "");
        snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
        err->line = line;
        err->column = column;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
}

const char *ksafe_json_error_text(struct json_error_t *jerr)
{
        /* jansson ends with "near '<token>'", and the token may be a secret. */
        char *near = strstr(jerr->text, " near ");
        if (near)
                *near = '\0';
        return jerr->text;
}

const char *ksafe_action_name(ksafe_action_t action)
{
        switch (action) {
        case KSAFE_ACTION_ENFORCE: return "enforce";
        case KSAFE_ACTION_REJECT: return "reject";
        case KSAFE_ACTION_WARN: return "warn";
        }
        return "unknown";
}

const char *ksafe_severity_name(ksafe_severity_t severity)
{
        return severity == KSAFE_SEVERITY_WARNING ? "warning" : "error";
}

const char *ksafe_version_str(void)
{
        return KSAFE_VERSION_STR;
}
