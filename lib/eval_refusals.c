/*
 * The ksafe-librdkafka-refuses finding: what rd_kafka_new() (or
 * rd_kafka_topic_new()) of librdkafka 2.0.2 would refuse, although no policy
 * rule reports it unrepaired. Every refusal of its finalize for a producer,
 * and the checks of its SASL providers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/* What every check below reads and writes. */
typedef struct refusals_s {
        const ksafe_policy_t *policy;
        const ksafe_view_t *view;
        ksafe_report_t *report;
} refusals_t;

/* A refusal of rd_kafka_new() (or rd_kafka_topic_new()) about `name`,
 * unless a policy rule already reports that property, unrepaired. */
static void refuse(const refusals_t *c, const char *name, const char *expected,
                   const char *librdkafka_says)
{
        const ksafe_prop_t *prop = ksafe_props__find(c->policy->props, name);
        if (!prop)
                return;
        for (size_t i = 0; i < ksafe_report_count(c->report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(c->report, i);
                if (v->canonical && strcmp(v->canonical, prop->name) == 0 && !v->fixed)
                        return;
        }
        ksafe_value_t v;
        ksafe_view__value(c->view, prop, &v);
        const ksafe_entry_t *e = v.entry;
        const char *file = ksafe_view__file(c->view);
        const char *shown = prop->sensitive ? KSAFE_REDACTED : v.text;
        char message[600];
        snprintf(message, sizeof(message), "librdkafka refuses %s %s: %s", e ? e->name : name,
                 shown, librdkafka_says);
        ksafe_violation_t out = {
                .rule_id = "ksafe-librdkafka-refuses",
                .property = e ? e->name : name,
                .canonical = prop->name,
                .actual = shown,
                .expected = expected,
                .why = "rd_kafka_new() fails with this configuration",
                .message = message,
                .file = e && e->origin ? e->origin : file,
                .line = e      ? e->line
                        : file ? 1
                               : 0,
                .column = e      ? e->column
                          : file ? 1
                                 : 0,
                .action = KSAFE_ACTION_REJECT,
                .severity = KSAFE_SEVERITY_ERROR,
                .is_set = v.is_set,
        };
        ksafe_report__add(c->report, &out);
}

/* A property's value in the view, as librdkafka reads it, and whether it
 * was set; *n (may be NULL) its number, NAN when it is not one. */
static bool value_of(const refusals_t *c, const char *name, ksafe_value_t *v, double *n)
{
        const ksafe_prop_t *prop = ksafe_props__find(c->policy->props, name);
        if (!prop || !ksafe_view__value(c->view, prop, v))
                return false;
        if (n) {
                char *end;
                *n = ksafe_prop__strtod(v->text, &end);
                if (end == v->text)
                        *n = NAN;
        }
        return true;
}

/* Whether `name` is set by the user, to `text` (NULL: to anything). */
static bool set_to(const refusals_t *c, const char *name, const char *text)
{
        ksafe_value_t v;
        return value_of(c, name, &v, NULL) && v.is_set && (!text || strcmp(v.text, text) == 0);
}

/* Whether `name` is set by the user to a number above `limit`. */
static bool set_above(const refusals_t *c, const char *name, double limit)
{
        ksafe_value_t v;
        double n;
        return value_of(c, name, &v, &n) && v.is_set && n > limit;
}

/* Does the build have `feature` (builtin.features: "...,sasl_scram,...")? */
static bool built_with(const refusals_t *c, const char *feature)
{
        ksafe_value_t v;
        if (!value_of(c, "builtin.features", &v, NULL))
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
static bool kinit_unrenderable(const refusals_t *c, const char *cmd, char *name, size_t size)
{
        for (const char *p = cmd; (p = strstr(p, "%{")) != NULL;) {
                const char *end = strchr(p + 2, '}');
                if (!end) {
                        snprintf(name, size, "}");
                        return true;
                }
                snprintf(name, size, "%.*s", (int)(end - p - 2), p + 2);
                const ksafe_prop_t *prop = ksafe_props__find(c->policy->props, name);
                /* rd_kafka_conf_get() fails on a NULL string: so does the render. */
                if (!prop || is_null(c->view, prop))
                        return true;
                p = end + 1;
        }
        return false;
}

static const struct sasl_provider_s {
        const char *name, *feature;
        bool prefix;
} sasl_providers[] = {
        {"GSSAPI", "sasl_gssapi", false},
        {"PLAIN", "sasl_plain", false},
        {"SCRAM-SHA-", "sasl_scram", true},
        {"OAUTHBEARER", "sasl_oauthbearer", false},
};

/* The provider of mechanism `mech`, or NULL: the names are compared
 * case-sensitively, as librdkafka does. */
static const struct sasl_provider_s *sasl_provider(const char *mech)
{
        for (size_t i = 0; i < ARRAY_SIZE(sasl_providers); i++) {
                const struct sasl_provider_s *p = &sasl_providers[i];
                if ((p->prefix ? strncmp(mech, p->name, strlen(p->name)) : strcmp(mech, p->name)) ==
                    0)
                        return p;
        }
        return NULL;
}

/* PLAIN and SCRAM: both credentials set; SCRAM: a hash it knows. */
static void refuse_sasl_credentials(const refusals_t *c, const char *mech)
{
        static const char *const credentials[] = {"sasl.username", "sasl.password"};
        for (size_t k = 0; k < ARRAY_SIZE(credentials); k++) {
                const ksafe_prop_t *prop = ksafe_props__find(c->policy->props, credentials[k]);
                if (prop && is_null(c->view, prop))
                        refuse(c, credentials[k], "set",
                               "sasl.username and sasl.password must be set");
        }
        if (strncmp(mech, "SCRAM-", 6) == 0 && strcmp(mech, "SCRAM-SHA-1") != 0 &&
            strcmp(mech, "SCRAM-SHA-256") != 0 && strcmp(mech, "SCRAM-SHA-512") != 0)
                refuse(c, "sasl.mechanisms", "SCRAM-SHA-1, SCRAM-SHA-256 or SCRAM-SHA-512",
                       "Unsupported hash function (try SCRAM-SHA-512)");
}

/* GSSAPI: a kinit command that names a property with no value, unless
 * ticket refresh is off (sasl.kerberos.min.time.before.relogin=0). */
static void refuse_sasl_kinit(const refusals_t *c)
{
        ksafe_value_t w;
        double n;
        char name[128], says[256];
        if (!value_of(c, "sasl.kerberos.min.time.before.relogin", &w, &n) || n == 0 ||
            !value_of(c, "sasl.kerberos.kinit.cmd", &w, NULL) || !w.text[0] ||
            !kinit_unrenderable(c, w.text, name, sizeof(name)))
                return;
        const ksafe_prop_t *missing = ksafe_props__find(c->policy->props, name);
        snprintf(says, sizeof(says),
                 "Invalid sasl.kerberos.kinit.cmd value: it names %%{%s}, which has no value "
                 "(set it, or turn ticket refresh off with "
                 "sasl.kerberos.min.time.before.relogin=0)",
                 missing ? missing->name : "...");
        refuse(c, missing ? missing->name : "sasl.kerberos.kinit.cmd", "set", says);
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
static void refuse_sasl(const refusals_t *c)
{
        ksafe_value_t v;
        if (!value_of(c, "security.protocol", &v, NULL) || strncmp(v.text, "sasl_", 5) != 0 ||
            !value_of(c, "sasl.mechanisms", &v, NULL))
                return;
        const char *mech = v.text;
        const struct sasl_provider_s *provider = sasl_provider(mech);
        if (!provider) {
                refuse(c, "sasl.mechanisms",
                       "GSSAPI, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER, in upper case",
                       "Unsupported SASL mechanism (the names are case-sensitive)");
                return;
        }
        if (!built_with(c, provider->feature)) {
                char says[256];
                snprintf(says, sizeof(says),
                         "No provider for SASL mechanism %s in this build of librdkafka",
                         provider->name);
                refuse(c, "sasl.mechanisms", "a mechanism this build has", says);
                return;
        }
        if (strcmp(mech, "GSSAPI") != 0 && strcmp(mech, "OAUTHBEARER") != 0)
                refuse_sasl_credentials(c, mech);
        else if (strcmp(mech, "GSSAPI") == 0)
                refuse_sasl_kinit(c);
}

/* A transactional producer: idempotence not turned off, and a socket
 * timeout within the transaction timeout. */
static void refuse_transactional(const refusals_t *c)
{
        ksafe_value_t v, w;
        double n, m;
        if (set_to(c, "enable.idempotence", "false"))
                refuse(c, "enable.idempotence", "true",
                       "`transactional.id` requires `enable.idempotence=true`");
        if (value_of(c, "socket.timeout.ms", &v, &n) && v.is_set &&
            value_of(c, "transaction.timeout.ms", &w, &m) && m + 100 < n) {
                char expected[96];
                snprintf(expected, sizeof(expected), "<= %g (transaction.timeout.ms + 100)",
                         m + 100);
                refuse(c, "socket.timeout.ms", expected,
                       "`socket.timeout.ms` must be set <= `transaction.timeout.ms` + 100");
        }
}

/* An idempotent producer's global properties, as set. */
static void refuse_idempotent(const refusals_t *c)
{
        ksafe_value_t v;
        double n;
        if (set_above(c, "max.in.flight", 5))
                refuse(c, "max.in.flight", "<= 5",
                       "`max.in.flight` must be set <= 5 when `enable.idempotence` is true");
        if (value_of(c, "retries", &v, &n) && v.is_set && n < 1)
                refuse(c, "retries", ">= 1",
                       "`retries` must be set >= 1 when `enable.idempotence` is true");
        if (set_above(c, "queue.buffering.backpressure.threshold", 1))
                refuse(c, "queue.buffering.backpressure.threshold", "1",
                       "`queue.buffering.backpressure.threshold` must be set to 1 when "
                       "`enable.idempotence` is true");
}

/* Any producer's global properties: gapless without idempotence, the
 * reconnect backoffs, a keystore without its password. */
static void refuse_global(const refusals_t *c, bool idem)
{
        ksafe_value_t v, w;
        double n, m;
        if (!idem && set_to(c, "enable.gapless.guarantee", "true"))
                refuse(c, "enable.gapless.guarantee", "false",
                       "`enable.gapless.guarantee` requires `enable.idempotence` to be enabled");
        if (value_of(c, "reconnect.backoff.max.ms", &v, &n) &&
            value_of(c, "reconnect.backoff.ms", &w, &m) && n < m) {
                char expected[96];
                snprintf(expected, sizeof(expected), ">= %g (reconnect.backoff.ms)", m);
                refuse(c, "reconnect.backoff.max.ms", expected,
                       "`reconnect.backoff.max.ms` must be >= `reconnect.max.ms`");
        }
        if (value_of(c, "ssl.keystore.location", &v, NULL) && v.text[0] &&
            value_of(c, "ssl.keystore.password", &w, NULL) && !w.text[0])
                refuse(c, "ssl.keystore.password", "set",
                       "`ssl.keystore.password` is mandatory when `ssl.keystore.location` is "
                       "set");
}

/* An idempotent producer's topic-level properties, as set. */
static void refuse_idempotent_topic(const refusals_t *c)
{
        ksafe_value_t v;
        double n;
        if (value_of(c, "acks", &v, &n) && v.is_set && n != -1)
                refuse(c, "acks", "all (-1)",
                       "`acks` must be set to `all` when `enable.idempotence` is true");
        if (set_to(c, "queuing.strategy", NULL) && !set_to(c, "queuing.strategy", "fifo"))
                refuse(c, "queuing.strategy", "fifo",
                       "`queuing.strategy` must be set to `fifo` when `enable.idempotence` is "
                       "true");
}

/* message.timeout.ms within a transaction's timeout, and above linger.ms;
 * 0 is infinite and passes both. */
static void refuse_message_timeout(const refusals_t *c)
{
        const ksafe_prop_t *mt = ksafe_props__well_known(c->policy->props, KSAFE_P_MESSAGE_TIMEOUT);
        ksafe_value_t v, w;
        double n, m, limit;
        char expected[96];
        if (mt && ksafe_view__limit(c->view, mt, &limit) &&
            value_of(c, "message.timeout.ms", &v, &n) && n > limit) {
                snprintf(expected, sizeof(expected), "<= %g (transaction.timeout.ms)", limit);
                refuse(c, "message.timeout.ms", expected,
                       "`message.timeout.ms` must be set <= `transaction.timeout.ms` for a "
                       "transactional producer");
        }
        if (value_of(c, "message.timeout.ms", &v, &n) && n != 0 &&
            value_of(c, "linger.ms", &w, &m) && w.is_set && !(n > m)) {
                snprintf(expected, sizeof(expected), "> linger.ms (%s)", w.text);
                refuse(c, "message.timeout.ms", expected,
                       "`message.timeout.ms` must be greater than `linger.ms`");
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
        const refusals_t c = {.policy = policy, .view = view, .report = report};
        bool global = !ksafe_view__is_topic_only(view);
        bool idem = ksafe_view__idempotent(view);
        if (global && ksafe_view__transactional(view))
                refuse_transactional(&c);
        if (global && idem)
                refuse_idempotent(&c);
        if (global)
                refuse_global(&c, idem);
        if (idem)
                refuse_idempotent_topic(&c);
        refuse_message_timeout(&c);
        if (global)
                refuse_sasl(&c);
}
