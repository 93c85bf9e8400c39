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
#include "common.h"

/* A policy that keeps the safety baseline, with more top-level fields. */
#define EXTENDING_DEFAULT(fields) "{'ksafe_policy': 1, 'extends': 'builtin:default', " fields "}"

#define BASELINE_IDS                                                                               \
        "idempotence,acks-all,in-flight,retries,delivery-timeout,delivery-covers-request"

/* Tables are walked inside one test each: a fork per row costs more than
 * the rows under ASan, and each row's failure names the row. */
#define EACH(table) for (int _i = 0; _i < (int)(sizeof(table) / sizeof(*(table))); _i++)

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
static void check_error(const char *what, const char *source, const char *path, const char *message)
{
        ck_assert_msg(policy == NULL, "%s: policy loaded, expected \"%s\"", what, message);
        ck_assert_msg(strcmp(err.source, source) == 0, "%s: source \"%s\", expected \"%s\"", what,
                      err.source, source);
        ck_assert_msg(strcmp(err.path, path) == 0, "%s: path \"%s\", expected \"%s\" (%s)", what,
                      err.path, path, err.text);
        ck_assert_msg(strstr(err.text, message) != NULL,
                      "%s: message \"%s\" does not contain \"%s\"", what, err.text, message);
        /* The path leads the message, so that a reader finds the spot. */
        if (*path)
                ck_assert_msg(
                        strncmp(err.text, path, strlen(path)) == 0 && err.text[strlen(path)] == ':',
                        "%s: message \"%s\" does not start with \"%s:\"", what, err.text, path);
}

static void expect_error_at(const char *what, const char *text, const char *env, const char *path,
                            const char *message)
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
#define expect_error(text, env, path, message)                                                     \
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
#define expect_file_error(path, env, source, json_path, message)                                   \
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
        {"environment name with a blank", EXTENDING_DEFAULT("'environments': {'pre prod': {}}"),
         NULL, "environments", "environment names are 1 to 64 letters"},
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
         NULL, "rules[0]", "rules \"in-flight\" and \"big\" can never both pass"},
        {"another rule enforcing a value the baseline refuses",
         EXTENDING_DEFAULT("'rules': [{'id': 'acks-one', 'property': 'acks', 'equals': '1', "
                           "'action': 'enforce'}]"),
         NULL, "rules[0]",
         "rules \"acks-all\" and \"acks-one\" can never both pass: no value of "
         "request.required.acks is both all (-1) and 1"},
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
        {"control character in a rule id",
         EXTENDING_DEFAULT("'rules': [{'id': 'r\\nid', 'property': 'client.id', "
                           "'required': true, 'action': 'warn'}]"),
         NULL, "rules[0].id", "cannot hold control characters"},
        {"escape sequence in a rule id",
         EXTENDING_DEFAULT("'rules': [{'id': 'r\\u001b[31m', 'property': 'client.id', "
                           "'required': true, 'action': 'warn'}]"),
         NULL, "rules[0].id", "cannot hold control characters"},
        {"control character in the policy name",
         "{'ksafe_policy': 1, 'name': 'acme\\r\\nerror: forged', "
         "'extends': 'builtin:default'}",
         NULL, "name", "cannot hold control characters"},
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
        {"override of an unknown id", EXTENDING_DEFAULT("'override': {'nope': {'action': 'warn'}}"),
         NULL, "override.nope", "no rule \"nope\" to override"},
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

/*
 * Policies that cannot mean what they say: a rule, or rules of one
 * property together, that no configuration can pass, or an enforce fix
 * that is itself a violation. Each is refused at load, where it was
 * written, whatever the action and whether or not allow_unsafe is set.
 */
#define RULE(id, property, checks, action)                                                         \
        "{'id': '" id "', 'property': '" property "', " checks ", 'action': '" action "'}"

