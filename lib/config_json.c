/*
 * Reading a JSON config file: the properties' object into entries.
 *
 * jansson checks the syntax; a small scanner then walks the object that
 * holds the properties (the top level, or the one a JSON pointer names) to
 * keep each member's line, column and text as written: 1e3 stays "1e3",
 * and a key given twice keeps both of its lines.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

typedef struct scanner_s {
        const char *data, *p, *end;
        int line;
        const char *line_start;
} scanner_t;

/* JSON's blanks (the text is valid JSON: no other blank is outside a
 * string), without a call per character. */
static bool json_blank(char c)
{
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void skip_space(scanner_t *s)
{
        while (s->p < s->end && json_blank(*s->p)) {
                if (*s->p == '\n' || (*s->p == '\r' && (s->p + 1 == s->end || s->p[1] != '\n'))) {
                        s->line++;
                        s->line_start = s->p + 1;
                }
                s->p++;
        }
}

/* Skip one JSON value (the text is already known to be valid JSON). */
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
                        skip_value(s); /* a key or a value */
                        skip_space(s);
                        if (s->p < s->end && (*s->p == ':' || *s->p == ','))
                                s->p++;
                        skip_space(s);
                }
                s->p++;
        } else {
                while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' &&
                       !json_blank(*s->p))
                        s->p++;
        }
}

/* A JSON string token's text, or a scalar token as written. */
static char *token_text(const char *tok, size_t len)
{
        if (tok[0] != '"')
                return strndup(tok, len);
        /* The document is valid JSON (jansson read it first): a string
         * with no escape is its text between the quotes. */
        if (len >= 2 && !memchr(tok + 1, '\\', len - 2))
                return strndup(tok + 1, len - 2);
        json_t *v = json_loadb(tok, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        const char *s = json_string_value(v);
        char *text = s && strlen(s) == json_string_length(v) ? strdup(s) : NULL;
        json_decref(v);
        return text;
}

/* One member of the object at s->p: key and value spans. */
typedef struct member_s {
        const char *key, *key_end, *value, *value_end;
        int line, column;
        int value_line; /* the scanner's state at the value */
        const char *value_line_start;
} member_t;

/* Read the next member of an object; false at its closing brace. */
static bool next_member(scanner_t *s, member_t *m)
{
        skip_space(s);
        if (s->p < s->end && *s->p == ',') {
                s->p++;
                skip_space(s);
        }
        if (s->p >= s->end || *s->p != '"')
                return false;
        m->line = s->line;
        m->column = (int)(s->p - s->line_start) + 1;
        m->key = s->p;
        skip_value(s);
        m->key_end = s->p;
        skip_space(s);
        s->p++; /* ':' */
        skip_space(s);
        m->value = s->p;
        m->value_line = s->line;
        m->value_line_start = s->line_start;
        skip_value(s);
        m->value_end = s->p;
        return true;
}

/* Decode one reference token of a JSON pointer (~1 is '/', ~0 is '~'). */
static char *pointer_token(const char **pp)
{
        const char *p = *pp + 1; /* past '/' */
        const char *e = strchr(p, '/');
        if (!e)
                e = p + strlen(p);
        char *tok = strndup(p, (size_t)(e - p));
        if (!tok)
                return NULL;
        char *w = tok;
        for (const char *r = tok; *r; r++, w++) {
                *w = *r;
                if (r[0] == '~' && (r[1] == '0' || r[1] == '1'))
                        *w = *++r == '0' ? '~' : '/';
        }
        *w = '\0';
        *pp = e;
        return tok;
}

/* Move the scanner to the '{' of the object that `pointer` names. */
static bool follow_pointer(ksafe_config_t *cfg, scanner_t *s, const char *pointer,
                           ksafe_error_t *err)
{
        skip_space(s);
        if (pointer && *pointer && *pointer != '/') {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, cfg->source, "", 0, 0,
                                 "JSON pointer \"%s\" must start with '/'", pointer);
                return false;
        }
        const char *p = pointer ? pointer : "";
        while (*p) {
                char *tok = pointer_token(&p);
                if (!tok || *s->p != '{') {
                        free(tok);
                        ksafe_error__set(err, KSAFE_ERROR_PARSE, cfg->source, "", s->line, 0,
                                         "JSON pointer \"%s\": no object at this path", pointer);
                        return false;
                }
                s->p++;
                /* A key given twice: the last one is what a JSON reader keeps. */
                member_t m, match;
                bool found = false;
                while (next_member(s, &m)) {
                        char *key = token_text(m.key, (size_t)(m.key_end - m.key));
                        if (key && strcmp(key, tok) == 0) {
                                match = m;
                                found = true;
                        }
                        free(key);
                }
                m = match;
                free(tok);
                if (!found) {
                        ksafe_error__set(err, KSAFE_ERROR_PARSE, cfg->source, "", 0, 0,
                                         "JSON pointer \"%s\" names nothing in this file", pointer);
                        return false;
                }
                /* Go back to the value's start, and to its line. */
                s->p = m.value;
                s->line = m.value_line;
                s->line_start = m.value_line_start;
        }
        if (*s->p != '{') {
                ksafe_error__set(err, KSAFE_ERROR_PARSE, cfg->source, "", s->line,
                                 (int)(s->p - s->line_start) + 1,
                                 "expected a JSON object of property names%s%s",
                                 pointer && *pointer ? " at " : "", pointer ? pointer : "");
                return false;
        }
        return true;
}

