/*
 * The policy loader: JSON (format version 1) to an immutable rule list.
 *
 * A load runs in phases, each over the whole input before the next starts,
 * so that an error of an earlier kind is never hidden by one of a later:
 *  1. structure: each file of the "extends" chain is read (regular files
 *     only) and parsed, and its whole document, every environment section
 *     included, is checked for unknown fields, wrong types and missing
 *     fields, in document order;
 *  2. rules: every rule object is compiled once (property names, values as
 *     librdkafka reads them, bounds, and what a rule alone can never mean);
 *  3. resolution: for no environment and for each environment named, the
 *     sections are merged in order (a parent before its child, a file's
 *     top level before its environment section) into a rule list indexed
 *     by id, and each list is checked as a whole: rules that can never all
 *     pass, an enforce fix that another rule refuses, the safety baseline.
 *     The chosen environment's list becomes the policy.
 * Sections are merged onto a shared prefix (everything before the first
 * section of that environment), so each environment costs its own sections
 * and one copy of the rule list: loading is linear in their number.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "policy_loader.h"

void ksafe_scratch__release(scratch_t *s, size_t rules_mark, size_t strings_mark,
                            size_t objects_mark)
{
        while (s->rule_count > rules_mark) {
                ksafe_rule_t *r = s->rules[--s->rule_count];
                ksafe_rule__free(r);
                free(r);
        }
        while (s->string_count > strings_mark)
                free(s->strings[--s->string_count]);
        while (json_array_size(s->objects) > objects_mark)
                json_array_remove(s->objects, json_array_size(s->objects) - 1);
}

bool ksafe_scratch__keep_string(scratch_t *s, char *str)
{
        if (!str)
                return false;
        if (!KSAFE_ARRAY_RESERVE(s->strings, s->string_count, s->string_cap)) {
                free(str);
                return false;
        }
        s->strings[s->string_count++] = str;
        return true;
}

ksafe_rule_t *ksafe_scratch__new_rule(scratch_t *s)
{
        if (!KSAFE_ARRAY_RESERVE(s->rules, s->rule_count, s->rule_cap))
                return NULL;
        ksafe_rule_t *r = calloc(1, sizeof(*r));
        if (r)
                s->rules[s->rule_count++] = r;
        return r;
}

/* The text of a policy and where it comes from. */
typedef struct policy_text_s {
        const char *text;
        const char *source;        /* a path, "<string>" or builtin:default */
        const char *dir;           /* where a relative "extends" resolves, or NULL */
        const ksafe_file_id_t *id; /* the file's identity, or NULL when not a file */
} policy_text_t;

static const policy_text_t builtin_default = {.source = BUILTIN_DEFAULT};

/* The rule lists of phase 3. prefix[k]: the tops of the k root-most files
 * of the chain, merged (shared by every environment). */
typedef struct lists_s {
        state_t prefix[MAX_EXTENDS_DEPTH + 2];
        state_t base;   /* the baseline's rules, when the policy is held to it */
        state_t chosen; /* the chosen environment's list */
        bool with_baseline;
} lists_t;

static bool nomem(loader_t *L)
{
        return ksafe_policy__fail(L, &(where_t){.source = L->chain[0].source}, "out of memory");
}

static bool loader_init(loader_t *L, const char *source, ksafe_error_t *err)
{
        *L = (loader_t){.err = err};
        L->props = ksafe_props__new();
        L->scratch.objects = json_array();
        L->env_names = json_object();
        if (L->props && L->scratch.objects && L->env_names)
                return true;
        ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, source, "", 0, 0, "out of memory");
        return false;
}

static void loader_free(loader_t *L)
{
        for (size_t d = 0; d < L->depth; d++)
                ksafe_doc__free(&L->chain[d]);
        ksafe_doc__free(&L->baseline);
        ksafe_scratch__release(&L->scratch, 0, 0, 0);
        free(L->scratch.rules);
        free(L->scratch.strings);
        json_decref(L->scratch.objects);
        json_decref(L->env_names);
        ksafe_props__destroy(L->props);
}

