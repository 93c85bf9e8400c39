/*
 * Producer configuration files: .properties (librdkafka, kcat, Java) and
 * flat JSON objects, read into entries that keep the line and column that
 * set each value, then judged through a view like any other source.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

/* Entries as read: name, raw value, line and column. Their props and
 * parsed values are filled in per check, on a copy (a config is const). */
struct ksafe_config_s {
        char *source;
        ksafe_entry_t *entries;
        size_t count;
        size_t cap;
};

static ksafe_entry_t *add_entry(ksafe_config_t *cfg, const char *name, size_t name_len,
                                const char *raw, size_t raw_len, int line, int column)
{
        if (cfg->count == cfg->cap) {
                size_t cap = cfg->cap ? cfg->cap * 2 : 16;
                ksafe_entry_t *e = realloc(cfg->entries, cap * sizeof(*e));
                if (!e)
                        return NULL;
                cfg->entries = e;
                cfg->cap = cap;
        }
        ksafe_entry_t *e = &cfg->entries[cfg->count];
        *e = (ksafe_entry_t){.line = line, .column = column, .shadowed_by = -1};
        e->name = strndup(name, name_len);
        e->raw = strndup(raw, raw_len);
        if (!e->name || !e->raw) {
                free(e->name);
                free(e->raw);
                return NULL;
        }
        cfg->count++;
        return e;
}

/*
 * .properties
 *
 * Java's rules, as kcat and librdkafka users write them: a key ends at the
 * first unescaped '=', ':' or blank; the separator may be surrounded by
 * blanks; '#' and '!' start comment lines; a line ending in an odd number
 * of backslashes continues on the next, whose leading blanks are dropped.
 * Backslash escapes are kept literally in values (Windows paths), except
 * for the continuation itself. CRLF, CR and a UTF-8 BOM are accepted.
 */

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\f';
}

/* One physical line: returns its end (without the terminator) and sets
 * *next to the start of the following line. */
static const char *line_end(const char *p, const char *end, const char **next)
{
        const char *e = p;
        while (e < end && *e != '\n' && *e != '\r')
                e++;
        const char *n = e;
        if (n < end && *n == '\r')
                n++;
        if (n < end && *n == '\n' && (n == e || n[-1] == '\r'))
                n++;
        *next = n;
        return e;
}

static bool continues(const char *start, const char *e)
{
        size_t n = 0;
        while (e > start && e[-1] == '\\') {
                n++;
                e--;
        }
        return n % 2 == 1;
}

static bool parse_properties(ksafe_config_t *cfg, const char *data, size_t len,
                             ksafe_error_t *err)
{
        const char *p = data, *end = data + len;
        if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                p += 3;
        int line = 1;
        ksafe_buf_t logical = {0};
        while (p < end) {
                const char *next;
                const char *e = line_end(p, end, &next);
                int first_line = line;
                const char *s = p;
                while (s < e && is_blank(*s))
                        s++;
                int column = (int)(s - p) + 1;
                line++;
                if (s == e || *s == '#' || *s == '!') {
                        p = next;
                        continue;
                }
                /* Join continuation lines into one logical line. */
                logical.len = 0;
                while (continues(s, e) && next < end) {
                        ksafe_buf_append(&logical, s, (size_t)(e - s - 1));
                        p = next;
                        e = line_end(p, end, &next);
                        s = p;
                        while (s < e && is_blank(*s))
                                s++;
                        line++;
                }
                ksafe_buf_append(&logical, s, (size_t)(e - s));
                p = next;
                if (logical.failed) {
                        ksafe_buf_free(&logical);
                        ksafe_error_set(err, cfg->source, "", first_line, 0, "out of memory");
                        return false;
                }
                const char *k = logical.data, *lend = logical.data + logical.len;
                if (logical.len && lend[-1] == '\\')
                        lend--; /* a continuation at the end of the file */
                const char *ke = k;
                while (ke < lend && *ke != '=' && *ke != ':' && !is_blank(*ke))
                        ke += (*ke == '\\' && ke + 1 < lend) ? 2 : 1;
                const char *v = ke;
                while (v < lend && is_blank(*v))
                        v++;
                if (v < lend && (*v == '=' || *v == ':'))
                        v++;
                while (v < lend && is_blank(*v))
                        v++;
                const char *ve = lend;
                while (ve > v && isspace((unsigned char)ve[-1]))
                        ve--;
                if (!add_entry(cfg, k, (size_t)(ke - k), v, (size_t)(ve - v), first_line,
                               column)) {
                        ksafe_buf_free(&logical);
                        ksafe_error_set(err, cfg->source, "", first_line, 0, "out of memory");
                        return false;
                }
        }
        ksafe_buf_free(&logical);
        return true;
}

