/*
 * Checks that the fuzz targets share: what must hold of any report and of
 * any config read, repaired, rendered and read back.
 */
#include <jansson.h>

#include "fuzz.h"

static size_t count_lines(const char *text)
{
        size_t n = 0;
        for (const char *p = text; *p; p++)
                n += *p == '\n';
        return n;
}

/* No control character but the line ends: nothing that a terminal or a
 * log reader takes for more than the text it shows. */
static bool printable_lines(const char *text)
{
        for (const unsigned char *p = (const unsigned char *)text; *p; p++)
                if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
                        return false;
        return true;
}

void fuzz_check_report(const ksafe_report_t *report, const ksafe_policy_t *policy)
{
        if (!report)
                return; /* out of memory */
        size_t count = ksafe_report_count(report);
        for (size_t i = 0; i < count; i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                FUZZ_REQUIRE(v && v->rule_id && v->message, "violation-fields",
                             "a violation without rule or message");
                FUZZ_REQUIRE(!v->fixed || v->action == KSAFE_ACTION_ENFORCE, "fixed-not-enforce",
                             "a violation fixed by a rule that does not enforce");
                const char *name = v->canonical ? v->canonical : v->property;
                FUZZ_REQUIRE(!name || !ksafe_property_is_sensitive(name) || !v->actual ||
                                     strcmp(v->actual, "(redacted)") == 0,
                             "secret-shown", "a sensitive value is shown");
        }
        FUZZ_REQUIRE(ksafe_report_get(report, count) == NULL, "past-count",
                     "a violation past the count");

        char *json = ksafe_report_to_json(report);
        if (json) {
                json_error_t jerr;
                json_t *root = json_loads(json, 0, &jerr);
                FUZZ_REQUIRE(root != NULL, "report-json", "ksafe_report_to_json() is not JSON");
                FUZZ_REQUIRE(json_array_size(json_object_get(root, "violations")) == count,
                             "report-json-count",
                             "ksafe_report_to_json() lists another number of violations");
                json_decref(root);
                free(json);
        }
        char *text = ksafe_report_to_text(report);
        if (text) {
                bool note = policy && ksafe_policy_allows_unsafe(policy);
                FUZZ_REQUIRE(count_lines(text) == count + (note ? 1 : 0), "report-text-lines",
                             "ksafe_report_to_text() has another number of lines than violations");
                FUZZ_REQUIRE(printable_lines(text), "report-text-control",
                             "ksafe_report_to_text() prints a control character");
                free(text);
        }
}

static size_t count_rule(const ksafe_report_t *report, const char *rule_id)
{
        size_t n = 0;
        for (size_t i = 0; i < ksafe_report_count(report); i++)
                n += strcmp(ksafe_report_get(report, i)->rule_id, rule_id) == 0;
        return n;
}

/* Violations of policy rules (not engine findings such as ksafe-kcat-syntax,
 * which never stop a repair) with this action that enforcement did not fix. */
static size_t count_policy_failures(const ksafe_report_t *report, ksafe_action_t action)
{
        size_t n = 0;
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                n += v->action == action && !v->fixed && strncmp(v->rule_id, "ksafe-", 6) != 0;
        }
        return n;
}

void fuzz_config_roundtrip(const char *data, size_t len, const ksafe_config_options_t *opts,
                           const ksafe_policy_t *policy)
{
        ksafe_error_t err = {0};
        ksafe_config_t *cfg = ksafe_config_read(data, len, "fuzz.conf", opts, &err);
        if (!cfg) {
                FUZZ_REQUIRE(err.text[0] != '\0', "error-text",
                             "a config refused without an error text");
                return;
        }
        ksafe_report_t *check = ksafe_config_check(cfg, policy);
        fuzz_check_report(check, policy);

        ksafe_report_t *fixed = ksafe_config_enforce(cfg, policy);
        fuzz_check_report(fixed, policy);
        size_t changes = ksafe_config_change_count(cfg);
        /* A reject rule, or an enforce rule that enforcement could not
         * satisfy, leaves the config unchanged. */
        bool refused = !fixed || count_policy_failures(fixed, KSAFE_ACTION_REJECT) > 0 ||
                       count_policy_failures(fixed, KSAFE_ACTION_ENFORCE) > 0;
        FUZZ_REQUIRE(!refused || changes == 0, "refused-changed",
                     "a refused enforcement changed the config");

        size_t out_len = 0;
        char *out = ksafe_config_render(cfg, &out_len);
        if (out && changes == 0)
                FUZZ_REQUIRE(out_len == len && memcmp(out, data, len) == 0, "render-unchanged",
                             "a config that nothing changed renders otherwise");
        ksafe_config_t *again =
                out ? ksafe_config_read(out, out_len, "fuzz.conf", opts, &err) : NULL;
        FUZZ_REQUIRE(!out || again, "read-back", "what --fix writes does not read back");
        if (again) {
                ksafe_report_t *recheck = ksafe_config_check(again, policy);
                fuzz_check_report(recheck, policy);
                if (recheck && check) {
                        /* A repair never touches a name librdkafka does not know. */
                        FUZZ_REQUIRE(count_rule(recheck, "ksafe-unknown-property") ==
                                             count_rule(check, "ksafe-unknown-property"),
                                     "unknown-count",
                                     "--fix changed which unknown properties the file has");
                        if (!refused)
                                FUZZ_REQUIRE(count_policy_failures(recheck, KSAFE_ACTION_ENFORCE) ==
                                                     0,
                                             "fix-still-fails",
                                             "what --fix writes still fails an enforce rule");
                }
                ksafe_report_destroy(recheck);
                /* A second repair of the repaired text changes nothing. */
                ksafe_report_t *second = ksafe_config_enforce(again, policy);
                FUZZ_REQUIRE(!second || ksafe_config_change_count(again) == 0, "second-fix",
                             "a second --fix changes what the first wrote");
                ksafe_report_destroy(second);
                ksafe_config_destroy(again);
        }
        free(out);

        char *effective = ksafe_config_effective(cfg, policy);
        if (effective) {
                FUZZ_REQUIRE(printable_lines(effective), "effective-control",
                             "ksafe_config_effective() prints a control character");
                free(effective);
        }
        ksafe_report_destroy(fixed);
        ksafe_report_destroy(check);
        ksafe_config_destroy(cfg);
}

bool fuzz_ignored(const char *id)
{
        const char *list = getenv("KSAFE_FUZZ_IGNORE");
        size_t n = strlen(id);
        for (const char *p = list; p && *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncmp(p, id, n) == 0)
                        return true;
                p += len + (p[len] == ',');
        }
        return false;
}
