/*
 * The public checks of an rd_kafka_conf_t: ksafe_conf_check() and
 * ksafe_conf_enforce(), through a view of the conf and the shared
 * enforcement path of the facade.
 */
#include <librdkafka/rdkafka.h>

#include "ksafe_int.h"

ksafe_report_t *ksafe_conf_check(const rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        return ksafe_eval__view_consume(policy, ksafe_view__from_conf(policy->props, conf));
}

/*
 * The facade's own path (ksafe_enforce__conf()): judged and enforced on a
 * view of conf, the chosen values held by the view, so that a refusal
 * leaves conf as it was; once the policy accepts them they are set on
 * conf itself (its own interceptors see them) and read back.
 */
ksafe_report_t *ksafe_conf_enforce(rd_kafka_conf_t *conf, const ksafe_policy_t *policy)
{
        ksafe_report_t *report;
        char why[512];
        switch (ksafe_enforce__conf(policy, conf, &report, NULL, why, sizeof(why))) {
        case KSAFE_CONF_NO_MEMORY: ksafe_report_destroy(report); return NULL;
        case KSAFE_CONF_REFUSED: ksafe_report__unfix(report); break;
        case KSAFE_CONF_NOT_HELD: /* refused by conf itself: the report says which rules */
        case KSAFE_CONF_SET: break;
        }
        return report;
}
