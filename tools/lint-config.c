/*
 * The project config file, .ksafe-lint.json: found by walking up from the
 * current directory (or named by --config), read strictly (an unknown key
 * or a wrong type is an error with the file and the JSON path), its paths
 * relative to its own directory. doc/ksafe-lint-config.schema.json
 * describes it for editors; tests/cli/test_knobs.py checks that the two
 * agree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lint.h"

static void say(const char *file, const char *path, const char *fmt, const char *arg)
{
        char *shown_file = ksafe_report_escape(file);
        char *shown_arg = arg ? ksafe_report_escape(arg) : NULL;
        fprintf(stderr, "ksafe-lint: %s: %s%s", shown_file ? shown_file : "?", path ? path : "",
                path ? ": " : "");
        fprintf(stderr, fmt, shown_arg ? shown_arg : "");
        fputc('\n', stderr);
        free(shown_file);
        free(shown_arg);
}

/* A string member, or NULL; false (and said) when it is not a string. */
static bool get_string(const json_t *doc, const char *file, const char *key, const char **out)
{
        const json_t *v = json_object_get(doc, key);
        *out = json_string_value(v);
        if (v && !json_is_string(v)) {
                say(file, key, "%smust be a string", NULL);
                return false;
        }
        return true;
}

/* An array of strings, or none; false (and said) when it is anything else. */
static bool get_list(const json_t *doc, const char *file, const char *key, const char ***out,
                     size_t *count)
{
        const json_t *v = json_object_get(doc, key);
        *out = NULL;
        *count = 0;
        if (!v)
                return true;
        if (!json_is_array(v)) {
                say(file, key, "%smust be an array of strings", NULL);
                return false;
        }
        *out = calloc(json_array_size(v) + 1, sizeof(**out));
        if (!*out) {
                say(file, key, "%sout of memory", NULL);
                return false;
        }
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item) {
                char where[64];
                snprintf(where, sizeof(where), "%s[%zu]", key, i);
                if (!json_is_string(item) || !*json_string_value(item)) {
                        say(file, where, "%smust be a non-empty string", NULL);
                        return false;
                }
                (*out)[(*count)++] = json_string_value(item);
        }
        return true;
}

static const char *const known_keys[] = {"$schema", "policy", "env",     "dialect", "format",
                                         "fail-on", "ignore", "include", "exclude"};

static bool check_keys(const json_t *doc, const char *file)
{
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)doc, key, v) {
                bool known = false;
                for (size_t i = 0; i < sizeof(known_keys) / sizeof(*known_keys); i++)
                        known |= strcmp(key, known_keys[i]) == 0;
                if (!known) {
                        say(file, NULL,
                            "unknown key \"%s\" (known: policy, env, dialect, format, fail-on, "
                            "ignore, include, exclude)",
                            key);
                        return false;
                }
        }
        return true;
}

/* The directory of `file` (absolute), into `dir`. */
static bool dir_of(const char *file, char *dir, size_t size)
{
        char real[PATH_MAX];
        if (!realpath(file, real))
                return false;
        char *slash = strrchr(real, '/');
        if (slash == real)
                slash[1] = '\0';
        else if (slash)
                *slash = '\0';
        return snprintf(dir, size, "%s", real) < (int)size;
}

