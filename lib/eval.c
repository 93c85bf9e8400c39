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

/* The sum of the rule's min_sum properties as librdkafka reads them (a
 * float such as linger.ms keeps its fraction); NAN when one is not a
 * finite number (linger.ms=nan is accepted by librdkafka): no value then
 * passes the check. */
static double sum_of(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        double sum = 0;
        for (size_t i = 0; i < rule->min_sum_count; i++) {
                ksafe_value_t v;
                double n = 0;
                ksafe_view__value(view, rule->min_sum[i], &v);
                if (!ksafe_prop__number(rule->min_sum[i], v.text, &n) || !isfinite(n))
                        return NAN;
                sum += n;
        }
        return sum;
}

/* A number as librdkafka stores it, the shortest text that reads back as
 * the same double (%g would show 153456.4 as 153456). */
static const char *num(double d, char *buf, size_t size)
{
        /* A whole number (a bound or a sum of milliseconds): its digits. */
        if (ksafe__whole_number(d, buf, size))
                return buf;
        for (int digits = 15; digits <= 17; digits++) {
                snprintf(buf, size, "%.*g", digits, d);
                if (strtod(buf, NULL) == d || isnan(d))
                        break;
        }
        return buf;
}

void ksafe_rule__describe(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_buf_t *buf)
{
        bool secret = rule->prop->sensitive;
        const char *sep = "";
        if (rule->checks & KSAFE_CHECK_EQUALS) {
                ksafe_buf__cat(buf, secret ? KSAFE_REDACTED : rule->equals_raw, NULL);
                if (!secret && strcmp(rule->equals_raw, rule->equals) != 0)
                        ksafe_buf__cat(buf, " (", rule->equals, ")", NULL);
                sep = " and ";
        }
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                ksafe_buf__cat(buf, sep, "one of ", NULL);
                for (size_t i = 0; i < rule->one_of_count; i++)
                        ksafe_buf__cat(buf, i ? ", " : "",
                                       secret ? KSAFE_REDACTED : rule->one_of_raw[i], NULL);
                sep = " and ";
        }
        bool min = rule->checks & KSAFE_CHECK_MIN, max = rule->checks & KSAFE_CHECK_MAX;
        char lo[32], hi[32];
        if (min && max)
                ksafe_buf__cat(buf, sep, "between ", num(rule->min, lo, sizeof(lo)), " and ",
                               num(rule->max, hi, sizeof(hi)), NULL);
        else if (min)
                ksafe_buf__cat(buf, sep, ">= ", num(rule->min, lo, sizeof(lo)), NULL);
        else if (max)
                ksafe_buf__cat(buf, sep, "<= ", num(rule->max, hi, sizeof(hi)), NULL);
        if (min || max)
                sep = " and ";
        if (rule->checks & KSAFE_CHECK_MIN_SUM) {
                ksafe_buf__cat(buf, sep, ">= ", NULL);
                for (size_t i = 0; i < rule->min_sum_count; i++)
                        ksafe_buf__cat(buf, i ? " + " : "", rule->min_sum_raw[i], NULL);
                if (view)
                        ksafe_buf__cat(buf, " (", num(sum_of(rule, view), lo, sizeof(lo)), ")",
                                       NULL);
                sep = " and ";
        }
        if (rule->checks & KSAFE_CHECK_REQUIRED)
                ksafe_buf__cat(buf, sep, "set", NULL);
        if (rule->checks & KSAFE_CHECK_FORBIDDEN)
                ksafe_buf__cat(buf, sep, "not set", NULL);
}

bool ksafe_rule__accepts(const ksafe_rule_t *rule, const char *value, double sum)
{
        if ((rule->checks & KSAFE_CHECK_EQUALS) && strcmp(value, rule->equals) != 0)
                return false;
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                size_t i = 0;
                while (i < rule->one_of_count && strcmp(value, rule->one_of[i]) != 0)
                        i++;
                if (i == rule->one_of_count)
                        return false;
        }
        if (rule->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM)) {
                double n;
                /* NaN and the infinities (0 where librdkafka reads it as
                 * infinite) never pass a numeric check; a sum that is
                 * NaN (a member that is not a number) neither. */
                if (!ksafe_prop__number(rule->prop, value, &n) || !isfinite(n))
                        return false;
                if ((rule->checks & KSAFE_CHECK_MIN_SUM) && isnan(sum))
                        return false;
                if ((rule->checks & KSAFE_CHECK_MIN) && n < rule->min)
                        return false;
                if ((rule->checks & KSAFE_CHECK_MAX) && n > rule->max)
                        return false;
                if ((rule->checks & KSAFE_CHECK_MIN_SUM) && n < sum)
                        return false;
        }
        return true;
}

