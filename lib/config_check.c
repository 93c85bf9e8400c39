/*
 * A config read from a file, judged, repaired and written back.
 *
 * Its entries are resolved against a policy's property table on a private
 * copy each time (so that a config can be judged against several policies)
 * and seen through a view like any other source. Repairs are the shared
 * enforcement loop's, with a setter that records a change per property;
 * ksafe_config_render() then rewrites only the text of those values.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

/* A config's entries resolved for one policy, in the order the client
 * applies them (the file's order, except where a JSON default.topic.config
 * is merged): entries[k] is the config's entry index[k]. */
typedef struct resolved_s {
        ksafe_entry_t *entries;
        size_t *index;
        size_t count;
        ksafe_view_t *view;
} resolved_t;

static void resolved_free(resolved_t *r)
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
static bool java_bom_key(const ksafe_entry_t *e, ksafe_dialect_t dialect)
{
        return dialect == KSAFE_DIALECT_JAVA && e->line == 1 && !e->origin &&
               strncmp(e->name, "\xEF\xBB\xBF", 3) == 0;
}

/* A name as written, when it cannot be a secret: property-name characters
 * only (as eval.c shows unknown names). */
static bool plain_name(const char *name)
{
        size_t n = strlen(name);
        return n > 0 && n <= 128 &&
               strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n &&
               !ksafe_property_is_sensitive(name);
}

/* The finding for a first key that carries a BOM under --dialect java. */
static void java_bom_finding(const ksafe_policy_t *policy, const ksafe_view_t *view,
                             const ksafe_entry_t *e, ksafe_report_t *report)
{
        const char *intended = e->name + 3;
        bool known = ksafe_props__find(policy->props, intended) ||
                     ksafe_dialect__java_knows(intended);
        bool shown = plain_name(intended);
        char message[400];
        if (known)
                snprintf(message, sizeof(message),
                         "the file starts with a UTF-8 byte order mark, which "
                         "java.util.Properties keeps in the first key: %s never reaches the "
                         "client (save the file without the BOM)",
                         intended);
        else
                snprintf(message, sizeof(message),
                         "the file starts with a UTF-8 byte order mark, which "
                         "java.util.Properties keeps in the first key: the client gets a "
                         "property named \"\\uFEFF%s\" (save the file without the BOM)",
                         shown ? intended : "...");
        ksafe_violation_t v = {
                .rule_id = "ksafe-unknown-property",
                .property = shown ? intended : "(not shown)",
                .message = message,
                .why = "java.util.Properties reads a BOM as part of the first key, so the "
                       "first line sets a property that no client knows",
                .file = ksafe_view__file(view),
                .line = e->line,
                .column = e->column,
                .action = known ? KSAFE_ACTION_REJECT : KSAFE_ACTION_WARN,
                .severity = known ? KSAFE_SEVERITY_ERROR : KSAFE_SEVERITY_WARNING,
                .is_set = true,
        };
        ksafe_report__add(report, &v);
}

/* A name that librdkafka's table does not list: ask librdkafka itself
 * (on one scratch conf per resolution). It refuses most of them (unknown),
 * accepts its hidden properties (test.mock.num.brokers) and refuses a few
 * Java names with a hint of its own (ssl.truststore.location). */
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

