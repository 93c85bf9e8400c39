/*
 * The facade and the plugin called from many threads at once, as
 * include/ksafe.h promises they may be: what this round made per process
 * (librdkafka's property table built once, the memo of parsed values, the
 * finalize facts, the cached KSAFE_POLICY) must give every thread what one
 * thread gets.
 *
 * Each test starts its threads together (a barrier), in a process of its
 * own (Check forks one per test unless CK_FORK=no): the first test's
 * threads are the first users of everything built once per process.
 * tests/race/run.sh runs this program under ThreadSanitizer, which fails
 * it on any data race; here it checks the results.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, mkdtemp, pthread_barrier_t */

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ksafe.h>

#define THREADS 6
#define ROUNDS 4

static char dir[64];
static char policy_path[128];
static pthread_barrier_t barrier;

/* A policy (builtin:default and linger.ms=LINGER enforced) written at
 * `path` whole: a temporary file renamed over it. */
static void write_policy(const char *path, int linger)
{
        char tmp[160];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "{\"ksafe_policy\":1,\"name\":\"race\",\"extends\":\"builtin:default\","
                "\"rules\":[{\"id\":\"linger\",\"property\":\"linger.ms\",\"equals\":\"%03d\","
                "\"action\":\"enforce\"}]}\n",
                linger);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(rename(tmp, path), 0);
}

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/ksafe-race-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(policy_path, sizeof(policy_path), "%s/policy.json", dir);
        write_policy(policy_path, 111);
        setenv("KSAFE_POLICY", policy_path, 1);
        unsetenv("KSAFE_ENV");
        ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, THREADS), 0);
}

static void teardown(void)
{
        unlink(policy_path);
        rmdir(dir);
        unsetenv("KSAFE_POLICY");
        pthread_barrier_destroy(&barrier);
}

/* The debug lines (debug is a CSV flags property: never parsed on a
 * reused scratch conf) go nowhere. */
static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk, (void)level, (void)fac, (void)buf;
}

/* An unsafe conf: what every policy here repairs. */
static rd_kafka_conf_t *unsafe_conf(void)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, quiet_log);
        static const char *const set[][2] = {
                {"acks", "1"},       {"enable.idempotence", "false"}, {"linger.ms", "5"},
                {"debug", "broker"}, {"client.id", "race"},
        };
        char errstr[256];
        for (size_t i = 0; i < sizeof(set) / sizeof(*set); i++)
                if (rd_kafka_conf_set(conf, set[i][0], set[i][1], errstr, sizeof(errstr)) !=
                    RD_KAFKA_CONF_OK) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        return conf;
}

/* "name=value" of a created handle's property (a new string). */
static char *handle_value(rd_kafka_t *rk, const char *name)
{
        char value[128], out[192];
        size_t size = sizeof(value);
        if (rd_kafka_conf_get(rd_kafka_conf(rk), name, value, &size) != RD_KAFKA_CONF_OK)
                snprintf(value, sizeof(value), "(unknown)");
        snprintf(out, sizeof(out), "%s=%s", name, value);
        return strdup(out);
}

/* What one create says: the report, and what the handle uses. A new
 * string; NULL when the create failed (the reason in errstr). */
