/*
 * Integration tests of ksafe_conf_check() and ksafe_conf_enforce() on real
 * librdkafka confs, and of the reports they make: accessors, JSON, text,
 * and the redaction of secrets in everything rendered.
 *
 * Only the public API (ksafe.h), librdkafka's and jansson's (to read the
 * JSON report back) are used. stdout is TAP: nothing here prints.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream, strdup */

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksafe.h>

#include "common.h"

#include "conf_snapshot.h"

/* A NULL-terminated list of "name", "value" pairs. */
#define KV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Everything the default policy enforces, broken at once. */
#define UNSAFE_KV                                                                                  \
        KV("acks", "1", "enable.idempotence", "false", "max.in.flight", "100", "retries", "0",     \
           "delivery.timeout.ms", "0")

/*
 * Helpers
 */

static void set_all(rd_kafka_conf_t *conf, const char *const kv[])
{
        char errstr[512];
        for (size_t i = 0; kv[i]; i += 2)
                ck_assert_msg(rd_kafka_conf_set(conf, kv[i], kv[i + 1], errstr, sizeof(errstr)) ==
                                      RD_KAFKA_CONF_OK,
                              "set %s=%s: %s", kv[i], kv[i + 1], errstr);
}

static rd_kafka_conf_t *conf_with(const char *const kv[])
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set_all(conf, kv);
        return conf;
}

/* rd_kafka_conf_get() falls through to the default topic conf for
 * topic-level names. */
#define ck_assert_conf_value(conf, name, want)                                                     \
        do {                                                                                       \
                char _v[512];                                                                      \
                size_t _size = sizeof(_v);                                                         \
                ck_assert_int_eq(rd_kafka_conf_get(conf, name, _v, &_size), RD_KAFKA_CONF_OK);     \
                ck_assert_msg(strcmp(_v, want) == 0, "%s is %s, expected %s", name, _v, want);     \
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

static const char *json_str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* check or enforce `kv` with `policy_json` (NULL: the default policy). */
static ksafe_report_t *judge(const char *const kv[], const char *policy_json, bool enforce)
{
        rd_kafka_conf_t *conf = conf_with(kv);
        ksafe_policy_t *policy =
                policy_json ? policy_from(policy_json, NULL) : ksafe_policy_default();
        ksafe_report_t *report =
                enforce ? ksafe_conf_enforce(conf, policy) : ksafe_conf_check(conf, policy);
        ck_assert_ptr_nonnull(report);
        ksafe_policy_destroy(policy); /* the report outlives it */
        rd_kafka_conf_destroy(conf);
        return report;
}

/* Number of lines in s (each ends with '\n'). */
static size_t count_lines(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/*
 * ksafe_conf_check(): judges, changes nothing
 */

/* ksafe_config_read() in one format, with the other options' defaults. */
static ksafe_config_t *config_read_as(const char *data, size_t len, const char *source,
                                      ksafe_format_t format, ksafe_error_t *err)
{
        ksafe_config_options_t options = KSAFE_CONFIG_OPTIONS_INIT;
        options.format = format;
        return ksafe_config_read(data, len, source, &options, err);
}

START_TEST(check_reports_and_changes_nothing)
{
        rd_kafka_conf_t *conf = conf_with(UNSAFE_KV);
        char *before = conf_snapshot(conf);
        ksafe_policy_t *policy = ksafe_policy_default();

        ksafe_report_t *report = ksafe_conf_check(conf, policy);
        ck_assert_conf_unchanged(before, conf);
        /* delivery.timeout.ms=0 is infinite: it fails the bounds and min_sum
         * (no infinity passes a numeric check). */
        static const char *const rules[] = {"idempotence",      "acks-all",
                                            "in-flight",        "retries",
                                            "delivery-timeout", "delivery-covers-request"};
        for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
                const ksafe_violation_t *v = find_violation(report, rules[i]);
                ck_assert_msg(v != NULL, "%s not reported", rules[i]);
                ck_assert_msg(!v->fixed, "%s fixed by a check", rules[i]);
                ck_assert_int_eq(v->action, KSAFE_ACTION_ENFORCE);
                ck_assert_int_eq(v->severity, KSAFE_SEVERITY_ERROR);
                /* all set by the conf, enable.idempotence=false (the default) too */
                ck_assert_int_eq(v->is_set, true);
        }
        ck_assert_uint_eq(ksafe_report_count(report), 6);
        ck_assert_uint_eq(ksafe_report_severity_count(report, KSAFE_SEVERITY_ERROR), 6);
        ck_assert_uint_eq(ksafe_report_severity_count(report, KSAFE_SEVERITY_WARNING), 0);
        /* without enforcement only reject rules refuse */
        ck_assert_int_eq(ksafe_report_rejected(report), 0);

        free(before);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* The values in a violation are librdkafka's reading of the conf. */
START_TEST(check_shows_values_as_librdkafka_reads_them)
{
        ksafe_report_t *report = judge(KV("request.required.acks", "1", "enable.idempotence",
                                          "FALSE", "max.in.flight.requests.per.connection", "0x10",
                                          "message.timeout.ms", "0"),
                                       NULL, false);
        const ksafe_violation_t *v = find_violation(report, "acks-all");
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v->actual, "1");
        ck_assert_str_eq(v->canonical, "request.required.acks");
        ck_assert_msg(strstr(v->expected, "all"), "expected: %s", v->expected);
        ck_assert_str_eq(v->fix, "all");
        ck_assert_ptr_nonnull(v->why);
        ck_assert_ptr_nonnull(v->message);
        ck_assert_ptr_null(v->file);
        ck_assert_int_eq(v->line, 0);

        v = find_violation(report, "idempotence");
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v->actual, "false");
        ck_assert_str_eq(v->fix, "true");

        v = find_violation(report, "in-flight");
        ck_assert_ptr_nonnull(v);
        ck_assert_str_eq(v->actual, "16");
        ck_assert_str_eq(v->fix, "5");

        v = find_violation(report, "delivery-timeout");
        ck_assert_ptr_nonnull(v);
        ck_assert_msg(strstr(v->actual, "0") && strstr(v->actual, "infinite"), "actual: %s",
                      v->actual);
        ck_assert_str_eq(v->fix, "120000");
        ksafe_report_destroy(report);
}
END_TEST

/* librdkafka's finalize will set acks, max.in.flight and retries for an
 * idempotent producer: they are not violations of a conf that leaves them
 * unset. */
START_TEST(check_follows_finalize_model)
{
        const char *const *const confs[] = {
                KV("enable.idempotence", "true"),
                KV("enable.idempotence", "t"),
                KV("transactional.id", "ksafe-tx"),
        };
        for (size_t i = 0; i < sizeof(confs) / sizeof(*confs); i++) {
                ksafe_report_t *report = judge(confs[i], NULL, false);
                ck_assert_msg(ksafe_report_count(report) == 0, "%s=%s: %zu violations, first %s",
                              confs[i][0], confs[i][1], ksafe_report_count(report),
                              ksafe_report_count(report) ? ksafe_report_get(report, 0)->rule_id
                                                         : "");
                ksafe_report_destroy(report);
        }
}
END_TEST

/* An empty conf is judged by librdkafka's defaults: not idempotent, a
 * million requests in flight; the violations say the value is not set. */
