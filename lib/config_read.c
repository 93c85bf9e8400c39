/*
 * Reading producer configuration files: .properties (librdkafka, kcat,
 * Java) and JSON objects, into entries that keep the line and column that
 * set each value and where its text is, so that a repair can rewrite just
 * that value. Judging them is config.c's business.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

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

static size_t bom_length(const char *data, size_t len)
{
        return len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* The line ending of the first line: kept for lines that --fix adds. */
static const char *detect_newline(const char *data, size_t len)
{
        const char *p = memchr(data, '\n', len);
        const char *r = memchr(data, '\r', len);
        if (r && (!p || r < p))
                return r + 1 < data + len && r[1] == '\n' ? "\r\n" : "\r";
        return "\n";
}

/*
 * .properties
 *
 * Java's rules, as kcat and librdkafka users write them: a key ends at the
 * first unescaped '=', ':' or blank; the separator may be surrounded by
 * blanks; '#' and '!' start comment lines; a line ending in an odd number
 * of backslashes continues on the next, whose leading blanks are dropped.
 *
 * In the librdkafka dialect backslashes are otherwise kept literally in
 * values (Windows paths), a BOM is skipped, and what kcat -F reads
 * otherwise is said (kcat_differs()). With --dialect java the file is read
 * exactly as java.util.Properties.load() reads it: blanks are ' ', '\t' and
 * '\f' only, escapes are decoded in keys and values (\uXXXX, \t \n \r \f,
 * any other escaped character is itself), a value keeps its trailing
 * blanks, a line without a separator is a key with an empty value, and a
 * UTF-8 BOM is no blank: it stays in the first key.
 */

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static bool is_java_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\f';
}

static void utf8_put(ksafe_buf_t *out, unsigned long cp)
{
        char b[4];
        size_t n;
        if (cp < 0x80) {
                b[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                b[0] = (char)(0xC0 | (cp >> 6));
                b[1] = (char)(0x80 | (cp & 0x3F));
                n = 2;
        } else if (cp < 0x10000) { /* a lone surrogate too, as Java keeps it */
                b[0] = (char)(0xE0 | (cp >> 12));
                b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                b[2] = (char)(0x80 | (cp & 0x3F));
                n = 3;
        } else {
                b[0] = (char)(0xF0 | (cp >> 18));
                b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                b[3] = (char)(0x80 | (cp & 0x3F));
                n = 4;
        }
        ksafe_buf__append(out, b, n);
}

static int hex_digit(char c)
{
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
}

/* Read four hex digits at s (n bytes left); -1 when malformed. */
static long java_u(const char *s, size_t n)
{
        if (n < 4)
                return -1;
        long v = 0;
        for (int i = 0; i < 4; i++) {
                int d = hex_digit(s[i]);
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

/*
 * Properties.loadConvert(): decode the escapes of a key or value into
 * `out` as UTF-8 (a \uD83D\uDE00 pair is one character). Returns NULL, or
 * why Java cannot read it: a malformed \uXXXX (load() throws), or a NUL
 * that no C string can carry.
 */
static const char *java_unescape(const char *s, size_t n, ksafe_buf_t *out)
{
        out->len = 0;
        ksafe_buf__append(out, "", 0);
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c != '\\' || i + 1 >= n) {
                        ksafe_buf__append(out, &c, 1);
                        continue;
                }
                c = s[++i];
                if (c != 'u') {
                        char d = c == 't'   ? '\t'
                                 : c == 'n' ? '\n'
                                 : c == 'r' ? '\r'
                                 : c == 'f' ? '\f'
                                            : c;
                        ksafe_buf__append(out, &d, 1);
                        continue;
                }
                long cp = java_u(s + i + 1, n - i - 1);
                if (cp < 0)
                        return "a malformed \\uXXXX escape: java.util.Properties.load() throws "
                               "IllegalArgumentException, so the Java client cannot read this "
                               "file at all";
                i += 4;
                if (cp == 0)
                        return "a \\u0000 escape (NUL), which no librdkafka client can pass on";
                long lo;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n + 0 && s[i + 1] == '\\' &&
                    s[i + 2] == 'u' && (lo = java_u(s + i + 3, n - i - 3)) >= 0xDC00 &&
                    lo < 0xE000) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                }
                utf8_put(out, (unsigned long)cp);
        }
        return NULL;
}