/* Read the members of the object at m->value (a default.topic.config) as
 * entries of object `object`. */
static bool parse_json_members(ksafe_config_t *cfg, const member_t *at, unsigned object,
                               ksafe_error_t *err);

/* One member of a properties object: an entry, or for
 * "default.topic.config" the object that Python's confluent-kafka merges
 * into the configuration (PyDict_Update), member by member. Consumes `key`
 * (the member's key as text, NULL when it could not be read). */
static bool add_json_member(ksafe_config_t *cfg, const member_t *m, char *key, unsigned object,
                            unsigned *containers, ksafe_error_t *err)
{
        char *raw = token_text(m->value, (size_t)(m->value_end - m->value));
        bool scalar = *m->value != '{' && *m->value != '[';
        bool topic_config = key && strcmp(key, "default.topic.config") == 0;
        ksafe_entry_t *e = NULL;
        if (key)
                e = ksafe_config__add_entry(cfg, key, strlen(key), raw ? raw : "",
                                            raw ? strlen(raw) : 0, m->line, m->column);
        free(key);
        free(raw);
        if (!e) {
                ksafe_error__set(err, KSAFE_ERROR_PARSE, cfg->source, "", m->line, m->column,
                                 "cannot read this member (out of memory, or a NUL "
                                 "character in its text)");
                return false;
        }
        e->quoted = *m->value == '"';
        e->json_number = *m->value == '-' || isdigit((unsigned char)*m->value);
        e->value_start = (size_t)(m->value - cfg->data);
        e->value_end = (size_t)(m->value_end - cfg->data);
        e->span_start = (size_t)(m->key - cfg->data);
        e->span_end = e->value_end;
        e->json_object = object;
        if (topic_config && object == 0 && *m->value == '{') {
                e->container = true;
                return parse_json_members(cfg, m, ++*containers, err);
        }
        const char *note = NULL;
        if (topic_config)
                note = object ? "a default.topic.config inside default.topic.config: Python's "
                                "client drops it, so none of its settings reach librdkafka"
                              : "default.topic.config must be a JSON object of properties: "
                                "Python's client merges its members into the configuration";
        else if (!scalar)
                note = "an object or array is not a property value";
        else if (strncmp(m->value, "null", 4) == 0)
                note = "null is not a value";
        if (note) {
                e->status = KSAFE_ENTRY_INVALID;
                if (!(e->note = strdup(note))) {
                        ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, cfg->source, "", m->line,
                                         m->column, "out of memory");
                        return false;
                }
        }
        return true;
}

