/*
 * Which properties the user set, as librdkafka knows it: the finalize
 * model adjusts only values that were not set, and a value equal to the
 * default may still have been set. Global properties: rd_kafka_conf_dup()
 * replays each set one through on_conf_set interceptors. Topic-level
 * properties: librdkafka 2.0.2 tells only in the debug=conf log of a handle
 * made from the topic conf, which ksafe reads when it matters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

bool ksafe_setlist__add(set_list_t *list, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < list->count; i++)
                if (list->items[i] == prop)
                        return true;
        if (!KSAFE_ARRAY_RESERVE(list->items, list->count, list->cap))
                return false;
        list->items[list->count++] = prop;
        return true;
}

void ksafe_setlist__remove(set_list_t *list, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < list->count; i++)
                if (list->items[i] == prop) {
                        list->items[i] = list->items[--list->count];
                        return;
                }
}

bool ksafe_setlist__has(const set_list_t *list, const ksafe_prop_t *prop)
{
        for (size_t i = 0; i < list->count; i++)
                if (list->items[i] == prop)
                        return true;
        return false;
}

/* Left out of the copies that learn set-ness: the default topic conf (a
 * pointer, which no interceptor sees: two topic conf copies saved), and
 * plugin.library.paths, whose copy loads every plugin again (a dlopen()
 * each), whose interceptors would then see each value before the
 * collector does (and may claim it). What the plugins' conf_init set on
 * the conf is copied as set anyway. */
static const char *not_copied[] = {"default_topic_conf", "plugin.library.paths"};

bool ksafe_setlist__not_listed(const ksafe_prop_t *prop)
{
        return strcmp(prop->canon->name, "plugin.library.paths") == 0;
}

static rd_kafka_conf_res_t collect_set(rd_kafka_conf_t *conf, const char *name, const char *val,
                                       char *errstr, size_t errstr_size, void *ic_opaque)
{
        (void)conf, (void)val, (void)errstr, (void)errstr_size;
        set_list_t *list = ic_opaque;
        const ksafe_prop_t *prop = ksafe_props__find(list->props, name);
        if (prop && !ksafe_setlist__add(list, prop->canon))
                list->known = false;
        /* Hidden (not in the property table), but read by the finalize model. */
        if (!prop && strcmp(name, "test.mock.num.brokers") == 0)
                list->mock_set = true;
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
 * Which global properties did the user set, and to what? librdkafka's
 * finalize adjusts only those that were not set, and a value equal to the
 * default may still have been set (max.in.flight=1000000 with idempotence
 * is an error, not 5). rd_kafka_conf_dup() copies exactly the set ones and
 * replays each, as rd_kafka_conf_get() would show it, through the
 * on_conf_set interceptors of the copy, so a dup of a dup with a
 * collecting interceptor lists them. Only the names are trusted: an
 * interceptor's own configuration is replayed onto a copy too (a value
 * that an interceptor took without setting it is set on the copy), so
 * values are read from the conf itself. Topic-level properties are learned
 * otherwise (ksafe_view__probe_topic_set()).
 */
void ksafe_setlist__of_conf(rd_kafka_conf_t *probe, set_list_t *list)
{
        list->known =
                rd_kafka_conf_interceptor_add_on_conf_dup(probe, "ksafe-user-set", collect_on_dup,
                                                          list) == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (list->known)
                rd_kafka_conf_destroy(
                        rd_kafka_conf_dup_filter(probe, ARRAY_SIZE(not_copied), not_copied));
}

void ksafe_setlist__of_copy(const rd_kafka_conf_t *conf, set_list_t *list)
{
        rd_kafka_conf_t *probe = rd_kafka_conf_dup_filter(conf, ARRAY_SIZE(not_copied), not_copied);
        ksafe_setlist__of_conf(probe, list);
        rd_kafka_conf_destroy(probe);
}

void ksafe_setlist__copy(set_list_t *to, const set_list_t *from)
{
        to->known = from->known;
        to->mock_set = from->mock_set;
        for (size_t i = 0; to->known && i < from->count; i++)
                to->known = ksafe_setlist__add(to, from->items[i]);
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
        if (prop && prop->scope == KSAFE_SCOPE_TOPIC && !ksafe_setlist__add(pr->list, prop))
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
                        ok = ksafe_setlist__has(list, prop);
        }
        if (dump)
                rd_kafka_conf_dump_free(dump, cnt);
        return ok;
}

/* Learn which properties of the topic conf were set: a consumer handle (it
 * finalizes no topic conf, so any topic conf makes one) from a fresh conf
 * with debug=conf and a copy of the topic conf (rd_kafka_topic_conf_dup()
 * keeps what was set), destroyed at once. About 2 ms; only when a value at
 * its default would be judged otherwise if it were set. */
void ksafe_view__probe_topic_set(const ksafe_view_t *view)
{
        lazy_t *lazy = view->lazy;
        set_list_t *list = &lazy->topic_set;
        if (lazy->probed || list->known)
                return;
        lazy->probed = true;
        list->count = 0;
        ksafe_view__touch(view);
        rd_kafka_topic_conf_t *tconf = topic_conf_of(view);
        if (!tconf) { /* no topic conf: nothing topic-level is set */
                list->known = true;
                ksafe_view__forget_topic_values(view);
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
        ksafe_view__touch(view);
        if (!list->known) {
                list->count = 0;
                return;
        }
        ksafe_view__forget_topic_values(view);
}

void ksafe_view__settle(const ksafe_view_t *view, const ksafe_prop_t *prop, ksafe_value_t *v)
{
        if (!v->unsure)
                return;
        ksafe_view__probe_topic_set(view);
        if (view->lazy->topic_set.known)
                ksafe_view__value(view, prop, v);
}
