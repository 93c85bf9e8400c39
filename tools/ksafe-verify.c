/*
 * ksafe-verify: show, under injected faults, what the safe producer
 * guarantees and what an unsafe one does.
 *
 * A thin CLI: parse the options, run each profile (verify-run.c), count and
 * judge (verify-analyze.c), print a side-by-side table or a JSON document.
 * The ksafe profiles' producers come from ksafe_producer_new() with the
 * default policy: no rule of ksafe is repeated here.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ksafe.h"
#include "verify.h"

#define MAX_PARTITIONS 64

static const char note_text[] =
        "mock_duplicates are second copies in the mock cluster's log that came from a resend "
        "carrying its first send's producer id, epoch and base sequence: a real broker drops "
        "such a resend as a duplicate. The mock checks sequence numbers only for transactional "
        "producers, and with more than one request in flight its sequence window lets some "
        "through even then; so the transactional profile's log-level check is exact only with "
        "one request in flight (--max-in-flight 1). The guarantee is shown from what the client "
        "sent, batch by batch. mock_lost are messages absent from the log that the client "
        "acknowledged because a later batch of the same producer succeeded: a broker refuses "
        "a batch that leaves a gap in the sequence (OUT_OF_ORDER_SEQUENCE_NUMBER), the mock "
        "does not check an idempotent producer's sequence and wrote it.";

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: ksafe-verify [OPTIONS]\n"
                "Produce N messages into librdkafka's mock cluster (3 brokers, replication 3)\n"
                "with faults injected, read the log back and count, per profile and per\n"
                "partition: sent, acked, lost, duplicated, mock_duplicates, reordered, resends\n"
                "and resends_same_seq. The proof comes from every Produce batch the client\n"
                "sent (librdkafka's debug log) and every delivery report.\n"
                "\n"
                "Workload:\n"
                "  -n, --messages N       messages per profile (default 10000)\n"
                "  -P, --partitions N     partitions of the mock topic (1..%d, default 6)\n"
                "      --faults LIST      lost-acks, broker-down, leader-change, retriable,\n"
                "                         all or none, comma-separated (default all)\n"
                "      --seed N           where and when the faults strike (default 1)\n"
                "      --max-in-flight N  the ksafe profiles' requests in flight (1..5,\n"
                "                         default 5)\n"
                "      --socket-timeout-ms N  when an unanswered request is sent again\n"
                "                         (default 1000; a lost ack answers after N + 1500)\n"
                "\n"
                "Profiles:\n"
                "      --compare          unsafe, idempotent and transactional side by side\n"
                "                         (the default)\n"
                "      --profile LIST     only these: unsafe, idempotent, transactional\n"
                "\n"
                "Cluster:\n"
                "  -b, --brokers LIST     a real cluster (default: $KSAFE_TEST_BROKERS, else the\n"
                "                         mock); no faults are injected there\n"
                "  -t, --topic NAME       the real cluster's topic (default ksafe-verify)\n"
                "\n"
                "Output:\n"
                "  -f, --format FMT       text (default) or json\n"
                "  -v, --verbose          text: the counts of every partition too\n"
                "  -q, --quiet            no progress on stderr\n"
                "      --log FILE         write each producer's librdkafka debug log to FILE\n"
                "                         (debug=msg,eos,broker,protocol)\n"
                "  -h, --help             show this help and exit\n"
                "  -V, --version          show the versions of ksafe and librdkafka\n"
                "\n"
                "Exit status: 0 every ksafe profile met its guarantee, 1 one did not (or it\n"
                "could not be shown), 2 bad usage or the cluster could not be set up.\n",
                MAX_PARTITIONS);
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
        va_list ap;
        fputs("ksafe-verify: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'ksafe-verify --help'.\n", stderr);
        return VERIFY_EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
        char *end;
        if (!*s || *s == '-' || *s == '+')
                return false;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (*end || errno || v < min || v > max)
                return false;
        *out = v;
        return true;
}

/* A comma-separated list of names into a bit set: bit k for names[k], and
 * the bits of `extra` (e.g. "all") for extra_names; false on an unknown or
 * empty name. */
typedef struct named_bits_s {
        const char *name;
        unsigned bits;
} named_bits_t;

