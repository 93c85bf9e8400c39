/*
 * The policy loader: JSON (format version 1) to an immutable rule list.
 *
 * A policy file is resolved in one pass: its "extends" parent first (for
 * the same environment), then its own rules, its top-level "override",
 * and the section of "environments" that was asked for. Rules are kept as
 * JSON objects while they are merged and compiled once at the end; every
 * object is also compiled when it is read, so that an error names the file
 * and JSON path where the bad value was written.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ksafe_int.h"

#define BUILTIN_DEFAULT "builtin:default"
#define MAX_EXTENDS_DEPTH 16

typedef struct loader_s {
        ksafe_props_t *props;
        const char *env;   /* NULL: no environment */
        ksafe_error_t *err;
        json_t *rules;     /* merged rule objects, in order */
        json_t *origins;   /* per rule: [source, path] where last written */
        json_t *env_names; /* every environment name seen, as object keys */
        bool env_found;
        bool allow_unsafe;
        char *name;
        const char *stack[MAX_EXTENDS_DEPTH]; /* sources being loaded */
        ksafe_policy_t **baseline; /* the built-in baseline, resolved once a load */
        int depth;
} loader_t;

/* Where an error is: the source and a JSON path built on the way down. */
typedef struct where_s {
        const char *source;
        char path[128];
} where_t;

static bool fail(loader_t *L, const where_t *w, const char *fmt, ...) KSAFE_PRINTF(3, 4);

static bool fail(loader_t *L, const where_t *w, const char *fmt, ...)
{
        char text[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        if (w->path[0])
                ksafe_error_set(L->err, w->source, w->path, 0, 0, "%s: %s", w->path, text);
        else
                ksafe_error_set(L->err, w->source, "", 0, 0, "%s", text);
        return false;
}

static where_t where_sub(const where_t *w, const char *fmt, ...) KSAFE_PRINTF(2, 3);

static where_t where_sub(const where_t *w, const char *fmt, ...)
{
        where_t sub = {.source = w->source};
        char part[64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(part, sizeof(part), fmt, ap);
        va_end(ap);
        size_t len = strlen(w->path);
        if (len > sizeof(sub.path) - sizeof(part) - 2)
                len = sizeof(sub.path) - sizeof(part) - 2;
        memcpy(sub.path, w->path, len);
        snprintf(sub.path + len, sizeof(sub.path) - len, "%s%s",
                 len && part[0] != '[' ? "." : "", part);
        return sub;
}

/* A JSON scalar as the string librdkafka would be given (free() it), or
 * NULL for anything else. */
static char *scalar_text(const json_t *v)
{
        char buf[64];
        if (json_is_string(v))
                return strdup(json_string_value(v));
        if (json_is_integer(v))
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        else if (json_is_boolean(v))
                snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
        else
                return NULL;
        return strdup(buf);
}

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

/*
 * Rules
 */

static void rule_free(ksafe_rule_t *r)
{
        free(r->id);
        free(r->property);
        free(r->equals);
        free(r->equals_raw);
        for (size_t i = 0; i < r->one_of_count; i++) {
                free(r->one_of[i]);
                free(r->one_of_raw[i]);
        }
        free(r->one_of);
        free(r->one_of_raw);
        for (size_t i = 0; i < r->min_sum_count; i++)
                free(r->min_sum_raw[i]);
        free(r->min_sum);
        free(r->min_sum_raw);
        free(r->set);
        free(r->why);
        *r = (ksafe_rule_t){0};
}

static const ksafe_prop_t *known_property(loader_t *L, const where_t *w, const json_t *v)
{
        if (!json_is_string(v)) {
                fail(L, w, "must be a property name (a string), not %s", json_type_name(v));
                return NULL;
        }
        const char *name = json_string_value(v);
        const ksafe_prop_t *p = ksafe_props_find(L->props, name);
        if (!p) {
                const char *hint = ksafe_props_suggest(L->props, name);
                if (hint)
                        fail(L, w, "unknown property \"%s\"; did you mean \"%s\"?", name, hint);
                else
                        fail(L, w, "unknown property \"%s\" (not in librdkafka %s)", name,
                             rd_kafka_version_str());
                return NULL;
        }
        if (p->type == KSAFE_PROP_POINTER) {
                fail(L, w, "property \"%s\" is set through a dedicated API and cannot be judged",
                     name);
                return NULL;
        }
        return p;
}

/* A value of the rule's property, parsed as librdkafka reads it. */
static char *parsed_value(loader_t *L, const where_t *w, const ksafe_prop_t *p, const json_t *v,
                          char **rawp)
{
        char why[512];
        char *raw = scalar_text(v);
        if (!raw) {
                fail(L, w, "must be a string, number or boolean, not %s", json_type_name(v));
                return NULL;
        }
        for (const char *c = raw; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                        free(raw);
                        fail(L, w, "a value cannot hold control characters (a newline would "
                                   "write a second line into a config)");
                        return NULL;
                }
        if (raw[0] && (isspace((unsigned char)raw[0]) ||
                       isspace((unsigned char)raw[strlen(raw) - 1]))) {
                free(raw);
                fail(L, w, "a value cannot start or end with a blank (config files trim them)");
                return NULL;
        }
        char *out = ksafe_prop_parse(p, raw, why, sizeof(why));
        bool ok = out != NULL;
        if (!ok)
                fail(L, w, "not a valid value for %s: %s", p->name, why);
        else if (ksafe_prop_misread(p, raw, out, why, sizeof(why)))
                ok = fail(L, w, "%s", why);
        if (ok && rawp) {
                *rawp = raw;
                raw = NULL;
        }
        free(raw);
        if (!ok) {
                free(out);
                return NULL;
        }
        return out;
}

static bool is_numeric(const ksafe_prop_t *p)
{
        return p->type == KSAFE_PROP_INT || p->type == KSAFE_PROP_FLOAT;
}

static const char *const rule_fields[] = {
        "id",       "property",  "equals", "one_of", "min", "max", "min_sum",
        "required", "forbidden", "set",    "action", "why", "off",
};

/* Check the names and types of a rule's (or an override's) fields. */
static bool check_fields(loader_t *L, const where_t *w, const json_t *obj, bool is_override)
{
        if (!json_is_object(obj))
                return fail(L, w, "must be an object, not %s", json_type_name(obj));
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)obj, key, v) {
                where_t f = where_sub(w, "%s", key);
                size_t i = 0;
                for (; i < sizeof(rule_fields) / sizeof(*rule_fields); i++)
                        if (strcmp(key, rule_fields[i]) == 0)
                                break;
                if (i == sizeof(rule_fields) / sizeof(*rule_fields))
                        return fail(L, &f, "unknown field \"%s\"", key);
                if (is_override && (!strcmp(key, "id") || !strcmp(key, "property")))
                        return fail(L, &f, "an override cannot change \"%s\"", key);
                if (!is_override && !strcmp(key, "off"))
                        return fail(L, &f, "\"off\" belongs in an override, not in a rule");
                if ((!strcmp(key, "id") || !strcmp(key, "action") || !strcmp(key, "why")) &&
                    !json_is_string(v))
                        return fail(L, &f, "must be a string, not %s", json_type_name(v));
                if ((!strcmp(key, "min") || !strcmp(key, "max")) && !json_is_number(v))
                        return fail(L, &f, "must be a number, not %s", json_type_name(v));
                if ((!strcmp(key, "required") || !strcmp(key, "forbidden") ||
                     !strcmp(key, "off")) &&
                    !json_is_boolean(v))
                        return fail(L, &f, "must be true or false, not %s", json_type_name(v));
                if ((!strcmp(key, "one_of") || !strcmp(key, "min_sum")) &&
                    (!json_is_array(v) || json_array_size(v) == 0))
                        return fail(L, &f, "must be a non-empty array");
        }
        return true;
}

