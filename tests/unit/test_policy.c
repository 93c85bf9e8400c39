/*
 * Unit tests of lib/policy.c: the embedded default policy, every check
 * kind, every load error with its message and location, "extends",
 * environments, the safety baseline, KSAFE_POLICY / KSAFE_ENV and the
 * resolved policy as JSON.
 *
 * Policies written in this file use single quotes for readability; the
 * helpers turn them into double quotes before loading.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "ksafe_int.h"

#define ck_assert_contains(haystack, needle)                                                  \
        ck_assert_msg(strstr((haystack), (needle)) != NULL, "\"%s\" does not contain \"%s\"", \
                      (haystack), (needle))

/* A policy that keeps the safety baseline, with more top-level fields. */
#define EXTENDING_DEFAULT(fields) "{'ksafe_policy': 1, 'extends': 'builtin:default', " fields "}"

#define BASELINE_IDS                                                                   \
        "idempotence,acks-all,in-flight,retries,delivery-timeout,delivery-covers-request"

/* The policy under test (destroyed by the fixture) and the last error. */
static ksafe_policy_t *policy;
static ksafe_error_t err;

static void setup(void)
{
        policy = NULL;
        memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
        ksafe_policy_destroy(policy);
        policy = NULL;
}

/* `text` with single quotes turned into double quotes. free() it. */
static char *dq(const char *text)
{
        char *s = strdup(text);
        ck_assert_ptr_nonnull(s);
        for (char *p = s; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return s;
}

/* Load a single-quoted policy text into `policy` (the previous one is
 * destroyed); NULL when it does not load, with `err` filled in. */
static ksafe_policy_t *try_load(const char *text, const char *env)
{
        char *json = dq(text);
        ksafe_policy_destroy(policy);
        memset(&err, 0, sizeof(err));
        policy = ksafe_policy_load_string(json, env, &err);
        free(json);
        return policy;
}

static void load_at(int line, const char *text, const char *env)
{
        ck_assert_msg(try_load(text, env) != NULL, "line %d: policy refused: %s", line, err.text);
}
/* Load a policy that must load. */
#define load(text, env) load_at(__LINE__, (text), (env))

/* The load labelled `what` failed with `message` at `source` and `path`. */
static void check_error(const char *what, const char *source, const char *path,
                        const char *message)
{
        ck_assert_msg(policy == NULL, "%s: policy loaded, expected \"%s\"", what, message);
        ck_assert_msg(strcmp(err.source, source) == 0, "%s: source \"%s\", expected \"%s\"",
                      what, err.source, source);
        ck_assert_msg(strcmp(err.path, path) == 0, "%s: path \"%s\", expected \"%s\" (%s)",
                      what, err.path, path, err.text);
        ck_assert_msg(strstr(err.text, message) != NULL,
                      "%s: message \"%s\" does not contain \"%s\"", what, err.text, message);
        /* The path leads the message, so that a reader finds the spot. */
        if (*path)
                ck_assert_msg(strncmp(err.text, path, strlen(path)) == 0 &&
                                      err.text[strlen(path)] == ':',
                              "%s: message \"%s\" does not start with \"%s:\"", what,
                              err.text, path);
}

static void expect_error_at(const char *what, const char *text, const char *env,
                            const char *path, const char *message)
{
        try_load(text, env);
        check_error(what, "<string>", path, message);
        ck_assert_msg(err.line == 0 && err.column == 0, "%s: error at %d:%d, expected none", what,
                      err.line, err.column);
}
#define STR_(x) #x
#define STR(x) STR_(x)
#define HERE "line " STR(__LINE__)
/* Load a policy that must fail with `message` at JSON `path`. */
#define expect_error(text, env, path, message) \
        expect_error_at(HERE, (text), (env), (path), (message))

/* A file under tests/data/policy/ (rotating buffers: several per statement). */
static const char *data(const char *name)
{
        static char bufs[4][PATH_MAX];
        static int next;
        const char *root = getenv("KSAFE_TEST_DATA");
        ck_assert_msg(root && *root, "KSAFE_TEST_DATA is not set");
        char *buf = bufs[next++ % 4];
        snprintf(buf, PATH_MAX, "%s/policy/%s", root, name);
        return buf;
}

static void load_file_at(int line, const char *path, const char *env)
{
        ksafe_policy_destroy(policy);
        memset(&err, 0, sizeof(err));
        policy = ksafe_policy_load(path, env, &err);
        ck_assert_msg(policy != NULL, "line %d: %s refused: %s", line, path, err.text);
}
#define load_file(path, env) load_file_at(__LINE__, (path), (env))

static void expect_file_error_at(const char *what, const char *path, const char *env,
                                 const char *source, const char *json_path, const char *message)
{
        ksafe_policy_destroy(policy);
        memset(&err, 0, sizeof(err));
        policy = ksafe_policy_load(path, env, &err);
        check_error(what, source, json_path, message);
}
#define expect_file_error(path, env, source, json_path, message) \
        expect_file_error_at(HERE, (path), (env), (source), (json_path), (message))

/* The rule `id` of `policy`, or NULL. */
static const ksafe_rule_t *rule(const char *id)
{
        ck_assert_ptr_nonnull(policy);
        for (size_t i = 0; i < policy->rule_count; i++)
                if (strcmp(policy->rules[i].id, id) == 0)
                        return &policy->rules[i];
        return NULL;
}

static const ksafe_rule_t *must_rule(const char *id)
{
        const ksafe_rule_t *r = rule(id);
        ck_assert_msg(r != NULL, "no rule \"%s\"", id);
        return r;
}

/* The ids of the resolved rules, in order: "idempotence,acks-all,...". */
static const char *rule_ids(void)
{
        static char buf[1024];
        size_t len = 0;
        buf[0] = '\0';
        ck_assert_ptr_nonnull(policy);
        for (size_t i = 0; i < policy->rule_count; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
                                        policy->rules[i].id);
        return buf;
}

/*
 * The embedded default policy
 */

START_TEST(test_default_rules)
{
        policy = ksafe_policy_default();
        ck_assert_ptr_nonnull(policy);
        ck_assert_str_eq(rule_ids(), BASELINE_IDS);
        ck_assert_str_eq(ksafe_policy_name(policy), "builtin:default");
        ck_assert_ptr_null(ksafe_policy_env(policy));
        ck_assert(!ksafe_policy_allows_unsafe(policy));
        for (size_t i = 0; i < policy->rule_count; i++) {
                ck_assert_int_eq(policy->rules[i].action, KSAFE_ACTION_ENFORCE);
                ck_assert_ptr_nonnull(policy->rules[i].why);
        }
}
END_TEST

START_TEST(test_default_rule_values)
{
        policy = ksafe_policy_default();
        ck_assert_ptr_nonnull(policy);

        const ksafe_rule_t *r = must_rule("idempotence");
        ck_assert_str_eq(r->prop->name, "enable.idempotence");
        ck_assert_str_eq(r->equals, "true");

        r = must_rule("acks-all");
        ck_assert_str_eq(r->property, "acks");
        ck_assert_str_eq(r->prop->name, "request.required.acks");
        ck_assert_str_eq(r->equals, "-1");
        ck_assert_str_eq(r->equals_raw, "all");

        r = must_rule("in-flight");
        ck_assert_str_eq(r->prop->name, "max.in.flight.requests.per.connection");
        ck_assert_uint_eq(r->checks, KSAFE_CHECK_MIN | KSAFE_CHECK_MAX);
        ck_assert_double_eq(r->min, 1);
        ck_assert_double_eq(r->max, 5);

        r = must_rule("retries");
        ck_assert_str_eq(r->prop->name, "message.send.max.retries");
        ck_assert_double_eq(r->min, 1);
        ck_assert_str_eq(r->set, "2147483647");

        r = must_rule("delivery-timeout");
        ck_assert_str_eq(r->prop->name, "message.timeout.ms");
        ck_assert_double_eq(r->min, 1000);
        ck_assert_double_eq(r->max, 300000);
        ck_assert_str_eq(r->set, "120000");

        r = must_rule("delivery-covers-request");
        ck_assert_uint_eq(r->checks, KSAFE_CHECK_MIN_SUM);
        ck_assert_uint_eq(r->min_sum_count, 2);
        ck_assert_str_eq(r->min_sum[0]->name, "queue.buffering.max.ms");
        ck_assert_str_eq(r->min_sum_raw[0], "linger.ms");
        ck_assert_str_eq(r->min_sum[1]->name, "request.timeout.ms");
}
END_TEST

START_TEST(test_default_by_name_and_env)
{
        static const char *const envs[] = {"dev", "staging", "prod"};
        for (size_t i = 0; i < 3; i++) {
                load_file("builtin:default", envs[i]);
                ck_assert_str_eq(ksafe_policy_name(policy), "builtin:default");
                ck_assert_pstr_eq(ksafe_policy_env(policy), envs[i]);
                ck_assert_str_eq(rule_ids(), BASELINE_IDS);
        }
}
END_TEST

/* The compiled-in text is conf/policies/default.json: one source of truth. */
START_TEST(test_default_is_the_conf_file)
{
        const char *root = getenv("KSAFE_SOURCE_ROOT");
        ck_assert_msg(root && *root, "KSAFE_SOURCE_ROOT is not set");
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/conf/policies/default.json", root);
        load_file(path, NULL);
        char *from_file = ksafe_policy_to_json(policy);
        ksafe_policy_t *builtin = ksafe_policy_default();
        char *from_builtin = ksafe_policy_to_json(builtin);
        ck_assert_str_eq(from_file, from_builtin);
        free(from_file);
        free(from_builtin);
        ksafe_policy_destroy(builtin);
}
END_TEST

START_TEST(test_destroy_null)
{
        ksafe_policy_destroy(NULL);
}
END_TEST

/*
 * Every check kind compiles
 */

START_TEST(test_check_equals)
{
        load(EXTENDING_DEFAULT("'rules': [{'id': 'codec', 'property': 'compression.type', "
                               "'equals': 'LZ4', 'action': 'enforce', 'why': 'fast'}]"),
             NULL);
        const ksafe_rule_t *r = must_rule("codec");
        ck_assert_uint_eq(r->checks, KSAFE_CHECK_EQUALS);
        ck_assert_str_eq(r->property, "compression.type");
        ck_assert_str_eq(r->prop->name, "compression.codec");
        ck_assert_str_eq(r->equals, "lz4");
        ck_assert_str_eq(r->equals_raw, "LZ4");
        ck_assert_int_eq(r->action, KSAFE_ACTION_ENFORCE);
        ck_assert_pstr_eq(r->why, "fast");
}
END_TEST

START_TEST(test_check_one_of)
{
        load(EXTENDING_DEFAULT("'rules': [{'id': 'tls', 'property': 'security.protocol', "
                               "'one_of': ['SSL', 'sasl_ssl'], 'action': 'reject'}]"),
             NULL);
        const ksafe_rule_t *r = must_rule("tls");
        ck_assert_uint_eq(r->checks, KSAFE_CHECK_ONE_OF);
        ck_assert_uint_eq(r->one_of_count, 2);
        ck_assert_str_eq(r->one_of[0], "ssl");
        ck_assert_str_eq(r->one_of_raw[0], "SSL");
        ck_assert_str_eq(r->one_of[1], "sasl_ssl");
        ck_assert_int_eq(r->action, KSAFE_ACTION_REJECT);
        ck_assert_ptr_null(r->why);
}
END_TEST

START_TEST(test_check_min_max_set)
{
        load(EXTENDING_DEFAULT("'rules': [{'id': 'linger', 'property': 'linger.ms', "
                               "'min': 0.5, 'max': 100, 'set': 5, 'action': 'enforce'}]"),
             NULL);
        const ksafe_rule_t *r = must_rule("linger");
        ck_assert_uint_eq(r->checks, KSAFE_CHECK_MIN | KSAFE_CHECK_MAX);
        ck_assert_double_eq(r->min, 0.5);
        ck_assert_double_eq(r->max, 100);
        ck_assert_pstr_eq(r->set, "5");
}
END_TEST

START_TEST(test_check_min_sum)
{
        load(EXTENDING_DEFAULT("'rules': [{'id': 'txn', 'property': 'transaction.timeout.ms', "
                               "'min_sum': ['delivery.timeout.ms'], 'action': 'reject'}]"),
             NULL);
        const ksafe_rule_t *r = must_rule("txn");
        ck_assert_uint_eq(r->checks, KSAFE_CHECK_MIN_SUM);
        ck_assert_uint_eq(r->min_sum_count, 1);
        ck_assert_str_eq(r->min_sum[0]->name, "message.timeout.ms");
        ck_assert_str_eq(r->min_sum_raw[0], "delivery.timeout.ms");
}
END_TEST

START_TEST(test_check_required_and_forbidden)
{
        load(EXTENDING_DEFAULT(
                     "'rules': ["
                     "  {'id': 'client-id', 'property': 'client.id', 'required': true, "
                     "   'action': 'warn'},"
                     "  {'id': 'named', 'property': 'client.id', 'required': true, "
                     "   'set': 'app', 'action': 'enforce'},"
                     "  {'id': 'no-password', 'property': 'sasl.password', 'forbidden': true, "
                     "   'action': 'enforce'}]"),
             NULL);
        ck_assert_uint_eq(must_rule("client-id")->checks, KSAFE_CHECK_REQUIRED);
        ck_assert_int_eq(must_rule("client-id")->action, KSAFE_ACTION_WARN);
        ck_assert_pstr_eq(must_rule("named")->set, "app");
        ck_assert_uint_eq(must_rule("no-password")->checks, KSAFE_CHECK_FORBIDDEN);
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",client-id,named,no-password");
}
END_TEST

