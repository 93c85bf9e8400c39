/*
 * Judging one rd_kafka_conf_set() before it happens: the value as the
 * client wrote it, on the conf as it now is. The plugin's on_conf_set
 * (plugin.c) asks this; the rules are the policy's, judged by eval.c.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/* Does `rule` judge `prop` itself (its property, or one of its sum)? */
static bool rule_reads(const ksafe_rule_t *rule, const ksafe_prop_t *prop)
{
        if (rule->prop->canon == prop->canon)
                return true;
        for (size_t i = 0; i < rule->min_sum_count; i++)
                if (rule->min_sum[i]->canon == prop->canon)
                        return true;
        return false;
}

/* The value as written (raw, which the table reads as value): one entry,
 * judged as the linter judges a line (ksafe-misread-value for 1e3, 010,
 * 4294967301), into report. */
static void judge_as_written(const ksafe_policy_t *policy, const ksafe_prop_t *prop,
                             const char *name, const char *raw, const char *value,
                             ksafe_report_t *report)
{
        char why[512];
        if (ksafe_prop__misread(prop, raw, value, why, sizeof(why))) {
                ksafe_entry_t e = {
                        .name = (char *)name,
                        .raw = (char *)raw,
                        .value = (char *)value,
                        .note = why,
                        .prop = prop,
                        .status = KSAFE_ENTRY_MISREAD,
                        .shadowed_by = -1,
                };
                ksafe_view_t *entries = ksafe_view__from_entries(policy->props, NULL, &e, 1);
                if (entries)
                        ksafe_eval__entries(policy, entries, report);
                ksafe_view__destroy(entries);
        }
}

ksafe_report_t *ksafe_eval__set(const ksafe_policy_t *policy, const rd_kafka_conf_t *conf,
                                const char *name, const char *raw)
{
        ksafe_report_t *report = ksafe_report__new(policy);
        const ksafe_prop_t *prop = ksafe_props__find(policy->props, name);
        if (!report || !prop)
                return report; /* unknown: librdkafka says so itself */
        char why[512];
        char *value =
                raw ? ksafe_prop__parse(prop, raw, why, sizeof(why)) : strdup(prop->canon->def);
        if (!value)
                return report; /* librdkafka refuses it itself (or out of memory) */

        if (raw)
                judge_as_written(policy, prop, name, raw, value, report);

        /* The rules, on the conf as it is and as it would be: on a copy
         * without plugin.library.paths. Copying that property loads the
         * plugins again (a dlopen() per copy, and "libksafe" first fails a
         * search of the loader's cache): 70% of a Python Producer's
         * creation went there. Nothing else differs. */
        const char *no_plugins[] = {"plugin.library.paths"};
        rd_kafka_conf_t *copy = rd_kafka_conf_dup_filter(conf, 1, no_plugins);
        ksafe_view_t *before = copy ? ksafe_view__from_scratch_conf(policy->props, copy) : NULL;
        ksafe_view_t *after =
                before ? ksafe_view__from_conf_like(policy->props, copy, before) : NULL;
        if (after && ksafe_view__override(after, prop, value, raw != NULL)) {
                for (size_t i = 0; i < policy->rule_count; i++) {
                        const ksafe_rule_t *rule = &policy->rules[i];
                        ksafe_verdict_t now, was;
                        ksafe_rule__judge(rule, after, &now);
                        if (now.pass)
                                continue;
                        ksafe_rule__judge(rule, before, &was);
                        if (was.pass || rule_reads(rule, prop))
                                ksafe_eval__rule(rule, after, report);
                }
        } else {
                ksafe_violation_t oom = {
                        .rule_id = "ksafe-out-of-memory",
                        .property = name,
                        .message = "out of memory while judging this value",
                        .action = KSAFE_ACTION_REJECT,
                        .severity = KSAFE_SEVERITY_ERROR,
                };
                ksafe_report__add(report, &oom);
        }
        ksafe_view__destroy(after);
        ksafe_view__destroy(before);
        if (copy)
                rd_kafka_conf_destroy(copy);
        free(value);
        return report;
}
