/*
 * librdkafka's property table, read from the linked library.
 *
 * rd_kafka_conf_properties_show() prints every property with its scope,
 * range, type and "Alias for `x`" notes; defaults are read back from fresh
 * confs. Nothing here is a hand-kept list that could go stale, except the
 * names whose values are secret (librdkafka does not publish its
 * _RK_SENSITIVE flag) and the well-known names of the finalize model.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

struct ksafe_props_s {
        ksafe_prop_t *all; /* sorted by (scope, name) */
        size_t count;
        const ksafe_prop_t *well_known[KSAFE_P__COUNT];
        /* A hash index of `all` by (scope, name): every view, rule and
         * refusal check looks names up, many times per config. Open
         * addressing; a slot holds a row's index + 1, 0 when empty. */
        uint32_t *slots;
        size_t mask; /* number of slots - 1 (a power of two) */
        /* For ksafe_props__suggest(): each row's name length and how many
         * of each character it has (see bag_of()), made by the first
         * suggestion (most runs make none) and published once. */
        _Atomic(struct bag_s *) bags;
};

/* How many of each character a name has: a-z, 0-9 and '.', '_', '-' each
 * counted on their own, every other byte in one last bucket. */
#define BAG_SIZE 40
typedef struct bag_s {
        size_t len;
        unsigned char count[BAG_SIZE];
} bag_t;

static void bag_of(const char *name, bag_t *bag)
{
        memset(bag, 0, sizeof(*bag));
        for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
                unsigned k = *c >= 'a' && *c <= 'z'   ? *c - 'a'
                             : *c >= '0' && *c <= '9' ? 26 + *c - '0'
                             : *c == '.'              ? 36
                             : *c == '_'              ? 37
                             : *c == '-'              ? 38
                                                      : 39;
                if (bag->count[k] < 255)
                        bag->count[k]++;
                bag->len++;
        }
}

/* A lower bound of the edit distance of two names: an edit adds, removes
 * or changes one character, so it changes each of "characters of a
 * missing from b" and "of b missing from a" by at most one. (A count held
 * at 255 only lowers the bound.) */
static size_t bag_distance(const bag_t *a, const bag_t *b)
{
        size_t more = 0, fewer = 0;
        for (size_t k = 0; k < BAG_SIZE; k++) {
                if (a->count[k] > b->count[k])
                        more += (size_t)(a->count[k] - b->count[k]);
                else
                        fewer += (size_t)(b->count[k] - a->count[k]);
        }
        return more > fewer ? more : fewer;
}

static const char *const well_known_names[KSAFE_P__COUNT] = {
        [KSAFE_P_IDEMPOTENCE] = "enable.idempotence",
        [KSAFE_P_TRANSACTIONAL_ID] = "transactional.id",
        [KSAFE_P_ACKS] = "request.required.acks",
        [KSAFE_P_INFLIGHT] = "max.in.flight.requests.per.connection",
        [KSAFE_P_RETRIES] = "message.send.max.retries",
        [KSAFE_P_MESSAGE_TIMEOUT] = "message.timeout.ms",
        [KSAFE_P_TRANSACTION_TIMEOUT] = "transaction.timeout.ms",
};

bool ksafe_property_is_sensitive(const char *name)
{
        static const char *const exact[] = {
                "sasl.username",         "sasl.oauthbearer.config", "ssl.key.location",
                "ssl.keystore.location", "sasl.kerberos.keytab",
        };
        static const char *const parts[] = {
                "password", "secret", "pem", "jaas", "credential", "token", "private",
        };
        if (!name)
                return false;
        char lower[256];
        size_t n = 0;
        /* ASCII case only: the same in every locale (tolower() in a Turkish
         * one does not lower 'I' to 'i'), and no call per character. */
        for (; name[n] && n < sizeof(lower) - 1; n++)
                lower[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] - 'A' + 'a' : name[n]);
        lower[n] = '\0';
        const char *base = strncmp(lower, "topic.", 6) == 0 ? lower + 6 : lower;
        for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
                if (strcmp(base, exact[i]) == 0)
                        return true;
        for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
                if (strstr(base, parts[i]))
                        return true;
        return false;
}

