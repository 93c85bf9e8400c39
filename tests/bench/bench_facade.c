/*
 * What the facade costs next to bare librdkafka (tools/bench drives it).
 *
 *   bench_facade create ROUNDS POLICY   interleaved rounds of: a bare
 *        rd_kafka_new() + destroy, ksafe_producer_new() with policy NULL
 *        (KSAFE_POLICY names POLICY), with that policy loaded once,
 *        ksafe_conf_enforce() alone, the policy loaded cold (a fresh
 *        ksafe_policy_load()) and cached (what policy NULL costs once the
 *        process has it); one "name median_us" line each
 *   bench_facade produce MESSAGES       produce throughput and delivery
 *        latency (p50, p99) on librdkafka's mock cluster: through the
 *        facade ("safe"), raw with the same safe settings ("raw-safe"), raw
 *        unsafe (acks=1, no idempotence), interleaved over 5 rounds
 *   bench_facade one MODE N POLICY      N operations of one MODE (bare,
 *        null, loaded, enforce, load): for callgrind, whose instruction
 *        counts do not depend on what else the machine runs
 *        (tests/bench/facade_callgrind.sh prints them per create, side by
 *        side)
 *
 * Each create round is created AND destroyed (what a program pays), from
 * the same conf; which path goes first alternates, so neither always runs
 * on a machine still busy with the other's threads.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ksafe.h"

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

static double quantile(double *v, size_t n, double q)
{
        qsort(v, n, sizeof(*v), cmp_double);
        size_t i = (size_t)(q * (double)(n - 1) + 0.5);
        return v[i < n ? i : n - 1];
}

static void die(const char *what, const char *why)
{
        fprintf(stderr, "bench_facade: %s: %s\n", what, why);
        exit(1);
}

/* The README's own snippet: a conf as an application writes it. */
static rd_kafka_conf_t *app_conf(void)
{
        static const char *const kv[][2] = {
                {"bootstrap.servers", "127.0.0.1:1"},
                {"client.id", "bench"},
                {"linger.ms", "5"},
                {"log_level", "0"},
        };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++)
                if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof(errstr)))
                        die("conf", errstr);
        return conf;
}

enum mode { BARE, NULLP, LOADED, ENFORCE, LOAD_COLD, MODES };
static const char *const mode_names[MODES] = {
        [BARE] = "bare",       [NULLP] = "null",     [LOADED] = "loaded",
        [ENFORCE] = "enforce", [LOAD_COLD] = "load",
};

/* One operation of `mode`; its time in microseconds. */
static double run_one(enum mode mode, const ksafe_policy_t *policy, const char *path)
{
        char errstr[512];
        rd_kafka_conf_t *conf = app_conf();
        rd_kafka_t *rk = NULL;
        double t0 = now_us();
        switch (mode) {
        case BARE: rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)); break;
        case NULLP:
        case LOADED:
                rk = ksafe_producer_new(conf, mode == NULLP ? NULL : policy, NULL, errstr,
                                        sizeof(errstr));
                break;
        case ENFORCE: {
                ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
                double t = now_us() - t0;
                ksafe_report_destroy(report);
                rd_kafka_conf_destroy(conf);
                return t;
        }
        case LOAD_COLD: {
                ksafe_error_t err;
                ksafe_policy_t *p = ksafe_policy_load(path, NULL, &err);
                double t = now_us() - t0;
                if (!p)
                        die("policy", err.text);
                ksafe_policy_destroy(p);
                rd_kafka_conf_destroy(conf);
                return t;
        }
        case MODES: break;
        }
        if (!rk)
                die(mode_names[mode], errstr);
        rd_kafka_destroy(rk);
        return now_us() - t0;
}

static int create(int rounds, const char *path)
{
        ksafe_error_t err;
        ksafe_policy_t *policy = ksafe_policy_load(path, NULL, &err);
        if (!policy)
                die(path, err.text);
        double *t[MODES];
        for (int m = 0; m < MODES; m++)
                if (!(t[m] = calloc((size_t)rounds, sizeof(double))))
                        die("memory", "out of memory");
        /* Warm up: the first create of a process loads what every later
         * one shares (librdkafka's own first-use setup, ksafe's table). */
        for (int m = 0; m < MODES; m++)
                run_one((enum mode)m, policy, path);
        for (int i = 0; i < rounds; i++)
                for (int k = 0; k < MODES; k++) {
                        enum mode m = (enum mode)((k + i) % MODES);
                        t[m][i] = run_one(m, policy, path);
                }
        for (int m = 0; m < MODES; m++)
                printf("%s %.1f\n", mode_names[m], quantile(t[m], (size_t)rounds, 0.5));
        /* What policy NULL adds to a create with the policy given: the
         * lookup of the cached policy (KSAFE_POLICY's file checked). */
        double *d = t[BARE];
        for (int i = 0; i < rounds; i++)
                d[i] = t[NULLP][i] - t[LOADED][i];
        printf("cached %.1f\n", quantile(d, (size_t)rounds, 0.5));
        for (int m = 0; m < MODES; m++)
                free(t[m]);
        ksafe_policy_destroy(policy);
        return 0;
}

/* Delivery latency: each message carries its enqueue time. */
typedef struct lat_s {
        double *v;
        size_t n, cap;
        int failed;
} lat_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        lat_t *lat = opaque;
        if (m->err) {
                lat->failed++;
                return;
        }
        if (!m->_private) /* the warm-up message */
                return;
        double sent = *(const double *)m->_private;
        if (lat->n < lat->cap)
                lat->v[lat->n++] = now_us() - sent;
}

