/*
 * The config view: one way to ask "what value will librdkafka use for
 * property P, and who set it?" whatever the source is: a conf not yet given
 * to rd_kafka_new(), a created handle, a topic conf, or the lines of a file.
 *
 * Values that the user did not set are what librdkafka 2.0.2's
 * rd_kafka_conf_finalize(), rd_kafka_topic_conf_finalize() and rd_kafka_new()
 * make of them (finalize.c lists every adjustment; the unit test
 * finalize_model_is_complete compares it with created handles). A created
 * handle's global conf is read as it is (finalized); its topic confs are
 * finalized per topic, so the model still applies to topic-level values it
 * does not hold.
 *
 * Which properties were set is userset.c's business: for global properties
 * rd_kafka_conf_dup() replays them through on_conf_set interceptors; topic
 * confs have none, and librdkafka 2.0.2 tells which of their properties
 * were set only in the debug=conf log of a handle made from one, which
 * ksafe reads when it matters (ksafe_view__settle()).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "view_int.h"

/* A copy of `text` that lives as long as the view (one per distinct text). */
static const char *intern(lazy_t *lazy, const char *text)
{
        for (size_t i = 0; i < lazy->text_count; i++)
                if (strcmp(lazy->texts[i], text) == 0)
                        return lazy->texts[i];
        if (!KSAFE_ARRAY_RESERVE(lazy->texts, lazy->text_count, lazy->text_cap))
                return NULL;
        char *copy = strdup(text);
        if (copy)
                lazy->texts[lazy->text_count++] = copy;
        return copy;
}

/*
 * Which finalize adjustment applies to each property, a fact of the
 * property table: finding it by name on every value was a sixth of a
 * facade create's own instructions. Computed once per process for the
 * process's table (ksafe_props__new()), published atomically, freed when
 * the library is unloaded.
 */
typedef struct facts_s {
        const ksafe_props_t *props;
        unsigned char *kind; /* ksafe_finalize__kind(), by row */
} facts_t;

static _Atomic(facts_t *) facts_cache;

static void facts_free(facts_t *f)
{
        if (f) {
                free(f->kind);
                free(f);
        }
}

static facts_t *facts_build(const ksafe_props_t *props)
{
        size_t n = ksafe_props__count(props);
        facts_t *f = calloc(1, sizeof(*f));
        if (!f || !(f->kind = calloc(n + 1, sizeof(*f->kind)))) {
                facts_free(f);
                return NULL;
        }
        f->props = props;
        for (size_t i = 0; i < n; i++) {
                const ksafe_prop_t *p = ksafe_props__at(props, i);
                if (p->canon != p)
                        continue;
                f->kind[i] = (unsigned char)ksafe_finalize__kind(props, p);
        }
        return f;
}

/* The facts of `props`, or NULL (out of memory, or not the process's table:
 * the caller looks them up itself). */
static const facts_t *facts_of(const ksafe_props_t *props)
{
        facts_t *f = atomic_load_explicit(&facts_cache, memory_order_acquire);
        if (f)
                return f->props == props ? f : NULL;
        facts_t *mine = facts_build(props);
        if (!mine)
                return NULL;
        f = NULL;
        if (!atomic_compare_exchange_strong_explicit(&facts_cache, &f, mine, memory_order_acq_rel,
                                                     memory_order_acquire)) {
                facts_free(mine); /* another thread published first */
                return f->props == props ? f : NULL;
        }
        return mine;
}

__attribute__((destructor)) static void facts_unload(void)
{
        facts_free(atomic_exchange(&facts_cache, NULL));
}

unsigned ksafe_view__finalize_kind(const ksafe_view_t *view, const ksafe_prop_t *prop)
{
        const facts_t *f = facts_of(view->props);
        return f ? f->kind[ksafe_props__index(view->props, prop->canon)]
                 : ksafe_finalize__kind(view->props, prop->canon);
}

/* A value ksafe_view__value() gave, and the generation it is valid for. */
typedef struct memo_s {
        const ksafe_prop_t *prop;
        ksafe_value_t value;
        unsigned long generation;
} memo_t;

