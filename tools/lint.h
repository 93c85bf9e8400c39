/* ksafe-lint's parts: the options and inputs (ksafe-lint.c), the output
 * formats (lint-output.c, lint-output-xml.c, lint-output-gitlab.c: see
 * lint-output.h), the project config file (lint-config.c), suppressions
 * (lint-suppress.c) and what each rule is for (lint-rules.c). */
#ifndef KSAFE_LINT_H
#define KSAFE_LINT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "ksafe.h"

/** Exit codes, as documented in --help, the README and ksafe-lint.1. */
enum lint_exit {
        LINT_EXIT_CLEAN = 0,    /* no findings, or warnings only */
        LINT_EXIT_FINDINGS = 1, /* at least one error (warnings too with -W error) */
        LINT_EXIT_USAGE = 2,    /* bad usage, unreadable input or a bad policy */
};

typedef enum lint_format_e {
        LINT_FORMAT_TEXT,
        LINT_FORMAT_JSON,
        LINT_FORMAT_SARIF,
        LINT_FORMAT_GITHUB,
        LINT_FORMAT_JUNIT,
        LINT_FORMAT_GITLAB,        /* GitLab Code Quality JSON */
        LINT_FORMAT_CHECKSTYLE,    /* Checkstyle XML */
        LINT_FORMAT_GITHUB_GROUPS, /* github, each input in a ::group:: (auto) */
        LINT_FORMAT_COUNT,
} lint_format_t;

/** The names -f takes, as --help and its error list them. */
#define LINT_FORMAT_NAMES "text, json, sarif, github, junit, gitlab, checkstyle or auto"

/** The format named `name` into *format: "auto" is GitHub workflow
 *  commands in groups when $GITHUB_ACTIONS is "true", else text. false
 *  when no format has that name. */
bool lint_format_parse(const char *name, lint_format_t *format);

/** Why a finding is not reported: a directive in the file ("inSource", as
 *  SARIF calls it) or --ignore / the project config's "ignore" ("external"). */
typedef struct lint_suppression_s {
        const ksafe_violation_t *finding; /* in the result's report or extra */
        bool external;
        char *justification; /* the directive's reason (escaped), or NULL */
} lint_suppression_t;

/** One input and what judging it found. */
typedef struct lint_result_s {
        char *name;             /* as given, or found in a directory */
        char *display;          /* the name as every output shows it
                                 * (ksafe_report_escape()), NULL if out of memory */
        ksafe_report_t *report; /* NULL when the input could not be read */
        char *error;            /* why it could not be read (escaped), or NULL */
        char *text;             /* a piped input's bytes (standard input, a named
                                 * pipe), kept for SARIF's UTF-16 columns; NULL
                                 * for files (SARIF reads them again) */
        size_t text_len;
        /* --fix: `report` judges the file as --fix wrote it (its lines are
         * the new file's), `enforced` is the repair's report, and `findings`
         * lists what the repair changed (from `enforced`) and what `report`
         * has, by line. NULL and 0 otherwise: the findings are `report`'s. */
        ksafe_report_t *enforced;
        const ksafe_violation_t **findings;
        size_t finding_count;
        /* Findings about the file's own ksafe-lint directives (a reason
         * missing, an unknown rule, a baseline rule the policy keeps),
         * after the report's: lint_result_count() and lint_result_get()
         * list both. */
        ksafe_violation_t *extra;
        size_t extra_count;
        lint_suppression_t *suppressed; /* findings not reported, and why */
        size_t suppressed_count;
        /* `suppressed` by finding (an open-addressing table of index + 1,
         * 0 empty; `suppressed_slots` a power of 2): lint_suppression_of()
         * looks a finding up without walking the list. */
        size_t *suppressed_index;
        size_t suppressed_slots;
        /* Another input of the run names the same file (lint_named_again()):
         * SARIF and GitLab remember its results to drop the same ones made
         * again; an input alone forgets them once written. */
        bool named_again;
} lint_result_t;

typedef struct lint_run_s {
        const ksafe_policy_t *policy;
        lint_format_t format;
        bool werror; /* warnings fail the run too (-W error,
                      * --fail-on warning) */
        bool color;  /* text: severities in colour (--color) */
        bool quiet;
        bool fix;
        const char *stdin_name; /* --stdin-filename: what standard input's findings
                                 * name, or NULL for "<stdin>" */
        const char *cwd;        /* absolute: where relative input names start
                                 * (NULL: "/") */
        const char *base_dir;   /* absolute, no trailing '/' (but "/"): SARIF's
                                 * %SRCROOT%, --base-dir or the current directory
                                 * (NULL: cwd) */
        bool effective;         /* --effective printed each input's text on stdout
                                 * as it was judged: text findings come after all
                                 * of it */
        /* lint_print() only: the results, in input order. ksafe-lint itself
         * streams them through a lint_writer_t, one at a time. */
        lint_result_t *results;
        size_t count;
} lint_run_t;

