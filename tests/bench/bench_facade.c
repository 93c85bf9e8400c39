/*
 * What ksafe_producer_new() costs next to a bare rd_kafka_new().
 *
 * Creation only is timed (rd_kafka_destroy() is not): both paths create a
 * producer from the same unsafe conf, and the figures printed are medians
 * over many rounds, so that one slow round on a shared machine does not
 * move them. Run: meson test -C build --benchmark --verbose
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ksafe.h"

#define ROUNDS 200

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return v[n / 2];
}

static rd_kafka_conf_t *unsafe_conf(void)
{
        static const char *const kv[][2] = {
                {"bootstrap.servers", "127.0.0.1:1"}, {"acks", "1"},
                {"max.in.flight", "100"},             {"delivery.timeout.ms", "0"},
                {"log_level", "0"},
        };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++)
                if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof(errstr))) {
                        fprintf(stderr, "bench: %s\n", errstr);
                        exit(1);
                }
        return conf;
}

int main(void)
{
        static double bare[ROUNDS], bare_safe[ROUNDS], safe[ROUNDS], enforce[ROUNDS],
                load[ROUNDS];
        char errstr[512];
        ksafe_policy_t *policy = ksafe_policy_default();
        if (!policy)
                return 1;

        for (int i = 0; i < ROUNDS; i++) {
                /* Alternate which path goes first, so neither always runs
                 * on a machine still busy with the other's threads. */
                for (int k = 0; k < 2; k++) {
                        bool use_ksafe = (i + k) % 2;
                        rd_kafka_conf_t *conf = unsafe_conf();
                        double t0 = now_us();
                        rd_kafka_t *rk =
                                use_ksafe ? ksafe_producer_new(conf, policy, NULL, errstr,
                                                               sizeof(errstr))
                                          : rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
                                                         sizeof(errstr));
                        (use_ksafe ? safe : bare)[i] = now_us() - t0;
                        if (!rk) {
                                fprintf(stderr, "bench: %s\n", errstr);
                                return 1;
                        }
                        rd_kafka_destroy(rk);
                }

                /* The same safe producer, made by hand: enforce, then a bare
                 * rd_kafka_new() of the enforced conf. */
                rd_kafka_conf_t *conf = unsafe_conf();
                double t0 = now_us();
                ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
                enforce[i] = now_us() - t0;
                ksafe_report_destroy(report);
                t0 = now_us();
                rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
                bare_safe[i] = now_us() - t0;
                if (!rk) {
                        fprintf(stderr, "bench: %s\n", errstr);
                        return 1;
                }
                rd_kafka_destroy(rk);

                t0 = now_us();
                ksafe_policy_t *p = ksafe_policy_default();
                load[i] = now_us() - t0;
                ksafe_policy_destroy(p);
        }
        double b = median(bare, ROUNDS), bs = median(bare_safe, ROUNDS);
        double s = median(safe, ROUNDS);
        printf("rd_kafka_new, unsafe conf as given     median %8.1f us\n", b);
        printf("rd_kafka_new, same conf made safe      median %8.1f us\n", bs);
        printf("ksafe_producer_new (enforce+new+audit) median %8.1f us  (%+.1f%% vs the "
               "safe bare, %+.1f%% vs the unsafe bare)\n",
               s, (s - bs) / bs * 100.0, (s - b) / b * 100.0);
        printf("ksafe_conf_enforce alone               median %8.1f us\n",
               median(enforce, ROUNDS));
        printf("ksafe_policy_default (once a process)  median %8.1f us\n",
               median(load, ROUNDS));
        ksafe_policy_destroy(policy);
        return 0;
}
