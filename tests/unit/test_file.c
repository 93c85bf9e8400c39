/*
 * Why a file cannot be read, in words that are safe on any thread.
 *
 * Files are read on many threads at once (ksafe-lint -j's workers, the
 * facade's policy loads, the policy cache's checks): the reason a read
 * failed must not come from strerror(), which POSIX does not require to
 * be thread-safe and glibc documents "MT-Unsafe race:strerror" (its
 * result may be overwritten by another thread's call). This program
 * defines its own strerror(), which the library's objects (linked in
 * statically) then call instead of libc's: it records the call and
 * answers nonsense, so a reason made with it shows.
 */
#include "ksafe_int.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static int strerror_calls;

char *strerror(int errnum)
{
        (void)errnum;
        strerror_calls++;
        return (char *)"(strerror was called)";
}

static char dir[64];
static char paths[8][128];

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/ksafe-file-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(paths[0], sizeof(paths[0]), "%s/loop", dir);
        ck_assert_int_eq(symlink(paths[0], paths[0]), 0); /* a link to itself */
        snprintf(paths[1], sizeof(paths[1]), "%s/plain", dir);
        FILE *f = fopen(paths[1], "w");
        ck_assert_ptr_nonnull(f);
        fputs("acks=all\n", f);
        ck_assert_int_eq(fclose(f), 0);
}

static void teardown(void)
{
        unlink(paths[0]);
        unlink(paths[1]);
        rmdir(dir);
}

/* The reason errno `err` gives, as strerror_r() words it. */
static const char *reason(int err, char *buf, size_t size)
{
        /* _GNU_SOURCE: the GNU strerror_r(), which returns the text. */
        const char *text = strerror_r(err, buf, size);
        if (text != buf)
                snprintf(buf, size, "%s", text);
        return buf;
}

static const struct {
        const char *name; /* "%s" is the test's folder */
        int err;
} cases[] = {
        {"%s/missing.json", ENOENT},      /* no such file */
        {"%s", EISDIR},                   /* a directory */
        {"%s/plain/below.json", ENOTDIR}, /* a file used as a folder */
        {"%s/loop", ELOOP},               /* a link to itself */
};

/* ksafe_file__read_regular(): the reason is errno's, in strerror_r's words. */
START_TEST(read_regular_reason_is_thread_safe)
{
        char path[160], why[256], want[256];
        snprintf(path, sizeof(path), cases[_i].name, dir);
        strerror_calls = 0;
        errno = 0;
        char *text = ksafe_file__read_regular(path, NULL, NULL, why, sizeof(why));
        ck_assert_ptr_null(text);
        ck_assert_int_eq(errno, cases[_i].err);
        ck_assert_str_eq(why, reason(cases[_i].err, want, sizeof(want)));
        ck_assert_int_eq(strerror_calls, 0);
}
END_TEST

/* The public readers say the same: ksafe_config_read_file() and
 * ksafe_policy_load() ("cannot read: REASON"). */
START_TEST(public_readers_reason_is_thread_safe)
{
        char path[160], want[256];
        snprintf(path, sizeof(path), cases[_i].name, dir);
        reason(cases[_i].err, want, sizeof(want));
        strerror_calls = 0;
        ksafe_error_t err = {0};
        ksafe_config_options_t options;
        ck_assert(ksafe_config_options_init(&options, KSAFE_CONFIG_OPTIONS_VERSION));
        ksafe_config_t *cfg = ksafe_config_read_file(path, &options, &err);
        ck_assert_ptr_null(cfg);
        ck_assert_msg(strstr(err.text, want), "config: %s (want %s)", err.text, want);
        ksafe_policy_t *policy = ksafe_policy_load(path, NULL, &err);
        ck_assert_ptr_null(policy);
        ck_assert_msg(strstr(err.text, want), "policy: %s (want %s)", err.text, want);
        ck_assert_int_eq(strerror_calls, 0);
}
END_TEST

static Suite *file_suite(void)
{
        Suite *s = suite_create("file");
        TCase *tc = tcase_create("reasons");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, read_regular_reason_is_thread_safe, 0,
                            (int)(sizeof(cases) / sizeof(*cases)));
        tcase_add_loop_test(tc, public_readers_reason_is_thread_safe, 0,
                            (int)(sizeof(cases) / sizeof(*cases)));
        suite_add_tcase(s, tc);
        return s;
}

KSAFE_TEST_MAIN(file_suite)
