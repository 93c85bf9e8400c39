/*
 * ksafe-lint's XML formats: JUnit (GitLab, Jenkins, Azure and GitHub test
 * reporters) and Checkstyle (Jenkins warnings-ng, reviewdog).
 *
 * Every string that ksafe did not write goes through xml_put(): first
 * ksafe_report_escape() (valid UTF-8, no control character, nothing that
 * XML 1.0 cannot hold), then the five XML entities. The same call serves
 * attribute values and text, so "]]>", quotes and any file name, UTF-8 or
 * not, stay data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint-output.h"

#define XML_DECLARATION "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* `raw` as XML character data or an attribute value (either quote). */
static void xml_put(FILE *out, const char *raw)
{
        char *shown = ksafe_report_escape(raw);
        for (const char *s = shown ? shown : "?"; *s; s++) {
                switch (*s) {
                case '&': fputs("&amp;", out); break;
                case '<': fputs("&lt;", out); break;
                case '>': fputs("&gt;", out); break;
                case '"': fputs("&quot;", out); break;
                case '\'': fputs("&apos;", out); break;
                default: putc(*s, out);
                }
        }
        free(shown);
}

/* ` name="value"`, the value escaped. */
static void xml_attr(FILE *out, const char *name, const char *value)
{
        fprintf(out, " %s=\"", name);
        xml_put(out, value);
        putc('"', out);
}

/* A name that is a file a reader can open: not "<stdin>" nor "<command line>". */
static bool is_file_name(const char *name)
{
        return name && name[0] != '<';
}

/*
 * JUnit XML
 *
 * One <testsuite> per run, named by the policy and the environment
 * ("ksafe-lint/POLICY/ENV", as SARIF's category), so that reports of two
 * environments merged side by side stay apart. In it, for every input,
 * one <testcase> per rule: each rule of the policy (passed, or failed),
 * and each other rule with a finding there (ksafe-unknown-property, ...).
 * classname "ksafe-lint.RULE" (a reader cannot take it for a source file;
 * Jenkins shows ksafe-lint > RULE > FILE), name the input, and the `file`
 * and `line` attributes that GitLab and action-junit-report read. A case
 * has at most one <failure>, which lists every failing finding of its rule
 * in that input. A warning that does not fail the run (no -W error), and a
 * finding --fix repaired, leave the case passed, with the finding in its
 * <system-out>. A case whose findings are all suppressed (a `ksafe-lint:
 * disable=` directive, --ignore) is skipped, <skipped message="suppressed:
 * REASON"/>, and the suite's property `suppressed` counts the run's
 * suppressed findings. An input that could not be read is one case with an
 * <error>.
 */

typedef struct junit_counts_s {
        size_t tests, failures, errors, skipped;
} junit_counts_t;

/* The ids of the policy's rules, in order (its resolved JSON: rules turned
 * off are not there); NULL when out of memory. */
static json_t *policy_rule_ids(const ksafe_policy_t *policy)
{
        char *text = ksafe_policy_to_json(policy);
        json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        json_t *ids = doc ? json_array() : NULL;
        size_t i;
        json_t *rule;
        json_array_foreach (json_object_get(doc, "rules"), i, rule) {
                const char *id = json_string_value(json_object_get(rule, "id"));
                if (ids && id && json_array_append_new(ids, json_string(id)) != 0) {
                        json_decref(ids);
                        ids = NULL;
                }
        }
        json_decref(doc);
        return ids;
}

/* The findings of rule `id` in `r` that the run shows: how many fail it,
 * how many do not; the first failing one in *first; the first suppressed
 * one (not shown) in *suppressed. */
static void rule_findings(const lint_run_t *run, const lint_result_t *r, const char *id,
                          size_t *failing, size_t *other, const ksafe_violation_t **first,
                          const lint_suppression_t **suppressed)
{
        *failing = *other = 0;
        *first = NULL;
        *suppressed = NULL;
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (!v->rule_id || strcmp(v->rule_id, id) != 0)
                        continue;
                if (!*suppressed)
                        *suppressed = lint_suppression_of(r, v);
                if (!shown(run, r, v))
                        continue;
                if (lint_is_failure(run, r, v)) {
                        if (!*first)
                                *first = v;
                        ++*failing;
                } else {
                        ++*other;
                }
        }
}

