/*
 * The settled public ABI, through the public API only: versions, the
 * version of option structs, error codes and the clearing of `err`, bool
 * predicates, ksafe_free(), and ksafe_conf_enforce() leaving a conf it
 * refuses unchanged.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ksafe.h>

#include "../integration/conf_snapshot.h"

/* Predicates return bool (ksafe_report_rejected() returned int up to
 * 0.2.0): checked by type, at compile time. */
#define IS_BOOL(expr) _Generic((expr), bool: 1, default: 0)
_Static_assert(IS_BOOL(ksafe_report_rejected(NULL)), "ksafe_report_rejected returns bool");
_Static_assert(IS_BOOL(ksafe_report_conf_consumed(NULL)), "ksafe_report_conf_consumed: bool");
_Static_assert(IS_BOOL(ksafe_policy_allows_unsafe(NULL)), "ksafe_policy_allows_unsafe: bool");
_Static_assert(IS_BOOL(ksafe_property_is_sensitive("")), "ksafe_property_is_sensitive: bool");
_Static_assert(IS_BOOL(ksafe_config_options_init(NULL, 0)), "ksafe_config_options_init: bool");
/* The options struct starts with its version, as libgit2's do. */
_Static_assert(offsetof(ksafe_config_options_t, version) == 0, "version comes first");

static const char *data_dir(void)
{
        const char *d = getenv("KSAFE_TEST_DATA");
        return d ? d : "tests/data";
}

/* An error struct full of garbage, as a caller's reused one may be. */
static void dirty(ksafe_error_t *err)
{
        memset(err, 'x', sizeof(*err));
        err->code = (ksafe_error_code_t)77;
        err->line = 5;
}

static void ck_assert_err_clear(const ksafe_error_t *err)
{
        ksafe_error_t zero;
        memset(&zero, 0, sizeof(zero));
        ck_assert_int_eq(ksafe_error_code(err), KSAFE_ERROR_NONE);
        ck_assert_str_eq(err->text, "");
        ck_assert_str_eq(err->source, "");
        ck_assert_str_eq(err->path, "");
        ck_assert_msg(memcmp(err, &zero, sizeof(zero)) == 0, "err not all zeros: %s", err->text);
}

/*
 * Versions
 */

START_TEST(version_macros_agree_with_the_library)
{
        ck_assert_int_eq(KSAFE_VERSION, KSAFE_VERSION_NUM(KSAFE_VERSION_MAJOR, KSAFE_VERSION_MINOR,
                                                          KSAFE_VERSION_PATCH));
        ck_assert_int_eq(KSAFE_VERSION, (KSAFE_VERSION_MAJOR << 16) | (KSAFE_VERSION_MINOR << 8) |
                                                KSAFE_VERSION_PATCH);
        ck_assert_int_eq(ksafe_version(), KSAFE_VERSION);
        ck_assert_str_eq(ksafe_version_str(), KSAFE_VERSION_STR);
        char s[32];
        snprintf(s, sizeof(s), "%d.%d.%d", KSAFE_VERSION_MAJOR, KSAFE_VERSION_MINOR,
                 KSAFE_VERSION_PATCH);
        ck_assert_str_eq(s, KSAFE_VERSION_STR);
        ck_assert_str_eq(KSAFE_PROJECT_VERSION, KSAFE_VERSION_STR); /* meson's project() */
        /* The encoding orders versions as integers. */
        ck_assert_int_lt(KSAFE_VERSION_NUM(0, 2, 9), KSAFE_VERSION_NUM(0, 3, 0));
        ck_assert_int_lt(KSAFE_VERSION_NUM(0, 255, 255), KSAFE_VERSION_NUM(1, 0, 0));
#if KSAFE_VERSION < KSAFE_VERSION_NUM(0, 3, 0)
        ck_abort_msg("usable in #if");
#endif
}
END_TEST

/*
 * Option structs
 */

