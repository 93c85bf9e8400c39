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

typedef struct lint_opts_s {
        const char *policy_path;
        const char *env;
        const char *json_pointer;
        const char *extensions;
        ksafe_dialect_t dialect;
        bool check_policy;
        bool print_policy;
        bool effective;
        bool exit_zero; /* findings do not fail the run (exit 0, not 1) */
        const char *stdin_name; /* --stdin-filename */
        const char *base_dir;   /* --base-dir, as given */
        const char *x[MAX_X]; /* -X key=value, in order */
        size_t x_count;
} lint_opts_t;

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: ksafe-lint [OPTIONS] [FILE|DIR|-]...\n"
                "Check librdkafka producer configs (.properties or JSON) against a ksafe\n"
                "policy. '-' reads standard input (once); a directory is searched recursively.\n"
                "\n"
                "Policy:\n"
                "  -p, --policy FILE      policy file (default: $KSAFE_POLICY, else the built-in\n"
                "                         default; 'builtin:default' names it)\n"
                "  -e, --env NAME         policy environment (default: $KSAFE_ENV)\n"
                "      --check-policy     validate the policy and exit\n"
                "      --print-policy     print the resolved policy as JSON and exit\n"
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
                "  -W error               treat warnings as errors\n"
                "      --exit-zero        exit 0 whatever the findings (still 2 for bad usage,\n"
                "                         an unreadable input or a bad policy)\n"
                "  -q, --quiet            errors only; no warnings, no summary\n"
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

