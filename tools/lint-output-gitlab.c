/*
 * GitLab Code Quality (artifacts:reports:codequality): a JSON array of
 * issues, each with description, check_name, fingerprint, severity,
 * location.path (relative to the repository: --base-dir, by default the
 * current directory, which is $CI_PROJECT_DIR in a GitLab job) and
 * location.lines.begin. GitLab keys issues by fingerprint (two with one
 * fingerprint are one issue) and stops reading at the first invalid one:
 * every issue here has every field, and a fingerprint of its own. A
 * suppressed finding (a `ksafe-lint: disable=` directive, --ignore) is no
 * issue: the merge request widget lists what a reviewer must look at, and
 * GitLab shows even an "info" issue there as new.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint-output.h"

typedef struct gitlab_ctx_s {
        json_t *issues;
        json_t *seen;         /* issues already made, by identity: no duplicates */
        json_t *fingerprints; /* hash -> how many issues have it so far */
        bool failed;          /* an issue could not be made: never drop one silently */
} gitlab_ctx_t;

/* `path` as GitLab wants it: relative to the base when under it, else as
 * an absolute path (GitLab cannot link it); a pseudo-file ("<stdin>",
 * "<command line>") as it is. Escaped; malloc'd, NULL when out of memory. */
static char *gitlab_path(const lint_run_t *run, const char *path)
{
        if (path[0] == '<')
                return ksafe_report_escape(path);
        bool outside;
        char *rel = relative_path(run_cwd(run), run_base(run), path, &outside);
        char *shown = rel ? ksafe_report_escape(rel) : NULL;
        free(rel);
        return shown;
}

/* An issue's identity: the rule, the file and the property (else the
 * message), not the line (an issue survives edits elsewhere in the file),
 * nor the line's text (it may hold a secret); the n-th of identical ones
 * has its own. */
static json_t *gitlab_fingerprint(gitlab_ctx_t *c, const char *rule, const char *path,
                                  const char *what)
{
        uint64_t h = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, rule), path), what);
        char hash[17], nth_text[32];
        snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)h);
        json_int_t nth = json_integer_value(json_object_get(c->fingerprints, hash)) + 1;
        c->failed |= json_object_set_new(c->fingerprints, hash, json_integer(nth)) != 0;
        snprintf(nth_text, sizeof(nth_text), "%" JSON_INTEGER_FORMAT, nth);
        return json_sprintf("%s%016llx", hash, (unsigned long long)fnv1a(h, nth_text));
}

static void gitlab_add(gitlab_ctx_t *c, const char *rule, const char *message, const char *severity,
                       const char *path, int line, const char *what)
{
        json_t *issue = json_pack("{s:s, s:s, s:o, s:s, s:s, s:[s], s:{s:s, s:{s:i}}}",
                                  "description", message, "check_name", rule, "fingerprint",
                                  gitlab_fingerprint(c, rule, path, what), "severity", severity,
                                  "type", "issue", "categories", "Bug Risk", "location", "path",
                                  path, "lines", "begin", line > 0 ? line : 1);
        c->failed |= json_array_append_new(c->issues, issue) != 0;
}

static void gitlab_finding(const lint_run_t *run, const lint_result_t *r,
                           const ksafe_violation_t *v, void *ctx)
{
        gitlab_ctx_t *c = ctx;
        if (run->fix && v->fixed)
                return; /* the report is of the file as --fix left it */
        const char *rule = v->rule_id ? v->rule_id : "?";
        char *path = gitlab_path(run, finding_path(run, r, v));
        json_t *key = path ? json_sprintf("%s\x1f%d\x1f%d\x1f%s\x1f%s", path, v->line, v->column,
                                          rule, v->message)
                           : NULL;
        if (key && json_object_get(c->seen, json_string_value(key))) {
                json_decref(key); /* one file named twice */
                free(path);
                return;
        }
        c->failed |= !key || json_object_set_new(c->seen, json_string_value(key), json_true());
        json_decref(key);
        const char *severity = !lint_is_failure(run, v)  ? "minor"
                               : baseline_severity(rule) ? "critical"
                                                         : "major";
        char *message = finding_message(run, v);
        c->failed |= !message;
        if (path && message)
                gitlab_add(c, rule, message, severity, path, v->line,
                           v->property ? v->property : v->message);
        free(message);
        free(path);
}

bool print_gitlab(const lint_run_t *run)
{
        gitlab_ctx_t c = {
                .issues = json_array(), .seen = json_object(), .fingerprints = json_object()};
        c.failed = !c.issues || !c.seen || !c.fingerprints;
        if (!c.failed)
                each_finding(run, gitlab_finding, &c);
        /* An input that could not be read is an issue too: the merge
         * request shows it, not only the job's log. */
        for (size_t i = 0; !c.failed && i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                if (r->report || is_repeated(run, i))
                        continue;
                char *path = gitlab_path(run, finding_path(run, r, NULL));
                if (!path) {
                        c.failed = true;
                        break;
                }
                gitlab_add(&c, "ksafe-unreadable", r->error ? r->error : "cannot read this input",
                           "blocker", path, 1, "");
                free(path);
        }
        json_decref(c.seen);
        json_decref(c.fingerprints);
        if (c.failed) {
                json_decref(c.issues);
                c.issues = NULL;
        }
        return print_doc(c.issues, "GitLab");
}

/* The run could not start: one issue, at the policy file when the error is
 * in one (else on the policy's name). */
bool print_gitlab_failure(const lint_failure_t *f)
{
        gitlab_ctx_t c = {.issues = json_array(), .fingerprints = json_object()};
        const char *path = f->path && *f->path       ? f->path
                           : f->source && *f->source ? f->source
                                                     : "policy";
        if (c.issues && c.fingerprints)
                gitlab_add(&c, "ksafe-policy", f->text, "blocker", path, f->line, "");
        json_decref(c.fingerprints);
        if (c.failed || !c.fingerprints) {
                json_decref(c.issues);
                c.issues = NULL;
        }
        return print_doc(c.issues, "GitLab");
}