static char *create_once(const ksafe_policy_t *policy, char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = unsafe_conf();
        if (!conf) {
                snprintf(errstr, errstr_size, "unsafe_conf failed");
                return NULL;
        }
        ksafe_report_t *report = NULL;
        rd_kafka_t *rk = ksafe_producer_new(conf, policy, &report, errstr, errstr_size);
        if (!rk) {
                ksafe_report_destroy(report);
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        char *json = ksafe_report_to_json(report);
        char *acks = handle_value(rk, "acks");
        char *idem = handle_value(rk, "enable.idempotence");
        char *linger = handle_value(rk, "linger.ms");
        size_t size = (json ? strlen(json) : 0) + 512;
        char *out = malloc(size);
        if (out)
                snprintf(out, size, "%s %s %s\n%s", acks ? acks : "?", idem ? idem : "?",
                         linger ? linger : "?", json ? json : "?");
        free(json);
        free(acks);
        free(idem);
        free(linger);
        ksafe_report_destroy(report);
        rd_kafka_destroy(rk);
        return out;
}

/* What enforcing on a conf says: the report and the conf's values after. */
static char *enforce_once(const ksafe_policy_t *policy)
{
        rd_kafka_conf_t *conf = unsafe_conf();
        if (!conf)
                return NULL;
        ksafe_report_t *report = ksafe_conf_enforce(conf, policy);
        char *json = report ? ksafe_report_to_json(report) : NULL;
        char acks[64] = "?", linger[64] = "?";
        size_t size = sizeof(acks);
        (void)rd_kafka_conf_get(conf, "acks", acks, &size);
        size = sizeof(linger);
        (void)rd_kafka_conf_get(conf, "linger.ms", linger, &size);
        size = (json ? strlen(json) : 0) + 256;
        char *out = json ? malloc(size) : NULL;
        if (out)
                snprintf(out, size, "acks=%s linger.ms=%s\n%s", acks, linger, json);
        free(json);
        ksafe_report_destroy(report);
        rd_kafka_conf_destroy(conf);
        return out;
}

static bool same(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

/* --- first use: loads, the default, creates with NULL and a loaded policy --- */

typedef struct first_s {
        char *loaded;      /* ksafe_policy_load(): the policy as JSON */
        char *builtin;     /* ksafe_policy_default() as JSON */
        char *created_env; /* create_once(NULL) */
        char *created;     /* create_once(the policy this thread loaded) */
        char *enforced;    /* enforce_once(the same) */
        char errstr[512];
} first_t;

static void *first_use(void *arg)
{
        first_t *f = arg;
        pthread_barrier_wait(&barrier);
        ksafe_error_t err = {0};
        ksafe_policy_t *policy = ksafe_policy_load(policy_path, NULL, &err);
        if (!policy) {
                snprintf(f->errstr, sizeof(f->errstr), "load: %s", err.text);
                return NULL;
        }
        f->loaded = ksafe_policy_to_json(policy);
        ksafe_policy_t *builtin = ksafe_policy_default();
        f->builtin = builtin ? ksafe_policy_to_json(builtin) : NULL;
        ksafe_policy_destroy(builtin);
        f->created_env = create_once(NULL, f->errstr, sizeof(f->errstr));
        if (f->created_env)
                f->created = create_once(policy, f->errstr, sizeof(f->errstr));
        f->enforced = enforce_once(policy);
        ksafe_policy_destroy(policy);
        return NULL;
}

/* The threads are the process's first users of ksafe: each gets what one
 * thread gets afterwards. */
START_TEST(first_use_on_threads)
{
        first_t firsts[THREADS] = {0};
        pthread_t tid[THREADS];
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_create(&tid[t], NULL, first_use, &firsts[t]), 0);
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_join(tid[t], NULL), 0);

        ksafe_error_t err = {0};
        ksafe_policy_t *policy = ksafe_policy_load(policy_path, NULL, &err);
        ck_assert_msg(policy, "%s", err.text);
        ksafe_policy_t *builtin = ksafe_policy_default();
        ck_assert_ptr_nonnull(builtin);
        char errstr[512] = "";
        char *loaded = ksafe_policy_to_json(policy), *builtin_json = ksafe_policy_to_json(builtin);
        char *created_env = create_once(NULL, errstr, sizeof(errstr));
        ck_assert_msg(created_env, "%s", errstr);
        char *created = create_once(policy, errstr, sizeof(errstr));
        ck_assert_msg(created, "%s", errstr);
        char *enforced = enforce_once(policy);
        ck_assert_ptr_nonnull(enforced);
        ck_assert_msg(strncmp(created, "acks=-1 enable.idempotence=true linger.ms=111", 45) == 0,
                      "%s", created);
        ck_assert_msg(strncmp(enforced, "acks=-1 linger.ms=111", 21) == 0, "%s", enforced);
        for (int t = 0; t < THREADS; t++) {
                first_t *f = &firsts[t];
                ck_assert_msg(f->created && f->enforced, "thread %d: %s", t, f->errstr);
                ck_assert_msg(same(f->loaded, loaded), "thread %d loaded %s", t, f->loaded);
                ck_assert_msg(same(f->builtin, builtin_json), "thread %d default %s", t,
                              f->builtin);
                ck_assert_msg(same(f->created_env, created_env), "thread %d, NULL: %s", t,
                              f->created_env);
                ck_assert_msg(same(f->created, created), "thread %d: %s", t, f->created);
                ck_assert_msg(same(f->enforced, enforced), "thread %d: %s", t, f->enforced);
                free(f->loaded);
                free(f->builtin);
                free(f->created_env);
                free(f->created);
                free(f->enforced);
        }
        free(loaded);
        free(builtin_json);
        free(created_env);
        free(created);
        free(enforced);
        ksafe_policy_destroy(builtin);
        ksafe_policy_destroy(policy);
}
END_TEST

