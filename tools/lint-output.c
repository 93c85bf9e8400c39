/*
 * ksafe-lint's output formats: text for people and editors, JSON, SARIF
 * 2.1.0 for code scanning, GitHub workflow commands and JUnit XML for CI.
 * Every value shown comes from the library's reports, where secrets were
 * already redacted and every string escaped (ksafe_report_escape()); the
 * names of the inputs and the policy's name are escaped the same way here,
 * so nothing a config, a policy or a file name holds can forge a line, a
 * record or a terminal escape sequence in any format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lint.h"

#define INFO_URI "https://github.com/ksafe/ksafe"

bool lint_is_failure(const lint_run_t *run, const ksafe_violation_t *v)
{
        if (run->fix && v->fixed)
                return false;
        return v->severity == KSAFE_SEVERITY_ERROR || run->werror;
}

static bool shown(const lint_run_t *run, const ksafe_violation_t *v)
{
        return !run->quiet || lint_is_failure(run, v);
}

static const char *location_file(const lint_result_t *r, const ksafe_violation_t *v)
{
        return v->file ? v->file : r->display ? r->display : "?";
}

typedef void (*finding_fn)(const lint_run_t *run, const lint_result_t *r,
                           const ksafe_violation_t *v, void *ctx);

/* Call fn for every finding the run shows (-q shows failures only). */
static void each_finding(const lint_run_t *run, finding_fn fn, void *ctx)
{
        for (size_t i = 0; i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                for (size_t k = 0; k < ksafe_report_count(r->report); k++) {
                        const ksafe_violation_t *v = ksafe_report_get(r->report, k);
                        if (shown(run, v))
                                fn(run, r, v, ctx);
                }
        }
}

/*
 * text: file:line:col: severity: message [rule]
 */
static void text_finding(const lint_run_t *run, const lint_result_t *r,
                         const ksafe_violation_t *v, void *ctx)
{
        (void)ctx;
        printf("%s:%d:%d: ", location_file(r, v), v->line, v->column);
        if (run->fix && v->fixed && v->fix)
                printf("fixed: %s; set to %s [%s]\n", v->message, v->fix, v->rule_id);
        else if (run->fix && v->fixed)
                printf("fixed: %s [%s]\n", v->message, v->rule_id);
        else if (v->fix)
                printf("%s: %s (fix: %s=%s) [%s]\n", ksafe_severity_name(v->severity), v->message,
                       v->property, v->fix, v->rule_id);
        else
                printf("%s: %s [%s]\n", ksafe_severity_name(v->severity), v->message,
                       v->rule_id);
}

/*
 * json: {"version":1,"findings":[...],"summary":{...}}
 */
static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *finding_json(const lint_result_t *r, const ksafe_violation_t *v)
{
        return json_pack("{s:s, s:i, s:i, s:s?, s:s?, s:o, s:s, s:s, s:o, s:o, s:o, s:s?, s:o, "
                         "s:b, s:b}",
                         "file", location_file(r, v), "line", v->line, "column", v->column,
                         "rule", v->rule_id, "property", v->property, "canonical",
                         str_or_null(v->canonical), "severity", ksafe_severity_name(v->severity),
                         "action", ksafe_action_name(v->action), "actual", str_or_null(v->actual),
                         "expected", str_or_null(v->expected), "fix", str_or_null(v->fix),
                         "message", v->message, "why", str_or_null(v->why), "fixed", v->fixed,
                         "is_set", v->is_set);
}

typedef struct json_ctx_s {
        json_t *findings;
        size_t errors, warnings, fixed;
        bool failed; /* a record could not be made: never drop one silently */
} json_ctx_t;

static void json_finding(const lint_run_t *run, const lint_result_t *r,
                         const ksafe_violation_t *v, void *ctx)
{
        json_ctx_t *c = ctx;
        c->failed |= json_array_append_new(c->findings, finding_json(r, v)) != 0;
        if (run->fix && v->fixed)
                c->fixed++;
        else if (v->severity == KSAFE_SEVERITY_ERROR)
                c->errors++;
        else
                c->warnings++;
}

/* Inputs that could not be read: [{"file":..., "message":...}]; NULL when
 * one of them could not be listed. */
