/*
 * The policy that ksafe_producer_new(conf, NULL, ...) uses is the one
 * KSAFE_POLICY and KSAFE_ENV name NOW, although the process keeps it
 * loaded (lib/policy_cache.c): a rewritten, replaced, touched or deleted
 * file, a changed parent of its "extends" chain, a changed variable are
 * all seen on the next create; producers made from several threads at once
 * with policy NULL are all safe.
 *
 * What a policy did is read back from the created handle: each policy
 * written here enforces its own linger.ms.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, mkdtemp */

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ksafe.h>

static char dir[64];

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/ksafe-cache-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        unsetenv("KSAFE_ENV");
}

static void teardown(void)
{
        static const char *const names[] = {"p.json", "q.json", "parent.json", "new.json"};
        char path[128];
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                unlink(path);
        }
        rmdir(dir);
        unsetenv("KSAFE_POLICY");
        unsetenv("KSAFE_ENV");
}

/* The path of `name` in the test's folder (two at a time: rename()). */
static const char *path_of(const char *name)
{
        static char paths[2][128];
        static int next;
        char *path = paths[next++ % 2];
        snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
        return path;
}

/* A policy that enforces linger.ms=LINGER (3 digits: every version of a
 * file has the same size), in environment `env` only when env is given. */
static void write_policy(const char *name, int linger, const char *env, const char *extends)
{
        char rule[160];
        snprintf(rule, sizeof(rule),
                 "{\"id\":\"linger\",\"property\":\"linger.ms\",\"equals\":\"%03d\","
                 "\"action\":\"enforce\"}",
                 linger);
        char text[512];
        if (env)
                snprintf(text, sizeof(text),
                         "{\"ksafe_policy\":1,\"extends\":\"%s\",\"environments\":"
                         "{\"%s\":{\"rules\":[%s]}}}\n",
                         extends, env, rule);
        else
                snprintf(text, sizeof(text),
                         "{\"ksafe_policy\":1,\"extends\":\"%s\",\"rules\":[%s]}\n", extends, rule);
        FILE *f = fopen(path_of(name), "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fputs(text, f) >= 0, 1);
        ck_assert_int_eq(fclose(f), 0);
}

/* linger.ms of a producer made with policy NULL; -1 when refused. */
static int created_linger(char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char err[256];
        ck_assert_int_eq(rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err)),
                         RD_KAFKA_CONF_OK);
        rd_kafka_t *rk = ksafe_producer_new(conf, NULL, NULL, errstr, errstr_size);
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        char value[64];
        size_t size = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(rd_kafka_conf(rk), "linger.ms", value, &size),
                         RD_KAFKA_CONF_OK);
        rd_kafka_destroy(rk);
        return (int)strtol(value, NULL, 10);
}

static void expect_linger(int want)
{
        char errstr[512] = "";
        int got = created_linger(errstr, sizeof(errstr));
        ck_assert_msg(got == want, "linger.ms %d, want %d (%s)", got, want, errstr);
}

/* Ways to change a policy file after it was used; the next create must
 * use the new content. */
typedef enum change_e {
        REWRITE_SAME_SIZE, /* in place, at once: same size, likely same times */
        REWRITE_OLD_MTIME, /* in place, then its mtime set back as it was */
        REPLACE_BY_RENAME, /* a new file renamed over it (another inode) */
        CHANGE_PARENT,     /* the file it extends changes */
        CHANGE_ENV,        /* KSAFE_ENV now names another environment */
        CHANGE_PATH,       /* KSAFE_POLICY now names another file */
} change_t;

static const char *const change_names[] = {
        "rewrite, same size", "rewrite, mtime set back", "replaced by rename",
        "parent changed",     "KSAFE_ENV changed",       "KSAFE_POLICY changed",
};

