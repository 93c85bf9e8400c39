/*
 * The config view: one way to ask "what value will librdkafka use for
 * property P, and who set it?" whatever the source is: a conf not yet given
 * to rd_kafka_new(), a created handle, a topic conf, or the lines of a file.
 *
 * Values that the user did not set are what librdkafka 2.0.2's
 * rd_kafka_conf_finalize(), rd_kafka_topic_conf_finalize() and rd_kafka_new()
 * make of them (model() below lists every adjustment; the unit test
 * finalize_model_is_complete compares it with created handles). A created
 * handle's global conf is read as it is (finalized); its topic confs are
 * finalized per topic, so the model still applies to topic-level values it
 * does not hold.
 *
 * Which properties were set: for global properties rd_kafka_conf_dup()
 * replays them through on_conf_set interceptors (user_set_of()). Topic confs
 * have no interceptors: a topic-level property that differs from its
 * default was set; one at its default may or may not have been, and
 * librdkafka 2.0.2 tells that only in the debug=conf log of a handle made
 * from the topic conf (probe_topic_set()), which ksafe reads when it
 * matters (ksafe_view__settle()).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ksafe_int.h"

typedef enum ksafe_source_e {
        SOURCE_CONF,    /* unfinalized conf; set = what rd_kafka_conf_dup copies */
        SOURCE_HANDLE,  /* a created handle (or a topic conf of one): finalized */
        SOURCE_ENTRIES, /* lines of a file; set = a line sets it */
} ksafe_source_t;

/* Values the view keeps, one per property, each owning its text (a value
 * can be a 4 KB PEM: nothing is cut to a fixed size). */
typedef struct slot_s {
        const ksafe_prop_t *prop;
        ksafe_value_t value; /* value.text is `text` */
        char *text;
} slot_t;

typedef struct store_s {
        slot_t *slots;
        size_t count, cap;
} store_t;

/* The global properties a user set on a conf (librdkafka keeps that to
 * itself: see user_set_of()). */
typedef struct set_list_s {
        const ksafe_props_t *props;
        const ksafe_prop_t **items;
        size_t count, cap;
        bool known; /* false: fall back to "differs from the default" */
} set_list_t;

/* What a const view still learns: the topic-level properties set. */
typedef struct lazy_s {
        set_list_t topic_set; /* known: the list is librdkafka's word */
        bool probed;
        /* Texts the finalize model computed, kept until the view is
         * destroyed: a value read earlier stays valid when another
         * property changes. */
        char **texts;
        size_t text_count, text_cap;
} lazy_t;

/* A copy of `text` that lives as long as the view (one per distinct text). */
static const char *intern(lazy_t *lazy, const char *text)
{
        for (size_t i = 0; i < lazy->text_count; i++)
                if (strcmp(lazy->texts[i], text) == 0)
                        return lazy->texts[i];
        if (lazy->text_count == lazy->text_cap) {
                size_t cap = lazy->text_cap ? lazy->text_cap * 2 : 8;
                char **texts = realloc(lazy->texts, cap * sizeof(*texts));
                if (!texts)
                        return NULL;
                lazy->texts = texts;
                lazy->text_cap = cap;
        }
        char *copy = strdup(text);
        if (copy)
                lazy->texts[lazy->text_count++] = copy;
        return copy;
}

struct ksafe_view_s {
        set_list_t user_set;
        lazy_t *lazy;
        /* rd_kafka_conf_get() scans librdkafka's whole property table:
         * values read from a conf are cached until the property changes. */
        store_t *cache;
        store_t overrides; /* values given by ksafe_view__override() */
        const ksafe_props_t *props;
        ksafe_source_t source;
        const rd_kafka_conf_t *conf;         /* global values, or NULL */
        const rd_kafka_topic_conf_t *tconf;  /* topic values, or NULL */
        bool topic_only;                     /* judge topic-level rules only */
        const char *file;
        const ksafe_entry_t *entries;
        size_t count;
};

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
                if (s->count == s->cap) {
                        size_t cap = s->cap ? s->cap * 2 : 16;
                        slot_t *slots = realloc(s->slots, cap * sizeof(*slots));
                        if (!slots) {
                                free(copy);
                                return false;
                        }
                        s->slots = slots;
                        s->cap = cap;
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

static bool set_list_add(set_list_t *list, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < list->count; i++)
                if (list->items[i] == prop)
                        return true;
        if (list->count == list->cap) {
                size_t cap = list->cap ? list->cap * 2 : 16;
                const ksafe_prop_t **items = realloc(list->items, cap * sizeof(*items));
                if (!items)
                        return false;
                list->items = items;
                list->cap = cap;
        }
        list->items[list->count++] = prop;
        return true;
}

