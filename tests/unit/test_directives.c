/*
 * The config reader's ksafe-lint directives (ksafe_config_directive_get()):
 * `ksafe-lint: disable=RULE[,RULE] -- reason` in a .properties comment, and
 * a JSON object's "$ksafe-lint" member, read with the line they are on, the
 * property they precede, and whether they cover the whole file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"
#include "common.h"

typedef struct expected_s {
        int line, target_line;
        bool file_wide;
        const char *rules, *reason; /* NULL: none */
} expected_t;

typedef struct directive_case_s {
        const char *what, *text, *source, *pointer;
        ksafe_dialect_t dialect;
        size_t count;
        expected_t d[3];
} directive_case_t;

#define D(...)                                                                                     \
        {                                                                                          \
                __VA_ARGS__                                                                        \
        }

static const directive_case_t cases[] = {
        {"the first comment covers the file",
         "# ksafe-lint: disable=acks-all -- why\nacks=1\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(1, 0, true, "acks-all", "why")}},
        {"blank lines before the first comment",
         "\n\n  # ksafe-lint: disable=a,b -- r\nacks=1\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(3, 0, true, "a,b", "r")}},
        {"after another comment: the next property",
         "# header\n# ksafe-lint: disable=retries -- r\n\n# more\nretries=0\nacks=1\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 5, false, "retries", "r")}},
        {"after a property",
         "acks=1\n# ksafe-lint: disable=x -- y\nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x", "y")}},
        {"two in a row reach the same property",
         "acks=1\n# ksafe-lint: disable=x -- 1\n# ksafe-lint: disable=y -- 2\nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         2,
         {D(2, 4, false, "x", "1"), D(3, 4, false, "y", "2")}},
        {"no reason",
         "acks=1\n# ksafe-lint: disable=x\nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x", NULL)}},
        {"an empty reason",
         "acks=1\n# ksafe-lint: disable=x --   \nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x", NULL)}},
        {"blanks around the ids and the reason",
         "acks=1\n#ksafe-lint:   disable= x , y   --  the reason  \nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x , y", "the reason")}},
        {"not a directive",
         "acks=1\n# ksafe-lint: enable=x -- y\nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, NULL, NULL)}},
        {"disable= with no rule",
         "acks=1\n# ksafe-lint: disable= -- y\nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, NULL, "y")}},
        {"a '!' comment",
         "acks=1\n! ksafe-lint: disable=x -- y\nlinger.ms=5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x", "y")}},
        {"nothing follows",
         "acks=1\n# ksafe-lint: disable=x -- y\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 0, false, "x", "y")}},
        {"a property on continuation lines: its first line",
         "acks=1\n# ksafe-lint: disable=x -- y\nlinger.ms=\\\n  5\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x", "y")}},
        {"CRLF",
         "acks=1\r\n# ksafe-lint: disable=x -- y\r\nlinger.ms=5\r\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(2, 3, false, "x", "y")}},
        {"not at the start of the comment",
         "# see ksafe-lint: disable=x -- y\nacks=1\n",
         "a.properties",
         NULL,
         0,
         0,
         {D(0)}},
        {"in a value it is a value",
         "acks=1 # ksafe-lint: disable=acks-all -- y\n",
         "a.properties",
         NULL,
         0,
         0,
         {D(0)}},
        {"a control character is escaped",
         "# ksafe-lint: disable=x\x1b[2J -- r\x07\nacks=1\n",
         "a.properties",
         NULL,
         0,
         1,
         {D(1, 0, true, "x\\x1b[2J", "r\\x07")}},
        {"java dialect",
         "# ksafe-lint: disable=x -- y\nacks=1\n",
         "a.properties",
         NULL,
         KSAFE_DIALECT_JAVA,
         1,
         {D(1, 0, true, "x", "y")}},
        {"JSON: the object's member",
         "{\n  \"acks\": 1,\n  \"$ksafe-lint\": {\"disable\": [\"a\", \"b\"], \"reason\": "
         "\"r\"}\n}",
         "a.json",
         NULL,
         0,
         1,
         {D(3, 0, true, "a,b", "r")}},
        {"JSON: no reason",
         "{\"$ksafe-lint\": {\"disable\": [\"a\"]}}",
         "a.json",
         NULL,
         0,
         1,
         {D(1, 0, true, "a", NULL)}},
        {"JSON: not a list",
         "{\"$ksafe-lint\": {\"disable\": \"a\", \"reason\": \"r\"}}",
         "a.json",
         NULL,
         0,
         1,
         {D(1, 0, true, NULL, "r")}},
        {"JSON: an unknown member",
         "{\"$ksafe-lint\": {\"disable\": [\"a\"], \"why\": \"r\"}}",
         "a.json",
         NULL,
         0,
         1,
         {D(1, 0, true, NULL, NULL)}},
        {"JSON: an empty list",
         "{\"$ksafe-lint\": {\"disable\": []}}",
         "a.json",
         NULL,
         0,
         1,
         {D(1, 0, true, NULL, NULL)}},
        {"JSON: a comma in an id",
         "{\"$ksafe-lint\": {\"disable\": [\"a,b\"]}}",
         "a.json",
         NULL,
         0,
         1,
         {D(1, 0, true, NULL, NULL)}},
        {"JSON: not an object",
         "{\"$ksafe-lint\": 1}",
         "a.json",
         NULL,
         0,
         1,
         {D(1, 0, true, NULL, NULL)}},
        {"JSON: in the object a pointer names",
         "{\"$ksafe-lint\": {\"disable\": [\"top\"]},\n \"kafka\": {\n  \"$ksafe-lint\": "
         "{\"disable\": [\"in\"], \"reason\": \"r\"}}}",
         "a.json",
         "/kafka",
         0,
         1,
         {D(3, 0, true, "in", "r")}},
        {"JSON: default.topic.config holds none",
         "{\"default.topic.config\": {\"$ksafe-lint\": {\"disable\": [\"a\"]}}}",
         "a.json",
         NULL,
         0,
         0,
         {D(0)}},
};

