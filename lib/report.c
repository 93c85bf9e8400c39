/*
 * The report: the violations one configuration has against one policy,
 * and its renderings as text and JSON. Everything printed comes from here,
 * and sensitive values were redacted before they got here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

struct ksafe_report_s {
        ksafe_violation_t *items;
        size_t count;
        size_t cap;
        char *policy;
        char *env;
        bool allow_unsafe;
        bool enforced;
        bool out_of_memory;
};

ksafe_report_t *ksafe_report__new(const ksafe_policy_t *policy)
{
        ksafe_report_t *report = calloc(1, sizeof(*report));
        if (!report)
                return NULL;
        report->policy = ksafe_report_escape(policy->name);
        report->env = ksafe_report_escape(policy->env);
        report->allow_unsafe = policy->allow_unsafe;
        return report;
}

static void violation_free(ksafe_violation_t *v)
{
        free((char *)v->rule_id);
        free((char *)v->property);
        free((char *)v->canonical);
        free((char *)v->actual);
        free((char *)v->expected);
        free((char *)v->fix);
        free((char *)v->why);
        free((char *)v->message);
        free((char *)v->file);
}

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates,
 * at most U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *p)
{
        if (p[0] < 0x80)
                return 1;
        size_t n = (p[0] & 0xe0) == 0xc0   ? 2
                   : (p[0] & 0xf0) == 0xe0 ? 3
                   : (p[0] & 0xf8) == 0xf0 ? 4
                                           : 0;
        if (n == 0)
                return 0;
        uint32_t cp = p[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

/* Code points that are valid UTF-8 but still move the cursor, end a line
 * for some reader, reorder what a terminal shows, or are no XML character:
 * C1 controls (U+009B is CSI, an escape sequence of its own), NEL, the
 * line and paragraph separators (Python's splitlines() and JavaScript end
 * lines there), the bidirectional overrides and isolates ("Trojan Source")
 * and the noncharacters U+FFFE, U+FFFF. */
