/*
 * The safety baseline: the rules of the built-in default policy
 * (conf/policies/default.json) may be made stricter by a policy that
 * extends it, never weaker, unless the policy says "allow_unsafe": true.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

/* false, with why, when r's one_of allows a value that base's does not, or
 * r's min_sum no longer counts a property that base's counts. */
static bool lists_narrower(const ksafe_rule_t *base, const ksafe_rule_t *r, char *why, size_t size)
{
        const char *id = base->id;
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
        return lists_narrower(base, r, why, size);
}

/* The baseline may be made stricter; anything else needs allow_unsafe. */
bool ksafe_baseline__check(loader_t *L, const state_t *st, const state_t *base, const char *env)
{
        for (size_t i = 0; i < base->count; i++) {
                const slot_t *b = &base->slots[i];
                if (b->off)
                        continue;
                char why[512];
                ptrdiff_t at = ksafe_state__find(st, b->id);
                const ksafe_rule_t *r = at >= 0 ? st->slots[at].rule : NULL;
                if (stricter_or_equal(b->rule, r, why, sizeof(why)))
                        continue;
                /* Point at where the rule was weakened, when it still exists. */
                where_t w = r ? ksafe_state__slot_where(&st->slots[at])
                              : (where_t){.source = L->chain[0].source};
                return ksafe_policy__fail_as(
                        L, KSAFE_ERROR_UNSAFE, &w,
                        "%s%s%s: weakening the safety baseline needs \"allow_unsafe\": true", why,
                        env ? " in environment " : "", env ? env : "");
        }
        return true;
}
