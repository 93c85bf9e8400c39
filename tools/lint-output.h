/* What ksafe-lint's output files share (lint-output.c: text, JSON, SARIF,
 * GitHub; lint-output-xml.c: JUnit, Checkstyle; lint-output-gitlab.c:
 * GitLab Code Quality). Not used outside them. */
#ifndef KSAFE_LINT_OUTPUT_H
#define KSAFE_LINT_OUTPUT_H

#include <stdint.h>

#include <jansson.h>

#include "lint.h"

/* The finding is shown (-q shows failures only). */
bool shown(const lint_run_t *run, const ksafe_violation_t *v);

/* The file a finding names: its own, else the input's escaped name. */
const char *location_file(const lint_result_t *r, const ksafe_violation_t *v);

typedef void (*finding_fn)(const lint_run_t *run, const lint_result_t *r,
                           const ksafe_violation_t *v, void *ctx);

/* Call fn for every finding the run shows. */
void each_finding(const lint_run_t *run, finding_fn fn, void *ctx);

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

/* An earlier input of the run has the same escaped name: its results are
 * the same, and formats that list inputs show them once. */
bool is_repeated(const lint_run_t *run, size_t i);

/* A finding's message as the text format shows it, with the fix when
 * there is one ("acks is 1; expected all (-1) (fix: acks=all)");
 * malloc'd, NULL when out of memory. */
char *finding_message(const lint_run_t *run, const ksafe_violation_t *v);

/* The formats of lint-output-xml.c and lint-output-gitlab.c. */
bool print_junit(const lint_run_t *run);
bool print_checkstyle(const lint_run_t *run);
bool print_gitlab(const lint_run_t *run);

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
