/*
 * The evaluator: the one place where a rule meets a value.
 *
 * Every source (conf, handle, topic conf, file) reaches it through a view,
 * and every sink (the facade, the reports, the linter) reads what it
 * decides. No rule is judged anywhere else.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

static void append(char *buf, size_t size, const char *fmt, ...) KSAFE_PRINTF(3, 4);

static void append(char *buf, size_t size, const char *fmt, ...)
{
        size_t len = strlen(buf);
        if (len >= size)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
}

static double sum_of(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        double sum = 0;
        for (size_t i = 0; i < rule->min_sum_count; i++) {
                ksafe_value_t v;
                double n = 0;
                ksafe_view_value(view, rule->min_sum[i], &v);
                if (ksafe_prop_number(rule->min_sum[i], v.text, &n))
                        sum += n;
        }
        return sum;
}

/* What the rule wants, for a person. Sensitive values are not shown. */
static void describe(const ksafe_rule_t *rule, const ksafe_view_t *view, char *buf, size_t size)
{
        bool secret = rule->prop->sensitive;
        buf[0] = '\0';
        const char *sep = "";
        if (rule->checks & KSAFE_CHECK_EQUALS) {
                const char *shown = secret ? KSAFE_REDACTED : rule->equals_raw;
                append(buf, size, "%s", shown);
                if (!secret && strcmp(rule->equals_raw, rule->equals) != 0)
                        append(buf, size, " (%s)", rule->equals);
                sep = " and ";
        }
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                append(buf, size, "%sone of ", sep);
                for (size_t i = 0; i < rule->one_of_count; i++)
                        append(buf, size, "%s%s", i ? ", " : "",
                               secret ? KSAFE_REDACTED : rule->one_of_raw[i]);
                sep = " and ";
        }
        bool min = rule->checks & KSAFE_CHECK_MIN, max = rule->checks & KSAFE_CHECK_MAX;
        if (min && max)
                append(buf, size, "%sbetween %g and %g", sep, rule->min, rule->max);
        else if (min)
                append(buf, size, "%s>= %g", sep, rule->min);
        else if (max)
                append(buf, size, "%s<= %g", sep, rule->max);
        if (min || max)
                sep = " and ";
        if (rule->checks & KSAFE_CHECK_MIN_SUM) {
                append(buf, size, "%s>= ", sep);
                for (size_t i = 0; i < rule->min_sum_count; i++)
                        append(buf, size, "%s%s", i ? " + " : "", rule->min_sum_raw[i]);
                append(buf, size, " (%g)", sum_of(rule, view));
                sep = " and ";
        }
        if (rule->checks & KSAFE_CHECK_REQUIRED)
                append(buf, size, "%sset", sep);
        if (rule->checks & KSAFE_CHECK_FORBIDDEN)
                append(buf, size, "%snot set", sep);
}

void ksafe_rule_judge(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_verdict_t *out)
{
        const ksafe_prop_t *prop = rule->prop;
        ksafe_view_value(view, prop, &out->value);
        const char *value = out->value.text;
        bool pass = true;

        if ((rule->checks & KSAFE_CHECK_EQUALS) && strcmp(value, rule->equals) != 0)
                pass = false;
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                bool any = false;
                for (size_t i = 0; i < rule->one_of_count; i++)
                        any |= strcmp(value, rule->one_of[i]) == 0;
                pass &= any;
        }
        if (rule->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM)) {
                double n;
                if (!ksafe_prop_number(prop, value, &n))
                        pass = false;
                else {
                        if ((rule->checks & KSAFE_CHECK_MIN) && n < rule->min)
                                pass = false;
                        if ((rule->checks & KSAFE_CHECK_MAX) && n > rule->max)
                                pass = false;
                        if ((rule->checks & KSAFE_CHECK_MIN_SUM) && n < sum_of(rule, view))
                                pass = false;
                }
        }
        bool set = out->value.is_set && value[0];
        if ((rule->checks & KSAFE_CHECK_REQUIRED) && !set)
                pass = false;
        if ((rule->checks & KSAFE_CHECK_FORBIDDEN) && set)
                pass = false;
        out->pass = pass;
        out->expected[0] = '\0';
        if (!pass) /* only a failure is described: judging must stay cheap */
                describe(rule, view, out->expected, sizeof(out->expected));
}