static const struct {
        const char *what;
        const char *fields; /* after "extends": "builtin:default" */
        const char *env;
        const char *path;
        const char *message;
} unsatisfiable[] = {
        /* one rule alone */
        {"fractional max of an integer property",
         "'rules': [" RULE("batch", "batch.num.messages", "'max': 5.5", "enforce") "]", NULL,
         "rules[0].max",
         "must be a whole number: batch.num.messages is an integer property, not 5.5"},
        {"fractional max in a stricter baseline override",
         "'override': {'in-flight': {'max': 4.5}}", NULL, "override.in-flight.max",
         "must be a whole number: max.in.flight.requests.per.connection is an integer "
         "property, not 4.5"},
        {"fractional min of an integer property",
         "'rules': [" RULE("rt", "request.timeout.ms", "'min': 0.5", "warn") "]", NULL,
         "rules[0].min", "must be a whole number"},
        {"a max below librdkafka's range",
         "'rules': [" RULE("acks-low", "acks", "'max': -2", "reject") "]", NULL, "rules[0].max",
         "max -2 is below every value librdkafka accepts for request.required.acks (-1..1000)"},
        {"a min above librdkafka's range",
         "'rules': [" RULE("batch", "batch.num.messages", "'min': 2000000", "warn") "]", NULL,
         "rules[0].min",
         "min 2000000 is above every value librdkafka accepts for batch.num.messages "
         "(1..1000000)"},
        {"a max that only 0 meets, where 0 means infinite",
         "'rules': [" RULE("mt", "message.timeout.ms", "'max': 0", "warn") "]", NULL,
         "rules[0].max", "where 0 means infinite): no configuration could pass"},
        {"equals outside the rule's own max",
         "'rules': [" RULE("batch", "batch.num.messages", "'equals': 20000, 'max': 10000",
                           "enforce") "]",
         NULL, "rules[0].equals", "20000 is outside the rule's own min/max"},
        {"equals above the rule's own max", "'override': {'in-flight': {'equals': 6}}", NULL,
         "override.in-flight.equals", "6 is outside the rule's own min/max"},
        {"one_of outside the rule's own max",
         "'rules': [" RULE("batch", "batch.num.messages", "'one_of': [1, 50], 'max': 10",
                           "reject") "]",
         NULL, "rules[0].one_of[1]", "50 is outside the rule's own min/max"},
        {"equals not in the rule's own one_of",
         "'rules': [" RULE("tls", "security.protocol", "'equals': 'ssl', 'one_of': ['sasl_ssl']",
                           "reject") "]",
         NULL, "rules[0].equals", "ssl is not one of the rule's own one_of"},
        {"set that fails the rule's own equals",
         "'rules': [" RULE("batch", "batch.num.messages", "'equals': 100, 'set': 200",
                           "enforce") "]",
         NULL, "rules[0].set", "200 does not satisfy rule \"batch\" itself"},
        /* rules of one property together */
        {"a reject equals 1 on acks beside the baseline's all",
         "'rules': [" RULE("acks-one", "acks", "'equals': 1", "reject") "]", NULL, "rules[0]",
         "rules \"acks-all\" and \"acks-one\" can never both pass: no value of "
         "request.required.acks is both all (-1) and 1"},
        {"a warn rule that can never pass beside the baseline",
         "'rules': [" RULE("acks-leader", "request.required.acks", "'one_of': [0, 1]", "warn") "]",
         NULL, "rules[0]", "rules \"acks-all\" and \"acks-leader\" can never both pass"},
        {"two ranges that do not meet",
         "'rules': [" RULE("fast", "linger.ms", "'max': 10", "enforce") "," RULE(
                 "slow", "queue.buffering.max.ms", "'min': 20", "reject") "]",
         NULL, "rules[1]",
         "rules \"fast\" and \"slow\" can never both pass: no value of queue.buffering.max.ms "
         "is both <= 10 and >= 20"},
        {"one_of and equals that share no value",
         "'rules': [" RULE("c1", "compression.type", "'one_of': ['lz4', 'gzip']", "warn") "," RULE(
                 "c2", "compression.codec", "'equals': 'zstd'", "reject") "]",
         NULL, "rules[1]", "rules \"c1\" and \"c2\" can never both pass"},
        {"required and forbidden in two rules",
         "'rules': [" RULE("named", "client.id", "'required': true", "warn") "," RULE(
                 "anonymous", "client.id", "'forbidden': true", "warn") "]",
         NULL, "rules[1]", "no value of client.id is both set and not set"},
        {"three rules that meet in pairs but not all together",
         "'rules': [" RULE("c1", "compression.type", "'one_of': ['lz4', 'zstd']", "warn") "," RULE(
                 "c2", "compression.type", "'one_of': ['zstd', 'gzip']",
                 "warn") "," RULE("c3", "compression.type", "'one_of': ['gzip', 'lz4']",
                                  "warn") "]",
         NULL, "rules[2]", "rules \"c1\", \"c2\", \"c3\" can never all pass together"},
        {"a baseline override that leaves the baseline's other rule no value",
         "'override': {'delivery-timeout': {'max': 500, 'min': 100, 'set': 200}}", NULL,
         "override.delivery-timeout", "baseline rule \"delivery-timeout\" has min 100, below"},
        {"a contradiction only in one environment",
         "'environments': {'prod': {'rules': [" RULE("acks-one", "acks", "'equals': 1",
                                                     "reject") "]}}",
         NULL, "environments.prod.rules[0]", "can never both pass in environment prod"},
        {"a contradiction across an override in an environment",
         "'rules': [" RULE(
                 "few", "max.in.flight", "'max': 3",
                 "reject") "],"
                           "'environments': {'dev': {'override': {'in-flight': {'min': 4}}}}",
         "dev", "environments.dev.override.in-flight",
         "rules \"in-flight\" and \"few\" can never both pass in environment dev"},
        /* an enforce fix that another rule refuses */
        {"an enforce set value that a reject range refuses",
         "'rules': [" RULE("few-retries", "retries", "'max': 10", "reject") "]", NULL, "rules[0]",
         "rule \"retries\" enforces retries=2147483647, which rule \"few-retries\" refuses"},
        {"an enforce bound that a reject one_of refuses",
         "'rules': [" RULE("short", "linger.ms", "'max': 5", "enforce") "," RULE(
                 "steps", "linger.ms", "'one_of': [1, 10]", "reject") "]",
         NULL, "rules[1]", "rule \"short\" enforces linger.ms=5, which rule \"steps\" refuses"},
        {"an enforce one_of value that a reject one_of refuses",
         "'rules': [" RULE("codec", "compression.type", "'one_of': ['gzip', 'lz4']",
                           "enforce") "," RULE("fast-codec", "compression.type",
                                               "'one_of': ['lz4', 'zstd']", "reject") "]",
         NULL, "rules[1]",
         "rule \"codec\" enforces compression.type=gzip, which rule \"fast-codec\" refuses"},
        {"two enforce rules, one setting what the other refuses",
         "'rules': [" RULE("a", "batch.num.messages", "'min': 10, 'set': 1000", "enforce") "," RULE(
                 "b", "batch.num.messages", "'max': 100, 'set': 50", "enforce") "]",
         NULL, "rules[1]", "rule \"a\" enforces batch.num.messages=1000, which rule \"b\" refuses"},
};

static const char *policy_with(const char *fields, bool allow_unsafe)
{
        static char text[4096];
        snprintf(text, sizeof(text), "{'ksafe_policy': 1, 'extends': 'builtin:default', %s%s}",
                 allow_unsafe ? "'allow_unsafe': true, " : "", fields);
        return text;
}

START_TEST(test_unsatisfiable)
{
        EACH (unsatisfiable) {
                expect_error_at(unsatisfiable[_i].what,
                                policy_with(unsatisfiable[_i].fields, false), unsatisfiable[_i].env,
                                unsatisfiable[_i].path, unsatisfiable[_i].message);
        }
}
END_TEST

/* allow_unsafe weakens the baseline; it does not make nonsense mean anything. */
START_TEST(test_unsatisfiable_with_allow_unsafe)
{
        EACH (unsatisfiable) {
                try_load(policy_with(unsatisfiable[_i].fields, true), unsatisfiable[_i].env);
                if (strstr(unsatisfiable[_i].message, "baseline rule"))
                        continue; /* a weakening, which allow_unsafe allows */
                check_error(unsatisfiable[_i].what, "<string>", unsatisfiable[_i].path,
                            unsatisfiable[_i].message);
        }
}
END_TEST

/* Rules that meet, and fixes that stay within the other rules: they load. */
static const char *const satisfiable[] = {
        "'rules': [" RULE("l1", "linger.ms", "'max': 100",
                          "enforce") "," RULE("l2", "linger.ms", "'min': 5", "reject") "]",
        "'rules': [" RULE("c1", "compression.type", "'one_of': ['lz4', 'zstd']",
                          "enforce") "," RULE("c2", "compression.type", "'equals': 'lz4'",
                                              "reject") "]",
        "'rules': [" RULE("l1", "linger.ms", "'min': 0.5, 'max': 99.5", "enforce") "]",
        "'rules': [" RULE("batch", "batch.num.messages", "'min': 1, 'max': 1000000", "warn") "]",
        "'rules': [" RULE("acks-int", "acks", "'equals': -1, 'min': -1, 'max': 1000", "reject") "]",
        "'rules': [" RULE("named", "client.id", "'required': true",
                          "warn") "," RULE("app", "client.id", "'equals': 'app'", "reject") "]",
        "'rules': [" RULE("few", "max.in.flight", "'max': 3",
                          "reject") "],"
                                    "'override': {'in-flight': {'max': 3}}",
        "'rules': [" RULE("pw1", "sasl.password", "'equals': 'a'", "warn") "," RULE(
                "pw2", "sasl.password", "'one_of': ['a', 'b'], 'set': 'b'", "enforce") "]",
        "'rules': [" RULE("dt", "delivery.timeout.ms", "'min': 60000", "reject") "]",
};

START_TEST(test_satisfiable)
{
        EACH (satisfiable) {
                load(policy_with(satisfiable[_i], false), NULL);
        }
}
END_TEST

/* 0 means infinite: "at least 3e9" is met by 0 alone, and loads. */
START_TEST(test_min_met_only_by_infinite)
{
        load("{'ksafe_policy': 1, 'allow_unsafe': true, 'rules': [" RULE(
                     "forever", "message.timeout.ms", "'min': 3000000000", "reject") "]}",
             NULL);
}
END_TEST