static bool parse_name_list(const char *s, const char *const *names, unsigned count,
                            const named_bits_t *extra, size_t extra_count, unsigned *out)
{
        unsigned bits = 0;
        char word[32];
        while (*s) {
                size_t n = strcspn(s, ",");
                if (n == 0 || n >= sizeof(word))
                        return false;
                memcpy(word, s, n);
                word[n] = '\0';
                bool known = false;
                for (unsigned k = 0; k < count; k++)
                        if (strcmp(word, names[k]) == 0) {
                                bits |= 1u << k;
                                known = true;
                        }
                for (size_t k = 0; k < extra_count; k++)
                        if (strcmp(word, extra[k].name) == 0) {
                                bits |= extra[k].bits;
                                known = true;
                        }
                if (!known)
                        return false;
                s += n;
                if (*s == ',' && *++s == '\0')
                        return false;
        }
        *out = bits;
        return true;
}

static bool parse_faults(const char *s, unsigned *out)
{
        static const named_bits_t extra[] = {{"all", VERIFY_FAULT_ALL}, {"none", 0}};
        unsigned count = sizeof(verify_fault_names) / sizeof(*verify_fault_names);
        return parse_name_list(s, verify_fault_names, count, extra, sizeof(extra) / sizeof(*extra),
                               out);
}

static bool parse_profiles(const char *s, bool *out)
{
        unsigned bits;
        if (!parse_name_list(s, verify_profile_names, VERIFY_PROFILE_COUNT, NULL, 0, &bits))
                return false;
        for (int i = 0; i < VERIFY_PROFILE_COUNT; i++)
                out[i] = bits & (1u << i);
        return true;
}

typedef struct out_opts_s {
        bool json;
        bool verbose;
} out_opts_t;

enum long_only {
        OPT_FAULTS = 256,
        OPT_SEED,
        OPT_MAX_IN_FLIGHT,
        OPT_SOCKET_TIMEOUT,
        OPT_COMPARE,
        OPT_PROFILE,
        OPT_LOG
};