bool ksafe_rule_fix(const ksafe_rule_t *rule, const ksafe_view_t *view, char *buf, size_t size)
{
        if (rule->checks & KSAFE_CHECK_FORBIDDEN) {
                snprintf(buf, size, "%s", rule->prop->def);
                return true;
        }
        if (rule->set) {
                snprintf(buf, size, "%s", rule->set);
                return true;
        }
        if (rule->checks & KSAFE_CHECK_EQUALS) {
                snprintf(buf, size, "%s", rule->equals_raw);
                return true;
        }
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                snprintf(buf, size, "%s", rule->one_of_raw[0]);
                return true;
        }
        if (!(rule->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM)))
                return false;

        /* The nearest bound. */
        ksafe_value_t v;
        double n;
        ksafe_view_value(view, rule->prop, &v);
        if (!ksafe_prop_number(rule->prop, v.text, &n))
                return false;
        double lo = -INFINITY, hi = INFINITY;
        if (rule->checks & KSAFE_CHECK_MIN)
                lo = rule->min;
        if ((rule->checks & KSAFE_CHECK_MIN_SUM) && sum_of(rule, view) > lo)
                lo = sum_of(rule, view);
        if (rule->checks & KSAFE_CHECK_MAX)
                hi = rule->max;
        if (lo > hi)
                return false;
        n = n < lo ? lo : n > hi ? hi : n;
        if (rule->prop->type == KSAFE_PROP_INT)
                n = ceil(n);
        snprintf(buf, size, "%.15g", n);
        return true;
}

/* "acks" is 1; "delivery.timeout.ms" is 0 (infinite). */
static void shown_value(const ksafe_rule_t *rule, const ksafe_value_t *v, char *buf, size_t size)
{
        double n;
        if (rule->prop->sensitive)
                snprintf(buf, size, KSAFE_REDACTED);
        else if (!v->text[0])
                snprintf(buf, size, "(empty)");
        else if (ksafe_prop_number(rule->prop, v->text, &n) && isinf(n))
                snprintf(buf, size, "%s (infinite)", v->text);
        else
                snprintf(buf, size, "%s", v->text);
}

static void add_violation(const ksafe_rule_t *rule, const ksafe_view_t *view,
                          const ksafe_verdict_t *verdict, ksafe_report_t *report)
{
        char actual[600], message[1200], fix[600];
        const ksafe_value_t *v = &verdict->value;
        shown_value(rule, v, actual, sizeof(actual));
        const ksafe_entry_t *e = v->entry;
        const char *name = e ? e->name : rule->property;

        if (v->is_set)
                snprintf(message, sizeof(message), "%s is %s; expected %s", name, actual,
                         verdict->expected);
        else if (v->derived)
                snprintf(message, sizeof(message),
                         "%s is not set; librdkafka makes it %s; expected %s", name, actual,
                         verdict->expected);
        else
                snprintf(message, sizeof(message),
                         "%s is not set; librdkafka's default is %s; expected %s", name, actual,
                         verdict->expected);

        bool has_fix = rule->action == KSAFE_ACTION_ENFORCE &&
                       ksafe_rule_fix(rule, view, fix, sizeof(fix));
        ksafe_violation_t out = {
                .rule_id = rule->id,
                .property = name,
                .canonical = rule->prop->name,
                .actual = actual,
                .expected = verdict->expected,
                .fix = has_fix ? (rule->prop->sensitive ? KSAFE_REDACTED : fix) : NULL,
                .why = rule->why,
                .message = message,
                .file = e && e->origin ? e->origin : ksafe_view_file(view),
                .line = e ? e->line : ksafe_view_file(view) ? 1 : 0,
                .column = e ? e->column : ksafe_view_file(view) ? 1 : 0,
                .action = rule->action,
                .severity = rule->action == KSAFE_ACTION_WARN ? KSAFE_SEVERITY_WARNING
                                                              : KSAFE_SEVERITY_ERROR,
                .is_set = v->is_set,
        };
        ksafe_report_add(report, &out);
}

void ksafe_eval_rule(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_report_t *report)
{
        ksafe_verdict_t verdict;
        ksafe_rule_judge(rule, view, &verdict);
        if (!verdict.pass)
                add_violation(rule, view, &verdict, report);
}

