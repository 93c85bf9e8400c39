/*
 * The evaluator: the one place where a rule meets a value.
 *
 * Every source (conf, handle, topic conf, file) reaches it through a view,
 * and every sink (the facade, the reports, the linter) reads what it
 * decides. No rule is judged anywhere else.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/* The sum of the rule's min_sum properties as librdkafka reads them (a
 * float such as linger.ms keeps its fraction); NAN when one is not a
 * finite number (linger.ms=nan is accepted by librdkafka): no value then
 * passes the check. */
static double sum_of(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        double sum = 0;
        for (size_t i = 0; i < rule->min_sum_count; i++) {
                ksafe_value_t v;
                double n = 0;
                ksafe_view__value(view, rule->min_sum[i], &v);
                if (!ksafe_prop__number(rule->min_sum[i], v.text, &n) || !isfinite(n))
                        return NAN;
                sum += n;
        }
        return sum;
}

/* A number as librdkafka stores it, the shortest text that reads back as
 * the same double (%g would show 153456.4 as 153456). */
static const char *num(double d, char *buf, size_t size)
{
        for (int digits = 15; digits <= 17; digits++) {
                snprintf(buf, size, "%.*g", digits, d);
                if (strtod(buf, NULL) == d || isnan(d))
                        break;
        }
        return buf;
}

void ksafe_rule__describe(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_buf_t *buf)
{
        bool secret = rule->prop->sensitive;
        const char *sep = "";
        if (rule->checks & KSAFE_CHECK_EQUALS) {
                ksafe_buf__printf(buf, "%s", secret ? KSAFE_REDACTED : rule->equals_raw);
                if (!secret && strcmp(rule->equals_raw, rule->equals) != 0)
                        ksafe_buf__printf(buf, " (%s)", rule->equals);
                sep = " and ";
        }
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                ksafe_buf__printf(buf, "%sone of ", sep);
                for (size_t i = 0; i < rule->one_of_count; i++)
                        ksafe_buf__printf(buf, "%s%s", i ? ", " : "",
                                         secret ? KSAFE_REDACTED : rule->one_of_raw[i]);
                sep = " and ";
        }
        bool min = rule->checks & KSAFE_CHECK_MIN, max = rule->checks & KSAFE_CHECK_MAX;
        char lo[32], hi[32];
        if (min && max)
                ksafe_buf__printf(buf, "%sbetween %s and %s", sep, num(rule->min, lo, sizeof(lo)),
                                 num(rule->max, hi, sizeof(hi)));
        else if (min)
                ksafe_buf__printf(buf, "%s>= %s", sep, num(rule->min, lo, sizeof(lo)));
        else if (max)
                ksafe_buf__printf(buf, "%s<= %s", sep, num(rule->max, hi, sizeof(hi)));
        if (min || max)
                sep = " and ";
        if (rule->checks & KSAFE_CHECK_MIN_SUM) {
                ksafe_buf__printf(buf, "%s>= ", sep);
                for (size_t i = 0; i < rule->min_sum_count; i++)
                        ksafe_buf__printf(buf, "%s%s", i ? " + " : "", rule->min_sum_raw[i]);
                if (view)
                        ksafe_buf__printf(buf, " (%s)", num(sum_of(rule, view), lo, sizeof(lo)));
                sep = " and ";
        }
        if (rule->checks & KSAFE_CHECK_REQUIRED)
                ksafe_buf__printf(buf, "%sset", sep);
        if (rule->checks & KSAFE_CHECK_FORBIDDEN)
                ksafe_buf__printf(buf, "%snot set", sep);
}

