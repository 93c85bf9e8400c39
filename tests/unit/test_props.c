/*
 * Unit tests of lib/props.c: librdkafka's property table as ksafe reads it
 * from the linked library (names, aliases, scopes, defaults), values parsed
 * as librdkafka parses them, values it reads otherwise than they are
 * written, "did you mean" suggestions and sensitive names.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "ksafe_int.h"
#include "common.h"

static ksafe_props_t *props;

static void setup(void)
{
        props = ksafe_props__new();
        ck_assert_ptr_nonnull(props);
}

static void teardown(void)
{
        ksafe_props__destroy(props);
        props = NULL;
}

/* The canonical property behind `name`; the test fails when it is unknown. */
static const ksafe_prop_t *prop(const char *name)
{
        const ksafe_prop_t *p = ksafe_props__find(props, name);
        ck_assert_msg(p != NULL, "property \"%s\" is unknown", name);
        return p;
}

/*
 * Names and aliases
 */

static const struct {
        const char *name;
        const char *canonical;
        ksafe_scope_t scope;
} aliases[] = {
        {"acks", "request.required.acks", KSAFE_SCOPE_TOPIC},
        {"topic.acks", "request.required.acks", KSAFE_SCOPE_TOPIC},
        {"request.required.acks", "request.required.acks", KSAFE_SCOPE_TOPIC},
        {"max.in.flight", "max.in.flight.requests.per.connection", KSAFE_SCOPE_GLOBAL},
        {"max.in.flight.requests.per.connection", "max.in.flight.requests.per.connection",
         KSAFE_SCOPE_GLOBAL},
        {"delivery.timeout.ms", "message.timeout.ms", KSAFE_SCOPE_TOPIC},
        {"retries", "message.send.max.retries", KSAFE_SCOPE_GLOBAL},
        {"linger.ms", "queue.buffering.max.ms", KSAFE_SCOPE_GLOBAL},
        {"bootstrap.servers", "metadata.broker.list", KSAFE_SCOPE_GLOBAL},
        {"enable.idempotence", "enable.idempotence", KSAFE_SCOPE_GLOBAL},
        /* a global property whose own name starts with "topic." */
        {"topic.metadata.refresh.interval.ms", "topic.metadata.refresh.interval.ms",
         KSAFE_SCOPE_GLOBAL},
};

START_TEST(test_alias_resolves_to_canonical)
{
        const ksafe_prop_t *p = prop(aliases[_i].name);
        ck_assert_str_eq(p->name, aliases[_i].canonical);
        ck_assert_ptr_eq(p->canon, p);
        ck_assert_ptr_null(p->alias_of);
        ck_assert_int_eq(p->scope, aliases[_i].scope);
}
END_TEST

START_TEST(test_unknown_names)
{
        ck_assert_ptr_null(ksafe_props__find(props, "no.such.property"));
        ck_assert_ptr_null(ksafe_props__find(props, "enable.idempotance"));
        ck_assert_ptr_null(ksafe_props__find(props, "topic.no.such.property"));
        ck_assert_ptr_null(ksafe_props__find(props, ""));
        /* "topic." selects a topic-level property only */
        ck_assert_ptr_null(ksafe_props__find(props, "topic.linger.ms"));
}
END_TEST

/* Every row of the table is found by its own name (the hash index agrees
 * with the table): a global row is what its name means, and a topic-level
 * row too unless a global property has the same name (global first, as
 * rd_kafka_conf_set() does); "topic." + a topic row's name finds it. */
START_TEST(test_every_row_found)
{
        size_t n = ksafe_props__count(props);
        ck_assert_uint_gt(n, 150);
        for (size_t i = 0; i < n; i++) {
                const ksafe_prop_t *row = ksafe_props__at(props, i);
                const ksafe_prop_t *found = ksafe_props__find(props, row->name);
                ck_assert_msg(found != NULL, "row %zu \"%s\" not found", i, row->name);
                if (row->scope == KSAFE_SCOPE_GLOBAL || found->scope == KSAFE_SCOPE_TOPIC)
                        ck_assert_msg(found == row->canon, "\"%s\" finds \"%s\"", row->name,
                                      found->name);
                if (row->scope != KSAFE_SCOPE_TOPIC)
                        continue;
                char prefixed[300];
                snprintf(prefixed, sizeof(prefixed), "topic.%s", row->name);
                const ksafe_prop_t *global = NULL;
                for (size_t j = 0; j < n; j++) {
                        const ksafe_prop_t *g = ksafe_props__at(props, j);
                        if (g->scope == KSAFE_SCOPE_GLOBAL && strcmp(g->name, prefixed) == 0)
                                global = g;
                }
                ck_assert_ptr_eq(ksafe_props__find(props, prefixed),
                                 global ? global->canon : row->canon);
        }
}
END_TEST

