/*
 * A config read from a file or a string: which format it is in, its
 * entries (read by config_properties.c or config_json.c), and the public
 * ksafe_config_read/read_file/set/destroy. Judging it is config_check.c's
 * business.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe_int.h"

ksafe_entry_t *ksafe_config__add_entry(ksafe_config_t *cfg, const char *name, size_t name_len,
                                       const char *raw, size_t raw_len, int line, int column)
{
        if (!KSAFE_ARRAY_RESERVE(cfg->entries, cfg->count, cfg->cap))
                return NULL;
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

size_t ksafe_config__bom_length(const char *data, size_t len)
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

bool ksafe_config__add_directive(ksafe_config_t *cfg, int line, bool file_wide, char *rules,
                                 char *reason)
{
        if (!KSAFE_ARRAY_RESERVE(cfg->directives, cfg->directive_count, cfg->directive_cap)) {
                free(rules);
                free(reason);
                return false;
        }
        cfg->directives[cfg->directive_count++] = (ksafe_directive_t){
                .line = line, .file_wide = file_wide, .rules = rules, .reason = reason};
        return true;
}

size_t ksafe_config_directive_count(const ksafe_config_t *config)
{
        return config ? config->directive_count : 0;
}

const ksafe_directive_t *ksafe_config_directive_get(const ksafe_config_t *config, size_t i)
{
        return config && i < config->directive_count ? &config->directives[i] : NULL;
}

static bool looks_like_json(const char *source, const char *data, size_t len)
{
        size_t n = source ? strlen(source) : 0;
        if (n >= 5 && strcmp(source + n - 5, ".json") == 0)
                return true;
        size_t i = ksafe_config__bom_length(data, len);
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
                                 options->version, KSAFE_VERSION_STR, KSAFE_CONFIG_OPTIONS_VERSION);
                return false;
        }
        bool bad_format = (unsigned)options->format > KSAFE_FORMAT_JSON;
        if (bad_format || (unsigned)options->dialect > KSAFE_DIALECT_JAVA) {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, source, "", 0, 0,
                                 "unknown %s %d in ksafe_config_options_t",
                                 bad_format ? "format" : "dialect",
                                 bad_format ? (int)options->format : (int)options->dialect);
                return false;
        }
        return true;
}

/* The config read from `data` (len bytes, NUL-terminated, consumed: the
 * config keeps it or it is freed). */
static ksafe_config_t *config_from(char *data, size_t len, const char *source,
                                   const ksafe_config_options_t *options, ksafe_error_t *err)
{
        ksafe_config_t *cfg = data ? calloc(1, sizeof(*cfg)) : NULL;
        if (cfg) {
                cfg->data = data;
                data = NULL;
                cfg->source = strdup(source);
        }
        if (!cfg || !cfg->source) {
                free(data);
                ksafe_config_destroy(cfg);
                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, source, "", 0, 0, "out of memory");
                return NULL;
        }
        cfg->len = len;
        cfg->dialect = options->dialect;
        cfg->newline = detect_newline(cfg->data, len);
        snprintf(cfg->indent, sizeof(cfg->indent), "  ");
        if (memchr(cfg->data, '\0', len)) {
                ksafe_error__set(err, KSAFE_ERROR_PARSE, source, "", 0, 0,
                                 "contains a NUL byte: not a text config");
                ksafe_config_destroy(cfg);
                return NULL;
        }
        cfg->format = options->format;
        if (cfg->format == KSAFE_FORMAT_AUTO)
                cfg->format = looks_like_json(source, cfg->data, len) ? KSAFE_FORMAT_JSON
                                                                      : KSAFE_FORMAT_PROPERTIES;
        bool ok = cfg->format == KSAFE_FORMAT_JSON
                          ? ksafe_config__read_json(cfg, options->json_pointer, err)
                          : ksafe_config__read_properties(cfg, err);
        if (!ok) {
                ksafe_config_destroy(cfg);
                return NULL;
        }
        cfg->file_count = cfg->count;
        return cfg;
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
        char *copy = malloc(len + 1);
        if (copy) {
                memcpy(copy, data, len);
                copy[len] = '\0';
        }
        return config_from(copy, len, source, options, err);
}

ksafe_config_t *ksafe_config_read_file(const char *path, const ksafe_config_options_t *options,
                                       ksafe_error_t *err)
{
        ksafe_error__clear(err);
        static const ksafe_config_options_t defaults = KSAFE_CONFIG_OPTIONS_INIT;
        if (!options)
                options = &defaults;
        if (!options_known(options, path, err))
                return NULL; /* before the file is opened */
        size_t len;
        char why[256];
        char *data = ksafe_file__read_regular(path, &len, NULL, why, sizeof(why));
        if (!data) {
                ksafe_error__set(err, KSAFE_ERROR_IO, path, "", 0, 0, "cannot read: %s", why);
                return NULL;
        }
        /* The file's buffer becomes the config's (NUL-terminated): no copy. */
        return config_from(data, len, path, options, err);
}

bool ksafe_config_set(ksafe_config_t *config, const char *name, const char *value,
                      const char *origin)
{
        int line = (int)(config->count - config->file_count) + 1;
        ksafe_entry_t *e =
                ksafe_config__add_entry(config, name, strlen(name), value, strlen(value), line, 1);
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
