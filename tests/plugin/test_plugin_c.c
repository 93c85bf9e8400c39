/*
 * The plugin's entry points as librdkafka calls them, from C: what no
 * client above can reach (a default topic conf set through its dedicated
 * API bypasses on_conf_set: the audit must make that producer fail
 * closed), rd_kafka_conf_dup() of a conf under ksafe, a failed load, and
 * the log lines (secrets redacted).
 *
 * The plugin is loaded by full path: KSAFE_PLUGIN_PATH (set by meson).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static const char *plugin_path(void)
{
        const char *p = getenv("KSAFE_PLUGIN_PATH");
        ck_assert_msg(p && *p, "KSAFE_PLUGIN_PATH is not set");
        return p;
}

/* Every line logged through the conf's log_cb. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logged[1 << 16];

static void keep_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk;
        pthread_mutex_lock(&log_lock);
        size_t n = strlen(logged);
        snprintf(logged + n, sizeof(logged) - n, "%d|%s|%s\n", level, fac, buf);
        pthread_mutex_unlock(&log_lock);
}

static void set_ok(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[512];
        ck_assert_msg(rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
                              RD_KAFKA_CONF_OK,
                      "%s=%s: %s", name, value, errstr);
}

static rd_kafka_conf_t *plugin_conf(void)
{
        logged[0] = '\0';
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, keep_log);
        set_ok(conf, "test.mock.num.brokers", "1");
        set_ok(conf, "plugin.library.paths", plugin_path());
        return conf;
}

static void setup(void)
{
        unsetenv("KSAFE_POLICY");
        unsetenv("KSAFE_ENV");
}

/* Write `json` to a new file from the template `path` ("...XXXXXX", made
 * unique here) and name it in KSAFE_POLICY; the test unlinks it. */
static void use_policy(char *path, const char *json)
{
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
        close(fd);
        setenv("KSAFE_POLICY", path, 1);
}

/* A default topic conf given through rd_kafka_conf_set_default_topic_conf()
 * is a pointer property: no on_conf_set sees it. The producer made from it
 * is unsafe; on_new's audit finds it, and it cannot produce. */
START_TEST(unsafe_handle_fails_closed)
{
        rd_kafka_conf_t *conf = plugin_conf();
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[512];
        ck_assert_int_eq(
                rd_kafka_topic_conf_set(tconf, "message.timeout.ms", "0", errstr, sizeof(errstr)),
                RD_KAFKA_CONF_OK);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s", errstr);
        rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"),
                                                    RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END);
        ck_assert_msg(err == RD_KAFKA_RESP_ERR__FATAL, "produce: %s", rd_kafka_err2name(err));
        ck_assert_int_ne(rd_kafka_fatal_error(rk, errstr, sizeof(errstr)), 0);
        ck_assert_msg(strstr(errstr, "ksafe: policy builtin:default (no environment): the "
                                     "created producer is unsafe") &&
                              strstr(errstr, "[delivery-timeout]"),
                      "%s", errstr);
        ck_assert_msg(strstr(logged, "3|KSAFE|ksafe: policy builtin:default (no environment): "
                                     "the created producer is unsafe"),
                      "%s", logged);
        rd_kafka_destroy(rk);
}
END_TEST

/* The same producer without the plugin produces: the test above fails
 * for the plugin's reason, not the conf's. */
START_TEST(same_handle_without_plugin_produces)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set_ok(conf, "test.mock.num.brokers", "1");
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[512];
        ck_assert_int_eq(
                rd_kafka_topic_conf_set(tconf, "message.timeout.ms", "0", errstr, sizeof(errstr)),
                RD_KAFKA_CONF_OK);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s", errstr);
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_VALUE("x", 1),
                                           RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
        rd_kafka_destroy(rk);
}
END_TEST

/* A safe producer: one "active" line, no fatal error, it produces. */
START_TEST(safe_handle_produces)
{
        rd_kafka_conf_t *conf = plugin_conf();
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s", errstr);
        ck_assert_int_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_VALUE("x", 1),
                                           RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
        ck_assert_int_eq(rd_kafka_fatal_error(rk, errstr, sizeof(errstr)), 0);
        const char *active = "6|KSAFE|ksafe: policy builtin:default (no environment) active\n";
        const char *first = strstr(logged, active);
        ck_assert_msg(first && !strstr(first + 1, active), "%s", logged);
        ck_assert_msg(strstr(logged, "4|KSAFE|ksafe: policy builtin:default (no environment) "
                                     "enforced enable.idempotence=true"),
                      "%s", logged);
        rd_kafka_destroy(rk);
}
END_TEST

