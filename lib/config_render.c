/*
 * Writing a config back with its repairs (ksafe_config_render()): only the
 * text of the changed values is rewritten, removed lines dropped, new
 * lines appended in the file's own style; and the effective configuration
 * (ksafe_config_effective()).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

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
        if (!ksafe_config__resolve(config, policy, &r))
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
        ksafe_config__resolved_free(&r);
        return text;
}