void ksafe_view__touch(const ksafe_view_t *view)
{
        view->lazy->generation++;
}

static memo_t *memo_find(const lazy_t *lazy, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < lazy->memo_count; i++)
                if (lazy->memo[i].prop == prop)
                        return &lazy->memo[i];
        return NULL;
}

/* Remember `value` for `prop` (nothing when out of memory: it is computed
 * again). */
static void memo_put(lazy_t *lazy, const ksafe_prop_t *prop, const ksafe_value_t *value,
                     unsigned long generation)
{
        memo_t *m = memo_find(lazy, prop);
        if (!m) {
                if (!KSAFE_ARRAY_RESERVE(lazy->memo, lazy->memo_count, lazy->memo_cap))
                        return;
                m = &lazy->memo[lazy->memo_count++];
        }
        *m = (memo_t){.prop = prop, .value = *value, .generation = generation};
}

static slot_t *store_find(const store_t *s, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < s->count; i++)
                if (s->slots[i].prop == prop)
                        return &s->slots[i];
        return NULL;
}

/* Keep `value` for `prop`, with a copy of `text`. false when out of memory. */
static bool store_put(store_t *s, const ksafe_prop_t *prop, const ksafe_value_t *value,
                      const char *text)
{
        char *copy = strdup(text);
        if (!copy)
                return false;
        slot_t *slot = store_find(s, prop);
        if (!slot) {
                if (!KSAFE_ARRAY_RESERVE(s->slots, s->count, s->cap)) {
                        free(copy);
                        return false;
                }
                slot = &s->slots[s->count++];
                slot->text = NULL;
        }
        free(slot->text);
        slot->prop = prop;
        slot->text = copy;
        slot->value = *value;
        slot->value.text = copy;
        return true;
}

static void store_drop(store_t *s, const ksafe_prop_t *prop)
{
        slot_t *slot = store_find(s, prop);
        if (!slot)
                return;
        free(slot->text);
        *slot = s->slots[--s->count];
}

static void store_free(store_t *s)
{
        for (size_t i = 0; i < s->count; i++)
                free(s->slots[i].text);
        free(s->slots);
        *s = (store_t){0};
}

static ksafe_view_t *view_new(const ksafe_props_t *props, ksafe_source_t source)
{
        ksafe_view_t *view = calloc(1, sizeof(*view));
        if (view && (!(view->cache = calloc(1, sizeof(*view->cache))) ||
                     !(view->lazy = calloc(1, sizeof(*view->lazy))))) {
                free(view->cache);
                free(view);
                return NULL;
        }
        if (view) {
                view->lazy->topic_set.props = props;
                view->user_set.props = props;
                view->props = props;
                view->source = source;
        }
        return view;
}

ksafe_view_t *ksafe_view__from_conf(const ksafe_props_t *props, const rd_kafka_conf_t *conf)
{
        ksafe_view_t *view = view_new(props, SOURCE_CONF);
        if (view) {
                view->conf = conf;
                /* The caller's conf must not get an interceptor: probe a copy. */
                ksafe_setlist__of_copy(conf, &view->user_set);
        }
        return view;
}

/* What `like` knew about which properties were set. */
static void copy_sets(ksafe_view_t *view, const ksafe_view_t *like)
{
        ksafe_setlist__copy(&view->user_set, &like->user_set);
        ksafe_setlist__copy(&view->lazy->topic_set, &like->lazy->topic_set);
        view->lazy->probed = like->lazy->probed && view->lazy->topic_set.known;
}

ksafe_view_t *ksafe_view__from_conf_like(const ksafe_props_t *props, const rd_kafka_conf_t *conf,
                                         const ksafe_view_t *like)
{
        ksafe_view_t *view = view_new(props, SOURCE_CONF);
        if (!view)
                return NULL;
        view->conf = conf;
        copy_sets(view, like);
        return view;
}