START_TEST(test_check_values_as_json_types)
{
        load(EXTENDING_DEFAULT("'rules': [{'id': 'acks-num', 'property': 'acks', 'equals': -1, "
                               "'action': 'reject'},"
                               "{'id': 'bool', 'property': 'enable.idempotence', "
                               "'equals': 'TRUE', 'action': 'reject'}]"),
             NULL);
        ck_assert_str_eq(must_rule("acks-num")->equals, "-1");
        ck_assert_str_eq(must_rule("bool")->equals, "true");
}
END_TEST

/*
 * Load errors, each with its message and JSON path
 */

static const struct {
        const char *what;
        const char *policy;
        const char *env;
        const char *path;
        const char *message;
} load_errors[] = {
        {"not an object", "[1]", NULL, "", "a policy must be a JSON object, not an array"},
        {"no version", "{}", NULL, "ksafe_policy", "must be 1 (the policy format version)"},
        {"version 2", "{'ksafe_policy': 2}", NULL, "ksafe_policy", "must be 1"},
        {"version as a string", "{'ksafe_policy': '1'}", NULL, "ksafe_policy", "must be 1"},
        {"unknown top-level field", EXTENDING_DEFAULT("'colour': 'red'"), NULL, "colour",
         "unknown field \"colour\""},
        {"name not a string", EXTENDING_DEFAULT("'name': 5"), NULL, "name",
         "must be a string, not a number"},
        {"allow_unsafe not a boolean", EXTENDING_DEFAULT("'allow_unsafe': 'yes'"), NULL,
         "allow_unsafe", "must be true or false, not a string"},
        {"extends a device", "{'ksafe_policy': 1, 'extends': '/dev/null'}", NULL, "extends",
         "cannot read \"/dev/null\": a character device, not a regular file"},
        {"environment name with a blank",
         EXTENDING_DEFAULT("'environments': {'pre prod': {}}"), NULL, "environments",
         "environment names are 1 to 64 letters"},
        {"a value with a newline",
         EXTENDING_DEFAULT("'rules': [{'id': 'cid', 'property': 'client.id', "
                           "'equals': 'svc\\nenable.idempotence=false', 'action': 'enforce'}]"),
         NULL, "rules[0].equals", "a value cannot hold control characters"},
        {"rules not an array", EXTENDING_DEFAULT("'rules': {}"), NULL, "rules",
         "must be an array of rules, not an object"},
        {"rule not an object", EXTENDING_DEFAULT("'rules': ['acks']"), NULL, "rules[0]",
         "must be an object, not a string"},
        {"unknown rule field",
         EXTENDING_DEFAULT("'rules': ["
                           "{'id': 'a', 'property': 'client.id', 'required': true, "
                           " 'action': 'warn'},"
                           "{'id': 'b', 'property': 'linger.ms', 'max': 9, 'action': 'warn'},"
                           "{'id': 'c', 'property': 'linger.ms', 'max': 9, 'action': 'warn', "
                           " 'colour': 'red'}]"),
         NULL, "rules[2].colour", "unknown field \"colour\""},
        {"min as a string",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.ms', 'min': '5', "
                           "'action': 'warn'}]"),
         NULL, "rules[0].min", "must be a number, not a string"},
        {"action not a string",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.ms', 'min': 5, "
                           "'action': 1}]"),
         NULL, "rules[0].action", "must be a string, not a number"},
        {"required not a boolean",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', 'required': 'yes', "
                           "'action': 'warn'}]"),
         NULL, "rules[0].required", "must be true or false, not a string"},
        {"one_of empty",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'security.protocol', "
                           "'one_of': [], 'action': 'warn'}]"),
         NULL, "rules[0].one_of", "must be a non-empty array"},
        {"set not a scalar",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.ms', 'max': 9, "
                           "'set': [5], 'action': 'enforce'}]"),
         NULL, "rules[0].set", "must be a string, number or boolean, not an array"},
        {"unknown action",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.ms', 'max': 9, "
                           "'action': 'block'}]"),
         NULL, "rules[0].action", "unknown action \"block\" (enforce, reject or warn)"},
        {"property typo",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'enable.idempotance', "
                           "'equals': true, 'action': 'warn'}]"),
         NULL, "rules[0].property",
         "unknown property \"enable.idempotance\"; did you mean \"enable.idempotence\"?"},
        {"property unknown, nothing near",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'zzzzzzzzzzzz', "
                           "'required': true, 'action': 'warn'}]"),
         NULL, "rules[0].property", "unknown property \"zzzzzzzzzzzz\" (not in librdkafka 2."},
        {"property not a string",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 5, 'required': true, "
                           "'action': 'warn'}]"),
         NULL, "rules[0].property", "must be a property name (a string), not a number"},
        {"property set through an API",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'oauthbearer_token_refresh_cb', "
                           "'required': true, 'action': 'warn'}]"),
         NULL, "rules[0].property", "is set through a dedicated API"},
        {"min_sum of a non-numeric property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'delivery.timeout.ms', "
                           "'min_sum': ['linger.ms', 'security.protocol'], 'action': 'warn'}]"),
         NULL, "rules[0].min_sum[1]", "security.protocol is not a number property"},
        {"min_sum typo",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'delivery.timeout.ms', "
                           "'min_sum': ['linger.mss'], 'action': 'warn'}]"),
         NULL, "rules[0].min_sum[0]", "did you mean \"linger.ms\"?"},
        {"min_sum on a non-numeric property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', "
                           "'min_sum': ['linger.ms'], 'action': 'warn'}]"),
         NULL, "rules[0].min_sum", "client.id is not a number property"},
        {"min on a non-numeric property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'security.protocol', 'min': 1, "
                           "'action': 'warn'}]"),
         NULL, "rules[0].min", "security.protocol is not a number property"},
        {"min greater than max",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.ms', 'min': 10, "
                           "'max': 5, 'action': 'warn'}]"),
         NULL, "rules[0].min", "min 10 is greater than max 5"},
        {"required and forbidden",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', 'required': true, "
                           "'forbidden': true, 'action': 'warn'}]"),
         NULL, "rules[0].forbidden", "cannot be combined with another check"},
        {"forbidden with equals",
         "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"override\":{\"idempotence\":"
         "{\"forbidden\":true}}}",
         NULL, "override.idempotence.forbidden", "cannot be combined with another check"},
        {"a range that meets no baseline value",
         "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":[{\"id\":\"big\","
         "\"property\":\"max.in.flight\",\"min\":100,\"action\":\"reject\"}]}",
         NULL, "rules[0]", "allows no value that baseline rule \"in-flight\" allows"},
        {"a value with a trailing blank",
         "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":[{\"id\":\"cid\","
         "\"property\":\"client.id\",\"equals\":\"app \",\"action\":\"enforce\"}]}",
         NULL, "rules[0].equals", "cannot start or end with a blank"},
        {"rule checks nothing",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', "
                           "'action': 'warn'}]"),
         NULL, "rules[0]", "rule \"x\" checks nothing"},
        {"rule without id",
         EXTENDING_DEFAULT("'rules': [{'property': 'client.id', 'required': true, "
                           "'action': 'warn'}]"),
         NULL, "rules[0]", "a rule needs an \"id\""},
        {"rule without property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'required': true, 'action': 'warn'}]"), NULL,
         "rules[0]", "rule \"x\" needs a \"property\""},
        {"rule without action",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', "
                           "'required': true}]"),
         NULL, "rules[0]", "rule \"x\" needs an \"action\""},
        {"reserved id prefix",
         EXTENDING_DEFAULT("'rules': [{'id': 'ksafe-mine', 'property': 'client.id', "
                           "'required': true, 'action': 'warn'}]"),
         NULL, "rules[0].id", "rule ids starting with \"ksafe-\" are reserved"},
        {"off in a rule",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', 'required': true, "
                           "'action': 'warn', 'off': true}]"),
         NULL, "rules[0].off", "\"off\" belongs in an override, not in a rule"},
        {"enforce without a value",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'client.id', 'required': true, "
                           "'action': 'enforce'}]"),
         NULL, "rules[0].action",
         "rule \"x\" cannot be enforced without a value: add \"set\" or use reject"},
        {"set outside its own rule",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.ms', 'max': 5, "
                           "'set': 10, 'action': 'enforce'}]"),
         NULL, "rules[0].set", "10 does not satisfy rule \"x\" itself"},
        {"set not a value of the property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'enable.idempotence', "
                           "'equals': true, 'set': 'yes', 'action': 'enforce'}]"),
         NULL, "rules[0].set", "not a valid value for enable.idempotence"},
        {"equals read otherwise by librdkafka",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'message.timeout.ms', "
                           "'equals': '1e3', 'action': 'warn'}]"),
         NULL, "rules[0].equals", "\"1e3\" is not an integer; librdkafka reads it as 1"},
        {"equals beyond 32 bits",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'max.in.flight', "
                           "'equals': 4294967301, 'action': 'warn'}]"),
         NULL, "rules[0].equals", "4294967301 does not fit in 32 bits"},
        {"one_of with an invalid value",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'security.protocol', "
                           "'one_of': ['ssl', 'tls'], 'action': 'warn'}]"),
         NULL, "rules[0].one_of[1]", "not a valid value for security.protocol"},
        {"duplicate id of an inherited rule",
         EXTENDING_DEFAULT("'rules': [{'id': 'acks-all', 'property': 'acks', 'equals': 'all', "
                           "'action': 'reject'}]"),
         NULL, "rules[0]",
         "duplicate rule id \"acks-all\" (first defined at builtin:default: rules[1])"},
        {"duplicate id in one file",
         EXTENDING_DEFAULT("'rules': ["
                           "{'id': 'x', 'property': 'client.id', 'required': true, "
                           " 'action': 'warn'},"
                           "{'id': 'x', 'property': 'linger.ms', 'max': 9, 'action': 'warn'}]"),
         NULL, "rules[1]", "duplicate rule id \"x\" (first defined at <string>: rules[0])"},
        {"override not an object", EXTENDING_DEFAULT("'override': []"), NULL, "override",
         "must be an object of rule ids, not an array"},
        {"override of an unknown id",
         EXTENDING_DEFAULT("'override': {'nope': {'action': 'warn'}}"), NULL, "override.nope",
         "no rule \"nope\" to override"},
        {"override changes the property",
         EXTENDING_DEFAULT("'override': {'acks-all': {'property': 'linger.ms'}}"), NULL,
         "override.acks-all.property", "an override cannot change \"property\""},
        {"override with a wrong type",
         EXTENDING_DEFAULT("'override': {'in-flight': {'max': 'five'}}"), NULL,
         "override.in-flight.max", "must be a number, not a string"},
        {"override makes min greater than max",
         EXTENDING_DEFAULT("'override': {'in-flight': {'min': 10}}"), NULL,
         "override.in-flight.min", "min 10 is greater than max 5"},
        {"extends not a string", "{'ksafe_policy': 1, 'extends': 5}", NULL, "extends",
         "must be \"builtin:default\" or a path, not a number"},
        {"extends an unknown built-in", "{'ksafe_policy': 1, 'extends': 'builtin:xyz'}", NULL,
         "extends", "unknown built-in policy \"builtin:xyz\" (known: builtin:default)"},
        {"environments not an object", EXTENDING_DEFAULT("'environments': []"), NULL,
         "environments", "must be an object of environments, not an array"},
        {"environment not an object", EXTENDING_DEFAULT("'environments': {'dev': []}"), NULL,
         "environments.dev", "must be an object, not an array"},
        {"unknown field in an environment",
         EXTENDING_DEFAULT("'environments': {'dev': {'colour': 'red'}}"), "dev",
         "environments.dev.colour", "unknown field \"colour\" (description, rules, override)"},
        {"environment description not a string",
         EXTENDING_DEFAULT("'environments': {'dev': {'description': 1}}"), "dev",
         "environments.dev.description", "must be a string, not a number"},
        {"error in a section other than the chosen one (rules)",
         EXTENDING_DEFAULT("'environments': {"
                           "'staging': {'rules': [{'id': 'x', 'property': 'linger.mss', "
                           "  'max': 9, 'action': 'warn'}]},"
                           "'prod': {}}"),
         "prod", "environments.staging.rules[0].property", "did you mean \"linger.ms\"?"},
        {"error in a section other than the chosen one (override)",
         EXTENDING_DEFAULT("'environments': {"
                           "'dev': {},"
                           "'prod': {'override': {'nope': {'action': 'reject'}}}}"),
         "dev", "environments.prod.override.nope", "no rule \"nope\" to override"},
        {"error in a section when no environment is chosen",
         EXTENDING_DEFAULT("'environments': {'prod': {'override': {'in-flight': {'max': -1}}}}"),
         NULL, "environments.prod.override.in-flight.min", "min 1 is greater than max -1"},
        {"unknown environment", EXTENDING_DEFAULT("'rules': []"), "qa", "",
         "unknown environment \"qa\" (known: dev, staging, prod)"},
        {"unknown environment, own sections listed too",
         EXTENDING_DEFAULT("'environments': {'test': {}}"), "qa", "",
         "unknown environment \"qa\" (known: dev, staging, prod, test)"},
        {"unknown environment, none known",
         "{'ksafe_policy': 1, 'allow_unsafe': true, 'rules': []}", "prod", "",
         "unknown environment \"prod\" (known: none)"},
};

