/*
 * What loading a policy costs as its environments grow: the loader must be
 * linear in their number (each environment's section is merged and checked
 * once, rules are found by id through a hash table).
 *
 * Policies with 100, 1,000, 3,000 and 10,000 environments (each adds a rule
 * and overrides a baseline rule) are generated in memory and loaded; the
 * figure printed is the median of a few loads, and the time per
 * environment, which stays about flat when loading is linear.
 * Run: meson test -C build --benchmark --verbose policy
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ksafe.h"

#define ROUNDS 3

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* A policy with `envs` environments (free() it). */
static char *generate(int envs)
{
        size_t cap = 256 + (size_t)envs * 256, len = 0;
        char *s = malloc(cap);
        if (!s)
                return NULL;
        len += (size_t)snprintf(s + len, cap - len,
                                "{\"ksafe_policy\": 1, \"extends\": \"builtin:default\", "
                                "\"rules\": [{\"id\": \"cid\", \"property\": \"client.id\", "
                                "\"required\": true, \"action\": \"warn\"}], "
                                "\"environments\": {");
        for (int i = 0; i < envs; i++)
                len += (size_t)snprintf(s + len, cap - len,
                                        "%s\"env%d\": {\"rules\": [{\"id\": \"r%d\", "
                                        "\"property\": \"linger.ms\", \"max\": %d, "
                                        "\"action\": \"warn\"}], \"override\": "
                                        "{\"in-flight\": {\"max\": %d}}}",
                                        i ? ", " : "", i, i, 100 + i % 50, 1 + i % 5);
        snprintf(s + len, cap - len, "}}");
        return s;
}

int main(void)
{
        static const int sizes[] = {100, 1000, 3000, 10000};
        int status = 0;
        printf("%12s %12s %16s\n", "environments", "load (s)", "per env (us)");
        for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++) {
                char *text = generate(sizes[k]);
                double t[ROUNDS];
                for (int r = 0; text && r < ROUNDS; r++) {
                        ksafe_error_t err;
                        double start = now_s();
                        ksafe_policy_t *policy = ksafe_policy_load_string(text, "env5", &err);
                        t[r] = now_s() - start;
                        if (!policy) {
                                fprintf(stderr, "bench_policy: %s\n", err.text);
                                status = 1;
                        }
                        ksafe_policy_destroy(policy);
                }
                free(text);
                if (!text)
                        return 1;
                qsort(t, ROUNDS, sizeof(*t), cmp_double);
                printf("%12d %12.3f %16.1f\n", sizes[k], t[ROUNDS / 2],
                       t[ROUNDS / 2] * 1e6 / sizes[k]);
        }
        return status;
}