/* A global property's topic-level twin is the topic property that
 * ksafe_props__find("topic." + its name) finds, of the same name, that can
 * say "inherit" (compression.codec); no other row has one. */
START_TEST(test_topic_twins)
{
        size_t twins = 0;
        for (size_t i = 0; i < ksafe_props__count(props); i++) {
                const ksafe_prop_t *p = ksafe_props__at(props, i);
                const ksafe_prop_t *want = NULL;
                char name[300];
                snprintf(name, sizeof(name), "topic.%s", p->name);
                const ksafe_prop_t *t = ksafe_props__find(props, name);
                if (p->canon == p && p->scope == KSAFE_SCOPE_GLOBAL && t &&
                    t->scope == KSAFE_SCOPE_TOPIC && strcmp(t->name, p->name) == 0 && t->values &&
                    strstr(t->values, "inherit"))
                        want = t;
                ck_assert_msg(p->topic_twin == want, "%s: twin %s, expected %s", p->name,
                              p->topic_twin ? p->topic_twin->name : "none",
                              want ? want->name : "none");
                twins += want != NULL;
        }
        ck_assert_uint_ge(twins, 1);
        ck_assert_ptr_eq(prop("compression.codec")->topic_twin,
                         ksafe_props__find(props, "topic.compression.codec"));
}
END_TEST

START_TEST(test_well_known)
{
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_ACKS), prop("acks"));
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_INFLIGHT), prop("max.in.flight"));
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_RETRIES), prop("retries"));
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_MESSAGE_TIMEOUT),
                         prop("delivery.timeout.ms"));
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_IDEMPOTENCE),
                         prop("enable.idempotence"));
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_TRANSACTIONAL_ID),
                         prop("transactional.id"));
        ck_assert_ptr_eq(ksafe_props__well_known(props, KSAFE_P_TRANSACTION_TIMEOUT),
                         prop("transaction.timeout.ms"));
}
END_TEST

/*
 * Defaults, types and ranges as librdkafka reports them
 */

START_TEST(test_defaults_from_librdkafka)
{
        ck_assert_str_eq(prop("max.in.flight")->def, "1000000");
        ck_assert_str_eq(prop("acks")->def, "-1");
        ck_assert_str_eq(prop("enable.idempotence")->def, "false");
        ck_assert_str_eq(prop("delivery.timeout.ms")->def, "300000");
        ck_assert_str_eq(prop("retries")->def, "2147483647");
        ck_assert_str_eq(prop("security.protocol")->def, "plaintext");
        /* no default: empty, never NULL */
        ck_assert_str_eq(prop("transactional.id")->def, "");
}
END_TEST

/* Every row's default is what rd_kafka_conf_get() reads from a new conf
 * under its canonical name ("" for a pointer or no value). */
START_TEST(test_every_default_as_conf_get)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        for (size_t i = 0; i < ksafe_props__count(props); i++) {
                const ksafe_prop_t *p = ksafe_props__at(props, i);
                char buf[4096] = "";
                size_t size = sizeof(buf);
                rd_kafka_conf_res_t res = RD_KAFKA_CONF_UNKNOWN;
                if (p->type != KSAFE_PROP_POINTER)
                        res = p->scope == KSAFE_SCOPE_GLOBAL
                                      ? rd_kafka_conf_get(conf, p->canon->name, buf, &size)
                                      : rd_kafka_topic_conf_get(tconf, p->canon->name, buf, &size);
                ck_assert_msg(strcmp(p->def, res == RD_KAFKA_CONF_OK ? buf : "") == 0,
                              "%s: default \"%s\", librdkafka \"%s\"", p->name, p->def,
                              res == RD_KAFKA_CONF_OK ? buf : "");
        }
        rd_kafka_topic_conf_destroy(tconf);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(test_types)
{
        ck_assert_int_eq(prop("acks")->type, KSAFE_PROP_INT);
        ck_assert_int_eq(prop("max.in.flight")->type, KSAFE_PROP_INT);
        ck_assert_int_eq(prop("enable.idempotence")->type, KSAFE_PROP_BOOL);
        ck_assert_int_eq(prop("linger.ms")->type, KSAFE_PROP_FLOAT);
        ck_assert_int_eq(prop("security.protocol")->type, KSAFE_PROP_ENUM);
        ck_assert_int_eq(prop("bootstrap.servers")->type, KSAFE_PROP_STRING);
}
END_TEST

START_TEST(test_ranges_and_choices)
{
        const ksafe_prop_t *acks = prop("acks");
        ck_assert(acks->has_range);
        ck_assert_double_eq(acks->min, -1);
        ck_assert_double_eq(acks->max, 1000);
        const ksafe_prop_t *inflight = prop("max.in.flight");
        ck_assert(inflight->has_range);
        ck_assert_double_eq(inflight->min, 1);
        ck_assert_double_eq(inflight->max, 1000000);
        ck_assert_contains(prop("security.protocol")->values, "sasl_ssl");
        ck_assert(!prop("enable.idempotence")->has_range);
}
END_TEST