static ksafe_config_t *read_case(const directive_case_t *c)
{
        ksafe_config_options_t options = KSAFE_CONFIG_OPTIONS_INIT;
        options.dialect = c->dialect;
        options.json_pointer = c->pointer;
        ksafe_error_t err = {0};
        ksafe_config_t *cfg =
                ksafe_config_read(c->text, strlen(c->text), c->source, &options, &err);
        ck_assert_msg(cfg, "%s: %s", c->what, err.text);
        return cfg;
}

static void eq_str(const char *what, const char *field, const char *actual, const char *expected)
{
        ck_assert_msg((!actual && !expected) || (actual && expected && !strcmp(actual, expected)),
                      "%s: %s is \"%s\", expected \"%s\"", what, field, actual ? actual : "(null)",
                      expected ? expected : "(null)");
}

START_TEST(directives_as_read)
{
        const directive_case_t *c = &cases[_i];
        ksafe_config_t *cfg = read_case(c);
        ck_assert_msg(ksafe_config_directive_count(cfg) == c->count, "%s: %zu directives", c->what,
                      ksafe_config_directive_count(cfg));
        for (size_t i = 0; i < c->count; i++) {
                const ksafe_directive_t *d = ksafe_config_directive_get(cfg, i);
                const expected_t *e = &c->d[i];
                ck_assert_msg(d->line == e->line && d->target_line == e->target_line &&
                                      d->file_wide == e->file_wide,
                              "%s: line %d, target %d, file-wide %d; expected %d, %d, %d", c->what,
                              d->line, d->target_line, d->file_wide, e->line, e->target_line,
                              e->file_wide);
                eq_str(c->what, "rules", d->rules, e->rules);
                eq_str(c->what, "reason", d->reason, e->reason);
        }
        ck_assert_ptr_null(ksafe_config_directive_get(cfg, c->count));
        ksafe_config_destroy(cfg);
}
END_TEST

/* The JSON member is no property: no unknown-property finding, and --fix
 * keeps it where it is. */
START_TEST(json_directive_is_no_property)
{
        const char *text = "{\n  \"$ksafe-lint\": {\"disable\": [\"x\"], \"reason\": \"r\"},\n"
                           "  \"acks\": 1\n}\n";
        ksafe_config_t *cfg = ksafe_config_read(text, strlen(text), "a.json", NULL, NULL);
        ck_assert_ptr_nonnull(cfg);
        ksafe_policy_t *policy = ksafe_policy_default();
        ksafe_report_t *report = ksafe_config_enforce(cfg, policy);
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                ck_assert_msg(strcmp(v->rule_id, "ksafe-unknown-property") != 0, "%s", v->message);
        }
        size_t len;
        char *fixed = ksafe_config_render(cfg, &len);
        ck_assert_ptr_nonnull(fixed);
        ck_assert_contains(fixed, "\"$ksafe-lint\": {\"disable\": [\"x\"], \"reason\": \"r\"},");
        ck_assert_contains(fixed, "\"acks\": \"all\"");
        free(fixed);
        ksafe_report_destroy(report);
        ksafe_policy_destroy(policy);
        ksafe_config_destroy(cfg);
}
END_TEST

START_TEST(no_config_no_directives)
{
        ck_assert_uint_eq(ksafe_config_directive_count(NULL), 0);
        ck_assert_ptr_null(ksafe_config_directive_get(NULL, 0));
}
END_TEST

static Suite *directives_suite(void)
{
        Suite *s = suite_create("directives");
        TCase *tc = tcase_create("read");
        tcase_add_loop_test(tc, directives_as_read, 0, (int)(sizeof(cases) / sizeof(*cases)));
        tcase_add_test(tc, json_directive_is_no_property);
        tcase_add_test(tc, no_config_no_directives);
        suite_add_tcase(s, tc);
        return s;
}

KSAFE_TEST_MAIN(directives_suite)