/* --- NULL and a shared loaded policy at once, several rounds --- */

typedef struct mixed_s {
        int id;
        const ksafe_policy_t *shared;
        char *created[ROUNDS];
        char *enforced[ROUNDS];
        char errstr[512];
} mixed_t;

static void *mixed(void *arg)
{
        mixed_t *m = arg;
        /* Creates: policy NULL (the cache) on even threads, the shared
         * policy on odd ones; ksafe_conf_enforce() takes no NULL. */
        const ksafe_policy_t *policy = m->id % 2 ? m->shared : NULL;
        pthread_barrier_wait(&barrier);
        for (int r = 0; r < ROUNDS; r++) {
                m->enforced[r] = enforce_once(m->shared);
                m->created[r] = create_once(policy, m->errstr, sizeof(m->errstr));
        }
        return NULL;
}

START_TEST(null_and_shared_policy_at_once)
{
        ksafe_error_t err = {0};
        ksafe_policy_t *shared = ksafe_policy_load(policy_path, NULL, &err);
        ck_assert_msg(shared, "%s", err.text);
        mixed_t ms[THREADS] = {0};
        pthread_t tid[THREADS];
        for (int t = 0; t < THREADS; t++) {
                ms[t].id = t;
                ms[t].shared = shared;
                ck_assert_int_eq(pthread_create(&tid[t], NULL, mixed, &ms[t]), 0);
        }
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        char errstr[512] = "";
        char *want_created = create_once(shared, errstr, sizeof(errstr));
        ck_assert_msg(want_created, "%s", errstr);
        char *want_enforced = enforce_once(shared);
        char *want_env = create_once(NULL, errstr, sizeof(errstr));
        ck_assert_msg(want_env, "%s", errstr);
        ck_assert_msg(same(want_env, want_created), "NULL %s\nloaded %s", want_env, want_created);
        for (int t = 0; t < THREADS; t++)
                for (int r = 0; r < ROUNDS; r++) {
                        ck_assert_msg(ms[t].created[r], "thread %d round %d: %s", t, r,
                                      ms[t].errstr);
                        ck_assert_msg(same(ms[t].created[r], want_created),
                                      "thread %d round %d: %s", t, r, ms[t].created[r]);
                        ck_assert_msg(same(ms[t].enforced[r], want_enforced),
                                      "thread %d round %d: %s", t, r, ms[t].enforced[r]);
                        free(ms[t].created[r]);
                        free(ms[t].enforced[r]);
                }
        free(want_created);
        free(want_enforced);
        free(want_env);
        ksafe_policy_destroy(shared);
}
END_TEST

/* --- the KSAFE_POLICY file replaced while threads create with NULL --- */

#define CREATES 6

typedef struct replaced_s {
        long linger[CREATES];
        char errstr[512];
} replaced_t;

static void *create_linger(void *arg)
{
        replaced_t *rp = arg;
        pthread_barrier_wait(&barrier);
        for (int r = 0; r < CREATES; r++) {
                char *out = create_once(NULL, rp->errstr, sizeof(rp->errstr));
                const char *l = out ? strstr(out, "linger.ms=") : NULL;
                rp->linger[r] = l ? strtol(l + 10, NULL, 10) : -1;
                free(out);
        }
        return NULL;
}

static void *rewrite_policy(void *arg)
{
        (void)arg;
        pthread_barrier_wait(&barrier);
        for (int r = 0; r < CREATES; r++)
                write_policy(policy_path, r % 2 ? 111 : 222);
        return NULL;
}

