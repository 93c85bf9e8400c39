/*
 * The documents of a policy load: the file loaded and every file its
 * "extends" chain names (builtin:default or a path), each parsed and its
 * structure checked, with its top level and environment sections.
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy_loader.h"

static void section_free(section_t *s)
{
        for (size_t i = 0; i < s->rule_count; i++) {
                ksafe_rule__free(&s->rules[i]);
                free(s->origins[i]);
        }
        free(s->rules);
        free(s->origins);
        free(s->path);
        *s = (section_t){0};
}

void ksafe_doc__free(doc_t *d)
{
        section_free(&d->top);
        for (size_t i = 0; i < d->env_count; i++)
                section_free(&d->envs[i]);
        free(d->envs);
        json_decref(d->env_index);
        json_decref(d->json);
        free(d->source);
        free(d->dir);
        *d = (doc_t){0};
}

/* Compile the "rules" of a section, once for every environment. */
static bool compile_section(loader_t *L, const doc_t *doc, section_t *sec)
{
        const json_t *rules = json_object_get(sec->json, "rules");
        sec->merges = rules || json_object_get(sec->json, "override");
        size_t n = json_array_size(rules);
        if (!n)
                return true;
        sec->rules = calloc(n, sizeof(*sec->rules));
        sec->origins = calloc(n, sizeof(*sec->origins));
        where_t sw = {.source = doc->source, .flat = sec->path};
        where_t rw = where_key(&sw, "rules");
        if (!sec->rules || !sec->origins)
                return ksafe_policy__fail(L, &rw, "out of memory");
        for (size_t i = 0; i < n; i++) {
                where_t w = where_index(&rw, i);
                if (!ksafe_rule__compile(L, &w, json_array_get(rules, i), L->props, &sec->rules[i]))
                        return false;
                sec->origins[i] = ksafe_where__path(&w);
                sec->rule_count++;
                if (!sec->origins[i])
                        return ksafe_policy__fail(L, &w, "out of memory");
        }
        return true;
}

bool ksafe_doc__compile(loader_t *L, doc_t *doc)
{
        if (!compile_section(L, doc, &doc->top))
                return false;
        for (size_t i = 0; i < doc->env_count; i++)
                if (!compile_section(L, doc, &doc->envs[i]))
                        return false;
        return true;
}

/* Parse a document and check its structure; `doc` takes `source` and
 * `dir` (NULL allowed for dir). */
bool ksafe_doc__open(loader_t *L, doc_t *doc, const char *text, const char *source,
                     const char *dir)
{
        doc->source = strdup(source);
        doc->dir = ksafe__strdup(dir);
        doc->env_index = json_object();
        where_t top = {.source = source};
        if (!doc->source || (dir && !doc->dir) || !doc->env_index)
                return ksafe_policy__fail(L, &top, "out of memory");
        json_error_t jerr;
        if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
                text += 3; /* a UTF-8 BOM, as some editors write */
        doc->json = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
        if (!doc->json) {
                ksafe_error__set(L->err, KSAFE_ERROR_PARSE, source, "", jerr.line, jerr.column, "%s",
                                ksafe_error__json_text(&jerr));
                return false;
        }
        if (!ksafe_policy__check_structure(L, &top, doc->json))
                return false;
        doc->top.json = doc->json;
        if (!(doc->top.path = strdup("")))
                return ksafe_policy__fail(L, &top, "out of memory");
        const json_t *envs = json_object_get(doc->json, "environments");
        size_t n = json_object_size(envs);
        if (n && !(doc->envs = calloc(n, sizeof(*doc->envs))))
                return ksafe_policy__fail(L, &top, "out of memory");
        const char *name;
        json_t *env;
        json_object_foreach((json_t *)envs, name, env) {
                section_t *sec = &doc->envs[doc->env_count];
                ksafe_buf_t path = {0};
                ksafe_buf__printf(&path, "environments.%s", name);
                sec->json = env;
                sec->name = name;
                sec->path = ksafe_buf__take(&path);
                json_t *index = json_integer((json_int_t)doc->env_count);
                if (!sec->path || json_object_set_new(doc->env_index, name, index))
                        return ksafe_policy__fail(L, &top, "out of memory");
                doc->env_count++;
        }
        return true;
}