static bool parse_action(loader_t *L, const where_t *w, const char *s, ksafe_action_t *out)
{
        static const ksafe_action_t all[] = {KSAFE_ACTION_ENFORCE, KSAFE_ACTION_REJECT,
                                             KSAFE_ACTION_WARN};
        for (size_t i = 0; i < 3; i++)
                if (strcmp(s, ksafe_action_name(all[i])) == 0) {
                        *out = all[i];
                        return true;
                }
        return fail(L, w, "unknown action \"%s\" (enforce, reject or warn)", s);
}

/* Compile one rule object; on error the path names the bad field. */
static bool compile_rule(loader_t *L, const where_t *w, const json_t *obj, ksafe_rule_t *r)
{
        *r = (ksafe_rule_t){0};
        const json_t *v;
        where_t f;

        f = where_sub(w, "id");
        v = json_object_get(obj, "id");
        if (!v || !*json_string_value(v))
                return fail(L, w, "a rule needs an \"id\"");
        if (strncmp(json_string_value(v), "ksafe-", 6) == 0)
                return fail(L, &f, "rule ids starting with \"ksafe-\" are reserved");
        if (!(r->id = strdup(json_string_value(v))))
                goto nomem;

        f = where_sub(w, "property");
        v = json_object_get(obj, "property");
        if (!v)
                goto missing_property;
        if (!(r->prop = known_property(L, &f, v)))
                goto error;
        if (!(r->property = strdup(json_string_value(v))))
                goto nomem;

        f = where_sub(w, "action");
        v = json_object_get(obj, "action");
        if (!v) {
                fail(L, w, "rule \"%s\" needs an \"action\" (enforce, reject or warn)", r->id);
                goto error;
        }
        if (!parse_action(L, &f, json_string_value(v), &r->action))
                goto error;

        if ((v = json_object_get(obj, "why")) && !(r->why = strdup(json_string_value(v))))
                goto nomem;

        if ((v = json_object_get(obj, "equals"))) {
                f = where_sub(w, "equals");
                r->checks |= KSAFE_CHECK_EQUALS;
                if (!(r->equals = parsed_value(L, &f, r->prop, v, &r->equals_raw)))
                        goto error;
        }
        if ((v = json_object_get(obj, "one_of"))) {
                size_t n = json_array_size(v);
                r->checks |= KSAFE_CHECK_ONE_OF;
                r->one_of = calloc(n, sizeof(*r->one_of));
                r->one_of_raw = calloc(n, sizeof(*r->one_of_raw));
                if (!r->one_of || !r->one_of_raw)
                        goto nomem;
                for (size_t i = 0; i < n; i++) {
                        f = where_sub(w, "one_of[%zu]", i);
                        r->one_of[i] = parsed_value(L, &f, r->prop, json_array_get(v, i),
                                                    &r->one_of_raw[i]);
                        if (!r->one_of[i])
                                goto error;
                        r->one_of_count++;
                }
        }
        const char *const bounds[] = {"min", "max"};
        for (int b = 0; b < 2; b++) {
                if (!(v = json_object_get(obj, bounds[b])))
                        continue;
                f = where_sub(w, "%s", bounds[b]);
                if (!is_numeric(r->prop)) {
                        fail(L, &f, "%s is not a number property", r->prop->name);
                        goto error;
                }
                r->checks |= b == 0 ? KSAFE_CHECK_MIN : KSAFE_CHECK_MAX;
                *(b == 0 ? &r->min : &r->max) = json_number_value(v);
        }
        if ((r->checks & KSAFE_CHECK_MIN) && (r->checks & KSAFE_CHECK_MAX) && r->min > r->max) {
                f = where_sub(w, "min");
                fail(L, &f, "min %g is greater than max %g", r->min, r->max);
                goto error;
        }
        if ((v = json_object_get(obj, "min_sum"))) {
                size_t n = json_array_size(v);
                f = where_sub(w, "min_sum");
                if (!is_numeric(r->prop)) {
                        fail(L, &f, "%s is not a number property", r->prop->name);
                        goto error;
                }
                r->checks |= KSAFE_CHECK_MIN_SUM;
                r->min_sum = calloc(n, sizeof(*r->min_sum));
                r->min_sum_raw = calloc(n, sizeof(*r->min_sum_raw));
                if (!r->min_sum || !r->min_sum_raw)
                        goto nomem;
                for (size_t i = 0; i < n; i++) {
                        f = where_sub(w, "min_sum[%zu]", i);
                        const ksafe_prop_t *p = known_property(L, &f, json_array_get(v, i));
                        if (!p)
                                goto error;
                        if (!is_numeric(p)) {
                                fail(L, &f, "%s is not a number property", p->name);
                                goto error;
                        }
                        r->min_sum_raw[r->min_sum_count] =
                                strdup(json_string_value(json_array_get(v, i)));
                        r->min_sum[r->min_sum_count++] = p;
                        if (!r->min_sum_raw[r->min_sum_count - 1])
                                goto nomem;
                }
        }
        if (json_is_true(json_object_get(obj, "required")))
                r->checks |= KSAFE_CHECK_REQUIRED;
        if (json_is_true(json_object_get(obj, "forbidden")))
                r->checks |= KSAFE_CHECK_FORBIDDEN;
        if ((r->checks & KSAFE_CHECK_FORBIDDEN) && (r->checks & ~KSAFE_CHECK_FORBIDDEN)) {
                /* Unset, it has its default; any other check judges a value. */
                f = where_sub(w, "forbidden");
                fail(L, &f, "\"forbidden\" cannot be combined with another check (a forbidden "
                            "property is judged only by being set)");
                goto error;
        }
        if (!r->checks) {
                fail(L, w, "rule \"%s\" checks nothing: give equals, one_of, min, max, min_sum, "
                           "required or forbidden",
                     r->id);
                goto error;
        }
        if ((v = json_object_get(obj, "set"))) {
                f = where_sub(w, "set");
                char *raw = NULL;
                char *parsed = parsed_value(L, &f, r->prop, v, &raw);
                if (!parsed)
                        goto error;
                /* min_sum depends on other properties: judged later. */
                bool ok = ksafe_rule_accepts(r, parsed, -INFINITY);
                free(parsed);
                r->set = raw;
                if (!ok) {
                        fail(L, &f, "%s does not satisfy rule \"%s\" itself",
                             r->prop->sensitive ? KSAFE_REDACTED : raw, r->id);
                        goto error;
                }
        }
        if (r->action == KSAFE_ACTION_ENFORCE && !r->set &&
            !(r->checks & (KSAFE_CHECK_EQUALS | KSAFE_CHECK_ONE_OF | KSAFE_CHECK_MIN |
                           KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM | KSAFE_CHECK_FORBIDDEN))) {
                f = where_sub(w, "action");
                fail(L, &f, "rule \"%s\" cannot be enforced without a value: add \"set\" or "
                            "use reject",
                     r->id);
                goto error;
        }
        return true;

missing_property:
        fail(L, w, "rule \"%s\" needs a \"property\"", r->id);
        goto error;
nomem:
        fail(L, w, "out of memory");
error:
        rule_free(r);
        return false;
}

