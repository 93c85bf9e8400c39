/*
 * ksafe-lint's output formats: text for people and editors, JSON, SARIF
 * 2.1.0 for code scanning, GitHub workflow commands and JUnit XML for CI.
 * Every value shown comes from the library's reports, where secrets were
 * already redacted and every string escaped (ksafe_report_escape()); the
 * names of the inputs and the policy's name are escaped the same way here,
 * so nothing a config, a policy or a file name holds can forge a line, a
 * record or a terminal escape sequence in any format.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "lint-output.h"

#define INFO_URI "https://github.com/ksafe/ksafe"

char *finding_message(const lint_run_t *run, const ksafe_violation_t *v)
{
        json_t *text = v->fix && !(run->fix && v->fixed)
                               ? json_sprintf("%s (fix: %s=%s)", v->message,
                                              v->property ? v->property : "?", v->fix)
                               : json_string(v->message);
        char *copy = text ? strdup(json_string_value(text)) : NULL;
        json_decref(text);
        return copy;
}

/* The report's findings (with --fix: what it repaired and what is left),
 * then those about the file's directives (lint-suppress.c). */
size_t lint_result_count(const lint_result_t *r)
{
        return (r->findings ? r->finding_count : ksafe_report_count(r->report)) + r->extra_count;
}

const ksafe_violation_t *lint_result_get(const lint_result_t *r, size_t i)
{
        size_t n = r->findings ? r->finding_count : ksafe_report_count(r->report);
        if (i < n)
                return r->findings ? r->findings[i] : ksafe_report_get(r->report, i);
        return i - n < r->extra_count ? &r->extra[i - n] : NULL;
}

bool lint_is_failure(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v)
{
        if ((run->fix && v->fixed) || lint_suppression_of(r, v))
                return false;
        return v->severity == KSAFE_SEVERITY_ERROR || run->werror;
}

bool shown(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v)
{
        return !lint_suppression_of(r, v) && (!run->quiet || lint_is_failure(run, r, v));
}

const char *location_file(const lint_result_t *r, const ksafe_violation_t *v)
{
        return v->file ? v->file : r->display ? r->display : "?";
}

void lint_tally(const lint_run_t *run, const lint_result_t *r, lint_totals_t *t)
{
        t->inputs++;
        t->unreadable += r->report == NULL;
        t->suppressed += r->suppressed_count;
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (lint_suppression_of(r, v))
                        continue;
                t->failed |= lint_is_failure(run, r, v);
                if (run->fix && v->fixed)
                        t->fixed++;
                else if (v->severity == KSAFE_SEVERITY_ERROR)
                        t->errors++;
                else
                        t->warnings++;
        }
}

/*
 * What the formats share: spools, streamed JSON arrays, names listed
 */
bool spool_open(spool_t *s)
{
        *s = (spool_t){tmpfile(), NULL, 0};
        if (!s->f)
                s->f = open_memstream(&s->mem, &s->mem_len);
        return s->f != NULL;
}

bool spool_copy(spool_t *s, FILE *out)
{
        bool ok = s->f && !ferror(s->f) && fflush(s->f) == 0;
        if (ok && s->mem) {
                ok = fwrite(s->mem, 1, s->mem_len, out) == s->mem_len;
        } else if (ok) {
                char buf[65536];
                size_t n;
                rewind(s->f);
                while ((n = fread(buf, 1, sizeof(buf), s->f)) > 0)
                        ok &= fwrite(buf, 1, n, out) == n;
                ok &= !ferror(s->f);
        }
        spool_close(s);
        return ok;
}

void spool_close(spool_t *s)
{
        if (s->f)
                fclose(s->f);
        free(s->mem);
        *s = (spool_t){0};
}

typedef struct reindent_s {
        FILE *out;
        int indent;
} reindent_t;

/* jansson's dump of an element by itself, each line moved in to where the
 * element is in the document (no string holds a raw newline: JSON escapes
 * it). */
static int reindent(const char *buffer, size_t size, void *data)
{
        const reindent_t *r = data;
        for (const char *p = buffer, *end = buffer + size; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
                if (fwrite(p, 1, n, r->out) != n ||
                    (nl && fprintf(r->out, "%*s", r->indent, "") < 0))
                        return -1;
                p += n;
        }
        return 0;
}