static bool unknown_env(loader_t *L, const char *env)
{
        ksafe_buf_t names = {0};
        const char *name;
        json_t *v;
        json_object_foreach (L->env_names, name, v) {
                ksafe_buf__printf(&names, "%s%s", names.len ? ", " : "", name);
        }
        char *s = ksafe_buf__take(&names);
        where_t w = {.source = L->chain[0].source};
        ksafe_policy__fail_as(L, KSAFE_ERROR_UNKNOWN_ENV, &w,
                              "unknown environment \"%s\" (known: %s)", env, s && *s ? s : "none");
        free(s);
        return false;
}

/* Phase 1: every file of the chain read and its structure checked; the
 * environment names collected, root first, and `env` among them. */
static bool load_structure(loader_t *L, const policy_text_t *in, const char *env)
{
        if (!ksafe_doc__load_chain(L, in->text, in->source, in->dir, in->id))
                return false;
        for (size_t d = L->depth; d-- > 0;)
                for (size_t i = 0; i < L->chain[d].env_count; i++)
                        if (json_object_set_new(L->env_names, L->chain[d].envs[i].name,
                                                json_true()))
                                return nomem(L);
        return !env || json_object_get(L->env_names, env) || unknown_env(L, env);
}

/* Phase 2: the rules of every file, parents first, and of the baseline
 * when the policy is held to it. */
static bool compile_rules(loader_t *L, lists_t *lists, bool is_builtin)
{
        for (size_t d = L->depth; d-- > 0;)
                if (!ksafe_doc__compile(L, &L->chain[d]))
                        return false;
        bool allow_unsafe = json_is_true(json_object_get(L->chain[0].json, "allow_unsafe"));
        lists->with_baseline = !is_builtin && !allow_unsafe;
        if (!lists->with_baseline)
                return true;
        return ksafe_doc__open(L, &L->baseline, ksafe_policy__default_json, BUILTIN_DEFAULT,
                               NULL) &&
               ksafe_doc__compile(L, &L->baseline) &&
               ksafe_merge__section(L, &lists->base, &L->baseline, &L->baseline.top);
}

static bool check_list(loader_t *L, const lists_t *lists, const state_t *st, const char *env)
{
        if (lists->with_baseline && !ksafe_baseline__check(L, st, &lists->base, env))
                return false;
        return ksafe_conflicts__check(L, st, env);
}

/* The tops of the files, root first: prefix[k + 1] is prefix[k] and the
 * top of the k-th root-most file. */
static bool merge_prefixes(loader_t *L, lists_t *lists)
{
        size_t n = L->depth;
        for (size_t k = 0; k < n; k++) {
                const doc_t *doc = &L->chain[n - 1 - k];
                if (!ksafe_state__copy(&lists->prefix[k + 1], &lists->prefix[k]))
                        return nomem(L);
                if (!ksafe_merge__section(L, &lists->prefix[k + 1], doc, &doc->top))
                        return false;
        }
        return true;
}

/* Every environment other than `env` is resolved and checked too, so that
 * a policy is refused whichever environment it is loaded for. */
static bool check_other_envs(loader_t *L, const lists_t *lists, const char *env)
{
        size_t rules_mark = L->scratch.rule_count, strings_mark = L->scratch.string_count,
               objects_mark = json_array_size(L->scratch.objects);
        const char *name;
        json_t *v;
        json_object_foreach (L->env_names, name, v) {
                if (env && strcmp(name, env) == 0)
                        continue;
                state_t st = {0};
                bool own = false;
                bool ok = ksafe_merge__env(L, lists->prefix, name, &st, &own) &&
                          (!own || check_list(L, lists, &st, name));
                ksafe_state__free(&st);
                ksafe_scratch__release(&L->scratch, rules_mark, strings_mark, objects_mark);
                if (!ok)
                        return false;
        }
        return true;
}

/* Phase 3: the rule lists, the chosen environment's first (so that its
 * errors come first), then no environment's, then every other's. */