START_TEST(test_zero_is_infinite)
{
        ck_assert(prop("delivery.timeout.ms")->zero_infinite);
        ck_assert(!prop("linger.ms")->zero_infinite);
        ck_assert(!prop("acks")->zero_infinite);
}
END_TEST

/*
 * Parsing values as librdkafka does
 */

static const struct {
        const char *property;
        const char *raw;
        const char *parsed;
} parses[] = {
        {"acks", "all", "-1"},
        {"topic.acks", "all", "-1"},
        {"acks", "1", "1"},
        {"enable.idempotence", "t", "true"},
        {"enable.idempotence", "TRUE", "true"},
        {"enable.idempotence", "1", "true"},
        {"enable.idempotence", "F", "false"},
        {"enable.idempotence", "0", "false"},
        {"max.in.flight", "0x10", "16"},
        {"security.protocol", "SSL", "ssl"},
        {"linger.ms", "1e3", "1000"},
        {"linger.ms", "0.5", "0.5"},
        {"bootstrap.servers", " a:9092 ", "a:9092 "}, /* librdkafka left-trims strings */
        {"client.id", "my-app", "my-app"},
        {"client.id", "", "rdkafka"}, /* empty: back to the default */
        {"transactional.id", "", ""}, /* empty: not set (no default) */
        {"sasl.mechanisms", "PLAIN", "PLAIN"},
        {"plugin.library.paths", "/no/such/plugin", "/no/such/plugin"}, /* never loaded */
};

/* ksafe_prop__parse() into a buffer: true when librdkafka accepts `raw`. */
static bool parse_into(const ksafe_prop_t *p, const char *raw, char *out, size_t out_size,
                       char *errstr, size_t errstr_size)
{
        char *value = ksafe_prop__parse(p, raw, errstr, errstr_size);
        if (value)
                snprintf(out, out_size, "%s", value);
        free(value);
        return value != NULL;
}

START_TEST(test_parse_as_librdkafka)
{
        char out[256] = "", errstr[256] = "";
        bool ok = parse_into(prop(parses[_i].property), parses[_i].raw, out, sizeof(out), errstr,
                             sizeof(errstr));
        ck_assert_msg(ok, "%s=\"%s\" refused: %s", parses[_i].property, parses[_i].raw, errstr);
        ck_assert_str_eq(out, parses[_i].parsed);
}
END_TEST

static const struct {
        const char *property;
        const char *raw;
        const char *message;
} refusals[] = {
        {"enable.idempotence", "yes", "Expected bool value for \"enable.idempotence\""},
        {"enable.idempotence", "on", "Expected bool value for \"enable.idempotence\""},
        {"enable.idempotence", " true", "Expected bool value for \"enable.idempotence\""},
        {"security.protocol", "tls", "security.protocol"},
        {"linger.ms", "soon", "queue.buffering.max.ms"},
        {"acks", "2000", "outside allowed range -1..1000"},
        {"acks", "", "empty value"},
        /* Strings are librdkafka's to judge too. */
        {"sasl.mechanisms", "", "Invalid value for configuration property \"sasl.mechanisms\""},
        {"sasl.mechanisms", "PLAIN,SCRAM-SHA-256",
         "Invalid value for configuration property \"sasl.mechanisms\""},
        {"broker.version.fallback", "", "broker.version.fallback"},
        {"topic.blacklist", "(", "Failed to parse pattern"},
        /* Properties this build does not support (Debian's 2.0.2: no libcurl). */
        {"sasl.oauthbearer.client.id", "abc",
         "Configuration property \"sasl.oauthbearer.client.id\" not supported in this build: "
         "OAuth/OIDC depends on libcurl"},
        {"sasl.oauthbearer.token.endpoint.url", "https://idp/token", "not supported in this build"},
        {"sasl.oauthbearer.method", "oidc", "not supported in this build"},
        {"ssl.ca.certificate.stores", "Root", "configuration only valid on Windows"},
        /* A sensitive property: librdkafka's message, which quotes no value. */
        {"sasl.oauthbearer.client.secret", "oauth-s3cret",
         "\"sasl.oauthbearer.client.secret\" not supported in this build"},
};

START_TEST(test_parse_refused_with_message)
{
        char out[256] = "", errstr[256] = "";
        bool ok = parse_into(prop(refusals[_i].property), refusals[_i].raw, out, sizeof(out),
                             errstr, sizeof(errstr));
        ck_assert_msg(!ok, "%s=\"%s\" accepted as \"%s\"", refusals[_i].property, refusals[_i].raw,
                      out);
        ck_assert_contains(errstr, refusals[_i].message);
        /* one sentence, ready to be put in a longer message */
        size_t len = strlen(errstr);
        ck_assert_msg(len > 0 && errstr[len - 1] != '\n',
                      "message ends with a newline: \"%.*s\\n\"", (int)len - 1, errstr);
}
END_TEST