bool json_stream_item(FILE *out, size_t *count, json_t *item, int indent)
{
        if (!item)
                return false;
        fputs((*count)++ ? ",\n" : "[\n", out);
        reindent_t r = {out, indent + 2};
        fprintf(out, "%*s", indent + 2, "");
        bool ok = json_dump_callback(item, reindent, &r, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
        json_decref(item);
        return ok;
}

void json_stream_end(FILE *out, size_t count, int indent)
{
        if (count)
                fprintf(out, "\n%*s]", indent, "");
        else
                fputs("[]", out);
}

char *json_split(json_t *doc, const char **parts, size_t n)
{
        char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(doc);
        /* The mark as a whole value: "\u0001" after ": ", a string that no
         * key or other value dumps to (a quote inside a string is \"). */
        static const char mark[] = ": \"\\u0001\"";
        char *at = text;
        parts[0] = text;
        for (size_t i = 1; at && i < n; i++) {
                at = strstr(at, mark);
                if (at) {
                        at[2] = '\0';
                        at += strlen(mark);
                        parts[i] = at;
                }
        }
        if (!at) {
                free(text);
                return NULL;
        }
        return text;
}

bool spool_line(spool_t *s, json_t *record)
{
        char *line = record ? json_dumps(record, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(record);
        bool ok = line && s->f && fprintf(s->f, "%s\n", line) >= 0;
        free(line);
        return ok;
}

bool spool_each_line(spool_t *s, lint_writer_t *w, bool (*fn)(lint_writer_t *w, json_t *record))
{
        if (!s->f)
                return true;
        bool ok = fflush(s->f) == 0 && !ferror(s->f);
        if (ok && s->mem) {
                /* In memory: read it as a stream of its own. */
                fclose(s->f);
                s->f = fmemopen(s->mem, s->mem_len ? s->mem_len : 1, "r");
                ok = s->f != NULL;
        } else if (ok) {
                rewind(s->f);
        }
        char *line = NULL;
        size_t cap = 0;
        while (ok && (!s->mem || s->mem_len) && getline(&line, &cap, s->f) > 0) {
                json_t *record = json_loads(line, 0, NULL);
                ok = record && fn(w, record);
                json_decref(record);
        }
        ok = ok && s->f && !ferror(s->f);
        free(line);
        spool_close(s);
        return ok;
}

bool writer_repeated(lint_writer_t *w, const lint_result_t *r)
{
        if (!r->display)
                return false;
        int added = lint_set_add(&w->names, r->display);
        w->failed |= added < 0;
        return added == 0;
}

/*
 * text: file:line:col: severity: message [rule]
 */
/* Pieces of a line, as printf's %s (NULL is "(null)") and %d write them,
 * without parsing a format for each finding. */
static void put_s(FILE *out, const char *s)
{
        fputs(s ? s : "(null)", out);
}

static void put_d(FILE *out, int n)
{
        char buf[16], *p = buf + sizeof(buf);
        unsigned u = n < 0 ? 0u - (unsigned)n : (unsigned)n;
        *--p = '\0';
        do
                *--p = (char)('0' + u % 10);
        while (u /= 10);
        if (n < 0)
                *--p = '-';
        fputs(p, out);
}

static void text_finding(FILE *out, const lint_run_t *run, const lint_result_t *r,
                         const ksafe_violation_t *v)
{
        const char *on = lint_color(run, v, true), *off = lint_color(run, v, false);
        bool fixed = run->fix && v->fixed;
        put_s(out, location_file(r, v));
        putc(':', out);
        put_d(out, v->line);
        putc(':', out);
        put_d(out, v->column);
        fputs(": ", out);
        fputs(on, out);
        fputs(fixed ? "fixed" : ksafe_severity_name(v->severity), out);
        putc(':', out);
        fputs(off, out);
        putc(' ', out);
        put_s(out, v->message);
        if (fixed && v->fix) {
                fputs("; set to ", out);
                fputs(v->fix, out);
        } else if (!fixed && v->fix) {
                fputs(" (fix: ", out);
                put_s(out, v->property);
                putc('=', out);
                fputs(v->fix, out);
                putc(')', out);
        }
        fputs(" [", out);
        put_s(out, v->rule_id);
        fputs("]\n", out);
}

/*
 * json: {"version":1,"findings":[...],"summary":{...}}, the findings
 * written as they come
 */
static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *finding_json(const lint_result_t *r, const ksafe_violation_t *v)
{
        return json_pack("{s:s, s:i, s:i, s:s?, s:s?, s:o, s:s, s:s, s:o, s:o, s:o, s:s?, s:o, "
                         "s:b, s:b}",
                         "file", location_file(r, v), "line", v->line, "column", v->column, "rule",
                         v->rule_id, "property", v->property, "canonical",
                         str_or_null(v->canonical), "severity", ksafe_severity_name(v->severity),
                         "action", ksafe_action_name(v->action), "actual", str_or_null(v->actual),
                         "expected", str_or_null(v->expected), "fix", str_or_null(v->fix),
                         "message", v->message, "why", str_or_null(v->why), "fixed", v->fixed,
                         "is_set", v->is_set);
}

/* The findings array is the document's "findings" key, 2 spaces in. */
#define JSON_FINDINGS_INDENT 2

static bool json_start(lint_writer_t *w)
{
        names_t names = policy_names(w->run);
        const char *parts[2];
        char *text = json_split(
                json_pack("{s:i, s:s, s:o, s:b, s:s}", "version", 1, "policy", names.policy,
                          "environment", str_or_null(names.env), "allow_unsafe",
                          ksafe_policy_allows_unsafe(w->run->policy), "findings", JSON_SPLIT_MARK),
                parts, 2);
        names_free(&names);
        if (text)
                fputs(parts[0], w->out);
        free(text);
        return text && spool_open(&w->unreadable);
}

static bool json_add(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        w->inputs++;
        if (!r->report) {
                w->unreadable_count++;
                if (!spool_line(&w->unreadable,
                                json_pack("{s:s?, s:s}", "file", r->display, "message",
                                          r->error ? r->error : "cannot read this input")))
                        return false;
        }
        w->suppressed += r->suppressed_count;
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (!shown(run, r, v))
                        continue;
                if (!json_stream_item(w->out, &w->items, finding_json(r, v), JSON_FINDINGS_INDENT))
                        return false;
                if (run->fix && v->fixed)
                        w->fixed++;
                else if (v->severity == KSAFE_SEVERITY_ERROR)
                        w->errors++;
                else
                        w->warnings++;
        }
        return true;
}

/* One of the "unreadable" array's records, written. */
static bool json_unreadable(lint_writer_t *w, json_t *record)
{
        return json_stream_item(w->out, &w->items, json_incref(record), JSON_FINDINGS_INDENT);
}

static bool json_finish(lint_writer_t *w)
{
        size_t unreadable = w->unreadable_count;
        const char *parts[3];
        char *text = json_split(
                json_pack("{s:s, s:s, s:n, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "findings",
                          JSON_SPLIT_MARK, "unreadable", JSON_SPLIT_MARK, "error", "summary",
                          "files", (json_int_t)(w->inputs - unreadable), "unreadable",
                          (json_int_t)unreadable, "errors", (json_int_t)w->errors, "warnings",
                          (json_int_t)w->warnings, "fixed", (json_int_t)w->fixed, "suppressed",
                          (json_int_t)w->suppressed),
                parts, 3);
        if (!text)
                return false;
        json_stream_end(w->out, w->items, JSON_FINDINGS_INDENT);
        fputs(parts[1], w->out);
        w->items = 0;
        bool ok = spool_each_line(&w->unreadable, w, json_unreadable);
        json_stream_end(w->out, w->items, JSON_FINDINGS_INDENT);
        fputs(parts[2], w->out);
        fputc('\n', w->out);
        free(text);
        return ok;
}

/* The policy's name and environment, escaped like everything else. */
names_t policy_names(const lint_run_t *run)
{
        const char *env = ksafe_policy_env(run->policy);
        return (names_t){ksafe_report_escape(ksafe_policy_name(run->policy)),
                         env ? ksafe_report_escape(env) : NULL};
}

void names_free(names_t *n)
{
        free(n->policy);
        free(n->env);
}

/* Print a whole document, or say why there is none. */
bool print_doc(json_t *doc, const char *format)
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

/* The JSON document of a run that could not start: no policy, no
 * finding, "error" says why (and where, when in a file). */
static bool print_json_failure(const char *text, const char *source, int line, int column)
{
        char *shown = ksafe_report_escape(text);
        char *where = source && *source ? ksafe_report_escape(source) : NULL;
        json_t *doc = json_pack(
                "{s:i, s:n, s:n, s:b, s:[], s:[], s:{s:s, s:o, s:o, s:o}, "
                "s:{s:i, s:i, s:i, s:i, s:i, s:i}}",
                "version", 1, "policy", "environment", "allow_unsafe", false, "findings",
                "unreadable", "error", "message", shown ? shown : "?", "source", str_or_null(where),
                "line", line > 0 ? json_integer(line) : json_null(), "column",
                line > 0 && column > 0 ? json_integer(column) : json_null(), "summary", "files", 0,
                "unreadable", 0, "errors", 0, "warnings", 0, "fixed", 0, "suppressed", 0);
        free(shown);
        free(where);
        return print_doc(doc, "JSON");
}

/*
 * SARIF 2.1.0, as GitHub code scanning reads it
 */
#define SRCROOT "%SRCROOT%"
#define FINGERPRINT_KEY "ksafeFinding/v1"

static const char *sarif_level(const lint_run_t *run, const lint_result_t *r,
                               const ksafe_violation_t *v)
{
        if (run->fix && v->fixed)
                return "note";
        return lint_is_failure(run, r, v) ? "error" : "warning";
}

/* The built-in baseline's rules (conf/policies/default.json): each keeps a
 * producer from losing or duplicating messages, so code scanning ranks them
 * as security alerts ("security-severity", CVSS-like: 7.0 and above is high). */
static const struct {
        const char *id, *severity;
} baseline_rules[] = {
        {"acks-all", "8.0"},         {"idempotence", "8.0"}, {"retries", "7.5"},
        {"delivery-timeout", "7.0"}, {"in-flight", "7.0"},   {"delivery-covers-request", "6.5"},
};

const char *baseline_severity(const char *id)
{
        for (size_t i = 0; i < sizeof(baseline_rules) / sizeof(*baseline_rules); i++)
                if (strcmp(baseline_rules[i].id, id) == 0)
                        return baseline_rules[i].severity;
        return NULL;
}

/* A rule's friendly name, as SARIF wants it: the id in Pascal case
 * ("acks-all" is AcksAll); NULL (no name) when that is the id but for case
 * ("idempotence"): a name must differ from the id (the Multitool's
 * SARIF1001; SARIF2012 only notes a missing one). */
static json_t *rule_name(const char *id)
{
        char name[256];
        size_t o = 0;
        bool up = true;
        for (const char *p = id; *p && o + 1 < sizeof(name); p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9'))) {
                        up = true;
                        continue;
                }
                name[o++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
                up = false;
        }
        name[o] = '\0';
        return o && strcasecmp(name, id) != 0 ? json_string(name) : NULL;
}

/* A rule's metadata: a friendly name, descriptions, and help (text and
 * markdown) as `ksafe-lint --explain` and doc/rules.md give it
 * (lint-rules.c: one text), a helpUri at the rule's own row of the README,
 * tags, and security-severity for the baseline. A rule that the catalogue
 * does not know (none should be) is described from the finding. */
static json_t *sarif_rule(const lint_run_t *run, const ksafe_violation_t *v, const char *id)
{
        const char *severity = baseline_severity(id);
        bool builtin = strncmp(id, "ksafe-", 6) == 0;
        lint_rule_t about;
        bool known = lint_rule_find(run->policy, id, &about) > 0;
        const char *why = v->why ? v->why : id;
        json_t *uri = severity || builtin ? json_sprintf(INFO_URI "#rule-%s", id)
                                          : json_string(INFO_URI "#policy-files");
        json_t *short_text = known ? json_string(about.checks) : json_string(why);
        json_t *full =
                known ? json_sprintf("%s %s", about.checks, about.why) : json_sprintf("%s", why);
        char *text = known ? lint_rule_text(&about) : NULL;
        char *markdown = known ? lint_rule_markdown(&about) : NULL;
        json_t *help = json_string(text ? text : why);
        json_t *help_md = markdown ? json_sprintf("%s\n[documentation](%s)", markdown,
                                                  uri ? json_string_value(uri) : INFO_URI)
                                   : json_sprintf("**%s**: %s", id, why);
        free(text);
        free(markdown);
        lint_rule_free(&about);
        json_t *tags = severity  ? json_pack("[s, s, s, s]", "kafka", "reliability", "data-loss",
                                             "security")
                       : builtin ? json_pack("[s, s]", "kafka", "correctness")
                                 : json_pack("[s, s]", "kafka", "policy");
        json_t *props = json_pack("{s:o}", "tags", tags);
        if (props && severity &&
            json_object_set_new(props, "security-severity", json_string(severity)) != 0) {
                json_decref(props);
                props = NULL;
        }
        return json_pack("{s:s, s:o*, s:{s:o}, s:{s:o}, s:{s:o, s:o}, s:{s:s}, s:o, s:o}", "id", id,
                         "name", rule_name(id), "shortDescription", "text", short_text,
                         "fullDescription", "text", full, "help", "text", help, "markdown", help_md,
                         "defaultConfiguration", "level",
                         v->severity == KSAFE_SEVERITY_ERROR ? "error" : "warning", "helpUri", uri,
                         "properties", props);
}

/* The index of the violation's rule in `rules`, added when new; -1 when
 * it could not be added. */
static json_int_t sarif_rule_index(const lint_run_t *run, json_t *rules, const ksafe_violation_t *v)
{
        const char *id = v->rule_id ? v->rule_id : "?";
        size_t i;
        json_t *rule;
        json_array_foreach (rules, i, rule) {
                if (strcmp(json_string_value(json_object_get(rule, "id")), id) == 0)
                        return (json_int_t)i;
        }
        if (json_array_append_new(rules, sarif_rule(run, v, id)) != 0)
                return -1;
        return (json_int_t)json_array_size(rules) - 1;
}

/* A path as a URI reference (RFC 3986): every byte but the unreserved ones
 * and '/' as %XX, so any name, UTF-8 or not, is carried losslessly; after
 * `prefix` ("file://" or ""). malloc'd, NULL when out of memory. */
static char *uri_encode(const char *prefix, const char *path)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t plen = strlen(prefix);
        char *uri = malloc(plen + 3 * strlen(path) + 1);
        if (!uri)
                return NULL;
        memcpy(uri, prefix, plen);
        char *o = uri + plen;
        for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
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
        return uri;
}

