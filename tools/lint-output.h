/* What ksafe-lint's output files share (lint-output.c: text, JSON, SARIF,
 * GitHub; lint-output-xml.c: JUnit, Checkstyle; lint-output-gitlab.c:
 * GitLab Code Quality). Not used outside them. */
#ifndef KSAFE_LINT_OUTPUT_H
#define KSAFE_LINT_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lint.h"

/* The finding of `r` is shown (-q shows failures only). */
bool shown(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v);

/* The file a finding names: its own, else the input's escaped name. */
const char *location_file(const lint_result_t *r, const ksafe_violation_t *v);

/*
 * A set of strings with a count each (lint-set.c): the keys in one arena,
 * no allocation per key.
 */
typedef struct lint_set_slot_s lint_set_slot_t;
typedef struct lint_set_s {
        lint_set_slot_t *table;
        size_t slots, used;
        char *arena;
        size_t arena_len, arena_cap;
} lint_set_t;

/* The count of `key` (len bytes), added with 0 when new; NULL when out of
 * memory. Valid until the next call. */
size_t *lint_set_count(lint_set_t *s, const char *key, size_t len);

/* Add the string `key`: 1 when new, 0 when it was there, -1 when out of
 * memory. */
int lint_set_add(lint_set_t *s, const char *key);
void lint_set_free(lint_set_t *s);

/* A temporary file (else memory) that holds a part of the output that
 * comes later than it is made. */
typedef struct spool_s {
        FILE *f;
        char *mem; /* open_memstream()'s, when no temporary file */
        size_t mem_len;
} spool_t;

bool spool_open(spool_t *s);
/* Copy what `s` holds to `out` and close it; false when it could not be
 * written or read back. */
bool spool_copy(spool_t *s, FILE *out);
void spool_close(spool_t *s);

/* A record kept for later, as one line of compact JSON (released); false
 * when out of memory or not written. */
bool spool_line(spool_t *s, json_t *record);

/* Each record spool_line() kept, in order, to fn(w, record), and the spool
 * closed; false when one could not be read back or fn said false. A spool
 * never opened holds none. */
bool spool_each_line(spool_t *s, lint_writer_t *w, bool (*fn)(lint_writer_t *w, json_t *record));

/* One element of a JSON array written as the document is (JSON_INDENT(2),
 * JSON_PRESERVE_ORDER), when the array's key is `indent` spaces in:
 * after "[" or ",", on a line of its own, its lines indented to its
 * depth. `item` is released; false when it is NULL (out of memory) or
 * cannot be dumped. *count counts the elements. */
bool json_stream_item(FILE *out, size_t *count, json_t *item, int indent);

/* The end of such an array ("[]" when it has no element). */
void json_stream_end(FILE *out, size_t count, int indent);

/* `doc` dumped as print_doc() would, split where the string "\x01" is a
 * value, `n` - 1 times: parts[0] what comes before the first, parts[1]
 * what comes after it (up to the next), ... (pointers into the malloc'd
 * dump, which is returned: free() it). `doc` is released; NULL when out of
 * memory or with fewer such values. */
char *json_split(json_t *doc, const char **parts, size_t n);

/* The value json_split() splits at. */
#define JSON_SPLIT_MARK "\x01"

/* The output of a run, as it is being written (lint-output.c keeps the
 * text, JSON, SARIF and GitHub formats' parts, lint-output-xml.c JUnit's
 * and Checkstyle's, lint-output-gitlab.c GitLab's). */