static bool resolve_lists(loader_t *L, lists_t *lists, const char *env, bool is_builtin)
{
        bool own = false;
        if (!merge_prefixes(L, lists))
                return false;
        if (env && !(ksafe_merge__env(L, lists->prefix, env, &lists->chosen, &own) &&
                     check_list(L, lists, &lists->chosen, env)))
                return false;
        if (!check_list(L, lists, &lists->prefix[L->depth], NULL))
                return false;
        return is_builtin || check_other_envs(L, lists, env);
}

/* The policy from rule list `st` (rules copied); it takes L->props. */
static ksafe_policy_t *build_policy(loader_t *L, const state_t *st, const char *env)
{
        ksafe_policy_t *policy = calloc(1, sizeof(*policy));
        json_t *objs = json_array();
        if (!policy || !objs)
                goto nomem;
        const json_t *name = json_object_get(L->chain[0].json, "name");
        policy->name = strdup(name ? json_string_value(name) : L->chain[0].source);
        policy->env = ksafe__strdup(env);
        policy->allow_unsafe = json_is_true(json_object_get(L->chain[0].json, "allow_unsafe"));
        policy->rules = calloc(st->count + 1, sizeof(*policy->rules));
        if (!policy->name || (env && !policy->env) || !policy->rules)
                goto nomem;
        for (size_t i = 0; i < st->count; i++) {
                if (st->slots[i].off)
                        continue;
                if (!ksafe_rule__dup(st->slots[i].rule, &policy->rules[policy->rule_count]) ||
                    json_array_append(objs, st->slots[i].obj))
                        goto nomem;
                policy->rule_count++;
        }
        policy->rules_json = json_incref(objs);
        /* The files it was read from, for the cache of KSAFE_POLICY's. */
        if (!(policy->files = calloc(L->depth + 1, sizeof(*policy->files))))
                goto nomem;
        for (size_t d = 0; d < L->depth; d++) {
                if (!L->chain[d].is_file)
                        continue;
                ksafe_policy_file_t *f = &policy->files[policy->file_count];
                if (!(f->path = strdup(L->chain[d].source)))
                        goto nomem;
                f->id = L->chain[d].id;
                policy->file_count++;
        }
        json_decref(objs);
        policy->props = L->props;
        L->props = NULL;
        return policy;
nomem:
        json_decref(objs);
        ksafe_policy_destroy(policy);
        nomem(L);
        return NULL;
}

static void lists_free(lists_t *lists)
{
        for (size_t k = 0; k < sizeof(lists->prefix) / sizeof(*lists->prefix); k++)
                ksafe_state__free(&lists->prefix[k]);
        ksafe_state__free(&lists->base);
        ksafe_state__free(&lists->chosen);
}

/* Load the policy `in` for `env` (NULL or "": none). Every environment the
 * policy names is resolved and checked too (and no environment), not only
 * `env`. The policy owns a property table of its own. */
static ksafe_policy_t *resolve(const policy_text_t *in, const char *env, ksafe_error_t *err)
{
        env = env && *env ? env : NULL;
        bool is_builtin = strcmp(in->source, BUILTIN_DEFAULT) == 0;
        loader_t L;
        lists_t lists = {0};
        ksafe_policy_t *policy = NULL;
        if (loader_init(&L, in->source, err) && load_structure(&L, in, env) &&
            compile_rules(&L, &lists, is_builtin) && resolve_lists(&L, &lists, env, is_builtin))
                policy = build_policy(&L, env ? &lists.chosen : &lists.prefix[L.depth], env);
        lists_free(&lists);
        loader_free(&L);
        return policy;
}

static ksafe_policy_t *resolve_builtin(const char *env, ksafe_error_t *err)
{
        policy_text_t in = builtin_default;
        in.text = ksafe_policy__default_json;
        return resolve(&in, env, err);
}

ksafe_policy_t *ksafe_policy_default(void)
{
        return resolve_builtin(NULL, NULL);
}

ksafe_policy_t *ksafe_policy_load_string(const char *json, const char *env, ksafe_error_t *err)
{
        ksafe_error__clear(err);
        if (!json) {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, "<string>", "", 0, 0,
                                 "no policy text given");
                return NULL;
        }
        return resolve(&(policy_text_t){.text = json, .source = "<string>"}, env, err);
}

