/*
 * Reading a .properties file (librdkafka, kcat, Java) into entries that
 * keep the line and column that set each value and where its text is, so
 * that a repair can rewrite just that value.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

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
 * otherwise is said (kcat_syntax.c). With --dialect java the file is read
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
        if (!KSAFE_ARRAY_RESERVE(l->pieces, l->count, l->cap)) {
                l->text.failed = true;
                return;
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

/* A comment (or blank) line that kcat reads otherwise: an entry that only
 * carries `syntax`, so that it becomes a ksafe-kcat-syntax finding. */
static bool add_syntax_line(ksafe_config_t *cfg, const char *p, int line, int column,
                            const char *syntax)
{
        ksafe_entry_t *entry = ksafe_config__add_entry(cfg, "", 0, "", 0, line, column);
        if (!entry)
                return false;
        entry->comment = true;
        entry->syntax = syntax;
        entry->span_start = entry->span_end = (size_t)(p - cfg->data);
        return true;
}

/* Decode a Java key or value into a new string (*out), or say why not. */
static bool java_text(ksafe_buf_t *tmp, const char *s, size_t n, char **out, const char **why)
{
        *why = java_unescape(s, n, tmp);
        if (tmp->failed || !tmp->data)
                return false;
        *out = strndup(tmp->data, tmp->len);
        return *out != NULL;
}

/* Reading one file into cfg's entries. */
typedef struct reader_s {
        ksafe_config_t *cfg;
        bool java; /* --dialect java: Java's rules are the file's */
        bool (*blank)(char);
        const char *data, *end;
        const char *p;      /* the next physical line */
        int line;           /* its number */
        bool bom_pending;   /* a BOM that kcat reads as part of the next line */
        bool after_lone_cr; /* kcat reads the next line as part of the last */
        logical_t l;        /* the logical line being read */
        ksafe_buf_t tmp;
        bool seen_comment_or_property; /* a directive now: not file-wide */
} reader_t;

/* One logical line as found. */
typedef struct line_s {
        const char *span_start; /* its first physical line */
        const char *s, *e;      /* its last physical line's text, leading blanks skipped */
        const char *next;       /* the physical line after it */
        int first_line, column;
        bool long_line, lone_cr; /* as kcat sees it */
} line_t;

/* A logical line split by Java's rules. */
typedef struct kv_s {
        const char *k, *ke; /* the key as written */
        const char *v, *ve; /* the value as written */
        char separator;     /* '=', ':', ' ' (blanks only) or 0 (none) */
        bool blank_around;
        bool eof_continuation; /* a backslash at the end of the file */
} kv_t;

static void skip_blanks(const reader_t *r, line_t *ln)
{
        ln->s = r->p;
        while (ln->s < ln->e && r->blank(*ln->s))
                ln->s++;
}

/* The physical line at r->p. */
static void read_physical(reader_t *r, line_t *ln)
{
        ln->e = line_end(r->p, r->end, &ln->next);
        ln->span_start = r->p;
        ln->long_line = ln->e - r->p > 511;
        ln->lone_cr = r->after_lone_cr || ends_lone_cr(ln->e, r->end);
        r->after_lone_cr = ends_lone_cr(ln->e, r->end);
        ln->first_line = r->line++;
        skip_blanks(r, ln);
        ln->column = (int)(ln->s - r->p) + 1;
}

/*
 * ksafe-lint directives: `ksafe-lint: disable=RULE[,RULE] -- reason` in a
 * comment. The reader keeps them for ksafe-lint
 * (ksafe_config_directive_get()), which suppresses findings by them;
 * nothing here judges them.
 */

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

/* A comment line [s, e), s at its '#' or '!': a directive, if it is one.
 * The file's first comment applies to the whole file. */
static bool note_comment(ksafe_config_t *cfg, const char *s, const char *e, int line, bool first)
{
        size_t n = strlen(KSAFE_DIRECTIVE_PREFIX);
        for (s++; s < e && (*s == ' ' || *s == '\t');)
                s++;
        if ((size_t)(e - s) < n || strncmp(s, KSAFE_DIRECTIVE_PREFIX, n) != 0)
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
                if (!trimmed(s + 8, dash, &rules) || (dash < e && !trimmed(dash + 2, e, &reason))) {
                        free(rules);
                        return false;
                }
        }
        return ksafe_config__add_directive(cfg, line, first, rules, reason);
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