START_TEST(test_load_error)
{
        EACH (load_errors) {
                expect_error_at(load_errors[_i].what, load_errors[_i].policy, load_errors[_i].env,
                                load_errors[_i].path, load_errors[_i].message);
        }
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
 * Structure before meaning: the first error of structure (a wrong type, an
 * unknown or missing field) anywhere in the document, in any section and
 * in any file of the chain, is reported before any error of meaning.
 */

#define LINGER_MAX_AS_STRING "{'id': 'y', 'property': 'linger.ms', 'max': '9', 'action': 'warn'}"

static const struct {
        const char *what;
        const char *policy;
        const char *env;
        const char *path;
        const char *message;
} structure_first[] = {
        {"no extends, a wrong type in a section not chosen (not \"baseline rule missing\")",
         "{'ksafe_policy': 1, 'environments': {'prod': {'rules': [" LINGER_MAX_AS_STRING "]}}}",
         NULL, "environments.prod.rules[0].max", "must be a number, not a string"},
        {"a wrong type after an unknown property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'linger.mss', 'max': 9, "
                           "'action': 'warn'}, " LINGER_MAX_AS_STRING "]"),
         NULL, "rules[1].max", "must be a number, not a string"},
        {"a wrong type after an override of an unknown rule",
         EXTENDING_DEFAULT("'override': {'nope': {'action': 'warn'}, "
                           "'in-flight': {'max': 'five'}}"),
         NULL, "override.in-flight.max", "must be a number, not a string"},
        {"a wrong type in a section not chosen, after a duplicate id in the chosen one",
         EXTENDING_DEFAULT("'environments': {"
                           "'prod': {'rules': [{'id': 'acks-all', 'property': 'acks', "
                           "  'equals': 'all', 'action': 'reject'}]},"
                           "'dev': {'rules': [" LINGER_MAX_AS_STRING "]}}"),
         "prod", "environments.dev.rules[0].max", "must be a number, not a string"},
        {"a wrong type, and an environment that does not exist",
         EXTENDING_DEFAULT("'environments': {'dev': {'rules': 5}}"), "qa", "environments.dev.rules",
         "must be an array of rules, not a number"},
        {"an unknown field after a weakened baseline",
         EXTENDING_DEFAULT("'override': {'in-flight': {'max': 10}}, 'colour': 'red'"), NULL,
         "colour", "unknown field \"colour\""},
        {"a missing action after a value librdkafka refuses",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'acks', 'equals': 2000, "
                           "'action': 'warn'}, {'id': 'z', 'property': 'linger.ms', "
                           "'max': 9}]"),
         NULL, "rules[1]", "rule \"z\" needs an \"action\""},
        {"a one_of item of the wrong type after a bad value",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'security.protocol', "
                           "'one_of': ['tls', ['ssl']], 'action': 'warn'}]"),
         NULL, "rules[0].one_of[1]", "must be a string, number or boolean, not an array"},
        {"a min_sum item of the wrong type after an unknown property",
         EXTENDING_DEFAULT("'rules': [{'id': 'x', 'property': 'delivery.timeout.ms', "
                           "'min_sum': ['linger.mss', 5], 'action': 'warn'}]"),
         NULL, "rules[0].min_sum[1]", "must be a property name (a string), not a number"},
        {"$schema not a string", EXTENDING_DEFAULT("'$schema': 1"), NULL, "$schema",
         "must be a string, not a number"},
        {"an empty override after an unknown rule id",
         EXTENDING_DEFAULT("'override': {'nope': {'action': 'warn'}, 'in-flight': {}}"), NULL,
         "override.in-flight", "an override changes at least one field"},
};

START_TEST(test_structure_first)
{
        EACH (structure_first) {
                expect_error_at(structure_first[_i].what, structure_first[_i].policy,
                                structure_first[_i].env, structure_first[_i].path,
                                structure_first[_i].message);
        }
}
END_TEST

/* A child's type error comes before its parent's unknown property. */
START_TEST(test_structure_first_across_extends)
{
        const char *path = data("type-child.json");
        expect_file_error(path, NULL, path, "environments.prod.rules[0].max",
                          "must be a number, not a string");
        /* and the parent alone has its error of meaning */
        path = data("semantic-parent.json");
        expect_file_error(path, NULL, path, "rules[0].property", "did you mean \"linger.ms\"?");
}
END_TEST

/*
 * Errors from files
 */

/* A policy path that cannot be read: the path, and why, in the error. */
static const struct {
        const char *file, *message;
} unreadable_files[] = {
        {"no-such-policy.json", "cannot read policy: No such file or directory"},
        /* a directory opens but cannot be read, also for root */
        {"sub", "cannot read policy: Is a directory"},
};

START_TEST(test_file_unreadable)
{
        const char *path = data(unreadable_files[_i].file);
        expect_file_error(path, NULL, path, "", unreadable_files[_i].message);
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
        snprintf(message, sizeof(message), "cannot read \"%s\": %s", path, hostile_files[_i].why);
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

        char *text = ksafe_file__read_regular("/proc/self/status", &len, &id, why, sizeof(why));
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
        text = ksafe_file__read_regular(big, &len, &id, why, sizeof(why));
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
        text = ksafe_file__read_regular(empty, &len, NULL, why, sizeof(why));
        unlink(empty);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_eq(len, 0);
        ck_assert_str_eq(text, "");
        free(text);

        /* exactly KSAFE_MAX_FILE bytes is allowed */
        const char *full = hostile_path("full.bin");
        int fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, (off_t)KSAFE_MAX_FILE), 0);
        close(fd);
        text = ksafe_file__read_regular(full, &len, NULL, why, sizeof(why));
        unlink(full);
        ck_assert_msg(text != NULL, "a file of exactly KSAFE_MAX_FILE bytes: %s", why);
        ck_assert_uint_eq(len, KSAFE_MAX_FILE);
        free(text);

        errno = 0;
        ck_assert_ptr_null(
                ksafe_file__read_regular(hostile_path("fifo"), &len, NULL, why, sizeof(why)));
        ck_assert_int_eq(errno, EINVAL);
        ck_assert_str_eq(why, "a FIFO, not a regular file");
        ck_assert_ptr_null(
                ksafe_file__read_regular(hostile_path("huge.json"), &len, NULL, why, sizeof(why)));
        ck_assert_int_eq(errno, EFBIG);
        ck_assert_ptr_null(ksafe_file__read("/tmp", &len));
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
        load(EXTENDING_DEFAULT("'override': {'in-flight': {'max': 3, 'action': 'reject'}}"), NULL);
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
 * extends follows the real file: a relative path is taken from the folder
 * of the file that names it after symlinks are resolved, and a cycle is
 * found by file identity, whatever names lead to the file.
 */

static char tree[] = "/tmp/ksafe-test-tree-XXXXXX";

static const char *in_tree(const char *name)
{
        static char bufs[4][PATH_MAX];
        static int next;
        char *buf = bufs[next++ % 4];
        snprintf(buf, PATH_MAX, "%s/%s", tree, name);
        return buf;
}

static void write_file(const char *path, const char *single_quoted)
{
        char *text = dq(single_quoted);
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
        free(text);
}