bool ksafe_rule__accepts(const ksafe_rule_t *rule, const char *value, double sum)
{
        if ((rule->checks & KSAFE_CHECK_EQUALS) && strcmp(value, rule->equals) != 0)
                return false;
        if (rule->checks & KSAFE_CHECK_ONE_OF) {
                size_t i = 0;
                while (i < rule->one_of_count && strcmp(value, rule->one_of[i]) != 0)
                        i++;
                if (i == rule->one_of_count)
                        return false;
        }
        if (rule->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM)) {
                double n;
                /* NaN and the infinities (0 where librdkafka reads it as
                 * infinite) never pass a numeric check; a sum that is
                 * NaN (a member that is not a number) neither. */
                if (!ksafe_prop__number(rule->prop, value, &n) || !isfinite(n))
                        return false;
                if ((rule->checks & KSAFE_CHECK_MIN_SUM) && isnan(sum))
                        return false;
                if ((rule->checks & KSAFE_CHECK_MIN) && n < rule->min)
                        return false;
                if ((rule->checks & KSAFE_CHECK_MAX) && n > rule->max)
                        return false;
                if ((rule->checks & KSAFE_CHECK_MIN_SUM) && n < sum)
                        return false;
        }
        return true;
}

/* forbidden means "makes no difference": not set, or set to the value
 * librdkafka uses when it is not set (a conf cannot unset a property, so
 * that is what enforcement writes there; a file loses the line). */
static bool forbidden_passes(const ksafe_rule_t *rule, const ksafe_view_t *view,
                             const ksafe_value_t *v)
{
        if (!v->is_set && !v->unsure)
                return true;
        char unset[512];
        return strcmp(v->text, ksafe_view__unset_value(view, rule->prop, unset, sizeof(unset))) ==
               0;
}

void ksafe_rule__judge(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_verdict_t *out)
{
        ksafe_view__value(view, rule->prop, &out->value);
        /* Whether a topic-level property at its default is set matters to
         * required and forbidden: learn it (never guess). */
        if (rule->checks & (KSAFE_CHECK_REQUIRED | KSAFE_CHECK_FORBIDDEN))
                ksafe_view__settle(view, rule->prop, &out->value);
        double sum = rule->checks & KSAFE_CHECK_MIN_SUM ? sum_of(rule, view) : 0;
        bool pass = ksafe_rule__accepts(rule, out->value.text, sum);
        /* Still unsure (librdkafka could not be asked): both readings must
         * pass, and "not set" fails required. */
        bool set = out->value.is_set && !out->value.unsure && out->value.text[0];
        if ((rule->checks & KSAFE_CHECK_REQUIRED) && !set)
                pass = false;
        if ((rule->checks & KSAFE_CHECK_FORBIDDEN) && !forbidden_passes(rule, view, &out->value))
                pass = false;
        out->pass = pass;
}

char *ksafe_rule__fix(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        /* librdkafka's own bound for this producer, if any: a `set` value
         * beyond it would only swap one refusal for another. */
        double limit = INFINITY, n;
        ksafe_view__limit(view, rule->prop, &limit);
        if (rule->checks & KSAFE_CHECK_FORBIDDEN) {
                /* What unset means: the value librdkafka would use. */
                char unset[512];
                return strdup(ksafe_view__unset_value(view, rule->prop, unset, sizeof(unset)));
        }
        if (rule->set && (!ksafe_prop__number(rule->prop, rule->set, &n) || n <= limit))
                return strdup(rule->set);
        if (rule->checks & KSAFE_CHECK_EQUALS)
                return strdup(rule->equals_raw);
        if (rule->checks & KSAFE_CHECK_ONE_OF)
                return strdup(rule->one_of_raw[0]);
        if (!(rule->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM)))
                return NULL;

        /* The nearest bound. */
        ksafe_value_t v;
        ksafe_view__value(view, rule->prop, &v);
        bool number = ksafe_prop__number(rule->prop, v.text, &n);
        double lo = -INFINITY, hi = limit;
        if (rule->checks & KSAFE_CHECK_MIN)
                lo = rule->min;
        if (rule->checks & KSAFE_CHECK_MIN_SUM) {
                double sum = sum_of(rule, view);
                if (sum > lo)
                        lo = sum;
        }
        if ((rule->checks & KSAFE_CHECK_MAX) && rule->max < hi)
                hi = rule->max;
        if (!number) /* not a number (nan): start from a bound */
                n = isfinite(lo) ? lo : hi;
        if (lo > hi)
                return NULL;
        n = n < lo ? lo : n > hi ? hi : n;
        if (!isfinite(n))
                return NULL;
        if (rule->prop->type == KSAFE_PROP_INT)
                n = ceil(n);
        char buf[64];
        snprintf(buf, sizeof(buf), "%.15g", n);
        return strdup(buf);
}