/* Each distinct (property, value) is parsed once per process and the answer
 * remembered (lib/propvalue.c): the same text for different properties
 * reads differently, and a second parse answers what the first did. */
static const struct {
        const char *property;
        const char *raw;
        const char *parsed; /* NULL: refused */
} same_text[] = {
        {"acks", "1", "1"},
        {"enable.idempotence", "1", "true"},
        {"linger.ms", "1", "1"},
        {"acks", "all", "-1"},
        {"linger.ms", "all", NULL},
        {"compression.codec", "all", NULL},
        {"request.required.acks", "all", "-1"},
        {"enable.idempotence", "yes", NULL},
        {"compression.codec", "lz4", "lz4"},
        {"topic.compression.codec", "lz4", "lz4"},
};

START_TEST(test_parse_remembered)
{
        char first[ARRAY_SIZE(same_text)][2][256];
        for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < ARRAY_SIZE(same_text); i++) {
                        char out[256] = "", errstr[256] = "";
                        const ksafe_prop_t *p = ksafe_props__find(props, same_text[i].property);
                        ck_assert_ptr_nonnull(p);
                        bool ok = parse_into(p, same_text[i].raw, out, sizeof(out), errstr,
                                             sizeof(errstr));
                        ck_assert_msg(ok == (same_text[i].parsed != NULL),
                                      "round %d: %s=\"%s\": %s", round, same_text[i].property,
                                      same_text[i].raw, ok ? out : errstr);
                        if (ok)
                                ck_assert_str_eq(out, same_text[i].parsed);
                        if (round == 0) {
                                snprintf(first[i][0], sizeof(first[i][0]), "%s", out);
                                snprintf(first[i][1], sizeof(first[i][1]), "%s", errstr);
                                continue;
                        }
                        ck_assert_str_eq(out, first[i][0]);
                        ck_assert_str_eq(errstr, first[i][1]);
                }
}
END_TEST

/*
 * A value parses as on a fresh conf, whatever was parsed before
 * (propvalue.c reuses its scratch confs): every property of the table,
 * with texts of every kind, each distinct (so that none is remembered),
 * parsed after the others, gives what librdkafka gives on a new conf.
 * CSV flags OR into what a conf holds, so a reused conf would read
 * debug=topic after debug=broker as "broker,topic".
 */
static char *fresh_parse(const ksafe_prop_t *p, const char *raw, bool *accepted)
{
        char out[4096] = "", errstr[512];
        size_t size = sizeof(out);
        rd_kafka_conf_res_t res;
        if (p->scope == KSAFE_SCOPE_GLOBAL) {
                rd_kafka_conf_t *conf = rd_kafka_conf_new();
                res = rd_kafka_conf_set(conf, p->name, raw, errstr, sizeof(errstr));
                if (res == RD_KAFKA_CONF_OK)
                        res = rd_kafka_conf_get(conf, p->name, out, &size);
                rd_kafka_conf_destroy(conf);
        } else {
                rd_kafka_topic_conf_t *conf = rd_kafka_topic_conf_new();
                res = rd_kafka_topic_conf_set(conf, p->name, raw, errstr, sizeof(errstr));
                if (res == RD_KAFKA_CONF_OK)
                        res = rd_kafka_topic_conf_get(conf, p->name, out, &size);
                rd_kafka_topic_conf_destroy(conf);
        }
        /* An empty string property reads back as unset: "" to ksafe. */
        *accepted = res == RD_KAFKA_CONF_OK || (res == RD_KAFKA_CONF_UNKNOWN && !*raw);
        return strdup(out);
}

START_TEST(test_parse_as_on_a_fresh_conf)
{
        static const char *const texts[] = {
                "",          "0",      "1",     "-1",           "7",    "all", "true",
                "false",     "broker", "topic", "broker,topic", "gzip", "lz4", "none",
                "+metadata", "-all",   "2.5",   "x.y:1",        "^a.*", "(",   "PLAIN",
                "abc",
        };
        size_t n = ksafe_props__count(props);
        unsigned serial = 0;
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < n; i++) {
                        const ksafe_prop_t *p = ksafe_props__at(props, i)->canon;
                        if (p->type == KSAFE_PROP_POINTER ||
                            strcmp(p->name, "plugin.library.paths") == 0)
                                continue;
                        for (size_t t = 0; t < ARRAY_SIZE(texts); t++) {
                                /* A text of its own each time: never remembered. */
                                char raw[64];
                                if (round == 0 || !texts[t][0])
                                        snprintf(raw, sizeof(raw), "%s", texts[t]);
                                else
                                        snprintf(raw, sizeof(raw), "%s%s%u", texts[t],
                                                 p->type == KSAFE_PROP_STRING ? "-" : " ",
                                                 serial++ % 3);
                                bool want_ok;
                                char *want = fresh_parse(p, raw, &want_ok);
                                char errstr[512] = "";
                                char *got = ksafe_prop__parse(p, raw, errstr, sizeof(errstr));
                                ck_assert_msg((got != NULL) == want_ok,
                                              "%s=\"%s\": ksafe %s, librdkafka %s", p->name, raw,
                                              got ? got : errstr, want_ok ? want : "refuses");
                                if (got)
                                        ck_assert_msg(strcmp(got, want) == 0,
                                                      "%s=\"%s\": ksafe \"%s\", librdkafka \"%s\"",
                                                      p->name, raw, got, want);
                                free(got);
                                free(want);
                        }
                }
}
END_TEST