/* `name` as an absolute path without ".", ".." or "//" (lexically: a
 * finding names the file as it was given), relative names from `cwd`.
 * malloc'd, NULL when out of memory. */
char *absolute_path(const char *cwd, const char *name)
{
        size_t n = strlen(cwd) + strlen(name) + 3;
        char *joined = malloc(n), *out = malloc(n);
        if (!joined || !out) {
                free(joined);
                free(out);
                return NULL;
        }
        snprintf(joined, n, "%s/%s", name[0] == '/' ? "" : cwd, name);
        size_t o = 0;
        for (const char *p = joined; *p;) {
                while (*p == '/')
                        p++;
                const char *seg = p;
                size_t len = strcspn(p, "/");
                p += len;
                if (len == 0 || (len == 1 && seg[0] == '.'))
                        continue;
                if (len == 2 && seg[0] == '.' && seg[1] == '.') {
                        while (o > 0 && out[--o] != '/')
                                ;
                        continue;
                }
                out[o++] = '/';
                memcpy(out + o, seg, len);
                o += len;
        }
        if (o == 0)
                out[o++] = '/';
        out[o] = '\0';
        free(joined);
        return out;
}

/* `path` relative to `base` when it is under it, else absolute (*outside
 * set); malloc'd, NULL when out of memory. */