static void tree_setup(void)
{
        setup();
        memcpy(tree + strlen(tree) - 6, "XXXXXX", 6);
        ck_assert_ptr_nonnull(mkdtemp(tree));
        ck_assert_int_eq(mkdir(in_tree("real"), 0700), 0);
        ck_assert_int_eq(mkdir(in_tree("elsewhere"), 0700), 0);
        write_file(in_tree("real/base.json"),
                   EXTENDING_DEFAULT("'rules': [{'id': 'real-base', 'property': 'linger.ms', "
                                     "'max': 100, 'action': 'warn'}]"));
        write_file(in_tree("elsewhere/base.json"),
                   EXTENDING_DEFAULT("'rules': [{'id': 'other-base', 'property': 'linger.ms', "
                                     "'max': 100, 'action': 'warn'}]"));
        write_file(in_tree("real/child.json"), "{'ksafe_policy': 1, 'extends': 'base.json'}");
        ck_assert_int_eq(symlink("../real/child.json", in_tree("elsewhere/child.json")), 0);
        ck_assert_int_eq(symlink("real", in_tree("linkdir")), 0);
        /* x.json extends y.json, which extends z.json: x.json by another name */
        write_file(in_tree("real/x.json"), "{'ksafe_policy': 1, 'extends': 'y.json'}");
        write_file(in_tree("real/y.json"), "{'ksafe_policy': 1, 'extends': 'z.json'}");
        ck_assert_int_eq(link(in_tree("real/x.json"), in_tree("real/z.json")), 0);
}

static void tree_teardown(void)
{
        static const char *const files[] = {
                "real/base.json", "elsewhere/base.json", "real/child.json", "elsewhere/child.json",
                "linkdir",        "real/x.json",         "real/y.json",     "real/z.json",
        };
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
                unlink(in_tree(files[i]));
        rmdir(in_tree("real"));
        rmdir(in_tree("elsewhere"));
        rmdir(tree);
        teardown();
}

/* Every name of real/child.json gives the same policy: real/base.json's. */
START_TEST(test_extends_through_symlinks)
{
        static const char *const names[] = {"real/child.json", "elsewhere/child.json",
                                            "linkdir/child.json", "real/../linkdir/child.json"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                load_file(in_tree(names[i]), NULL);
                ck_assert_msg(rule("real-base") != NULL && rule("other-base") == NULL,
                              "%s: rules %s", names[i], rule_ids());
        }
}
END_TEST

START_TEST(test_extends_cycle_by_identity)
{
        /* The cycle closes at z.json, the first file read twice (not at
         * y.json, where names would first repeat). */
        const char *path = in_tree("real/x.json");
        ksafe_policy_destroy(policy);
        policy = ksafe_policy_load(path, NULL, &err);
        ck_assert_ptr_null(policy);
        ck_assert_contains(err.text, "\"extends\" cycle");
        ck_assert_contains(err.text, "/real/z.json extends itself");
        ck_assert_str_eq(err.path, "");
}
END_TEST

/*
 * Locations are never cut silently: ksafe_error_t's fields have fixed
 * sizes (an ABI), so a longer path or source keeps its tail behind "...",
 * a longer text its head before "...", never splitting a UTF-8 character.
 */

static bool valid_utf8(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                size_t n = *p < 0x80             ? 1
                           : (*p & 0xE0) == 0xC0 ? 2
                           : (*p & 0xF0) == 0xE0 ? 3
                           : (*p & 0xF8) == 0xF0 ? 4
                                                 : 0;
                if (!n)
                        return false;
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                p += n;
        }
        return true;
}

/* `s` repeated to `len` bytes (s's length divides len). */
static char *repeat(const char *s, size_t len)
{
        char *out = malloc(len + 1);
        ck_assert_ptr_nonnull(out);
        for (size_t i = 0; i < len; i++)
                out[i] = s[i % strlen(s)];
        out[len] = '\0';
        return out;
}

static const struct {
        const char *what;
        const char *unit; /* repeated into a long rule id */
        size_t len;
} long_paths[] = {
        {"ASCII", "x", 300},
        {"two-byte characters", "\xc3\xa9", 300},       /* é */
        {"three-byte characters", "\xe2\x82\xac", 300}, /* € */
        {"four-byte characters", "\xf0\x9f\x98\x80", 400},
        {"just fits", "y", 127 - (sizeof("override.") - 1)},
        {"one byte too long", "z", 128 - (sizeof("override.") - 1)},
};

/* An override of an unknown rule with a long id: the path is
 * "override.<id>", the text repeats it. */
START_TEST(test_long_path_keeps_its_tail)
{
        char *id = repeat(long_paths[_i].unit, long_paths[_i].len);
        ksafe_buf_t text = {0};
        ksafe_buf__printf(&text,
                          "{'ksafe_policy': 1, 'extends': 'builtin:default', "
                          "'override': {'%s': {'action': 'warn'}}}",
                          id);
        char *json = ksafe_buf__take(&text);
        try_load(json, NULL);
        free(json);
        ck_assert_ptr_null(policy);
        char full[1024];
        snprintf(full, sizeof(full), "override.%s", id);
        const char *what = long_paths[_i].what;
        ck_assert_msg(valid_utf8(err.path), "%s: path not UTF-8", what);
        ck_assert_msg(valid_utf8(err.text), "%s: text not UTF-8", what);
        ck_assert_msg(strlen(err.path) < sizeof(err.path), "%s", what);
        if (strlen(full) < sizeof(err.path)) {
                ck_assert_str_eq(err.path, full);
        } else {
                /* "..." and the end of the path, as long as fits */
                ck_assert_msg(strncmp(err.path, "...", 3) == 0, "%s: path \"%s\"", what, err.path);
                size_t kept = strlen(err.path) - 3;
                ck_assert_msg(kept + 3 >= sizeof(err.path) - 4, "%s: only %zu bytes kept", what,
                              kept);
                ck_assert_str_eq(err.path + 3, full + strlen(full) - kept);
        }
        /* the text leads with that same path, and is cut visibly too */
        ck_assert_msg(strncmp(err.text, err.path, strlen(err.path)) == 0, "%s: text \"%s\"", what,
                      err.text);
        size_t tl = strlen(err.text);
        ck_assert_msg(tl < sizeof(err.text), "%s", what);
        if (tl >= sizeof(err.text) - 4)
                ck_assert_msg(strcmp(err.text + tl - 3, "...") == 0, "%s: text \"%s\"", what,
                              err.text);
        else
                ck_assert_contains(err.text, "to override");
        free(id);
}
END_TEST

/* Keys that would break a line or reorder a terminal are escaped in the
 * path, and the text still leads with exactly err.path. */
