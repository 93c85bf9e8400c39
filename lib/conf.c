/*
 * The public checks of an rd_kafka_conf_t: ksafe_conf_check() and
 * ksafe_conf_enforce(), through a view of the conf and the shared
 * enforcement loop.
 */
#include <librdkafka/rdkafka.h>

#include "ksafe_int.h"

static bool conf_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        char errstr[512], name[300];
        return rd_kafka_conf_set(target, ksafe_prop__conf_name(rule->prop, name, sizeof(name)),
                                 value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK;
}

ksafe_report_t *ksafe_conf_check(const rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        return ksafe_eval__view_consume(policy, ksafe_view__from_conf(policy->props, conf));
}

/* Enforce `policy` on `conf` through `view` (consumed). */
static ksafe_report_t *enforce_on(const ksafe_policy_t *policy, ksafe_view_t *view,
                                  rd_kafka_conf_t *conf)
{
        ksafe_report_t *report = view ? ksafe_enforce__view(policy, view, conf_setter, conf) : NULL;
        if (report && !ksafe_report_rejected(report))
                ksafe_enforce__float_readings(policy, view, conf_setter, conf);
        ksafe_view__destroy(view);
        return report;
}

/*
 * A conf cannot unset what enforcement set, so the policy is enforced on a
 * copy first: when it refuses (a reject rule, an enforce rule it cannot
 * satisfy, what rd_kafka_new() would refuse), the caller's conf is left as
 * it was, and the report claims no repair. Otherwise the same enforcement
 * runs on the conf itself (its own interceptors see the values).
 */
ksafe_report_t *ksafe_conf_enforce(rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        rd_kafka_conf_t *copy = rd_kafka_conf_dup(conf);
        ksafe_report_t *trial =
                copy ? enforce_on(policy, ksafe_view__from_scratch_conf(policy->props, copy), copy)
                     : NULL;
        if (copy)
                rd_kafka_conf_destroy(copy);
        if (!trial || ksafe_report_rejected(trial)) {
                for (size_t i = 0; i < ksafe_report_count(trial); i++)
                        ksafe_report__at(trial, i)->fixed = false;
                return trial;
        }
        ksafe_report_destroy(trial);
        return enforce_on(policy, ksafe_view__from_conf(policy->props, conf), conf);
}