char *relative_path(const char *cwd, const char *base, const char *path, bool *outside)
{
        char *abs = absolute_path(cwd, path);
        if (!abs)
                return NULL;
        size_t n = strlen(base);
        const char *rest = strcmp(base, "/") == 0                        ? abs + 1
                           : strncmp(abs, base, n) == 0 && abs[n] == '/' ? abs + n + 1
                                                                         : NULL;
        *outside = rest == NULL;
        if (rest)
                memmove(abs, rest, strlen(rest) + 1);
        return abs;
}

/* Where SARIF puts `path`: relative to %SRCROOT% when under the base,
 * else an absolute file:// URI (*outside set), or for the pseudo-files
 * "<stdin>" and "<command line>" their names, percent-encoded, without a
 * base. NULL when out of memory. */
static json_t *artifact_location(const char *cwd, const char *base, const char *path, bool *outside)
{
        *outside = false;
        if (path[0] == '<') {
                char *uri = uri_encode("", path);
                json_t *loc = uri ? json_pack("{s:s}", "uri", uri) : NULL;
                free(uri);
                return loc;
        }
        char *rel = relative_path(cwd, base, path, outside);
        if (!rel)
                return NULL;
        char *uri = *outside ? uri_encode("file://", rel) : uri_encode("", rel);
        free(rel);
        json_t *loc = !uri        ? NULL
                      : !*outside ? json_pack("{s:s, s:s}", "uri", uri, "uriBaseId", SRCROOT)
                                  : json_pack("{s:s}", "uri", uri);
        free(uri);
        return loc;
}

/* The 1-based column, in UTF-16 code units, of byte column `column` on
 * `line` of `text` (a BOM at the start is not counted, as the reader does
 * not count it); `column` itself when the line is not there. Bytes that
 * are not UTF-8 count one unit each (U+FFFD). */
static int utf16_column(const char *text, size_t len, int line, int column)
{
        if (column < 1)
                return 1;
        if (!text || line < 1 || column == 1)
                return column;
        size_t i = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        for (int l = 1; l < line; l++) {
                const char *nl = memchr(text + i, '\n', len - i);
                if (!nl)
                        return column;
                i = (size_t)(nl - text) + 1;
        }
        int units = 1;
        for (size_t k = 0; k + 1 < (size_t)column && i + k < len; k++) {
                unsigned char c = (unsigned char)text[i + k];
                if (c == '\n')
                        break;
                if (c >= 0x80 && c <= 0xBF)
                        continue; /* continues a character */
                units += c >= 0xF0 && c <= 0xF4 ? 2 : 1;
        }
        return units;
}

/* A regular file's bytes, up to the size cap; NULL when it cannot be read
 * (anything but a regular file is not opened: it could block). */
static char *read_whole(const char *path, size_t *lenp)
{
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                return NULL;
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *data = lint_read_stream(f, lenp);
        fclose(f);
        return data;
}

uint64_t fnv1a(uint64_t h, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s;; p++) {
                h = (h ^ *p) * 0x100000001b3ULL;
                if (!*p)
                        return h; /* the NUL too: fields do not run together */
        }
}

/* The run's directories; "/" when not given (a caller that names files by
 * absolute paths, or a fuzz target). */
const char *run_cwd(const lint_run_t *run)
{
        return run->cwd ? run->cwd : "/";
}

const char *run_base(const lint_run_t *run)
{
        return run->base_dir ? run->base_dir : run_cwd(run);
}

/* The path a finding is about, as given: the input's own name when the
 * finding is about the input (not its escaped form: the URI encodes every
 * byte), --stdin-filename for standard input, "<command line>" for -X. */
const char *finding_path(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v)
{
        if (v && v->file && strcmp(v->file, "<command line>") == 0)
                return v->file;
        if (!v || !v->file || (r->display && strcmp(v->file, r->display) == 0)) {
                if (strcmp(r->name, "-") == 0)
                        return run->stdin_name ? run->stdin_name : "<stdin>";
                return r->name;
        }
        return v->file;
}

/* The results array is the run's "results" key, 6 spaces in; the
 * notifications array is its invocation's "toolExecutionNotifications",
 * 10 spaces in. */
#define SARIF_RESULTS_INDENT 6
#define SARIF_NOTES_INDENT 10

/* An input's text, read when a column must be counted in UTF-16 units. */
typedef struct sarif_text_s {
        const lint_result_t *of;
        char *text; /* of->text, or read here */
        size_t len;
} sarif_text_t;

static void sarif_read_text(sarif_text_t *t, const lint_result_t *r)
{
        if (t->of == r)
                return;
        t->of = r;
        t->text = r->text;
        t->len = r->text_len;
        if (!t->text && strcmp(r->name, "-") != 0 && r->name[0] != '<')
                t->text = read_whole(r->name, &t->len);
}

static void sarif_text_free(sarif_text_t *t)
{
        if (t->of && t->text != t->of->text)
                free(t->text);
        *t = (sarif_text_t){0};
}

/* Where a finding is: its artifact (NULL when out of memory), whether that
 * is outside the base, and its line and column (UTF-16 units). */
typedef struct sarif_place_s {
        json_t *artifact;
        bool outside;
        int line, column;
} sarif_place_t;

static sarif_place_t sarif_place(const lint_run_t *run, const lint_result_t *r,
                                 const ksafe_violation_t *v, const char *path, sarif_text_t *t)
{
        sarif_place_t at = {.line = v->line > 0 ? v->line : 1,
                            .column = v->column > 0 ? v->column : 1};
        at.artifact = artifact_location(run_cwd(run), run_base(run), path, &at.outside);
        if (v->column > 1 && strcmp(path, "<command line>") != 0) {
                sarif_read_text(t, r);
                at.column = utf16_column(t->text, t->len, at.line, v->column);
        }
        return at;
}

/* Where results are told apart: those made (no result twice: one file
 * named twice, a.properties ./a.properties, or in a directory and by
 * itself), how many have each fingerprint, the files outside the base
 * said. The run's (in the writer) for the findings of an input that
 * another input names too, and for findings located elsewhere (-X's
 * "<command line>"); else the input's own, dropped with it: no other
 * input's result can have its file, and memory stays flat. */
typedef struct sarif_scope_s {
        lint_set_t *seen, *fingerprints, *outside;
} sarif_scope_t;

/* An alert's identity for code scanning: the rule, the file and the
 * property (else the message), not the line number, so that it survives
 * edits elsewhere in the file; not the line's text either, which may hold
 * a secret. ":N" tells identical ones apart. */
static void sarif_hash(const char *rule, const char *uri, const ksafe_violation_t *v, char *hash,
                       size_t size)
{
        uint64_t h = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, rule), uri ? uri : ""),
                           v->property ? v->property : v->message);
        snprintf(hash, size, "%016llx", (unsigned long long)h);
}

/* Is the result at `at` new in `scope` (false: made already)? Its
 * fingerprint's number in *nth, and whether it is the first outside the
 * base at its file (*note). */