/* "acks is 1", "delivery.timeout.ms is 0 (infinite)". */
static void shown_value(const ksafe_rule_t *rule, const ksafe_value_t *v, ksafe_buf_t *buf)
{
        double n;
        if (rule->prop->sensitive)
                ksafe_buf__printf(buf, KSAFE_REDACTED);
        else if (!v->text[0])
                ksafe_buf__printf(buf, "(empty)");
        else if (ksafe_prop__number(rule->prop, v->text, &n) && isinf(n))
                ksafe_buf__printf(buf, "%s (infinite)", v->text);
        else
                ksafe_buf__printf(buf, "%s", v->text);
}

static void add_violation(const ksafe_rule_t *rule, const ksafe_view_t *view,
                          const ksafe_verdict_t *verdict, ksafe_report_t *report)
{
        ksafe_value_t settled = verdict->value;
        ksafe_view__settle(view, rule->prop, &settled); /* say "set" only when it is */
        const ksafe_value_t *v = &settled;
        const ksafe_entry_t *e = v->entry;
        const char *name = e ? e->name : rule->property;
        ksafe_buf_t actual = {0}, expected = {0}, message = {0};
        shown_value(rule, v, &actual);
        ksafe_rule__describe(rule, view, &expected);
        char *actual_s = ksafe_buf__take(&actual), *expected_s = ksafe_buf__take(&expected);
        if (v->is_set)
                ksafe_buf__printf(&message, "%s is %s", name, actual_s);
        else if (v->derived)
                ksafe_buf__printf(&message, "%s is not set; librdkafka makes it %s", name,
                                 actual_s);
        else
                ksafe_buf__printf(&message, "%s is not set; librdkafka's default is %s", name,
                                 actual_s);
        ksafe_buf__printf(&message, "; expected %s", expected_s);
        bool forbidden = rule->checks & KSAFE_CHECK_FORBIDDEN;
        char *fix = rule->action == KSAFE_ACTION_ENFORCE ? ksafe_rule__fix(rule, view) : NULL;
        if (v->unsure)
                ksafe_buf__printf(&message, " (whether it is set could not be learned from "
                                           "librdkafka)");
        /* Enforcing forbidden unsets: a file loses the line, a conf gets
         * the value librdkafka uses unset. No value to write by hand. */
        if (forbidden && fix)
                ksafe_buf__printf(&message, "; fix: remove it (unset, librdkafka uses %s)",
                                 rule->prop->sensitive ? KSAFE_REDACTED : fix[0] ? fix : "none");
        char *message_s = ksafe_buf__take(&message);
        if (forbidden) {
                free(fix);
                fix = NULL;
        }

        ksafe_violation_t out = {
                .rule_id = rule->id,
                .property = name,
                .canonical = rule->prop->name,
                .actual = actual_s,
                .expected = expected_s,
                .fix = fix && rule->prop->sensitive ? KSAFE_REDACTED : fix,
                .why = rule->why,
                .message = message_s,
                .file = e && e->origin ? e->origin : ksafe_view__file(view),
                .line = e ? e->line : ksafe_view__file(view) ? 1 : 0,
                .column = e ? e->column : ksafe_view__file(view) ? 1 : 0,
                .action = rule->action,
                .severity = rule->action == KSAFE_ACTION_WARN ? KSAFE_SEVERITY_WARNING
                                                              : KSAFE_SEVERITY_ERROR,
                .is_set = v->is_set,
        };
        if (actual_s && expected_s && message_s)
                ksafe_report__add(report, &out);
        else
                ksafe_report__add(report, NULL); /* out of memory: the report says so */
        free(actual_s);
        free(expected_s);
        free(message_s);
        free(fix);
}

void ksafe_eval__rule(const ksafe_rule_t *rule, const ksafe_view_t *view, ksafe_report_t *report)
{
        ksafe_verdict_t verdict;
        ksafe_rule__judge(rule, view, &verdict);
        if (!verdict.pass)
                add_violation(rule, view, &verdict, report);
}