ksafe_view_t *ksafe_view__from_scratch_conf(const ksafe_props_t *props, rd_kafka_conf_t *conf)
{
        ksafe_view_t *view = view_new(props, SOURCE_CONF);
        if (view) {
                view->conf = conf;
                ksafe_setlist__of_conf(conf, &view->user_set);
        }
        return view;
}

ksafe_view_t *ksafe_view__from_handle(const ksafe_props_t *props, rd_kafka_t *rk)
{
        /* Topic-level values are read from the handle's own default topic
         * conf, which rd_kafka_new() finalized (a dup of it would not be:
         * rd_kafka_conf_dup copies only what the user set). */
        ksafe_view_t *view = view_new(props, SOURCE_HANDLE);
        if (view) {
                view->conf = rd_kafka_conf(rk);
                /* The handle's conf replays what the user set when it is
                 * copied, as a conf does (finalize's own adjustments are
                 * not "set": librdkafka writes them directly). */
                ksafe_setlist__of_copy(view->conf, &view->user_set);
        }
        return view;
}

ksafe_view_t *ksafe_view__from_handle_like(const ksafe_props_t *props, rd_kafka_t *rk,
                                           const ksafe_view_t *like)
{
        ksafe_view_t *view = view_new(props, SOURCE_HANDLE);
        if (view) {
                view->conf = rd_kafka_conf(rk);
                copy_sets(view, like);
        }
        return view;
}

ksafe_view_t *ksafe_view__from_topic_conf(const ksafe_props_t *props, rd_kafka_t *rk,
                                          const rd_kafka_topic_conf_t *tconf)
{
        ksafe_view_t *view = view_new(props, SOURCE_HANDLE);
        if (view) {
                view->conf = rd_kafka_conf(rk);
                view->tconf = tconf;
                view->topic_only = true;
        }
        return view;
}

ksafe_view_t *ksafe_view__from_entries(const ksafe_props_t *props, const char *file,
                                       const ksafe_entry_t *entries, size_t count)
{
        ksafe_view_t *view = view_new(props, SOURCE_ENTRIES);
        if (view) {
                view->file = file;
                view->entries = entries;
                view->count = count;
        }
        return view;
}

void ksafe_view__destroy(ksafe_view_t *view)
{
        if (!view)
                return;
        store_free(view->cache);
        free(view->cache);
        store_free(&view->overrides);
        free(view->user_set.items);
        free(view->lazy->topic_set.items);
        for (size_t i = 0; i < view->lazy->text_count; i++)
                free(view->lazy->texts[i]);
        free(view->lazy->texts);
        free(view->lazy->memo);
        free(view->lazy);
        free(view);
}

const char *ksafe_view__file(const ksafe_view_t *view)
{
        return view->file;
}

const ksafe_entry_t *ksafe_view__entries(const ksafe_view_t *view, size_t *countp)
{
        *countp = view->count;
        return view->entries;
}

bool ksafe_view__finalized(const ksafe_view_t *view)
{
        return view->source == SOURCE_HANDLE && !view->topic_only;
}

bool ksafe_view__is_topic_only(const ksafe_view_t *view)
{
        return view->topic_only;
}

void ksafe_view__changed(ksafe_view_t *view, const ksafe_prop_t *prop, bool now_set)
{
        set_list_t *list =
                prop->canon->scope == KSAFE_SCOPE_TOPIC ? &view->lazy->topic_set : &view->user_set;
        if (list->known && now_set && !ksafe_setlist__add(list, prop->canon))
                list->known = false;
        if (list->known && !now_set)
                ksafe_setlist__remove(list, prop->canon);
        store_drop(view->cache, prop->canon);
        ksafe_view__touch(view);
}

static bool read_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out,
                       char **owned);

bool ksafe_view__override(ksafe_view_t *view, const ksafe_prop_t *prop, const char *value,
                          bool is_set)
{
        prop = prop->canon;
        ksafe_value_t prev;
        if (!ksafe_view__stored(view, prop, &prev))
                return false;
        ksafe_value_t v = {.is_set = is_set, .entry = prev.entry};
        if (!store_put(&view->overrides, prop, &v, value))
                return false;
        ksafe_view__changed(view, prop, is_set);
        return true;
}

