/*
 * Producer configuration files: the .properties and JSON readers, and the
 * findings that ksafe_config_check() makes of them (file:line:column,
 * messages, the finalize model, secrets).
 *
 * Most syntax tests read values back through a "probe" policy: it forbids a
 * few string properties with warn rules, so every one of them that a file
 * sets comes back as a finding carrying its value as read and its location.
 */
#include <check.h>
#include <jansson.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksafe_int.h"
#include "common.h"

static ksafe_policy_t *default_policy;
static ksafe_policy_t *probe_policy;
static ksafe_policy_t *secret_policy;

static const char probe_policy_json[] =
        "{\"ksafe_policy\": 1, \"name\": \"probe\", \"allow_unsafe\": true, \"rules\": ["
        " {\"id\": \"probe-client.id\", \"property\": \"client.id\","
        "  \"forbidden\": true, \"action\": \"warn\"},"
        " {\"id\": \"probe-bootstrap.servers\", \"property\": \"bootstrap.servers\","
        "  \"forbidden\": true, \"action\": \"warn\"},"
        " {\"id\": \"probe-group.id\", \"property\": \"group.id\","
        "  \"forbidden\": true, \"action\": \"warn\"}]}";

/* The default rules, plus one on a sensitive property. */
static const char secret_policy_json[] =
        "{\"ksafe_policy\": 1, \"name\": \"secret\", \"extends\": \"builtin:default\","
        " \"rules\": [{\"id\": \"no-sasl-password\", \"property\": \"sasl.password\","
        "  \"forbidden\": true, \"action\": \"enforce\"}]}";

static void load_policies(void)
{
        ksafe_error_t err = {0};
        default_policy = ksafe_policy_default();
        probe_policy = ksafe_policy_load_string(probe_policy_json, NULL, &err);
        ck_assert_msg(probe_policy, "probe policy: %s", err.text);
        secret_policy = ksafe_policy_load_string(secret_policy_json, NULL, &err);
        ck_assert_msg(secret_policy, "secret policy: %s", err.text);
        ck_assert_ptr_nonnull(default_policy);
}

static void free_policies(void)
{
        ksafe_policy_destroy(default_policy);
        ksafe_policy_destroy(probe_policy);
        ksafe_policy_destroy(secret_policy);
}

/*
 * Helpers
 */

/* ksafe_config_read() in one format, with the other options' defaults. */
static ksafe_config_t *config_read_as(const char *data, size_t len, const char *source,
                                      ksafe_format_t format, ksafe_error_t *err)
{
        ksafe_config_options_t options = KSAFE_CONFIG_OPTIONS_INIT;
        options.format = format;
        return ksafe_config_read(data, len, source, &options, err);
}

/* ksafe_config_read_file() in one format, with the other options' defaults. */
static ksafe_config_t *config_read_file_as(const char *path, ksafe_format_t format,
                                           ksafe_error_t *err)
{
        ksafe_config_options_t options = KSAFE_CONFIG_OPTIONS_INIT;
        options.format = format;
        return ksafe_config_read_file(path, &options, err);
}

/* Parse and check `len` bytes; the test fails when they cannot be read. */
static ksafe_report_t *check_data(const ksafe_policy_t *policy, const char *data, size_t len,
                                  const char *source, ksafe_format_t format)
{
        ksafe_error_t err = {0};
        ksafe_config_t *config = config_read_as(data, len, source, format, &err);
        ck_assert_msg(config, "cannot parse: %s:%d:%d: %s", err.source, err.line, err.column,
                      err.text);
        ksafe_report_t *report = ksafe_config_check(config, policy);
        ksafe_config_destroy(config);
        ck_assert_ptr_nonnull(report);
        return report;
}

static ksafe_report_t *check_string(const ksafe_policy_t *policy, const char *text,
                                    const char *source, ksafe_format_t format)
{
        return check_data(policy, text, strlen(text), source, format);
}

/* A .properties text judged by the default policy, as "test.properties". */
static ksafe_report_t *check_text(const char *text)
{
        return check_string(default_policy, text, "test.properties", KSAFE_FORMAT_PROPERTIES);
}

/* A JSON text judged by the default policy, as "test.json". */
static ksafe_report_t *check_json(const char *text)
{
        return check_string(default_policy, text, "test.json", KSAFE_FORMAT_JSON);
}

/* A .properties text judged by the probe policy. */
static ksafe_report_t *probe(const char *text)
{
        return check_string(probe_policy, text, "probe.properties", KSAFE_FORMAT_PROPERTIES);
}

static ksafe_config_t *parse_fails(const char *data, size_t len, const char *source,
                                   ksafe_format_t format, ksafe_error_t *err)
{
        *err = (ksafe_error_t){0};
        ksafe_config_t *config = config_read_as(data, len, source, format, err);
        ck_assert_msg(!config, "\"%s\" should not parse", data);
        return config;
}

static bool str_is(const char *s, const char *want)
{
        return s && strcmp(s, want) == 0;
}

/* The first finding of `rule` (any if NULL) on `property` (any if NULL). */
static const ksafe_violation_t *find(const ksafe_report_t *report, const char *rule,
                                     const char *property)
{
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if ((!rule || str_is(v->rule_id, rule)) &&
                    (!property || str_is(v->property, property)))
                        return v;
        }
        return NULL;
}

static size_t count_rule(const ksafe_report_t *report, const char *rule)
{
        size_t n = 0;
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                n += str_is(ksafe_report_get(report, i)->rule_id, rule);
        return n;
}

static const ksafe_violation_t *expect(const ksafe_report_t *report, const char *rule,
                                       const char *property)
{
        const ksafe_violation_t *v = find(report, rule, property);
        if (!v) {
                char *text = ksafe_report_to_text(report);
                ck_abort_msg("no [%s] finding on %s in:\n%s", rule ? rule : "any",
                             property ? property : "any property", text);
        }
        return v;
}

static void expect_none(const ksafe_report_t *report, const char *rule)
{
        const ksafe_violation_t *v = find(report, rule, NULL);
        ck_assert_msg(!v, "unexpected finding %s:%d:%d: %s [%s]", v ? v->file : "", v ? v->line : 0,
                      v ? v->column : 0, v ? v->message : "", v ? v->rule_id : "");
}

static void expect_clean(const ksafe_report_t *report)
{
        expect_none(report, NULL);
}

static void assert_at(const ksafe_violation_t *v, int line, int column)
{
        ck_assert_msg(v->line == line && v->column == column,
                      "[%s] on %s is at %d:%d, expected %d:%d", v->rule_id, v->property, v->line,
                      v->column, line, column);
}

/* A finding with this exact message, at line:column. */
static void expect_message(const ksafe_report_t *report, const char *rule, const char *property,
                           const char *message, int line, int column)
{
        const ksafe_violation_t *v = expect(report, rule, property);
        ck_assert_str_eq(v->message, message);
        assert_at(v, line, column);
}

/* The probe saw `property` set to `value` at line:column. */
static void assert_probe(const ksafe_report_t *report, const char *property, const char *value,
                         int line, int column)
{
        char rule[64];
        snprintf(rule, sizeof(rule), "probe-%s", property);
        const ksafe_violation_t *v = expect(report, rule, NULL);
        ck_assert_str_eq(v->actual, value);
        assert_at(v, line, column);
}

/* Findings are sorted by line, then column. */
static void assert_ordered(const ksafe_report_t *report)
{
        for (size_t i = 1; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *a = ksafe_report_get(report, i - 1);
                const ksafe_violation_t *b = ksafe_report_get(report, i);
                ck_assert_msg(a->line < b->line || (a->line == b->line && a->column <= b->column),
                              "finding %zu (%d:%d) comes after %d:%d", i, b->line, b->column,
                              a->line, a->column);
        }
}

static void data_path(char *buf, size_t size, const char *name)
{
        const char *dir = getenv("KSAFE_TEST_DATA");
        ck_assert_msg(dir && *dir, "KSAFE_TEST_DATA is not set");
        snprintf(buf, size, "%s/%s", dir, name);
}

static ksafe_report_t *check_file(const char *name, ksafe_format_t format)
{
        char path[4096];
        data_path(path, sizeof(path), name);
        ksafe_error_t err = {0};
        ksafe_config_t *config = config_read_file_as(path, format, &err);
        ck_assert_msg(config, "%s: %s", path, err.text);
        ksafe_report_t *report = ksafe_config_check(config, default_policy);
        ksafe_config_destroy(config);
        ck_assert_ptr_nonnull(report);
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                ck_assert_str_eq(ksafe_report_get(report, i)->file, path);
        return report;
}

/*
 * .properties syntax
 */

START_TEST(properties_separators)
{
        ksafe_report_t *r = probe("client.id=equals\n"
                                  "bootstrap.servers: colon\n"
                                  "group.id blank\n");
        assert_probe(r, "client.id", "equals", 1, 1);
        assert_probe(r, "bootstrap.servers", "colon", 2, 1);
        assert_probe(r, "group.id", "blank", 3, 1);
        /* kcat needs '=': the other two lines are errors of their own. */
        assert_at(expect(r, "ksafe-kcat-syntax", "bootstrap.servers"), 2, 1);
        assert_at(expect(r, "ksafe-kcat-syntax", "group.id"), 3, 1);
        ck_assert_uint_eq(ksafe_report_count(r), 5);
        ksafe_report_destroy(r);
}
END_TEST

/* Same-shaped properties cases: a text, then where each probed property is
 * found, with which value (line, column). */
static const struct {
        const char *name;
        const char *text;
        struct {
                const char *property, *value;
                int line, column;
        } want[3];
} layouts[] = {
        {"blanks_around_separator",
         "client.id   =   two words  \n"
         "bootstrap.servers\t:\thost:9092\t\n"
         "group.id \t  tabbed\n",
         {{"client.id", "two words", 1, 1},
          {"bootstrap.servers", "host:9092", 2, 1},
          {"group.id", "tabbed", 3, 1}}},
        {"indented_key_column",
         "   client.id=a\n"
         "\tgroup.id=b\n"
         " \t bootstrap.servers : c\n",
         {{"client.id", "a", 1, 4}, {"group.id", "b", 2, 2}, {"bootstrap.servers", "c", 3, 4}}},
        /* Joined, the next line's leading blanks dropped, located at the
         * first line. */
        {"continuation",
         "bootstrap.servers=a:9092,\\\n"
         "    b:9092,\\\n"
         "\t\tc:9092\n"
         "client.id = x\\\n"
         "y\n"
         "group.id=after\n",
         {{"bootstrap.servers", "a:9092,b:9092,c:9092", 1, 1},
          {"client.id", "xy", 4, 1},
          {"group.id", "after", 6, 1}}},
        /* An even number of backslashes ends the line; backslashes are kept
         * literally in values (Windows paths), in the middle as at the
         * end: "C:\\certs\\" stays as written. */
        {"escaped_backslash_is_not_a_continuation",
         "client.id=C:\\\\certs\\\\\n"
         "group.id=next\n",
         {{"client.id", "C:\\\\certs\\\\", 1, 1}, {"group.id", "next", 2, 1}}},
        {"continuation_at_end_of_file", "client.id=last\\", {{"client.id", "last", 1, 1}}},
        {"crlf",
         "client.id=a\r\n"
         "\r\n"
         "group.id = b \r\n"
         "bootstrap.servers=c,\\\r\n"
         "  d\r\n",
         {{"client.id", "a", 1, 1}, {"group.id", "b", 3, 1}, {"bootstrap.servers", "c,d", 4, 1}}},
        {"cr_only",
         "client.id=a\r"
         "\r"
         "  group.id=b\r"
         "bootstrap.servers=c,\\\r"
         "d\r",
         {{"client.id", "a", 1, 1}, {"group.id", "b", 3, 3}, {"bootstrap.servers", "c,d", 4, 1}}},
        {"no_trailing_newline", "client.id=a\ngroup.id=b", {{"group.id", "b", 2, 1}}},
};

