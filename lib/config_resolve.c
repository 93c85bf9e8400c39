/*
 * A config's entries resolved against one policy's property table: names
 * looked up, values parsed as librdkafka reads them (ksafe-unknown-property,
 * ksafe-invalid-value and ksafe-misread-value are detected here, through
 * propvalue.c), the order in which the client applies them, which line wins
 * (ksafe-duplicate), and a view of the result. A private copy each time, so
 * that a config can be judged against several policies.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

void ksafe_config__resolved_free(resolved_t *r)
{
        for (size_t i = 0; r->entries && i < r->count; i++) {
                free(r->entries[i].name);
                free(r->entries[i].raw);
                free(r->entries[i].value);
                free(r->entries[i].note);
        }
        free(r->entries);
        free(r->index);
        ksafe_view__destroy(r->view);
        *r = (resolved_t){0};
}

/* java.util.Properties keeps a UTF-8 BOM in the first key (it is no
 * blank to it): that line sets a property of another name. */
bool ksafe_config__java_bom_key(const ksafe_entry_t *e, ksafe_dialect_t dialect)
{
        return dialect == KSAFE_DIALECT_JAVA && e->line == 1 && !e->origin &&
               strncmp(e->name, "\xEF\xBB\xBF", 3) == 0;
}

static bool resolve_unlisted(ksafe_entry_t *e, rd_kafka_conf_t **scratch)
{
        if (!*scratch && !(*scratch = rd_kafka_conf_new()))
                return false;
        char why[512];
        rd_kafka_conf_res_t res = ksafe_prop__probe(*scratch, e->name, e->raw, why, sizeof(why));
        if (res == RD_KAFKA_CONF_UNKNOWN) {
                e->status = KSAFE_ENTRY_UNKNOWN;
                return true;
        }
        if (res == RD_KAFKA_CONF_OK) {
                e->status = KSAFE_ENTRY_FOREIGN; /* librdkafka's, unpublished */
                return true;
        }
        e->status = KSAFE_ENTRY_INVALID;
        if (strcmp(e->name, "sasl.jaas.config") == 0) {
                size_t n = strlen(why);
                snprintf(why + n, sizeof(why) - n,
                         " (kcat -F turns a PlainLoginModule line into sasl.username and "
                         "sasl.password; librdkafka and every other client refuse it)");
        }
        return (e->note = strdup(why)) != NULL;
}

/* An entry that names no property of librdkafka's by its shape alone (a
 * JSON container, a comment, a line that is not key=value, a BOM key
 * under --dialect java): its status. KSAFE_ENTRY_OK: it may name one. */
static ksafe_entry_status_t status_by_shape(const ksafe_entry_t *e, ksafe_dialect_t dialect)
{
        if (e->container || e->comment) /* its members are entries; only `syntax` */
                return KSAFE_ENTRY_FOREIGN;
        if (e->bare)
                return KSAFE_ENTRY_MALFORMED;
        if (ksafe_config__java_bom_key(e, dialect))
                return KSAFE_ENTRY_FOREIGN; /* ksafe_config__eval_entries() says why */
        return KSAFE_ENTRY_OK;
}

/* The Java client trims a value before it parses it (ConfigDef's
 * parseType: String.trim(), every char up to ' '). */
static void java_trim(char *raw)
{
        size_t a = 0, b = strlen(raw);
        while (a < b && (unsigned char)raw[a] <= ' ')
                a++;
        while (b > a && (unsigned char)raw[b - 1] <= ' ')
                b--;
        memmove(raw, raw + a, b - a);
        raw[b - a] = '\0';
}

/* A JSON number is what a client passes for a number property: Python's
 * str(1000.0) or Go's 1e3 reach librdkafka as 1000. false when out of
 * memory. */
static bool json_number_as_passed(ksafe_entry_t *e)
{
        if (!e->json_number ||
            !(e->prop->type == KSAFE_PROP_INT || e->prop->type == KSAFE_PROP_FLOAT))
                return true;
        char *end;
        double n = ksafe_prop__strtod(e->raw, &end);
        if (*end != '\0' || !isfinite(n) || n != floor(n) || fabs(n) >= 9007199254740992.0)
                return true;
        char whole[32];
        if (!ksafe__whole_number(n, whole, sizeof(whole)))
                snprintf(whole, sizeof(whole), "%.0f", n);
        free(e->raw);
        return (e->raw = strdup(whole)) != NULL;
}