START_TEST(test_load_error)
{
        expect_error_at(load_errors[_i].what, load_errors[_i].policy, load_errors[_i].env,
                        load_errors[_i].path, load_errors[_i].message);
}
END_TEST

START_TEST(test_syntax_error_line_and_column)
{
        /* line 3, the comma where a value belongs */
        try_load("{\n  'ksafe_policy': 1,\n  'rules': [,]\n}", NULL);
        ck_assert_ptr_null(policy);
        ck_assert_str_eq(err.source, "<string>");
        ck_assert_str_eq(err.path, "");
        ck_assert_int_eq(err.line, 3);
        ck_assert_int_eq(err.column, 13);
        ck_assert_str_ne(err.text, "");
}
END_TEST

START_TEST(test_duplicate_json_key)
{
        try_load("{\n  'ksafe_policy': 1,\n  'extends': 'builtin:default',\n"
                 "  'ksafe_policy': 1\n}",
                 NULL);
        ck_assert_ptr_null(policy);
        ck_assert_int_eq(err.line, 4);
        ck_assert_contains(err.text, "duplicate object key");
}
END_TEST

START_TEST(test_sensitive_value_not_in_error)
{
        expect_error(EXTENDING_DEFAULT("'rules': [{'id': 'pw', 'property': 'sasl.password', "
                                       "'equals': 'swordfish', 'set': 'hunter2', "
                                       "'action': 'enforce'}]"),
                     NULL, "rules[0].set", "(redacted) does not satisfy rule \"pw\" itself");
        ck_assert_ptr_null(strstr(err.text, "hunter2"));
        ck_assert_ptr_null(strstr(err.text, "swordfish"));
}
END_TEST