/* Does the line that ends at e end with a CR that is not part of CRLF? */
static bool ends_lone_cr(const char *e, const char *end)
{
        return e < end && *e == '\r' && (e + 1 == end || e[1] != '\n');
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

/* A logical line: the pieces of physical lines it joins, so that a
 * position in it maps back to an offset in the file. */
typedef struct piece_s {
        size_t at;  /* offset in text where the piece starts */
        size_t off; /* offset in the file where it starts */
} piece_t;

typedef struct logical_s {
        ksafe_buf_t text;
        piece_t *pieces;
        size_t count, cap;
} logical_t;

static void logical_add(logical_t *l, const char *data, const char *s, size_t n)
{
        if (l->count == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 8;
                piece_t *pieces = realloc(l->pieces, cap * sizeof(*pieces));
                if (!pieces) {
                        l->text.failed = true;
                        return;
                }
                l->pieces = pieces;
                l->cap = cap;
        }
        l->pieces[l->count++] = (piece_t){.at = l->text.len, .off = (size_t)(s - data)};
        ksafe_buf__append(&l->text, s, n);
}

static size_t logical_offset(const logical_t *l, size_t at)
{
        size_t i = l->count;
        while (i > 1 && l->pieces[i - 1].at > at)
                i--;
        return l->pieces[i - 1].off + (at - l->pieces[i - 1].at);
}

/* kcat -F (and the file readers of librdkafka-based tools) read a line as
 * key=value up to its LF, and nothing else: what Java's rules read
 * otherwise is said, so that a file cannot mean one thing to ksafe-lint and
 * another to the client. */
static const char *kcat_differs(bool lone_cr, const logical_t *l, bool long_line,
                                const char *key, const char *key_end, char separator,
                                bool blank_around)
{
        if (lone_cr)
                return "a lone CR (not CRLF) splits its line here, and kcat reads lines up to "
                       "LF; write it as one key=value line";
        if (l->count > 1)
                return "it continues on the next line (a backslash at the end), which kcat "
                       "keeps as part of the value; write it as one key=value line";
        if (long_line)
                return "its line is longer than 511 bytes, which kcat reads as several lines; "
                       "shorten it";
        if (memchr(key, '\\', (size_t)(key_end - key)))
                return "its key has a backslash escape, which kcat reads by rules of its own; "
                       "write the key without escapes";
        if (separator != '=' && separator != 0) /* no separator at all: not key=value */
                return "it separates key and value with ':' or a blank, and kcat needs '='; "
                       "write key=value";
        if (blank_around)
                return "it has blanks around '=', which kcat keeps in the key and value; "
                       "write key=value";
        return NULL;
}

/* kcat -F strips "\\:" and "\\=" from a line, again and again from its start
 * ("Java configs" escape them): every run of backslashes just before a ':'
 * or '=' goes. Other backslashes stay (Windows paths). */
static void kcat_unescape(ksafe_buf_t *out, const char *s, size_t n)
{
        out->len = 0;
        ksafe_buf__append(out, "", 0);
        for (size_t i = 0; i < n;) {
                size_t run = 0;
                while (i + run < n && s[i + run] == '\\')
                        run++;
                if (run && i + run < n && (s[i + run] == ':' || s[i + run] == '=')) {
                        i += run; /* the run goes, the ':' or '=' stays */
                        continue;
                }
                ksafe_buf__append(out, s + i, run ? run : 1);
                i += run ? run : 1;
        }
}

/* A comment (or blank) line that kcat reads otherwise: an entry that only
 * carries `syntax`, so that it becomes a ksafe-kcat-syntax finding. */
static bool add_syntax_line(ksafe_config_t *cfg, const char *p, int line, int column,
                            const char *syntax)
{
        ksafe_entry_t *entry = add_entry(cfg, "", 0, "", 0, line, column);
        if (!entry)
                return false;
        entry->comment = true;
        entry->syntax = syntax;
        entry->span_start = entry->span_end = (size_t)(p - cfg->data);
        return true;
}

/*
 * ksafe-lint directives: `ksafe-lint: disable=RULE[,RULE] -- reason` in a
 * comment, or a JSON object's "$ksafe-lint" member. The reader keeps them
 * for ksafe-lint (ksafe_config_directive_get()), which suppresses findings
 * by them; nothing here judges them.
 */
#define DIRECTIVE_PREFIX "ksafe-lint:"
#define DIRECTIVE_KEY "$ksafe-lint"

/* [s, e) escaped, without its blanks at either end; NULL when empty. */
static bool trimmed(const char *s, const char *e, char **out)
{
        while (s < e && isspace((unsigned char)*s))
                s++;
        while (e > s && isspace((unsigned char)e[-1]))
                e--;
        *out = NULL;
        if (s == e)
                return true;
        char *raw = strndup(s, (size_t)(e - s));
        *out = raw ? ksafe_report_escape(raw) : NULL;
        free(raw);
        return *out != NULL;
}

static bool add_directive(ksafe_config_t *cfg, int line, bool file_wide, char *rules,
                          char *reason)
{
        ksafe_directive_t *d =
                realloc(cfg->directives, (cfg->directive_count + 1) * sizeof(*d));
        if (!d) {
                free(rules);
                free(reason);
                return false;
        }
        cfg->directives = d;
        d[cfg->directive_count++] = (ksafe_directive_t){
                .line = line, .file_wide = file_wide, .rules = rules, .reason = reason};
        return true;
}

/* A comment line [s, e), s at its '#' or '!': a directive, if it is one.
 * The file's first comment applies to the whole file. */
static bool note_comment(ksafe_config_t *cfg, const char *s, const char *e, int line,
                         bool first)
{
        size_t n = strlen(DIRECTIVE_PREFIX);
        for (s++; s < e && (*s == ' ' || *s == '\t');)
                s++;
        if ((size_t)(e - s) < n || strncmp(s, DIRECTIVE_PREFIX, n) != 0)
                return true;
        for (s += n; s < e && (*s == ' ' || *s == '\t');)
                s++;
        char *rules = NULL, *reason = NULL;
        if ((size_t)(e - s) > 8 && strncmp(s, "disable=", 8) == 0) {
                const char *dash = s + 8;
                while (dash + 1 < e && !(dash[0] == '-' && dash[1] == '-'))
                        dash++;
                if (dash + 1 >= e)
                        dash = e;
                if (!trimmed(s + 8, dash, &rules) ||
                    (dash < e && !trimmed(dash + 2, e, &reason))) {
                        free(rules);
                        return false;
                }
        }
        return add_directive(cfg, line, first, rules, reason);
}

/* The property on `line` follows the comments not yet followed by one. */
static void directives_reach(ksafe_config_t *cfg, int line)
{
        for (size_t i = cfg->directive_count; i-- > 0;) {
                ksafe_directive_t *d = &cfg->directives[i];
                if (d->file_wide || d->target_line)
                        break;
                d->target_line = line;
        }
}

/* JSON's "$ksafe-lint": {"disable": ["RULE", ...], "reason": "..."}, for
 * the whole file; any other shape is kept as a directive not understood. */
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
        json_array_foreach(list, i, id) {
                const char *text = json_string_value(id);
                understood &= text && *text && !strchr(text, ',');
                if (understood)
                        ksafe_buf__printf(&ids, "%s%s", i ? "," : "", text);
        }
        char *raw = understood ? ksafe_buf__take(&ids) : NULL;
        char *rules = raw ? ksafe_report_escape(raw) : NULL;
        char *reason = NULL;
        bool ok = (!understood || rules) &&
                  (!json_string_value(why) || !*json_string_value(why) ||
                   (reason = ksafe_report_escape(json_string_value(why))));
        free(raw);
        ksafe_buf__free(&ids);
        json_decref(v);
        if (!ok) {
                free(rules);
                return false;
        }
        return add_directive(cfg, line, true, rules, reason);
}