/** What a run's results add up to (lint_tally()): the exit status, the
 *  summary line and GitHub's notice. */
typedef struct lint_totals_s {
        size_t inputs, unreadable;
        size_t errors, warnings, fixed; /* not suppressed (-q or not) */
        size_t suppressed;
        bool failed; /* a finding fails the run (lint_is_failure()) */
} lint_totals_t;

/** Add what `r` found to *t. */
void lint_tally(const lint_run_t *run, const lint_result_t *r, lint_totals_t *t);

/** How many findings judging `r` made: the report's (with --fix: what it
 *  repaired and what is left, by line), then the findings about the file's
 *  directives. Suppressed ones included (lint_suppression_of()). */
size_t lint_result_count(const lint_result_t *r);

/** The i-th of them (i < lint_result_count()). */
const ksafe_violation_t *lint_result_get(const lint_result_t *r, size_t i);

/** Why `v` (one of the findings of `r`) is suppressed, or NULL when it is
 *  reported. Suppressed findings are never shown or failures; SARIF lists
 *  them with their "suppressions". Constant time: a lookup in `r` alone. */
const lint_suppression_t *lint_suppression_of(const lint_result_t *r, const ksafe_violation_t *v);

/** Suppress the findings of the rules `ignore` names (external). false
 *  when out of memory. */
bool lint_ignore(lint_result_t *r, const char *const *ignore, size_t count);

/** Apply the file's `ksafe-lint: disable=` directives (the library's
 *  reader found them in `cfg`): suppress what they name, and add findings
 *  for a directive without a reason, an unknown rule, or a baseline rule
 *  that the run's policy does not let weaken. false when out of memory. */
bool lint_apply_directives(const lint_run_t *run, lint_result_t *r, const ksafe_config_t *cfg);

/** Free what suppressing added to `r` (extra findings, suppressions). */
void lint_result_clear(lint_result_t *r);

/** The escape sequence that starts (`on`) or ends a severity's colour in
 *  text output; "" when the run has no colour. */
const char *lint_color(const lint_run_t *run, const ksafe_violation_t *v, bool on);

/** A stream whole (lint-read.c), at most KSAFE_CONFIG_MAX_SIZE bytes:
 *  malloc'd, its length in *lenp; NULL with errno set (EFBIG beyond the
 *  cap, after reading one byte more). */
char *lint_read_stream(FILE *in, size_t *lenp);

/** Does this finding of `r` fail the run (an error, or any finding with
 *  -W error; not when suppressed or fixed)? */
bool lint_is_failure(const lint_run_t *run, const lint_result_t *r, const ksafe_violation_t *v);

/** The output of a run in its format, written on stdout as the results
 *  come, in input order (lint-output.c). What a format needs of the whole
 *  run before its results (JUnit's totals, SARIF's rules) is kept as
 *  counts, and the results in a temporary file until the end: memory does
 *  not grow with the number of inputs. */
typedef struct lint_writer_s lint_writer_t;

/** Start the output of `run` (which must outlive the writer); NULL when
 *  out of memory (said on stderr). */
lint_writer_t *lint_writer_new(const lint_run_t *run);

/** Write what the next input's result shows; `r` may be freed once this
 *  returns. false when out of memory: the output is incomplete, and
 *  lint_writer_finish() fails. */
bool lint_writer_add(lint_writer_t *w, const lint_result_t *r);

/** Write the end of the output and free the writer (NULL: false). false
 *  when the output could not be made (out of memory, a temporary file
 *  that could not be written): said on stderr, the run then fails. */
bool lint_writer_finish(lint_writer_t *w);

/** Which of the `count` inputs name one file with another input, in
 *  again[i]: name_of(ctx, i) is the input's name as given ("-" standard
 *  input), the file its findings name in SARIF and GitLab (after ".", ".."
 *  and escaping). Only these two formats need it. false when out of
 *  memory (then every input is in again[]). */
bool lint_named_again(const lint_run_t *run, size_t count,
                      const char *(*name_of)(const void *ctx, size_t i), const void *ctx,
                      bool *again);

/** Print every result of run->results in the run's format to stdout (a
 *  writer fed with each). false as lint_writer_finish(). */
bool lint_print(const lint_run_t *run);

/*
 * Worker threads (lint-jobs.c): inputs judged in parallel, taken in input
 * order.
 */

/** One input judged: its result, the exit status judging it made, and
 *  (when judged on a worker) what judging said on stderr and on stdout. */
typedef struct lint_job_s {
        lint_result_t result;
        int status;
        char *said, *shown;
        size_t said_len, shown_len;
} lint_job_t;

/** The most workers --jobs takes. */
#define LINT_JOBS_MAX 16