/* A librdkafka message is one sentence inside ksafe's: no line break. */
START_TEST(test_error_text_is_one_line)
{
        expect_error(EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'acks', "
                                       "'equals': 2000, 'action': 'warn'}]"),
                     NULL, "rules[0].equals", "outside allowed range -1..1000");
        ck_assert_msg(strchr(err.text, '\n') == NULL, "line break in \"%.*s\"",
                      (int)strcspn(err.text, "\n"), err.text);
}
END_TEST

START_TEST(test_null_arguments)
{
        ck_assert_ptr_null(ksafe_policy_load(NULL, NULL, &err));
        ck_assert_str_ne(err.text, "");
        memset(&err, 0, sizeof(err));
        ck_assert_ptr_null(ksafe_policy_load_string(NULL, NULL, &err));
        ck_assert_str_ne(err.text, "");
        /* err may be NULL */
        ck_assert_ptr_null(ksafe_policy_load_string("{", NULL, NULL));
        ck_assert_ptr_null(ksafe_policy_load("/nonexistent/policy.json", NULL, NULL));
}
END_TEST

/*
 * Errors from files
 */

START_TEST(test_file_missing)
{
        const char *path = data("no-such-policy.json");
        expect_file_error(path, NULL, path, "", "cannot read policy: No such file or directory");
}
END_TEST

START_TEST(test_file_unreadable)
{
        /* a directory opens but cannot be read, also for root */
        const char *path = data("sub");
        expect_file_error(path, NULL, path, "", "cannot read policy: Is a directory");
}
END_TEST

