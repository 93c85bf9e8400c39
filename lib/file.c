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

char *ksafe_file__read_regular(const char *path, size_t *lenp, ksafe_file_id_t *idp, char *why,
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

char *ksafe_file__read(const char *path, size_t *lenp)
{
        char why[256];
        return ksafe_file__read_regular(path, lenp, NULL, why, sizeof(why));
}
