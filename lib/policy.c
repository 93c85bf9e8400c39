/*
 * The policy loader: JSON (format version 1) to an immutable rule list.
 *
 * A load runs in phases, each over the whole input before the next starts,
 * so that an error of an earlier kind is never hidden by one of a later:
 *  1. structure: each file of the "extends" chain is read (regular files
 *     only) and parsed, and its whole document, every environment section
 *     included, is checked for unknown fields, wrong types and missing
 *     fields, in document order;
 *  2. rules: every rule object is compiled once (property names, values as
 *     librdkafka reads them, bounds, and what a rule alone can never mean);
 *  3. resolution: for no environment and for each environment named, the
 *     sections are merged in order (a parent before its child, a file's
 *     top level before its environment section) into a rule list indexed
 *     by id, and each list is checked as a whole: rules that can never all
 *     pass, an enforce fix that another rule refuses, the safety baseline.
 *     The chosen environment's list becomes the policy.
 * Sections are merged onto a shared prefix (everything before the first
 * section of that environment), so each environment costs its own sections
 * and one copy of the rule list: loading is linear in their number.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

#define BUILTIN_DEFAULT "builtin:default"
#define MAX_EXTENDS_DEPTH 16

/*
 * Where an error is: a source and a JSON path, built on the way down as a
 * chain of members and indexes and written out only when needed, so that
 * no path is ever cut short on the way.
 */
typedef struct where_s {
        const char *source;
        const struct where_s *up; /* NULL: the top of the document, or `flat` */
        const char *key;          /* a member name, or NULL for [index] */
        size_t index;
        const char *flat; /* a whole path written out (where a rule came from) */
} where_t;

static where_t where_key(const where_t *up, const char *key)
{
        return (where_t){.source = up->source, .up = up, .key = key};
}

static where_t where_index(const where_t *up, size_t index)
{
        return (where_t){.source = up->source, .up = up, .index = index};
}

/* A member name as it appears in a path: control characters escaped, so
 * that a key cannot break an error message into lines. */
static void append_key(ksafe_buf_t *buf, const char *key)
{
        for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
                if (*p == '\n')
                        ksafe_buf__append(buf, "\\n", 2);
                else if (*p < 0x20 || *p == 0x7f)
                        ksafe_buf__printf(buf, "\\x%02x", *p);
                else
                        ksafe_buf__append(buf, (const char *)p, 1);
        }
}

static void where_format(const where_t *w, ksafe_buf_t *buf)
{
        if (w->flat) {
                ksafe_buf__append(buf, w->flat, strlen(w->flat));
                return;
        }
        if (!w->up)
                return;
        where_format(w->up, buf);
        if (!w->key) {
                ksafe_buf__printf(buf, "[%zu]", w->index);
                return;
        }
        if (buf->len)
                ksafe_buf__append(buf, ".", 1);
        append_key(buf, w->key);
}

/* The path of `w` (free() it), or NULL when out of memory. */
static char *where_path(const where_t *w)
{
        ksafe_buf_t buf = {0};
        where_format(w, &buf);
        return ksafe_buf__take(&buf);
}

typedef struct loader_s loader_t;
static bool fail(loader_t *L, const where_t *w, const char *fmt, ...) KSAFE_PRINTF(3, 4);

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

static bool is_scalar(const json_t *v)
{
        return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/*
 * Phase 1: structure. Everything the JSON Schema (conf/policy.schema.json)
 * says about types, fields and required fields, checked on the whole
 * document before any value is given a meaning.
 */

static const char *const rule_fields[] = {
        "id",       "property",  "equals", "one_of", "min", "max", "min_sum",
        "required", "forbidden", "set",    "action", "why", "off",
};

static bool parse_action(const char *s, ksafe_action_t *out)
{
        static const ksafe_action_t all[] = {KSAFE_ACTION_ENFORCE, KSAFE_ACTION_REJECT,
                                             KSAFE_ACTION_WARN};
        for (size_t i = 0; i < 3; i++)
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
                        return fail(L, f, "must be a string, not %s", json_type_name(v));
                if (!strcmp(key, "action") && !parse_action(json_string_value(v), &action))
                        return fail(L, f, "unknown action \"%s\" (enforce, reject or warn)",
                                    json_string_value(v));
        } else if (!strcmp(key, "property")) {
                if (!json_is_string(v))
                        return fail(L, f, "must be a property name (a string), not %s",
                                    json_type_name(v));
        } else if (!strcmp(key, "min") || !strcmp(key, "max")) {
                if (!json_is_number(v))
                        return fail(L, f, "must be a number, not %s", json_type_name(v));
        } else if (!strcmp(key, "required") || !strcmp(key, "forbidden") ||
                   !strcmp(key, "off")) {
                if (!json_is_boolean(v))
                        return fail(L, f, "must be true or false, not %s", json_type_name(v));
        } else if (!strcmp(key, "equals") || !strcmp(key, "set")) {
                if (!is_scalar(v))
                        return fail(L, f, "must be a string, number or boolean, not %s",
                                    json_type_name(v));
        } else if (!strcmp(key, "one_of") || !strcmp(key, "min_sum")) {
                if (!json_is_array(v) || json_array_size(v) == 0)
                        return fail(L, f, "must be a non-empty array");
                size_t i;
                const json_t *item;
                json_array_foreach(v, i, item) {
                        where_t iw = where_index(f, i);
                        if (!strcmp(key, "one_of") && !is_scalar(item))
                                return fail(L, &iw, "must be a string, number or boolean, not %s",
                                            json_type_name(item));
                        if (!strcmp(key, "min_sum") && !json_is_string(item))
                                return fail(L, &iw,
                                            "must be a property name (a string), not %s",
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
                        return fail(L, w, "cannot hold control characters (it is printed in "
                                          "every finding)");
        return true;
}

static bool check_rule_structure(loader_t *L, const where_t *w, const json_t *obj,
                                 bool is_override)
{
        if (!json_is_object(obj))
                return fail(L, w, "must be an object, not %s", json_type_name(obj));
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)obj, key, v) {
                where_t f = where_key(w, key);
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
                if (!check_field(L, &f, key, v))
                        return false;
        }
        if (is_override && json_object_size(obj) == 0)
                return fail(L, w, "an override changes at least one field (or has \"off\": "
                                  "true)");
        if (is_override)
                return true;
        const json_t *id = json_object_get(obj, "id");
        if (!id || !*json_string_value(id))
                return fail(L, w, "a rule needs an \"id\"");
        where_t idw = where_key(w, "id");
        if (strncmp(json_string_value(id), "ksafe-", 6) == 0)
                return fail(L, &idw, "rule ids starting with \"ksafe-\" are reserved");
        if (!printable_name(L, &idw, json_string_value(id)))
                return false;
        if (!json_object_get(obj, "property"))
                return fail(L, w, "rule \"%s\" needs a \"property\"", json_string_value(id));
        if (!json_object_get(obj, "action"))
                return fail(L, w, "rule \"%s\" needs an \"action\" (enforce, reject or warn)",
                            json_string_value(id));
        return true;
}

static bool check_rules_structure(loader_t *L, const where_t *w, const json_t *rules)
{
        if (!json_is_array(rules))
                return fail(L, w, "must be an array of rules, not %s", json_type_name(rules));
        size_t i;
        const json_t *obj;
        json_array_foreach(rules, i, obj) {
                where_t rw = where_index(w, i);
                if (!check_rule_structure(L, &rw, obj, false))
                        return false;
        }
        return true;
}

static bool check_overrides_structure(loader_t *L, const where_t *w, const json_t *overrides)
{
        if (!json_is_object(overrides))
                return fail(L, w, "must be an object of rule ids, not %s",
                            json_type_name(overrides));
        const char *id;
        json_t *obj;
        json_object_foreach((json_t *)overrides, id, obj) {
                where_t ow = where_key(w, id);
                if (!check_rule_structure(L, &ow, obj, true))
                        return false;
        }
        return true;
}

static bool check_environment_structure(loader_t *L, const where_t *ew, const json_t *env)
{
        if (!json_is_object(env))
                return fail(L, ew, "must be an object, not %s", json_type_name(env));
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)env, key, v) {
                where_t kw = where_key(ew, key);
                if (strcmp(key, "description") == 0) {
                        if (!json_is_string(v))
                                return fail(L, &kw, "must be a string, not %s",
                                            json_type_name(v));
                } else if (strcmp(key, "rules") == 0) {
                        if (!check_rules_structure(L, &kw, v))
                                return false;
                } else if (strcmp(key, "override") == 0) {
                        if (!check_overrides_structure(L, &kw, v))
                                return false;
                } else {
                        return fail(L, &kw,
                                    "unknown field \"%s\" (description, rules, override)", key);
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
        "$schema", "ksafe_policy", "name", "description", "extends",
        "allow_unsafe", "rules", "override", "environments",
};

static bool check_doc_structure(loader_t *L, const where_t *top, const json_t *doc)
{
        if (!json_is_object(doc))
                return fail(L, top, "a policy must be a JSON object, not %s",
                            json_type_name(doc));
        /* First whether it is a policy at all: other errors would be noise. */
        const json_t *version = json_object_get(doc, "ksafe_policy");
        if (!json_is_integer(version) || json_integer_value(version) != 1) {
                where_t f = where_key(top, "ksafe_policy");
                return fail(L, &f,
                            "must be 1 (the policy format version); is this a ksafe policy?");
        }
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)doc, key, v) {
                where_t f = where_key(top, key);
                size_t i = 0;
                for (; i < sizeof(top_fields) / sizeof(*top_fields); i++)
                        if (strcmp(key, top_fields[i]) == 0)
                                break;
                if (i == sizeof(top_fields) / sizeof(*top_fields))
                        return fail(L, &f, "unknown field \"%s\"", key);
                bool ok = true;
                if (!strcmp(key, "name") || !strcmp(key, "description") ||
                    !strcmp(key, "$schema")) {
                        if (!json_is_string(v))
                                ok = fail(L, &f, "must be a string, not %s", json_type_name(v));
                        else if (!strcmp(key, "name"))
                                ok = printable_name(L, &f, json_string_value(v));
                } else if (!strcmp(key, "extends")) {
                        if (!json_is_string(v))
                                ok = fail(L, &f, "must be \"builtin:default\" or a path, not %s",
                                          json_type_name(v));
                } else if (!strcmp(key, "allow_unsafe")) {
                        if (!json_is_boolean(v))
                                ok = fail(L, &f, "must be true or false, not %s",
                                          json_type_name(v));
                } else if (!strcmp(key, "rules")) {
                        ok = check_rules_structure(L, &f, v);
                } else if (!strcmp(key, "override")) {
                        ok = check_overrides_structure(L, &f, v);
                } else if (!strcmp(key, "environments")) {
                        if (!json_is_object(v))
                                return fail(L, &f, "must be an object of environments, not %s",
                                            json_type_name(v));
                        const char *name;
                        json_t *env;
                        json_object_foreach(v, name, env) {
                                where_t ew = where_key(&f, name);
                                if (!valid_env_name(name))
                                        return fail(L, &f, "environment names are 1 to 64 "
                                                           "letters, digits, '-' or '_'");
                                if (!check_environment_structure(L, &ew, env))
                                        return false;
                        }
                }
                if (!ok)
                        return false;
        }
        return true;
}