START_TEST(test_parse_pointer_property)
{
        char out[256] = "", errstr[256] = "";
        ck_assert(!parse_into(prop("oauthbearer_token_refresh_cb"), "x", out, sizeof(out), errstr,
                              sizeof(errstr)));
        ck_assert_contains(errstr, "dedicated API");
}
END_TEST

/* librdkafka 2.0.2 has no sensitive property that it could refuse (they are
 * all strings): judge the rule on an integer property marked sensitive. */
START_TEST(test_parse_refusal_hides_sensitive_value)
{
        ksafe_prop_t secret = *prop("acks");
        secret.canon = &secret;
        secret.sensitive = true;
        char out[256] = "", errstr[256] = "";
        ck_assert(!parse_into(&secret, "hunter2", out, sizeof(out), errstr, sizeof(errstr)));
        ck_assert_contains(errstr, "request.required.acks");
        ck_assert_ptr_null(strstr(errstr, "hunter2"));

        /* the same value on the plain property: librdkafka's own message */
        ck_assert(!parse_into(prop("acks"), "hunter2", out, sizeof(out), errstr, sizeof(errstr)));
        ck_assert_str_ne(errstr, "");

        /* A string property whose validator quotes the value, made
         * sensitive: the value never reaches the message. */
        ksafe_prop_t mech = *prop("sasl.mechanisms");
        mech.canon = &mech;
        mech.sensitive = true;
        ck_assert(!parse_into(&mech, "PLAIN,hunter2", out, sizeof(out), errstr, sizeof(errstr)));
        ck_assert_contains(errstr, "sasl.mechanisms");
        ck_assert_ptr_null(strstr(errstr, "hunter2"));
        ck_assert(!parse_into(prop("sasl.mechanisms"), "PLAIN,hunter2", out, sizeof(out), errstr,
                              sizeof(errstr)));
        ck_assert_contains(errstr, "hunter2"); /* not sensitive: librdkafka's words */
}
END_TEST

/* Names that librdkafka's published table does not list, asked of
 * librdkafka itself: its hidden properties, its hints for Java names, and
 * unknown names. */
static const struct {
        const char *name, *raw;
        rd_kafka_conf_res_t res;
        const char *message; /* in errstr when INVALID */
        const char *secret;  /* never in errstr */
} probes[] = {
        {"test.mock.num.brokers", "3", RD_KAFKA_CONF_OK, NULL, NULL},
        {"client.software.name", "app", RD_KAFKA_CONF_OK, NULL, NULL},
        {"test.mock.num.brokers", "many", RD_KAFKA_CONF_INVALID, "test.mock.num.brokers", NULL},
        {"ssl.truststore.location", "/etc/kafka/truststore.jks", RD_KAFKA_CONF_INVALID,
         "Java TrustStores are not supported, use `ssl.ca.location`", "truststore.jks"},
        {"sasl.jaas.config", "PlainLoginModule required password=\"jaas-secret\"",
         RD_KAFKA_CONF_INVALID, "Java JAAS configuration is not supported", "jaas-secret"},
        {"enable.idempotance", "true", RD_KAFKA_CONF_UNKNOWN, NULL, NULL},
        {"topic.no.such.thing", "1", RD_KAFKA_CONF_UNKNOWN, NULL, NULL},
        {"key.serializer", "x", RD_KAFKA_CONF_UNKNOWN, NULL, NULL},
};

START_TEST(test_probe_unlisted_names)
{
        rd_kafka_conf_t *scratch = rd_kafka_conf_new();
        char errstr[512];
        ck_assert_ptr_null(ksafe_props__find(props, probes[_i].name));
        rd_kafka_conf_res_t res =
                ksafe_prop__probe(scratch, probes[_i].name, probes[_i].raw, errstr, sizeof(errstr));
        ck_assert_int_eq(res, probes[_i].res);
        if (probes[_i].message)
                ck_assert_contains(errstr, probes[_i].message);
        if (probes[_i].secret)
                ck_assert_ptr_null(strstr(errstr, probes[_i].secret));
        rd_kafka_conf_destroy(scratch);
}
END_TEST

/*
 * Values librdkafka reads otherwise than a person does
 */

