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

/* What the repair did with each enforce rule (state[i], a bit mask). */
enum repair_state_e {
        REPAIR_TRIED = 1 << 0, /* its fix was computed and applied, once */
        REPAIR_SET = 1 << 1,   /* and the setter accepted the value */
};

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
                if (!(state[i] & REPAIR_SET) || !(rule->checks & KSAFE_CHECK_FORBIDDEN))
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
                        if (!enforced_here(rule, view) || (state[i] & REPAIR_TRIED))
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
                        state[i] |= REPAIR_TRIED |
                                    (set_holder(set, target, rule, &verdict.value, fix) ? REPAIR_SET
                                                                                        : 0);
                        ksafe_view__changed(
                                view, verdict.value.holder ? verdict.value.holder : rule->prop,
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
                if (v && v->fixed && !(state[i] & REPAIR_SET))
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
                        if ((state[j] & REPAIR_SET) && w && j != i &&
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

/*
 * Enforcement on a caller's conf, without a trial copy: the one path of
 * ksafe_conf_enforce() and ksafe_producer_new().
 */

/* The values enforcement chose, judged in the view of the caller's conf
 * (as overrides) and recorded, to be set on the conf once the policy
 * accepts it. */
typedef struct fix_s {
        char *name, *value;
        const ksafe_prop_t *prop; /* to read back, or NULL: reads as before */
        const char *rule_id;      /* the rule it repairs, or NULL: a float reading */
} fix_t;

typedef struct fixes_s {
        ksafe_view_t *view;
        fix_t *items;
        size_t count, cap;
        bool floats; /* recording float readings now, not repairs */
        bool failed;
} fixes_t;

/* Keep (name, value) for apply_fixes(); false when out of memory. */
static bool record_fix(fixes_t *fx, const ksafe_prop_t *prop, const char *rule_id, const char *name,
                       const char *value)
{
        if (!KSAFE_ARRAY_RESERVE(fx->items, fx->count, fx->cap))
                return false;
        fix_t *f = &fx->items[fx->count++];
        *f = (fix_t){.name = strdup(name),
                     .value = strdup(value),
                     .prop = prop,
                     .rule_id = fx->floats ? NULL : rule_id};
        return f->name && f->value;
}

/* The setter enforcement calls: the value as librdkafka would read it
 * (parsed by librdkafka, as rd_kafka_conf_set() would) goes into the view,
 * and the value as written into the list of fixes. A value librdkafka
 * refuses is refused here, as rd_kafka_conf_set() would. */
static bool recording_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        fixes_t *fx = target;
        char errstr[512], buf[300];
        const ksafe_prop_t *prop = rule->prop->canon;
        char *parsed = ksafe_prop__parse(prop, value, errstr, sizeof(errstr));
        if (!parsed)
                return false;
        /* A value that reads as the view's already does (a float set again
         * as judged) changes nothing the view knows, and cannot be seen to
         * take: not read back. */
        ksafe_value_t before;
        bool known = ksafe_view__stored(fx->view, prop, &before);
        bool changes = !known || strcmp(before.text, parsed) != 0;
        /* Enforcing forbidden writes the value librdkafka uses unset: the
         * view counts it as not set (enforce.c tells the view so). */
        bool is_set = changes ? !(rule->checks & KSAFE_CHECK_FORBIDDEN) : before.is_set;
        bool ok = ksafe_view__override(fx->view, prop, parsed, is_set) &&
                  record_fix(fx, changes ? prop : NULL, rule->id,
                             ksafe_prop__conf_name(prop, buf, sizeof(buf)), value);
        free(parsed);
        fx->failed |= !ok;
        return ok;
}

/* Set the fixes on conf, in order; the count set (all of them, or the one
 * conf refused is at that index, its message in why). */
static size_t apply_fixes(const fixes_t *fx, rd_kafka_conf_t *conf, char *why, size_t why_size)
{
        /* librdkafka writes errstr on some successful sets too: keep it
         * for a failure. */
        char msg[512];
        for (size_t i = 0; i < fx->count; i++)
                if (rd_kafka_conf_set(conf, fx->items[i].name, fx->items[i].value, msg,
                                      sizeof(msg)) != RD_KAFKA_CONF_OK) {
                        snprintf(why, why_size, "%s", msg);
                        return i;
                }
        return fx->count;
}

static void fixes_free(fixes_t *fx)
{
        for (size_t i = 0; i < fx->count; i++) {
                free(fx->items[i].name);
                free(fx->items[i].value);
        }
        free(fx->items);
}

bool ksafe_enforce__add_refusals(ksafe_report_t *report, const ksafe_report_t *found)
{
        bool fails = false;
        for (size_t i = 0; i < ksafe_report_count(found); i++) {
                const ksafe_violation_t *v = ksafe_report_get(found, i);
                if (v->action == KSAFE_ACTION_WARN)
                        continue;
                fails = true;
                ksafe_violation_t *copy = ksafe_report__add(report, v);
                if (copy)
                        copy->action = KSAFE_ACTION_REJECT;
        }
        return fails;
}

/* conf as it is now, judged as a whole with what the view knew about which
 * properties are set: its findings go into `report` as refusals. false
 * when it fails (or out of memory). */
static bool judge_as_set(const rd_kafka_conf_t *conf, const fixes_t *fx,
                         const ksafe_policy_t *policy, ksafe_report_t *report)
{
        ksafe_report_t *now = ksafe_eval__view_consume(
                policy, ksafe_view__from_conf_like(policy->props, conf, fx->view));
        bool ok = now && !ksafe_enforce__add_refusals(report, now);
        ksafe_report_destroy(now);
        return ok;
}

/*
 * The fixes are set on `conf` itself now: does it hold what was judged?
 * Only the properties set are read back (an interceptor may have dropped
 * or changed a value); nothing else of conf changed. When one differs,
 * conf is judged as a whole.
 */
static bool recheck(const rd_kafka_conf_t *conf, const fixes_t *fx, const ksafe_policy_t *policy,
                    ksafe_report_t *report)
{
        bool same = true;
        for (size_t i = 0; same && i < fx->count; i++)
                same = !fx->items[i].prop ||
                       ksafe_view__conf_holds(fx->view, conf, fx->items[i].prop);
        return same || judge_as_set(conf, fx, policy, report);
}

/* conf refused fixes[set] (an interceptor of its own): it and the fixes
 * after it were not set. Fixed now is only a rule whose own value was set
 * before (a rule fixed by another's repair may have lost it). */
static void unfix_unset(const fixes_t *fx, size_t set, ksafe_report_t *report)
{
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                ksafe_violation_t *v = ksafe_report__at(report, i);
                bool applied = false;
                for (size_t j = 0; !applied && j < set; j++)
                        applied = fx->items[j].rule_id &&
                                  strcmp(fx->items[j].rule_id, v->rule_id) == 0;
                v->fixed = v->fixed && applied;
        }
}