static json_t *unreadable_json(const lint_run_t *run)
{
        json_t *list = json_array();
        for (size_t i = 0; list && i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                if (!r->report &&
                    json_array_append_new(
                            list, json_pack("{s:s?, s:s}", "file", r->display, "message",
                                            r->error ? r->error : "cannot read this input")) != 0) {
                        json_decref(list);
                        return NULL;
                }
        }
        return list;
}

/* The policy's name and environment, escaped like everything else. */
typedef struct names_s {
        char *policy, *env;
} names_t;

static names_t policy_names(const lint_run_t *run)
{
        const char *env = ksafe_policy_env(run->policy);
        return (names_t){ksafe_report_escape(ksafe_policy_name(run->policy)),
                         env ? ksafe_report_escape(env) : NULL};
}

static void names_free(names_t *n)
{
        free(n->policy);
        free(n->env);
}

/* Print a whole document, or say why there is none. */
static bool print_doc(json_t *doc, const char *format)
{
        if (!doc) {
                fprintf(stderr, "ksafe-lint: cannot make the %s output: out of memory\n", format);
                return false;
        }
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(doc);
        return true;
}

static bool print_json(const lint_run_t *run)
{
        json_ctx_t c = {.findings = json_array()};
        each_finding(run, json_finding, &c);
        json_t *findings = c.failed ? NULL : c.findings;
        if (c.failed)
                json_decref(c.findings);
        json_t *unreadable = unreadable_json(run);
        size_t errors = c.errors, warnings = c.warnings, fixed = c.fixed;
        names_t names = policy_names(run);
        json_t *doc = json_pack("{s:i, s:s, s:o, s:b, s:o, s:O, s:{s:I, s:I, s:I, s:I, s:I}}",
                                "version", 1, "policy", names.policy,
                                "environment", str_or_null(names.env), "allow_unsafe",
                                ksafe_policy_allows_unsafe(run->policy), "findings", findings,
                                "unreadable", unreadable, "summary", "files",
                                (json_int_t)(run->count - json_array_size(unreadable)),
                                "unreadable", (json_int_t)json_array_size(unreadable), "errors",
                                (json_int_t)errors, "warnings", (json_int_t)warnings, "fixed",
                                (json_int_t)fixed);
        json_decref(unreadable);
        names_free(&names);
        return print_doc(doc, "JSON");
}

/*
 * SARIF 2.1.0, as GitHub code scanning reads it
 */
static const char *sarif_level(const lint_run_t *run, const ksafe_violation_t *v)
{
        if (run->fix && v->fixed)
                return "note";
        return lint_is_failure(run, v) ? "error" : "warning";
}

/* The index of the violation's rule in `rules`, added when new; -1 when
 * it could not be added. */
static json_int_t sarif_rule_index(json_t *rules, const ksafe_violation_t *v)
{
        const char *id = v->rule_id ? v->rule_id : "?";
        size_t i;
        json_t *rule;
        json_array_foreach(rules, i, rule) {
                if (strcmp(json_string_value(json_object_get(rule, "id")), id) == 0)
                        return (json_int_t)i;
        }
        /* Rules are described by what does not change from one finding to
         * the next: the id and the reason (whole: a cut could split a
         * UTF-8 character, and the rule would be lost). */
        bool expected = v->why && v->expected && strncmp(id, "ksafe-", 6) != 0;
        json_t *help = json_sprintf("%s%s%s", v->why ? v->why : id,
                                    expected ? ". Expected: " : "", expected ? v->expected : "");
        if (json_array_append_new(
                    rules, json_pack("{s:s, s:s, s:{s:s}, s:{s:O}, s:{s:O}, s:{s:s}, s:s}", "id",
                                     id, "name", id, "shortDescription", "text",
                                     v->why ? v->why : id, "fullDescription", "text", help,
                                     "help", "text", help, "defaultConfiguration", "level",
                                     v->severity == KSAFE_SEVERITY_ERROR ? "error" : "warning",
                                     "helpUri", INFO_URI "#the-default-policy")) != 0) {
                json_decref(help);
                return -1;
        }
        json_decref(help);
        return (json_int_t)json_array_size(rules) - 1;
}

