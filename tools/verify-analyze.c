/*
 * ksafe-verify: what the client sent, what it was told and what the log
 * holds, counted and judged.
 *
 * The proof for the ksafe profiles comes from what the client sent (every
 * Produce batch as librdkafka logged it with debug=msg): the mock cluster
 * checks sequence numbers only for transactional producers, so its log alone
 * proves nothing for them. Every count is defined in the README.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

const char *const verify_fault_names[4] = {"lost-acks", "broker-down", "leader-change",
                                           "retriable"};
const char *const verify_profile_names[VERIFY_PROFILE_COUNT] = {"unsafe", "idempotent",
                                                                "transactional"};

/* strtoll/strtoull of exactly one number at *p, advancing *p. */
static bool take_i64(const char **p, int64_t *out)
{
        char *end;
        long long v = strtoll(*p, &end, 10);
        if (end == *p)
                return false;
        *out = v;
        *p = end;
        return true;
}

static bool take_lit(const char **p, const char *lit)
{
        size_t n = strlen(lit);
        if (strncmp(*p, lit, n) != 0)
                return false;
        *p += n;
        return true;
}

/*
 * librdkafka 2.0.2 (rdkafka_msgset_writer.c) logs, with debug=msg:
 *   [thrd:HOST:PORT/bootstrap]: HOST:PORT/ID: TOPIC [P]: Produce MessageSet
 *   with N message(s) (B bytes, ApiVersion A, MsgVersion V, MsgId M,
 *   BaseSeq S, PID{Id:I,Epoch:E}, uncompressed)
 * with "PID{Invalid}" for a producer without idempotence.
 */
bool verify_parse_produce_line(const char *line, const char *topic, verify_batch_t *out,
                               bool *malformed)
{
        static const char marker[] = "]: Produce MessageSet with ";
        *malformed = false;
        const char *m = strstr(line, marker);
        if (!m)
                return false;
        /* Backwards from "]: Produce": "NAME/ID: TOPIC [P" */
        const char *bracket = m;
        while (bracket > line && *bracket != '[')
                bracket--;
        size_t tlen = strlen(topic);
        const char *tstart = bracket - 1 - tlen; /* TOPIC then ' ' then '[' */
        if (bracket == line || bracket - line < (ptrdiff_t)(tlen + 3) || bracket[-1] != ' ')
                goto bad;
        if (strncmp(tstart, topic, tlen) != 0 || tstart[-1] != ' ' || tstart[-2] != ':')
                return false; /* another topic's batch (or not ours): not an error */
        int64_t v;
        const char *p = bracket + 1;
        if (!take_i64(&p, &v) || p != m || v < 0 || v > INT32_MAX)
                goto bad;
        out->partition = (int32_t)v;
        /* The broker's name ends in "/ID" just before ": TOPIC". */
        const char *name_end = tstart - 2;
        const char *slash = name_end;
        while (slash > line && *slash != '/' && *slash != ' ')
                slash--;
        out->broker = -1;
        if (*slash == '/') {
                const char *q = slash + 1;
                if (take_i64(&q, &v) && q == name_end && v >= 0 && v <= INT32_MAX)
                        out->broker = (int32_t)v;
        }
        p = m + sizeof(marker) - 1;
        if (!take_i64(&p, &v) || v < 1 || v > INT32_MAX || !take_lit(&p, " message(s) ("))
                goto bad;
        out->count = (int)v;
        const char *q = strstr(p, ", MsgId ");
        if (!q)
                goto bad;
        p = q + strlen(", MsgId ");
        if (!take_i64(&p, &v) || v < 0 || !take_lit(&p, ", BaseSeq "))
                goto bad;
        out->first_msgid = (uint64_t)v;
        if (!take_i64(&p, &v) || v < -1 || v > INT32_MAX || !take_lit(&p, ", PID{"))
                goto bad;
        out->base_seq = (int32_t)v;
        if (take_lit(&p, "Invalid}")) {
                out->has_pid = false;
                out->pid = -1;
                out->epoch = -1;
        } else {
                int64_t pid, epoch;
                if (!take_lit(&p, "Id:") || !take_i64(&p, &pid) || !take_lit(&p, ",Epoch:") ||
                    !take_i64(&p, &epoch) || !take_lit(&p, "}") || epoch < 0 || epoch > INT16_MAX ||
                    pid < 0)
                        goto bad;
                out->has_pid = true;
                out->pid = pid;
                out->epoch = (int16_t)epoch;
        }
        return true;
bad:
        *malformed = true;
        return false;
}

