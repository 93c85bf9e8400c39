/*
 * The config view: one way to ask "what value will librdkafka use for
 * property P, and who set it?" whatever the source is: a conf not yet given
 * to rd_kafka_new(), a created handle, a topic conf, or the lines of a file.
 *
 * Values that the user did not set are what librdkafka's finalize step
 * makes of them: with idempotence on (set, or implied by transactional.id)
 * unset acks, max.in.flight and retries become -1, 5 and INT32_MAX, and
 * with transactional.id an unset message.timeout.ms becomes
 * transaction.timeout.ms. A created handle's global conf is read as it is
 * (finalized); its topic confs are finalized per topic, so the model still
 * applies to topic-level values it does not hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct ksafe_view_s {
        set_list_t user_set;
        /* rd_kafka_conf_get() scans librdkafka's whole property table:
         * values read from a conf are cached until the property changes. */
        store_t *cache;
        store_t overrides; /* values given by ksafe_view_override() */
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
        if (view && !(view->cache = calloc(1, sizeof(*view->cache)))) {
                free(view);
                return NULL;
        }
        if (view) {
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
        const ksafe_prop_t *prop = ksafe_props_find(list->props, name);
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

ksafe_view_t *ksafe_view_from_conf(const ksafe_props_t *props, const rd_kafka_conf_t *conf)
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

ksafe_view_t *ksafe_view_from_conf_like(const ksafe_props_t *props, const rd_kafka_conf_t *conf,
                                        const ksafe_view_t *like)
{
        ksafe_view_t *view = view_new(props, SOURCE_CONF);
        if (!view)
                return NULL;
        view->conf = conf;
        set_list_t *list = &view->user_set;
        list->known = like->user_set.known;
        for (size_t i = 0; list->known && i < like->user_set.count; i++)
                list->known = set_list_add(list, like->user_set.items[i]);
        return view;
}

ksafe_view_t *ksafe_view_from_scratch_conf(const ksafe_props_t *props, rd_kafka_conf_t *conf)
{
        ksafe_view_t *view = view_new(props, SOURCE_CONF);
        if (view) {
                view->conf = conf;
                user_set_of(conf, &view->user_set);
        }
        return view;
}

ksafe_view_t *ksafe_view_from_handle(const ksafe_props_t *props, rd_kafka_t *rk)
{
        /* Topic-level values are read from the handle's own default topic
         * conf, which rd_kafka_new() finalized (a dup of it would not be:
         * rd_kafka_conf_dup copies only what the user set). */
        ksafe_view_t *view = view_new(props, SOURCE_HANDLE);
        if (view)
                view->conf = rd_kafka_conf(rk);
        return view;
}

ksafe_view_t *ksafe_view_from_topic_conf(const ksafe_props_t *props, rd_kafka_t *rk,
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

ksafe_view_t *ksafe_view_from_entries(const ksafe_props_t *props, const char *file,
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

void ksafe_view_destroy(ksafe_view_t *view)
{
        if (!view)
                return;
        store_free(view->cache);
        free(view->cache);
        store_free(&view->overrides);
        free(view->user_set.items);
        free(view);
}

const char *ksafe_view_file(const ksafe_view_t *view)
{
        return view->file;
}

const ksafe_entry_t *ksafe_view_entries(const ksafe_view_t *view, size_t *countp)
{
        *countp = view->count;
        return view->entries;
}

bool ksafe_view_is_topic_only(const ksafe_view_t *view)
{
        return view->topic_only;
}

void ksafe_view_changed(ksafe_view_t *view, const ksafe_prop_t *prop, bool now_set)
{
        set_list_t *list = &view->user_set;
        if (list->known && now_set && !set_list_add(list, prop->canon))
                list->known = false;
        if (list->known && !now_set)
                set_list_remove(list, prop->canon);
        store_drop(view->cache, prop->canon);
}

static bool read_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out,
                       char **owned);

bool ksafe_view_override(ksafe_view_t *view, const ksafe_prop_t *prop, const char *value,
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
        ksafe_view_changed(view, prop, is_set);
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
        if (view->user_set.known && !topic)
                out->is_set = set_list_has(&view->user_set, prop);
        else
                out->is_set = strcmp(out->text, prop->def) != 0;
        return true;
}

bool ksafe_view_transactional(const ksafe_view_t *view)
{
        const ksafe_prop_t *txid = ksafe_props_well_known(view->props, KSAFE_P_TRANSACTIONAL_ID);
        ksafe_value_t v;
        return txid && stored_value(view, txid, &v) && v.is_set && v.text[0];
}

bool ksafe_view_idempotent(const ksafe_view_t *view)
{
        const ksafe_prop_t *idem = ksafe_props_well_known(view->props, KSAFE_P_IDEMPOTENCE);
        ksafe_value_t v;
        return ksafe_view_transactional(view) ||
               (idem && stored_value(view, idem, &v) && strcmp(v.text, "true") == 0);
}

bool ksafe_view_limit(const ksafe_view_t *view, const ksafe_prop_t *prop, double *hi)
{
        const ksafe_props_t *props = view->props;
        const ksafe_prop_t *tt = ksafe_props_well_known(props, KSAFE_P_TRANSACTION_TIMEOUT);
        ksafe_value_t v;
        /* rd_kafka_new(): "message.timeout.ms must be <= transaction.timeout.ms". */
        if (prop->canon == ksafe_props_well_known(props, KSAFE_P_MESSAGE_TIMEOUT) && tt &&
            ksafe_view_transactional(view) && ksafe_view_value(view, tt, &v) &&
            ksafe_prop_number(tt, v.text, hi))
                return true;
        return false;
}

bool ksafe_view_value(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *out)
{
        prop = prop->canon;
        if (!stored_value(view, prop, out)) {
                *out = (ksafe_value_t){.text = prop->def};
                return false;
        }
        /* A handle's global conf is finalized; its topic confs are
         * finalized per topic, so the model still applies to them. */
        if (out->is_set || (view->source == SOURCE_HANDLE && prop->scope == KSAFE_SCOPE_GLOBAL))
                return true;

        const ksafe_props_t *props = view->props;
        const ksafe_prop_t *idem = ksafe_props_well_known(props, KSAFE_P_IDEMPOTENCE);
        ksafe_value_t v;
        bool transactional = ksafe_view_transactional(view);
        bool idempotent = ksafe_view_idempotent(view);

        const char *derived = NULL;
        if (prop == idem && transactional)
                derived = "true";
        else if (prop == ksafe_props_well_known(props, KSAFE_P_ACKS) && idempotent)
                derived = "-1";
        else if (prop == ksafe_props_well_known(props, KSAFE_P_INFLIGHT) && idempotent)
                derived = "5";
        else if (prop == ksafe_props_well_known(props, KSAFE_P_RETRIES) && idempotent)
                derived = "2147483647";
        else if (prop == ksafe_props_well_known(props, KSAFE_P_MESSAGE_TIMEOUT) && transactional) {
                const ksafe_prop_t *tt =
                        ksafe_props_well_known(props, KSAFE_P_TRANSACTION_TIMEOUT);
                if (tt && stored_value(view, tt, &v))
                        derived = v.text;
        }
        if (derived && strcmp(derived, out->text) != 0) {
                out->text = derived;
                out->derived = true;
        }
        return true;
}
