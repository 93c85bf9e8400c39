/* ksafe-verify's parts: the options and the output (ksafe-verify.c), one
 * profile's run on a cluster with faults injected (verify-run.c), and the
 * analysis of what the client sent, what it was told and what the log holds
 * (verify-analyze.c). */
#ifndef KSAFE_VERIFY_H
#define KSAFE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Exit codes, as documented in --help, the README and ksafe-verify.1. */
enum verify_exit {
        VERIFY_EXIT_OK = 0,     /* every ksafe profile met its guarantee */
        VERIFY_EXIT_FAILED = 1, /* a ksafe profile did not, or it could not be shown */
        VERIFY_EXIT_USAGE = 2,  /* bad usage, or the cluster could not be set up */
};

/** The version of the JSON document that -f json writes. */
#define VERIFY_JSON_VERSION 1

typedef enum verify_profile_e {
        VERIFY_UNSAFE = 0,        /* raw rd_kafka_new: acks=1, no idempotence */
        VERIFY_IDEMPOTENT = 1,    /* ksafe_producer_new() with the default policy */
        VERIFY_TRANSACTIONAL = 2, /* the same plus transactional.id */
        VERIFY_PROFILE_COUNT = 3,
} verify_profile_t;

/** Fault kinds, a bit each. */
enum verify_fault {
        VERIFY_FAULT_LOST_ACKS = 1 << 0,
        VERIFY_FAULT_BROKER_DOWN = 1 << 1,
        VERIFY_FAULT_LEADER_CHANGE = 1 << 2,
        VERIFY_FAULT_RETRIABLE = 1 << 3,
        VERIFY_FAULT_ALL = (1 << 4) - 1,
};

/** The fault kinds' names, in bit order. */
extern const char *const verify_fault_names[4];

/** The profiles' names, by verify_profile_t. */
extern const char *const verify_profile_names[VERIFY_PROFILE_COUNT];

typedef struct verify_opts_s {
        uint64_t messages; /* N, spread round-robin over the partitions */
        int partitions;    /* of the mock topic */
        unsigned faults;   /* enum verify_fault bits */
        uint64_t seed;
        const char *brokers;   /* a real cluster, or NULL for the mock */
        const char *topic;     /* on a real cluster */
        int max_in_flight;     /* the ksafe profiles' (1..5) */
        int socket_timeout_ms; /* how long until an unanswered request is resent */
        bool profiles[VERIFY_PROFILE_COUNT];
        bool progress; /* lines (or a bar on a TTY) on stderr */
        bool tty;      /* stderr is a terminal */
        FILE *log;     /* --log: every producer's librdkafka log, or NULL */
        /* Test only (KSAFE_VERIFY_TEST_CORRUPT=1): one recorded resend's base
         * sequence is changed, as if the client had sent a new one. */
        bool corrupt;
} verify_opts_t;

/** The counts of one partition or of a whole profile (see the README). */
typedef struct verify_counts_s {
        uint64_t sent;             /* produce() calls that librdkafka accepted */
        uint64_t acked;            /* delivery reports without error */
        uint64_t lost;             /* sent messages absent from the log */
        uint64_t mock_lost;        /* ... that the client acked implicitly, by a later
                                    * batch the mock wrote over a sequence gap */
        uint64_t duplicated;       /* second copies a real broker would write too */
        uint64_t mock_duplicates;  /* second copies from a same-sequence resend */
        uint64_t reordered;        /* first copy after a message sent later */
        uint64_t resends;          /* batches sent again */
        uint64_t resends_same_seq; /* ... with their first send's PID, epoch, base seq */
} verify_counts_t;

/** One Produce batch as the client logged it. */
typedef struct verify_batch_s {
        int32_t broker; /* broker id, -1 if unknown */
        int32_t partition;
        uint64_t first_msgid; /* librdkafka's per-partition message id, from 1 */
        int count;
        bool has_pid; /* false: PID{Invalid}, a producer without idempotence */
        int64_t pid;
        int16_t epoch;
        int32_t base_seq;
} verify_batch_t;