struct lint_writer_s {
        const lint_run_t *run;
        FILE *out;          /* where findings go: stdout, or `body` */
        spool_t body;       /* SARIF's results, JUnit's cases; text after --effective */
        bool failed;        /* something could not be made: never drop it silently */
        const char *format; /* its name, as an error names it */
        lint_set_t names;   /* the inputs listed so far, by escaped name */
        size_t items;       /* elements of the array being streamed */
        /* JSON: findings shown, by kind; JUnit: tests, failures, errors, skipped */
        size_t errors, warnings, fixed, tests, failures, skipped, inputs;
        size_t suppressed;       /* in every result, as lint_tally() */
        spool_t unreadable;      /* JSON, GitLab: the inputs that could not be read;
                                  * SARIF: their notifications (spool_line()) */
        size_t unreadable_count; /* JSON */
        json_t *rules;           /* SARIF: its rules; JUnit: the policy's rule ids */
        spool_t notes;           /* SARIF: the notifications, streamed */
        size_t note_count;
        bool any_unreadable;     /* SARIF */
        lint_set_t seen;         /* SARIF, GitLab: results made, by identity */
        lint_set_t fingerprints; /* SARIF, GitLab: how many results have each */
        lint_set_t outside;      /* SARIF: files outside the base, said once each */
        spool_t later;           /* SARIF: the suppressed findings, after the others */
};

/* Is `r` named as an input before it (same escaped name)? Its results
 * are the same, and the formats that list inputs show them once. Notes
 * its name. */
bool writer_repeated(lint_writer_t *w, const lint_result_t *r);

/* The formats of lint-output-xml.c and lint-output-gitlab.c: started,
 * one result, ended. */
bool junit_start(lint_writer_t *w);
bool junit_add(lint_writer_t *w, const lint_result_t *r);
bool junit_finish(lint_writer_t *w);
bool checkstyle_start(lint_writer_t *w);
bool checkstyle_add(lint_writer_t *w, const lint_result_t *r);
bool checkstyle_finish(lint_writer_t *w);
bool gitlab_start(lint_writer_t *w);
bool gitlab_add(lint_writer_t *w, const lint_result_t *r);
bool gitlab_finish(lint_writer_t *w);

/* The policy's name and environment (NULL without -e), escaped. */
typedef struct names_s {
        char *policy, *env;
} names_t;

names_t policy_names(const lint_run_t *run);
void names_free(names_t *n);

/* Print a whole JSON document and release it, or say why there is none
 * (doc NULL: out of memory) and return false. */
bool print_doc(json_t *doc, const char *format);

/* `name` as an absolute path without ".", ".." or "//", relative names
 * from `cwd`; malloc'd, NULL when out of memory. */
char *absolute_path(const char *cwd, const char *name);

/* `path` relative to `base` when under it, else absolute (*outside set);
 * malloc'd, NULL when out of memory. */
char *relative_path(const char *cwd, const char *base, const char *path, bool *outside);

/* FNV-1a of `s` and its NUL, continuing from `h`. */
uint64_t fnv1a(uint64_t h, const char *s);

/* The run's directories ("/" when not given). */
const char *run_cwd(const lint_run_t *run);
const char *run_base(const lint_run_t *run);

/* The security-severity of a rule of the safety baseline, NULL for any
 * other rule. */
const char *baseline_severity(const char *id);

/* The path an input or a finding names, as given (not escaped): the
 * input's own name, --stdin-filename (or "<stdin>") for standard input,
 * "<command line>" for -X. */
const char *finding_path(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v);

/* A finding's message as the text format shows it, with the fix when
 * there is one ("acks is 1; expected all (-1) (fix: acks=all)");
 * malloc'd, NULL when out of memory. */
char *finding_message(const lint_run_t *run, const ksafe_violation_t *v);

/* A run that could not start (a bad policy): `text` and `source` escaped,
 * `line` 0 when unknown, `path` the policy file's path relative to the
 * base ("" when the error is not in a file). */
typedef struct lint_failure_s {
        const char *text, *source, *path;
        int line, column;
} lint_failure_t;

bool print_junit_failure(const lint_failure_t *f);
bool print_checkstyle_failure(const lint_failure_t *f);
bool print_gitlab_failure(const lint_failure_t *f);

#endif /* KSAFE_LINT_OUTPUT_H */