static bool sarif_identify(lint_writer_t *w, const sarif_scope_t *scope, sarif_place_t at,
                           const ksafe_violation_t *v, json_int_t *nth, bool *note)
{
        const char *uri = json_string_value(json_object_get(at.artifact, "uri"));
        const char *rule = v->rule_id ? v->rule_id : "?";
        json_t *key = uri ? json_sprintf("%s\x1f%d\x1f%d\x1f%s\x1f%s", uri, at.line, at.column,
                                         rule, v->message)
                          : NULL;
        int added = key ? lint_set_add(scope->seen, json_string_value(key)) : -1;
        json_decref(key);
        w->failed |= added < 0;
        if (added == 0)
                return false;
        char hash[32];
        sarif_hash(rule, uri, v, hash, sizeof(hash));
        size_t *count = lint_set_count(scope->fingerprints, hash, strlen(hash));
        w->failed |= !count;
        *nth = count ? (json_int_t)++ * count : 1;
        added = at.outside && uri ? lint_set_add(scope->outside, uri) : 0;
        w->failed |= added < 0;
        *note = added > 0;
        return true;
}

/* One result, numbered `nth` among those of its fingerprint, and the note
 * about a file outside the base (`note`: `path` names it). The place's
 * artifact and `suppressions` (NULL, or the result's "suppressions") are
 * released. */
static void sarif_write(lint_writer_t *w, const char *path, sarif_place_t at, const char *level,
                        const ksafe_violation_t *v, json_t *suppressions, json_int_t nth, bool note)
{
        const lint_run_t *run = w->run;
        json_t *artifact = at.artifact;
        const char *uri = json_string_value(json_object_get(artifact, "uri"));
        const char *rule = v->rule_id ? v->rule_id : "?";
        char hash[32];
        sarif_hash(rule, uri, v, hash, sizeof(hash));
        json_int_t index = sarif_rule_index(run, w->rules, v);
        json_t *result =
                index < 0 || !artifact
                        ? NULL
                        : json_pack("{s:s, s:I, s:s, s:{s:s?}, s:[{s:{s:O, s:{s:i, s:i}}}], "
                                    "s:{s:o}}",
                                    "ruleId", rule, "ruleIndex", index, "level", level, "message",
                                    "text", v->message, "locations", "physicalLocation",
                                    "artifactLocation", artifact, "region", "startLine", at.line,
                                    "startColumn", at.column, "partialFingerprints",
                                    FINGERPRINT_KEY,
                                    json_sprintf("%s:%" JSON_INTEGER_FORMAT, hash, nth));
        if (result && suppressions) {
                w->failed |= json_object_set_new(result, "suppressions", suppressions) != 0;
                suppressions = NULL;
        }
        json_decref(suppressions);
        w->failed |= !json_stream_item(w->body.f, &w->items, result, SARIF_RESULTS_INDENT);
        if (note) {
                char *shown = ksafe_report_escape(path);
                char *base = ksafe_report_escape(run_base(run));
                w->failed |= !json_stream_item(
                        w->notes.f, &w->note_count,
                        json_pack("{s:s, s:{s:o}}", "level", "warning", "message", "text",
                                  json_sprintf("%s is outside the base directory "
                                               "%s (--base-dir): its results name "
                                               "it by an absolute file:// URI, "
                                               "which code scanning cannot place "
                                               "in the repository",
                                               shown ? shown : "?", base ? base : "?")),
                        SARIF_NOTES_INDENT);
                free(shown);
                free(base);
        }
        json_decref(artifact);
}

/* A suppressed finding, kept (one line of JSON in w->later) until every
 * other result of the run is out: SARIF lists them after the others. In
 * the input's own scope it is told apart now (its input's other results
 * are all made): a duplicate is dropped, its number and note kept. */
static bool sarif_keep_suppressed(lint_writer_t *w, const lint_result_t *r,
                                  const lint_suppression_t *s, sarif_text_t *t,
                                  const sarif_scope_t *here)
{
        const ksafe_violation_t *v = s->finding;
        const char *path = finding_path(w->run, r, v);
        sarif_place_t at = sarif_place(w->run, r, v, path, t);
        json_int_t nth = 0;
        bool note = false;
        if (here && !sarif_identify(w, here, at, v, &nth, &note)) {
                json_decref(at.artifact);
                return true;
        }
        char *shown = ksafe_report_escape(path);
        json_t *kept = json_pack(
                "{s:o, s:b, s:s, s:i, s:i, s:s, s:s?, s:s, s:s?, s:s?, s:b, s:b, s:s?, s:I, s:b}",
                "artifact", at.artifact ? at.artifact : json_null(), "outside", at.outside, "path",
                shown ? shown : "?", "line", at.line, "column", at.column, "level",
                sarif_level(w->run, r, v), "rule", v->rule_id, "message", v->message, "property",
                v->property, "why", v->why, "error", v->severity == KSAFE_SEVERITY_ERROR,
                "external", s->external, "justification", s->justification, "nth", nth, "note",
                note);
        free(shown);
        return spool_line(&w->later, kept);
}

/* Suppressed findings are results too, with their "suppressions" (SARIF
 * 2.1.0 3.27.23): code scanning shows them as dismissed. One kept by
 * sarif_keep_suppressed(), written. */
static bool sarif_suppressed(lint_writer_t *w, json_t *kept)
{
        const sarif_scope_t run_scope = {&w->seen, &w->fingerprints, &w->outside};
        const char *rule = json_string_value(json_object_get(kept, "rule"));
        ksafe_violation_t v = {
                .rule_id = rule,
                .message = json_string_value(json_object_get(kept, "message")),
                .property = json_string_value(json_object_get(kept, "property")),
                .why = json_string_value(json_object_get(kept, "why")),
                .severity = json_is_true(json_object_get(kept, "error")) ? KSAFE_SEVERITY_ERROR
                                                                         : KSAFE_SEVERITY_WARNING,
        };
        json_t *artifact = json_object_get(kept, "artifact");
        sarif_place_t at = {
                .artifact = json_is_object(artifact) ? json_incref(artifact) : NULL,
                .outside = json_is_true(json_object_get(kept, "outside")),
                .line = (int)json_integer_value(json_object_get(kept, "line")),
                .column = (int)json_integer_value(json_object_get(kept, "column")),
        };
        json_int_t nth = json_integer_value(json_object_get(kept, "nth"));
        bool note = json_is_true(json_object_get(kept, "note"));
        if (!nth && !sarif_identify(w, &run_scope, at, &v, &nth, &note)) {
                json_decref(at.artifact);
                return true; /* made already */
        }
        json_t *why = json_pack(
                "[{s:s, s:s*}]", "kind",
                json_is_true(json_object_get(kept, "external")) ? "external" : "inSource",
                "justification", json_string_value(json_object_get(kept, "justification")));
        w->failed |= !why;
        sarif_write(w, json_string_value(json_object_get(kept, "path")), at,
                    json_string_value(json_object_get(kept, "level")), &v, why, nth, note);
        return true;
}