/** Judge input `i` into `job`, saying what it says on `err` (stderr's
 *  place) and `out` (stdout's). Called on a worker thread: it must touch
 *  nothing shared but what is immutable while the jobs run. */
typedef void (*lint_judge_fn)(void *ctx, size_t i, lint_job_t *job, FILE *err, FILE *out);

/** Take the judged input `i` (write it, free it), on the calling thread,
 *  in input order, after what judging it said was printed. */
typedef void (*lint_take_fn)(void *ctx, size_t i, lint_job_t *job);

/** Judge inputs 0 to count - 1 on `workers` threads (1, or threads that
 *  cannot be started: on the calling thread, each in turn) and take each
 *  in input order. At most a few dozen results wait to be taken. */
void lint_jobs_run(size_t count, unsigned workers, lint_judge_fn judge, lint_take_fn take,
                   void *ctx);

/** The run could not start (a bad policy): a document of the format that
 *  says so, never 0 bytes: in SARIF, a log whose invocation failed with
 *  `text` as its notification; in JSON, the document with "error" set; in
 *  JUnit a case in error; in GitLab and Checkstyle an issue; in GitHub an
 *  ::error command; nothing in text (stderr has it). The error is at
 *  `source`:`line`:`column` when known (`source` may be NULL or ""; `line`
 *  0 when unknown). `text` and `source` are escaped here. false when out
 *  of memory. */
bool lint_print_failure(lint_format_t format, const char *text, const char *source, int line,
                        int column, const char *cwd, const char *base_dir);

/*
 * The project config file (lint-config.c)
 */
#define LINT_PROJECT_FILE ".ksafe-lint.json"

typedef struct lint_project_s {
        json_t *doc;        /* NULL: no project config */
        char *file;         /* as found or named */
        char dir[PATH_MAX]; /* its directory, absolute: where its paths start */
        const char *policy, *env, *dialect, *format, *fail_on; /* NULL when not given */
        const char **ignore, **include, **exclude;             /* borrowed from doc */
        size_t ignore_count, include_count, exclude_count;
        char *policy_path; /* lint_project_path()'s last answer */
} lint_project_t;

/** Read `named` (--config), or else .ksafe-lint.json in the current
 *  directory or the nearest one above it (none: *p stays empty). Errors
 *  (syntax, an unknown key, a wrong type: file and JSON path) are said on
 *  stderr: LINT_EXIT_USAGE; else LINT_EXIT_CLEAN. */
int lint_project_load(const char *named, lint_project_t *p);
void lint_project_free(lint_project_t *p);

/** `name` (a path in the project config) from the config's directory;
 *  absolute names and builtin:NAME as they are. Valid until the next call. */
const char *lint_project_path(lint_project_t *p, const char *name);

/** Does `relative` match one of the globs (`*`, `?`, `**`)? */
bool lint_project_matches(const char *const *globs, size_t count, const char *relative);

/** `absolute` relative to the config's directory, NULL when outside it. */
const char *lint_project_relative(const lint_project_t *p, const char *absolute);

/*
 * Rules (lint-rules.c): what each checks, why, how to fix it. One text for
 * --explain, --list-rules, doc/rules.md and SARIF's rule help.
 */
typedef enum lint_rule_kind_e {
        LINT_RULE_BASELINE, /* a rule of the embedded default policy */
        LINT_RULE_POLICY,   /* another rule of the policy */
        LINT_RULE_ENGINE,   /* a finding of the engine or of ksafe-lint (ksafe-*) */
} lint_rule_kind_t;

typedef struct lint_rule_s {
        char *id, *severity, *checks, *why, *fix; /* escaped, markdown inline */
        lint_rule_kind_t kind;
} lint_rule_t;

/** The policy's rules (the baseline's first) and the engine's; NULL when
 *  out of memory. lint_rules_free() the list. */
lint_rule_t *lint_rules_list(const ksafe_policy_t *policy, size_t *count);
void lint_rules_free(lint_rule_t *rules, size_t count);

/** The rule `id` of the policy or the engine into *out (lint_rule_free()
 *  it, found or not): 1 found, 0 no such rule, -1 out of memory. */
int lint_rule_find(const ksafe_policy_t *policy, const char *id, lint_rule_t *out);
void lint_rule_free(lint_rule_t *rule);

/** Is `id` a rule of the safety baseline (the embedded default policy)? */
bool lint_rule_is_baseline(const char *id);

/** The rule as text (--explain, --list-rules, SARIF help.text) and as a
 *  markdown section (doc/rules.md, SARIF help.markdown); malloc'd, NULL
 *  when out of memory. */
char *lint_rule_text(const lint_rule_t *rule);
char *lint_rule_markdown(const lint_rule_t *rule);

#endif /* KSAFE_LINT_H */
