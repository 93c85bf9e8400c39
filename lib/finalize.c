/*
 * The finalize model: the value librdkafka 2.0.2 gives a property that the
 * user did not set (and the few it changes even when set), as its
 * rd_kafka_conf_finalize(), rd_kafka_topic_conf_finalize() and
 * rd_kafka_new() make them for a producer. The unit test
 * finalize_model_is_complete compares it with created handles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

/* The value of `name` before finalize, as librdkafka reads it (strtod; its
 * int properties are printed as integers). NAN when unknown. */
static double stored_number(const ksafe_view_t *view, const char *name)
{
        const ksafe_prop_t *prop = ksafe_props__find(ksafe_view__props(view), name);
        ksafe_value_t v;
        if (!prop || !ksafe_view__stored(view, prop, &v))
                return NAN;
        char *end;
        double n = strtod(v.text, &end);
        return end == v.text ? NAN : n;
}

static const char *stored_text(const ksafe_view_t *view, const char *name)
{
        const ksafe_prop_t *prop = ksafe_props__find(ksafe_view__props(view), name);
        ksafe_value_t v;
        return prop && ksafe_view__stored(view, prop, &v) ? v.text : "";
}

/* rd_kafka_ApiVersion_is_queryable(): any broker.version.fallback but
 * 0.9.0, 0.8.x, 0.7.x and 0.6.x (by prefix). */
static bool fallback_queryable(const char *v)
{
        static const char *const legacy[] = {"0.9.0", "0.8.2", "0.8.1", "0.8.0", "0.7.", "0.6."};
        for (size_t i = 0; i < ARRAY_SIZE(legacy); i++)
                if (strncmp(v, legacy[i], strlen(legacy[i])) == 0)
                        return false;
        return true;
}

/*
 * What librdkafka 2.0.2 makes of `prop`, whose value
 * before finalize is `base`, for a producer. `set` tells whether the user
 * set it: most adjustments apply only to values that were not set, two
 * apply to any (rd_kafka_new()'s log_level and api.version.request). The
 * result is written into buf (or is `base`). Every adjustment, in the order
 * of librdkafka's source:
 *  rd_kafka_conf_finalize(), producer:
 *   - transactional.id: enable.idempotence true; socket.timeout.ms
 *     max(transaction.timeout.ms - 100, 900)
 *   - idempotence: max.in.flight min(it, 5); retries INT32_MAX;
 *     queue.buffering.backpressure.threshold 1 (set or not: > 1 is refused)
 *   - sticky.partitioning.linger.ms min(900000, (int64)(2 x linger.ms)),
 *     from linger.ms as set (before the adjustment below)
 *   - metadata.max.age.ms 3 x topic.metadata.refresh.interval.ms when > 0
 *   - connections.max.idle.ms 230000 when bootstrap.servers names "azure"
 *   - allow.auto.create.topics true
 *   - linger.ms message.timeout.ms - 0.1 when message.timeout.ms != 0 and
 *     <= linger.ms (message.timeout.ms as set, before topic finalize)
 *   (client.software.name/version are sanitized and enabled_events follow
 *   callbacks: not in the published property table; ssl.ca.location=probe
 *   is macOS only; OIDC needs a build with libcurl)
 *  rd_kafka_topic_conf_finalize(), producer:
 *   - idempotence: acks -1; queuing.strategy fifo
 *   - transactional.id: message.timeout.ms transaction.timeout.ms
 *  rd_kafka_new(), after finalize:
 *   - log_level 7 when debug has any context (set or not)
 *   - api.version.request true when broker.version.fallback is queryable
 *     (set or not)
 *   - test.mock.num.brokers > 0: security.protocol plaintext, and
 *     bootstrap.servers the mock cluster's address, known only once it is
 *     made (set or not): judged as a text that no rule value matches
 *   - ssl.key.pem is wiped once the SSL context holds it (security.protocol
 *     ssl or sasl_ssl): "(REDACTED)", or "" for 11 bytes or fewer
 */