START_TEST(check_empty_conf_judges_defaults)
{
        ksafe_report_t *report = judge(KV(NULL), NULL, false);
        const ksafe_violation_t *v = find_violation(report, "idempotence");
        ck_assert_ptr_nonnull(v);
        ck_assert(!v->is_set);
        ck_assert_str_eq(v->actual, "false");
        ck_assert_msg(strstr(v->message, "not set"), "message: %s", v->message);
        v = find_violation(report, "in-flight");
        ck_assert_ptr_nonnull(v);
        ck_assert(!v->is_set);
        ck_assert_str_eq(v->actual, "1000000");
        ck_assert_ptr_null(find_violation(report, "acks-all"));
        ksafe_report_destroy(report);
}
END_TEST

/* Setting a value explicitly to what finalize would have made of it is no
 * violation either; setting it otherwise is. */
START_TEST(check_explicit_values_with_idempotence)
{
        ksafe_report_t *report =
                judge(KV("enable.idempotence", "true", "max.in.flight", "6"), NULL, false);
        ck_assert_uint_eq(ksafe_report_count(report), 1);
        ck_assert_str_eq(ksafe_report_get(report, 0)->rule_id, "in-flight");
        ksafe_report_destroy(report);
}
END_TEST

/* A value set explicitly to librdkafka's default is still set: finalize
 * does not adjust it, rd_kafka_new() judges it (and refuses these two). */
START_TEST(check_explicit_default_values_are_set)
{
        ksafe_report_t *report =
                judge(KV("enable.idempotence", "true", "max.in.flight", "1000000"), NULL, false);
        const ksafe_violation_t *v = find_violation(report, "in-flight");
        ck_assert_msg(v != NULL, "max.in.flight=1000000 with idempotence not reported");
        ck_assert_str_eq(v->actual, "1000000");
        ksafe_report_destroy(report);

        report = judge(KV("transactional.id", "ksafe-tx", "enable.idempotence", "false"), NULL,
                       false);
        v = find_violation(report, "idempotence");
        ck_assert_msg(v != NULL, "enable.idempotence=false with transactional.id not reported");
        ck_assert_str_eq(v->actual, "false");
        ksafe_report_destroy(report);
}
END_TEST

/*
 * ksafe_conf_enforce(): repairs in place
 */

