/*
 * ksafe-lint: judge producer config files against a ksafe policy.
 *
 * A thin CLI: parse options, find the inputs, let the library read, judge
 * and repair each one, and print the findings (lint-output.c). Every rule
 * and every parser lives in libksafe.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lint.h"

#define MAX_X 256
#define STR_(x) #x
#define STR(x) STR_(x)
#define MAX_IGNORE 256

typedef enum color_mode_e { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color_mode_t;

typedef struct lint_opts_s {
        const char *policy_path;
        const char *env;
        const char *json_pointer;
        const char *extensions;
        ksafe_dialect_t dialect;
        bool check_policy;
        bool print_policy;
        bool effective;
        bool exit_zero;         /* findings do not fail the run (exit 0, not 1) */
        const char *stdin_name; /* --stdin-filename */
        const char *base_dir;   /* --base-dir, as given */
        const char *x[MAX_X];   /* -X key=value, in order */
        size_t x_count;
        const char *config;     /* --config FILE */
        bool no_config;         /* --no-config */
        lint_project_t project; /* the project config, if any */
        const char *explain;    /* --explain RULE */
        bool list_rules;        /* --list-rules */
        bool markdown;          /* -f markdown: the rules as doc/rules.md */
        color_mode_t color;
        unsigned jobs;            /* --jobs: inputs judged at once (0: default_jobs()) */
        char *ignore[MAX_IGNORE]; /* --ignore and the project's "ignore", one id each */
        size_t ignore_count;
} lint_opts_t;

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: ksafe-lint [OPTIONS] [FILE|DIR|-]...\n"
                "Check librdkafka producer configs (.properties or JSON) against a ksafe\n"
                "policy. '-' reads standard input (once); a directory is searched recursively.\n"
                "\n"
                "Policy:\n"
                "  -p, --policy FILE      policy file (default: $KSAFE_POLICY, else\n"
                "                         /etc/ksafe/policy.json if it is there, else the\n"
                "                         built-in default; 'builtin:default' names it)\n"
                "  -e, --env NAME         policy environment (default: $KSAFE_ENV)\n"
                "      --check-policy     validate the policy and exit\n"
                "      --print-policy     print the resolved policy as JSON and exit\n"
                "      --list-rules       what each rule checks, why and how to fix it\n"
                "                         (-f markdown: as doc/rules.md), and exit\n"
                "      --explain RULE     the same for one rule, and exit\n"
                "\n"
                "Project config:\n"
                "      --config FILE      read FILE instead of the " LINT_PROJECT_FILE " found in\n"
                "                         the current directory or the nearest one above\n"
                "      --no-config        read no project config file\n"
                "\n"
                "Input:\n"
                "  -X KEY=VALUE           a property on the command line, as in kcat; it wins\n"
                "                         over the files' (alone, it is linted by itself)\n"
                "      --json-pointer PTR the object that holds the properties in JSON files\n"
                "                         (e.g. /kafka/producer)\n"
                "      --dialect NAME     librdkafka (default) or java: accept the Java\n"
                "                         client's own properties (key.serializer, ...)\n"
                "      --ext LIST         extensions searched in directories\n"
                "                         (default: properties,conf,json)\n"
                "      --stdin-filename NAME  the file that '-' holds: findings name it\n"
                "\n"
                "Output:\n"
                "  -f, --format FMT       text (default), json, sarif, github, junit, gitlab,\n"
                "                         checkstyle, or auto (github in GitHub Actions, else\n"
                "                         text)\n"
                "      --base-dir DIR     SARIF's %%SRCROOT%%: artifact URIs are relative to it\n"
                "                         (default: the current directory)\n"
                "      --fix              rewrite files in place with the policy's enforced\n"
                "                         values (comments, order, line endings kept)\n"
                "      --effective        print each config as librdkafka would use it, after\n"
                "                         enforcement (secrets redacted)\n"
                "      --fail-on LEVEL    error (default) or warning: the findings that fail\n"
                "                         the run (exit 1); --severity-threshold is the same\n"
                "  -W error               treat warnings as errors (--fail-on warning)\n"
                "      --ignore RULE[,RULE]  report no finding of RULE (repeatable)\n"
                "      --color WHEN       auto (default: a terminal, unless NO_COLOR is set),\n"
                "                         always or never; text output only\n"
                "      --exit-zero        exit 0 whatever the findings (still 2 for bad usage,\n"
                "                         an unreadable input or a bad policy)\n"
                "  -q, --quiet            errors only; no warnings, no summary\n"
                "  -j, --jobs N           judge N inputs at once on worker threads (default 1;\n"
                "                         1 with --fix); the output stays in input order\n"
                "  -h, --help             show this help and exit\n"
                "  -V, --version          show the versions of ksafe, librdkafka and jansson\n"
                "\n"
                "Text findings are FILE:LINE:COL: SEVERITY: MESSAGE [RULE] on stdout;\n"
                "operational errors go to stderr.\n"
                "\n"
                "Exit status:\n"
                "  0  no findings, or warnings only (or all fixed, with --fix)\n"
                "  1  at least one error (or warning, with -W error); never with --exit-zero\n"
                "  2  bad usage, unreadable input or a bad policy\n");
}

/* `s` as every output of ksafe-lint shows what it did not write itself
 * (ksafe_report_escape(): one line, no terminal escapes, UTF-8). */
static void put_escaped(const char *s, FILE *out)
{
        char *shown = ksafe_report_escape(s);
        fputs(shown ? shown : "(out of memory)", out);
        free(shown);
}

static int bad_usage(const char *fmt, const char *arg) __attribute__((format(printf, 1, 0)));

static int bad_usage(const char *fmt, const char *arg)
{
        char *shown = ksafe_report_escape(arg);
        fprintf(stderr, "ksafe-lint: ");
        fprintf(stderr, fmt, shown ? shown : "?");
        fprintf(stderr, "\nTry 'ksafe-lint --help' for more information.\n");
        free(shown);
        return LINT_EXIT_USAGE;
}