START_TEST(test_hostile_path_escaped)
{
        static const struct {
                const char *unit;
                size_t len;
                const char *raw; /* must not appear */
        } keys[] = {
                {"a\nb", 3, "\n"},
                {"\xe2\x80\xa8", 300, "\xe2\x80\xa8"}, /* LINE SEPARATOR, cut */
                {"\xe2\x80\xae", 30, "\xe2\x80\xae"},  /* RIGHT-TO-LEFT OVERRIDE */
        };
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
                char *id = repeat(keys[i].unit, keys[i].len);
                json_t *doc = json_pack("{s:i, s:s, s:{s:{s:s}}}", "ksafe_policy", 1, "extends",
                                        "builtin:default", "override", id, "action", "warn");
                char *json = json_dumps(doc, 0);
                json_decref(doc);
                ksafe_policy_destroy(policy);
                memset(&err, 0, sizeof(err));
                policy = ksafe_policy_load_string(json, NULL, &err);
                free(json);
                free(id);
                ck_assert_ptr_null(policy);
                ck_assert_msg(strstr(err.path, keys[i].raw) == NULL, "key %zu: raw in path", i);
                ck_assert_msg(strstr(err.text, keys[i].raw) == NULL, "key %zu: raw in text", i);
                ck_assert_msg(strncmp(err.path, i == 1 ? "..." : "override.", 3) == 0,
                              "key %zu: path \"%s\"", i, err.path);
                ck_assert_msg(strncmp(err.text, err.path, strlen(err.path)) == 0 &&
                                      err.text[strlen(err.path)] == ':',
                              "key %zu: text \"%s\" does not lead with path \"%s\"", i, err.text,
                              err.path);
        }
}
END_TEST

/* A file whose name is longer than err.source, in folders named with
 * multi-byte characters: the source keeps the file's own name. */
START_TEST(test_long_source_keeps_its_tail)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "/tmp/ksafe-test-long-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s", dir);
        char *part = repeat("\xc3\xbc", 100); /* ü x 50 */
        char made[4][PATH_MAX];
        for (int i = 0; i < 4; i++) {
                size_t len = strlen(path);
                snprintf(path + len, sizeof(path) - len, "/%s", part);
                ck_assert_int_eq(mkdir(path, 0700), 0);
                snprintf(made[i], PATH_MAX, "%s", path);
        }
        size_t len = strlen(path);
        snprintf(path + len, sizeof(path) - len, "/bad-policy.json");
        write_file(path, "{'ksafe_policy': 1, 'extends': 'builtin:default', 'colour': 1}");
        ksafe_policy_destroy(policy);
        memset(&err, 0, sizeof(err));
        policy = ksafe_policy_load(path, NULL, &err);
        unlink(path);
        for (int i = 3; i >= 0; i--)
                rmdir(made[i]);
        rmdir(dir);
        free(part);
        ck_assert_ptr_null(policy);
        ck_assert_str_eq(err.path, "colour");
        ck_assert_msg(strlen(path) >= sizeof(err.source), "test path too short");
        ck_assert_msg(strncmp(err.source, "...", 3) == 0, "source \"%s\"", err.source);
        ck_assert_msg(valid_utf8(err.source), "source not UTF-8");
        size_t kept = strlen(err.source) - 3;
        ck_assert_uint_ge(kept + 3, sizeof(err.source) - 4);
        ck_assert_str_eq(err.source + 3, path + strlen(path) - kept);
        ck_assert_contains(err.source, "/bad-policy.json");
}
END_TEST

/* A long unknown property name: the text is cut at its end, visibly. */
START_TEST(test_long_text_is_cut_visibly)
{
        char *name = repeat("\xe2\x82\xac", 600);
        ksafe_buf_t text = {0};
        ksafe_buf__printf(&text,
                          "{'ksafe_policy': 1, 'extends': 'builtin:default', "
                          "'rules': [{'id': 'x', 'property': '%s', 'required': true, "
                          "'action': 'warn'}]}",
                          name);
        char *json = ksafe_buf__take(&text);
        try_load(json, NULL);
        free(json);
        free(name);
        ck_assert_ptr_null(policy);
        ck_assert_str_eq(err.path, "rules[0].property");
        size_t tl = strlen(err.text);
        ck_assert_uint_ge(tl, sizeof(err.text) - 4);
        ck_assert_str_eq(err.text + tl - 3, "...");
        ck_assert_msg(valid_utf8(err.text), "text not UTF-8");
        ck_assert_contains(err.text, "rules[0].property: unknown property");
}
END_TEST

/*
 * Many environments load (in time linear in their number: the figures
 * are tests/bench/bench_policy.c's, never a timed test). Every section is
 * still checked.
 */
START_TEST(test_many_environments)
{
        enum { ENVS = 3000 };
        ksafe_buf_t text = {0};
        ksafe_buf__printf(&text, "{'ksafe_policy': 1, 'extends': 'builtin:default', "
                                 "'rules': [{'id': 'cid', 'property': 'client.id', "
                                 "'required': true, 'action': 'warn'}], 'environments': {");
        for (int i = 0; i < ENVS; i++)
                ksafe_buf__printf(&text,
                                  "%s'env%d': {'rules': [{'id': 'r%d', 'property': 'linger.ms', "
                                  "'max': %d, 'action': 'warn'}], "
                                  "'override': {'in-flight': {'max': %d}}}",
                                  i ? ", " : "", i, i, 100 + i % 50, 1 + i % 5);
        ksafe_buf__printf(&text, "}}");
        char *json = ksafe_buf__take(&text);
        ck_assert_ptr_nonnull(json);
        load(json, "env2999");
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",cid,r2999");
        ck_assert_double_eq(must_rule("in-flight")->max, 5);
        load(json, NULL);
        ck_assert_str_eq(rule_ids(), BASELINE_IDS ",cid");

        /* and one bad section among them is found, whichever is chosen */
        char *bad = strstr(json, "'max': 3}}}, 'env1503'");
        ck_assert_ptr_nonnull(bad);
        memcpy(bad, "'max': 9}", strlen("'max': 9}"));
        try_load(json, "env7");
        free(json);
        check_error("many environments", "<string>", "environments.env1502.override.in-flight",
                    "baseline rule \"in-flight\" has max 9, above 5");
}
END_TEST

/*
 * Environments
 */

#define TLS_RULE(action)                                                                           \
        "{'id': 'tls', 'property': 'security.protocol', 'one_of': ['ssl', 'sasl_ssl'], "           \
        "'action': '" action "'}"
#define COMPRESSION_RULE                                                                           \
        "{'id': 'compression', 'property': 'compression.type', 'one_of': ['lz4', 'zstd'], "        \
        "'action': 'warn'}"
