/*
 * Phase 1 of a policy load: structure. Everything the JSON Schema
 * (conf/policy.schema.json) says about types, fields and required fields,
 * checked on the whole document before any value is given a meaning.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

static const char *json_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER:
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        case JSON_NULL: return "null";
        }
        return "?";
}

static bool is_scalar(const json_t *v)
{
        return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static const char *const rule_fields[] = {
        "id",       "property",  "equals", "one_of", "min", "max", "min_sum",
        "required", "forbidden", "set",    "action", "why", "off",
};

bool ksafe_policy__parse_action(const char *s, ksafe_action_t *out)
{
        static const ksafe_action_t all[] = {KSAFE_ACTION_ENFORCE, KSAFE_ACTION_REJECT,
                                             KSAFE_ACTION_WARN};
        for (size_t i = 0; i < ARRAY_SIZE(all); i++)
                if (strcmp(s, ksafe_action_name(all[i])) == 0) {
                        *out = all[i];
                        return true;
                }
        return false;
}

static bool check_field(loader_t *L, const where_t *f, const char *key, const json_t *v)
{
        ksafe_action_t action;
        if (!strcmp(key, "id") || !strcmp(key, "action") || !strcmp(key, "why")) {
                if (!json_is_string(v))
                        return ksafe_policy__fail(L, f, "must be a string, not %s",
                                                  json_type_name(v));
                if (!strcmp(key, "action") &&
                    !ksafe_policy__parse_action(json_string_value(v), &action))
                        return ksafe_policy__fail(L, f,
                                                  "unknown action \"%s\" (enforce, reject or warn)",
                                                  json_string_value(v));
        } else if (!strcmp(key, "property")) {
                if (!json_is_string(v))
                        return ksafe_policy__fail(L, f,
                                                  "must be a property name (a string), not %s",
                                                  json_type_name(v));
        } else if (!strcmp(key, "min") || !strcmp(key, "max")) {
                if (!json_is_number(v))
                        return ksafe_policy__fail(L, f, "must be a number, not %s",
                                                  json_type_name(v));
        } else if (!strcmp(key, "required") || !strcmp(key, "forbidden") || !strcmp(key, "off")) {
                if (!json_is_boolean(v))
                        return ksafe_policy__fail(L, f, "must be true or false, not %s",
                                                  json_type_name(v));
        } else if (!strcmp(key, "equals") || !strcmp(key, "set")) {
                if (!is_scalar(v))
                        return ksafe_policy__fail(L, f,
                                                  "must be a string, number or boolean, not %s",
                                                  json_type_name(v));
        } else if (!strcmp(key, "one_of") || !strcmp(key, "min_sum")) {
                if (!json_is_array(v) || json_array_size(v) == 0)
                        return ksafe_policy__fail(L, f, "must be a non-empty array");
                size_t i;
                const json_t *item;
                json_array_foreach (v, i, item) {
                        where_t iw = where_index(f, i);
                        if (!strcmp(key, "one_of") && !is_scalar(item))
                                return ksafe_policy__fail(
                                        L, &iw, "must be a string, number or boolean, not %s",
                                        json_type_name(item));
                        if (!strcmp(key, "min_sum") && !json_is_string(item))
                                return ksafe_policy__fail(
                                        L, &iw, "must be a property name (a string), not %s",
                                        json_type_name(item));
                }
        }
        return true;
}

/* The names and types of a rule's (or an override's) fields. */
/* A name that ksafe prints (a rule id, the policy's name): a control
 * character in it could only forge or garble an output line. */
static bool printable_name(loader_t *L, const where_t *w, const char *name)
{
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return ksafe_policy__fail(
                                L, w,
                                "cannot hold control characters (it is printed in "
                                "every finding)");
        return true;
}

static bool check_rule_structure(loader_t *L, const where_t *w, const json_t *obj, bool is_override)
{
        if (!json_is_object(obj))
                return ksafe_policy__fail(L, w, "must be an object, not %s", json_type_name(obj));
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)obj, key, v) {
                where_t f = where_key(w, key);
                size_t i = 0;
                for (; i < ARRAY_SIZE(rule_fields); i++)
                        if (strcmp(key, rule_fields[i]) == 0)
                                break;
                if (i == ARRAY_SIZE(rule_fields))
                        return ksafe_policy__fail(L, &f, "unknown field \"%s\"", key);
                if (is_override && (!strcmp(key, "id") || !strcmp(key, "property")))
                        return ksafe_policy__fail(L, &f, "an override cannot change \"%s\"", key);
                if (!is_override && !strcmp(key, "off"))
                        return ksafe_policy__fail(L, &f,
                                                  "\"off\" belongs in an override, not in a rule");
                if (!check_field(L, &f, key, v))
                        return false;
        }
        if (is_override && json_object_size(obj) == 0)
                return ksafe_policy__fail(L, w,
                                          "an override changes at least one field (or has \"off\": "
                                          "true)");
        if (is_override)
                return true;
        const json_t *id = json_object_get(obj, "id");
        if (!id || !*json_string_value(id))
                return ksafe_policy__fail(L, w, "a rule needs an \"id\"");
        where_t idw = where_key(w, "id");
        if (strncmp(json_string_value(id), "ksafe-", 6) == 0)
                return ksafe_policy__fail(L, &idw,
                                          "rule ids starting with \"ksafe-\" are reserved");
        if (!printable_name(L, &idw, json_string_value(id)))
                return false;
        if (!json_object_get(obj, "property"))
                return ksafe_policy__fail(L, w, "rule \"%s\" needs a \"property\"",
                                          json_string_value(id));
        if (!json_object_get(obj, "action"))
                return ksafe_policy__fail(
                        L, w, "rule \"%s\" needs an \"action\" (enforce, reject or warn)",
                        json_string_value(id));
        return true;
}

