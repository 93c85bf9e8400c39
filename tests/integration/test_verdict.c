/*
 * One verdict: the same settings get the same findings, whatever source
 * they arrive from. Seeded random producer settings are given to ksafe as
 *   - a librdkafka conf (ksafe_conf_check, ksafe_conf_enforce),
 *   - a .properties file, a JSON file and kcat's -X (ksafe_config_*),
 *   - a created handle (ksafe_handle_audit), when rd_kafka_new() accepts
 *     the conf,
 * and under several policies the rule findings (rule id, severity and the
 * fix that enforcement writes) must agree. librdkafka is the judge: a conf
 * that rd_kafka_new() refuses must never pass, and what ksafe's
 * enforcement makes of a conf must be created by rd_kafka_new() and pass
 * the audit.
 *
 * Engine findings (ksafe-*) describe how a file is written and exist only
 * for files: they are left out of the comparison.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksafe.h>

/* Settings to draw from: every property the policies below judge, with
 * values on both sides of each rule, aliases and topic-level names too. */
static const struct pool_s {
        const char *name;
        const char *values[6];
} pool[] = {
        {"enable.idempotence", {"true", "false", "TRUE", "0"}},
        {"acks", {"all", "1", "0", "-1"}},
        {"request.required.acks", {"all", "1"}},
        {"topic.acks", {"1", "all"}},
        {"max.in.flight", {"1", "5", "6", "1000000"}},
        {"max.in.flight.requests.per.connection", {"5", "100"}},
        {"retries", {"0", "3", "2147483647"}},
        {"message.send.max.retries", {"1", "0"}},
        {"delivery.timeout.ms", {"0", "1000", "120000", "300000", "500"}},
        {"message.timeout.ms", {"60000", "400000"}},
        {"linger.ms", {"0", "5", "1000", "200", "100000"}},
        {"request.timeout.ms", {"30000", "5000", "200000"}},
        {"transactional.id", {"tx-1"}},
        {"transaction.timeout.ms", {"60000", "10000", "900000"}},
        {"compression.type", {"none", "lz4", "zstd"}},
        {"client.id", {"svc", "rdkafka"}},
        {"security.protocol", {"plaintext", "ssl", "SASL_SSL", "sasl_plaintext"}},
        /* rd_kafka_new()'s own SASL checks: mechanisms by exact name, and
         * every %{property} of the kinit command for GSSAPI (the default
         * one names sasl.kerberos.keytab, which stays unset here: a
         * command that renders is run by rd_kafka_new(), so it is `true`) */
        {"sasl.mechanisms", {"GSSAPI", "PLAIN", "plain", "SCRAM-SHA-256", "scram-sha-512",
                             "SCRAM-SHA-384"}},
        {"sasl.username", {"svc", ""}},
        {"sasl.password", {"x"}},
        {"sasl.kerberos.kinit.cmd", {"true %{sasl.kerberos.principal}",
                                     "true %{sasl.kerberos.keytab}", "true %{no.such}"}},
        {"sasl.kerberos.min.time.before.relogin", {"0", "60000"}},
        {"queuing.strategy", {"fifo"}},
        {"batch.num.messages", {"10000", "100"}},
        /* properties that finalize derives or adjusts, and topic twins */
        {"socket.timeout.ms", {"60000", "10000", "120000"}},
        {"sticky.partitioning.linger.ms", {"10", "1000"}},
        {"compression.codec", {"none", "lz4", "gzip"}},
        {"topic.compression.type", {"inherit", "none", "zstd"}},
        {"queue.buffering.backpressure.threshold", {"1", "10"}},
        {"linger.ms", {"0.5", "10"}},
};
#define POOL_SIZE (sizeof(pool) / sizeof(*pool))
#define MAX_KV 10

typedef struct kv_s {
        const char *name, *value;
} kv_t;

typedef struct settings_s {
        kv_t kv[MAX_KV];
        size_t count;
} settings_t;

/* A small deterministic generator: the same cases on every machine. */
static unsigned long long rng_state;
static unsigned rng(unsigned n)
{
        rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
        return (unsigned)((rng_state >> 33) % n);
}

static void draw(settings_t *s)
{
        s->count = rng(MAX_KV + 1);
        for (size_t i = 0; i < s->count; i++) {
                const struct pool_s *p = &pool[rng(POOL_SIZE)];
                size_t nvalues = 0;
                while (nvalues < 6 && p->values[nvalues])
                        nvalues++;
                s->kv[i] = (kv_t){p->name, p->values[rng((unsigned)nvalues)]};
        }
}