static void set_list_remove(set_list_t *list, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < list->count; i++)
                if (list->items[i] == prop) {
                        list->items[i] = list->items[--list->count];
                        return;
                }
}

static bool set_list_has(const set_list_t *list, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < list->count; i++)
                if (list->items[i] == prop)
                        return true;
        return false;
}

static rd_kafka_conf_res_t collect_set(rd_kafka_conf_t *conf, const char *name, const char *val,
                                       char *errstr, size_t errstr_size, void *ic_opaque)
{
        (void)conf, (void)val, (void)errstr, (void)errstr_size;
        set_list_t *list = ic_opaque;
        const ksafe_prop_t *prop = ksafe_props__find(list->props, name);
        if (prop && !set_list_add(list, prop))
                list->known = false;
        return RD_KAFKA_CONF_UNKNOWN; /* not ours: librdkafka goes on */
}

static rd_kafka_resp_err_t collect_on_dup(rd_kafka_conf_t *new_conf,
                                          const rd_kafka_conf_t *old_conf, size_t filter_cnt,
                                          const char **filter, void *ic_opaque)
{
        (void)old_conf, (void)filter_cnt, (void)filter;
        return rd_kafka_conf_interceptor_add_on_conf_set(new_conf, "ksafe-user-set", collect_set,
                                                         ic_opaque);
}

/*
 * Which global properties did the user set? librdkafka's finalize adjusts
 * only those that were not set, and a value equal to the default may still
 * have been set (max.in.flight=1000000 with idempotence is an error, not 5).
 * rd_kafka_conf_dup() copies exactly the set ones and replays each through
 * the on_conf_set interceptors of the copy, so a dup of a dup with a
 * collecting interceptor lists them. Topic-level properties have no
 * interceptors: for those "set" stays "differs from the default".
 */
static void user_set_of(rd_kafka_conf_t *probe, set_list_t *list)
{
        list->known = rd_kafka_conf_interceptor_add_on_conf_dup(
                              probe, "ksafe-user-set", collect_on_dup, list) ==
                      RD_KAFKA_RESP_ERR_NO_ERROR;
        if (list->known)
                rd_kafka_conf_destroy(rd_kafka_conf_dup(probe));
}

ksafe_view_t *ksafe_view__from_conf(const ksafe_props_t *props, const rd_kafka_conf_t *conf)
{
        ksafe_view_t *view = view_new(props, SOURCE_CONF);
        if (view) {
                view->conf = conf;
                /* The caller's conf must not get an interceptor: probe a copy. */
                rd_kafka_conf_t *probe = rd_kafka_conf_dup(conf);
                user_set_of(probe, &view->user_set);
                rd_kafka_conf_destroy(probe);
        }
        return view;
}

static void copy_list(set_list_t *to, const set_list_t *from)
{
        to->known = from->known;
        for (size_t i = 0; to->known && i < from->count; i++)
                to->known = set_list_add(to, from->items[i]);
}

/* What `like` knew about which properties were set. */
static void copy_sets(ksafe_view_t *view, const ksafe_view_t *like)
{
        copy_list(&view->user_set, &like->user_set);
        copy_list(&view->lazy->topic_set, &like->lazy->topic_set);
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
                user_set_of(conf, &view->user_set);
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
                rd_kafka_conf_t *probe = rd_kafka_conf_dup(view->conf);
                user_set_of(probe, &view->user_set);
                rd_kafka_conf_destroy(probe);
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
        set_list_t *list = prop->canon->scope == KSAFE_SCOPE_TOPIC ? &view->lazy->topic_set
                                                                 : &view->user_set;
        if (list->known && now_set && !set_list_add(list, prop->canon))
                list->known = false;
        if (list->known && !now_set)
                set_list_remove(list, prop->canon);
        store_drop(view->cache, prop->canon);
}

static bool read_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out,
                       char **owned);