START_TEST(enforce_sets_compliant_values)
{
        rd_kafka_conf_t *conf = conf_with(UNSAFE_KV);
        ksafe_policy_t *policy = ksafe_policy_default();

        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_ptr_nonnull(report);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ck_assert_uint_eq(ksafe_report_count(report), 6);
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                ck_assert_msg(ksafe_report_get(report, i)->fixed, "%s not fixed",
                              ksafe_report_get(report, i)->rule_id);
        ck_assert_conf_value(conf, "acks", "-1");
        ck_assert_conf_value(conf, "enable.idempotence", "true");
        ck_assert_conf_value(conf, "max.in.flight", "5");
        ck_assert_conf_value(conf, "retries", "2147483647");
        ck_assert_conf_value(conf, "delivery.timeout.ms", "120000");

        /* the result passes a check */
        ksafe_report_t *again = ksafe_conf_check(conf, policy);
        ck_assert_uint_eq(ksafe_report_count(again), 0);

        ksafe_report_destroy(again);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* topic.acks lands in the default topic conf: so does its repair. */
START_TEST(enforce_topic_prefixed_property)
{
        rd_kafka_conf_t *conf = conf_with(KV("topic.acks", "0"));
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        const ksafe_violation_t *v = find_violation(report, "acks-all");
        ck_assert_ptr_nonnull(v);
        ck_assert(v->fixed);
        ck_assert_conf_value(conf, "acks", "-1");
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_topic_conf_get(rd_kafka_conf_get_default_topic_conf(conf), "acks",
                                                 value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "-1");
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* Enforcing a safe conf changes nothing. */
START_TEST(enforce_safe_conf_is_a_no_op)
{
        rd_kafka_conf_t *conf = conf_with(KV("enable.idempotence", "true", "linger.ms", "20"));
        char *before = conf_snapshot(conf);
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_uint_eq(ksafe_report_count(report), 0);
        ck_assert_conf_unchanged(before, conf);
        free(before);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* A reject rule on a property that the default also enforces: refused as
 * given, nothing repaired, the conf unchanged. */
START_TEST(enforce_reject_leaves_conf_unchanged)
{
        rd_kafka_conf_t *conf = conf_with(KV("acks", "1", "enable.idempotence", "false"));
        char *before = conf_snapshot(conf);
        ksafe_policy_t *policy = policy_from(
                "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                "{\"id\":\"no-acks-1\",\"property\":\"acks\",\"one_of\":[\"all\",\"-1\"],"
                "\"action\":\"reject\"}]}",
                NULL);

        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_int_ne(ksafe_report_rejected(report), 0);
        const ksafe_violation_t *v = find_violation(report, "no-acks-1");
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(v->action, KSAFE_ACTION_REJECT);
        ck_assert_int_eq(v->severity, KSAFE_SEVERITY_ERROR);
        ck_assert(!v->fixed);
        ck_assert_ptr_null(v->fix);
        ck_assert(!find_violation(report, "acks-all")->fixed);
        ck_assert(!find_violation(report, "idempotence")->fixed);
        ck_assert_conf_unchanged(before, conf);

        free(before);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* Warnings are reported, never fatal, never enforced. */
START_TEST(enforce_warn_is_not_fatal)
{
        rd_kafka_conf_t *conf = conf_with(KV("enable.idempotence", "true"));
        ksafe_policy_t *policy = policy_from(
                "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                "{\"id\":\"want-lz4\",\"property\":\"compression.type\",\"equals\":\"lz4\","
                "\"action\":\"warn\",\"why\":\"cheaper bandwidth\"}]}",
                NULL);
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_uint_eq(ksafe_report_count(report), 1);
        const ksafe_violation_t *v = ksafe_report_get(report, 0);
        ck_assert_str_eq(v->rule_id, "want-lz4");
        ck_assert_int_eq(v->severity, KSAFE_SEVERITY_WARNING);
        ck_assert_int_eq(v->action, KSAFE_ACTION_WARN);
        ck_assert_str_eq(v->why, "cheaper bandwidth");
        ck_assert(!v->fixed);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ck_assert_uint_eq(ksafe_report_severity_count(report, KSAFE_SEVERITY_WARNING), 1);
        ck_assert_uint_eq(ksafe_report_severity_count(report, KSAFE_SEVERITY_ERROR), 0);
        ck_assert_conf_value(conf, "compression.type", "none");
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* Two enforce rules that cannot both hold: an error of the report. */
START_TEST(enforce_conflict_is_refused)
{
        ksafe_report_t *report = judge(KV("linger.ms", "100", "request.timeout.ms", "300000",
                                          "delivery.timeout.ms", "200000"),
                                       NULL, true);
        ck_assert_int_ne(ksafe_report_rejected(report), 0);
        const ksafe_violation_t *v = find_violation(report, "delivery-timeout");
        ck_assert_ptr_nonnull(v);
        ck_assert(!v->fixed);
        ksafe_report_destroy(report);
}
END_TEST

/* A repair can make a rule that passed fail: enforcement goes on until
 * nothing changes (removing transactional.id takes away the idempotence it
 * implied, so the idempotence rule, judged earlier, must set it). */
START_TEST(enforce_revisits_rules_after_a_repair)
{
        static const char policy_json[] =
                "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                "{\"id\":\"no-txid\",\"property\":\"transactional.id\",\"forbidden\":true,"
                "\"action\":\"enforce\"}]}";
        rd_kafka_conf_t *conf = conf_with(KV("transactional.id", "tx"));
        ksafe_policy_t *policy = policy_from(policy_json, NULL);
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ck_assert_conf_value(conf, "enable.idempotence", "true");
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_ne(rd_kafka_conf_get(conf, "transactional.id", value, &size),
                         RD_KAFKA_CONF_OK); /* unset again */
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* When a reject rule refuses, nothing is enforced, and the refusal does not
 * claim that enforce rules "could not be enforced". */
START_TEST(enforce_refused_as_given_names_reject_rules_only)
{
        static const char policy_json[] =
                "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                "{\"id\":\"cid\",\"property\":\"client.id\",\"required\":true,"
                "\"action\":\"reject\"}]}";
        ksafe_report_t *report = judge(KV("acks", "1"), policy_json, true);
        ck_assert_int_ne(ksafe_report_rejected(report), 0);
        char *json = ksafe_report_to_json(report);
        ck_assert_ptr_nonnull(strstr(json, "\"enforced\":false"));
        free(json);
        ksafe_report_destroy(report);

        rd_kafka_conf_t *conf = conf_with(KV("acks", "1"));
        ksafe_policy_t *policy = policy_from(policy_json, NULL);
        char errstr[1024] = "";
        ck_assert_ptr_null(ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr)));
        ck_assert_ptr_nonnull(strstr(errstr, "[cid]"));
        ck_assert_msg(!strstr(errstr, "could not be enforced"), "errstr: %s", errstr);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* A transactional producer's message timeout may not pass its transaction
 * timeout (rd_kafka_new() refuses it): enforcement sets the largest value
 * that both the policy and librdkafka accept, and a value the user set
 * above it is reported. */
START_TEST(enforce_respects_transaction_timeout)
{
        rd_kafka_conf_t *conf = conf_with(KV("transactional.id", "tx", "delivery.timeout.ms", "0"));
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ck_assert_conf_value(conf, "message.timeout.ms", "60000");
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf);

        conf = conf_with(KV("transactional.id", "tx", "delivery.timeout.ms", "90000"));
        report = ksafe_conf_check(conf, policy);
        ck_assert_ptr_nonnull(find_violation(report, "ksafe-librdkafka-refuses"));
        ck_assert_int_ne(ksafe_report_rejected(report), 0);
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* A policy "set" value and an environment chosen at load time. */
START_TEST(enforce_policy_environment)
{
        static const char policy_json[] =
                "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"environments\":{"
                "\"dev\":{},"
                "\"prod\":{\"rules\":[{\"id\":\"lz4\",\"property\":\"compression.type\","
                "\"equals\":\"lz4\",\"action\":\"enforce\"}]}}}";
        for (int prod = 0; prod < 2; prod++) {
                rd_kafka_conf_t *conf = conf_with(KV("enable.idempotence", "true"));
                ksafe_policy_t *policy = policy_from(policy_json, prod ? "prod" : "dev");
                ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
                ck_assert_uint_eq(ksafe_report_count(report), prod ? 1 : 0);
                ck_assert_conf_value(conf, "compression.type", prod ? "lz4" : "none");
                char *json = ksafe_report_to_json(report);
                json_t *doc = json_loads(json, 0, NULL);
                ck_assert_ptr_nonnull(doc);
                ck_assert_str_eq(json_string_value(json_object_get(doc, "environment")),
                                 prod ? "prod" : "dev");
                json_decref(doc);
                free(json);
                ksafe_report_destroy(report);
                ksafe_policy_destroy(policy);
                rd_kafka_conf_destroy(conf);
        }
}
END_TEST

/*
 * Reports: accessors and renderings
 */

START_TEST(report_accessors)
{
        ksafe_report_t *report = judge(UNSAFE_KV, NULL, false);
        size_t n = ksafe_report_count(report);
        ck_assert_uint_eq(n, 6);
        for (size_t i = 0; i < n; i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                ck_assert_ptr_nonnull(v);
                ck_assert_ptr_nonnull(v->rule_id);
                ck_assert_ptr_nonnull(v->property);
                ck_assert_ptr_nonnull(v->canonical);
                ck_assert_ptr_nonnull(v->actual);
                ck_assert_ptr_nonnull(v->expected);
                ck_assert_ptr_nonnull(v->message);
        }
        ck_assert_ptr_null(ksafe_report_get(report, n));
        ck_assert_ptr_null(ksafe_report_get(report, (size_t)-1));
        ksafe_report_destroy(report);
}
END_TEST

START_TEST(report_null_safety)
{
        ksafe_report_destroy(NULL);
        ck_assert_uint_eq(ksafe_report_count(NULL), 0);
        ck_assert_ptr_null(ksafe_report_get(NULL, 0));
        ck_assert_int_ne(ksafe_report_rejected(NULL), 0); /* fails closed */
        ck_assert_uint_eq(ksafe_report_severity_count(NULL, KSAFE_SEVERITY_ERROR), 0);
        ksafe_policy_destroy(NULL);
}
END_TEST

START_TEST(report_json_shape)
{
        ksafe_report_t *report = judge(UNSAFE_KV, NULL, true);
        char *text = ksafe_report_to_json(report);
        ck_assert_ptr_nonnull(text);
        json_error_t jerr;
        json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        ck_assert_msg(doc != NULL, "invalid JSON at %d:%d: %s", jerr.line, jerr.column, jerr.text);

        ck_assert_int_eq(json_integer_value(json_object_get(doc, "version")),
                         KSAFE_REPORT_JSON_VERSION);
        ck_assert_int_eq(KSAFE_REPORT_JSON_VERSION, 1);
        ck_assert_str_eq(json_str(doc, "policy"), "builtin:default");
        ck_assert(json_is_null(json_object_get(doc, "environment")));
        ck_assert(json_is_false(json_object_get(doc, "allow_unsafe")));
        ck_assert(json_is_false(json_object_get(doc, "rejected")));
        json_t *list = json_object_get(doc, "violations");
        ck_assert(json_is_array(list));
        ck_assert_uint_eq(json_array_size(list), ksafe_report_count(report));

        for (size_t i = 0; i < json_array_size(list); i++) {
                const json_t *item = json_array_get(list, i);
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                /* the same violations, in the same order, field by field */
                ck_assert_str_eq(json_str(item, "rule"), v->rule_id);
                ck_assert_str_eq(json_str(item, "property"), v->property);
                ck_assert_str_eq(json_str(item, "canonical"), v->canonical);
                ck_assert_str_eq(json_str(item, "actual"), v->actual);
                ck_assert_str_eq(json_str(item, "expected"), v->expected);
                ck_assert_str_eq(json_str(item, "message"), v->message);
                ck_assert_str_eq(json_str(item, "action"), ksafe_action_name(v->action));
                ck_assert_str_eq(json_str(item, "severity"), ksafe_severity_name(v->severity));
                ck_assert(json_is_boolean(json_object_get(item, "fixed")));
                ck_assert_int_eq(json_is_true(json_object_get(item, "fixed")), v->fixed);
                ck_assert_int_eq(json_is_true(json_object_get(item, "is_set")), v->is_set);
                ck_assert(json_is_null(json_object_get(item, "file")));
                ck_assert_int_eq(json_integer_value(json_object_get(item, "line")), 0);
        }
        const json_t *acks = NULL;
        for (size_t i = 0; i < json_array_size(list); i++)
                if (strcmp(json_str(json_array_get(list, i), "rule"), "acks-all") == 0)
                        acks = json_array_get(list, i);
        ck_assert_ptr_nonnull(acks);
        ck_assert_str_eq(json_str(acks, "property"), "acks");
        ck_assert_str_eq(json_str(acks, "actual"), "1");
        ck_assert_str_eq(json_str(acks, "action"), "enforce");
        ck_assert_str_eq(json_str(acks, "fix"), "all");
        ck_assert(json_is_true(json_object_get(acks, "fixed")));

        json_decref(doc);
        free(text);
        ksafe_report_destroy(report);
}
END_TEST

START_TEST(report_json_rejected_and_clean)
{
        ksafe_report_t *report =
                judge(KV("acks", "1"),
                      "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                      "{\"id\":\"no-acks-1\",\"property\":\"acks\",\"one_of\":[\"all\",\"-1\"],"
                      "\"action\":\"reject\"}]}",
                      false);
        char *text = ksafe_report_to_json(report);
        json_t *doc = json_loads(text, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert(json_is_true(json_object_get(doc, "rejected")));
        json_decref(doc);
        free(text);
        ksafe_report_destroy(report);

        report = judge(KV("enable.idempotence", "true"), NULL, false);
        text = ksafe_report_to_json(report);
        doc = json_loads(text, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "violations")), 0);
        ck_assert(json_is_false(json_object_get(doc, "rejected")));
        json_decref(doc);
        free(text);
        ksafe_report_destroy(report);
}
END_TEST

START_TEST(report_text_one_line_per_violation)
{
        ksafe_report_t *report = judge(UNSAFE_KV, NULL, false);
        char *text = ksafe_report_to_text(report);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(count_lines(text), ksafe_report_count(report));
        const char *line = text;
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                const char *end = strchr(line, '\n');
                char want[128];
                snprintf(want, sizeof(want), "[%s]", v->rule_id);
                char *copy = strndup(line, (size_t)(end - line));
                ck_assert_msg(strstr(copy, want), "line %zu lacks %s: %s", i + 1, want, copy);
                ck_assert_msg(strncmp(copy, "error: ", 7) == 0, "line %zu: %s", i + 1, copy);
                free(copy);
                line = end + 1;
        }
        free(text);
        ksafe_report_destroy(report);

        /* a clean report is an empty string, not NULL */
        report = judge(KV("enable.idempotence", "true"), NULL, false);
        text = ksafe_report_to_text(report);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(text, "");
        free(text);
        ksafe_report_destroy(report);
}
END_TEST

/* After enforcement the text says what was set. */
START_TEST(report_text_says_what_was_enforced)
{
        ksafe_report_t *report =
                judge(KV("max.in.flight", "100", "enable.idempotence", "true"), NULL, true);
        char *text = ksafe_report_to_text(report);
        ck_assert_uint_eq(count_lines(text), 1);
        ck_assert_msg(strstr(text, "[in-flight]") && strstr(text, "100") && strstr(text, "5"),
                      "text: %s", text);
        free(text);
        ksafe_report_destroy(report);
}
END_TEST

/* Values are data, not markup: quotes, backslashes and control characters
 * stay inside their JSON string and their text line. */
START_TEST(report_escapes_values)
{
        static const char odd[] = "app \"quoted\" back\\slash\ttab\nerror: forged [x]";
        /* Control characters come out escaped, so the value stays on one line. */
        static const char shown[] = "app \"quoted\" back\\slash\\ttab\\nerror: forged [x]";
        ksafe_report_t *report =
                judge(KV("enable.idempotence", "true", "client.id", odd),
                      "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                      "{\"id\":\"client-id\",\"property\":\"client.id\",\"equals\":\"app\","
                      "\"action\":\"warn\"}]}",
                      false);
        ck_assert_uint_eq(ksafe_report_count(report), 1);
        ck_assert_str_eq(ksafe_report_get(report, 0)->actual, shown);

        char *json = ksafe_report_to_json(report);
        json_error_t jerr;
        json_t *doc = json_loads(json, 0, &jerr);
        ck_assert_msg(doc != NULL, "invalid JSON: %s", jerr.text);
        const json_t *item = json_array_get(json_object_get(doc, "violations"), 0);
        ck_assert_str_eq(json_str(item, "actual"), shown);
        json_decref(doc);
        free(json);

        char *text = ksafe_report_to_text(report);
        /* (not printed: the text would break the TAP stream as it breaks the report) */
        ck_assert_msg(count_lines(text) == 1, "one violation rendered on %zu lines",
                      count_lines(text));
        free(text);
        ksafe_report_destroy(report);
}
END_TEST

/* required + set: enforcement sets the value. (Without "set" there is no
 * value to enforce: the policy itself is refused at load time.) */
START_TEST(enforce_required)
{
        static const char policy_json[] =
                "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                "{\"id\":\"client-id\",\"property\":\"client.id\",\"required\":true,"
                "%s\"action\":\"enforce\"}]}";
        char with_set[512], without_set[512];
        snprintf(with_set, sizeof(with_set), policy_json, "\"set\":\"billing\",");
        snprintf(without_set, sizeof(without_set), policy_json, "");

        rd_kafka_conf_t *conf = conf_with(KV("enable.idempotence", "true"));
        ksafe_policy_t *policy = policy_from(with_set, NULL);
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ck_assert(find_violation(report, "client-id")->fixed);
        ck_assert_conf_value(conf, "client.id", "billing");
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);

        ksafe_error_t err = {0};
        ck_assert_ptr_null(ksafe_policy_load_string(without_set, NULL, &err));
        ck_assert_str_eq(err.path, "rules[0].action");
        ck_assert_msg(strstr(err.text, "set"), "err: %s", err.text);
}
END_TEST

/* A weakened baseline says so in every report. */
START_TEST(report_allow_unsafe_is_visible)
{
        ksafe_report_t *report =
                judge(KV("enable.idempotence", "false"),
                      "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"allow_unsafe\":true,"
                      "\"override\":{\"idempotence\":{\"action\":\"warn\"}}}",
                      true);
        const ksafe_violation_t *v = find_violation(report, "idempotence");
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(v->severity, KSAFE_SEVERITY_WARNING);
        ck_assert(!v->fixed);
        char *json = ksafe_report_to_json(report);
        json_t *doc = json_loads(json, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert(json_is_true(json_object_get(doc, "allow_unsafe")));
        char *text = ksafe_report_to_text(report);
        ck_assert_msg(strstr(text, "allow_unsafe"), "text: %s", text);
        free(text);
        json_decref(doc);
        free(json);
        ksafe_report_destroy(report);
}
END_TEST

/*
 * Secrets: never in any rendered output
 */

static const struct secret_case {
        const char *property;
        const char *value;
        const char *rule; /* the rule's checks and action */
} secret_cases[] = {
        {"sasl.password", "hunter2-secret", "\"forbidden\":true,\"action\":\"warn\""},
        {"sasl.password", "hunter2-secret", "\"forbidden\":true,\"action\":\"reject\""},
        {"sasl.password", "hunter2-secret", "\"forbidden\":true,\"action\":\"enforce\""},
        /* the policy's own value is a secret too */
        {"sasl.password", "hunter2-secret",
         "\"equals\":\"policy-secret-value\",\"action\":\"enforce\""},
        {"sasl.password", "hunter2-secret",
         "\"one_of\":[\"policy-secret-value\"],\"action\":\"warn\""},
        {"ssl.key.password", "hunter2-secret", "\"forbidden\":true,\"action\":\"warn\""},
        {"sasl.username", "hunter2-secret", "\"forbidden\":true,\"action\":\"warn\""},
        {"ssl.keystore.password", "hunter2-secret", "\"forbidden\":true,\"action\":\"warn\""},
        {"sasl.oauthbearer.config", "principal=hunter2-secret",
         "\"forbidden\":true,\"action\":\"warn\""},
        {"ssl.key.pem", "hunter2-secret", "\"forbidden\":true,\"action\":\"warn\""},
};

static void assert_hidden(const char *where, const char *text)
{
        if (!text)
                return;
        ck_assert_msg(!strstr(text, "hunter2-secret"), "%s shows the secret: %s", where, text);
        ck_assert_msg(!strstr(text, "policy-secret-value"), "%s shows the policy's secret: %s",
                      where, text);
}

START_TEST(report_redacts_secrets)
{
        const struct secret_case *c = &secret_cases[_i];
        char policy_json[512];
        snprintf(policy_json, sizeof(policy_json),
                 "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                 "{\"id\":\"no-pw\",\"property\":\"%s\",%s}]}",
                 c->property, c->rule);
        for (int enforce = 0; enforce < 2; enforce++) {
                ksafe_report_t *report = judge(KV(c->property, c->value), policy_json, enforce);
                const ksafe_violation_t *v = find_violation(report, "no-pw");
                ck_assert_msg(v != NULL, "%s: not reported", c->property);
                ck_assert_str_eq(v->actual, "(redacted)");
                for (size_t i = 0; i < ksafe_report_count(report); i++) {
                        v = ksafe_report_get(report, i);
                        const char *fields[] = {v->rule_id, v->property, v->canonical,
                                                v->actual,  v->expected, v->fix,
                                                v->why,     v->message,  v->file};
                        for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f++)
                                assert_hidden("a violation field", fields[f]);
                }
                char *json = ksafe_report_to_json(report);
                char *text = ksafe_report_to_text(report);
                assert_hidden("the JSON report", json);
                assert_hidden("the text report", text);
                free(json);
                free(text);
                ksafe_report_destroy(report);
        }
}
END_TEST

/* Enforcing a secret value sets it, and shows it nowhere. */
START_TEST(enforce_secret_value_is_set_not_shown)
{
        rd_kafka_conf_t *conf = conf_with(KV("sasl.password", "hunter2-secret"));
        ksafe_policy_t *policy =
                policy_from("{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["
                            "{\"id\":\"pw\",\"property\":\"sasl.password\","
                            "\"equals\":\"policy-secret-value\",\"action\":\"enforce\"}]}",
                            NULL);
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        const ksafe_violation_t *v = find_violation(report, "pw");
        ck_assert_ptr_nonnull(v);
        ck_assert(v->fixed);
        ck_assert_conf_value(conf, "sasl.password", "policy-secret-value");
        char *text = ksafe_report_to_text(report);
        assert_hidden("the text report", text);
        free(text);
        char *json = ksafe_policy_to_json(policy);
        assert_hidden("the resolved policy", json);
        free(json);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/*
 * One verdict: the same settings judged from a rd_kafka_conf_t, from a
 * .properties file and from the handle rd_kafka_new() makes of the conf
 * fail the same rules (engine findings about how a file is written aside).
 */
#define REQUIRED_ACKS                                                                              \
        RULES("{\"id\":\"acks-set\",\"property\":\"acks\",\"required\":true,\"action\":"           \
              "\"reject\"}")
#define COMPRESSION                                                                                \
        RULES("{\"id\":\"compress\",\"property\":\"compression.type\",\"one_of\":[\"lz4\","        \
              "\"zstd\"],\"action\":\"reject\"}")
#define NO_INFLIGHT                                                                                \
        "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"allow_unsafe\":true,"               \
        "\"override\":{\"in-flight\":{\"off\":true}},\"rules\":[{\"id\":\"no-inflight\","          \
        "\"property\":\"max.in.flight\",\"forbidden\":true,\"action\":\"enforce\"}]}"

static const struct verdict_case {
        const char *what;
        const char *policy;
        const char *kv[10];
        const char *rules[3]; /* the rules that fail, all of them */
} verdict_cases[] = {
        {"required acks, acks=all (the default) set", REQUIRED_ACKS, {"acks", "all"}, {NULL}},
        {"required acks, not set", REQUIRED_ACKS, {"linger.ms", "10"}, {"acks-set"}},
        {"required acks, request.required.acks=-1 set",
         REQUIRED_ACKS,
         {"request.required.acks", "-1"},
         {NULL}},
        {"transactional, delivery.timeout.ms=300000 (the default) set",
         NULL,
         {"transactional.id", "tx", "delivery.timeout.ms", "300000"},
         {"ksafe-librdkafka-refuses"}},
        {"transactional, delivery.timeout.ms not set",
         NULL,
         {"transactional.id", "tx", "acks", "all"},
         {NULL}},
        {"compression.type=lz4 but topic.compression.type=none wins",
         COMPRESSION,
         {"compression.type", "lz4", "topic.compression.type", "none"},
         {"compress"}},
        {"compression.codec=none but topic.compression.codec=zstd wins",
         COMPRESSION,
         {"compression.codec", "none", "topic.compression.codec", "zstd"},
         {NULL}},
        {"compression.type=lz4, the topic inherits it",
         COMPRESSION,
         {"compression.type", "lz4", "topic.compression.type", "inherit"},
         {NULL}},
        {"linger.ms=nan", NULL, {"linger.ms", "nan"}, {"delivery-covers-request"}},
        {"delivery.timeout.ms=0 is infinite",
         NULL,
         {"delivery.timeout.ms", "0"},
         {"delivery-timeout", "delivery-covers-request"}},
        {"queuing.strategy=lifo, refused by rd_kafka_new()",
         NULL,
         {"queuing.strategy", "lifo"},
         {"ksafe-librdkafka-refuses"}},
        {"socket.timeout.ms above transaction.timeout.ms + 100",
         NULL,
         {"transactional.id", "tx", "socket.timeout.ms", "70000"},
         {"ksafe-librdkafka-refuses"}},
        {"forbidden max.in.flight set to what idempotence makes it",
         NO_INFLIGHT,
         {"enable.idempotence", "true", "max.in.flight", "5"},
         {NULL}},
        {"forbidden max.in.flight set to 3",
         NO_INFLIGHT,
         {"enable.idempotence", "true", "max.in.flight", "3"},
         {"no-inflight"}},
};

/* Whether `report` fails exactly `rules` (policy rules and
 * ksafe-librdkafka-refuses; other ksafe-* findings are about a file's
 * writing). */
static void assert_fails_exactly(const ksafe_report_t *report, const char *const *rules,
                                 const char *what, const char *source)
{
        size_t want = 0;
        for (; want < 3 && rules[want]; want++)
                ck_assert_msg(find_violation(report, rules[want]), "%s (%s): %s not reported", what,
                              source, rules[want]);
        size_t got = 0;
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const char *id = ksafe_report_get(report, i)->rule_id;
                if (strncmp(id, "ksafe-", 6) != 0 || strcmp(id, "ksafe-librdkafka-refuses") == 0)
                        got++;
                else
                        continue;
                bool listed = false;
                for (size_t j = 0; j < want; j++)
                        listed |= strcmp(id, rules[j]) == 0;
                ck_assert_msg(listed, "%s (%s): %s reported: %s", what, source, id,
                              ksafe_report_get(report, i)->message);
        }
        ck_assert_msg(got == want, "%s (%s): %zu findings, expected %zu", what, source, got, want);
}

START_TEST(one_verdict_conf_and_file)
{
        const struct verdict_case *c = &verdict_cases[_i];
        ksafe_policy_t *policy = c->policy ? policy_from(c->policy, NULL) : ksafe_policy_default();
        /* Idempotent, so that only the row's own rules fail. */
        rd_kafka_conf_t *conf = conf_with(KV("enable.idempotence", "true"));
        set_all(conf, c->kv);
        ksafe_report_t *from_conf = ksafe_conf_check(conf, policy);
        assert_fails_exactly(from_conf, c->rules, c->what, "conf");

        char text[512] = "enable.idempotence=true\n";
        size_t len = strlen(text);
        for (size_t i = 0; c->kv[i]; i += 2)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s=%s\n", c->kv[i],
                                        c->kv[i + 1]);
        ksafe_error_t err = {0};
        ksafe_config_t *config =
                config_read_as(text, len, "f.properties", KSAFE_FORMAT_PROPERTIES, &err);
        ck_assert_msg(config != NULL, "%s", err.text);
        ksafe_report_t *from_file = ksafe_config_check(config, policy);
        assert_fails_exactly(from_file, c->rules, c->what, "file");

        /* A handle made from the same conf by plain rd_kafka_new(): its
         * audit fails the same rules; what librdkafka refuses is no handle. */
        bool refused = false;
        for (size_t i = 0; i < 3 && c->rules[i]; i++)
                refused |= strcmp(c->rules[i], "ksafe-librdkafka-refuses") == 0;
        set_all(conf, KV("log_level", "3"));
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg((rk == NULL) == refused, "%s: rd_kafka_new: %s", c->what,
                      rk ? "created" : errstr);
        if (rk) {
                ksafe_report_t *from_handle = ksafe_handle_audit(rk, policy);
                assert_fails_exactly(from_handle, c->rules, c->what, "handle");
                ksafe_report_destroy(from_handle);
                rd_kafka_destroy(rk);
        } else {
                rd_kafka_conf_destroy(conf);
        }

        ksafe_report_destroy(from_file);
        ksafe_config_destroy(config);
        ksafe_report_destroy(from_conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* A file's float is what librdkafka stores (strtod of the text), not its
 * %g reading: linger.ms=123456.4 is not 123456. */
START_TEST(file_float_as_librdkafka_stores_it)
{
        static const char text[] =
                "linger.ms=123456.4\nrequest.timeout.ms=30000\ndelivery.timeout.ms=153456\n";
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_error_t err = {0};
        ksafe_config_t *config = config_read_as(text, sizeof(text) - 1, "f.properties",
                                                KSAFE_FORMAT_PROPERTIES, &err);
        ck_assert_ptr_nonnull(config);
        ksafe_report_t *report = ksafe_config_check(config, policy);
        const ksafe_violation_t *v = find_violation(report, "delivery-covers-request");
        ck_assert_msg(v != NULL, "min_sum passed by a fraction");
        ck_assert_msg(strstr(v->expected, "153456.4"), "expected: %s", v->expected);
        ksafe_report_destroy(report);
        ksafe_config_destroy(config);
        ksafe_policy_destroy(policy);
}
END_TEST

/* forbidden + enforce: a file loses the line, a conf gets the value
 * librdkafka uses unset; no report suggests writing the default. */
START_TEST(forbidden_enforce_unsets)
{
        ksafe_policy_t *policy = policy_from(NO_INFLIGHT, NULL);
        static const char text[] = "enable.idempotence=true\nmax.in.flight=3\n";
        ksafe_error_t err = {0};
        ksafe_config_t *config = config_read_as(text, sizeof(text) - 1, "f.properties",
                                                KSAFE_FORMAT_PROPERTIES, &err);
        ck_assert_ptr_nonnull(config);
        ksafe_report_t *report = ksafe_config_enforce(config, policy);
        const ksafe_violation_t *v = find_violation(report, "no-inflight");
        ck_assert_ptr_nonnull(v);
        ck_assert(v->fixed);
        ck_assert_ptr_null(v->fix);
        ck_assert_msg(strstr(v->message, "remove it"), "%s", v->message);
        char *out = ksafe_config_render(config, NULL);
        ck_assert_str_eq(out, "enable.idempotence=true\n");
        free(out);
        ksafe_report_destroy(report);
        ksafe_config_destroy(config);

        rd_kafka_conf_t *conf = conf_with(KV("max.in.flight", "3", "log_level", "3"));
        report = ksafe_conf_enforce(conf, policy);
        ck_assert_int_eq(ksafe_report_rejected(report), 0);
        ck_assert_conf_value(conf, "max.in.flight", "5"); /* idempotence made it 5 */
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk != NULL, "rd_kafka_new refuses what enforcement wrote: %s", errstr);
        rd_kafka_destroy(rk);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
}
END_TEST

/*
 * ksafe_conf_enforce() on the facade's path: a table of what could differ
 * from a trial copy (refused conf unchanged, values set on conf itself,
 * topic-level values, floats, aliases, the conf's own interceptors), each
 * also cross-checked against ksafe_producer_new() on an identical conf:
 * one path, one report.
 */

/* What the conf's own on_conf_set interceptor does to what is set on it
 * after the test's own values. */
enum enforce_ic {
        IC_NONE,
        IC_LOG,           /* logs "name=value\n", takes nothing */
        IC_REFUSE_IDEMP,  /* refuses enable.idempotence=true */
        IC_REFUSE_ACKS,   /* refuses acks under any name (the default's second fix) */
        IC_SWALLOW_IDEMP, /* says it took enable.idempotence, drops it */
};

typedef struct ic_log_s {
        char text[1024];
        enum enforce_ic kind;
} ic_log_t;

static rd_kafka_conf_res_t enforce_ic_set(rd_kafka_conf_t *conf, const char *name, const char *val,
                                          char *errstr, size_t errstr_size, void *ic_opaque)
{
        (void)conf;
        ic_log_t *log = ic_opaque;
        size_t len = strlen(log->text);
        snprintf(log->text + len, sizeof(log->text) - len, "%s=%s\n", name, val);
        bool idemp = strcmp(name, "enable.idempotence") == 0;
        if ((log->kind == IC_REFUSE_IDEMP && idemp) ||
            (log->kind == IC_REFUSE_ACKS && strstr(name, "acks"))) {
                snprintf(errstr, errstr_size, "the application's interceptor refuses %s", name);
                return RD_KAFKA_CONF_INVALID;
        }
        if (log->kind == IC_SWALLOW_IDEMP && idemp)
                return RD_KAFKA_CONF_OK;
        return RD_KAFKA_CONF_UNKNOWN;
}

static const struct enforce_case {
        const char *what;
        const char *policy; /* NULL: the default */
        const char *kv[12];
        enum enforce_ic ic;
        bool rejected;
        bool unchanged;        /* rd_kafka_conf_dump() shows the same after */
        const char *after[10]; /* name, value read after ("topic.": the default topic conf) */
        const char *fixed[6];  /* rules fixed (none may be when rejected) */
        const char *unfixed[4];
        const char *seen; /* in what the interceptor saw set */
        const char *not_seen;
} enforce_cases[] = {
        {"unsafe conf: every value set",
         NULL,
         {"acks", "1", "enable.idempotence", "false", "max.in.flight", "100", "retries", "0",
          "delivery.timeout.ms", "0"},
         IC_NONE,
         false,
         false,
         {"enable.idempotence", "true", "acks", "-1", "max.in.flight", "5", "retries",
          "2147483647"},
         {"idempotence", "acks-all", "in-flight", "retries", "delivery-timeout"},
         {NULL},
         NULL,
         NULL},
        {"safe conf: nothing set",
         NULL,
         {"enable.idempotence", "true", "linger.ms", "20"},
         IC_LOG,
         false,
         true,
         {NULL},
         {NULL},
         {NULL},
         "queue.buffering.max.ms=20\n", /* its %g reading, the same */
         "idempotence"},
        {"reject rule: refused as given, conf unchanged",
         RULES("{\"id\":\"no-acks-1\",\"property\":\"acks\",\"one_of\":[\"all\",\"-1\"],"
               "\"action\":\"reject\"}"),
         {"acks", "1", "enable.idempotence", "false"},
         IC_LOG,
         true,
         true,
         {NULL},
         {NULL},
         {"no-acks-1", "acks-all", "idempotence"},
         NULL,
         "="},
        {"enforce rules in conflict: refused, conf unchanged",
         NULL,
         {"linger.ms", "100", "request.timeout.ms", "300000", "delivery.timeout.ms", "200000",
          "acks", "1"},
         IC_LOG,
         true,
         true,
         {NULL},
         {NULL},
         {"delivery-timeout", "acks-all"},
         NULL,
         "="},
        {"topic conf: topic.acks repaired in the default topic conf",
         NULL,
         {"topic.acks", "0"},
         IC_NONE,
         false,
         false,
         {"acks", "-1", "enable.idempotence", "true"},
         {"acks-all"},
         {NULL},
         NULL,
         NULL},
        {"topic-level twin: topic.compression.codec wins, it is repaired",
         RULES("{\"id\":\"lz4\",\"property\":\"compression.codec\",\"equals\":\"lz4\","
               "\"action\":\"enforce\"}"),
         {"enable.idempotence", "true", "compression.codec", "lz4", "topic.compression.codec",
          "gzip"},
         IC_NONE,
         false,
         false,
         {"compression.codec", "lz4", "topic.compression.codec", "lz4"},
         {"lz4"},
         {NULL},
         NULL,
         NULL},
        {"alias: max.in.flight.requests.per.connection",
         NULL,
         {"enable.idempotence", "true", "max.in.flight.requests.per.connection", "100"},
         IC_LOG,
         false,
         false,
         {"max.in.flight", "5", "max.in.flight.requests.per.connection", "5"},
         {"in-flight"},
         {NULL},
         "max.in.flight.requests.per.connection=5\n",
         NULL},
        {"alias: request.required.acks (topic-level)",
         NULL,
         {"enable.idempotence", "true", "request.required.acks", "1"},
         IC_NONE,
         false,
         false,
         {"acks", "-1", "request.required.acks", "-1"},
         {"acks-all"},
         {NULL},
         NULL,
         NULL},
        {"float: linger.ms is set to its %g reading, the value judged",
         NULL,
         {"enable.idempotence", "true", "linger.ms", "100000.4", "request.timeout.ms", "30000",
          "delivery.timeout.ms", "300000"},
         IC_LOG,
         false,
         false,
         {"linger.ms", "100000"},
         {NULL},
         {NULL},
         "queue.buffering.max.ms=100000\n",
         NULL},
        {"float under its alias: queue.buffering.max.ms",
         NULL,
         {"enable.idempotence", "true", "queue.buffering.max.ms", "100000.4", "request.timeout.ms",
          "5000", "delivery.timeout.ms", "100000"},
         IC_LOG,
         false,
         false,
         {"linger.ms", "100000", "delivery.timeout.ms", "105000"},
         {"delivery-covers-request"},
         {NULL},
         "queue.buffering.max.ms=100000\n",
         NULL},
        {"forbidden: the value librdkafka uses unset, as it is after the repairs",
         "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"allow_unsafe\":true,"
         "\"override\":{\"in-flight\":{\"off\":true}},\"rules\":[{\"id\":\"no-inflight\","
         "\"property\":\"max.in.flight\",\"forbidden\":true,\"action\":\"enforce\"}]}",
         {"max.in.flight", "3"},
         IC_NONE,
         false,
         false,
         {"max.in.flight", "5", "enable.idempotence", "true"},
         {"no-inflight", "idempotence"},
         {NULL},
         NULL,
         NULL},
        {"interceptor: the fixes are set on conf itself, once each",
         NULL,
         {"acks", "1"},
         IC_LOG,
         false,
         false,
         {"acks", "-1", "enable.idempotence", "true"},
         {"acks-all", "idempotence"},
         {NULL},
         "enable.idempotence=true\ntopic.request.required.acks=all\n",
         NULL},
        {"interceptor refuses the first fix: refused, conf unchanged",
         NULL,
         {"acks", "1"},
         IC_REFUSE_IDEMP,
         true,
         true,
         {NULL},
         {NULL},
         {"idempotence", "acks-all"},
         "enable.idempotence=true\n",
         "acks="},
        {"interceptor refuses the second fix: refused, the first stays set",
         NULL,
         {"acks", "1"},
         IC_REFUSE_ACKS,
         true,
         false,
         {"enable.idempotence", "true", "acks", "1"},
         {"idempotence"},
         {"acks-all"},
         "acks=all\n",
         NULL},
        {"interceptor drops a fix: refused by conf as it is",
         NULL,
         {"acks", "1"},
         IC_SWALLOW_IDEMP,
         true,
         false,
         {"enable.idempotence", "false"},
         {NULL},
         {NULL},
         "enable.idempotence=true\n",
         NULL},
};

/* conf with the case's values, then its interceptor (logging into log). */
static rd_kafka_conf_t *enforce_case_conf(const struct enforce_case *c, ic_log_t *log)
{
        rd_kafka_conf_t *conf = conf_with(c->kv);
        *log = (ic_log_t){.kind = c->ic};
        if (c->ic != IC_NONE)
                ck_assert_int_eq(rd_kafka_conf_interceptor_add_on_conf_set(conf, "test-ic",
                                                                           enforce_ic_set, log),
                                 RD_KAFKA_RESP_ERR_NO_ERROR);
        return conf;
}

START_TEST(enforce_on_the_facade_path)
{
        const struct enforce_case *c = &enforce_cases[_i];
        ksafe_policy_t *policy = c->policy ? policy_from(c->policy, NULL) : ksafe_policy_default();
        ic_log_t log;
        rd_kafka_conf_t *conf = enforce_case_conf(c, &log);
        char *before = conf_snapshot(conf);

        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_ptr_nonnull(report);
        ck_assert_msg(ksafe_report_rejected(report) == c->rejected, "%s: rejected is %d", c->what,
                      ksafe_report_rejected(report));
        if (c->unchanged)
                ck_assert_conf_unchanged(before, conf);
        for (size_t i = 0; c->after[i]; i += 2) {
                char v[512] = "";
                size_t size = sizeof(v);
                const char *name = c->after[i];
                rd_kafka_conf_res_t res =
                        strncmp(name, "topic.", 6) == 0
                                ? rd_kafka_topic_conf_get(
                                          rd_kafka_conf_get_default_topic_conf(conf), name + 6, v,
                                          &size)
                                : rd_kafka_conf_get(conf, name, v, &size);
                ck_assert_msg(res == RD_KAFKA_CONF_OK && strcmp(v, c->after[i + 1]) == 0,
                              "%s: %s is %s, expected %s", c->what, c->after[i],
                              size <= sizeof(v) ? v : "?", c->after[i + 1]);
        }
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                ck_assert_msg(!c->rejected || c->ic > IC_REFUSE_IDEMP || !v->fixed,
                              "%s: refused, yet %s is fixed", c->what, v->rule_id);
        }
        for (size_t i = 0; c->fixed[i]; i++) {
                const ksafe_violation_t *v = find_violation(report, c->fixed[i]);
                ck_assert_msg(v && v->fixed, "%s: %s is not fixed", c->what, c->fixed[i]);
        }
        for (size_t i = 0; c->unfixed[i]; i++) {
                const ksafe_violation_t *v = find_violation(report, c->unfixed[i]);
                ck_assert_msg(v && !v->fixed, "%s: %s is fixed", c->what, c->unfixed[i]);
        }
        if (c->seen)
                ck_assert_msg(strstr(log.text, c->seen), "%s: the interceptor saw \"%s\"", c->what,
                              log.text);
        if (c->not_seen)
                ck_assert_msg(!strstr(log.text, c->not_seen), "%s: the interceptor saw \"%s\"",
                              c->what, log.text);
        if (!c->rejected) {
                /* What enforcement left passes a check of its own. */
                ksafe_report_t *again = ksafe_conf_check(conf, policy);
                for (size_t i = 0; i < ksafe_report_count(again); i++)
                        ck_assert_msg(ksafe_report_get(again, i)->action == KSAFE_ACTION_WARN,
                                      "%s: %s fails after enforcement", c->what,
                                      ksafe_report_get(again, i)->rule_id);
                ksafe_report_destroy(again);
        }

        /* The facade on an identical conf: the same report. */
        ic_log_t plog;
        rd_kafka_conf_t *pconf = enforce_case_conf(c, &plog);
        ck_assert_int_eq(rd_kafka_conf_set(pconf, "log_level", "0", NULL, 0), RD_KAFKA_CONF_OK);
        plog.text[0] = '\0';
        ksafe_report_t *preport = NULL;
        char errstr[512];
        rd_kafka_t *rk = ksafe_producer_new(pconf, policy, &preport, errstr, sizeof(errstr));
        ck_assert_msg((rk == NULL) == c->rejected, "%s: the facade %s: %s", c->what,
                      rk ? "created a producer" : "refused", errstr);
        char *json = ksafe_report_to_json(report), *pjson = ksafe_report_to_json(preport);
        ck_assert_msg(strcmp(json, pjson) == 0, "%s: conf %s, facade %s", c->what, json, pjson);
        /* (rd_kafka_new() sets client.software.version after ksafe's) */
        ck_assert_msg(strncmp(log.text, plog.text, strlen(log.text)) == 0,
                      "%s: conf saw \"%s\", facade \"%s\"", c->what, log.text, plog.text);
        free(json);
        free(pjson);
        if (rk)
                rd_kafka_destroy(rk);
        else
                rd_kafka_conf_destroy(pconf);
        ksafe_report_destroy(preport);

        free(before);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

static Suite *conf_suite(void)
{
        Suite *s = suite_create("conf");
        TCase *tc;

        tc = tcase_create("check");
        tcase_add_test(tc, check_reports_and_changes_nothing);
        tcase_add_test(tc, check_shows_values_as_librdkafka_reads_them);
        tcase_add_test(tc, check_follows_finalize_model);
        tcase_add_test(tc, check_empty_conf_judges_defaults);
        tcase_add_test(tc, check_explicit_values_with_idempotence);
        tcase_add_test(tc, check_explicit_default_values_are_set);
        suite_add_tcase(s, tc);

        tc = tcase_create("enforce");
        tcase_add_test(tc, enforce_sets_compliant_values);
        tcase_add_test(tc, enforce_topic_prefixed_property);
        tcase_add_test(tc, enforce_safe_conf_is_a_no_op);
        tcase_add_test(tc, enforce_reject_leaves_conf_unchanged);
        tcase_add_test(tc, enforce_warn_is_not_fatal);
        tcase_add_test(tc, enforce_conflict_is_refused);
        tcase_add_test(tc, enforce_revisits_rules_after_a_repair);
        tcase_add_test(tc, enforce_respects_transaction_timeout);
        tcase_add_test(tc, enforce_refused_as_given_names_reject_rules_only);
        tcase_add_test(tc, enforce_policy_environment);
        tcase_add_test(tc, enforce_secret_value_is_set_not_shown);
        tcase_add_test(tc, enforce_required);
        tcase_add_loop_test(tc, enforce_on_the_facade_path, 0,
                            (int)(sizeof(enforce_cases) / sizeof(enforce_cases[0])));
        suite_add_tcase(s, tc);

        tc = tcase_create("verdict");
        tcase_set_timeout(tc, 30);
        tcase_add_loop_test(tc, one_verdict_conf_and_file, 0,
                            (int)(sizeof(verdict_cases) / sizeof(*verdict_cases)));
        tcase_add_test(tc, file_float_as_librdkafka_stores_it);
        tcase_add_test(tc, forbidden_enforce_unsets);
        suite_add_tcase(s, tc);

        tc = tcase_create("report");
        tcase_add_test(tc, report_accessors);
        tcase_add_test(tc, report_null_safety);
        tcase_add_test(tc, report_json_shape);
        tcase_add_test(tc, report_json_rejected_and_clean);
        tcase_add_test(tc, report_text_one_line_per_violation);
        tcase_add_test(tc, report_text_says_what_was_enforced);
        tcase_add_test(tc, report_allow_unsafe_is_visible);
        tcase_add_test(tc, report_escapes_values);
        tcase_add_loop_test(tc, report_redacts_secrets, 0,
                            (int)(sizeof(secret_cases) / sizeof(*secret_cases)));
        suite_add_tcase(s, tc);
        return s;
}

KSAFE_TEST_MAIN(conf_suite)