/* Resolve one entry's name and parse its value as librdkafka would. */
static bool resolve_entry(ksafe_entry_t *e, const ksafe_entry_t *read,
                          const ksafe_props_t *props, ksafe_dialect_t dialect,
                          rd_kafka_conf_t **scratch)
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
        if (e->container) {
                e->status = KSAFE_ENTRY_FOREIGN; /* its members are entries */
                e->prop = NULL;
                return true;
        }
        if (e->comment) {
                e->status = KSAFE_ENTRY_FOREIGN; /* no property: only `syntax` */
                e->prop = NULL;
                return true;
        }
        if (strncmp(e->name, "topic.topic.", 12) == 0 && !e->syntax)
                e->syntax = "kcat strips \"topic.\" twice and applies it, other clients "
                            "refuse the name";
        if (e->bare) {
                e->status = KSAFE_ENTRY_MALFORMED;
                e->prop = NULL;
                return true;
        }
        if (java_bom_key(e, dialect)) {
                e->status = KSAFE_ENTRY_FOREIGN; /* eval_file_entries() says why */
                e->prop = NULL;
                return true;
        }
        if (e->status == KSAFE_ENTRY_INVALID)
                return true; /* a JSON value that is no scalar */
        if (!e->prop) {
                if (dialect == KSAFE_DIALECT_JAVA && ksafe_dialect__java_knows(e->name)) {
                        e->status = KSAFE_ENTRY_FOREIGN;
                        return true;
                }
                return resolve_unlisted(e, scratch);
        }
        /* The Java client trims a value before it parses it (ConfigDef's
         * parseType: String.trim(), every char up to ' '). */
        if (dialect == KSAFE_DIALECT_JAVA) {
                size_t a = 0, b = strlen(e->raw);
                while (a < b && (unsigned char)e->raw[a] <= ' ')
                        a++;
                while (b > a && (unsigned char)e->raw[b - 1] <= ' ')
                        b--;
                memmove(e->raw, e->raw + a, b - a);
                e->raw[b - a] = '\0';
        }
        /* A JSON number is what a client passes for a number property:
         * Python's str(1000.0) or Go's 1e3 reach librdkafka as 1000. */
        if (e->json_number && (e->prop->type == KSAFE_PROP_INT ||
                               e->prop->type == KSAFE_PROP_FLOAT)) {
                char *end;
                double n = strtod(e->raw, &end);
                if (*end == '\0' && isfinite(n) && n == floor(n) && fabs(n) < 9007199254740992.0) {
                        char whole[32];
                        snprintf(whole, sizeof(whole), "%.0f", n);
                        free(e->raw);
                        if (!(e->raw = strdup(whole)))
                                return false;
                }
        }
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

/* Apply a recorded change to the view, as librdkafka would read it. */
static bool override_change(ksafe_view_t *view, const ksafe_props_t *props,
                            const ksafe_change_t *c)
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
                size_t lo = 0, hi = nn;
                while (lo < hi) {
                        size_t mid = lo + (hi - lo) / 2;
                        if (strcmp(nested[mid].name, e->name) < 0)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
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

/* The config's entries resolved for `policy`, seen through a view. */
static bool resolve(const ksafe_config_t *cfg, const ksafe_policy_t *policy, resolved_t *r)
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
                        ok = (e->note = strdup(
                                      "default.topic.config is given again later in this "
                                      "object, and a JSON reader keeps only one of them "
                                      "(Python's the last): this setting never reaches the "
                                      "client")) != NULL;
                }
        }
        if (scratch)
                rd_kafka_conf_destroy(scratch);
        /* The last setting of a property wins, as in librdkafka: walk back
         * remembering, per property, the line that wins. */
        size_t nprops = ksafe_props__count(policy->props);
        int *winner = ok ? malloc((nprops ? nprops : 1) * sizeof(*winner)) : NULL;
        ok = ok && winner;
        for (size_t p = 0; ok && p < nprops; p++)
                winner[p] = -1;
        for (size_t i = n; ok && i-- > 0;) {
                ksafe_entry_t *e = &r->entries[i];
                if (!e->prop)
                        continue;
                size_t p = ksafe_props__index(policy->props, e->prop);
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
        if (ok)
                r->view = ksafe_view__from_entries(policy->props, cfg->source, r->entries, n);
        ok = ok && r->view;
        for (size_t i = 0; ok && i < cfg->change_count; i++)
                ok = override_change(r->view, policy->props, &cfg->changes[i]);
        if (!ok)
                resolved_free(r);
        return ok;
}

