/*
 * What the coverage-guided fuzz targets share. Each target defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer
 * (-Dfuzzing=true, clang) or with replay_main.c, which runs saved inputs
 * through it in any build (the regression inputs of tests/fuzz/regress).
 *
 * A broken invariant aborts with a message: libFuzzer saves the input as a
 * crash, and a replay fails.
 */
#ifndef KSAFE_FUZZ_H
#define KSAFE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* true when the invariant `id` is listed in KSAFE_FUZZ_IGNORE (ids separated
 * by commas): a known finding, waived while it waits for its fix, so that a
 * long run can look for others. */
bool fuzz_ignored(const char *id);

/* Abort (a finding) when `cond` is false, unless the invariant is waived. */
#define FUZZ_REQUIRE(cond, id, what)                                                               \
        do {                                                                                       \
                if (!(cond) && !fuzz_ignored(id)) {                                                \
                        fprintf(stderr, "fuzz: invariant [%s] broken at %s:%d: %s\n", id,          \
                                __FILE__, __LINE__, what);                                         \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* Out of memory is not a finding: the library reports it with NULL. */
#define FUZZ_OOM_OK(ptr)                                                                           \
        do {                                                                                       \
                if (!(ptr))                                                                        \
                        return 0;                                                                  \
        } while (0)

/* A NUL-terminated copy of the input (for APIs that take C strings). */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (s) {
                if (size)
                        memcpy(s, data, size);
                s[size] = '\0';
        }
        return s;
}

/* The policies the config targets judge by: the built-in default, and the
 * example organisation policy for prod (reject and warn rules too). Loaded
 * once; a policy is immutable and never freed here. */
static inline const ksafe_policy_t *fuzz_policy(unsigned which)
{
        static ksafe_policy_t *policies[2];
        which %= 2;
        if (!policies[which]) {
                ksafe_error_t err = {0};
                policies[which] = which == 0 ? ksafe_policy_default()
                                             : ksafe_policy_load(FUZZ_SOURCE_ROOT
                                                                 "/conf/examples/org-policy.json",
                                                                 "prod", &err);
                if (!policies[which]) {
                        fprintf(stderr, "fuzz: cannot load the fuzz policy: %s\n", err.text);
                        abort();
                }
        }
        return policies[which];
}

/* A report renders as JSON that parses and as text with one line per
 * violation (a value cannot forge a line), plus the allow_unsafe note. */
void fuzz_check_report(const ksafe_report_t *report, const ksafe_policy_t *policy);

/* Read `data` as a config with `opts`, then judge, repair, render and read
 * the rendered text back, checking what must hold between the steps. */
void fuzz_config_roundtrip(const char *data, size_t len, const ksafe_config_options_t *opts,
                           const ksafe_policy_t *policy);

#endif /* KSAFE_FUZZ_H */