/* A refused set leaves the value as it was. */
START_TEST(refused_set_changes_nothing)
{
        rd_kafka_conf_t *conf = plugin_conf();
        char errstr[512], value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_set(conf, "max.in.flight", "0x10", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_INVALID);
        ck_assert_msg(strstr(errstr, "refuses max.in.flight=0x10") && strstr(errstr, "[in-flight]"),
                      "%s", errstr);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "max.in.flight", value, &size), RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "1000000");
        /* A safe value goes through; a warn-free reset to the default too. */
        set_ok(conf, "max.in.flight", "3");
        set_ok(conf, "acks", "all");
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* rd_kafka_conf_dup() copies the interceptors (on_conf_dup) and runs
 * conf_init on the copy: the copy is as guarded, and as safe. */
START_TEST(dup_keeps_the_guard)
{
        rd_kafka_conf_t *conf = plugin_conf();
        set_ok(conf, "max.in.flight", "2");
        rd_kafka_conf_t *copy = rd_kafka_conf_dup(conf);
        rd_kafka_conf_destroy(conf);
        char errstr[512], value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(copy, "max.in.flight", value, &size), RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "2");
        size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(copy, "enable.idempotence", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "true");
        ck_assert_int_eq(rd_kafka_conf_set(copy, "acks", "1", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_INVALID);
        ck_assert_msg(strstr(errstr, "[acks-all]"), "%s", errstr);
        rd_kafka_conf_t *again = rd_kafka_conf_dup(copy);
        rd_kafka_conf_destroy(copy);
        logged[0] = '\0';
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, again, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s", errstr);
        ck_assert_int_eq(rd_kafka_fatal_error(rk, errstr, sizeof(errstr)), 0);
        ck_assert_msg(strstr(logged, "ksafe: policy builtin:default (no environment) active"), "%s",
                      logged);
        rd_kafka_destroy(rk);
}
END_TEST

/* rd_kafka_conf_dup() copies properties in librdkafka's table order, and
 * transactional.id comes after plugin.library.paths: a conf_init that
 * judged the half-made copy would find a required transactional.id
 * missing and fail, leaving the copy without ksafe. The copy inherits the
 * original's judgement instead. */
START_TEST(dup_of_a_later_property)
{
        char path[] = "/tmp/ksafe-plugin-XXXXXX";
        const char *policy = "{\"ksafe_policy\": 1, \"name\": \"txn\", \"extends\": "
                             "\"builtin:default\", \"rules\": [{\"id\": \"txn-id\", "
                             "\"property\": \"transactional.id\", \"required\": true, "
                             "\"action\": \"reject\"}]}";
        use_policy(path, policy);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set_ok(conf, "transactional.id", "tx-1");
        set_ok(conf, "plugin.library.paths", plugin_path());
        rd_kafka_conf_t *copy = rd_kafka_conf_dup(conf);
        char errstr[512], value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(copy, "plugin.library.paths", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, plugin_path());
        ck_assert_int_eq(rd_kafka_conf_set(copy, "acks", "1", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_INVALID);
        ck_assert_msg(strstr(errstr, "[acks-all]"), "%s", errstr);
        rd_kafka_conf_destroy(copy);
        rd_kafka_conf_destroy(conf);
        unlink(path);
}
END_TEST

/* An unusable policy fails the load with the located error, and a reject
 * found by conf_init fails it with ksafe's refusal: no interceptor is left
 * behind (the next set is librdkafka's alone). */
START_TEST(failed_load)
{
        char path[] = "/tmp/ksafe-plugin-XXXXXX";
        const char *broken = "{\n  \"ksafe_policy\": 1,\n  \"name\": \"x\" \"y\"\n}\n";
        use_policy(path, broken);
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512], want[600];
        ck_assert_int_eq(rd_kafka_conf_set(conf, "plugin.library.paths", plugin_path(), errstr,
                                           sizeof(errstr)),
                         RD_KAFKA_CONF_INVALID);
        snprintf(want, sizeof(want), "ksafe: cannot load the policy %s:3:", path);
        ck_assert_msg(strstr(errstr, want), "%s", errstr);
        rd_kafka_conf_destroy(conf);
        unlink(path);

        /* A policy whose reject rule the conf already breaks. */
        char rpath[] = "/tmp/ksafe-plugin-XXXXXX";
        const char *policy = "{\"ksafe_policy\": 1, \"name\": \"strict\", \"extends\": "
                             "\"builtin:default\", \"rules\": [{\"id\": \"low-linger\", "
                             "\"property\": \"linger.ms\", \"max\": 50, \"action\": \"reject\"}]}";
        use_policy(rpath, policy);
        conf = rd_kafka_conf_new();
        set_ok(conf, "linger.ms", "100");
        ck_assert_int_eq(rd_kafka_conf_set(conf, "plugin.library.paths", plugin_path(), errstr,
                                           sizeof(errstr)),
                         RD_KAFKA_CONF_INVALID);
        ck_assert_msg(strstr(errstr, "ksafe: policy \"strict\" refuses this configuration") &&
                              strstr(errstr, "[low-linger]"),
                      "%s", errstr);
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "enable.idempotence", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "false"); /* refused as given: nothing enforced */
        set_ok(conf, "acks", "1");        /* no interceptor left */
        rd_kafka_conf_destroy(conf);
        unlink(rpath);
}
END_TEST