/* Every producer is made under one whole version of the policy (its
 * linger.ms, 111 or 222), also when the cached one is replaced and freed
 * while other threads still hold it; the last version wins afterwards. */
START_TEST(policy_replaced_while_creating)
{
        replaced_t rs[THREADS - 1] = {0};
        pthread_t tid[THREADS];
        for (int t = 0; t < THREADS - 1; t++)
                ck_assert_int_eq(pthread_create(&tid[t], NULL, create_linger, &rs[t]), 0);
        ck_assert_int_eq(pthread_create(&tid[THREADS - 1], NULL, rewrite_policy, NULL), 0);
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        for (int t = 0; t < THREADS - 1; t++)
                for (int r = 0; r < CREATES; r++)
                        ck_assert_msg(rs[t].linger[r] == 111 || rs[t].linger[r] == 222,
                                      "thread %d create %d: linger.ms %ld (%s)", t, r,
                                      rs[t].linger[r], rs[t].errstr);
        char errstr[512] = "";
        char *out = create_once(NULL, errstr, sizeof(errstr));
        ck_assert_msg(out && strstr(out, "linger.ms=111\n"), "%s", out ? out : errstr);
        free(out);
}
END_TEST

/* --- the plugin: plugin.library.paths set on confs of several threads --- */

typedef struct plugged_s {
        char *result;
        char errstr[512];
} plugged_t;

static void *plug(void *arg)
{
        plugged_t *pl = arg;
        const char *path = getenv("KSAFE_PLUGIN_PATH");
        rd_kafka_conf_t *conf = unsafe_conf();
        pthread_barrier_wait(&barrier);
        if (!conf || rd_kafka_conf_set(conf, "plugin.library.paths", path, pl->errstr,
                                       sizeof(pl->errstr)) != RD_KAFKA_CONF_OK) {
                if (conf)
                        rd_kafka_conf_destroy(conf);
                return NULL;
        }
        /* A set the policy refuses, then a copy and a producer. */
        char refused[512] = "";
        rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, "acks", "0", refused, sizeof(refused));
        rd_kafka_conf_t *copy = rd_kafka_conf_dup(conf);
        rd_kafka_conf_destroy(conf);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, copy, pl->errstr, sizeof(pl->errstr));
        if (!rk) {
                rd_kafka_conf_destroy(copy);
                return NULL;
        }
        char *acks = handle_value(rk, "acks"), *linger = handle_value(rk, "linger.ms");
        char out[1024];
        snprintf(out, sizeof(out), "%s %s set acks=0: %d %s", acks ? acks : "?",
                 linger ? linger : "?", (int)res, refused);
        pl->result = strdup(out);
        free(acks);
        free(linger);
        rd_kafka_destroy(rk);
        return NULL;
}

START_TEST(plugin_loaded_on_threads)
{
        if (!getenv("KSAFE_PLUGIN_PATH"))
                return; /* registered without the plugin's path */
        plugged_t ps[THREADS] = {0};
        pthread_t tid[THREADS];
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_create(&tid[t], NULL, plug, &ps[t]), 0);
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        for (int t = 0; t < THREADS; t++) {
                ck_assert_msg(ps[t].result, "thread %d: %s", t, ps[t].errstr);
                ck_assert_msg(strncmp(ps[t].result,
                                      "acks=-1 linger.ms=111 set acks=0: -1 ksafe: ", 44) == 0,
                              "thread %d: %s", t, ps[t].result);
                ck_assert_msg(same(ps[t].result, ps[0].result), "thread %d: %s\nthread 0: %s", t,
                              ps[t].result, ps[0].result);
        }
        for (int t = 0; t < THREADS; t++)
                free(ps[t].result);
}
END_TEST

/* --- one conf, one plugged conf and one handle judged by threads at once --- */

typedef struct shared_s {
        const ksafe_policy_t *policy;
        const rd_kafka_conf_t *conf, *plugged; /* plugged: NULL without the plugin */
        rd_kafka_t *rk;
} shared_t;

static char *json_of(ksafe_report_t *report)
{
        char *json = report ? ksafe_report_to_json(report) : NULL;
        ksafe_report_destroy(report);
        return json;
}