bool ksafe_view__override(ksafe_view_t *view, const ksafe_prop_t *prop, const char *value,
                         bool is_set)
{
        prop = prop->canon;
        ksafe_value_t prev;
        char *owned = NULL;
        if (!read_value(view, prop, &prev, &owned))
                return false;
        free(owned);
        ksafe_value_t v = {.is_set = is_set, .entry = prev.entry};
        if (!store_put(&view->overrides, prop, &v, value))
                return false;
        ksafe_view__changed(view, prop, is_set);
        return true;
}

/* The value as stored, before the finalize model; its text is owned by
 * the view. false when out of memory. */
static bool stored_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out)
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
                                *out = (ksafe_value_t){.text = e->value, .is_set = true,
                                                       .entry = e};
                                if (prop->type == KSAFE_PROP_FLOAT && e->raw &&
                                    !exact_float(e->raw, out, owned))
                                        return false;
                                break;
                        }
                }
                return true;
        }

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
                out->text = res == RD_KAFKA_CONF_OK                 ? *owned
                            : prop->type == KSAFE_PROP_STRING ? ""
                                                              : prop->def;
        }
        const set_list_t *list = topic ? &view->lazy->topic_set : &view->user_set;
        bool differs = strcmp(out->text, prop->def) != 0;
        if (list->known)
                out->is_set = set_list_has(list, prop);
        else
                out->is_set = differs;
        /* A handle's global conf with no set list (out of memory) is read
         * as finalized; only topic confs are guessed. */
        out->unsure = !list->known && !differs && topic;
        return true;
}

/*
 * Topic-level set-ness, from librdkafka's own word
 */

typedef struct probe_s {
        set_list_t *list;
        bool in_topic; /* after "Default topic configuration:" */
        bool done;
        bool failed;
} probe_t;

/* rd_kafka_new() with debug=conf logs, in the calling thread, the
 * properties set on the default topic conf, one "  name = value" line
 * each, after a "Default topic configuration:" line. */
static void probe_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)level;
        probe_t *pr = rd_kafka_opaque(rk);
        if (!pr || pr->done || strcmp(fac, "CONF") != 0)
                return;
        if (!pr->in_topic) {
                pr->in_topic = strcmp(buf, "Default topic configuration:") == 0;
                return;
        }
        const char *eq = strncmp(buf, "  ", 2) == 0 ? strstr(buf + 2, " = ") : NULL;
        if (!eq) {
                pr->done = true;
                return;
        }
        char name[300];
        int n = snprintf(name, sizeof(name), "topic.%.*s", (int)(eq - buf - 2), buf + 2);
        const ksafe_prop_t *prop =
                n > 0 && (size_t)n < sizeof(name) ? ksafe_props__find(pr->list->props, name) : NULL;
        if (prop && prop->scope == KSAFE_SCOPE_TOPIC && !set_list_add(pr->list, prop))
                pr->failed = true;
}

/* The topic conf whose set properties the view needs: the one it judges,
 * or the default topic conf of its conf; NULL when there is none. */
static rd_kafka_topic_conf_t *topic_conf_of(const ksafe_view_t *view)
{
        if (view->tconf)
                return (rd_kafka_topic_conf_t *)view->tconf;
        return view->conf ? rd_kafka_conf_get_default_topic_conf((rd_kafka_conf_t *)view->conf)
                          : NULL;
}

/* Every topic-level property whose value differs from its default is set:
 * a probe that missed one is not trusted. */
static bool probe_agrees(const ksafe_props_t *props, rd_kafka_topic_conf_t *tconf,
                         const set_list_t *list)
{
        size_t cnt;
        const char **dump = rd_kafka_topic_conf_dump(tconf, &cnt);
        bool ok = dump != NULL;
        for (size_t i = 0; ok && i + 1 < cnt; i += 2) {
                char name[300];
                snprintf(name, sizeof(name), "topic.%s", dump[i]);
                const ksafe_prop_t *prop = ksafe_props__find(props, name);
                if (prop && prop->scope == KSAFE_SCOPE_TOPIC && prop->type != KSAFE_PROP_POINTER &&
                    dump[i + 1] && strcmp(dump[i + 1], prop->def) != 0)
                        ok = set_list_has(list, prop);
        }
        if (dump)
                rd_kafka_conf_dump_free(dump, cnt);
        return ok;
}