static bool parse_json_members(ksafe_config_t *cfg, const member_t *at, unsigned object,
                               ksafe_error_t *err)
{
        scanner_t s = {.data = cfg->data,
                       .p = at->value + 1,
                       .end = cfg->data + cfg->len,
                       .line = at->value_line,
                       .line_start = at->value_line_start};
        member_t m;
        unsigned none = 0;
        while (next_member(&s, &m))
                if (!add_json_member(cfg, &m, token_text(m.key, (size_t)(m.key_end - m.key)),
                                     object, &none, err))
                        return false;
        return true;
}

/* JSON's "$ksafe-lint": {"disable": ["RULE", ...], "reason": "..."}, for
 * the whole file; any other shape is kept as a directive not understood.
 * ksafe-lint suppresses findings by it (ksafe_config_directive_get()). */
static bool note_json_directive(ksafe_config_t *cfg, const char *value, size_t len, int line)
{
        json_t *v = json_loadb(value, len, JSON_DECODE_ANY, NULL);
        const json_t *list = json_object_get(v, "disable"), *why = json_object_get(v, "reason");
        bool understood = json_is_object(v) && json_is_array(list) && json_array_size(list) &&
                          (!why || json_is_string(why)) &&
                          json_object_size(v) == 1u + (why != NULL);
        ksafe_buf_t ids = {0};
        size_t i;
        json_t *id;
        json_array_foreach (list, i, id) {
                const char *text = json_string_value(id);
                understood &= text && *text && !strchr(text, ',');
                if (understood)
                        ksafe_buf__printf(&ids, "%s%s", i ? "," : "", text);
        }
        char *raw = understood ? ksafe_buf__take(&ids) : NULL;
        char *rules = raw ? ksafe_report_escape(raw) : NULL;
        char *reason = NULL;
        bool ok =
                (!understood || rules) && (!json_string_value(why) || !*json_string_value(why) ||
                                           (reason = ksafe_report_escape(json_string_value(why))));
        free(raw);
        ksafe_buf__free(&ids);
        json_decref(v);
        if (!ok) {
                free(rules);
                return false;
        }
        return ksafe_config__add_directive(cfg, line, true, rules, reason);
}

/* The top-level member m: the directive, or a property. */
static bool read_member(ksafe_config_t *cfg, const member_t *m, unsigned *containers,
                        ksafe_error_t *err)
{
        char *key = token_text(m->key, (size_t)(m->key_end - m->key));
        bool directive = key && strcmp(key, KSAFE_DIRECTIVE_KEY) == 0;
        if (!directive)
                return add_json_member(cfg, m, key, 0, containers, err);
        free(key);
        if (note_json_directive(cfg, m->value, (size_t)(m->value_end - m->value), m->line))
                return true;
        ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, cfg->source, "", m->line, m->column,
                         "out of memory");
        return false;
}

/*
 * Is the text surely JSON that jansson reads (json_loadb(), JSON_DECODE_ANY)?
 * A strict reader of a subset of JSON, about ten times cheaper than
 * building jansson's tree: it answers true only for what jansson accepts
 * (every construct below is RFC 8259 JSON within jansson's limits), and
 * false for anything else or anything it does not check itself (a \u
 * escape, a byte that is not ASCII, a number that could overflow jansson's
 * integer or double, deep nesting): jansson then reads the text, and its
 * error is the one reported.
 */
#define PLAIN_MAX_DEPTH 512
#define PLAIN_MAX_NUMBER 18 /* characters: no integer overflows int64_t */

static const char *plain_space(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

static const char *plain_string(const char *p, const char *end)
{
        for (p++; p < end; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == '"')
                        return p + 1;
                if (c < 0x20 || c >= 0x80)
                        return NULL;
                if (c == '\\') {
                        if (++p == end || !strchr("\"\\/bfnrt", *p) || !*p)
                                return NULL;
                }
        }
        return NULL;
}