/*
 * The findings about the file's own lines. A name librdkafka does not know
 * is refused by every librdkafka-based client (rd_kafka_conf_set() fails:
 * kcat exits, Python raises), so it is an error; under --dialect java the
 * file is the Java client's, which only logs unknown names: a warning.
 */
static void eval_file_entries(const ksafe_config_t *cfg, const ksafe_policy_t *policy,
                              const ksafe_view_t *view, ksafe_report_t *report)
{
        size_t first = ksafe_report_count(report);
        ksafe_eval__entries(policy, view, report);
        bool error = cfg->dialect != KSAFE_DIALECT_JAVA;
        for (size_t i = first; i < ksafe_report_count(report); i++) {
                ksafe_violation_t *v = ksafe_report__at(report, i);
                if (!v->rule_id || strcmp(v->rule_id, "ksafe-unknown-property") != 0)
                        continue;
                v->severity = error ? KSAFE_SEVERITY_ERROR : KSAFE_SEVERITY_WARNING;
                v->action = error ? KSAFE_ACTION_REJECT : KSAFE_ACTION_WARN;
        }
        size_t count;
        const ksafe_entry_t *entries = ksafe_view__entries(view, &count);
        for (size_t i = 0; i < count; i++)
                if (java_bom_key(&entries[i], cfg->dialect))
                        java_bom_finding(policy, view, &entries[i], report);
}

ksafe_report_t *ksafe_config_check(const ksafe_config_t *config, const ksafe_policy_t *policy)
{
        resolved_t r;
        if (!resolve(config, policy, &r))
                return NULL;
        ksafe_report_t *report = ksafe_report__new(policy);
        if (report) {
                eval_file_entries(config, policy, r.view, report);
                ksafe_eval__policy(policy, r.view, KSAFE_ALL_ACTIONS, report);
                ksafe_eval__refusals(policy, r.view, report);
                ksafe_report__sort(report);
        }
        resolved_free(&r);
        return report;
}

/*
 * Repairs
 */

typedef struct repair_s {
        ksafe_config_t *cfg;
        resolved_t *resolved;
} repair_t;

static ksafe_change_t *change_for(ksafe_config_t *cfg, const char *canonical)
{
        for (size_t i = 0; i < cfg->change_count; i++)
                if (strcmp(cfg->changes[i].canonical, canonical) == 0)
                        return &cfg->changes[i];
        ksafe_change_t *changes =
                realloc(cfg->changes, (cfg->change_count + 1) * sizeof(*changes));
        if (!changes)
                return NULL;
        cfg->changes = changes;
        ksafe_change_t *c = &changes[cfg->change_count];
        *c = (ksafe_change_t){.canonical = strdup(canonical)};
        if (!c->canonical)
                return NULL;
        cfg->change_count++;
        return c;
}

/* The enforcement loop's setter for a file: remember the change, mark the
 * lines it rewrites, and let the view see the new value. */
static bool config_setter(void *target, const ksafe_rule_t *rule, const char *value)
{
        repair_t *rp = target;
        ksafe_config_t *cfg = rp->cfg;
        const ksafe_prop_t *prop = rule->prop;
        bool remove = rule->checks & KSAFE_CHECK_FORBIDDEN;
        char why[512];
        char *parsed = remove ? strdup(prop->def) : ksafe_prop__parse(prop, value, why, sizeof(why));
        ksafe_change_t *c = parsed ? change_for(cfg, prop->name) : NULL;
        if (c) {
                free(c->name);
                free(c->value);
                c->name = strdup(rule->property);
                c->value = remove ? NULL : strdup(value);
        }
        if (!c || !c->name || (!remove && !c->value)) {
                free(parsed);
                return false;
        }

        /* The file's last line for this property gets the new value (a
         * property set with ksafe_config_set() is not the file's). */
        int winner = -1;
        for (size_t k = 0; k < rp->resolved->count; k++) {
                size_t i = rp->resolved->index[k];
                if (i >= cfg->file_count || rp->resolved->entries[k].prop != prop)
                        continue;
                cfg->entries[i].removed = remove;
                cfg->entries[i].replacement = NULL;
                winner = (int)i; /* the last the client sets */
        }
        if (winner >= 0 && !remove)
                cfg->entries[winner].replacement = c->value;
        c->appended = winner < 0 && !remove; /* no line of the file has it */
        bool ok = ksafe_view__override(rp->resolved->view, prop, parsed, !remove);
        free(parsed);
        return ok;
}