START_TEST(options_init_matches_the_macro)
{
        ksafe_config_options_t macro = KSAFE_CONFIG_OPTIONS_INIT;
        ck_assert_uint_eq(macro.version, KSAFE_CONFIG_OPTIONS_VERSION);
        ck_assert_int_eq(macro.format, KSAFE_FORMAT_AUTO);
        ck_assert_int_eq(macro.dialect, KSAFE_DIALECT_LIBRDKAFKA);
        ck_assert_ptr_null(macro.json_pointer);

        ksafe_config_options_t fn;
        memset(&fn, 'x', sizeof(fn));
        ck_assert(ksafe_config_options_init(&fn, KSAFE_CONFIG_OPTIONS_VERSION));
        ck_assert_uint_eq(fn.version, macro.version);
        ck_assert_int_eq(fn.format, macro.format);
        ck_assert_int_eq(fn.dialect, macro.dialect);
        ck_assert_ptr_null(fn.json_pointer);

        static const unsigned int unknown[] = {0, KSAFE_CONFIG_OPTIONS_VERSION + 1, 0xffffffffu};
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
                ksafe_config_options_t o;
                memset(&o, 'x', sizeof(o));
                ksafe_config_options_t copy = o;
                ck_assert(!ksafe_config_options_init(&o, unknown[i]));
                ck_assert(memcmp(&o, &copy, sizeof(o)) == 0); /* unchanged */
        }
}
END_TEST

/* An options struct of a version the library does not know is refused by
 * both readers (before the file is even opened), with a code that says so;
 * NULL options and the _INIT macro read with the defaults. */
START_TEST(options_of_unknown_version_are_refused)
{
        static const unsigned int unknown[] = {0, KSAFE_CONFIG_OPTIONS_VERSION + 1, 1000};
        static const char text[] = "acks=all\n";
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
                ksafe_config_options_t o = KSAFE_CONFIG_OPTIONS_INIT;
                o.version = unknown[i];
                ksafe_error_t err;
                dirty(&err);
                ck_assert_ptr_null(ksafe_config_read(text, sizeof(text) - 1, "v.properties", &o,
                                                     &err));
                ck_assert_int_eq(ksafe_error_code(&err), KSAFE_ERROR_INVALID_ARGUMENT);
                ck_assert_msg(strstr(err.text, "version") != NULL, "text: %s", err.text);
                char n[16];
                snprintf(n, sizeof(n), "%u", unknown[i]);
                ck_assert_msg(strstr(err.text, n) != NULL, "text names %s: %s", n, err.text);

                dirty(&err);
                ck_assert_ptr_null(ksafe_config_read_file("/no/such/file.properties", &o, &err));
                ck_assert_int_eq(ksafe_error_code(&err), KSAFE_ERROR_INVALID_ARGUMENT);
                ck_assert_ptr_null(ksafe_config_read(text, sizeof(text) - 1, NULL, &o, NULL));
        }
        ksafe_config_options_t init = KSAFE_CONFIG_OPTIONS_INIT;
        const ksafe_config_options_t *good[] = {NULL, &init};
        for (size_t i = 0; i < 2; i++) {
                ksafe_error_t err;
                dirty(&err);
                ksafe_config_t *c = ksafe_config_read(text, sizeof(text) - 1, "v.properties",
                                                      good[i], &err);
                ck_assert_ptr_nonnull(c);
                ck_assert_err_clear(&err);
                ksafe_config_destroy(c);
        }
}
END_TEST

/*
 * Error codes, and err cleared on entry
 */

typedef enum { POLICY_FILE, POLICY_STRING, CONFIG_TEXT, CONFIG_FILE } call_kind_t;

typedef struct {
        const char *name;
        call_kind_t kind;
        const char *arg;  /* a path under tests/data, a policy text or a config text */
        const char *env;  /* policies: the environment; configs: a JSON pointer */
        ksafe_error_code_t code;
        const char *text; /* a part of the message */
} error_case_t;

