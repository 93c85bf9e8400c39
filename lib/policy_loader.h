/*
 * The policy loader's own declarations, shared by its files only
 * (policy*.c, baseline.c): nothing here is seen by the rest of lib/.
 *
 * A load runs in phases (policy.c drives them):
 *  1. structure (policy_fields.c), of every file of the "extends" chain
 *     (policy_extends.c);
 *  2. rules: each rule object compiled once (policy_rule.c);
 *  3. resolution: sections merged into rule lists (policy_merge.c), each
 *     list checked as a whole (policy_conflicts.c, baseline.c).
 * Errors name a source and a JSON path (policy_where.c).
 */
#ifndef KSAFE_POLICY_LOADER_H
#define KSAFE_POLICY_LOADER_H

#include <math.h>
#include <stddef.h>

#include <jansson.h>

#include "ksafe_int.h"

#define BUILTIN_DEFAULT "builtin:default"
#define MAX_EXTENDS_DEPTH 16

/*
 * Where an error is: a source and a JSON path, built on the way down as a
 * chain of members and indexes and written out only when needed, so that
 * no path is ever cut short on the way.
 */
typedef struct where_s {
        const char *source;
        const struct where_s *up; /* NULL: the top of the document, or `flat` */
        const char *key;          /* a member name, or NULL for [index] */
        size_t index;
        const char *flat; /* a whole path written out (where a rule came from) */
} where_t;

static inline where_t where_key(const where_t *up, const char *key)
{
        return (where_t){.source = up->source, .up = up, .key = key};
}

static inline where_t where_index(const where_t *up, size_t index)
{
        return (where_t){.source = up->source, .up = up, .index = index};
}


typedef struct loader_s loader_t;

/* policy_where.c */
/** Set the loader's error at `w`; always false, so that a check can
 *  `return ksafe_policy__fail(...)`. */
bool ksafe_policy__fail(loader_t *L, const where_t *w, const char *fmt, ...) KSAFE_PRINTF(3, 4);
/** The same with the kind of error given (ksafe_policy__fail says KSAFE_ERROR_POLICY). */
bool ksafe_policy__fail_as(loader_t *L, ksafe_error_code_t code, const where_t *w, const char *fmt,
                           ...) KSAFE_PRINTF(4, 5);
/** The path of `w` (free() it), or NULL when out of memory. */
char *ksafe_where__path(const where_t *w);

/* policy_fields.c: phase 1 */
bool ksafe_policy__parse_action(const char *s, ksafe_action_t *out);
/** Check a whole document's fields and types (every environment too). */
bool ksafe_policy__check_structure(loader_t *L, const where_t *top, const json_t *doc);

/* policy_rule.c: phase 2 */
/** Compile one rule object (structure already checked) into *r; on error
 *  the path names the bad field and *r is empty. */
bool ksafe_rule__compile(loader_t *L, const where_t *w, const json_t *obj,
                         const ksafe_props_t *props, ksafe_rule_t *r);
void ksafe_rule__free(ksafe_rule_t *r);
/** A deep copy of `r` into `out`; false (out empty) when out of memory. */
bool ksafe_rule__dup(const ksafe_rule_t *r, ksafe_rule_t *out);
/** Whether some value of `p` lies in [lo, hi] as the engine compares numbers. */
bool ksafe_prop__range_meets(const ksafe_prop_t *p, double lo, double hi);


/* A file's top level, or one of its environment sections, with its rules
 * compiled once. */
typedef struct section_s {
        const json_t *json;
        const char *name;     /* the environment's name (in the JSON), or NULL */
        char *path;           /* "" or "environments.NAME" */
        ksafe_rule_t *rules;  /* its "rules", compiled, in order */
        char **origins;       /* the JSON path of each */
        size_t rule_count;
        bool merges;          /* has rules or an override */
} section_t;

typedef struct doc_s {
        json_t *json;
        char *source;        /* as named: in errors */
        char *dir;           /* where its relative "extends" resolve, or NULL */
        ksafe_file_id_t id;  /* which file it is, whatever it was called */
        bool is_file;
        section_t top;
        section_t *envs;     /* in document order */
        size_t env_count;
        json_t *env_index;   /* environment name -> index in envs */
} doc_t;