size_t ksafe_config_directive_count(const ksafe_config_t *config)
{
        return config ? config->directive_count : 0;
}

const ksafe_directive_t *ksafe_config_directive_get(const ksafe_config_t *config, size_t i)
{
        return config && i < config->directive_count ? &config->directives[i] : NULL;
}

static const char bom_syntax[] =
        "the file starts with a UTF-8 byte order mark, which kcat reads as part of this line "
        "(and then refuses it); save the file without the BOM";

/* Decode a Java key or value into a new string (*out), or say why not. */
static bool java_text(ksafe_buf_t *tmp, const char *s, size_t n, char **out, const char **why)
{
        *why = java_unescape(s, n, tmp);
        if (tmp->failed || !tmp->data)
                return false;
        *out = strndup(tmp->data, tmp->len);
        return *out != NULL;
}

static bool parse_properties(ksafe_config_t *cfg, ksafe_error_t *err)
{
        const bool java = cfg->dialect == KSAFE_DIALECT_JAVA;
        bool (*blank)(char) = java ? is_java_blank : is_blank;
        const char *data = cfg->data, *end = data + cfg->len;
        size_t bom = bom_length(data, cfg->len);
        /* Java keeps a BOM in the first key; kcat refuses the line. */
        const char *p = data + (java ? 0 : bom);
        bool bom_pending = bom && !java;
        int line = 1;
        logical_t l = {0};
        ksafe_buf_t tmp = {0};
        bool ok = true;
        bool after_lone_cr = false; /* kcat reads this line as part of the last */
        bool seen_comment_or_property = false; /* a directive before: not file-wide */
        while (ok && p < end) {
                const char *next;
                const char *e = line_end(p, end, &next);
                const char *span_start = p;
                bool long_line = e - p > 511;
                bool lone_cr = after_lone_cr || ends_lone_cr(e, end);
                after_lone_cr = ends_lone_cr(e, end);
                int first_line = line++;
                const char *s = p;
                while (s < e && blank(*s))
                        s++;
                int column = (int)(s - p) + 1;
                bool is_comment = s < e && (*s == '#' || *s == '!');
                const char *syntax = NULL;
                if (java) {
                        /* Java's rules are the file's: nothing to say. */
                } else if (bom_pending && (s == e || is_comment)) {
                        syntax = bom_syntax;
                } else if (is_comment && *s == '!') {
                        syntax = "kcat does not read '!' as a comment: it reads this line as a "
                                 "property (and exits); start comments with '#'";
                } else if (is_comment && (long_line || lone_cr)) {
                        /* kcat reads the rest of a long (or CR-split)
                         * comment as a line of its own: say so. */
                        syntax = long_line ? "this comment is longer than 511 bytes, and "
                                             "kcat reads its tail as a property; split it"
                                           : "a lone CR (not CRLF) ends this comment, "
                                             "and kcat reads what follows as comment; end "
                                             "lines with LF or CRLF";
                }
                if (s == e || is_comment) {
                        if (syntax && !(ok = add_syntax_line(cfg, p, first_line, column, syntax)))
                                break;
                        if (is_comment &&
                            !(ok = note_comment(cfg, s, e, first_line, !seen_comment_or_property)))
                                break;
                        seen_comment_or_property |= is_comment;
                        bom_pending = false;
                        p = next;
                        continue;
                }
                /* Join continuation lines into one logical line. Java
                 * reads a '#' or '!' as a comment wherever its logical line
                 * is still empty, after a lone backslash too. */
                l.text.len = 0;
                l.count = 0;
                bool java_comment = false;
                while (!java_comment && continues(s, e) && next < end) {
                        logical_add(&l, data, s, (size_t)(e - s - 1));
                        p = next;
                        e = line_end(p, end, &next);
                        s = p;
                        while (s < e && blank(*s))
                                s++;
                        long_line |= e - p > 511;
                        lone_cr |= ends_lone_cr(e, end);
                        after_lone_cr = ends_lone_cr(e, end);
                        line++;
                        java_comment = java && l.text.len == 0 && s < e &&
                                       (*s == '#' || *s == '!');
                }
                if (java_comment) {
                        p = next;
                        bom_pending = false;
                        continue;
                }
                logical_add(&l, data, s, (size_t)(e - s));
                p = next;
                if (l.text.failed)
                        break;
                const char *k = l.text.data, *lend = l.text.data + l.text.len;
                bool eof_continuation = l.text.len && continues(k, lend);
                if (eof_continuation)
                        lend--; /* a continuation at the end of the file */
                /* Java skips a logical line that is empty once joined (a
                 * lone backslash before an empty line), except when the
                 * backslash is followed by the end of the file or by one
                 * line-ending character that ends the file: load() then
                 * returns the line, a key "" with an empty value. */
                if (java && lend == k && !(eof_continuation && next - e < 2)) {
                        bom_pending = false;
                        continue;
                }
                const char *ke = k;
                while (ke < lend && *ke != '=' && *ke != ':' && !blank(*ke))
                        ke += (*ke == '\\' && ke + 1 < lend) ? 2 : 1;
                const char *v = ke;
                while (v < lend && blank(*v))
                        v++;
                bool blank_around = v > ke;
                char separator = v < lend && (*v == '=' || *v == ':') ? *v : v > ke ? ' ' : 0;
                if (separator == '=' || separator == ':')
                        v++;
                if (v < lend && blank(*v))
                        blank_around = true;
                while (v < lend && blank(*v))
                        v++;
                const char *ve = lend;
                /* kcat right-trims its lines; Java keeps a value's blanks. */
                while (!java && ve > v && isspace((unsigned char)ve[-1]))
                        ve--;
                ksafe_entry_t *entry;
                const char *java_why = NULL;
                if (java) {
                        char *key = NULL, *value = NULL;
                        const char *why_key = NULL, *why_value = NULL;
                        ok = java_text(&tmp, k, (size_t)(ke - k), &key, &why_key) &&
                             java_text(&tmp, v, (size_t)(ve - v), &value, &why_value);
                        java_why = why_key ? why_key : why_value;
                        /* An undecodable key is shown as written (if at all). */
                        entry = !ok ? NULL
                                : why_key ? add_entry(cfg, k, (size_t)(ke - k), "", 0, first_line,
                                                      column)
                                          : add_entry(cfg, key, strlen(key), value, strlen(value),
                                                      first_line, column);
                        free(key);
                        free(value);
                } else {
                        kcat_unescape(&tmp, v, (size_t)(ve - v));
                        entry = tmp.failed ? NULL
                                           : add_entry(cfg, k, (size_t)(ke - k), tmp.data,
                                                       tmp.len, first_line, column);
                }
                ok = entry != NULL;
                if (ok) {
                        /* A line with no separator at all is no property
                         * to kcat (the tail of a multi-line secret, say);
                         * Java reads it as a key with an empty value. */
                        entry->no_separator = separator == 0;
                        entry->bare = entry->no_separator && !java;
                        if (!java)
                                entry->syntax = kcat_differs(lone_cr, &l, long_line, k, ke,
                                                             separator,
                                                             blank_around && separator == '=');
                        if (!java && !entry->syntax && eof_continuation)
                                entry->syntax = "it ends with a backslash at the end of the "
                                                "file, which kcat keeps in the value";
                        if (bom_pending)
                                entry->syntax = bom_syntax;
                        if (java_why) {
                                entry->status = KSAFE_ENTRY_INVALID;
                                ok = (entry->note = strdup(java_why)) != NULL;
                        }
                        entry->value_start = logical_offset(&l, (size_t)(v - k));
                        entry->value_end = ve > v ? logical_offset(&l, (size_t)(ve - k) - 1) + 1
                                                  : entry->value_start;
                        entry->span_start = (size_t)(span_start - data);
                        entry->span_end = (size_t)(next - data);
                        directives_reach(cfg, first_line);
                }
                seen_comment_or_property = true;
                bom_pending = false;
        }
        /* A BOM and nothing else: kcat still reads it as a line. */
        if (ok && bom_pending)
                ok = add_syntax_line(cfg, data, 1, 1, bom_syntax);
        ok = ok && !l.text.failed;
        ksafe_buf__free(&l.text);
        ksafe_buf__free(&tmp);
        free(l.pieces);
        if (!ok)
                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, cfg->source, "", line, 0,
                                 "out of memory");
        return ok;
}