static const error_case_t error_cases[] = {
        {"missing policy file", POLICY_FILE, "policy/no-such.json", NULL, KSAFE_ERROR_IO,
         "cannot read"},
        {"policy file is a directory", POLICY_FILE, "policy", NULL, KSAFE_ERROR_IO, "cannot read"},
        {"policy JSON syntax", POLICY_FILE, "policy/broken.json", NULL, KSAFE_ERROR_PARSE, ""},
        {"extends a missing file", POLICY_FILE, "policy/extends-missing.json", NULL,
         KSAFE_ERROR_IO, "no-such-policy.json"},
        {"extends a file with a syntax error", POLICY_FILE, "policy/extends-broken.json", NULL,
         KSAFE_ERROR_PARSE, ""},
        {"extends cycle", POLICY_FILE, "policy/cycle-a.json", NULL, KSAFE_ERROR_POLICY, "cycle"},
        {"unknown property in a parent", POLICY_FILE, "policy/semantic-parent.json", NULL,
         KSAFE_ERROR_POLICY, "linger.mss"},
        {"wrong type in an environment", POLICY_FILE, "policy/type-child.json", NULL,
         KSAFE_ERROR_POLICY, "must be a number"},
        {"unknown environment", POLICY_FILE, "policy/base.json", "prd", KSAFE_ERROR_UNKNOWN_ENV,
         "unknown environment"},
        {"unknown builtin", POLICY_FILE, "builtin:nope", NULL, KSAFE_ERROR_INVALID_ARGUMENT,
         "builtin:nope"},
        {"policy text syntax", POLICY_STRING, "{\"ksafe_policy\": 1,", NULL, KSAFE_ERROR_PARSE,
         ""},
        {"policy not an object", POLICY_STRING, "[1]", NULL, KSAFE_ERROR_POLICY, "object"},
        {"unknown field", POLICY_STRING, "{\"ksafe_policy\":1,\"bogus\":1}", NULL,
         KSAFE_ERROR_POLICY, "bogus"},
        {"unknown action", POLICY_STRING,
         "{\"ksafe_policy\":1,\"rules\":[{\"id\":\"a\",\"property\":\"acks\","
         "\"equals\":\"all\",\"action\":\"explode\"}]}",
         NULL, KSAFE_ERROR_POLICY, "explode"},
        {"weakened baseline", POLICY_STRING,
         "{\"ksafe_policy\":1,\"extends\":\"builtin:default\","
         "\"override\":{\"idempotence\":{\"off\":true}}}",
         NULL, KSAFE_ERROR_UNSAFE, "allow_unsafe"},
        {"unknown environment (string)", POLICY_STRING, "{\"ksafe_policy\":1}", "prod",
         KSAFE_ERROR_UNKNOWN_ENV, "prod"},
        {"config JSON syntax", CONFIG_TEXT, "{\"acks\": ", NULL, KSAFE_ERROR_PARSE, ""},
        {"config JSON not an object", CONFIG_TEXT, "{\"kafka\": [1]}", "/kafka",
         KSAFE_ERROR_PARSE, ""},
        {"config JSON pointer to nothing", CONFIG_TEXT, "{\"acks\": \"all\"}", "/kafka",
         KSAFE_ERROR_PARSE, "/kafka"},
        {"missing config file", CONFIG_FILE, "configs/no-such.properties", NULL, KSAFE_ERROR_IO,
         "cannot read"},
        {"config file is a directory", CONFIG_FILE, "configs", NULL, KSAFE_ERROR_IO,
         "cannot read"},
        {"config with a NUL byte", CONFIG_FILE, "cli/nul.properties", NULL, KSAFE_ERROR_PARSE,
         "NUL"},
};

/* Run one case; returns what the call returned (to destroy), and its kind. */
static void *run_case(const error_case_t *c, ksafe_error_t *err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", data_dir(), c->arg);
        ksafe_config_options_t o = KSAFE_CONFIG_OPTIONS_INIT;
        o.json_pointer = c->env;
        switch (c->kind) {
        case POLICY_FILE:
                return ksafe_policy_load(strncmp(c->arg, "builtin:", 8) ? path : c->arg, c->env,
                                         err);
        case POLICY_STRING:
                return ksafe_policy_load_string(c->arg, c->env, err);
        case CONFIG_TEXT:
                return ksafe_config_read(c->arg, strlen(c->arg), "case.json", &o, err);
        case CONFIG_FILE:
                return ksafe_config_read_file(path, &o, err);
        }
        return NULL;
}