/*
 * Merging
 */

static ssize_t rule_index(const loader_t *L, const char *id)
{
        size_t i;
        json_t *rule;
        json_array_foreach(L->rules, i, rule) {
                if (strcmp(json_string_value(json_object_get(rule, "id")), id) == 0)
                        return (ssize_t)i;
        }
        return -1;
}

static json_t *origin_of(const where_t *w)
{
        return json_pack("[s, s]", w->source, w->path);
}

/* Where rule i was last written (valid while the loader lives). */
static where_t origin_where(const loader_t *L, size_t i)
{
        const json_t *o = json_array_get(L->origins, i);
        where_t w = {.source = json_string_value(json_array_get(o, 0))};
        snprintf(w.path, sizeof(w.path), "%s", json_string_value(json_array_get(o, 1)));
        return w;
}

static bool add_rules(loader_t *L, const where_t *w, const json_t *rules)
{
        if (!json_is_array(rules))
                return fail(L, w, "must be an array of rules, not %s", json_type_name(rules));
        size_t i;
        json_t *obj;
        json_array_foreach(rules, i, obj) {
                where_t rw = where_sub(w, "[%zu]", i);
                ksafe_rule_t r;
                if (!check_fields(L, &rw, obj, false) || !compile_rule(L, &rw, obj, &r))
                        return false;
                ssize_t dup = rule_index(L, r.id);
                if (dup >= 0) {
                        where_t first = origin_where(L, (size_t)dup);
                        fail(L, &rw,
                             "duplicate rule id \"%s\" (first defined at %s: %s); change an "
                             "inherited rule with \"override\"",
                             r.id, first.source, first.path);
                        rule_free(&r);
                        return false;
                }
                rule_free(&r);
                json_array_append_new(L->rules, json_deep_copy(obj));
                json_array_append_new(L->origins, origin_of(&rw));
        }
        return true;
}