void ksafe_eval(const ksafe_policy_t *policy, const ksafe_view_t *view, unsigned actions,
                ksafe_report_t *report)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (!(actions & KSAFE_ACTION_BIT(rule->action)))
                        continue;
                if (ksafe_view_is_topic_only(view) && rule->prop->scope != KSAFE_SCOPE_TOPIC)
                        continue;
                ksafe_eval_rule(rule, view, report);
        }
}

ksafe_report_t *ksafe_eval_view(const ksafe_policy_t *policy, ksafe_view_t *view)
{
        ksafe_report_t *report = view ? ksafe_report_new(policy) : NULL;
        if (report)
                ksafe_eval(policy, view, KSAFE_ALL_ACTIONS, report);
        ksafe_view_destroy(view);
        return report;
}

void ksafe_eval_entries(const ksafe_policy_t *policy, const ksafe_view_t *view,
                        ksafe_report_t *report)
{
        size_t count;
        const ksafe_entry_t *entries = ksafe_view_entries(view, &count);
        for (size_t i = 0; i < count; i++) {
                const ksafe_entry_t *e = &entries[i];
                char message[1200];
                ksafe_violation_t v = {
                        .property = e->name,
                        .canonical = e->prop ? e->prop->name : NULL,
                        .message = message,
                        .file = e->origin ? e->origin : ksafe_view_file(view),
                        .line = e->line,
                        .column = e->column,
                        .action = KSAFE_ACTION_REJECT,
                        .severity = KSAFE_SEVERITY_ERROR,
                        .is_set = true,
                };
                bool secret = ksafe_property_is_sensitive(e->name) ||
                              (e->prop && e->prop->sensitive);
                if (e->prop && !secret)
                        v.actual = e->value ? e->value : e->raw;
                else if (e->prop)
                        v.actual = KSAFE_REDACTED;

                switch (e->status) {
                case KSAFE_ENTRY_UNKNOWN: {
                        const char *hint = ksafe_props_suggest(policy->props, e->name);
                        v.rule_id = "ksafe-unknown-property";
                        v.action = KSAFE_ACTION_WARN;
                        v.severity = KSAFE_SEVERITY_WARNING;
                        v.why = "librdkafka refuses unknown properties: rd_kafka_conf_set() "
                                "fails";
                        if (hint) {
                                snprintf(message, sizeof(message),
                                         "unknown property \"%s\"; did you mean \"%s\"?", e->name,
                                         hint);
                        } else {
                                snprintf(message, sizeof(message),
                                         "unknown property \"%s\" (not in librdkafka %s)", e->name,
                                         rd_kafka_version_str());
                        }
                        break;
                }
                case KSAFE_ENTRY_INVALID:
                        v.rule_id = "ksafe-invalid-value";
                        v.why = "rd_kafka_conf_set() refuses this value";
                        snprintf(message, sizeof(message), "invalid value for %s: %s", e->name,
                                 e->note ? e->note : "refused by librdkafka");
                        break;
                case KSAFE_ENTRY_MISREAD:
                        v.rule_id = "ksafe-misread-value";
                        v.why = "librdkafka reads this value differently from how it is "
                                "written";
                        snprintf(message, sizeof(message), "%s: %s", e->name, e->note);
                        break;
                case KSAFE_ENTRY_FOREIGN:
                        continue;
                case KSAFE_ENTRY_OK:
                        if (e->shadowed_by < 0)
                                continue;
                        v.rule_id = "ksafe-duplicate";
                        v.action = KSAFE_ACTION_WARN;
                        v.severity = KSAFE_SEVERITY_WARNING;
                        v.why = "the last setting wins in librdkafka: this line has no effect";
                        const ksafe_entry_t *w = &entries[e->shadowed_by];
                        if (w->origin)
                                snprintf(message, sizeof(message),
                                         "%s is set again by %s (as %s); this line has no "
                                         "effect",
                                         e->name, w->origin, w->name);
                        else
                                snprintf(message, sizeof(message),
                                         "%s is set again on line %d (as %s); this line has no "
                                         "effect",
                                         e->name, w->line, w->name);
                        break;
                }
                ksafe_report_add(report, &v);
        }
}