/*
 * JSON
 *
 * jansson checks the syntax; a small scanner then walks the object that
 * holds the properties (the top level, or the one a JSON pointer names) to
 * keep each member's line, column and text as written: 1e3 stays "1e3",
 * and a key given twice keeps both of its lines.
 */

typedef struct scanner_s {
        const char *data, *p, *end;
        int line;
        const char *line_start;
} scanner_t;

static void skip_space(scanner_t *s)
{
        while (s->p < s->end && isspace((unsigned char)*s->p)) {
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
                while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
                        s->p++;
        }
}

/* A JSON string token's text, or a scalar token as written. */
static char *token_text(const char *tok, size_t len)
{
        if (tok[0] != '"')
                return strndup(tok, len);
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
        int value_line;                /* the scanner's state at the value */
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
                                         "JSON pointer \"%s\" names nothing in this file",
                                         pointer);
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
 * into the configuration (PyDict_Update), member by member. */
static bool add_json_member(ksafe_config_t *cfg, const member_t *m, unsigned object,
                            unsigned *containers, ksafe_error_t *err)
{
        char *key = token_text(m->key, (size_t)(m->key_end - m->key));
        char *raw = token_text(m->value, (size_t)(m->value_end - m->value));
        bool scalar = *m->value != '{' && *m->value != '[';
        bool topic_config = key && strcmp(key, "default.topic.config") == 0;
        ksafe_entry_t *e = NULL;
        if (key)
                e = add_entry(cfg, key, strlen(key), raw ? raw : "", raw ? strlen(raw) : 0,
                              m->line, m->column);
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
                        ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, cfg->source, "",
                                         m->line, m->column, "out of memory");
                        return false;
                }
        }
        return true;
}