START_TEST(test_file_with_nul_byte)
{
        char path[] = "/tmp/ksafe-test-policy-XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        static const char text[] = "{\"ksafe_policy\": 1}\0{}";
        ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
        close(fd);
        ksafe_policy_destroy(policy);
        policy = ksafe_policy_load(path, NULL, &err);
        unlink(path);
        check_error("NUL byte", path, "", "contains a NUL byte");
}
END_TEST

START_TEST(test_file_syntax_error_in_extended_file)
{
        /* the error names the file with the bad JSON, not the one loaded */
        const char *path = data("extends-broken.json");
        ksafe_policy_destroy(policy);
        policy = ksafe_policy_load(path, NULL, &err);
        ck_assert_ptr_null(policy);
        ck_assert_str_eq(err.source, data("broken.json"));
        ck_assert_int_eq(err.line, 4);
        ck_assert_int_gt(err.column, 0);
}
END_TEST

START_TEST(test_extends_missing_file)
{
        const char *path = data("extends-missing.json");
        char message[PATH_MAX + 64];
        snprintf(message, sizeof(message), "cannot read \"%s\": No such file or directory",
                 data("no-such-policy.json"));
        expect_file_error(path, NULL, path, "extends", message);
}
END_TEST

START_TEST(test_extends_cycle)
{
        ksafe_policy_destroy(policy);
        policy = ksafe_policy_load(data("cycle-a.json"), NULL, &err);
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "\"extends\" cycle");
        ck_assert_contains(err.text, "cycle-a.json extends itself");

        policy = ksafe_policy_load(data("cycle-b.json"), "prod", &err);
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "\"extends\" cycle");
}
END_TEST

/*
 * Hostile files: whatever KSAFE_POLICY or "extends" names, the reader
 * returns (never hangs on a FIFO or a device, never reads forever) and
 * says what the file is.
 */

static char hostile_dir[] = "/tmp/ksafe-test-hostile-XXXXXX";

static const char *hostile_path(const char *name)
{
        static char bufs[4][PATH_MAX];
        static int next;
        char *buf = bufs[next++ % 4];
        snprintf(buf, PATH_MAX, "%s/%s", hostile_dir, name);
        return buf;
}

static void hostile_setup(void)
{
        setup();
        memcpy(hostile_dir + strlen(hostile_dir) - 6, "XXXXXX", 6);
        ck_assert_ptr_nonnull(mkdtemp(hostile_dir));
        ck_assert_int_eq(mkfifo(hostile_path("fifo"), 0600), 0);
        /* Larger than KSAFE_MAX_FILE, sparse: nothing is written. */
        int fd = open(hostile_path("huge.json"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t)KSAFE_MAX_FILE + 1), 0);
        close(fd);
}

static void hostile_teardown(void)
{
        unlink(hostile_path("fifo"));
        unlink(hostile_path("huge.json"));
        rmdir(hostile_dir);
        unsetenv("KSAFE_POLICY");
        teardown();
}

static const struct {
        const char *name; /* under hostile_dir, or an absolute path */
        const char *why;
} hostile_files[] = {
        {"fifo", "a FIFO, not a regular file"},
        {"/dev/zero", "a character device, not a regular file"},
        {"/dev/null", "a character device, not a regular file"},
        {"/tmp", "Is a directory"},
        {"huge.json", "larger than 64 MiB"},
};

static const char *hostile(int i)
{
        const char *name = hostile_files[i].name;
        return name[0] == '/' ? name : hostile_path(name);
}

START_TEST(test_hostile_policy_file)
{
        const char *path = hostile(_i);
        char message[PATH_MAX + 64];
        snprintf(message, sizeof(message), "cannot read policy: %s", hostile_files[_i].why);
        expect_file_error(path, NULL, path, "", message);
}
END_TEST

START_TEST(test_hostile_extends)
{
        const char *path = hostile(_i);
        char text[PATH_MAX + 64], message[PATH_MAX + 64];
        snprintf(text, sizeof(text), "{'ksafe_policy': 1, 'extends': '%s'}", path);
        snprintf(message, sizeof(message), "cannot read \"%s\": %s", path,
                 hostile_files[_i].why);
        expect_error_at(hostile_files[_i].name, text, NULL, "extends", message);
}
END_TEST

/* ksafe_producer_new(conf, NULL, ...) loads KSAFE_POLICY this way. */
START_TEST(test_hostile_from_env)
{
        const char *path = hostile(_i);
        setenv("KSAFE_POLICY", path, 1);
        ksafe_policy_destroy(policy);
        memset(&err, 0, sizeof(err));
        policy = ksafe_policy_from_env(&err);
        char message[PATH_MAX + 64];
        snprintf(message, sizeof(message), "cannot read policy: %s", hostile_files[_i].why);
        check_error(hostile_files[_i].name, path, "", message);
}
END_TEST

/* The reader itself: whole content, on the heap, also when fstat's size
 * is wrong (procfs says 0) or the file is larger than one read. */
START_TEST(test_read_regular_file)
{
        char why[256] = "";
        size_t len = 1;
        ksafe_file_id_t id;

        char *text = ksafe_read_regular_file("/proc/self/status", &len, &id, why, sizeof(why));
        ck_assert_msg(text != NULL, "/proc/self/status: %s", why);
        ck_assert_uint_eq(strlen(text), len);
        ck_assert_contains(text, "Name:");
        free(text);

        /* 300 KiB: more than the old 64 KiB chunk, read whole. */
        const char *big = hostile_path("big.txt");
        FILE *f = fopen(big, "w");
        ck_assert_ptr_nonnull(f);
        for (int i = 0; i < 300 * 1024; i++)
                fputc('a' + i % 26, f);
        ck_assert_int_eq(fclose(f), 0);
        text = ksafe_read_regular_file(big, &len, &id, why, sizeof(why));
        unlink(big);
        ck_assert_msg(text != NULL, "%s", why);
        ck_assert_uint_eq(len, 300 * 1024);
        ck_assert_int_eq(text[len - 1], 'a' + (300 * 1024 - 1) % 26);
        ck_assert_int_eq(text[len], '\0');
        free(text);

        const char *empty = hostile_path("empty.txt");
        f = fopen(empty, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fclose(f), 0);
        text = ksafe_read_regular_file(empty, &len, NULL, why, sizeof(why));
        unlink(empty);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(len, 0);
        ck_assert_str_eq(text, "");
        free(text);

        errno = 0;
        ck_assert_ptr_null(ksafe_read_regular_file(hostile_path("fifo"), &len, NULL, why,
                                                   sizeof(why)));
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_str_eq(why, "a FIFO, not a regular file");
        ck_assert_ptr_null(ksafe_read_regular_file(hostile_path("huge.json"), &len, NULL, why,
                                                   sizeof(why)));
        ck_assert_int_eq(errno, EFBIG);
        ck_assert_ptr_null(ksafe_read_file("/tmp", &len));
        ck_assert_int_eq(errno, EISDIR);
}
END_TEST

/* "builtin:" names a built-in policy also where a path is expected. */
START_TEST(test_unknown_builtin_by_name)
{
        ksafe_policy_destroy(policy);
        policy = ksafe_policy_load("builtin:xyz", NULL, &err);
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "builtin:xyz");
        ck_assert_contains(err.text, "builtin:default");
}
END_TEST

/*
 * extends
 */

START_TEST(test_extends_relative_to_file)
{
        /* sub/child.json extends "../base.json", which extends builtin:default */
        load_file(data("sub/child.json"), NULL);
        ck_assert_str_eq(ksafe_policy_name(policy), "child");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",linger,client-id");
        /* child's top-level override changed one field of base's rule */
        const ksafe_rule_t *linger = must_rule("linger");
        ck_assert_double_eq(linger->max, 50);
        ck_assert_double_eq(linger->min, 1);
        ck_assert_pstr_eq(linger->set, "5");
        ck_assert_pstr_eq(linger->why, "fill batches");
        ck_assert_int_eq(linger->action, KSAFE_ACTION_ENFORCE);
}
END_TEST