/* "ksafe-lint: NAME: TEXT" on `f`, NAME escaped. */
static void vcomplain(FILE *f, const char *name, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

static void vcomplain(FILE *f, const char *name, const char *fmt, va_list ap)
{
        fputs("ksafe-lint: ", f);
        put_escaped(name, f);
        fputs(": ", f);
        vfprintf(f, fmt, ap);
        fputc('\n', f);
}

/* The same on stderr. */
static void complain(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void complain(const char *name, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vcomplain(stderr, name, fmt, ap);
        va_end(ap);
}

/* The same on `f` (what judging one input says: stderr, or its job's). */
static void complain_to(FILE *f, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void complain_to(FILE *f, const char *name, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vcomplain(f, name, fmt, ap);
        va_end(ap);
}

/* "ksafe-lint: SOURCE:LINE:COL: TEXT" on `f`, with the location as far as
 * known; the source and the text may hold any name a policy or a file gave. */
static void print_error(FILE *f, const ksafe_error_t *err)
{
        fprintf(f, "ksafe-lint: ");
        if (err->source[0]) {
                put_escaped(err->source, f);
                fputc(':', f);
        }
        if (err->line > 0)
                fprintf(f, "%d:%d:", err->line, err->column);
        fputs(err->source[0] || err->line > 0 ? " " : "", f);
        put_escaped(err->text, f);
        fputc('\n', f);
}

/*
 * Inputs
 */

/* The inputs, in order, in one arena (no allocation per name): a file
 * found in a directory as its directory (one string for all its files)
 * and its own name, any other input by its name as given; and whether each
 * is a named pipe, as found when it was looked at (a pipe is read as
 * standard input is; the library's file reader refuses anything but a
 * regular file: it must never block on a policy). */
typedef struct inputs_s {
        char *arena;
        size_t arena_len, arena_cap;
        size_t *offsets; /* of the name, or of the name in its directory */
        uint32_t *dir;   /* 0: the name is whole; else its directory's index + 1 */
        bool *pipe;
        bool *again; /* lint_named_again(), for SARIF and GitLab; else NULL */
        size_t count, cap;
        size_t *dirs; /* the directories' offsets in the arena ("": the current one) */
        size_t dir_count, dir_cap;
} inputs_t;

/* `s` into the arena: its offset, or (size_t)-1 when out of memory. */
static size_t arena_add(inputs_t *in, const char *s)
{
        size_t len = strlen(s) + 1;
        if (in->arena_len + len > in->arena_cap) {
                size_t cap = in->arena_cap ? in->arena_cap * 2 : 65536;
                while (cap < in->arena_len + len)
                        cap *= 2;
                char *arena = realloc(in->arena, cap);
                if (!arena)
                        return (size_t)-1;
                in->arena = arena;
                in->arena_cap = cap;
        }
        memcpy(in->arena + in->arena_len, s, len);
        in->arena_len += len;
        return in->arena_len - len;
}

/* An input: `name` in directory `dir` (an index + 1 from inputs_dir()),
 * or its whole name (dir 0). */
static bool inputs_add_in(inputs_t *in, uint32_t dir, const char *name, bool pipe)
{
        if (in->count == in->cap) {
                size_t cap = in->cap ? in->cap * 2 : 64;
                size_t *offsets = realloc(in->offsets, cap * sizeof(*offsets));
                if (offsets)
                        in->offsets = offsets;
                uint32_t *dirs = offsets ? realloc(in->dir, cap * sizeof(*dirs)) : NULL;
                if (dirs)
                        in->dir = dirs;
                bool *pipes = dirs ? realloc(in->pipe, cap * sizeof(*pipes)) : NULL;
                if (!pipes)
                        return false;
                in->pipe = pipes;
                in->cap = cap;
        }
        size_t at = arena_add(in, name);
        if (at == (size_t)-1)
                return false;
        in->offsets[in->count] = at;
        in->dir[in->count] = dir;
        in->pipe[in->count++] = pipe;
        return true;
}

static bool inputs_add(inputs_t *in, const char *name, bool pipe)
{
        return inputs_add_in(in, 0, name, pipe);
}

/* A directory whose files are inputs: its index + 1, 0 when out of memory. */
static uint32_t inputs_dir(inputs_t *in, const char *dir)
{
        if (in->dir_count == in->dir_cap) {
                size_t cap = in->dir_cap ? in->dir_cap * 2 : 16;
                size_t *dirs = cap < UINT32_MAX ? realloc(in->dirs, cap * sizeof(*dirs)) : NULL;
                if (!dirs)
                        return 0;
                in->dirs = dirs;
                in->dir_cap = cap;
        }
        size_t at = arena_add(in, dir);
        if (at == (size_t)-1)
                return 0;
        in->dirs[in->dir_count++] = at;
        return (uint32_t)in->dir_count;
}

/* The i-th input's name, malloc'd: its own, or its directory's and its
 * own joined. */
static char *input_path_dup(const inputs_t *in, size_t i)
{
        const char *name = in->arena + in->offsets[i];
        if (!in->dir[i])
                return strdup(name);
        const char *dir = in->arena + in->dirs[in->dir[i] - 1];
        size_t d = strlen(dir), n = strlen(name) + 1;
        char *path = malloc(d + 1 + n);
        if (path) {
                memcpy(path, dir, d);
                if (d)
                        path[d++] = '/';
                memcpy(path + d, name, n);
        }
        return path;
}

static void inputs_free(inputs_t *in)
{
        free(in->arena);
        free(in->offsets);
        free(in->dir);
        free(in->pipe);
        free(in->again);
        free(in->dirs);
}

typedef struct name_buf_s {
        const inputs_t *in;
        char *last;
} name_buf_t;

/* lint_named_again()'s name_of: valid until the next call ("" when out of
 * memory: lint_named_again() then tells nothing apart by it). */
static const char *name_at(const void *ctx, size_t i)
{
        name_buf_t *nb = (name_buf_t *)ctx;
        free(nb->last);
        nb->last = input_path_dup(nb->in, i);
        return nb->last ? nb->last : "";
}

static bool has_extension(const char *name, const char *extensions)
{
        const char *dot = strrchr(name, '.');
        if (!dot || dot == name)
                return false;
        size_t n = strlen(dot + 1);
        for (const char *p = extensions; *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, dot + 1, n) == 0)
                        return true;
                p += len + (p[len] == ',');
        }
        return false;
}

/* The directories on the way down, by device and inode: a symbolic link
 * back up the tree is not followed again (a loop), any other is. */
#define MAX_DEPTH 64

typedef struct visited_s {
        dev_t dev[MAX_DEPTH];
        ino_t ino[MAX_DEPTH];
        size_t count;
} visited_t;

static bool on_the_way_down(const visited_t *path, const struct stat *st)
{
        for (size_t i = 0; i < path->count; i++)
                if (path->dev[i] == st->st_dev && path->ino[i] == st->st_ino)
                        return true;
        return false;
}

/* Which files a search keeps: by extension (a directory given) or by the
 * project config's include globs; the project's exclude globs either way. */
typedef struct wanted_s {
        const char *extensions; /* NULL: by `include` */
        const lint_project_t *project;
} wanted_t;

static bool excluded(const lint_project_t *project, const char *path)
{
        char real[PATH_MAX];
        if (!project->doc || !project->exclude_count || !realpath(path, real))
                return false;
        const char *rel = lint_project_relative(project, real);
        return rel && lint_project_matches(project->exclude, project->exclude_count, rel);
}

static bool wanted(const wanted_t *want, const char *path, const char *name)
{
        if (want->extensions)
                return has_extension(name, want->extensions) && !excluded(want->project, path);
        char real[PATH_MAX];
        const char *rel = realpath(path, real) ? lint_project_relative(want->project, real) : NULL;
        return rel &&
               lint_project_matches(want->project->include, want->project->include_count, rel) &&
               !excluded(want->project, path);
}

/* A directory's entries but "." names: their names in one arena, in the
 * order alphasort() gives (strcoll), with the type readdir() says. */
typedef struct listing_s {
        char *names;
        size_t len, cap;
        struct entry_s {
                size_t name; /* offset in names */
                unsigned char type;
        } * entries;
        size_t count, entries_cap;
} listing_t;

static int by_name(const void *a, const void *b, void *names)
{
        return strcoll((const char *)names + ((const struct entry_s *)a)->name,
                       (const char *)names + ((const struct entry_s *)b)->name);
}

/* 0, or an errno (with *l freed). */
static int list_dir(const char *dir, listing_t *l)
{
        *l = (listing_t){0};
        DIR *d = opendir(dir);
        if (!d)
                return errno;
        int err = 0;
        for (;;) {
                errno = 0;
                struct dirent *e = readdir(d);
                if (!e) {
                        err = errno;
                        break;
                }
                if (e->d_name[0] == '.')
                        continue;
                size_t len = strlen(e->d_name) + 1;
                if (l->len + len > l->cap) {
                        size_t cap = l->cap ? l->cap * 2 : 4096;
                        while (cap < l->len + len)
                                cap *= 2;
                        char *names = realloc(l->names, cap);
                        if (!names) {
                                err = ENOMEM;
                                break;
                        }
                        l->names = names;
                        l->cap = cap;
                }
                if (l->count == l->entries_cap) {
                        size_t cap = l->entries_cap ? l->entries_cap * 2 : 64;
                        struct entry_s *entries = realloc(l->entries, cap * sizeof(*entries));
                        if (!entries) {
                                err = ENOMEM;
                                break;
                        }
                        l->entries = entries;
                        l->entries_cap = cap;
                }
                memcpy(l->names + l->len, e->d_name, len);
                l->entries[l->count++] = (struct entry_s){l->len, e->d_type};
                l->len += len;
        }
        closedir(d);
        if (err) {
                free(l->names);
                free(l->entries);
                *l = (listing_t){0};
                return err;
        }
        if (l->count)
                qsort_r(l->entries, l->count, sizeof(*l->entries), by_name, l->names);
        return 0;
}

/* The files below `dir` that a search wants, in sorted order. `known`:
 * the directory's status when the caller has it, else NULL. */
static int walk(inputs_t *in, const char *dir, const wanted_t *want, visited_t *way,
                const struct stat *known)
{
        struct stat self;
        if (known)
                self = *known;
        else if (stat(dir, &self) != 0)
                return LINT_EXIT_CLEAN;
        if (on_the_way_down(way, &self))
                return LINT_EXIT_CLEAN;
        if (way->count == MAX_DEPTH) {
                complain(dir, "more than %d directories deep", MAX_DEPTH);
                return LINT_EXIT_USAGE;
        }
        listing_t list;
        int err = list_dir(dir, &list);
        if (err) {
                complain(dir, "%s", strerror(err));
                return LINT_EXIT_USAGE;
        }
        way->dev[way->count] = self.st_dev;
        way->ino[way->count++] = self.st_ino;
        int status = LINT_EXIT_CLEAN;
        uint32_t dir_id = 0; /* registered with its first file */
        for (size_t i = 0; i < list.count; i++) {
                const char *name = list.names + list.entries[i].name;
                char path[4096];
                struct stat st;
                /* Nothing a search finds is skipped without a word: a path
                 * too long to name, or a config that cannot be looked at (a
                 * broken link), is an unreadable input. */
                if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
                        complain(dir, "an entry's path is longer than %zu bytes: not read",
                                 sizeof(path) - 1);
                        status = LINT_EXIT_USAGE;
                        continue;
                }
                /* What the directory says an entry is, where it says it
                 * (d_type); a link, or a file system that does not say,
                 * is looked at: a link is followed. */
                unsigned char type = list.entries[i].type;
                bool looked = type == DT_LNK || type == DT_UNKNOWN;
                if (looked && stat(path, &st) != 0)
                        type = DT_REG; /* a broken link: unreadable, if wanted */
                else if (looked)
                        type = S_ISDIR(st.st_mode)   ? DT_DIR
                               : S_ISREG(st.st_mode) ? DT_REG
                                                     : DT_FIFO;
                if (type == DT_DIR) {
                        status |= walk(in, path, want, way, looked ? &st : NULL);
                } else if (type == DT_REG && wanted(want, path, name)) {
                        if (!dir_id)
                                dir_id = inputs_dir(in, dir);
                        if (!dir_id || !inputs_add_in(in, dir_id, name, false))
                                status = LINT_EXIT_USAGE;
                }
        }
        free(list.names);
        free(list.entries);
        way->count--;
        return status;
}