/* One finding as text ("FILE:LINE:COL: SEVERITY: MESSAGE [RULE]"), for a
 * person reading the report. */
static void junit_finding_text(FILE *out, const lint_run_t *run, const lint_result_t *r,
                               const ksafe_violation_t *v)
{
        char where[64];
        xml_put(out, location_file(r, v));
        snprintf(where, sizeof(where), ":%d:%d: ", v->line, v->column);
        fputs(where, out);
        if (run->fix && v->fixed) {
                fputs("fixed: ", out);
                xml_put(out, v->message);
                if (v->fix) {
                        fputs("; set to ", out);
                        xml_put(out, v->fix);
                }
        } else {
                fputs(ksafe_severity_name(v->severity), out);
                fputs(": ", out);
                xml_put(out, v->message);
                if (v->fix) {
                        fputs(" (fix: ", out);
                        xml_put(out, v->property);
                        putc('=', out);
                        xml_put(out, v->fix);
                        putc(')', out);
                }
        }
        fputs(" [", out);
        xml_put(out, v->rule_id);
        fputs("]\n", out);
}

/* The findings of rule `id` in `r` that `failing` selects, as text lines. */
static void junit_findings_text(FILE *out, const lint_run_t *run, const lint_result_t *r,
                                const char *id, bool failing)
{
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (v->rule_id && strcmp(v->rule_id, id) == 0 && shown(run, r, v) &&
                    lint_is_failure(run, r, v) == failing)
                        junit_finding_text(out, run, r, v);
        }
}

/* The <testcase> of rule `id` in input `r`: counted, and written (to the
 * spool: the suite's totals come first). */
static void junit_case(lint_writer_t *w, const lint_result_t *r, const char *id)
{
        const lint_run_t *run = w->run;
        FILE *out = w->body.f;
        size_t failing, other;
        const ksafe_violation_t *first;
        const lint_suppression_t *suppressed;
        rule_findings(run, r, id, &failing, &other, &first, &suppressed);
        /* Every finding of the rule here suppressed: not checked, as the
         * user asked. */
        bool skipped = suppressed && !failing && !other;
        w->tests++;
        w->failures += failing > 0;
        w->skipped += skipped;
        fputs("    <testcase", out);
        fprintf(out, " classname=\"ksafe-lint.");
        xml_put(out, id);
        putc('"', out);
        xml_attr(out, "name", r->display ? r->display : "?");
        const char *path = finding_path(run, r, NULL);
        if (is_file_name(path))
                xml_attr(out, "file", r->display ? r->display : "?");
        /* The line of the first finding in this input (not on -X). */
        const ksafe_violation_t *at = first;
        for (size_t k = 0; !at && k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (v->rule_id && strcmp(v->rule_id, id) == 0 && shown(run, r, v))
                        at = v;
        }
        if (at && at->line > 0 && is_file_name(path) &&
            strcmp(location_file(r, at), r->display ? r->display : "?") == 0)
                fprintf(out, " line=\"%d\"", at->line);
        fputs(" time=\"0\"", out);
        if (skipped) {
                fputs(">\n      <skipped message=\"suppressed: ", out);
                xml_put(out, suppressed->external ? "--ignore (or the project config's \"ignore\")"
                             : suppressed->justification ? suppressed->justification
                                                         : "a ksafe-lint: disable= directive");
                fputs("\"/>\n    </testcase>\n", out);
                return;
        }
        if (!failing && !other) {
                fputs("/>\n", out);
                return;
        }
        fputs(">\n", out);
        if (failing) {
                /* The message as text and the other formats say it, with the fix. */
                char *message = finding_message(run, first);
                fputs("      <failure", out);
                xml_attr(out, "type", id);
                xml_attr(out, "message", message ? message : first->message);
                free(message);
                putc('>', out);
                junit_findings_text(out, run, r, id, true);
                if (first->why) {
                        fputs("why: ", out);
                        xml_put(out, first->why);
                        putc('\n', out);
                }
                fputs("</failure>\n", out);
        }
        if (other) {
                fputs("      <system-out>", out);
                junit_findings_text(out, run, r, id, false);
                fputs("</system-out>\n", out);
        }
        fputs("    </testcase>\n", out);
}