/** Messages librdkafka acknowledged implicitly (by a later batch's success). */
typedef struct verify_range_s {
        int32_t partition;
        uint64_t first_msgid, last_msgid;
} verify_range_t;

/** What one profile's run observed. */
typedef struct verify_observed_s {
        int partitions;
        uint64_t messages;
        verify_batch_t *batches; /* in the order they were sent */
        size_t batch_count, batch_cap;
        uint64_t unparsed_lines;  /* "Produce MessageSet" lines that did not parse */
        verify_range_t *implicit; /* "implicitly acked" lines, in order */
        size_t implicit_count, implicit_cap;
        uint64_t *sent;     /* per partition: messages librdkafka accepted */
        uint64_t *retried;  /* per partition: batches failed with Retry or Refresh */
        uint64_t **msgid_n; /* per partition: the send number of message id k at k-1
                             * (ids count every message librdkafka accepted, a
                             * message produced again after an abort too) */
        uint64_t *msgid_count, *msgid_cap;
        uint64_t aborted_records; /* records of aborted transactions in the log */
        int64_t *log_start;       /* per partition: the offset reading started at */
        bool *acked;              /* by message index */
        int64_t *ack_offset;      /* the offset the delivery report gave, -1 if none */
        uint64_t *log_len;        /* per partition: records read back */
        uint64_t **log;           /* per partition: each record's send number, in order */
        int64_t **log_offset;     /* per partition: each record's offset */
        uint64_t foreign_records; /* records of another run or unreadable */
        bool real_cluster;        /* -b: others may write to the topic too */
} verify_observed_t;

/** One profile's result. */
typedef struct verify_result_s {
        verify_profile_t profile;
        bool ran; /* false: it could not run (error says why) */
        char error[512];
        verify_counts_t total;
        verify_counts_t *parts; /* `partitions` of them */
        int partitions;
        uint64_t batches; /* Produce batches observed */
        uint64_t aborted_transactions;
        uint64_t aborted_records; /* records of aborted transactions in the log: the
                                   * mock has no read_committed */
        uint64_t inconsistencies; /* observations that contradict each other */
        char inconsistency[256];  /* the first one, in words */
        double seconds;
        bool guarantee_met; /* ksafe profiles only */
        char verdict[512];
} verify_result_t;

/** Message index of partition p's send number n. */
static inline uint64_t verify_index(int partitions, int32_t p, uint64_t n)
{
        return n * (uint64_t)partitions + (uint64_t)p;
}

/** How many of `messages` go to partition p. */
static inline uint64_t verify_partition_messages(uint64_t messages, int partitions, int32_t p)
{
        return messages / (uint64_t)partitions + ((uint64_t)p < messages % (uint64_t)partitions);
}

/* verify-run.c */

/** Run one profile. Fills `res` (always: ran=false with an error when it
 *  could not run). Returns false only when the cluster itself could not be
 *  set up (bad usage of -b, ...). */
bool verify_run_profile(const verify_opts_t *opts, verify_profile_t profile, verify_result_t *res);

/* verify-analyze.c */

/** Parse one librdkafka log line; true when it is a Produce batch line of
 *  `topic` (then *out is filled). *malformed is set when the line is a
 *  batch line that does not parse. */
bool verify_parse_produce_line(const char *line, const char *topic, verify_batch_t *out,
                               bool *malformed);

/** true when `line` is librdkafka's "MessageSet ... encountered error"
 *  line of `topic` with a Retry or Refresh action (librdkafka sends the
 *  batch again); *partition is then its partition. */
bool verify_parse_retry_line(const char *line, const char *topic, int32_t *partition);

/** true when `line` is librdkafka's IMPLICITACK line of `topic` ("N
 *  message(s) implicitly acked by subsequent batch success (msgids A..B").
 *  *out is then filled. */
bool verify_parse_implicit_line(const char *line, const char *topic, verify_range_t *out);

/** Count everything from the observations into `res` and judge it. */
bool verify_analyze(const verify_observed_t *obs, verify_profile_t profile, verify_result_t *res);

void verify_observed_free(verify_observed_t *obs);

#endif
