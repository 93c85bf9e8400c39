/*
 * ksafe-lint: judge producer config files against a ksafe policy.
 *
 * A thin CLI: parse options, let the library read and judge each file,
 * print the findings. Every rule and parser lives in libksafe.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ksafe.h"

/** Exit codes, as documented in --help and the README. */
enum lint_exit {
        LINT_EXIT_CLEAN = 0,    /* no findings, or warnings only */
        LINT_EXIT_FINDINGS = 1, /* at least one error (warnings too with -W error) */
        LINT_EXIT_USAGE = 2,    /* bad usage, unreadable input or a bad policy */
};

typedef enum lint_format_e { FORMAT_TEXT, FORMAT_JSON } lint_format_t;

typedef struct lint_opts_s {
        const char *policy_path;
        const char *env;
        lint_format_t format;
        bool werror;
        bool quiet;
} lint_opts_t;

static void usage(FILE *out)
{
        fprintf(out,
                "Usage: ksafe-lint [OPTIONS] FILE...\n"
                "Check librdkafka producer config files (.properties or flat JSON) against a\n"
                "ksafe policy. FILE '-' reads standard input.\n"
                "\n"
                "Options:\n"
                "  -p, --policy FILE   policy file (default: $KSAFE_POLICY, else the built-in\n"
                "                      default policy)\n"
                "  -e, --env NAME      policy environment (default: $KSAFE_ENV)\n"
                "  -f, --format FMT    output format: text (default) or json\n"
                "  -W error            treat warnings as errors\n"
                "  -q, --quiet         print errors only, no warnings and no summary\n"
                "  -h, --help          show this help and exit\n"
                "  -V, --version       show the versions of ksafe, librdkafka and jansson\n"
                "\n"
                "Findings go to standard output as FILE:LINE:COL: SEVERITY: MESSAGE [RULE].\n"
                "\n"
                "Exit status:\n"
                "  0  no findings, or warnings only\n"
                "  1  at least one error (or warning, with -W error)\n"
                "  2  bad usage, unreadable input or a bad policy\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
        fprintf(stderr, "ksafe-lint: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry 'ksafe-lint --help' for more information.\n");
        return LINT_EXIT_USAGE;
}

/* "ksafe-lint: SOURCE:LINE:COL: TEXT", the location as far as known. */
static void print_error(const ksafe_error_t *err)
{
        fprintf(stderr, "ksafe-lint: ");
        if (err->source[0])
                fprintf(stderr, "%s:", err->source);
        if (err->line > 0)
                fprintf(stderr, "%d:%d:", err->line, err->column);
        fprintf(stderr, "%s%s\n", err->source[0] || err->line > 0 ? " " : "", err->text);
}

static ksafe_config_t *read_config(const char *path, ksafe_error_t *err)
{
        if (strcmp(path, "-") != 0)
                return ksafe_config_load(path, KSAFE_FORMAT_AUTO, err);
        char *data = NULL;
        size_t len = 0, cap = 0, n;
        do {
                if (len + 65536 > cap) {
                        char *bigger = realloc(data, cap = 2 * cap + 65536);
                        if (!bigger) {
                                free(data);
                                snprintf(err->text, sizeof(err->text), "<stdin>: out of memory");
                                return NULL;
                        }
                        data = bigger;
                }
                n = fread(data + len, 1, cap - len, stdin);
                len += n;
        } while (n > 0);
        if (ferror(stdin)) {
                free(data);
                snprintf(err->text, sizeof(err->text), "<stdin>: read error");
                return NULL;
        }
        ksafe_config_t *cfg = ksafe_config_parse(data ? data : "", len, "<stdin>",
                                                 KSAFE_FORMAT_AUTO, err);
        free(data);
        return cfg;
}

static bool counts_as_error(const ksafe_violation_t *v, const lint_opts_t *opts)
{
        return v->severity == KSAFE_SEVERITY_ERROR || opts->werror;
}

static void print_text(const ksafe_report_t *report, const lint_opts_t *opts)
{
        for (size_t i = 0; i < ksafe_report_count(report); i++) {
                const ksafe_violation_t *v = ksafe_report_get(report, i);
                if (opts->quiet && !counts_as_error(v, opts))
                        continue;
                printf("%s:%d:%d: %s: %s [%s]\n", v->file, v->line, v->column,
                       ksafe_severity_name(v->severity), v->message, v->rule_id);
        }
}

static int lint_files(char **files, int count, const ksafe_policy_t *policy,
                      const lint_opts_t *opts)
{
        int status = LINT_EXIT_CLEAN;
        size_t errors = 0, warnings = 0;
        if (opts->format == FORMAT_JSON)
                printf("{\"version\":1,\"reports\":[");
        for (int i = 0; i < count; i++) {
                ksafe_error_t err = {0};
                ksafe_config_t *cfg = read_config(files[i], &err);
                if (!cfg) {
                        print_error(&err);
                        status = LINT_EXIT_USAGE;
                        continue;
                }
                ksafe_report_t *report = ksafe_config_check(cfg, policy);
                if (!report) {
                        fprintf(stderr, "ksafe-lint: %s: out of memory\n", files[i]);
                        status = LINT_EXIT_USAGE;
                } else if (opts->format == FORMAT_JSON) {
                        char *json = ksafe_report_to_json(report);
                        printf("%s{\"file\":", i ? "," : "");
                        char *quoted = json_dumps(json_string(files[i]), JSON_ENCODE_ANY);
                        printf("%s,\"report\":%s}", quoted ? quoted : "null", json ? json : "null");
                        free(quoted);
                        free(json);
                } else {
                        print_text(report, opts);
                }
                for (size_t k = 0; k < ksafe_report_count(report); k++) {
                        const ksafe_violation_t *v = ksafe_report_get(report, k);
                        if (v->severity == KSAFE_SEVERITY_ERROR)
                                errors++;
                        else
                                warnings++;
                        if (counts_as_error(v, opts) && status == LINT_EXIT_CLEAN)
                                status = LINT_EXIT_FINDINGS;
                }
                ksafe_report_destroy(report);
                ksafe_config_destroy(cfg);
        }
        if (opts->format == FORMAT_JSON)
                printf("]}\n");
        else if (!opts->quiet)
                printf("%d file%s checked: %zu error%s, %zu warning%s\n", count,
                       count == 1 ? "" : "s", errors, errors == 1 ? "" : "s", warnings,
                       warnings == 1 ? "" : "s");
        return status;
}

int main(int argc, char **argv)
{
        static const struct option long_opts[] = {
                {"policy", required_argument, NULL, 'p'},
                {"env", required_argument, NULL, 'e'},
                {"format", required_argument, NULL, 'f'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {NULL, 0, NULL, 0},
        };
        lint_opts_t opts = {
                .policy_path = getenv("KSAFE_POLICY"),
                .env = getenv("KSAFE_ENV"),
        };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":p:e:f:W:qhV", long_opts, NULL)) != -1) {
                switch (c) {
                case 'p': opts.policy_path = optarg; break;
                case 'e': opts.env = optarg; break;
                case 'f':
                        if (strcmp(optarg, "text") == 0)
                                opts.format = FORMAT_TEXT;
                        else if (strcmp(optarg, "json") == 0)
                                opts.format = FORMAT_JSON;
                        else
                                return bad_usage("unknown format '%s' (text or json)", optarg);
                        break;
                case 'W':
                        if (strcmp(optarg, "error") != 0)
                                return bad_usage("unknown -W option '%s' (only -W error)", optarg);
                        opts.werror = true;
                        break;
                case 'q': opts.quiet = true; break;
                case 'h':
                        usage(stdout);
                        return fclose(stdout) == 0 ? LINT_EXIT_CLEAN : LINT_EXIT_USAGE;
                case 'V':
                        printf("ksafe-lint %s (librdkafka %s, jansson %s)\n", ksafe_version_str(),
                               rd_kafka_version_str(), jansson_version_str());
                        return fclose(stdout) == 0 ? LINT_EXIT_CLEAN : LINT_EXIT_USAGE;
                case ':': return bad_usage("option '%s' needs an argument", argv[optind - 1]);
                default: return bad_usage("unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind == argc)
                return bad_usage("%s", "no config file given");

        ksafe_error_t err = {0};
        const char *path = opts.policy_path && *opts.policy_path ? opts.policy_path
                                                                 : "builtin:default";
        ksafe_policy_t *policy = ksafe_policy_load(path, opts.env, &err);
        if (!policy) {
                print_error(&err);
                return LINT_EXIT_USAGE;
        }
        int status = lint_files(argv + optind, argc - optind, policy, &opts);
        ksafe_policy_destroy(policy);
        if (fclose(stdout) != 0) {
                perror("ksafe-lint: stdout");
                return LINT_EXIT_USAGE;
        }
        return status;
}
