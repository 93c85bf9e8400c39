/*
 * The config view's insides, shared by view.c (values) and userset.c
 * (which properties the user set) only.
 */
#ifndef KSAFE_VIEW_INT_H
#define KSAFE_VIEW_INT_H

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
        bool known;    /* false: fall back to "differs from the default" */
        bool mock_set; /* test.mock.num.brokers is set (hidden: not in the table) */
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
        /* ksafe_view__value()'s answers, valid while `generation` is what
         * it was when each was computed: anything that changes what the
         * view means (a property changed, set-ness learned) counts one
         * more generation. */
        unsigned long generation;
        struct memo_s *memo;
        size_t memo_count, memo_cap;
} lazy_t;

struct ksafe_view_s {
        set_list_t user_set;
        lazy_t *lazy;
        /* rd_kafka_conf_get() scans librdkafka's whole property table:
         * values read from a conf are cached until the property changes. */
        store_t *cache;
        store_t overrides; /* values given by ksafe_view__override() */
        const ksafe_props_t *props;
        ksafe_source_t source;
        const rd_kafka_conf_t *conf;        /* global values, or NULL */
        const rd_kafka_topic_conf_t *tconf; /* topic values, or NULL */
        bool topic_only;                    /* judge topic-level rules only */
        const char *file;
        const ksafe_entry_t *entries;
        size_t count;
};

/* userset.c */
bool ksafe_setlist__add(set_list_t *list, const ksafe_prop_t *prop);
void ksafe_setlist__remove(set_list_t *list, const ksafe_prop_t *prop);
bool ksafe_setlist__has(const set_list_t *list, const ksafe_prop_t *prop);
/** `to` gets what `from` knows (to->known false when out of memory). */
void ksafe_setlist__copy(set_list_t *to, const set_list_t *from);
/** The global properties set on `probe` (which gets an interceptor). */
void ksafe_setlist__of_conf(rd_kafka_conf_t *probe, set_list_t *list);
/** Whether the list can never hold `prop` (left out of the copies that
 *  learn set-ness): read it from the conf. */
bool ksafe_setlist__not_listed(const ksafe_prop_t *prop);
/** The same for a conf that must not get an interceptor (probes a copy). */
void ksafe_setlist__of_copy(const rd_kafka_conf_t *conf, set_list_t *list);
/** Learn which topic-level properties were set, once per view. */
void ksafe_view__probe_topic_set(const ksafe_view_t *view);

/* view.c */
/** What the view means changed (a value, or set-ness learned): the values
 *  ksafe_view__value() gave before are computed again. */
void ksafe_view__touch(const ksafe_view_t *view);
/** Which of finalize.c's adjustments applies to `prop` (canonical), from a
 *  table built once per process: ksafe_finalize__kind() of each row. */
unsigned ksafe_view__finalize_kind(const ksafe_view_t *view, const ksafe_prop_t *prop);

/* finalize.c */
/** The adjustment of finalize.c's model that applies to `prop`
 *  (canonical): 0 for none. */
unsigned ksafe_finalize__kind(const ksafe_props_t *props, const ksafe_prop_t *prop);
/** Drop the cached topic-level values: they were read with guessed set-ness. */
void ksafe_view__forget_topic_values(const ksafe_view_t *view);

#endif /* KSAFE_VIEW_INT_H */