static void describe(const settings_t *s, char *out, size_t size)
{
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; i < s->count && len < size; i++)
                len += (size_t)snprintf(out + len, size - len, "%s%s=%s", i ? " " : "",
                                        s->kv[i].name, s->kv[i].value);
}

/* The rule findings of a report, one "rule/severity/fix" line each, sorted:
 * what every source must agree on. free() it. */
static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *verdict_of(const ksafe_report_t *report, bool with_fix)
{
        ck_assert_ptr_nonnull(report);
        size_t n = ksafe_report_count(report), count = 0;
        char **lines = calloc(n + 1, sizeof(*lines));
        ck_assert_ptr_nonnull(lines);
        for (size_t i = 0; i < n; i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (strncmp(v->rule_id, "ksafe-", 6) == 0)
                        continue;
                char line[512];
                snprintf(line, sizeof(line), "%s/%s/%s", v->rule_id,
                         ksafe_severity_name(v->severity),
                         with_fix && v->fix ? v->fix : "-");
                lines[count++] = strdup(line);
        }
        qsort(lines, count, sizeof(*lines), cmp_str);
        size_t total = 1;
        for (size_t i = 0; i < count; i++)
                total += strlen(lines[i]) + 1;
        char *text = malloc(total), *end = text;
        ck_assert_ptr_nonnull(text);
        for (size_t i = 0; i < count; i++) {
                size_t len = strlen(lines[i]);
                memcpy(end, lines[i], len);
                end[len] = '\n';
                end += len + 1;
                free(lines[i]);
        }
        *end = '\0';
        free(lines);
        return text;
}

static bool has_engine_error(const ksafe_report_t *report)
{
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (v->severity == KSAFE_SEVERITY_ERROR)
                        return true;
        }
        return false;
}

/* Handles are made to be judged, not used: their logs (no bootstrap.servers,
 * deprecated properties) would only clutter the TAP output. */
static void quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk, (void)level, (void)fac, (void)buf;
}

/* NULL when librdkafka refuses one of the values (then no source may pass). */
static rd_kafka_conf_t *conf_of(const settings_t *s)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        for (size_t i = 0; i < s->count; i++)
                if (rd_kafka_conf_set(conf, s->kv[i].name, s->kv[i].value, errstr,
                                      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        return conf;
}

static ksafe_config_t *properties_of(const settings_t *s)
{
        char text[2048];
        size_t len = 0;
        for (size_t i = 0; i < s->count; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s=%s\n",
                                        s->kv[i].name, s->kv[i].value);
        ksafe_config_options_t opts = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                       .format = KSAFE_FORMAT_PROPERTIES};
        ksafe_error_t err;
        ksafe_config_t *config = ksafe_config_read(text, len, "case.properties", &opts, &err);
        ck_assert_msg(config != NULL, "properties: %s", err.text);
        return config;
}

/* JSON keeps the last of a repeated key in some readers and the first in
 * others (an engine error): only settings without repeats reach here. */
static ksafe_config_t *json_of(const settings_t *s)
{
        char text[2048];
        size_t len = (size_t)snprintf(text, sizeof(text), "{");
        for (size_t i = 0; i < s->count; i++)
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"%s\": \"%s\"",
                                        i ? ", " : "", s->kv[i].name, s->kv[i].value);
        len += (size_t)snprintf(text + len, sizeof(text) - len, "}\n");
        ksafe_config_options_t opts = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                       .format = KSAFE_FORMAT_JSON};
        ksafe_error_t err;
        ksafe_config_t *config = ksafe_config_read(text, len, "case.json", &opts, &err);
        ck_assert_msg(config != NULL, "json: %s", err.text);
        return config;
}

static ksafe_config_t *command_line_of(const settings_t *s)
{
        ksafe_error_t err;
        ksafe_config_t *config = ksafe_config_read("", 0, "empty.properties", NULL, &err);
        ck_assert_ptr_nonnull(config);
        for (size_t i = 0; i < s->count; i++)
                ck_assert(ksafe_config_set(config, s->kv[i].name, s->kv[i].value, NULL));
        return config;
}