/* Read standard input or a named pipe into a config; `source` names it. */
static ksafe_config_t *read_piped(FILE *in, const char *source,
                                  const ksafe_config_options_t *options, ksafe_error_t *err,
                                  lint_result_t *keep)
{
        size_t len = 0;
        char *data = in ? lint_read_stream(in, &len) : NULL;
        if (!data) {
                /* In the words ksafe_config_read_file() uses for a file. */
                snprintf(err->source, sizeof(err->source), "%s", source);
                if (errno == EFBIG)
                        snprintf(err->text, sizeof(err->text), "cannot read: larger than %zu MiB",
                                 KSAFE_CONFIG_MAX_SIZE >> 20);
                else {
                        /* strerror_r: a pipe may be read on a worker thread. */
                        char buf[128];
                        snprintf(err->text, sizeof(err->text), "cannot read: %s",
                                 strerror_r(errno, buf, sizeof(buf)));
                }
                return NULL;
        }
        ksafe_config_t *cfg = ksafe_config_read(data, len, source, options, err);
        if (keep && !keep->text) {
                keep->text = data; /* SARIF counts its columns */
                keep->text_len = len;
        } else {
                free(data);
        }
        return cfg;
}

/* `keep`, when not NULL, gets a piped input's bytes. A named pipe (what
 * `ksafe-lint <(kubectl ...)` and /dev/stdin of a pipe name) is read as
 * standard input is. */
static ksafe_config_t *read_input(const char *name, bool pipe, const lint_opts_t *opts,
                                  ksafe_error_t *err, lint_result_t *keep)
{
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = opts->dialect,
                                          .json_pointer = opts->json_pointer};
        ksafe_config_t *cfg;
        if (strcmp(name, "-") == 0) {
                cfg = read_piped(stdin, opts->stdin_name ? opts->stdin_name : "<stdin>", &options,
                                 err, keep);
        } else if (strcmp(name, "<command line>") == 0) {
                cfg = ksafe_config_read("", 0, name, &options, err);
        } else if (pipe) {
                FILE *in = fopen(name, "rb");
                cfg = read_piped(in, name, &options, err, keep);
                if (in)
                        fclose(in);
        } else {
                cfg = ksafe_config_read_file(name, &options, err);
        }
        for (size_t i = 0; cfg && i < opts->x_count; i++) {
                const char *eq = strchr(opts->x[i], '=');
                char key[512];
                snprintf(key, sizeof(key), "%.*s", (int)(eq - opts->x[i]), opts->x[i]);
                if (!ksafe_config_set(cfg, key, eq + 1, "<command line>")) {
                        ksafe_config_destroy(cfg);
                        snprintf(err->text, sizeof(err->text), "out of memory");
                        return NULL;
                }
        }
        return cfg;
}

/* Replace the file at `path` with `text`: a temporary file beside it, then
 * rename, so that a failed write loses nothing. A symbolic link stays a
 * link (its target is rewritten); a read-only file is refused; a file with
 * other hard links is rewritten in place, since a rename would leave the
 * other names with the old text. The new file gets the old one's owner,
 * group and mode before it takes its place: when the owner cannot be kept
 * (another user's file), nothing is changed and `why` says so. On failure
 * `why` gets the reason. */
