/* ksafe-lint's parts: the options and inputs (ksafe-lint.c) and the output
 * formats (lint-output.c). */
#ifndef KSAFE_LINT_H
#define KSAFE_LINT_H

#include <stdbool.h>
#include <stddef.h>

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
} lint_result_t;

/** How many findings `r` has (with --fix: what it repaired and what is left). */
size_t lint_result_count(const lint_result_t *r);

/** The i-th of them (i < lint_result_count()). */
const ksafe_violation_t *lint_result_get(const lint_result_t *r, size_t i);

typedef struct lint_run_s {
        const ksafe_policy_t *policy;
        lint_format_t format;
        bool werror;
        bool quiet;
        bool fix;
        const char *stdin_name; /* --stdin-filename: what standard input's findings
                                 * name, or NULL for "<stdin>" */
        const char *cwd;        /* absolute: where relative input names start
                                 * (NULL: "/") */
        const char *base_dir;   /* absolute, no trailing '/' (but "/"): SARIF's
                                 * %SRCROOT%, --base-dir or the current directory
                                 * (NULL: cwd) */
        lint_result_t *results;
        size_t count;
} lint_run_t;

/** Does this finding fail the run (an error, or any finding with -W error)? */
bool lint_is_failure(const lint_run_t *run, const ksafe_violation_t *v);

/** Print every result in the run's format to stdout. false when the
 *  output could not be made (out of memory): the run then fails. */
bool lint_print(const lint_run_t *run);

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

#endif /* KSAFE_LINT_H */