/* .ksafe-lint.json in the current directory or the nearest one above. */
static bool find_up(char *found, size_t size)
{
        char dir[PATH_MAX];
        if (!getcwd(dir, sizeof(dir)))
                return false;
        for (;;) {
                struct stat st;
                if (snprintf(found, size, "%s%s" LINT_PROJECT_FILE, dir,
                             strcmp(dir, "/") == 0 ? "" : "/") < (int)size &&
                    stat(found, &st) == 0 && S_ISREG(st.st_mode))
                        return true;
                char *slash = strrchr(dir, '/');
                if (!slash || strcmp(dir, "/") == 0)
                        return false;
                if (slash == dir)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
}

static bool read_members(lint_project_t *p, const char *file)
{
        return check_keys(p->doc, file) && get_string(p->doc, file, "policy", &p->policy) &&
               get_string(p->doc, file, "env", &p->env) &&
               get_string(p->doc, file, "dialect", &p->dialect) &&
               get_string(p->doc, file, "format", &p->format) &&
               get_string(p->doc, file, "fail-on", &p->fail_on) &&
               get_list(p->doc, file, "ignore", &p->ignore, &p->ignore_count) &&
               get_list(p->doc, file, "include", &p->include, &p->include_count) &&
               get_list(p->doc, file, "exclude", &p->exclude, &p->exclude_count);
}

int lint_project_load(const char *named, lint_project_t *p)
{
        *p = (lint_project_t){0};
        char found[PATH_MAX];
        if (!named && !find_up(found, sizeof(found)))
                return LINT_EXIT_CLEAN; /* none: nothing to apply */
        const char *file = named ? named : found;
        json_error_t jerr;
        struct stat st;
        if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
                say(file, NULL, "%s", stat(file, &st) != 0 ? strerror(errno) : "not a file");
                return LINT_EXIT_USAGE;
        }
        p->doc = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
        if (!p->doc) {
                char where[64];
                snprintf(where, sizeof(where), "%d:%d", jerr.line, jerr.column);
                say(file, where, "%s", jerr.text);
                return LINT_EXIT_USAGE;
        }
        if (!json_is_object(p->doc)) {
                say(file, NULL, "%sthe project config must be a JSON object", NULL);
                lint_project_free(p);
                return LINT_EXIT_USAGE;
        }
        p->file = strdup(file);
        if (!p->file || !dir_of(file, p->dir, sizeof(p->dir)) || !read_members(p, file)) {
                lint_project_free(p);
                return LINT_EXIT_USAGE;
        }
        return LINT_EXIT_CLEAN;
}

void lint_project_free(lint_project_t *p)
{
        json_decref(p->doc);
        free(p->file);
        free(p->ignore);
        free(p->include);
        free(p->exclude);
        free(p->policy_path);
        *p = (lint_project_t){0};
}

const char *lint_project_path(lint_project_t *p, const char *name)
{
        if (!name || name[0] == '/' || strncmp(name, "builtin:", 8) == 0)
                return name;
        free(p->policy_path);
        size_t n = strlen(p->dir) + strlen(name) + 2;
        p->policy_path = malloc(n);
        if (p->policy_path)
                snprintf(p->policy_path, n, "%s/%s", p->dir, name);
        return p->policy_path;
}

/*
 * Globs: `*` and `?` within a path segment, `**` across segments (`**` +
 * `/` also matches no directory at all), everything else literally.
 */
static bool glob_match(const char *pat, const char *s)
{
        for (; *pat; pat++, s++) {
                if (pat[0] == '*' && pat[1] == '*') {
                        const char *rest = pat + 2;
                        if (*rest == '/' && glob_match(rest + 1, s))
                                return true;
                        for (const char *t = s;; t++) {
                                if (glob_match(rest, t))
                                        return true;
                                if (!*t)
                                        return false;
                        }
                }
                if (*pat == '*') {
                        for (const char *t = s;; t++) {
                                if (glob_match(pat + 1, t))
                                        return true;
                                if (!*t || *t == '/')
                                        return false;
                        }
                }
                if (!*s || (*pat == '?' ? *s == '/' : *pat != *s))
                        return false;
        }
        return *s == '\0';
}

bool lint_project_matches(const char *const *globs, size_t count, const char *relative)
{
        for (size_t i = 0; i < count; i++)
                if (glob_match(globs[i], relative))
                        return true;
        return false;
}

const char *lint_project_relative(const lint_project_t *p, const char *absolute)
{
        size_t n = strlen(p->dir);
        if (strcmp(p->dir, "/") == 0)
                return absolute + 1;
        if (strncmp(absolute, p->dir, n) == 0 && absolute[n] == '/')
                return absolute + n + 1;
        return NULL;
}