/* The value as stored, before the finalize model; its text is owned by
 * the view. false when out of memory. */
bool ksafe_view__stored(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out)
{
        const slot_t *slot = store_find(&view->overrides, prop);
        if (!slot)
                slot = store_find(view->cache, prop);
        if (slot) {
                *out = slot->value;
                return true;
        }
        char *owned = NULL;
        if (!read_value(view, prop, out, &owned))
                return false;
        /* The cache is not part of what the view means: a const view
         * fills it too. */
        bool ok = store_put(view->cache, prop, out, out->text);
        free(owned);
        if (ok)
                *out = store_find(view->cache, prop)->value;
        return ok;
}

/* A float as librdkafka stores it: strtod() of the text as written, where
 * rd_kafka_conf_get() would show it with %g (linger.ms=100000.4 reads back
 * as 100000, which a cross-property check must not be given). The shortest
 * text that strtod() reads back as the same double. false when out of
 * memory. */
static bool exact_float(const char *raw, ksafe_value_t *out, char **owned)
{
        char *end;
        double d = strtod(raw, &end);
        if (end == raw || !isfinite(d))
                return true; /* nan: as librdkafka shows it */
        char buf[64];
        for (int digits = 15; digits <= 17; digits++) {
                snprintf(buf, sizeof(buf), "%.*g", digits, d);
                if (strtod(buf, NULL) == d)
                        break;
        }
        if (strcmp(buf, out->text) == 0)
                return true;
        if (!(*owned = strdup(buf)))
                return false;
        out->text = *owned;
        return true;
}

/* Read prop from the view's conf (or topic conf) into out->text, *owned
 * holding the copy; with no conf of prop's level, out is left as it is (the
 * default). false when out of memory. */
static bool read_conf_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out,
                            char **owned)
{
        const rd_kafka_topic_conf_t *tconf = view->tconf;
        if (!tconf && view->conf && prop->scope == KSAFE_SCOPE_TOPIC)
                /* Read only: librdkafka's getter just lacks the const. */
                tconf = rd_kafka_conf_get_default_topic_conf((rd_kafka_conf_t *)view->conf);
        bool topic = prop->scope == KSAFE_SCOPE_TOPIC;
        /* With no topic conf at all, a topic-level property has its default. */
        if (topic ? tconf != NULL : view->conf != NULL) {
                char small[256];
                char *buf = small;
                size_t size = sizeof(small);
                rd_kafka_conf_res_t res;
                for (;;) {
                        size_t asked = size;
                        res = topic ? rd_kafka_topic_conf_get(tconf, prop->name, buf, &size)
                                    : rd_kafka_conf_get(view->conf, prop->name, buf, &size);
                        if (res != RD_KAFKA_CONF_OK || size <= asked)
                                break;
                        /* Longer than the buffer: librdkafka said how long. */
                        free(*owned);
                        if (!(buf = *owned = malloc(size)))
                                return false;
                }
                if (res == RD_KAFKA_CONF_OK && buf == small && !(*owned = strdup(small)))
                        return false;
                /* A string that is not set reads as not found. */
                out->text = res == RD_KAFKA_CONF_OK           ? *owned
                            : prop->type == KSAFE_PROP_STRING ? ""
                                                              : prop->def;
        }
        return true;
}

bool ksafe_view__conf_holds(const ksafe_view_t *view, const rd_kafka_conf_t *conf,
                            const ksafe_prop_t *prop)
{
        prop = prop->canon;
        ksafe_value_t want, got = {.text = prop->def};
        if (!ksafe_view__stored(view, prop, &want))
                return false;
        ksafe_view_t probe = {.conf = conf, .source = SOURCE_CONF};
        char *owned = NULL;
        bool same = read_conf_value(&probe, prop, &got, &owned) && strcmp(got.text, want.text) == 0;
        free(owned);
        return same;
}

/* Read a value from the source. Its text may point into the source, into
 * the property table, or to a buffer returned in *owned (free() it). */