static bool apply_overrides(loader_t *L, const where_t *w, const json_t *overrides)
{
        if (!json_is_object(overrides))
                return fail(L, w, "must be an object of rule ids, not %s",
                            json_type_name(overrides));
        const char *id;
        json_t *obj;
        json_object_foreach((json_t *)overrides, id, obj) {
                where_t ow = where_sub(w, "%s", id);
                if (!check_fields(L, &ow, obj, true))
                        return false;
                ssize_t at = rule_index(L, id);
                if (at < 0)
                        return fail(L, &ow, "no rule \"%s\" to override", id);
                if (json_is_true(json_object_get(obj, "off"))) {
                        json_array_remove(L->rules, (size_t)at);
                        json_array_remove(L->origins, (size_t)at);
                        continue;
                }
                json_t *merged = json_deep_copy(json_array_get(L->rules, (size_t)at));
                json_object_update(merged, obj);
                json_object_del(merged, "off");
                ksafe_rule_t r;
                if (!compile_rule(L, &ow, merged, &r)) {
                        json_decref(merged);
                        return false;
                }
                rule_free(&r);
                json_array_set_new(L->rules, (size_t)at, merged);
                json_array_set_new(L->origins, (size_t)at, origin_of(&ow));
        }
        return true;
}

static bool check_environment_fields(loader_t *L, const where_t *ew, const json_t *env)
{
        if (!json_is_object(env))
                return fail(L, ew, "must be an object, not %s", json_type_name(env));
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)env, key, v) {
                where_t kw = where_sub(ew, "%s", key);
                if (strcmp(key, "description") == 0 && !json_is_string(v))
                        return fail(L, &kw, "must be a string, not %s", json_type_name(v));
                if (strcmp(key, "description") != 0 && strcmp(key, "rules") != 0 &&
                    strcmp(key, "override") != 0)
                        return fail(L, &kw, "unknown field \"%s\" (description, rules, override)",
                                    key);
        }
        return true;
}

/* A file's or an environment's "rules" (added) and "override" (applied to
 * the rules so far, inherited ones included). */
static bool apply_section(loader_t *L, const where_t *w, const json_t *section)
{
        json_t *v;
        if ((v = json_object_get(section, "rules"))) {
                where_t f = where_sub(w, "rules");
                if (!add_rules(L, &f, v))
                        return false;
        }
        if ((v = json_object_get(section, "override"))) {
                where_t f = where_sub(w, "override");
                if (!apply_overrides(L, &f, v))
                        return false;
        }
        return true;
}

/* Apply the chosen section. The others are checked by resolving the whole
 * policy for each of them (see resolve()). */
static bool apply_environments(loader_t *L, const where_t *w, const json_t *envs)
{
        if (!json_is_object(envs))
                return fail(L, w, "must be an object of environments, not %s",
                            json_type_name(envs));
        const char *name;
        json_t *env;
        json_object_foreach((json_t *)envs, name, env) {
                where_t ew = where_sub(w, "%s", name);
                size_t n = strlen(name);
                if (n == 0 || n > 64 ||
                    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                            n)
                        return fail(L, w, "environment names are 1 to 64 letters, digits, '-' "
                                          "or '_'");
                if (!check_environment_fields(L, &ew, env))
                        return false;
                json_object_set_new(L->env_names, name, json_true());
        }
        json_t *chosen = L->env ? json_object_get(envs, L->env) : NULL;
        if (!chosen)
                return true;
        L->env_found = true;
        where_t ew = where_sub(w, "%s", L->env);
        return apply_section(L, &ew, chosen);
}