START_TEST(test_extends_environment_of_parent)
{
        /* base.json's prod section adds "tls" before child's own rules */
        load_file(data("sub/child.json"), "prod");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",linger,tls,client-id");
        ck_assert_str_eq(ksafe_policy_env(policy), "prod");
}
END_TEST

START_TEST(test_override_inherited_rule)
{
        load(EXTENDING_DEFAULT("'override': {'in-flight': {'max': 3, 'action': 'reject'}}"),
             NULL);
        ck_assert_str_eq(rule_ids(), BASELINE_IDS);
        const ksafe_rule_t *r = must_rule("in-flight");
        ck_assert_double_eq(r->max, 3);
        ck_assert_double_eq(r->min, 1);
        ck_assert_int_eq(r->action, KSAFE_ACTION_REJECT);
        ck_assert_str_eq(r->property, "max.in.flight");
        ck_assert_contains(r->why, "in order");
}
END_TEST

START_TEST(test_extends_string_relative_to_cwd)
{
        char cwd[PATH_MAX];
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
        ck_assert_int_eq(chdir(data("")), 0);
        try_load("{'ksafe_policy': 1, 'extends': 'base.json'}", NULL);
        ck_assert_int_eq(chdir(cwd), 0);
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",linger");
}
END_TEST

START_TEST(test_extends_absolute_path)
{
        char text[PATH_MAX + 64];
        snprintf(text, sizeof(text), "{'ksafe_policy': 1, 'name': 'abs', 'extends': '%s'}",
                 data("base.json"));
        load(text, "prod");
        ck_assert_str_eq(ksafe_policy_name(policy), "abs");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",linger,tls");
}
END_TEST

/* A policy without "name" is not called after the policy it extends. */
START_TEST(test_unnamed_policy_named_after_source)
{
        load("{'ksafe_policy': 1, 'allow_unsafe': true, 'rules': []}", NULL);
        ck_assert_str_eq(ksafe_policy_name(policy), "<string>");
        load(EXTENDING_DEFAULT("'rules': []"), NULL);
        ck_assert_str_eq(ksafe_policy_name(policy), "<string>");
}
END_TEST

/*
 * Environments
 */

#define TLS_RULE(action)                                                              \
        "{'id': 'tls', 'property': 'security.protocol', 'one_of': ['ssl', 'sasl_ssl'], " \
        "'action': '" action "'}"
#define COMPRESSION_RULE                                                             \
        "{'id': 'compression', 'property': 'compression.type', 'one_of': ['lz4', 'zstd'], " \
        "'action': 'warn'}"
#define DEV_SECTION "'dev': {'override': {'compression': {'off': true}}}"
#define STAGING_SECTION "'staging': {'rules': [" TLS_RULE("warn") "]}"
#define PROD_SECTION                                                        \
        "'prod': {'rules': [" TLS_RULE("reject") "],"                       \
        "         'override': {'acks-all': {'action': 'reject'},"           \
        "                      'compression': {'action': 'reject'}}}"

static const char *const org_policies[] = {
        EXTENDING_DEFAULT("'rules': [" COMPRESSION_RULE "], 'environments': {" DEV_SECTION
                          ", " STAGING_SECTION ", " PROD_SECTION "}"),
        /* the same sections in the other order */
        EXTENDING_DEFAULT("'rules': [" COMPRESSION_RULE "], 'environments': {" PROD_SECTION
                          ", " STAGING_SECTION ", " DEV_SECTION "}"),
};

START_TEST(test_env_none)
{
        load(org_policies[_i], NULL);
        ck_assert_ptr_null(ksafe_policy_env(policy));
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",compression");
        ck_assert_int_eq(must_rule("acks-all")->action, KSAFE_ACTION_ENFORCE);

        load(org_policies[_i], "");
        ck_assert_ptr_null(ksafe_policy_env(policy));
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",compression");
}
END_TEST

START_TEST(test_env_off)
{
        load(org_policies[_i], "dev");
        ck_assert_str_eq(ksafe_policy_env(policy), "dev");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS);
}
END_TEST

START_TEST(test_env_adds_rules)
{
        load(org_policies[_i], "staging");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",compression,tls");
        ck_assert_int_eq(must_rule("tls")->action, KSAFE_ACTION_WARN);
}
END_TEST

START_TEST(test_env_overrides_fields)
{
        load(org_policies[_i], "prod");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",compression,tls");
        ck_assert_int_eq(must_rule("tls")->action, KSAFE_ACTION_REJECT);
        ck_assert_int_eq(must_rule("acks-all")->action, KSAFE_ACTION_REJECT);
        ck_assert_str_eq(must_rule("acks-all")->equals, "-1");
        ck_assert_int_eq(must_rule("compression")->action, KSAFE_ACTION_REJECT);
        ck_assert_uint_eq(must_rule("compression")->one_of_count, 2);
        ck_assert_int_eq(must_rule("idempotence")->action, KSAFE_ACTION_ENFORCE);
}
END_TEST

/* A child's section may change what its parent's section of the same name
 * added: env-child.json's "prod" overrides base.json's prod-only "tls". */
START_TEST(test_env_across_extends)
{
        static const char *const envs[] = {"prod", "dev", NULL};
        for (size_t i = 0; i < 3; i++) {
                ksafe_policy_destroy(policy);
                memset(&err, 0, sizeof(err));
                policy = ksafe_policy_load(data("sub/env-child.json"), envs[i], &err);
                ck_assert_msg(policy != NULL, "env %s: %s (%s)", envs[i] ? envs[i] : "none",
                              err.text, err.source);
        }
        load_file(data("sub/env-child.json"), "prod");
        ck_assert_int_eq(must_rule("tls")->action, KSAFE_ACTION_WARN);
        load_file(data("sub/env-child.json"), "dev");
        ck_assert_ptr_null(rule("tls"));
}
END_TEST

/*
 * The safety baseline
 */

static const struct {
        const char *what;
        const char *fields; /* top-level fields after "extends" */
        const char *env;
        const char *message;
} weakenings[] = {
        {"off", "'override': {'idempotence': {'off': true}}", NULL,
         "baseline rule \"idempotence\" is off or missing"},
        {"warn", "'override': {'acks-all': {'action': 'warn'}}", NULL,
         "baseline rule \"acks-all\" only warns"},
        {"max.in.flight up to 10", "'override': {'in-flight': {'max': 10}}", NULL,
         "baseline rule \"in-flight\" has max 10, above 5"},
        {"retries down to 0", "'override': {'retries': {'min': 0}}", NULL,
         "baseline rule \"retries\" has min 0, below 1"},
        {"acks 1", "'override': {'acks-all': {'equals': '1'}}", NULL,
         "baseline rule \"acks-all\" requires all, not 1"},
        {"delivery timeout up to 10 minutes", "'override': {'delivery-timeout': {'max': 600000}}",
         NULL, "baseline rule \"delivery-timeout\" has max 600000, above 300000"},
        {"min_sum without request.timeout.ms",
         "'override': {'delivery-covers-request': {'min_sum': ['linger.ms']}}", NULL,
         "baseline rule \"delivery-covers-request\" no longer counts request.timeout.ms"},
        {"off in the chosen environment",
         "'environments': {'dev': {'override': {'in-flight': {'off': true}}}}", "dev",
         "baseline rule \"in-flight\" is off or missing"},
        {"re-added without its min",
         "'override': {'in-flight': {'off': true}}, 'environments': {'dev': {'rules': ["
         "{'id': 'in-flight', 'property': 'max.in.flight', 'max': 5, 'action': 'enforce'}]}}",
         "dev", "baseline rule \"in-flight\" lost one of its checks"},
        {"another rule enforcing acks=1",
         "'rules': [{'id': 'acks-one', 'property': 'acks', 'equals': '1', 'action': 'enforce'}]",
         NULL, "rule \"acks-one\" enforces acks=1, which baseline rule \"acks-all\" refuses"},
};

