/*
 * The floors ksafe-lint is measured against (tools/bench drives them):
 *
 *   bench_floor read DIR...   read every regular file under each DIR (or
 *                             each FILE) with open/read/close, as a minimal
 *                             linter would before doing anything: the cost
 *                             of reading the files at all
 *   bench_floor noop [FILE]   a program linked with librdkafka and jansson
 *                             that does nothing: the cost of starting one
 *   bench_floor properties    librdkafka's property names, one a line (the
 *                             names the benchmark's JSON Schema allows)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

static char buf[1 << 16];

static long read_one(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        long total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                total += n;
        close(fd);
        return total;
}

static long read_tree(const char *path)
{
        DIR *d = opendir(path);
        if (!d)
                return read_one(path);
        long total = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char sub[4096];
                snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                long n = e->d_type == DT_DIR ? read_tree(sub) : read_one(sub);
                total += n > 0 ? n : 0;
        }
        closedir(d);
        return total;
}

/* Only the names of rd_kafka_conf_properties_show()'s table rows. */
static int properties(void)
{
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        if (!mem)
                return 1;
        rd_kafka_conf_properties_show(mem);
        fclose(mem);
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *bar = strchr(line, '|');
                if (!bar || line[0] == '-' || strncmp(line, "Property", 8) == 0)
                        continue;
                while (bar > line && bar[-1] == ' ')
                        bar--;
                printf("%.*s\n", (int)(bar - line), line);
        }
        free(text);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "read") == 0) {
                long total = 0;
                for (int i = 2; i < argc; i++)
                        total += read_tree(argv[i]);
                return total >= 0 ? 0 : 1;
        }
        if (argc >= 2 && strcmp(argv[1], "noop") == 0)
                /* Referenced, so that neither library is dropped as unneeded. */
                return rd_kafka_version() > 0 && jansson_version_str() ? 0 : 1;
        if (argc == 2 && strcmp(argv[1], "properties") == 0)
                return properties();
        fprintf(stderr, "usage: bench_floor read DIR|FILE... | noop [FILE] | properties\n");
        return 2;
}