/* Does the same canonical property appear twice (aliases included)? */
static bool repeats(const settings_t *s)
{
        static const char *const same[][3] = {
                {"acks", "request.required.acks", "topic.acks"},
                {"max.in.flight", "max.in.flight.requests.per.connection", NULL},
                {"retries", "message.send.max.retries", NULL},
                {"delivery.timeout.ms", "message.timeout.ms", NULL},
                {"compression.type", "compression.codec", NULL},
        };
        for (size_t i = 0; i < s->count; i++)
                for (size_t j = i + 1; j < s->count; j++) {
                        if (strcmp(s->kv[i].name, s->kv[j].name) == 0)
                                return true;
                        for (size_t k = 0; k < sizeof(same) / sizeof(*same); k++) {
                                bool a = false, b = false;
                                for (size_t m = 0; m < 3 && same[k][m]; m++) {
                                        a |= strcmp(s->kv[i].name, same[k][m]) == 0;
                                        b |= strcmp(s->kv[j].name, same[k][m]) == 0;
                                }
                                if (a && b)
                                        return true;
                        }
                }
        return false;
}

static const char *const policies[] = {
        NULL, /* the built-in default */
        "{\"ksafe_policy\": 1, \"name\": \"mixed\", \"extends\": \"builtin:default\","
        " \"rules\": ["
        "  {\"id\": \"tls\", \"property\": \"security.protocol\","
        "   \"one_of\": [\"ssl\", \"sasl_ssl\"], \"action\": \"warn\"},"
        "  {\"id\": \"lz4\", \"property\": \"compression.type\", \"one_of\": [\"lz4\", \"zstd\"],"
        "   \"action\": \"reject\"},"
        "  {\"id\": \"linger\", \"property\": \"linger.ms\", \"min\": 1, \"max\": 100,"
        "   \"set\": 5, \"action\": \"enforce\"},"
        "  {\"id\": \"client-id\", \"property\": \"client.id\", \"required\": true,"
        "   \"action\": \"warn\"},"
        "  {\"id\": \"sticky\", \"property\": \"sticky.partitioning.linger.ms\", \"max\": 20,"
        "   \"action\": \"warn\"},"
        "  {\"id\": \"socket\", \"property\": \"socket.timeout.ms\", \"max\": 60000,"
        "   \"action\": \"reject\"}],"
        " \"override\": {\"in-flight\": {\"max\": 1},"
        "   \"delivery-timeout\": {\"max\": 180000}}}",
        "{\"ksafe_policy\": 1, \"name\": \"strict\", \"extends\": \"builtin:default\","
        " \"override\": {\"acks-all\": {\"action\": \"reject\"},"
        "   \"idempotence\": {\"action\": \"reject\"}}}",
};
#define POLICY_COUNT (sizeof(policies) / sizeof(*policies))

static ksafe_policy_t *policy_at(size_t i)
{
        if (!policies[i])
                return ksafe_policy_default();
        ksafe_error_t err;
        ksafe_policy_t *policy = ksafe_policy_load_string(policies[i], NULL, &err);
        ck_assert_msg(policy != NULL, "policy %zu: %s at %s", i, err.text, err.path);
        return policy;
}

#define CASES 400

/* Check and enforce agree across conf, .properties, JSON and -X. */
START_TEST(every_source_gets_one_verdict)
{
        ksafe_policy_t *policy = policy_at((size_t)_i);
        rng_state = 20261201u + (unsigned)_i;
        size_t compared = 0;
        for (int c = 0; c < CASES; c++) {
                settings_t s;
                draw(&s);
                char what[1024];
                describe(&s, what, sizeof(what));
                rd_kafka_conf_t *conf = conf_of(&s);
                if (!conf || repeats(&s)) {
                        if (conf)
                                rd_kafka_conf_destroy(conf);
                        continue;
                }
                compared++;
                ksafe_report_t *r_conf = ksafe_conf_check(conf, policy);
                char *want = verdict_of(r_conf, false);

                ksafe_config_t *configs[3] = {properties_of(&s), json_of(&s),
                                              command_line_of(&s)};
                static const char *const names[] = {"properties", "json", "-X"};
                for (size_t k = 0; k < 3; k++) {
                        ksafe_report_t *r = ksafe_config_check(configs[k], policy);
                        char *got = verdict_of(r, false);
                        ck_assert_msg(strcmp(want, got) == 0,
                                      "policy %d, [%s]: conf says\n%s%s says\n%s", _i, what,
                                      want, names[k], got);
                        free(got);
                        ksafe_report_destroy(r);
                }

                /* Enforcement: the same repairs, with the same values. */
                ksafe_report_t *e_conf = ksafe_conf_enforce(conf, policy);
                char *want_fix = verdict_of(e_conf, true);
                for (size_t k = 0; k < 3; k++) {
                        ksafe_report_t *r = ksafe_config_enforce(configs[k], policy);
                        char *got = verdict_of(r, true);
                        ck_assert_msg(strcmp(want_fix, got) == 0,
                                      "policy %d, [%s]: conf enforcement\n%s%s enforcement\n%s",
                                      _i, what, want_fix, names[k], got);
                        ck_assert_msg(ksafe_report_rejected(r) == ksafe_report_rejected(e_conf),
                                      "policy %d, [%s]: %s enforcement %s, conf's %s", _i, what,
                                      names[k], ksafe_report_rejected(r) ? "refused" : "done",
                                      ksafe_report_rejected(e_conf) ? "refused" : "done");
                        free(got);
                        ksafe_report_destroy(r);
                        ksafe_config_destroy(configs[k]);
                }
                free(want_fix);
                ksafe_report_destroy(e_conf);
                free(want);
                ksafe_report_destroy(r_conf);
                rd_kafka_conf_destroy(conf);
        }
        ck_assert_msg(compared > CASES / 3, "only %zu cases compared", compared);
        ksafe_policy_destroy(policy);
}
END_TEST