/* Which adjustment applies to a property: one per property of the model. */
enum kind_e {
        KIND_NONE,
        KIND_LOG_LEVEL,
        KIND_API_VERSION_REQUEST,
        KIND_SECURITY_PROTOCOL,
        KIND_BROKER_LIST,
        KIND_SSL_KEY_PEM,
        KIND_IDEMPOTENCE,
        KIND_SOCKET_TIMEOUT,
        KIND_INFLIGHT,
        KIND_RETRIES,
        KIND_BACKPRESSURE,
        KIND_STICKY_LINGER,
        KIND_METADATA_MAX_AGE,
        KIND_IDLE,
        KIND_AUTO_CREATE,
        KIND_LINGER,
        KIND_ACKS,
        KIND_QUEUING_STRATEGY,
        KIND_MESSAGE_TIMEOUT,
};

unsigned ksafe_finalize__kind(const ksafe_props_t *props, const ksafe_prop_t *prop)
{
        static const struct {
                const char *name;
                enum kind_e kind;
        } named[] = {
                {"log_level", KIND_LOG_LEVEL},
                {"api.version.request", KIND_API_VERSION_REQUEST},
                {"security.protocol", KIND_SECURITY_PROTOCOL},
                {"metadata.broker.list", KIND_BROKER_LIST},
                {"ssl.key.pem", KIND_SSL_KEY_PEM},
                {"socket.timeout.ms", KIND_SOCKET_TIMEOUT},
                {"queue.buffering.backpressure.threshold", KIND_BACKPRESSURE},
                {"sticky.partitioning.linger.ms", KIND_STICKY_LINGER},
                {"metadata.max.age.ms", KIND_METADATA_MAX_AGE},
                {"connections.max.idle.ms", KIND_IDLE},
                {"allow.auto.create.topics", KIND_AUTO_CREATE},
                {"queue.buffering.max.ms", KIND_LINGER},
                {"queuing.strategy", KIND_QUEUING_STRATEGY},
        };
        static const struct {
                ksafe_well_known_t which;
                enum kind_e kind;
        } known[] = {
                {KSAFE_P_IDEMPOTENCE, KIND_IDEMPOTENCE},
                {KSAFE_P_INFLIGHT, KIND_INFLIGHT},
                {KSAFE_P_RETRIES, KIND_RETRIES},
                {KSAFE_P_ACKS, KIND_ACKS},
                {KSAFE_P_MESSAGE_TIMEOUT, KIND_MESSAGE_TIMEOUT},
        };
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (prop == ksafe_props__well_known(props, known[i].which))
                        return known[i].kind;
        for (size_t i = 0; i < ARRAY_SIZE(named); i++)
                if (strcmp(prop->name, named[i].name) == 0)
                        return named[i].kind;
        return KIND_NONE;
}

/* rd_kafka_new()'s adjustments, after finalize, to any value (set or not). */
static const char *model_new(const ksafe_view_t *view, unsigned kind, const char *base)
{
        switch (kind) {
        case KIND_LOG_LEVEL: return stored_text(view, "debug")[0] ? "7" : base;
        case KIND_API_VERSION_REQUEST:
                return fallback_queryable(stored_text(view, "broker.version.fallback")) ? "true"
                                                                                        : base;
        /* Asked only for the properties it changes: it reads the conf
         * (a scan of librdkafka's table), 18% of a create when it was
         * asked for every value. */
        case KIND_SECURITY_PROTOCOL: return ksafe_view__mock_cluster(view) ? "plaintext" : base;
        case KIND_BROKER_LIST:
                return ksafe_view__mock_cluster(view) ? "(the mock cluster's address)" : base;
        case KIND_SSL_KEY_PEM:
                if (base[0] && !ksafe_view__mock_cluster(view)) {
                        const char *proto = stored_text(view, "security.protocol");
                        if (strcmp(proto, "ssl") == 0 || strcmp(proto, "sasl_ssl") == 0)
                                return strlen(base) > 11 ? "(REDACTED)" : "";
                }
                return base;
        default: return base;
        }
}