static const char *weakened_policy(int i, bool allow_unsafe)
{
        static char text[2048];
        snprintf(text, sizeof(text), "{'ksafe_policy': 1, 'extends': 'builtin:default', %s%s}",
                 allow_unsafe ? "'allow_unsafe': true, " : "", weakenings[i].fields);
        return text;
}

START_TEST(test_weakening_needs_allow_unsafe)
{
        ck_assert_msg(try_load(weakened_policy(_i, false), weakenings[_i].env) == NULL,
                      "%s: loaded without allow_unsafe", weakenings[_i].what);
        ck_assert_contains(err.text, weakenings[_i].message);
        ck_assert_contains(err.text, "weakening the safety baseline needs \"allow_unsafe\": true");
        ck_assert_str_eq(err.source, "<string>");
}
END_TEST

/* allow_unsafe belongs to the file that is loaded: extending a policy that
 * weakens the baseline needs it again. */
START_TEST(test_allow_unsafe_not_inherited)
{
        memset(&err, 0, sizeof(err));
        ksafe_policy_t *base = ksafe_policy_load(data("unsafe-base.json"), NULL, &err);
        ck_assert_msg(base != NULL, "unsafe-base.json: %s", err.text);
        ck_assert(ksafe_policy_allows_unsafe(base));
        ksafe_policy_destroy(base);

        memset(&err, 0, sizeof(err));
        ksafe_policy_t *child = ksafe_policy_load(data("unsafe-child.json"), NULL, &err);
        ck_assert_ptr_null(child);
        ck_assert_contains(err.text, "baseline rule \"idempotence\" is off or missing");
        ck_assert_contains(err.text, "needs \"allow_unsafe\": true");
}
END_TEST

START_TEST(test_weakening_with_allow_unsafe)
{
        load(weakened_policy(_i, true), weakenings[_i].env);
        ck_assert(ksafe_policy_allows_unsafe(policy));
}
END_TEST

static const char *const stricter[] = {
        "'override': {'in-flight': {'max': 3}}",
        "'override': {'acks-all': {'action': 'reject'}, 'idempotence': {'action': 'reject'}}",
        "'override': {'delivery-timeout': {'min': 5000, 'max': 60000, 'set': 30000}}",
        "'override': {'retries': {'min': 3}}",
        "'override': {'delivery-covers-request': "
        "             {'min_sum': ['linger.ms', 'request.timeout.ms', 'socket.timeout.ms']}}",
        "'override': {'in-flight': {'equals': 1}}",
        "'environments': {'prod': {'override': {'in-flight': {'max': 1}}}}",
};

START_TEST(test_stricter_needs_nothing)
{
        char text[2048];
        snprintf(text, sizeof(text), EXTENDING_DEFAULT("%s"), stricter[_i]);
        load(text, "prod");
        ck_assert(!ksafe_policy_allows_unsafe(policy));
        ck_assert_str_eq(rule_ids(), BASELINE_IDS);
}
END_TEST

START_TEST(test_without_baseline)
{
        static const char *const own =
                "'rules': [{'id': 'x', 'property': 'client.id', 'required': true, "
                "'action': 'warn'}]";
        char text[1024];
        snprintf(text, sizeof(text), "{'ksafe_policy': 1, %s}", own);
        try_load(text, NULL);
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "baseline rule \"idempotence\" is off or missing");
        ck_assert_contains(err.text, "\"allow_unsafe\": true");

        snprintf(text, sizeof(text), "{'ksafe_policy': 1, 'allow_unsafe': true, %s}", own);
        load(text, NULL);
        ck_assert_str_eq(rule_ids(), "x");
        ck_assert(ksafe_policy_allows_unsafe(policy));
}
END_TEST

/* "allow_unsafe" is written at the top of the file: a section that weakens
 * the baseline without it is an error of the file, whichever section is
 * chosen (as a syntax error in any section is). */
START_TEST(test_weakening_in_other_section)
{
        try_load(EXTENDING_DEFAULT(
                         "'environments': {'dev': {'override': {'in-flight': {'max': 10}}},"
                         "                 'prod': {}}"),
                 "prod");
        ck_assert_msg(policy == NULL, "a dev section that weakens the baseline without "
                                      "allow_unsafe loads for prod");
        ck_assert_contains(err.text, "in-flight");
        ck_assert_contains(err.text, "allow_unsafe");
}
END_TEST

/*
 * KSAFE_POLICY and KSAFE_ENV
 */

static void env_teardown(void)
{
        unsetenv("KSAFE_POLICY");
        unsetenv("KSAFE_ENV");
        teardown();
}

static void from_env(const char *policy_var, const char *env_var)
{
        if (policy_var)
                setenv("KSAFE_POLICY", policy_var, 1);
        else
                unsetenv("KSAFE_POLICY");
        if (env_var)
                setenv("KSAFE_ENV", env_var, 1);
        else
                unsetenv("KSAFE_ENV");
        ksafe_policy_destroy(policy);
        memset(&err, 0, sizeof(err));
        policy = ksafe_policy_from_env(&err);
}

START_TEST(test_from_env_unset_is_default)
{
        from_env(NULL, NULL);
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(ksafe_policy_name(policy), "builtin:default");
        ck_assert_ptr_null(ksafe_policy_env(policy));
        ck_assert_str_eq(rule_ids(), BASELINE_IDS);
}
END_TEST

START_TEST(test_from_env_empty_is_default)
{
        from_env("", "");
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(ksafe_policy_name(policy), "builtin:default");
        ck_assert_ptr_null(ksafe_policy_env(policy));
}
END_TEST

START_TEST(test_from_env_file)
{
        from_env(data("sub/child.json"), NULL);
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(ksafe_policy_name(policy), "child");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",linger,client-id");
}
END_TEST

START_TEST(test_from_env_file_and_env)
{
        from_env(data("sub/child.json"), "prod");
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(ksafe_policy_env(policy), "prod");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",linger,tls,client-id");
}
END_TEST

START_TEST(test_from_env_default_with_env)
{
        from_env(NULL, "prod");
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(ksafe_policy_name(policy), "builtin:default");
        ck_assert_str_eq(ksafe_policy_env(policy), "prod");
}
END_TEST

START_TEST(test_from_env_missing_file_is_an_error)
{
        const char *path = data("no-such-policy.json");
        from_env(path, NULL);
        ck_assert_msg(policy == NULL, "fell back to \"%s\"", ksafe_policy_name(policy));
        ck_assert_str_eq(err.source, path);
        ck_assert_contains(err.text, "No such file or directory");
}
END_TEST

START_TEST(test_from_env_bad_policy_is_an_error)
{
        from_env(data("cycle-a.json"), NULL);
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "\"extends\" cycle");
}
END_TEST

START_TEST(test_from_env_unknown_env)
{
        from_env(NULL, "bogus");
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "unknown environment \"bogus\" (known: dev, staging, prod)");

        from_env(data("base.json"), "bogus");
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "unknown environment \"bogus\"");
}
END_TEST

/*
 * The resolved policy as JSON
 */

/* ksafe_policy_to_json() of `policy`, parsed back with jansson. */
static json_t *resolved_json(void)
{
        char *text = ksafe_policy_to_json(policy);
        ck_assert_ptr_nonnull(text);
        json_error_t jerr;
        json_t *doc = json_loads(text, 0, &jerr);
        ck_assert_msg(doc != NULL, "%s at %d:%d in %s", jerr.text, jerr.line, jerr.column, text);
        free(text);
        return doc;
}

