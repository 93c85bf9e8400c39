/*
 * libFuzzer target: the whole lint pipeline, as ksafe-lint runs it for
 * one file: read (format, dialect, --json-pointer), -X properties, check
 * or enforce and render (--fix), --effective, then every output format
 * (tools/lint-output.c, linked in). Output goes to memory and is checked:
 * JSON and SARIF parse, JUnit is well-formed XML, text and GitHub have one
 * line per finding and no control character.
 *
 * Input: two option bytes, then, when asked for, a line with the file
 * name and up to three -X lines (KEY=VALUE), then the file.
 *   byte 0: bits 0-2 format (lint_format_t), 3 java dialect, 4 --fix,
 *           5 --effective, 6 org policy (prod), 7 --json-pointer /kafka
 *   byte 1: bits 0-1 number of -X lines, 2 file name from the input,
 *           3-4 format auto / properties / json, 5 -W error, 6 -q
 */
#include <jansson.h>
#ifdef FUZZ_HAVE_EXPAT
#include <expat.h>
#endif

#include "fuzz.h"
#include "lint.h"

/* The next line of [*p, end), NUL-terminated in a copy; advances *p. */
static char *take_line(const char **p, const char *end)
{
        const char *nl = memchr(*p, '\n', (size_t)(end - *p));
        size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
        char *line = malloc(n + 1);
        if (line) {
                memcpy(line, *p, n);
                line[n] = '\0';
        }
        *p += n + (nl != NULL);
        return line;
}

static size_t count_char(const char *s, size_t len, char c)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += s[i] == c;
        return n;
}

static bool no_control(const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if ((c < 0x20 && c != '\n') || c == 0x7f)
                        return false;
        }
        return true;
}

/* Well-formed XML: expat's judgement where it is built in, else the part
 * that a value can break: UTF-8 (the declared encoding) and no character
 * that XML 1.0 cannot hold. */
