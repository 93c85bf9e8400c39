/*
 * What the Check suites share: the runner's main(), assertions, and
 * policies of one rule. Included once per test program (static inline).
 * Unit suites include it after lib/ksafe_int.h, integration suites after
 * <ksafe.h>.
 */
#ifndef KSAFE_TEST_COMMON_H
#define KSAFE_TEST_COMMON_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksafe.h>

/* Run one suite (TAP on stdout with CK_TAP_LOG_FILE_NAME=-, as
 * tests/meson.build sets it); the exit code says whether any test failed. */
static inline int ksafe_test_run(Suite *suite)
{
        SRunner *sr = srunner_create(suite);
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* main() of a test program whose suite `suite_fn()` makes. */
#define KSAFE_TEST_MAIN(suite_fn)                                                                 \
        int main(void)                                                                            \
        {                                                                                         \
                return ksafe_test_run(suite_fn());                                                \
        }

#define ck_assert_contains(haystack, needle)                                                      \
        ck_assert_msg(strstr((haystack), (needle)) != NULL, "\"%s\" does not contain \"%s\"",     \
                      (haystack), (needle))

/* The text of a policy that extends builtin:default with the rules given
 * (JSON objects, comma-separated), at compile time. */
#define RULES(...)                                                                                \
        "{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"rules\":[" __VA_ARGS__ "]}"

/* The policy `json` for environment `env` (may be NULL); the test fails
 * with the loader's error when it does not load. */
static inline ksafe_policy_t *policy_from(const char *json, const char *env)
{
        ksafe_error_t err = {0};
        ksafe_policy_t *policy = ksafe_policy_load_string(json, env, &err);
        ck_assert_msg(policy != NULL, "policy: %s (%s)", err.text, err.path);
        return policy;
}

/* builtin:default and one more rule, `rule` a JSON object
 * ("{\"id\":\"x\",\"property\":\"acks\",...}"). */
static inline ksafe_policy_t *policy_with_rule(const char *rule)
{
        static const char head[] = "{\"ksafe_policy\":1,\"extends\":\"builtin:default\","
                                   "\"rules\":[";
        size_t size = sizeof(head) + strlen(rule) + 3;
        char *json = malloc(size);
        ck_assert_ptr_nonnull(json);
        snprintf(json, size, "%s%s]}", head, rule);
        ksafe_policy_t *policy = policy_from(json, NULL);
        free(json);
        return policy;
}

#endif /* KSAFE_TEST_COMMON_H */