/* Values read before were guesses: read them again. */
static void forget_topic_values(const ksafe_view_t *view)
{
        store_t *cache = view->cache;
        for (size_t i = cache->count; i-- > 0;)
                if (cache->slots[i].prop->scope == KSAFE_SCOPE_TOPIC)
                        store_drop(cache, cache->slots[i].prop);
}

/* Learn which properties of the topic conf were set: a consumer handle (it
 * finalizes no topic conf, so any topic conf makes one) from a fresh conf
 * with debug=conf and a copy of the topic conf (rd_kafka_topic_conf_dup()
 * keeps what was set), destroyed at once. About 2 ms; only when a value at
 * its default would be judged otherwise if it were set. */
static void probe_topic_set(const ksafe_view_t *view)
{
        lazy_t *lazy = view->lazy;
        set_list_t *list = &lazy->topic_set;
        if (lazy->probed || list->known)
                return;
        lazy->probed = true;
        list->count = 0;
        rd_kafka_topic_conf_t *tconf = topic_conf_of(view);
        if (!tconf) { /* no topic conf: nothing topic-level is set */
                list->known = true;
                forget_topic_values(view);
                return;
        }
        probe_t pr = {.list = list};
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        bool ok = rd_kafka_conf_set(conf, "debug", "conf", errstr, sizeof(errstr)) ==
                          RD_KAFKA_CONF_OK &&
                  rd_kafka_conf_set(conf, "log.thread.name", "false", errstr, sizeof(errstr)) ==
                          RD_KAFKA_CONF_OK;
        rd_kafka_conf_set_log_cb(conf, probe_log);
        rd_kafka_conf_set_opaque(conf, &pr);
        rd_kafka_conf_set_default_topic_conf(conf, rd_kafka_topic_conf_dup(tconf));
        rd_kafka_t *rk = ok ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)) : NULL;
        if (rk) {
                /* The dump is logged by rd_kafka_new() in this thread; the
                 * handle's threads are joined by rd_kafka_destroy() before
                 * the list is read. */
                rd_kafka_destroy(rk);
        } else {
                rd_kafka_conf_destroy(conf);
        }
        list->known = rk && !pr.failed && probe_agrees(view->props, tconf, list);
        if (!list->known) {
                list->count = 0;
                return;
        }
        forget_topic_values(view);
}

void ksafe_view__settle(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *v)
{
        if (!v->unsure)
                return;
        probe_topic_set(view);
        if (view->lazy->topic_set.known)
                ksafe_view__value(view, prop, v);
}

bool ksafe_view__transactional(const ksafe_view_t *view)
{
        const ksafe_prop_t *txid = ksafe_props__well_known(view->props, KSAFE_P_TRANSACTIONAL_ID);
        ksafe_value_t v;
        return txid && stored_value(view, txid, &v) && v.is_set && v.text[0];
}