bool ksafe_rule__in_view(const ksafe_rule_t *rule, const ksafe_view_t *view)
{
        /* A topic conf holds topic-level properties, and the twins that
         * win over a global one (topic compression.codec). */
        return !ksafe_view__is_topic_only(view) || rule->prop->scope == KSAFE_SCOPE_TOPIC ||
               ksafe_view__topic_twin(view, rule->prop);
}

void ksafe_eval__policy(const ksafe_policy_t *policy, const ksafe_view_t *view, unsigned actions,
                ksafe_report_t *report)
{
        for (size_t i = 0; i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (!(actions & KSAFE_ACTION_BIT(rule->action)))
                        continue;
                if (!ksafe_rule__in_view(rule, view))
                        continue;
                ksafe_eval__rule(rule, view, report);
        }
}

ksafe_report_t *ksafe_eval__view_consume(const ksafe_policy_t *policy, ksafe_view_t *view)
{
        ksafe_report_t *report = view ? ksafe_report__new(policy) : NULL;
        if (report) {
                ksafe_eval__policy(policy, view, KSAFE_ALL_ACTIONS, report);
                ksafe_eval__refusals(policy, view, report);
        }
        ksafe_view__destroy(view);
        return report;
}

/* A refusal of rd_kafka_new() (or rd_kafka_topic_new()) about `name`,
 * unless a policy rule already reports that property, unrepaired. */
static void refuse(const ksafe_policy_t *policy, const ksafe_view_t *view,
                   ksafe_report_t *report, const char *name, const char *expected,
                   const char *librdkafka_says)
{
        const ksafe_prop_t *prop = ksafe_props__find(policy->props, name);
        if (!prop)
                return;
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (v->canonical && strcmp(v->canonical, prop->name) == 0 && !v->fixed)
                        return;
        }
        ksafe_value_t v;
        ksafe_view__value(view, prop, &v);
        const ksafe_entry_t *e = v.entry;
        const char *shown = prop->sensitive ? KSAFE_REDACTED : v.text;
        char message[600];
        snprintf(message, sizeof(message), "librdkafka refuses %s %s: %s",
                 e ? e->name : name, shown, librdkafka_says);
        ksafe_violation_t out = {
                .rule_id = "ksafe-librdkafka-refuses",
                .property = e ? e->name : name,
                .canonical = prop->name,
                .actual = shown,
                .expected = expected,
                .why = "rd_kafka_new() fails with this configuration",
                .message = message,
                .file = e && e->origin ? e->origin : ksafe_view__file(view),
                .line = e ? e->line : ksafe_view__file(view) ? 1 : 0,
                .column = e ? e->column : ksafe_view__file(view) ? 1 : 0,
                .action = KSAFE_ACTION_REJECT,
                .severity = KSAFE_SEVERITY_ERROR,
                .is_set = v.is_set,
        };
        ksafe_report__add(report, &out);
}

/* A property's value in the view, as librdkafka reads it, and whether it
 * was set. */
static bool value_of(const ksafe_policy_t *policy, const ksafe_view_t *view, const char *name,
                     ksafe_value_t *v, double *n)
{
        const ksafe_prop_t *prop = ksafe_props__find(policy->props, name);
        if (!prop || !ksafe_view__value(view, prop, v))
                return false;
        if (n) {
                char *end;
                *n = strtod(v->text, &end);
                if (end == v->text)
                        *n = NAN;
        }
        return true;
}

