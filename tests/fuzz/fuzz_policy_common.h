/*
 * What the two policy targets do with a policy that loaded: it must
 * render, and judging and repairing configs by it (a file, and an
 * rd_kafka_conf_t as the facade does) must keep their invariants.
 */
#ifndef KSAFE_FUZZ_POLICY_COMMON_H
#define KSAFE_FUZZ_POLICY_COMMON_H

#include <jansson.h>

#include "fuzz.h"

static const char fuzz_sample_config[] = "acks=1\n"
                                         "enable.idempotence=false\n"
                                         "max.in.flight=10\n"
                                         "delivery.timeout.ms=0\n"
                                         "linger.ms=100\n"
                                         "compression.type=none\n"
                                         "security.protocol=plaintext\n"
                                         "client.id=fuzz\n";

static void fuzz_use_policy(ksafe_policy_t *p)
{
        FUZZ_REQUIRE(ksafe_policy_name(p) != NULL, "policy-name", "a policy without a name");
        char *json = ksafe_policy_to_json(p);
        if (json) {
                json_error_t jerr;
                json_t *root = json_loads(json, 0, &jerr);
                FUZZ_REQUIRE(root != NULL, "policy-json", "ksafe_policy_to_json() is not JSON");
                json_decref(root);
                free(json);
        }
        ksafe_config_options_t opts = {.version = KSAFE_CONFIG_OPTIONS_VERSION,
                                       .format = KSAFE_FORMAT_PROPERTIES};
        fuzz_config_roundtrip(fuzz_sample_config, sizeof(fuzz_sample_config) - 1, &opts, p);
        fuzz_config_roundtrip("", 0, &opts, p);

        /* The facade's pre-check: after an enforcement that was not
         * refused, the conf passes every enforce rule. */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        rd_kafka_conf_set(conf, "acks", "1", errstr, sizeof(errstr));
        rd_kafka_conf_set(conf, "linger.ms", "100", errstr, sizeof(errstr));
        ksafe_report_t *enforced = ksafe_conf_enforce(conf, p);
        fuzz_check_report(enforced, p);
        if (enforced && !ksafe_report_rejected(enforced)) {
                ksafe_report_t *after = ksafe_conf_check(conf, p);
                fuzz_check_report(after, p);
                for (size_t i = 0; after && i < ksafe_report_count(after); i++) {
                        const ksafe_violation_t *v = ksafe_report_get(after, i);
                        FUZZ_REQUIRE(v->action != KSAFE_ACTION_ENFORCE ||
                                             strncmp(v->rule_id, "ksafe-", 6) == 0,
                                     "conf-fix-still-fails",
                                     "a conf that enforcement accepted fails an enforce rule");
                        FUZZ_REQUIRE(v->action != KSAFE_ACTION_REJECT, "conf-fix-rejected",
                                     "a conf that enforcement accepted fails a reject rule");
                }
                ksafe_report_destroy(after);
        }
        ksafe_report_destroy(enforced);
        rd_kafka_conf_destroy(conf);
}

/* Load `text` for `env`: a refusal has a reason, a policy is used. */
static void fuzz_load_policy(const char *text, const char *env)
{
        ksafe_error_t err = {0};
        ksafe_policy_t *p = ksafe_policy_load_string(text, env, &err);
        if (!p) {
                FUZZ_REQUIRE(err.text[0] != '\0', "error-text",
                             "a policy refused without an error text");
                return;
        }
        fuzz_use_policy(p);
        ksafe_policy_destroy(p);
}

#endif /* KSAFE_FUZZ_POLICY_COMMON_H */