/* Parse the value of a known property as librdkafka would, and say when
 * librdkafka refuses it or reads it otherwise than written. */
static bool resolve_value(ksafe_entry_t *e, ksafe_dialect_t dialect)
{
        if (dialect == KSAFE_DIALECT_JAVA)
                java_trim(e->raw);
        if (!json_number_as_passed(e))
                return false;
        char why[512];
        if (!(e->value = ksafe_prop__parse(e->prop, e->raw, why, sizeof(why)))) {
                e->status = KSAFE_ENTRY_INVALID;
                return (e->note = strdup(why)) != NULL;
        }
        if (ksafe_prop__misread(e->prop, e->raw, e->value, why, sizeof(why))) {
                e->status = KSAFE_ENTRY_MISREAD;
                return (e->note = strdup(why)) != NULL;
        }
        return true;
}

/* Resolve one entry's name and parse its value as librdkafka would. */
static bool resolve_entry(ksafe_entry_t *e, const ksafe_entry_t *read, const ksafe_props_t *props,
                          ksafe_dialect_t dialect, rd_kafka_conf_t **scratch)
{
        *e = *read;
        e->name = strdup(read->name);
        e->raw = strdup(read->raw);
        e->note = ksafe__strdup(read->note);
        e->value = NULL;
        e->shadowed_by = -1;
        e->prop = ksafe_props__find(props, read->name);
        if (!e->name || !e->raw || (read->note && !e->note))
                return false;
        if (dialect == KSAFE_DIALECT_JAVA)
                e->syntax = NULL; /* read by Java's rules, as written for them */
        if (!e->syntax && !e->container && !e->comment)
                e->syntax = ksafe_kcat__name_differs(e->name);
        ksafe_entry_status_t shape = status_by_shape(e, dialect);
        if (shape != KSAFE_ENTRY_OK) {
                e->status = shape;
                e->prop = NULL;
                return true;
        }
        if (e->status == KSAFE_ENTRY_INVALID)
                return true; /* a JSON value that is no scalar */
        if (e->prop)
                return resolve_value(e, dialect);
        if (dialect == KSAFE_DIALECT_JAVA && ksafe_dialect__java_knows(e->name)) {
                e->status = KSAFE_ENTRY_FOREIGN;
                return true;
        }
        return resolve_unlisted(e, scratch);
}

/* Apply a recorded change to the view, as librdkafka would read it. */
static bool override_change(ksafe_view_t *view, const ksafe_props_t *props, const ksafe_change_t *c)
{
        const ksafe_prop_t *prop = ksafe_props__find(props, c->canonical);
        if (!prop)
                return true;
        if (!c->value)
                return ksafe_view__override(view, prop, prop->def, false);
        char why[512];
        char *value = ksafe_prop__parse(prop, c->value, why, sizeof(why));
        bool ok = value && ksafe_view__override(view, prop, value, true);
        free(value);
        return ok;
}

/* A nested member's name and index, sorted by name then position. */
typedef struct named_s {
        const char *name;
        size_t index;
} named_t;