/* A notification kept for the end (an input that could not be read). */
static bool sarif_note(lint_writer_t *w, json_t *note)
{
        return json_stream_item(w->notes.f, &w->note_count, json_incref(note), SARIF_NOTES_INDENT);
}

static bool sarif_start(lint_writer_t *w)
{
        w->rules = json_array();
        return w->rules && spool_open(&w->body) && spool_open(&w->later) && spool_open(&w->notes) &&
               spool_open(&w->unreadable);
}

static bool sarif_add(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        sarif_text_t t = {0};
        lint_set_t seen = {0}, fingerprints = {0}, outside = {0};
        const sarif_scope_t here = {&seen, &fingerprints, &outside},
                            run_scope = {&w->seen, &w->fingerprints, &w->outside};
        const char *own = finding_path(run, r, NULL);
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (!shown(run, r, v))
                        continue;
                const char *path = finding_path(run, r, v);
                bool alone = !r->named_again && strcmp(path, own) == 0;
                sarif_place_t at = sarif_place(run, r, v, path, &t);
                json_int_t nth;
                bool note;
                if (sarif_identify(w, alone ? &here : &run_scope, at, v, &nth, &note))
                        sarif_write(w, path, at, sarif_level(run, r, v), v, NULL, nth, note);
                else
                        json_decref(at.artifact);
        }
        for (size_t k = 0; k < r->suppressed_count; k++) {
                const lint_suppression_t *s = &r->suppressed[k];
                bool alone = !r->named_again && strcmp(finding_path(run, r, s->finding), own) == 0;
                w->failed |= !sarif_keep_suppressed(w, r, s, &t, alone ? &here : NULL);
        }
        lint_set_free(&seen);
        lint_set_free(&fingerprints);
        lint_set_free(&outside);
        sarif_text_free(&t);
        /* Inputs that could not be read fail the run: SARIF says so in the
         * invocation, where code scanning shows tool errors. */
        if (!r->report) {
                w->any_unreadable = true;
                w->failed |= !spool_line(
                        &w->unreadable,
                        json_pack("{s:s, s:{s:o}}", "level", "error", "message", "text",
                                  json_sprintf("%s: %s", r->display ? r->display : "?",
                                               r->error ? r->error : "cannot read this input")));
        }
        return !w->failed;
}

/* A whole SARIF log of one run; every argument is released (jansson
 * releases every "o" argument also when packing fails). */
static json_t *sarif_log(json_t *rules, json_t *results, json_t *invocation, const char *base_dir,
                         json_t *automation)
{
        char *base = uri_encode("file://", base_dir);
        json_t *base_uri =
                base ? json_sprintf("%s%s", base, strcmp(base_dir, "/") ? "/" : "") : NULL;
        free(base);
        json_t *doc = json_pack(
                "{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:{s:{s:o}}, s:s, s:o, s:[o]}]}",
                "$schema", "https://json.schemastore.org/sarif-2.1.0.json", "version", "2.1.0",
                "runs", "tool", "driver", "name", "ksafe-lint", "version", ksafe_version_str(),
                "informationUri", INFO_URI, "rules", rules, "originalUriBaseIds", SRCROOT, "uri",
                base_uri, "columnKind", "utf16CodeUnits", "results", results, "invocations",
                invocation);
        json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
        if (automation && run && json_object_set_new(run, "automationDetails", automation) != 0) {
                json_decref(doc);
                return NULL;
        }
        if (!automation || !run)
                json_decref(automation);
        return doc;
}

static bool sarif_finish(lint_writer_t *w)
{
        const lint_run_t *run = w->run;
        w->failed |= !spool_each_line(&w->later, w, sarif_suppressed);
        /* After the notes about files outside the base: the inputs that
         * could not be read, then the policy's allow_unsafe. */
        w->failed |= !spool_each_line(&w->unreadable, w, sarif_note);
        names_t names = policy_names(run);
        if (ksafe_policy_allows_unsafe(run->policy))
                w->failed |= !json_stream_item(
                        w->notes.f, &w->note_count,
                        json_pack("{s:s, s:{s:o}}", "level", "warning", "message", "text",
                                  json_sprintf("policy \"%s\" sets allow_unsafe: it may "
                                               "weaken the safety baseline",
                                               names.policy ? names.policy : "?")),
                        SARIF_NOTES_INDENT);
        /* One category per policy and environment: two runs (-e staging,
         * -e prod) upload side by side instead of replacing each other. */
        json_t *automation =
                json_pack("{s:o}", "id",
                          json_sprintf("ksafe-lint/%s/%s%s", names.policy ? names.policy : "?",
                                       names.env ? names.env : "", names.env ? "/" : ""));
        names_free(&names);
        json_t *invocation = json_pack("{s:b, s:s}", "executionSuccessful", !w->any_unreadable,
                                       "toolExecutionNotifications", JSON_SPLIT_MARK);
        const char *parts[3];
        char *text = json_split(sarif_log(json_incref(w->rules), json_string(JSON_SPLIT_MARK),
                                          invocation, run_base(run), automation),
                                parts, 3);
        if (!text || w->failed) {
                free(text);
                return false;
        }
        fputs(parts[0], stdout);
        bool ok = spool_copy(&w->body, stdout);
        json_stream_end(stdout, w->items, SARIF_RESULTS_INDENT);
        fputs(parts[1], stdout);
        ok &= spool_copy(&w->notes, stdout);
        json_stream_end(stdout, w->note_count, SARIF_NOTES_INDENT);
        fputs(parts[2], stdout);
        putchar('\n');
        free(text);
        return ok;
}

static bool print_sarif_failure(const char *text, const char *source, int line, int column,
                                const char *cwd, const char *base_dir)
{
        char *shown = ksafe_report_escape(text);
        char *where = source && *source ? ksafe_report_escape(source) : NULL;
        json_t *note = json_pack(
                "{s:s, s:{s:o}}", "level", "error", "message", "text",
                json_sprintf("%s%s%s", where ? where : "", where ? ": " : "", shown ? shown : "?"));
        /* A policy file's error points at its place (not builtin:NAME). */
        if (note && source && *source && strncmp(source, "builtin:", 8) != 0) {
                bool outside;
                json_t *artifact = artifact_location(cwd, base_dir, source, &outside);
                json_t *loc = json_pack("{s:o}", "artifactLocation", artifact);
                if (loc && line > 0 &&
                    json_object_set_new(loc, "region",
                                        json_pack("{s:i, s:i}", "startLine", line, "startColumn",
                                                  column > 0 ? column : 1)) != 0) {
                        json_decref(loc);
                        loc = NULL;
                }
                if (!loc || json_object_set_new(note, "locations",
                                                json_pack("[{s:o}]", "physicalLocation", loc))) {
                        json_decref(note);
                        note = NULL;
                }
        }
        free(shown);
        free(where);
        json_t *invocation = json_pack("{s:b, s:[o]}", "executionSuccessful", false,
                                       "toolExecutionNotifications", note);
        return print_doc(sarif_log(json_array(), json_array(), invocation, base_dir, NULL),
                         "SARIF");
}