/* "ksafe-lint: NAME: TEXT" on stderr, NAME escaped. */
static void complain(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void complain(const char *name, const char *fmt, ...)
{
        fputs("ksafe-lint: ", stderr);
        put_escaped(name, stderr);
        fputs(": ", stderr);
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* "ksafe-lint: SOURCE:LINE:COL: TEXT", with the location as far as known;
 * the source and the text may hold any name a policy or a file gave. */
static void print_error(const ksafe_error_t *err)
{
        fprintf(stderr, "ksafe-lint: ");
        if (err->source[0]) {
                put_escaped(err->source, stderr);
                fputc(':', stderr);
        }
        if (err->line > 0)
                fprintf(stderr, "%d:%d:", err->line, err->column);
        fputs(err->source[0] || err->line > 0 ? " " : "", stderr);
        put_escaped(err->text, stderr);
        fputc('\n', stderr);
}

/*
 * Inputs
 */

typedef struct inputs_s {
        char **names;
        size_t count, cap;
} inputs_t;

static bool inputs_add(inputs_t *in, const char *name)
{
        if (in->count == in->cap) {
                size_t cap = in->cap ? in->cap * 2 : 64;
                char **names = realloc(in->names, cap * sizeof(*names));
                if (!names)
                        return false;
                in->names = names;
                in->cap = cap;
        }
        return (in->names[in->count++] = strdup(name)) != NULL;
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

/* Files below `dir` with one of the extensions, in sorted order. */
static int walk(inputs_t *in, const char *dir, const char *extensions, visited_t *way)
{
        struct stat self;
        if (stat(dir, &self) != 0 || on_the_way_down(way, &self))
                return LINT_EXIT_CLEAN;
        if (way->count == MAX_DEPTH) {
                complain(dir, "more than %d directories deep", MAX_DEPTH);
                return LINT_EXIT_USAGE;
        }
        struct dirent **list;
        int n = scandir(dir, &list, NULL, alphasort);
        if (n < 0) {
                complain(dir, "%s", strerror(errno));
                return LINT_EXIT_USAGE;
        }
        way->dev[way->count] = self.st_dev;
        way->ino[way->count++] = self.st_ino;
        int status = LINT_EXIT_CLEAN;
        for (int i = 0; i < n; i++) {
                const char *name = list[i]->d_name;
                char path[4096];
                struct stat st;
                if (name[0] == '.') {
                        free(list[i]);
                        continue;
                }
                /* Nothing a search finds is skipped without a word: a path
                 * too long to name, or a config that cannot be looked at (a
                 * broken link), is an unreadable input. */
                if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
                        complain(dir, "an entry's path is longer than %zu bytes: not read",
                                 sizeof(path) - 1);
                        status = LINT_EXIT_USAGE;
                        free(list[i]);
                        continue;
                }
                if (stat(path, &st) != 0) {
                        if (has_extension(name, extensions) && !inputs_add(in, path))
                                status = LINT_EXIT_USAGE;
                        free(list[i]);
                        continue;
                }
                if (S_ISDIR(st.st_mode))
                        status |= walk(in, path, extensions, way);
                else if (S_ISREG(st.st_mode) && has_extension(name, extensions) &&
                         !inputs_add(in, path))
                        status = LINT_EXIT_USAGE;
                free(list[i]);
        }
        free(list);
        way->count--;
        return status;
}

/* A stream (standard input, a pipe), whole, with the size cap of files
 * (the library's KSAFE_CONFIG_MAX_SIZE: EFBIG beyond, after reading one
 * byte more); NULL with errno set on failure. */
static char *read_stream(FILE *in, size_t *lenp)
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

/* A named pipe: what `ksafe-lint <(kubectl ...)` and /dev/stdin of a pipe
 * name. It is read as standard input is; the library's file reader refuses
 * anything but a regular file (it must never block on a policy). */
static bool is_pipe(const char *name)
{
        struct stat st;
        return stat(name, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* Read standard input or a named pipe into a config; `source` names it. */
static ksafe_config_t *read_piped(FILE *in, const char *source,
                                  const ksafe_config_options_t *options, ksafe_error_t *err,
                                  lint_result_t *keep)
{
        size_t len = 0;
        char *data = in ? read_stream(in, &len) : NULL;
        if (!data) {
                /* In the words ksafe_config_read_file() uses for a file. */
                snprintf(err->source, sizeof(err->source), "%s", source);
                if (errno == EFBIG)
                        snprintf(err->text, sizeof(err->text), "cannot read: larger than %zu MiB",
                                 KSAFE_CONFIG_MAX_SIZE >> 20);
                else
                        snprintf(err->text, sizeof(err->text), "cannot read: %s",
                                 strerror(errno));
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

/* `keep`, when not NULL, gets a piped input's bytes. */
static ksafe_config_t *read_input(const char *name, const lint_opts_t *opts, ksafe_error_t *err,
                                  lint_result_t *keep)
{
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = opts->dialect,
                                          .json_pointer = opts->json_pointer};
        ksafe_config_t *cfg;
        if (strcmp(name, "-") == 0) {
                cfg = read_piped(stdin, opts->stdin_name ? opts->stdin_name : "<stdin>",
                                 &options, err, keep);
        } else if (strcmp(name, "<command line>") == 0) {
                cfg = ksafe_config_read("", 0, name, &options, err);
        } else if (is_pipe(name)) {
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
static bool write_file(const char *path, const char *text, size_t len, char *why,
                       size_t why_size)
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
                        snprintf(why, why_size, "cannot write the fixed file: %s",
                                 strerror(errno));
                return ok;
        }
        if (snprintf(tmp, sizeof(tmp), "%s.ksafe-XXXXXX", real) >= (int)sizeof(tmp)) {
                snprintf(why, why_size, "cannot write the fixed file: %s",
                         strerror(ENAMETOOLONG));
                return false;
        }
        int fd = mkstemp(tmp);
        if (fd < 0) {
                snprintf(why, why_size, "cannot write the fixed file: %s", strerror(errno));
                return false;
        }
        /* Owner first (a chown may clear set-id bits), then the mode. */
        if (fstat(fd, &mine) != 0 ||
            ((mine.st_uid != st.st_uid || mine.st_gid != st.st_gid) &&
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
 * repair changed from its report. false, with `err` set, when that cannot
 * be done. */
static bool judge_as_written(const lint_run_t *run, const lint_opts_t *opts,
                             lint_result_t *result, const char *text, size_t len,
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
        ksafe_config_destroy(now);
        size_t fixed = 0, left = ksafe_report_count(after);
        for (size_t k = 0; k < ksafe_report_count(result->report); k++)
                fixed += ksafe_report_get(result->report, k)->fixed;
        const ksafe_violation_t **all = calloc(fixed + left + 1, sizeof(*all));
        if (!after || !all) {
                ksafe_report_destroy(after);
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
                if (next_fixed && (!v || next_fixed->line < v->line ||
                                   (next_fixed->line == v->line &&
                                    next_fixed->column <= v->column))) {
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
        return true;
}

/* Judge one input (and repair it with --fix); NULL report when unreadable. */
static int lint_one(lint_run_t *run, const lint_opts_t *opts, lint_result_t *result)
{
        ksafe_error_t err = {0};
        ksafe_config_t *cfg = read_input(result->name, opts, &err,
                                         run->format == LINT_FORMAT_SARIF ? result : NULL);
        if (!cfg) {
                print_error(&err);
                result->error = ksafe_report_escape(err.text);
                return LINT_EXIT_USAGE;
        }
        int status = LINT_EXIT_CLEAN;
        bool is_file = strcmp(result->name, "-") != 0 &&
                       strcmp(result->name, "<command line>") != 0 && !is_pipe(result->name);
        if (run->fix && !is_file) {
                complain(result->name, "--fix rewrites files only");
                status = LINT_EXIT_USAGE;
        }
        if (run->fix && is_file) {
                /* A refused enforcement (a conflict, a reject rule) leaves
                 * no change to write. */
                result->report = ksafe_config_enforce(cfg, run->policy);
                size_t len;
                char *text = ksafe_config_change_count(cfg) ? ksafe_config_render(cfg, &len)
                                                             : NULL;
                char why[256];
                if (text && !write_file(result->name, text, len, why, sizeof(why))) {
                        complain(result->name, "%s", why);
                        status = LINT_EXIT_USAGE;
                        /* Nothing was fixed: report the file as it still is. */
                        ksafe_report_destroy(result->report);
                        ksafe_config_t *unchanged = read_input(result->name, opts, &err, NULL);
                        result->report = unchanged ? ksafe_config_check(unchanged, run->policy)
                                                   : NULL;
                        ksafe_config_destroy(unchanged);
                } else if (text && !judge_as_written(run, opts, result, text, len, &err)) {
                        complain(result->name, "fixed, but cannot judge the fixed file: %s",
                                 err.text);
                        status = LINT_EXIT_USAGE;
                }
                free(text);
        } else {
                result->report = ksafe_config_check(cfg, run->policy);
        }
        if (opts->effective) {
                ksafe_report_t *enforced = run->fix ? NULL : ksafe_config_enforce(cfg, run->policy);
                char *text = ksafe_config_effective(cfg, run->policy);
                printf("# %s, as librdkafka would use it after enforcement\n%s",
                       result->display ? result->display : "?", text ? text : "");
                free(text);
                ksafe_report_destroy(enforced);
        }
        if (!result->report) {
                complain(result->name, "out of memory");
                status = LINT_EXIT_USAGE;
        }
        ksafe_config_destroy(cfg);
        return status;
}

static void print_summary(const lint_run_t *run)
{
        fflush(stdout); /* the findings first, also when both go to one pipe */
        size_t errors = 0, warnings = 0, fixed = 0, unreadable = 0;
        for (size_t i = 0; i < run->count; i++)
                unreadable += run->results[i].report == NULL;
        for (size_t i = 0; i < run->count; i++)
                for (size_t k = 0; k < lint_result_count(&run->results[i]); k++) {
                        const ksafe_violation_t *v = lint_result_get(&run->results[i], k);
                        if (run->fix && v->fixed)
                                fixed++;
                        else if (v->severity == KSAFE_SEVERITY_ERROR)
                                errors++;
                        else
                                warnings++;
                }
        size_t checked = run->count - unreadable;
        fprintf(stderr, "ksafe-lint: %zu file%s checked: %zu error%s, %zu warning%s", checked,
                checked == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
                warnings == 1 ? "" : "s");
        if (unreadable)
                fprintf(stderr, ", %zu unreadable", unreadable);
        if (run->fix)
                fprintf(stderr, ", %zu fixed", fixed);
        fprintf(stderr, "\n");
}

static int parse_format(const char *s, lint_format_t *out)
{
        return lint_format_parse(s, out) ? 0 : -1;
}

enum long_only { OPT_FIX = 256, OPT_CHECK_POLICY, OPT_PRINT_POLICY, OPT_EFFECTIVE,
                 OPT_JSON_POINTER, OPT_DIALECT, OPT_EXT, OPT_EXIT_ZERO,
                 OPT_STDIN_FILENAME, OPT_BASE_DIR };

static int parse_options(int argc, char **argv, lint_opts_t *opts, lint_run_t *run)
{
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
                {NULL, 0, NULL, 0},
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":p:e:f:W:X:qhV", long_opts, NULL)) != -1) {
                switch (c) {
                case 'p': opts->policy_path = optarg; break;
                case 'e': opts->env = optarg; break;
                case 'f':
                        if (parse_format(optarg, &run->format) != 0)
                                return bad_usage("unknown format '%s' (" LINT_FORMAT_NAMES ")",
                                                 optarg);
                        break;
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
                case OPT_DIALECT:
                        if (strcmp(optarg, "java") == 0)
                                opts->dialect = KSAFE_DIALECT_JAVA;
                        else if (strcmp(optarg, "librdkafka") == 0)
                                opts->dialect = KSAFE_DIALECT_LIBRDKAFKA;
                        else
                                return bad_usage("unknown dialect '%s' (librdkafka or java)",
                                                 optarg);
                        break;
                case 'h':
                        usage(stdout);
                        return -LINT_EXIT_CLEAN - 1;
                case 'V':
                        printf("ksafe-lint %s (librdkafka %s, jansson %s)\n", ksafe_version_str(),
                               rd_kafka_version_str(), jansson_version_str());
                        return -LINT_EXIT_CLEAN - 1;
                case ':': return bad_usage("option '%s' needs an argument", argv[optind - 1]);
                default: return bad_usage("unknown option '%s'", argv[optind - 1]);
                }
        }
        return 0;
}

static int finish(int status)
{
        /* A write that failed earlier (a flush) leaves ferror(stdout) set. */
        if (ferror(stdout) | fclose(stdout)) {
                perror("ksafe-lint: stdout");
                return LINT_EXIT_USAGE;
        }
        return status;
}

int main(int argc, char **argv)
{
        lint_opts_t opts = {
                .policy_path = getenv("KSAFE_POLICY"),
                .env = getenv("KSAFE_ENV"),
                .extensions = "properties,conf,json",
        };
        lint_run_t run = {0};
        int status = parse_options(argc, argv, &opts, &run);
        if (status < 0)
                return finish(-status - 1); /* --help, --version */
        if (status > 0)
                return status;
        bool policy_only = opts.check_policy || opts.print_policy;
        if (opts.effective && run.format != LINT_FORMAT_TEXT)
                return bad_usage("%s", "--effective prints text: it does not go with -f");
        if (run.fix && opts.x_count)
                return bad_usage("%s", "--fix rewrites files: it does not go with -X");
        if (optind == argc && !opts.x_count && !policy_only)
                return bad_usage("%s", "no config file given");
        /* Standard input can be read once: a second '-' would be an empty
         * config judged as if it were one. */
        int stdin_count = 0;
        for (int i = optind; i < argc; i++)
                stdin_count += strcmp(argv[i], "-") == 0;
        if (stdin_count > 1)
                return bad_usage("%s", "'-' (standard input) is given more than once: it can "
                                       "be read only once");

        /* SARIF names files relative to the base directory (%SRCROOT%). */
        char cwd[PATH_MAX], base[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                snprintf(cwd, sizeof(cwd), "/");
        if (!realpath(opts.base_dir ? opts.base_dir : cwd, base)) {
                int e = errno;
                fputs("ksafe-lint: --base-dir ", stderr);
                put_escaped(opts.base_dir ? opts.base_dir : cwd, stderr);
                fprintf(stderr, ": %s\n", strerror(e));
                return LINT_EXIT_USAGE;
        }
        run.cwd = cwd;
        run.base_dir = base;
        run.stdin_name = opts.stdin_name;

        ksafe_error_t err = {0};
        const char *path = opts.policy_path && *opts.policy_path ? opts.policy_path
                                                                 : "builtin:default";
        ksafe_policy_t *policy = ksafe_policy_load(path, opts.env, &err);
        if (!policy) {
                print_error(&err);
                /* A report is still a report: code scanning shows why the
                 * run failed instead of an upload of 0 bytes. */
                if (!policy_only)
                        lint_print_failure(run.format, err.text, err.source, err.line,
                                           err.column, cwd, base);
                return finish(LINT_EXIT_USAGE);
        }
        run.policy = policy;
        /* Names from the policy file and the command line, escaped. */
        char *name = ksafe_report_escape(ksafe_policy_name(policy));
        char *env = opts.env && *opts.env ? ksafe_report_escape(opts.env) : NULL;
        if (policy_only) {
                if (opts.print_policy) {
                        /* Exact values, but only printable ASCII: a name or
                         * a reason with C1 controls, bidi overrides or DEL
                         * reaches the terminal as \uNNNN (DEL, ASCII, only
                         * occurs inside strings: jansson leaves it raw). */
                        char *json = ksafe_policy_to_json(policy);
                        json_t *doc = json ? json_loads(json, 0, NULL) : NULL;
                        char *ascii = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                                                    JSON_ENSURE_ASCII)
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
                        if (!ascii) {
                                free(name);
                                free(env);
                                ksafe_policy_destroy(policy);
                                return finish(LINT_EXIT_USAGE);
                        }
                } else {
                        complain(path, "policy \"%s\"%s%s is valid", name ? name : "?",
                                 env ? " for " : "", env ? env : "");
                }
                free(name);
                free(env);
                ksafe_policy_destroy(policy);
                return finish(LINT_EXIT_CLEAN);
        }

        inputs_t in = {0};
        for (int i = optind; i < argc; i++) {
                struct stat st;
                if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                        visited_t seen = {0};
                        size_t before = in.count;
                        status |= walk(&in, argv[i], opts.extensions, &seen);
                        if (in.count == before) {
                                char *ext = ksafe_report_escape(opts.extensions);
                                complain(argv[i], "no config file here (extensions: %s)",
                                         ext ? ext : "?");
                                free(ext);
                                status = LINT_EXIT_USAGE;
                        }
                } else if (!inputs_add(&in, argv[i])) {
                        status = LINT_EXIT_USAGE;
                }
        }
        if (optind == argc && !inputs_add(&in, "<command line>"))
                status = LINT_EXIT_USAGE;

        run.results = calloc(in.count ? in.count : 1, sizeof(*run.results));
        for (size_t i = 0; run.results && i < in.count; i++) {
                lint_result_t *r = &run.results[run.count++];
                r->name = in.names[i];
                r->display = ksafe_report_escape(strcmp(r->name, "-") != 0 ? r->name
                                                 : opts.stdin_name           ? opts.stdin_name
                                                                             : "<stdin>");
                status |= lint_one(&run, &opts, r);
        }
        if (!lint_print(&run))
                status = LINT_EXIT_USAGE;
        if (!run.quiet && run.format == LINT_FORMAT_TEXT)
                print_summary(&run);
        if (ksafe_policy_allows_unsafe(policy))
                fprintf(stderr,
                        "ksafe-lint: note: policy \"%s\" sets allow_unsafe: it may weaken the "
                        "safety baseline\n",
                        name ? name : "?");

        int result = status ? LINT_EXIT_USAGE : LINT_EXIT_CLEAN;
        for (size_t i = 0; i < run.count; i++) {
                for (size_t k = 0; k < lint_result_count(&run.results[i]); k++)
                        if (result == LINT_EXIT_CLEAN && !opts.exit_zero &&
                            lint_is_failure(&run, lint_result_get(&run.results[i], k)))
                                result = LINT_EXIT_FINDINGS;
                ksafe_report_destroy(run.results[i].report);
                ksafe_report_destroy(run.results[i].enforced);
                free(run.results[i].findings);
                free(run.results[i].error);
                free(run.results[i].display);
                free(run.results[i].text);
        }
        for (size_t i = 0; i < in.count; i++)
                free(in.names[i]);
        free(in.names);
        free(run.results);
        free(name);
        free(env);
        ksafe_policy_destroy(policy);
        return finish(result);
}