/* A blank or comment line: nothing, or an entry for kcat's reading of it,
 * and the directive that a comment may be. */
static bool read_comment(reader_t *r, const line_t *ln)
{
        bool is_comment = ln->s < ln->e;
        const char *syntax = NULL;
        if (!r->java) /* Java's rules are the file's: nothing to say */
                syntax = ksafe_kcat__comment_differs(r->bom_pending, is_comment ? *ln->s : 0,
                                                     ln->long_line, ln->lone_cr);
        bool ok = !syntax || add_syntax_line(r->cfg, r->p, ln->first_line, ln->column, syntax);
        if (ok && is_comment)
                ok = note_comment(r->cfg, ln->s, ln->e, ln->first_line,
                                  !r->seen_comment_or_property);
        r->seen_comment_or_property |= is_comment;
        r->bom_pending = false;
        r->p = ln->next;
        return ok;
}

/* Join the continuation lines of `ln` into r->l. false when Java reads
 * the logical line as a comment: a '#' or '!' where it is still empty,
 * after a lone backslash too. */
static bool join_lines(reader_t *r, line_t *ln)
{
        r->l.text.len = 0;
        r->l.count = 0;
        while (continues(ln->s, ln->e) && ln->next < r->end) {
                logical_add(&r->l, r->data, ln->s, (size_t)(ln->e - ln->s - 1));
                r->p = ln->next;
                ln->e = line_end(r->p, r->end, &ln->next);
                skip_blanks(r, ln);
                ln->long_line |= ln->e - r->p > 511;
                ln->lone_cr |= ends_lone_cr(ln->e, r->end);
                r->after_lone_cr = ends_lone_cr(ln->e, r->end);
                r->line++;
                if (r->java && r->l.text.len == 0 && ln->s < ln->e &&
                    (*ln->s == '#' || *ln->s == '!'))
                        return false;
        }
        logical_add(&r->l, r->data, ln->s, (size_t)(ln->e - ln->s));
        return true;
}

/* The key ends at the first unescaped '=', ':' or blank; the separator may
 * be surrounded by blanks. */
static void split_key_value(const reader_t *r, kv_t *kv)
{
        const char *k = r->l.text.data, *lend = k + r->l.text.len;
        kv->eof_continuation = r->l.text.len && continues(k, lend);
        if (kv->eof_continuation)
                lend--; /* a continuation at the end of the file */
        const char *ke = k;
        while (ke < lend && *ke != '=' && *ke != ':' && !r->blank(*ke))
                ke += (*ke == '\\' && ke + 1 < lend) ? 2 : 1;
        const char *v = ke;
        while (v < lend && r->blank(*v))
                v++;
        kv->blank_around = v > ke;
        kv->separator = v < lend && (*v == '=' || *v == ':') ? *v : v > ke ? ' ' : 0;
        if (kv->separator == '=' || kv->separator == ':')
                v++;
        if (v < lend && r->blank(*v))
                kv->blank_around = true;
        while (v < lend && r->blank(*v))
                v++;
        const char *ve = lend;
        /* kcat right-trims its lines; Java keeps a value's blanks. */
        while (!r->java && ve > v && isspace((unsigned char)ve[-1]))
                ve--;
        kv->k = k;
        kv->ke = ke;
        kv->v = v;
        kv->ve = ve;
}

/* The entry of a property line, its key and value read by Java's rules
 * (*java_why: why Java cannot read them) or kcat's. */
static ksafe_entry_t *add_property(reader_t *r, const line_t *ln, const kv_t *kv,
                                   const char **java_why)
{
        size_t klen = (size_t)(kv->ke - kv->k), vlen = (size_t)(kv->ve - kv->v);
        if (!r->java) {
                ksafe_kcat__unescape(&r->tmp, kv->v, vlen);
                return r->tmp.failed
                               ? NULL
                               : ksafe_config__add_entry(r->cfg, kv->k, klen, r->tmp.data,
                                                         r->tmp.len, ln->first_line, ln->column);
        }
        char *key = NULL, *value = NULL;
        const char *why_key = NULL, *why_value = NULL;
        bool ok = java_text(&r->tmp, kv->k, klen, &key, &why_key) &&
                  java_text(&r->tmp, kv->v, vlen, &value, &why_value);
        *java_why = why_key ? why_key : why_value;
        ksafe_entry_t *entry = NULL;
        /* An undecodable key is shown as written (if at all). */
        if (ok && why_key)
                entry = ksafe_config__add_entry(r->cfg, kv->k, klen, "", 0, ln->first_line,
                                                ln->column);
        else if (ok)
                entry = ksafe_config__add_entry(r->cfg, key, strlen(key), value, strlen(value),
                                                ln->first_line, ln->column);
        free(key);
        free(value);
        return entry;
}