static const char *plain_digits(const char *p, const char *end)
{
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9')
                p++;
        return p > start ? p : NULL;
}

static const char *plain_number(const char *p, const char *end)
{
        const char *start = p;
        if (*p == '-')
                p++;
        if (p < end && *p == '0')
                p++;
        else if (!(p = plain_digits(p, end)))
                return NULL;
        if (p < end && *p == '.' && !(p = plain_digits(p + 1, end)))
                return NULL;
        if (p < end && (*p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9')))
                return NULL; /* an exponent, or a leading zero */
        return p - start <= PLAIN_MAX_NUMBER ? p : NULL;
}

static const char *plain_value(const char *p, const char *end, int depth);

static const char *plain_container(const char *p, const char *end, int depth)
{
        char close = *p == '{' ? '}' : ']';
        bool object = *p == '{';
        if (depth >= PLAIN_MAX_DEPTH)
                return NULL;
        p = plain_space(p + 1, end);
        if (p < end && *p == close)
                return p + 1;
        for (;;) {
                if (object) {
                        if (p >= end || *p != '"' || !(p = plain_string(p, end)))
                                return NULL;
                        p = plain_space(p, end);
                        if (p >= end || *p != ':')
                                return NULL;
                        p = plain_space(p + 1, end);
                }
                if (!(p = plain_value(p, end, depth + 1)))
                        return NULL;
                p = plain_space(p, end);
                if (p < end && *p == close)
                        return p + 1;
                if (p >= end || *p != ',')
                        return NULL;
                p = plain_space(p + 1, end);
        }
}

static const char *plain_value(const char *p, const char *end, int depth)
{
        if (p >= end)
                return NULL;
        switch (*p) {
        case '{':
        case '[': return plain_container(p, end, depth);
        case '"': return plain_string(p, end);
        case 't': return end - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
        case 'f': return end - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
        case 'n': return end - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
        default: return *p == '-' || (*p >= '0' && *p <= '9') ? plain_number(p, end) : NULL;
        }
}

static bool surely_json(const char *text, size_t len)
{
        const char *end = text + len;
        const char *p = plain_value(plain_space(text, end), end, 0);
        return p && plain_space(p, end) == end;
}

bool ksafe_config__read_json(ksafe_config_t *cfg, const char *pointer, ksafe_error_t *err)
{
        json_error_t jerr;
        size_t bom = ksafe_config__bom_length(cfg->data, cfg->len);
        if (!surely_json(cfg->data + bom, cfg->len - bom)) {
                json_t *doc = json_loadb(cfg->data + bom, cfg->len - bom, JSON_DECODE_ANY, &jerr);
                if (!doc) {
                        ksafe_error__set(err, KSAFE_ERROR_PARSE, cfg->source, "", jerr.line,
                                         jerr.column, "%s", ksafe_error__json_text(&jerr));
                        return false;
                }
                json_decref(doc);
        }
        scanner_t s = {.data = cfg->data,
                       .p = cfg->data + bom,
                       .end = cfg->data + cfg->len,
                       .line = 1,
                       .line_start = cfg->data + bom};
        if (!follow_pointer(cfg, &s, pointer, err))
                return false;
        cfg->object_open = (size_t)(s.p - cfg->data);
        s.p++;
        member_t m;
        bool first = true;
        unsigned containers = 0;
        while (next_member(&s, &m)) {
                if (!read_member(cfg, &m, &containers, err))
                        return false;
                if (first) {
                        size_t n = (size_t)(m.key - s.line_start);
                        if (m.line > 1 && n < sizeof(cfg->indent) &&
                            strspn(s.line_start, " \t") >= n)
                                snprintf(cfg->indent, sizeof(cfg->indent), "%.*s", (int)n,
                                         s.line_start);
                        first = false;
                }
        }
        cfg->object_close = (size_t)(s.p - cfg->data);
        return true;
}
