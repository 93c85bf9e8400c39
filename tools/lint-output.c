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

bool lint_is_failure(const lint_run_t *run, const ksafe_violation_t *v)
{
        if ((run->fix && v->fixed) || lint_suppression_of(run, v))
                return false;
        return v->severity == KSAFE_SEVERITY_ERROR || run->werror;
}

bool shown(const lint_run_t *run, const ksafe_violation_t *v)
{
        return !lint_suppression_of(run, v) && (!run->quiet || lint_is_failure(run, v));
}

const char *location_file(const lint_result_t *r, const ksafe_violation_t *v)
{
        return v->file ? v->file : r->display ? r->display : "?";
}

/* Call fn for every finding the run shows (-q shows failures only). */
void each_finding(const lint_run_t *run, finding_fn fn, void *ctx)
{
        for (size_t i = 0; i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                for (size_t k = 0; k < lint_result_count(r); k++) {
                        const ksafe_violation_t *v = lint_result_get(r, k);
                        if (shown(run, v))
                                fn(run, r, v, ctx);
                }
        }
}

/*
 * text: file:line:col: severity: message [rule]
 */
static void text_finding(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v,
                         void *ctx)
{
        (void)ctx;
        const char *on = lint_color(run, v, true), *off = lint_color(run, v, false);
        printf("%s:%d:%d: ", location_file(r, v), v->line, v->column);
        if (run->fix && v->fixed && v->fix)
                printf("%sfixed:%s %s; set to %s [%s]\n", on, off, v->message, v->fix, v->rule_id);
        else if (run->fix && v->fixed)
                printf("%sfixed:%s %s [%s]\n", on, off, v->message, v->rule_id);
        else if (v->fix)
                printf("%s%s:%s %s (fix: %s=%s) [%s]\n", on, ksafe_severity_name(v->severity), off,
                       v->message, v->property, v->fix, v->rule_id);
        else
                printf("%s%s:%s %s [%s]\n", on, ksafe_severity_name(v->severity), off, v->message,
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
                         "file", location_file(r, v), "line", v->line, "column", v->column, "rule",
                         v->rule_id, "property", v->property, "canonical",
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

static void json_finding(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v,
                         void *ctx)
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
        json_t *doc = json_pack(
                "{s:i, s:s, s:o, s:b, s:o, s:O, s:n, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "version",
                1, "policy", names.policy, "environment", str_or_null(names.env), "allow_unsafe",
                ksafe_policy_allows_unsafe(run->policy), "findings", findings, "unreadable",
                unreadable, "error", "summary", "files",
                (json_int_t)(run->count - json_array_size(unreadable)), "unreadable",
                (json_int_t)json_array_size(unreadable), "errors", (json_int_t)errors, "warnings",
                (json_int_t)warnings, "fixed", (json_int_t)fixed, "suppressed",
                (json_int_t)lint_suppressed_count(run));
        json_decref(unreadable);
        names_free(&names);
        return print_doc(doc, "JSON");
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

static const char *sarif_level(const lint_run_t *run, const ksafe_violation_t *v)
{
        if (run->fix && v->fixed)
                return "note";
        return lint_is_failure(run, v) ? "error" : "warning";
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

typedef struct sarif_ctx_s {
        json_t *rules, *results, *notes;
        json_t *seen;                 /* results already made, by identity: no duplicates */
        json_t *fingerprints;         /* fingerprint -> how many results have it so far */
        json_t *outside;              /* files outside the base, said once each */
        const lint_result_t *text_of; /* the result whose text is read */
        char *text;
        size_t text_len;
        bool failed; /* a record could not be made: never drop one silently */
} sarif_ctx_t;

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

static void sarif_read_text(sarif_ctx_t *c, const lint_result_t *r)
{
        if (c->text_of == r)
                return;
        if (c->text != (c->text_of ? c->text_of->text : NULL))
                free(c->text);
        c->text_of = r;
        c->text = r->text;
        c->text_len = r->text_len;
        if (!c->text && strcmp(r->name, "-") != 0 && r->name[0] != '<')
                c->text = read_whole(r->name, &c->text_len);
}

static void sarif_finding(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v,
                          void *ctx)
{
        sarif_ctx_t *c = ctx;
        const char *path = finding_path(run, r, v);
        bool outside;
        json_t *artifact = artifact_location(run_cwd(run), run_base(run), path, &outside);
        const char *uri = json_string_value(json_object_get(artifact, "uri"));
        const char *rule = v->rule_id ? v->rule_id : "?";
        int line = v->line > 0 ? v->line : 1, column = v->column > 0 ? v->column : 1;
        if (v->column > 1 && strcmp(path, "<command line>") != 0) {
                sarif_read_text(c, r);
                column = utf16_column(c->text, c->text_len, line, v->column);
        }
        /* One file named twice (a.properties ./a.properties, or in a
         * directory and by itself) gives each result once. */
        json_t *key = uri ? json_sprintf("%s\x1f%d\x1f%d\x1f%s\x1f%s", uri, line, column, rule,
                                         v->message)
                          : NULL;
        if (key && json_object_get(c->seen, json_string_value(key))) {
                json_decref(key);
                json_decref(artifact);
                return;
        }
        c->failed |= !key || json_object_set_new(c->seen, json_string_value(key), json_true());
        json_decref(key);
        /* An alert's identity for code scanning: the rule, the file and the
         * property (else the message), not the line number, so that it
         * survives edits elsewhere in the file; not the line's text either,
         * which may hold a secret. ":N" tells identical ones apart. */
        uint64_t h = fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, rule), uri ? uri : ""),
                           v->property ? v->property : v->message);
        char hash[32];
        snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)h);
        json_int_t nth = json_integer_value(json_object_get(c->fingerprints, hash)) + 1;
        c->failed |= json_object_set_new(c->fingerprints, hash, json_integer(nth)) != 0;
        json_int_t index = sarif_rule_index(run, c->rules, v);
        json_t *result =
                index < 0 || !artifact
                        ? NULL
                        : json_pack("{s:s, s:I, s:s, s:{s:s?}, s:[{s:{s:O, s:{s:i, s:i}}}], "
                                    "s:{s:o}}",
                                    "ruleId", rule, "ruleIndex", index, "level",
                                    sarif_level(run, v), "message", "text", v->message, "locations",
                                    "physicalLocation", "artifactLocation", artifact, "region",
                                    "startLine", line, "startColumn", column, "partialFingerprints",
                                    FINGERPRINT_KEY,
                                    json_sprintf("%s:%" JSON_INTEGER_FORMAT, hash, nth));
        c->failed |= json_array_append_new(c->results, result) != 0;
        if (outside && uri && !json_object_get(c->outside, uri)) {
                char *shown = ksafe_report_escape(path);
                char *base = ksafe_report_escape(run_base(run));
                c->failed |= json_object_set_new(c->outside, uri, json_true()) != 0;
                c->failed |=
                        json_array_append_new(
                                c->notes,
                                json_pack("{s:s, s:{s:o}}", "level", "warning", "message", "text",
                                          json_sprintf("%s is outside the base directory "
                                                       "%s (--base-dir): its results name "
                                                       "it by an absolute file:// URI, "
                                                       "which code scanning cannot place "
                                                       "in the repository",
                                                       shown ? shown : "?", base ? base : "?"))) !=
                        0;
                free(shown);
                free(base);
        }
        json_decref(artifact);
}

