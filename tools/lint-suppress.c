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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint.h"

/* The slot of finding `v` in r->suppressed_index: its own, or the empty
 * one where it would go. The table is never full (at most half). */
static size_t index_slot(const lint_result_t *r, const ksafe_violation_t *v)
{
        size_t mask = r->suppressed_slots - 1;
        /* Fibonacci hashing of the address; findings are at least 8 apart. */
        size_t i = (size_t)(((uint64_t)(uintptr_t)v * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
        while (r->suppressed_index[i] && r->suppressed[r->suppressed_index[i] - 1].finding != v)
                i = (i + 1) & mask;
        return i;
}

const lint_suppression_t *lint_suppression_of(const lint_result_t *r, const ksafe_violation_t *v)
{
        if (!r->suppressed_count)
                return NULL;
        size_t at = r->suppressed_index[index_slot(r, v)];
        return at ? &r->suppressed[at - 1] : NULL;
}

/* Room for one more suppression: the list holds half as many as the
 * index has slots; both twice as large when full. false when out of
 * memory. */
static bool index_grow(lint_result_t *r)
{
        if (2 * (r->suppressed_count + 1) <= r->suppressed_slots)
                return true;
        size_t slots = r->suppressed_slots ? 2 * r->suppressed_slots : 16;
        lint_suppression_t *more = realloc(r->suppressed, slots / 2 * sizeof(*more));
        if (!more)
                return false;
        r->suppressed = more;
        size_t *index = calloc(slots, sizeof(*index));
        if (!index)
                return false;
        free(r->suppressed_index);
        r->suppressed_index = index;
        r->suppressed_slots = slots;
        for (size_t k = 0; k < r->suppressed_count; k++)
                index[index_slot(r, r->suppressed[k].finding)] = k + 1;
        return true;
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
        if (lint_suppression_of(r, v))
                return true; /* once, by what came first */
        if (!index_grow(r))
                return false;
        char *why = justification ? strdup(justification) : NULL;
        if (justification && !why)
                return false;
        r->suppressed[r->suppressed_count++] = (lint_suppression_t){v, external, why};
        r->suppressed_index[index_slot(r, v)] = r->suppressed_count;
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
        free(r->suppressed_index);
        r->extra = NULL;
        r->suppressed = NULL;
        r->suppressed_index = NULL;
        r->extra_count = r->suppressed_count = r->suppressed_slots = 0;
}

/* The findings on `line` (0: any line) of rule `id`, suppressed: the
 * report's (with --fix, the report of the file as written, whose lines the
 * directives name; what --fix repaired is listed as fixed whatever the
 * suppressions say) and those about directives. */
static bool suppress_rule(lint_result_t *r, const char *id, int line, bool external,
                          const char *reason)
{
        size_t in_report = ksafe_report_count(r->report);
        for (size_t k = 0; k < in_report + r->extra_count; k++) {
                const ksafe_violation_t *v =
                        k < in_report ? ksafe_report_get(r->report, k) : &r->extra[k - in_report];
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

/* A finding about a directive, after the report's findings. */
static bool add_extra(lint_result_t *r, const char *rule, ksafe_severity_t severity, int line,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static bool add_extra(lint_result_t *r, const char *rule, ksafe_severity_t severity, int line,
                      const char *fmt, ...)
{
        char message[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        ksafe_violation_t *more = realloc(r->extra, (r->extra_count + 1) * sizeof(*more));
        if (!more)
                return false;
        r->extra = more;
        more[r->extra_count] = (ksafe_violation_t){
                .rule_id = strdup(rule),
                .message = strdup(message),
                .file = r->display ? strdup(r->display) : NULL,
                .line = line > 0 ? line : 1,
                .column = 1,
                .action =
                        severity == KSAFE_SEVERITY_ERROR ? KSAFE_ACTION_REJECT : KSAFE_ACTION_WARN,
                .severity = severity,
        };
        ksafe_violation_t *v = &more[r->extra_count++];
        return v->rule_id && v->message && (v->file || !r->display);
}

/* One rule of a directive: suppressed, or a finding why not. */
static bool apply_rule(const lint_run_t *run, lint_result_t *r, const ksafe_directive_t *d,
                       const char *id)
{
        lint_rule_t rule;
        int known = lint_rule_find(run->policy, id, &rule);
        if (known < 0)
                return false;
        lint_rule_free(&rule);
        char *shown = ksafe_report_escape(id);
        bool ok = shown != NULL;
        if (ok && !known)
                ok = add_extra(r, "ksafe-suppression-unknown-rule", KSAFE_SEVERITY_WARNING, d->line,
                               "the directive names %s, a rule that neither the policy nor "
                               "ksafe-lint has: it suppresses nothing",
                               shown);
        else if (ok && strncmp(id, "ksafe-suppression-", 18) == 0)
                ok = add_extra(r, "ksafe-suppression-unknown-rule", KSAFE_SEVERITY_WARNING, d->line,
                               "%s cannot be suppressed: it is about the directives", shown);
        else if (ok && lint_rule_is_baseline(id) && !ksafe_policy_allows_unsafe(run->policy))
                ok = add_extra(r, "ksafe-suppression-refused", KSAFE_SEVERITY_ERROR, d->line,
                               "%s is a rule of the safety baseline: only a policy with "
                               "allow_unsafe may weaken it, not a comment in a config; its "
                               "findings stay",
                               shown);
        else if (ok)
                ok = suppress_rule(r, id, d->file_wide ? 0 : d->target_line, false, d->reason) &&
                     (d->file_wide || d->line == d->target_line ||
                      suppress_rule(r, id, d->line, false, d->reason));
        free(shown);
        return ok;
}

bool lint_apply_directives(const lint_run_t *run, lint_result_t *r, const ksafe_config_t *cfg)
{
        size_t n = ksafe_config_directive_count(cfg);
        for (size_t i = 0; i < n; i++) {
                const ksafe_directive_t *d = ksafe_config_directive_get(cfg, i);
                if (!d->rules) {
                        if (!add_extra(r, "ksafe-suppression-unknown-rule", KSAFE_SEVERITY_WARNING,
                                       d->line,
                                       "a ksafe-lint comment that is not a directive: write "
                                       "'ksafe-lint: disable=RULE[,RULE] -- reason'"))
                                return false;
                        continue;
                }
                if (!d->reason &&
                    !add_extra(r, "ksafe-suppression-reason", KSAFE_SEVERITY_WARNING, d->line,
                               "a suppression without a reason: add ' -- ' and "
                               "why the finding does not apply here"))
                        return false;
                char id[256];
                for (const char *p = d->rules; *p;) {
                        p += strspn(p, " \t,");
                        size_t len = strcspn(p, " \t,");
                        if (len == 0)
                                break;
                        snprintf(id, sizeof(id), "%.*s", (int)len, p);
                        p += len;
                        if (!apply_rule(run, r, d, id))
                                return false;
                }
        }
        return true;
}