/*
 * librdkafka is the judge: what rd_kafka_new() refuses never passes a
 * check, what it creates is judged the same as the conf it came from, and
 * what enforcement makes of a conf is created and passes the audit.
 */
START_TEST(librdkafka_agrees_with_the_verdict)
{
        ksafe_policy_t *policy = policy_at((size_t)_i);
        rng_state = 777u + (unsigned)_i;
        for (int c = 0; c < CASES; c++) {
                settings_t s;
                draw(&s);
                char what[1024];
                describe(&s, what, sizeof(what));
                rd_kafka_conf_t *conf = conf_of(&s);
                if (!conf)
                        continue;
                ksafe_report_t *check = ksafe_conf_check(conf, policy);
                char *want = verdict_of(check, false);

                char errstr[512];
                rd_kafka_conf_t *copy = rd_kafka_conf_dup(conf);
                rd_kafka_conf_set_log_cb(copy, quiet);
                rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, copy, errstr, sizeof(errstr));
                if (!rk) {
                        rd_kafka_conf_destroy(copy);
                        ck_assert_msg(has_engine_error(check),
                                      "policy %d, [%s]: rd_kafka_new refuses (%s) but the check "
                                      "reports no error",
                                      _i, what, errstr);
                } else {
                        ksafe_report_t *audit = ksafe_handle_audit(rk, policy);
                        char *got = verdict_of(audit, false);
                        ck_assert_msg(strcmp(want, got) == 0,
                                      "policy %d, [%s]: conf check\n%saudit of the handle\n%s",
                                      _i, what, want, got);
                        free(got);
                        ksafe_report_destroy(audit);
                        rd_kafka_destroy(rk);
                }

                ksafe_report_t *enforced = ksafe_conf_enforce(conf, policy);
                if (!ksafe_report_rejected(enforced)) {
                        rd_kafka_conf_set_log_cb(conf, quiet);
                        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
                        ck_assert_msg(rk != NULL,
                                      "policy %d, [%s]: enforced, but rd_kafka_new refuses: %s",
                                      _i, what, errstr);
                        conf = NULL;
                        ksafe_report_t *audit = ksafe_handle_audit(rk, policy);
                        for (size_t i = 0; i < ksafe_report_count(audit); i++) {
                                const ksafe_violation_t *v = ksafe_report_get(audit, i);
                                ck_assert_msg(v->action == KSAFE_ACTION_WARN,
                                              "policy %d, [%s]: enforced, created, and the "
                                              "audit finds: %s [%s]",
                                              _i, what, v->message, v->rule_id);
                        }
                        ksafe_report_destroy(audit);
                        rd_kafka_destroy(rk);
                }
                ksafe_report_destroy(enforced);
                free(want);
                ksafe_report_destroy(check);
                if (conf)
                        rd_kafka_conf_destroy(conf);
        }
        ksafe_policy_destroy(policy);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("verdict");
        TCase *tc = tcase_create("sources");
        tcase_set_timeout(tc, 300);
        tcase_add_loop_test(tc, every_source_gets_one_verdict, 0, (int)POLICY_COUNT);
        tcase_add_loop_test(tc, librdkafka_agrees_with_the_verdict, 0, (int)POLICY_COUNT);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