/* Parse `raw` for `property` (it must be accepted) and ask whether it is
 * misread; `why` receives the explanation. */
static bool misread(const char *property, const char *raw, char *why, size_t why_size)
{
        char out[256] = "", errstr[256] = "";
        const ksafe_prop_t *p = prop(property);
        ck_assert_msg(parse_into(p, raw, out, sizeof(out), errstr, sizeof(errstr)),
                      "%s=\"%s\" refused: %s", property, raw, errstr);
        why[0] = '\0';
        return ksafe_prop__misread(p, raw, out, why, why_size);
}

static const struct {
        const char *property;
        const char *raw;
        const char *why; /* NULL: read as written */
} misreads[] = {
        {"acks", "1e3", "librdkafka reads it as 1"},
        {"delivery.timeout.ms", "1e3", "librdkafka reads it as 1"},
        {"acks", "1.9", "librdkafka reads it as 1"},
        {"acks", "5abc", "librdkafka reads it as 5"},
        {"acks", "010", "librdkafka reads \"010\" as 8 (octal)"},
        {"max.in.flight", "4294967301",
         "does not fit in 32 bits; librdkafka silently reads it as 5"},
        {"acks", "4294967295", "does not fit in 32 bits; librdkafka silently reads it as -1"},
        {"linger.ms", "1.5x", "librdkafka reads it as 1.5"},
        {"acks", "5", NULL},
        {"acks", " 5 ", NULL},
        {"acks", "0x10", NULL},
        {"acks", "all", NULL},
        {"acks", "-1", NULL},
        {"acks", "007", NULL}, /* 7 in octal and in decimal */
        {"acks", "0", NULL},
        {"linger.ms", "1e3", NULL}, /* strtod reads 1000 */
        {"linger.ms", "0.5", NULL},
        {"enable.idempotence", "t", NULL},
        {"security.protocol", "SSL", NULL},
};

START_TEST(test_misread)
{
        char why[256];
        bool is_misread = misread(misreads[_i].property, misreads[_i].raw, why, sizeof(why));
        if (!misreads[_i].why) {
                ck_assert_msg(!is_misread, "%s=\"%s\" reported as misread: %s",
                              misreads[_i].property, misreads[_i].raw, why);
                return;
        }
        ck_assert_msg(is_misread, "%s=\"%s\" not reported as misread", misreads[_i].property,
                      misreads[_i].raw);
        ck_assert_contains(why, misreads[_i].why);
}
END_TEST

/*
 * Numbers as the engine compares them
 */

START_TEST(test_number)
{
        double n = -1;
        ck_assert(ksafe_prop__number(prop("linger.ms"), "0", &n));
        ck_assert_double_eq(n, 0);
        ck_assert(ksafe_prop__number(prop("linger.ms"), "0.5", &n));
        ck_assert_double_eq(n, 0.5);
        ck_assert(ksafe_prop__number(prop("acks"), "-1", &n));
        ck_assert_double_eq(n, -1);
        /* delivery.timeout.ms=0 means infinite: it fails any maximum */
        ck_assert(ksafe_prop__number(prop("delivery.timeout.ms"), "0", &n));
        ck_assert(isinf(n) && n > 0);
        ck_assert(ksafe_prop__number(prop("delivery.timeout.ms"), "120000", &n));
        ck_assert_double_eq(n, 120000);
        ck_assert(!ksafe_prop__number(prop("acks"), "all", &n));
        ck_assert(!ksafe_prop__number(prop("acks"), "", &n));
        ck_assert(!ksafe_prop__number(prop("acks"), "5abc", &n));
}
END_TEST

/*
 * "Did you mean"
 */

/* ksafe_prop__strtod() is strtod(): value, sign of zero and where it
 * stops, on plain integers (its quick path) and everything next to them. */
START_TEST(test_strtod_as_libc)
{
        static const char *const texts[] = {
                "0",
                "-0",
                "5",
                "-5",
                "123456789012345",
                "-123456789012345",
                "1234567890123456",
                "99999999999999999999",
                "007",
                "5abc",
                "5 ",
                " 5",
                "+5",
                "--5",
                "-",
                "",
                "1.5",
                "1e3",
                "1E3",
                "5e",
                "0x1A",
                "0X1a",
                "10x",
                "1p5",
                "0x1p3",
                "inf",
                "-inf",
                "nan",
                "2147483647",
                "-2147483648",
                "9007199254740993",
                "1,5",
                "12\n",
        };
        for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
                char *want_end, *got_end;
                double want = strtod(texts[i], &want_end);
                double got = ksafe_prop__strtod(texts[i], &got_end);
                ck_assert_msg((isnan(want) && isnan(got)) ||
                                      (want == got && signbit(want) == signbit(got)),
                              "\"%s\": %g, strtod %g", texts[i], got, want);
                ck_assert_msg(got_end == want_end, "\"%s\": stops at %td, strtod at %td", texts[i],
                              got_end - texts[i], want_end - texts[i]);
        }
        ck_assert(ksafe_prop__strtod("42", NULL) == 42);
}
END_TEST