/* A file name as a URI reference (RFC 3986): every byte but the unreserved
 * ones and '/' as %XX, so any name, UTF-8 or not, is carried losslessly. */
static json_t *file_uri(const char *name)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t len = strlen(name);
        char *uri = malloc(3 * len + 1);
        if (!uri)
                return NULL;
        char *o = uri;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
                        *o++ = (char)*p;
                } else {
                        *o++ = '%';
                        *o++ = hex[*p >> 4];
                        *o++ = hex[*p & 15];
                }
        }
        *o = '\0';
        json_t *s = json_string(uri);
        free(uri);
        return s;
}

typedef struct sarif_ctx_s {
        json_t *rules, *results;
        bool failed; /* a record could not be made: never drop one silently */
} sarif_ctx_t;

static void sarif_finding(const lint_run_t *run, const lint_result_t *r,
                          const ksafe_violation_t *v, void *ctx)
{
        sarif_ctx_t *c = ctx;
        /* The name as given (not its escaped form) when the finding is
         * about the input itself: the URI encodes every byte. */
        const char *name = !v->file || (r->display && strcmp(v->file, r->display) == 0)
                                   ? r->name
                                   : v->file;
        if (strncmp(name, "./", 2) == 0)
                name += 2;
        json_int_t index = sarif_rule_index(c->rules, v);
        json_t *result = index < 0 ? NULL
                                   : json_pack("{s:s, s:I, s:s, s:{s:s?}}", "ruleId",
                                               v->rule_id ? v->rule_id : "?", "ruleIndex",
                                               index, "level", sarif_level(run, v), "message",
                                               "text", v->message);
        /* "<stdin>" and "<command line>" are no artifact a URI can name. */
        if (result && name[0] != '<' &&
            json_object_set_new(
                    result, "locations",
                    json_pack("[{s:{s:{s:o}, s:{s:i, s:i}}}]", "physicalLocation",
                              "artifactLocation", "uri", file_uri(name), "region", "startLine",
                              v->line > 0 ? v->line : 1, "startColumn",
                              v->column > 0 ? v->column : 1)) != 0) {
                json_decref(result);
                result = NULL;
        }
        c->failed |= json_array_append_new(c->results, result) != 0;
}

static bool has_unreadable(const lint_run_t *run)
{
        for (size_t i = 0; i < run->count; i++)
                if (!run->results[i].report)
                        return true;
        return false;
}

static bool print_sarif(const lint_run_t *run)
{
        sarif_ctx_t c = {.rules = json_array(), .results = json_array()};
        each_finding(run, sarif_finding, &c);
        json_t *rules = c.rules, *results = c.results;
        names_t names = policy_names(run);
        /* Inputs that could not be read fail the run: SARIF says so in the
         * invocation, where code scanning shows tool errors. */
        json_t *notes = json_array();
        for (size_t i = 0; i < run->count; i++)
                if (!run->results[i].report)
                        c.failed |= json_array_append_new(
                                notes,
                                json_pack("{s:s, s:{s:o}}", "level", "error", "message", "text",
                                          json_sprintf("%s: %s",
                                                       run->results[i].display
                                                               ? run->results[i].display
                                                               : "?",
                                                       run->results[i].error
                                                               ? run->results[i].error
                                                               : "cannot read this input"))) != 0;
        if (ksafe_policy_allows_unsafe(run->policy))
                c.failed |= json_array_append_new(
                        notes, json_pack("{s:s, s:{s:o}}", "level", "warning", "message", "text",
                                         json_sprintf("policy \"%s\" sets allow_unsafe: it may "
                                                      "weaken the safety baseline",
                                                      names.policy ? names.policy : "?"))) != 0;
        names_free(&names);
        json_t *invocation = json_pack("{s:b, s:o}", "executionSuccessful",
                                       !has_unreadable(run), "toolExecutionNotifications",
                                       notes);
        /* jansson releases every "o" argument also when packing fails. */
        json_t *doc = json_pack(
                "{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o, s:[o]}]}", "$schema",
                "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0", "runs",
                "tool", "driver", "name", "ksafe-lint", "version", ksafe_version_str(),
                "informationUri", INFO_URI, "rules", rules, "results", results, "invocations",
                invocation);
        if (c.failed) {
                json_decref(doc);
                doc = NULL;
        }
        return print_doc(doc, "SARIF");
}