START_TEST(properties_layout)
{
        ksafe_report_t *r = probe(layouts[_i].text);
        ck_assert_msg(r, "%s: no report", layouts[_i].name);
        for (size_t k = 0; k < 3 && layouts[_i].want[k].property; k++)
                assert_probe(r, layouts[_i].want[k].property, layouts[_i].want[k].value,
                             layouts[_i].want[k].line, layouts[_i].want[k].column);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(properties_comments_and_blank_lines)
{
        ksafe_report_t *r = probe("# a comment: client.id=hash\n"
                                  "! another: group.id=bang\n"
                                  "\n"
                                  "   \t\n"
                                  "   # indented comment\n"
                                  "client.id=real\n"
                                  "\t! bootstrap.servers=x\n");
        assert_probe(r, "client.id", "real", 6, 1);
        /* kcat reads a '!' line as a property (and exits): said, and
         * nothing of the line shown. */
        ck_assert_uint_eq(count_rule(r, "ksafe-kcat-syntax"), 2);
        for (size_t i = 0; i < ksafe_report_count(r); i++) {
                const ksafe_violation_t *v = ksafe_report_get(r, i);
                if (strcmp(v->rule_id, "ksafe-kcat-syntax") != 0)
                        continue;
                ck_assert_msg(v->line == 2 || v->line == 7, "line %d", v->line);
                ck_assert_str_eq(v->property, "(not shown)");
                ck_assert_ptr_null(strstr(v->message, "bang"));
        }
        ck_assert_uint_eq(ksafe_report_count(r), 3);
        ksafe_report_destroy(r);
}
END_TEST

/* kcat -F strips the backslashes before ':' and '=' that Java configs
 * write (ccloud's "https\://..."), and keeps the others. */
START_TEST(properties_kcat_value_escapes)
{
        ksafe_report_t *r = probe("client.id=a\\:b\\=c\\\\d\n"
                                  "bootstrap.servers=SASL_SSL\\://broker\\\\\\:9092\n"
                                  "group.id=C:\\dir\\x\n");
        assert_probe(r, "client.id", "a:b=c\\\\d", 1, 1);
        assert_probe(r, "bootstrap.servers", "SASL_SSL://broker:9092", 2, 1);
        assert_probe(r, "group.id", "C:\\dir\\x", 3, 1);
        expect_none(r, "ksafe-kcat-syntax");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(properties_bom)
{
        ksafe_report_t *r = probe("\xEF\xBB\xBF"
                                  "client.id=a\n"
                                  "group.id=b\n");
        /* The BOM is no part of the first key, and takes no column; kcat
         * refuses the line (the BOM is part of its key). */
        assert_probe(r, "client.id", "a", 1, 1);
        assert_probe(r, "group.id", "b", 2, 1);
        assert_at(expect(r, "ksafe-kcat-syntax", "client.id"), 1, 1);
        ck_assert_uint_eq(ksafe_report_count(r), 3);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(properties_empty_and_comment_only)
{
        static const char *const texts[] = {"", "\n\n", "# only\n# comments\n", "\xEF\xBB\xBF"};
        /* kcat: a '!' line is a property, a BOM is part of the first line */
        static const size_t kcat[] = {0, 0, 0, 1};
        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                ksafe_report_t *r = probe(texts[i]);
                ck_assert_uint_eq(ksafe_report_count(r), kcat[i]);
                ck_assert_uint_eq(count_rule(r, "ksafe-kcat-syntax"), kcat[i]);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(properties_key_without_value)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\n"
                                       "  acks\n"
                                       "linger.ms =\n");
        /* A line without a separator is no key=value line (and, as it may
         * be the tail of a multi-line secret, is not shown). */
        const ksafe_violation_t *v = expect(r, "ksafe-not-key-value", "(not shown)");
        assert_at(v, 2, 3);
        ck_assert_ptr_null(strstr(v->message, "acks"));
        /* Set to "": librdkafka refuses an empty integer. */
        v = expect(r, "ksafe-invalid-value", "linger.ms");
        assert_at(v, 3, 1);
        ck_assert_str_eq(v->actual, "");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(properties_unknown_keys_keep_their_location)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\n"
                                       "\n"
                                       "    no.such.thing = 1\n"
                                       "\xEF\xBB\xBF"
                                       "bom.in.the.middle=1\n");
        assert_at(expect(r, "ksafe-unknown-property", "no.such.thing"), 3, 5);
        /* Only a leading BOM is skipped; a name that does not look like a
         * property name is not shown (it could be a secret). */
        assert_at(expect(r, "ksafe-unknown-property", "(not shown)"), 4, 1);
        ksafe_report_destroy(r);
}
END_TEST

/*
 * JSON
 */

START_TEST(json_scalars)
{
        ksafe_report_t *r = check_json("{\n"
                                       "  \"bootstrap.servers\": \"b:9092\",\n"
                                       "  \"acks\": 1,\n"
                                       "    \"enable.idempotence\": false,\n"
                                       "  \"linger.ms\": 5\n"
                                       "}\n");
        const ksafe_violation_t *acks = expect(r, "acks-all", "acks");
        ck_assert_str_eq(acks->actual, "1");
        assert_at(acks, 3, 3);
        const ksafe_violation_t *idem = expect(r, "idempotence", "enable.idempotence");
        ck_assert_str_eq(idem->actual, "false");
        ck_assert_str_eq(idem->message, "enable.idempotence is false; expected true");
        assert_at(idem, 4, 5);
        ck_assert_str_eq(idem->file, "test.json");
        expect_none(r, "ksafe-invalid-value");
        expect_none(r, "ksafe-misread-value");
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_string_values_are_decoded)
{
        ksafe_report_t *r =
                check_string(probe_policy, "{\"client.id\": \"say \\\"hi\\\" \\u00e9\\\\\"}",
                             "p.json", KSAFE_FORMAT_JSON);
        assert_probe(r, "client.id", "say \"hi\" \xC3\xA9\\", 1, 2);
        ksafe_report_destroy(r);
}
END_TEST

/*
 * The JSON reader against jansson: random documents from pieces of every
 * kind (escapes, non-ASCII text, numbers at the edges of what jansson
 * reads, literals, containers, stray syntax). ksafe reads a document when
 * jansson reads it as an object, with jansson's error otherwise, and each
 * member's key and string value as jansson decodes them (the last of two
 * members with one key, as jansson keeps).
 */
#define JSON_RANDOM_DOCS 3000
static void json_random_piece(ksafe_buf_t *b, unsigned *seed, bool string)
{
        static const char *const text[] = {
                "a",
                "client.id",
                " ",
                "\\\"",
                "\\\\",
                "\\/",
                "\\n",
                "\\t",
                "\\u00e9",
                "\\u0041",
                "\\ud83d\\ude00",
                "\\ud83d",
                "\\ude00",
                "\\u0000",
                "\\x",
                "\xC3\xA9",
                "\xFF",
                "\xED\xA0\x80",
                "\xF0\x9F\x94\x92",
                "\x01",
                "\t",
                "~",
                "\x7f",
        };
        static const char *const other[] = {
                "0",
                "-1",
                "1.5",
                "1e3",
                "-0.0e-2",
                "01",
                "1E5",
                "-01",
                "0x1",
                "00",
                "123456789012345678",
                "-12345678901234567",
                "1234567890123456789",
                "0.5.5",
                "[[[[[[[[1]]]]]]]]",
                "[1,]",
                "{\"a\":}",
                "\"\\u0041\"",
                "\"\x7f\"",
                "\f",
                "\v",
                "1.",
                ".5",
                "1e",
                "-",
                "9223372036854775807",
                "9223372036854775808",
                "-9223372036854775808",
                "-9223372036854775809",
                "1e308",
                "1e309",
                "-1e400",
                "1e-400",
                "true",
                "false",
                "null",
                "nul",
                "tru",
                "{}",
                "[]",
                "[1,2]",
                "{\"a\":1}",
                "[",
                "{",
                "}",
                "]",
                ",",
                ":",
                "\"",
                "\"x\"",
                "  ",
                "\n",
                "\r\n",
                "\r",
        };
        *seed = *seed * 1103515245u + 12345u;
        unsigned r = *seed >> 16;
        if (string) {
                ksafe_buf__append(b, "\"", 1);
                for (unsigned i = 0, n = r % 5; i < n; i++) {
                        *seed = *seed * 1103515245u + 12345u;
                        const char *t = text[(*seed >> 16) % ARRAY_SIZE(text)];
                        ksafe_buf__append(b, t, strlen(t));
                }
                ksafe_buf__append(b, "\"", 1);
                return;
        }
        const char *t = other[r % ARRAY_SIZE(other)];
        ksafe_buf__append(b, t, strlen(t));
}

static char *json_random_doc(unsigned *seed)
{
        ksafe_buf_t b = {0};
        *seed = *seed * 1103515245u + 12345u;
        unsigned r = *seed >> 16;
        bool corrupt = r % 4 == 0;
        ksafe_buf__append(&b, r % 7 == 0 ? " \n{" : "{", r % 7 == 0 ? 3 : 1);
        for (unsigned i = 0, n = (r >> 3) % 6; i < n; i++) {
                if (i)
                        ksafe_buf__append(&b, ",\n  ", i % 2 ? 4 : 1);
                json_random_piece(&b, seed, true);
                ksafe_buf__append(&b, ": ", 2);
                *seed = *seed * 1103515245u + 12345u;
                json_random_piece(&b, seed, (*seed >> 16) % 2 == 0);
                *seed = *seed * 1103515245u + 12345u;
                if (corrupt && (*seed >> 16) % 3 == 0)
                        json_random_piece(&b, seed, false);
        }
        ksafe_buf__append(&b, "}", 1);
        *seed = *seed * 1103515245u + 12345u;
        if (corrupt && (*seed >> 16) % 3 == 0)
                json_random_piece(&b, seed, false);
        return ksafe_buf__take(&b);
}

START_TEST(json_reads_as_jansson)
{
        unsigned seed = 15;
        size_t read = 0;
        for (int i = 0; i < JSON_RANDOM_DOCS; i++) {
                char *doc = json_random_doc(&seed);
                json_error_t jerr;
                json_t *j = json_loadb(doc, strlen(doc), JSON_DECODE_ANY, &jerr);
                ksafe_error_t err = {0};
                ksafe_config_options_t opts = KSAFE_CONFIG_OPTIONS_INIT;
                opts.format = KSAFE_FORMAT_JSON;
                ksafe_config_t *cfg = ksafe_config_read(doc, strlen(doc), "r.json", &opts, &err);
                ck_assert_msg((cfg != NULL) == json_is_object(j), "%s: ksafe %s, jansson %s", doc,
                              cfg ? "reads it" : err.text, j ? "reads it" : jerr.text);
                if (!j) {
                        ck_assert_str_eq(err.text, ksafe_error__json_text(&jerr));
                        ck_assert_int_eq(err.line, jerr.line);
                        ck_assert_int_eq(err.column, jerr.column);
                }
                for (size_t e = 0; cfg && e < cfg->count; e++) {
                        const char *name = cfg->entries[e].name;
                        json_t *v = json_object_get(j, name);
                        ck_assert_msg(v != NULL, "%s: key \"%s\" unknown to jansson", doc, name);
                        bool last = true;
                        for (size_t later = e + 1; later < cfg->count; later++)
                                last &= strcmp(cfg->entries[later].name, name) != 0;
                        if (last && json_is_string(v))
                                ck_assert_msg(strcmp(cfg->entries[e].raw, json_string_value(v)) ==
                                                      0,
                                              "%s: \"%s\" is \"%s\" to ksafe, \"%s\" to jansson",
                                              doc, name, cfg->entries[e].raw, json_string_value(v));
                }
                read += cfg != NULL;
                ksafe_config_destroy(cfg);
                json_decref(j);
                free(doc);
        }
        /* Both kinds were tried. */
        ck_assert_uint_gt(read, JSON_RANDOM_DOCS / 10);
        ck_assert_uint_lt(read, JSON_RANDOM_DOCS - JSON_RANDOM_DOCS / 10);
}
END_TEST

START_TEST(json_safe_config_is_clean)
{
        ksafe_report_t *r = check_json("{\"enable.idempotence\": true, \"acks\": \"all\","
                                       " \"max.in.flight\": 5, \"linger.ms\": 10,"
                                       " \"delivery.timeout.ms\": 120000}");
        expect_clean(r);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_number_kept_as_written)
{
        /* A JSON number is what a client passes (Python's str(1000.0) reads
         * as 1000): a whole number is that integer, however written... */
        ksafe_report_t *r = check_json("{\"enable.idempotence\": true,\n"
                                       " \"delivery.timeout.ms\": 1e3}");
        expect_none(r, "ksafe-misread-value");
        ck_assert_str_eq(expect(r, "delivery-covers-request", NULL)->actual, "1000");
        ksafe_report_destroy(r);
        /* ...while a string is passed as written. */
        r = check_json("{\"enable.idempotence\": true,\n"
                       " \"delivery.timeout.ms\": \"1e3\"}");
        expect_message(r, "ksafe-misread-value", "delivery.timeout.ms",
                       "delivery.timeout.ms: \"1e3\" is not an integer; librdkafka reads it as 1",
                       2, 2);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_nested_value_is_invalid)
{
        ksafe_report_t *r = check_json("{\"enable.idempotence\": true,\n"
                                       "  \"acks\": {\"value\": \"all\", \"x\": [1, {}]},\n"
                                       "  \"linger.ms\": [5],\n"
                                       "  \"client.id\": \"after\"}");
        expect_message(r, "ksafe-invalid-value", "acks",
                       "invalid value for acks: an object or array is not a property value", 2, 3);
        expect_message(r, "ksafe-invalid-value", "linger.ms",
                       "invalid value for linger.ms: an object or array is not a property value", 3,
                       3);
        /* The scanner found its way out of the nested values. */
        ck_assert_uint_eq(count_rule(r, "ksafe-invalid-value"), 2);
        expect_none(r, "ksafe-unknown-property");
        expect_none(r, "acks-all"); /* acks keeps its (derived) value */
        ksafe_report_destroy(r);
}
END_TEST

/*
 * default.topic.config, merged as Python's confluent-kafka merges it
 * (PyDict_Update of the nested object into the configuration): each case
 * lists the findings it must give, as rule@line:column, in order.
 */
static const struct {
        const char *text;
        const char *findings; /* "rule@line:col ..." of the ksafe-* and acks/timeout rules */
} topic_configs[] = {
        /* The inner keys are judged, where they are written. */
        {"{\"enable.idempotence\": true,\n"
         " \"default.topic.config\": {\"acks\": 1,\n"
         "    \"message.timeout.ms\": 0}}",
         "acks-all@2:27 delivery-timeout@3:5 delivery-covers-request@3:5"},
        /* A key at both levels: the nested one wins, the top one is shadowed. */
        {"{\"enable.idempotence\": true, \"acks\": \"all\",\n"
         " \"default.topic.config\": {\"acks\": 1}}",
         "ksafe-duplicate@1:30 acks-all@2:27"},
        {"{\"enable.idempotence\": true, \"acks\": 1,\n"
         " \"default.topic.config\": {\"acks\": \"all\"}}",
         "ksafe-duplicate@1:30"},
        /* An alias inside comes after every top-level key. */
        {"{\"enable.idempotence\": true, \"default.topic.config\": {\"delivery.timeout.ms\": 0},\n"
         " \"message.timeout.ms\": 30000}",
         "delivery-timeout@1:55 delivery-covers-request@1:55 ksafe-duplicate@2:2"},
        /* A global property inside it is merged too. */
        {"{\"enable.idempotence\": true, \"default.topic.config\": {\"enable.idempotence\": "
         "false}}",
         "ksafe-duplicate@1:2 idempotence@1:55"},
        /* What Python cannot merge. */
        {"{\"enable.idempotence\": true, \"default.topic.config\": [1]}",
         "ksafe-invalid-value@1:30"},
        {"{\"enable.idempotence\": true, \"default.topic.config\": {\"default.topic.config\": "
         "{\"acks\": 1}}}",
         "ksafe-invalid-value@1:55"},
        {"{\"enable.idempotence\": true, \"default.topic.config\": {\"acks\": 1},\n"
         " \"default.topic.config\": {\"linger.ms\": 5}}",
         "ksafe-invalid-value@1:55"},
        {"{\"enable.idempotence\": true, \"default.topic.config\": {\"ackz\": 1}}",
         "ksafe-unknown-property@1:55"},
        {"{\"enable.idempotence\": true, \"default.topic.config\": {}}", ""},
};

START_TEST(json_default_topic_config)
{
        ksafe_report_t *r = check_json(topic_configs[_i].text);
        char got[512] = "";
        size_t n = 0;
        for (size_t i = 0; i < ksafe_report_count(r); i++) {
                const ksafe_violation_t *v = ksafe_report_get(r, i);
                if (strcmp(v->rule_id, "in-flight") == 0)
                        continue; /* not set anywhere: the same for every case */
                n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s@%d:%d", n ? " " : "",
                                      v->rule_id, v->line, v->column);
        }
        ck_assert_msg(strcmp(got, topic_configs[_i].findings) == 0, "%s\ngot:  %s\nwant: %s",
                      topic_configs[_i].text, got, topic_configs[_i].findings);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_null_is_invalid)
{
        ksafe_report_t *r = check_json("{\"enable.idempotence\": true, \"acks\": null,"
                                       " \"client.id\": \"null\"}");
        expect_message(r, "ksafe-invalid-value", "acks",
                       "invalid value for acks: null is not a value", 1, 30);
        ck_assert_uint_eq(count_rule(r, "ksafe-invalid-value"), 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_not_an_object)
{
        static const struct {
                const char *text;
                int line, column;
        } cases[] = {
                {"[{\"acks\": 1}]", 1, 1},
                {"\"acks\"", 1, 1},
                {"\n  42\n", 2, 3},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                ksafe_error_t err;
                parse_fails(cases[i].text, strlen(cases[i].text), "x.json", KSAFE_FORMAT_JSON,
                            &err);
                ck_assert_str_eq(err.text, "expected a JSON object of property names");
                ck_assert_str_eq(err.source, "x.json");
                ck_assert_int_eq(err.line, cases[i].line);
                ck_assert_int_eq(err.column, cases[i].column);
        }
}
END_TEST

START_TEST(json_syntax_error)
{
        static const char text[] = "{\n"
                                   "  \"acks\": \"all\",\n"
                                   "  \"linger.ms\": 5,,\n"
                                   "}\n";
        ksafe_error_t err;
        parse_fails(text, strlen(text), "broken.json", KSAFE_FORMAT_JSON, &err);
        ck_assert_str_eq(err.source, "broken.json");
        ck_assert_int_eq(err.line, 3);
        ck_assert_int_eq(err.column, 18);
        ck_assert_msg(err.text[0], "no error text");
}
END_TEST

START_TEST(json_duplicate_keys)
{
        ksafe_report_t *r = check_json("{\"enable.idempotence\": true,\n"
                                       " \"acks\": \"all\",\n"
                                       " \"linger.ms\": 5,\n"
                                       " \"acks\": 1}");
        /* JSON readers disagree on which one wins (Python keeps the first
         * place with the last value): an error, not a warning. */
        const ksafe_violation_t *dup = expect(r, "ksafe-json-duplicate", "acks");
        ck_assert_str_eq(dup->message, "acks is set twice in this object (again on line 4 as "
                                       "acks); which one a client uses depends on its JSON "
                                       "reader");
        ck_assert_int_eq(dup->severity, KSAFE_SEVERITY_ERROR);
        assert_at(dup, 2, 2);
        const ksafe_violation_t *acks = expect(r, "acks-all", "acks");
        ck_assert_str_eq(acks->actual, "1");
        assert_at(acks, 4, 2);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(json_bom)
{
        /* As for .properties, the BOM takes no column. */
        static const char text[] = "\xEF\xBB\xBF{\"client.id\": \"x\",\n \"group.id\": \"y\"}";
        ksafe_format_t formats[] = {KSAFE_FORMAT_JSON, KSAFE_FORMAT_AUTO};
        for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
                ksafe_report_t *r = check_string(probe_policy, text, "bom.conf", formats[i]);
                assert_probe(r, "client.id", "x", 1, 2);
                assert_probe(r, "group.id", "y", 2, 2);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(json_key_locations)
{
        /* The column of a key's opening quote, in bytes. */
        ksafe_report_t *r =
                check_string(probe_policy,
                             "{\r\n"
                             "\t\"client.id\" : \"a\",\r\n"
                             "\r\n"
                             "        \"bootstrap.servers\":\"b\", \"group.id\": \"c\"\r\n"
                             "}",
                             "loc.json", KSAFE_FORMAT_JSON);
        assert_probe(r, "client.id", "a", 2, 2);
        assert_probe(r, "bootstrap.servers", "b", 4, 9);
        assert_probe(r, "group.id", "c", 4, 34);
        ksafe_report_destroy(r);
}
END_TEST

/* Read with options and judge by the default policy. */
static ksafe_report_t *check_read(const char *text, const char *source,
                                  const ksafe_config_options_t *options)
{
        ksafe_error_t err = {0};
        ksafe_config_t *config = ksafe_config_read(text, strlen(text), source, options, &err);
        ck_assert_msg(config, "cannot read: %s:%d:%d: %s", err.source, err.line, err.column,
                      err.text);
        ksafe_report_t *report = ksafe_config_check(config, default_policy);
        ksafe_config_destroy(config);
        ck_assert_ptr_nonnull(report);
        return report;
}

START_TEST(json_pointer)
{
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .json_pointer = "/kafka/pro~1ducer"};
        ksafe_report_t *r = check_read("{\n"
                                       "  \"acks\": \"0\",\n"
                                       "  \"kafka\": {\n"
                                       "    \"consumer\": {\"acks\": \"0\"},\n"
                                       "    \"pro/ducer\": {\n"
                                       "      \"enable.idempotence\": true,\n"
                                       "      \"acks\": 1\n"
                                       "    }\n"
                                       "  }\n"
                                       "}\n",
                                       "nested.json", &options);
        /* Only the members of the object named, at their own lines. */
        const ksafe_violation_t *acks = expect(r, "acks-all", "acks");
        ck_assert_str_eq(acks->actual, "1");
        assert_at(acks, 7, 7);
        ck_assert_uint_eq(ksafe_report_count(r), 1);
        ksafe_report_destroy(r);

        /* NULL and "" are the top level. */
        static const char *const top[] = {NULL, ""};
        for (size_t i = 0; i < 2; i++) {
                options.json_pointer = top[i];
                r = check_read("{\"enable.idempotence\": true,\n \"acks\": 0}", "t.json", &options);
                assert_at(expect(r, "acks-all", "acks"), 2, 2);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(json_pointer_errors)
{
        static const char text[] = "{\"kafka\": {\"producer\": {\"acks\": 1}, \"n\": 5}}";
        static const struct {
                const char *pointer, *message;
        } cases[] = {
                {"kafka", "JSON pointer \"kafka\" must start with '/'"},
                {"/kafka/consumer", "JSON pointer \"/kafka/consumer\" names nothing in this file"},
                {"/kafka/n", "expected a JSON object of property names at /kafka/n"},
                {"/kafka/producer/acks/x", "JSON pointer \"/kafka/producer/acks/x\": no object at "
                                           "this path"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                                  .json_pointer = cases[i].pointer};
                ksafe_error_t err = {0};
                ck_assert_ptr_null(ksafe_config_read(text, strlen(text), "p.json", &options, &err));
                ck_assert_str_eq(err.text, cases[i].message);
                ck_assert_str_eq(err.source, "p.json");
        }
}
END_TEST

START_TEST(java_dialect)
{
        static const char text[] = "enable.idempotence=true\n"
                                   "key.serializer=org.apache.kafka.common.serialization."
                                   "StringSerializer\n"
                                   "buffer.memory=33554432\n";
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = KSAFE_DIALECT_JAVA};
        ksafe_report_t *r = check_read(text, "java.properties", &options);
        expect_clean(r);
        ksafe_report_destroy(r);

        options.dialect = KSAFE_DIALECT_LIBRDKAFKA;
        r = check_read(text, "java.properties", &options);
        assert_at(expect(r, "ksafe-unknown-property", "key.serializer"), 2, 1);
        assert_at(expect(r, "ksafe-unknown-property", "buffer.memory"), 3, 1);
        ksafe_report_destroy(r);

        /* Typos are still typos in Java. */
        options.dialect = KSAFE_DIALECT_JAVA;
        r = check_read("enable.idempotance=true\n", "java.properties", &options);
        expect(r, "ksafe-unknown-property", "enable.idempotance");
        ksafe_report_destroy(r);
}
END_TEST

/*
 * --dialect java against the real java.util.Properties: a small Java
 * program, compiled here, loads each input (as UTF-8, as a Reader) and
 * prints its keys and values; ksafe's reading of the same bytes must be the
 * same. Skipped when javac is not installed.
 */
static const char *const java_inputs[] = {
        "delivery.timeout.m\\s=0\n",
        "a\\u0062c=\\u0041\\u00e9\\u20ac\n",
        "key\\ with\\ spaces = value with spaces  \n",
        "k1:v1\nk2 v2\nk3 = v3\nk4\t:\tv4\nk5=\n k6\n",
        "tabs=a\\tb\\nc\\rd\\fe\\q\n",
        "cont=one \\\n    two \\\n\tthree\n",
        "# comment \\\nnot.continued=1\n! bang\n  ! indented bang\n",
        ("\xEF\xBB\xBF"
         "acks=1\nb=2\n"),
        "\xEF\xBB\xBF# a comment\nb=2\n",
        "a=1\\\r\n  2\r\nb=3\r\n",
        "a=1\rb=2\r",
        "path=C:\\\\certs\\\\ca.pem\n",
        "odd=ends\\\\\\\n  next\n",
        "eof=continued\\",
        "eq==value\ncolon:=v\nsp  =  = v\n",
        "esc\\=key=v\nesc\\:k:v\n",
        "dup=1\ndup=2\n",
        "malformed=\\u12G4\n",
        "short=\\u12",
        "emoji=\\uD83D\\uDE00 lone=\\uD83D\n",
        "\\u0020lead=1\n",
        "vt\vkey=1\n",
        "continued.empty=a\\\n\nafter=1\n",
        "x=\\\n# not a comment\n",
        "\f form=feed\n",
        "  \\\n  key=value\n",
        "caf\xC3\xA9=th\xC3\xA9\n",
        "   \n\t\n",
        "a\\\\=b\n",
        "trailing.tab=v\t\n",
        /* A lone backslash: what load() does depends on what follows it. */
        "\\\r\n",
        "a=1\n\\",
        "a=1\n\\\n",
        "\\\n#t\nD\n",
        "\\\r\n!x=1\n",
        "\\\n  \\\nfoo=1\n",
        "a\\\n",
};

static const char java_program[] =
        "import java.io.*;\n"
        "import java.nio.charset.StandardCharsets;\n"
        "import java.util.*;\n"
        "public class Props {\n"
        "  static String esc(String s) {\n"
        "    StringBuilder b = new StringBuilder();\n"
        "    for (char c : s.toCharArray())\n"
        "      if (c > 0x20 && c < 0x7f && c != '\\\\') b.append(c);\n"
        "      else b.append(String.format(\"\\\\u%04x\", (int) c));\n"
        "    return b.toString();\n"
        "  }\n"
        "  public static void main(String[] args) throws Exception {\n"
        "    for (String f : args) {\n"
        "      Properties p = new Properties();\n"
        "      try (Reader r = new InputStreamReader(new FileInputStream(f),\n"
        "                                            StandardCharsets.UTF_8)) {\n"
        "        p.load(r);\n"
        "        TreeMap<String, String> m = new TreeMap<>();\n"
        "        for (String k : p.stringPropertyNames()) m.put(esc(k), esc(p.getProperty(k)));\n"
        "        for (Map.Entry<String, String> e : m.entrySet())\n"
        "          System.out.println(e.getKey() + \" \" + e.getValue());\n"
        "      } catch (IllegalArgumentException e) {\n"
        "        System.out.println(\"ERROR\");\n"
        "      }\n"
        "      System.out.println(\".\");\n"
        "    }\n"
        "  }\n"
        "}\n";

/* Java's esc() of a UTF-8 string: UTF-16 code units outside printable
 * ASCII (and the backslash) as \uXXXX. */
static void java_esc(ksafe_buf_t *out, const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                unsigned long cp = *p;
                int n = cp < 0x80 ? 0 : cp < 0xE0 ? 1 : cp < 0xF0 ? 2 : 3;
                cp &= n == 0 ? 0x7F : n == 1 ? 0x1F : n == 2 ? 0x0F : 0x07;
                p++;
                for (int i = 0; i < n && *p; i++, p++)
                        cp = (cp << 6) | (*p & 0x3F);
                if (cp > 0x20 && cp < 0x7f && cp != '\\') {
                        char c = (char)cp;
                        ksafe_buf__append(out, &c, 1);
                } else if (cp >= 0x10000) {
                        cp -= 0x10000;
                        ksafe_buf__printf(out, "\\u%04lx\\u%04lx", 0xD800 + (cp >> 10),
                                          0xDC00 + (cp & 0x3FF));
                } else {
                        ksafe_buf__printf(out, "\\u%04lx", cp);
                }
        }
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What ksafe reads from `text` under --dialect java, in the program's
 * format: "key value" lines sorted by key, the last setting of a key
 * winning, or ERROR when Java cannot load the file. */
static char *ksafe_reading(const char *text)
{
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = KSAFE_DIALECT_JAVA};
        ksafe_config_t *cfg = ksafe_config_read(text, strlen(text), "java", &options, NULL);
        ck_assert_ptr_nonnull(cfg);
        char **lines = calloc(cfg->count + 1, sizeof(*lines));
        size_t n = 0;
        bool error = false;
        for (size_t i = 0; i < cfg->count; i++) {
                const ksafe_entry_t *e = &cfg->entries[i];
                if (e->comment)
                        continue;
                if (e->note && strstr(e->note, "malformed"))
                        error = true;
                ksafe_buf_t key = {0}, line = {0};
                java_esc(&key, e->name);
                ksafe_buf__append(&key, "", 0);
                java_esc(&line, e->name);
                ksafe_buf__append(&line, " ", 1);
                java_esc(&line, e->raw);
                /* the last setting of a key wins */
                size_t at = n;
                for (size_t j = 0; j < n; j++)
                        if (strncmp(lines[j], key.data, key.len) == 0 && lines[j][key.len] == ' ')
                                at = j;
                if (at < n)
                        free(lines[at]);
                else
                        n++;
                lines[at] = ksafe_buf__take(&line);
                ksafe_buf__free(&key);
        }
        qsort(lines, n, sizeof(*lines), cmp_str);
        ksafe_buf_t out = {0};
        ksafe_buf__append(&out, "", 0);
        if (error)
                ksafe_buf__printf(&out, "ERROR\n");
        for (size_t i = 0; i < n; i++) {
                if (!error)
                        ksafe_buf__printf(&out, "%s\n", lines[i]);
                free(lines[i]);
        }
        free(lines);
        ksafe_config_destroy(cfg);
        return ksafe_buf__take(&out);
}

static bool write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "wb");
        if (!f)
                return false;
        bool ok = fwrite(text, 1, strlen(text), f) == strlen(text);
        return fclose(f) == 0 && ok;
}