/* What kcat makes of the line, and where its value and the line are. */
static bool place_entry(reader_t *r, const line_t *ln, const kv_t *kv, ksafe_entry_t *entry,
                        const char *java_why)
{
        /* A line with no separator at all is no property to kcat (the tail
         * of a multi-line secret, say); Java reads it as a key with an
         * empty value. */
        entry->no_separator = kv->separator == 0;
        entry->bare = entry->no_separator && !r->java;
        if (!r->java)
                entry->syntax = ksafe_kcat__line_differs(&(ksafe_kcat_line_t){
                        .key = kv->k,
                        .key_len = (size_t)(kv->ke - kv->k),
                        .separator = kv->separator,
                        .blank_around = kv->blank_around,
                        .lone_cr = ln->lone_cr,
                        .continued = r->l.count > 1,
                        .long_line = ln->long_line,
                        .eof_continuation = kv->eof_continuation,
                });
        if (r->bom_pending)
                entry->syntax = ksafe_kcat__bom_syntax;
        if (java_why) {
                entry->status = KSAFE_ENTRY_INVALID;
                if (!(entry->note = strdup(java_why)))
                        return false;
        }
        entry->value_start = logical_offset(&r->l, (size_t)(kv->v - kv->k));
        entry->value_end = kv->ve > kv->v ? logical_offset(&r->l, (size_t)(kv->ve - kv->k) - 1) + 1
                                          : entry->value_start;
        entry->span_start = (size_t)(ln->span_start - r->data);
        entry->span_end = (size_t)(ln->next - r->data);
        directives_reach(r->cfg, ln->first_line);
        r->seen_comment_or_property = true;
        return true;
}

/* One logical line at r->p; false when out of memory. */
static bool read_line(reader_t *r)
{
        line_t ln;
        read_physical(r, &ln);
        bool is_comment = ln.s < ln.e && (*ln.s == '#' || *ln.s == '!');
        if (ln.s == ln.e || is_comment)
                return read_comment(r, &ln);
        bool property = join_lines(r, &ln);
        r->p = ln.next;
        if (!property || r->l.text.failed) {
                r->bom_pending = false;
                return !r->l.text.failed;
        }
        kv_t kv;
        split_key_value(r, &kv);
        /* Java skips a logical line that is empty once joined (a lone
         * backslash before an empty line), except when the backslash is
         * followed by the end of the file or by one line-ending character
         * that ends the file: load() then returns the line, a key "" with
         * an empty value. */
        bool ok = true;
        if (!r->java || kv.ve != kv.k || (kv.eof_continuation && ln.next - ln.e < 2)) {
                const char *java_why = NULL;
                ksafe_entry_t *entry = add_property(r, &ln, &kv, &java_why);
                ok = entry && place_entry(r, &ln, &kv, entry, java_why);
        }
        r->bom_pending = false;
        return ok;
}

bool ksafe_config__read_properties(ksafe_config_t *cfg, ksafe_error_t *err)
{
        reader_t r = {.cfg = cfg, .java = cfg->dialect == KSAFE_DIALECT_JAVA, .line = 1};
        r.blank = r.java ? is_java_blank : is_blank;
        r.data = cfg->data;
        r.end = cfg->data + cfg->len;
        size_t bom = ksafe_config__bom_length(cfg->data, cfg->len);
        /* Java keeps a BOM in the first key; kcat refuses the line. */
        r.p = r.data + (r.java ? 0 : bom);
        r.bom_pending = bom && !r.java;
        bool ok = true;
        while (ok && r.p < r.end)
                ok = read_line(&r);
        /* A BOM and nothing else: kcat still reads it as a line. */
        if (ok && r.bom_pending)
                ok = add_syntax_line(cfg, r.data, 1, 1, ksafe_kcat__bom_syntax);
        ok = ok && !r.l.text.failed;
        ksafe_buf__free(&r.l.text);
        ksafe_buf__free(&r.tmp);
        free(r.l.pieces);
        if (!ok)
                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, cfg->source, "", r.line, 0,
                                 "out of memory");
        return ok;
}