static bool write_file(const char *path, const char *text, size_t len, char *why, size_t why_size)
{
        char real[PATH_MAX], tmp[PATH_MAX + 32];
        struct stat st, mine;
        if (!realpath(path, real) || stat(real, &st) != 0) {
                snprintf(why, why_size, "cannot write the fixed file: %s", strerror(errno));
                return false;
        }
        if (!(st.st_mode & 0222)) {
                /* read-only: root could, but should not */
                snprintf(why, why_size, "cannot write the fixed file: %s", strerror(EACCES));
                return false;
        }
        if (st.st_nlink > 1) {
                FILE *f = fopen(real, "wb");
                bool ok = f && fwrite(text, 1, len, f) == len;
                ok = (f && fclose(f) == 0) && ok;
                if (!ok)
                        snprintf(why, why_size, "cannot write the fixed file: %s", strerror(errno));
                return ok;
        }
        if (snprintf(tmp, sizeof(tmp), "%s.ksafe-XXXXXX", real) >= (int)sizeof(tmp)) {
                snprintf(why, why_size, "cannot write the fixed file: %s", strerror(ENAMETOOLONG));
                return false;
        }
        int fd = mkstemp(tmp);
        if (fd < 0) {
                snprintf(why, why_size, "cannot write the fixed file: %s", strerror(errno));
                return false;
        }
        /* Owner first (a chown may clear set-id bits), then the mode. */
        if (fstat(fd, &mine) != 0 || ((mine.st_uid != st.st_uid || mine.st_gid != st.st_gid) &&
                                      fchown(fd, st.st_uid, st.st_gid) != 0)) {
                snprintf(why, why_size,
                         "cannot keep the owner (uid %ju, gid %ju) of the file: %s; "
                         "not fixed, left unchanged",
                         (uintmax_t)st.st_uid, (uintmax_t)st.st_gid, strerror(errno));
                close(fd);
                unlink(tmp);
                return false;
        }
        bool ok = fchmod(fd, st.st_mode & 07777) == 0;
        FILE *f = ok ? fdopen(fd, "wb") : NULL;
        ok = f && fwrite(text, 1, len, f) == len;
        ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
        if (f)
                ok = fclose(f) == 0 && ok;
        else
                close(fd);
        ok = ok && rename(tmp, real) == 0;
        if (!ok) {
                snprintf(why, why_size, "cannot write the fixed file: %s", strerror(errno));
                unlink(tmp);
        }
        return ok;
}

/* --fix wrote `text` over the input: judge it as written, so that every
 * format reports the file as --fix left it (what is left, at its lines in
 * the new file: a removed line moves the ones below), and keep what the
 * repair changed from its report. *written is the config as written, whose
 * directives (at their lines in the new file) suppress findings of the new
 * report. false, with `err` set, when that cannot be done. */
static bool judge_as_written(const lint_run_t *run, const lint_opts_t *opts, lint_result_t *result,
                             const char *text, size_t len, ksafe_config_t **written,
                             ksafe_error_t *err)
{
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = opts->dialect,
                                          .json_pointer = opts->json_pointer};
        snprintf(err->text, sizeof(err->text), "out of memory");
        ksafe_config_t *now = ksafe_config_read(text, len, result->name, &options, err);
        if (!now)
                return false; /* the repair's report stays */
        ksafe_report_t *after = ksafe_config_check(now, run->policy);
        size_t fixed = 0, left = ksafe_report_count(after);
        for (size_t k = 0; k < ksafe_report_count(result->report); k++)
                fixed += ksafe_report_get(result->report, k)->fixed;
        const ksafe_violation_t **all = calloc(fixed + left + 1, sizeof(*all));
        if (!after || !all) {
                ksafe_report_destroy(after);
                ksafe_config_destroy(now);
                free(all);
                return false;
        }
        /* Both lists in their order, merged by line and column. */
        size_t n = 0, a = 0, b = 0;
        const ksafe_violation_t *next_fixed = NULL;
        while (n < fixed + left) {
                while (!next_fixed && a < ksafe_report_count(result->report)) {
                        const ksafe_violation_t *v = ksafe_report_get(result->report, a++);
                        next_fixed = v->fixed ? v : NULL;
                }
                const ksafe_violation_t *v = b < left ? ksafe_report_get(after, b) : NULL;
                if (next_fixed &&
                    (!v || next_fixed->line < v->line ||
                     (next_fixed->line == v->line && next_fixed->column <= v->column))) {
                        all[n++] = next_fixed;
                        next_fixed = NULL;
                } else {
                        all[n++] = v;
                        b++;
                }
        }
        result->enforced = result->report;
        result->report = after;
        result->findings = all;
        result->finding_count = n;
        *written = now;
        return true;
}

/* Judge one input (and repair it with --fix); NULL report when unreadable.
 * `pipe`: the input is a named pipe. What it says goes to `err` (stderr's
 * place) and, with --effective, `out` (stdout's). */
static int lint_one(const lint_run_t *run, const lint_opts_t *opts, lint_result_t *result,
                    bool pipe, FILE *err_out, FILE *out)
{
        ksafe_error_t err = {0};
        ksafe_config_t *cfg = read_input(result->name, pipe, opts, &err,
                                         run->format == LINT_FORMAT_SARIF ? result : NULL);
        if (!cfg) {
                print_error(err_out, &err);
                result->error = ksafe_report_escape(err.text);
                return LINT_EXIT_USAGE;
        }
        int status = LINT_EXIT_CLEAN;
        ksafe_config_t *written = NULL; /* --fix: the file as it wrote it */
        bool is_file = strcmp(result->name, "-") != 0 &&
                       strcmp(result->name, "<command line>") != 0 && !pipe;
        if (run->fix && !is_file) {
                complain_to(err_out, result->name, "--fix rewrites files only");
                status = LINT_EXIT_USAGE;
        }
        if (run->fix && is_file) {
                /* A refused enforcement (a conflict, a reject rule) leaves
                 * no change to write. */
                result->report = ksafe_config_enforce(cfg, run->policy);
                size_t len;
                char *text = ksafe_config_change_count(cfg) ? ksafe_config_render(cfg, &len) : NULL;
                char why[256];
                if (text && !write_file(result->name, text, len, why, sizeof(why))) {
                        complain_to(err_out, result->name, "%s", why);
                        status = LINT_EXIT_USAGE;
                        /* Nothing was fixed: report the file as it still is. */
                        ksafe_report_destroy(result->report);
                        ksafe_config_t *unchanged =
                                read_input(result->name, false, opts, &err, NULL);
                        result->report =
                                unchanged ? ksafe_config_check(unchanged, run->policy) : NULL;
                        ksafe_config_destroy(unchanged);
                } else if (text &&
                           !judge_as_written(run, opts, result, text, len, &written, &err)) {
                        complain_to(err_out, result->name,
                                    "fixed, but cannot judge the fixed file: %s", err.text);
                        status = LINT_EXIT_USAGE;
                }
                free(text);
        } else {
                result->report = ksafe_config_check(cfg, run->policy);
        }
        if (opts->effective) {
                ksafe_report_t *enforced = run->fix ? NULL : ksafe_config_enforce(cfg, run->policy);
                char *text = ksafe_config_effective(cfg, run->policy);
                fprintf(out, "# %s, as librdkafka would use it after enforcement\n%s",
                        result->display ? result->display : "?", text ? text : "");
                free(text);
                ksafe_report_destroy(enforced);
        }
        /* After --fix judged the file as written: suppressions point at
         * the findings of that report, directives at its lines. */
        if (!result->report || !lint_apply_directives(run, result, written ? written : cfg) ||
            !lint_ignore(result, (const char *const *)opts->ignore, opts->ignore_count)) {
                complain_to(err_out, result->name, "out of memory");
                status = LINT_EXIT_USAGE;
        }
        ksafe_config_destroy(written);
        ksafe_config_destroy(cfg);
        return status;
}

static void print_summary(const lint_run_t *run, const lint_totals_t *t)
{
        fflush(stdout); /* the findings first, also when both go to one pipe */
        size_t checked = t->inputs - t->unreadable;
        fprintf(stderr, "ksafe-lint: %zu file%s checked: %zu error%s, %zu warning%s", checked,
                checked == 1 ? "" : "s", t->errors, t->errors == 1 ? "" : "s", t->warnings,
                t->warnings == 1 ? "" : "s");
        if (t->suppressed)
                fprintf(stderr, ", %zu suppressed", t->suppressed);
        if (t->unreadable)
                fprintf(stderr, ", %zu unreadable", t->unreadable);
        if (run->fix)
                fprintf(stderr, ", %zu fixed", t->fixed);
        fprintf(stderr, "\n");
}