/* How a producer is made for the produce benchmark. */
enum kind { UNSAFE, RAW_SAFE, FACADE, KINDS };
static const char *const kind_names[KINDS] = {"unsafe", "raw-safe", "safe"};

/* Produce `count` messages on a mock cluster as fast as the queue takes
 * them, then flush; throughput in msg/s. UNSAFE: rd_kafka_new() with
 * acks=1 and no idempotence; RAW_SAFE: rd_kafka_new() with what the
 * facade would set (idempotence, acks=all); FACADE: ksafe_producer_new(). */
static double produce(enum kind kind, int count, lat_t *lat)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        static const char *const kv[][2] = {
                {"test.mock.num.brokers", "3"},
                {"linger.ms", "5"},
                {"log_level", "0"},
        };
        for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++)
                if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof(errstr)))
                        die("conf", errstr);
        const char *acks = kind == UNSAFE ? "1" : "all";
        const char *idem = kind == UNSAFE ? "false" : "true";
        if (kind != FACADE &&
            (rd_kafka_conf_set(conf, "acks", acks, errstr, sizeof(errstr)) ||
             rd_kafka_conf_set(conf, "enable.idempotence", idem, errstr, sizeof(errstr))))
                die("conf", errstr);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, lat);
        rd_kafka_t *rk = kind == FACADE
                                 ? ksafe_producer_new(conf, NULL, NULL, errstr, sizeof(errstr))
                                 : rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("producer", errstr);
        double *stamps = malloc((size_t)count * sizeof(*stamps));
        if (!stamps)
                die("memory", "out of memory");
        static const char payload[100] = "x";
        /* Wait for the topic's metadata once, outside the timed part. */
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench"), RD_KAFKA_V_VALUE((void *)payload, 10),
                          RD_KAFKA_V_END);
        rd_kafka_flush(rk, 10000);
        lat->n = 0;
        double t0 = now_us();
        for (int i = 0; i < count; i++) {
                stamps[i] = now_us();
                rd_kafka_resp_err_t err;
                while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("bench"),
                                                RD_KAFKA_V_VALUE((void *)payload, sizeof(payload)),
                                                RD_KAFKA_V_OPAQUE(&stamps[i]), RD_KAFKA_V_END)) ==
                       RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 10);
                if (err)
                        die("produce", rd_kafka_err2str(err));
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 60000);
        double secs = (now_us() - t0) / 1e6;
        rd_kafka_destroy(rk);
        free(stamps);
        return (double)count / secs;
}

#define PRODUCE_ROUNDS 5

static int produce_all(int count)
{
        lat_t lat = {0};
        double tput[KINDS][PRODUCE_ROUNDS], p50[KINDS][PRODUCE_ROUNDS], p99[KINDS][PRODUCE_ROUNDS];
        if (!(lat.v = malloc((size_t)count * sizeof(double))))
                die("memory", "out of memory");
        lat.cap = (size_t)count;
        for (int r = 0; r < PRODUCE_ROUNDS; r++)
                for (int k = 0; k < KINDS; k++) {
                        int s = (k + r) % KINDS;
                        lat.failed = 0;
                        tput[s][r] = produce((enum kind)s, count, &lat);
                        if (lat.failed || lat.n == 0)
                                die("produce", "messages failed");
                        p50[s][r] = quantile(lat.v, lat.n, 0.5);
                        p99[s][r] = quantile(lat.v, lat.n, 0.99);
                }
        for (int s = 0; s < KINDS; s++) {
                printf("produce-%s %.0f\n", kind_names[s], quantile(tput[s], PRODUCE_ROUNDS, 0.5));
                printf("p50-%s %.0f\n", kind_names[s], quantile(p50[s], PRODUCE_ROUNDS, 0.5));
                printf("p99-%s %.0f\n", kind_names[s], quantile(p99[s], PRODUCE_ROUNDS, 0.5));
        }
        free(lat.v);
        return 0;
}

static int one(const char *mode, int n, const char *path)
{
        ksafe_error_t err;
        ksafe_policy_t *policy = ksafe_policy_load(path, NULL, &err);
        if (!policy)
                die(path, err.text);
        int m = 0;
        while (m < MODES && strcmp(mode_names[m], mode) != 0)
                m++;
        if (m == MODES)
                die(mode, "unknown mode");
        for (int i = 0; i < n; i++)
                run_one((enum mode)m, policy, path);
        ksafe_policy_destroy(policy);
        return 0;
}

/* A count from the command line: 1 .. 10,000,000. */
static int count_arg(const char *s)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || *end || v < 1 || v > 10000000)
                die(s, "not a count (1 .. 10000000)");
        return (int)v;
}

int main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "create") == 0)
                return create(count_arg(argv[2]), argv[3]);
        if (argc == 3 && strcmp(argv[1], "produce") == 0)
                return produce_all(count_arg(argv[2]));
        if (argc == 5 && strcmp(argv[1], "one") == 0)
                return one(argv[2], count_arg(argv[3]), argv[4]);
        fprintf(stderr, "usage: bench_facade create ROUNDS POLICY | produce MESSAGES | "
                        "one MODE N POLICY\n");
        return 2;
}
