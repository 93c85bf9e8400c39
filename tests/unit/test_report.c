/*
 * The report: violations added by the evaluator, their order, the refusal
 * they amount to, and their renderings as text and JSON.
 */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"
#include "common.h"

/* A report only reads the policy's name, environment and allow_unsafe. */
static ksafe_policy_t test_policy = {.name = "test-policy", .env = "prod"};

/*
 * Helpers
 */

static ksafe_report_t *new_report(void)
{
        ksafe_report_t *report = ksafe_report__new(&test_policy);
        ck_assert_ptr_nonnull(report);
        return report;
}

/* A violation with every field set (from `id`), located at line:column. */
static ksafe_violation_t full(const char *id, ksafe_action_t action, int line, int column)
{
        return (ksafe_violation_t){
                .rule_id = id,
                .property = "acks",
                .canonical = "request.required.acks",
                .actual = "1",
                .expected = "all (-1)",
                .fix = "all",
                .why = "durable",
                .message = "acks is 1; expected all (-1)",
                .file = "producer.properties",
                .line = line,
                .column = column,
                .action = action,
                .severity =
                        action == KSAFE_ACTION_WARN ? KSAFE_SEVERITY_WARNING : KSAFE_SEVERITY_ERROR,
                .is_set = true,
        };
}

static ksafe_violation_t *add(ksafe_report_t *report, const char *id, ksafe_action_t action,
                              int line, int column)
{
        ksafe_violation_t v = full(id, action, line, column);
        ksafe_violation_t *added = ksafe_report__add(report, &v);
        ck_assert_ptr_nonnull(added);
        return added;
}

/* A violation with only a rule, an action and a message. */
static ksafe_violation_t *add_message(ksafe_report_t *report, const char *id, ksafe_action_t action,
                                      const char *message)
{
        ksafe_violation_t v = {.rule_id = id, .action = action, .message = message};
        ksafe_violation_t *added = ksafe_report__add(report, &v);
        ck_assert_ptr_nonnull(added);
        return added;
}

/* ksafe_report_to_json(), parsed back. */
static json_t *report_json(const ksafe_report_t *report)
{
        char *text = ksafe_report_to_json(report);
        ck_assert_ptr_nonnull(text);
        json_error_t err;
        json_t *doc = json_loads(text, 0, &err);
        ck_assert_msg(doc, "invalid JSON (%s at %d:%d): %s", err.text, err.line, err.column, text);
        free(text);
        ck_assert(json_is_object(doc));
        return doc;
}

static json_t *violation_json(json_t *doc, size_t i)
{
        json_t *list = json_object_get(doc, "violations");
        ck_assert(json_is_array(list));
        json_t *v = json_array_get(list, i);
        ck_assert_msg(json_is_object(v), "no violations[%zu]", i);
        return v;
}

static void assert_json_string(json_t *obj, const char *key, const char *want)
{
        json_t *v = json_object_get(obj, key);
        if (!want) {
                ck_assert_msg(json_is_null(v), "\"%s\" should be null", key);
                return;
        }
        ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
        ck_assert_str_eq(json_string_value(v), want);
}

static void assert_json_int(json_t *obj, const char *key, json_int_t want)
{
        json_t *v = json_object_get(obj, key);
        ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
        ck_assert_int_eq(json_integer_value(v), want);
}

static void assert_json_bool(json_t *obj, const char *key, bool want)
{
        json_t *v = json_object_get(obj, key);
        ck_assert_msg(json_is_boolean(v), "\"%s\" is not a boolean", key);
        ck_assert_msg(json_is_true(v) == want, "\"%s\" is %s", key, want ? "false" : "true");
}

static void assert_text(const ksafe_report_t *report, const char *want)
{
        char *text = ksafe_report_to_text(report);
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(text, want);
        free(text);
}

/* A message and a file name survive the JSON round trip byte for byte. */
static void assert_json_round_trip(const char *message, const char *file)
{
        ksafe_report_t *r = new_report();
        ksafe_violation_t v = full("escape", KSAFE_ACTION_WARN, 1, 1);
        v.message = message;
        v.file = file;
        ksafe_report__add(r, &v);
        json_t *doc = report_json(r);
        assert_json_string(violation_json(doc, 0), "message", message);
        assert_json_string(violation_json(doc, 0), "file", file);
        json_decref(doc);
        ksafe_report_destroy(r);
}

/*
 * Adding and reading
 */