const section_t *ksafe_doc__env(const doc_t *doc, const char *env)
{
        const json_t *at = env ? json_object_get(doc->env_index, env) : NULL;
        return at ? &doc->envs[json_integer_value(at)] : NULL;
}

/*
 * Read the file that "extends" names. A relative path is taken from the
 * folder of the real file that names it (symlinks resolved), so that a
 * file gives one answer whatever name it was reached by; a cycle is found
 * by file identity (device and inode), not by name.
 */
bool ksafe_doc__load_chain(loader_t *L, const char *text, const char *source, const char *dir,
                       const ksafe_file_id_t *id)
{
        char *owned = NULL;
        bool ok = false;
        ksafe_file_id_t next_id;
        for (;;) {
                doc_t *doc = &L->chain[L->depth++];
                if (id) {
                        doc->id = *id;
                        doc->is_file = true;
                }
                if (!ksafe_doc__open(L, doc, text, source, dir))
                        break;
                free(owned);
                owned = NULL;
                const json_t *v = json_object_get(doc->json, "extends");
                if (!v) {
                        ok = true;
                        break;
                }
                where_t top = {.source = doc->source};
                where_t w = where_key(&top, "extends");
                const char *target = json_string_value(v);
                if (strcmp(target, BUILTIN_DEFAULT) == 0) {
                        text = ksafe_policy__default_json;
                        source = BUILTIN_DEFAULT;
                        dir = NULL;
                        id = NULL;
                } else if (strncmp(target, "builtin:", 8) == 0) {
                        ksafe_policy__fail(L, &w, "unknown built-in policy \"%s\" (known: %s)", target,
                             BUILTIN_DEFAULT);
                        break;
                } else {
                        ksafe_buf_t pbuf = {0};
                        if (target[0] == '/' || !doc->dir)
                                ksafe_buf__printf(&pbuf, "%s", target);
                        else
                                ksafe_buf__printf(&pbuf, "%s/%s", doc->dir, target);
                        char *path = ksafe_buf__take(&pbuf); /* kept for the load */
                        if (!ksafe_scratch__keep_string(&L->scratch, path)) {
                                ksafe_policy__fail(L, &w, "out of memory");
                                break;
                        }
                        char why[256];
                        size_t len;
                        ksafe_file_id_t fid;
                        owned = ksafe_file__read_regular(path, &len, &fid, why, sizeof(why));
                        if (!owned) {
                                ksafe_policy__fail_as(L, KSAFE_ERROR_IO, &w, "cannot read \"%s\": %s", path, why);
                                break;
                        }
                        if (strlen(owned) != len) {
                                ksafe_policy__fail_as(L, KSAFE_ERROR_PARSE, &w, "\"%s\" contains a NUL byte", path);
                                break;
                        }
                        bool cycle = false;
                        for (size_t i = 0; i < L->depth; i++)
                                cycle |= L->chain[i].is_file && L->chain[i].id.dev == fid.dev &&
                                         L->chain[i].id.ino == fid.ino;
                        where_t ptop = {.source = path};
                        if (cycle) {
                                ksafe_policy__fail(L, &ptop, "\"extends\" cycle: %s extends itself", path);
                                break;
                        }
                        char real[PATH_MAX];
                        char *dcopy = strdup(realpath(path, real) ? real : path);
                        if (!dcopy || !ksafe_scratch__keep_string(&L->scratch, dcopy)) {
                                ksafe_policy__fail(L, &w, "out of memory");
                                break;
                        }
                        text = owned;
                        source = path;
                        dir = dirname(dcopy);
                        next_id = fid;
                        id = &next_id;
                }
                if (L->depth == MAX_EXTENDS_DEPTH) {
                        where_t ptop = {.source = source};
                        ksafe_policy__fail(L, &ptop, "\"extends\" nested deeper than %d", MAX_EXTENDS_DEPTH);
                        break;
                }
        }
        free(owned);
        return ok;
}