static bool parse_json_members(ksafe_config_t *cfg, const member_t *at, unsigned object,
                               ksafe_error_t *err)
{
        scanner_t s = {.data = cfg->data, .p = at->value + 1, .end = cfg->data + cfg->len,
                       .line = at->value_line, .line_start = at->value_line_start};
        member_t m;
        unsigned none = 0;
        while (next_member(&s, &m))
                if (!add_json_member(cfg, &m, object, &none, err))
                        return false;
        return true;
}

static bool parse_json(ksafe_config_t *cfg, const char *pointer, ksafe_error_t *err)
{
        json_error_t jerr;
        size_t bom = bom_length(cfg->data, cfg->len);
        json_t *doc = json_loadb(cfg->data + bom, cfg->len - bom, JSON_DECODE_ANY, &jerr);
        if (!doc) {
                ksafe_error__set(err, KSAFE_ERROR_PARSE, cfg->source, "", jerr.line, jerr.column,
                                 "%s", ksafe_error__json_text(&jerr));
                return false;
        }
        json_decref(doc);
        scanner_t s = {.data = cfg->data, .p = cfg->data + bom, .end = cfg->data + cfg->len,
                       .line = 1, .line_start = cfg->data + bom};
        if (!follow_pointer(cfg, &s, pointer, err))
                return false;
        cfg->object_open = (size_t)(s.p - cfg->data);
        s.p++;
        member_t m;
        bool first = true;
        unsigned containers = 0;
        while (next_member(&s, &m)) {
                char *key = token_text(m.key, (size_t)(m.key_end - m.key));
                bool directive = key && strcmp(key, DIRECTIVE_KEY) == 0;
                free(key);
                if (directive ? !note_json_directive(cfg, m.value,
                                                     (size_t)(m.value_end - m.value), m.line)
                              : !add_json_member(cfg, &m, 0, &containers, err)) {
                        if (directive)
                                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, cfg->source,
                                                 "", m.line, m.column, "out of memory");
                        return false;
                }
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

static bool looks_like_json(const char *source, const char *data, size_t len)
{
        size_t n = source ? strlen(source) : 0;
        if (n >= 5 && strcmp(source + n - 5, ".json") == 0)
                return true;
        size_t i = bom_length(data, len);
        while (i < len && isspace((unsigned char)data[i]))
                i++;
        return i < len && data[i] == '{';
}

bool ksafe_config_options_init(ksafe_config_options_t *options, unsigned int version)
{
        if (version != KSAFE_CONFIG_OPTIONS_VERSION)
                return false;
        *options = (ksafe_config_options_t)KSAFE_CONFIG_OPTIONS_INIT;
        return true;
}

/* Options the caller's header describes and this library knows, else an
 * error that names what is wrong. `source` names the input in it. */
static bool options_known(const ksafe_config_options_t *options, const char *source,
                          ksafe_error_t *err)
{
        if (options->version != KSAFE_CONFIG_OPTIONS_VERSION) {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, source, "", 0, 0,
                                 "ksafe_config_options_t version %u is unknown to ksafe %s "
                                 "(it reads version %d: initialise the options with "
                                 "KSAFE_CONFIG_OPTIONS_INIT)",
                                 options->version, KSAFE_VERSION_STR,
                                 KSAFE_CONFIG_OPTIONS_VERSION);
                return false;
        }
        if ((unsigned)options->format > KSAFE_FORMAT_JSON ||
            (unsigned)options->dialect > KSAFE_DIALECT_JAVA) {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, source, "", 0, 0,
                                 "unknown %s %d in ksafe_config_options_t",
                                 (unsigned)options->format > KSAFE_FORMAT_JSON ? "format"
                                                                               : "dialect",
                                 (unsigned)options->format > KSAFE_FORMAT_JSON
                                         ? (int)options->format
                                         : (int)options->dialect);
                return false;
        }
        return true;
}