START_TEST(empty_report)
{
        ksafe_report_t *r = new_report();
        ck_assert_uint_eq(ksafe_report_count(r), 0);
        ck_assert_ptr_null(ksafe_report_get(r, 0));
        ck_assert_ptr_null(ksafe_report__at(r, 0));
        ck_assert_int_eq(ksafe_report_rejected(r), 0);
        ck_assert_uint_eq(ksafe_report_severity_count(r, KSAFE_SEVERITY_ERROR), 0);
        assert_text(r, "");
        json_t *doc = report_json(r);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "violations")), 0);
        json_decref(doc);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(add_copies_strings)
{
        ksafe_report_t *r = new_report();
        char message[] = "original message";
        char file[] = "original.properties";
        ksafe_violation_t v = full("copy", KSAFE_ACTION_ENFORCE, 3, 4);
        v.message = message;
        v.file = file;
        ksafe_violation_t *added = ksafe_report__add(r, &v);
        ck_assert_ptr_nonnull(added);
        ck_assert_ptr_ne(added->message, message);
        memset(message, 'x', sizeof(message) - 1);
        memset(file, 'x', sizeof(file) - 1);

        const ksafe_violation_t *got = ksafe_report_get(r, 0);
        ck_assert_ptr_eq(got, added);
        ck_assert_str_eq(got->message, "original message");
        ck_assert_str_eq(got->file, "original.properties");
        ck_assert_str_eq(got->rule_id, "copy");
        ck_assert_str_eq(got->canonical, "request.required.acks");
        ck_assert_int_eq(got->line, 3);
        ck_assert_int_eq(got->column, 4);
        ck_assert_int_eq(got->action, KSAFE_ACTION_ENFORCE);
        ck_assert(got->is_set);
        ck_assert(!got->fixed);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(null_fields_stay_null)
{
        ksafe_report_t *r = new_report();
        add_message(r, "bare", KSAFE_ACTION_WARN, "m");
        const ksafe_violation_t *v = ksafe_report_get(r, 0);
        ck_assert_ptr_null(v->property);
        ck_assert_ptr_null(v->actual);
        ck_assert_ptr_null(v->fix);
        ck_assert_ptr_null(v->file);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(many_violations)
{
        ksafe_report_t *r = new_report();
        for (int i = 0; i < 100; i++) {
                char id[16];
                snprintf(id, sizeof(id), "rule-%d", i);
                add(r, id, KSAFE_ACTION_WARN, i + 1, 1);
        }
        ck_assert_uint_eq(ksafe_report_count(r), 100);
        for (size_t i = 0; i < 100; i++) {
                char id[16];
                snprintf(id, sizeof(id), "rule-%zu", i);
                ck_assert_str_eq(ksafe_report_get(r, i)->rule_id, id);
        }
        ck_assert_uint_eq(ksafe_report_severity_count(r, KSAFE_SEVERITY_WARNING), 100);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(out_of_range_and_null)
{
        ksafe_report_t *r = new_report();
        add(r, "one", KSAFE_ACTION_WARN, 1, 1);
        ck_assert_ptr_nonnull(ksafe_report_get(r, 0));
        ck_assert_ptr_null(ksafe_report_get(r, 1));
        ck_assert_ptr_null(ksafe_report_get(r, (size_t)-1));
        ck_assert_ptr_null(ksafe_report__at(r, 1));
        ksafe_report_destroy(r);

        ck_assert_uint_eq(ksafe_report_count(NULL), 0);
        ck_assert_ptr_null(ksafe_report_get(NULL, 0));
        ck_assert_int_ne(ksafe_report_rejected(NULL), 0); /* fails closed */
        ck_assert_uint_eq(ksafe_report_severity_count(NULL, KSAFE_SEVERITY_ERROR), 0);
        ksafe_report_destroy(NULL);
}
END_TEST

START_TEST(find_by_rule)
{
        ksafe_report_t *r = new_report();
        add_message(r, NULL, KSAFE_ACTION_WARN, "no rule id");
        ksafe_violation_t *first = add(r, "twice", KSAFE_ACTION_WARN, 1, 1);
        add(r, "twice", KSAFE_ACTION_WARN, 2, 1);
        ck_assert_ptr_eq(ksafe_report__find(r, "twice"), first);
        ck_assert_ptr_null(ksafe_report__find(r, "absent"));
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(names)
{
        ck_assert_str_eq(ksafe_action_name(KSAFE_ACTION_ENFORCE), "enforce");
        ck_assert_str_eq(ksafe_action_name(KSAFE_ACTION_REJECT), "reject");
        ck_assert_str_eq(ksafe_action_name(KSAFE_ACTION_WARN), "warn");
        ck_assert_str_eq(ksafe_severity_name(KSAFE_SEVERITY_ERROR), "error");
        ck_assert_str_eq(ksafe_severity_name(KSAFE_SEVERITY_WARNING), "warning");
}
END_TEST

/*
 * Order
 */

START_TEST(sort_by_line_and_column_stable)
{
        ksafe_report_t *r = new_report();
        static const struct {
                const char *id;
                int line, column;
        } added[] = {
                {"c1", 5, 1}, {"a1", 1, 1}, {"b2", 3, 7}, {"a2", 1, 1},
                {"b1", 3, 2}, {"z", 0, 0},  {"c2", 5, 1}, {"a3", 1, 1},
        };
        static const char *const sorted[] = {"z", "a1", "a2", "a3", "b1", "b2", "c1", "c2"};
        for (size_t i = 0; i < sizeof(added) / sizeof(*added); i++)
                add(r, added[i].id, KSAFE_ACTION_WARN, added[i].line, added[i].column);
        ksafe_report__sort(r);
        ck_assert_uint_eq(ksafe_report_count(r), sizeof(sorted) / sizeof(*sorted));
        for (size_t i = 0; i < sizeof(sorted) / sizeof(*sorted); i++)
                ck_assert_str_eq(ksafe_report_get(r, i)->rule_id, sorted[i]);
        /* Sorting again changes nothing. */
        ksafe_report__sort(r);
        for (size_t i = 0; i < sizeof(sorted) / sizeof(*sorted); i++)
                ck_assert_str_eq(ksafe_report_get(r, i)->rule_id, sorted[i]);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(sort_empty)
{
        ksafe_report_t *r = new_report();
        ksafe_report__sort(r);
        ck_assert_uint_eq(ksafe_report_count(r), 0);
        ksafe_report_destroy(r);
}
END_TEST

/*
 * Refusal
 */

START_TEST(rejected_by_reject_rule)
{
        ksafe_report_t *r = new_report();
        add(r, "warned", KSAFE_ACTION_WARN, 1, 1);
        ck_assert_int_eq(ksafe_report_rejected(r), 0);
        add(r, "refused", KSAFE_ACTION_REJECT, 2, 1);
        ck_assert_int_eq(ksafe_report_rejected(r), 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(enforce_counts_only_after_enforcement)
{
        ksafe_report_t *r = new_report();
        ksafe_violation_t *v = add(r, "acks-all", KSAFE_ACTION_ENFORCE, 1, 1);
        ck_assert_int_eq(ksafe_report_rejected(r), 0); /* a check, not yet enforced */
        ksafe_report__set_enforced(r);
        ck_assert_int_eq(ksafe_report_rejected(r), 1); /* enforced, still failing */
        v->fixed = true;
        ck_assert_int_eq(ksafe_report_rejected(r), 0);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(explain_names_every_refusing_rule)
{
        ksafe_report_t *r = new_report();
        add_message(r, "tls", KSAFE_ACTION_REJECT, "security.protocol is plaintext");
        add_message(r, "style", KSAFE_ACTION_WARN, "linger.ms is 0");
        ksafe_violation_t *acks = add_message(r, "acks-all", KSAFE_ACTION_ENFORCE, "acks is 1");
        add_message(r, "in-flight", KSAFE_ACTION_ENFORCE, "max.in.flight is 100");
        add_message(r, "sasl", KSAFE_ACTION_REJECT, "sasl.mechanisms is PLAIN");
        char errstr[512];

        ksafe_report__explain(r, errstr, sizeof(errstr));
        ck_assert_str_eq(errstr, "ksafe: policy \"test-policy\" refuses this configuration: "
                                 "security.protocol is plaintext [tls]; "
                                 "sasl.mechanisms is PLAIN [sasl]");

        ksafe_report__set_enforced(r);
        acks->fixed = true;
        ksafe_report__explain(r, errstr, sizeof(errstr));
        ck_assert_str_eq(errstr, "ksafe: policy \"test-policy\" refuses this configuration: "
                                 "security.protocol is plaintext [tls]; "
                                 "max.in.flight is 100 [in-flight] (could not be enforced); "
                                 "sasl.mechanisms is PLAIN [sasl]");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(explain_truncates)
{
        ksafe_report_t *r = new_report();
        add_message(r, "tls", KSAFE_ACTION_REJECT, "security.protocol is plaintext");
        char errstr[16];
        memset(errstr, 'x', sizeof(errstr));
        ksafe_report__explain(r, errstr, sizeof(errstr));
        ck_assert_str_eq(errstr, "ksafe: policy \"");
        ksafe_report__explain(r, NULL, 0); /* nothing to write to */
        ksafe_report__explain(r, errstr, 0);
        ck_assert_str_eq(errstr, "ksafe: policy \"");
        ksafe_report_destroy(r);
}
END_TEST

/*
 * JSON
 */

START_TEST(json_top_level)
{
        ksafe_report_t *r = new_report();
        add(r, "w", KSAFE_ACTION_WARN, 1, 1);
        add(r, "e1", KSAFE_ACTION_ENFORCE, 2, 1);
        add(r, "e2", KSAFE_ACTION_REJECT, 3, 1);
        json_t *doc = report_json(r);
        assert_json_int(doc, "version", KSAFE_REPORT_JSON_VERSION);
        assert_json_int(doc, "version", 1);
        assert_json_string(doc, "policy", "test-policy");
        assert_json_string(doc, "environment", "prod");
        assert_json_bool(doc, "allow_unsafe", false);
        assert_json_bool(doc, "enforced", false);
        assert_json_bool(doc, "rejected", true);
        assert_json_int(doc, "errors", 2);
        assert_json_int(doc, "warnings", 1);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "violations")), 3);
        json_decref(doc);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_without_environment)
{
        ksafe_policy_t policy = {.name = "no-env", .allow_unsafe = true};
        ksafe_report_t *r = ksafe_report__new(&policy);
        json_t *doc = report_json(r);
        assert_json_string(doc, "environment", NULL);
        assert_json_bool(doc, "allow_unsafe", true);
        assert_json_bool(doc, "rejected", false);
        json_decref(doc);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_violation_fields)
{
        ksafe_report_t *r = new_report();
        ksafe_violation_t *v = add(r, "acks-all", KSAFE_ACTION_ENFORCE, 4, 9);
        v->fixed = true;
        add_message(r, "bare", KSAFE_ACTION_WARN, "bare message");
        ksafe_report__set_enforced(r);
        json_t *doc = report_json(r);
        assert_json_bool(doc, "enforced", true);
        assert_json_bool(doc, "rejected", false);

        json_t *first = violation_json(doc, 0);
        static const char *const keys[] = {
                "rule", "property", "canonical", "actual", "expected",
                "fix",  "action",   "severity",  "fixed",  "is_set",
                "why",  "message",  "file",      "line",   "column",
        };
        ck_assert_uint_eq(json_object_size(first), sizeof(keys) / sizeof(*keys));
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
                ck_assert_msg(json_object_get(first, keys[i]), "no \"%s\"", keys[i]);
        assert_json_string(first, "rule", "acks-all");
        assert_json_string(first, "property", "acks");
        assert_json_string(first, "canonical", "request.required.acks");
        assert_json_string(first, "actual", "1");
        assert_json_string(first, "expected", "all (-1)");
        assert_json_string(first, "fix", "all");
        assert_json_string(first, "action", "enforce");
        assert_json_string(first, "severity", "error");
        assert_json_bool(first, "fixed", true);
        assert_json_bool(first, "is_set", true);
        assert_json_string(first, "why", "durable");
        assert_json_string(first, "message", "acks is 1; expected all (-1)");
        assert_json_string(first, "file", "producer.properties");
        assert_json_int(first, "line", 4);
        assert_json_int(first, "column", 9);

        json_t *bare = violation_json(doc, 1);
        ck_assert_uint_eq(json_object_size(bare), sizeof(keys) / sizeof(*keys));
        assert_json_string(bare, "rule", "bare");
        assert_json_string(bare, "action", "warn");
        assert_json_string(bare, "severity", "error"); /* as given */
        static const char *const nulls[] = {"property", "canonical", "actual", "expected",
                                            "fix",      "why",       "file"};
        for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
                assert_json_string(bare, nulls[i], NULL);
        assert_json_int(bare, "line", 0);
        assert_json_bool(bare, "is_set", false);
        json_decref(doc);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_escaping)
{
        assert_json_round_trip("a \"quoted\" \\back\\slash\\", "C:\\configs\\\"odd\".properties");
        assert_json_round_trip("caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x94\x92 "
                               "\xE2\x80\x94 dash \xE2\x82\xAC",
                               "r\xC3\xA9pertoire/producer.properties");
        assert_json_round_trip("", "");
}
END_TEST

/* The string a report keeps for `text` given as message, property and
 * file, checked to be the same in the JSON; the caller frees it. */
static char *kept_as(const char *text)
{
        ksafe_report_t *r = new_report();
        ksafe_violation_t v = full("odd", KSAFE_ACTION_WARN, 1, 1);
        v.message = v.property = v.file = v.actual = text;
        ksafe_report__add(r, &v);
        const ksafe_violation_t *got = ksafe_report_get(r, 0);
        ck_assert_str_eq(got->property, got->message);
        ck_assert_str_eq(got->file, got->message);
        ck_assert_str_eq(got->actual, got->message);
        json_t *doc = report_json(r); /* valid JSON, whatever the bytes */
        static const char *const keys[] = {"message", "property", "file", "actual"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
                assert_json_string(violation_json(doc, 0), keys[i], got->message);
        json_decref(doc);
        char *kept = strdup(got->message);
        ksafe_report_destroy(r);
        return kept;
}

static void assert_kept_as(const char *text, const char *want)
{
        char *kept = kept_as(text);
        ck_assert_str_eq(kept, want);
        free(kept);
}

START_TEST(control_characters_are_escaped)
{
        /* One finding, one line: a value cannot forge a finding of its own. */
        assert_kept_as("a\nb\rc\td", "a\\nb\\rc\\td");
        assert_kept_as("\x01\x08\x0c\x1b[31m\x1f\x7f", "\\x01\\x08\\x0c\\x1b[31m\\x1f\\x7f");
        assert_kept_as("x.properties:1:1: error: forged [acks-all]\nnext",
                       "x.properties:1:1: error: forged [acks-all]\\nnext");

        ksafe_report_t *r = new_report();
        add_message(r, "w", KSAFE_ACTION_WARN, "two\nlines")->severity = KSAFE_SEVERITY_WARNING;
        assert_text(r, "warning: two\\nlines [w]\n");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(invalid_utf8_is_escaped)
{
        /* A latin-1 file or property name is no UTF-8, and JSON must be
         * (RFC 8259): such bytes are kept as \xNN. */
        assert_kept_as("r\xE9pertoire", "r\\xe9pertoire");
        assert_kept_as("cl\xEF"
                       "ent",
                       "cl\\xef"
                       "ent");
        assert_kept_as("cut \xE6\x97", "cut \\xe6\\x97");
        assert_kept_as("\xC0\xAF overlong", "\\xc0\\xaf overlong");
        assert_kept_as("\xFF\xFE", "\\xff\\xfe");
        /* Valid UTF-8 is kept as it is. */
        assert_kept_as("caf\xC3\xA9 \xF0\x9F\x94\x92", "caf\xC3\xA9 \xF0\x9F\x94\x92");
}
END_TEST

START_TEST(invalid_utf8_code_points_are_escaped)
{
        /* Well-formed lead and continuation bytes, but no Unicode scalar
         * value: a 3-byte overlong, a UTF-16 surrogate, and code points
         * above U+10FFFF. JSON parsers (jansson too) refuse them, so the
         * JSON must not carry them raw. */
        static const char *const texts[] = {
                "\xE0\x80\xAF overlong",    "\xED\xA0\x80 surrogate",    "\xF4\x90\x80\x80 too big",
                "\xF5\x80\x80\x80 too big", "\xF0\x80\x80\xAF overlong",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++)
                free(kept_as(texts[i]));
}
END_TEST

/*
 * Text
 */

START_TEST(text_lines)
{
        ksafe_report_t *r = new_report();
        add(r, "acks-all", KSAFE_ACTION_ENFORCE, 4, 9);
        add_message(r, "style", KSAFE_ACTION_WARN, "linger.ms is 0")->severity =
                KSAFE_SEVERITY_WARNING;
        assert_text(r, "producer.properties:4:9: error: acks is 1; expected all (-1) [acks-all]\n"
                       "warning: linger.ms is 0 [style]\n");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(text_enforced)
{
        ksafe_report_t *r = new_report();
        ksafe_violation_t *fixed = add_message(r, "acks-all", KSAFE_ACTION_ENFORCE, "acks is 1");
        fixed->fix = strdup("-1"); /* owned by the report from now on */
        fixed->fixed = true;
        ksafe_violation_t *no_fix = add_message(r, "odd", KSAFE_ACTION_ENFORCE, "fixed, no value");
        no_fix->fixed = true;
        ksafe_violation_t *unfixed = add(r, "in-flight", KSAFE_ACTION_ENFORCE, 2, 1);
        ck_assert_ptr_nonnull(unfixed->fix);
        assert_text(r, "enforced: acks is 1 [acks-all] (set to -1)\n"
                       "enforced: fixed, no value [odd]\n"
                       "producer.properties:2:1: error: acks is 1; expected all (-1) "
                       "[in-flight]\n");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(text_allow_unsafe_note)
{
        ksafe_policy_t policy = {.name = "lenient", .allow_unsafe = true};
        ksafe_report_t *r = ksafe_report__new(&policy);
        static const char note[] = "note: policy \"lenient\" sets allow_unsafe: the safety "
                                   "baseline may be weakened\n";
        assert_text(r, note); /* also on a clean report */
        add_message(r, "w", KSAFE_ACTION_WARN, "m")->severity = KSAFE_SEVERITY_WARNING;
        char want[256];
        snprintf(want, sizeof(want), "warning: m [w]\n%s", note);
        assert_text(r, want);
        ksafe_report_destroy(r);
}
END_TEST

/*
 * Hostile strings: whatever a policy or a config holds, every rendering
 * keeps one line per violation and stays parseable
 */

/* Strings a careless renderer would print as a line, a record or a
 * terminal command of their own. */
static const char *const hostile[] = {
        "a\nx.properties:1:1: error: forged [forged]",
        "a\r\nb",
        "cr\roverwrite",
        "\x1b[2J\x1b[31mred\x1b[0m",
        "\x1b]0;title\x07",
        ("\xC2\x9B"
         "31m C1 CSI"),
        "\xC2\x85 NEL",
        "\x01\x08\x0b\x0c\x1f\x7f",
        "sep\xE2\x80\xA8line\xE2\x80\xA9para",
        "bidi \xE2\x80\xAE \xE2\x81\xA6 x",
        "\xEF\xBF\xBE\xEF\xBF\xBF",
        "latin1 \xE9\xFF\xFE",
        "cut \xE6\x97",
        "\xED\xA0\x80 surrogate",
        "\xC0\xAF overlong",
        "</failure><![CDATA[ & \"' %0A::error::forged",
        "\\x1b a literal backslash",
        "",
};

/* The code point at p and its length; length 0 when p holds no valid
 * UTF-8 (an independent decoder, not the one under test). */
static size_t decode(const unsigned char *p, uint32_t *cp)
{
        size_t n = p[0] < 0x80                    ? 1
                   : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
                   : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
                   : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                                  : 0;
        if (n == 0)
                return 0;
        *cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0xFF >> (n + 1)));
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                *cp = (*cp << 6) | (p[i] & 0x3F);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (*cp < least[n] || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
                return 0;
        return n;
}

/* `s` is valid UTF-8 with no control character (but '\n' when `lines`),
 * no C1 control, no line or paragraph separator, no bidi override and no
 * XML noncharacter. */
static void assert_printable(const char *s, bool lines, const char *what)
{
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                uint32_t cp = 0;
                size_t n = decode(p, &cp);
                ck_assert_msg(n > 0, "%s: not UTF-8 at byte %zu: %s", what,
                              (size_t)(p - (const unsigned char *)s), s);
                bool control = (cp < 0x20 && !(lines && cp == '\n')) || (cp >= 0x7F && cp <= 0x9F);
                bool hostile_cp = cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
                                  (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFFFE || cp == 0xFFFF;
                ck_assert_msg(!control && !hostile_cp, "%s: U+%04X at byte %zu: %s", what,
                              (unsigned)cp, (size_t)(p - (const unsigned char *)s), s);
                p += n;
        }
}

static size_t count_lines(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* The string fields of a violation, by name. */
static const struct {
        const char *name;
        size_t offset;
} fields[] = {
        {"rule", offsetof(ksafe_violation_t, rule_id)},
        {"property", offsetof(ksafe_violation_t, property)},
        {"canonical", offsetof(ksafe_violation_t, canonical)},
        {"actual", offsetof(ksafe_violation_t, actual)},
        {"expected", offsetof(ksafe_violation_t, expected)},
        {"fix", offsetof(ksafe_violation_t, fix)},
        {"why", offsetof(ksafe_violation_t, why)},
        {"message", offsetof(ksafe_violation_t, message)},
        {"file", offsetof(ksafe_violation_t, file)},
};

static const char **field(ksafe_violation_t *v, size_t i)
{
        return (const char **)(void *)((char *)v + fields[i].offset);
}

/* Every rendering of a report with two refused violations (`v` and a
 * plain one) under `policy` (allow_unsafe: a note line too). */
static void assert_renderings(const ksafe_policy_t *policy, ksafe_violation_t v, const char *what)
{
        ksafe_report_t *r = ksafe_report__new(policy);
        ck_assert_ptr_nonnull(r);
        ck_assert_ptr_nonnull(ksafe_report__add(r, &v));
        ksafe_violation_t plain = full("plain", KSAFE_ACTION_REJECT, 2, 1);
        ck_assert_ptr_nonnull(ksafe_report__add(r, &plain));
        ksafe_violation_t *kept = ksafe_report__at(r, 0);
        for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
                const char *raw = *field(&v, i), *got = *field(kept, i);
                if (!raw)
                        continue;
                char *want = ksafe_report_escape(raw);
                ck_assert_str_eq(got, want);
                free(want);
                assert_printable(got, false, what);
        }
        if (v.rule_id) /* found by the policy's own (raw) id */
                ck_assert_ptr_eq(ksafe_report__find(r, v.rule_id), kept);

        /* text: one line per violation, and the note */
        char *text = ksafe_report_to_text(r);
        ck_assert_ptr_nonnull(text);
        assert_printable(text, true, what);
        ck_assert_msg(count_lines(text) == 3 && text[strlen(text) - 1] == '\n',
                      "%s: text has %zu lines: %s", what, count_lines(text), text);
        free(text);

        /* JSON: parses, two records, every field as kept */
        char *json = ksafe_report_to_json(r);
        ck_assert_ptr_nonnull(json);
        assert_printable(json, false, what);
        free(json);
        json_t *doc = report_json(r);
        ck_assert_uint_eq(json_array_size(json_object_get(doc, "violations")), 2);
        for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
                assert_json_string(violation_json(doc, 0), fields[i].name, *field(kept, i));
        json_decref(doc);

        /* errstr: one line */
        char errstr[2048];
        ksafe_report__explain(r, errstr, sizeof(errstr));
        assert_printable(errstr, false, what);
        ck_assert_msg(strstr(errstr, "[plain]"), "%s: errstr: %s", what, errstr);
        ksafe_report_destroy(r);
}

START_TEST(explain_cuts_on_a_character)
{
        /* An errstr cut short at any length is still valid UTF-8. */
        ksafe_report_t *r = new_report();
        add_message(r, "r\xC3\xA9gle", KSAFE_ACTION_REJECT,
                    "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x94\x92 \xE2\x80\x94 end");
        char full_text[512];
        ksafe_report__explain(r, full_text, sizeof(full_text));
        for (size_t size = 1; size <= strlen(full_text) + 1; size++) {
                char cut[512];
                ksafe_report__explain(r, cut, size);
                ck_assert_uint_le(strlen(cut), size - 1);
                ck_assert_uint_ge(strlen(cut) + 4, size - 1); /* at most one character less */
                ck_assert(strncmp(cut, full_text, strlen(cut)) == 0);
                assert_printable(cut, false, "cut errstr");
        }
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(hostile_strings_in_every_field)
{
        ksafe_policy_t lenient = {.name = "test-policy", .env = "prod", .allow_unsafe = true};
        for (size_t h = 0; h < sizeof(hostile) / sizeof(*hostile); h++) {
                for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f++) {
                        char what[128];
                        snprintf(what, sizeof(what), "hostile[%zu] in %s", h, fields[f].name);
                        ksafe_violation_t v = full("rule", KSAFE_ACTION_REJECT, 1, 1);
                        *field(&v, f) = hostile[h];
                        assert_renderings(&lenient, v, what);
                }
        }
}
END_TEST

START_TEST(hostile_policy_and_environment_names)
{
        for (size_t h = 0; h < sizeof(hostile) / sizeof(*hostile); h++) {
                char what[128];
                snprintf(what, sizeof(what), "hostile[%zu] as the policy's name", h);
                ksafe_policy_t named = {
                        .name = (char *)hostile[h], .env = "prod", .allow_unsafe = true};
                assert_renderings(&named, full("rule", KSAFE_ACTION_REJECT, 1, 1), what);
                snprintf(what, sizeof(what), "hostile[%zu] as the environment", h);
                ksafe_policy_t env = {.name = "p", .env = (char *)hostile[h], .allow_unsafe = true};
                assert_renderings(&env, full("rule", KSAFE_ACTION_REJECT, 1, 1), what);

                ksafe_report_t *r = ksafe_report__new(&named);
                json_t *doc = report_json(r);
                char *want = ksafe_report_escape(hostile[h]);
                assert_json_string(doc, "policy", want);
                free(want);
                json_decref(doc);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(escape_table)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"plain acks=all", "plain acks=all"},
                {"a\nb\rc\td", "a\\nb\\rc\\td"},
                {"\x1b[31m\x01\x7f", "\\x1b[31m\\x01\\x7f"},
                {"\xC2\x9B"
                 "2J \xC2\x85",
                 "\\u009b2J \\u0085"},
                {"\xE2\x80\xA8\xE2\x80\xA9", "\\u2028\\u2029"},
                {"\xE2\x80\xAA\xE2\x80\xAE\xE2\x81\xA6\xE2\x81\xA9",
                 "\\u202a\\u202e\\u2066\\u2069"},
                {"\xEF\xBF\xBE\xEF\xBF\xBF", "\\ufffe\\uffff"},
                {"r\xE9p \xFF", "r\\xe9p \\xff"},
                {"\xED\xA0\x80", "\\xed\\xa0\\x80"},
                {"caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x94\x92 \xC2\xA0",
                 "caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x94\x92 \xC2\xA0"},
                {"back\\slash \\n", "back\\slash \\n"},
                /* the edges of the printable ASCII runs copied whole */
                {" ~\x1f!\x7f}\x80", " ~\\x1f!\\x7f}\\x80"},
                {"\x1f", "\\x1f"},
                {"", ""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char *got = ksafe_report_escape(cases[i].in);
                ck_assert_ptr_nonnull(got);
                ck_assert_str_eq(got, cases[i].out);
                char *twice = ksafe_report_escape(got); /* idempotent */
                ck_assert_str_eq(twice, got);
                free(twice);
                free(got);
        }
        ck_assert_ptr_null(ksafe_report_escape(NULL));
}
END_TEST

/*
 * A NULL report: what a function that makes reports returns when out of
 * memory, accepted by every report function
 */

START_TEST(null_report_everywhere)
{
        ck_assert_uint_eq(ksafe_report_count(NULL), 0);
        ck_assert_ptr_null(ksafe_report_get(NULL, 0));
        ck_assert_ptr_null(ksafe_report__at(NULL, 0));
        ck_assert_int_ne(ksafe_report_rejected(NULL), 0);
        ck_assert_uint_eq(ksafe_report_severity_count(NULL, KSAFE_SEVERITY_ERROR), 0);
        ck_assert_uint_eq(ksafe_report_severity_count(NULL, KSAFE_SEVERITY_WARNING), 0);
        ck_assert_ptr_null(ksafe_report_to_text(NULL));
        ck_assert_ptr_null(ksafe_report_to_json(NULL));
        char errstr[128] = "untouched";
        ksafe_report__explain(NULL, errstr, sizeof(errstr));
        ck_assert_str_eq(errstr, "ksafe: no report (out of memory)");
        ksafe_report_destroy(NULL);
}
END_TEST

/*
 * Errors: what ksafe_error_t carries is escaped too (ksafe-lint prints it,
 * ksafe_producer_new() copies it into errstr)
 */

START_TEST(hostile_strings_in_errors)
{
        /* Each policy quotes hostile[h] in its error: a field name, a
         * property name, an action, an environment name, a file name. */
        static const char *const policies[] = {
                "{\"ksafe_policy\":1,\"rules\":[{\"id\":\"a\",\"property\":\"linger.ms\","
                "\"max\":3,\"action\":\"warn\",\"%s\":1}]}",
                "{\"ksafe_policy\":1,\"rules\":[{\"id\":\"a\",\"property\":\"%s\","
                "\"max\":3,\"action\":\"warn\"}]}",
                "{\"ksafe_policy\":1,\"rules\":[{\"id\":\"a\",\"property\":\"linger.ms\","
                "\"max\":3,\"action\":\"%s\"}]}",
                "{\"ksafe_policy\":1,\"name\":\"%s\",\"environments\":{\"prod\":{}}}",
        };
        for (size_t h = 0; h < sizeof(hostile) / sizeof(*hostile); h++) {
                /* As a JSON string (the policy must parse to reach its check). */
                json_t *str = json_string(hostile[h]);
                char *quoted = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
                json_decref(str);
                for (size_t i = 0; quoted && i < sizeof(policies) / sizeof(*policies); i++) {
                        char text[1024];
                        /* Without the quotes json_dumps() adds. */
                        char inner[512];
                        snprintf(inner, sizeof(inner), "%.*s", (int)(strlen(quoted) - 2),
                                 quoted + 1);
                        snprintf(text, sizeof(text), policies[i], inner);
                        ksafe_error_t err;
                        memset(&err, 0, sizeof(err));
                        const char *env = i == 3 ? hostile[h] : NULL;
                        ksafe_policy_t *p = ksafe_policy_load_string(text, env, &err);
                        char what[96];
                        snprintf(what, sizeof(what), "hostile[%zu] in policy %zu", h, i);
                        if (p) { /* accepted: nothing quoted it */
                                ksafe_policy_destroy(p);
                                continue;
                        }
                        assert_printable(err.text, false, what);
                        assert_printable(err.source, false, what);
                        assert_printable(err.path, false, what);
                }
                free(quoted);
                /* As a file name. */
                char path[256];
                snprintf(path, sizeof(path), "/nonexistent-%s.json", hostile[h]);
                ksafe_error_t err;
                memset(&err, 0, sizeof(err));
                ck_assert_ptr_null(ksafe_policy_load(path, NULL, &err));
                assert_printable(err.text, false, "a file name");
                assert_printable(err.source, false, "a file name");
        }
}
END_TEST

static Suite *report_suite(void)
{
        Suite *s = suite_create("report");
        TCase *tc = tcase_create("violations");
        tcase_add_test(tc, empty_report);
        tcase_add_test(tc, add_copies_strings);
        tcase_add_test(tc, null_fields_stay_null);
        tcase_add_test(tc, many_violations);
        tcase_add_test(tc, out_of_range_and_null);
        tcase_add_test(tc, find_by_rule);
        tcase_add_test(tc, names);
        tcase_add_test(tc, sort_by_line_and_column_stable);
        tcase_add_test(tc, sort_empty);
        suite_add_tcase(s, tc);

        tc = tcase_create("refusal");
        tcase_add_test(tc, rejected_by_reject_rule);
        tcase_add_test(tc, enforce_counts_only_after_enforcement);
        tcase_add_test(tc, explain_names_every_refusing_rule);
        tcase_add_test(tc, explain_truncates);
        suite_add_tcase(s, tc);

        tc = tcase_create("render");
        tcase_add_test(tc, json_top_level);
        tcase_add_test(tc, json_without_environment);
        tcase_add_test(tc, json_violation_fields);
        tcase_add_test(tc, json_escaping);
        tcase_add_test(tc, control_characters_are_escaped);
        tcase_add_test(tc, invalid_utf8_is_escaped);
        tcase_add_test(tc, invalid_utf8_code_points_are_escaped);
        tcase_add_test(tc, text_lines);
        tcase_add_test(tc, text_enforced);
        tcase_add_test(tc, text_allow_unsafe_note);
        tcase_add_test(tc, null_report_everywhere);
        suite_add_tcase(s, tc);

        tc = tcase_create("hostile");
        tcase_set_timeout(tc, 120); /* hundreds of reports: slow under ASan or valgrind */
        tcase_add_test(tc, escape_table);
        tcase_add_test(tc, explain_cuts_on_a_character);
        tcase_add_test(tc, hostile_strings_in_every_field);
        tcase_add_test(tc, hostile_policy_and_environment_names);
        tcase_add_test(tc, hostile_strings_in_errors);
        suite_add_tcase(s, tc);
        return s;
}

KSAFE_TEST_MAIN(report_suite)