/* Random inputs from an alphabet of what load() treats specially, for the
 * same comparison (a fixed seed: the same inputs every run). */
#define JAVA_RANDOM_INPUTS 400
static char *java_random_input(unsigned *seed)
{
        static const char *const alphabet[] = {
                "a",  "b",  "k",        "=",     ":",       " ",       "\t",
                "\f", "\\", "\\",       "\n",    "\r",      "\r\n",    "#",
                "!",  "u",  "0",        "1",     "D",       "f",       "n",
                "t",  "\v", "\xC3\xA9", "x=1\n", "\\u0041", "\\uD83D", "\\uDE00",
        };
        ksafe_buf_t b = {0};
        ksafe_buf__append(&b, "", 0);
        *seed = *seed * 1103515245u + 12345u;
        if ((*seed >> 16) % 10 == 0)
                ksafe_buf__append(&b, "\xEF\xBB\xBF", 3);
        *seed = *seed * 1103515245u + 12345u;
        unsigned n = (*seed >> 16) % 31;
        for (unsigned i = 0; i < n; i++) {
                *seed = *seed * 1103515245u + 12345u;
                const char *a = alphabet[(*seed >> 16) % (sizeof(alphabet) / sizeof(*alphabet))];
                ksafe_buf__append(&b, a, strlen(a));
        }
        return ksafe_buf__take(&b);
}