static bool load_text(loader_t *L, const char *text, const char *source, const char *dir);

static bool load_extends(loader_t *L, const where_t *w, const json_t *v, const char *dir)
{
        if (!json_is_string(v))
                return fail(L, w, "must be \"builtin:default\" or a path, not %s",
                            json_type_name(v));
        const char *target = json_string_value(v);
        if (strcmp(target, BUILTIN_DEFAULT) == 0)
                return load_text(L, ksafe_default_policy_json, BUILTIN_DEFAULT, NULL);
        if (strncmp(target, "builtin:", 8) == 0)
                return fail(L, w, "unknown built-in policy \"%s\" (known: %s)", target,
                            BUILTIN_DEFAULT);

        char path[PATH_MAX];
        if (target[0] == '/' || !dir)
                snprintf(path, sizeof(path), "%s", target);
        else
                snprintf(path, sizeof(path), "%s/%s", dir, target);
        size_t len;
        char why[256];
        char *text = ksafe_read_regular_file(path, &len, NULL, why, sizeof(why));
        if (!text)
                return fail(L, w, "cannot read \"%s\": %s", path, why);
        if (strlen(text) != len) {
                free(text);
                return fail(L, w, "\"%s\" contains a NUL byte", path);
        }
        char *dcopy = strdup(path);
        bool ok = dcopy && load_text(L, text, path, dirname(dcopy));
        free(dcopy);
        free(text);
        return ok;
}

static const char *const top_fields[] = {
        "$schema", "ksafe_policy", "name", "description", "extends",
        "allow_unsafe", "rules", "override", "environments",
};

static bool load_text(loader_t *L, const char *text, const char *source, const char *dir)
{
        where_t top = {.source = source};
        char real[PATH_MAX];
        const char *id = realpath(source, real) ? real : source;
        for (int i = 0; i < L->depth; i++)
                if (strcmp(L->stack[i], id) == 0)
                        return fail(L, &top, "\"extends\" cycle: %s extends itself", source);
        if (L->depth == MAX_EXTENDS_DEPTH)
                return fail(L, &top, "\"extends\" nested deeper than %d", MAX_EXTENDS_DEPTH);

        json_error_t jerr;
        if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
                text += 3; /* a UTF-8 BOM, as some editors write */
        json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
                ksafe_error_set(L->err, source, "", jerr.line, jerr.column, "%s",
                                ksafe_json_error_text(&jerr));
                return false;
        }
        char *saved = strdup(id);
        if (!saved) {
                json_decref(doc);
                return fail(L, &top, "out of memory");
        }
        L->stack[L->depth++] = saved;
        bool ok = false;
        json_t *v;
        const char *key;

        if (!json_is_object(doc)) {
                fail(L, &top, "a policy must be a JSON object, not %s", json_type_name(doc));
                goto out;
        }
        json_object_foreach(doc, key, v) {
                size_t i = 0;
                for (; i < sizeof(top_fields) / sizeof(*top_fields); i++)
                        if (strcmp(key, top_fields[i]) == 0)
                                break;
                if (i == sizeof(top_fields) / sizeof(*top_fields)) {
                        where_t f = where_sub(&top, "%s", key);
                        fail(L, &f, "unknown field \"%s\"", key);
                        goto out;
                }
        }
        v = json_object_get(doc, "ksafe_policy");
        if (!json_is_integer(v) || json_integer_value(v) != 1) {
                where_t f = where_sub(&top, "ksafe_policy");
                fail(L, &f, "must be 1 (the policy format version); is this a ksafe policy?");
                goto out;
        }
        for (size_t i = 0; i < 2; i++) {
                const char *field = i == 0 ? "name" : "description";
                v = json_object_get(doc, field);
                if (v && !json_is_string(v)) {
                        where_t f = where_sub(&top, "%s", field);
                        fail(L, &f, "must be a string, not %s", json_type_name(v));
                        goto out;
                }
        }
        v = json_object_get(doc, "allow_unsafe");
        if (v && !json_is_boolean(v)) {
                where_t f = where_sub(&top, "allow_unsafe");
                fail(L, &f, "must be true or false, not %s", json_type_name(v));
                goto out;
        }
        if ((v = json_object_get(doc, "extends"))) {
                where_t f = where_sub(&top, "extends");
                if (!load_extends(L, &f, v, dir))
                        goto out;
        }
        /* Only the file loaded may weaken the baseline: a parent's
         * allow_unsafe does not carry over to the files that extend it. */
        if (L->depth == 1 && json_is_true(json_object_get(doc, "allow_unsafe")))
                L->allow_unsafe = true;
        if (L->depth == 1 && (v = json_object_get(doc, "name"))) {
                free(L->name);
                L->name = strdup(json_string_value(v));
        }
        if (!apply_section(L, &top, doc))
                goto out;
        if ((v = json_object_get(doc, "environments"))) {
                where_t f = where_sub(&top, "environments");
                if (!apply_environments(L, &f, v))
                        goto out;
        }
        ok = true;
