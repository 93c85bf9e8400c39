/*
 * ksafe-verify: one profile's run. A mock cluster (or -b's real one), a
 * producer of the profile, N messages with faults injected from a second
 * thread while they are produced, every Produce batch recorded from
 * librdkafka's own debug log, every delivery report kept, then the log read
 * back with a consumer. verify-analyze.c counts and judges.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "ksafe.h"
#include "verify.h"

#define BROKERS 3
#define EVENTS_PER_FAULT 4
#define BROKER_DOWN_MS 500
#define MAX_ATTEMPTS 128   /* transactions, aborted ones included */
#define BROKER_SLOW_MS 300 /* answers this late just before it goes down */

typedef struct fault_event_s {
        unsigned kind;      /* one enum verify_fault bit */
        uint64_t at;        /* fire once this many messages were delivered: while
                             * traffic flows, whatever the producer's start-up */
        int64_t down_at;    /* broker-down: when it goes down, ms; 0 = not yet planned */
        int64_t restore_at; /* broker-down: when to bring it up, ms; 0 = none */
        bool down;
        int32_t broker;
        int32_t partition;
        bool fired, restored;
} fault_event_t;

typedef struct run_ctx_s {
        const verify_opts_t *opts;
        verify_profile_t profile;
        char topic[160];
        char run_id[40];
        verify_observed_t obs;
        pthread_mutex_t lock;        /* obs.batches (log callback threads) */
        rd_kafka_mock_cluster_t *mc; /* NULL on a real cluster */
        int32_t leader[64];          /* the mock's partition leaders (fault thread) */
        fault_event_t events[4 * EVENTS_PER_FAULT];
        size_t event_count;
        uint64_t rng;
        atomic_bool producing_done;
        atomic_uint_fast64_t delivered; /* delivery reports */
        int attempt;                    /* the transaction (0, 1, ...; an aborted one's
                                         * messages are sent again in the next) */
        bool aborted[MAX_ATTEMPTS];     /* attempts whose transaction was aborted */
        uint64_t aborted_transactions;
} run_ctx_t;

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
}

/* splitmix64: the faults' positions and targets follow from --seed alone. */
static uint64_t rng_next(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
        return n ? rng_next(s) % n : 0;
}

/* librdkafka's log, from any of its threads: keep each Produce batch. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)level;
        run_ctx_t *ctx = rd_kafka_opaque(rk);
        if (!ctx)
                return;
        if (ctx->opts->log) {
                pthread_mutex_lock(&ctx->lock);
                fprintf(ctx->opts->log, "%s %d %s %s\n", verify_profile_names[ctx->profile], level,
                        fac, buf);
                pthread_mutex_unlock(&ctx->lock);
        }
        if (strcmp(fac, "MSGSET") == 0) {
                int32_t p;
                if (verify_parse_retry_line(buf, ctx->topic, &p) && p >= 0 &&
                    p < ctx->obs.partitions) {
                        pthread_mutex_lock(&ctx->lock);
                        ctx->obs.retried[p]++;
                        pthread_mutex_unlock(&ctx->lock);
                }
                return;
        }
        if (strcmp(fac, "IMPLICITACK") == 0) {
                verify_range_t r;
                if (!verify_parse_implicit_line(buf, ctx->topic, &r))
                        return;
                pthread_mutex_lock(&ctx->lock);
                verify_observed_t *o = &ctx->obs;
                if (o->implicit_count == o->implicit_cap) {
                        size_t cap = o->implicit_cap ? 2 * o->implicit_cap : 64;
                        verify_range_t *nr = realloc(o->implicit, cap * sizeof(*nr));
                        if (!nr) {
                                o->unparsed_lines++; /* not kept: the proof is incomplete */
                                pthread_mutex_unlock(&ctx->lock);
                                return;
                        }
                        o->implicit = nr;
                        o->implicit_cap = cap;
                }
                o->implicit[o->implicit_count++] = r;
                pthread_mutex_unlock(&ctx->lock);
                return;
        }
        if (strcmp(fac, "PRODUCE") != 0)
                return;
        verify_batch_t b;
        bool malformed;
        bool ok = verify_parse_produce_line(buf, ctx->topic, &b, &malformed);
        pthread_mutex_lock(&ctx->lock);
        if (malformed)
                ctx->obs.unparsed_lines++;
        if (ok) {
                verify_observed_t *o = &ctx->obs;
                if (o->batch_count == o->batch_cap) {
                        size_t cap = o->batch_cap ? 2 * o->batch_cap : 1024;
                        verify_batch_t *nb = realloc(o->batches, cap * sizeof(*nb));
                        if (!nb) {
                                o->unparsed_lines++; /* not kept: the proof is incomplete */
                                pthread_mutex_unlock(&ctx->lock);
                                return;
                        }
                        o->batches = nb;
                        o->batch_cap = cap;
                }
                o->batches[o->batch_count++] = b;
        }
        pthread_mutex_unlock(&ctx->lock);
}