static int by_name(const void *a, const void *b)
{
        const named_t *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The index of the first of nested[0..nn) (sorted by name) named `name`,
 * or where it would be. */
static size_t first_named(const named_t *nested, size_t nn, const char *name)
{
        size_t lo = 0, hi = nn;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(nested[mid].name, name) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/*
 * The order in which the client sets the config's entries. A JSON
 * "default.topic.config" object is Python's confluent-kafka's: it
 * PyDict_Update()s the object into the configuration dict, so a member
 * whose key the top level also has takes that key's place (and value: the
 * nested one wins), the others come after every top-level key, and the
 * dict is then set in order (the last setting of a property wins in
 * librdkafka). A JSON reader keeps only the last of two default.topic.config
 * members: `dropped` is the object whose members never reach the client
 * (0: none). Entries added with ksafe_config_set() come last, as kcat's -X.
 */
static bool client_order(const ksafe_config_t *cfg, size_t *order, unsigned *dropped)
{
        size_t n = cfg->count, fc = cfg->file_count, k = 0;
        unsigned last = 0;
        *dropped = 0;
        for (size_t i = 0; i < fc; i++)
                if (cfg->entries[i].json_object > last)
                        last = cfg->entries[i].json_object;
        if (last == 0) {
                for (size_t i = 0; i < n; i++)
                        order[i] = i;
                return true;
        }
        *dropped = last - 1; /* objects 1..last-1 (the last one's index is kept) */
        named_t *nested = malloc(fc * sizeof(*nested));
        bool *placed = calloc(n ? n : 1, sizeof(*placed));
        if (!nested || !placed) {
                free(nested);
                free(placed);
                return false;
        }
        size_t nn = 0;
        for (size_t i = 0; i < fc; i++)
                if (cfg->entries[i].json_object == last)
                        nested[nn++] = (named_t){.name = cfg->entries[i].name, .index = i};
        qsort(nested, nn, sizeof(*nested), by_name);
        for (size_t i = 0; i < fc; i++) {
                const ksafe_entry_t *e = &cfg->entries[i];
                if (e->json_object != 0)
                        continue;
                order[k++] = i;
                placed[i] = true;
                if (e->container)
                        continue;
                /* The first nested member of that name, then its repeats. */
                size_t lo = first_named(nested, nn, e->name);
                for (; lo < nn && strcmp(nested[lo].name, e->name) == 0; lo++)
                        if (!placed[nested[lo].index]) {
                                order[k++] = nested[lo].index;
                                placed[nested[lo].index] = true;
                        }
        }
        for (size_t i = 0; i < fc; i++)
                if (!placed[i] && cfg->entries[i].json_object == last) {
                        order[k++] = i;
                        placed[i] = true;
                }
        for (size_t i = 0; i < n; i++)
                if (!placed[i])
                        order[k++] = i; /* dropped objects' members, then -X */
        free(nested);
        free(placed);
        return true;
}

/* The last setting of a property wins, as in librdkafka: walk back over
 * r's n entries remembering, per property, the line that wins, and set
 * each entry's shadowed_by. false when out of memory. */
static bool mark_winners(resolved_t *r, size_t n, const ksafe_props_t *props)
{
        size_t nprops = ksafe_props__count(props);
        int *winner = malloc((nprops ? nprops : 1) * sizeof(*winner));
        if (!winner)
                return false;
        for (size_t p = 0; p < nprops; p++)
                winner[p] = -1;
        for (size_t i = n; i-- > 0;) {
                ksafe_entry_t *e = &r->entries[i];
                if (!e->prop)
                        continue;
                size_t p = ksafe_props__index(props, e->prop);
                e->shadowed_by = winner[p];
                if (e->value && winner[p] < 0)
                        winner[p] = (int)i;
                /* Two members of one object are ambiguous (JSON readers
                 * differ); a top-level key that default.topic.config
                 * overrides is not: Python's merge decides. */
                if (e->shadowed_by >= 0)
                        e->in_json = e->in_json &&
                                     r->entries[e->shadowed_by].json_object == e->json_object;
        }
        free(winner);
        return true;
}

/* The config's entries resolved for `policy`, seen through a view. */
bool ksafe_config__resolve(const ksafe_config_t *cfg, const ksafe_policy_t *policy, resolved_t *r)
{
        *r = (resolved_t){0};
        size_t n = cfg->count;
        unsigned dropped = 0;
        r->entries = calloc(n ? n : 1, sizeof(*r->entries));
        r->index = malloc((n ? n : 1) * sizeof(*r->index));
        bool ok = r->entries && r->index && client_order(cfg, r->index, &dropped);
        rd_kafka_conf_t *scratch = NULL;
        for (; ok && r->count < n; r->count++) {
                ksafe_entry_t *e = &r->entries[r->count];
                const ksafe_entry_t *read = &cfg->entries[r->index[r->count]];
                ok = resolve_entry(e, read, policy->props, cfg->dialect, &scratch);
                e->in_json = cfg->format == KSAFE_FORMAT_JSON;
                if (ok && read->json_object && read->json_object <= dropped && !read->container) {
                        free(e->value);
                        free(e->note);
                        e->value = NULL;
                        e->status = KSAFE_ENTRY_INVALID;
                        ok = (e->note =
                                      strdup("default.topic.config is given again later in this "
                                             "object, and a JSON reader keeps only one of them "
                                             "(Python's the last): this setting never reaches the "
                                             "client")) != NULL;
                }
        }
        if (scratch)
                rd_kafka_conf_destroy(scratch);
        ok = ok && mark_winners(r, n, policy->props);
        if (ok)
                r->view = ksafe_view__from_entries(policy->props, cfg->source, r->entries, n);
        ok = ok && r->view;
        for (size_t i = 0; ok && i < cfg->change_count; i++)
                ok = override_change(r->view, policy->props, &cfg->changes[i]);
        if (!ok)
                ksafe_config__resolved_free(r);
        return ok;
}