START_TEST(java_dialect_reads_as_java_properties)
{
        if (system("command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1") != 0) {
                fprintf(stderr, "javac not installed: java.util.Properties comparison skipped\n");
                return;
        }
        char dir[] = "/tmp/ksafe-java-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char path[512], cmd[8192];
        snprintf(path, sizeof(path), "%s/Props.java", dir);
        ck_assert(write_text(path, java_program));
        snprintf(cmd, sizeof(cmd), "javac -d %s %s 2>&1", dir, path);
        ck_assert_int_eq(system(cmd), 0);
        size_t fixed = sizeof(java_inputs) / sizeof(*java_inputs);
        size_t count = fixed + JAVA_RANDOM_INPUTS;
        char **inputs = calloc(count, sizeof(*inputs));
        unsigned seed = 11;
        ksafe_buf_t args = {0};
        ksafe_buf__printf(&args, "java -cp %s Props", dir);
        for (size_t i = 0; i < count; i++) {
                inputs[i] = i < fixed ? strdup(java_inputs[i]) : java_random_input(&seed);
                snprintf(path, sizeof(path), "%s/in%zu.properties", dir, i);
                ck_assert(write_text(path, inputs[i]));
                ksafe_buf__printf(&args, " %s", path);
        }
        FILE *java = popen(args.data, "r");
        ck_assert_ptr_nonnull(java);
        ksafe_buf_t block = {0};
        char line[4096];
        size_t i = 0;
        while (fgets(line, sizeof(line), java)) {
                if (strcmp(line, ".\n") != 0) {
                        ksafe_buf__append(&block, line, strlen(line));
                        continue;
                }
                ck_assert_uint_lt(i, count);
                ksafe_buf__append(&block, "", 0);
                char *mine = ksafe_reading(inputs[i]);
                /* (ksafe refuses a \u0000: no C string carries it) */
                ck_assert_msg(strcmp(mine, block.data) == 0 || strstr(block.data, "\\u0000"),
                              "input %zu \"%s\":\njava.util.Properties:\n%sksafe:\n%s", i,
                              inputs[i], block.data, mine);
                free(mine);
                block.len = 0;
                i++;
        }
        ck_assert_int_eq(pclose(java), 0);
        ck_assert_uint_eq(i, count);
        ksafe_buf__free(&block);
        ksafe_buf__free(&args);
        for (size_t k = 0; k < count; k++) {
                snprintf(path, sizeof(path), "%s/in%zu.properties", dir, k);
                unlink(path);
                free(inputs[k]);
        }
        free(inputs);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(command_line_property_wins)
{
        static const char text[] = "enable.idempotence=true\nacks=1\n";
        ksafe_config_t *config =
                config_read_as(text, strlen(text), "cli.properties", KSAFE_FORMAT_AUTO, NULL);
        ck_assert_ptr_nonnull(config);
        ck_assert(ksafe_config_set(config, "max.in.flight", "50", NULL));
        ck_assert(ksafe_config_set(config, "acks", "all", "-X"));
        ksafe_report_t *r = ksafe_config_check(config, default_policy);
        ksafe_config_destroy(config);

        const ksafe_violation_t *inflight = expect(r, "in-flight", "max.in.flight");
        ck_assert_str_eq(inflight->file, "<command line>");
        assert_at(inflight, 1, 1);
        expect_none(r, "acks-all"); /* -X acks=all wins */
        /* The file's line is shadowed by the command line, not by a line
         * of the file. */
        const ksafe_violation_t *dup = expect(r, "ksafe-duplicate", "acks");
        ck_assert_str_eq(dup->file, "cli.properties");
        assert_at(dup, 2, 1);
        ck_assert_msg(strstr(dup->message, "-X") && !strstr(dup->message, "line 2"),
                      "the message does not say what shadows the line: %s", dup->message);
        ksafe_report_destroy(r);
}
END_TEST

/*
 * Format detection, unreadable input
 */

START_TEST(auto_detects_json)
{
        struct {
                const char *source, *text;
                int line, column; /* of the key */
        } cases[] = {
                {"producer.json", "{\"client.id\": \"x\"}", 1, 2},
                {"producer.conf", "\n  \t{\"client.id\": \"x\"}", 2, 5},
                {NULL, "{\"client.id\": \"x\"}", 1, 2},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                ksafe_report_t *r = check_string(probe_policy, cases[i].text, cases[i].source,
                                                 KSAFE_FORMAT_AUTO);
                assert_probe(r, "client.id", "x", cases[i].line, cases[i].column);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(auto_detects_properties)
{
        ksafe_report_t *r = check_string(probe_policy, "client.id={x}\n", NULL, KSAFE_FORMAT_AUTO);
        assert_probe(r, "client.id", "{x}", 1, 1);
        ck_assert_str_eq(expect(r, NULL, "client.id")->file, "<string>");
        ksafe_report_destroy(r);

        /* The extension decides: a .json file must be JSON. */
        ksafe_error_t err;
        parse_fails("client.id=x\n", 12, "p.json", KSAFE_FORMAT_AUTO, &err);
        ck_assert_str_eq(err.source, "p.json");
        ck_assert_int_eq(err.line, 1);
}
END_TEST

START_TEST(nul_byte)
{
        static const char text[] = "client.id=a\0b\n";
        ksafe_format_t formats[] = {KSAFE_FORMAT_AUTO, KSAFE_FORMAT_PROPERTIES, KSAFE_FORMAT_JSON};
        for (size_t i = 0; i < sizeof(formats) / sizeof(*formats); i++) {
                ksafe_error_t err;
                parse_fails(text, sizeof(text) - 1, "nul.properties", formats[i], &err);
                ck_assert_str_eq(err.text, "contains a NUL byte: not a text config");
                ck_assert_str_eq(err.source, "nul.properties");
        }
}
END_TEST

START_TEST(unreadable_path)
{
        ksafe_error_t err = {0};
        const char *path = "/nonexistent/ksafe/producer.properties";
        ck_assert_ptr_null(config_read_file_as(path, KSAFE_FORMAT_AUTO, &err));
        ck_assert_str_eq(err.source, path);
        char want[300];
        snprintf(want, sizeof(want), "cannot read: %s", strerror(ENOENT));
        ck_assert_str_eq(err.text, want);

        char dir[4096];
        data_path(dir, sizeof(dir), "configs");
        ck_assert_ptr_null(config_read_file_as(dir, KSAFE_FORMAT_AUTO, &err));
        snprintf(want, sizeof(want), "cannot read: %s", strerror(EISDIR));
        ck_assert_str_eq(err.text, want);
        ck_assert_str_eq(err.source, dir);

        /* err may be NULL. */
        ck_assert_ptr_null(config_read_file_as(path, KSAFE_FORMAT_AUTO, NULL));
}
END_TEST

START_TEST(destroy_null)
{
        ksafe_config_destroy(NULL);
}
END_TEST

/*
 * Findings through ksafe_config_check() and the default policy
 */

START_TEST(unknown_property_did_you_mean)
{
        ksafe_report_t *r = check_text("enable.idempotance=true\n"
                                       "zzzz.qqqq.xxxx=1\n");
        const ksafe_violation_t *v = expect(r, "ksafe-unknown-property", "enable.idempotance");
        ck_assert_str_eq(v->message, "unknown property \"enable.idempotance\"; did you mean "
                                     "\"enable.idempotence\"?");
        ck_assert_ptr_null(v->fix); /* a name to use, not a value to set: in the message */
        ck_assert_ptr_null(v->canonical);
        ck_assert_int_eq(v->severity, KSAFE_SEVERITY_ERROR); /* librdkafka refuses it */
        ck_assert_int_eq(v->action, KSAFE_ACTION_REJECT);
        ck_assert_str_eq(v->file, "test.properties");
        assert_at(v, 1, 1);

        char want[200];
        snprintf(want, sizeof(want), "unknown property \"zzzz.qqqq.xxxx\" (not in librdkafka %s)",
                 rd_kafka_version_str());
        expect_message(r, "ksafe-unknown-property", "zzzz.qqqq.xxxx", want, 2, 1);
        ck_assert_ptr_null(expect(r, NULL, "zzzz.qqqq.xxxx")->fix);

        /* The typo does not set idempotence: the rule fails on the default. */
        expect_message(r, "idempotence", NULL,
                       "enable.idempotence is not set; librdkafka's default is false; "
                       "expected true",
                       1, 1);
        ck_assert_int_eq(ksafe_report_rejected(r), 1); /* the client cannot start */
        ksafe_report_destroy(r);
}
END_TEST

/*
 * What librdkafka refuses, strings and names included, by dialect: the
 * rule, the severity and librdkafka's own words, never a secret.
 */
static const struct {
        const char *text;
        ksafe_dialect_t dialect;
        const char *rule; /* NULL: no finding at all about the line */
        ksafe_severity_t severity;
        const char *message; /* in the finding's message */
        const char *secret;  /* in no field of any finding */
} refusals[] = {
        /* Strings are checked by librdkafka. */
        {"sasl.mechanisms=\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR,
         "invalid value for sasl.mechanisms: Invalid value for configuration property "
         "\"sasl.mechanisms\"",
         NULL},
        {"sasl.mechanism=PLAIN,SCRAM-SHA-512\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR, "\"sasl.mechanisms\": PLAIN,SCRAM-SHA-512", NULL},
        {"broker.version.fallback=\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR, "broker.version.fallback", NULL},
        {"topic.blacklist=(\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR, "Failed to parse pattern", NULL},
        /* What this build of librdkafka does not support (no libcurl). */
        {"sasl.oauthbearer.method=oidc\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR,
         "Configuration property \"sasl.oauthbearer.method\" not supported in this build: "
         "OAuth/OIDC depends on libcurl and OpenSSL which were not available at build time",
         NULL},
        {"sasl.oauthbearer.client.id=my-client\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR, "not supported in this build", NULL},
        {"sasl.oauthbearer.token.endpoint.url=https://idp.example/token\n",
         KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value", KSAFE_SEVERITY_ERROR,
         "not supported in this build", NULL},
        {"sasl.oauthbearer.client.secret=oauth-s3cret-77\n", KSAFE_DIALECT_LIBRDKAFKA,
         "ksafe-invalid-value", KSAFE_SEVERITY_ERROR,
         "\"sasl.oauthbearer.client.secret\" not supported in this build", "oauth-s3cret-77"},
        {"sasl.oauthbearer.client.secret=oauth-s3cret-77\n", KSAFE_DIALECT_JAVA,
         "ksafe-invalid-value", KSAFE_SEVERITY_ERROR, "not supported in this build",
         "oauth-s3cret-77"},
        /* Names librdkafka does not know: refused by kcat and Python alike. */
        {"enable.idempotance=true\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-unknown-property",
         KSAFE_SEVERITY_ERROR, "did you mean \"enable.idempotence\"?", NULL},
        {"enable.idempotance=true\n", KSAFE_DIALECT_JAVA, "ksafe-unknown-property",
         KSAFE_SEVERITY_WARNING, "did you mean \"enable.idempotence\"?", NULL},
        {"key.serializer=org.apache.kafka.common.serialization.StringSerializer\n",
         KSAFE_DIALECT_LIBRDKAFKA, "ksafe-unknown-property", KSAFE_SEVERITY_ERROR,
         "unknown property \"key.serializer\"", NULL},
        {"key.serializer=org.apache.kafka.common.serialization.StringSerializer\n",
         KSAFE_DIALECT_JAVA, NULL, KSAFE_SEVERITY_ERROR, NULL, NULL},
        /* Java names librdkafka refuses with a hint of its own. */
        {"ssl.truststore.location=/etc/kafka/client.truststore.jks\n", KSAFE_DIALECT_LIBRDKAFKA,
         "ksafe-invalid-value", KSAFE_SEVERITY_ERROR,
         "Java TrustStores are not supported, use `ssl.ca.location` and a certificate file "
         "instead",
         NULL},
        {"ssl.truststore.location=/etc/kafka/client.truststore.jks\n", KSAFE_DIALECT_JAVA, NULL,
         KSAFE_SEVERITY_ERROR, NULL, NULL},
        {"sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
         "username=\"alice\" password=\"jaas-pw-99\";\n",
         KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value", KSAFE_SEVERITY_ERROR,
         "Java JAAS configuration is not supported", "jaas-pw-99"},
        /* librdkafka's hidden properties: accepted, so no finding. */
        {"test.mock.num.brokers=3\n", KSAFE_DIALECT_LIBRDKAFKA, NULL, KSAFE_SEVERITY_ERROR, NULL,
         NULL},
        {"test.mock.num.brokers=three\n", KSAFE_DIALECT_LIBRDKAFKA, "ksafe-invalid-value",
         KSAFE_SEVERITY_ERROR, "test.mock.num.brokers", NULL},
        /* Strings it accepts are no finding. */
        {"client.id=billing\nsasl.mechanisms=SCRAM-SHA-512\nssl.ca.location=/etc/ssl/ca.pem\n",
         KSAFE_DIALECT_LIBRDKAFKA, NULL, KSAFE_SEVERITY_ERROR, NULL, NULL},
};

static bool field_has(const char *field, const char *secret)
{
        return field && strstr(field, secret);
}

START_TEST(librdkafka_refuses)
{
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = refusals[_i].dialect};
        ksafe_report_t *r = check_read(refusals[_i].text, "refused.properties", &options);
        /* Findings about the file's lines (the policy's are about
         * enable.idempotence and max.in.flight, on no line of it). */
        const ksafe_violation_t *v = NULL;
        for (size_t i = 0; i < ksafe_report_count(r); i++) {
                const ksafe_violation_t *f = ksafe_report_get(r, i);
                if (strncmp(f->rule_id, "ksafe-", 6) == 0 && !v)
                        v = f;
                if (refusals[_i].secret)
                        ck_assert_msg(!field_has(f->message, refusals[_i].secret) &&
                                              !field_has(f->actual, refusals[_i].secret) &&
                                              !field_has(f->property, refusals[_i].secret) &&
                                              !field_has(f->why, refusals[_i].secret),
                                      "a secret in [%s] %s", f->rule_id, f->message);
        }
        if (!refusals[_i].rule) {
                ck_assert_msg(!v, "unexpected [%s] %s", v ? v->rule_id : "", v ? v->message : "");
                ksafe_report_destroy(r);
                return;
        }
        ck_assert_msg(v, "no finding for %s", refusals[_i].text);
        ck_assert_str_eq(v->rule_id, refusals[_i].rule);
        ck_assert_int_eq(v->severity, refusals[_i].severity);
        ck_assert_msg(strstr(v->message, refusals[_i].message), "\"%s\" lacks \"%s\"", v->message,
                      refusals[_i].message);
        assert_at(v, 1, 1);
        ck_assert_int_eq(ksafe_report_rejected(r), refusals[_i].severity == KSAFE_SEVERITY_ERROR);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(invalid_value)
{
        ksafe_report_t *r = check_text("acks=all\n"
                                       "  enable.idempotence=yes\n");
        const ksafe_violation_t *v = expect(r, "ksafe-invalid-value", "enable.idempotence");
        ck_assert_str_eq(v->message,
                         "invalid value for enable.idempotence: Expected bool value for "
                         "\"enable.idempotence\": true or false");
        ck_assert_str_eq(v->actual, "yes");
        ck_assert_int_eq(v->severity, KSAFE_SEVERITY_ERROR);
        ck_assert_int_eq(v->action, KSAFE_ACTION_REJECT);
        assert_at(v, 2, 3);
        ck_assert_int_eq(ksafe_report_rejected(r), 1);
        /* The refused line sets nothing: the default is judged. */
        ck_assert(!expect(r, "idempotence", NULL)->is_set);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(misread_values)
{
        struct {
                const char *line, *property, *message, *actual;
        } cases[] = {
                {"delivery.timeout.ms=1e3", "delivery.timeout.ms",
                 "delivery.timeout.ms: \"1e3\" is not an integer; librdkafka reads it as 1", "1"},
                {"max.in.flight=4294967301", "max.in.flight",
                 "max.in.flight: 4294967301 does not fit in 32 bits; librdkafka silently reads "
                 "it as 5",
                 "5"},
                {"acks=010", "acks", "acks: librdkafka reads \"010\" as 8 (octal)", "8"},
                {"acks=4294967295", "acks",
                 "acks: 4294967295 does not fit in 32 bits; librdkafka silently reads it as -1",
                 "-1"},
                {"retries=5abc", "retries",
                 "retries: \"5abc\" is not an integer; librdkafka reads it as 5", "5"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                char text[200];
                snprintf(text, sizeof(text), "enable.idempotence=true\n\n %s\n", cases[i].line);
                ksafe_report_t *r = check_text(text);
                const ksafe_violation_t *v = expect(r, "ksafe-misread-value", cases[i].property);
                ck_assert_str_eq(v->message, cases[i].message);
                ck_assert_str_eq(v->actual, cases[i].actual);
                ck_assert_int_eq(v->severity, KSAFE_SEVERITY_ERROR);
                assert_at(v, 3, 2);
                ck_assert_uint_eq(count_rule(r, "ksafe-misread-value"), 1);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(misread_value_is_judged_as_librdkafka_reads_it)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\nacks=010\n");
        expect_message(r, "acks-all", "acks", "acks is 8; expected all (-1)", 2, 1);
        ksafe_report_destroy(r);

        r = check_text("enable.idempotence=true\nmax.in.flight=4294967301\n");
        expect_none(r, "in-flight"); /* 5, as librdkafka reads it */
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(forms_read_as_written_are_no_findings)
{
        ksafe_report_t *r = check_text("enable.idempotence=TRUE\n"
                                       "acks=all\n"
                                       "max.in.flight=0x5\n"
                                       "retries=+10\n"
                                       "linger.ms=2.5\n"
                                       "delivery.timeout.ms=60000 \n");
        expect_clean(r);
        ksafe_report_destroy(r);
        /* Blanks around '=' read the same to Java, not to kcat. */
        r = check_text("enable.idempotence = true\n");
        assert_at(expect(r, "ksafe-kcat-syntax", "enable.idempotence"), 1, 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(duplicate_through_alias)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\n"
                                       "acks=all\n"
                                       "linger.ms=5\n"
                                       "client.id=x\n"
                                       "request.required.acks=1\n");
        const ksafe_violation_t *dup = expect(r, "ksafe-duplicate", "acks");
        ck_assert_str_eq(dup->message, "acks is set again on line 5 (as request.required.acks); "
                                       "this line has no effect");
        ck_assert_str_eq(dup->canonical, "request.required.acks");
        ck_assert_int_eq(dup->severity, KSAFE_SEVERITY_WARNING);
        assert_at(dup, 2, 1);
        const ksafe_violation_t *acks = expect(r, "acks-all", NULL);
        ck_assert_str_eq(acks->property, "request.required.acks");
        ck_assert_str_eq(acks->message, "request.required.acks is 1; expected all (-1)");
        assert_at(acks, 5, 1);
        ck_assert_uint_eq(ksafe_report_count(r), 2);
        ck_assert_ptr_eq(ksafe_report_get(r, 0), dup); /* line 2 before line 5 */
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(duplicate_warns_on_every_shadowed_line)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\n"
                                       "acks=0\n"
                                       "topic.acks=1\n"
                                       "acks=all\n");
        ck_assert_uint_eq(count_rule(r, "ksafe-duplicate"), 2);
        expect_message(r, "ksafe-duplicate", "acks",
                       "acks is set again on line 4 (as acks); this line has no effect", 2, 1);
        expect_message(r, "ksafe-duplicate", "topic.acks",
                       "topic.acks is set again on line 4 (as acks); this line has no effect", 3,
                       1);
        expect_none(r, "acks-all"); /* the last one wins */
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(refused_value_does_not_shadow)
{
        /* librdkafka refuses the second line, so the first one stays. */
        ksafe_report_t *r = check_text("enable.idempotence=true\n"
                                       "acks=1\n"
                                       "acks=most\n");
        expect_none(r, "ksafe-duplicate");
        assert_at(expect(r, "ksafe-invalid-value", "acks"), 3, 1);
        assert_at(expect(r, "acks-all", "acks"), 2, 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(rule_on_unset_default)
{
        ksafe_report_t *r = check_text("");
        const ksafe_violation_t *idem = expect(r, "idempotence", NULL);
        ck_assert_str_eq(idem->message,
                         "enable.idempotence is not set; librdkafka's default is false; "
                         "expected true");
        ck_assert(!idem->is_set);
        ck_assert_str_eq(idem->file, "test.properties");
        assert_at(idem, 1, 1);
        const ksafe_violation_t *inflight = expect(r, "in-flight", NULL);
        ck_assert_str_eq(inflight->message,
                         "max.in.flight is not set; librdkafka's default is 1000000; expected "
                         "between 1 and 5");
        ck_assert_str_eq(inflight->canonical, "max.in.flight.requests.per.connection");
        ck_assert_str_eq(inflight->fix, "5");
        assert_at(inflight, 1, 1);
        ck_assert_uint_eq(ksafe_report_count(r), 2);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(finalize_model_idempotence)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\n");
        expect_clean(r);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(finalize_model_transactional)
{
        ksafe_report_t *r = check_text("transactional.id=x\n");
        expect_clean(r);
        ksafe_report_destroy(r);

        /* message.timeout.ms follows transaction.timeout.ms. */
        r = check_text("transactional.id=x\ntransaction.timeout.ms=900000\n");
        expect_message(r, "delivery-timeout", "delivery.timeout.ms",
                       "delivery.timeout.ms is not set; librdkafka makes it 900000; expected "
                       "between 1000 and 300000",
                       1, 1);
        ck_assert_uint_eq(ksafe_report_count(r), 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(finalize_model_keeps_user_values)
{
        ksafe_report_t *r = check_text("enable.idempotence=true\n"
                                       "max.in.flight=10\n"
                                       "retries=0\n");
        expect_message(r, "in-flight", "max.in.flight",
                       "max.in.flight is 10; expected between 1 and 5", 2, 1);
        expect_message(r, "retries", "retries", "retries is 0; expected >= 1", 3, 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(report_ordered_by_line)
{
        ksafe_report_t *r = check_text("max.in.flight=100\n"
                                       "delivery.timeout.ms=0\n"
                                       "  acks=1\n"
                                       "enable.idempotence=false\n"
                                       "enable.idempotance=true\n"
                                       "retries=1e3\n");
        assert_ordered(r);
        ck_assert_int_eq(ksafe_report_get(r, 0)->line, 1);
        ck_assert_int_eq(ksafe_report_get(r, ksafe_report_count(r) - 1)->line, 6);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(check_does_not_reject_enforce_findings)
{
        ksafe_report_t *r = check_text("acks=1\n");
        ck_assert_uint_gt(ksafe_report_count(r), 0);
        ck_assert_int_eq(ksafe_report_rejected(r), 0);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(config_checked_twice)
{
        /* A config is not changed by a check: two checks agree. */
        static const char text[] = "acks=1\nretries=1e3\nacks=0\n";
        ksafe_config_t *config =
                config_read_as(text, strlen(text), "twice", KSAFE_FORMAT_PROPERTIES, NULL);
        ck_assert_ptr_nonnull(config);
        ksafe_report_t *a = ksafe_config_check(config, default_policy);
        ksafe_report_t *b = ksafe_config_check(config, probe_policy);
        ksafe_report_t *c = ksafe_config_check(config, default_policy);
        char *ta = ksafe_report_to_json(a), *tc = ksafe_report_to_json(c);
        ck_assert_str_eq(ta, tc);
        free(ta);
        free(tc);
        ksafe_report_destroy(a);
        ksafe_report_destroy(b);
        ksafe_report_destroy(c);
        ksafe_config_destroy(config);
}
END_TEST

/*
 * Files
 */

START_TEST(load_unsafe_properties)
{
        ksafe_report_t *r = check_file("configs/unsafe.properties", KSAFE_FORMAT_AUTO);
        expect_message(r, "acks-all", "acks", "acks is 1; expected all (-1)", 4, 1);
        expect_message(r, "idempotence", "enable.idempotence",
                       "enable.idempotence is false; expected true", 5, 4);
        expect_message(r, "in-flight", "max.in.flight",
                       "max.in.flight is 100; expected between 1 and 5", 6, 1);
        expect_message(r, "delivery-timeout", "delivery.timeout.ms",
                       "delivery.timeout.ms is 0 (infinite); expected between 1000 and 300000", 7,
                       1);
        /* Lines 2, 5, 6 and 7 use Java syntax that kcat reads otherwise. */
        assert_at(expect(r, "ksafe-kcat-syntax", "bootstrap.servers"), 2, 1);
        assert_at(expect(r, "ksafe-kcat-syntax", "enable.idempotence"), 5, 4);
        assert_at(expect(r, "ksafe-kcat-syntax", "max.in.flight"), 6, 1);
        assert_at(expect(r, "ksafe-kcat-syntax", "delivery.timeout.ms"), 7, 1);
        /* 0 is infinite: no infinity passes a numeric check, min_sum neither. */
        assert_at(expect(r, "delivery-covers-request", "delivery.timeout.ms"), 7, 1);
        ck_assert_uint_eq(ksafe_report_count(r), 9);
        assert_ordered(r);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(load_unsafe_json)
{
        ksafe_report_t *r = check_file("configs/unsafe.json", KSAFE_FORMAT_AUTO);
        assert_at(expect(r, "acks-all", "acks"), 3, 3);
        assert_at(expect(r, "idempotence", "enable.idempotence"), 4, 3);
        assert_at(expect(r, "ksafe-misread-value", "delivery.timeout.ms"), 5, 3);
        assert_at(expect(r, "delivery-timeout", "delivery.timeout.ms"), 5, 3);
        assert_at(expect(r, "in-flight", NULL), 1, 1); /* not set */
        assert_ordered(r);
        ksafe_report_destroy(r);
}
END_TEST

/* The files of tests/data/configs that show each reader's own rules. */
START_TEST(load_default_topic_config)
{
        ksafe_report_t *r = check_file("configs/default-topic-config.json", KSAFE_FORMAT_AUTO);
        assert_at(expect(r, "ksafe-duplicate", "acks"), 4, 3);
        assert_at(expect(r, "acks-all", "acks"), 6, 5);
        assert_at(expect(r, "delivery-timeout", "message.timeout.ms"), 7, 5);
        expect_none(r, "ksafe-invalid-value");
        assert_ordered(r);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(load_java_escapes)
{
        char path[4096];
        data_path(path, sizeof(path), "configs/java-escapes.properties");
        ksafe_config_options_t options = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                          .dialect = KSAFE_DIALECT_JAVA};
        ksafe_config_t *config = ksafe_config_read_file(path, &options, NULL);
        ck_assert_ptr_nonnull(config);
        ksafe_report_t *r = ksafe_config_check(config, default_policy);
        /* The BOM line is a comment to no one: a junk key, a warning. */
        const ksafe_violation_t *v = expect(r, "ksafe-unknown-property", NULL);
        assert_at(v, 1, 1);
        ck_assert_int_eq(v->severity, KSAFE_SEVERITY_WARNING);
        assert_at(expect(r, "delivery-timeout", "delivery.timeout.ms"), 5, 1);
        /* 0 is infinite: no bound covers it, nor the linger + request sum. */
        assert_at(expect(r, "delivery-covers-request", "delivery.timeout.ms"), 5, 1);
        assert_at(expect(r, "acks-all", "acks"), 6, 1);
        /* Nothing about the other lines (key.serializer is Java's, the
         * continuation and the escapes are Java's syntax). */
        for (size_t i = 0; i < ksafe_report_count(r); i++) {
                const ksafe_violation_t *f = ksafe_report_get(r, i);
                ck_assert_msg(f->line == 1 || f->line == 5 || f->line == 6, "[%s] on line %d",
                              f->rule_id, f->line);
        }
        ksafe_report_destroy(r);
        char *effective = ksafe_config_effective(config, default_policy);
        ck_assert_ptr_nonnull(strstr(effective, "client.id=caf\xC3\xA9\n"));
        free(effective);
        ksafe_config_destroy(config);

        /* The same file in the librdkafka dialect: kcat refuses it. */
        r = check_file("configs/java-escapes.properties", KSAFE_FORMAT_AUTO);
        assert_at(expect(r, "ksafe-kcat-syntax", NULL), 1, 1);
        assert_at(expect(r, "ksafe-unknown-property", "key.serializer"), 4, 1);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(load_safe_files)
{
        static const char *const names[] = {"configs/safe.properties", "configs/safe.json"};
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                ksafe_report_t *r = check_file(names[i], KSAFE_FORMAT_AUTO);
                expect_clean(r);
                ksafe_report_destroy(r);
        }
}
END_TEST

START_TEST(load_json_detected_by_content)
{
        ksafe_report_t *r = check_file("configs/json-content.conf", KSAFE_FORMAT_AUTO);
        expect_message(r, "acks-all", "acks", "acks is 1; expected all (-1)", 2, 4);
        ksafe_report_destroy(r);
}
END_TEST

/*
 * Secrets
 */

static void assert_no_secret(const char *where, const char *s)
{
        ck_assert_msg(!s || !strstr(s, "hunter2"), "secret in %s: %s", where, s);
}

static void assert_report_keeps_secrets(const ksafe_report_t *r)
{
        for (size_t i = 0; i < ksafe_report_count(r); i++) {
                const ksafe_violation_t *v = ksafe_report_get(r, i);
                const char *fields[] = {v->rule_id, v->property, v->canonical,
                                        v->actual,  v->expected, v->fix,
                                        v->why,     v->message,  v->file};
                for (size_t k = 0; k < sizeof(fields) / sizeof(*fields); k++)
                        assert_no_secret(v->message, fields[k]);
        }
        char *text = ksafe_report_to_text(r);
        char *json = ksafe_report_to_json(r);
        assert_no_secret("text", text);
        assert_no_secret("json", json);
        free(text);
        free(json);
}

START_TEST(secrets_never_shown)
{
        ksafe_report_t *r = check_string(secret_policy,
                                         "sasl.pasword=hunter2-typo\n"
                                         "sasl.password=hunter2-first\n"
                                         "sasl.password=hunter2-last\n"
                                         "ssl.key.password: hunter2-key\n"
                                         "sasl.jaas.config hunter2-jaas\n"
                                         "topic.sasl.password=hunter2-topic\n",
                                         "secret.properties", KSAFE_FORMAT_PROPERTIES);
        /* Each kind of finding was made, with the value hidden. */
        expect(r, "ksafe-unknown-property", "sasl.pasword");
        expect(r, "ksafe-unknown-property", "(not shown)"); /* sasl.jaas.config */
        expect(r, "ksafe-duplicate", "sasl.password");
        const ksafe_violation_t *v = expect(r, "no-sasl-password", NULL);
        ck_assert_str_eq(v->actual, KSAFE_REDACTED);
        ck_assert_ptr_null(v->fix); /* forbidden unsets: no value to write */
        assert_report_keeps_secrets(r);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(secrets_never_shown_json)
{
        ksafe_report_t *r = check_string(secret_policy,
                                         "{\"sasl.password\": \"hunter2-first\",\n"
                                         " \"sasl.password\": \"hunter2-last\",\n"
                                         " \"sasl.pasword\": \"hunter2-typo\",\n"
                                         " \"ssl.key.password\": [\"hunter2-nested\"]}",
                                         "secret.json", KSAFE_FORMAT_JSON);
        expect(r, "ksafe-json-duplicate", "sasl.password");
        expect(r, "ksafe-invalid-value", "ssl.key.password");
        ck_assert_str_eq(expect(r, "no-sasl-password", NULL)->actual, KSAFE_REDACTED);
        assert_report_keeps_secrets(r);
        ksafe_report_destroy(r);
}
END_TEST

START_TEST(secrets_not_in_syntax_errors)
{
        /* ksafe_error_t: "Secret values never appear in `text`". */
        static const char *const texts[] = {
                "{\"sasl.password\": \"hunter2secret\n}", /* unterminated string */
                "{\"sasl.password\": hunterSecret}",      /* unquoted */
                "{\"acks\": \"all\", \"sasl.password\": \"hunter2\" \"x\": 1}",
        };
        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                ksafe_error_t err;
                parse_fails(texts[i], strlen(texts[i]), "secret.json", KSAFE_FORMAT_JSON, &err);
                ck_assert_int_gt(err.line, 0);
                ck_assert_msg(!strstr(err.text, "hunter"), "secret in error text: %s", err.text);
        }
}
END_TEST

/*
 * Configs judged on several threads with one shared policy give the
 * reports one thread gives: the memo of parsed values, the reused scratch
 * confs (CSV flags never reused: a debug value ORed into another thread's
 * would show), the did-you-mean counts made by the first suggestion. Each
 * text is distinct (its padding, its client.id), so that values are
 * parsed afresh on the threads, not answered by the memo; none of the
 * differences changes what librdkafka reads.
 */
#define THREAD_CONFIGS 16
#define THREADS 4
#define THREAD_ROUNDS 3

static const char thread_policy_json[] =
        "{\"ksafe_policy\": 1, \"name\": \"threads\", \"extends\": \"builtin:default\","
        " \"rules\": [{\"id\": \"debug-broker\", \"property\": \"debug\", \"equals\": "
        "\"broker\", \"action\": \"warn\"}, {\"id\": \"linger-4\", \"property\": "
        "\"linger.ms\", \"max\": 4, \"action\": \"warn\"}]}";

static ksafe_policy_t *thread_policy;

static char *thread_config(int i, int salt)
{
        ksafe_buf_t b = {0};
        static const char *const debug[] = {"broker", "topic", "broker,topic", "msg"};
        ksafe_buf__printf(&b,
                          "{\n  \"client.id\": \"c-%d-%d\",\n  \"debug\": \"%*s%s\",\n"
                          "  \"linger.ms\": \"%d.%0*d\",\n  \"%s\": 1,\n  \"acks\": \"%s\"\n}\n",
                          i, salt, salt % 5, "", debug[i % 4], 3 + i % 4, 1 + salt % 6, 0,
                          i % 3 ? "lingr.ms" : "enable.idempotance", i % 2 ? "all" : "1");
        return ksafe_buf__take(&b);
}

static char *thread_report(int i, int salt)
{
        char *text = thread_config(i, salt);
        ksafe_report_t *r = check_string(thread_policy, text, "t.json", KSAFE_FORMAT_JSON);
        char *json = ksafe_report_to_json(r);
        ksafe_report_destroy(r);
        free(text);
        return json;
}

typedef struct worker_s {
        int id;
        char *json[THREAD_ROUNDS][THREAD_CONFIGS];
} worker_t;

static void *thread_work(void *arg)
{
        worker_t *w = arg;
        for (int r = 0; r < THREAD_ROUNDS; r++)
                for (int k = 0; k < THREAD_CONFIGS; k++) {
                        int i = (k + w->id * 5) % THREAD_CONFIGS;
                        w->json[r][i] = thread_report(i, 1 + w->id * 1000 + r * 100 + k);
                }
        return NULL;
}

START_TEST(configs_judged_on_threads)
{
        ksafe_error_t err = {0};
        thread_policy = ksafe_policy_load_string(thread_policy_json, NULL, &err);
        ck_assert_msg(thread_policy, "thread policy: %s", err.text);
        static worker_t workers[THREADS];
        pthread_t tid[THREADS];
        for (int t = 0; t < THREADS; t++) {
                workers[t].id = t;
                ck_assert_int_eq(pthread_create(&tid[t], NULL, thread_work, &workers[t]), 0);
        }
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        for (int i = 0; i < THREAD_CONFIGS; i++) {
                char *want = thread_report(i, 0);
                ck_assert_ptr_nonnull(want);
                ck_assert_msg(strstr(want, i % 3 ? "did you mean" : "enable.idempotence"), "%s",
                              want);
                for (int t = 0; t < THREADS; t++)
                        for (int r = 0; r < THREAD_ROUNDS; r++) {
                                ck_assert_ptr_nonnull(workers[t].json[r][i]);
                                ck_assert_str_eq(workers[t].json[r][i], want);
                                free(workers[t].json[r][i]);
                        }
                free(want);
        }
        ksafe_policy_destroy(thread_policy);
}
END_TEST

static Suite *config_suite(void)
{
        Suite *s = suite_create("config");

        TCase *tc = tcase_create("properties");
        tcase_add_unchecked_fixture(tc, load_policies, free_policies);
        tcase_add_test(tc, properties_separators);
        tcase_add_loop_test(tc, properties_layout, 0, sizeof(layouts) / sizeof(*layouts));
        tcase_add_test(tc, properties_comments_and_blank_lines);
        tcase_add_test(tc, properties_kcat_value_escapes);
        tcase_add_test(tc, properties_bom);
        tcase_add_test(tc, properties_empty_and_comment_only);
        tcase_add_test(tc, properties_key_without_value);
        tcase_add_test(tc, properties_unknown_keys_keep_their_location);
        suite_add_tcase(s, tc);

        tc = tcase_create("json");
        tcase_add_unchecked_fixture(tc, load_policies, free_policies);
        tcase_add_test(tc, json_scalars);
        tcase_add_test(tc, json_string_values_are_decoded);
        tcase_add_test(tc, json_reads_as_jansson);
        tcase_add_test(tc, json_safe_config_is_clean);
        tcase_add_test(tc, json_number_kept_as_written);
        tcase_add_test(tc, json_nested_value_is_invalid);
        tcase_add_loop_test(tc, json_default_topic_config, 0,
                            sizeof(topic_configs) / sizeof(*topic_configs));
        tcase_add_test(tc, json_null_is_invalid);
        tcase_add_test(tc, json_not_an_object);
        tcase_add_test(tc, json_syntax_error);
        tcase_add_test(tc, json_duplicate_keys);
        tcase_add_test(tc, json_bom);
        tcase_add_test(tc, json_key_locations);
        tcase_add_test(tc, json_pointer);
        tcase_add_test(tc, json_pointer_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("input");
        tcase_add_unchecked_fixture(tc, load_policies, free_policies);
        tcase_add_test(tc, auto_detects_json);
        tcase_add_test(tc, auto_detects_properties);
        tcase_add_test(tc, nul_byte);
        tcase_add_test(tc, unreadable_path);
        tcase_add_test(tc, destroy_null);
        tcase_add_test(tc, load_unsafe_properties);
        tcase_add_test(tc, load_unsafe_json);
        tcase_add_test(tc, load_safe_files);
        tcase_add_test(tc, load_default_topic_config);
        tcase_add_test(tc, load_java_escapes);
        tcase_add_test(tc, load_json_detected_by_content);
        tcase_add_test(tc, java_dialect);
        tcase_add_test(tc, command_line_property_wins);
        suite_add_tcase(s, tc);

        tc = tcase_create("findings");
        tcase_add_unchecked_fixture(tc, load_policies, free_policies);
        tcase_add_test(tc, unknown_property_did_you_mean);
        tcase_add_test(tc, invalid_value);
        tcase_add_loop_test(tc, librdkafka_refuses, 0, sizeof(refusals) / sizeof(*refusals));
        tcase_add_test(tc, misread_values);
        tcase_add_test(tc, misread_value_is_judged_as_librdkafka_reads_it);
        tcase_add_test(tc, forms_read_as_written_are_no_findings);
        tcase_add_test(tc, duplicate_through_alias);
        tcase_add_test(tc, duplicate_warns_on_every_shadowed_line);
        tcase_add_test(tc, refused_value_does_not_shadow);
        tcase_add_test(tc, rule_on_unset_default);
        tcase_add_test(tc, finalize_model_idempotence);
        tcase_add_test(tc, finalize_model_transactional);
        tcase_add_test(tc, finalize_model_keeps_user_values);
        tcase_add_test(tc, report_ordered_by_line);
        tcase_add_test(tc, check_does_not_reject_enforce_findings);
        tcase_add_test(tc, config_checked_twice);
        suite_add_tcase(s, tc);

        tc = tcase_create("secrets");
        tcase_add_unchecked_fixture(tc, load_policies, free_policies);
        tcase_add_test(tc, secrets_never_shown);
        tcase_add_test(tc, secrets_never_shown_json);
        tcase_add_test(tc, secrets_not_in_syntax_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("threads");
        tcase_add_unchecked_fixture(tc, load_policies, free_policies);
        tcase_add_test(tc, configs_judged_on_threads);
        suite_add_tcase(s, tc);

        /* javac and a JVM start: slow on a busy machine. */
        tc = tcase_create("java");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, java_dialect_reads_as_java_properties);
        suite_add_tcase(s, tc);
        return s;
}

KSAFE_TEST_MAIN(config_suite)