/* The reader's and the mock's own log: not shown (a broker taken down on
 * purpose is no news), ksafe-verify reports what matters itself. */
static void quiet_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk, (void)level, (void)fac, (void)buf;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        (void)rk;
        run_ctx_t *ctx = opaque;
        uintptr_t id = (uintptr_t)m->_private;
        atomic_fetch_add(&ctx->delivered, 1);
        if (id == 0 || id > ctx->obs.messages)
                return;
        ctx->obs.acked[id - 1] = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
        ctx->obs.ack_offset[id - 1] = m->err ? -1 : m->offset;
}

static bool set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                size_t err_size)
{
        char errstr[256];
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
                return true;
        snprintf(err, err_size, "%s=%s: %s", name, value, errstr);
        return false;
}

/* The events of the faults asked for, at seeded positions. */
static void plan_faults(run_ctx_t *ctx)
{
        const verify_opts_t *o = ctx->opts;
        ctx->rng = o->seed;
        for (unsigned k = 0; k < 4; k++) {
                unsigned kind = 1u << k;
                if (!(o->faults & kind))
                        continue;
                for (int e = 0; e < EVENTS_PER_FAULT; e++) {
                        fault_event_t *ev = &ctx->events[ctx->event_count++];
                        memset(ev, 0, sizeof(*ev));
                        ev->kind = kind;
                        uint64_t lo = o->messages / 20, span = o->messages * 16 / 20;
                        ev->at = lo + rng_below(&ctx->rng, span ? span : 1);
                        ev->partition = (int32_t)rng_below(&ctx->rng, (uint64_t)o->partitions);
                        ev->broker = 1 + (int32_t)rng_below(&ctx->rng, BROKERS);
                }
        }
}

static void fire(run_ctx_t *ctx, fault_event_t *ev)
{
        rd_kafka_mock_cluster_t *mc = ctx->mc;
        /* librdkafka scans for timed-out requests once a second: an answer
         * later than the timeout by more than that is always too late. */
        int rtt = ctx->opts->socket_timeout_ms + 1500;
        ev->fired = true;
        switch (ev->kind) {
        case VERIFY_FAULT_LOST_ACKS:
                /* The broker writes the batch; its answer comes after the
                 * client gave up: the client resends what the log has. */
                rd_kafka_mock_broker_push_request_error_rtts(mc, ctx->leader[ev->partition], 0, 1,
                                                             RD_KAFKA_RESP_ERR_NO_ERROR, rtt);
                break;
        case VERIFY_FAULT_BROKER_DOWN:
                /* Slow first, so that requests are in flight (written, not
                 * yet answered) when the connections drop. */
                rd_kafka_mock_broker_set_rtt(mc, ev->broker, BROKER_SLOW_MS);
                ev->down_at = now_ms() + BROKER_SLOW_MS / 2;
                break;
        case VERIFY_FAULT_LEADER_CHANGE: {
                int32_t to = ctx->leader[ev->partition] % BROKERS + 1;
                if (rd_kafka_mock_partition_set_leader(mc, ctx->topic, ev->partition, to) == 0)
                        ctx->leader[ev->partition] = to;
                break;
        }
        case VERIFY_FAULT_RETRIABLE:
                rd_kafka_mock_push_request_errors(
                        mc, 0, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION) /* NOT_LEADER_OR_FOLLOWER */;
                break;
        default: break;
        }
}