/* A warn rule on a secret: the warning is logged, the value never. */
START_TEST(secrets_redacted)
{
        char path[] = "/tmp/ksafe-plugin-XXXXXX";
        const char *policy = "{\"ksafe_policy\": 1, \"name\": \"pw\", \"extends\": "
                             "\"builtin:default\", \"rules\": [{\"id\": \"no-username\", "
                             "\"property\": \"sasl.username\", \"forbidden\": true, "
                             "\"action\": \"warn\"}, {\"id\": \"short-password\", "
                             "\"property\": \"sasl.password\", \"forbidden\": true, "
                             "\"action\": \"reject\"}]}";
        use_policy(path, policy);
        rd_kafka_conf_t *conf = plugin_conf();
        char errstr[512];
        ck_assert_int_eq(
                rd_kafka_conf_set(conf, "sasl.password", "hunter2-secret", errstr, sizeof(errstr)),
                RD_KAFKA_CONF_INVALID);
        ck_assert_msg(strstr(errstr, "refuses sasl.password=(redacted)") &&
                              strstr(errstr, "[short-password]") && !strstr(errstr, "hunter2"),
                      "%s", errstr);
        set_ok(conf, "sasl.username", "alice-secret");
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s", errstr);
        ck_assert_msg(strstr(logged, "4|KSAFE|ksafe: policy pw (no environment) warns: ") &&
                              strstr(logged, "[no-username]"),
                      "%s", logged);
        ck_assert_msg(!strstr(logged, "hunter2") && !strstr(logged, "alice-secret"), "%s", logged);
        rd_kafka_destroy(rk);
        unlink(path);
}
END_TEST

/* A consumer loads the plugin and works: idempotence is a producer
 * property it ignores (CONFWARN), and on_new audits producers only. */
START_TEST(consumer_works)
{
        rd_kafka_conf_t *conf = plugin_conf();
        set_ok(conf, "group.id", "g");
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s", errstr);
        ck_assert_int_eq(rd_kafka_fatal_error(rk, errstr, sizeof(errstr)), 0);
        ck_assert_msg(strstr(logged, "ksafe: policy builtin:default (no environment) active") &&
                              strstr(logged, "CONFWARN"),
                      "%s", logged);
        rd_kafka_destroy(rk);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("plugin");
        TCase *tc = tcase_create("entry points");
        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, unsafe_handle_fails_closed);
        tcase_add_test(tc, same_handle_without_plugin_produces);
        tcase_add_test(tc, safe_handle_produces);
        tcase_add_test(tc, refused_set_changes_nothing);
        tcase_add_test(tc, dup_keeps_the_guard);
        tcase_add_test(tc, dup_of_a_later_property);
        tcase_add_test(tc, failed_load);
        tcase_add_test(tc, secrets_redacted);
        tcase_add_test(tc, consumer_works);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