/* Things made while resolving one environment, freed together. */
typedef struct scratch_s {
        ksafe_rule_t **rules;
        size_t rule_count, rule_cap;
        char **strings;
        size_t string_count, string_cap;
        json_t *objects; /* an array */
} scratch_t;

struct loader_s {
        ksafe_props_t *props;
        ksafe_error_t *err;
        doc_t chain[MAX_EXTENDS_DEPTH + 1]; /* [0] the file loaded, then its parents */
        size_t depth;
        doc_t baseline;     /* the built-in default, for the baseline checks */
        json_t *env_names;  /* every environment name, root first (an object) */
        scratch_t scratch;
};

/* policy_extends.c: the documents of an "extends" chain */
/** Parse a document and check its structure; `doc` copies `source` and
 *  `dir` (NULL allowed for dir). */
bool ksafe_doc__open(loader_t *L, doc_t *doc, const char *text, const char *source,
                     const char *dir);
/** Compile the rules of every section of `doc`. */
bool ksafe_doc__compile(loader_t *L, doc_t *doc);
/** The section of environment `env` in `doc`, or NULL. */
const section_t *ksafe_doc__env(const doc_t *doc, const char *env);
void ksafe_doc__free(doc_t *d);
/** Open the document `text` and every file its "extends" names into L->chain. */
bool ksafe_doc__load_chain(loader_t *L, const char *text, const char *source, const char *dir,
                           const ksafe_file_id_t *id);

/* policy.c: things made during one load, freed together */
bool ksafe_scratch__keep_string(scratch_t *s, char *str);
ksafe_rule_t *ksafe_scratch__new_rule(scratch_t *s);
void ksafe_scratch__release(scratch_t *s, size_t rules_mark, size_t strings_mark,
                            size_t objects_mark);

typedef struct slot_s {
        const char *id;
        json_t *obj;              /* the rule as merged so far (borrowed) */
        const ksafe_rule_t *rule; /* obj, compiled (borrowed) */
        const char *source;       /* where it was last written */
        const char *path;
        size_t written; /* when, in merge order: the latest is blamed */
        bool off;
} slot_t;

typedef struct state_s {
        slot_t *slots; /* in order; "off" ones stay as tombstones */
        size_t count, cap;
        size_t *table; /* open addressing: slot index + 1, 0 empty */
        size_t table_cap;
        size_t writes;
} state_t;

/* policy_merge.c: phase 3, sections merged into rule lists */
void ksafe_state__free(state_t *st);
bool ksafe_state__copy(state_t *dst, const state_t *src);
/** The live slot of rule `id`, or -1. */
ptrdiff_t ksafe_state__find(const state_t *st, const char *id);
/** Where slot s was last written, as a where_t. */
where_t ksafe_state__slot_where(const slot_t *s);
/** Merge a section's "rules" (added) and "override" into `st`. */
bool ksafe_merge__section(loader_t *L, state_t *st, const doc_t *doc, const section_t *sec);
/** The rule list of environment `env` from the shared prefixes. */
bool ksafe_merge__env(loader_t *L, const state_t *prefix, const char *env, state_t *out,
                      bool *own);

/* policy_conflicts.c, baseline.c: phase 3, a rule list checked as a whole */
/** Rules of one property that can never all pass, and enforce fixes that
 *  another rule refuses. */
bool ksafe_conflicts__check(loader_t *L, const state_t *st, const char *env);
/** The safety baseline may be made stricter; anything else needs allow_unsafe. */
bool ksafe_baseline__check(loader_t *L, const state_t *st, const state_t *base, const char *env);

/* policy_json.c */
char *ksafe_policy__render_json(const ksafe_policy_t *policy, const json_t *rules);

/* Without libm (which the library does not link): whole numbers of a double. */
static inline double whole_down(double x)
{
        if (!isfinite(x) || x >= 4503599627370496.0 || x <= -4503599627370496.0)
                return x; /* already whole */
        double t = (double)(long long)x;
        return t > x ? t - 1 : t;
}

static inline double whole_up(double x)
{
        double t = whole_down(x);
        return t < x ? t + 1 : t;
}

static inline double dmax(double a, double b)
{
        return a > b ? a : b;
}

static inline double dmin(double a, double b)
{
        return a < b ? a : b;
}

#endif /* KSAFE_POLICY_LOADER_H */