static void *fault_thread(void *arg)
{
        run_ctx_t *ctx = arg;
        for (;;) {
                uint64_t delivered = atomic_load(&ctx->delivered);
                bool done = atomic_load(&ctx->producing_done);
                bool pending = false;
                int64_t now = now_ms();
                for (size_t i = 0; i < ctx->event_count; i++) {
                        fault_event_t *ev = &ctx->events[i];
                        if (!ev->fired && (ev->at <= delivered || done))
                                fire(ctx, ev);
                        if (ev->down_at && !ev->down) {
                                if (now >= ev->down_at) {
                                        rd_kafka_mock_broker_set_down(ctx->mc, ev->broker);
                                        ev->down = true;
                                        ev->restore_at = now + BROKER_DOWN_MS;
                                }
                                pending = true;
                        }
                        if (ev->restore_at && !ev->restored) {
                                if (now >= ev->restore_at) {
                                        rd_kafka_mock_broker_set_rtt(ctx->mc, ev->broker, 0);
                                        rd_kafka_mock_broker_set_up(ctx->mc, ev->broker);
                                        ev->restored = true;
                                } else {
                                        pending = true;
                                }
                        }
                        pending |= !ev->fired;
                }
                if (!pending)
                        return NULL;
                sleep_ms(2);
        }
}

static void progress(const run_ctx_t *ctx, const char *phase, uint64_t done, uint64_t total,
                     int64_t start, int64_t *last, bool final)
{
        const verify_opts_t *o = ctx->opts;
        if (!o->progress)
                return;
        int64_t now = now_ms();
        if (o->tty) {
                if (!final && now - *last < 100)
                        return;
                *last = now;
                int width = 30, fill = total ? (int)(done * (uint64_t)width / total) : width;
                char bar[32];
                for (int i = 0; i < width; i++)
                        bar[i] = i < fill ? '#' : '.';
                bar[width] = '\0';
                fprintf(stderr, "\r%-13s %-8s [%s] %" PRIu64 "/%" PRIu64 "\033[K",
                        verify_profile_names[ctx->profile], phase, bar, done, total);
                if (final)
                        fputs("\r\033[K", stderr);
        } else {
                /* Plain lines, for a run that lasts: one every 2 s. */
                if (final || now - start < 2000 || now - *last < 2000)
                        return;
                *last = now;
                fprintf(stderr, "ksafe-verify: %s: %s %" PRIu64 "/%" PRIu64 "\n",
                        verify_profile_names[ctx->profile], phase, done, total);
        }
        fflush(stderr);
}

/* The consumer that hosts the mock cluster (test.mock.num.brokers) and later
 * reads the log back. */