static void drop_changes(ksafe_config_t *cfg)
{
        for (size_t i = 0; i < cfg->change_count; i++) {
                free(cfg->changes[i].name);
                free(cfg->changes[i].canonical);
                free(cfg->changes[i].value);
        }
        cfg->change_count = 0;
        for (size_t i = 0; i < cfg->count; i++) {
                cfg->entries[i].replacement = NULL;
                cfg->entries[i].removed = false;
        }
}

ksafe_report_t *ksafe_config_enforce(ksafe_config_t *config, const ksafe_policy_t *policy)
{
        resolved_t r;
        if (!resolve(config, policy, &r))
                return NULL;
        repair_t rp = {.cfg = config, .resolved = &r};
        ksafe_report_t *report = ksafe_enforce__view(policy, r.view, config_setter, &rp);
        /* Enforcement that cannot satisfy the policy changes nothing: half
         * a repair is no repair. */
        if (!report || ksafe_report_rejected(report)) {
                drop_changes(config);
                for (size_t i = 0; i < ksafe_report_count(report); i++)
                        ksafe_report__at(report, i)->fixed = false;
        }
        /* A rewritten value is no longer misread or invalid. */
        for (size_t k = 0; k < r.count; k++) {
                const ksafe_entry_t *e = &config->entries[r.index[k]];
                if (r.index[k] < config->file_count && (e->replacement || e->removed))
                        r.entries[k].status = KSAFE_ENTRY_OK;
        }
        if (report) {
                eval_file_entries(config, policy, r.view, report);
                ksafe_report__sort(report);
        }
        resolved_free(&r);
        return report;
}

size_t ksafe_config_change_count(const ksafe_config_t *config)
{
        return config->change_count;
}

/*
 * Rendering
 */

static bool json_bare(const char *v)
{
        if (!strcmp(v, "true") || !strcmp(v, "false"))
                return true;
        const char *p = v + (*v == '-');
        if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
                return false;
        while (isdigit((unsigned char)*p))
                p++;
        return *p == '\0';
}

static void json_value(ksafe_buf_t *out, const char *value, bool quoted)
{
        if (!quoted && json_bare(value))
                ksafe_buf__append(out, value, strlen(value));
        else
                ksafe_buf__json_string(out, value);
}

/* A value written into a .properties file, so that its reader gets it
 * back: Java's escapes under --dialect java (a backslash, a leading blank,
 * control characters); kcat reads a line as it is. */
static void properties_value(const ksafe_config_t *cfg, ksafe_buf_t *out, const char *value)
{
        if (cfg->dialect != KSAFE_DIALECT_JAVA) {
                ksafe_buf__append(out, value, strlen(value));
                return;
        }
        for (const char *p = value; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == '\\' || (p == value && (c == ' ' || c == '\t' || c == '\f')))
                        ksafe_buf__printf(out, "\\%c", c == '\t' ? 't' : c == '\f' ? 'f' : c);
                else if (c < 0x20 || c == 0x7f)
                        ksafe_buf__printf(out, "\\u%04x", c);
                else
                        ksafe_buf__append(out, p, 1);
        }
}

