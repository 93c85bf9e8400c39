/*
 * The facade: drop-ins for rd_kafka_new(RD_KAFKA_PRODUCER, ...) and
 * rd_kafka_topic_new() that cannot return an unsafe handle, and the audit
 * of a created handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

static void set_errstr(char *errstr, size_t size, const char *fmt, ...) KSAFE_PRINTF(3, 4);

static void set_errstr(char *errstr, size_t size, const char *fmt, ...)
{
        if (!errstr || !size)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
}

/* The caller's policy, or one loaded from the environment for this call. */
static const ksafe_policy_t *policy_or_env(const ksafe_policy_t *policy, ksafe_policy_t **owned,
                                           char *errstr, size_t errstr_size)
{
        *owned = NULL;
        if (policy)
                return policy;
        ksafe_error_t err = {0};
        *owned = ksafe_policy_from_env(&err);
        if (!*owned && err.line > 0)
                set_errstr(errstr, errstr_size, "ksafe: cannot load the policy %s:%d:%d: %s",
                           err.source, err.line, err.column, err.text);
        else if (!*owned)
                set_errstr(errstr, errstr_size, "ksafe: cannot load the policy %s: %s",
                           err.source[0] ? err.source : "(KSAFE_POLICY)", err.text);
        return *owned;
}

/* Move the audit's findings into the report; true when the handle fails. */
static bool audit_fails(ksafe_report_t *report, ksafe_report_t *audit)
{
        bool fails = false;
        for (size_t i = 0; i < ksafe_report_count(audit); i++) {
                const ksafe_violation_t *v = ksafe_report_get(audit, i);
                if (v->action == KSAFE_ACTION_WARN)
                        continue;
                fails = true;
                ksafe_violation_t *copy = ksafe_report_add(report, v);
                if (copy)
                        copy->action = KSAFE_ACTION_REJECT;
        }
        return fails;
}

static void hand_over(ksafe_report_t *report, ksafe_report_t **reportp)
{
        if (reportp)
                *reportp = report;
        else
                ksafe_report_destroy(report);
}

/* The values enforcement set on the trial copy, to set on the real conf. */
typedef struct fixes_s {
        rd_kafka_conf_t *trial;
        char **names, **values;
        size_t count;
        bool failed;
} fixes_t;

static bool recording_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        fixes_t *fx = target;
        char errstr[512];
        if (rd_kafka_conf_set(fx->trial, rule->prop->name, value, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK)
                return false;
        char **names = realloc(fx->names, (fx->count + 1) * sizeof(*names));
        char **values = names ? realloc(fx->values, (fx->count + 1) * sizeof(*values)) : NULL;
        if (names)
                fx->names = names;
        if (values)
                fx->values = values;
        if (!names || !values) {
                fx->failed = true;
                return false;
        }
        fx->names[fx->count] = strdup(rule->prop->name);
        fx->values[fx->count] = strdup(value);
        fx->failed |= !fx->names[fx->count] || !fx->values[fx->count];
        fx->count++;
        return true;
}

static bool apply_fixes(const fixes_t *fx, rd_kafka_conf_t *conf, char *errstr,
                        size_t errstr_size)
{
        /* librdkafka writes errstr on some successful sets too: keep it
         * for a failure. */
        char msg[512];
        for (size_t i = 0; i < fx->count; i++)
                if (rd_kafka_conf_set(conf, fx->names[i], fx->values[i], msg, sizeof(msg)) !=
                    RD_KAFKA_CONF_OK) {
                        set_errstr(errstr, errstr_size, "%s", msg);
                        return false;
                }
        return true;
}

static void fixes_free(fixes_t *fx)
{
        for (size_t i = 0; i < fx->count; i++) {
                free(fx->names[i]);
                free(fx->values[i]);
        }
        free(fx->names);
        free(fx->values);
        rd_kafka_conf_destroy(fx->trial);
}

/* Judge `conf` itself once the enforced values are set on it: what the
 * producer will be made of. Findings go into `report` as refusals. */
static bool recheck(const rd_kafka_conf_t *conf, const ksafe_view_t *trial,
                    const ksafe_policy_t *policy, ksafe_report_t *report)
{
        ksafe_report_t *now =
                ksafe_eval_view(policy, ksafe_view_from_conf_like(policy->props, conf, trial));
        bool ok = now && !audit_fails(report, now);
        ksafe_report_destroy(now);
        return ok;
}

/*
 * The policy is judged and enforced on a trial copy first, so that a
 * refusal leaves the caller's conf as it was. Then the same values are set
 * on the caller's own conf, which rd_kafka_new() gets: a copy would lose
 * the interceptors added to it (rd_kafka_conf_dup() does not copy them).
 */