static void judge_shared(shared_t *sh, char *said[3])
{
        said[0] = json_of(ksafe_conf_check(sh->conf, sh->policy));
        said[1] = sh->plugged ? json_of(ksafe_conf_check(sh->plugged, sh->policy)) : strdup("-");
        said[2] = json_of(ksafe_handle_audit(sh->rk, sh->policy));
}

typedef struct judge_arg_s {
        shared_t *sh;
        char *said[ROUNDS][3];
} judge_arg_t;

static void *judge_many(void *arg)
{
        judge_arg_t *a = arg;
        pthread_barrier_wait(&barrier);
        for (int r = 0; r < ROUNDS; r++)
                judge_shared(a->sh, a->said[r]);
        return NULL;
}

/* include/ksafe.h: ksafe_conf_check() is thread-safe while no thread
 * changes the conf, ksafe_handle_audit() as librdkafka's handles are: the
 * same conf (also one under the plugin, whose copies share its state) and
 * the same handle, judged by every thread at once. */
START_TEST(one_conf_and_handle_judged_at_once)
{
        ksafe_error_t err = {0};
        ksafe_policy_t *policy = ksafe_policy_load(policy_path, NULL, &err);
        ck_assert_msg(policy, "%s", err.text);
        shared_t sh = {.policy = policy};
        rd_kafka_conf_t *conf = unsafe_conf(), *plugged = NULL;
        ck_assert_ptr_nonnull(conf);
        const char *path = getenv("KSAFE_PLUGIN_PATH");
        char errstr[512] = "";
        if (path) {
                plugged = unsafe_conf();
                ck_assert_ptr_nonnull(plugged);
                ck_assert_msg(rd_kafka_conf_set(plugged, "plugin.library.paths", path, errstr,
                                                sizeof(errstr)) == RD_KAFKA_CONF_OK,
                              "%s", errstr);
        }
        rd_kafka_conf_t *made = unsafe_conf();
        ck_assert_ptr_nonnull(made);
        sh.rk = rd_kafka_new(RD_KAFKA_PRODUCER, made, errstr, sizeof(errstr));
        ck_assert_msg(sh.rk, "%s", errstr);
        sh.conf = conf;
        sh.plugged = plugged;
        judge_arg_t args[THREADS] = {0};
        pthread_t tid[THREADS];
        for (int t = 0; t < THREADS; t++) {
                args[t].sh = &sh;
                ck_assert_int_eq(pthread_create(&tid[t], NULL, judge_many, &args[t]), 0);
        }
        for (int t = 0; t < THREADS; t++)
                ck_assert_int_eq(pthread_join(tid[t], NULL), 0);
        char *want[3];
        judge_shared(&sh, want);
        for (int k = 0; k < 3; k++)
                ck_assert_ptr_nonnull(want[k]);
        ck_assert_msg(strstr(want[0], "\"acks is 1; expected all (-1)\""), "%s", want[0]);
        ck_assert_msg(strstr(want[2], "\"acks is 1; expected all (-1)\""), "%s", want[2]);
        for (int t = 0; t < THREADS; t++)
                for (int r = 0; r < ROUNDS; r++)
                        for (int k = 0; k < 3; k++) {
                                ck_assert_msg(same(args[t].said[r][k], want[k]),
                                              "thread %d round %d, %d: %s\nwant %s", t, r, k,
                                              args[t].said[r][k], want[k]);
                                free(args[t].said[r][k]);
                        }
        for (int k = 0; k < 3; k++)
                free(want[k]);
        rd_kafka_destroy(sh.rk);
        rd_kafka_conf_destroy(conf);
        if (plugged)
                rd_kafka_conf_destroy(plugged);
        ksafe_policy_destroy(policy);
}
END_TEST

static Suite *race_suite(void)
{
        Suite *s = suite_create("race");
        /* First: under CK_FORK=no, its threads are the process's first users. */
        TCase *tc = tcase_create("first use");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, first_use_on_threads);
        suite_add_tcase(s, tc);
        tc = tcase_create("threads");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, null_and_shared_policy_at_once);
        tcase_add_test(tc, policy_replaced_while_creating);
        tcase_add_test(tc, plugin_loaded_on_threads);
        tcase_add_test(tc, one_conf_and_handle_judged_at_once);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(race_suite());
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