/* rd_kafka_conf_finalize()'s adjustments of the idempotence properties. */
static const char *model_idempotence(const ksafe_view_t *view, unsigned kind, const char *base,
                                     char *buf, size_t size)
{
        switch (kind) {
        case KIND_IDEMPOTENCE: return ksafe_view__transactional(view) ? "true" : base;
        case KIND_SOCKET_TIMEOUT:
                if (ksafe_view__transactional(view)) {
                        double n = stored_number(view, "transaction.timeout.ms") - 100;
                        snprintf(buf, size, "%.0f", n > 900 ? n : 900);
                        return isfinite(n) ? buf : base;
                }
                return base;
        case KIND_INFLIGHT:
                return ksafe_view__idempotent(view) && strtod(base, NULL) > 5 ? "5" : base;
        case KIND_RETRIES: return ksafe_view__idempotent(view) ? "2147483647" : base;
        case KIND_BACKPRESSURE: return ksafe_view__idempotent(view) ? "1" : base;
        default: return base;
        }
}

/* rd_kafka_conf_finalize()'s other adjustments for a producer. */
static const char *model_conf(const ksafe_view_t *view, unsigned kind, const char *base, char *buf,
                              size_t size)
{
        switch (kind) {
        case KIND_STICKY_LINGER: {
                double twice = 2 * stored_number(view, "linger.ms");
                if (!isfinite(twice)) /* nan: librdkafka's cast is undefined */
                        return base;
                snprintf(buf, size, "%.0f", twice > 900000 ? 900000 : trunc(twice));
                return buf;
        }
        case KIND_METADATA_MAX_AGE: {
                double n = stored_number(view, "topic.metadata.refresh.interval.ms");
                if (!(n > 0))
                        return base;
                snprintf(buf, size, "%.0f", n * 3);
                return buf;
        }
        case KIND_IDLE:
                return strcasestr(stored_text(view, "bootstrap.servers"), "azure") ? "230000"
                                                                                   : base;
        case KIND_AUTO_CREATE: return "true";
        case KIND_LINGER: {
                double mt = stored_number(view, "message.timeout.ms");
                if (mt != 0 && mt <= strtod(base, NULL)) {
                        snprintf(buf, size, "%g", mt - 0.1);
                        return buf;
                }
                return base;
        }
        default: return base;
        }
}

/* rd_kafka_topic_conf_finalize()'s adjustments for a producer. */
static const char *model_topic(const ksafe_view_t *view, unsigned kind, const char *base, char *buf,
                               size_t size)
{
        switch (kind) {
        case KIND_ACKS: return ksafe_view__idempotent(view) ? "-1" : base;
        case KIND_QUEUING_STRATEGY: return ksafe_view__idempotent(view) ? "fifo" : base;
        case KIND_MESSAGE_TIMEOUT:
                if (ksafe_view__transactional(view)) {
                        const ksafe_prop_t *tt = ksafe_props__well_known(
                                ksafe_view__props(view), KSAFE_P_TRANSACTION_TIMEOUT);
                        ksafe_value_t v;
                        if (tt && ksafe_view__stored(view, tt, &v)) {
                                snprintf(buf, size, "%s", v.text);
                                return buf;
                        }
                }
                return base;
        default: return base;
        }
}

const char *ksafe_finalize__value(const ksafe_view_t *view, const ksafe_prop_t *prop,
                                  const char *base, bool set, char *buf, size_t size)
{
        unsigned kind = ksafe_view__finalize_kind(view, prop);
        if (kind == KIND_NONE)
                return base;
        const char *v = model_new(view, kind, base);
        if (v != base || set)
                return v;
        if ((v = model_idempotence(view, kind, base, buf, size)) != base)
                return v;
        if ((v = model_conf(view, kind, base, buf, size)) != base)
                return v;
        return model_topic(view, kind, base, buf, size);
}
