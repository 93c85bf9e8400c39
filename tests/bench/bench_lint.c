/*
 * How fast ksafe-lint is: 10,000 small configs in one invocation, and one
 * small config per invocation (start-up included). Medians of a few runs
 * are printed, for the README and the issue; nothing here asserts a time.
 *
 * Usage: bench_lint PATH-TO-KSAFE-LINT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILES 10000

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Run the linter with stdout and stderr to /dev/null; its wall time in ms. */
static double run(char *const argv[])
{
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
                if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
                fprintf(stderr, "bench_lint: %s failed\n", argv[0]);
                exit(1);
        }
        return now_ms() - t0;
}

static void write_configs(const char *dir)
{
        static const char *const bodies[] = {
                "bootstrap.servers=kafka:9092\nenable.idempotence=true\nacks=all\n"
                "linger.ms=5\n",
                "# payments\nbootstrap.servers=kafka:9092\nacks=1\nmax.in.flight=100\n"
                "delivery.timeout.ms=0\nsasl.password=secret\n",
                "{\"bootstrap.servers\": \"kafka:9092\", \"enable.idempotence\": true,\n"
                " \"compression.type\": \"lz4\"}\n",
        };
        for (int i = 0; i < FILES; i++) {
                char path[512];
                int kind = i % 3;
                snprintf(path, sizeof(path), "%s/producer-%05d.%s", dir, i,
                         kind == 2 ? "json" : "properties");
                FILE *f = fopen(path, "w");
                if (!f || fputs(bodies[kind], f) < 0 || fclose(f) != 0) {
                        perror(path);
                        exit(1);
                }
        }
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: bench_lint PATH-TO-KSAFE-LINT\n");
                return 2;
        }
        char dir[] = "/tmp/ksafe-bench-XXXXXX";
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        write_configs(dir);
        char one[600];
        snprintf(one, sizeof(one), "%s/producer-00001.properties", dir);

        double many[5], single[50];
        char *argv_many[] = {argv[1], "-q", dir, NULL};
        char *argv_one[] = {argv[1], "-q", one, NULL};
        for (int i = 0; i < 5; i++)
                many[i] = run(argv_many);
        for (int i = 0; i < 50; i++)
                single[i] = run(argv_one);
        qsort(many, 5, sizeof(double), cmp_double);
        qsort(single, 50, sizeof(double), cmp_double);
        printf("ksafe-lint, %d small configs in one run: median %.0f ms (%.0f files/s)\n", FILES,
               many[2], FILES / (many[2] / 1e3));
        printf("ksafe-lint, one small config per run (start-up included): median %.2f ms\n",
               single[25]);

        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
}