static bool well_formed_xml(const char *s, size_t len)
{
#ifdef FUZZ_HAVE_EXPAT
        XML_Parser parser = XML_ParserCreate(NULL);
        if (!parser)
                return true; /* out of memory */
        bool ok = XML_Parse(parser, s, (int)len, 1) == XML_STATUS_OK;
        XML_ParserFree(parser);
        return ok;
#else
        const unsigned char *p = (const unsigned char *)s, *end = p + len;
        while (p < end) {
                unsigned c = *p;
                size_t n = c < 0x80             ? 1
                           : (c & 0xe0) == 0xc0 ? 2
                           : (c & 0xf0) == 0xe0 ? 3
                           : (c & 0xf8) == 0xf0 ? 4
                                                : 0;
                if (n == 0 || (size_t)(end - p) < n || (n == 2 && c < 0xc2))
                        return false;
                for (size_t i = 1; i < n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                        return false;
                p += n;
        }
        return true;
#endif
}

/* What lint_print() writes for the run, as a string. */
static char *print_to_memory(const lint_run_t *run, size_t *lenp)
{
        char *buf = NULL;
        FILE *mem = open_memstream(&buf, lenp);
        if (!mem)
                return NULL;
        FILE *saved = stdout;
        stdout = mem;
        bool printed = lint_print(run);
        stdout = saved;
        fclose(mem);
        if (!printed) { /* out of memory */
                free(buf);
                return NULL;
        }
        return buf;
}

static void check_output(const lint_run_t *run, const char *out, size_t len)
{
        size_t shown = 0;
        for (size_t k = 0; k < ksafe_report_count(run->results[0].report); k++) {
                const ksafe_violation_t *v = ksafe_report_get(run->results[0].report, k);
                shown += !run->quiet || lint_is_failure(run, &run->results[0], v);
        }
        FUZZ_REQUIRE(strlen(out) == len, "output-nul", "the output has a NUL byte");
        switch (run->format) {
        case LINT_FORMAT_JSON:
        case LINT_FORMAT_GITLAB:
        case LINT_FORMAT_SARIF: {
                json_error_t jerr;
                json_t *doc = json_loadb(out, len, 0, &jerr);
                FUZZ_REQUIRE(doc != NULL, "output-json", "-f json or sarif wrote no JSON document");
                json_decref(doc);
                break;
        }
        case LINT_FORMAT_TEXT:
        case LINT_FORMAT_GITHUB:
                FUZZ_REQUIRE(count_char(out, len, '\n') == shown, "output-lines",
                             "-f text or github wrote another number of lines than findings");
                FUZZ_REQUIRE(no_control(out, len), "output-control",
                             "-f text or github wrote a control character");
                break;
        case LINT_FORMAT_GITHUB_GROUPS:
                FUZZ_REQUIRE(no_control(out, len), "output-control",
                             "-f auto (github) wrote a control character");
                break;
        case LINT_FORMAT_JUNIT:
        case LINT_FORMAT_CHECKSTYLE:
                FUZZ_REQUIRE(well_formed_xml(out, len), "output-xml",
                             "-f junit or checkstyle wrote no well-formed XML document");
                break;
        case LINT_FORMAT_COUNT: break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2)
                return 0;
        const unsigned a = data[0], b = data[1];
        const char *p = (const char *)data + 2, *end = (const char *)data + size;
        static const ksafe_format_t formats[] = {KSAFE_FORMAT_AUTO, KSAFE_FORMAT_PROPERTIES,
                                                 KSAFE_FORMAT_JSON, KSAFE_FORMAT_AUTO};
        ksafe_config_options_t options = {
                .version = KSAFE_CONFIG_OPTIONS_VERSION,
                .format = formats[(b >> 3) & 3],
                .dialect = a & 8 ? KSAFE_DIALECT_JAVA : KSAFE_DIALECT_LIBRDKAFKA,
                .json_pointer = a & 128 ? "/kafka" : NULL,
        };
        lint_run_t run = {
                .policy = fuzz_policy((a >> 6) & 1),
                .format = (lint_format_t)((a & 7) % LINT_FORMAT_COUNT),
                .werror = (b & 32) != 0,
                .quiet = (b & 64) != 0,
                .fix = (a & 16) != 0,
        };
        char *name = b & 4 ? take_line(&p, end) : strdup("fuzz.properties");
        char *x[3] = {NULL, NULL, NULL};
        size_t nx = b & 3;
        for (size_t i = 0; i < nx; i++)
                x[i] = take_line(&p, end);

        lint_result_t result = {.name = name, .display = name ? ksafe_report_escape(name) : NULL};
        run.results = &result;
        run.count = 1;
        ksafe_error_t err = {0};
        /* ksafe-lint.c's read_input() and lint_one(), for one file. */
        ksafe_config_t *cfg =
                name ? ksafe_config_read(p, (size_t)(end - p), name, &options, &err) : NULL;
        if (name && !cfg)
                FUZZ_REQUIRE(err.text[0] != '\0', "error-text",
                             "a config refused without an error text");
        for (size_t i = 0; cfg && i < nx; i++) {
                const char *eq = x[i] ? strchr(x[i], '=') : NULL;
                if (!eq || eq == x[i])
                        continue; /* ksafe-lint refuses it: "-X needs KEY=VALUE" */
                char key[512];
                snprintf(key, sizeof(key), "%.*s", (int)(eq - x[i]), x[i]);
                if (!ksafe_config_set(cfg, key, eq + 1, "<command line>"))
                        goto out;
        }
        if (cfg && run.fix) {
                result.report = ksafe_config_enforce(cfg, run.policy);
                size_t len = 0;
                char *text = ksafe_config_change_count(cfg) ? ksafe_config_render(cfg, &len) : NULL;
                if (text) {
                        ksafe_config_t *again = ksafe_config_read(text, len, name, &options, &err);
                        FUZZ_REQUIRE(again != NULL, "read-back",
                                     "what --fix writes does not read back");
                        ksafe_config_destroy(again);
                }
                free(text);
        } else if (cfg) {
                result.report = ksafe_config_check(cfg, run.policy);
        }
        if (cfg && (a & 32)) {
                ksafe_report_t *enforced = run.fix ? NULL : ksafe_config_enforce(cfg, run.policy);
                char *text = ksafe_config_effective(cfg, run.policy);
                if (text)
                        FUZZ_REQUIRE(no_control(text, strlen(text)), "effective-control",
                                     "--effective prints a control character");
                free(text);
                ksafe_report_destroy(enforced);
        }
        if (!cfg)
                result.error = ksafe_report_escape(err.text);
        fuzz_check_report(result.report, run.policy);

        size_t len = 0;
        char *out = print_to_memory(&run, &len);
        if (out)
                check_output(&run, out, len);
        free(out);
out:
        ksafe_report_destroy(result.report);
        free(result.error);
        free(result.display);
        ksafe_config_destroy(cfg);
        for (size_t i = 0; i < nx; i++)
                free(x[i]);
        free(name);
        return 0;
}