/*
 * Flat JSON objects
 *
 * jansson checks the syntax; a small scanner then walks the top-level
 * object to keep each member's line, column and value as written (so that
 * 1e3 stays "1e3" and a duplicate key keeps both of its lines).
 */

typedef struct scanner_s {
        const char *p, *end, *start;
        int line;
        const char *line_start;
} scanner_t;

static void skip_space(scanner_t *s)
{
        while (s->p < s->end && isspace((unsigned char)*s->p)) {
                if (*s->p == '\n') {
                        s->line++;
                        s->line_start = s->p + 1;
                }
                s->p++;
        }
}

/* Skip one JSON value (input already validated by jansson). */
static void skip_value(scanner_t *s)
{
        skip_space(s);
        if (s->p >= s->end)
                return;
        if (*s->p == '"') {
                for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
                        if (*s->p == '\\')
                                s->p++;
                s->p++;
        } else if (*s->p == '{' || *s->p == '[') {
                char close = *s->p == '{' ? '}' : ']';
                s->p++;
                skip_space(s);
                while (s->p < s->end && *s->p != close) {
                        skip_value(s); /* key or value */
                        skip_space(s);
                        if (s->p < s->end && (*s->p == ':' || *s->p == ','))
                                s->p++;
                        skip_space(s);
                }
                s->p++;
        } else {
                while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
                        s->p++;
        }
}

static char *json_token_text(const char *tok, size_t len, bool *is_scalar)
{
        *is_scalar = true;
        if (tok[0] == '{' || tok[0] == '[') {
                *is_scalar = false;
                return NULL;
        }
        if (tok[0] != '"')
                return strndup(tok, len);
        json_t *v = json_loadb(tok, len, JSON_DECODE_ANY, NULL);
        char *text = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
        json_decref(v);
        return text;
}

static bool parse_json(ksafe_config_t *cfg, const char *data, size_t len, ksafe_error_t *err)
{
        json_error_t jerr;
        json_t *doc = json_loadb(data, len, 0, &jerr);
        if (!doc) {
                ksafe_error_set(err, cfg->source, "", jerr.line, jerr.column, "%s", jerr.text);
                return false;
        }
        bool is_object = json_is_object(doc);
        json_decref(doc);
        if (!is_object) {
                ksafe_error_set(err, cfg->source, "", 1, 1,
                                "a JSON config must be an object of property names");
                return false;
        }
        scanner_t s = {.p = data, .end = data + len, .start = data, .line = 1,
                       .line_start = data};
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                s.p = s.line_start = data + 3;
        skip_space(&s);
        s.p++; /* '{' */
        for (;;) {
                skip_space(&s);
                if (s.p >= s.end || *s.p == '}')
                        break;
                int line = s.line;
                int column = (int)(s.p - s.line_start) + 1;
                const char *kstart = s.p;
                skip_value(&s);
                bool scalar;
                char *key = json_token_text(kstart, (size_t)(s.p - kstart), &scalar);
                skip_space(&s);
                s.p++; /* ':' */
                skip_space(&s);
                const char *vstart = s.p;
                skip_value(&s);
                char *raw = json_token_text(vstart, (size_t)(s.p - vstart), &scalar);
                ksafe_entry_t *e = key ? add_entry(cfg, key, strlen(key), raw ? raw : "",
                                                   raw ? strlen(raw) : 0, line, column)
                                       : NULL;
                if (e && (!scalar || (strcmp(e->raw, "null") == 0 && vstart[0] == 'n'))) {
                        e->status = KSAFE_ENTRY_INVALID;
                        e->note = strdup(scalar ? "null is not a value"
                                                : "a nested object or array is not a "
                                                  "property value");
                }
                free(key);
                free(raw);
                if (!e) {
                        ksafe_error_set(err, cfg->source, "", line, column, "out of memory");
                        return false;
                }
                skip_space(&s);
                if (s.p < s.end && *s.p == ',')
                        s.p++;
        }
        return true;
}

static bool looks_like_json(const char *source, const char *data, size_t len)
{
        size_t n = source ? strlen(source) : 0;
        if (n >= 5 && strcmp(source + n - 5, ".json") == 0)
                return true;
        size_t i = len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        while (i < len && isspace((unsigned char)data[i]))
                i++;
        return i < len && data[i] == '{';
}