static void render_properties(const ksafe_config_t *cfg, ksafe_buf_t *out)
{
        size_t pos = 0;
        for (size_t i = 0; i < cfg->file_count; i++) {
                const ksafe_entry_t *e = &cfg->entries[i];
                if (e->removed) {
                        ksafe_buf__append(out, cfg->data + pos, e->span_start - pos);
                        pos = e->span_end;
                } else if (e->replacement) {
                        ksafe_buf__append(out, cfg->data + pos, e->value_start - pos);
                        /* "key" alone on its line needs a separator. */
                        if (e->no_separator)
                                ksafe_buf__append(out, "=", 1);
                        properties_value(cfg, out, e->replacement);
                        pos = e->value_end;
                }
        }
        ksafe_buf__append(out, cfg->data + pos, cfg->len - pos);
        /* A last line ending in a lone CR would turn the LF we add into a
         * CRLF ending that same line: end it with an LF of its own. */
        char last = cfg->len ? cfg->data[cfg->len - 1] : '\n';
        bool need_newline = last != '\n';
        /* A last line ending in a continuation would swallow the first new
         * line: an empty line ends it. */
        size_t end = cfg->len;
        while (end > 0 && strchr("\r\n", cfg->data[end - 1]))
                end--;
        size_t slashes = 0;
        while (end > slashes && cfg->data[end - 1 - slashes] == '\\')
                slashes++;
        bool continued = slashes % 2 == 1;
        for (size_t i = 0; i < cfg->change_count; i++) {
                const ksafe_change_t *c = &cfg->changes[i];
                if (!c->appended)
                        continue;
                if (need_newline)
                        ksafe_buf__printf(out, "%s", last == '\r' ? "\n" : cfg->newline);
                if (continued)
                        ksafe_buf__printf(out, "%s", cfg->newline);
                need_newline = continued = false;
                ksafe_buf__printf(out, "%s=", c->name);
                properties_value(cfg, out, c->value);
                ksafe_buf__printf(out, "%s", cfg->newline);
        }
}

/* The next (dir 1) or previous (dir -1) member of entry i's own object
 * (a default.topic.config's members are not the top level's), or -1. */
static long json_neighbour(const ksafe_config_t *cfg, size_t i, int dir)
{
        unsigned object = cfg->entries[i].json_object;
        for (long j = (long)i + dir; j >= 0 && (size_t)j < cfg->file_count; j += dir)
                if (cfg->entries[j].json_object == object)
                        return j;
        return -1;
}

/* Removed JSON members go with one comma: the next member's (of the same
 * object) for a run that has a member after it, else the previous
 * member's. The run is first..last, members of one object. */
static void json_removal(const ksafe_config_t *cfg, size_t first, size_t last, size_t *start,
                         size_t *end)
{
        const ksafe_entry_t *e = cfg->entries;
        long next = json_neighbour(cfg, last, 1), prev = json_neighbour(cfg, first, -1);
        if (next >= 0) {
                *start = e[first].span_start;
                *end = e[next].span_start;
        } else if (prev >= 0) {
                *start = e[prev].span_end;
                *end = e[last].span_end;
        } else {
                *start = e[first].span_start;
                *end = e[last].span_end;
        }
}

static void render_json(const ksafe_config_t *cfg, ksafe_buf_t *out)
{
        size_t pos = 0;
        size_t last_kept_end = cfg->object_open + 1;
        bool any_kept = false;
        for (size_t i = 0; i < cfg->file_count; i++) {
                const ksafe_entry_t *e = &cfg->entries[i];
                if (e->removed) {
                        /* The run of removed members of this object. */
                        size_t last = i;
                        long next;
                        while ((next = json_neighbour(cfg, last, 1)) >= 0 &&
                               cfg->entries[next].removed)
                                last = (size_t)next;
                        size_t start, end;
                        json_removal(cfg, i, last, &start, &end);
                        ksafe_buf__append(out, cfg->data + pos, start - pos);
                        pos = end;
                        i = last;
                        continue;
                }
                if (e->replacement) {
                        ksafe_buf__append(out, cfg->data + pos, e->value_start - pos);
                        json_value(out, e->replacement, e->quoted);
                        pos = e->value_end;
                }
                if (e->json_object == 0) {
                        any_kept = true;
                        last_kept_end = e->span_end;
                }
        }
        /* New members go at the top level, after the last one kept there
         * (or after the removal that ended the object), in the file's
         * style. */
        if (last_kept_end > pos) {
                ksafe_buf__append(out, cfg->data + pos, last_kept_end - pos);
                pos = last_kept_end;
        }
        bool appended = false;
        for (size_t i = 0; i < cfg->change_count; i++) {
                const ksafe_change_t *c = &cfg->changes[i];
                if (!c->appended)
                        continue;
                ksafe_buf__printf(out, "%s%s%s", any_kept ? "," : "", cfg->newline, cfg->indent);
                ksafe_buf__json_string(out, c->name);
                ksafe_buf__append(out, ": ", 2);
                json_value(out, c->value, false);
                any_kept = appended = true;
        }
        if (appended && last_kept_end == cfg->object_open + 1)
                ksafe_buf__printf(out, "%s", cfg->newline);
        ksafe_buf__append(out, cfg->data + pos, cfg->len - pos);
}