bool junit_start(lint_writer_t *w)
{
        w->rules = policy_rule_ids(w->run->policy);
        return w->rules && spool_open(&w->body);
}

/* The test cases of input `r`. */
bool junit_add(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        FILE *out = w->body.f;
        w->suppressed += r->suppressed_count;
        if (writer_repeated(w, r))
                return true;
        if (!r->report) {
                w->tests++;
                w->errors++;
                fputs("    <testcase classname=\"ksafe-lint.input\"", out);
                xml_attr(out, "name", r->display ? r->display : "?");
                if (is_file_name(finding_path(run, r, NULL)))
                        xml_attr(out, "file", r->display ? r->display : "?");
                fputs(" time=\"0\">\n      <error type=\"unreadable\"", out);
                xml_attr(out, "message", r->error ? r->error : "cannot read this input");
                fputs("/>\n    </testcase>\n", out);
                return true;
        }
        size_t i_id;
        json_t *id;
        json_array_foreach (w->rules, i_id, id)
                junit_case(w, r, json_string_value(id));
        /* Rules that are not the policy's, once each, in the order found. */
        lint_set_t seen = {0};
        bool ok = true;
        for (size_t k = 0; ok && k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                const char *rule = v->rule_id ? v->rule_id : "?";
                bool listed = false;
                json_array_foreach (w->rules, i_id, id)
                        listed |= strcmp(json_string_value(id), rule) == 0;
                if (listed || (!shown(run, r, v) && !lint_suppression_of(r, v)))
                        continue;
                int added = lint_set_add(&seen, rule);
                ok = added >= 0;
                if (added > 0)
                        junit_case(w, r, rule);
        }
        lint_set_free(&seen);
        return ok;
}

static void junit_suites_open(const char *suite, const junit_counts_t *n)
{
        fputs(XML_DECLARATION, stdout);
        printf("<testsuites name=\"ksafe-lint\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
               "time=\"0\">\n",
               n->tests, n->failures, n->errors);
        fputs("  <testsuite", stdout);
        xml_attr(stdout, "name", suite);
        printf(" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"0\">\n",
               n->tests, n->failures, n->errors, n->skipped);
}

static void junit_property(const char *name, const char *value)
{
        fputs("      <property", stdout);
        xml_attr(stdout, "name", name);
        xml_attr(stdout, "value", value);
        fputs("/>\n", stdout);
}

bool junit_finish(lint_writer_t *w)
{
        const lint_run_t *run = w->run;
        names_t names = policy_names(run);
        char suite[1024];
        snprintf(suite, sizeof(suite), "ksafe-lint/%s%s%s", names.policy ? names.policy : "?",
                 names.env ? "/" : "", names.env ? names.env : "");
        junit_counts_t n = {w->tests, w->failures, w->errors, w->skipped};
        junit_suites_open(suite, &n);
        fputs("    <properties>\n", stdout);
        junit_property("policy", names.policy ? names.policy : "?");
        if (names.env)
                junit_property("environment", names.env);
        junit_property("allow_unsafe", ksafe_policy_allows_unsafe(run->policy) ? "true" : "false");
        junit_property("ksafe", ksafe_version_str());
        char suppressed[32];
        snprintf(suppressed, sizeof(suppressed), "%zu", w->suppressed);
        junit_property("suppressed", suppressed);
        fputs("    </properties>\n", stdout);
        bool ok = spool_copy(&w->body, stdout);
        fputs("  </testsuite>\n</testsuites>\n", stdout);
        names_free(&names);
        return ok;
}

