/*
 * Integration tests of the facade: ksafe_producer_new(), ksafe_handle_audit()
 * and ksafe_topic_new() on librdkafka's embedded mock cluster.
 *
 * Only the public API (ksafe.h) and librdkafka's are used. Every effective
 * value is read back from librdkafka itself: the handle's finalized conf
 * (rd_kafka_conf(rk)) and its default topic conf
 * (rd_kafka_default_topic_conf_dup(rk)).
 *
 * stdout is TAP: nothing here prints; librdkafka logs go to stderr.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, open_memstream */

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksafe.h>

#include "common.h"

#include "conf_snapshot.h"

/* A NULL-terminated list of "name", "value" pairs. */
#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A policy that refuses acks other than all, on top of the default (which
 * enforces acks=all: reject wins, the conf is refused, not repaired). */
static const char REJECT_ACKS_POLICY[] =
        "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
        "{\"id\":\"no-acks-1\",\"property\":\"acks\",\"one_of\":[\"all\",\"-1\"],"
        "\"action\":\"reject\"}]}";

/*
 * Helpers
 */

static void set_all(rd_kafka_conf_t *conf, const char *const kv[])
{
        char errstr[512];
        for (size_t i = 0; kv[i]; i += 2)
                ck_assert_msg(rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr,
                                                sizeof(errstr)) == RD_KAFKA_CONF_OK,
                              "set %s=%s: %s", kv[i], kv[i + 1], errstr);
}

/* A producer conf on a one-broker mock cluster, quiet below errors, with
 * the given properties set. */
static rd_kafka_conf_t *conf_with(const char *const kv[])
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set_all(conf, KV("test.mock.num.brokers", "1", "log_level", "3"));
        set_all(conf, kv);
        return conf;
}

/* The value the handle uses for `name`: from its default topic conf for
 * topic-level properties, else from its finalized global conf. free() it. */
static char *handle_get(rd_kafka_t *rk, const char *name)
{
        char value[512];
        size_t size = sizeof(value);
        rd_kafka_topic_conf_t *tconf = rd_kafka_default_topic_conf_dup(rk);
        rd_kafka_conf_res_t res = rd_kafka_topic_conf_get(tconf, name, value, &size);
        rd_kafka_topic_conf_destroy(tconf);
        if (res == RD_KAFKA_CONF_UNKNOWN) {
                size = sizeof(value);
                res = rd_kafka_conf_get(rd_kafka_conf(rk), name, value, &size);
        }
        ck_assert_msg(res == RD_KAFKA_CONF_OK, "cannot read %s from the handle", name);
        return strdup(value);
}

#define ck_assert_handle_value(rk, name, want)                                                 \
        do {                                                                                   \
                char *_v = handle_get(rk, name);                                               \
                ck_assert_msg(strcmp(_v, want) == 0, "%s is %s, expected %s", name, _v, want); \
                free(_v);                                                                      \
        } while (0)

static const ksafe_violation_t *find_violation(const ksafe_report_t *report, const char *rule_id)
{
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (v->rule_id && strcmp(v->rule_id, rule_id) == 0)
                        return v;
        }
        return NULL;
}

#define ck_assert_fixed(report, rule_id)                                                       \
        do {                                                                                   \
                const ksafe_violation_t *_v = find_violation(report, rule_id);                 \
                ck_assert_msg(_v != NULL, "no violation of %s in the report", rule_id);        \
                ck_assert_msg(_v->fixed, "%s not marked fixed", rule_id);                      \
                ck_assert_int_eq(_v->action, KSAFE_ACTION_ENFORCE);                            \
        } while (0)

/* Restores an environment variable at teardown (tests run unforked under
 * valgrind, so a test must not leave its environment behind). */
static void set_env(const char *name, const char *value)
{
        if (value)
                ck_assert_int_eq(setenv(name, value, 1), 0);
        else
                ck_assert_int_eq(unsetenv(name), 0);
}

static void restore_env(void)
{
        set_env("KSAFE_POLICY", "");
        set_env("KSAFE_ENV", "");
}

/* "$KSAFE_TEST_DATA/integration/<name>", static storage. */
static const char *data_path(const char *name)
{
        static char path[1024];
        const char *dir = getenv("KSAFE_TEST_DATA");
        snprintf(path, sizeof(path), "%s/integration/%s", dir ? dir : "tests/data", name);
        return path;
}

/* Delivery reports of the producer under test. */
typedef struct deliveries_s {
        int ok;
        int failed;
        int wrong_opaque; /* the callback got another opaque than the conf's */
        char last_error[256];
} deliveries_t;

static deliveries_t deliveries;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
        (void)rk;
        if (opaque != &deliveries)
                deliveries.wrong_opaque++;
        if (msg->err) {
                deliveries.failed++;
                snprintf(deliveries.last_error, sizeof(deliveries.last_error), "%s",
                         rd_kafka_err2str(msg->err));
        } else {
                deliveries.ok++;
        }
}

static void reset_deliveries(void)
{
        memset(&deliveries, 0, sizeof(deliveries));
}

/* Produce `n` messages (through `rkt` when given, else to `topic`) and
 * wait for their delivery reports. */
static void produce_and_flush(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *topic, int n)
{
        for (int i = 0; i < n; i++) {
                char payload[32];
                int len = snprintf(payload, sizeof(payload), "message %d", i);
                rd_kafka_resp_err_t err;
                if (rkt)
                        err = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                               payload, (size_t)len, NULL, 0, NULL) == 0
                                      ? RD_KAFKA_RESP_ERR_NO_ERROR
                                      : rd_kafka_last_error();
                else
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_VALUE(payload, (size_t)len),
                                                RD_KAFKA_V_END);
                ck_assert_msg(!err, "produce: %s", rd_kafka_err2str(err));
        }
        ck_assert_int_eq(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* A safe producer made by ksafe_producer_new() with the default policy
 * and a delivery report callback. */
static rd_kafka_t *safe_producer(const char *const kv[])
{
        rd_kafka_conf_t *conf = conf_with(kv);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, &deliveries);
        ksafe_policy_t *policy = ksafe_policy_default();
        char errstr[512] = "";
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "ksafe_producer_new: %s", errstr);
        ksafe_policy_destroy(policy);
        return rk;
}

static void setup(void)
{
        reset_deliveries();
        restore_env();
}

/*
 * ksafe_producer_new() repairs what the default policy enforces
 */

typedef struct expect_s {
        const char *property; /* read back from the handle */
        const char *value;
} expect_t;

