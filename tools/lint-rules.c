/*
 * What each rule checks, why, and how to fix it: one text for
 * `ksafe-lint --explain RULE`, `--list-rules` (and doc/rules.md, which is
 * generated from it) and SARIF's rule help.
 *
 * A policy's rules (the safety baseline included) are described from the
 * policy itself (ksafe_policy_to_json(): its checks and its "why"); the
 * findings of ksafe-lint itself (ksafe-*) from the table below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lint.h"

/* The findings of the engine and of ksafe-lint, as README's "What it
 * finds" table lists them. */
static const struct {
        const char *id, *severity, *checks, *why, *fix;
} engine_rules[] = {
        {"ksafe-misread-value", "error",
         "A value that librdkafka reads differently from how it is written: `1e3` is read as 1, "
         "`010` as octal 8, `5abc` as 5, and a number outside 32 bits is truncated or wraps "
         "(`max.in.flight=4294967301` is 5, `acks=4294967295` is -1).",
         "The client would run with a value nobody wrote: `delivery.timeout.ms=1e3` is one "
         "millisecond.",
         "Write the value as a plain decimal integer (`1000`). `--fix` rewrites it where an "
         "enforce rule of the policy sets the property."},
        {"ksafe-invalid-value", "error",
         "A value that `rd_kafka_conf_set()` refuses, strings included (`enable.idempotence=yes`, "
         "an empty `sasl.mechanisms`, a property this build of librdkafka does not support), "
         "with librdkafka's own message.",
         "The client refuses the whole configuration when it starts.",
         "Use a value that librdkafka accepts; the message quotes librdkafka's reason (never a "
         "secret value)."},
        {"ksafe-unknown-property", "error (warning with --dialect java)",
         "A property name that librdkafka does not know (`enable.idempotance`), with a \"did you "
         "mean\" when one is close.",
         "kcat and Python refuse a configuration with an unknown name; the Java client only logs "
         "it, so the setting that was meant never applies.",
         "Correct the name as suggested. For the Java client's own properties "
         "(`key.serializer`, ...) lint with `--dialect java`."},
        {"ksafe-duplicate", "warning",
         "A property set twice in one file, by its name or by an alias (`acks` on one line, "
         "`request.required.acks` on another).",
         "The last setting wins: the earlier line has no effect and misleads whoever reads it.",
         "Remove the line that has no effect."},
        {"ksafe-json-duplicate", "error",
         "One property set twice in a JSON object: a repeated key, or a key and its alias.",
         "JSON readers disagree on which one a client passes last (Python keeps a repeated key's "
         "first place with its last value).",
         "Keep one key for the property."},
        {"ksafe-kcat-syntax", "error",
         "A line that kcat `-F` reads differently from Java's `.properties` rules: a backslash "
         "continuation, `key: value`, `key value` or blanks around `=`, an escaped key, a lone "
         "CR, a line or comment over 511 bytes, `topic.topic.x`, a `!` comment line or a UTF-8 "
         "BOM.",
         "The file would mean one thing to the linter and another to kcat, which exits on some "
         "of these.",
         "Write `key=value` on one line without blanks around `=`, and start comments with `#`. "
         "For a file that only the Java client reads, lint with `--dialect java`."},
        {"ksafe-not-key-value", "error",
         "A line with no separator at all, such as the tail of a multi-line PEM; the line is not "
         "shown, since it may hold a secret.",
         "librdkafka's readers refuse the line or read it as a property of its own.",
         "Keep each property on its line; put a certificate or key in a file that a "
         "`*.location` property names."},
        {"ksafe-librdkafka-refuses", "error",
         "What `rd_kafka_new()` of librdkafka 2.0.2 refuses although no rule reports it: a "
         "transactional producer's `delivery.timeout.ms` above `transaction.timeout.ms`, "
         "`max.in.flight` above 5 or `queuing.strategy=lifo` with idempotence, `linger.ms` at or "
         "above `delivery.timeout.ms`, and SASL settings without a provider or credentials.",
         "The producer is never created: the application fails when it starts.",
         "Change the values that the message names."},
        {"ksafe-audit-failed", "error",
         "A producer that `ksafe_producer_new()` created but that failed ksafe's audit of the "
         "handle (its values differ from what was judged); ksafe-lint itself never reports "
         "it.",
         "ksafe's model of `rd_kafka_new()` differs from librdkafka (a ksafe bug): the handle is "
         "destroyed, and `conf` with it, rather than handed out unsafe.",
         "Report it to ksafe with the configuration; `ksafe_report_conf_consumed()` tells the "
         "caller that `conf` is gone."},
        {"ksafe-out-of-memory", "error",
         "A value that ksafe could not judge because memory ran out (the librdkafka plugin's "
         "check of a property set on a conf).",
         "A value that was not judged must not pass as if it had been: the set is refused.",
         "Free memory and set the property again."},
        {"ksafe-suppression-reason", "warning",
         "A `# ksafe-lint: disable=RULE` directive (or a JSON file's `\"$ksafe-lint\"` key) "
         "without a reason.",
         "A suppression hides a finding from everyone who reads the file later; the reason is "
         "what lets them judge it.",
         "Add ` -- ` and the reason after the rule ids (in JSON, a `\"reason\"` member)."},
        {"ksafe-suppression-unknown-rule", "warning",
         "A directive that names a rule that neither the policy nor ksafe-lint has.",
         "A misspelt rule id suppresses nothing, without a word.",
         "Use an id that `ksafe-lint --list-rules` prints (with the same `-p` and `-e`)."},
        {"ksafe-suppression-refused", "error",
         "A directive that suppresses a rule of the safety baseline under a policy without "
         "`allow_unsafe`; the baseline's finding is reported as well.",
         "Only the policy (the platform team's file) may weaken the baseline: a comment in a "
         "config cannot.",
         "Make the configuration comply, or weaken the rule in a policy that sets "
         "`\"allow_unsafe\": true`."},
};