/* ksafe__whole_number() writes what "%.0f" and "%.15g" print, or nothing
 * (fractions, -0, 10^15 and beyond, infinities, NaN). */
START_TEST(test_whole_number_as_printf)
{
        static const double numbers[] = {
                0,
                -0.0,
                1,
                -1,
                9,
                10,
                1000,
                300000,
                2147483647,
                -2147483648.0,
                999999999999999,
                -999999999999999,
                1e15,
                -1e15,
                0.5,
                -0.5,
                1e300,
                INFINITY,
                -INFINITY,
                NAN,
        };
        for (size_t i = 0; i < ARRAY_SIZE(numbers); i++) {
                double d = numbers[i];
                char got[32] = "untouched", f[64], g[64];
                snprintf(f, sizeof(f), "%.0f", d);
                snprintf(g, sizeof(g), "%.15g", d);
                bool whole = d == floor(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d));
                const char *r = ksafe__whole_number(d, got, sizeof(got));
                ck_assert_msg((r != NULL) == whole, "%s: %s", f, r ? "written" : "refused");
                if (r) {
                        ck_assert_str_eq(got, f);
                        ck_assert_str_eq(got, g);
                } else {
                        ck_assert_str_eq(got, "untouched");
                }
        }
}
END_TEST

START_TEST(test_suggest)
{
        ck_assert_pstr_eq(ksafe_props__suggest(props, "enable.idempotance"), "enable.idempotence");
        ck_assert_pstr_eq(ksafe_props__suggest(props, "ackz"), "acks");
        ck_assert_pstr_eq(ksafe_props__suggest(props, "bootstrap.server"), "bootstrap.servers");
        ck_assert_pstr_eq(ksafe_props__suggest(props, "zzzzzzzzzzzz"), NULL);
        ck_assert_pstr_eq(ksafe_props__suggest(props, ""), NULL);
}
END_TEST

/* The suggestion as it was first written: every name compared in full
 * (Levenshtein over the whole matrix), the first nearest one kept. The
 * fast search must give exactly this answer. */
static size_t full_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 128 || lb > 128)
                return (size_t)-1;
        size_t row[129];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] == b[j - 1] ? 0 : 1);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

static const char *reference_suggest(const char *name)
{
        size_t limit = strlen(name) / 3;
        limit = limit < 2 ? 2 : limit > 4 ? 4 : limit;
        const char *best = NULL;
        size_t best_d = (size_t)-1;
        const ksafe_prop_t *p;
        for (size_t i = 0; (p = ksafe_props__at(props, i)) != NULL; i++) {
                size_t d = full_distance(name, p->name);
                if (d < best_d) {
                        best_d = d;
                        best = p->name;
                }
        }
        return best_d <= limit ? best : NULL;
}

/* Names near and far from the table: typos of every kind, ties between
 * two properties, lengths at the limits, and names over 128 bytes. */
