/* Reading a whole config or policy file, regular files only. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksafe_int.h"

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

/* Fail with errno `err` and its reason in why (errno's text when NULL).
 * strerror_r(), not strerror(): files are read on many threads at once
 * (ksafe-lint -j, the facade's policy loads), and strerror() may answer
 * in a buffer that another thread's call overwrites (POSIX; glibc
 * documents it "MT-Unsafe race:strerror"). _GNU_SOURCE: the GNU
 * strerror_r(), which returns the text (in buf or not). */
static int refuse(int err, const char *reason, char *why, size_t why_size)
{
        char buf[256];
        if (err == EFBIG)
                snprintf(why, why_size, "larger than %zu MiB", KSAFE_MAX_FILE >> 20);
        else
                snprintf(why, why_size, "%s", reason ? reason : strerror_r(err, buf, sizeof(buf)));
        return err;
}

/* Whether the file open as fd, of status *st, may be read: 0, or an errno
 * with its reason in why. */
static int check_regular(int fd, struct stat *st, char *why, size_t why_size)
{
        if (fstat(fd, st) != 0)
                return refuse(errno, NULL, why, why_size);
        if (S_ISDIR(st->st_mode))
                return refuse(EISDIR, NULL, why, why_size);
        if (!S_ISREG(st->st_mode)) {
                char kind[64];
                snprintf(kind, sizeof(kind), "%s, not a regular file", file_kind(st->st_mode));
                return refuse(EINVAL, kind, why, why_size);
        }
        if (st->st_size < 0 || (uintmax_t)st->st_size > KSAFE_MAX_FILE)
                return refuse(EFBIG, NULL, why, why_size);
        return 0;
}

/* Read fd to its end into a heap buffer sized by fstat, grown if the file
 * grows meanwhile, but never past one byte over the cap. 0, or an errno. */
static int read_all(int fd, size_t size, char **datap, size_t *lenp)
{
        size_t cap = size + 1, len = 0;
        char *data = malloc(cap);
        int err = data ? 0 : ENOMEM;
        while (!err) {
                if (len + 1 == cap) {
                        if (len > KSAFE_MAX_FILE)
                                err = EFBIG;
                        size_t grown =
                                cap > (KSAFE_MAX_FILE + 2) / 2 ? KSAFE_MAX_FILE + 2 : cap * 2;
                        char *more = err ? NULL : realloc(data, grown);
                        if (!more) {
                                err = err ? err : ENOMEM;
                                break;
                        }
                        data = more;
                        cap = grown;
                }
                ssize_t n = read(fd, data + len, cap - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        err = n < 0 ? errno : 0;
                        break;
                }
                len += (size_t)n;
        }
        if (!err && len > KSAFE_MAX_FILE)
                err = EFBIG;
        if (err) {
                free(data);
                return err;
        }
        data[len] = '\0';
        *datap = data;
        *lenp = len;
        return 0;
}

unsigned long long ksafe_file__hash(const char *data, size_t len)
{
        unsigned long long h = 14695981039346656037ULL;
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)data[i];
                h *= 1099511628211ULL;
        }
        return h;
}

char *ksafe_file__read_regular(const char *path, size_t *lenp, ksafe_file_id_t *idp, char *why,
                               size_t why_size)
{
        /* Non-blocking: opening a FIFO without a writer (or a device) must
         * not hang the application thread that loads a policy. */
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                errno = refuse(errno, NULL, why, why_size);
                return NULL;
        }
        struct stat st;
        char *data = NULL;
        size_t len = 0;
        int err = check_regular(fd, &st, why, why_size);
        if (!err && (err = read_all(fd, (size_t)st.st_size, &data, &len)))
                refuse(err, NULL, why, why_size);
        close(fd);
        if (err) {
                errno = err;
                return NULL;
        }
        if (lenp)
                *lenp = len;
        if (idp)
                *idp = (ksafe_file_id_t){
                        .dev = st.st_dev,
                        .ino = st.st_ino,
                        .size = (unsigned long long)st.st_size,
                        .mtime_ns =
                                (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec,
                        .ctime_ns =
                                (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec,
                        .hash = ksafe_file__hash(data, len),
                };
        return data;
}

char *ksafe_file__read(const char *path, size_t *lenp)
{
        char why[256];
        return ksafe_file__read_regular(path, lenp, NULL, why, sizeof(why));
}