/*
 * librdkafka 2.0.2 (rdkafka_request.c) logs, with debug=msg, a batch that
 * failed:
 *   ... TOPIC [P]: MessageSet with N message(s) (MsgId M, BaseSeq S)
 *   encountered error: TEXT (actions A,B)
 * true for such a line of `topic` whose actions include Retry or Refresh.
 */
bool verify_parse_retry_line(const char *line, const char *topic, int32_t *partition)
{
        const char *m = strstr(line, "]: MessageSet with ");
        if (!m || !strstr(m, ") encountered error: "))
                return false;
        const char *acts = strstr(m, " (actions ");
        const char *last = acts;
        while (last && (acts = strstr(last + 1, " (actions ")))
                last = acts;
        if (!last)
                return false;
        /* rd_kafka_handle_Produce_error() sends the batch again on Retry,
         * and on Refresh (which implies a retry). */
        char actions[128];
        size_t alen = strcspn(last + 10, ")");
        snprintf(actions, sizeof(actions), ",%.*s,", (int)(alen < 120 ? alen : 120), last + 10);
        if (!strstr(actions, ",Retry,") && !strstr(actions, ",Refresh,"))
                return false;
        const char *bracket = m;
        while (bracket > line && *bracket != '[')
                bracket--;
        size_t tlen = strlen(topic);
        if (bracket - line < (ptrdiff_t)(tlen + 1) || bracket[-1] != ' ' ||
            strncmp(bracket - 1 - tlen, topic, tlen) != 0)
                return false;
        const char *p = bracket + 1;
        int64_t v;
        if (!take_i64(&p, &v) || p != m || v < 0 || v > INT32_MAX)
                return false;
        *partition = (int32_t)v;
        return true;
}

/*
 * librdkafka 2.0.2 (rdkafka_broker.c, rd_kafka_dr_implicit_ack) logs:
 *   ... TOPIC [P] N message(s) implicitly acked by subsequent batch success
 *   (msgids A..B, last acked C)
 */
bool verify_parse_implicit_line(const char *line, const char *topic, verify_range_t *out)
{
        const char *m = strstr(line, " implicitly acked by subsequent batch success (msgids ");
        if (!m)
                return false;
        size_t tlen = strlen(topic);
        const char *bracket = m;
        while (bracket > line && *bracket != '[')
                bracket--;
        if (bracket - line < (ptrdiff_t)(tlen + 1) || bracket[-1] != ' ' ||
            strncmp(bracket - 1 - tlen, topic, tlen) != 0)
                return false;
        const char *p = bracket + 1;
        int64_t part, a, b;
        if (!take_i64(&p, &part) || !take_lit(&p, "] ") || part < 0 || part > INT32_MAX)
                return false;
        p = m + strlen(" implicitly acked by subsequent batch success (msgids ");
        if (!take_i64(&p, &a) || !take_lit(&p, "..") || !take_i64(&p, &b) || a < 1 || b < a)
                return false;
        out->partition = (int32_t)part;
        out->first_msgid = (uint64_t)a;
        out->last_msgid = (uint64_t)b;
        return true;
}

/* What the analysis keeps of one message. */
typedef struct msg_state_s {
        uint32_t sends;    /* batches that carried it */
        uint32_t same_seq; /* later sends with the first send's PID, epoch, seq */
        bool has_pid;      /* of its first send */
        int16_t epoch;
        int64_t pid;
        int64_t seq;
        int32_t index; /* its place in the last batch that carried it */
        bool implicit; /* acknowledged by a later batch's success */
} msg_state_t;