static bool read_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out,
                       char **owned)
{
        *out = (ksafe_value_t){.text = prop->def};
        *owned = NULL;
        if (view->source == SOURCE_ENTRIES) {
                for (size_t i = view->count; i-- > 0;) {
                        const ksafe_entry_t *e = &view->entries[i];
                        if (e->prop == prop && e->value) {
                                *out = (ksafe_value_t){
                                        .text = e->value, .is_set = true, .entry = e};
                                if (prop->type == KSAFE_PROP_FLOAT && e->raw &&
                                    !exact_float(e->raw, out, owned))
                                        return false;
                                break;
                        }
                }
                return true;
        }

        bool topic = prop->scope == KSAFE_SCOPE_TOPIC;
        const set_list_t *list = topic ? &view->lazy->topic_set : &view->user_set;
        /* A conf holds its default where the user set nothing (finalize
         * has not run): no need to ask librdkafka, whose rd_kafka_conf_get()
         * scans its whole table. Pointers are set through their own API,
         * which no interceptor sees. */
        if (view->source == SOURCE_CONF && !topic && list->known &&
            prop->type != KSAFE_PROP_POINTER && !ksafe_setlist__has(list, prop->canon) &&
            !ksafe_setlist__not_listed(prop))
                return true;
        if (!read_conf_value(view, prop, out, owned))
                return false;
        bool differs = strcmp(out->text, prop->def) != 0;
        if (list->known && !ksafe_setlist__not_listed(prop))
                out->is_set = ksafe_setlist__has(list, prop);
        else
                out->is_set = differs;
        /* A handle's global conf with no set list (out of memory) is read
         * as finalized; only topic confs are guessed. */
        out->unsure = !list->known && !differs && topic;
        return true;
}

/* Values read before were guesses: read them again. */
void ksafe_view__forget_topic_values(const ksafe_view_t *view)
{
        store_t *cache = view->cache;
        for (size_t i = cache->count; i-- > 0;)
                if (cache->slots[i].prop->scope == KSAFE_SCOPE_TOPIC)
                        store_drop(cache, cache->slots[i].prop);
        ksafe_view__touch(view);
}

bool ksafe_view__transactional(const ksafe_view_t *view)
{
        const ksafe_prop_t *txid = ksafe_props__well_known(view->props, KSAFE_P_TRANSACTIONAL_ID);
        ksafe_value_t v;
        return txid && ksafe_view__stored(view, txid, &v) && v.is_set && v.text[0];
}

bool ksafe_view__idempotent(const ksafe_view_t *view)
{
        const ksafe_prop_t *idem = ksafe_props__well_known(view->props, KSAFE_P_IDEMPOTENCE);
        ksafe_value_t v;
        return ksafe_view__transactional(view) ||
               (idem && ksafe_view__stored(view, idem, &v) && strcmp(v.text, "true") == 0);
}

bool ksafe_view__limit(const ksafe_view_t *view, const ksafe_prop_t *prop, double *hi)
{
        const ksafe_props_t *props = view->props;
        const ksafe_prop_t *tt = ksafe_props__well_known(props, KSAFE_P_TRANSACTION_TIMEOUT);
        ksafe_value_t v;
        /* rd_kafka_new(): "message.timeout.ms must be <= transaction.timeout.ms". */
        if (prop->canon == ksafe_props__well_known(props, KSAFE_P_MESSAGE_TIMEOUT) && tt &&
            ksafe_view__transactional(view) && ksafe_view__value(view, tt, &v) &&
            ksafe_prop__number(tt, v.text, hi) && isfinite(*hi))
                return true;
        return false;
}

/* test.mock.num.brokers (hidden: not in the published table) > 0. */
const ksafe_props_t *ksafe_view__props(const ksafe_view_t *view)
{
        return view->props;
}

