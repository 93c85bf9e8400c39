/*
 * Phase 2 of a policy load: one rule object compiled into a ksafe_rule_t:
 * property names looked up in librdkafka's table, values parsed as
 * librdkafka reads them, bounds, and what a rule alone can never mean.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

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

void ksafe_rule__free(ksafe_rule_t *r)
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
bool ksafe_rule__dup(const ksafe_rule_t *r, ksafe_rule_t *out)
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
                ksafe_rule__free(out);
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
                        ksafe_policy__fail(L, w, "unknown property \"%s\"; did you mean \"%s\"?", name, hint);
                else
                        ksafe_policy__fail(L, w, "unknown property \"%s\" (not in librdkafka %s)", name,
                             rd_kafka_version_str());
                return NULL;
        }
        if (p->type == KSAFE_PROP_POINTER) {
                ksafe_policy__fail(L, w, "property \"%s\" is set through a dedicated API and cannot be judged",
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
                ksafe_policy__fail(L, w, "out of memory");
                return NULL;
        }
        for (const char *c = raw; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                        free(raw);
                        ksafe_policy__fail(L, w, "a value cannot hold control characters (a newline would "
                                   "write a second line into a config)");
                        return NULL;
                }
        if (raw[0] && (isspace((unsigned char)raw[0]) ||
                       isspace((unsigned char)raw[strlen(raw) - 1]))) {
                free(raw);
                ksafe_policy__fail(L, w, "a value cannot start or end with a blank (config files trim them)");
                return NULL;
        }
        char *out = ksafe_prop__parse(p, raw, why, sizeof(why));
        bool ok = out != NULL;
        if (!ok)
                ksafe_policy__fail(L, w, "not a valid value for %s: %s", p->name, why);
        else if (ksafe_prop__misread(p, raw, out, why, sizeof(why)))
                ok = ksafe_policy__fail(L, w, "%s", why);
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

/*
 * Whether some value of `p` lies in [lo, hi] as the engine compares
 * numbers: within librdkafka's own range for the property, a whole number
 * for an integer property, and 0 read as infinite where librdkafka says
 * "0 is infinite" (so 0 passes any min but no max).
 */
bool ksafe_prop__range_meets(const ksafe_prop_t *p, double lo, double hi)
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
static bool check_bounds_meaning(loader_t *L, const where_t *w, const ksafe_rule_t *r)
{
        static const char *const names[] = {"min", "max"};
        static const unsigned bits[] = {KSAFE_CHECK_MIN, KSAFE_CHECK_MAX};
        const double bounds[] = {r->min, r->max};
        char range[128];
        for (size_t b = 0; b < ARRAY_SIZE(names); b++) {
                where_t f = where_key(w, names[b]);
                if ((r->checks & bits[b]) && r->prop->type == KSAFE_PROP_INT &&
                    bounds[b] != whole_down(bounds[b]))
                        return ksafe_policy__fail(L, &f,
                                                  "must be a whole number: %s is an integer "
                                                  "property, not %.15g",
                                                  r->prop->name, bounds[b]);
        }
        describe_range(r->prop, range, sizeof(range));
        where_t fmax = where_key(w, "max"), fmin = where_key(w, "min");
        if ((r->checks & KSAFE_CHECK_MAX) && !ksafe_prop__range_meets(r->prop, -INFINITY, r->max))
                return ksafe_policy__fail(L, &fmax,
                                          "max %.15g is below every value librdkafka accepts for "
                                          "%s (%s): no configuration could pass",
                                          r->max, r->prop->name, range);
        if ((r->checks & KSAFE_CHECK_MIN) && !ksafe_prop__range_meets(r->prop, r->min, INFINITY))
                return ksafe_policy__fail(L, &fmin,
                                          "min %.15g is above every value librdkafka accepts for "
                                          "%s (%s): no configuration could pass",
                                          r->min, r->prop->name, range);
        if ((r->checks & KSAFE_CHECK_MIN) && (r->checks & KSAFE_CHECK_MAX) &&
            !ksafe_prop__range_meets(r->prop, r->min, r->max))
                return ksafe_policy__fail(L, &fmin,
                                          "no value of %s lies between min %.15g and max %.15g",
                                          r->prop->name, r->min, r->max);
        return true;
}