/* GitHub shows a notice in the run's summary: what was not annotated. */
static void print_github_summary(const lint_totals_t *t)
{
        if (t->suppressed)
                printf("::notice title=ksafe-lint::%zu finding%s suppressed (ksafe-lint: "
                       "disable= directives, --ignore)\n",
                       t->suppressed, t->suppressed == 1 ? "" : "s");
}

/*
 * Options. Each setter takes the value of a flag or of the project config
 * and answers NULL, or what is wrong as a format for the value.
 */
static const char *set_format(lint_opts_t *opts, lint_run_t *run, const char *s)
{
        opts->markdown = strcmp(s, "markdown") == 0;
        if (opts->markdown) {
                run->format = LINT_FORMAT_TEXT;
                return NULL;
        }
        return lint_format_parse(s, &run->format) ? NULL
                                                  : "unknown format '%s' (" LINT_FORMAT_NAMES
                                                    "; markdown for --list-rules and --explain)";
}

static const char *set_fail_on(lint_run_t *run, const char *s)
{
        if (strcmp(s, "warning") != 0 && strcmp(s, "error") != 0)
                return "unknown severity '%s' (error or warning)";
        run->werror = strcmp(s, "warning") == 0;
        return NULL;
}

static const char *set_dialect(lint_opts_t *opts, const char *s)
{
        if (strcmp(s, "java") == 0)
                opts->dialect = KSAFE_DIALECT_JAVA;
        else if (strcmp(s, "librdkafka") == 0)
                opts->dialect = KSAFE_DIALECT_LIBRDKAFKA;
        else
                return "unknown dialect '%s' (librdkafka or java)";
        return NULL;
}

static const char *set_color(lint_opts_t *opts, const char *s)
{
        static const char *const names[] = {"auto", "always", "never"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
                if (strcmp(s, names[i]) == 0) {
                        opts->color = (color_mode_t)i;
                        return NULL;
                }
        return "unknown --color '%s' (auto, always or never)";
}

/* --jobs N: 1 to LINT_JOBS_MAX. */
static const char *set_jobs(lint_opts_t *opts, const char *s)
{
        char *end;
        errno = 0;
        long n = strtol(s, &end, 10);
        if (end == s || *end || errno || n < 1 || n > LINT_JOBS_MAX)
                return "--jobs takes a number of inputs judged at once, 1 to " STR(
                        LINT_JOBS_MAX) " ('%s')";
        opts->jobs = (unsigned)n;
        return NULL;
}

/* "a,b" adds a and b. */
static const char *add_ignore(lint_opts_t *opts, const char *s)
{
        for (const char *p = s; *p;) {
                size_t len = strcspn(p, ",");
                if (len == 0 || opts->ignore_count == MAX_IGNORE)
                        return len ? "too many rules to ignore ('%s')" : "an empty rule id in '%s'";
                char *id = strndup(p, len);
                if (!id)
                        return "out of memory ('%s')";
                opts->ignore[opts->ignore_count++] = id;
                p += len + (p[len] == ',');
        }
        return *s ? NULL : "an empty rule id in '%s'";
}

enum long_only {
        OPT_FIX = 256,
        OPT_CHECK_POLICY,
        OPT_PRINT_POLICY,
        OPT_EFFECTIVE,
        OPT_JSON_POINTER,
        OPT_DIALECT,
        OPT_EXT,
        OPT_EXIT_ZERO,
        OPT_STDIN_FILENAME,
        OPT_BASE_DIR,
        OPT_CONFIG,
        OPT_NO_CONFIG,
        OPT_FAIL_ON,
        OPT_IGNORE,
        OPT_COLOR,
        OPT_EXPLAIN,
        OPT_LIST_RULES,
        OPT_JOBS
};

static const struct option long_opts[] = {
        {"policy", required_argument, NULL, 'p'},
        {"env", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"fix", no_argument, NULL, OPT_FIX},
        {"check-policy", no_argument, NULL, OPT_CHECK_POLICY},
        {"print-policy", no_argument, NULL, OPT_PRINT_POLICY},
        {"effective", no_argument, NULL, OPT_EFFECTIVE},
        {"json-pointer", required_argument, NULL, OPT_JSON_POINTER},
        {"dialect", required_argument, NULL, OPT_DIALECT},
        {"ext", required_argument, NULL, OPT_EXT},
        {"exit-zero", no_argument, NULL, OPT_EXIT_ZERO},
        {"stdin-filename", required_argument, NULL, OPT_STDIN_FILENAME},
        {"base-dir", required_argument, NULL, OPT_BASE_DIR},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"no-config", no_argument, NULL, OPT_NO_CONFIG},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"severity-threshold", required_argument, NULL, OPT_FAIL_ON},
        {"ignore", required_argument, NULL, OPT_IGNORE},
        {"color", required_argument, NULL, OPT_COLOR},
        {"colour", required_argument, NULL, OPT_COLOR},
        {"explain", required_argument, NULL, OPT_EXPLAIN},
        {"list-rules", no_argument, NULL, OPT_LIST_RULES},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {NULL, 0, NULL, 0},
};

#define SHORT_OPTS ":p:e:f:W:X:j:qhV"

/* parse_options() answers an exit status (after --help or --version:
 * LINT_EXIT_CLEAN; bad usage: LINT_EXIT_USAGE), or this: lint. */
enum { PARSE_RUN = -1 };

/* An option that takes a value: a setter's complaint is bad usage. */
static int set(const char *problem, const char *value)
{
        return problem ? bad_usage(problem, value) : PARSE_RUN;
}

static int parse_option(int c, char **argv, lint_opts_t *opts, lint_run_t *run)
{
        switch (c) {
        case 'p': opts->policy_path = optarg; break;
        case 'e': opts->env = optarg; break;
        case 'f': return set(set_format(opts, run, optarg), optarg);
        case 'W':
                if (strcmp(optarg, "error") != 0)
                        return bad_usage("unknown -W option '%s' (only -W error)", optarg);
                run->werror = true;
                break;
        case 'X':
                /* The argument is not echoed: it may hold a secret. */
                if (!strchr(optarg, '=') || optarg[0] == '=')
                        return bad_usage("%s", "-X needs KEY=VALUE");
                if (opts->x_count == MAX_X)
                        return bad_usage("%s", "too many -X options");
                opts->x[opts->x_count++] = optarg;
                break;
        case 'q': run->quiet = true; break;
        case OPT_FIX: run->fix = true; break;
        case OPT_CHECK_POLICY: opts->check_policy = true; break;
        case OPT_PRINT_POLICY: opts->print_policy = true; break;
        case OPT_EFFECTIVE: opts->effective = true; break;
        case OPT_JSON_POINTER: opts->json_pointer = optarg; break;
        case OPT_EXT: opts->extensions = optarg; break;
        case OPT_EXIT_ZERO: opts->exit_zero = true; break;
        case OPT_STDIN_FILENAME:
                if (!*optarg)
                        return bad_usage("%s", "--stdin-filename needs a name");
                opts->stdin_name = optarg;
                break;
        case OPT_BASE_DIR: opts->base_dir = optarg; break;
        case OPT_DIALECT: return set(set_dialect(opts, optarg), optarg);
        case OPT_CONFIG:
        case OPT_NO_CONFIG: break; /* read before the project config */
        case OPT_FAIL_ON: return set(set_fail_on(run, optarg), optarg);
        case OPT_IGNORE: return set(add_ignore(opts, optarg), optarg);
        case OPT_COLOR: return set(set_color(opts, optarg), optarg);
        case OPT_EXPLAIN: opts->explain = optarg; break;
        case OPT_LIST_RULES: opts->list_rules = true; break;
        case 'j':
        case OPT_JOBS: return set(set_jobs(opts, optarg), optarg);
        case 'h': usage(stdout); return LINT_EXIT_CLEAN;
        case 'V':
                printf("ksafe-lint %s (librdkafka %s, jansson %s)\n", ksafe_version_str(),
                       rd_kafka_version_str(), jansson_version_str());
                return LINT_EXIT_CLEAN;
        case ':': return bad_usage("option '%s' needs an argument", argv[optind - 1]);
        default: return bad_usage("unknown option '%s'", argv[optind - 1]);
        }
        return PARSE_RUN;
}