static const struct enforce_case {
        const char *kv[12];
        const char *rules[3]; /* reported, fixed */
        expect_t expect[3];
} enforce_cases[] = {
        {{"acks", "1"}, {"acks-all"}, {{"acks", "-1"}}},
        {{"enable.idempotence", "false"}, {"idempotence"}, {{"enable.idempotence", "true"}}},
        {{"max.in.flight", "100"}, {"in-flight"}, {{"max.in.flight", "5"}}},
        {{"delivery.timeout.ms", "0"}, {"delivery-timeout"}, {{"delivery.timeout.ms", "120000"}}},
        {{"topic.acks", "0"}, {"acks-all"}, {{"acks", "-1"}}},
        {{"retries", "0"}, {"retries"}, {{"retries", "2147483647"}}},
        /* transactional.id alone: librdkafka turns idempotence on, nothing to fix */
        {{"transactional.id", "ksafe-tx"},
         {NULL},
         {{"enable.idempotence", "true"}, {"acks", "-1"}, {"max.in.flight", "5"}}},
        /* aliases */
        {{"request.required.acks", "0"}, {"acks-all"}, {{"acks", "-1"}}},
        {{"max.in.flight.requests.per.connection", "1000"},
         {"in-flight"},
         {{"max.in.flight", "5"}}},
        {{"message.timeout.ms", "0"}, {"delivery-timeout"}, {{"delivery.timeout.ms", "120000"}}},
        {{"message.send.max.retries", "0"}, {"retries"}, {{"retries", "2147483647"}}},
        /* everything at once */
        {{"acks", "1", "enable.idempotence", "false", "max.in.flight", "100", "retries", "0"},
         {"acks-all", "idempotence", "in-flight"},
         {{"acks", "-1"}, {"enable.idempotence", "true"}, {"max.in.flight", "5"}}},
        /* explicitly set to librdkafka's default value: still set, and
         * rd_kafka_new() refuses it with idempotence on */
        {{"enable.idempotence", "true", "max.in.flight", "1000000"},
         {"in-flight"},
         {{"max.in.flight", "5"}}},
        {{"transactional.id", "ksafe-tx", "enable.idempotence", "false"},
         {"idempotence"},
         {{"enable.idempotence", "true"}}},
        /* a delivery timeout below linger.ms + request.timeout.ms is raised */
        {{"linger.ms", "100", "request.timeout.ms", "200000", "delivery.timeout.ms", "150000"},
         {"delivery-covers-request"},
         {{"delivery.timeout.ms", "200100"}}},
};

START_TEST(producer_new_enforces)
{
        const struct enforce_case *c = &enforce_cases[_i];
        rd_kafka_conf_t *conf = conf_with(c->kv);
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = NULL;
        char errstr[512] = "";

        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "case %s=%s: %s", c->kv[0], c->kv[1], errstr);
        ck_assert_ptr_nonnull(report);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        for (size_t i = 0; i < 3 && c->rules[i]; i++)
                ck_assert_fixed(report, c->rules[i]);
        for (size_t i = 0; i < 3 && c->expect[i].property; i++)
                ck_assert_handle_value(rk, c->expect[i].property, c->expect[i].value);

        /* and the handle passes its own audit */
        ksafe_report_t *audit = ksafe_handle_audit(rk, policy);
        ck_assert_uint_eq(ksafe_report_severity_count(audit, KSAFE_SEVERITY_ERROR), 0);

        ksafe_report_destroy(audit);
        ksafe_report_destroy(report);
        rd_kafka_destroy(rk); /* owns conf */
        ksafe_policy_destroy(policy);
}
END_TEST

START_TEST(producer_new_clean_conf_has_empty_report)
{
        rd_kafka_conf_t *conf = conf_with(KV("enable.idempotence", "true"));
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = NULL;
        char errstr[512] = "";
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        ck_assert_ptr_nonnull(report);
        ck_assert_uint_eq(ksafe_report_count(report), 0);
        ck_assert_handle_value(rk, "max.in.flight", "5");
        ksafe_report_destroy(report);
        rd_kafka_destroy(rk);
        ksafe_policy_destroy(policy);
}
END_TEST

/* Older code sets topic-level values on a default topic conf of its own:
 * those are judged and enforced too. */
START_TEST(producer_new_enforces_default_topic_conf)
{
        rd_kafka_conf_t *conf = conf_with(KV("linger.ms", "5"));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[512] = "";
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "acks", "0", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "message.timeout.ms", "0", errstr,
                                                 sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        rd_kafka_conf_set_default_topic_conf(conf, tconf); /* conf owns tconf */
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = NULL;

        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        ck_assert_fixed(report, "acks-all");
        ck_assert_fixed(report, "delivery-timeout");
        ck_assert_handle_value(rk, "acks", "-1");
        ck_assert_handle_value(rk, "message.timeout.ms", "120000");

        ksafe_report_destroy(report);
        rd_kafka_destroy(rk);
        ksafe_policy_destroy(policy);
}
END_TEST

/* rd_kafka_new() accepts a NULL conf; so does the drop-in. */
START_TEST(producer_new_null_conf)
{
        ksafe_policy_t *policy = ksafe_policy_default();
        char errstr[512] = "";
        rd_kafka_t *rk = ksafe_producer_new(NULL, policy, NULL, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        ck_assert_handle_value(rk, "enable.idempotence", "true");
        ck_assert_handle_value(rk, "acks", "-1");
        rd_kafka_destroy(rk);
        ksafe_policy_destroy(policy);
}
END_TEST

/*
 * Refusals: NULL, a reason in errstr, and the caller's conf as it was
 */

/* delivery-covers-request raises delivery.timeout.ms above the maximum of
 * delivery-timeout: no compliant value exists, so the facade refuses. */
START_TEST(producer_new_refuses_unsatisfiable_enforce)
{
        rd_kafka_conf_t *conf = conf_with(KV("linger.ms", "100", "request.timeout.ms", "300000",
                                             "delivery.timeout.ms", "200000"));
        char *before = conf_snapshot(conf);
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = NULL;
        char errstr[512] = "";

        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_ptr_null(rk);
        ck_assert_msg(strstr(errstr, "[delivery-timeout]"), "errstr: %s", errstr);
        ck_assert_msg(strstr(errstr, "delivery-covers-request"), "errstr: %s", errstr);
        ck_assert_ptr_nonnull(report);
        ck_assert_int_ne(ksafe_report_rejected(report), 0);
        const ksafe_violation_t *v = find_violation(report, "delivery-timeout");
        ck_assert_ptr_nonnull(v);
        ck_assert(!v->fixed);
        ck_assert_conf_unchanged(before, conf);

        free(before);
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf); /* still the caller's */
        ksafe_policy_destroy(policy);
}
END_TEST