bool ksafe_view__mock_cluster(const ksafe_view_t *view)
{
        if (view->source == SOURCE_ENTRIES) {
                for (size_t i = view->count; i-- > 0;)
                        if (strcmp(view->entries[i].name, "test.mock.num.brokers") == 0)
                                return view->entries[i].raw &&
                                       strtol(view->entries[i].raw, NULL, 0) > 0;
                return false;
        }
        /* A conf holds the default (0) unless it was set. */
        if (view->source == SOURCE_CONF && view->user_set.known && !view->user_set.mock_set)
                return false;
        char value[32];
        size_t size = sizeof(value);
        return view->conf &&
               rd_kafka_conf_get(view->conf, "test.mock.num.brokers", value, &size) ==
                       RD_KAFKA_CONF_OK &&
               strtol(value, NULL, 10) > 0;
}

const char *ksafe_view__unset_value(const ksafe_view_t *view, const ksafe_prop_t *prop, char *buf,
                                    size_t size)
{
        prop = prop->canon;
        const char *v = ksafe_finalize__value(view, prop, prop->def, false, buf, size);
        if (v != buf)
                snprintf(buf, size, "%s", v);
        return buf;
}

const ksafe_prop_t *ksafe_view__topic_twin(const ksafe_view_t *view, const ksafe_prop_t *prop)
{
        (void)view;
        return prop->canon->topic_twin; /* linked by props.c */
}

const char *ksafe_prop__conf_name(const ksafe_prop_t *prop, char *buf, size_t size)
{
        if (prop->scope != KSAFE_SCOPE_TOPIC)
                return prop->name;
        snprintf(buf, size, "topic.%s", prop->name);
        return buf;
}

/* The value, after the finalize model, kept in the view's cache under a
 * key of its own: the model's text must live as long as the view. */
static bool compute_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out);

bool ksafe_view__value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out)
{
        prop = prop->canon;
        lazy_t *lazy = view->lazy;
        const memo_t *m = memo_find(lazy, prop);
        if (m && m->generation == lazy->generation) {
                *out = m->value;
                return true;
        }
        unsigned long generation = lazy->generation;
        bool ok = compute_value(view, prop, out);
        /* Only an answer that nothing changed while it was computed (a
         * probe learning set-ness) is kept. */
        if (ok && generation == lazy->generation)
                memo_put(lazy, prop, out, generation);
        return ok;
}

static bool compute_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out)
{
        /* A topic-level twin that is not "inherit" is what librdkafka uses
         * at produce time (rd_kafka_topic_new0(): compression.codec). */
        const ksafe_prop_t *twin = ksafe_view__topic_twin(view, prop);
        if (twin) {
                ksafe_value_t t;
                bool ok = ksafe_view__value(view, twin, &t);
                if (ok && strcmp(t.text, "inherit") != 0) {
                        *out = t;
                        return true;
                }
        }
        if (!ksafe_view__stored(view, prop, out)) {
                *out = (ksafe_value_t){.text = prop->def, .holder = prop};
                return false;
        }
        out->holder = prop;
        /* A handle's global conf is finalized; its topic confs are
         * finalized per topic, so the model still applies to them. */
        if (view->source == SOURCE_HANDLE && prop->scope == KSAFE_SCOPE_GLOBAL)
                return true;
        /* Transactional: an unset message.timeout.ms becomes
         * transaction.timeout.ms, a set one is kept (and must not exceed
         * it): whether it is set is worth learning. */
        if (out->unsure && prop == ksafe_props__well_known(view->props, KSAFE_P_MESSAGE_TIMEOUT) &&
            ksafe_view__transactional(view)) {
                ksafe_view__probe_topic_set(view);
                if (view->lazy->topic_set.known && !ksafe_view__stored(view, prop, out))
                        return false;
                out->holder = prop;
        }
        char buf[64];
        const char *derived =
                ksafe_finalize__value(view, prop, out->text, out->is_set, buf, sizeof(buf));
        if (derived == out->text)
                return true;
        const char *kept = intern(view->lazy, derived);
        if (!kept) {
                out->text = prop->def;
                return false;
        }
        out->derived = !out->is_set && strcmp(kept, out->text) != 0;
        out->text = kept;
        return true;
}