START_TEST(changed_policy_is_reloaded)
{
        change_t change = (change_t)_i;
        char parent[160];
        snprintf(parent, sizeof(parent), "%s", path_of("parent.json"));
        if (change == CHANGE_PARENT) {
                write_policy("parent.json", 111, NULL, "builtin:default");
                FILE *f = fopen(path_of("p.json"), "w");
                ck_assert_ptr_nonnull(f);
                fputs("{\"ksafe_policy\":1,\"extends\":\"parent.json\"}\n", f);
                ck_assert_int_eq(fclose(f), 0);
        } else if (change == CHANGE_ENV) {
                write_policy("p.json", 111, "dev", "builtin:default");
                setenv("KSAFE_ENV", "dev", 1);
        } else {
                write_policy("p.json", 111, NULL, "builtin:default");
        }
        setenv("KSAFE_POLICY", path_of("p.json"), 1);
        expect_linger(111);
        expect_linger(111); /* the cached copy, unchanged */

        struct stat before;
        ck_assert_int_eq(stat(path_of("p.json"), &before), 0);
        switch (change) {
        case REWRITE_SAME_SIZE: write_policy("p.json", 222, NULL, "builtin:default"); break;
        case REWRITE_OLD_MTIME: {
                write_policy("p.json", 222, NULL, "builtin:default");
                struct timespec times[2] = {before.st_atim, before.st_mtim};
                ck_assert_int_eq(utimensat(AT_FDCWD, path_of("p.json"), times, 0), 0);
                break;
        }
        case REPLACE_BY_RENAME:
                write_policy("new.json", 222, NULL, "builtin:default");
                ck_assert_int_eq(rename(path_of("new.json"), path_of("p.json")), 0);
                break;
        case CHANGE_PARENT: write_policy("parent.json", 222, NULL, "builtin:default"); break;
        case CHANGE_ENV: {
                /* Both environments in one file that does not change. */
                FILE *f = fopen(path_of("p.json"), "w");
                ck_assert_ptr_nonnull(f);
                fputs("{\"ksafe_policy\":1,\"extends\":\"builtin:default\",\"environments\":{"
                      "\"dev\":{\"rules\":[{\"id\":\"linger\",\"property\":\"linger.ms\","
                      "\"equals\":\"111\",\"action\":\"enforce\"}]},"
                      "\"prod\":{\"rules\":[{\"id\":\"linger\",\"property\":\"linger.ms\","
                      "\"equals\":\"222\",\"action\":\"enforce\"}]}}}\n",
                      f);
                ck_assert_int_eq(fclose(f), 0);
                expect_linger(111);
                setenv("KSAFE_ENV", "prod", 1);
                break;
        }
        case CHANGE_PATH:
                write_policy("q.json", 222, NULL, "builtin:default");
                setenv("KSAFE_POLICY", path_of("q.json"), 1);
                break;
        }
        char errstr[512] = "";
        int got = created_linger(errstr, sizeof(errstr));
        ck_assert_msg(got == 222, "%s: linger.ms %d, want 222 (%s)", change_names[change], got,
                      errstr);
}
END_TEST

/* A deleted (or never readable) policy fails as an uncached load does:
 * refused, and errstr names the file. */
START_TEST(deleted_policy_fails)
{
        write_policy("p.json", 111, NULL, "builtin:default");
        setenv("KSAFE_POLICY", path_of("p.json"), 1);
        expect_linger(111);
        ck_assert_int_eq(unlink(path_of("p.json")), 0);
        char errstr[512] = "";
        ck_assert_int_eq(created_linger(errstr, sizeof(errstr)), -1);
        ck_assert_msg(strstr(errstr, "cannot load the policy") && strstr(errstr, "p.json"),
                      "errstr: %s", errstr);
        /* And it comes back when the file does. */
        write_policy("p.json", 222, NULL, "builtin:default");
        expect_linger(222);
}
END_TEST

/* A broken rewrite is refused, not served from the cache. */
START_TEST(broken_rewrite_fails)
{
        write_policy("p.json", 111, NULL, "builtin:default");
        setenv("KSAFE_POLICY", path_of("p.json"), 1);
        expect_linger(111);
        FILE *f = fopen(path_of("p.json"), "w");
        ck_assert_ptr_nonnull(f);
        fputs("{\"ksafe_policy\":1,\n \"rules\": [,]}\n", f);
        ck_assert_int_eq(fclose(f), 0);
        char errstr[512] = "";
        ck_assert_int_eq(created_linger(errstr, sizeof(errstr)), -1);
        ck_assert_msg(strstr(errstr, "p.json:2"), "errstr: %s", errstr);
}
END_TEST

#define THREADS 4
#define PER_THREAD 5

static void *create_many(void *arg)
{
        (void)arg;
        intptr_t failures = 0;
        for (int i = 0; i < PER_THREAD; i++) {
                char errstr[512];
                failures += created_linger(errstr, sizeof(errstr)) != 111;
        }
        return (void *)failures;
}

/* Several threads create producers with policy NULL at once, while the
 * policy is loaded by the first of them: every one is made under it. */
START_TEST(threads_share_the_cached_policy)
{
        write_policy("p.json", 111, NULL, "builtin:default");
        setenv("KSAFE_POLICY", path_of("p.json"), 1);
        pthread_t threads[THREADS];
        for (int i = 0; i < THREADS; i++)
                ck_assert_int_eq(pthread_create(&threads[i], NULL, create_many, NULL), 0);
        intptr_t failures = 0;
        for (int i = 0; i < THREADS; i++) {
                void *result;
                ck_assert_int_eq(pthread_join(threads[i], &result), 0);
                failures += (intptr_t)result;
        }
        ck_assert_msg(failures == 0, "%ld producers were not made under the policy",
                      (long)failures);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("cache");
        TCase *tc = tcase_create("policy NULL");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_loop_test(tc, changed_policy_is_reloaded, REWRITE_SAME_SIZE, CHANGE_PATH + 1);
        tcase_add_test(tc, deleted_policy_fails);
        tcase_add_test(tc, broken_rewrite_fails);
        tcase_add_test(tc, threads_share_the_cached_policy);
        suite_add_tcase(s, tc);
        SRunner *sr = srunner_create(s);
        srunner_run_all(sr, CK_SILENT);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