static char *trim(char *s)
{
        while (isspace((unsigned char)*s))
                s++;
        char *end = s + strlen(s);
        while (end > s && isspace((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

static ksafe_prop_type_t type_from_description(const char *desc)
{
        static const struct {
                const char *text;
                ksafe_prop_type_t type;
        } types[] = {
                {"integer*", KSAFE_PROP_INT},     {"float*", KSAFE_PROP_FLOAT},
                {"boolean*", KSAFE_PROP_BOOL},    {"enum value*", KSAFE_PROP_ENUM},
                {"CSV flags*", KSAFE_PROP_FLAGS}, {"pattern list*", KSAFE_PROP_PATTERN},
                {"string*", KSAFE_PROP_STRING},
        };
        /* Each "*Type: X*" in the description (one, at its end), the first
         * of the list above winning: one pass over the text, not seven. */
        size_t best = ARRAY_SIZE(types);
        for (const char *p = desc; (p = strstr(p, "*Type: ")) != NULL;) {
                p += strlen("*Type: ");
                for (size_t i = 0; i < best; i++)
                        if (strncmp(p, types[i].text, strlen(types[i].text)) == 0)
                                best = i;
        }
        return best < ARRAY_SIZE(types) ? types[best].type
                                        : KSAFE_PROP_POINTER; /* "see dedicated API" */
}

typedef enum row_e { ROW_NONE, ROW_OK, ROW_NOMEM } row_t;

/* One table row: name | C/P | range | default | importance | description.
 * ROW_NONE for header and separator rows. */
static row_t parse_row(char *line, ksafe_scope_t scope, ksafe_prop_t *p)
{
        char *cols[6];
        char *s = line;
        for (int i = 0; i < 5; i++) {
                char *bar = strchr(s, '|');
                if (!bar)
                        return ROW_NONE;
                *bar = '\0';
                cols[i] = s;
                s = bar + 1;
        }
        /* Trimmed: the name and the range. The description is only
         * searched for words (a blank around it changes nothing), and the
         * other columns are not read. */
        cols[0] = trim(cols[0]);
        cols[2] = trim(cols[2]);
        cols[5] = s;
        if (!*cols[0] || strspn(cols[0], "-") == strlen(cols[0]) ||
            strcmp(cols[0], "Property") == 0)
                return ROW_NONE;

        *p = (ksafe_prop_t){.scope = scope};
        p->name = strdup(cols[0]);
        p->type = type_from_description(cols[5]);
        p->sensitive = ksafe_property_is_sensitive(p->name);
        p->zero_infinite = strstr(cols[5], "0 is infinite") != NULL;

        char *dots = strstr(cols[2], " .. ");
        if (dots && (p->type == KSAFE_PROP_INT || p->type == KSAFE_PROP_FLOAT)) {
                p->has_range = true;
                p->min = strtod(cols[2], NULL);
                p->max = strtod(dots + 4, NULL);
        } else if (*cols[2]) {
                p->values = strdup(cols[2]);
        }

        bool complete = p->name && (p->has_range || !*cols[2] || p->values);
        char *alias = strstr(cols[5], "Alias for `");
        if (alias) {
                alias += strlen("Alias for `");
                char *end = strchr(alias, '`');
                if (end)
                        complete &= (p->alias_of = strndup(alias, (size_t)(end - alias))) != NULL;
        }
        return complete ? ROW_OK : ROW_NOMEM;
}

static int prop_cmp(const void *a, const void *b)
{
        const ksafe_prop_t *x = a, *y = b;
        if (x->scope != y->scope)
                return (int)x->scope - (int)y->scope;
        return strcmp(x->name, y->name);
}

/* A hash of the scope and the name, eight bytes at a time (names are
 * about 20 bytes: a byte at a time was most of a look-up). */
static size_t name_hash(ksafe_scope_t scope, const char *name)
{
        size_t len = strlen(name);
        uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)scope ^ ((uint64_t)len << 40);
        const char *p = name;
        for (; len >= 8; p += 8, len -= 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                h = (h ^ w) * 0xff51afd7ed558ccdULL;
                h ^= h >> 29;
        }
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
        return (size_t)(h ^ (h >> 32));
}

static ksafe_prop_t *find_in_scope(const ksafe_props_t *props, ksafe_scope_t scope,
                                   const char *name)
{
        if (!props->slots) { /* while the table is built */
                ksafe_prop_t key = {.name = (char *)name, .scope = scope};
                return bsearch(&key, props->all, props->count, sizeof(*props->all), prop_cmp);
        }
        for (size_t i = name_hash(scope, name) & props->mask;; i = (i + 1) & props->mask) {
                uint32_t slot = props->slots[i];
                if (!slot)
                        return NULL;
                ksafe_prop_t *p = &props->all[slot - 1];
                if (p->scope == scope && strcmp(p->name, name) == 0)
                        return p;
        }
}

/* Index the sorted rows by (scope, name). false when out of memory. */
static bool index_build(ksafe_props_t *props)
{
        size_t n = 64;
        while (n < 2 * props->count)
                n *= 2;
        uint32_t *slots = calloc(n, sizeof(*slots));
        if (!slots)
                return false;
        for (size_t r = 0; r < props->count; r++) {
                const ksafe_prop_t *p = &props->all[r];
                size_t i = name_hash(p->scope, p->name) & (n - 1);
                while (slots[i])
                        i = (i + 1) & (n - 1);
                slots[i] = (uint32_t)(r + 1);
        }
        props->slots = slots;
        props->mask = n - 1;
        return true;
}

/* Note each value of a dump of a fresh conf (rd_kafka_conf_dump(): name,
 * value, name, value... in librdkafka's table order) on the canonical row
 * of that name in `scope`, as its default. The first row librdkafka lists
 * under a name is the one rd_kafka_conf_get() reads (it skips rows with no
 * value, and so does the dump). false when out of memory. */
static bool note_dump(ksafe_props_t *props, ksafe_scope_t scope, const char **dump, size_t count)
{
        for (size_t i = 0; i + 1 < count; i += 2) {
                ksafe_prop_t *p = find_in_scope(props, scope, dump[i]);
                if (!p || p->def || p->canon != p || p->type == KSAFE_PROP_POINTER)
                        continue;
                if (!(p->def = strdup(dump[i + 1] ? dump[i + 1] : "")))
                        return false;
        }
        return true;
}

/* Read librdkafka's default for each property from fresh confs: one dump
 * of each (rd_kafka_conf_get() per property scans librdkafka's table each
 * time). An alias has its canonical property's default; a property with
 * no value (a pointer, a string without a default) "". */
static bool read_defaults(ksafe_props_t *props)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        size_t count = 0, tcount = 0;
        const char **dump = conf ? rd_kafka_conf_dump(conf, &count) : NULL;
        const char **tdump = tconf ? rd_kafka_topic_conf_dump(tconf, &tcount) : NULL;
        bool ok = dump && tdump && note_dump(props, KSAFE_SCOPE_GLOBAL, dump, count) &&
                  note_dump(props, KSAFE_SCOPE_TOPIC, tdump, tcount);
        if (dump)
                rd_kafka_conf_dump_free(dump, count);
        if (tdump)
                rd_kafka_conf_dump_free(tdump, tcount);
        if (tconf)
                rd_kafka_topic_conf_destroy(tconf);
        if (conf)
                rd_kafka_conf_destroy(conf);
        /* Canonical rows first, so that aliases copy a finished value. */
        for (size_t i = 0; ok && i < props->count; i++) {
                ksafe_prop_t *p = &props->all[i];
                if (p->canon == p && !p->def)
                        ok = (p->def = strdup("")) != NULL;
        }
        for (size_t i = 0; ok && i < props->count; i++) {
                ksafe_prop_t *p = &props->all[i];
                if (p->canon != p)
                        ok = (p->def = strdup(p->canon->def)) != NULL;
        }
        return ok;
}

static void table_free(ksafe_props_t *props);

/* librdkafka's property table as rd_kafka_conf_properties_show() prints
 * it: a new string (free() it), NULL when out of memory. Printed into a
 * buffer that fits it (56 KB in 2.0.2; a memory stream costs 20% more
 * instructions), or into a growing memory stream when it does not fit. */
static char *properties_text(void)
{
        size_t cap = 112 * 1024; /* on the heap, below malloc's mmap threshold */
        char *text = malloc(cap);
        FILE *mem = text ? fmemopen(text, cap, "w") : NULL;
        if (mem) {
                rd_kafka_conf_properties_show(mem);
                long len = ftell(mem);
                bool whole = fclose(mem) == 0 && len >= 0 && (size_t)len < cap - 1;
                if (whole) {
                        text[len] = '\0';
                        return text;
                }
        }
        free(text);
        text = NULL;
        size_t text_len = 0;
        mem = open_memstream(&text, &text_len);
        if (!mem)
                return NULL;
        rd_kafka_conf_properties_show(mem);
        if (fclose(mem) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* Each global property's topic-level twin: "topic." + its name, a
 * topic-level property of the same name whose choices include "inherit".
 * Only such a twin replaces the global value at produce time
 * (rd_kafka_topic_new0()); others of the same name are the legacy
 * consumer's (auto.commit.interval.ms). Views ask for it for every value. */
static void link_topic_twins(ksafe_props_t *props)
{
        for (size_t i = 0; i < props->count; i++) {
                ksafe_prop_t *p = &props->all[i];
                if (p->canon != p || p->scope != KSAFE_SCOPE_GLOBAL)
                        continue;
                /* ksafe_props__find("topic." + name), in its two steps:
                 * a global property of that name first, else the topic
                 * level's own property of the name. */
                size_t len = strlen(p->name);
                char name[300];
                if (len + 7 > sizeof(name))
                        continue;
                memcpy(name, "topic.", 6);
                memcpy(name + 6, p->name, len + 1);
                if (find_in_scope(props, KSAFE_SCOPE_GLOBAL, name))
                        continue;
                const ksafe_prop_t *twin = find_in_scope(props, KSAFE_SCOPE_TOPIC, p->name);
                twin = twin ? twin->canon : NULL;
                if (twin && twin->scope == KSAFE_SCOPE_TOPIC && strcmp(twin->name, p->name) == 0 &&
                    twin->values && strstr(twin->values, "inherit"))
                        p->topic_twin = twin;
        }
}

/* After the rows are read: sort them, link each alias to its canonical
 * property, read the defaults and find the well-known properties. false
 * when a default could not be read (out of memory). */
static bool table_finish(ksafe_props_t *props)
{
        qsort(props->all, props->count, sizeof(*props->all), prop_cmp);
        for (size_t i = 0; i < props->count; i++) {
                ksafe_prop_t *p = &props->all[i];
                const ksafe_prop_t *target =
                        p->alias_of ? find_in_scope(props, p->scope, p->alias_of) : NULL;
                p->canon = target ? target : p;
        }

        if (!index_build(props) || !read_defaults(props))
                return false;
        link_topic_twins(props);
        for (int w = 0; w < KSAFE_P__COUNT; w++)
                props->well_known[w] = ksafe_props__find(props, well_known_names[w]);
        return true;
}

/* Parse librdkafka's table: about 70% of a policy load when every policy
 * did it (callgrind), so it is done once per process (see
 * ksafe_props__new()). */
static ksafe_props_t *table_build(void)
{
        char *text = properties_text();
        if (!text)
                return NULL;

        ksafe_props_t *props = calloc(1, sizeof(*props));
        size_t cap = 256;
        if (props)
                props->all = calloc(cap, sizeof(*props->all));
        if (!props || !props->all) {
                free(text);
                table_free(props);
                return NULL;
        }

        ksafe_scope_t scope = KSAFE_SCOPE_GLOBAL;
        bool ok = true;
        for (char *line = text, *next; ok && line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, "## Topic", 8) == 0)
                        scope = KSAFE_SCOPE_TOPIC;
                if (line[0] == '#' || !strchr(line, '|'))
                        continue;
                if (props->count == cap) {
                        ksafe_prop_t *all = realloc(props->all, 2 * cap * sizeof(*all));
                        if (!(ok = all != NULL))
                                break;
                        props->all = all;
                        cap *= 2;
                }
                row_t row = parse_row(line, scope, &props->all[props->count]);
                /* A partial table would judge with missing knowledge. */
                if (row != ROW_NONE)
                        props->count++;
                ok = row != ROW_NOMEM;
        }
        free(text);
        if (!ok) {
                table_free(props);
                return NULL;
        }

        if (!table_finish(props)) {
                table_free(props);
                return NULL;
        }
        return props;
}

static void table_free(ksafe_props_t *props)
{
        if (!props)
                return;
        for (size_t i = 0; i < props->count; i++) {
                free(props->all[i].name);
                free(props->all[i].values);
                free(props->all[i].def);
                free(props->all[i].alias_of);
        }
        free(props->all);
        free(props->slots);
        free(atomic_load_explicit(&props->bags, memory_order_relaxed));
        free(props);
}

/*
 * The table depends only on the linked librdkafka: one per process, shared
 * by every policy and view, immutable once published. Built under a mutex
 * and published with release semantics, so a reader that sees the pointer
 * sees the whole table; a failed build (out of memory) is tried again by
 * the next caller, which pthread_once() could not do.
 */
static _Atomic(ksafe_props_t *) shared_table;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

ksafe_props_t *ksafe_props__new(void)
{
        ksafe_props_t *props = atomic_load_explicit(&shared_table, memory_order_acquire);
        if (props)
                return props;
        pthread_mutex_lock(&shared_lock);
        props = atomic_load_explicit(&shared_table, memory_order_relaxed);
        if (!props && (props = table_build()) != NULL)
                atomic_store_explicit(&shared_table, props, memory_order_release);
        pthread_mutex_unlock(&shared_lock);
        return props;
}

/* The shared table lives as long as the process: nothing to release. */
void ksafe_props__destroy(ksafe_props_t *props)
{
        (void)props;
}

/* When the library is unloaded (librdkafka dlclose()s a plugin when its
 * last conf goes) or the process ends, the table goes with it: a plugin
 * loaded and unloaded in a loop does not leak one table per load. */
__attribute__((destructor)) static void shared_table_free(void)
{
        table_free(atomic_exchange(&shared_table, NULL));
}

const ksafe_prop_t *ksafe_props__find(const ksafe_props_t *props, const char *name)
{
        const ksafe_prop_t *p = find_in_scope(props, KSAFE_SCOPE_GLOBAL, name);
        /* kcat strips "topic." and the topic conf strips one more. */
        for (int i = 0; i < 2 && !p && strncmp(name, "topic.", 6) == 0; i++) {
                name += 6;
                p = find_in_scope(props, KSAFE_SCOPE_TOPIC, name);
        }
        if (!p)
                p = find_in_scope(props, KSAFE_SCOPE_TOPIC, name);
        return p ? p->canon : NULL;
}

size_t ksafe_props__count(const ksafe_props_t *props)
{
        return props->count;
}

const ksafe_prop_t *ksafe_props__at(const ksafe_props_t *props, size_t i)
{
        return i < props->count ? &props->all[i] : NULL;
}

size_t ksafe_props__index(const ksafe_props_t *props, const ksafe_prop_t *prop)
{
        return (size_t)(prop - props->all);
}

const ksafe_prop_t *ksafe_props__well_known(const ksafe_props_t *props, ksafe_well_known_t which)
{
        return props->well_known[which];
}

/*
 * Levenshtein distance between a (la bytes) and b (lb bytes, at most 128),
 * computed only inside the band |i - j| <= k: the exact distance when it
 * is at most k, else k + 1. Rows stop as soon as every cell of one exceeds
 * k, so a name far from every property costs a few rows per comparison,
 * not la x lb cells.
 */
static size_t bounded_distance(const char *a, size_t la, const char *b, size_t lb, size_t k)
{
        size_t over = k + 1;
        if ((la > lb ? la - lb : lb - la) > k)
                return over;
        size_t row[129];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j <= k ? j : over;
        for (size_t i = 1; i <= la; i++) {
                size_t jlo = i > k ? i - k : 1;
                size_t jhi = i + k < lb ? i + k : lb;
                size_t diag = row[jlo - 1];
                /* Column jlo - 1 of this row: i at the left edge, else
                 * outside the band. */
                row[jlo - 1] = jlo == 1 && i <= k ? i : over;
                size_t row_min = row[jlo - 1];
                for (size_t j = jlo; j <= jhi; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        if (best > over)
                                best = over;
                        row[j] = best;
                        diag = up;
                        if (best < row_min)
                                row_min = best;
                }
                if (row_min > k)
                        return over;
        }
        return row[lb] <= k ? row[lb] : over;
}

/* The rows' bags (see bag_of()), made and published on first use under
 * a lock, as the table itself; NULL when out of memory. */
static pthread_mutex_t bags_lock = PTHREAD_MUTEX_INITIALIZER;

static const bag_t *bags_of(const ksafe_props_t *props)
{
        ksafe_props_t *p = (ksafe_props_t *)props; /* only the cache changes */
        bag_t *bags = atomic_load_explicit(&p->bags, memory_order_acquire);
        if (bags)
                return bags;
        pthread_mutex_lock(&bags_lock);
        bags = atomic_load_explicit(&p->bags, memory_order_relaxed);
        if (!bags && (bags = calloc(props->count ? props->count : 1, sizeof(*bags))) != NULL) {
                for (size_t r = 0; r < props->count; r++)
                        bag_of(props->all[r].name, &bags[r]);
                atomic_store_explicit(&p->bags, bags, memory_order_release);
        }
        pthread_mutex_unlock(&bags_lock);
        return bags;
}

/*
 * The first property (in table order) at the smallest edit distance from
 * `name`, when that distance is within the limit. Each comparison is
 * bounded by the best distance found so far (a later name must be strictly
 * nearer to win), names whose length differs by more than that are skipped,
 * and an exact match ends the search: the same answer as comparing every
 * name in full, in time close to linear in the length of `name`.
 */
const char *ksafe_props__suggest(const ksafe_props_t *props, const char *name)
{
        size_t la = strlen(name);
        if (la > 128)
                return NULL; /* no property name is that long */
        size_t limit = la / 3;
        if (limit < 2)
                limit = 2;
        if (limit > 4)
                limit = 4;
        const char *best = NULL;
        size_t bound = limit; /* a candidate must be within it to win */
        bag_t mine, one;
        bag_of(name, &mine);
        const bag_t *bags = bags_of(props);
        for (size_t i = 0; i < props->count; i++) {
                const char *cand = props->all[i].name;
                const bag_t *theirs = bags ? &bags[i] : &one;
                if (!bags)
                        bag_of(cand, &one); /* out of memory: one at a time */
                size_t lb = theirs->len;
                /* Lower bounds first: the lengths, then the characters. */
                if (lb > 128 || (la > lb ? la - lb : lb - la) > bound ||
                    bag_distance(&mine, theirs) > bound)
                        continue;
                size_t d = bounded_distance(name, la, cand, lb, bound);
                if (d > bound)
                        continue;
                best = cand;
                if (d == 0)
                        break;
                bound = d - 1;
        }
        return best;
}
