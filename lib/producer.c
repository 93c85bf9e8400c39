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

rd_kafka_t *ksafe_producer_new(rd_kafka_conf_t *conf, const ksafe_policy_t *policy,
                               ksafe_report_t **reportp, char *errstr, size_t errstr_size)
{
        if (reportp)
                *reportp = NULL;
        ksafe_policy_t *owned;
        if (!(policy = policy_or_env(policy, &owned, errstr, errstr_size)))
                return NULL;

        /* Work on a copy so that on failure the caller's conf is untouched. */
        rd_kafka_conf_t *copy = conf ? rd_kafka_conf_dup(conf) : rd_kafka_conf_new();
        ksafe_report_t *report = ksafe_conf_enforce(copy, policy);
        rd_kafka_t *rk = NULL;
        if (!report) {
                set_errstr(errstr, errstr_size, "ksafe: out of memory");
        } else if (ksafe_report_rejected(report)) {
                ksafe_report_explain(report, errstr, errstr_size);
        } else if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, copy, errstr, errstr_size))) {
                copy = NULL; /* the handle owns it now */
                ksafe_report_t *audit = ksafe_handle_audit(rk, policy);
                if (!audit || audit_fails(report, audit)) {
                        ksafe_report_explain(report, errstr, errstr_size);
                        rd_kafka_destroy(rk);
                        rk = NULL;
                }
                ksafe_report_destroy(audit);
        }
        if (copy)
                rd_kafka_conf_destroy(copy);
        if (rk && conf)
                rd_kafka_conf_destroy(conf); /* as rd_kafka_new would have taken it */
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