/*
 * GitHub workflow commands: ::error file=F,line=L,col=C,title=T::MESSAGE
 */
static void github_escape(FILE *out, const char *raw, bool property)
{
        /* Escaped first (idempotent on what the report escaped already):
         * the runner shows the rest as it is, terminal escapes included. */
        char *shown = ksafe_report_escape(raw);
        for (const char *s = shown ? shown : "?"; *s; s++) {
                switch (*s) {
                case '%': fputs("%25", out); break;
                case '\r': fputs("%0D", out); break;
                case '\n': fputs("%0A", out); break;
                case ':': fputs(property ? "%3A" : ":", out); break;
                case ',': fputs(property ? "%2C" : ",", out); break;
                default: putc(*s, out);
                }
        }
        free(shown);
}

static void github_finding(FILE *out, const lint_run_t *run, const lint_result_t *r,
                           const ksafe_violation_t *v)
{
        const char *level = run->fix && v->fixed         ? "notice"
                            : lint_is_failure(run, r, v) ? "error"
                                                         : "warning";
        fprintf(out, "::%s file=", level);
        github_escape(out, location_file(r, v), true);
        fprintf(out, ",line=%d,col=%d,title=", v->line > 0 ? v->line : 1,
                v->column > 0 ? v->column : 1);
        github_escape(out, v->rule_id, true);
        fputs("::", out);
        github_escape(out, v->message, false);
        putc('\n', out);
}

/* The same commands, each input's in a ::group:: that the Actions log
 * folds, titled by its name and counts; inputs with nothing to show have
 * none. An input that could not be read is an ::error of its own. */
static void github_group(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        FILE *out = w->out;
        size_t errors = 0, warnings = 0, fixed = 0;
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (!shown(run, r, v))
                        continue;
                if (run->fix && v->fixed)
                        fixed++;
                else if (lint_is_failure(run, r, v))
                        errors++;
                else
                        warnings++;
        }
        if (writer_repeated(w, r) || (r->report && errors + warnings + fixed == 0))
                return;
        fputs("::group::", out);
        github_escape(out, r->display, false);
        if (!r->report)
                fputs(": unreadable", out);
        else
                fprintf(out, ": %zu error%s, %zu warning%s", errors, errors == 1 ? "" : "s",
                        warnings, warnings == 1 ? "" : "s");
        if (fixed)
                fprintf(out, ", %zu fixed", fixed);
        putc('\n', out);
        if (!r->report) {
                fputs("::error file=", out);
                github_escape(out, r->display, true);
                fputs(",line=1,col=1,title=ksafe-lint::", out);
                github_escape(out, r->error ? r->error : "cannot read this input", false);
                putc('\n', out);
        }
        for (size_t k = 0; k < lint_result_count(r); k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (shown(run, r, v))
                        github_finding(out, run, r, v);
        }
        fputs("::endgroup::\n", out);
}

/* A run that could not start: an ::error at the policy file (when the
 * error is in one), where the Actions summary shows it. */
static bool print_github_failure(const char *text, const char *source, int line, int column)
{
        fputs("::error ", stdout);
        if (source && *source && strncmp(source, "builtin:", 8) != 0) {
                fputs("file=", stdout);
                github_escape(stdout, source, true);
                printf(",line=%d,col=%d,", line > 0 ? line : 1,
                       line > 0 && column > 0 ? column : 1);
        }
        fputs("title=ksafe-lint::", stdout);
        if (source && *source) {
                github_escape(stdout, source, false);
                fputs(": ", stdout);
        }
        github_escape(stdout, text, false);
        putchar('\n');
        return true;
}

bool lint_format_parse(const char *name, lint_format_t *format)
{
        static const struct {
                const char *name;
                lint_format_t format;
        } formats[] = {
                {"text", LINT_FORMAT_TEXT},
                {"json", LINT_FORMAT_JSON},
                {"sarif", LINT_FORMAT_SARIF},
                {"github", LINT_FORMAT_GITHUB},
                {"junit", LINT_FORMAT_JUNIT},
                {"gitlab", LINT_FORMAT_GITLAB},
                {"checkstyle", LINT_FORMAT_CHECKSTYLE},
        };
        if (strcmp(name, "auto") == 0) {
                const char *actions = getenv("GITHUB_ACTIONS");
                *format = actions && strcmp(actions, "true") == 0 ? LINT_FORMAT_GITHUB_GROUPS
                                                                  : LINT_FORMAT_TEXT;
                return true;
        }
        for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++)
                if (strcmp(name, formats[i].name) == 0) {
                        *format = formats[i].format;
                        return true;
                }
        return false;
}

/* The formats' names, as an error about their output says them. */
static const char *const format_names[] = {
        [LINT_FORMAT_TEXT] = "text",
        [LINT_FORMAT_JSON] = "JSON",
        [LINT_FORMAT_SARIF] = "SARIF",
        [LINT_FORMAT_GITHUB] = "GitHub",
        [LINT_FORMAT_JUNIT] = "JUnit",
        [LINT_FORMAT_GITLAB] = "GitLab",
        [LINT_FORMAT_CHECKSTYLE] = "Checkstyle",
        [LINT_FORMAT_GITHUB_GROUPS] = "GitHub",
};

static void writer_free(lint_writer_t *w)
{
        spool_close(&w->body);
        spool_close(&w->later);
        spool_close(&w->notes);
        spool_close(&w->unreadable);
        lint_set_free(&w->names);
        lint_set_free(&w->seen);
        lint_set_free(&w->fingerprints);
        lint_set_free(&w->outside);
        json_decref(w->rules);
        free(w);
}

lint_writer_t *lint_writer_new(const lint_run_t *run)
{
        lint_writer_t *w = calloc(1, sizeof(*w));
        if (!w) {
                fprintf(stderr, "ksafe-lint: out of memory\n");
                return NULL;
        }
        w->run = run;
        w->out = stdout;
        w->format = run->format < LINT_FORMAT_COUNT ? format_names[run->format] : "?";
        bool ok = true;
        /* --effective printed each input's text as it was judged: the
         * findings come after all of it. */
        if (run->effective &&
            (run->format == LINT_FORMAT_TEXT || run->format == LINT_FORMAT_GITHUB ||
             run->format == LINT_FORMAT_GITHUB_GROUPS)) {
                ok = spool_open(&w->body);
                w->out = w->body.f;
        }
        switch (run->format) {
        case LINT_FORMAT_JSON: ok = ok && json_start(w); break;
        case LINT_FORMAT_SARIF: ok = ok && sarif_start(w); break;
        case LINT_FORMAT_JUNIT: ok = ok && junit_start(w); break;
        case LINT_FORMAT_GITLAB: ok = ok && gitlab_start(w); break;
        case LINT_FORMAT_CHECKSTYLE: ok = ok && checkstyle_start(w); break;
        case LINT_FORMAT_TEXT:
        case LINT_FORMAT_GITHUB:
        case LINT_FORMAT_GITHUB_GROUPS:
        case LINT_FORMAT_COUNT: break;
        }
        if (!ok) {
                fprintf(stderr, "ksafe-lint: cannot make the %s output: out of memory\n",
                        w->format);
                writer_free(w);
                return NULL;
        }
        return w;
}

