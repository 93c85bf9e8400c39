/* Small helpers: a growable string, strdup, file reading, errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        va_list ap;
        va_start(ap, fmt);
        ksafe_buf_vprintf(buf, fmt, ap);
        va_end(ap);
}

void ksafe_buf_vprintf(ksafe_buf_t *buf, const char *fmt, va_list args)
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

/* How a file that is not a regular file is called in a message. */
static const char *file_kind(mode_t mode)
{
        if (S_ISFIFO(mode))
                return "a FIFO";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        if (S_ISSOCK(mode))
                return "a socket";
        return "not a regular file";
}

char *ksafe_read_regular_file(const char *path, size_t *lenp, ksafe_file_id_t *idp, char *why,
                              size_t why_size)
{
        /* Non-blocking: opening a FIFO without a writer (or a device) must
         * not hang the application thread that loads a policy. */
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                int saved = errno;
                snprintf(why, why_size, "%s", strerror(saved));
                errno = saved;
                return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
                int saved = errno;
                close(fd);
                snprintf(why, why_size, "%s", strerror(saved));
                errno = saved;
                return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
                close(fd);
                snprintf(why, why_size, "%s", strerror(EISDIR));
                errno = EISDIR;
                return NULL;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                snprintf(why, why_size, "%s, not a regular file", file_kind(st.st_mode));
                errno = EINVAL;
                return NULL;
        }
        if (st.st_size < 0 || (uintmax_t)st.st_size > KSAFE_MAX_FILE) {
                close(fd);
                snprintf(why, why_size, "larger than %zu MiB", KSAFE_MAX_FILE >> 20);
                errno = EFBIG;
                return NULL;
        }
        /* On the heap, sized by fstat; grown if the file grows meanwhile. */
        size_t cap = (size_t)st.st_size + 1, len = 0;
        char *data = malloc(cap);
        int saved = 0;
        while (data) {
                if (len + 1 == cap) {
                        /* Full: grow to see whether the file goes on, but
                         * never past one byte over the cap. */
                        if (len > KSAFE_MAX_FILE) {
                                saved = EFBIG;
                                break;
                        }
                        size_t grown = cap > (KSAFE_MAX_FILE + 2) / 2 ? KSAFE_MAX_FILE + 2
                                                                    : cap * 2;
                        char *more = realloc(data, grown);
                        if (!more) {
                                saved = ENOMEM;
                                break;
                        }
                        data = more;
                        cap = grown;
                }
                ssize_t n = read(fd, data + len, cap - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        saved = errno;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (!data)
                saved = ENOMEM;
        if (!saved && len > KSAFE_MAX_FILE)
                saved = EFBIG;
        if (saved) {
                free(data);
                if (saved == EFBIG)
                        snprintf(why, why_size, "larger than %zu MiB", KSAFE_MAX_FILE >> 20);
                else
                        snprintf(why, why_size, "%s", strerror(saved));
                errno = saved;
                return NULL;
        }
        data[len] = '\0';
        if (lenp)
                *lenp = len;
        if (idp)
                *idp = (ksafe_file_id_t){.dev = st.st_dev, .ino = st.st_ino};
        return data;
}

char *ksafe_read_file(const char *path, size_t *lenp)
{
        char why[256];
        return ksafe_read_regular_file(path, lenp, NULL, why, sizeof(why));
}

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

void ksafe_fit_head(char *dst, size_t size, const char *src)
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

void ksafe_fit_tail(char *dst, size_t size, const char *src)
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

void ksafe_error_set(ksafe_error_t *err, const char *source, const char *path, int line,
                     int column, const char *fmt, ...)
{
        if (!err)
                return;
        /* Escaped (ksafe_report_escape()): a file name, a JSON key or a
         * value quoted in an error cannot forge a line of whatever prints
         * it (ksafe-lint, the errstr of ksafe_producer_new()). */
        char *src = ksafe_report_escape(source ? source : "");
        char *where = ksafe_report_escape(path ? path : "");
        /* The end of a file name or JSON path says most: keep it. */
        ksafe_fit_tail(err->source, sizeof(err->source), src ? src : "?");
        ksafe_fit_tail(err->path, sizeof(err->path), where ? where : "?");
        free(src);
        free(where);
        err->line = line;
        err->column = column;
        ksafe_buf_t text = {0};
        va_list ap;
        va_start(ap, fmt);
        ksafe_buf_vprintf(&text, fmt, ap);
        va_end(ap);
        char *s = ksafe_buf_take(&text);
        char *shown = ksafe_report_escape(s);
        ksafe_fit_head(err->text, sizeof(err->text), shown ? shown : "out of memory");
        free(shown);
        free(s);
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
