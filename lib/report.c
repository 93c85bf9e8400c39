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

ksafe_report_t *ksafe_report_new(const ksafe_policy_t *policy)
{
        ksafe_report_t *report = calloc(1, sizeof(*report));
        if (!report)
                return NULL;
        report->policy = ksafe_strdup(policy->name);
        report->env = ksafe_strdup(policy->env);
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
        size_t n = (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
                 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
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

/* A copy safe to print on one line and in JSON: control characters and
 * bytes that are not UTF-8 as \n, \x01, ... (a value in a config must not
 * forge a finding of its own, nor break a report). */
static char *printable(const char *s)
{
        if (!s)
                return NULL;
        ksafe_buf_t buf = {0};
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = utf8_length(p);
                if (*p == '\n')
                        ksafe_buf_append(&buf, "\\n", 2);
                else if (*p == '\r')
                        ksafe_buf_append(&buf, "\\r", 2);
                else if (*p == '\t')
                        ksafe_buf_append(&buf, "\\t", 2);
                else if (*p < 0x20 || *p == 0x7f || n == 0)
                        ksafe_buf_printf(&buf, "\\x%02x", *p);
                else
                        ksafe_buf_append(&buf, (const char *)p, n);
                p += n ? n : 1;
        }
        return ksafe_buf_take(&buf);
}

ksafe_violation_t *ksafe_report_add(ksafe_report_t *report, const ksafe_violation_t *v)
{
        if (!v) {
                report->out_of_memory = true;
                return NULL;
        }
        if (report->count == report->cap) {
                size_t cap = report->cap ? report->cap * 2 : 8;
                ksafe_violation_t *items = realloc(report->items, cap * sizeof(*items));
                if (!items) {
                        report->out_of_memory = true;
                        return NULL;
                }
                report->items = items;
                report->cap = cap;
        }
        ksafe_violation_t *out = &report->items[report->count++];
        *out = *v;
        out->rule_id = ksafe_strdup(v->rule_id);
        out->property = printable(v->property);
        out->canonical = ksafe_strdup(v->canonical);
        out->actual = printable(v->actual);
        out->expected = ksafe_strdup(v->expected);
        out->fix = ksafe_strdup(v->fix);
        out->why = ksafe_strdup(v->why);
        out->message = printable(v->message);
        out->file = printable(v->file);
        /* A copy that failed: the report is refused, never silently short. */
        if ((v->rule_id && !out->rule_id) || (v->property && !out->property) ||
            (v->canonical && !out->canonical) || (v->actual && !out->actual) ||
            (v->expected && !out->expected) || (v->fix && !out->fix) ||
            (v->why && !out->why) || (v->message && !out->message) ||
            (v->file && !out->file)) {
                violation_free(out);
                report->count--;
                report->out_of_memory = true;
                return NULL;
        }
        return out;
}

void ksafe_violation_clear_fix(ksafe_violation_t *v)
{
        free((char *)v->fix);
        v->fix = NULL;
}

ksafe_violation_t *ksafe_report_find(ksafe_report_t *report, const char *rule_id)
{
        for (size_t i = 0; i < report->count; i++)
                if (report->items[i].rule_id && strcmp(report->items[i].rule_id, rule_id) == 0)
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

void ksafe_report_sort(ksafe_report_t *report)
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

void ksafe_report_set_enforced(ksafe_report_t *report)
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

ksafe_violation_t *ksafe_report_at(ksafe_report_t *report, size_t i)
{
        return i < report->count ? &report->items[i] : NULL;
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

int ksafe_report_rejected(const ksafe_report_t *report)
{
        if (!report)
                return 1; /* no report (out of memory): fail closed */
        if (report->out_of_memory)
                return 1;
        for (size_t i = 0; i < report->count; i++)
                if (refuses(report, &report->items[i]))
                        return 1;
        return 0;
}

size_t ksafe_report_severity_count(const ksafe_report_t *report, ksafe_severity_t severity)
{
        size_t n = 0;
        for (size_t i = 0; report && i < report->count; i++)
                n += report->items[i].severity == severity;
        return n;
}

void ksafe_report_explain(const ksafe_report_t *report, char *errstr, size_t errstr_size)
{
        if (!errstr || !errstr_size)
                return; /* nothing to write into, not even a NUL */
        ksafe_buf_t buf = {0};
        ksafe_buf_printf(&buf, "ksafe: policy \"%s\" refuses this configuration",
                         report->policy ? report->policy : "?");
        const char *sep = ": ";
        for (size_t i = 0; i < report->count; i++) {
                const ksafe_violation_t *v = &report->items[i];
                if (!refuses(report, v))
                        continue;
                ksafe_buf_printf(&buf, "%s%s [%s]%s", sep, v->message, v->rule_id,
                                 v->action == KSAFE_ACTION_ENFORCE ? " (could not be enforced)"
                                                                   : "");
                sep = "; ";
        }
        if (report->out_of_memory)
                ksafe_buf_printf(&buf, "%sout of memory", sep);
        char *s = ksafe_buf_take(&buf);
        snprintf(errstr, errstr_size, "%s", s ? s : "ksafe: out of memory");
        free(s);
}

static void json_field(ksafe_buf_t *buf, const char *key, const char *value, bool comma)
{
        ksafe_buf_printf(buf, "%s\"%s\":", comma ? "," : "", key);
        if (value)
                ksafe_buf_json_string(buf, value);
        else
                ksafe_buf_append(buf, "null", 4);
}

char *ksafe_report_to_json(const ksafe_report_t *report)
{
        ksafe_buf_t buf = {0};
        ksafe_buf_printf(&buf, "{\"version\":%d", KSAFE_REPORT_JSON_VERSION);
        json_field(&buf, "policy", report->policy, true);
        json_field(&buf, "environment", report->env, true);
        ksafe_buf_printf(&buf, ",\"allow_unsafe\":%s,\"enforced\":%s,\"rejected\":%s",
                         report->allow_unsafe ? "true" : "false",
                         report->enforced ? "true" : "false",
                         ksafe_report_rejected(report) ? "true" : "false");
        ksafe_buf_printf(&buf, ",\"errors\":%zu,\"warnings\":%zu,\"violations\":[",
                         ksafe_report_severity_count(report, KSAFE_SEVERITY_ERROR),
                         ksafe_report_severity_count(report, KSAFE_SEVERITY_WARNING));
        for (size_t i = 0; i < report->count; i++) {
                const ksafe_violation_t *v = &report->items[i];
                ksafe_buf_append(&buf, i ? ",{" : "{", i ? 2 : 1);
                json_field(&buf, "rule", v->rule_id, false);
                json_field(&buf, "property", v->property, true);
                json_field(&buf, "canonical", v->canonical, true);
                json_field(&buf, "actual", v->actual, true);
                json_field(&buf, "expected", v->expected, true);
                json_field(&buf, "fix", v->fix, true);
                json_field(&buf, "action", ksafe_action_name(v->action), true);
                json_field(&buf, "severity", ksafe_severity_name(v->severity), true);
                ksafe_buf_printf(&buf, ",\"fixed\":%s,\"is_set\":%s",
                                 v->fixed ? "true" : "false", v->is_set ? "true" : "false");
                json_field(&buf, "why", v->why, true);
                json_field(&buf, "message", v->message, true);
                json_field(&buf, "file", v->file, true);
                ksafe_buf_printf(&buf, ",\"line\":%d,\"column\":%d}", v->line, v->column);
        }
        ksafe_buf_append(&buf, "]}", 2);
        return ksafe_buf_take(&buf);
}

char *ksafe_report_to_text(const ksafe_report_t *report)
{
        ksafe_buf_t buf = {0};
        for (size_t i = 0; i < report->count; i++) {
                const ksafe_violation_t *v = &report->items[i];
                if (v->file)
                        ksafe_buf_printf(&buf, "%s:%d:%d: ", v->file, v->line, v->column);
                ksafe_buf_printf(&buf, "%s: %s [%s]",
                                 v->fixed ? "enforced" : ksafe_severity_name(v->severity),
                                 v->message, v->rule_id);
                if (v->fixed && v->fix)
                        ksafe_buf_printf(&buf, " (set to %s)", v->fix);
                ksafe_buf_append(&buf, "\n", 1);
        }
        if (report->allow_unsafe)
                ksafe_buf_printf(&buf,
                                 "note: policy \"%s\" sets allow_unsafe: the safety baseline "
                                 "may be weakened\n",
                                 report->policy ? report->policy : "?");
        return ksafe_buf_take(&buf);
}
