/*
 * The findings about the lines of a file, each reported here from what
 * reading and resolving the file found (ksafe_entry_t.status, .syntax,
 * .shadowed_by): ksafe-not-key-value, ksafe-unknown-property,
 * ksafe-invalid-value, ksafe-misread-value, ksafe-duplicate,
 * ksafe-json-duplicate and ksafe-kcat-syntax.
 */
#include <stdio.h>
#include <string.h>

#include "ksafe_int.h"

/* A name as written, when it is safe to show: an unknown name can be a
 * secret (a password line with an escaped '=', the tail of a PEM key). */
static const char *shown_name(const ksafe_entry_t *e)
{
        if (e->prop)
                return e->name; /* known to librdkafka: a name, not a value */
        size_t n = strlen(e->name);
        if (n == 0 || n > 128 || strspn(e->name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
            ksafe_property_is_sensitive(e->name))
                return NULL;
        return e->name;
}

/* Each finding_* fills in the violation `v` of one line (its rule_id, and
 * its message in message[size]); `name` is the line's name when it is safe
 * to show, else NULL. */

static void finding_not_key_value(ksafe_violation_t *v, char *message, size_t size)
{
        v->rule_id = "ksafe-not-key-value";
        v->why = "kcat refuses a line without '='; Java reads it as a property with an empty "
                 "value";
        snprintf(message, size,
                 "this line is not key=value (it is not shown: it may be part of a secret)");
}

static void finding_unknown(const ksafe_policy_t *policy, const ksafe_entry_t *e, const char *name,
                            ksafe_violation_t *v, char *message, size_t size)
{
        const char *hint = ksafe_props__suggest(policy->props, e->name);
        v->rule_id = "ksafe-unknown-property";
        v->action = KSAFE_ACTION_WARN;
        v->severity = KSAFE_SEVERITY_WARNING;
        v->why = "librdkafka refuses unknown properties: rd_kafka_conf_set() fails";
        char tail[128];
        if (hint)
                snprintf(tail, sizeof(tail), "; did you mean \"%s\"?", hint);
        else
                snprintf(tail, sizeof(tail), " (not in librdkafka %s)", rd_kafka_version_str());
        snprintf(message, size, "unknown property %s%s%s%s", name ? "\"" : "",
                 name ? name : "(its name is not shown: it may hold a secret)", name ? "\"" : "",
                 tail);
}

static void finding_invalid(const ksafe_entry_t *e, const char *name, ksafe_violation_t *v,
                            char *message, size_t size)
{
        v->rule_id = "ksafe-invalid-value";
        v->why = "rd_kafka_conf_set() refuses this value";
        snprintf(message, size, "invalid value for %s: %s", name ? name : "a property",
                 e->note ? e->note : "refused by librdkafka");
}

static void finding_misread(const ksafe_entry_t *e, ksafe_violation_t *v, char *message,
                            size_t size)
{
        v->rule_id = "ksafe-misread-value";
        v->why = "librdkafka reads this value differently from how it is written";
        snprintf(message, size, "%s: %s", e->name, e->note);
}

/* A line that a later one (`w`) overrides. Within one JSON object, JSON
 * readers disagree on which one a client passes last (Python keeps a
 * repeated key's first place with its last value): nobody can tell. */
static void finding_duplicate(const ksafe_entry_t *e, const ksafe_entry_t *w, ksafe_violation_t *v,
                              char *message, size_t size)
{
        if (e->in_json && !w->origin) {
                v->rule_id = "ksafe-json-duplicate";
                v->why = "JSON readers differ on which of two members a client passes last; "
                         "keep one";
                snprintf(message, size,
                         "%s is set twice in this object (again on line %d as %s); which one a "
                         "client uses depends on its JSON reader",
                         e->name, w->line, w->name);
                return;
        }
        v->rule_id = "ksafe-duplicate";
        v->action = KSAFE_ACTION_WARN;
        v->severity = KSAFE_SEVERITY_WARNING;
        v->why = "the last setting wins in librdkafka: this line has no effect";
        if (w->origin)
                snprintf(message, size, "%s is set again by %s (as %s); this line has no effect",
                         e->name, w->origin, w->name);
        else
                snprintf(message, size,
                         "%s is set again on line %d (as %s); this line has no effect", e->name,
                         w->line, w->name);
}

/* One finding about a line of a file, as the violation `v` describes it
 * (rule_id still NULL: nothing to say about it). */
static void judge_entry(const ksafe_policy_t *policy, const ksafe_entry_t *entries,
                        const ksafe_entry_t *e, ksafe_violation_t *v, char *message, size_t size)
{
        const char *name = shown_name(e);
        switch (e->status) {
        case KSAFE_ENTRY_MALFORMED: finding_not_key_value(v, message, size); break;
        case KSAFE_ENTRY_UNKNOWN: finding_unknown(policy, e, name, v, message, size); break;
        case KSAFE_ENTRY_INVALID: finding_invalid(e, name, v, message, size); break;
        case KSAFE_ENTRY_MISREAD: finding_misread(e, v, message, size); break;
        case KSAFE_ENTRY_FOREIGN: break;
        case KSAFE_ENTRY_OK:
                if (e->shadowed_by >= 0)
                        finding_duplicate(e, &entries[e->shadowed_by], v, message, size);
                break;
        }
        v->property = name && e->status != KSAFE_ENTRY_MALFORMED ? name : "(not shown)";
}

/* The same line as kcat would read it: a finding of its own. */
static void finding_kcat_syntax(const ksafe_view_t *view, const ksafe_entry_t *e,
                                ksafe_report_t *report)
{
        char message[1200];
        ksafe_violation_t v = {
                .rule_id = "ksafe-kcat-syntax",
                .property = shown_name(e) ? shown_name(e) : "(not shown)",
                .canonical = e->prop ? e->prop->name : NULL,
                .message = message,
                .why = "kcat and librdkafka-based tools read this file line by line as "
                       "key=value; Java's .properties rules differ (--dialect java)",
                .file = ksafe_view__file(view),
                .line = e->line,
                .column = e->column,
                .action = KSAFE_ACTION_REJECT,
                .severity = KSAFE_SEVERITY_ERROR,
                .is_set = true,
        };
        snprintf(message, sizeof(message), "kcat reads this line differently: %s", e->syntax);
        ksafe_report__add(report, &v);
}

void ksafe_eval__entries(const ksafe_policy_t *policy, const ksafe_view_t *view,
                         ksafe_report_t *report)
{
        size_t count;
        const ksafe_entry_t *entries = ksafe_view__entries(view, &count);
        for (size_t i = 0; i < count; i++) {
                const ksafe_entry_t *e = &entries[i];
                char message[1200];
                ksafe_violation_t v = {
                        .canonical = e->prop ? e->prop->name : NULL,
                        .message = message,
                        .file = e->origin ? e->origin : ksafe_view__file(view),
                        .line = e->line,
                        .column = e->column,
                        .action = KSAFE_ACTION_REJECT,
                        .severity = KSAFE_SEVERITY_ERROR,
                        .is_set = true,
                };
                judge_entry(policy, entries, e, &v, message, sizeof(message));
                /* The value, for a finding (most lines have none). */
                if (v.rule_id && e->prop)
                        v.actual = e->prop->sensitive || ksafe_property_is_sensitive(e->name)
                                           ? KSAFE_REDACTED
                                   : e->value ? e->value
                                              : e->raw;
                if (v.rule_id)
                        ksafe_report__add(report, &v);
                if (e->syntax)
                        finding_kcat_syntax(view, e, report);
        }
}