out:
        L->depth--;
        free(saved);
        json_decref(doc);
        return ok;
}

/*
 * The safety baseline: every rule of the built-in default policy. A policy
 * may make these stricter; anything else needs "allow_unsafe": true.
 */
static bool stricter_or_equal(const ksafe_rule_t *base, const ksafe_rule_t *r, char *why,
                              size_t size)
{
        const char *id = base->id;
        if (!r) {
                snprintf(why, size, "baseline rule \"%s\" is off or missing", id);
                return false;
        }
        if (r->prop != base->prop) {
                snprintf(why, size, "rule \"%s\" no longer judges %s", id, base->prop->name);
                return false;
        }
        if (r->action == KSAFE_ACTION_WARN && base->action != KSAFE_ACTION_WARN) {
                snprintf(why, size, "baseline rule \"%s\" only warns", id);
                return false;
        }
        if ((base->checks & ~r->checks) != 0) {
                snprintf(why, size, "baseline rule \"%s\" lost one of its checks", id);
                return false;
        }
        if ((base->checks & KSAFE_CHECK_EQUALS) && strcmp(base->equals, r->equals) != 0) {
                snprintf(why, size, "baseline rule \"%s\" requires %s, not %s", id,
                         base->equals_raw, r->equals_raw);
                return false;
        }
        if ((base->checks & KSAFE_CHECK_MIN) && r->min < base->min) {
                snprintf(why, size, "baseline rule \"%s\" has min %g, below %g", id, r->min,
                         base->min);
                return false;
        }
        if ((base->checks & KSAFE_CHECK_MAX) && r->max > base->max) {
                snprintf(why, size, "baseline rule \"%s\" has max %g, above %g", id, r->max,
                         base->max);
                return false;
        }
        for (size_t i = 0; (base->checks & KSAFE_CHECK_ONE_OF) && i < r->one_of_count; i++) {
                bool found = false;
                for (size_t j = 0; j < base->one_of_count; j++)
                        found |= strcmp(r->one_of[i], base->one_of[j]) == 0;
                if (!found) {
                        snprintf(why, size, "baseline rule \"%s\" now allows %s", id,
                                 r->one_of_raw[i]);
                        return false;
                }
        }
        for (size_t i = 0; (base->checks & KSAFE_CHECK_MIN_SUM) && i < base->min_sum_count; i++) {
                bool found = false;
                for (size_t j = 0; j < r->min_sum_count; j++)
                        found |= r->min_sum[j] == base->min_sum[i];
                if (!found) {
                        snprintf(why, size, "baseline rule \"%s\" no longer counts %s", id,
                                 base->min_sum_raw[i]);
                        return false;
                }
        }
        return true;
}

/* A rule of its own on a baseline property must not enforce a value the
 * baseline refuses (acks equals 1): the two could never both hold. */
static bool enforces_refused_value(const ksafe_rule_t *base, const ksafe_rule_t *r, char *why,
                                   size_t size)
{
        if (r->prop != base->prop || r->action == KSAFE_ACTION_WARN)
                return false;
        /* Ranges that do not meet: every configuration would be refused. */
        if (((r->checks & KSAFE_CHECK_MIN) && (base->checks & KSAFE_CHECK_MAX) &&
             r->min > base->max) ||
            ((r->checks & KSAFE_CHECK_MAX) && (base->checks & KSAFE_CHECK_MIN) &&
             r->max < base->min)) {
                snprintf(why, size, "rule \"%s\" allows no value that baseline rule \"%s\" "
                                    "allows",
                         r->id, base->id);
                return true;
        }
        if (r->action != KSAFE_ACTION_ENFORCE)
                return false;
        const char *value = NULL;
        char *parsed = NULL;
        char errstr[256];
        if (r->checks & KSAFE_CHECK_FORBIDDEN)
                return false; /* unset, librdkafka may derive a safe value */
        if (r->set)
                value = parsed = ksafe_prop_parse(r->prop, r->set, errstr, sizeof(errstr));
        else if (r->checks & KSAFE_CHECK_EQUALS)
                value = r->equals;
        else if (r->checks & KSAFE_CHECK_ONE_OF)
                value = r->one_of[0];
        bool refused = value && !ksafe_rule_accepts(base, value, -INFINITY);
        if (refused)
                snprintf(why, size, "rule \"%s\" enforces %s=%s, which baseline rule \"%s\" "
                                    "refuses",
                         r->id, r->property, r->prop->sensitive ? KSAFE_REDACTED : value,
                         base->id);
        free(parsed);
        return refused;
}

static const ksafe_rule_t *find_rule(const ksafe_policy_t *policy, const char *id)
{
        for (size_t i = 0; i < policy->rule_count; i++)
                if (strcmp(policy->rules[i].id, id) == 0)
                        return &policy->rules[i];
        return NULL;
}