#define DEV_SECTION "'dev': {'override': {'compression': {'off': true}}}"
#define STAGING_SECTION "'staging': {'rules': [" TLS_RULE("warn") "]}"
#define PROD_SECTION                                                                               \
        "'prod': {'rules': [" TLS_RULE(                                                            \
                "reject") "],"                                                                     \
                          "         'override': {'acks-all': {'action': 'reject'},"                \
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
        const char *path; /* where the baseline rule was weakened ("": it is gone) */
        const char *message;
} weakenings[] = {
        {"off", "'override': {'idempotence': {'off': true}}", NULL, "",
         "baseline rule \"idempotence\" is off or missing"},
        {"warn", "'override': {'acks-all': {'action': 'warn'}}", NULL, "override.acks-all",
         "baseline rule \"acks-all\" only warns"},
        {"max.in.flight up to 10", "'override': {'in-flight': {'max': 10}}", NULL,
         "override.in-flight", "baseline rule \"in-flight\" has max 10, above 5"},
        {"retries down to 0", "'override': {'retries': {'min': 0}}", NULL, "override.retries",
         "baseline rule \"retries\" has min 0, below 1"},
        {"acks 1", "'override': {'acks-all': {'equals': '1'}}", NULL, "override.acks-all",
         "baseline rule \"acks-all\" requires all, not 1"},
        {"delivery timeout up to 10 minutes", "'override': {'delivery-timeout': {'max': 600000}}",
         NULL, "override.delivery-timeout",
         "baseline rule \"delivery-timeout\" has max 600000, above 300000"},
        {"min_sum without request.timeout.ms",
         "'override': {'delivery-covers-request': {'min_sum': ['linger.ms']}}", NULL,
         "override.delivery-covers-request",
         "baseline rule \"delivery-covers-request\" no longer counts request.timeout.ms"},
        {"off in the chosen environment",
         "'environments': {'dev': {'override': {'in-flight': {'off': true}}}}", "dev", "",
         "baseline rule \"in-flight\" is off or missing in environment dev"},
        {"re-added without its min",
         "'override': {'in-flight': {'off': true}}, 'environments': {'dev': {'rules': ["
         "{'id': 'in-flight', 'property': 'max.in.flight', 'max': 5, 'action': 'enforce'}]}}",
         "dev", "environments.dev.rules[0]",
         "baseline rule \"in-flight\" lost one of its checks in environment dev"},
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
        EACH (weakenings) {
                try_load(weakened_policy(_i, false), weakenings[_i].env);
                check_error(weakenings[_i].what, "<string>", weakenings[_i].path,
                            weakenings[_i].message);
                ck_assert_contains(err.text,
                                   "weakening the safety baseline needs \"allow_unsafe\": true");
        }
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
        EACH (weakenings) {
                load(weakened_policy(_i, true), weakenings[_i].env);
                ck_assert(ksafe_policy_allows_unsafe(policy));
        }
}
END_TEST

static const char *const stricter[] = {
        "'override': {'in-flight': {'max': 3}}",
        "'override': {'acks-all': {'action': 'reject'}, 'idempotence': {'action': 'reject'}}",
        "'override': {'delivery-timeout': {'min': 5000, 'max': 60000, 'set': 30000}}",
        "'override': {'retries': {'min': 3}}",
        ("'override': {'delivery-covers-request': "
         "             {'min_sum': ['linger.ms', 'request.timeout.ms', 'socket.timeout.ms']}}"),
        "'override': {'in-flight': {'equals': 1}}",
        "'environments': {'prod': {'override': {'in-flight': {'max': 1}}}}",
};

START_TEST(test_stricter_needs_nothing)
{
        EACH (stricter) {
                char text[2048];
                snprintf(text, sizeof(text), EXTENDING_DEFAULT("%s"), stricter[_i]);
                load(text, "prod");
                ck_assert(!ksafe_policy_allows_unsafe(policy));
                ck_assert_str_eq(rule_ids(), BASELINE_IDS);
        }
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

/* KSAFE_POLICY and KSAFE_ENV that load: which policy, which environment,
 * which rules. A NULL expectation is not checked. */
static const struct {
        const char *policy_var; /* a file under tests/data, "" or NULL (unset) */
        const char *env_var;
        const char *name;
        bool no_env; /* the policy has no environment */
        const char *env;
        const char *rules;
} from_env_loads[] = {
        {NULL, NULL, "builtin:default", true, NULL, BASELINE_IDS},
        {"", "", "builtin:default", true, NULL, NULL},
        {"sub/child.json", NULL, "child", false, NULL, BASELINE_IDS ",linger,client-id"},
        {"sub/child.json", "prod", NULL, false, "prod", BASELINE_IDS ",linger,tls,client-id"},
        {NULL, "prod", "builtin:default", false, "prod", NULL},
};

START_TEST(test_from_env_loads)
{
        const char *var = from_env_loads[_i].policy_var;
        from_env(var && var[0] ? data(var) : var, from_env_loads[_i].env_var);
        ck_assert_msg(policy != NULL, "%s", err.text);
        if (from_env_loads[_i].name)
                ck_assert_str_eq(ksafe_policy_name(policy), from_env_loads[_i].name);
        if (from_env_loads[_i].no_env)
                ck_assert_ptr_null(ksafe_policy_env(policy));
        if (from_env_loads[_i].env)
                ck_assert_str_eq(ksafe_policy_env(policy), from_env_loads[_i].env);
        if (from_env_loads[_i].rules)
                ck_assert_str_eq(rule_ids(), from_env_loads[_i].rules);
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
 * The system policy (/etc/ksafe/policy.json in the packages): read like KSAFE_POLICY when
 * KSAFE_POLICY is unset or empty, failing closed when something is there but unusable.
 * ksafe_policy__system_path points into a directory of the test's own.
 */

/* One directory per test case, made and removed by the unchecked fixture in the parent
 * process (a forked test that fails never runs its checked teardown); one subdirectory
 * of it per test. */
static char sys_base[] = "/tmp/ksafe-system-XXXXXX";
static char sys_dir[PATH_MAX];
static char sys_path[PATH_MAX];
static const char *sys_saved;

static void sys_base_setup(void)
{
        memcpy(sys_base + strlen(sys_base) - 6, "XXXXXX", 6);
        if (!mkdtemp(sys_base))
                abort();
}

static void sys_base_teardown(void)
{
        char cmd[PATH_MAX + 16];
        if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sys_base) < (int)sizeof(cmd))
                (void)!system(cmd);
}

static void sys_setup(void)
{
        setup();
        ck_assert_int_lt(snprintf(sys_dir, sizeof(sys_dir), "%s/tXXXXXX", sys_base),
                         (int)sizeof(sys_dir));
        ck_assert_ptr_nonnull(mkdtemp(sys_dir));
        ck_assert_int_lt(snprintf(sys_path, sizeof(sys_path), "%s/policy.json", sys_dir),
                         (int)sizeof(sys_path));
        sys_saved = ksafe_policy__system_path;
        ksafe_policy__system_path = sys_path;
}

static void sys_teardown(void)
{
        ksafe_policy__system_path = sys_saved;
        env_teardown();
}

/* What is at the system path, and what KSAFE_POLICY and KSAFE_ENV say; then what
 * ksafe_policy_from_env() gives: a policy named `name` (for `env`), or an error of `code`
 * whose source is `source` ("SYS" the system path) and whose text contains `text`. */