/*
 * Phase 2: rules
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

/* A deep copy of `r` into `out`; false (out empty) when out of memory. */
static bool rule_dup(const ksafe_rule_t *r, ksafe_rule_t *out)
{
        *out = *r;
        out->id = ksafe__strdup(r->id);
        out->property = ksafe__strdup(r->property);
        out->equals = ksafe__strdup(r->equals);
        out->equals_raw = ksafe__strdup(r->equals_raw);
        out->set = ksafe__strdup(r->set);
        out->why = ksafe__strdup(r->why);
        out->one_of = NULL;
        out->one_of_raw = NULL;
        out->one_of_count = 0;
        out->min_sum = NULL;
        out->min_sum_raw = NULL;
        out->min_sum_count = 0;
        bool ok = out->id && out->property && (out->equals || !r->equals) &&
                  (out->equals_raw || !r->equals_raw) && (out->set || !r->set) &&
                  (out->why || !r->why);
        if (ok && r->one_of_count) {
                out->one_of = calloc(r->one_of_count, sizeof(*out->one_of));
                out->one_of_raw = calloc(r->one_of_count, sizeof(*out->one_of_raw));
                ok = out->one_of && out->one_of_raw;
                for (size_t i = 0; ok && i < r->one_of_count; i++) {
                        out->one_of[i] = strdup(r->one_of[i]);
                        out->one_of_raw[i] = strdup(r->one_of_raw[i]);
                        out->one_of_count++;
                        ok = out->one_of[i] && out->one_of_raw[i];
                }
        }
        if (ok && r->min_sum_count) {
                out->min_sum = calloc(r->min_sum_count, sizeof(*out->min_sum));
                out->min_sum_raw = calloc(r->min_sum_count, sizeof(*out->min_sum_raw));
                ok = out->min_sum && out->min_sum_raw;
                for (size_t i = 0; ok && i < r->min_sum_count; i++) {
                        out->min_sum[i] = r->min_sum[i];
                        out->min_sum_raw[i] = strdup(r->min_sum_raw[i]);
                        out->min_sum_count++;
                        ok = out->min_sum_raw[i] != NULL;
                }
        }
        if (!ok)
                rule_free(out);
        return ok;
}

