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
static void xml_put(const char *raw)
{
        char *shown = ksafe_report_escape(raw);
        for (const char *s = shown ? shown : "?"; *s; s++) {
                switch (*s) {
                case '&': fputs("&amp;", stdout); break;
                case '<': fputs("&lt;", stdout); break;
                case '>': fputs("&gt;", stdout); break;
                case '"': fputs("&quot;", stdout); break;
                case '\'': fputs("&apos;", stdout); break;
                default: putchar(*s);
                }
        }
        free(shown);
}

/* ` name="value"`, the value escaped. */
static void xml_attr(const char *name, const char *value)
{
        printf(" %s=\"", name);
        xml_put(value);
        putchar('"');
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
                        *suppressed = lint_suppression_of(run, v);
                if (!shown(run, v))
                        continue;
                if (lint_is_failure(run, v)) {
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
static void junit_finding_text(const lint_run_t *run, const lint_result_t *r,
                               const ksafe_violation_t *v)
{
        char where[64];
        xml_put(location_file(r, v));
        snprintf(where, sizeof(where), ":%d:%d: ", v->line, v->column);
        fputs(where, stdout);
        if (run->fix && v->fixed) {
                fputs("fixed: ", stdout);
                xml_put(v->message);
                if (v->fix) {
                        fputs("; set to ", stdout);
                        xml_put(v->fix);
                }
        } else {
                fputs(ksafe_severity_name(v->severity), stdout);
                fputs(": ", stdout);
                xml_put(v->message);
                if (v->fix) {
                        fputs(" (fix: ", stdout);
                        xml_put(v->property);
                        putchar('=');
                        xml_put(v->fix);
                        putchar(')');
                }
        }
        fputs(" [", stdout);
        xml_put(v->rule_id);
        fputs("]\n", stdout);
}

/* The findings of rule `id` in `r` that `failing` selects, as text lines. */
static void junit_findings_text(const lint_run_t *run, const lint_result_t *r, const char *id,
                                bool failing)
{
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (v->rule_id && strcmp(v->rule_id, id) == 0 && shown(run, v) &&
                    lint_is_failure(run, v) == failing)
                        junit_finding_text(run, r, v);
        }
}

/* The <testcase> of rule `id` in input `r`; counted, and printed when `print`. */
static void junit_case(const lint_run_t *run, const lint_result_t *r, const char *id,
                       junit_counts_t *n, bool print)
{
        size_t failing, other;
        const ksafe_violation_t *first;
        const lint_suppression_t *suppressed;
        rule_findings(run, r, id, &failing, &other, &first, &suppressed);
        /* Every finding of the rule here suppressed: not checked, as the
         * user asked. */
        bool skipped = suppressed && !failing && !other;
        n->tests++;
        n->failures += failing > 0;
        n->skipped += skipped;
        if (!print)
                return;
        fputs("    <testcase", stdout);
        printf(" classname=\"ksafe-lint.");
        xml_put(id);
        putchar('"');
        xml_attr("name", r->display ? r->display : "?");
        const char *path = finding_path(run, r, NULL);
        if (is_file_name(path))
                xml_attr("file", r->display ? r->display : "?");
        /* The line of the first finding in this input (not on -X). */
        const ksafe_violation_t *at = first;
        for (size_t k = 0; !at && k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (v->rule_id && strcmp(v->rule_id, id) == 0 && shown(run, v))
                        at = v;
        }
        if (at && at->line > 0 && is_file_name(path) &&
            strcmp(location_file(r, at), r->display ? r->display : "?") == 0)
                printf(" line=\"%d\"", at->line);
        fputs(" time=\"0\"", stdout);
        if (skipped) {
                fputs(">\n      <skipped message=\"suppressed: ", stdout);
                xml_put(suppressed->external ? "--ignore (or the project config's \"ignore\")"
                        : suppressed->justification ? suppressed->justification
                                                    : "a ksafe-lint: disable= directive");
                fputs("\"/>\n    </testcase>\n", stdout);
                return;
        }
        if (!failing && !other) {
                fputs("/>\n", stdout);
                return;
        }
        fputs(">\n", stdout);
        if (failing) {
                /* The message as text and the other formats say it, with the fix. */
                char *message = finding_message(run, first);
                fputs("      <failure", stdout);
                xml_attr("type", id);
                xml_attr("message", message ? message : first->message);
                free(message);
                putchar('>');
                junit_findings_text(run, r, id, true);
                if (first->why) {
                        fputs("why: ", stdout);
                        xml_put(first->why);
                        putchar('\n');
                }
                fputs("</failure>\n", stdout);
        }
        if (other) {
                fputs("      <system-out>", stdout);
                junit_findings_text(run, r, id, false);
                fputs("</system-out>\n", stdout);
        }
        fputs("    </testcase>\n", stdout);
}

/* The test cases of input `i`; counted, and printed when `print`. */
static bool junit_input(const lint_run_t *run, size_t i, json_t *ids, junit_counts_t *n, bool print)
{
        const lint_result_t *r = &run->results[i];
        if (is_repeated(run, i))
                return true;
        if (!r->report) {
                n->tests++;
                n->errors++;
                if (print) {
                        fputs("    <testcase classname=\"ksafe-lint.input\"", stdout);
                        xml_attr("name", r->display ? r->display : "?");
                        if (is_file_name(finding_path(run, r, NULL)))
                                xml_attr("file", r->display ? r->display : "?");
                        fputs(" time=\"0\">\n      <error type=\"unreadable\"", stdout);
                        xml_attr("message", r->error ? r->error : "cannot read this input");
                        fputs("/>\n    </testcase>\n", stdout);
                }
                return true;
        }
        size_t i_id;
        json_t *id;
        json_array_foreach (ids, i_id, id)
                junit_case(run, r, json_string_value(id), n, print);
        /* Rules that are not the policy's, once each, in the order found. */
        json_t *seen = json_object();
        if (!seen)
                return false;
        bool ok = true;
        for (size_t k = 0; ok && k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                const char *rule = v->rule_id ? v->rule_id : "?";
                bool listed = false;
                json_array_foreach (ids, i_id, id)
                        listed |= strcmp(json_string_value(id), rule) == 0;
                if (listed || json_object_get(seen, rule) ||
                    (!shown(run, v) && !lint_suppression_of(run, v)))
                        continue;
                ok = json_object_set_new(seen, rule, json_true()) == 0;
                if (ok)
                        junit_case(run, r, rule, n, print);
        }
        json_decref(seen);
        return ok;
}

static void junit_suites_open(const char *suite, const junit_counts_t *n)
{
        fputs(XML_DECLARATION, stdout);
        printf("<testsuites name=\"ksafe-lint\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
               "time=\"0\">\n",
               n->tests, n->failures, n->errors);
        fputs("  <testsuite", stdout);
        xml_attr("name", suite);
        printf(" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"0\">\n",
               n->tests, n->failures, n->errors, n->skipped);
}

static void junit_property(const char *name, const char *value)
{
        fputs("      <property", stdout);
        xml_attr("name", name);
        xml_attr("value", value);
        fputs("/>\n", stdout);
}

bool print_junit(const lint_run_t *run)
{
        json_t *ids = policy_rule_ids(run->policy);
        junit_counts_t n = {0};
        bool ok = ids != NULL;
        for (size_t i = 0; ok && i < run->count; i++)
                ok = junit_input(run, i, ids, &n, false);
        names_t names = policy_names(run);
        char suite[1024];
        snprintf(suite, sizeof(suite), "ksafe-lint/%s%s%s", names.policy ? names.policy : "?",
                 names.env ? "/" : "", names.env ? names.env : "");
        if (ok) {
                junit_suites_open(suite, &n);
                fputs("    <properties>\n", stdout);
                junit_property("policy", names.policy ? names.policy : "?");
                if (names.env)
                        junit_property("environment", names.env);
                junit_property("allow_unsafe",
                               ksafe_policy_allows_unsafe(run->policy) ? "true" : "false");
                junit_property("ksafe", ksafe_version_str());
                char suppressed[32];
                snprintf(suppressed, sizeof(suppressed), "%zu", lint_suppressed_count(run));
                junit_property("suppressed", suppressed);
                fputs("    </properties>\n", stdout);
                for (size_t i = 0; ok && i < run->count; i++)
                        ok = junit_input(run, i, ids, &n, true);
                fputs("  </testsuite>\n</testsuites>\n", stdout);
        }
        names_free(&names);
        json_decref(ids);
        if (!ok)
                fprintf(stderr, "ksafe-lint: cannot make the JUnit output: out of memory\n");
        return ok;
}

/* The run could not start: one suite with one case, the policy, in error. */
bool print_junit_failure(const lint_failure_t *f)
{
        junit_counts_t n = {.tests = 1, .errors = 1};
        junit_suites_open("ksafe-lint", &n);
        fputs("    <testcase classname=\"ksafe-lint.policy\"", stdout);
        xml_attr("name", f->source && *f->source ? f->source : "policy");
        if (f->path && *f->path) {
                xml_attr("file", f->path);
                if (f->line > 0)
                        printf(" line=\"%d\"", f->line);
        }
        fputs(" time=\"0\">\n      <error type=\"policy\"", stdout);
        xml_attr("message", f->text);
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

static void checkstyle_error(int line, int column, const char *severity, const char *message,
                             const char *source)
{
        printf("    <error line=\"%d\"", line > 0 ? line : 1);
        if (column > 0)
                printf(" column=\"%d\"", column);
        xml_attr("severity", severity);
        xml_attr("message", message);
        printf(" source=\"ksafe-lint.");
        xml_put(source);
        fputs("\"/>\n", stdout);
}

bool print_checkstyle(const lint_run_t *run)
{
        fputs(XML_DECLARATION "<checkstyle version=\"" CHECKSTYLE_VERSION "\">\n", stdout);
        for (size_t i = 0; i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                if (is_repeated(run, i))
                        continue;
                fputs("  <file", stdout);
                xml_attr("name", r->display ? r->display : "?");
                bool open = false;
                if (!r->report) {
                        fputs(">\n", stdout);
                        open = true;
                        checkstyle_error(1, 0, "error",
                                         r->error ? r->error : "cannot read this input",
                                         "unreadable");
                }
                for (size_t k = 0; k < lint_result_count(r); k++) {
                        const ksafe_violation_t *v = lint_result_get(r, k);
                        bool suppressed = lint_suppression_of(run, v) != NULL;
                        if ((!shown(run, v) && !suppressed) || (run->fix && v->fixed))
                                continue;
                        if (!open)
                                fputs(">\n", stdout);
                        open = true;
                        /* -X findings are on the command line: the input's line 1. */
                        bool here = strcmp(location_file(r, v), r->display ? r->display : "?") == 0;
                        char *message = finding_message(run, v);
                        if (!message) {
                                fprintf(stderr, "ksafe-lint: cannot make the Checkstyle "
                                                "output: out of memory\n");
                                return false;
                        }
                        checkstyle_error(here ? v->line : 1, here ? v->column : 0,
                                         suppressed                ? "ignore"
                                         : lint_is_failure(run, v) ? "error"
                                                                   : "warning",
                                         message, v->rule_id ? v->rule_id : "?");
                        free(message);
                }
                fputs(open ? "  </file>\n" : "/>\n", stdout);
        }
        fputs("</checkstyle>\n", stdout);
        return true;
}

bool print_checkstyle_failure(const lint_failure_t *f)
{
        fputs(XML_DECLARATION "<checkstyle version=\"" CHECKSTYLE_VERSION "\">\n", stdout);
        fputs("  <file", stdout);
        xml_attr("name", f->source && *f->source ? f->source : "policy");
        fputs(">\n", stdout);
        checkstyle_error(f->path && *f->path ? f->line : 1, f->path && *f->path ? f->column : 0,
                         "error", f->text, "policy");
        fputs("  </file>\n</checkstyle>\n", stdout);
        return true;
}