static bool check_rules_structure(loader_t *L, const where_t *w, const json_t *rules)
{
        if (!json_is_array(rules))
                return ksafe_policy__fail(L, w, "must be an array of rules, not %s",
                                          json_type_name(rules));
        size_t i;
        const json_t *obj;
        json_array_foreach (rules, i, obj) {
                where_t rw = where_index(w, i);
                if (!check_rule_structure(L, &rw, obj, false))
                        return false;
        }
        return true;
}

static bool check_overrides_structure(loader_t *L, const where_t *w, const json_t *overrides)
{
        if (!json_is_object(overrides))
                return ksafe_policy__fail(L, w, "must be an object of rule ids, not %s",
                                          json_type_name(overrides));
        const char *id;
        json_t *obj;
        json_object_foreach ((json_t *)overrides, id, obj) {
                where_t ow = where_key(w, id);
                if (!check_rule_structure(L, &ow, obj, true))
                        return false;
        }
        return true;
}

static bool check_environment_structure(loader_t *L, const where_t *ew, const json_t *env)
{
        if (!json_is_object(env))
                return ksafe_policy__fail(L, ew, "must be an object, not %s", json_type_name(env));
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)env, key, v) {
                where_t kw = where_key(ew, key);
                if (strcmp(key, "description") == 0) {
                        if (!json_is_string(v))
                                return ksafe_policy__fail(L, &kw, "must be a string, not %s",
                                                          json_type_name(v));
                } else if (strcmp(key, "rules") == 0) {
                        if (!check_rules_structure(L, &kw, v))
                                return false;
                } else if (strcmp(key, "override") == 0) {
                        if (!check_overrides_structure(L, &kw, v))
                                return false;
                } else {
                        return ksafe_policy__fail(
                                L, &kw, "unknown field \"%s\" (description, rules, override)", key);
                }
        }
        return true;
}

static bool valid_env_name(const char *name)
{
        size_t n = strlen(name);
        return n > 0 && n <= 64 &&
               strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                       n;
}

static const char *const top_fields[] = {
        "$schema",      "ksafe_policy", "name",     "description",  "extends",
        "allow_unsafe", "rules",        "override", "environments",
};

/* The "environments" object of a policy (at f): named environments, each
 * a policy fragment. */
static bool check_environments_structure(loader_t *L, const where_t *f, const json_t *v)
{
        if (!json_is_object(v))
                return ksafe_policy__fail(L, f, "must be an object of environments, not %s",
                                          json_type_name(v));
        const char *name;
        json_t *env;
        json_object_foreach ((json_t *)v, name, env) {
                where_t ew = where_key(f, name);
                if (!valid_env_name(name))
                        return ksafe_policy__fail(L, f,
                                                  "environment names are 1 to 64 "
                                                  "letters, digits, '-' or '_'");
                if (!check_environment_structure(L, &ew, env))
                        return false;
        }
        return true;
}

/* One known top-level field `key` (at f) of a policy: its type, and the
 * structure of what it holds. */
static bool check_top_field(loader_t *L, const where_t *f, const char *key, const json_t *v)
{
        bool ok = true;
        if (!strcmp(key, "name") || !strcmp(key, "description") || !strcmp(key, "$schema")) {
                if (!json_is_string(v))
                        ok = ksafe_policy__fail(L, f, "must be a string, not %s",
                                                json_type_name(v));
                else if (!strcmp(key, "name"))
                        ok = printable_name(L, f, json_string_value(v));
        } else if (!strcmp(key, "extends")) {
                if (!json_is_string(v))
                        ok = ksafe_policy__fail(L, f,
                                                "must be \"builtin:default\" or a path, not %s",
                                                json_type_name(v));
        } else if (!strcmp(key, "allow_unsafe")) {
                if (!json_is_boolean(v))
                        ok = ksafe_policy__fail(L, f, "must be true or false, not %s",
                                                json_type_name(v));
        } else if (!strcmp(key, "rules")) {
                ok = check_rules_structure(L, f, v);
        } else if (!strcmp(key, "override")) {
                ok = check_overrides_structure(L, f, v);
        } else if (!strcmp(key, "environments")) {
                ok = check_environments_structure(L, f, v);
        }
        return ok;
}

bool ksafe_policy__check_structure(loader_t *L, const where_t *top, const json_t *doc)
{
        if (!json_is_object(doc))
                return ksafe_policy__fail(L, top, "a policy must be a JSON object, not %s",
                                          json_type_name(doc));
        /* First whether it is a policy at all: other errors would be noise. */
        const json_t *version = json_object_get(doc, "ksafe_policy");
        if (!json_is_integer(version) || json_integer_value(version) != 1) {
                where_t f = where_key(top, "ksafe_policy");
                return ksafe_policy__fail(
                        L, &f, "must be 1 (the policy format version); is this a ksafe policy?");
        }
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *)doc, key, v) {
                where_t f = where_key(top, key);
                size_t i = 0;
                for (; i < ARRAY_SIZE(top_fields); i++)
                        if (strcmp(key, top_fields[i]) == 0)
                                break;
                if (i == ARRAY_SIZE(top_fields))
                        return ksafe_policy__fail(L, &f, "unknown field \"%s\"", key);
                if (!check_top_field(L, &f, key, v))
                        return false;
        }
        return true;
}