START_TEST(producer_new_reject_keeps_conf_usable)
{
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1", "enable.idempotence", "false"));
        char *before = conf_snapshot(conf);
        ksafe_policy_t *policy = policy_from(REJECT_ACKS_POLICY, NULL);
        ksafe_report_t *report = NULL;
        char errstr[512] = "";

        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_ptr_null(rk);
        ck_assert_msg(strstr(errstr, "[no-acks-1]"), "errstr: %s", errstr);
        ck_assert_int_ne(ksafe_report_rejected(report), 0);
        const ksafe_violation_t *v = find_violation(report, "no-acks-1");
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(v->action, KSAFE_ACTION_REJECT);
        ck_assert_str_eq(v->actual, "1");

        /* not enforced, not finalized */
        ck_assert_conf_unchanged(before, conf);
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "acks", value, &size), RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "1");
        size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "enable.idempotence", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "false");
        ksafe_report_destroy(report);

        /* the caller fixes it and tries again */
        ck_assert_int_eq(rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        ck_assert_fixed(report, "idempotence");
        ck_assert_handle_value(rk, "enable.idempotence", "true");

        free(before);
        ksafe_report_destroy(report);
        rd_kafka_destroy(rk); /* owns conf now */
        ksafe_policy_destroy(policy);
}
END_TEST

/* The default enforces max.in.flight <= 5; this policy also rejects it. */
START_TEST(producer_new_reject_beats_enforce)
{
        ksafe_policy_t *policy = policy_with_rule(
                "{\"id\":\"few-in-flight\",\"property\":\"max.in.flight\",\"max\":5,"
                "\"action\":\"reject\"}");
        rd_kafka_conf_t *conf = conf_with(KV("max.in.flight", "100"));
        char *before = conf_snapshot(conf);
        ksafe_report_t *report = NULL;
        char errstr[512] = "";

        ck_assert_ptr_null(ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "[few-in-flight]"), "errstr: %s", errstr);
        const ksafe_violation_t *v = find_violation(report, "in-flight");
        ck_assert_ptr_nonnull(v);
        ck_assert_msg(!v->fixed, "in-flight was repaired although a reject rule failed");
        ck_assert_conf_unchanged(before, conf);

        free(before);
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* Every failing reject rule is named, not only the first. */
START_TEST(producer_new_names_every_reject)
{
        ksafe_policy_t *policy = policy_from(
                RULES("{\"id\":\"no-acks-1\",\"property\":\"acks\",\"one_of\":[\"all\",\"-1\"],"
                "\"action\":\"reject\"},"
                "{\"id\":\"need-tls\",\"property\":\"security.protocol\","
                      "\"one_of\":[\"ssl\",\"sasl_ssl\"],\"action\":\"reject\"}"),
                NULL);
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        char errstr[1024] = "";
        ck_assert_ptr_null(ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "[no-acks-1]") && strstr(errstr, "[need-tls]"), "errstr: %s",
                      errstr);
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* A refusal over a secret names the rule, never the value: not in errstr,
 * not in the report. */
START_TEST(producer_new_errstr_hides_secret)
{
        static const char secret[] = "hunter2-secret";
        ksafe_policy_t *policy = policy_with_rule(
                "{\"id\":\"no-pw\",\"property\":\"sasl.password\",\"forbidden\":true,"
                "\"action\":\"reject\"}");
        rd_kafka_conf_t *conf = conf_with(KV("sasl.password", secret));
        ksafe_report_t *report = NULL;
        char errstr[1024] = "";

        ck_assert_ptr_null(ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "[no-pw]"), "errstr: %s", errstr);
        ck_assert_msg(!strstr(errstr, secret), "errstr shows the secret");
        char *json = ksafe_report_to_json(report);
        char *text = ksafe_report_to_text(report);
        ck_assert_msg(!strstr(json, secret), "the JSON report shows the secret");
        ck_assert_msg(!strstr(text, secret), "the text report shows the secret");

        free(json);
        free(text);
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* errstr NULL with size 0 and reportp NULL are allowed, on failure too. */
START_TEST(producer_new_refusal_without_errstr_or_report)
{
        ksafe_policy_t *policy = policy_from(REJECT_ACKS_POLICY, NULL);
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        ck_assert_ptr_null(ksafe_producer_new(conf, policy, NULL, NULL, 0));
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* rd_kafka_new() itself refuses queuing.strategy=lifo with idempotence:
 * its errstr comes through and the conf stays the caller's, unfinalized. */
START_TEST(producer_new_passes_rd_kafka_new_error)
{
        /* rd_kafka_new() itself refuses (a mandatory callback taken away:
         * nothing a policy judges): conf is still the caller's, with the
         * enforced values, as rd_kafka_new() leaves it (documented). */
        rd_kafka_conf_t *conf = conf_with(KV("linger.ms", "1"));
        rd_kafka_conf_set_socket_cb(conf, NULL);
        ksafe_policy_t *policy = ksafe_policy_default();
        char errstr[512] = "";
        ck_assert_ptr_null(ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "socket_cb"), "errstr: %s", errstr);
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "enable.idempotence", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "true");
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