static ksafe_policy_t *resolve(ksafe_props_t *props, bool owns_props, const char *text,
                               const char *source, const char *dir, const char *env,
                               ksafe_policy_t **baseline, ksafe_error_t *err);

static bool check_baseline(ksafe_policy_t *policy, loader_t *L, const char *source)
{
        if (!*L->baseline) {
                ksafe_policy_t *none = NULL; /* the builtin checks no baseline */
                *L->baseline = resolve(L->props, false, ksafe_default_policy_json,
                                       BUILTIN_DEFAULT, NULL, NULL, &none, L->err);
        }
        const ksafe_policy_t *base = *L->baseline;
        if (!base)
                return false;
        bool ok = true;
        for (size_t i = 0; ok && i < base->rule_count; i++) {
                char why[256];
                const ksafe_rule_t *r = find_rule(policy, base->rules[i].id);
                if (stricter_or_equal(&base->rules[i], r, why, sizeof(why)))
                        continue;
                ok = false;
                /* Point at where the rule was weakened, when it still exists. */
                where_t w = r ? origin_where(L, (size_t)(r - policy->rules))
                              : (where_t){.source = source};
                fail(L, &w, "%s%s%s: weakening the safety baseline needs \"allow_unsafe\": true",
                     why, L->env ? " in environment " : "", L->env ? L->env : "");
        }
        for (size_t i = 0; ok && i < base->rule_count; i++)
                for (size_t k = 0; ok && k < policy->rule_count; k++) {
                        char why[256];
                        const ksafe_rule_t *r = &policy->rules[k];
                        if (strcmp(r->id, base->rules[i].id) == 0 ||
                            !enforces_refused_value(&base->rules[i], r, why, sizeof(why)))
                                continue;
                        ok = false;
                        where_t w = origin_where(L, k);
                        fail(L, &w, "%s: weakening the safety baseline needs \"allow_unsafe\": true",
                             why);
                }
        return ok;
}

static char *render_json(const ksafe_policy_t *policy, const json_t *rules)
{
        json_t *out = json_pack("{s:i, s:s, s:s?, s:b}", "ksafe_policy", 1, "name", policy->name,
                                "environment", policy->env, "allow_unsafe",
                                policy->allow_unsafe);
        json_t *list = json_deep_copy(rules);
        size_t i;
        json_t *rule;
        json_array_foreach(list, i, rule) {
                if (!policy->rules[i].prop->sensitive)
                        continue;
                static const char *const values[] = {"equals", "one_of", "set"};
                for (size_t k = 0; k < 3; k++)
                        if (json_object_get(rule, values[k]))
                                json_object_set_new(rule, values[k], json_string(KSAFE_REDACTED));
        }
        json_object_set_new(out, "rules", list);
        char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(out);
        return s;
}

static void known_envs(const loader_t *L, char *buf, size_t size)
{
        const char *name;
        json_t *v;
        size_t len = 0;
        buf[0] = '\0';
        json_object_foreach(L->env_names, name, v) {
                int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
                if (n < 0 || (size_t)n >= size - len)
                        break;
                len += (size_t)n;
        }
}

/* A policy must load for every environment it names (and for none), not
 * only for the one a CI job happens to choose. */
static bool check_other_environments(loader_t *L, const char *text, const char *source,
                                     const char *dir)
{
        const char *name;
        json_t *v;
        if (L->env) {
                ksafe_policy_t *p = resolve(L->props, false, text, source, dir, NULL,
                                            L->baseline, L->err);
                if (!p)
                        return false;
                ksafe_policy_destroy(p);
        }
        json_object_foreach(L->env_names, name, v) {
                if (L->env && strcmp(name, L->env) == 0)
                        continue;
                ksafe_policy_t *p = resolve(L->props, false, text, source, dir, name,
                                            L->baseline, L->err);
                if (!p)
                        return false;
                ksafe_policy_destroy(p);
        }
        return true;
}

/* Resolve a policy text for `env`. With owns_props, the policy takes `props`
 * (and destroys it on failure); otherwise it only borrows it. `baseline` is
 * NULL for a load a caller asked for (its other environments are then
 * checked too), else the slot where that load keeps the resolved baseline. */
