/*
 * A small deterministic fuzzer for the two parsers that read untrusted
 * text: config files (properties and JSON, then check, enforce, render and
 * re-read the rendered text) and policies. Seeds are the repository's own
 * examples; each round flips, inserts, deletes or splices bytes. It checks
 * that nothing crashes (run it in a -Db_sanitize=address,undefined build
 * or under valgrind to catch what does not crash), that every refusal
 * comes with an error text, and that what --fix writes reads back and
 * needs no second repair.
 *
 * Usage: fuzz_inputs SOURCE_ROOT [ROUNDS]   (prints TAP)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)rng;
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *buf = malloc(1 << 16);
        *len = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
        fclose(f);
        return buf;
}

static const char *const tokens[] = {"=",    ":",    "\\\n",       "\r\n",   "\r",           "#",
                                     "\"",   "{",    "}",          ",",      "\xEF\xBB\xBF", "acks",
                                     "1e3",  "0x10", "4294967301", "topic.", "\\u0000",      "[",
                                     "null", "  ",   "\n"};

/* One mutation of `in` into `out` (at most cap bytes). */
static size_t mutate(const char *in, size_t len, char *out, size_t cap)
{
        size_t n = len < cap ? len : cap;
        memcpy(out, in, n);
        int edits = 1 + (int)(next() % 8);
        for (int i = 0; i < edits; i++) {
                size_t at = n ? next() % n : 0;
                switch (next() % 4) {
                case 0:
                        if (n)
                                out[at] = (char)next();
                        break;
                case 1:
                        if (n)
                                memmove(out + at, out + at + 1, n - at - 1), n--;
                        break;
                default: {
                        const char *t = tokens[next() % (sizeof(tokens) / sizeof(*tokens))];
                        size_t tl = strlen(t);
                        if (n + tl < cap) {
                                memmove(out + at + tl, out + at, n - at);
                                memcpy(out + at, t, tl);
                                n += tl;
                        }
                }
                }
        }
        return n;
}

static int failures;

static void expect(bool ok, const char *what, const char *input, size_t len)
{
        if (ok)
                return;
        failures++;
        printf("# %s; input (%zu bytes): %.*s\n", what, len, (int)(len < 200 ? len : 200), input);
}

static void fuzz_config(const ksafe_policy_t *policy, const char *data, size_t len)
{
        ksafe_error_t err = {0};
        ksafe_config_options_t opts = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                       .json_pointer = next() % 4 == 0 ? "/kafka" : NULL};
        ksafe_config_t *cfg = ksafe_config_read(data, len, "fuzz.conf", &opts, &err);
        if (!cfg) {
                expect(err.text[0] != '\0', "a config refused without an error text", data, len);
                return;
        }
        ksafe_report_t *check = ksafe_config_check(cfg, policy);
        char *json = ksafe_report_to_json(check);
        char *text = ksafe_report_to_text(check);
        expect(json && text, "a report did not render", data, len);
        free(json);
        free(text);
        ksafe_report_destroy(check);

        ksafe_report_t *fixed = ksafe_config_enforce(cfg, policy);
        size_t out_len = 0;
        char *out = ksafe_config_render(cfg, &out_len);
        expect(out != NULL, "a config did not render", data, len);
        if (out) {
                ksafe_config_t *again = ksafe_config_read(out, out_len, "fuzz.conf", &opts, &err);
                expect(again != NULL, "what --fix wrote does not read back", out, out_len);
                /* A second repair of the repaired text changes nothing. */
                ksafe_report_destroy(again ? ksafe_config_enforce(again, policy) : NULL);
                expect(!again || ksafe_config_change_count(again) == 0,
                       "a second --fix changes what the first wrote", out, out_len);
                ksafe_config_destroy(again);
        }
        free(out);
        free(ksafe_config_effective(cfg, policy));
        ksafe_report_destroy(fixed);
        ksafe_config_destroy(cfg);
}

static void fuzz_policy(const char *data, size_t len)
{
        char *text = malloc(len + 1);
        memcpy(text, data, len);
        text[len] = '\0';
        ksafe_error_t err = {0};
        ksafe_policy_t *p = ksafe_policy_load_string(text, next() % 2 ? "prod" : NULL, &err);
        if (!p)
                expect(err.text[0] != '\0', "a policy refused without an error text", text, len);
        ksafe_policy_destroy(p);
        free(text);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: fuzz_inputs SOURCE_ROOT [ROUNDS]\n");
                return 2;
        }
        long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 3000;
        static const char *const configs[] = {
                "conf/examples/producer-unsafe.properties", "conf/examples/producer-safe.json",
                "conf/examples/producer-unsafe.json", "conf/examples/producer-safe.properties"};
        static const char *const policies[] = {"conf/examples/org-policy.json",
                                               "conf/policies/default.json"};
        ksafe_policy_t *policy = ksafe_policy_default();
        char out[1 << 16];
        printf("1..2\n");
        for (int kind = 0; kind < 2; kind++) {
                const char *const *seeds = kind == 0 ? configs : policies;
                size_t nseeds = kind == 0 ? 4 : 2;
                failures = 0;
                for (long r = 0; r < rounds; r++) {
                        char path[4096];
                        size_t len;
                        snprintf(path, sizeof(path), "%s/%s", argv[1], seeds[r % nseeds]);
                        char *seed = slurp(path, &len);
                        if (!seed) {
                                printf("# cannot read %s\n", path);
                                return 1;
                        }
                        size_t n = mutate(seed, len, out, sizeof(out) - 1);
                        if (kind == 0)
                                fuzz_config(policy, out, n);
                        else
                                fuzz_policy(out, n);
                        free(seed);
                }
                printf("%s %d - %ld mutated %s\n", failures ? "not ok" : "ok", kind + 1, rounds,
                       kind == 0 ? "configs: read, checked, enforced, rendered, read back"
                                 : "policies: loaded or refused with an error");
        }
        ksafe_policy_destroy(policy);
        return 0;
}