/* conf could not be judged as it is now (out of memory), and has the
 * values set already: the report refuses, whatever is left to say so
 * (ksafe_report__add() marks the report out of memory when it cannot). */
static void refuse_unread(ksafe_report_t *report)
{
        ksafe_violation_t oom = {
                .rule_id = "ksafe-out-of-memory",
                .property = "(conf)",
                .message = "out of memory while judging the conf with the values set",
                .action = KSAFE_ACTION_REJECT,
                .severity = KSAFE_SEVERITY_ERROR,
        };
        ksafe_report__add(report, &oom);
}

ksafe_conf_outcome_t ksafe_enforce__conf(const ksafe_policy_t *policy, rd_kafka_conf_t *conf,
                                         ksafe_report_t **reportp, ksafe_view_t **viewp, char *why,
                                         size_t why_size)
{
        if (why_size)
                why[0] = '\0';
        fixes_t fx = {.view = ksafe_view__from_conf(policy->props, conf)};
        ksafe_report_t *report =
                fx.view ? ksafe_enforce__view(policy, fx.view, recording_setter, &fx) : NULL;
        /* The producer uses the floats as judged (a conf shows them with
         * six significant digits). */
        if (report && !ksafe_report_rejected(report)) {
                fx.floats = true;
                ksafe_enforce__float_readings(policy, fx.view, recording_setter, &fx);
        }
        ksafe_conf_outcome_t outcome;
        size_t set;
        if (!report || fx.failed) {
                outcome = KSAFE_CONF_NO_MEMORY;
        } else if (ksafe_report_rejected(report)) {
                /* Refused in the view: conf is as it was (the caller
                 * unfixes the report, once it has explained it). */
                outcome = KSAFE_CONF_REFUSED;
        } else if ((set = apply_fixes(&fx, conf, why, why_size)) < fx.count) {
                /* conf keeps the values set before the one it refused;
                 * the rule that value repairs is not fixed: refused. */
                unfix_unset(&fx, set, report);
                outcome = KSAFE_CONF_NOT_HELD;
        } else if (!recheck(conf, &fx, policy, report)) {
                if (!ksafe_report_rejected(report))
                        refuse_unread(report);
                outcome = KSAFE_CONF_NOT_HELD;
        } else {
                outcome = KSAFE_CONF_SET;
        }
        fixes_free(&fx);
        if (viewp)
                *viewp = fx.view;
        else
                ksafe_view__destroy(fx.view);
        *reportp = report;
        return outcome;
}