/*
 * GitHub workflow commands: ::error file=F,line=L,col=C,title=T::MESSAGE
 */
static void github_escape(const char *raw, bool property)
{
        /* Escaped first (idempotent on what the report escaped already):
         * the runner shows the rest as it is, terminal escapes included. */
        char *shown = ksafe_report_escape(raw);
        for (const char *s = shown ? shown : "?"; *s; s++) {
                switch (*s) {
                case '%': fputs("%25", stdout); break;
                case '\r': fputs("%0D", stdout); break;
                case '\n': fputs("%0A", stdout); break;
                case ':': fputs(property ? "%3A" : ":", stdout); break;
                case ',': fputs(property ? "%2C" : ",", stdout); break;
                default: putchar(*s);
                }
        }
        free(shown);
}

static void github_finding(const lint_run_t *run, const lint_result_t *r,
                           const ksafe_violation_t *v, void *ctx)
{
        (void)ctx;
        const char *level = run->fix && v->fixed     ? "notice"
                            : lint_is_failure(run, v) ? "error"
                                                      : "warning";
        printf("::%s file=", level);
        github_escape(location_file(r, v), true);
        printf(",line=%d,col=%d,title=", v->line > 0 ? v->line : 1,
               v->column > 0 ? v->column : 1);
        github_escape(v->rule_id, true);
        fputs("::", stdout);
        github_escape(v->message, false);
        putchar('\n');
}

/*
 * JUnit XML: one testcase per file, a failure per error
 */
static void xml_escape(const char *raw)
{
        /* Escaped first: no control character, valid UTF-8 (XML 1.0 has
         * no way to write the others). */
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

static size_t failures_of(const lint_run_t *run, const lint_result_t *r)
{
        size_t n = 0;
        for (size_t k = 0; k < ksafe_report_count(r->report); k++)
                n += lint_is_failure(run, ksafe_report_get(r->report, k));
        return n;
}

static void print_junit(const lint_run_t *run)
{
        size_t failed = 0, errors = 0;
        for (size_t i = 0; i < run->count; i++) {
                failed += failures_of(run, &run->results[i]) > 0;
                errors += run->results[i].report == NULL;
        }
        printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"ksafe-lint\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"%zu\">\n"
               "  <testsuite name=\"ksafe-lint\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"%zu\">\n",
               run->count, failed, errors, run->count, failed, errors);
        for (size_t i = 0; i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                printf("    <testcase classname=\"ksafe-lint\" name=\"");
                xml_escape(r->name);
                printf("\">\n");
                if (!r->report) {
                        /* An input that could not be read did not pass. */
                        printf("      <error type=\"unreadable\" message=\"");
                        xml_escape(r->error ? r->error : "cannot read this input");
                        printf("\"/>\n");
                }
                for (size_t k = 0; k < ksafe_report_count(r->report); k++) {
                        const ksafe_violation_t *v = ksafe_report_get(r->report, k);
                        if (!lint_is_failure(run, v))
                                continue;
                        printf("      <failure type=\"");
                        xml_escape(v->rule_id);
                        printf("\" message=\"");
                        xml_escape(v->message);
                        printf("\">");
                        char where[64];
                        snprintf(where, sizeof(where), ":%d:%d: ", v->line, v->column);
                        xml_escape(location_file(r, v));
                        xml_escape(where);
                        xml_escape(v->message);
                        printf("</failure>\n");
                }
                printf("    </testcase>\n");
        }
        printf("  </testsuite>\n</testsuites>\n");
}

bool lint_print(const lint_run_t *run)
{
        switch (run->format) {
        case LINT_FORMAT_TEXT: each_finding(run, text_finding, NULL); break;
        case LINT_FORMAT_JSON: return print_json(run);
        case LINT_FORMAT_SARIF: return print_sarif(run);
        case LINT_FORMAT_GITHUB: each_finding(run, github_finding, NULL); break;
        case LINT_FORMAT_JUNIT: print_junit(run); break;
        }
        return true;
}