/* A policy file: read (regular files only), and "extends" taken relative
 * to the real file, not to a symlink to it. */
static ksafe_policy_t *load_file(const char *path, const char *env, ksafe_error_t *err)
{
        size_t len;
        char why[256];
        ksafe_file_id_t id;
        char *text = ksafe_file__read_regular(path, &len, &id, why, sizeof(why));
        if (!text) {
                ksafe_error__set(err, KSAFE_ERROR_IO, path, "", 0, 0, "cannot read policy: %s",
                                 why);
                return NULL;
        }
        ksafe_policy_t *policy = NULL;
        char real[PATH_MAX];
        char *dcopy = strdup(realpath(path, real) ? real : path);
        if (strlen(text) != len)
                ksafe_error__set(err, KSAFE_ERROR_PARSE, path, "", 0, 0,
                                 "contains a NUL byte: not a policy");
        else if (!dcopy)
                ksafe_error__set(err, KSAFE_ERROR_OUT_OF_MEMORY, path, "", 0, 0, "out of memory");
        else
                policy = resolve(
                        &(policy_text_t){
                                .text = text, .source = path, .dir = dirname(dcopy), .id = &id},
                        env, err);
        free(dcopy);
        free(text);
        return policy;
}

ksafe_policy_t *ksafe_policy_load(const char *path, const char *env, ksafe_error_t *err)
{
        ksafe_error__clear(err);
        if (!path) {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, "", "", 0, 0,
                                 "no policy path given");
                return NULL;
        }
        if (strcmp(path, BUILTIN_DEFAULT) == 0)
                return resolve_builtin(env, err);
        if (strncmp(path, "builtin:", 8) == 0) {
                ksafe_error__set(err, KSAFE_ERROR_INVALID_ARGUMENT, path, "", 0, 0,
                                 "unknown built-in policy \"%s\" (known: %s)", path,
                                 BUILTIN_DEFAULT);
                return NULL;
        }
        return load_file(path, env, err);
}

#ifndef KSAFE_SYSTEM_POLICY
#define KSAFE_SYSTEM_POLICY ""
#endif
const char *ksafe_policy__system_path = KSAFE_SYSTEM_POLICY;

bool ksafe_policy__system_present(void)
{
        /* Anything there counts, so that a file which cannot be used fails closed (a
         * dangling link, a directory, no permission) instead of falling back to the
         * default. */
        const char *system = ksafe_policy__system_path;
        struct stat st;
        return system && *system && (lstat(system, &st) == 0 || errno != ENOENT);
}

ksafe_policy_t *ksafe_policy_load_system(const char *env, ksafe_error_t *err)
{
        ksafe_error__clear(err);
        if (ksafe_policy__system_present())
                return ksafe_policy_load(ksafe_policy__system_path, env, err);
        return resolve_builtin(env, err);
}

ksafe_policy_t *ksafe_policy_from_env(ksafe_error_t *err)
{
        ksafe_error__clear(err);
        const char *path = getenv("KSAFE_POLICY");
        const char *env = getenv("KSAFE_ENV");
        if (path && *path)
                return ksafe_policy_load(path, env, err);
        return ksafe_policy_load_system(env, err);
}

void ksafe_policy_destroy(ksafe_policy_t *policy)
{
        if (!policy)
                return;
        for (size_t i = 0; i < policy->rule_count; i++)
                ksafe_rule__free(&policy->rules[i]);
        free(policy->rules);
        for (size_t i = 0; i < policy->file_count; i++)
                free(policy->files[i].path);
        free(policy->files);
        ksafe_props__destroy(policy->props);
        free(policy->name);
        free(policy->env);
        json_decref(policy->rules_json);
        free(policy);
}

const char *ksafe_policy_name(const ksafe_policy_t *policy)
{
        return policy->name;
}

const char *ksafe_policy_env(const ksafe_policy_t *policy)
{
        return policy->env;
}

bool ksafe_policy_allows_unsafe(const ksafe_policy_t *policy)
{
        return policy->allow_unsafe;
}