char *ksafe_config_render(const ksafe_config_t *config, size_t *lenp)
{
        ksafe_buf_t out = {0};
        if (config->format == KSAFE_FORMAT_JSON)
                render_json(config, &out);
        else
                render_properties(config, &out);
        size_t len = out.len;
        char *text = ksafe_buf__take(&out);
        if (text && lenp)
                *lenp = len;
        return text;
}

/*
 * The effective configuration
 */

static bool listed(const ksafe_prop_t **seen, size_t n, const ksafe_prop_t *p)
{
        for (size_t i = 0; i < n; i++)
                if (seen[i] == p)
                        return true;
        return false;
}

char *ksafe_config_effective(const ksafe_config_t *config, const ksafe_policy_t *policy)
{
        resolved_t r;
        if (!resolve(config, policy, &r))
                return NULL;
        size_t cap = r.count + 2 * policy->rule_count;
        for (size_t i = 0; i < policy->rule_count; i++)
                cap += policy->rules[i].min_sum_count;
        const ksafe_prop_t **props = calloc(cap + 1, sizeof(*props));
        size_t n = 0;
        for (size_t i = 0; props && i < r.count; i++)
                if (r.entries[i].prop && !listed(props, n, r.entries[i].prop))
                        props[n++] = r.entries[i].prop;
        for (size_t i = 0; props && i < policy->rule_count; i++) {
                const ksafe_rule_t *rule = &policy->rules[i];
                if (!listed(props, n, rule->prop))
                        props[n++] = rule->prop;
                for (size_t k = 0; k < rule->min_sum_count; k++)
                        if (!listed(props, n, rule->min_sum[k]))
                                props[n++] = rule->min_sum[k];
        }
        ksafe_buf_t out = {0};
        for (size_t i = 0; props && i < n; i++) {
                ksafe_value_t v;
                ksafe_view__value(r.view, props[i], &v);
                /* A line kcat reads otherwise may hold other settings (the
                 * tail of a long line is a line of its own to kcat). */
                const char *shown = props[i]->sensitive             ? KSAFE_REDACTED
                                    : v.entry && v.entry->syntax     ? "(not shown: kcat reads "
                                                                       "this line otherwise)"
                                                                     : v.text;
                /* Escaped: a value cannot forge a line of its own. */
                char *value = ksafe_report_escape(shown);
                out.failed |= !value;
                ksafe_buf__printf(&out, "%s=%s", props[i]->name, value ? value : "");
                free(value);
                if (v.derived)
                        ksafe_buf__printf(&out, "  # not set: librdkafka derives it");
                else if (!v.is_set)
                        ksafe_buf__printf(&out, "  # not set: librdkafka's default");
                ksafe_buf__append(&out, "\n", 1);
        }
        char *text = props ? ksafe_buf__take(&out) : NULL;
        ksafe_buf__free(&out);
        free(props);
        resolved_free(&r);
        return text;
}