START_TEST(error_codes_of_every_kind)
{
        const error_case_t *c = &error_cases[_i];
        ksafe_error_t err;
        dirty(&err);
        void *made = run_case(c, &err);
        ck_assert_msg(made == NULL, "%s: no error", c->name);
        ck_assert_msg(ksafe_error_code(&err) == c->code, "%s: code %s (%d), want %s: %s",
                      c->name, ksafe_error_code_name(ksafe_error_code(&err)), (int)err.code,
                      ksafe_error_code_name(c->code), err.text);
        ck_assert_msg(err.text[0] != '\0', "%s: no text", c->name);
        ck_assert_msg(strstr(err.text, c->text) != NULL, "%s: text \"%s\" lacks \"%s\"",
                      c->name, err.text, c->text);
        if (c->code == KSAFE_ERROR_PARSE && c->kind != CONFIG_FILE && !c->env)
                ck_assert_msg(err.line > 0, "%s: a syntax error has a line", c->name);
        /* Every code has a name of its own. */
        ck_assert_str_ne(ksafe_error_code_name(c->code), "unknown");
}
END_TEST

/* Every call that takes an err clears it on entry: after a success it is
 * all zeros, whatever the caller left in it. */
START_TEST(err_is_cleared_on_success)
{
        char path[4096];
        ksafe_error_t err;
        ksafe_policy_t *p;

        snprintf(path, sizeof(path), "%s/policy/base.json", data_dir());
        dirty(&err);
        p = ksafe_policy_load(path, "prod", &err);
        ck_assert_ptr_nonnull(p);
        ck_assert_err_clear(&err);
        ksafe_policy_destroy(p);

        dirty(&err);
        p = ksafe_policy_load("builtin:default", NULL, &err);
        ck_assert_ptr_nonnull(p);
        ck_assert_err_clear(&err);
        ksafe_policy_destroy(p);

        dirty(&err);
        p = ksafe_policy_load_string("{\"ksafe_policy\":1,\"extends\":\"builtin:default\"}", NULL,
                                     &err);
        ck_assert_ptr_nonnull(p);
        ck_assert_err_clear(&err);
        ksafe_policy_destroy(p);

        dirty(&err);
        p = ksafe_policy_from_env(&err); /* KSAFE_POLICY is empty in the test environment */
        ck_assert_ptr_nonnull(p);
        ck_assert_err_clear(&err);
        ksafe_policy_destroy(p);

        ksafe_config_options_t o = KSAFE_CONFIG_OPTIONS_INIT;
        dirty(&err);
        ksafe_config_t *c = ksafe_config_read("acks=1\n", 7, NULL, &o, &err);
        ck_assert_ptr_nonnull(c);
        ck_assert_err_clear(&err);
        ksafe_config_destroy(c);

        snprintf(path, sizeof(path), "%s/configs/safe.properties", data_dir());
        dirty(&err);
        c = ksafe_config_read_file(path, NULL, &err);
        ck_assert_ptr_nonnull(c);
        ck_assert_err_clear(&err);
        ksafe_config_destroy(c);
}
END_TEST

/* The class, not only the table: every policy file of the test data either
 * loads (err all zeros) or fails with a known code and a text. */
START_TEST(every_policy_of_the_test_data_has_a_code)
{
        static const char *const dirs[] = {"policy", "policy/sub", "integration", "cli"};
        size_t failures = 0, loads = 0;
        for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/%s", data_dir(), dirs[d]);
                char cmd[4200];
                snprintf(cmd, sizeof(cmd), "ls '%s'", dir);
                FILE *ls = popen(cmd, "r");
                ck_assert_ptr_nonnull(ls);
                char name[256];
                while (fgets(name, sizeof(name), ls)) {
                        name[strcspn(name, "\n")] = '\0';
                        size_t n = strlen(name);
                        if (n < 5 || strcmp(name + n - 5, ".json") != 0)
                                continue;
                        if (d >= 2 && !strstr(name, "polic"))
                                continue;
                        char path[4400];
                        snprintf(path, sizeof(path), "%s/%s", dir, name);
                        static const char *const envs[] = {NULL, "prod", "no-such-env"};
                        for (size_t e = 0; e < 3; e++) {
                                ksafe_error_t err;
                                dirty(&err);
                                ksafe_policy_t *p = ksafe_policy_load(path, envs[e], &err);
                                if (p) {
                                        ck_assert_err_clear(&err);
                                        loads++;
                                } else {
                                        ck_assert_msg(err.code > KSAFE_ERROR_NONE &&
                                                              err.code <= KSAFE_ERROR_UNSAFE,
                                                      "%s: code %d", path, (int)err.code);
                                        ck_assert_msg(err.text[0], "%s: no text", path);
                                        failures++;
                                }
                                ksafe_policy_destroy(p);
                        }
                }
                pclose(ls);
        }
        ck_assert_uint_gt(loads, 0);
        ck_assert_uint_gt(failures, 0);
}
END_TEST

