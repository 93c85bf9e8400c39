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

static bool enforced_here(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        return rule->action == KSAFE_ACTION_ENFORCE && ksafe_rule__in_view(rule, view);
}

enum { TRIED = 1, SET = 2 };

/* Set the property that holds the value the rule judged: the rule's own,
 * or the topic-level twin that wins over it at produce time
 * (topic.compression.codec=none over compression.codec=lz4). */
static bool set_holder(ksafe_setter_t set, void *target, const ksafe_rule_t *rule,
                       const ksafe_value_t *value, const char *fix)
{
        const ksafe_prop_t *holder = value->holder;
        if (!holder || holder == rule->prop->canon)
                return set(target, rule, fix);
        char name[300];
        ksafe_rule_t twin = *rule;
        twin.prop = holder;
        twin.property = (char *)ksafe_prop__conf_name(holder, name, sizeof(name));
        return set(target, &twin, fix);
}

/* Enforcing forbidden wrote the value librdkafka uses unset, as it was
 * then: a later repair may change it (idempotence enforced after makes an
 * unset max.in.flight 5, not 1000000), so write it once more, as it is
 * now. Never a value that rd_kafka_new() refuses. */
static void settle_forbidden(const ksafe_policy_t *policy, const ksafe_view_t *view,
                             ksafe_setter_t set, void *target, const unsigned char *state)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (!(state[i] & SET) || !(rule->checks & KSAFE_CHECK_FORBIDDEN))
                        continue;
                char *fix = ksafe_rule__fix(rule, view);
                if (fix)
                        set(target, rule, fix);
                free(fix);
        }
}

/* Each enforce rule sets its value at most once. A pass that set something
 * is followed by another, since a change can make a rule that passed fail
 * (removing transactional.id takes the idempotence it implied with it):
 * at most one pass per rule, never a loop. */
static void repair(const ksafe_policy_t *policy, ksafe_view_t *view, ksafe_setter_t set,
                   void *target, unsigned char *state, ksafe_report_t *report)
{
        for (size_t pass = 0; pass < policy->rule_count; pass++) {
                bool changed = false;
                for (size_t i = 0; i < policy->rule_count; i++) {
                        const ksafe_rule_t *rule = &policy->rules[i];
                        if (!enforced_here(rule, view) || (state[i] & TRIED))
                                continue;
                        ksafe_verdict_t verdict;
                        ksafe_rule__judge(rule, view, &verdict);
                        char *fix = verdict.pass ? NULL : ksafe_rule__fix(rule, view);
                        if (!fix)
                                continue;
                        /* A rule that fails only after another's repair is
                         * reported too, as it failed then. */
                        if (!ksafe_report__find(report, rule->id))
                                ksafe_eval__rule(rule, view, report);
                        state[i] |= TRIED | (set_holder(set, target, rule, &verdict.value, fix)
                                                     ? SET
                                                     : 0);
                        ksafe_view__changed(view, verdict.value.holder ? verdict.value.holder
                                                                      : rule->prop,
                                           !(rule->checks & KSAFE_CHECK_FORBIDDEN));
                        free(fix);
                        changed = true;
                }
                if (!changed)
                        break;
        }
}

/* Judge the enforce rules once more: what passes now was fixed; a repair
 * that broke another rule is reported, unfixed. */
static void rejudge(const ksafe_policy_t *policy, const ksafe_view_t *view,
                    const unsigned char *state, ksafe_report_t *report)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (!enforced_here(rule, view))
                        continue;
                ksafe_verdict_t verdict;
                ksafe_rule__judge(rule, view, &verdict);
                ksafe_violation_t *v = ksafe_report__find(report, rule->id);
                if (v)
                        v->fixed = verdict.pass;
                else if (!verdict.pass)
                        ksafe_eval__rule(rule, view, report);
                /* Fixed by another rule's change (idempotence makes
                 * librdkafka set max.in.flight): this rule set nothing. */
                if (v && v->fixed && !(state[i] & SET))
                        ksafe_violation__clear_fix(v);
        }
}

/* A rule whose repair set a value that another rule then refuses is part
 * of the conflict: it is not fixed either, and the refusal names both. */
static void blame_conflicts(const ksafe_policy_t *policy, const unsigned char *state,
                            ksafe_report_t *report)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                ksafe_violation_t *v = ksafe_report__find(report, policy->rules[i].id);
                if (!v || v->fixed || v->action != KSAFE_ACTION_ENFORCE)
                        continue;
                for (size_t j = 0; j < policy->rule_count; j++) {
                        ksafe_violation_t *w = ksafe_report__find(report, policy->rules[j].id);
                        if ((state[j] & SET) && w && j != i &&
                            policy->rules[j].prop == policy->rules[i].prop)
                                w->fixed = false;
                }
        }
}

ksafe_report_t *ksafe_enforce__view(const ksafe_policy_t *policy, ksafe_view_t *view,
                              ksafe_setter_t set, void *target)
{
        ksafe_report_t *report = ksafe_report__new(policy);
        if (!report)
                return NULL;
        ksafe_eval__policy(policy, view, KSAFE_ALL_ACTIONS, report);
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                if (ksafe_report_get(report, i)->action == KSAFE_ACTION_REJECT)
                        return report; /* refused as given: change nothing */

        unsigned char *state = calloc(policy->rule_count + 1, 1);
        if (!state) {
                ksafe_report_destroy(report);
                return NULL;
        }
        ksafe_report__set_enforced(report);
        repair(policy, view, set, target, state, report);
        settle_forbidden(policy, view, set, target, state);
        rejudge(policy, view, state, report);
        blame_conflicts(policy, state, report);
        ksafe_eval__refusals(policy, view, report); /* what rd_kafka_new() would refuse */
        free(state);
        return report;
}

/* Set one float property that `rule` judges to the text it was judged by. */
static void reset_float(const ksafe_prop_t *prop, const ksafe_rule_t *rule,
                        const ksafe_view_t *view, ksafe_setter_t set, void *target)
{
        ksafe_value_t v;
        if (prop->canon->type != KSAFE_PROP_FLOAT || !ksafe_view__value(view, prop, &v) ||
            !v.is_set || v.holder != prop->canon)
                return;
        ksafe_rule_t as_judged = *rule;
        as_judged.prop = prop->canon;
        as_judged.property = prop->canon->name;
        char *text = strdup(v.text);
        if (text)
                set(target, &as_judged, text);
        free(text);
}

void ksafe_enforce__float_readings(const ksafe_policy_t *policy, const ksafe_view_t *view,
                                  ksafe_setter_t set, void *target)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                reset_float(rule->prop, rule, view, set, target);
                for (size_t j = 0; j < rule->min_sum_count; j++)
                        reset_float(rule->min_sum[j], rule, view, set, target);
        }
}