ksafe_config_t *ksafe_config_read(const char *data, size_t len, const char *source,
                                  const ksafe_config_options_t *options, ksafe_error_t *err)
{
        ksafe_error__clear(err);
        static const ksafe_config_options_t defaults = KSAFE_CONFIG_OPTIONS_INIT;
        if (!options)
                options = &defaults;
        if (!source)
                source = "<string>";
        if (!options_known(options, source, err))
                return NULL;
        ksafe_config_t *cfg = calloc(1, sizeof(*cfg));
        if (cfg) {
                cfg->source = strdup(source);
                cfg->data = malloc(len + 1);
        }
        if (!cfg || !cfg->source || !cfg->data) {
                ksafe_config_destroy(cfg);
                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, source, "", 0, 0,
                                 "out of memory");
                return NULL;
        }
        memcpy(cfg->data, data, len);
        cfg->data[len] = '\0';
        cfg->len = len;
        cfg->dialect = options->dialect;
        cfg->newline = detect_newline(data, len);
        snprintf(cfg->indent, sizeof(cfg->indent), "  ");
        if (memchr(data, '\0', len)) {
                ksafe_error__set(err, KSAFE_ERROR_PARSE, source, "", 0, 0,
                                 "contains a NUL byte: not a text config");
                ksafe_config_destroy(cfg);
                return NULL;
        }
        cfg->format = options->format;
        if (cfg->format == KSAFE_FORMAT_AUTO)
                cfg->format = looks_like_json(source, data, len) ? KSAFE_FORMAT_JSON
                                                                 : KSAFE_FORMAT_PROPERTIES;
        bool ok = cfg->format == KSAFE_FORMAT_JSON ? parse_json(cfg, options->json_pointer, err)
                                                   : parse_properties(cfg, err);
        if (!ok) {
                ksafe_config_destroy(cfg);
                return NULL;
        }
        cfg->file_count = cfg->count;
        return cfg;
}