rd_kafka_t *ksafe_producer_new(rd_kafka_conf_t *conf, const ksafe_policy_t *policy,
                               ksafe_report_t **reportp, char *errstr, size_t errstr_size)
{
        if (reportp)
                *reportp = NULL;
        ksafe_policy_t *owned;
        if (!(policy = policy_or_env(policy, &owned, errstr, errstr_size)))
                return NULL;
        rd_kafka_conf_t *fresh = conf ? NULL : rd_kafka_conf_new();
        if (fresh)
                conf = fresh;

        fixes_t fx = {.trial = rd_kafka_conf_dup(conf)};
        ksafe_view_t *view = ksafe_view_from_scratch_conf(policy->props, fx.trial);
        ksafe_report_t *report = view ? ksafe_enforce(policy, view, recording_setter, &fx) : NULL;
        rd_kafka_t *rk = NULL;
        if (!report || fx.failed) {
                set_errstr(errstr, errstr_size, "ksafe: out of memory");
        } else if (ksafe_report_rejected(report)) {
                ksafe_report_explain(report, errstr, errstr_size);
        } else if (!apply_fixes(&fx, conf, errstr, errstr_size)) {
                /* errstr is librdkafka's */
        } else if (!recheck(conf, view, policy, report)) {
                /* conf refused a value as it was set (an interceptor, say):
                 * refuse while conf is still the caller's. */
                ksafe_report_explain(report, errstr, errstr_size);
        } else if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size))) {
                fresh = NULL; /* the handle owns conf now */
                ksafe_report_t *audit = ksafe_handle_audit(rk, policy);
                if (!audit || audit_fails(report, audit)) {
                        /* ksafe's model of librdkafka was wrong: never hand
                         * out this handle. conf goes with it (see ksafe.h). */
                        ksafe_report_explain(report, errstr, errstr_size);
                        size_t len = errstr && errstr_size ? strnlen(errstr, errstr_size) : 0;
                        if (len + 1 < errstr_size)
                                snprintf(errstr + len, errstr_size - len,
                                         " (the created handle failed the audit: conf was "
                                         "consumed with it)");
                        rd_kafka_destroy(rk);
                        rk = NULL;
                }
                ksafe_report_destroy(audit);
        }
        ksafe_view_destroy(view);
        fixes_free(&fx);
        if (fresh)
                rd_kafka_conf_destroy(fresh);
        hand_over(report, reportp);
        ksafe_policy_destroy(owned);
        return rk;
}

ksafe_report_t *ksafe_handle_audit(rd_kafka_t *rk, const ksafe_policy_t *policy)
{
        return ksafe_eval_view(policy, ksafe_view_from_handle(policy->props, rk));
}

static bool topic_conf_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        char errstr[512];
        return rd_kafka_topic_conf_set(target, rule->prop->name, value, errstr,
                                       sizeof(errstr)) == RD_KAFKA_CONF_OK;
}

rd_kafka_topic_t *ksafe_topic_new(rd_kafka_t *rk, const char *topic, rd_kafka_topic_conf_t *tconf,
                                  const ksafe_policy_t *policy, ksafe_report_t **reportp,
                                  char *errstr, size_t errstr_size)
{
        if (reportp)
                *reportp = NULL;
        ksafe_policy_t *owned;
        if (!(policy = policy_or_env(policy, &owned, errstr, errstr_size))) {
                if (tconf)
                        rd_kafka_topic_conf_destroy(tconf);
                return NULL;
        }
        if (!tconf)
                tconf = rd_kafka_default_topic_conf_dup(rk);

        ksafe_view_t *view = ksafe_view_from_topic_conf(policy->props, rk, tconf);
        ksafe_report_t *report = view ? ksafe_enforce(policy, view, topic_conf_setter, tconf)
                                      : NULL;
        ksafe_view_destroy(view);
        rd_kafka_topic_t *rkt = NULL;
        if (!report) {
                set_errstr(errstr, errstr_size, "ksafe: out of memory");
                rd_kafka_topic_conf_destroy(tconf);
        } else if (ksafe_report_rejected(report)) {
                ksafe_report_explain(report, errstr, errstr_size);
                rd_kafka_topic_conf_destroy(tconf);
        } else if (!(rkt = rd_kafka_topic_new(rk, topic, tconf))) {
                set_errstr(errstr, errstr_size, "ksafe: rd_kafka_topic_new(\"%s\") failed: %s",
                           topic, rd_kafka_err2str(rd_kafka_last_error()));
        }
        hand_over(report, reportp);
        ksafe_policy_destroy(owned);
        return rkt;
}