bool ksafe_view__idempotent(const ksafe_view_t *view)
{
        const ksafe_prop_t *idem = ksafe_props__well_known(view->props, KSAFE_P_IDEMPOTENCE);
        ksafe_value_t v;
        return ksafe_view__transactional(view) ||
               (idem && stored_value(view, idem, &v) && strcmp(v.text, "true") == 0);
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

/* The value of `name` before finalize, as librdkafka reads it (strtod; its
 * int properties are printed as integers). NAN when unknown. */
static double stored_number(const ksafe_view_t *view, const char *name)
{
        const ksafe_prop_t *prop = ksafe_props__find(view->props, name);
        ksafe_value_t v;
        if (!prop || !stored_value(view, prop, &v))
                return NAN;
        char *end;
        double n = strtod(v.text, &end);
        return end == v.text ? NAN : n;
}

static const char *stored_text(const ksafe_view_t *view, const char *name)
{
        const ksafe_prop_t *prop = ksafe_props__find(view->props, name);
        ksafe_value_t v;
        return prop && stored_value(view, prop, &v) ? v.text : "";
}

static bool named(const ksafe_prop_t *prop, const char *name)
{
        return strcmp(prop->name, name) == 0;
}

/* test.mock.num.brokers (hidden: not in the published table) > 0. */
static bool mock_cluster(const ksafe_view_t *view)
{
        if (view->source == SOURCE_ENTRIES) {
                for (size_t i = view->count; i-- > 0;)
                        if (strcmp(view->entries[i].name, "test.mock.num.brokers") == 0)
                                return view->entries[i].raw &&
                                       strtol(view->entries[i].raw, NULL, 0) > 0;
                return false;
        }
        char value[32];
        size_t size = sizeof(value);
        return view->conf &&
               rd_kafka_conf_get(view->conf, "test.mock.num.brokers", value, &size) ==
                       RD_KAFKA_CONF_OK &&
               strtol(value, NULL, 10) > 0;
}

/* rd_kafka_ApiVersion_is_queryable(): any broker.version.fallback but
 * 0.9.0, 0.8.x, 0.7.x and 0.6.x (by prefix). */
static bool fallback_queryable(const char *v)
{
        static const char *const legacy[] = {"0.9.0", "0.8.2", "0.8.1", "0.8.0", "0.7.", "0.6."};
        for (size_t i = 0; i < sizeof(legacy) / sizeof(*legacy); i++)
                if (strncmp(v, legacy[i], strlen(legacy[i])) == 0)
                        return false;
        return true;
}

/*
 * The finalize model: what librdkafka 2.0.2 makes of `prop`, whose value
 * before finalize is `base`, for a producer. `set` tells whether the user
 * set it: most adjustments apply only to values that were not set, two
 * apply to any (rd_kafka_new()'s log_level and api.version.request). The
 * result is written into buf (or is `base`). Every adjustment, in the order
 * of librdkafka's source:
 *  rd_kafka_conf_finalize(), producer:
 *   - transactional.id: enable.idempotence true; socket.timeout.ms
 *     max(transaction.timeout.ms - 100, 900)
 *   - idempotence: max.in.flight min(it, 5); retries INT32_MAX;
 *     queue.buffering.backpressure.threshold 1 (set or not: > 1 is refused)
 *   - sticky.partitioning.linger.ms min(900000, (int64)(2 x linger.ms)),
 *     from linger.ms as set (before the adjustment below)
 *   - metadata.max.age.ms 3 x topic.metadata.refresh.interval.ms when > 0
 *   - connections.max.idle.ms 230000 when bootstrap.servers names "azure"
 *   - allow.auto.create.topics true
 *   - linger.ms message.timeout.ms - 0.1 when message.timeout.ms != 0 and
 *     <= linger.ms (message.timeout.ms as set, before topic finalize)
 *   (client.software.name/version are sanitized and enabled_events follow
 *   callbacks: not in the published property table; ssl.ca.location=probe
 *   is macOS only; OIDC needs a build with libcurl)
 *  rd_kafka_topic_conf_finalize(), producer:
 *   - idempotence: acks -1; queuing.strategy fifo
 *   - transactional.id: message.timeout.ms transaction.timeout.ms
 *  rd_kafka_new(), after finalize:
 *   - log_level 7 when debug has any context (set or not)
 *   - api.version.request true when broker.version.fallback is queryable
 *     (set or not)
 *   - test.mock.num.brokers > 0: security.protocol plaintext, and
 *     bootstrap.servers the mock cluster's address, known only once it is
 *     made (set or not): judged as a text that no rule value matches
 *   - ssl.key.pem is wiped once the SSL context holds it (security.protocol
 *     ssl or sasl_ssl): "(REDACTED)", or "" for 11 bytes or fewer
 */
static const char *model(const ksafe_view_t *view, const ksafe_prop_t *prop, const char *base,
                         bool set, char *buf, size_t size)
{
        if (named(prop, "log_level") && stored_text(view, "debug")[0])
                return "7";
        if (named(prop, "api.version.request") &&
            fallback_queryable(stored_text(view, "broker.version.fallback")))
                return "true";
        if (named(prop, "security.protocol") && mock_cluster(view))
                return "plaintext";
        bool mock = mock_cluster(view);
        if (named(prop, "metadata.broker.list") && mock)
                return "(the mock cluster's address)";
        if (named(prop, "ssl.key.pem") && base[0] && !mock) {
                const char *proto = stored_text(view, "security.protocol");
                if (strcmp(proto, "ssl") == 0 || strcmp(proto, "sasl_ssl") == 0)
                        return strlen(base) > 11 ? "(REDACTED)" : "";
        }
        if (set)
                return base;

        const ksafe_props_t *props = view->props;
        bool transactional = ksafe_view__transactional(view);
        bool idempotent = ksafe_view__idempotent(view);
        double n;
        if (prop == ksafe_props__well_known(props, KSAFE_P_IDEMPOTENCE))
                return transactional ? "true" : base;
        if (named(prop, "socket.timeout.ms") && transactional) {
                n = stored_number(view, "transaction.timeout.ms") - 100;
                snprintf(buf, size, "%.0f", n > 900 ? n : 900);
                return isfinite(n) ? buf : base;
        }
        if (prop == ksafe_props__well_known(props, KSAFE_P_INFLIGHT) && idempotent)
                return strtod(base, NULL) > 5 ? "5" : base;
        if (prop == ksafe_props__well_known(props, KSAFE_P_RETRIES) && idempotent)
                return "2147483647";
        if (named(prop, "queue.buffering.backpressure.threshold") && idempotent)
                return "1";
        if (named(prop, "sticky.partitioning.linger.ms")) {
                double twice = 2 * stored_number(view, "linger.ms");
                if (!isfinite(twice)) /* nan: librdkafka's cast is undefined */
                        return base;
                snprintf(buf, size, "%.0f", twice > 900000 ? 900000 : trunc(twice));
                return buf;
        }
        if (named(prop, "metadata.max.age.ms")) {
                n = stored_number(view, "topic.metadata.refresh.interval.ms");
                if (!(n > 0))
                        return base;
                snprintf(buf, size, "%.0f", n * 3);
                return buf;
        }
        if (named(prop, "connections.max.idle.ms"))
                return strcasestr(stored_text(view, "bootstrap.servers"), "azure") ? "230000"
                                                                                   : base;
        if (named(prop, "allow.auto.create.topics"))
                return "true";
        if (named(prop, "queue.buffering.max.ms")) {
                double mt = stored_number(view, "message.timeout.ms");
                if (mt != 0 && mt <= strtod(base, NULL)) {
                        snprintf(buf, size, "%g", mt - 0.1);
                        return buf;
                }
                return base;
        }
        if (prop == ksafe_props__well_known(props, KSAFE_P_ACKS) && idempotent)
                return "-1";
        if (named(prop, "queuing.strategy") && idempotent)
                return "fifo";
        if (prop == ksafe_props__well_known(props, KSAFE_P_MESSAGE_TIMEOUT) && transactional) {
                const ksafe_prop_t *tt = ksafe_props__well_known(props, KSAFE_P_TRANSACTION_TIMEOUT);
                ksafe_value_t v;
                if (tt && stored_value(view, tt, &v)) {
                        snprintf(buf, size, "%s", v.text);
                        return buf;
                }
        }
        return base;
}

const char *ksafe_view__unset_value(const ksafe_view_t *view, const ksafe_prop_t *prop, char *buf,
                                   size_t size)
{
        prop = prop->canon;
        const char *v = model(view, prop, prop->def, false, buf, size);
        if (v != buf)
                snprintf(buf, size, "%s", v);
        return buf;
}

const ksafe_prop_t *ksafe_view__topic_twin(const ksafe_view_t *view, const ksafe_prop_t *prop)
{
        prop = prop->canon;
        if (prop->scope != KSAFE_SCOPE_GLOBAL)
                return NULL;
        char name[300];
        snprintf(name, sizeof(name), "topic.%s", prop->name);
        const ksafe_prop_t *twin = ksafe_props__find(view->props, name);
        /* Only a twin that can say "inherit" replaces the global value at
         * produce time (rd_kafka_topic_new0()); others of the same name are
         * the legacy consumer's (auto.commit.interval.ms). */
        return twin && twin->scope == KSAFE_SCOPE_TOPIC && strcmp(twin->name, prop->name) == 0 &&
                               twin->values && strstr(twin->values, "inherit")
                       ? twin
                       : NULL;
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
bool ksafe_view__value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out)
{
        prop = prop->canon;
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
        if (!stored_value(view, prop, out)) {
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
                probe_topic_set(view);
                if (view->lazy->topic_set.known && !stored_value(view, prop, out))
                        return false;
                out->holder = prop;
        }
        char buf[64];
        const char *derived = model(view, prop, out->text, out->is_set, buf, sizeof(buf));
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