/* Each equals and one_of value must pass the rule's other checks. */
static bool check_values_meaning(loader_t *L, const where_t *w, const ksafe_rule_t *r)
{
        ksafe_rule_t bounds_only = *r, one_of_only = *r;
        bounds_only.checks &= KSAFE_CHECK_MIN | KSAFE_CHECK_MAX;
        one_of_only.checks &= KSAFE_CHECK_ONE_OF;
        bool secret = r->prop->sensitive;
        if (r->checks & KSAFE_CHECK_EQUALS) {
                where_t f = where_key(w, "equals");
                const char *shown = secret ? KSAFE_REDACTED : r->equals_raw;
                if (!ksafe_rule__accepts(&bounds_only, r->equals, -INFINITY))
                        return ksafe_policy__fail(L, &f, "%s is outside the rule's own min/max: "
                                                         "the rule could never pass",
                                                  shown);
                if (!ksafe_rule__accepts(&one_of_only, r->equals, -INFINITY))
                        return ksafe_policy__fail(L, &f, "%s is not one of the rule's own one_of: "
                                                         "the rule could never pass",
                                                  shown);
        }
        where_t of = where_key(w, "one_of");
        for (size_t i = 0; (r->checks & KSAFE_CHECK_ONE_OF) && i < r->one_of_count; i++) {
                where_t f = where_index(&of, i);
                if (!ksafe_rule__accepts(&bounds_only, r->one_of[i], -INFINITY))
                        return ksafe_policy__fail(L, &f, "%s is outside the rule's own min/max: "
                                                         "it could never pass",
                                                  secret ? KSAFE_REDACTED : r->one_of_raw[i]);
        }
        return true;
}

static bool check_rule_meaning(loader_t *L, const where_t *w, const ksafe_rule_t *r)
{
        return check_bounds_meaning(L, w, r) && check_values_meaning(L, w, r);
}

/* Each compile step reads some fields of `obj` into `r`, or sets the error
 * at `w` (the rule) or the field it names and returns false. */

static bool nomem(loader_t *L, const where_t *w)
{
        return ksafe_policy__fail(L, w, "out of memory");
}

/* id, property, action, why. */
static bool compile_identity(loader_t *L, const where_t *w, const json_t *obj,
                             const ksafe_props_t *props, ksafe_rule_t *r)
{
        if (!(r->id = strdup(json_string_value(json_object_get(obj, "id")))))
                return nomem(L, w);
        where_t f = where_key(w, "property");
        const json_t *v = json_object_get(obj, "property");
        if (!(r->prop = known_property(L, &f, v, props)))
                return false;
        if (!(r->property = strdup(json_string_value(v))))
                return nomem(L, w);
        ksafe_policy__parse_action(json_string_value(json_object_get(obj, "action")), &r->action);
        if ((v = json_object_get(obj, "why")) && !(r->why = strdup(json_string_value(v))))
                return nomem(L, w);
        return true;
}

/* equals and one_of: values as librdkafka reads them, and as written. */
static bool compile_values(loader_t *L, const where_t *w, const json_t *obj, ksafe_rule_t *r)
{
        const json_t *v;
        if ((v = json_object_get(obj, "equals"))) {
                where_t f = where_key(w, "equals");
                r->checks |= KSAFE_CHECK_EQUALS;
                if (!(r->equals = parsed_value(L, &f, r->prop, v, &r->equals_raw)))
                        return false;
        }
        if (!(v = json_object_get(obj, "one_of")))
                return true;
        size_t n = json_array_size(v);
        where_t of = where_key(w, "one_of");
        r->checks |= KSAFE_CHECK_ONE_OF;
        r->one_of = calloc(n, sizeof(*r->one_of));
        r->one_of_raw = calloc(n, sizeof(*r->one_of_raw));
        if (!r->one_of || !r->one_of_raw)
                return nomem(L, w);
        for (size_t i = 0; i < n; i++) {
                where_t f = where_index(&of, i);
                r->one_of[i] = parsed_value(L, &f, r->prop, json_array_get(v, i),
                                            &r->one_of_raw[i]);
                if (!r->one_of[i])
                        return false;
                r->one_of_count++;
        }
        return true;
}

/* min and max, on a number property. */
static bool compile_bounds(loader_t *L, const where_t *w, const json_t *obj, ksafe_rule_t *r)
{
        static const char *const names[] = {"min", "max"};
        static const unsigned bits[] = {KSAFE_CHECK_MIN, KSAFE_CHECK_MAX};
        double *const values[] = {&r->min, &r->max};
        for (size_t b = 0; b < ARRAY_SIZE(names); b++) {
                const json_t *v = json_object_get(obj, names[b]);
                if (!v)
                        continue;
                where_t f = where_key(w, names[b]);
                if (!is_numeric(r->prop))
                        return ksafe_policy__fail(L, &f, "%s is not a number property",
                                                  r->prop->name);
                r->checks |= bits[b];
                *values[b] = json_number_value(v);
        }
        if ((r->checks & KSAFE_CHECK_MIN) && (r->checks & KSAFE_CHECK_MAX) && r->min > r->max) {
                where_t f = where_key(w, "min");
                return ksafe_policy__fail(L, &f, "min %g is greater than max %g", r->min, r->max);
        }
        return true;
}