#define N_ENGINE (sizeof(engine_rules) / sizeof(*engine_rules))

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dupf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (s) {
                va_start(ap, fmt);
                vsnprintf(s, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        return s;
}

/* A JSON scalar as a policy writes it: strings bare, the rest as JSON. */
static char *scalar_text(const json_t *v)
{
        if (json_is_string(v))
                return ksafe_report_escape(json_string_value(v));
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        char *shown = s ? ksafe_report_escape(s) : NULL;
        free(s);
        return shown;
}

/* "`a`, `b` or `c`" (sep " or ") / "`a` + `b`" (sep " + "). */
static char *list_text(const json_t *list, const char *last_sep)
{
        char *out = dupf("%s", "");
        size_t i, n = json_array_size(list);
        json_t *item;
        json_array_foreach (list, i, item) {
                char *v = scalar_text(item);
                char *more = out && v ? dupf("%s%s`%s`", out,
                                             i == 0       ? ""
                                             : i + 1 == n ? last_sep
                                                          : ", ",
                                             v)
                                      : NULL;
                free(v);
                free(out);
                out = more;
        }
        return out;
}

/* What a policy rule checks, one sentence. */
static char *rule_checks(const json_t *rule, const char *prop)
{
        const json_t *eq = json_object_get(rule, "equals"), *one = json_object_get(rule, "one_of");
        const json_t *min = json_object_get(rule, "min"), *max = json_object_get(rule, "max");
        const json_t *sum = json_object_get(rule, "min_sum");
        char *a = NULL, *b = NULL, *out;
        if (eq)
                out = (a = scalar_text(eq)) ? dupf("`%s` must be `%s`.", prop, a) : NULL;
        else if (one)
                out = (a = list_text(one, " or ")) ? dupf("`%s` must be %s.", prop, a) : NULL;
        else if (min && max)
                out = (a = scalar_text(min)) && (b = scalar_text(max))
                              ? dupf("`%s` must be between %s and %s.", prop, a, b)
                              : NULL;
        else if (min)
                out = (a = scalar_text(min)) ? dupf("`%s` must be at least %s.", prop, a) : NULL;
        else if (max)
                out = (a = scalar_text(max)) ? dupf("`%s` must be at most %s.", prop, a) : NULL;
        else if (sum)
                out = (a = list_text(sum, " + ")) ? dupf("`%s` must be at least %s.", prop, a)
                                                  : NULL;
        else if (json_is_true(json_object_get(rule, "required")))
                out = dupf("`%s` must be set.", prop);
        else if (json_is_true(json_object_get(rule, "forbidden")))
                out = dupf("`%s` must not be set (or only to the value librdkafka uses when it "
                           "is not set).",
                           prop);
        else
                out = dupf("`%s` is checked by the policy.", prop);
        free(a);
        free(b);
        return out;
}

/* How to fix a policy rule's finding, by its action. */
static char *rule_fix(const json_t *rule, const char *prop, const char *action)
{
        const json_t *set = json_object_get(rule, "set");
        if (!set)
                set = json_object_get(rule, "equals");
        if (strcmp(action, "enforce") == 0) {
                char *v = set ? scalar_text(set) : NULL;
                char *out = v ? dupf("Set `%s=%s`; `ksafe-lint --fix` writes it, and "
                                     "`ksafe_producer_new()` enforces it.",
                                     prop, v)
                              : dupf("Set `%s` as the rule wants (the nearest bound); "
                                     "`ksafe-lint --fix` writes it, and `ksafe_producer_new()` "
                                     "enforces it.",
                                     prop);
                free(v);
                return out;
        }
        if (strcmp(action, "reject") == 0)
                return dupf("Change `%s` as the rule wants: `ksafe_producer_new()` refuses to "
                            "create a producer that fails it, and `--fix` does not repair it.",
                            prop);
        return dupf("Change `%s` as the rule wants. A warning: it fails the run only with "
                    "`--fail-on warning` (`-W error`).",
                    prop);
}

static bool is_baseline_id(const json_t *baseline, const char *id)
{
        size_t i;
        json_t *rule;
        json_array_foreach (baseline, i, rule) {
                const char *bid = json_string_value(json_object_get(rule, "id"));
                if (bid && strcmp(bid, id) == 0)
                        return true;
        }
        return false;
}

/* The rules of a policy, as its JSON rendering lists them. */
static json_t *policy_rules(const ksafe_policy_t *policy)
{
        char *text = ksafe_policy_to_json(policy);
        json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
        free(text);
        json_t *rules = json_incref(json_object_get(doc, "rules"));
        json_decref(doc);
        return rules;
}

static json_t *baseline_rules_json(void)
{
        ksafe_policy_t *def = ksafe_policy_default();
        json_t *rules = def ? policy_rules(def) : NULL;
        ksafe_policy_destroy(def);
        return rules;
}

static bool rule_from_policy(const json_t *rule, const json_t *baseline, lint_rule_t *out)
{
        const char *id = json_string_value(json_object_get(rule, "id"));
        const char *action = json_string_value(json_object_get(rule, "action"));
        const char *why = json_string_value(json_object_get(rule, "why"));
        char *prop = ksafe_report_escape(json_string_value(json_object_get(rule, "property")));
        *out = (lint_rule_t){
                .id = ksafe_report_escape(id ? id : "?"),
                .kind = is_baseline_id(baseline, id ? id : "") ? LINT_RULE_BASELINE
                                                               : LINT_RULE_POLICY,
                .severity =
                        dupf("%s (%s)", action && strcmp(action, "warn") == 0 ? "warning" : "error",
                             action ? action : "?"),
                .checks = prop ? rule_checks(rule, prop) : NULL,
                .why = why ? dupf("%c%s.",
                                  why[0] >= 'a' && why[0] <= 'z' ? why[0] - 'a' + 'A' : why[0],
                                  why + 1)
                           : dupf("%s", "The policy gives no reason."),
                .fix = prop ? rule_fix(rule, prop, action ? action : "") : NULL,
        };
        free(prop);
        if (out->why && why) {
                /* Escaped like every policy string, and no double full stop. */
                char *shown = ksafe_report_escape(out->why);
                size_t n = shown ? strlen(shown) : 0;
                if (n >= 2 && shown[n - 2] == '.')
                        shown[n - 1] = '\0';
                free(out->why);
                out->why = shown;
        }
        return out->id && out->severity && out->checks && out->why && out->fix;
}

static bool rule_from_engine(size_t i, lint_rule_t *out)
{
        *out = (lint_rule_t){
                .id = dupf("%s", engine_rules[i].id),
                .kind = LINT_RULE_ENGINE,
                .severity = dupf("%s", engine_rules[i].severity),
                .checks = dupf("%s", engine_rules[i].checks),
                .why = dupf("%s", engine_rules[i].why),
                .fix = dupf("%s", engine_rules[i].fix),
        };
        return out->id && out->severity && out->checks && out->why && out->fix;
}

void lint_rule_free(lint_rule_t *rule)
{
        if (!rule)
                return;
        free(rule->id);
        free(rule->severity);
        free(rule->checks);
        free(rule->why);
        free(rule->fix);
        *rule = (lint_rule_t){0};
}

void lint_rules_free(lint_rule_t *rules, size_t count)
{
        for (size_t i = 0; rules && i < count; i++)
                lint_rule_free(&rules[i]);
        free(rules);
}

lint_rule_t *lint_rules_list(const ksafe_policy_t *policy, size_t *countp)
{
        json_t *rules = policy_rules(policy), *baseline = baseline_rules_json();
        size_t n = json_array_size(rules);
        lint_rule_t *list = rules && baseline ? calloc(n + N_ENGINE, sizeof(*list)) : NULL;
        bool ok = list != NULL;
        size_t count = 0;
        /* The baseline's rules first, then the policy's own, then the engine's. */
        for (int pass = 0; ok && pass < 2; pass++) {
                size_t i;
                json_t *rule;
                json_array_foreach (rules, i, rule) {
                        const char *id = json_string_value(json_object_get(rule, "id"));
                        if (ok && is_baseline_id(baseline, id ? id : "") == (pass == 0))
                                ok = rule_from_policy(rule, baseline, &list[count++]);
                }
        }
        for (size_t i = 0; ok && i < N_ENGINE; i++)
                ok = rule_from_engine(i, &list[count++]);
        json_decref(rules);
        json_decref(baseline);
        if (!ok) {
                lint_rules_free(list, count);
                return NULL;
        }
        *countp = count;
        return list;
}

int lint_rule_find(const ksafe_policy_t *policy, const char *id, lint_rule_t *out)
{
        *out = (lint_rule_t){0};
        size_t count;
        lint_rule_t *list = lint_rules_list(policy, &count);
        if (!list)
                return -1;
        int found = 0;
        for (size_t i = 0; i < count; i++)
                if (!found && strcmp(list[i].id, id) == 0) {
                        *out = list[i];
                        list[i] = (lint_rule_t){0};
                        found = 1;
                }
        lint_rules_free(list, count);
        return found;
}

bool lint_rule_is_baseline(const char *id)
{
        json_t *baseline = baseline_rules_json();
        bool yes = is_baseline_id(baseline, id);
        json_decref(baseline);
        return yes;
}

static const char *kind_name(lint_rule_kind_t kind)
{
        switch (kind) {
        case LINT_RULE_BASELINE: return "a rule of the safety baseline";
        case LINT_RULE_POLICY: return "a rule of the policy";
        case LINT_RULE_ENGINE: return "found by ksafe-lint itself";
        }
        return "?";
}

char *lint_rule_text(const lint_rule_t *rule)
{
        return dupf("%s: %s, %s\n  Checks: %s\n  Why:    %s\n  Fix:    %s\n", rule->id,
                    rule->severity, kind_name(rule->kind), rule->checks, rule->why, rule->fix);
}

char *lint_rule_markdown(const lint_rule_t *rule)
{
        return dupf("### <a id=\"rule-%s\"></a>`%s`\n\n%s; %s.\n\n- **Checks:** %s\n"
                    "- **Why:** %s\n- **Fix:** %s\n",
                    rule->id, rule->id, rule->severity, kind_name(rule->kind), rule->checks,
                    rule->why, rule->fix);
}
