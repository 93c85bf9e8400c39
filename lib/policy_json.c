/* The resolved policy as JSON (ksafe_policy_to_json()), secrets redacted. */
#include <stdlib.h>

#include <jansson.h>

#include "policy_loader.h"

char *ksafe_policy__render_json(const ksafe_policy_t *policy, const json_t *rules)
{
        json_t *out = json_pack("{s:i, s:s, s:s?, s:b}", "ksafe_policy", 1, "name", policy->name,
                                "environment", policy->env, "allow_unsafe", policy->allow_unsafe);
        json_t *list = json_deep_copy(rules);
        if (!out || !list) {
                json_decref(out);
                json_decref(list);
                return NULL;
        }
        size_t i;
        json_t *rule;
        json_array_foreach (list, i, rule) {
                if (!policy->rules[i].prop->sensitive)
                        continue;
                static const char *const values[] = {"equals", "one_of", "set"};
                for (size_t k = 0; k < ARRAY_SIZE(values); k++)
                        if (json_object_get(rule, values[k]))
                                json_object_set_new(rule, values[k], json_string(KSAFE_REDACTED));
        }
        json_object_set_new(out, "rules", list);
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(out);
        return s;
}

/* Rendered on each call from the rules kept at load (about 200,000
 * instructions that most loads never need). Thread-safe: the kept rules
 * are only read (json_deep_copy() marks nothing), the copy is the call's. */
char *ksafe_policy_to_json(const ksafe_policy_t *policy)
{
        return ksafe_policy__render_json(policy, policy->rules_json);
}
