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

ksafe_report_t *ksafe_conf_enforce(rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        ksafe_view_t *view = ksafe_view__from_conf(policy->props, conf);
        ksafe_report_t *report = view ? ksafe_enforce__view(policy, view, conf_setter, conf) : NULL;
        if (report && !ksafe_report_rejected(report))
                ksafe_enforce__float_readings(policy, view, conf_setter, conf);
        ksafe_view__destroy(view);
        return report;
}