/* The first pass: only where the project config is (--config,
 * --no-config); the other options wait until it is applied. */
static int find_config_options(int argc, char **argv, lint_opts_t *opts)
{
        int c;
        bool help = false;
        opterr = 0;
        while ((c = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1) {
                if (c == OPT_CONFIG)
                        opts->config = optarg;
                else if (c == OPT_NO_CONFIG)
                        opts->no_config = true;
                help |= c == 'h' || c == 'V';
        }
        optind = 0; /* GNU getopt: scan again from the start */
        if (opts->config && opts->no_config)
                return bad_usage("%s", "--config and --no-config do not go together");
        opts->no_config |= help; /* --help works whatever the project config holds */
        return PARSE_RUN;
}

/* A project config's value that a setter refused. */
static int bad_config(const lint_project_t *p, const char *key, const char *problem,
                      const char *value)
{
        char *file = ksafe_report_escape(p->file);
        fprintf(stderr, "ksafe-lint: %s: %s: ", file ? file : "?", key);
        free(file);
        char *shown = ksafe_report_escape(value);
        fprintf(stderr, problem, shown ? shown : "?");
        free(shown);
        fputc('\n', stderr);
        return LINT_EXIT_USAGE;
}

/* The project config's settings, below the environment and the flags. */
static int apply_project(lint_opts_t *opts, lint_run_t *run)
{
        lint_project_t *p = &opts->project;
        if (!opts->no_config && lint_project_load(opts->config, p) != LINT_EXIT_CLEAN)
                return LINT_EXIT_USAGE;
        if (!p->doc)
                return PARSE_RUN;
        const char *problem;
        if (p->policy && !(opts->policy_path = lint_project_path(p, p->policy)))
                return bad_config(p, "policy", "out of memory ('%s')", p->policy);
        opts->env = p->env;
        if (p->dialect && (problem = set_dialect(opts, p->dialect)))
                return bad_config(p, "dialect", problem, p->dialect);
        if (p->format && (problem = set_format(opts, run, p->format)))
                return bad_config(p, "format", problem, p->format);
        if (p->format && opts->markdown)
                return bad_config(p, "format", "'%s' is for --list-rules only", p->format);
        if (p->fail_on && (problem = set_fail_on(run, p->fail_on)))
                return bad_config(p, "fail-on", problem, p->fail_on);
        for (size_t i = 0; i < p->ignore_count; i++)
                if (strchr(p->ignore[i], ','))
                        return bad_config(p, "ignore", "a list item names one rule ('%s')",
                                          p->ignore[i]);
                else if ((problem = add_ignore(opts, p->ignore[i])))
                        return bad_config(p, "ignore", problem, p->ignore[i]);
        return PARSE_RUN;
}

/* Where each setting comes from, strongest last: the project config, the
 * environment (KSAFE_POLICY, KSAFE_ENV), the flags. */
static int parse_options(int argc, char **argv, lint_opts_t *opts, lint_run_t *run)
{
        int status = find_config_options(argc, argv, opts);
        if (status == PARSE_RUN)
                status = apply_project(opts, run);
        if (status != PARSE_RUN)
                return status;
        const char *policy = getenv("KSAFE_POLICY"), *env = getenv("KSAFE_ENV");
        if (policy && *policy)
                opts->policy_path = policy;
        if (env && *env)
                opts->env = env;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, SHORT_OPTS, long_opts, NULL)) != -1)
                if ((status = parse_option(c, argv, opts, run)) != PARSE_RUN)
                        return status;
        return PARSE_RUN;
}

/* The options that do not go together, and what the inputs must be. */
static int check_options(int argc, char **argv, const lint_opts_t *opts, const lint_run_t *run)
{
        bool only_policy = opts->check_policy || opts->print_policy;
        bool only_rules = opts->list_rules || opts->explain;
        if (opts->markdown && !only_rules)
                return bad_usage("%s", "-f markdown is for --list-rules and --explain");
        if (only_rules && run->format != LINT_FORMAT_TEXT)
                return bad_usage("%s", "--list-rules and --explain print text or markdown");
        if (opts->effective && run->format != LINT_FORMAT_TEXT)
                return bad_usage("%s", "--effective prints text: it does not go with -f");
        if (run->fix && opts->x_count)
                return bad_usage("%s", "--fix rewrites files: it does not go with -X");
        if (optind == argc && !opts->x_count && !only_policy && !only_rules &&
            !opts->project.include_count)
                return bad_usage("%s", "no config file given");
        /* Standard input can be read once: a second '-' would be an empty
         * config judged as if it were one. */
        int stdin_count = 0;
        for (int i = optind; i < argc; i++)
                stdin_count += strcmp(argv[i], "-") == 0;
        if (stdin_count > 1)
                return bad_usage("%s", "'-' (standard input) is given more than once: it can "
                                       "be read only once");
        return PARSE_RUN;
}

/* Colour: --color, else NO_COLOR (any value but ""), else CLICOLOR_FORCE
 * (any but "" and "0"), else a terminal; only ever for text findings. */
static bool use_color(const lint_opts_t *opts, const lint_run_t *run)
{
        if (run->format != LINT_FORMAT_TEXT || opts->color == COLOR_NEVER)
                return false;
        if (opts->color == COLOR_ALWAYS)
                return true;
        const char *no = getenv("NO_COLOR"), *force = getenv("CLICOLOR_FORCE");
        if (no && *no)
                return false;
        if (force && *force && strcmp(force, "0") != 0)
                return true;
        return isatty(STDOUT_FILENO) == 1;
}

/* SARIF names files relative to the base directory (%SRCROOT%). */
static int find_directories(const lint_opts_t *opts, char *cwd, char *base)
{
        if (!getcwd(cwd, PATH_MAX))
                snprintf(cwd, PATH_MAX, "/");
        if (!realpath(opts->base_dir ? opts->base_dir : cwd, base)) {
                int e = errno;
                fputs("ksafe-lint: --base-dir ", stderr);
                put_escaped(opts->base_dir ? opts->base_dir : cwd, stderr);
                fprintf(stderr, ": %s\n", strerror(e));
                return LINT_EXIT_USAGE;
        }
        return PARSE_RUN;
}

static ksafe_policy_t *load_policy(const lint_opts_t *opts, const lint_run_t *run)
{
        ksafe_error_t err = {0};
        /* No -p, no KSAFE_POLICY and no "policy" in the project config: the
         * system policy file if there is one, as the library and the plugin
         * use it. */
        ksafe_policy_t *policy = opts->policy_path && *opts->policy_path
                                         ? ksafe_policy_load(opts->policy_path, opts->env, &err)
                                         : ksafe_policy_load_system(opts->env, &err);
        if (!policy) {
                print_error(stderr, &err);
                /* A report is still a report: code scanning shows why the
                 * run failed instead of an upload of 0 bytes. */
                if (!opts->check_policy && !opts->print_policy && !opts->list_rules &&
                    !opts->explain)
                        lint_print_failure(run->format, err.text, err.source, err.line, err.column,
                                           run->cwd, run->base_dir);
        }
        return policy;
}