/* Does the build have `feature` (builtin.features: "...,sasl_scram,...")? */
static bool built_with(const ksafe_policy_t *policy, const ksafe_view_t *view,
                       const char *feature)
{
        ksafe_value_t v;
        if (!value_of(policy, view, "builtin.features", &v, NULL))
                return false;
        size_t len = strlen(feature);
        for (const char *p = v.text; (p = strstr(p, feature)) != NULL; p += len)
                if ((p == v.text || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
                        return true;
        return false;
}

/* A string property without a default is NULL in librdkafka until it is
 * set (to anything, "" included). */
static bool is_null(const ksafe_view_t *view, const ksafe_prop_t *prop)
{
        ksafe_value_t v;
        return prop->canon->type == KSAFE_PROP_STRING && ksafe_view__value(view, prop, &v) &&
               !v.is_set && !v.text[0];
}

/* The first %{property} of a kinit command that rd_kafka_new() cannot
 * render (unknown, or a string with no value), copied into `name`; false
 * when every one renders. A missing '}' is reported as the name "}". */
static bool kinit_unrenderable(const ksafe_policy_t *policy, const ksafe_view_t *view,
                               const char *cmd, char *name, size_t size)
{
        for (const char *p = cmd; (p = strstr(p, "%{")) != NULL;) {
                const char *end = strchr(p + 2, '}');
                if (!end) {
                        snprintf(name, size, "}");
                        return true;
                }
                snprintf(name, size, "%.*s", (int)(end - p - 2), p + 2);
                const ksafe_prop_t *prop = ksafe_props__find(policy->props, name);
                /* rd_kafka_conf_get() fails on a NULL string: so does the render. */
                if (!prop || is_null(view, prop))
                        return true;
                p = end + 1;
        }
        return false;
}

/*
 * What rd_kafka_new() of librdkafka 2.0.2 refuses after finalize, for
 * security.protocol sasl_plaintext or sasl_ssl: a SASL mechanism it has no
 * provider for (the names are compared case-sensitively there, so "plain"
 * is refused), PLAIN or SCRAM without sasl.username and sasl.password, a
 * SCRAM hash it does not know, and for GSSAPI a kinit command that names a
 * property with no value (the default command names sasl.kerberos.keytab),
 * unless ticket refresh is off (sasl.kerberos.min.time.before.relogin=0).
 * rdkafka_sasl.c: rd_kafka_sasl_select_provider(); the providers'
 * conf_validate() in rdkafka_sasl_{cyrus,plain,scram}.c.
 */
static void eval_sasl(const ksafe_policy_t *policy, const ksafe_view_t *view,
                      ksafe_report_t *report)
{
        ksafe_value_t v, w;
        double n;
        if (!value_of(policy, view, "security.protocol", &v, NULL) ||
            strncmp(v.text, "sasl_", 5) != 0 ||
            !value_of(policy, view, "sasl.mechanisms", &v, NULL))
                return;
        const char *mech = v.text;
        static const struct {
                const char *name, *feature;
                bool prefix;
        } providers[] = {
                {"GSSAPI", "sasl_gssapi", false},
                {"PLAIN", "sasl_plain", false},
                {"SCRAM-SHA-", "sasl_scram", true},
                {"OAUTHBEARER", "sasl_oauthbearer", false},
        };
        size_t i = 0;
        while (i < sizeof(providers) / sizeof(*providers) &&
               (providers[i].prefix ? strncmp(mech, providers[i].name, strlen(providers[i].name))
                                    : strcmp(mech, providers[i].name)) != 0)
                i++;
        char says[256];
        if (i == sizeof(providers) / sizeof(*providers)) {
                refuse(policy, view, report, "sasl.mechanisms",
                       "GSSAPI, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER, in upper case",
                       "Unsupported SASL mechanism (the names are case-sensitive)");
                return;
        }
        if (!built_with(policy, view, providers[i].feature)) {
                snprintf(says, sizeof(says),
                         "No provider for SASL mechanism %s in this build of librdkafka",
                         providers[i].name);
                refuse(policy, view, report, "sasl.mechanisms", "a mechanism this build has",
                       says);
                return;
        }
        /* PLAIN and SCRAM: both credentials set; SCRAM: a hash it knows. */
        if (strcmp(mech, "GSSAPI") != 0 && strcmp(mech, "OAUTHBEARER") != 0) {
                static const char *const credentials[] = {"sasl.username", "sasl.password"};
                for (size_t k = 0; k < 2; k++) {
                        const ksafe_prop_t *prop = ksafe_props__find(policy->props, credentials[k]);
                        if (prop && is_null(view, prop))
                                refuse(policy, view, report, credentials[k], "set",
                                       "sasl.username and sasl.password must be set");
                }
                if (strncmp(mech, "SCRAM-", 6) == 0 && strcmp(mech, "SCRAM-SHA-1") != 0 &&
                    strcmp(mech, "SCRAM-SHA-256") != 0 && strcmp(mech, "SCRAM-SHA-512") != 0)
                        refuse(policy, view, report, "sasl.mechanisms",
                               "SCRAM-SHA-1, SCRAM-SHA-256 or SCRAM-SHA-512",
                               "Unsupported hash function (try SCRAM-SHA-512)");
                return;
        }
        char name[128];
        if (strcmp(mech, "GSSAPI") == 0 &&
            value_of(policy, view, "sasl.kerberos.min.time.before.relogin", &w, &n) && n != 0 &&
            value_of(policy, view, "sasl.kerberos.kinit.cmd", &w, NULL) && w.text[0] &&
            kinit_unrenderable(policy, view, w.text, name, sizeof(name))) {
                const ksafe_prop_t *missing = ksafe_props__find(policy->props, name);
                snprintf(says, sizeof(says),
                         "Invalid sasl.kerberos.kinit.cmd value: it names %%{%s}, which has no "
                         "value (set it, or turn ticket refresh off with "
                         "sasl.kerberos.min.time.before.relogin=0)",
                         missing ? missing->name : "...");
                refuse(policy, view, report, missing ? missing->name : "sasl.kerberos.kinit.cmd",
                       "set", says);
        }
}

/*
 * What rd_kafka_conf_finalize() and rd_kafka_topic_conf_finalize() of
 * librdkafka 2.0.2 refuse for a producer, whatever the policy says: set
 * values that finalize would otherwise have adjusted. A created handle
 * passed them all; a topic conf (ksafe_topic_new()) meets only the topic
 * ones.
 */
void ksafe_eval__refusals(const ksafe_policy_t *policy, const ksafe_view_t *view,
                       ksafe_report_t *report)
{
        if (ksafe_view__finalized(view))
                return;
        bool topic_only = ksafe_view__is_topic_only(view);
        bool tx = ksafe_view__transactional(view), idem = ksafe_view__idempotent(view);
        ksafe_value_t v, w;
        double n, m;
        char expected[96];

        if (!topic_only && tx && value_of(policy, view, "enable.idempotence", &v, NULL) &&
            v.is_set && strcmp(v.text, "false") == 0)
                refuse(policy, view, report, "enable.idempotence", "true",
                       "`transactional.id` requires `enable.idempotence=true`");
        if (!topic_only && tx && value_of(policy, view, "socket.timeout.ms", &v, &n) &&
            v.is_set && value_of(policy, view, "transaction.timeout.ms", &w, &m) &&
            m + 100 < n) {
                snprintf(expected, sizeof(expected), "<= %g (transaction.timeout.ms + 100)",
                         m + 100);
                refuse(policy, view, report, "socket.timeout.ms", expected,
                       "`socket.timeout.ms` must be set <= `transaction.timeout.ms` + 100");
        }
        if (!topic_only && idem) {
                if (value_of(policy, view, "max.in.flight", &v, &n) && v.is_set && n > 5)
                        refuse(policy, view, report, "max.in.flight", "<= 5",
                               "`max.in.flight` must be set <= 5 when `enable.idempotence` is "
                               "true");
                if (value_of(policy, view, "retries", &v, &n) && v.is_set && n < 1)
                        refuse(policy, view, report, "retries", ">= 1",
                               "`retries` must be set >= 1 when `enable.idempotence` is true");
                if (value_of(policy, view, "queue.buffering.backpressure.threshold", &v, &n) &&
                    v.is_set && n > 1)
                        refuse(policy, view, report, "queue.buffering.backpressure.threshold",
                               "1",
                               "`queue.buffering.backpressure.threshold` must be set to 1 when "
                               "`enable.idempotence` is true");
        }
        if (!topic_only && !idem && value_of(policy, view, "enable.gapless.guarantee", &v, NULL) &&
            v.is_set && strcmp(v.text, "true") == 0)
                refuse(policy, view, report, "enable.gapless.guarantee", "false",
                       "`enable.gapless.guarantee` requires `enable.idempotence` to be enabled");
        if (!topic_only && value_of(policy, view, "reconnect.backoff.max.ms", &v, &n) &&
            value_of(policy, view, "reconnect.backoff.ms", &w, &m) && n < m) {
                snprintf(expected, sizeof(expected), ">= %g (reconnect.backoff.ms)", m);
                refuse(policy, view, report, "reconnect.backoff.max.ms", expected,
                       "`reconnect.backoff.max.ms` must be >= `reconnect.max.ms`");
        }
        if (!topic_only && value_of(policy, view, "ssl.keystore.location", &v, NULL) &&
            v.text[0] && value_of(policy, view, "ssl.keystore.password", &w, NULL) && !w.text[0])
                refuse(policy, view, report, "ssl.keystore.password", "set",
                       "`ssl.keystore.password` is mandatory when `ssl.keystore.location` is "
                       "set");
        if (idem && value_of(policy, view, "acks", &v, &n) && v.is_set && n != -1)
                refuse(policy, view, report, "acks", "all (-1)",
                       "`acks` must be set to `all` when `enable.idempotence` is true");
        if (idem && value_of(policy, view, "queuing.strategy", &v, NULL) && v.is_set &&
            strcmp(v.text, "fifo") != 0)
                refuse(policy, view, report, "queuing.strategy", "fifo",
                       "`queuing.strategy` must be set to `fifo` when `enable.idempotence` is "
                       "true");
        /* message.timeout.ms: 0 is infinite and passes both. */
        const ksafe_prop_t *mt = ksafe_props__well_known(policy->props, KSAFE_P_MESSAGE_TIMEOUT);
        double limit;
        if (mt && ksafe_view__limit(view, mt, &limit) &&
            value_of(policy, view, "message.timeout.ms", &v, &n) && n > limit) {
                snprintf(expected, sizeof(expected), "<= %g (transaction.timeout.ms)", limit);
                refuse(policy, view, report, "message.timeout.ms", expected,
                       "`message.timeout.ms` must be set <= `transaction.timeout.ms` for a "
                       "transactional producer");
        }
        if (value_of(policy, view, "message.timeout.ms", &v, &n) && n != 0 &&
            value_of(policy, view, "linger.ms", &w, &m) && w.is_set && !(n > m)) {
                snprintf(expected, sizeof(expected), "> linger.ms (%s)", w.text);
                refuse(policy, view, report, "message.timeout.ms", expected,
                       "`message.timeout.ms` must be greater than `linger.ms`");
        }        if (!topic_only)
                eval_sasl(policy, view, report);
}

/* A name as written, when it is safe to show: an unknown name can be a
 * secret (a password line with an escaped '=', the tail of a PEM key). */
static const char *shown_name(const ksafe_entry_t *e)
{
        if (e->prop)
                return e->name; /* known to librdkafka: a name, not a value */
        size_t n = strlen(e->name);
        if (n == 0 || n > 128 || strspn(e->name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
            ksafe_property_is_sensitive(e->name))
                return NULL;
        return e->name;
}

/* One finding about a line of a file, as the violation `v` describes it
 * (rule_id still NULL: nothing to say about it). */
static void judge_entry(const ksafe_policy_t *policy, const ksafe_entry_t *entries,
                        const ksafe_entry_t *e, ksafe_violation_t *v, char *message, size_t size)
{
        const char *name = shown_name(e);
        switch (e->status) {
        case KSAFE_ENTRY_MALFORMED:
                v->rule_id = "ksafe-not-key-value";
                v->why = "kcat refuses a line without '='; Java reads it as a property with an "
                         "empty value";
                snprintf(message, size,
                         "this line is not key=value (it is not shown: it may be part of a "
                         "secret)");
                break;
        case KSAFE_ENTRY_UNKNOWN: {
                const char *hint = ksafe_props__suggest(policy->props, e->name);
                v->rule_id = "ksafe-unknown-property";
                v->action = KSAFE_ACTION_WARN;
                v->severity = KSAFE_SEVERITY_WARNING;
                v->why = "librdkafka refuses unknown properties: rd_kafka_conf_set() fails";
                char tail[128];
                if (hint)
                        snprintf(tail, sizeof(tail), "; did you mean \"%s\"?", hint);
                else
                        snprintf(tail, sizeof(tail), " (not in librdkafka %s)",
                                 rd_kafka_version_str());
                snprintf(message, size, "unknown property %s%s%s%s", name ? "\"" : "",
                         name ? name : "(its name is not shown: it may hold a secret)",
                         name ? "\"" : "", tail);
                break;
        }
        case KSAFE_ENTRY_INVALID:
                v->rule_id = "ksafe-invalid-value";
                v->why = "rd_kafka_conf_set() refuses this value";
                snprintf(message, size, "invalid value for %s: %s", name ? name : "a property",
                         e->note ? e->note : "refused by librdkafka");
                break;
        case KSAFE_ENTRY_MISREAD:
                v->rule_id = "ksafe-misread-value";
                v->why = "librdkafka reads this value differently from how it is written";
                snprintf(message, size, "%s: %s", e->name, e->note);
                break;
        case KSAFE_ENTRY_FOREIGN:
                break;
        case KSAFE_ENTRY_OK: {
                if (e->shadowed_by < 0)
                        break;
                const ksafe_entry_t *w = &entries[e->shadowed_by];
                v->rule_id = "ksafe-duplicate";
                v->action = KSAFE_ACTION_WARN;
                v->severity = KSAFE_SEVERITY_WARNING;
                v->why = "the last setting wins in librdkafka: this line has no effect";
                if (e->in_json && !w->origin) {
                        /* JSON readers disagree on which one a client passes
                         * last (Python keeps a repeated key's first place
                         * with its last value): nobody can tell. */
                        v->rule_id = "ksafe-json-duplicate";
                        v->action = KSAFE_ACTION_REJECT;
                        v->severity = KSAFE_SEVERITY_ERROR;
                        v->why = "JSON readers differ on which of two members a client passes "
                                 "last; keep one";
                        snprintf(message, size,
                                 "%s is set twice in this object (again on line %d as %s); "
                                 "which one a client uses depends on its JSON reader",
                                 e->name, w->line, w->name);
                        break;
                }
                if (w->origin)
                        snprintf(message, size,
                                 "%s is set again by %s (as %s); this line has no effect",
                                 e->name, w->origin, w->name);
                else
                        snprintf(message, size,
                                 "%s is set again on line %d (as %s); this line has no effect",
                                 e->name, w->line, w->name);
                break;
        }
        }
        v->property = name && e->status != KSAFE_ENTRY_MALFORMED ? name : "(not shown)";
}

void ksafe_eval__entries(const ksafe_policy_t *policy, const ksafe_view_t *view,
                        ksafe_report_t *report)
{
        size_t count;
        const ksafe_entry_t *entries = ksafe_view__entries(view, &count);
        for (size_t i = 0; i < count; i++) {
                const ksafe_entry_t *e = &entries[i];
                char message[1200];
                ksafe_violation_t v = {
                        .canonical = e->prop ? e->prop->name : NULL,
                        .message = message,
                        .file = e->origin ? e->origin : ksafe_view__file(view),
                        .line = e->line,
                        .column = e->column,
                        .action = KSAFE_ACTION_REJECT,
                        .severity = KSAFE_SEVERITY_ERROR,
                        .is_set = true,
                };
                bool secret = ksafe_property_is_sensitive(e->name) ||
                              (e->prop && e->prop->sensitive);
                if (e->prop)
                        v.actual = secret ? KSAFE_REDACTED : e->value ? e->value : e->raw;
                judge_entry(policy, entries, e, &v, message, sizeof(message));
                if (v.rule_id)
                        ksafe_report__add(report, &v);
                if (!e->syntax)
                        continue;
                /* The same line as kcat would read it: a finding of its own. */
                v = (ksafe_violation_t){
                        .rule_id = "ksafe-kcat-syntax",
                        .property = shown_name(e) ? shown_name(e) : "(not shown)",
                        .canonical = e->prop ? e->prop->name : NULL,
                        .message = message,
                        .why = "kcat and librdkafka-based tools read this file line by line as "
                               "key=value; Java's .properties rules differ (--dialect java)",
                        .file = ksafe_view__file(view),
                        .line = e->line,
                        .column = e->column,
                        .action = KSAFE_ACTION_REJECT,
                        .severity = KSAFE_SEVERITY_ERROR,
                        .is_set = true,
                };
                snprintf(message, sizeof(message),
                         "kcat reads this line differently: %s", e->syntax);
                ksafe_report__add(report, &v);
        }
}