enum sys_kind { SYS_NONE, SYS_FILE, SYS_DIR, SYS_DANGLING, SYS_LINK, SYS_UNDER_FILE };
static const struct sys_case {
        const char *what;
        enum sys_kind kind;
        const char *content; /* single-quoted JSON for SYS_FILE and SYS_LINK */
        const char *policy_var, *env_var;
        const char *name, *env;
        ksafe_error_code_t code;
        const char *source, *text;
} sys_cases[] = {
        {"nothing there: the built-in default", SYS_NONE, NULL, NULL, NULL, "builtin:default", NULL,
         KSAFE_ERROR_NONE, NULL, NULL},
        {"nothing there, KSAFE_POLICY empty: the built-in default", SYS_NONE, NULL, "", "",
         "builtin:default", NULL, KSAFE_ERROR_NONE, NULL, NULL},
        {"a policy there: it is used", SYS_FILE,
         "{'ksafe_policy': 1, 'name': 'org', 'extends': 'builtin:default'}", NULL, NULL, "org",
         NULL, KSAFE_ERROR_NONE, NULL, NULL},
        {"a policy there, KSAFE_POLICY empty: it is used", SYS_FILE,
         "{'ksafe_policy': 1, 'name': 'org', 'extends': 'builtin:default'}", "", NULL, "org", NULL,
         KSAFE_ERROR_NONE, NULL, NULL},
        {"a policy there, KSAFE_ENV=prod: resolved for prod", SYS_FILE,
         "{'ksafe_policy': 1, 'name': 'org', 'extends': 'builtin:default', "
         "'environments': {'prod': {}}}",
         NULL, "prod", "org", "prod", KSAFE_ERROR_NONE, NULL, NULL},
        {"a policy reached through a symlink: it is used", SYS_LINK,
         "{'ksafe_policy': 1, 'name': 'linked', 'extends': 'builtin:default'}", NULL, NULL,
         "linked", NULL, KSAFE_ERROR_NONE, NULL, NULL},
        {"KSAFE_POLICY set: it wins over the system policy", SYS_FILE,
         "{'ksafe_policy': 1, 'name': 'org'}", "builtin:default", NULL, "builtin:default", NULL,
         KSAFE_ERROR_NONE, NULL, NULL},
        {"KSAFE_POLICY set to a missing file: an error, the system policy is no fallback", SYS_FILE,
         "{'ksafe_policy': 1, 'name': 'org'}", "/nonexistent/ksafe.json", NULL, NULL, NULL,
         KSAFE_ERROR_IO, "/nonexistent/ksafe.json", "No such file"},
        {"broken JSON there: fails closed", SYS_FILE, "{'ksafe_policy': 1, 'rules': [", NULL, NULL,
         NULL, NULL, KSAFE_ERROR_PARSE, "SYS", ""},
        {"an invalid policy there: fails closed", SYS_FILE, "{'ksafe_policy': 1, 'colour': 1}",
         NULL, NULL, NULL, NULL, KSAFE_ERROR_POLICY, "SYS", "colour"},
        {"a weakening without allow_unsafe there: fails closed", SYS_FILE,
         "{'ksafe_policy': 1, 'extends': 'builtin:default', "
         "'override': {'acks-all': {'off': true}}}",
         NULL, NULL, NULL, NULL, KSAFE_ERROR_UNSAFE, "SYS", "allow_unsafe"},
        {"a policy there, an unknown KSAFE_ENV: an error", SYS_FILE,
         "{'ksafe_policy': 1, 'name': 'org'}", NULL, "bogus", NULL, NULL, KSAFE_ERROR_UNKNOWN_ENV,
         "SYS", "bogus"},
        {"a directory there: fails closed", SYS_DIR, NULL, NULL, NULL, NULL, NULL, KSAFE_ERROR_IO,
         "SYS", "directory"},
        {"a dangling symlink there: fails closed", SYS_DANGLING, NULL, NULL, NULL, NULL, NULL,
         KSAFE_ERROR_IO, "SYS", "No such file"},
        {"its directory is a file: fails closed", SYS_UNDER_FILE, NULL, NULL, NULL, NULL, NULL,
         KSAFE_ERROR_IO, "SYS", "Not a directory"},
};

static void sys_make(const struct sys_case *c)
{
        char other[PATH_MAX];
        ck_assert_int_lt(snprintf(other, sizeof(other), "%s/elsewhere.json", sys_dir),
                         (int)sizeof(other));
        switch (c->kind) {
        case SYS_NONE: break;
        case SYS_FILE: write_file(sys_path, c->content); break;
        case SYS_DIR: ck_assert_int_eq(mkdir(sys_path, 0700), 0); break;
        case SYS_DANGLING: ck_assert_int_eq(symlink(other, sys_path), 0); break;
        case SYS_LINK:
                write_file(other, c->content);
                ck_assert_int_eq(symlink(other, sys_path), 0);
                break;
        case SYS_UNDER_FILE:
                write_file(other, "{}");
                ck_assert_int_lt(snprintf(sys_path, sizeof(sys_path), "%s/policy.json", other),
                                 (int)sizeof(sys_path));
                break;
        }
}

START_TEST(test_system_policy)
{
        const struct sys_case *c = &sys_cases[_i];
        sys_make(c);
        from_env(c->policy_var, c->env_var);
        /* The same answer from the public entry point, when KSAFE_POLICY does not decide. */
        ksafe_error_t err2;
        ksafe_policy_t *direct = NULL;
        if (!(c->policy_var && *c->policy_var))
                direct = ksafe_policy_load_system(c->env_var, &err2);
        if (c->name) {
                ck_assert_msg(policy != NULL, "%s: %s", c->what, err.text);
                ck_assert_str_eq(ksafe_policy_name(policy), c->name);
                if (c->env)
                        ck_assert_str_eq(ksafe_policy_env(policy), c->env);
                else
                        ck_assert_ptr_null(ksafe_policy_env(policy));
                ck_assert_int_eq(err.code, KSAFE_ERROR_NONE);
                if (!(c->policy_var && *c->policy_var)) {
                        ck_assert_msg(direct != NULL, "%s: %s", c->what, err2.text);
                        ck_assert_str_eq(ksafe_policy_name(direct), c->name);
                }
        } else {
                ck_assert_msg(policy == NULL, "%s: got \"%s\"", c->what, ksafe_policy_name(policy));
                ck_assert_msg(err.code == c->code, "%s: code %s, not %s (%s)", c->what,
                              ksafe_error_code_name(err.code), ksafe_error_code_name(c->code),
                              err.text);
                const char *source = strcmp(c->source, "SYS") == 0 ? sys_path : c->source;
                ck_assert_str_eq(err.source, source);
                ck_assert_contains(err.text, c->text);
                if (!(c->policy_var && *c->policy_var)) {
                        ck_assert_msg(direct == NULL, "%s: load_system got \"%s\"", c->what,
                                      ksafe_policy_name(direct));
                        ck_assert_int_eq(err2.code, c->code);
                        ck_assert_str_eq(err2.source, source);
                }
        }
        ksafe_policy_destroy(direct);

        /* ksafe_producer_new(conf, NULL, ...) reads the policy through the per-process
         * cache: it gives the same answer (a cached answer of an earlier case included). */
        ksafe_error_t err3;
        ksafe_cached_t *cached = ksafe_policy_cache__get(&err3);
        if (c->name) {
                ck_assert_msg(cached != NULL, "%s: cache: %s", c->what, err3.text);
                ck_assert_str_eq(ksafe_policy_name(ksafe_policy_cache__policy(cached)), c->name);
        } else {
                ck_assert_msg(cached == NULL, "%s: the cache gave \"%s\"", c->what,
                              ksafe_policy_name(ksafe_policy_cache__policy(cached)));
                ck_assert_int_eq(err3.code, c->code);
        }
        ksafe_policy_cache__release(cached);
}
END_TEST

