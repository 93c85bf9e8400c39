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

/* The issues array is the document: its elements 2 spaces in. */
#define GITLAB_INDENT 0

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
static json_t *gitlab_fingerprint(lint_set_t *fingerprints, bool *failed, const char *rule,
                                  const char *path, const char *what)
{
        uint64_t h = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, rule), path), what);
        char hash[17], nth_text[32];
        snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)h);
        size_t *seen = lint_set_count(fingerprints, hash, strlen(hash));
        *failed |= !seen;
        snprintf(nth_text, sizeof(nth_text), "%zu", seen ? ++*seen : 1);
        return json_sprintf("%s%016llx", hash, (unsigned long long)fnv1a(h, nth_text));
}

static json_t *gitlab_issue(lint_set_t *fingerprints, bool *failed, const char *rule,
                            const char *message, const char *severity, const char *path, int line,
                            const char *what)
{
        return json_pack("{s:s, s:s, s:o, s:s, s:s, s:[s], s:{s:s, s:{s:i}}}", "description",
                         message, "check_name", rule, "fingerprint",
                         gitlab_fingerprint(fingerprints, failed, rule, path, what), "severity",
                         severity, "type", "issue", "categories", "Bug Risk", "location", "path",
                         path, "lines", "begin", line > 0 ? line : 1);
}

/* An issue, unless the same one was made (one file named twice). The
 * issues made and the fingerprints' counts are the run's (in the writer)
 * for an input that another input names too and for findings located
 * elsewhere (-X's "<command line>"); else the input's own, `seen` and
 * `fingerprints`, dropped with it: memory stays flat in the inputs. */
static void gitlab_finding(lint_writer_t *w, const lint_result_t *r, const ksafe_violation_t *v,
                           lint_set_t *seen, lint_set_t *fingerprints)
{
        const lint_run_t *run = w->run;
        if (run->fix && v->fixed)
                return; /* the report is of the file as --fix left it */
        const char *rule = v->rule_id ? v->rule_id : "?";
        const char *raw = finding_path(run, r, v);
        if (r->named_again || strcmp(raw, finding_path(run, r, NULL)) != 0) {
                seen = &w->seen;
                fingerprints = &w->fingerprints;
        }
        char *path = gitlab_path(run, raw);
        json_t *key = path ? json_sprintf("%s\x1f%d\x1f%d\x1f%s\x1f%s", path, v->line, v->column,
                                          rule, v->message)
                           : NULL;
        int added = key ? lint_set_add(seen, json_string_value(key)) : -1;
        json_decref(key);
        if (added == 0) {
                free(path); /* one file named twice */
                return;
        }
        w->failed |= added < 0;
        const char *severity = !lint_is_failure(run, r, v) ? "minor"
                               : baseline_severity(rule)   ? "critical"
                                                           : "major";
        char *message = finding_message(run, v);
        w->failed |= !message;
        if (path && message)
                w->failed |= !json_stream_item(w->out, &w->items,
                                               gitlab_issue(fingerprints, &w->failed, rule, message,
                                                            severity, path, v->line,
                                                            v->property ? v->property : v->message),
                                               GITLAB_INDENT);
        free(message);
        free(path);
}

bool gitlab_start(lint_writer_t *w)
{
        return spool_open(&w->unreadable);
}

bool gitlab_add(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        lint_set_t seen = {0}, fingerprints = {0};
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (shown(run, r, v))
                        gitlab_finding(w, r, v, &seen, &fingerprints);
        }
        lint_set_free(&seen);
        lint_set_free(&fingerprints);
        /* An input that could not be read is an issue too (after every
         * finding's): the merge request shows it, not only the job's log.
         * Its fingerprint is the first of its kind, but where another input
         * names the same file (then it is counted at the end). */
        if (writer_repeated(w, r) || r->report)
                return !w->failed;
        char *path = gitlab_path(run, finding_path(run, r, NULL));
        bool ok = path && spool_line(&w->unreadable,
                                     json_pack("{s:s, s:s, s:b}", "path", path, "message",
                                               r->error ? r->error : "cannot read this input",
                                               "again", r->named_again));
        free(path);
        return ok && !w->failed;
}

/* An input that could not be read, kept for the end: its issue. */
static bool gitlab_unreadable(lint_writer_t *w, json_t *u)
{
        lint_set_t alone = {0};
        bool again = json_is_true(json_object_get(u, "again"));
        bool ok = json_stream_item(
                w->out, &w->items,
                gitlab_issue(again ? &w->fingerprints : &alone, &w->failed, "ksafe-unreadable",
                             json_string_value(json_object_get(u, "message")), "blocker",
                             json_string_value(json_object_get(u, "path")), 1, ""),
                GITLAB_INDENT);
        lint_set_free(&alone);
        return ok;
}

bool gitlab_finish(lint_writer_t *w)
{
        w->failed |= !spool_each_line(&w->unreadable, w, gitlab_unreadable);
        if (w->failed)
                return false;
        json_stream_end(w->out, w->items, GITLAB_INDENT);
        fputc('\n', w->out);
        return true;
}

/* The run could not start: one issue, at the policy file when the error is
 * in one (else on the policy's name). */
bool print_gitlab_failure(const lint_failure_t *f)
{
        lint_set_t fingerprints = {0};
        bool failed = false;
        const char *path = f->path && *f->path       ? f->path
                           : f->source && *f->source ? f->source
                                                     : "policy";
        json_t *issue = gitlab_issue(&fingerprints, &failed, "ksafe-policy", f->text, "blocker",
                                     path, f->line, "");
        lint_set_free(&fingerprints);
        if (failed) {
                json_decref(issue);
                issue = NULL;
        }
        /* jansson releases an "o" argument also when packing fails. */
        return print_doc(issue ? json_pack("[o]", issue) : NULL, "GitLab");
}