static int parse_options(int argc, char **argv, verify_opts_t *o, out_opts_t *out)
{
        static const struct option long_opts[] = {
                {"messages", required_argument, NULL, 'n'},
                {"partitions", required_argument, NULL, 'P'},
                {"faults", required_argument, NULL, OPT_FAULTS},
                {"seed", required_argument, NULL, OPT_SEED},
                {"max-in-flight", required_argument, NULL, OPT_MAX_IN_FLIGHT},
                {"socket-timeout-ms", required_argument, NULL, OPT_SOCKET_TIMEOUT},
                {"compare", no_argument, NULL, OPT_COMPARE},
                {"profile", required_argument, NULL, OPT_PROFILE},
                {"log", required_argument, NULL, OPT_LOG},
                {"brokers", required_argument, NULL, 'b'},
                {"topic", required_argument, NULL, 't'},
                {"format", required_argument, NULL, 'f'},
                {"verbose", no_argument, NULL, 'v'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {NULL, 0, NULL, 0},
        };
        bool faults_given = false, compare = false, profile_given = false;
        uint64_t v;
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":n:P:b:t:f:vqhV", long_opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        if (!parse_u64(optarg, 1, 100000000, &o->messages))
                                return bad_usage("--messages needs a number from 1 to "
                                                 "100000000, not '%s'",
                                                 optarg);
                        break;
                case 'P':
                        if (!parse_u64(optarg, 1, MAX_PARTITIONS, &v))
                                return bad_usage("--partitions needs a number from 1 to %d, "
                                                 "not '%s'",
                                                 MAX_PARTITIONS, optarg);
                        o->partitions = (int)v;
                        break;
                case OPT_FAULTS:
                        if (!parse_faults(optarg, &o->faults))
                                return bad_usage("unknown fault in '%s' (lost-acks, broker-down, "
                                                 "leader-change, retriable, all or none)",
                                                 optarg);
                        faults_given = true;
                        break;
                case OPT_SEED:
                        if (!parse_u64(optarg, 0, UINT64_MAX, &o->seed))
                                return bad_usage("--seed needs a number, not '%s'", optarg);
                        break;
                case OPT_MAX_IN_FLIGHT:
                        if (!parse_u64(optarg, 1, 5, &v))
                                return bad_usage("--max-in-flight needs 1 to 5 (the ksafe "
                                                 "policy's bound), not '%s'",
                                                 optarg);
                        o->max_in_flight = (int)v;
                        break;
                case OPT_SOCKET_TIMEOUT:
                        if (!parse_u64(optarg, 100, 60000, &v))
                                return bad_usage("--socket-timeout-ms needs 100 to 60000, "
                                                 "not '%s'",
                                                 optarg);
                        o->socket_timeout_ms = (int)v;
                        break;
                case OPT_COMPARE: compare = true; break;
                case OPT_LOG:
                        if (o->log)
                                fclose(o->log);
                        o->log = fopen(optarg, "w");
                        if (!o->log)
                                return bad_usage("cannot write --log %s: %s", optarg,
                                                 strerror(errno));
                        break;
                case OPT_PROFILE:
                        if (!parse_profiles(optarg, o->profiles))
                                return bad_usage("unknown profile in '%s' (unsafe, idempotent "
                                                 "or transactional)",
                                                 optarg);
                        profile_given = true;
                        break;
                case 'b':
                        if (!*optarg)
                                return bad_usage("%s", "--brokers needs a list of brokers");
                        o->brokers = optarg;
                        break;
                case 't':
                        if (!*optarg || strlen(optarg) > 100)
                                return bad_usage("%s", "--topic needs a name (at most 100 "
                                                       "characters)");
                        o->topic = optarg;
                        break;
                case 'f':
                        if (strcmp(optarg, "json") == 0)
                                out->json = true;
                        else if (strcmp(optarg, "text") == 0)
                                out->json = false;
                        else
                                return bad_usage("unknown format '%s' (text or json)", optarg);
                        break;
                case 'v': out->verbose = true; break;
                case 'q': o->progress = false; break;
                case 'h': usage(stdout); return -1;
                case 'V':
                        printf("ksafe-verify %s (librdkafka %s)\n", ksafe_version_str(),
                               rd_kafka_version_str());
                        return -1;
                case ':': return bad_usage("option '%s' needs an argument", argv[optind - 1]);
                default: return bad_usage("unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return bad_usage("unexpected argument '%s'", argv[optind]);
        if (compare && profile_given)
                return bad_usage("%s", "--compare runs every profile: it does not go with "
                                       "--profile");
        if (!o->brokers) {
                const char *env = getenv("KSAFE_TEST_BROKERS");
                if (env && *env)
                        o->brokers = env;
        }
        if (o->brokers) {
                if (faults_given && o->faults)
                        return bad_usage("%s", "--faults needs the mock cluster: faults cannot "
                                               "be injected into a real one (-b)");
                o->faults = 0;
        }
        return 0;
}

static void counts_json(json_t *obj, const verify_counts_t *c)
{
        json_object_set_new(obj, "sent", json_integer((json_int_t)c->sent));
        json_object_set_new(obj, "acked", json_integer((json_int_t)c->acked));
        json_object_set_new(obj, "lost", json_integer((json_int_t)c->lost));
        json_object_set_new(obj, "mock_lost", json_integer((json_int_t)c->mock_lost));
        json_object_set_new(obj, "duplicated", json_integer((json_int_t)c->duplicated));
        json_object_set_new(obj, "mock_duplicates", json_integer((json_int_t)c->mock_duplicates));
        json_object_set_new(obj, "reordered", json_integer((json_int_t)c->reordered));
        json_object_set_new(obj, "resends", json_integer((json_int_t)c->resends));
        json_object_set_new(obj, "resends_same_seq", json_integer((json_int_t)c->resends_same_seq));
}

static json_t *faults_json(unsigned faults)
{
        json_t *a = json_array();
        for (unsigned k = 0; k < 4; k++)
                if (faults & (1u << k))
                        json_array_append_new(a, json_string(verify_fault_names[k]));
        return a;
}

static bool print_json(const verify_opts_t *o, const verify_result_t *res, size_t count, bool ok)
{
        json_t *doc = json_object();
        json_object_set_new(doc, "version", json_integer(VERIFY_JSON_VERSION));
        json_object_set_new(doc, "seed", json_integer((json_int_t)o->seed));
        json_object_set_new(doc, "faults", faults_json(o->faults));
        json_object_set_new(doc, "messages", json_integer((json_int_t)o->messages));
        json_object_set_new(doc, "cluster", json_string(o->brokers ? "brokers" : "mock"));
        json_object_set_new(doc, "max_in_flight", json_integer(o->max_in_flight));
        json_object_set_new(doc, "ok", json_boolean(ok));
        json_t *profiles = json_array();
        for (size_t i = 0; i < count; i++) {
                const verify_result_t *r = &res[i];
                json_t *p = json_object();
                json_object_set_new(p, "name", json_string(verify_profile_names[r->profile]));
                json_object_set_new(p, "ran", json_boolean(r->ran));
                if (r->profile == VERIFY_UNSAFE)
                        json_object_set_new(p, "guarantee_met", json_null());
                else
                        json_object_set_new(p, "guarantee_met", json_boolean(r->guarantee_met));
                json_object_set_new(p, "verdict", json_string(r->verdict));
                counts_json(p, &r->total);
                json_object_set_new(p, "batches", json_integer((json_int_t)r->batches));
                json_object_set_new(p, "aborted_transactions",
                                    json_integer((json_int_t)r->aborted_transactions));
                json_object_set_new(p, "aborted_records",
                                    json_integer((json_int_t)r->aborted_records));
                json_object_set_new(p, "inconsistencies",
                                    json_integer((json_int_t)r->inconsistencies));
                if (r->inconsistencies)
                        json_object_set_new(p, "first_inconsistency",
                                            json_string(r->inconsistency));
                json_object_set_new(p, "seconds", json_real(r->seconds));
                json_t *parts = json_array();
                for (int k = 0; k < r->partitions; k++) {
                        json_t *q = json_object();
                        json_object_set_new(q, "partition", json_integer(k));
                        counts_json(q, &r->parts[k]);
                        json_array_append_new(parts, q);
                }
                json_object_set_new(p, "partitions", parts);
                json_array_append_new(profiles, p);
        }
        json_object_set_new(doc, "profiles", profiles);
        json_object_set_new(doc, "note", json_string(o->brokers ? "" : note_text));
        int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        json_decref(doc);
        return rc == 0 && fputc('\n', stdout) != EOF;
}

typedef struct row_s {
        const char *name;
        size_t offset;
} row_t;

static const row_t rows[] = {
        {"sent", offsetof(verify_counts_t, sent)},
        {"acked", offsetof(verify_counts_t, acked)},
        {"lost", offsetof(verify_counts_t, lost)},
        {"mock_lost", offsetof(verify_counts_t, mock_lost)},
        {"duplicated", offsetof(verify_counts_t, duplicated)},
        {"mock_duplicates", offsetof(verify_counts_t, mock_duplicates)},
        {"reordered", offsetof(verify_counts_t, reordered)},
        {"resends", offsetof(verify_counts_t, resends)},
        {"resends_same_seq", offsetof(verify_counts_t, resends_same_seq)},
};

static uint64_t count_at(const verify_counts_t *c, size_t offset)
{
        uint64_t v;
        memcpy(&v, (const char *)c + offset, sizeof(v));
        return v;
}

static void print_table(const verify_result_t *res, size_t count, int partition)
{
        printf("%-18s", "");
        for (size_t i = 0; i < count; i++)
                printf(" %14s", verify_profile_names[res[i].profile]);
        printf("\n");
        for (size_t r = 0; r < sizeof(rows) / sizeof(*rows); r++) {
                printf("%-18s", rows[r].name);
                for (size_t i = 0; i < count; i++) {
                        const verify_counts_t *c = partition < 0 ? &res[i].total
                                                   : partition < res[i].partitions
                                                           ? &res[i].parts[partition]
                                                           : NULL;
                        if (!res[i].ran || !c)
                                printf(" %14s", "-");
                        else
                                printf(" %14" PRIu64, count_at(c, rows[r].offset));
                }
                printf("\n");
        }
}

/* `text` after `lead`, cut at spaces into lines of at most `width`. */
static void print_wrapped(const char *lead, const char *text, size_t width)
{
        size_t col = strlen(lead);
        bool line_start = true;
        fputs(lead, stdout);
        while (*text) {
                size_t word = strcspn(text, " ");
                if (!line_start && col + 1 + word > width) {
                        fputc('\n', stdout);
                        col = 0;
                        line_start = true;
                }
                if (!line_start) {
                        fputc(' ', stdout);
                        col++;
                }
                fwrite(text, 1, word, stdout);
                col += word;
                line_start = false;
                text += word;
                while (*text == ' ')
                        text++;
        }
        fputc('\n', stdout);
}

static void print_text(const verify_opts_t *o, const verify_result_t *res, size_t count,
                       bool verbose)
{
        printf("ksafe-verify: %" PRIu64 " messages per profile, ", o->messages);
        if (o->brokers)
                printf("cluster %s, topic %s", o->brokers, o->topic);
        else
                printf("mock cluster of 3 brokers, %d partitions, replication 3", o->partitions);
        printf(", faults: ");
        if (!o->faults)
                printf("none");
        for (unsigned k = 0, first = 1; k < 4; k++)
                if (o->faults & (1u << k)) {
                        printf("%s%s", first ? "" : ",", verify_fault_names[k]);
                        first = 0;
                }
        printf(", seed %" PRIu64 ", ksafe profiles' max.in.flight %d\n\n", o->seed,
               o->max_in_flight);
        print_table(res, count, -1);
        printf("%-18s", "batches");
        for (size_t i = 0; i < count; i++)
                printf(" %14" PRIu64, res[i].batches);
        printf("\n%-18s", "aborted_txns");
        for (size_t i = 0; i < count; i++)
                printf(" %14" PRIu64, res[i].aborted_transactions);
        printf("\n%-18s", "seconds");
        for (size_t i = 0; i < count; i++)
                printf(" %14.1f", res[i].seconds);
        printf("\n");
        if (verbose) {
                int maxp = 0;
                for (size_t i = 0; i < count; i++)
                        if (res[i].partitions > maxp)
                                maxp = res[i].partitions;
                for (int p = 0; p < maxp; p++) {
                        printf("\npartition %d\n", p);
                        print_table(res, count, p);
                }
        }
        printf("\n");
        for (size_t i = 0; i < count; i++) {
                const verify_result_t *r = &res[i];
                const char *tag = r->profile == VERIFY_UNSAFE ? "shown"
                                  : r->guarantee_met          ? "MET"
                                                              : "NOT MET";
                if (r->profile == VERIFY_UNSAFE && r->ran) {
                        printf("%-14s %s: %" PRIu64 " duplicated, %" PRIu64 " reordered, %" PRIu64
                               " lost (no guarantee)\n",
                               verify_profile_names[r->profile], tag, r->total.duplicated,
                               r->total.reordered, r->total.lost);
                } else {
                        printf("%-14s %s: %s\n", verify_profile_names[r->profile],
                               r->profile == VERIFY_UNSAFE ? "not run" : tag, r->verdict);
                }
                if (r->inconsistencies)
                        printf("%-14s first inconsistency: %s\n", "", r->inconsistency);
                if (r->ran && o->faults && r->total.resends == 0)
                        printf("%-14s the faults caused no resend in this run\n", "");
        }
        if (!o->brokers) {
                printf("\n");
                print_wrapped("Note: ", note_text, 92);
        }
}

int main(int argc, char **argv)
{
        verify_opts_t o = {
                .messages = 10000,
                .partitions = 6,
                .faults = VERIFY_FAULT_ALL,
                .seed = 1,
                .topic = "ksafe-verify",
                .max_in_flight = 5,
                .socket_timeout_ms = 1000,
                .profiles = {true, true, true},
                .progress = true,
                .tty = isatty(STDERR_FILENO) == 1,
        };
        out_opts_t out = {0};
        const char *corrupt = getenv("KSAFE_VERIFY_TEST_CORRUPT");
        o.corrupt = corrupt && strcmp(corrupt, "1") == 0;
        int status = parse_options(argc, argv, &o, &out);
        if (status < 0)
                return fclose(stdout) == 0 ? VERIFY_EXIT_OK : VERIFY_EXIT_USAGE;
        if (status > 0)
                return status;

        verify_result_t res[VERIFY_PROFILE_COUNT];
        size_t count = 0;
        bool ok = true, setup_failed = false;
        for (int p = 0; p < VERIFY_PROFILE_COUNT; p++) {
                if (!o.profiles[p])
                        continue;
                verify_result_t *r = &res[count++];
                if (!verify_run_profile(&o, (verify_profile_t)p, r))
                        setup_failed = true;
                if (!r->ran)
                        fprintf(stderr, "ksafe-verify: %s: %s\n", verify_profile_names[p],
                                r->error);
                if (p != VERIFY_UNSAFE && !r->guarantee_met)
                        ok = false;
                if (setup_failed)
                        break;
        }
        bool written = true;
        if (!setup_failed) {
                if (out.json)
                        written = print_json(&o, res, count, ok);
                else
                        print_text(&o, res, count, out.verbose);
        }
        for (size_t i = 0; i < count; i++)
                free(res[i].parts);
        if (o.log && fclose(o.log) != 0) {
                perror("ksafe-verify: --log");
                return VERIFY_EXIT_USAGE;
        }
        if (ferror(stdout) | fclose(stdout) || !written) {
                perror("ksafe-verify: stdout");
                return VERIFY_EXIT_USAGE;
        }
        if (setup_failed)
                return VERIFY_EXIT_USAGE;
        return ok ? VERIFY_EXIT_OK : VERIFY_EXIT_FAILED;
}