bool lint_writer_add(lint_writer_t *w, const lint_result_t *r)
{
        const lint_run_t *run = w->run;
        bool ok = !w->failed;
        if (!ok)
                return false; /* said once, by lint_writer_finish() */
        switch (run->format) {
        case LINT_FORMAT_TEXT:
        case LINT_FORMAT_GITHUB:
                for (size_t k = 0; k < lint_result_count(r); k++) {
                        const ksafe_violation_t *v = lint_result_get(r, k);
                        if (!shown(run, r, v))
                                continue;
                        if (run->format == LINT_FORMAT_TEXT)
                                text_finding(w->out, run, r, v);
                        else
                                github_finding(w->out, run, r, v);
                }
                break;
        case LINT_FORMAT_GITHUB_GROUPS: github_group(w, r); break;
        case LINT_FORMAT_JSON: ok = json_add(w, r); break;
        case LINT_FORMAT_SARIF: ok = sarif_add(w, r); break;
        case LINT_FORMAT_JUNIT: ok = junit_add(w, r); break;
        case LINT_FORMAT_GITLAB: ok = gitlab_add(w, r); break;
        case LINT_FORMAT_CHECKSTYLE: ok = checkstyle_add(w, r); break;
        case LINT_FORMAT_COUNT: break;
        }
        w->failed |= !ok;
        return !w->failed;
}

bool lint_writer_finish(lint_writer_t *w)
{
        if (!w)
                return false;
        bool ok = !w->failed;
        switch (w->run->format) {
        case LINT_FORMAT_JSON: ok = ok && json_finish(w); break;
        case LINT_FORMAT_SARIF: ok = ok && sarif_finish(w); break;
        case LINT_FORMAT_JUNIT: ok = ok && junit_finish(w); break;
        case LINT_FORMAT_GITLAB: ok = ok && gitlab_finish(w); break;
        case LINT_FORMAT_CHECKSTYLE: ok = ok && checkstyle_finish(w); break;
        case LINT_FORMAT_TEXT:
        case LINT_FORMAT_GITHUB:
        case LINT_FORMAT_GITHUB_GROUPS:
                if (w->out != stdout)
                        ok = ok && spool_copy(&w->body, stdout);
                break;
        case LINT_FORMAT_COUNT: break;
        }
        if (!ok)
                fprintf(stderr, "ksafe-lint: cannot make the %s output: out of memory\n",
                        w->format);
        writer_free(w);
        return ok;
}

/* The file an input's findings name, as SARIF and GitLab tell files
 * apart: absolute, without ".", ".." or "//", escaped; malloc'd. */
static char *input_key(const lint_run_t *run, const char *name)
{
        const char *path = strcmp(name, "-") != 0 ? name
                           : run->stdin_name      ? run->stdin_name
                                                  : "<stdin>";
        if (path[0] == '<')
                return ksafe_report_escape(path);
        char *abs = absolute_path(run_cwd(run), path);
        char *key = abs ? ksafe_report_escape(abs) : NULL;
        free(abs);
        return key;
}

bool lint_named_again(const lint_run_t *run, size_t count,
                      const char *(*name_of)(const void *ctx, size_t i), const void *ctx,
                      bool *again)
{
        lint_set_t keys = {0};
        bool ok = true;
        /* Counted first, then looked up. */
        for (int pass = 0; ok && pass < 2; pass++)
                for (size_t i = 0; ok && i < count; i++) {
                        char *key = input_key(run, name_of(ctx, i));
                        size_t *n = key ? lint_set_count(&keys, key, strlen(key)) : NULL;
                        ok = n != NULL;
                        if (ok && pass == 0)
                                ++*n;
                        else if (ok)
                                again[i] = *n > 1;
                        free(key);
                }
        lint_set_free(&keys);
        for (size_t i = 0; !ok && i < count; i++)
                again[i] = true;
        return ok;
}

static const char *result_name(const void *ctx, size_t i)
{
        const lint_result_t *results = ctx;
        return results[i].name;
}

bool lint_print(const lint_run_t *run)
{
        bool *again = calloc(run->count ? run->count : 1, sizeof(*again));
        if (again)
                lint_named_again(run, run->count, result_name, run->results, again);
        lint_writer_t *w = lint_writer_new(run);
        for (size_t i = 0; w && i < run->count; i++) {
                lint_result_t r = run->results[i];
                r.named_again = !again || again[i];
                lint_writer_add(w, &r);
        }
        free(again);
        return lint_writer_finish(w);
}

bool lint_print_failure(lint_format_t format, const char *text, const char *source, int line,
                        int column, const char *cwd, const char *base_dir)
{
        cwd = cwd ? cwd : "/";
        base_dir = base_dir ? base_dir : cwd;
        switch (format) {
        case LINT_FORMAT_SARIF:
                return print_sarif_failure(text, source, line, column, cwd, base_dir);
        case LINT_FORMAT_JSON: return print_json_failure(text, source, line, column);
        case LINT_FORMAT_GITHUB:
        case LINT_FORMAT_GITHUB_GROUPS: return print_github_failure(text, source, line, column);
        case LINT_FORMAT_TEXT:
        case LINT_FORMAT_COUNT: return true;
        case LINT_FORMAT_JUNIT:
        case LINT_FORMAT_GITLAB:
        case LINT_FORMAT_CHECKSTYLE: break;
        }
        /* The XML formats and GitLab's name the policy file as the inputs
         * are named (escaped as given; GitLab: relative to the base). */
        bool in_file = source && *source && strncmp(source, "builtin:", 8) != 0, outside;
        char *shown = ksafe_report_escape(text);
        char *where = source && *source ? ksafe_report_escape(source) : NULL;
        char *rel = in_file ? relative_path(cwd, base_dir, source, &outside) : NULL;
        char *path = rel ? ksafe_report_escape(rel) : NULL;
        free(rel);
        lint_failure_t f = {.text = shown ? shown : "?",
                            .source = where ? where : "",
                            .path = in_file ? (format == LINT_FORMAT_GITLAB ? path : where) : "",
                            .line = line,
                            .column = column};
        bool ok = shown && (!source || !*source || where) && (!in_file || path);
        if (ok)
                ok = format == LINT_FORMAT_JUNIT    ? print_junit_failure(&f)
                     : format == LINT_FORMAT_GITLAB ? print_gitlab_failure(&f)
                                                    : print_checkstyle_failure(&f);
        else
                fprintf(stderr, "ksafe-lint: cannot make the output: out of memory\n");
        free(shown);
        free(where);
        free(path);
        return ok;
}