START_TEST(error_code_names)
{
        static const struct {
                ksafe_error_code_t code;
                const char *name;
        } names[] = {
                {KSAFE_ERROR_NONE, "none"},
                {KSAFE_ERROR_OUT_OF_MEMORY, "out of memory"},
                {KSAFE_ERROR_INVALID_ARGUMENT, "invalid argument"},
                {KSAFE_ERROR_IO, "io"},
                {KSAFE_ERROR_PARSE, "parse"},
                {KSAFE_ERROR_POLICY, "policy"},
                {KSAFE_ERROR_UNKNOWN_ENV, "unknown environment"},
                {KSAFE_ERROR_UNSAFE, "unsafe"},
                {(ksafe_error_code_t)99, "unknown"},
                {(ksafe_error_code_t)-1, "unknown"},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                ck_assert_str_eq(ksafe_error_code_name(names[i].code), names[i].name);
        ck_assert_int_eq(ksafe_error_code(NULL), KSAFE_ERROR_NONE);
        ksafe_error_t err = {.code = KSAFE_ERROR_IO};
        ck_assert_int_eq(ksafe_error_code(&err), KSAFE_ERROR_IO);
}
END_TEST

/* The strings the library returns are freed with ksafe_free() (valgrind
 * and ASan watch this suite). */
START_TEST(ksafe_free_frees_what_ksafe_returns)
{
        ksafe_policy_t *p = ksafe_policy_default();
        ksafe_free(ksafe_policy_to_json(p));
        ksafe_free(ksafe_report_escape("a\nb"));
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ksafe_report_t *r = ksafe_conf_check(conf, p);
        ksafe_free(ksafe_report_to_json(r));
        ksafe_free(ksafe_report_to_text(r));
        ksafe_report_destroy(r);
        ksafe_config_t *c = ksafe_config_read("acks=1\n", 7, NULL, NULL, NULL);
        ksafe_free(ksafe_config_render(c, NULL));
        ksafe_free(ksafe_config_effective(c, p));
        ksafe_config_destroy(c);
        ksafe_free(NULL);
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(p);
}
END_TEST

/*
 * ksafe_conf_enforce() refuses without changing the conf
 */

typedef struct {
        const char *name;
        const char *props[10]; /* name, value, ..., NULL */
        const char *policy;   /* NULL: the default */
        const char *rule;     /* a finding the refusal has */
} refusal_t;

#define EXTENDS_DEFAULT "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":["

static const refusal_t refusals[] = {
        /* a reject rule fails as given, while enforce rules would repair others */
        {"reject rule", {"acks", "1", "security.protocol", "plaintext", NULL},
         EXTENDS_DEFAULT "{\"id\":\"tls\",\"property\":\"security.protocol\","
                         "\"one_of\":[\"ssl\",\"sasl_ssl\"],\"action\":\"reject\"}]}",
         "tls"},
        /* two enforce rules that cannot both hold for this conf: delivery.timeout.ms
         * <= 300000 and >= linger.ms + request.timeout.ms */
        {"enforce conflict",
         {"linger.ms", "100", "request.timeout.ms", "300000", "acks", "1", NULL},
         NULL, "delivery-timeout"},
        {"enforce conflict, idempotence off",
         {"enable.idempotence", "false", "linger.ms", "1000", "request.timeout.ms", "300000",
          "max.in.flight", "100", NULL},
         NULL, "delivery-covers-request"},
        /* what rd_kafka_new() would refuse after enforcement: a transactional
         * producer whose message timeout exceeds its transaction timeout */
        {"librdkafka refuses the result",
         {"transactional.id", "tx", "transaction.timeout.ms", "60000", "delivery.timeout.ms",
          "90000", "acks", "1", NULL},
         EXTENDS_DEFAULT "{\"id\":\"dt\",\"property\":\"delivery.timeout.ms\",\"min\":90000,"
                         "\"action\":\"enforce\"}]}",
         NULL},
};

static rd_kafka_conf_t *conf_of(const char *const *props)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        for (size_t i = 0; props[i]; i += 2)
                ck_assert_msg(rd_kafka_conf_set(conf, props[i], props[i + 1], errstr,
                                                sizeof(errstr)) == RD_KAFKA_CONF_OK,
                              "%s: %s", props[i], errstr);
        return conf;
}