static rd_kafka_resp_err_t count_on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf,
                                        void *ic_opaque, char *errstr, size_t errstr_size)
{
        (void)rk, (void)conf, (void)errstr, (void)errstr_size;
        (*(int *)ic_opaque)++;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* An interceptor that says it took enable.idempotence but drops it. */
static rd_kafka_conf_res_t swallow_idempotence(rd_kafka_conf_t *conf, const char *name,
                                               const char *val, char *errstr,
                                               size_t errstr_size, void *ic_opaque)
{
        (void)conf, (void)val, (void)errstr, (void)errstr_size, (void)ic_opaque;
        return strcmp(name, "enable.idempotence") == 0 ? RD_KAFKA_CONF_OK
                                                       : RD_KAFKA_CONF_UNKNOWN;
}

START_TEST(producer_new_refuses_a_conf_that_drops_values)
{
        /* The enforced values are checked on conf itself before the producer
         * is made: refused while conf is still the caller's (no double free
         * when the caller destroys it, as the ownership rule says). */
        rd_kafka_conf_t *conf = conf_with(KV("acks", "all"));
        ck_assert_int_eq(rd_kafka_conf_interceptor_add_on_conf_set(conf, "swallow",
                                                                   swallow_idempotence, NULL),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        ksafe_policy_t *policy = ksafe_policy_default();
        char errstr[512] = "";
        ck_assert_ptr_null(ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "[idempotence]"), "errstr: %s", errstr);
        ck_assert_ptr_null(ksafe_producer_new(conf, policy, NULL, errstr, 0)); /* no errstr */
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

START_TEST(producer_new_keeps_interceptors)
{
        /* rd_kafka_conf_dup() does not copy interceptors: the producer must
         * be made from the caller's own conf. */
        static int calls;
        calls = 0;
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        ck_assert_int_eq(rd_kafka_conf_interceptor_add_on_new(conf, "test", count_on_new, &calls),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        ksafe_policy_t *policy = ksafe_policy_default();
        char errstr[512] = "";
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "errstr: %s", errstr);
        ck_assert_int_eq(calls, 1);
        rd_kafka_destroy(rk);
        ksafe_policy_destroy(policy);
}
END_TEST

/*
 * policy NULL: ksafe_policy_from_env()
 */

START_TEST(producer_new_env_policy_missing_file)
{
        const char *path = data_path("no-such-policy.json");
        set_env("KSAFE_POLICY", path);
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        char *before = conf_snapshot(conf);
        ksafe_report_t *report = NULL;
        char errstr[512] = "";

        ck_assert_ptr_null(ksafe_producer_new(conf, NULL, &report, errstr, sizeof(errstr)));
        ck_assert_ptr_null(report);
        ck_assert_msg(strstr(errstr, "policy"), "errstr: %s", errstr);
        ck_assert_msg(strstr(errstr, "no-such-policy.json"), "errstr does not name the file: %s",
                      errstr);
        ck_assert_conf_unchanged(before, conf);

        free(before);
        rd_kafka_conf_destroy(conf);
        restore_env();
}
END_TEST

/* A policy file with a syntax error: the errstr says where. */
START_TEST(producer_new_env_policy_syntax_error)
{
        set_env("KSAFE_POLICY", data_path("broken-policy.json"));
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        char errstr[512] = "";
        ck_assert_ptr_null(ksafe_producer_new(conf, NULL, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "broken-policy.json:3"), "errstr lacks file:line: %s",
                      errstr);
        rd_kafka_conf_destroy(conf);
        restore_env();
}
END_TEST

START_TEST(producer_new_env_default_when_unset_or_empty)
{
        for (int unset = 0; unset < 2; unset++) {
                set_env("KSAFE_POLICY", unset ? NULL : "");
                rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
                ksafe_report_t *report = NULL;
                char errstr[512] = "";
                rd_kafka_t *rk = ksafe_producer_new(conf, NULL, &report, errstr, sizeof(errstr));
                ck_assert_msg(rk != NULL, "%s", errstr);
                ck_assert_fixed(report, "acks-all");
                ck_assert_handle_value(rk, "acks", "-1");
                ksafe_report_destroy(report);
                rd_kafka_destroy(rk);
        }
        restore_env();
}
END_TEST

/* tests/data/integration/env-policy.json rejects acks=1 only in "prod". */
START_TEST(producer_new_env_policy_file_and_environment)
{
        set_env("KSAFE_POLICY", data_path("env-policy.json"));
        static const struct {
                const char *env;
                bool refused;
        } cases[] = {{"", false}, {"dev", false}, {"prod", true}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                set_env("KSAFE_ENV", cases[i].env);
                rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
                char errstr[512] = "";
                rd_kafka_t *rk = ksafe_producer_new(conf, NULL, NULL, errstr, sizeof(errstr));
                if (cases[i].refused) {
                        ck_assert_msg(rk == NULL, "KSAFE_ENV=%s: not refused", cases[i].env);
                        ck_assert_msg(strstr(errstr, "[prod-acks]"), "errstr: %s", errstr);
                        rd_kafka_conf_destroy(conf);
                } else {
                        ck_assert_msg(rk != NULL, "KSAFE_ENV=%s: %s", cases[i].env, errstr);
                        ck_assert_handle_value(rk, "acks", "-1");
                        rd_kafka_destroy(rk);
                }
        }
        restore_env();
}
END_TEST

START_TEST(producer_new_env_unknown_environment)
{
        set_env("KSAFE_ENV", "prdo");
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        char errstr[512] = "";
        ck_assert_ptr_null(ksafe_producer_new(conf, NULL, NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "prdo") && strstr(errstr, "prod"), "errstr: %s", errstr);
        rd_kafka_conf_destroy(conf);
        restore_env();
}
END_TEST

/*
 * The created producer works, with the caller's callbacks and opaque
 */

START_TEST(producer_new_delivers_with_callbacks_and_opaque)
{
        rd_kafka_t *rk = safe_producer(KV("acks", "1", "linger.ms", "0"));
        ck_assert_ptr_eq(rd_kafka_opaque(rk), &deliveries);
        produce_and_flush(rk, NULL, "ksafe-it", 5);
        ck_assert_msg(deliveries.ok == 5, "%d delivered, %d failed (%s)", deliveries.ok,
                      deliveries.failed, deliveries.last_error);
        ck_assert_int_eq(deliveries.wrong_opaque, 0);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(producer_new_transactional_delivers)
{
        rd_kafka_t *rk = safe_producer(KV("transactional.id", "ksafe-it-tx", "linger.ms", "0"));
        rd_kafka_error_t *error = rd_kafka_init_transactions(rk, 10000);
        ck_assert_msg(!error, "init_transactions: %s", rd_kafka_error_string(error));
        ck_assert_ptr_null(rd_kafka_begin_transaction(rk));
        produce_and_flush(rk, NULL, "ksafe-it-tx", 3);
        error = rd_kafka_commit_transaction(rk, 10000);
        ck_assert_msg(!error, "commit: %s", rd_kafka_error_string(error));
        ck_assert_int_eq(deliveries.ok, 3);
        rd_kafka_destroy(rk);
}
END_TEST

/*
 * ksafe_handle_audit()
 */

START_TEST(audit_plain_rd_kafka_new_handle)
{
        rd_kafka_conf_t *conf = conf_with(KV("linger.ms", "5"));
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        ksafe_policy_t *policy = ksafe_policy_default();

        ksafe_report_t *report = ksafe_handle_audit(rk, policy);
        const ksafe_violation_t *idem = find_violation(report, "idempotence");
        const ksafe_violation_t *inflight = find_violation(report, "in-flight");
        ck_assert_ptr_nonnull(idem);
        ck_assert_str_eq(idem->actual, "false");
        ck_assert_int_eq(idem->severity, KSAFE_SEVERITY_ERROR);
        ck_assert(!idem->fixed);
        ck_assert_ptr_nonnull(inflight);
        ck_assert_str_eq(inflight->actual, "1000000");
        /* librdkafka's own defaults for these are safe already */
        ck_assert_ptr_null(find_violation(report, "acks-all"));
        ck_assert_ptr_null(find_violation(report, "retries"));
        /* an audit changes nothing */
        ck_assert_handle_value(rk, "enable.idempotence", "false");

        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(audit_ksafe_handle_is_clean)
{
        rd_kafka_t *rk = safe_producer(KV("acks", "0", "max.in.flight", "50"));
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = ksafe_handle_audit(rk, policy);
        ck_assert_ptr_nonnull(report);
        ck_assert_uint_eq(ksafe_report_severity_count(report, KSAFE_SEVERITY_ERROR), 0);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_destroy(rk);
}
END_TEST

/*
 * ksafe_topic_new()
 */

/* librdkafka refuses a topic conf with acks=1 on an idempotent producer,
 * so the topic exists only because ksafe set acks back to all. */
START_TEST(topic_new_enforces_acks)
{
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[512] = "";
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "acks", "1", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ksafe_report_t *report = NULL;

        rd_kafka_topic_t *rkt =
                ksafe_topic_new(rk, "ksafe-topic", tconf, NULL, &report, errstr, sizeof(errstr));
        ck_assert_msg(rkt != NULL, "%s", errstr);
        ck_assert_fixed(report, "acks-all");
        ck_assert_str_eq(find_violation(report, "acks-all")->actual, "1");
        /* only topic-level rules are judged on a topic conf */
        ck_assert_ptr_null(find_violation(report, "idempotence"));
        produce_and_flush(rk, rkt, NULL, 3);
        ck_assert_msg(deliveries.ok == 3, "%d delivered, %d failed (%s)", deliveries.ok,
                      deliveries.failed, deliveries.last_error);

        ksafe_report_destroy(report);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(topic_new_enforces_delivery_timeout)
{
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[512] = "";
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "delivery.timeout.ms", "0", errstr,
                                                 sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = NULL;

        rd_kafka_topic_t *rkt =
                ksafe_topic_new(rk, "ksafe-topic", tconf, policy, &report, errstr, sizeof(errstr));
        ck_assert_msg(rkt != NULL, "%s", errstr);
        ck_assert_fixed(report, "delivery-timeout");
        ck_assert_str_eq(find_violation(report, "delivery-timeout")->fix, "120000");
        produce_and_flush(rk, rkt, NULL, 2);
        ck_assert_int_eq(deliveries.ok, 2);

        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
}
END_TEST

/* Refused: NULL, the rule named, and tconf freed all the same (valgrind). */
START_TEST(topic_new_reject_consumes_tconf)
{
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        ksafe_policy_t *policy = policy_from(REJECT_ACKS_POLICY, NULL);
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[512] = "";
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "acks", "1", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ksafe_report_t *report = NULL;

        ck_assert_ptr_null(
                ksafe_topic_new(rk, "ksafe-topic", tconf, policy, &report, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "[no-acks-1]"), "errstr: %s", errstr);
        ck_assert_int_ne(ksafe_report_rejected(report), 0);

        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(topic_new_env_policy_error_consumes_tconf)
{
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        set_env("KSAFE_POLICY", data_path("no-such-policy.json"));
        char errstr[512] = "";
        ck_assert_ptr_null(ksafe_topic_new(rk, "ksafe-topic", rd_kafka_topic_conf_new(), NULL,
                                           NULL, errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "policy"), "errstr: %s", errstr);
        restore_env();
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(topic_new_null_tconf)
{
        rd_kafka_t *rk = safe_producer(KV("acks", "1", "linger.ms", "0"));
        ksafe_report_t *report = NULL;
        char errstr[512] = "";
        rd_kafka_topic_t *rkt =
                ksafe_topic_new(rk, "ksafe-topic", NULL, NULL, &report, errstr, sizeof(errstr));
        ck_assert_msg(rkt != NULL, "%s", errstr);
        ck_assert_uint_eq(ksafe_report_count(report), 0);
        produce_and_flush(rk, rkt, NULL, 2);
        ck_assert_int_eq(deliveries.ok, 2);
        ksafe_report_destroy(report);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
}
END_TEST

/* rd_kafka_topic_new() refuses a name longer than 512 bytes and frees the
 * topic conf itself: the facade must not free it a second time. */
START_TEST(topic_new_rd_kafka_failure)
{
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        char topic[600];
        memset(topic, 'x', sizeof(topic) - 1);
        topic[sizeof(topic) - 1] = '\0';
        char errstr[512] = "";
        ck_assert_ptr_null(ksafe_topic_new(rk, topic, rd_kafka_topic_conf_new(), NULL, NULL,
                                           errstr, sizeof(errstr)));
        ck_assert_msg(strstr(errstr, "rd_kafka_topic_new"), "errstr: %s", errstr);
        rd_kafka_destroy(rk);
}
END_TEST

/*
 * Thread safety: one policy shared by threads that create producers
 */

#define THREADS 4

static void *create_producers(void *arg)
{
        const ksafe_policy_t *policy = arg;
        intptr_t failures = 0;
        for (int i = 0; i < 3; i++) {
                rd_kafka_conf_t *conf = rd_kafka_conf_new();
                char errstr[512];
                if (rd_kafka_conf_set(conf, "acks", "1", errstr, sizeof(errstr)) ||
                    rd_kafka_conf_set(conf, "max.in.flight", "100", errstr, sizeof(errstr)) ||
                    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr))) {
                        rd_kafka_conf_destroy(conf);
                        failures++;
                        continue;
                }
                ksafe_report_t *report = NULL;
                rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
                if (!rk) {
                        rd_kafka_conf_destroy(conf);
                        failures++;
                } else {
                        char *acks = handle_get(rk, "acks");
                        char *inflight = handle_get(rk, "max.in.flight");
                        failures += strcmp(acks, "-1") != 0 || strcmp(inflight, "5") != 0 ||
                                    ksafe_report_count(report) != 3; /* + idempotence */
                        free(acks);
                        free(inflight);
                        rd_kafka_destroy(rk);
                }
                ksafe_report_destroy(report);
        }
        return (void *)failures;
}

START_TEST(producer_new_shared_policy_threads)
{
        ksafe_policy_t *policy = ksafe_policy_default();
        pthread_t threads[THREADS];
        for (int i = 0; i < THREADS; i++)
                ck_assert_int_eq(pthread_create(&threads[i], NULL, create_producers, policy), 0);
        intptr_t failures = 0;
        for (int i = 0; i < THREADS; i++) {
                void *result;
                ck_assert_int_eq(pthread_join(threads[i], &result), 0);
                failures += (intptr_t)result;
        }
        ck_assert_msg(failures == 0, "%ld producers were not created safe", (long)failures);
        ksafe_policy_destroy(policy);
}
END_TEST

/*
 * Issue 11: one verdict, no unsafe route, ownership as documented.
 *
 * Each row: a policy (rules added to builtin:default, or a whole policy),
 * a conf, and what ksafe_producer_new() must do with it. Whatever it does,
 * the README's failure snippet must be right: on NULL the conf is still
 * the caller's (destroyed here, under ASan in CI), never consumed by a
 * failed audit; on success the handle passes the audit and uses the
 * values listed.
 */

#define UNSAFE(...)                                                                            \
        "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"allow_unsafe\":true," __VA_ARGS__ "}"

static const struct facade_case {
        const char *what;
        const char *policy; /* NULL: the default */
        const char *kv[12];
        bool created;
        const char *rule;   /* a rule the report names, or NULL */
        expect_t expect[2]; /* values the handle uses */
} facade_cases[] = {
        /* Class 2: rules on properties that finalize derives. */
        {"sticky.partitioning.linger.ms is derived from linger.ms (enforce)",
         RULES("{\"id\":\"sticky\",\"property\":\"sticky.partitioning.linger.ms\",\"max\":100,"
               "\"action\":\"enforce\"}"),
         {"linger.ms", "100"}, true, "sticky", {{"sticky.partitioning.linger.ms", "100"}}},
        {"sticky.partitioning.linger.ms is derived from linger.ms (reject)",
         RULES("{\"id\":\"sticky\",\"property\":\"sticky.partitioning.linger.ms\",\"max\":100,"
               "\"action\":\"reject\"}"),
         {"linger.ms", "100"}, false, "sticky", {{NULL, NULL}}},
        {"socket.timeout.ms of a transactional producer (reject)",
         RULES("{\"id\":\"socket\",\"property\":\"socket.timeout.ms\",\"max\":30000,"
               "\"action\":\"reject\"}"),
         {"transactional.id", "tx"}, false, "socket", {{NULL, NULL}}},
        {"socket.timeout.ms of a transactional producer (enforce)",
         RULES("{\"id\":\"socket\",\"property\":\"socket.timeout.ms\",\"max\":30000,"
               "\"action\":\"enforce\"}"),
         {"transactional.id", "tx"}, true, "socket", {{"socket.timeout.ms", "30000"}}},
        {"allow.auto.create.topics is true for a producer",
         RULES("{\"id\":\"no-auto\",\"property\":\"allow.auto.create.topics\",\"equals\":false,"
               "\"action\":\"reject\"}"),
         {NULL}, false, "no-auto", {{NULL, NULL}}},
        {"metadata.max.age.ms is 3 x topic.metadata.refresh.interval.ms",
         RULES("{\"id\":\"age\",\"property\":\"metadata.max.age.ms\",\"min\":10000,"
               "\"action\":\"reject\"}"),
         {"topic.metadata.refresh.interval.ms", "1000"}, false, "age", {{NULL, NULL}}},
        {"connections.max.idle.ms on Azure",
         RULES("{\"id\":\"idle\",\"property\":\"connections.max.idle.ms\",\"equals\":0,"
               "\"action\":\"reject\"}"),
         {"bootstrap.servers", "x.azure.invalid:1"}, false, "idle", {{NULL, NULL}}},
        {"log_level is 7 with debug",
         RULES("{\"id\":\"quiet\",\"property\":\"log_level\",\"max\":6,\"action\":\"reject\"}"),
         {"debug", "msg"}, false, "quiet", {{NULL, NULL}}},
        {"api.version.request is turned on by broker.version.fallback",
         RULES("{\"id\":\"no-api\",\"property\":\"api.version.request\",\"equals\":false,"
               "\"action\":\"reject\"}"),
         {"api.version.request", "false"}, false, "no-api", {{NULL, NULL}}},
        {"linger.ms lowered below a small message.timeout.ms",
         UNSAFE("\"override\":{\"delivery-timeout\":{\"off\":true},"
                "\"delivery-covers-request\":{\"off\":true}},"
                "\"rules\":[{\"id\":\"linger\",\"property\":\"linger.ms\",\"min\":4,"
                "\"action\":\"reject\"}]"),
         {"delivery.timeout.ms", "3"}, false, "linger", {{NULL, NULL}}},
        /* Class 2: rd_kafka_new() with test.mock.num.brokers (every row
         * here) replaces security.protocol and bootstrap.servers. */
        {"security.protocol on the mock cluster is plaintext",
         RULES("{\"id\":\"tls\",\"property\":\"security.protocol\",\"one_of\":[\"ssl\","
               "\"sasl_ssl\"],\"action\":\"reject\"}"),
         {"security.protocol", "ssl"}, false, "tls", {{NULL, NULL}}},
        {"bootstrap.servers on the mock cluster is its own",
         RULES("{\"id\":\"brokers\",\"property\":\"bootstrap.servers\",\"equals\":"
               "\"kafka:9092\",\"action\":\"reject\"}"),
         {"bootstrap.servers", "kafka:9092"}, false, "brokers", {{NULL, NULL}}},
        /* Class 2: required, with the default value set. */
        {"required linger.ms set to its default",
         RULES("{\"id\":\"linger-set\",\"property\":\"linger.ms\",\"required\":true,"
               "\"action\":\"reject\"}"),
         {"linger.ms", "5"}, true, NULL, {{"linger.ms", "5"}}},
        {"required linger.ms not set",
         RULES("{\"id\":\"linger-set\",\"property\":\"linger.ms\",\"required\":true,"
               "\"action\":\"reject\"}"),
         {NULL}, false, "linger-set", {{NULL, NULL}}},
        /* Class 3: topic-level set-ness. */
        {"required acks set to all (the default)",
         RULES("{\"id\":\"acks-set\",\"property\":\"acks\",\"required\":true,"
               "\"action\":\"reject\"}"),
         {"acks", "all"}, true, NULL, {{"acks", "-1"}}},
        {"required acks not set",
         RULES("{\"id\":\"acks-set\",\"property\":\"acks\",\"required\":true,"
               "\"action\":\"reject\"}"),
         {"linger.ms", "10"}, false, "acks-set", {{NULL, NULL}}},
        {"transactional, delivery.timeout.ms set to its default 300000",
         NULL, {"transactional.id", "tx", "delivery.timeout.ms", "300000"}, false,
         "ksafe-librdkafka-refuses", {{NULL, NULL}}},
        {"transactional, delivery.timeout.ms not set (another topic property is)",
         NULL, {"transactional.id", "tx", "acks", "all"}, true, NULL,
         {{"delivery.timeout.ms", "60000"}}},
        {"transactional, delivery.timeout.ms not set, a long transaction timeout",
         NULL, {"transactional.id", "tx", "transaction.timeout.ms", "900000"}, true,
         "delivery-timeout", {{"delivery.timeout.ms", "120000"}}},
        /* Class 3: what rd_kafka_new() refuses is in the report, before it. */
        {"queuing.strategy=lifo with idempotence", NULL, {"queuing.strategy", "lifo"}, false,
         "ksafe-librdkafka-refuses", {{NULL, NULL}}},
        {"max.in.flight=10 set with idempotence, no in-flight rule",
         UNSAFE("\"override\":{\"in-flight\":{\"off\":true}}"), {"max.in.flight", "10"},
         false, "ksafe-librdkafka-refuses", {{NULL, NULL}}},
        {"linger.ms set at or above delivery.timeout.ms",
         UNSAFE("\"override\":{\"delivery-covers-request\":{\"off\":true}}"),
         {"linger.ms", "5000", "delivery.timeout.ms", "5000"}, false,
         "ksafe-librdkafka-refuses", {{NULL, NULL}}},
        {"socket.timeout.ms set above transaction.timeout.ms + 100", NULL,
         {"transactional.id", "tx", "socket.timeout.ms", "70000"}, false,
         "ksafe-librdkafka-refuses", {{NULL, NULL}}},
        /* Class 5: forbidden + enforce unsets, never a value librdkafka refuses. */
        {"forbidden max.in.flight on a producer made idempotent",
         UNSAFE("\"override\":{\"in-flight\":{\"off\":true}},"
                "\"rules\":[{\"id\":\"no-inflight\",\"property\":\"max.in.flight\","
                "\"forbidden\":true,\"action\":\"enforce\"}]"),
         {"max.in.flight", "100"}, true, "no-inflight", {{"max.in.flight", "5"}}},
        {"forbidden delivery.timeout.ms on a transactional producer",
         RULES("{\"id\":\"no-timeout\",\"property\":\"delivery.timeout.ms\",\"forbidden\":true,"
               "\"action\":\"enforce\"}"),
         {"transactional.id", "tx", "delivery.timeout.ms", "50000"}, true, "no-timeout",
         {{"delivery.timeout.ms", "60000"}}},
        {"forbidden transactional.id", 
         RULES("{\"id\":\"no-tx\",\"property\":\"transactional.id\",\"forbidden\":true,"
               "\"action\":\"enforce\"}"),
         {"transactional.id", "tx"}, true, "no-tx", {{"enable.idempotence", "true"}}},
        /* Class 4: a topic-level twin that wins at produce time. */
        {"compression.type rejected through topic.compression.type",
         RULES("{\"id\":\"compress\",\"property\":\"compression.type\",\"one_of\":[\"lz4\","
               "\"zstd\"],\"action\":\"reject\"}"),
         {"compression.type", "lz4", "topic.compression.type", "none"}, false, "compress",
         {{NULL, NULL}}},
        {"compression.codec enforced on the topic twin that wins",
         RULES("{\"id\":\"compress\",\"property\":\"compression.codec\",\"one_of\":[\"lz4\","
               "\"zstd\"],\"action\":\"enforce\"}"),
         {"compression.codec", "lz4", "topic.compression.codec", "none"}, true, "compress",
         {{"compression.codec", "lz4"}}},
        {"compression.type inherited by the topic: the global value is judged",
         RULES("{\"id\":\"compress\",\"property\":\"compression.type\",\"one_of\":[\"lz4\","
               "\"zstd\"],\"action\":\"reject\"}"),
         {"compression.type", "lz4", "acks", "all"}, true, NULL, {{NULL, NULL}}},
        /* Class 6: librdkafka's reading of numbers. */
        {"linger.ms=nan never passes min_sum", NULL, {"linger.ms", "nan"}, false,
         "delivery-covers-request", {{NULL, NULL}}},
        {"a float is used as judged (%g of 123456.7 is 123457: sticky 2 x 123457)", NULL,
         {"linger.ms", "123456.7", "request.timeout.ms", "30000", "delivery.timeout.ms", "153457"},
         true, NULL, {{"sticky.partitioning.linger.ms", "246914"}}},
};

static bool audit_clean(rd_kafka_t *rk, const ksafe_policy_t *policy, char *why, size_t size)
{
        ksafe_report_t *audit = ksafe_handle_audit(rk, policy);
        bool clean = audit && ksafe_report_severity_count(audit, KSAFE_SEVERITY_ERROR) == 0;
        if (!clean && audit && ksafe_report_count(audit))
                snprintf(why, size, "%s", ksafe_report_get(audit, 0)->message);
        ksafe_report_destroy(audit);
        return clean;
}

START_TEST(facade_invariants)
{
        const struct facade_case *c = &facade_cases[_i];
        rd_kafka_conf_t *conf = conf_with(c->kv);
        ksafe_policy_t *policy = c->policy ? policy_from(c->policy, NULL) : ksafe_policy_default();
        ksafe_report_t *report = NULL;
        char errstr[1024] = "";
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr));
        ck_assert_msg(!ksafe_report_conf_consumed(report) && !strstr(errstr, "consumed"),
                      "%s: the audit failed and took conf: %s", c->what, errstr);
        if (!rk)
                rd_kafka_conf_destroy(conf); /* the README's snippet */
        ck_assert_msg((rk != NULL) == c->created, "%s: %s (%s)", c->what,
                      rk ? "created" : "refused", errstr);
        if (c->rule)
                ck_assert_msg(find_violation(report, c->rule) != NULL, "%s: %s not reported",
                              c->what, c->rule);
        if (rk) {
                char why[512] = "";
                ck_assert_msg(audit_clean(rk, policy, why, sizeof(why)), "%s: audit: %s",
                              c->what, why);
                /* The handle's own conf, finalized (rd_kafka_conf_get falls
                 * through to its live default topic conf; a dup would not
                 * show finalize's values). */
                for (size_t i = 0; i < 2 && c->expect[i].property; i++) {
                        char used[256];
                        size_t size = sizeof(used);
                        ck_assert_int_eq(rd_kafka_conf_get(rd_kafka_conf(rk),
                                                           c->expect[i].property, used, &size),
                                         RD_KAFKA_CONF_OK);
                        ck_assert_msg(strcmp(used, c->expect[i].value) == 0,
                                      "%s: %s is %s, expected %s", c->what,
                                      c->expect[i].property, used, c->expect[i].value);
                }
                rd_kafka_destroy(rk);
        }
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
}
END_TEST

/*
 * Class 1: a topic that already has a handle is refused by ksafe_topic_new()
 * (librdkafka would return it as it is and drop tconf), however it was
 * made; the report never claims an enforcement that did not happen.
 */
typedef enum { MADE_RAW_UNSAFE, MADE_BY_KSAFE, MADE_BY_PRODUCEV, MADE_RAW_DEFAULT } made_t;

static const struct existing_case {
        const char *what;
        made_t made;
} existing_cases[] = {
        {"rd_kafka_topic_new() with message.timeout.ms=0", MADE_RAW_UNSAFE},
        {"ksafe_topic_new() before", MADE_BY_KSAFE},
        {"rd_kafka_producev() to the topic", MADE_BY_PRODUCEV},
        {"rd_kafka_topic_new() with the default topic conf", MADE_RAW_DEFAULT},
};

/* errstr carries the caller's topic name and librdkafka's words: escaped,
 * so that a name with a newline or an escape sequence forges no log line. */
START_TEST(topic_new_errstr_is_escaped)
{
        static const char *const names[] = {"t\nksafe: forged", "t\x1b[2Jx", "t\rx\x7f"};
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                char errstr[512] = "";
                rd_kafka_topic_t *first = rd_kafka_topic_new(rk, names[i], NULL);
                ck_assert_ptr_nonnull(first);
                rd_kafka_topic_t *rkt =
                        ksafe_topic_new(rk, names[i], NULL, NULL, NULL, errstr, sizeof(errstr));
                ck_assert_ptr_null(rkt);
                ck_assert_msg(strstr(errstr, "already has a handle"), "errstr \"%s\"", errstr);
                for (const char *c = errstr; *c; c++)
                        ck_assert_msg((unsigned char)*c >= 0x20 && *c != 0x7f,
                                      "control character 0x%02x in errstr \"%s\"",
                                      (unsigned)(unsigned char)*c, errstr);
                rd_kafka_topic_destroy(first);
        }
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(topic_new_refuses_existing_topic)
{
        const struct existing_case *c = &existing_cases[_i];
        rd_kafka_t *rk = safe_producer(KV("linger.ms", "0"));
        char errstr[512] = "";
        rd_kafka_topic_t *first = NULL;
        if (c->made == MADE_RAW_UNSAFE) {
                rd_kafka_topic_conf_t *raw = rd_kafka_topic_conf_new();
                ck_assert_int_eq(rd_kafka_topic_conf_set(raw, "message.timeout.ms", "0", errstr,
                                                         sizeof(errstr)),
                                 RD_KAFKA_CONF_OK);
                first = rd_kafka_topic_new(rk, "t", raw);
        } else if (c->made == MADE_BY_KSAFE) {
                first = ksafe_topic_new(rk, "t", NULL, NULL, NULL, errstr, sizeof(errstr));
        } else if (c->made == MADE_RAW_DEFAULT) {
                first = rd_kafka_topic_new(rk, "t", NULL);
        } else {
                produce_and_flush(rk, NULL, "t", 1);
        }
        ck_assert_msg(first || c->made == MADE_BY_PRODUCEV, "%s: %s", c->what, errstr);

        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "acks", "1", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ksafe_report_t *report = NULL;
        errstr[0] = '\0';
        rd_kafka_topic_t *rkt =
                ksafe_topic_new(rk, "t", tconf, NULL, &report, errstr, sizeof(errstr));
        ck_assert_msg(rkt == NULL, "%s: an existing topic was returned", c->what);
        ck_assert_msg(strstr(errstr, "already has a handle"), "%s: errstr \"%s\"", c->what,
                      errstr);
        ck_assert_msg(report == NULL, "%s: a report that claims a judgement", c->what);
        /* Not an existing one: a new topic still works, tconf consumed. */
        rd_kafka_topic_t *other = ksafe_topic_new(rk, "other", NULL, NULL, NULL, errstr,
                                                  sizeof(errstr));
        ck_assert_msg(other != NULL, "%s", errstr);
        rd_kafka_topic_destroy(other);
        if (first)
                rd_kafka_topic_destroy(first);
        rd_kafka_destroy(rk);
}
END_TEST

/* The probe that tells an existing topic leaves nothing behind: no topic
 * made with acks=0, no error in the application's log, the caller's opaque
 * kept on the topic ksafe makes. */
static int topicconf_logs;

static void count_topicconf_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk, (void)level, (void)buf;
        if (strcmp(fac, "TOPICCONF") == 0)
                topicconf_logs++;
}

START_TEST(topic_new_probe_leaves_nothing)
{
        topicconf_logs = 0;
        rd_kafka_conf_t *conf = conf_with(KV("linger.ms", "0", "log_level", "7"));
        rd_kafka_conf_set_log_cb(conf, count_topicconf_log);
        ksafe_policy_t *policy = ksafe_policy_default();
        char errstr[512] = "";
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "%s", errstr);
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        static int mine;
        rd_kafka_topic_conf_set_opaque(tconf, &mine);
        rd_kafka_topic_t *rkt = ksafe_topic_new(rk, "t", tconf, policy, NULL, errstr,
                                                sizeof(errstr));
        ck_assert_msg(rkt != NULL, "%s", errstr);
        ck_assert_ptr_eq(rd_kafka_topic_opaque(rkt), &mine);
        ck_assert_int_eq(topicconf_logs, 0);
        char level[16];
        size_t size = sizeof(level);
        ck_assert_int_eq(rd_kafka_conf_get(rd_kafka_conf(rk), "log_level", level, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(level, "7"); /* restored */
        produce_and_flush(rk, rkt, NULL, 2);
        ck_assert_int_eq(deliveries.ok, 0); /* no dr callback here; delivered all the same */
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        ksafe_policy_destroy(policy);
}
END_TEST

static Suite *producer_suite(void)
{
        Suite *s = suite_create("producer");
        TCase *tc;

        tc = tcase_create("producer_new");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_loop_test(tc, producer_new_enforces, 0,
                            (int)(sizeof(enforce_cases) / sizeof(*enforce_cases)));
        tcase_add_test(tc, producer_new_clean_conf_has_empty_report);
        tcase_add_test(tc, producer_new_enforces_default_topic_conf);
        tcase_add_test(tc, producer_new_null_conf);
        tcase_add_test(tc, producer_new_refuses_unsatisfiable_enforce);
        tcase_add_test(tc, producer_new_reject_keeps_conf_usable);
        tcase_add_test(tc, producer_new_reject_beats_enforce);
        tcase_add_test(tc, producer_new_names_every_reject);
        tcase_add_test(tc, producer_new_errstr_hides_secret);
        tcase_add_test(tc, producer_new_refusal_without_errstr_or_report);
        tcase_add_test(tc, producer_new_passes_rd_kafka_new_error);
        tcase_add_test(tc, producer_new_keeps_interceptors);
        tcase_add_test(tc, producer_new_refuses_a_conf_that_drops_values);
        suite_add_tcase(s, tc);

        tc = tcase_create("invariants");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_set_timeout(tc, 30);
        tcase_add_loop_test(tc, facade_invariants, 0,
                            (int)(sizeof(facade_cases) / sizeof(*facade_cases)));
        suite_add_tcase(s, tc);

        tc = tcase_create("policy_from_env");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, producer_new_env_policy_missing_file);
        tcase_add_test(tc, producer_new_env_policy_syntax_error);
        tcase_add_test(tc, producer_new_env_default_when_unset_or_empty);
        tcase_add_test(tc, producer_new_env_policy_file_and_environment);
        tcase_add_test(tc, producer_new_env_unknown_environment);
        suite_add_tcase(s, tc);

        tc = tcase_create("produce");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, producer_new_delivers_with_callbacks_and_opaque);
        tcase_add_test(tc, producer_new_transactional_delivers);
        suite_add_tcase(s, tc);

        tc = tcase_create("audit");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, audit_plain_rd_kafka_new_handle);
        tcase_add_test(tc, audit_ksafe_handle_is_clean);
        suite_add_tcase(s, tc);

        tc = tcase_create("topic_new");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, topic_new_enforces_acks);
        tcase_add_test(tc, topic_new_enforces_delivery_timeout);
        tcase_add_test(tc, topic_new_reject_consumes_tconf);
        tcase_add_test(tc, topic_new_env_policy_error_consumes_tconf);
        tcase_add_test(tc, topic_new_null_tconf);
        tcase_add_test(tc, topic_new_rd_kafka_failure);
        tcase_add_test(tc, topic_new_errstr_is_escaped);
        tcase_add_loop_test(tc, topic_new_refuses_existing_topic, 0,
                            (int)(sizeof(existing_cases) / sizeof(*existing_cases)));
        tcase_add_test(tc, topic_new_probe_leaves_nothing);
        suite_add_tcase(s, tc);

        tc = tcase_create("threads");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, producer_new_shared_policy_threads);
        suite_add_tcase(s, tc);
        return s;
}

KSAFE_TEST_MAIN(producer_suite)