/* The cache follows the system policy file as it comes and goes. */
START_TEST(test_system_policy_cached)
{
        unsetenv("KSAFE_POLICY");
        unsetenv("KSAFE_ENV");
        static const struct {
                const char *content; /* NULL: no file */
                const char *name;
        } steps[] = {
                {NULL, "builtin:default"},
                {"{'ksafe_policy': 1, 'name': 'org', 'extends': 'builtin:default'}", "org"},
                {"{'ksafe_policy': 1, 'name': 'org2', 'extends': 'builtin:default'}", "org2"},
                {NULL, "builtin:default"},
        };
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                if (steps[i].content)
                        write_file(sys_path, steps[i].content);
                else
                        unlink(sys_path);
                ksafe_error_t e;
                ksafe_cached_t *cached = ksafe_policy_cache__get(&e);
                ck_assert_msg(cached != NULL, "step %zu: %s", i, e.text);
                ck_assert_str_eq(ksafe_policy_name(ksafe_policy_cache__policy(cached)),
                                 steps[i].name);
                ksafe_policy_cache__release(cached);
        }
}
END_TEST

START_TEST(test_system_policy_none)
{
        /* -Dsystem_policy=none: no file is read, whatever is where it would be. */
        write_file(sys_path, "{'ksafe_policy': 1, 'rules': [");
        ksafe_policy__system_path = "";
        from_env(NULL, NULL);
        ck_assert_msg(policy != NULL, "%s", err.text);
        ck_assert_str_eq(ksafe_policy_name(policy), "builtin:default");
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

/* A bound as the expected values show it: the shortest of %.15g, %.16g,
 * %.17g that reads back as the same double (what librdkafka stores). */
static void shortest(double d, char *buf, size_t size)
{
        for (int digits = 15; digits <= 17; digits++) {
                snprintf(buf, size, "%.*g", digits, d);
                if (strtod(buf, NULL) == d)
                        return;
        }
}

/* Bounds of every kind shown in "expected between MIN and MAX": whole
 * numbers (written cheaply) and fractions, zero of both signs, large. */
START_TEST(test_describe_bounds)
{
        static const struct {
                const char *property, *min, *max;
        } cases[] = {
                {"linger.ms", "0", "900000"},     {"linger.ms", "-0.0", "5"},
                {"linger.ms", "0.5", "153456.4"}, {"linger.ms", "1e-7", "899999.99999999"},
                {"linger.ms", "12.25", "100.0"},  {"message.max.bytes", "1000", "1000000000"},
                {"retries", "0", "2147483647"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char json[512];
                snprintf(json, sizeof(json),
                         "{\"ksafe_policy\": 1, \"allow_unsafe\": true, \"rules\": [{\"id\": "
                         "\"b\", \"property\": \"%s\", \"min\": %s, \"max\": %s, "
                         "\"action\": \"warn\"}]}",
                         cases[i].property, cases[i].min, cases[i].max);
                ksafe_policy_t *p = policy_from(json, NULL);
                ck_assert_uint_eq(p->rule_count, 1);
                char lo[64], hi[64], want[200];
                shortest(strtod(cases[i].min, NULL), lo, sizeof(lo));
                shortest(strtod(cases[i].max, NULL), hi, sizeof(hi));
                snprintf(want, sizeof(want), "between %s and %s", lo, hi);
                ksafe_buf_t got = {0};
                ksafe_rule__describe(&p->rules[0], NULL, &got);
                ck_assert_str_eq(got.data, want);
                ksafe_buf__free(&got);
                ksafe_policy_destroy(p);
        }
}
END_TEST

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
        tcase_add_test(tc, test_describe_bounds);
        tcase_add_test(tc, test_check_min_sum);
        tcase_add_test(tc, test_check_required_and_forbidden);
        tcase_add_test(tc, test_check_values_as_json_types);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_load_error);
        tcase_add_test(tc, test_structure_first);
        tcase_add_test(tc, test_unsatisfiable);
        tcase_add_test(tc, test_unsatisfiable_with_allow_unsafe);
        tcase_add_test(tc, test_satisfiable);
        tcase_add_test(tc, test_min_met_only_by_infinite);
        tcase_add_test(tc, test_structure_first_across_extends);
        tcase_add_test(tc, test_syntax_error_line_and_column);
        tcase_add_test(tc, test_duplicate_json_key);
        tcase_add_test(tc, test_sensitive_value_not_in_error);
        tcase_add_test(tc, test_error_text_is_one_line);
        tcase_add_test(tc, test_null_arguments);
        suite_add_tcase(s, tc);

        tc = tcase_create("file errors");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_file_unreadable, 0, N(unreadable_files));
        tcase_add_test(tc, test_file_with_nul_byte);
        tcase_add_test(tc, test_file_syntax_error_in_extended_file);
        tcase_add_test(tc, test_extends_missing_file);
        tcase_add_test(tc, test_extends_cycle);
        tcase_add_test(tc, test_unknown_builtin_by_name);
        suite_add_tcase(s, tc);

        tc = tcase_create("hostile files");
        tcase_add_checked_fixture(tc, hostile_setup, hostile_teardown);
        /* 64 MiB are read under ASan and valgrind too; a hang is still a
         * failure, only later. */
        tcase_set_timeout(tc, 30);
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

        tc = tcase_create("real files");
        tcase_add_checked_fixture(tc, tree_setup, tree_teardown);
        tcase_add_test(tc, test_extends_through_symlinks);
        tcase_add_test(tc, test_extends_cycle_by_identity);
        suite_add_tcase(s, tc);

        tc = tcase_create("locations");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_long_path_keeps_its_tail, 0, N(long_paths));
        tcase_add_test(tc, test_hostile_path_escaped);
        tcase_add_test(tc, test_long_source_keeps_its_tail);
        tcase_add_test(tc, test_long_text_is_cut_visibly);
        suite_add_tcase(s, tc);

        tc = tcase_create("scale");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_many_environments);
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
        tcase_add_test(tc, test_weakening_needs_allow_unsafe);
        tcase_add_test(tc, test_weakening_with_allow_unsafe);
        tcase_add_test(tc, test_stricter_needs_nothing);
        tcase_add_test(tc, test_without_baseline);
        tcase_add_test(tc, test_weakening_in_other_section);
        suite_add_tcase(s, tc);

        tc = tcase_create("from_env");
        tcase_add_unchecked_fixture(tc, sys_base_setup, sys_base_teardown);
        tcase_add_checked_fixture(tc, sys_setup, sys_teardown); /* no system policy */
        tcase_add_loop_test(tc, test_from_env_loads, 0, N(from_env_loads));
        tcase_add_test(tc, test_from_env_missing_file_is_an_error);
        tcase_add_test(tc, test_from_env_bad_policy_is_an_error);
        tcase_add_test(tc, test_from_env_unknown_env);
        suite_add_tcase(s, tc);

        tc = tcase_create("system_policy");
        tcase_add_unchecked_fixture(tc, sys_base_setup, sys_base_teardown);
        tcase_add_checked_fixture(tc, sys_setup, sys_teardown);
        tcase_add_loop_test(tc, test_system_policy, 0,
                            (int)(sizeof(sys_cases) / sizeof(sys_cases[0])));
        tcase_add_test(tc, test_system_policy_none);
        tcase_add_test(tc, test_system_policy_cached);
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

KSAFE_TEST_MAIN(policy_suite)