START_TEST(test_to_json_parses_back)
{
        load(org_policies[0], "prod");
        json_t *doc = resolved_json();
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "ksafe_policy")), 1);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "name")),
                         ksafe_policy_name(policy));
        ck_assert_pstr_eq(json_string_value(json_object_get(doc, "environment")), "prod");
        ck_assert(json_is_false(json_object_get(doc, "allow_unsafe")));
        json_t *rules = json_object_get(doc, "rules");
        ck_assert_uint_eq(json_array_size(rules), policy->rule_count);
        for (size_t i = 0; i < policy->rule_count; i++) {
                json_t *r = json_array_get(rules, i);
                ck_assert_str_eq(json_string_value(json_object_get(r, "id")), policy->rules[i].id);
        }
        /* overrides are applied */
        json_t *acks = json_array_get(rules, 1);
        ck_assert_str_eq(json_string_value(json_object_get(acks, "action")), "reject");
        json_decref(doc);
}
END_TEST

START_TEST(test_to_json_without_env)
{
        load(org_policies[0], "dev");
        json_t *doc = resolved_json();
        ck_assert_pstr_eq(json_string_value(json_object_get(doc, "environment")), "dev");
        /* the rule that dev turns off is gone */
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "rules")), 6);
        json_decref(doc);

        load(org_policies[0], NULL);
        doc = resolved_json();
        json_t *env = json_object_get(doc, "environment");
        ck_assert(env == NULL || json_is_null(env));
        json_decref(doc);
}
END_TEST

START_TEST(test_to_json_allow_unsafe)
{
        load(weakened_policy(0, true), NULL);
        json_t *doc = resolved_json();
        ck_assert(json_is_true(json_object_get(doc, "allow_unsafe")));
        json_decref(doc);
}
END_TEST

START_TEST(test_to_json_redacts_secrets)
{
        load(EXTENDING_DEFAULT("'rules': ["
                               "{'id': 'pw', 'property': 'sasl.password', 'equals': 'hunter2', "
                               " 'action': 'warn'},"
                               "{'id': 'pw2', 'property': 'sasl.password', "
                               " 'one_of': ['hunter2', 'swordfish'], 'set': 'swordfish', "
                               " 'action': 'enforce'}]"),
             NULL);
        char *text = ksafe_policy_to_json(policy);
        ck_assert_ptr_nonnull(text);
        ck_assert_ptr_null(strstr(text, "hunter2"));
        ck_assert_ptr_null(strstr(text, "swordfish"));
        free(text);

        json_t *doc = resolved_json();
        json_t *pw = json_array_get(json_object_get(doc, "rules"), 6);
        ck_assert_str_eq(json_string_value(json_object_get(pw, "id")), "pw");
        ck_assert_str_eq(json_string_value(json_object_get(pw, "property")), "sasl.password");
        ck_assert_str_eq(json_string_value(json_object_get(pw, "equals")), KSAFE_REDACTED);
        json_decref(doc);
}
END_TEST

#define N(array) ((int)(sizeof(array) / sizeof(*(array))))

static Suite *policy_suite(void)
{
        Suite *s = suite_create("policy");
        TCase *tc;

        tc = tcase_create("default");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_default_rules);
        tcase_add_test(tc, test_default_rule_values);
        tcase_add_test(tc, test_default_by_name_and_env);
        tcase_add_test(tc, test_default_is_the_conf_file);
        tcase_add_test(tc, test_destroy_null);
        suite_add_tcase(s, tc);

        tc = tcase_create("checks");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_check_equals);
        tcase_add_test(tc, test_check_one_of);
        tcase_add_test(tc, test_check_min_max_set);
        tcase_add_test(tc, test_check_min_sum);
        tcase_add_test(tc, test_check_required_and_forbidden);
        tcase_add_test(tc, test_check_values_as_json_types);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_load_error, 0, N(load_errors));
        tcase_add_test(tc, test_syntax_error_line_and_column);
        tcase_add_test(tc, test_duplicate_json_key);
        tcase_add_test(tc, test_sensitive_value_not_in_error);
        tcase_add_test(tc, test_error_text_is_one_line);
        tcase_add_test(tc, test_null_arguments);
        suite_add_tcase(s, tc);

        tc = tcase_create("file errors");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_file_missing);
        tcase_add_test(tc, test_file_unreadable);
        tcase_add_test(tc, test_file_with_nul_byte);
        tcase_add_test(tc, test_file_syntax_error_in_extended_file);
        tcase_add_test(tc, test_extends_missing_file);
        tcase_add_test(tc, test_extends_cycle);
        tcase_add_test(tc, test_unknown_builtin_by_name);
        suite_add_tcase(s, tc);

        tc = tcase_create("hostile files");
        tcase_add_checked_fixture(tc, hostile_setup, hostile_teardown);
        tcase_add_loop_test(tc, test_hostile_policy_file, 0, N(hostile_files));
        tcase_add_loop_test(tc, test_hostile_extends, 0, N(hostile_files));
        tcase_add_loop_test(tc, test_hostile_from_env, 0, N(hostile_files));
        tcase_add_test(tc, test_read_regular_file);
        suite_add_tcase(s, tc);

        tc = tcase_create("extends");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_extends_relative_to_file);
        tcase_add_test(tc, test_extends_environment_of_parent);
        tcase_add_test(tc, test_override_inherited_rule);
        tcase_add_test(tc, test_extends_string_relative_to_cwd);
        tcase_add_test(tc, test_extends_absolute_path);
        tcase_add_test(tc, test_unnamed_policy_named_after_source);
        suite_add_tcase(s, tc);

        tc = tcase_create("environments");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_env_none, 0, N(org_policies));
        tcase_add_loop_test(tc, test_env_off, 0, N(org_policies));
        tcase_add_loop_test(tc, test_env_adds_rules, 0, N(org_policies));
        tcase_add_loop_test(tc, test_env_overrides_fields, 0, N(org_policies));
        tcase_add_test(tc, test_env_across_extends);
        suite_add_tcase(s, tc);

        tc = tcase_create("baseline");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_allow_unsafe_not_inherited);
        tcase_add_loop_test(tc, test_weakening_needs_allow_unsafe, 0, N(weakenings));
        tcase_add_loop_test(tc, test_weakening_with_allow_unsafe, 0, N(weakenings));
        tcase_add_loop_test(tc, test_stricter_needs_nothing, 0, N(stricter));
        tcase_add_test(tc, test_without_baseline);
        tcase_add_test(tc, test_weakening_in_other_section);
        suite_add_tcase(s, tc);

        tc = tcase_create("from_env");
        tcase_add_checked_fixture(tc, setup, env_teardown);
        tcase_add_test(tc, test_from_env_unset_is_default);
        tcase_add_test(tc, test_from_env_empty_is_default);
        tcase_add_test(tc, test_from_env_file);
        tcase_add_test(tc, test_from_env_file_and_env);
        tcase_add_test(tc, test_from_env_default_with_env);
        tcase_add_test(tc, test_from_env_missing_file_is_an_error);
        tcase_add_test(tc, test_from_env_bad_policy_is_an_error);
        tcase_add_test(tc, test_from_env_unknown_env);
        suite_add_tcase(s, tc);

        tc = tcase_create("to_json");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_to_json_parses_back);
        tcase_add_test(tc, test_to_json_without_env);
        tcase_add_test(tc, test_to_json_allow_unsafe);
        tcase_add_test(tc, test_to_json_redacts_secrets);
        suite_add_tcase(s, tc);

        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(policy_suite());
        srunner_run_all(sr, CK_ENV);
        int failures = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failures != 0;
}