static bool hostile_code_point(uint32_t cp)
{
        return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
               (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfffe ||
               cp == 0xffff;
}

static uint32_t code_point(const unsigned char *p, size_t n)
{
        uint32_t cp = n == 1 ? p[0] : p[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++)
                cp = (cp << 6) | (p[i] & 0x3f);
        return cp;
}

/* The escaped form of the character at p, into out (NUL-terminated): the
 * character itself when it is harmless; "\n", "\r", "\t"; "\xNN" for
 * another control character or a byte that is not UTF-8; "\uNNNN" for a
 * hostile code point. *used gets the number of bytes read from p. */
static size_t escape_one(const unsigned char *p, char out[8], size_t *used)
{
        size_t n = utf8_length(p);
        *used = n ? n : 1;
        if (*p == '\n' || *p == '\r' || *p == '\t')
                return (size_t)snprintf(out, 8, "\\%c", *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
        if (n == 0 || *p < 0x20 || *p == 0x7f)
                return (size_t)snprintf(out, 8, "\\x%02x", *p);
        uint32_t cp = code_point(p, n);
        if (hostile_code_point(cp))
                return (size_t)snprintf(out, 8, "\\u%04x", (unsigned)cp);
        memcpy(out, p, n);
        out[n] = '\0';
        return n;
}

/* The length of the run of printable ASCII at p (0x20 to 0x7e): bytes
 * that escape to themselves, copied as one piece. */
static size_t plain_run(const unsigned char *p)
{
        const unsigned char *q = p;
        while (*q >= 0x20 && *q < 0x7f)
                q++;
        return (size_t)(q - p);
}

/* Append the escaped form of s (see ksafe_report_escape()). */
static void buf_escaped(ksafe_buf_t *buf, const char *s)
{
        char piece[8];
        size_t used;
        for (const unsigned char *p = (const unsigned char *)s; *p; p += used) {
                size_t plain = plain_run(p);
                if (plain) {
                        ksafe_buf__append(buf, (const char *)p, plain);
                        used = plain;
                        continue;
                }
                size_t n = escape_one(p, piece, &used);
                ksafe_buf__append(buf, piece, n);
        }
}

/* Is `stored` the escaped form of `raw`? (No allocation: ksafe_report__find
 * compares a policy's raw rule id with the escaped one the report keeps.) */
static bool escaped_equals(const char *stored, const char *raw)
{
        char piece[8];
        size_t used;
        for (const unsigned char *p = (const unsigned char *)raw; *p; p += used) {
                size_t plain = plain_run(p);
                if (plain) {
                        if (strncmp(stored, (const char *)p, plain) != 0)
                                return false;
                        stored += plain;
                        used = plain;
                        continue;
                }
                size_t n = escape_one(p, piece, &used);
                if (strncmp(stored, piece, n) != 0)
                        return false;
                stored += n;
        }
        return *stored == '\0';
}

/* A copy safe to print on one line, in a terminal and in JSON or XML: the
 * one escaping that every renderer of ksafe (the report's text, JSON and
 * errstr, ksafe-lint's formats, --effective) applies to what it did not
 * write itself, so a value, a name or a rule id cannot forge a finding of
 * its own, a terminal escape sequence, nor break a report. */
char *ksafe_report_escape(const char *s)
{
        if (!s)
                return NULL;
        /* Most texts are printable ASCII throughout: one copy. */
        size_t plain = plain_run((const unsigned char *)s);
        if (!s[plain]) {
                char *copy = malloc(plain + 1);
                if (copy)
                        memcpy(copy, s, plain + 1);
                return copy;
        }
        ksafe_buf_t buf = {0};
        buf_escaped(&buf, s);
        return ksafe_buf__take(&buf);
}

ksafe_violation_t *ksafe_report__add(ksafe_report_t *report, const ksafe_violation_t *v)
{
        if (!v) {
                report->out_of_memory = true;
                return NULL;
        }
        if (!KSAFE_ARRAY_RESERVE(report->items, report->count, report->cap)) {
                report->out_of_memory = true;
                return NULL;
        }
        ksafe_violation_t *out = &report->items[report->count++];
        *out = *v;
        /* Every string is kept escaped: rule ids, reasons and expected
         * values come from a policy, names and values from a config, and
         * every renderer prints them. (Escaping is idempotent: a violation
         * copied from another report stays as it was.) */
        out->rule_id = ksafe_report_escape(v->rule_id);
        out->property = ksafe_report_escape(v->property);
        out->canonical = ksafe_report_escape(v->canonical);
        out->actual = ksafe_report_escape(v->actual);
        out->expected = ksafe_report_escape(v->expected);
        out->fix = ksafe_report_escape(v->fix);
        out->why = ksafe_report_escape(v->why);
        out->message = ksafe_report_escape(v->message);
        out->file = ksafe_report_escape(v->file);
        /* A copy that failed: the report is refused, never silently short. */
        if ((v->rule_id && !out->rule_id) || (v->property && !out->property) ||
            (v->canonical && !out->canonical) || (v->actual && !out->actual) ||
            (v->expected && !out->expected) || (v->fix && !out->fix) || (v->why && !out->why) ||
            (v->message && !out->message) || (v->file && !out->file)) {
                violation_free(out);
                report->count--;
                report->out_of_memory = true;
                return NULL;
        }
        return out;
}

void ksafe_violation__clear_fix(ksafe_violation_t *v)
{
        free((char *)v->fix);
        v->fix = NULL;
}

ksafe_violation_t *ksafe_report__find(ksafe_report_t *report, const char *rule_id)
{
        for (size_t i = 0; i < report->count; i++)
                if (report->items[i].rule_id && escaped_equals(report->items[i].rule_id, rule_id))
                        return &report->items[i];
        return NULL;
}

static int by_location(const void *a, const void *b)
{
        const ksafe_violation_t *x = a, *y = b;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->column != y->column)
                return x->column < y->column ? -1 : 1;
        return 0;
}

void ksafe_report__sort(ksafe_report_t *report)
{
        /* Insertion sort: stable, and reports are short. */
        for (size_t i = 1; i < report->count; i++) {
                ksafe_violation_t v = report->items[i];
                size_t j = i;
                for (; j > 0 && by_location(&report->items[j - 1], &v) > 0; j--)
                        report->items[j] = report->items[j - 1];
                report->items[j] = v;
        }
}

void ksafe_report__set_enforced(ksafe_report_t *report)
{
        report->enforced = true;
}

void ksafe_report_destroy(ksafe_report_t *report)
{
        if (!report)
                return;
        for (size_t i = 0; i < report->count; i++)
                violation_free(&report->items[i]);
        free(report->items);
        free(report->policy);
        free(report->env);
        free(report);
}

size_t ksafe_report_count(const ksafe_report_t *report)
{
        return report ? report->count : 0;
}

ksafe_violation_t *ksafe_report__at(ksafe_report_t *report, size_t i)
{
        return report && i < report->count ? &report->items[i] : NULL;
}

void ksafe_report__unfix(ksafe_report_t *report)
{
        for (size_t i = 0; report && i < report->count; i++)
                report->items[i].fixed = false;
}

const ksafe_violation_t *ksafe_report_get(const ksafe_report_t *report, size_t i)
{
        return report && i < report->count ? &report->items[i] : NULL;
}

static bool refuses(const ksafe_report_t *report, const ksafe_violation_t *v)
{
        return v->action == KSAFE_ACTION_REJECT ||
               (report->enforced && v->action == KSAFE_ACTION_ENFORCE && !v->fixed);
}

bool ksafe_report_rejected(const ksafe_report_t *report)
{
        if (!report)
                return true; /* no report (out of memory): fail closed */
        if (report->out_of_memory)
                return true;
        for (size_t i = 0; i < report->count; i++)
                if (refuses(report, &report->items[i]))
                        return true;
        return false;
}

size_t ksafe_report_severity_count(const ksafe_report_t *report, ksafe_severity_t severity)
{
        size_t n = 0;
        for (size_t i = 0; report && i < report->count; i++)
                n += report->items[i].severity == severity;
        return n;
}

void ksafe_report__explain(const ksafe_report_t *report, char *errstr, size_t errstr_size)
{
        if (!errstr || !errstr_size)
                return; /* nothing to write into, not even a NUL */
        if (!report) {
                snprintf(errstr, errstr_size, "ksafe: no report (out of memory)");
                return;
        }
        ksafe_buf_t buf = {0};
        ksafe_buf__printf(&buf, "ksafe: policy \"%s\" refuses this configuration",
                          report->policy ? report->policy : "?");
        const char *sep = ": ";
        for (size_t i = 0; i < report->count; i++) {
                const ksafe_violation_t *v = &report->items[i];
                if (!refuses(report, v))
                        continue;
                ksafe_buf__printf(&buf, "%s%s [%s]%s", sep, v->message, v->rule_id,
                                  v->action == KSAFE_ACTION_ENFORCE ? " (could not be enforced)"
                                                                    : "");
                sep = "; ";
        }
        if (report->out_of_memory)
                ksafe_buf__printf(&buf, "%sout of memory", sep);
        char *s = ksafe_buf__take(&buf);
        snprintf(errstr, errstr_size, "%s", s ? s : "ksafe: out of memory");
        free(s);
        /* Cut short, it still ends on a whole UTF-8 character. */
        size_t len = strlen(errstr);
        if (len == errstr_size - 1) {
                size_t start = len;
                while (start > 0 && ((unsigned char)errstr[start - 1] & 0xc0) == 0x80)
                        start--;
                if (start > 0 && (unsigned char)errstr[start - 1] >= 0xc0 &&
                    utf8_length((const unsigned char *)errstr + start - 1) == 0)
                        errstr[start - 1] = '\0';
        }
}

static void json_field(ksafe_buf_t *buf, const char *key, const char *value, bool comma)
{
        ksafe_buf__printf(buf, "%s\"%s\":", comma ? "," : "", key);
        if (value)
                ksafe_buf__json_string(buf, value);
        else
                ksafe_buf__append(buf, "null", 4);
}

char *ksafe_report_to_json(const ksafe_report_t *report)
{
        if (!report)
                return NULL;
        ksafe_buf_t buf = {0};
        ksafe_buf__printf(&buf, "{\"version\":%d", KSAFE_REPORT_JSON_VERSION);
        json_field(&buf, "policy", report->policy, true);
        json_field(&buf, "environment", report->env, true);
        ksafe_buf__printf(&buf, ",\"allow_unsafe\":%s,\"enforced\":%s,\"rejected\":%s",
                          report->allow_unsafe ? "true" : "false",
                          report->enforced ? "true" : "false",
                          ksafe_report_rejected(report) ? "true" : "false");
        ksafe_buf__printf(&buf, ",\"errors\":%zu,\"warnings\":%zu,\"violations\":[",
                          ksafe_report_severity_count(report, KSAFE_SEVERITY_ERROR),
                          ksafe_report_severity_count(report, KSAFE_SEVERITY_WARNING));
        for (size_t i = 0; i < report->count; i++) {
                const ksafe_violation_t *v = &report->items[i];
                ksafe_buf__append(&buf, i ? ",{" : "{", i ? 2 : 1);
                json_field(&buf, "rule", v->rule_id, false);
                json_field(&buf, "property", v->property, true);
                json_field(&buf, "canonical", v->canonical, true);
                json_field(&buf, "actual", v->actual, true);
                json_field(&buf, "expected", v->expected, true);
                json_field(&buf, "fix", v->fix, true);
                json_field(&buf, "action", ksafe_action_name(v->action), true);
                json_field(&buf, "severity", ksafe_severity_name(v->severity), true);
                ksafe_buf__printf(&buf, ",\"fixed\":%s,\"is_set\":%s", v->fixed ? "true" : "false",
                                  v->is_set ? "true" : "false");
                json_field(&buf, "why", v->why, true);
                json_field(&buf, "message", v->message, true);
                json_field(&buf, "file", v->file, true);
                ksafe_buf__printf(&buf, ",\"line\":%d,\"column\":%d}", v->line, v->column);
        }
        ksafe_buf__append(&buf, "]}", 2);
        return ksafe_buf__take(&buf);
}

char *ksafe_report_to_text(const ksafe_report_t *report)
{
        if (!report)
                return NULL;
        ksafe_buf_t buf = {0};
        for (size_t i = 0; i < report->count; i++) {
                const ksafe_violation_t *v = &report->items[i];
                if (v->file)
                        ksafe_buf__printf(&buf, "%s:%d:%d: ", v->file, v->line, v->column);
                ksafe_buf__printf(&buf, "%s: %s [%s]",
                                  v->fixed ? "enforced" : ksafe_severity_name(v->severity),
                                  v->message, v->rule_id);
                if (v->fixed && v->fix)
                        ksafe_buf__printf(&buf, " (set to %s)", v->fix);
                ksafe_buf__append(&buf, "\n", 1);
        }
        if (report->allow_unsafe)
                ksafe_buf__printf(&buf,
                                  "note: policy \"%s\" sets allow_unsafe: the safety baseline "
                                  "may be weakened\n",
                                  report->policy ? report->policy : "?");
        return ksafe_buf__take(&buf);
}

const char *ksafe_action_name(ksafe_action_t action)
{
        switch (action) {
        case KSAFE_ACTION_ENFORCE: return "enforce";
        case KSAFE_ACTION_REJECT: return "reject";
        case KSAFE_ACTION_WARN: return "warn";
        }
        return "unknown";
}

const char *ksafe_severity_name(ksafe_severity_t severity)
{
        return severity == KSAFE_SEVERITY_WARNING ? "warning" : "error";
}
