/*
 * Phase 3 of a policy load: merging sections (a file's top level, an
 * environment's section) in order into a rule list indexed by id: "rules"
 * add, "override" changes or turns off a rule already there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

void ksafe_state__free(state_t *st)
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
ptrdiff_t ksafe_state__find(const state_t *st, const char *id)
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

bool ksafe_state__copy(state_t *dst, const state_t *src)
{
        *dst = (state_t){0};
        if (!src->cap)
                return true;
        dst->slots = malloc(src->cap * sizeof(*dst->slots));
        dst->table = malloc(src->table_cap * sizeof(*dst->table));
        if (!dst->slots || !dst->table) {
                ksafe_state__free(dst);
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
bool ksafe_merge__section(loader_t *L, state_t *st, const doc_t *doc, const section_t *sec)
{
        where_t sw = {.source = doc->source, .flat = sec->path};
        const json_t *rules = json_object_get(sec->json, "rules");
        where_t rw = where_key(&sw, "rules");
        for (size_t i = 0; i < sec->rule_count; i++) {
                const ksafe_rule_t *r = &sec->rules[i];
                where_t w = where_index(&rw, i);
                ptrdiff_t dup = ksafe_state__find(st, r->id);
                if (dup >= 0)
                        return ksafe_policy__fail(L, &w,
                                    "duplicate rule id \"%s\" (first defined at %s: %s); change "
                                    "an inherited rule with \"override\"",
                                    r->id, st->slots[dup].source, st->slots[dup].path);
                slot_t s = {.id = r->id,
                            .obj = json_array_get(rules, i),
                            .rule = r,
                            .source = doc->source,
                            .path = sec->origins[i]};
                if (!state_append(st, &s))
                        return ksafe_policy__fail(L, &w, "out of memory");
        }
        const json_t *overrides = json_object_get(sec->json, "override");
        where_t ow = where_key(&sw, "override");
        const char *id;
        json_t *obj;
        json_object_foreach((json_t *)overrides, id, obj) {
                where_t w = where_key(&ow, id);
                ptrdiff_t at = ksafe_state__find(st, id);
                if (at < 0)
                        return ksafe_policy__fail(L, &w, "no rule \"%s\" to override", id);
                slot_t *s = &st->slots[at];
                if (json_is_true(json_object_get(obj, "off"))) {
                        s->off = true;
                        continue;
                }
                json_t *merged = json_copy(s->obj);
                ksafe_rule_t *r = ksafe_scratch__new_rule(&L->scratch);
                char *path = ksafe_where__path(&w);
                if (!merged || json_array_append_new(L->scratch.objects, merged) || !r ||
                    !ksafe_scratch__keep_string(&L->scratch, path))
                        return ksafe_policy__fail(L, &w, "out of memory");
                json_object_update(merged, obj);
                json_object_del(merged, "off");
                if (!ksafe_rule__compile(L, &w, merged, L->props, r))
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
where_t ksafe_state__slot_where(const slot_t *s)
{
        return (where_t){.source = s->source, .flat = s->path};
}

/*
 * The rule list of one environment: the tops of every file up to the first
 * that has a section for it (a prefix shared by all environments), then
 * that section, then the tops and sections of the files below it.
 * *own: whether any section of `env` changes anything.
 */
bool ksafe_merge__env(loader_t *L, const state_t *prefix, const char *env, state_t *out,
                        bool *own)
{
        size_t n = L->depth, k0 = n;
        for (size_t k = 0; k < n && k0 == n; k++) {
                const section_t *sec = ksafe_doc__env(&L->chain[n - 1 - k], env);
                if (sec && sec->merges)
                        k0 = k;
        }
        *own = k0 < n;
        if (!*own)
                return ksafe_state__copy(out, &prefix[n]) ||
                       ksafe_policy__fail(L, &(where_t){.source = L->chain[0].source}, "out of memory");
        if (!ksafe_state__copy(out, &prefix[k0 + 1]))
                return ksafe_policy__fail(L, &(where_t){.source = L->chain[0].source}, "out of memory");
        const doc_t *doc = &L->chain[n - 1 - k0];
        if (!ksafe_merge__section(L, out, doc, ksafe_doc__env(doc, env)))
                return false;
        for (size_t k = k0 + 1; k < n; k++) {
                doc = &L->chain[n - 1 - k];
                const section_t *sec = ksafe_doc__env(doc, env);
                if (!ksafe_merge__section(L, out, doc, &doc->top) ||
                    (sec && !ksafe_merge__section(L, out, doc, sec)))
                        return false;
        }
        return true;
}