ksafe_config_t *ksafe_config_read_file(const char *path, const ksafe_config_options_t *options,
                                       ksafe_error_t *err)
{
        ksafe_error__clear(err);
        if (options && !options_known(options, path, err))
                return NULL; /* before the file is opened */
        size_t len;
        char why[256];
        char *data = ksafe_file__read_regular(path, &len, NULL, why, sizeof(why));
        if (!data) {
                ksafe_error__set(err, KSAFE_ERROR_IO, path, "", 0, 0, "cannot read: %s", why);
                return NULL;
        }
        ksafe_config_t *cfg = ksafe_config_read(data, len, path, options, err);
        free(data);
        return cfg;
}

bool ksafe_config_set(ksafe_config_t *config, const char *name, const char *value,
                      const char *origin)
{
        int line = (int)(config->count - config->file_count) + 1;
        ksafe_entry_t *e =
                add_entry(config, name, strlen(name), value, strlen(value), line, 1);
        if (e && !(e->origin = strdup(origin ? origin : "<command line>"))) {
                free(e->name);
                free(e->raw);
                config->count--;
                return false;
        }
        return e != NULL;
}

void ksafe_config_destroy(ksafe_config_t *cfg)
{
        if (!cfg)
                return;
        for (size_t i = 0; i < cfg->count; i++) {
                free(cfg->entries[i].name);
                free(cfg->entries[i].raw);
                free(cfg->entries[i].note);
                free(cfg->entries[i].origin);
        }
        for (size_t i = 0; i < cfg->change_count; i++) {
                free(cfg->changes[i].name);
                free(cfg->changes[i].canonical);
                free(cfg->changes[i].value);
        }
        for (size_t i = 0; i < cfg->directive_count; i++) {
                free((char *)cfg->directives[i].rules);
                free((char *)cfg->directives[i].reason);
        }
        free(cfg->directives);
        free(cfg->changes);
        free(cfg->entries);
        free(cfg->source);
        free(cfg->data);
        free(cfg);
}