static rd_kafka_t *reader_new(const run_ctx_t *ctx, char *err, size_t err_size)
{
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char group[96];
        snprintf(group, sizeof(group), "ksafe-verify-%s", ctx->run_id);
        bool ok =
                set(conf, "group.id", group, err, err_size) &&
                set(conf, "enable.auto.commit", "false", err, err_size) &&
                set(conf, "enable.partition.eof", "true", err, err_size) &&
                set(conf, "auto.offset.reset", "earliest", err, err_size) &&
                set(conf, "isolation.level",
                    ctx->profile == VERIFY_TRANSACTIONAL && ctx->opts->brokers ? "read_committed"
                                                                               : "read_uncommitted",
                    err, err_size);
        if (ok && ctx->opts->brokers)
                ok = set(conf, "bootstrap.servers", ctx->opts->brokers, err, err_size);
        else if (ok) {
                char n[16];
                snprintf(n, sizeof(n), "%d", BROKERS);
                ok = set(conf, "test.mock.num.brokers", n, err, err_size);
        }
        if (!ok) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_log_cb(conf, quiet_log_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                snprintf(err, err_size, "cannot create the reader: %.400s", errstr);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

/* The producer of the profile. The ksafe profiles go through the facade
 * with the default policy: what a user of ksafe gets. */
static rd_kafka_t *producer_new(run_ctx_t *ctx, const char *bootstraps, char *err, size_t err_size)
{
        const verify_opts_t *o = ctx->opts;
        char errstr[1024], num[32];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        snprintf(num, sizeof(num), "%d", o->socket_timeout_ms);
        bool ok =
                set(conf, "bootstrap.servers", bootstraps, err, err_size) &&
                set(conf, "debug", o->log ? "msg,eos,broker,protocol" : "msg,eos", err, err_size) &&
                set(conf, "socket.timeout.ms", num, err, err_size) &&
                set(conf, "linger.ms", "5", err, err_size) &&
                set(conf, "batch.num.messages", "200", err, err_size) &&
                set(conf, "retry.backoff.ms", "20", err, err_size) &&
                set(conf, "reconnect.backoff.max.ms", "500", err, err_size) &&
                set(conf, "compression.codec", "none", err, err_size);
        if (ok && ctx->profile == VERIFY_UNSAFE)
                ok = set(conf, "acks", "1", err, err_size) &&
                     set(conf, "enable.idempotence", "false", err, err_size) &&
                     set(conf, "max.in.flight", "1000000", err, err_size) &&
                     set(conf, "retries", "2147483647", err, err_size);
        if (ok && ctx->profile != VERIFY_UNSAFE) {
                snprintf(num, sizeof(num), "%d", o->max_in_flight);
                ok = set(conf, "max.in.flight", num, err, err_size);
        }
        if (ok && ctx->profile == VERIFY_TRANSACTIONAL) {
                char tid[96];
                snprintf(tid, sizeof(tid), "ksafe-verify-%s", ctx->run_id);
                ok = set(conf, "transactional.id", tid, err, err_size);
        }
        if (!ok) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rd_kafka_conf_set_log_cb(conf, log_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_opaque(conf, ctx);
        rd_kafka_t *rk;
        if (ctx->profile == VERIFY_UNSAFE) {
                rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        } else {
                ksafe_policy_t *policy = ksafe_policy_default();
                ksafe_report_t *report = NULL;
                rk = policy ? ksafe_producer_new(conf, policy, &report, errstr, sizeof(errstr))
                            : NULL;
                if (!policy)
                        snprintf(errstr, sizeof(errstr), "%s", "out of memory");
                if (!rk && ksafe_report_conf_consumed(report))
                        conf = NULL;
                ksafe_report_destroy(report);
                ksafe_policy_destroy(policy);
        }
        if (!rk) {
                snprintf(err, err_size, "cannot create the %s producer: %.400s",
                         verify_profile_names[ctx->profile], errstr);
                if (conf)
                        rd_kafka_conf_destroy(conf);
        }
        return rk;
}

static bool observed_alloc(verify_observed_t *o, uint64_t messages, int partitions)
{
        o->messages = messages;
        o->partitions = partitions;
        o->acked = calloc(messages ? messages : 1, sizeof(*o->acked));
        o->ack_offset = malloc((messages ? messages : 1) * sizeof(*o->ack_offset));
        o->sent = calloc((size_t)partitions, sizeof(*o->sent));
        o->retried = calloc((size_t)partitions, sizeof(*o->retried));
        o->msgid_n = calloc((size_t)partitions, sizeof(*o->msgid_n));
        o->msgid_count = calloc((size_t)partitions, sizeof(*o->msgid_count));
        o->msgid_cap = calloc((size_t)partitions, sizeof(*o->msgid_cap));
        o->log_start = calloc((size_t)partitions, sizeof(*o->log_start));
        o->log = calloc((size_t)partitions, sizeof(*o->log));
        o->log_len = calloc((size_t)partitions, sizeof(*o->log_len));
        o->log_offset = calloc((size_t)partitions, sizeof(*o->log_offset));
        if (!o->acked || !o->ack_offset || !o->sent || !o->retried || !o->msgid_n ||
            !o->msgid_count || !o->msgid_cap || !o->log_start || !o->log || !o->log_len ||
            !o->log_offset)
                return false;
        for (uint64_t i = 0; i < messages; i++)
                o->ack_offset[i] = -1;
        return true;
}

/* A transaction's end: commit, retrying what librdkafka says is
 * retriable. Returns 0 when committed, 1 when the transaction must be
 * aborted (an abortable error: a correct application aborts and produces
 * its messages again), -1 on any other error. */
static int txn_commit(rd_kafka_t *rk, char *err, size_t err_size)
{
        for (int attempt = 0; attempt < 10; attempt++) {
                rd_kafka_error_t *e = rd_kafka_commit_transaction(rk, 60000);
                if (!e)
                        return 0;
                bool retry = rd_kafka_error_is_retriable(e);
                bool abort = rd_kafka_error_txn_requires_abort(e);
                snprintf(err, err_size, "commit_transaction: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                if (abort)
                        return 1;
                if (!retry)
                        return -1;
        }
        return -1;
}

/* Abort the current transaction (its delivery reports come with errors)
 * and begin the next one. */
static bool txn_abort_and_begin(run_ctx_t *ctx, rd_kafka_t *rk, char *err, size_t err_size)
{
        if (ctx->attempt + 1 >= MAX_ATTEMPTS) {
                snprintf(err, err_size, "%d transactions aborted: giving up", MAX_ATTEMPTS);
                return false;
        }
        rd_kafka_error_t *e = rd_kafka_abort_transaction(rk, 60000);
        if (e) {
                snprintf(err, err_size, "abort_transaction: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                return false;
        }
        ctx->aborted[ctx->attempt] = true;
        ctx->aborted_transactions++;
        while (rd_kafka_outq_len(rk) > 0)
                rd_kafka_poll(rk, 10);
        rd_kafka_poll(rk, 0);
        ctx->attempt++;
        e = rd_kafka_begin_transaction(rk);
        if (e) {
                snprintf(err, err_size, "begin_transaction: %s", rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
                return false;
        }
        return true;
}

/* Keep which send number librdkafka's next message id of partition p is:
 * it numbers the messages of a partition 1, 2, ... as they are accepted. */
static bool note_msgid(verify_observed_t *o, int32_t p, uint64_t n)
{
        if (o->msgid_count[p] == o->msgid_cap[p]) {
                uint64_t cap = o->msgid_cap[p] ? 2 * o->msgid_cap[p] : 1024;
                uint64_t *nm = realloc(o->msgid_n[p], cap * sizeof(*nm));
                if (!nm)
                        return false;
                o->msgid_n[p] = nm;
                o->msgid_cap[p] = cap;
        }
        o->msgid_n[p][o->msgid_count[p]++] = n;
        return true;
}

/* Produce the N messages (partition p gets send numbers 0, 1, ...). The
 * transactional profile sends them in ten transactions and, like a correct
 * application, produces a transaction's messages again when it had to be
 * aborted. */
static bool produce_all(run_ctx_t *ctx, rd_kafka_t *rk, char *err, size_t err_size)
{
        const int P = ctx->obs.partitions;
        const uint64_t N = ctx->obs.messages;
        const uint64_t pace = N / 1000 ? N / 1000 : 1;
        const uint64_t txn_size = N / 10 ? N / 10 : 1;
        const bool txn = ctx->profile == VERIFY_TRANSACTIONAL;
        int64_t start = now_ms(), last = start;
        uint64_t txn_start = 0, produced = 0;
        if (txn) {
                rd_kafka_error_t *e = rd_kafka_init_transactions(rk, 60000);
                if (!e)
                        e = rd_kafka_begin_transaction(rk);
                if (e) {
                        snprintf(err, err_size, "init/begin transaction: %s",
                                 rd_kafka_error_string(e));
                        rd_kafka_error_destroy(e);
                        return false;
                }
        }
        for (uint64_t i = 0; i < N; i++) {
                int32_t p = (int32_t)(i % (uint64_t)P);
                uint64_t n = i / (uint64_t)P;
                char payload[256];
                int len = snprintf(
                        payload, sizeof(payload),
                        "ksafe-verify run=%s profile=%s partition=%" PRId32 " n=%" PRIu64 " a=%d",
                        ctx->run_id, verify_profile_names[ctx->profile], p, n, ctx->attempt);
                bool abort = false;
                for (;;) {
                        rd_kafka_resp_err_t e = rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(ctx->topic), RD_KAFKA_V_PARTITION(p),
                                RD_KAFKA_V_VALUE(payload, (size_t)len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(i + 1)), RD_KAFKA_V_END);
                        if (!e)
                                break;
                        if (txn && e == RD_KAFKA_RESP_ERR__STATE) {
                                abort = true; /* the transaction failed: abortable */
                                break;
                        }
                        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                snprintf(err, err_size, "produce: %s", rd_kafka_err2str(e));
                                return false;
                        }
                        rd_kafka_poll(rk, 10);
                }
                if (!abort) {
                        if (!note_msgid(&ctx->obs, p, n)) {
                                snprintf(err, err_size, "%s", "out of memory");
                                return false;
                        }
                        if (i >= produced) {
                                ctx->obs.sent[p]++;
                                produced = i + 1;
                        }
                        if ((i + 1) % pace == 0)
                                rd_kafka_poll(rk, 1);
                        else
                                rd_kafka_poll(rk, 0);
                        progress(ctx, "produce", i + 1, N, start, &last, false);
                }
                if (txn && !abort && ((i + 1) % txn_size == 0 || i + 1 == N)) {
                        int rc = txn_commit(rk, err, err_size);
                        if (rc < 0)
                                return false;
                        if (rc == 0) {
                                txn_start = i + 1;
                                if (i + 1 < N) {
                                        if (++ctx->attempt >= MAX_ATTEMPTS) {
                                                snprintf(err, err_size, "%s",
                                                         "too many transactions");
                                                return false;
                                        }
                                        rd_kafka_error_t *e = rd_kafka_begin_transaction(rk);
                                        if (e) {
                                                snprintf(err, err_size, "begin_transaction: %s",
                                                         rd_kafka_error_string(e));
                                                rd_kafka_error_destroy(e);
                                                return false;
                                        }
                                }
                                continue;
                        }
                        abort = true;
                }
                if (abort) {
                        if (!txn_abort_and_begin(ctx, rk, err, err_size))
                                return false;
                        for (uint64_t j = txn_start; j <= i && j < N; j++) {
                                ctx->obs.acked[j] = false;
                                ctx->obs.ack_offset[j] = -1;
                        }
                        i = txn_start - 1; /* the loop's i++ starts it again */
                        if (txn_start == 0)
                                i = UINT64_MAX; /* wraps to 0 */
                }
        }
        /* Every delivery report, however long the faults make it take
         * (message.timeout.ms bounds it). */
        while (rd_kafka_outq_len(rk) > 0) {
                rd_kafka_poll(rk, 100);
                progress(ctx, "deliver", atomic_load(&ctx->delivered), N, start, &last, false);
        }
        progress(ctx, "deliver", atomic_load(&ctx->delivered), N, start, &last, true);
        return true;
}

/* Record one consumed record into the partition's log. */
static bool log_append(verify_observed_t *o, int32_t p, uint64_t n, int64_t offset, uint64_t *cap)
{
        if (o->log_len[p] == cap[p]) {
                uint64_t nc = cap[p] ? 2 * cap[p] : 1024;
                uint64_t *nl = realloc(o->log[p], nc * sizeof(*nl));
                if (!nl)
                        return false;
                o->log[p] = nl;
                int64_t *no = realloc(o->log_offset[p], nc * sizeof(*no));
                if (!no)
                        return false;
                o->log_offset[p] = no;
                cap[p] = nc;
        }
        o->log_offset[p][o->log_len[p]] = offset;
        o->log[p][o->log_len[p]++] = n;
        return true;
}

/* The send number and transaction attempt of one of this run's payloads,
 * or false. */
static bool parse_payload(const run_ctx_t *ctx, const rd_kafka_message_t *m, uint64_t *n,
                          int *attempt)
{
        char prefix[200], buf[256];
        int plen = snprintf(prefix, sizeof(prefix),
                            "ksafe-verify run=%s profile=%s partition=%" PRId32 " n=", ctx->run_id,
                            verify_profile_names[ctx->profile], m->partition);
        if (m->len >= sizeof(buf) || plen < 0 || m->len <= (size_t)plen)
                return false;
        memcpy(buf, m->payload, m->len);
        buf[m->len] = '\0';
        if (strncmp(buf, prefix, (size_t)plen) != 0)
                return false;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf + plen, &end, 10);
        if (end == buf + plen || errno || strncmp(end, " a=", 3) != 0)
                return false;
        const char *a = end + 3;
        long at = strtol(a, &end, 10);
        if (end == a || *end || at < 0 || at >= MAX_ATTEMPTS)
                return false;
        *n = v;
        *attempt = (int)at;
        return true;
}

/* Read every partition from its start to its end. */
static bool read_back(run_ctx_t *ctx, rd_kafka_t *reader, char *err, size_t err_size)
{
        verify_observed_t *o = &ctx->obs;
        const int P = o->partitions;
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(P);
        uint64_t *cap = calloc((size_t)P, sizeof(*cap));
        bool *eof = calloc((size_t)P, sizeof(*eof));
        int64_t *hi = calloc((size_t)P, sizeof(*hi));
        bool ok = cap && eof && hi;
        for (int32_t p = 0; ok && p < P; p++) {
                int64_t lo;
                rd_kafka_resp_err_t e =
                        rd_kafka_query_watermark_offsets(reader, ctx->topic, p, &lo, &hi[p], 10000);
                if (e) {
                        snprintf(err, err_size, "watermarks of partition %" PRId32 ": %s", p,
                                 rd_kafka_err2str(e));
                        ok = false;
                        break;
                }
                rd_kafka_topic_partition_list_add(parts, ctx->topic, p)->offset = o->log_start[p];
                eof[p] = hi[p] <= o->log_start[p];
        }
        if (ok) {
                rd_kafka_resp_err_t e = rd_kafka_assign(reader, parts);
                if (e) {
                        snprintf(err, err_size, "assign: %s", rd_kafka_err2str(e));
                        ok = false;
                }
        }
        int64_t start = now_ms(), last = start, deadline = start + 120000;
        uint64_t records = 0, expect = 0;
        for (int32_t p = 0; ok && p < P; p++)
                expect += (uint64_t)(hi[p] - o->log_start[p]);
        for (;;) {
                int open = 0;
                for (int32_t p = 0; ok && p < P; p++)
                        open += !eof[p];
                if (!ok || !open)
                        break;
                if (now_ms() > deadline) {
                        snprintf(err, err_size, "%d partition(s) not read to the end in 120 s",
                                 open);
                        ok = false;
                        break;
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(reader, 100);
                if (!m)
                        continue;
                int32_t p = m->partition;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (p >= 0 && p < P && m->offset >= hi[p])
                                eof[p] = true;
                } else if (m->err) {
                        snprintf(err, err_size, "reading the log: %s", rd_kafka_message_errstr(m));
                        ok = false;
                } else if (p >= 0 && p < P) {
                        uint64_t n;
                        int attempt;
                        records++;
                        if (!parse_payload(ctx, m, &n, &attempt))
                                o->foreign_records++;
                        else if (ctx->aborted[attempt])
                                o->aborted_records++; /* visible: the mock has no
                                                       * read_committed */
                        else if (!log_append(o, p, n, m->offset, cap))
                                ok = false;
                        if (m->offset + 1 >= hi[p])
                                eof[p] = true;
                }
                rd_kafka_message_destroy(m);
                progress(ctx, "read", records, expect, start, &last, false);
        }
        progress(ctx, "read", records, expect, start, &last, true);
        rd_kafka_assign(reader, NULL);
        rd_kafka_topic_partition_list_destroy(parts);
        free(cap);
        free(eof);
        free(hi);
        return ok;
}

/* Test only: the first resend with a producer id is recorded with another
 * base sequence, as if the client had sent it anew. The analysis must see
 * it (tests/verify: an observation that the verifier must not accept). */
static void corrupt_one_resend(verify_observed_t *o)
{
        for (size_t i = 0; i < o->batch_count; i++) {
                verify_batch_t *b = &o->batches[i];
                if (!b->has_pid)
                        continue;
                for (size_t j = 0; j < i; j++)
                        if (o->batches[j].partition == b->partition &&
                            o->batches[j].first_msgid == b->first_msgid) {
                                b->base_seq += 1;
                                return;
                        }
        }
}

/* The partition count of a real cluster's topic. */
static int real_partitions(rd_kafka_t *reader, const char *topic, char *err, size_t err_size)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(reader, topic, NULL);
        rd_kafka_resp_err_t e = rd_kafka_metadata(reader, 0, rkt, &md, 10000);
        int n = -1;
        if (e)
                snprintf(err, err_size, "metadata of topic %s: %s", topic, rd_kafka_err2str(e));
        else if (md->topic_cnt != 1 || md->topics[0].err)
                snprintf(err, err_size, "topic %s: %s", topic,
                         md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "not found");
        else
                n = md->topics[0].partition_cnt;
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        return n;
}

bool verify_run_profile(const verify_opts_t *opts, verify_profile_t profile, verify_result_t *res)
{
        run_ctx_t *ctx = calloc(1, sizeof(*ctx));
        memset(res, 0, sizeof(*res));
        res->profile = profile;
        if (!ctx) {
                snprintf(res->error, sizeof(res->error), "%s", "out of memory");
                return true;
        }
        int64_t t0 = now_ms();
        ctx->opts = opts;
        ctx->profile = profile;
        pthread_mutex_init(&ctx->lock, NULL);
        atomic_init(&ctx->producing_done, false);
        atomic_init(&ctx->delivered, 0);
        snprintf(ctx->run_id, sizeof(ctx->run_id), "%" PRIx64 "-%lx-%x", opts->seed,
                 (unsigned long)time(NULL), (unsigned)getpid());
        if (opts->brokers)
                snprintf(ctx->topic, sizeof(ctx->topic), "%s", opts->topic);
        else
                snprintf(ctx->topic, sizeof(ctx->topic), "ksafe-verify-%s",
                         verify_profile_names[profile]);
        char *err = res->error;
        const size_t es = sizeof(res->error);
        bool setup_ok = true;
        rd_kafka_t *reader = reader_new(ctx, err, es), *rk = NULL;
        int partitions = opts->partitions;
        const char *bootstraps = opts->brokers;
        pthread_t thr;
        bool thr_started = false;
        if (!reader) {
                setup_ok = false;
                goto out;
        }
        if (opts->brokers) {
                partitions = real_partitions(reader, ctx->topic, err, es);
                if (partitions < 1) {
                        setup_ok = false;
                        goto out;
                }
        } else {
                ctx->mc = rd_kafka_handle_mock_cluster(reader);
                if (!ctx->mc ||
                    rd_kafka_mock_topic_create(ctx->mc, ctx->topic, partitions, BROKERS)) {
                        snprintf(err, es, "%s", "cannot create the mock cluster's topic");
                        setup_ok = false;
                        goto out;
                }
                for (int32_t p = 0; p < partitions; p++) {
                        ctx->leader[p] = p % BROKERS + 1;
                        rd_kafka_mock_partition_set_leader(ctx->mc, ctx->topic, p, ctx->leader[p]);
                }
                bootstraps = rd_kafka_mock_cluster_bootstraps(ctx->mc);
        }
        if (!observed_alloc(&ctx->obs, opts->messages, partitions)) {
                snprintf(err, es, "%s", "out of memory");
                goto out;
        }
        ctx->obs.real_cluster = opts->brokers != NULL;
        if (opts->brokers)
                for (int32_t p = 0; p < partitions; p++) {
                        int64_t lo, hi;
                        if (rd_kafka_query_watermark_offsets(reader, ctx->topic, p, &lo, &hi,
                                                             10000) == 0)
                                ctx->obs.log_start[p] = hi;
                }
        rk = producer_new(ctx, bootstraps, err, es);
        if (!rk)
                goto out;
        if (ctx->mc) {
                plan_faults(ctx);
                if (pthread_create(&thr, NULL, fault_thread, ctx) == 0)
                        thr_started = true;
                else {
                        snprintf(err, es, "%s", "cannot start the fault thread");
                        goto out;
                }
        }
        bool produced = produce_all(ctx, rk, err, es);
        atomic_store(&ctx->producing_done, true);
        if (thr_started) {
                pthread_join(thr, NULL);
                thr_started = false;
        }
        char failure[sizeof(res->error)] = "";
        if (!produced) {
                /* What was sent until then is still read back and counted:
                 * the verdict says why it stopped. */
                char fatal[512];
                if (rd_kafka_fatal_error(rk, fatal, sizeof(fatal)))
                        snprintf(failure, sizeof(failure), "librdkafka fatal error: %.300s%s",
                                 fatal,
                                 strstr(fatal, "sequence desynchronization")
                                         ? " [a librdkafka 2.0.2 bug after a failed request, "
                                           "see CAVEATS in ksafe-verify(1)]"
                                         : "");
                else
                        snprintf(failure, sizeof(failure), "%s", err);
                rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
                for (int64_t end = now_ms() + 30000; rd_kafka_outq_len(rk) > 0 && now_ms() < end;)
                        rd_kafka_poll(rk, 100);
        }
        rd_kafka_destroy(rk);
        rk = NULL;
        if (!read_back(ctx, reader, err, es))
                goto out;
        if (opts->corrupt)
                corrupt_one_resend(&ctx->obs);
        if (!verify_analyze(&ctx->obs, profile, res)) {
                snprintf(err, es, "%s", "out of memory");
                goto out;
        }
        res->ran = true;
        res->aborted_transactions = ctx->aborted_transactions;
        res->aborted_records = ctx->obs.aborted_records;
        if (!produced) {
                snprintf(res->error, sizeof(res->error), "%s", failure);
                res->guarantee_met = false;
                char verdict[sizeof(res->verdict)];
                snprintf(verdict, sizeof(verdict), "%s", res->verdict);
                snprintf(res->verdict, sizeof(res->verdict), "producing stopped (%.330s); %.150s",
                         failure, verdict);
        }
out:
        if (thr_started) {
                atomic_store(&ctx->producing_done, true);
                pthread_join(thr, NULL);
        }
        if (rk)
                rd_kafka_destroy(rk);
        if (reader) {
                rd_kafka_consumer_close(reader);
                rd_kafka_destroy(reader);
        }
        if (!res->ran) {
                res->guarantee_met = false;
                snprintf(res->verdict, sizeof(res->verdict), "not run: %.500s", res->error);
        }
        res->seconds = (double)(now_ms() - t0) / 1000.0;
        verify_observed_free(&ctx->obs);
        pthread_mutex_destroy(&ctx->lock);
        free(ctx);
        return setup_ok;
}
