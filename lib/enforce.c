/*
 * Enforcement: judge, repair what the policy enforces, judge again.
 *
 * reject and warn rules are judged on the configuration as given, so a
 * property with a reject rule is refused before any enforce rule could
 * repair it. Each enforce rule then sets its compliant value once, in
 * policy order, and the result is judged once more: a rule that still
 * fails is an error of the report, never a second round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

static bool in_scope(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        return !ksafe_view_is_topic_only(view) || rule->prop->scope == KSAFE_SCOPE_TOPIC;
}

ksafe_report_t *ksafe_enforce(const ksafe_policy_t *policy, ksafe_view_t *view,
                              ksafe_setter_t set, void *target)
{
        ksafe_report_t *report = ksafe_report_new(policy);
        if (!report)
                return NULL;
        ksafe_eval(policy, view, KSAFE_ALL_ACTIONS, report);
        ksafe_report_set_enforced(report);
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                if (ksafe_report_get(report, i)->action == KSAFE_ACTION_REJECT)
                        return report; /* refused as given: change nothing */

        bool *was_set = calloc(policy->rule_count + 1, sizeof(*was_set));
        if (!was_set) {
                ksafe_report_destroy(report);
                return NULL;
        }
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (rule->action != KSAFE_ACTION_ENFORCE || !in_scope(rule, view))
                        continue;
                ksafe_verdict_t verdict;
                ksafe_rule_judge(rule, view, &verdict);
                char *fix = verdict.pass ? NULL : ksafe_rule_fix(rule, view);
                if (fix) {
                        was_set[i] = set(target, rule, fix);
                        ksafe_view_changed(view, rule->prop,
                                           !(rule->checks & KSAFE_CHECK_FORBIDDEN));
                }
                free(fix);
        }

        /* Judge once more: what passes now was fixed; a repair that broke
         * another enforce rule is reported, unfixed. */
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (rule->action != KSAFE_ACTION_ENFORCE || !in_scope(rule, view))
                        continue;
                ksafe_verdict_t verdict;
                ksafe_rule_judge(rule, view, &verdict);
                ksafe_violation_t *v = ksafe_report_find(report, rule->id);
                if (v)
                        v->fixed = verdict.pass;
                else if (!verdict.pass)
                        ksafe_eval_rule(rule, view, report);
                /* Fixed by another rule's change (idempotence makes
                 * librdkafka set max.in.flight): this rule set nothing. */
                if (v && v->fixed && !was_set[i])
                        ksafe_violation_clear_fix(v);
        }
        /* A rule whose repair set a value that another rule then refuses
         * is part of the conflict: it is not fixed either. */
        for (size_t i = 0; i < policy->rule_count; i++) {
                ksafe_violation_t *v = ksafe_report_find(report, policy->rules[i].id);
                if (!v || v->fixed || v->action != KSAFE_ACTION_ENFORCE)
                        continue;
                for (size_t j = 0; j < policy->rule_count; j++) {
                        ksafe_violation_t *w = ksafe_report_find(report, policy->rules[j].id);
                        if (was_set[j] && w && j != i &&
                            policy->rules[j].prop == policy->rules[i].prop)
                                w->fixed = false;
                }
        }
        free(was_set);
        return report;
}

static bool conf_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        char errstr[512];
        return rd_kafka_conf_set(target, rule->prop->name, value, errstr, sizeof(errstr)) ==
               RD_KAFKA_CONF_OK;
}

ksafe_report_t *ksafe_conf_check(const rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        return ksafe_eval_view(policy, ksafe_view_from_conf(policy->props, conf));
}

ksafe_report_t *ksafe_conf_enforce(rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        ksafe_view_t *view = ksafe_view_from_conf(policy->props, conf);
        ksafe_report_t *report = view ? ksafe_enforce(policy, view, conf_setter, conf) : NULL;
        ksafe_view_destroy(view);
        return report;
}