/* min_sum: number properties whose sum the value must reach. */
static bool compile_min_sum(loader_t *L, const where_t *w, const json_t *obj,
                            const ksafe_props_t *props, ksafe_rule_t *r)
{
        const json_t *v = json_object_get(obj, "min_sum");
        if (!v)
                return true;
        size_t n = json_array_size(v);
        where_t ms = where_key(w, "min_sum");
        if (!is_numeric(r->prop))
                return ksafe_policy__fail(L, &ms, "%s is not a number property", r->prop->name);
        r->checks |= KSAFE_CHECK_MIN_SUM;
        r->min_sum = calloc(n, sizeof(*r->min_sum));
        r->min_sum_raw = calloc(n, sizeof(*r->min_sum_raw));
        if (!r->min_sum || !r->min_sum_raw)
                return nomem(L, w);
        for (size_t i = 0; i < n; i++) {
                where_t f = where_index(&ms, i);
                const json_t *item = json_array_get(v, i);
                const ksafe_prop_t *p = known_property(L, &f, item, props);
                if (!p)
                        return false;
                if (!is_numeric(p))
                        return ksafe_policy__fail(L, &f, "%s is not a number property", p->name);
                if (!(r->min_sum_raw[r->min_sum_count] = strdup(json_string_value(item))))
                        return nomem(L, w);
                r->min_sum[r->min_sum_count++] = p;
        }
        return true;
}

/* required and forbidden, and whether the rule checks anything at all. */
static bool compile_presence(loader_t *L, const where_t *w, const json_t *obj, ksafe_rule_t *r)
{
        if (json_is_true(json_object_get(obj, "required")))
                r->checks |= KSAFE_CHECK_REQUIRED;
        if (json_is_true(json_object_get(obj, "forbidden")))
                r->checks |= KSAFE_CHECK_FORBIDDEN;
        if ((r->checks & KSAFE_CHECK_FORBIDDEN) && (r->checks & ~KSAFE_CHECK_FORBIDDEN)) {
                /* Unset, it has its default; any other check judges a value. */
                where_t f = where_key(w, "forbidden");
                return ksafe_policy__fail(L, &f, "\"forbidden\" cannot be combined with another "
                                                 "check (a forbidden property is judged only by "
                                                 "being set)");
        }
        if (!r->checks)
                return ksafe_policy__fail(L, w, "rule \"%s\" checks nothing: give equals, one_of, "
                                                "min, max, min_sum, required or forbidden",
                                          r->id);
        return true;
}

/* set: the value enforcement sets, which must pass the rule itself. */
static bool compile_set(loader_t *L, const where_t *w, const json_t *obj, ksafe_rule_t *r)
{
        const json_t *v = json_object_get(obj, "set");
        if (!v)
                return true;
        where_t f = where_key(w, "set");
        char *parsed = parsed_value(L, &f, r->prop, v, &r->set);
        if (!parsed)
                return false;
        /* min_sum depends on other properties: judged later. */
        bool ok = ksafe_rule__accepts(r, parsed, -INFINITY);
        free(parsed);
        if (!ok)
                return ksafe_policy__fail(L, &f, "%s does not satisfy rule \"%s\" itself",
                                          r->prop->sensitive ? KSAFE_REDACTED : r->set, r->id);
        return true;
}

/* An enforce rule needs a value to set: `set`, or one its checks give. */
static bool check_enforceable(loader_t *L, const where_t *w, const ksafe_rule_t *r)
{
        const unsigned valued = KSAFE_CHECK_EQUALS | KSAFE_CHECK_ONE_OF | KSAFE_CHECK_MIN |
                                KSAFE_CHECK_MAX | KSAFE_CHECK_MIN_SUM | KSAFE_CHECK_FORBIDDEN;
        if (r->action != KSAFE_ACTION_ENFORCE || r->set || (r->checks & valued))
                return true;
        where_t f = where_key(w, "action");
        return ksafe_policy__fail(L, &f, "rule \"%s\" cannot be enforced without a value: add "
                                         "\"set\" or use reject",
                                  r->id);
}

bool ksafe_rule__compile(loader_t *L, const where_t *w, const json_t *obj,
                         const ksafe_props_t *props, ksafe_rule_t *r)
{
        *r = (ksafe_rule_t){0};
        bool ok = compile_identity(L, w, obj, props, r) && compile_values(L, w, obj, r) &&
                  compile_bounds(L, w, obj, r) && compile_min_sum(L, w, obj, props, r) &&
                  compile_presence(L, w, obj, r) && check_rule_meaning(L, w, r) &&
                  compile_set(L, w, obj, r) && check_enforceable(L, w, r);
        if (!ok)
                ksafe_rule__free(r);
        return ok;
}