ksafe_config_t *ksafe_config_parse(const char *data, size_t len, const char *source,
                                   ksafe_format_t format, ksafe_error_t *err)
{
        ksafe_config_t *cfg = calloc(1, sizeof(*cfg));
        if (!cfg || !(cfg->source = strdup(source ? source : "<string>"))) {
                free(cfg);
                ksafe_error_set(err, source, "", 0, 0, "out of memory");
                return NULL;
        }
        if (memchr(data, '\0', len)) {
                ksafe_error_set(err, cfg->source, "", 0, 0,
                                "contains a NUL byte: not a text config");
                ksafe_config_destroy(cfg);
                return NULL;
        }
        if (format == KSAFE_FORMAT_AUTO)
                format = looks_like_json(source, data, len) ? KSAFE_FORMAT_JSON
                                                            : KSAFE_FORMAT_PROPERTIES;
        bool ok = format == KSAFE_FORMAT_JSON ? parse_json(cfg, data, len, err)
                                              : parse_properties(cfg, data, len, err);
        if (!ok) {
                ksafe_config_destroy(cfg);
                return NULL;
        }
        return cfg;
}

ksafe_config_t *ksafe_config_load(const char *path, ksafe_format_t format, ksafe_error_t *err)
{
        size_t len;
        char *data = ksafe_read_file(path, &len);
        if (!data) {
                ksafe_error_set(err, path, "", 0, 0, "cannot read: %s",
                                strerror(errno));
                return NULL;
        }
        ksafe_config_t *cfg = ksafe_config_parse(data, len, path, format, err);
        free(data);
        return cfg;
}

static void free_entries(ksafe_entry_t *entries, size_t count)
{
        for (size_t i = 0; i < count; i++) {
                free(entries[i].name);
                free(entries[i].raw);
                free(entries[i].value);
                free(entries[i].note);
        }
        free(entries);
}

void ksafe_config_destroy(ksafe_config_t *cfg)
{
        if (!cfg)
                return;
        free_entries(cfg->entries, cfg->count);
        free(cfg->source);
        free(cfg);
}

/* Resolve one entry's name and parse its value with the property table. */
static bool resolve_entry(ksafe_entry_t *e, const ksafe_entry_t *read, const ksafe_props_t *props)
{
        *e = (ksafe_entry_t){
                .name = strdup(read->name),
                .raw = strdup(read->raw),
                .note = ksafe_strdup(read->note),
                .line = read->line,
                .column = read->column,
                .status = read->status,
                .shadowed_by = -1,
                .prop = ksafe_props_find(props, read->name),
        };
        if (!e->name || !e->raw || (read->note && !e->note))
                return false;
        if (e->status == KSAFE_ENTRY_INVALID)
                return true; /* a JSON value that is no scalar */
        if (!e->prop) {
                e->status = KSAFE_ENTRY_UNKNOWN;
                return true;
        }
        char out[1024], why[512];
        if (!ksafe_prop_parse(e->prop, e->raw, out, sizeof(out), why, sizeof(why))) {
                e->status = KSAFE_ENTRY_INVALID;
                return (e->note = strdup(why)) != NULL;
        }
        if (!(e->value = strdup(out)))
                return false;
        if (ksafe_prop_misread(e->prop, e->raw, out, why, sizeof(why))) {
                e->status = KSAFE_ENTRY_MISREAD;
                return (e->note = strdup(why)) != NULL;
        }
        return true;
}

ksafe_report_t *ksafe_config_check(const ksafe_config_t *config, const ksafe_policy_t *policy)
{
        size_t n = config->count;
        ksafe_entry_t *entries = calloc(n ? n : 1, sizeof(*entries));
        if (!entries)
                return NULL;
        bool ok = true;
        for (size_t i = 0; ok && i < n; i++)
                ok = resolve_entry(&entries[i], &config->entries[i], policy->props);
        /* The last setting of a property wins, as in librdkafka. */
        for (size_t i = 0; ok && i < n; i++)
                for (size_t j = i + 1; entries[i].prop && j < n; j++)
                        if (entries[j].prop == entries[i].prop && entries[j].value)
                                entries[i].shadowed_by = (int)j;

        ksafe_view_t *view = ok ? ksafe_view_from_entries(policy->props, config->source,
                                                          entries, n)
                                : NULL;
        ksafe_report_t *report = view ? ksafe_report_new(policy) : NULL;
        if (report) {
                ksafe_eval_entries(policy, view, report);
                ksafe_eval(policy, view, KSAFE_ALL_ACTIONS, report);
                ksafe_report_sort(report);
        }
        ksafe_view_destroy(view);
        free_entries(entries, n);
        return report;
}