/* The run could not start: one suite with one case, the policy, in error. */
bool print_junit_failure(const lint_failure_t *f)
{
        junit_counts_t n = {.tests = 1, .errors = 1};
        junit_suites_open("ksafe-lint", &n);
        fputs("    <testcase classname=\"ksafe-lint.policy\"", stdout);
        xml_attr(stdout, "name", f->source && *f->source ? f->source : "policy");
        if (f->path && *f->path) {
                xml_attr(stdout, "file", f->path);
                if (f->line > 0)
                        printf(" line=\"%d\"", f->line);
        }
        fputs(" time=\"0\">\n      <error type=\"policy\"", stdout);
        xml_attr(stdout, "message", f->text);
        fputs("/>\n    </testcase>\n  </testsuite>\n</testsuites>\n", stdout);
        return true;
}

/*
 * Checkstyle XML: <checkstyle><file name><error line column severity
 * message source/></file></checkstyle>, as checkstyle's XMLLogger writes it
 * and warnings-ng and reviewdog read it. Every input is a <file> (a clean
 * one has no <error>); severity "error" for what fails the run, "warning"
 * for the rest, "ignore" for a suppressed finding (a `ksafe-lint:
 * disable=` directive, --ignore: Checkstyle's own word for a check turned
 * off, which warnings-ng and reviewdog skip); source "ksafe-lint.RULE". A
 * finding --fix repaired is no longer there: the report is of the file as
 * --fix left it.
 */

#define CHECKSTYLE_VERSION "4.3"

static void checkstyle_error(FILE *out, int line, int column, const char *severity,
                             const char *message, const char *source)
{
        fprintf(out, "    <error line=\"%d\"", line > 0 ? line : 1);
        if (column > 0)
                fprintf(out, " column=\"%d\"", column);
        xml_attr(out, "severity", severity);
        xml_attr(out, "message", message);
        fprintf(out, " source=\"ksafe-lint.");
        xml_put(out, source);
        fputs("\"/>\n", out);
}

bool checkstyle_start(lint_writer_t *w)
{
        fputs(XML_DECLARATION "<checkstyle version=\"" CHECKSTYLE_VERSION "\">\n", w->out);
        return true;
}

bool checkstyle_add(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        FILE *out = w->out;
        if (writer_repeated(w, r))
                return true;
        fputs("  <file", out);
        xml_attr(out, "name", r->display ? r->display : "?");
        bool open = false;
        if (!r->report) {
                fputs(">\n", out);
                open = true;
                checkstyle_error(out, 1, 0, "error", r->error ? r->error : "cannot read this input",
                                 "unreadable");
        }
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                bool suppressed = lint_suppression_of(r, v) != NULL;
                if ((!shown(run, r, v) && !suppressed) || (run->fix && v->fixed))
                        continue;
                if (!open)
                        fputs(">\n", out);
                open = true;
                /* -X findings are on the command line: the input's line 1. */
                bool here = strcmp(location_file(r, v), r->display ? r->display : "?") == 0;
                char *message = finding_message(run, v);
                if (!message)
                        return false;
                checkstyle_error(out, here ? v->line : 1, here ? v->column : 0,
                                 suppressed                   ? "ignore"
                                 : lint_is_failure(run, r, v) ? "error"
                                                              : "warning",
                                 message, v->rule_id ? v->rule_id : "?");
                free(message);
        }
        fputs(open ? "  </file>\n" : "/>\n", out);
        return true;
}

bool checkstyle_finish(lint_writer_t *w)
{
        fputs("</checkstyle>\n", w->out);
        return true;
}

bool print_checkstyle_failure(const lint_failure_t *f)
{
        fputs(XML_DECLARATION "<checkstyle version=\"" CHECKSTYLE_VERSION "\">\n", stdout);
        fputs("  <file", stdout);
        xml_attr(stdout, "name", f->source && *f->source ? f->source : "policy");
        fputs(">\n", stdout);
        checkstyle_error(stdout, f->path && *f->path ? f->line : 1,
                         f->path && *f->path ? f->column : 0, "error", f->text, "policy");
        fputs("  </file>\n</checkstyle>\n", stdout);
        return true;
}