/* Suppressed findings are results too, with their "suppressions" (SARIF
 * 2.1.0 3.27.23): code scanning shows them as dismissed. */
static void sarif_suppressed(const lint_run_t *run, sarif_ctx_t *c)
{
        for (size_t i = 0; i < run->count; i++)
                for (size_t k = 0; k < run->results[i].suppressed_count; k++) {
                        const lint_suppression_t *s = &run->results[i].suppressed[k];
                        size_t before = json_array_size(c->results);
                        sarif_finding(run, &run->results[i], s->finding, c);
                        json_t *result = json_array_size(c->results) > before
                                                 ? json_array_get(c->results, before)
                                                 : NULL;
                        json_t *why = json_pack("[{s:s, s:s*}]", "kind",
                                                s->external ? "external" : "inSource",
                                                "justification", s->justification);
                        c->failed |= result && json_object_set_new(result, "suppressions", why);
                        if (!result)
                                json_decref(why);
                }
}

static bool has_unreadable(const lint_run_t *run)
{
        for (size_t i = 0; i < run->count; i++)
                if (!run->results[i].report)
                        return true;
        return false;
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

static bool print_sarif(const lint_run_t *run)
{
        sarif_ctx_t c = {.rules = json_array(),
                         .results = json_array(),
                         .notes = json_array(),
                         .seen = json_object(),
                         .fingerprints = json_object(),
                         .outside = json_object()};
        c.failed = !c.rules || !c.results || !c.notes || !c.seen || !c.fingerprints || !c.outside;
        if (!c.failed)
                each_finding(run, sarif_finding, &c);
        if (!c.failed)
                sarif_suppressed(run, &c);
        if (c.text != (c.text_of ? c.text_of->text : NULL))
                free(c.text);
        json_decref(c.seen);
        json_decref(c.fingerprints);
        json_decref(c.outside);
        names_t names = policy_names(run);
        /* Inputs that could not be read fail the run: SARIF says so in the
         * invocation, where code scanning shows tool errors. */
        for (size_t i = 0; i < run->count; i++)
                if (!run->results[i].report)
                        c.failed |=
                                json_array_append_new(
                                        c.notes,
                                        json_pack("{s:s, s:{s:o}}", "level", "error", "message",
                                                  "text",
                                                  json_sprintf(
                                                          "%s: %s",
                                                          run->results[i].display
                                                                  ? run->results[i].display
                                                                  : "?",
                                                          run->results[i].error
                                                                  ? run->results[i].error
                                                                  : "cannot read this input"))) !=
                                0;
        if (ksafe_policy_allows_unsafe(run->policy))
                c.failed |=
                        json_array_append_new(
                                c.notes,
                                json_pack("{s:s, s:{s:o}}", "level", "warning", "message", "text",
                                          json_sprintf("policy \"%s\" sets allow_unsafe: it may "
                                                       "weaken the safety baseline",
                                                       names.policy ? names.policy : "?"))) != 0;
        /* One category per policy and environment: two runs (-e staging,
         * -e prod) upload side by side instead of replacing each other. */
        json_t *automation =
                json_pack("{s:o}", "id",
                          json_sprintf("ksafe-lint/%s/%s%s", names.policy ? names.policy : "?",
                                       names.env ? names.env : "", names.env ? "/" : ""));
        names_free(&names);
        json_t *invocation = json_pack("{s:b, s:o}", "executionSuccessful", !has_unreadable(run),
                                       "toolExecutionNotifications", c.notes);
        json_t *doc = sarif_log(c.rules, c.results, invocation, run_base(run), automation);
        if (c.failed) {
                json_decref(doc);
                doc = NULL;
        }
        return print_doc(doc, "SARIF");
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
        const char *level = run->fix && v->fixed      ? "notice"
                            : lint_is_failure(run, v) ? "error"
                                                      : "warning";
        printf("::%s file=", level);
        github_escape(location_file(r, v), true);
        printf(",line=%d,col=%d,title=", v->line > 0 ? v->line : 1, v->column > 0 ? v->column : 1);
        github_escape(v->rule_id, true);
        fputs("::", stdout);
        github_escape(v->message, false);
        putchar('\n');
}

/* The same commands, each input's in a ::group:: that the Actions log
 * folds, titled by its name and counts; inputs with nothing to show have
 * none. An input that could not be read is an ::error of its own. */
static void print_github_groups(const lint_run_t *run)
{
        for (size_t i = 0; i < run->count; i++) {
                const lint_result_t *r = &run->results[i];
                size_t errors = 0, warnings = 0, fixed = 0;
                for (size_t k = 0; k < lint_result_count(r); k++) {
                        const ksafe_violation_t *v = lint_result_get(r, k);
                        if (!shown(run, v))
                                continue;
                        if (run->fix && v->fixed)
                                fixed++;
                        else if (lint_is_failure(run, v))
                                errors++;
                        else
                                warnings++;
                }
                if (is_repeated(run, i) || (r->report && errors + warnings + fixed == 0))
                        continue;
                fputs("::group::", stdout);
                github_escape(r->display, false);
                if (!r->report)
                        fputs(": unreadable", stdout);
                else
                        printf(": %zu error%s, %zu warning%s", errors, errors == 1 ? "" : "s",
                               warnings, warnings == 1 ? "" : "s");
                if (fixed)
                        printf(", %zu fixed", fixed);
                putchar('\n');
                if (!r->report) {
                        fputs("::error file=", stdout);
                        github_escape(r->display, true);
                        fputs(",line=1,col=1,title=ksafe-lint::", stdout);
                        github_escape(r->error ? r->error : "cannot read this input", false);
                        putchar('\n');
                }
                for (size_t k = 0; k < lint_result_count(r); k++) {
                        const ksafe_violation_t *v = lint_result_get(r, k);
                        if (shown(run, v))
                                github_finding(run, r, v, NULL);
                }
                fputs("::endgroup::\n", stdout);
        }
}

/* A run that could not start: an ::error at the policy file (when the
 * error is in one), where the Actions summary shows it. */
static bool print_github_failure(const char *text, const char *source, int line, int column)
{
        fputs("::error ", stdout);
        if (source && *source && strncmp(source, "builtin:", 8) != 0) {
                fputs("file=", stdout);
                github_escape(source, true);
                printf(",line=%d,col=%d,", line > 0 ? line : 1,
                       line > 0 && column > 0 ? column : 1);
        }
        fputs("title=ksafe-lint::", stdout);
        if (source && *source) {
                github_escape(source, false);
                fputs(": ", stdout);
        }
        github_escape(text, false);
        putchar('\n');
        return true;
}

bool is_repeated(const lint_run_t *run, size_t i)
{
        const char *name = run->results[i].display;
        for (size_t k = 0; name && k < i; k++)
                if (run->results[k].display && strcmp(run->results[k].display, name) == 0)
                        return true;
        return false;
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

bool lint_print(const lint_run_t *run)
{
        switch (run->format) {
        case LINT_FORMAT_TEXT: each_finding(run, text_finding, NULL); break;
        case LINT_FORMAT_JSON: return print_json(run);
        case LINT_FORMAT_SARIF: return print_sarif(run);
        case LINT_FORMAT_GITHUB: each_finding(run, github_finding, NULL); break;
        case LINT_FORMAT_GITHUB_GROUPS: print_github_groups(run); break;
        case LINT_FORMAT_JUNIT: return print_junit(run);
        case LINT_FORMAT_GITLAB: return print_gitlab(run);
        case LINT_FORMAT_CHECKSTYLE: return print_checkstyle(run);
        case LINT_FORMAT_COUNT: break;
        }
        return true;
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