static ksafe_policy_t *resolve(ksafe_props_t *props, bool owns_props, const char *text,
                               const char *source, const char *dir, const char *env,
                               ksafe_policy_t **baseline, ksafe_error_t *err)
{
        ksafe_policy_t *own_baseline = NULL;
        bool check_others = !baseline && strcmp(source, BUILTIN_DEFAULT) != 0;
        loader_t L = {
                .baseline = baseline ? baseline : &own_baseline,
                .props = props,
                .env = env && *env ? env : NULL,
                .err = err,
                .rules = json_array(),
                .origins = json_array(),
                .env_names = json_object(),
        };
        ksafe_policy_t *policy = calloc(1, sizeof(*policy));
        bool ok = props && policy && L.rules && L.origins && L.env_names;
        if (!ok)
                ksafe_error_set(err, source, "", 0, 0, "out of memory");
        ok = ok && load_text(&L, text, source, dir);
        if (ok && L.env && !L.env_found) {
                char names[200];
                known_envs(&L, names, sizeof(names));
                where_t w = {.source = source};
                ok = fail(&L, &w, "unknown environment \"%s\" (known: %s)", L.env,
                          names[0] ? names : "none");
        }
        if (ok) {
                policy->name = strdup(L.name ? L.name : source);
                policy->env = ksafe_strdup(L.env);
                policy->allow_unsafe = L.allow_unsafe;
                policy->rules = calloc(json_array_size(L.rules) + 1, sizeof(*policy->rules));
                ok = policy->rules && policy->name && (policy->env || !L.env);
                if (!ok)
                        ksafe_error_set(err, source, "", 0, 0, "out of memory");
        }
        for (size_t i = 0; ok && i < json_array_size(L.rules); i++) {
                where_t w = origin_where(&L, i);
                ok = compile_rule(&L, &w, json_array_get(L.rules, i), &policy->rules[i]);
                policy->rule_count += ok;
        }
        if (ok && strcmp(source, BUILTIN_DEFAULT) != 0 && !L.allow_unsafe)
                ok = check_baseline(policy, &L, source);
        if (ok && check_others)
                ok = check_other_environments(&L, text, source, dir);
        if (ok && !baseline) /* only what a caller gets is ever shown */
                ok = (policy->resolved_json = render_json(policy, L.rules)) != NULL;
        json_decref(L.rules);
        json_decref(L.origins);
        json_decref(L.env_names);
        free(L.name);
        ksafe_policy_destroy(own_baseline);
        if (policy && owns_props)
                policy->props = props;
        if (!ok) {
                if (!policy && owns_props)
                        ksafe_props_destroy(props);
                ksafe_policy_destroy(policy);
                return NULL;
        }
        return policy;
}

ksafe_policy_t *ksafe_policy_default(void)
{
        return resolve(ksafe_props_new(), true, ksafe_default_policy_json, BUILTIN_DEFAULT, NULL, NULL,
                       NULL, NULL);
}

ksafe_policy_t *ksafe_policy_load_string(const char *json, const char *env, ksafe_error_t *err)
{
        if (!json) {
                ksafe_error_set(err, "<string>", "", 0, 0, "no policy text given");
                return NULL;
        }
        return resolve(ksafe_props_new(), true, json, "<string>", NULL, env, NULL, err);
}

ksafe_policy_t *ksafe_policy_load(const char *path, const char *env, ksafe_error_t *err)
{
        if (!path) {
                ksafe_error_set(err, "", "", 0, 0, "no policy path given");
                return NULL;
        }
        if (strcmp(path, BUILTIN_DEFAULT) == 0)
                return resolve(ksafe_props_new(), true, ksafe_default_policy_json,
                               BUILTIN_DEFAULT, NULL, env, NULL, err);
        if (strncmp(path, "builtin:", 8) == 0) {
                ksafe_error_set(err, path, "", 0, 0, "unknown built-in policy \"%s\" (known: %s)",
                                path, BUILTIN_DEFAULT);
                return NULL;
        }
        size_t len;
        char why[256];
        char *text = ksafe_read_regular_file(path, &len, NULL, why, sizeof(why));
        if (!text) {
                ksafe_error_set(err, path, "", 0, 0, "cannot read policy: %s", why);
                return NULL;
        }
        if (strlen(text) != len) {
                free(text);
                ksafe_error_set(err, path, "", 0, 0, "contains a NUL byte: not a policy");
                return NULL;
        }
        char *dcopy = strdup(path);
        ksafe_policy_t *policy =
                dcopy ? resolve(ksafe_props_new(), true, text, path, dirname(dcopy), env, NULL,
                                err)
                      : NULL;
        free(dcopy);
        free(text);
        return policy;
}

ksafe_policy_t *ksafe_policy_from_env(ksafe_error_t *err)
{
        const char *path = getenv("KSAFE_POLICY");
        const char *env = getenv("KSAFE_ENV");
        if (path && *path)
                return ksafe_policy_load(path, env, err);
        return resolve(ksafe_props_new(), true, ksafe_default_policy_json, BUILTIN_DEFAULT, NULL, env,
                       NULL, err);
}

void ksafe_policy_destroy(ksafe_policy_t *policy)
{
        if (!policy)
                return;
        for (size_t i = 0; i < policy->rule_count; i++)
                rule_free(&policy->rules[i]);
        free(policy->rules);
        ksafe_props_destroy(policy->props);
        free(policy->name);
        free(policy->env);
        free(policy->resolved_json);
        free(policy);
}

const char *ksafe_policy_name(const ksafe_policy_t *policy)
{
        return policy->name;
}

const char *ksafe_policy_env(const ksafe_policy_t *policy)
{
        return policy->env;
}

bool ksafe_policy_allows_unsafe(const ksafe_policy_t *policy)
{
        return policy->allow_unsafe;
}

char *ksafe_policy_to_json(const ksafe_policy_t *policy)
{
        return ksafe_strdup(policy->resolved_json);
}