static void inconsistent(verify_result_t *res, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void inconsistent(verify_result_t *res, const char *fmt, ...)
{
        if (res->inconsistencies++ == 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(res->inconsistency, sizeof(res->inconsistency), fmt, ap);
                va_end(ap);
        }
}

static void add_counts(verify_counts_t *to, const verify_counts_t *c)
{
        to->sent += c->sent;
        to->acked += c->acked;
        to->lost += c->lost;
        to->mock_lost += c->mock_lost;
        to->duplicated += c->duplicated;
        to->mock_duplicates += c->mock_duplicates;
        to->reordered += c->reordered;
        to->resends += c->resends;
        to->resends_same_seq += c->resends_same_seq;
}

/* The index of `offset` in a partition's ascending offsets, or len. */
static uint64_t find_offset(const int64_t *offsets, uint64_t len, int64_t offset)
{
        uint64_t lo = 0, hi = len;
        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;
                if (offsets[mid] < offset)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < len && offsets[lo] == offset ? lo : len;
}

/* One partition's counts. Sends are keyed by librdkafka's message id (a
 * message produced again after an aborted transaction gets a new one), the
 * log by send number. Returns false when out of memory. */
/* One partition's analysis: what was observed, and the tables built from it. */
typedef struct part_s {
        const verify_observed_t *obs;
        int32_t p;
        uint64_t sent, ids;
        msg_state_t *st;     /* per message id */
        uint32_t *copies;    /* per send number: copies in the log */
        uint64_t *final_id;  /* per send number: its last message id (0: none) */
        bool seq_base_known; /* some batch carried a producer id */
        verify_counts_t *c;
        verify_result_t *res;
} part_t;

/* What was sent, batch by batch, in order: each message's sends and
 * sequence, and the resends. */
static void count_sends(part_t *P)
{
        const verify_observed_t *obs = P->obs;
        const int32_t p = P->p;
        verify_counts_t *c = P->c;
        verify_result_t *res = P->res;
        const uint64_t ids = P->ids;
        msg_state_t *st = P->st;
        bool seq_base_known = false;
        int64_t seq_pid = 0, seq_delta = 0;
        int16_t seq_epoch = 0;
        for (size_t i = 0; i < obs->batch_count; i++) {
                const verify_batch_t *b = &obs->batches[i];
                if (b->partition != p)
                        continue;
                if (!b->has_pid) {
                        /* Without idempotence librdkafka logs no message id
                         * (MsgId 0): the batch's messages are not known. Its
                         * resends are the batches it logged as failed with a
                         * Retry or Refresh action (obs->retried). */
                        continue;
                }
                if (b->first_msgid < 1 || b->first_msgid - 1 + (uint64_t)b->count > ids) {
                        inconsistent(res,
                                     "partition %" PRId32 ": a batch of message ids %" PRIu64
                                     "..%" PRIu64 " but only %" PRIu64 " messages were produced",
                                     p, b->first_msgid, b->first_msgid + (uint64_t)b->count - 1,
                                     ids);
                        continue;
                }
                /* With a producer id, record i of a batch has sequence
                 * BaseSeq + i (the protocol), and librdkafka numbers
                 * sequences by message id within an epoch: the batch holds
                 * exactly the ids first..first+count-1. Without one, only the
                 * first id is certain (a retry can be batched with later
                 * messages), so only the first message is attributed. */
                int64_t delta = (int64_t)b->base_seq - (int64_t)b->first_msgid;
                if (seq_base_known && seq_pid == b->pid && seq_epoch == b->epoch &&
                    delta != seq_delta)
                        inconsistent(res,
                                     "partition %" PRId32 ": message id %" PRIu64
                                     " sent with BaseSeq %" PRId32
                                     ", out of step with the producer's other batches"
                                     " of the same epoch",
                                     p, b->first_msgid, b->base_seq);
                seq_base_known = true;
                seq_pid = b->pid;
                seq_epoch = b->epoch;
                seq_delta = delta;
                const msg_state_t *first = &st[b->first_msgid - 1];
                bool resend = first->sends > 0;
                bool same_seq = resend;
                for (int k = 0; k < b->count; k++) {
                        msg_state_t *m = &st[b->first_msgid - 1 + (uint64_t)k];
                        int64_t seq = (int64_t)b->base_seq + k;
                        if (m->sends == 0) {
                                m->has_pid = true;
                                m->pid = b->pid;
                                m->epoch = b->epoch;
                                m->seq = seq;
                                if (resend)
                                        same_seq = false; /* a new message in a resend */
                        } else if (m->pid == b->pid && m->epoch == b->epoch && m->seq == seq) {
                                m->same_seq++;
                        } else {
                                same_seq = false;
                        }
                        m->sends++;
                        m->index = k;
                }
                c->resends += resend;
                c->resends_same_seq += same_seq;
        }
        if (!seq_base_known)
                c->resends = obs->retried[p];
        P->seq_base_known = seq_base_known;
}

/* The messages librdkafka acknowledged implicitly (a later batch succeeded). */
static void mark_implicit(part_t *P)
{
        const verify_observed_t *obs = P->obs;
        for (size_t i = 0; i < obs->implicit_count; i++) {
                const verify_range_t *r = &obs->implicit[i];
                if (r->partition != P->p)
                        continue;
                for (uint64_t id = r->first_msgid; id <= r->last_msgid && id <= P->ids; id++)
                        P->st[id - 1].implicit = true;
        }
}

/* What the log holds (records of aborted transactions left out): the
 * copies of each message, and the messages out of order. */
static void count_log(part_t *P)
{
        const verify_observed_t *obs = P->obs;
        const int32_t p = P->p;
        verify_counts_t *c = P->c;
        const uint64_t sent = P->sent;
        uint32_t *copies = P->copies;
        verify_result_t *res = P->res;
        uint64_t max_seen = 0;
        bool any = false;
        for (uint64_t i = 0; i < obs->log_len[p]; i++) {
                uint64_t n = obs->log[p][i];
                if (n >= sent) {
                        inconsistent(res,
                                     "partition %" PRId32 ": the log holds send number %" PRIu64
                                     ", which was never produced",
                                     p, n);
                        continue;
                }
                if (copies[n]++ == 0) {
                        if (any && n < max_seen)
                                c->reordered++;
                        if (!any || n > max_seen)
                                max_seen = n;
                        any = true;
                }
        }
}

/* Each message: lost or not, its duplicates (the mock's or real ones),
 * and whether what was sent, written and acknowledged agree. */
static void judge_messages(part_t *P)
{
        const verify_observed_t *obs = P->obs;
        const int32_t p = P->p;
        verify_counts_t *c = P->c;
        verify_result_t *res = P->res;
        const uint64_t sent = P->sent;
        const msg_state_t *st = P->st;
        const uint32_t *copies = P->copies;
        const uint64_t *final_id = P->final_id;
        const bool seq_base_known = P->seq_base_known;
        static const msg_state_t none = {0};
        for (uint64_t n = 0; n < sent; n++) {
                const msg_state_t *m = final_id[n] ? &st[final_id[n] - 1] : &none;
                uint64_t idx = verify_index(obs->partitions, p, n);
                /* librdkafka acknowledges a message implicitly when a later
                 * batch of the same producer succeeds: a broker refuses a
                 * sequence gap (OUT_OF_ORDER_SEQUENCE_NUMBER), so the later
                 * batch proves the earlier one written. The mock checks no
                 * sequence of an idempotent producer and writes the later
                 * batch over the gap. */
                if (copies[n] == 0 && m->implicit && m->has_pid && !obs->real_cluster)
                        c->mock_lost++;
                else if (copies[n] == 0)
                        c->lost++;
                if (copies[n] > 1) {
                        uint64_t extra = copies[n] - 1;
                        uint64_t mock = extra < m->same_seq ? extra : m->same_seq;
                        c->mock_duplicates += mock;
                        c->duplicated += extra - mock;
                }
                /* The mock writes a batch at most once per request: more
                 * copies than sends means a send was not observed. Without a
                 * producer id the batches' messages are not known. */
                if (seq_base_known && copies[n] > m->sends)
                        inconsistent(res,
                                     "partition %" PRId32 ": message %" PRIu64
                                     " is in the log %" PRIu32 " times but was seen sent %" PRIu32
                                     " times",
                                     p, n, copies[n], m->sends);
                if (obs->acked[idx] && m->sends == 0 && seq_base_known)
                        inconsistent(res,
                                     "partition %" PRId32 ": message %" PRIu64
                                     " was acknowledged but never seen sent",
                                     p, n);
                int64_t off = obs->ack_offset[idx];
                if (obs->acked[idx] && off >= 0) {
                        uint64_t at = find_offset(obs->log_offset[p], obs->log_len[p], off);
                        /* The mock acknowledges a duplicate of a
                         * transactional producer without writing it, with
                         * BaseOffset -1: record k of that batch is told
                         * offset k - 1. Only that is accepted as a mismatch. */
                        bool mock_dup_ack =
                                m->has_pid && m->same_seq > 0 && off == (int64_t)m->index - 1;
                        if ((at == obs->log_len[p] || obs->log[p][at] != n) && !mock_dup_ack)
                                inconsistent(res,
                                             "partition %" PRId32 ": message %" PRIu64
                                             " was acknowledged at offset %" PRId64
                                             ", which holds another record",
                                             p, n, off);
                }
        }
}

static bool analyze_partition(const verify_observed_t *obs, int32_t p, verify_result_t *res)
{
        part_t P = {.obs = obs,
                    .p = p,
                    .sent = obs->sent[p],
                    .ids = obs->msgid_count[p],
                    .c = &res->parts[p],
                    .res = res};
        P.st = calloc(P.ids ? P.ids : 1, sizeof(*P.st));
        P.copies = calloc(P.sent ? P.sent : 1, sizeof(*P.copies));
        P.final_id = calloc(P.sent ? P.sent : 1, sizeof(*P.final_id));
        bool ok = P.st && P.copies && P.final_id;
        if (ok) {
                P.c->sent = P.sent;
                for (uint64_t n = 0; n < P.sent; n++)
                        P.c->acked += obs->acked[verify_index(obs->partitions, p, n)];
                for (uint64_t id = 1; id <= P.ids; id++) {
                        uint64_t n = obs->msgid_n[p][id - 1];
                        if (n < P.sent)
                                P.final_id[n] = id;
                }
                count_sends(&P);
                mark_implicit(&P);
                count_log(&P);
                judge_messages(&P);
        }
        free(P.st);
        free(P.copies);
        free(P.final_id);
        return ok;
}

static void verdict_add(char *buf, size_t size, const char *what)
{
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? "; " : "", what);
}