static const ksafe_prop_t *known_property(loader_t *L, const where_t *w, const json_t *v,
                                          const ksafe_props_t *props)
{
        const char *name = json_string_value(v);
        const ksafe_prop_t *p = ksafe_props__find(props, name);
        if (!p) {
                const char *hint = ksafe_props__suggest(props, name);
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
                fail(L, w, "out of memory");
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
        char *out = ksafe_prop__parse(p, raw, why, sizeof(why));
        bool ok = out != NULL;
        if (!ok)
                fail(L, w, "not a valid value for %s: %s", p->name, why);
        else if (ksafe_prop__misread(p, raw, out, why, sizeof(why)))
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

/* Without libm (which the library does not link): whole numbers of a double. */
static double whole_down(double x)
{
        if (!isfinite(x) || x >= 4503599627370496.0 || x <= -4503599627370496.0)
                return x; /* already whole */
        double t = (double)(long long)x;
        return t > x ? t - 1 : t;
}

static double whole_up(double x)
{
        double t = whole_down(x);
        return t < x ? t + 1 : t;
}

static double dmax(double a, double b)
{
        return a > b ? a : b;
}

static double dmin(double a, double b)
{
        return a < b ? a : b;
}

static bool is_numeric(const ksafe_prop_t *p)
{
        return p->type == KSAFE_PROP_INT || p->type == KSAFE_PROP_FLOAT;
}

/*
 * Whether some value of `p` lies in [lo, hi] as the engine compares
 * numbers: within librdkafka's own range for the property, a whole number
 * for an integer property, and 0 read as infinite where librdkafka says
 * "0 is infinite" (so 0 passes any min but no max).
 */
static bool range_meets(const ksafe_prop_t *p, double lo, double hi)
{
        double plo = p->has_range ? p->min : -INFINITY;
        double phi = p->has_range ? p->max : INFINITY;
        bool zero_ok = plo <= 0 && 0 <= phi;
        if (p->zero_infinite && zero_ok && hi == INFINITY)
                return true; /* 0, infinite */
        double l = dmax(lo, plo), h = dmin(hi, phi);
        if (p->type == KSAFE_PROP_INT) {
                l = whole_up(l);
                h = whole_down(h);
        }
        if (l > h)
                return false;
        /* 0 is not a finite value of a "0 is infinite" property. */
        if (p->zero_infinite && l == 0 && h == 0)
                return false;
        return true;
}

/* librdkafka's range of `p` for a message: "0..2147483647, 0 is infinite". */
static void describe_range(const ksafe_prop_t *p, char *buf, size_t size)
{
        snprintf(buf, size, "%.15g..%.15g%s", p->min, p->max,
                 p->zero_infinite ? ", where 0 means infinite" : "");
}

/*
 * What a rule alone can never mean: a fractional bound on an integer
 * property (enforcement would round it into a violation), a bound that
 * leaves no value librdkafka accepts, and equals/one_of values outside the
 * rule's own bounds or its own one_of.
 */
static bool check_rule_meaning(loader_t *L, const where_t *w, const ksafe_rule_t *r)
{
        const char *const names[2] = {"min", "max"};
        const unsigned bits[2] = {KSAFE_CHECK_MIN, KSAFE_CHECK_MAX};
        const double bounds[2] = {r->min, r->max};
        char range[128];
        for (int b = 0; b < 2; b++) {
                if (!(r->checks & bits[b]))
                        continue;
                where_t f = where_key(w, names[b]);
                if (r->prop->type == KSAFE_PROP_INT && bounds[b] != whole_down(bounds[b]))
                        return fail(L, &f,
                                    "must be a whole number: %s is an integer property, not %.15g",
                                    r->prop->name, bounds[b]);
        }
        describe_range(r->prop, range, sizeof(range));
        if ((r->checks & KSAFE_CHECK_MAX) && !range_meets(r->prop, -INFINITY, r->max)) {
                where_t f = where_key(w, "max");
                return fail(L, &f,
                            "max %.15g is below every value librdkafka accepts for %s (%s): no "
                            "configuration could pass",
                            r->max, r->prop->name, range);
        }
        if ((r->checks & KSAFE_CHECK_MIN) && !range_meets(r->prop, r->min, INFINITY)) {
                where_t f = where_key(w, "min");
                return fail(L, &f,
                            "min %.15g is above every value librdkafka accepts for %s (%s): no "
                            "configuration could pass",
                            r->min, r->prop->name, range);
        }
        if ((r->checks & KSAFE_CHECK_MIN) && (r->checks & KSAFE_CHECK_MAX) &&
            !range_meets(r->prop, r->min, r->max)) {
                where_t f = where_key(w, "min");
                return fail(L, &f, "no value of %s lies between min %.15g and max %.15g",
                            r->prop->name, r->min, r->max);
        }
        /* Values: each must pass the rule's other checks. */
        ksafe_rule_t bounds_only = *r;
        bounds_only.checks &= KSAFE_CHECK_MIN | KSAFE_CHECK_MAX;
        bool secret = r->prop->sensitive;
        if (r->checks & KSAFE_CHECK_EQUALS) {
                where_t f = where_key(w, "equals");
                if (!ksafe_rule__accepts(&bounds_only, r->equals, -INFINITY))
                        return fail(L, &f, "%s is outside the rule's own min/max: the rule "
                                           "could never pass",
                                    secret ? KSAFE_REDACTED : r->equals_raw);
                ksafe_rule_t one_of_only = *r;
                one_of_only.checks &= KSAFE_CHECK_ONE_OF;
                if (!ksafe_rule__accepts(&one_of_only, r->equals, -INFINITY))
                        return fail(L, &f, "%s is not one of the rule's own one_of: the rule "
                                           "could never pass",
                                    secret ? KSAFE_REDACTED : r->equals_raw);
        }
        for (size_t i = 0; (r->checks & KSAFE_CHECK_ONE_OF) && i < r->one_of_count; i++) {
                where_t of = where_key(w, "one_of");
                where_t f = where_index(&of, i);
                if (!ksafe_rule__accepts(&bounds_only, r->one_of[i], -INFINITY))
                        return fail(L, &f, "%s is outside the rule's own min/max: it could "
                                           "never pass",
                                    secret ? KSAFE_REDACTED : r->one_of_raw[i]);
        }
        return true;
}

/*
 * Whether a rule can be judged at all where ksafe meets a configuration
 * (a conf, a handle, a file). Every rule can be, today; a rule that some
 * source cannot judge (which librdkafka does not tell) is refused here,
 * with its reason, before it could pass unjudged.
 */
static bool check_rule_judgeable(loader_t *L, const where_t *w, const ksafe_rule_t *r)
{
        (void)L;
        (void)w;
        (void)r;
        return true;
}

/* Compile one rule object (its structure already checked); on error the
 * path names the bad field. */
static bool compile_rule(loader_t *L, const where_t *w, const json_t *obj,
                         const ksafe_props_t *props, ksafe_rule_t *r)
{
        *r = (ksafe_rule_t){0};
        const json_t *v;
        where_t f;

        v = json_object_get(obj, "id");
        if (!(r->id = strdup(json_string_value(v))))
                goto nomem;

        f = where_key(w, "property");
        v = json_object_get(obj, "property");
        if (!(r->prop = known_property(L, &f, v, props)))
                goto error;
        if (!(r->property = strdup(json_string_value(v))))
                goto nomem;

        parse_action(json_string_value(json_object_get(obj, "action")), &r->action);

        if ((v = json_object_get(obj, "why")) && !(r->why = strdup(json_string_value(v))))
                goto nomem;

        if ((v = json_object_get(obj, "equals"))) {
                f = where_key(w, "equals");
                r->checks |= KSAFE_CHECK_EQUALS;
                if (!(r->equals = parsed_value(L, &f, r->prop, v, &r->equals_raw)))
                        goto error;
        }
        if ((v = json_object_get(obj, "one_of"))) {
                size_t n = json_array_size(v);
                where_t of = where_key(w, "one_of");
                r->checks |= KSAFE_CHECK_ONE_OF;
                r->one_of = calloc(n, sizeof(*r->one_of));
                r->one_of_raw = calloc(n, sizeof(*r->one_of_raw));
                if (!r->one_of || !r->one_of_raw)
                        goto nomem;
                for (size_t i = 0; i < n; i++) {
                        f = where_index(&of, i);
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
                f = where_key(w, bounds[b]);
                if (!is_numeric(r->prop)) {
                        fail(L, &f, "%s is not a number property", r->prop->name);
                        goto error;
                }
                r->checks |= b == 0 ? KSAFE_CHECK_MIN : KSAFE_CHECK_MAX;
                *(b == 0 ? &r->min : &r->max) = json_number_value(v);
        }
        if ((r->checks & KSAFE_CHECK_MIN) && (r->checks & KSAFE_CHECK_MAX) && r->min > r->max) {
                f = where_key(w, "min");
                fail(L, &f, "min %g is greater than max %g", r->min, r->max);
                goto error;
        }
        if ((v = json_object_get(obj, "min_sum"))) {
                size_t n = json_array_size(v);
                where_t ms = where_key(w, "min_sum");
                if (!is_numeric(r->prop)) {
                        fail(L, &ms, "%s is not a number property", r->prop->name);
                        goto error;
                }
                r->checks |= KSAFE_CHECK_MIN_SUM;
                r->min_sum = calloc(n, sizeof(*r->min_sum));
                r->min_sum_raw = calloc(n, sizeof(*r->min_sum_raw));
                if (!r->min_sum || !r->min_sum_raw)
                        goto nomem;
                for (size_t i = 0; i < n; i++) {
                        f = where_index(&ms, i);
                        const ksafe_prop_t *p = known_property(L, &f, json_array_get(v, i), props);
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
                f = where_key(w, "forbidden");
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
        if (!check_rule_meaning(L, w, r))
                goto error;
        if ((v = json_object_get(obj, "set"))) {
                f = where_key(w, "set");
                char *raw = NULL;
                char *parsed = parsed_value(L, &f, r->prop, v, &raw);
                if (!parsed)
                        goto error;
                /* min_sum depends on other properties: judged later. */
                bool ok = ksafe_rule__accepts(r, parsed, -INFINITY);
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
                f = where_key(w, "action");
                fail(L, &f, "rule \"%s\" cannot be enforced without a value: add \"set\" or "
                            "use reject",
                     r->id);
                goto error;
        }
        if (!check_rule_judgeable(L, w, r))
                goto error;
        return true;

nomem:
        fail(L, w, "out of memory");
error:
        rule_free(r);
        return false;
}

/*
 * Documents: the files of an "extends" chain
 */

/* A file's top level, or one of its environment sections, with its rules
 * compiled once. */
typedef struct section_s {
        const json_t *json;
        const char *name;     /* the environment's name (in the JSON), or NULL */
        char *path;           /* "" or "environments.NAME" */
        ksafe_rule_t *rules;  /* its "rules", compiled, in order */
        char **origins;       /* the JSON path of each */
        size_t rule_count;
        bool merges;          /* has rules or an override */
} section_t;

typedef struct doc_s {
        json_t *json;
        char *source;        /* as named: in errors */
        char *dir;           /* where its relative "extends" resolve, or NULL */
        ksafe_file_id_t id;  /* which file it is, whatever it was called */
        bool is_file;
        section_t top;
        section_t *envs;     /* in document order */
        size_t env_count;
        json_t *env_index;   /* environment name -> index in envs */
} doc_t;

/* Things made while resolving one environment, freed together. */
typedef struct scratch_s {
        ksafe_rule_t **rules;
        size_t rule_count, rule_cap;
        char **strings;
        size_t string_count, string_cap;
        json_t *objects; /* an array */
} scratch_t;

struct loader_s {
        ksafe_props_t *props;
        ksafe_error_t *err;
        doc_t chain[MAX_EXTENDS_DEPTH + 1]; /* [0] the file loaded, then its parents */
        size_t depth;
        doc_t baseline;     /* the built-in default, for the baseline checks */
        bool has_baseline;
        json_t *env_names;  /* every environment name, root first (an object) */
        scratch_t scratch;
};

static bool fail(loader_t *L, const where_t *w, const char *fmt, ...)
{
        ksafe_buf_t tbuf = {0};
        va_list ap;
        va_start(ap, fmt);
        ksafe_buf__vprintf(&tbuf, fmt, ap);
        va_end(ap);
        char *text = ksafe_buf__take(&tbuf);
        char *raw = where_path(w);
        /* The path in the text is the one in err->path: escaped as
         * ksafe_error__set() escapes it, then cut the same way. */
        char *path = raw ? ksafe_report_escape(raw) : NULL;
        free(raw);
        char shown[sizeof(((ksafe_error_t *)NULL)->path)];
        ksafe_error__fit_tail(shown, sizeof(shown), path ? path : "");
        if (shown[0])
                ksafe_error__set(L->err, w->source, shown, 0, 0, "%s: %s", shown,
                                text ? text : "out of memory");
        else
                ksafe_error__set(L->err, w->source, "", 0, 0, "%s",
                                text ? text : "out of memory");
        free(path);
        free(text);
        return false;
}

static void section_free(section_t *s)
{
        for (size_t i = 0; i < s->rule_count; i++) {
                rule_free(&s->rules[i]);
                free(s->origins[i]);
        }
        free(s->rules);
        free(s->origins);
        free(s->path);
        *s = (section_t){0};
}

static void doc_free(doc_t *d)
{
        section_free(&d->top);
        for (size_t i = 0; i < d->env_count; i++)
                section_free(&d->envs[i]);
        free(d->envs);
        json_decref(d->env_index);
        json_decref(d->json);
        free(d->source);
        free(d->dir);
        *d = (doc_t){0};
}

static void scratch_release(scratch_t *s, size_t rules_mark, size_t strings_mark,
                            size_t objects_mark)
{
        while (s->rule_count > rules_mark) {
                ksafe_rule_t *r = s->rules[--s->rule_count];
                rule_free(r);
                free(r);
        }
        while (s->string_count > strings_mark)
                free(s->strings[--s->string_count]);
        while (json_array_size(s->objects) > objects_mark)
                json_array_remove(s->objects, json_array_size(s->objects) - 1);
}

static bool scratch_keep_string(scratch_t *s, char *str)
{
        if (!str)
                return false;
        if (s->string_count == s->string_cap) {
                size_t cap = s->string_cap ? 2 * s->string_cap : 16;
                char **more = realloc(s->strings, cap * sizeof(*more));
                if (!more) {
                        free(str);
                        return false;
                }
                s->strings = more;
                s->string_cap = cap;
        }
        s->strings[s->string_count++] = str;
        return true;
}

static ksafe_rule_t *scratch_new_rule(scratch_t *s)
{
        if (s->rule_count == s->rule_cap) {
                size_t cap = s->rule_cap ? 2 * s->rule_cap : 16;
                ksafe_rule_t **more = realloc(s->rules, cap * sizeof(*more));
                if (!more)
                        return NULL;
                s->rules = more;
                s->rule_cap = cap;
        }
        ksafe_rule_t *r = calloc(1, sizeof(*r));
        if (r)
                s->rules[s->rule_count++] = r;
        return r;
}

/* Compile the "rules" of a section, once for every environment. */
static bool compile_section(loader_t *L, const doc_t *doc, section_t *sec)
{
        const json_t *rules = json_object_get(sec->json, "rules");
        sec->merges = rules || json_object_get(sec->json, "override");
        size_t n = json_array_size(rules);
        if (!n)
                return true;
        sec->rules = calloc(n, sizeof(*sec->rules));
        sec->origins = calloc(n, sizeof(*sec->origins));
        where_t sw = {.source = doc->source, .flat = sec->path};
        where_t rw = where_key(&sw, "rules");
        if (!sec->rules || !sec->origins)
                return fail(L, &rw, "out of memory");
        for (size_t i = 0; i < n; i++) {
                where_t w = where_index(&rw, i);
                if (!compile_rule(L, &w, json_array_get(rules, i), L->props, &sec->rules[i]))
                        return false;
                sec->origins[i] = where_path(&w);
                sec->rule_count++;
                if (!sec->origins[i])
                        return fail(L, &w, "out of memory");
        }
        return true;
}

static bool compile_doc(loader_t *L, doc_t *doc)
{
        if (!compile_section(L, doc, &doc->top))
                return false;
        for (size_t i = 0; i < doc->env_count; i++)
                if (!compile_section(L, doc, &doc->envs[i]))
                        return false;
        return true;
}

/* Parse a document and check its structure; `doc` takes `source` and
 * `dir` (NULL allowed for dir). */
static bool open_doc(loader_t *L, doc_t *doc, const char *text, const char *source,
                     const char *dir)
{
        doc->source = strdup(source);
        doc->dir = ksafe__strdup(dir);
        doc->env_index = json_object();
        where_t top = {.source = source};
        if (!doc->source || (dir && !doc->dir) || !doc->env_index)
                return fail(L, &top, "out of memory");
        json_error_t jerr;
        if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
                text += 3; /* a UTF-8 BOM, as some editors write */
        doc->json = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc->json) {
                ksafe_error__set(L->err, source, "", jerr.line, jerr.column, "%s",
                                ksafe_error__json_text(&jerr));
                return false;
        }
        if (!check_doc_structure(L, &top, doc->json))
                return false;
        doc->top.json = doc->json;
        if (!(doc->top.path = strdup("")))
                return fail(L, &top, "out of memory");
        const json_t *envs = json_object_get(doc->json, "environments");
        size_t n = json_object_size(envs);
        if (n && !(doc->envs = calloc(n, sizeof(*doc->envs))))
                return fail(L, &top, "out of memory");
        const char *name;
        json_t *env;
        json_object_foreach((json_t *)envs, name, env) {
                section_t *sec = &doc->envs[doc->env_count];
                ksafe_buf_t path = {0};
                ksafe_buf__printf(&path, "environments.%s", name);
                sec->json = env;
                sec->name = name;
                sec->path = ksafe_buf__take(&path);
                json_t *index = json_integer((json_int_t)doc->env_count);
                if (!sec->path || json_object_set_new(doc->env_index, name, index))
                        return fail(L, &top, "out of memory");
                doc->env_count++;
        }
        return true;
}

static const section_t *doc_env(const doc_t *doc, const char *env)
{
        const json_t *at = env ? json_object_get(doc->env_index, env) : NULL;
        return at ? &doc->envs[json_integer_value(at)] : NULL;
}

/*
 * Read the file that "extends" names. A relative path is taken from the
 * folder of the real file that names it (symlinks resolved), so that a
 * file gives one answer whatever name it was reached by; a cycle is found
 * by file identity (device and inode), not by name.
 */
static bool load_chain(loader_t *L, const char *text, const char *source, const char *dir,
                       const ksafe_file_id_t *id)
{
        char *owned = NULL;
        bool ok = false;
        ksafe_file_id_t next_id;
        for (;;) {
                doc_t *doc = &L->chain[L->depth++];
                if (id) {
                        doc->id = *id;
                        doc->is_file = true;
                }
                if (!open_doc(L, doc, text, source, dir))
                        break;
                free(owned);
                owned = NULL;
                const json_t *v = json_object_get(doc->json, "extends");
                if (!v) {
                        ok = true;
                        break;
                }
                where_t top = {.source = doc->source};
                where_t w = where_key(&top, "extends");
                const char *target = json_string_value(v);
                if (strcmp(target, BUILTIN_DEFAULT) == 0) {
                        text = ksafe_policy__default_json;
                        source = BUILTIN_DEFAULT;
                        dir = NULL;
                        id = NULL;
                } else if (strncmp(target, "builtin:", 8) == 0) {
                        fail(L, &w, "unknown built-in policy \"%s\" (known: %s)", target,
                             BUILTIN_DEFAULT);
                        break;
                } else {
                        ksafe_buf_t pbuf = {0};
                        if (target[0] == '/' || !doc->dir)
                                ksafe_buf__printf(&pbuf, "%s", target);
                        else
                                ksafe_buf__printf(&pbuf, "%s/%s", doc->dir, target);
                        char *path = ksafe_buf__take(&pbuf); /* kept for the load */
                        if (!scratch_keep_string(&L->scratch, path)) {
                                fail(L, &w, "out of memory");
                                break;
                        }
                        char why[256];
                        size_t len;
                        ksafe_file_id_t fid;
                        owned = ksafe_file__read_regular(path, &len, &fid, why, sizeof(why));
                        if (!owned) {
                                fail(L, &w, "cannot read \"%s\": %s", path, why);
                                break;
                        }
                        if (strlen(owned) != len) {
                                fail(L, &w, "\"%s\" contains a NUL byte", path);
                                break;
                        }
                        bool cycle = false;
                        for (size_t i = 0; i < L->depth; i++)
                                cycle |= L->chain[i].is_file && L->chain[i].id.dev == fid.dev &&
                                         L->chain[i].id.ino == fid.ino;
                        where_t ptop = {.source = path};
                        if (cycle) {
                                fail(L, &ptop, "\"extends\" cycle: %s extends itself", path);
                                break;
                        }
                        char real[PATH_MAX];
                        char *dcopy = strdup(realpath(path, real) ? real : path);
                        if (!dcopy || !scratch_keep_string(&L->scratch, dcopy)) {
                                fail(L, &w, "out of memory");
                                break;
                        }
                        text = owned;
                        source = path;
                        dir = dirname(dcopy);
                        next_id = fid;
                        id = &next_id;
                }
                if (L->depth == MAX_EXTENDS_DEPTH) {
                        where_t ptop = {.source = source};
                        fail(L, &ptop, "\"extends\" nested deeper than %d", MAX_EXTENDS_DEPTH);
                        break;
                }
        }
        free(owned);
        return ok;
}

/*
 * Phase 3: merging sections into rule lists, indexed by id
 */

typedef struct slot_s {
        const char *id;
        json_t *obj;              /* the rule as merged so far (borrowed) */
        const ksafe_rule_t *rule; /* obj, compiled (borrowed) */
        const char *source;       /* where it was last written */
        const char *path;
        size_t written; /* when, in merge order: the latest is blamed */
        bool off;
} slot_t;

typedef struct state_s {
        slot_t *slots; /* in order; "off" ones stay as tombstones */
        size_t count, cap;
        size_t *table; /* open addressing: slot index + 1, 0 empty */
        size_t table_cap;
        size_t writes;
} state_t;

static void state_free(state_t *st)
{
        free(st->slots);
        free(st->table);
        *st = (state_t){0};
}

static size_t hash_id(const char *s)
{
        size_t h = 14695981039346656037ull & SIZE_MAX;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * (1099511628211ull & SIZE_MAX);
        return h;
}

/* Index slot i under its id; a later slot of the same id takes the place. */
static void state_index(state_t *st, size_t i)
{
        size_t mask = st->table_cap - 1, h = hash_id(st->slots[i].id) & mask;
        while (st->table[h] && strcmp(st->slots[st->table[h] - 1].id, st->slots[i].id) != 0)
                h = (h + 1) & mask;
        st->table[h] = i + 1;
}

/* The live slot of rule `id`, or -1. */
static ptrdiff_t state_find(const state_t *st, const char *id)
{
        if (!st->table_cap)
                return -1;
        size_t mask = st->table_cap - 1, h = hash_id(id) & mask;
        while (st->table[h]) {
                const slot_t *s = &st->slots[st->table[h] - 1];
                if (strcmp(s->id, id) == 0)
                        return s->off ? -1 : (ptrdiff_t)(st->table[h] - 1);
                h = (h + 1) & mask;
        }
        return -1;
}

static bool state_append(state_t *st, const slot_t *slot)
{
        if (st->count == st->cap) {
                size_t cap = st->cap ? 2 * st->cap : 16;
                slot_t *more = realloc(st->slots, cap * sizeof(*more));
                if (!more)
                        return false;
                st->slots = more;
                st->cap = cap;
        }
        st->slots[st->count] = *slot;
        st->slots[st->count].written = ++st->writes;
        if ((st->count + 1) * 2 > st->table_cap) {
                size_t cap = st->table_cap ? 2 * st->table_cap : 32;
                size_t *table = calloc(cap, sizeof(*table));
                if (!table)
                        return false;
                free(st->table);
                st->table = table;
                st->table_cap = cap;
                for (size_t i = 0; i < st->count; i++)
                        state_index(st, i);
        }
        state_index(st, st->count);
        st->count++;
        return true;
}

static bool state_copy(state_t *dst, const state_t *src)
{
        *dst = (state_t){0};
        if (!src->cap)
                return true;
        dst->slots = malloc(src->cap * sizeof(*dst->slots));
        dst->table = malloc(src->table_cap * sizeof(*dst->table));
        if (!dst->slots || !dst->table) {
                state_free(dst);
                return false;
        }
        memcpy(dst->slots, src->slots, src->count * sizeof(*dst->slots));
        memcpy(dst->table, src->table, src->table_cap * sizeof(*dst->table));
        dst->count = src->count;
        dst->cap = src->cap;
        dst->table_cap = src->table_cap;
        dst->writes = src->writes;
        return true;
}

/* A section's "rules" (added) and "override" (applied to the rules so far,
 * inherited ones included). */
static bool apply_section(loader_t *L, state_t *st, const doc_t *doc, const section_t *sec)
{
        where_t sw = {.source = doc->source, .flat = sec->path};
        const json_t *rules = json_object_get(sec->json, "rules");
        where_t rw = where_key(&sw, "rules");
        for (size_t i = 0; i < sec->rule_count; i++) {
                const ksafe_rule_t *r = &sec->rules[i];
                where_t w = where_index(&rw, i);
                ptrdiff_t dup = state_find(st, r->id);
                if (dup >= 0)
                        return fail(L, &w,
                                    "duplicate rule id \"%s\" (first defined at %s: %s); change "
                                    "an inherited rule with \"override\"",
                                    r->id, st->slots[dup].source, st->slots[dup].path);
                slot_t s = {.id = r->id,
                            .obj = json_array_get(rules, i),
                            .rule = r,
                            .source = doc->source,
                            .path = sec->origins[i]};
                if (!state_append(st, &s))
                        return fail(L, &w, "out of memory");
        }
        const json_t *overrides = json_object_get(sec->json, "override");
        where_t ow = where_key(&sw, "override");
        const char *id;
        json_t *obj;
        json_object_foreach((json_t *)overrides, id, obj) {
                where_t w = where_key(&ow, id);
                ptrdiff_t at = state_find(st, id);
                if (at < 0)
                        return fail(L, &w, "no rule \"%s\" to override", id);
                slot_t *s = &st->slots[at];
                if (json_is_true(json_object_get(obj, "off"))) {
                        s->off = true;
                        continue;
                }
                json_t *merged = json_copy(s->obj);
                ksafe_rule_t *r = scratch_new_rule(&L->scratch);
                char *path = where_path(&w);
                if (!merged || json_array_append_new(L->scratch.objects, merged) || !r ||
                    !scratch_keep_string(&L->scratch, path))
                        return fail(L, &w, "out of memory");
                json_object_update(merged, obj);
                json_object_del(merged, "off");
                if (!compile_rule(L, &w, merged, L->props, r))
                        return false;
                s->obj = merged;
                s->rule = r;
                s->source = doc->source;
                s->path = path;
                s->written = ++st->writes;
        }
        return true;
}

/* Where slot s was last written, as a where_t. */
static where_t slot_where(const slot_t *s)
{
        return (where_t){.source = s->source, .flat = s->path};
}

/*
 * Phase 3: checking a rule list as a whole
 */

/* Whether one value of the property can pass all of rs[0..n) (the rules of
 * one property). min_sum depends on other properties and is left out; a
 * forbidden property is judged by its default, which finalize may change,
 * so only "required" contradicts it. */
static bool rules_meet(const ksafe_rule_t *const *rs, size_t n)
{
        bool required = false, forbidden = false;
        const ksafe_rule_t *finite = NULL;
        double lo = -INFINITY, hi = INFINITY;
        for (size_t i = 0; i < n; i++) {
                unsigned c = rs[i]->checks;
                required |= (c & KSAFE_CHECK_REQUIRED) != 0;
                forbidden |= (c & KSAFE_CHECK_FORBIDDEN) != 0;
                if (!finite && (c & (KSAFE_CHECK_EQUALS | KSAFE_CHECK_ONE_OF)))
                        finite = rs[i];
                if (c & KSAFE_CHECK_MIN)
                        lo = dmax(lo, rs[i]->min);
                if (c & KSAFE_CHECK_MAX)
                        hi = dmin(hi, rs[i]->max);
        }
        if (forbidden)
                return !required;
        if (finite) {
                bool eq = finite->checks & KSAFE_CHECK_EQUALS;
                size_t m = eq ? 1 : finite->one_of_count;
                for (size_t k = 0; k < m; k++) {
                        const char *value = eq ? finite->equals : finite->one_of[k];
                        size_t i = 0;
                        while (i < n && ksafe_rule__accepts(rs[i], value, -INFINITY))
                                i++;
                        if (i == n)
                                return true;
                }
                return false;
        }
        if (lo == -INFINITY && hi == INFINITY)
                return true;
        return range_meets(rs[0]->prop, lo, hi);
}

/* The value an enforce rule sets when `value` fails it, computed from the
 * rule alone as ksafe_rule__fix() does (free() it); NULL when there is none
 * that does not depend on other properties. */
static char *static_fix(const ksafe_rule_t *r, const char *value)
{
        char errstr[256];
        if (r->checks & KSAFE_CHECK_FORBIDDEN)
                return NULL;
        if (r->set)
                return ksafe_prop__parse(r->prop, r->set, errstr, sizeof(errstr));
        if (r->checks & KSAFE_CHECK_EQUALS)
                return strdup(r->equals);
        if (r->checks & KSAFE_CHECK_ONE_OF)
                return strdup(r->one_of[0]);
        double n;
        if (!(r->checks & (KSAFE_CHECK_MIN | KSAFE_CHECK_MAX)) || !value ||
            !ksafe_prop__number(r->prop, value, &n))
                return NULL;
        if ((r->checks & KSAFE_CHECK_MIN) && n < r->min)
                n = r->min;
        if ((r->checks & KSAFE_CHECK_MAX) && n > r->max)
                n = r->max;
        if (!isfinite(n))
                return NULL;
        if (r->prop->type == KSAFE_PROP_INT)
                n = whole_up(n);
        char buf[64];
        snprintf(buf, sizeof(buf), "%.15g", n);
        return strdup(buf);
}

/* b's range lies within a's: a never repairs a value that b passes. */
static bool range_within(const ksafe_rule_t *b, const ksafe_rule_t *a)
{
        if (a->checks & (KSAFE_CHECK_EQUALS | KSAFE_CHECK_ONE_OF))
                return false;
        if ((a->checks & KSAFE_CHECK_MIN) && !((b->checks & KSAFE_CHECK_MIN) && b->min >= a->min))
                return false;
        if ((a->checks & KSAFE_CHECK_MAX) && !((b->checks & KSAFE_CHECK_MAX) && b->max <= a->max))
                return false;
        return true;
}

/* A value that enforce rule `a` sets on a configuration that rule `b`
 * passes, and that `b` then refuses (free() it); NULL when there is none. */
static char *fix_refused(const ksafe_rule_t *a, const ksafe_rule_t *b)
{
        if (b->checks & (KSAFE_CHECK_EQUALS | KSAFE_CHECK_ONE_OF)) {
                bool eq = b->checks & KSAFE_CHECK_EQUALS;
                size_t m = eq ? 1 : b->one_of_count;
                for (size_t k = 0; k < m; k++) {
                        const char *c = eq ? b->equals : b->one_of[k];
                        if (!ksafe_rule__accepts(b, c, -INFINITY) ||
                            ksafe_rule__accepts(a, c, -INFINITY))
                                continue;
                        char *fix = static_fix(a, c);
                        if (fix && !ksafe_rule__accepts(b, fix, -INFINITY))
                                return fix;
                        free(fix);
                }
                return NULL;
        }
        /* b is a range: clamping into a's range stays within b (both are
         * intervals that meet); a fixed value must pass b, unless a never
         * repairs what b passes. */
        char *fix = static_fix(a, NULL);
        if (fix && (ksafe_rule__accepts(b, fix, -INFINITY) || range_within(b, a))) {
                free(fix);
                fix = NULL;
        }
        return fix;
}

typedef struct live_s {
        const ksafe_rule_t *rule;
        size_t slot;
} live_t;

static int live_cmp(const void *x, const void *y)
{
        const live_t *a = x, *b = y;
        uintptr_t pa = (uintptr_t)a->rule->prop, pb = (uintptr_t)b->rule->prop;
        if (pa != pb)
                return pa < pb ? -1 : 1;
        return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* Of two rules, the one written last: where a conflict between them is
 * reported, since that is the edit that made it. */
static const slot_t *latest(const state_t *st, const live_t *a, const live_t *b)
{
        const slot_t *x = &st->slots[a->slot], *y = &st->slots[b->slot];
        return y->written > x->written ? y : x;
}

static bool check_group(loader_t *L, const state_t *st, const live_t *g, size_t n,
                        const char *env)
{
        char in_env[96] = "";
        if (env)
                snprintf(in_env, sizeof(in_env), " in environment %s", env);
        /* Two that can never both pass: name them. */
        for (size_t j = 1; j < n; j++)
                for (size_t i = 0; i < j; i++) {
                        const ksafe_rule_t *pair[2] = {g[i].rule, g[j].rule};
                        if (rules_meet(pair, 2))
                                continue;
                        ksafe_buf_t a = {0}, b = {0};
                        ksafe_rule__describe(pair[0], NULL, &a);
                        ksafe_rule__describe(pair[1], NULL, &b);
                        char *as = ksafe_buf__take(&a), *bs = ksafe_buf__take(&b);
                        where_t w = slot_where(latest(st, &g[i], &g[j]));
                        fail(L, &w,
                             "rules \"%s\" and \"%s\" can never both pass%s: no value of %s is "
                             "both %s and %s",
                             pair[0]->id, pair[1]->id, in_env, pair[0]->prop->name,
                             as ? as : "?", bs ? bs : "?");
                        free(as);
                        free(bs);
                        return false;
                }
        const ksafe_rule_t **all = calloc(n, sizeof(*all));
        if (!all) {
                where_t w = slot_where(&st->slots[g[0].slot]);
                return fail(L, &w, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
                all[i] = g[i].rule;
        bool meet = rules_meet(all, n);
        free(all);
        if (!meet) {
                ksafe_buf_t ids = {0};
                for (size_t i = 0; i < n; i++)
                        ksafe_buf__printf(&ids, "%s\"%s\"", i ? ", " : "", g[i].rule->id);
                char *s = ksafe_buf__take(&ids);
                const slot_t *last = &st->slots[g[0].slot];
                for (size_t i = 1; i < n; i++)
                        last = latest(st, &(live_t){.slot = (size_t)(last - st->slots)}, &g[i]);
                where_t w = slot_where(last);
                fail(L, &w, "rules %s can never all pass together%s: no value of %s satisfies "
                            "them all",
                     s ? s : "?", in_env, g[0].rule->prop->name);
                free(s);
                return false;
        }
        /* An enforce fix that another rule refuses. */
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                        const ksafe_rule_t *a = g[i].rule, *b = g[j].rule;
                        if (i == j || a->action != KSAFE_ACTION_ENFORCE ||
                            b->action == KSAFE_ACTION_WARN)
                                continue;
                        char *fix = fix_refused(a, b);
                        if (!fix)
                                continue;
                        where_t w = slot_where(latest(st, &g[i], &g[j]));
                        fail(L, &w, "rule \"%s\" enforces %s=%s, which rule \"%s\" refuses%s",
                             a->id, a->property, a->prop->sensitive ? KSAFE_REDACTED : fix,
                             b->id, in_env);
                        free(fix);
                        return false;
                }
        return true;
}

/* Rules of one property that can never all pass, and enforce fixes that
 * another rule refuses: a policy that cannot mean what it says. */
static bool check_rules_together(loader_t *L, const state_t *st, const char *env)
{
        live_t *live = calloc(st->count + 1, sizeof(*live));
        if (!live) {
                where_t w = {.source = L->chain[0].source};
                return fail(L, &w, "out of memory");
        }
        size_t n = 0;
        for (size_t i = 0; i < st->count; i++)
                if (!st->slots[i].off)
                        live[n++] = (live_t){.rule = st->slots[i].rule, .slot = i};
        qsort(live, n, sizeof(*live), live_cmp);
        bool ok = true;
        for (size_t i = 0, j; ok && i < n; i = j) {
                for (j = i + 1; j < n && live[j].rule->prop == live[i].rule->prop; j++)
                        ;
                if (j - i > 1)
                        ok = check_group(L, st, &live[i], j - i, env);
        }
        free(live);
        return ok;
}

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

/* The baseline may be made stricter; anything else needs allow_unsafe. */
static bool check_baseline(loader_t *L, const state_t *st, const state_t *base, const char *env)
{
        for (size_t i = 0; i < base->count; i++) {
                const slot_t *b = &base->slots[i];
                if (b->off)
                        continue;
                char why[512];
                ptrdiff_t at = state_find(st, b->id);
                const ksafe_rule_t *r = at >= 0 ? st->slots[at].rule : NULL;
                if (stricter_or_equal(b->rule, r, why, sizeof(why)))
                        continue;
                /* Point at where the rule was weakened, when it still exists. */
                where_t w = r ? slot_where(&st->slots[at])
                              : (where_t){.source = L->chain[0].source};
                return fail(L, &w,
                            "%s%s%s: weakening the safety baseline needs \"allow_unsafe\": true",
                            why, env ? " in environment " : "", env ? env : "");
        }
        return true;
}

static bool check_state(loader_t *L, const state_t *st, const state_t *base, const char *env)
{
        if (base && !check_baseline(L, st, base, env))
                return false;
        return check_rules_together(L, st, env);
}

/*
 * The rule list of one environment: the tops of every file up to the first
 * that has a section for it (a prefix shared by all environments), then
 * that section, then the tops and sections of the files below it.
 * *own: whether any section of `env` changes anything.
 */
static bool resolve_env(loader_t *L, const state_t *prefix, const char *env, state_t *out,
                        bool *own)
{
        size_t n = L->depth, k0 = n;
        for (size_t k = 0; k < n && k0 == n; k++) {
                const section_t *sec = doc_env(&L->chain[n - 1 - k], env);
                if (sec && sec->merges)
                        k0 = k;
        }
        *own = k0 < n;
        if (!*own)
                return state_copy(out, &prefix[n]) ||
                       fail(L, &(where_t){.source = L->chain[0].source}, "out of memory");
        if (!state_copy(out, &prefix[k0 + 1]))
                return fail(L, &(where_t){.source = L->chain[0].source}, "out of memory");
        const doc_t *doc = &L->chain[n - 1 - k0];
        if (!apply_section(L, out, doc, doc_env(doc, env)))
                return false;
        for (size_t k = k0 + 1; k < n; k++) {
                doc = &L->chain[n - 1 - k];
                const section_t *sec = doc_env(doc, env);
                if (!apply_section(L, out, doc, &doc->top) ||
                    (sec && !apply_section(L, out, doc, sec)))
                        return false;
        }
        return true;
}

static char *render_json(const ksafe_policy_t *policy, const json_t *rules)
{
        json_t *out = json_pack("{s:i, s:s, s:s?, s:b}", "ksafe_policy", 1, "name", policy->name,
                                "environment", policy->env, "allow_unsafe",
                                policy->allow_unsafe);
        json_t *list = json_deep_copy(rules);
        if (!out || !list) {
                json_decref(out);
                json_decref(list);
                return NULL;
        }
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

static bool unknown_env(loader_t *L, const char *env)
{
        ksafe_buf_t names = {0};
        const char *name;
        json_t *v;
        json_object_foreach(L->env_names, name, v) {
                ksafe_buf__printf(&names, "%s%s", names.len ? ", " : "", name);
        }
        char *s = ksafe_buf__take(&names);
        where_t w = {.source = L->chain[0].source};
        fail(L, &w, "unknown environment \"%s\" (known: %s)", env, s && *s ? s : "none");
        free(s);
        return false;
}

/* The policy from rule list `st` (rules copied). */
static ksafe_policy_t *build_policy(loader_t *L, const state_t *st, const char *env, bool render)
{
        where_t top = {.source = L->chain[0].source};
        ksafe_policy_t *policy = calloc(1, sizeof(*policy));
        json_t *objs = json_array();
        if (!policy || !objs)
                goto nomem;
        const json_t *name = json_object_get(L->chain[0].json, "name");
        policy->name = strdup(name ? json_string_value(name) : L->chain[0].source);
        policy->env = ksafe__strdup(env);
        policy->allow_unsafe = json_is_true(json_object_get(L->chain[0].json, "allow_unsafe"));
        policy->rules = calloc(st->count + 1, sizeof(*policy->rules));
        if (!policy->name || (env && !policy->env) || !policy->rules)
                goto nomem;
        for (size_t i = 0; i < st->count; i++) {
                if (st->slots[i].off)
                        continue;
                if (!rule_dup(st->slots[i].rule, &policy->rules[policy->rule_count]) ||
                    json_array_append(objs, st->slots[i].obj))
                        goto nomem;
                policy->rule_count++;
        }
        if (render && !(policy->resolved_json = render_json(policy, objs)))
                goto nomem;
        json_decref(objs);
        return policy;
nomem:
        json_decref(objs);
        ksafe_policy_destroy(policy);
        fail(L, &top, "out of memory");
        return NULL;
}

/* Resolve a policy text for `env`. With owns_props, the policy takes `props`
 * (and destroys it on failure); otherwise it only borrows it. `id` is the
 * file's identity when it is a file. Every environment the policy names is
 * resolved and checked too (and no environment), not only `env`. */
static ksafe_policy_t *resolve(ksafe_props_t *props, bool owns_props, const char *text,
                               const char *source, const char *dir, const ksafe_file_id_t *id,
                               const char *env, ksafe_error_t *err)
{
        loader_t L = {.props = props, .err = err};
        L.scratch.objects = json_array();
        L.env_names = json_object();
        env = env && *env ? env : NULL;
        state_t prefix[MAX_EXTENDS_DEPTH + 2] = {{0}};
        state_t base = {0}, chosen = {0};
        ksafe_policy_t *policy = NULL;
        bool ok = props && L.scratch.objects && L.env_names;
        if (!ok)
                ksafe_error__set(err, source, "", 0, 0, "out of memory");

        /* 1. Structure, of every file of the chain. */
        ok = ok && load_chain(&L, text, source, dir, id);
        for (size_t d = L.depth; ok && d-- > 0;)
                for (size_t i = 0; ok && i < L.chain[d].env_count; i++)
                        ok = json_object_set_new(L.env_names, L.chain[d].envs[i].name,
                                                 json_true()) == 0 ||
                             fail(&L, &(where_t){.source = source}, "out of memory");
        if (ok && env && !json_object_get(L.env_names, env))
                ok = unknown_env(&L, env);

        /* 2. Rules, parents first. */
        for (size_t d = L.depth; ok && d-- > 0;)
                ok = compile_doc(&L, &L.chain[d]);
        bool is_builtin = strcmp(source, BUILTIN_DEFAULT) == 0;
        bool allow_unsafe = ok && json_is_true(json_object_get(L.chain[0].json, "allow_unsafe"));
        bool with_baseline = !is_builtin && !allow_unsafe;
        if (ok && with_baseline) {
                L.has_baseline = true;
                ok = open_doc(&L, &L.baseline, ksafe_policy__default_json, BUILTIN_DEFAULT,
                              NULL) &&
                     compile_doc(&L, &L.baseline) &&
                     apply_section(&L, &base, &L.baseline, &L.baseline.top);
        }

        /* 3. Rule lists: the tops of the files, root first, then each
         * environment (the chosen one first, so its errors come first). */
        size_t n = L.depth;
        for (size_t k = 0; ok && k < n; k++)
                ok = (state_copy(&prefix[k + 1], &prefix[k]) ||
                      fail(&L, &(where_t){.source = source}, "out of memory")) &&
                     apply_section(&L, &prefix[k + 1], &L.chain[n - 1 - k],
                                   &L.chain[n - 1 - k].top);
        bool own = false;
        if (ok && env)
                ok = resolve_env(&L, prefix, env, &chosen, &own) &&
                     check_state(&L, &chosen, with_baseline ? &base : NULL, env);
        if (ok)
                ok = check_state(&L, &prefix[n], with_baseline ? &base : NULL, NULL);
        if (ok && !is_builtin) {
                const char *name;
                json_t *v;
                size_t rules_mark = L.scratch.rule_count, strings_mark = L.scratch.string_count,
                       objects_mark = json_array_size(L.scratch.objects);
                json_object_foreach(L.env_names, name, v) {
                        if (env && strcmp(name, env) == 0)
                                continue;
                        state_t st = {0};
                        ok = resolve_env(&L, prefix, name, &st, &own) &&
                             (!own || check_state(&L, &st, with_baseline ? &base : NULL, name));
                        state_free(&st);
                        scratch_release(&L.scratch, rules_mark, strings_mark, objects_mark);
                        if (!ok)
                                break;
                }
        }
        if (ok)
                ok = (policy = build_policy(&L, env ? &chosen : &prefix[n], env, true)) != NULL;

        for (size_t k = 0; k <= n; k++)
                state_free(&prefix[k]);
        state_free(&base);
        state_free(&chosen);
        for (size_t d = 0; d < L.depth; d++)
                doc_free(&L.chain[d]);
        doc_free(&L.baseline);
        scratch_release(&L.scratch, 0, 0, 0);
        free(L.scratch.rules);
        free(L.scratch.strings);
        json_decref(L.scratch.objects);
        json_decref(L.env_names);
        if (owns_props) {
                if (policy)
                        policy->props = props;
                else
                        ksafe_props__destroy(props);
        }
        return policy;
}

ksafe_policy_t *ksafe_policy_default(void)
{
        return resolve(ksafe_props__new(), true, ksafe_policy__default_json, BUILTIN_DEFAULT, NULL,
                       NULL, NULL, NULL);
}

ksafe_policy_t *ksafe_policy_load_string(const char *json, const char *env, ksafe_error_t *err)
{
        if (!json) {
                ksafe_error__set(err, "<string>", "", 0, 0, "no policy text given");
                return NULL;
        }
        return resolve(ksafe_props__new(), true, json, "<string>", NULL, NULL, env, err);
}

ksafe_policy_t *ksafe_policy_load(const char *path, const char *env, ksafe_error_t *err)
{
        if (!path) {
                ksafe_error__set(err, "", "", 0, 0, "no policy path given");
                return NULL;
        }
        if (strcmp(path, BUILTIN_DEFAULT) == 0)
                return resolve(ksafe_props__new(), true, ksafe_policy__default_json,
                               BUILTIN_DEFAULT, NULL, NULL, env, err);
        if (strncmp(path, "builtin:", 8) == 0) {
                ksafe_error__set(err, path, "", 0, 0, "unknown built-in policy \"%s\" (known: %s)",
                                path, BUILTIN_DEFAULT);
                return NULL;
        }
        size_t len;
        char why[256];
        ksafe_file_id_t id;
        char *text = ksafe_file__read_regular(path, &len, &id, why, sizeof(why));
        if (!text) {
                ksafe_error__set(err, path, "", 0, 0, "cannot read policy: %s", why);
                return NULL;
        }
        if (strlen(text) != len) {
                free(text);
                ksafe_error__set(err, path, "", 0, 0, "contains a NUL byte: not a policy");
                return NULL;
        }
        /* "extends" is relative to the real file, not to a symlink to it. */
        char real[PATH_MAX];
        char *dcopy = strdup(realpath(path, real) ? real : path);
        ksafe_policy_t *policy =
                dcopy ? resolve(ksafe_props__new(), true, text, path, dirname(dcopy), &id, env, err)
                      : NULL;
        if (!dcopy)
                ksafe_error__set(err, path, "", 0, 0, "out of memory");
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
        return resolve(ksafe_props__new(), true, ksafe_policy__default_json, BUILTIN_DEFAULT, NULL,
                       NULL, env, err);
}

void ksafe_policy_destroy(ksafe_policy_t *policy)
{
        if (!policy)
                return;
        for (size_t i = 0; i < policy->rule_count; i++)
                rule_free(&policy->rules[i]);
        free(policy->rules);
        ksafe_props__destroy(policy->props);
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
        return ksafe__strdup(policy->resolved_json);
}
