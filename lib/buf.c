/* A growable string (ksafe_buf_t), a growable array, and strdup that
 * passes NULL through. */
#include <math.h>
#include <stdarg.h>
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

void ksafe_buf__append(ksafe_buf_t *buf, const char *s, size_t len)
{
        if (!buf_reserve(buf, len))
                return;
        memcpy(buf->data + buf->len, s, len);
        buf->len += len;
        buf->data[buf->len] = '\0';
}

void ksafe_buf__cat(ksafe_buf_t *buf, ...)
{
        va_list ap;
        va_start(ap, buf);
        for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
                ksafe_buf__append(buf, s, strlen(s));
        va_end(ap);
}

void ksafe_buf__printf(ksafe_buf_t *buf, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        ksafe_buf__vprintf(buf, fmt, ap);
        va_end(ap);
}

void ksafe_buf__vprintf(ksafe_buf_t *buf, const char *fmt, va_list args)
{
        if (!buf_reserve(buf, 64))
                return;
        /* Usually it fits in what is left: one pass. */
        size_t room = buf->cap - buf->len;
        va_list ap;
        va_copy(ap, args);
        int n = vsnprintf(buf->data + buf->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
                buf->failed = true;
                return;
        }
        if ((size_t)n >= room) {
                if (!buf_reserve(buf, (size_t)n))
                        return;
                va_copy(ap, args);
                vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        buf->len += (size_t)n;
}

void ksafe_buf__json_string(ksafe_buf_t *buf, const char *s)
{
        ksafe_buf__append(buf, "\"", 1);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                /* A run that needs no escape, as one piece. */
                const unsigned char *q = p;
                while (*q >= 0x20 && *q != '"' && *q != '\\')
                        q++;
                if (q > p) {
                        ksafe_buf__append(buf, (const char *)p, (size_t)(q - p));
                        p = q - 1;
                        continue;
                }
                switch (*p) {
                case '"': ksafe_buf__append(buf, "\\\"", 2); break;
                case '\\': ksafe_buf__append(buf, "\\\\", 2); break;
                case '\n': ksafe_buf__append(buf, "\\n", 2); break;
                case '\r': ksafe_buf__append(buf, "\\r", 2); break;
                case '\t': ksafe_buf__append(buf, "\\t", 2); break;
                default:
                        if (*p < 0x20)
                                ksafe_buf__printf(buf, "\\u%04x", *p);
                        else
                                ksafe_buf__append(buf, (const char *)p, 1);
                }
        }
        ksafe_buf__append(buf, "\"", 1);
}

char *ksafe__vformat(const char *fmt, va_list ap)
{
        ksafe_buf_t buf = {0};
        ksafe_buf__vprintf(&buf, fmt, ap);
        return ksafe_buf__take(&buf);
}

char *ksafe_buf__take(ksafe_buf_t *buf)
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

void ksafe_buf__free(ksafe_buf_t *buf)
{
        free(buf->data);
        *buf = (ksafe_buf_t){0};
}

char *ksafe__strdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

const char *ksafe__whole_number(double d, char *buf, size_t size)
{
        if (!(d == floor(d) && fabs(d) < 1e15) || (d == 0 && signbit(d)) || size < 18)
                return NULL;
        char digits[20];
        size_t n = 0;
        unsigned long long u = (unsigned long long)fabs(d);
        do
                digits[n++] = (char)('0' + u % 10);
        while ((u /= 10) != 0);
        size_t k = 0;
        if (d < 0)
                buf[k++] = '-';
        while (n)
                buf[k++] = digits[--n];
        buf[k] = '\0';
        return buf;
}

bool ksafe_array__reserve(void *itemsp, size_t size, size_t count, size_t *cap)
{
        if (count < *cap)
                return true;
        /* The first block at most 512 bytes (a few large items, up to
         * KSAFE_ARRAY_FIRST small ones): glibc serves small blocks from its
         * caches, while a first block of 16 config entries (2 KB, made for
         * every file read) took its slow path and a consolidation. */
        size_t first = 512 / size;
        first = first < 2 ? 2 : first > KSAFE_ARRAY_FIRST ? KSAFE_ARRAY_FIRST : first;
        size_t grown = *cap ? *cap : first;
        if (grown > SIZE_MAX / 2 / size)
                return false;
        grown = *cap ? 2 * *cap : grown;
        void *items;
        memcpy(&items, itemsp, sizeof(items)); /* a T *, whatever T is */
        void *more = realloc(items, grown * size);
        if (!more)
                return false;
        memcpy(itemsp, &more, sizeof(more));
        *cap = grown;
        return true;
}