START_TEST(conf_enforce_refusal_leaves_conf_unchanged)
{
        const refusal_t *c = &refusals[_i];
        ksafe_error_t err;
        ksafe_policy_t *policy =
                c->policy ? ksafe_policy_load_string(c->policy, NULL, &err) : ksafe_policy_default();
        ck_assert_msg(policy != NULL, "%s: %s", c->name, err.text);
        rd_kafka_conf_t *conf = conf_of(c->props);
        char *before = conf_snapshot(conf);

        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert_ptr_nonnull(report);
        char *text = ksafe_report_to_text(report);
        ck_assert_msg(ksafe_report_rejected(report), "%s: not refused: %s", c->name, text);
        if (c->rule) {
                bool found = false;
                for (size_t i = 0; i < ksafe_report_count(report); i++)
                        found |= strcmp(ksafe_report_get(report, i)->rule_id, c->rule) == 0;
                ck_assert_msg(found, "%s: no [%s] in %s", c->name, c->rule, text);
        }
        /* Nothing was set, and the report does not claim otherwise. */
        char *after = conf_snapshot(conf);
        ck_assert_msg(strcmp(before, after) == 0, "%s: conf changed at: %.80s", c->name,
                      first_change(before, after));
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                ck_assert_msg(!ksafe_report_get(report, i)->fixed, "%s: [%s] claims fixed",
                              c->name, ksafe_report_get(report, i)->rule_id);

        /* Refused as ksafe_conf_check() would judge the enforced copy: the
         * same conf still makes no producer. */
        char errstr[1024];
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, NULL, errstr, sizeof(errstr));
        ck_assert_msg(rk == NULL, "%s: a producer was made", c->name);
        char *again = conf_snapshot(conf);
        ck_assert_msg(strcmp(before, again) == 0, "%s: producer_new changed conf at: %.80s",
                      c->name, first_change(before, again));

        free(again);
        free(after);
        free(before);
        ksafe_free(text);
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf);
        ksafe_policy_destroy(policy);
}
END_TEST

/* The contrast: a conf that enforcement can repair is repaired in place. */
START_TEST(conf_enforce_repairs_in_place)
{
        static const char *const props[] = {"acks", "1", "max.in.flight", "100", NULL};
        rd_kafka_conf_t *conf = conf_of(props);
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        ck_assert(!ksafe_report_rejected(report));
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "max.in.flight", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "5");
        size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, "enable.idempotence", value, &size),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "true");
        bool fixed = false;
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                fixed |= ksafe_report_get(report, i)->fixed;
        ck_assert(fixed);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        rd_kafka_conf_destroy(conf);
}
END_TEST

static Suite *abi_suite(void)
{
        Suite *s = suite_create("abi");
        TCase *tc = tcase_create("abi");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, version_macros_agree_with_the_library);
        tcase_add_test(tc, options_init_matches_the_macro);
        tcase_add_test(tc, options_of_unknown_version_are_refused);
        tcase_add_loop_test(tc, error_codes_of_every_kind, 0,
                            (int)(sizeof(error_cases) / sizeof(error_cases[0])));
        tcase_add_test(tc, err_is_cleared_on_success);
        tcase_add_test(tc, every_policy_of_the_test_data_has_a_code);
        tcase_add_test(tc, error_code_names);
        tcase_add_test(tc, ksafe_free_frees_what_ksafe_returns);
        tcase_add_loop_test(tc, conf_enforce_refusal_leaves_conf_unchanged, 0,
                            (int)(sizeof(refusals) / sizeof(refusals[0])));
        tcase_add_test(tc, conf_enforce_repairs_in_place);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(abi_suite());
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