/* forbidden means "makes no difference": not set, or set to the value
 * librdkafka uses when it is not set (a conf cannot unset a property, so
 * that is what enforcement writes there; a file loses the line). */
static bool forbidden_passes(const ksafe_rule_t *rule, const ksafe_view_t *view,
                             const ksafe_value_t *v)
{
        if (!v->is_set && !v->unsure)
                return true;
        char unset[512];
        return strcmp(v->text, ksafe_view__unset_value(view, rule->prop, unset, sizeof(unset))) ==
               0;
}

void ksafe_rule__judge(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_verdict_t *out)
{
        ksafe_view__value(view, rule->prop, &out->value);
        /* Whether a topic-level property at its default is set matters to
         * required and forbidden: learn it (never guess). */
        if (rule->checks & (KSAFE_CHECK_REQUIRED | KSAFE_CHECK_FORBIDDEN))
                ksafe_view__settle(view, rule->prop, &out->value);
        double sum = rule->checks & KSAFE_CHECK_MIN_SUM ? sum_of(rule, view) : 0;
        bool pass = ksafe_rule__accepts(rule, out->value.text, sum);
        /* Still unsure (librdkafka could not be asked): both readings must
         * pass, and "not set" fails required. */
        bool set = out->value.is_set && !out->value.unsure && out->value.text[0];
        if ((rule->checks & KSAFE_CHECK_REQUIRED) && !set)
                pass = false;
        if ((rule->checks & KSAFE_CHECK_FORBIDDEN) && !forbidden_passes(rule, view, &out->value))
                pass = false;
        out->pass = pass;
}

char *ksafe_rule__fix(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        /* librdkafka's own bound for this producer, if any: a `set` value
         * beyond it would only swap one refusal for another. */
        double limit = INFINITY, n;
        ksafe_view__limit(view, rule->prop, &limit);
        if (rule->checks & KSAFE_CHECK_FORBIDDEN) {
                /* What unset means: the value librdkafka would use. */
                char unset[512];
                return strdup(ksafe_view__unset_value(view, rule->prop, unset, sizeof(unset)));
        }
        if (rule->set && (!ksafe_prop__number(rule->prop, rule->set, &n) || n <= limit))
                return strdup(rule->set);
        if (rule->checks & KSAFE_CHECK_EQUALS)
                return strdup(rule->equals_raw);
        if (rule->checks & KSAFE_CHECK_ONE_OF)
                return strdup(rule->one_of_raw[0]);
        if (!(rule->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM)))
                return NULL;

        /* The nearest bound. */
        ksafe_value_t v;
        ksafe_view__value(view, rule->prop, &v);
        bool number = ksafe_prop__number(rule->prop, v.text, &n);
        double lo = -INFINITY, hi = limit;
        if (rule->checks & KSAFE_CHECK_MIN)
                lo = rule->min;
        if (rule->checks & KSAFE_CHECK_MIN_SUM) {
                double sum = sum_of(rule, view);
                if (sum > lo)
                        lo = sum;
        }
        if ((rule->checks & KSAFE_CHECK_MAX) && rule->max < hi)
                hi = rule->max;
        if (!number) /* not a number (nan): start from a bound */
                n = isfinite(lo) ? lo : hi;
        if (lo > hi)
                return NULL;
        n = n < lo ? lo : n > hi ? hi : n;
        if (!isfinite(n))
                return NULL;
        if (rule->prop->type == KSAFE_PROP_INT)
                n = ceil(n);
        char buf[64];
        snprintf(buf, sizeof(buf), "%.15g", n);
        return strdup(buf);
}

/* "acks is 1", "delivery.timeout.ms is 0 (infinite)". */
static void shown_value(const ksafe_rule_t *rule, const ksafe_value_t *v, ksafe_buf_t *buf)
{
        double n;
        if (rule->prop->sensitive)
                ksafe_buf__cat(buf, KSAFE_REDACTED, NULL);
        else if (!v->text[0])
                ksafe_buf__cat(buf, "(empty)", NULL);
        else if (ksafe_prop__number(rule->prop, v->text, &n) && isinf(n))
                ksafe_buf__cat(buf, v->text, " (infinite)", NULL);
        else
                ksafe_buf__cat(buf, v->text, NULL);
}

/* The one sentence of a violation: what the value is, what the rule
 * expects, and for an enforced forbidden property how it is fixed. A new
 * string (free() it), NULL when out of memory. */