bool verify_analyze(const verify_observed_t *obs, verify_profile_t profile, verify_result_t *res)
{
        res->partitions = obs->partitions;
        res->parts = calloc((size_t)obs->partitions, sizeof(*res->parts));
        if (!res->parts)
                return false;
        res->batches = obs->batch_count;
        if (obs->unparsed_lines)
                inconsistent(res, "%" PRIu64 " Produce lines of librdkafka's log did not parse",
                             obs->unparsed_lines);
        if (obs->foreign_records && !obs->real_cluster)
                inconsistent(res, "%" PRIu64 " records in the log are not this run's",
                             obs->foreign_records);
        for (int32_t p = 0; p < obs->partitions; p++) {
                if (!analyze_partition(obs, p, res))
                        return false;
                add_counts(&res->total, &res->parts[p]);
        }
        if (profile == VERIFY_UNSAFE) {
                res->guarantee_met = false;
                snprintf(res->verdict, sizeof(res->verdict), "%s",
                         "no guarantee (not a ksafe profile)");
                return true;
        }
        char *v = res->verdict;
        v[0] = '\0';
        const verify_counts_t *t = &res->total;
        char line[128];
        if (res->inconsistencies) {
                snprintf(line, sizeof(line), "%" PRIu64 " inconsistent observation(s)",
                         res->inconsistencies);
                verdict_add(v, sizeof(res->verdict), line);
        }
        if (t->acked != t->sent) {
                snprintf(line, sizeof(line), "%" PRIu64 " not acknowledged", t->sent - t->acked);
                verdict_add(v, sizeof(res->verdict), line);
        }
        if (t->lost) {
                snprintf(line, sizeof(line), "%" PRIu64 " lost", t->lost);
                verdict_add(v, sizeof(res->verdict), line);
        }
        if (t->duplicated) {
                snprintf(line, sizeof(line), "%" PRIu64 " duplicated", t->duplicated);
                verdict_add(v, sizeof(res->verdict), line);
        }
        if (t->reordered) {
                snprintf(line, sizeof(line), "%" PRIu64 " reordered", t->reordered);
                verdict_add(v, sizeof(res->verdict), line);
        }
        if (t->resends != t->resends_same_seq) {
                snprintf(line, sizeof(line),
                         "%" PRIu64 " resend(s) with a new producer id, epoch or sequence",
                         t->resends - t->resends_same_seq);
                verdict_add(v, sizeof(res->verdict), line);
        }
        res->guarantee_met = v[0] == '\0';
        if (res->guarantee_met && t->mock_lost) {
                snprintf(v, sizeof(res->verdict),
                         "every message sent is in the log or was acknowledged by a later "
                         "batch that the mock wrote over a sequence gap (%" PRIu64
                         " mock_lost: a broker refuses that batch), in order, every resend "
                         "with its first sequence",
                         t->mock_lost);
                return true;
        }
        if (res->guarantee_met)
                snprintf(v, sizeof(res->verdict), "%s",
                         profile == VERIFY_TRANSACTIONAL
                                 ? "exactly once: every message acknowledged and in the log, "
                                   "in order, every resend with its first sequence"
                                 : "every message acknowledged and in the log, in order, "
                                   "every resend with its first sequence");
        return true;
}

void verify_observed_free(verify_observed_t *obs)
{
        if (!obs)
                return;
        free(obs->batches);
        free(obs->acked);
        free(obs->ack_offset);
        free(obs->sent);
        free(obs->retried);
        free(obs->implicit);
        free(obs->msgid_count);
        free(obs->msgid_cap);
        if (obs->msgid_n)
                for (int p = 0; p < obs->partitions; p++)
                        free(obs->msgid_n[p]);
        free(obs->msgid_n);
        free(obs->log_start);
        if (obs->log)
                for (int p = 0; p < obs->partitions; p++)
                        free(obs->log[p]);
        if (obs->log_offset)
                for (int p = 0; p < obs->partitions; p++)
                        free(obs->log_offset[p]);
        free(obs->log_offset);
        free(obs->log);
        free(obs->log_len);
        memset(obs, 0, sizeof(*obs));
}