/* --print-policy: exact values, but only printable ASCII: a name or a
 * reason with C1 controls, bidi overrides or DEL reaches the terminal as
 * \uNNNN (DEL, ASCII, only occurs inside strings: jansson leaves it raw). */
static int print_policy(const ksafe_policy_t *policy)
{
        char *json = ksafe_policy_to_json(policy);
        json_t *doc = json ? json_loads(json, 0, NULL) : NULL;
        char *ascii =
                doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
                    : NULL;
        for (const char *c = ascii; c && *c; c++)
                if (*c == 0x7f)
                        fputs("\\u007f", stdout);
                else
                        putchar(*c);
        if (ascii)
                putchar('\n');
        else
                fprintf(stderr, "ksafe-lint: out of memory\n");
        free(ascii);
        json_decref(doc);
        free(json);
        return ascii ? LINT_EXIT_CLEAN : LINT_EXIT_USAGE;
}

/* --check-policy and --print-policy. */
static int policy_command(const lint_opts_t *opts, const ksafe_policy_t *policy)
{
        if (opts->print_policy)
                return print_policy(policy);
        char *name = ksafe_report_escape(ksafe_policy_name(policy));
        char *env = opts->env && *opts->env ? ksafe_report_escape(opts->env) : NULL;
        complain(opts->policy_path && *opts->policy_path ? opts->policy_path
                                                         : ksafe_policy_name(policy),
                 "policy \"%s\"%s%s is valid", name ? name : "?", env ? " for " : "",
                 env ? env : "");
        free(name);
        free(env);
        return LINT_EXIT_CLEAN;
}

/* One rule as --explain and --list-rules show it. */
static bool print_rule(const lint_rule_t *rule, bool markdown)
{
        char *text = markdown ? lint_rule_markdown(rule) : lint_rule_text(rule);
        if (text)
                fputs(text, stdout);
        free(text);
        return text != NULL;
}

static const char *const rule_sections[] = {
        [LINT_RULE_BASELINE] = "The safety baseline",
        [LINT_RULE_POLICY] = "The policy's own rules",
        [LINT_RULE_ENGINE] = "Findings of ksafe-lint itself",
};

/* --list-rules: every rule of the policy and the engine; with -f markdown
 * the document that doc/rules.md is. */
static int list_rules(const lint_opts_t *opts, const ksafe_policy_t *policy)
{
        size_t count;
        lint_rule_t *rules = lint_rules_list(policy, &count);
        if (!rules) {
                fprintf(stderr, "ksafe-lint: out of memory\n");
                return LINT_EXIT_USAGE;
        }
        char *name = ksafe_report_escape(ksafe_policy_name(policy));
        if (opts->markdown)
                printf("# ksafe-lint rules\n\n"
                       "What each rule of the policy \"%s\" and each finding of ksafe-lint "
                       "checks, why, and how to fix it. Generated by `ksafe-lint --list-rules "
                       "-f markdown` (`tools/test` fails when this file differs); `ksafe-lint "
                       "--explain RULE` prints one of them, and SARIF's rule help is the same "
                       "text.\n",
                       name ? name : "?");
        bool ok = true;
        for (size_t i = 0; i < count; i++) {
                if (opts->markdown && (i == 0 || rules[i].kind != rules[i - 1].kind))
                        printf("\n## %s\n", rule_sections[rules[i].kind]);
                if (i > 0 || opts->markdown)
                        putchar('\n');
                ok &= print_rule(&rules[i], opts->markdown);
        }
        free(name);
        lint_rules_free(rules, count);
        return ok ? LINT_EXIT_CLEAN : LINT_EXIT_USAGE;
}

static int explain(const lint_opts_t *opts, const ksafe_policy_t *policy)
{
        lint_rule_t rule;
        int found = lint_rule_find(policy, opts->explain, &rule);
        if (found == 0)
                return bad_usage("unknown rule '%s' (ksafe-lint --list-rules lists them)",
                                 opts->explain);
        bool ok = found > 0 && print_rule(&rule, opts->markdown);
        lint_rule_free(&rule);
        return ok ? LINT_EXIT_CLEAN : LINT_EXIT_USAGE;
}

/* --ignore names rules that exist, and none of the baseline's unless the
 * policy allows weakening it. */
static int check_ignore(const lint_opts_t *opts, const ksafe_policy_t *policy)
{
        for (size_t i = 0; i < opts->ignore_count; i++) {
                lint_rule_t rule;
                int found = lint_rule_find(policy, opts->ignore[i], &rule);
                lint_rule_free(&rule);
                if (found < 0)
                        return bad_usage("%s", "out of memory");
                if (found == 0)
                        return bad_usage("--ignore: unknown rule '%s' (ksafe-lint --list-rules "
                                         "lists them)",
                                         opts->ignore[i]);
                if (strcmp(opts->ignore[i], "ksafe-suppression-refused") == 0 ||
                    (lint_rule_is_baseline(opts->ignore[i]) && !ksafe_policy_allows_unsafe(policy)))
                        return bad_usage("--ignore: '%s' is a rule of the safety baseline: only "
                                         "a policy with allow_unsafe may weaken it",
                                         opts->ignore[i]);
        }
        return PARSE_RUN;
}

/* A named input: a directory is searched, an excluded file skipped. */
static int add_named(inputs_t *in, const char *name, const lint_opts_t *opts)
{
        struct stat st;
        bool known = strcmp(name, "-") != 0 && stat(name, &st) == 0;
        if (known && S_ISDIR(st.st_mode)) {
                visited_t seen = {0};
                size_t before = in->count;
                wanted_t want = {opts->extensions, &opts->project};
                int status = walk(in, name, &want, &seen, &st);
                if (in->count == before) {
                        char *ext = ksafe_report_escape(opts->extensions);
                        complain(name, "no config file here (extensions: %s)", ext ? ext : "?");
                        free(ext);
                        status = LINT_EXIT_USAGE;
                }
                return status;
        }
        if (strcmp(name, "-") != 0 && excluded(&opts->project, name))
                return LINT_EXIT_CLEAN; /* the project excludes it, wherever it is named */
        return inputs_add(in, name, known && S_ISFIFO(st.st_mode)) ? LINT_EXIT_CLEAN
                                                                   : LINT_EXIT_USAGE;
}

/* Files that the project config's include found, named from the current
 * directory when they are below it (as findings name files named so). */
static void relative_to_cwd(inputs_t *in)
{
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") == 0)
                return;
        size_t n = strlen(cwd);
        for (size_t i = 0; i < in->count; i++) {
                char *name = in->arena + in->offsets[i];
                if (!in->dir[i] && strncmp(name, cwd, n) == 0 && name[n] == '/')
                        memmove(name, name + n + 1, strlen(name + n));
        }
        /* A file in a directory: DIR/NAME is below the current one when
         * DIR is it (then NAME alone: "") or below it. */
        for (size_t d = 0; d < in->dir_count; d++) {
                char *dir = in->arena + in->dirs[d];
                if (strcmp(dir, cwd) == 0)
                        dir[0] = '\0';
                else if (strncmp(dir, cwd, n) == 0 && dir[n] == '/')
                        memmove(dir, dir + n + 1, strlen(dir + n));
        }
}