static char *violation_message(const ksafe_rule_t *rule, const ksafe_value_t *v, const char *name,
                               const char *actual_s, const char *expected_s, const char *fix)
{
        ksafe_buf_t message = {0};
        if (v->is_set)
                ksafe_buf__cat(&message, name, " is ", actual_s, NULL);
        else if (v->derived)
                ksafe_buf__cat(&message, name, " is not set; librdkafka makes it ", actual_s, NULL);
        else
                ksafe_buf__cat(&message, name, " is not set; librdkafka's default is ", actual_s,
                               NULL);
        ksafe_buf__cat(&message, "; expected ", expected_s, NULL);
        if (v->unsure)
                ksafe_buf__printf(&message, " (whether it is set could not be learned from "
                                            "librdkafka)");
        /* Enforcing forbidden unsets: a file loses the line, a conf gets
         * the value librdkafka uses unset. No value to write by hand. */
        if ((rule->checks & KSAFE_CHECK_FORBIDDEN) && fix)
                ksafe_buf__printf(&message, "; fix: remove it (unset, librdkafka uses %s)",
                                  rule->prop->sensitive ? KSAFE_REDACTED
                                  : fix[0]              ? fix
                                                        : "none");
        return ksafe_buf__take(&message);
}

static void add_violation(const ksafe_rule_t *rule, const ksafe_view_t *view,
                          const ksafe_verdict_t *verdict, ksafe_report_t *report)
{
        ksafe_value_t settled = verdict->value;
        ksafe_view__settle(view, rule->prop, &settled); /* say "set" only when it is */
        const ksafe_value_t *v = &settled;
        const ksafe_entry_t *e = v->entry;
        const char *name = e ? e->name : rule->property;
        ksafe_buf_t actual = {0}, expected = {0};
        shown_value(rule, v, &actual);
        ksafe_rule__describe(rule, view, &expected);
        char *actual_s = ksafe_buf__take(&actual), *expected_s = ksafe_buf__take(&expected);
        bool forbidden = rule->checks & KSAFE_CHECK_FORBIDDEN;
        char *fix = rule->action == KSAFE_ACTION_ENFORCE ? ksafe_rule__fix(rule, view) : NULL;
        char *message_s = violation_message(rule, v, name, actual_s, expected_s, fix);
        if (forbidden) {
                free(fix);
                fix = NULL;
        }

        ksafe_violation_t out = {
                .rule_id = rule->id,
                .property = name,
                .canonical = rule->prop->name,
                .actual = actual_s,
                .expected = expected_s,
                .fix = fix && rule->prop->sensitive ? KSAFE_REDACTED : fix,
                .why = rule->why,
                .message = message_s,
                .file = e && e->origin ? e->origin : ksafe_view__file(view),
                .line = e                        ? e->line
                        : ksafe_view__file(view) ? 1
                                                 : 0,
                .column = e                        ? e->column
                          : ksafe_view__file(view) ? 1
                                                   : 0,
                .action = rule->action,
                .severity = rule->action == KSAFE_ACTION_WARN ? KSAFE_SEVERITY_WARNING
                                                              : KSAFE_SEVERITY_ERROR,
                .is_set = v->is_set,
        };
        if (actual_s && expected_s && message_s)
                ksafe_report__add(report, &out);
        else
                ksafe_report__add(report, NULL); /* out of memory: the report says so */
        free(actual_s);
        free(expected_s);
        free(message_s);
        free(fix);
}

void ksafe_eval__rule(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_report_t *report)
{
        ksafe_verdict_t verdict;
        ksafe_rule__judge(rule, view, &verdict);
        if (!verdict.pass)
                add_violation(rule, view, &verdict, report);
}

bool ksafe_rule__in_view(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        /* A topic conf holds topic-level properties, and the twins that
         * win over a global one (topic compression.codec). */
        return !ksafe_view__is_topic_only(view) || rule->prop->scope == KSAFE_SCOPE_TOPIC ||
               ksafe_view__topic_twin(view, rule->prop);
}

void ksafe_eval__policy(const ksafe_policy_t *policy, const ksafe_view_t *view, unsigned actions,
                        ksafe_report_t *report)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (!(actions & KSAFE_ACTION_BIT(rule->action)))
                        continue;
                if (!ksafe_rule__in_view(rule, view))
                        continue;
                ksafe_eval__rule(rule, view, report);
        }
}

ksafe_report_t *ksafe_eval__view_consume(const ksafe_policy_t *policy, ksafe_view_t *view)
{
        ksafe_report_t *report = view ? ksafe_report__new(policy) : NULL;
        if (report) {
                ksafe_eval__policy(policy, view, KSAFE_ALL_ACTIONS, report);
                ksafe_eval__refusals(policy, view, report);
        }
        ksafe_view__destroy(view);
        return report;
}
