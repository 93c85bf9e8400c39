/*
 * Judging a config read from a file: the findings about its own lines
 * and every rule of the policy, on a view of its resolved entries.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/* A name as written, when it cannot be a secret: property-name characters
 * only (as eval_entries.c shows unknown names). */
static bool plain_name(const char *name)
{
        size_t n = strlen(name);
        return n > 0 && n <= 128 &&
               strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n &&
               !ksafe_property_is_sensitive(name);
}

/* The finding for a first key that carries a BOM under --dialect java. */
static void java_bom_finding(const ksafe_policy_t *policy, const ksafe_view_t *view,
                             const ksafe_entry_t *e, ksafe_report_t *report)
{
        const char *intended = e->name + 3;
        bool known = ksafe_props__find(policy->props, intended) ||
                     ksafe_dialect__java_knows(intended);
        bool shown = plain_name(intended);
        char message[400];
        if (known)
                snprintf(message, sizeof(message),
                         "the file starts with a UTF-8 byte order mark, which "
                         "java.util.Properties keeps in the first key: %s never reaches the "
                         "client (save the file without the BOM)",
                         intended);
        else
                snprintf(message, sizeof(message),
                         "the file starts with a UTF-8 byte order mark, which "
                         "java.util.Properties keeps in the first key: the client gets a "
                         "property named \"\\uFEFF%s\" (save the file without the BOM)",
                         shown ? intended : "...");
        ksafe_violation_t v = {
                .rule_id = "ksafe-unknown-property",
                .property = shown ? intended : "(not shown)",
                .message = message,
                .why = "java.util.Properties reads a BOM as part of the first key, so the "
                       "first line sets a property that no client knows",
                .file = ksafe_view__file(view),
                .line = e->line,
                .column = e->column,
                .action = known ? KSAFE_ACTION_REJECT : KSAFE_ACTION_WARN,
                .severity = known ? KSAFE_SEVERITY_ERROR : KSAFE_SEVERITY_WARNING,
                .is_set = true,
        };
        ksafe_report__add(report, &v);
}
/*
 * The findings about the file's own lines. A name librdkafka does not know
 * is refused by every librdkafka-based client (rd_kafka_conf_set() fails:
 * kcat exits, Python raises), so it is an error; under --dialect java the
 * file is the Java client's, which only logs unknown names: a warning.
 */
void ksafe_config__eval_entries(const ksafe_config_t *cfg, const ksafe_policy_t *policy,
                              const ksafe_view_t *view, ksafe_report_t *report)
{
        size_t first = ksafe_report_count(report);
        ksafe_eval__entries(policy, view, report);
        bool error = cfg->dialect != KSAFE_DIALECT_JAVA;
        for (size_t i = first; i < ksafe_report_count(report); i++) {
                ksafe_violation_t *v = ksafe_report__at(report, i);
                if (!v->rule_id || strcmp(v->rule_id, "ksafe-unknown-property") != 0)
                        continue;
                v->severity = error ? KSAFE_SEVERITY_ERROR : KSAFE_SEVERITY_WARNING;
                v->action = error ? KSAFE_ACTION_REJECT : KSAFE_ACTION_WARN;
        }
        size_t count;
        const ksafe_entry_t *entries = ksafe_view__entries(view, &count);
        for (size_t i = 0; i < count; i++)
                if (ksafe_config__java_bom_key(&entries[i], cfg->dialect))
                        java_bom_finding(policy, view, &entries[i], report);
}

ksafe_report_t *ksafe_config_check(const ksafe_config_t *config, const ksafe_policy_t *policy)
{
        resolved_t r;
        if (!ksafe_config__resolve(config, policy, &r))
                return NULL;
        ksafe_report_t *report = ksafe_report__new(policy);
        if (report) {
                ksafe_config__eval_entries(config, policy, r.view, report);
                ksafe_eval__policy(policy, r.view, KSAFE_ALL_ACTIONS, report);
                ksafe_eval__refusals(policy, r.view, report);
                ksafe_report__sort(report);
        }
        ksafe_config__resolved_free(&r);
        return report;
}