/* The inputs: the files named (directories searched), else the project
 * config's include globs, else the -X properties by themselves. */
static int collect_inputs(int argc, char **argv, const lint_opts_t *opts, inputs_t *in)
{
        int status = LINT_EXIT_CLEAN;
        for (int i = optind; i < argc; i++)
                status |= add_named(in, argv[i], opts);
        if (optind == argc && opts->project.include_count && !opts->x_count) {
                visited_t seen = {0};
                wanted_t want = {NULL, &opts->project};
                status |= walk(in, opts->project.dir, &want, &seen, NULL);
                relative_to_cwd(in);
                if (!in->count) {
                        complain(opts->project.file, "include: no file matches");
                        status = LINT_EXIT_USAGE;
                }
        }
        if (optind == argc && opts->x_count && !inputs_add(in, "<command line>", false))
                status = LINT_EXIT_USAGE;
        return status;
}

/* What judging the inputs shares: immutable while the jobs run, but for
 * what take_input() changes on the calling thread. */
typedef struct stream_s {
        const lint_run_t *run;
        const lint_opts_t *opts;
        const inputs_t *in;
        lint_writer_t *w;
        lint_totals_t totals;
        int status;
} stream_t;

/* Judge input i (on a worker thread, or the calling one). */
static void judge_input(void *ctx, size_t i, lint_job_t *job, FILE *err, FILE *out)
{
        const stream_t *st = ctx;
        lint_result_t *r = &job->result;
        r->name = input_path_dup(st->in, i);
        if (!r->name) {
                fputs("ksafe-lint: out of memory\n", err);
                job->status = LINT_EXIT_USAGE;
                return;
        }
        r->display = ksafe_report_escape(strcmp(r->name, "-") != 0 ? r->name
                                         : st->opts->stdin_name    ? st->opts->stdin_name
                                                                   : "<stdin>");
        r->named_again = st->in->again && st->in->again[i];
        job->status = lint_one(st->run, st->opts, r, st->in->pipe[i], err, out);
}

/* Write input i's findings (in input order) and free its result. */
static void take_input(void *ctx, size_t i, lint_job_t *job)
{
        (void)i;
        stream_t *st = ctx;
        lint_result_t *r = &job->result;
        st->status |= job->status;
        if (!r->name)
                return; /* not judged: out of memory */
        lint_tally(st->run, r, &st->totals);
        lint_writer_add(st->w, r);
        ksafe_report_destroy(r->report);
        ksafe_report_destroy(r->enforced);
        free(r->findings);
        lint_result_clear(r);
        free(r->name);
        free(r->error);
        free(r->display);
        free(r->text);
}

/* How many inputs are read from a stream: standard input and named pipes.
 * Two of them may be one stream under two names ("-" and /dev/stdin of a
 * pipe, /dev/fd/0): one thread reads the first to its end and the second
 * finds nothing, but two threads at once would each read part of it. */
static size_t stream_inputs(const inputs_t *in)
{
        size_t n = 0;
        for (size_t i = 0; i < in->count; i++)
                n += in->pipe[i] || (!in->dir[i] && strcmp(in->arena + in->offsets[i], "-") == 0);
        return n;
}

/* Judge every input and print the findings as each is judged: a file's
 * report is freed once written (memory does not grow with the number of
 * inputs); with --jobs, several are judged at once, and written in input
 * order. The exit status. */
static int lint_inputs(int argc, char **argv, const lint_opts_t *opts, lint_run_t *run)
{
        int status = check_ignore(opts, run->policy);
        if (status != PARSE_RUN)
                return status;
        inputs_t in = {0};
        status = collect_inputs(argc, argv, opts, &in);
        /* SARIF and GitLab drop a result made twice (one file named
         * twice): they remember results of the inputs named twice only. */
        if ((run->format == LINT_FORMAT_SARIF || run->format == LINT_FORMAT_GITLAB) &&
            (in.again = calloc(in.count ? in.count : 1, sizeof(*in.again)))) {
                name_buf_t nb = {.in = &in};
                lint_named_again(run, in.count, name_at, &nb, in.again);
                free(nb.last);
        }
        lint_writer_t *w = lint_writer_new(run);
        /* --fix judges one input at a time: a file named twice is fixed
         * once, and judged again as fixed. So do two streams (see
         * stream_inputs()). One input at a time unless --jobs says: on 2
         * processors, -j 2 spent twice the CPU for the same wall time
         * (100,000 small configs: 1.7 s either way, 3.3 s of CPU against
         * 1.8; per file, a worker's judging is no longer than the
         * hand-over to the writer and its lock). */
        unsigned jobs =
                run->fix || in.count < 2 || !opts->jobs || stream_inputs(&in) > 1 ? 1 : opts->jobs;
        stream_t st = {run, opts, &in, w, {0}, status};
        if (w)
                lint_jobs_run(in.count, jobs, judge_input, take_input, &st);
        lint_totals_t totals = st.totals;
        status = st.status;
        if (!lint_writer_finish(w))
                status = LINT_EXIT_USAGE;
        if (run->format == LINT_FORMAT_GITHUB || run->format == LINT_FORMAT_GITHUB_GROUPS)
                print_github_summary(&totals);
        if (!run->quiet && run->format == LINT_FORMAT_TEXT)
                print_summary(run, &totals);
        if (ksafe_policy_allows_unsafe(run->policy)) {
                char *name = ksafe_report_escape(ksafe_policy_name(run->policy));
                fprintf(stderr,
                        "ksafe-lint: note: policy \"%s\" sets allow_unsafe: it may weaken the "
                        "safety baseline\n",
                        name ? name : "?");
                free(name);
        }
        inputs_free(&in);
        if (status)
                return LINT_EXIT_USAGE;
        return totals.failed && !opts->exit_zero ? LINT_EXIT_FINDINGS : LINT_EXIT_CLEAN;
}

static int finish(lint_opts_t *opts, int status)
{
        for (size_t i = 0; i < opts->ignore_count; i++)
                free(opts->ignore[i]);
        lint_project_free(&opts->project);
        /* A write that failed earlier (a flush) leaves ferror(stdout) set. */
        if (ferror(stdout) | fclose(stdout)) {
                perror("ksafe-lint: stdout");
                return LINT_EXIT_USAGE;
        }
        return status;
}

int main(int argc, char **argv)
{
        lint_opts_t opts = {.extensions = "properties,conf,json"};
        lint_run_t run = {0};
        char cwd[PATH_MAX], base[PATH_MAX];
        int status = parse_options(argc, argv, &opts, &run);
        if (status == PARSE_RUN)
                status = check_options(argc, argv, &opts, &run);
        if (status == PARSE_RUN)
                status = find_directories(&opts, cwd, base);
        if (status != PARSE_RUN)
                return finish(&opts, status);
        run.cwd = cwd;
        run.base_dir = base;
        run.stdin_name = opts.stdin_name;
        run.color = use_color(&opts, &run);
        run.effective = opts.effective;
        ksafe_policy_t *policy = load_policy(&opts, &run);
        if (!policy)
                return finish(&opts, LINT_EXIT_USAGE);
        run.policy = policy;
        if (opts.list_rules)
                status = list_rules(&opts, policy);
        else if (opts.explain)
                status = explain(&opts, policy);
        else if (opts.check_policy || opts.print_policy)
                status = policy_command(&opts, policy);
        else
                status = lint_inputs(argc, argv, &opts, &run);
        ksafe_policy_destroy(policy);
        return finish(&opts, status);
}
