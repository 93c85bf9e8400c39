/*
 * Phase 3 of a policy load: a rule list checked as a whole. Rules of one
 * property that can never all pass, and an enforce rule whose fix another
 * rule refuses, make a policy that cannot mean what it says: refused.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

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
        return ksafe_prop__range_meets(rs[0]->prop, lo, hi);
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
                        where_t w = ksafe_state__slot_where(latest(st, &g[i], &g[j]));
                        ksafe_policy__fail(L, &w,
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
                where_t w = ksafe_state__slot_where(&st->slots[g[0].slot]);
                return ksafe_policy__fail(L, &w, "out of memory");
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
                where_t w = ksafe_state__slot_where(last);
                ksafe_policy__fail(L, &w, "rules %s can never all pass together%s: no value of %s satisfies "
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
                        where_t w = ksafe_state__slot_where(latest(st, &g[i], &g[j]));
                        ksafe_policy__fail(L, &w, "rule \"%s\" enforces %s=%s, which rule \"%s\" refuses%s",
                             a->id, a->property, a->prop->sensitive ? KSAFE_REDACTED : fix,
                             b->id, in_env);
                        free(fix);
                        return false;
                }
        return true;
}

/* Rules of one property that can never all pass, and enforce fixes that
 * another rule refuses: a policy that cannot mean what it says. */
bool ksafe_conflicts__check(loader_t *L, const state_t *st, const char *env)
{
        live_t *live = calloc(st->count + 1, sizeof(*live));
        if (!live) {
                where_t w = {.source = L->chain[0].source};
                return ksafe_policy__fail(L, &w, "out of memory");
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