static const char *const suggest_cases[] = {
        "enable.idempotance",
        "ackz",
        "acks",
        "ack",
        "acksss",
        "bootstrap.server",
        "bootstrap.serverz",
        "bootsrtap.servers",
        "linger.m",
        "lingerms",
        "linger.ms.",
        "max.in.flite",
        "max.inflight",
        "retrys",
        "retries.",
        "delivery.timeout.m",
        "delivery.timeout.ms",
        "deliverytimeoutms",
        "message.timeout",
        "compression",
        "compresion.type",
        "compression.typ",
        "topic.acks",
        "topic.ackz",
        "sasl.mechanism",
        "sasl.mechansims",
        "ssl.ca.locaton",
        "queue.buffering.max.m",
        "batch.num.message",
        "client.d",
        "clientid",
        "a",
        "ab",
        "abc",
        "xyz",
        "",
        ".",
        "..",
        "....",
        "zzzzzzzzzzzz",
        "security.protocoll",
        "securityprotocol",
        "transactional.i",
        "transaction.id",
        "statistics.interval",
        "socket.keepalive.enabled",
        "api.version.request.timeout",
        "enable.ssl.certificate.verificaton",
        "ssl.endpoint.identification.algorithmm",
        "partitioner.class",
        "key.serializer",
        "buffer.memory",
        "max.request.size",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

START_TEST(test_suggest_same_as_full_search)
{
        const char *name = suggest_cases[_i];
        ck_assert_pstr_eq(ksafe_props__suggest(props, name), reference_suggest(name));
}
END_TEST

/* Every property name, and every one-edit variant of a sample of them
 * (deleted, doubled, replaced, swapped characters), gets the answer of the
 * full search. */
START_TEST(test_suggest_same_as_full_search_on_mutations)
{
        const ksafe_prop_t *p;
        char buf[160];
        size_t checked = 0;
        for (size_t i = 0; (p = ksafe_props__at(props, i)) != NULL; i++) {
                ck_assert_pstr_eq(ksafe_props__suggest(props, p->name), p->name);
                if (i % 7 != 0)
                        continue;
                size_t n = strlen(p->name);
                for (size_t at = 0; at < n && n + 2 < sizeof(buf); at++) {
                        for (int kind = 0; kind < 4; kind++) {
                                snprintf(buf, sizeof(buf), "%s", p->name);
                                if (kind == 0)
                                        memmove(buf + at, buf + at + 1, n - at);
                                else if (kind == 1) {
                                        memmove(buf + at + 1, buf + at, n - at + 1);
                                } else if (kind == 2)
                                        buf[at] = buf[at] == 'x' ? 'q' : 'x';
                                else if (at + 1 < n) {
                                        char c = buf[at];
                                        buf[at] = buf[at + 1];
                                        buf[at + 1] = c;
                                }
                                ck_assert_pstr_eq(ksafe_props__suggest(props, buf),
                                                  reference_suggest(buf));
                                checked++;
                        }
                }
        }
        ck_assert_uint_gt(checked, 1000);
}
END_TEST

/*
 * Sensitive names
 */

static const char *const sensitive_names[] = {
        "sasl.password",
        "ssl.key.password",
        "ssl.key.pem",
        "ssl.ca.pem",
        "ssl.keystore.password",
        "sasl.username",
        "sasl.oauthbearer.config",
        "sasl.oauthbearer.client.secret",
        "ssl.key.location",
        "my.custom.password",
        "topic.sasl.password",
        "SASL.PASSWORD",
};

START_TEST(test_sensitive)
{
        ck_assert_msg(ksafe_property_is_sensitive(sensitive_names[_i]), "%s is not sensitive",
                      sensitive_names[_i]);
}
END_TEST

START_TEST(test_not_sensitive)
{
        ck_assert(!ksafe_property_is_sensitive("acks"));
        ck_assert(!ksafe_property_is_sensitive("bootstrap.servers"));
        ck_assert(!ksafe_property_is_sensitive("enable.idempotence"));
        ck_assert(!ksafe_property_is_sensitive(NULL));
}
END_TEST

START_TEST(test_sensitive_flag_in_table)
{
        ck_assert(prop("sasl.password")->sensitive);
        ck_assert(prop("ssl.key.pem")->sensitive);
        ck_assert(!prop("acks")->sensitive);
}
END_TEST

#define N(array) ((int)(sizeof(array) / sizeof(*(array))))

static Suite *props_suite(void)
{
        Suite *s = suite_create("props");
        TCase *tc;

        tc = tcase_create("names");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_alias_resolves_to_canonical, 0, N(aliases));
        tcase_add_test(tc, test_unknown_names);
        tcase_add_test(tc, test_every_row_found);
        tcase_add_test(tc, test_topic_twins);
        tcase_add_test(tc, test_well_known);
        suite_add_tcase(s, tc);

        tc = tcase_create("defaults");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_defaults_from_librdkafka);
        tcase_add_test(tc, test_every_default_as_conf_get);
        tcase_add_test(tc, test_types);
        tcase_add_test(tc, test_ranges_and_choices);
        tcase_add_test(tc, test_zero_is_infinite);
        suite_add_tcase(s, tc);

        tc = tcase_create("parse");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_parse_as_librdkafka, 0, N(parses));
        tcase_add_loop_test(tc, test_parse_refused_with_message, 0, N(refusals));
        tcase_add_test(tc, test_parse_pointer_property);
        tcase_add_test(tc, test_parse_remembered);
        tcase_add_test(tc, test_parse_as_on_a_fresh_conf);
        tcase_add_test(tc, test_parse_refusal_hides_sensitive_value);
        tcase_add_loop_test(tc, test_probe_unlisted_names, 0, N(probes));
        suite_add_tcase(s, tc);

        tc = tcase_create("misread");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_misread, 0, N(misreads));
        tcase_add_test(tc, test_number);
        tcase_add_test(tc, test_strtod_as_libc);
        tcase_add_test(tc, test_whole_number_as_printf);
        suite_add_tcase(s, tc);

        tc = tcase_create("suggest");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_suggest);
        tcase_add_loop_test(tc, test_suggest_same_as_full_search, 0, N(suggest_cases));
        tcase_add_test(tc, test_suggest_same_as_full_search_on_mutations);
        suite_add_tcase(s, tc);

        tc = tcase_create("sensitive");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, test_sensitive, 0, N(sensitive_names));
        tcase_add_test(tc, test_not_sensitive);
        tcase_add_test(tc, test_sensitive_flag_in_table);
        suite_add_tcase(s, tc);

        return s;
}

KSAFE_TEST_MAIN(props_suite)
