/*
 * The config view: the value librdkafka will use for a property, whoever
 * set it. A conf not yet given to rd_kafka_new() is read through the
 * finalize model; a created handle is read as it is.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

static ksafe_props_t *props;

static void props_setup(void)
{
        props = ksafe_props__new();
        ck_assert_ptr_nonnull(props);
}

static void props_teardown(void)
{
        ksafe_props__destroy(props);
}

/*
 * Helpers
 */

static const ksafe_prop_t *prop(const char *name)
{
        const ksafe_prop_t *p = ksafe_props__find(props, name);
        ck_assert_msg(p, "librdkafka has no property \"%s\"", name);
        return p;
}

/* A conf with the given name/value pairs (NULL-terminated) set. */
static rd_kafka_conf_t *conf_with(const char *const *pairs)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        for (size_t i = 0; pairs[i]; i += 2)
                ck_assert_msg(rd_kafka_conf_set(conf, pairs[i], pairs[i + 1], errstr,
                                                sizeof(errstr)) == RD_KAFKA_CONF_OK,
                              "%s=%s: %s", pairs[i], pairs[i + 1], errstr);
        return conf;
}

#define CONF(...) conf_with((const char *const[]){__VA_ARGS__, NULL})

static ksafe_value_t value_of(const ksafe_view_t *view, const char *name)
{
        ksafe_value_t v;
        ksafe_view__value(view, prop(name), &v);
        return v;
}

/* `name` reads as `text`, set by the user or not. */
static void assert_value(const ksafe_view_t *view, const char *name, const char *text,
                         bool is_set)
{
        ksafe_value_t v = value_of(view, name);
        ck_assert_msg(strcmp(v.text, text) == 0, "%s is \"%s\", expected \"%s\"", name, v.text,
                      text);
        ck_assert_msg(v.is_set == is_set, "%s: is_set is %d", name, v.is_set);
        if (is_set)
                ck_assert_msg(!v.derived, "%s: a set value is not derived", name);
}

/* `name` is not set and finalize makes it `text`: derived exactly when
 * that differs from librdkafka's default. */
static void assert_finalized(const ksafe_view_t *view, const char *name, const char *text)
{
        ksafe_value_t v = value_of(view, name);
        ck_assert_msg(strcmp(v.text, text) == 0, "%s is \"%s\", expected \"%s\"", name, v.text,
                      text);
        ck_assert_msg(!v.is_set, "%s: is_set", name);
        bool changed = strcmp(prop(name)->def, text) != 0;
        ck_assert_msg(v.derived == changed, "%s: derived is %d, default \"%s\"", name, v.derived,
                      prop(name)->def);
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk, (void)level, (void)fac, (void)buf;
}

/* A producer created from `conf` (which it takes); no broker is needed. */
static rd_kafka_t *producer(rd_kafka_conf_t *conf)
{
        char errstr[512];
        rd_kafka_conf_set_log_cb(conf, quiet_log);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "rd_kafka_new: %s", errstr);
        return rk;
}

/*
 * Confs
 */

START_TEST(defaults_are_not_set)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ck_assert_ptr_nonnull(view);
        assert_value(view, "enable.idempotence", "false", false);
        assert_value(view, "acks", "-1", false);
        assert_value(view, "max.in.flight", "1000000", false);
        assert_value(view, "retries", "2147483647", false);
        assert_value(view, "delivery.timeout.ms", "300000", false);
        assert_value(view, "transactional.id", "", false);
        assert_value(view, "client.id", prop("client.id")->def, false);
        /* Idempotence is off: nothing is derived. */
        ck_assert(!value_of(view, "max.in.flight").derived);
        ck_assert_ptr_null(ksafe_view__file(view));
        ck_assert(!ksafe_view__is_topic_only(view));
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(values_as_librdkafka_stores_them)
{
        rd_kafka_conf_t *conf = CONF("enable.idempotence", "TRUE", "request.required.acks", "1",
                                     "max.in.flight", "0x10", "message.send.max.retries", "7",
                                     "delivery.timeout.ms", "60000", "client.id", "app-1",
                                     "linger.ms", "2.5");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "enable.idempotence", "true", true);
        assert_value(view, "acks", "1", true);
        assert_value(view, "request.required.acks", "1", true);
        assert_value(view, "max.in.flight.requests.per.connection", "16", true);
        assert_value(view, "retries", "7", true);
        assert_value(view, "message.timeout.ms", "60000", true);
        assert_value(view, "client.id", "app-1", true);
        assert_value(view, "linger.ms", "2.5", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(topic_prefix_on_global_conf)
{
        rd_kafka_conf_t *conf = CONF("topic.acks", "0");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "acks", "0", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(topic_defaults_without_topic_conf)
{
        /* Nothing topic-level set: the conf has no default topic conf yet,
         * and topic-level properties read as librdkafka's defaults. */
        rd_kafka_conf_t *conf = CONF("client.id", "x");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "partitioner", "consistent_random", false);
        assert_value(view, "compression.codec", prop("compression.codec")->def, false);
        assert_value(view, "acks", "-1", false);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(idempotence_derives_unset_values)
{
        rd_kafka_conf_t *conf = CONF("enable.idempotence", "true");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_finalized(view, "acks", "-1");
        assert_finalized(view, "max.in.flight", "5");
        assert_finalized(view, "retries", "2147483647");
        ck_assert(value_of(view, "max.in.flight").derived); /* 1000000 by default */
        /* Not transactional: message.timeout.ms keeps its default. */
        assert_value(view, "delivery.timeout.ms", "300000", false);
        ck_assert(!value_of(view, "delivery.timeout.ms").derived);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(transactional_id_derives_idempotence)
{
        rd_kafka_conf_t *conf = CONF("transactional.id", "tx");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "transactional.id", "tx", true);
        assert_finalized(view, "enable.idempotence", "true");
        assert_finalized(view, "max.in.flight", "5");
        assert_finalized(view, "acks", "-1");
        assert_finalized(view, "delivery.timeout.ms", value_of(view, "transaction.timeout.ms").text);
        assert_finalized(view, "message.timeout.ms", "60000");
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);

        conf = CONF("transactional.id", "tx", "transaction.timeout.ms", "90000");
        view = ksafe_view__from_conf(props, conf);
        assert_finalized(view, "message.timeout.ms", "90000");
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(user_values_are_never_replaced)
{
        rd_kafka_conf_t *conf = CONF("enable.idempotence", "true", "max.in.flight", "3", "acks",
                                     "1", "retries", "0");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "max.in.flight", "3", true);
        assert_value(view, "acks", "1", true);
        assert_value(view, "retries", "0", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);

        conf = CONF("transactional.id", "tx", "message.timeout.ms", "30000");
        view = ksafe_view__from_conf(props, conf);
        assert_value(view, "delivery.timeout.ms", "30000", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(value_set_to_its_default_is_set)
{
        /* librdkafka refuses max.in.flight=1000000 with idempotence instead
         * of making it 5: a value the user set is set, default or not. */
        rd_kafka_conf_t *conf = CONF("enable.idempotence", "true", "max.in.flight", "1000000",
                                     "retries", "2147483647");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "max.in.flight", "1000000", true);
        assert_value(view, "retries", "2147483647", true);
        assert_value(view, "linger.ms", prop("linger.ms")->def, false);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);

        /* Idempotence explicitly off stays off with transactional.id (and
         * rd_kafka_new() refuses it). */
        conf = CONF("enable.idempotence", "false", "transactional.id", "tx");
        view = ksafe_view__from_conf(props, conf);
        assert_value(view, "enable.idempotence", "false", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(empty_transactional_id_is_not_transactional)
{
        rd_kafka_conf_t *conf = CONF("transactional.id", "");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "enable.idempotence", "false", false);
        assert_value(view, "max.in.flight", "1000000", false);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(long_values_are_read)
{
        /* Longer than any buffer: read whole, and set (a policy's
         * "required" or "forbidden" must see it). */
        char servers[2000];
        size_t len = 0;
        for (int i = 0; len < 1500; i++)
                len += (size_t)snprintf(servers + len, sizeof(servers) - len,
                                        "%sbroker-%02d.kafka.example.com:9092", i ? "," : "", i);
        rd_kafka_conf_t *conf = CONF("bootstrap.servers", servers, "transactional.id", servers);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ksafe_value_t v = value_of(view, "bootstrap.servers");
        ck_assert_msg(v.is_set, "a long bootstrap.servers reads as not set (\"%s\")", v.text);
        ck_assert_str_eq(v.text, servers);
        /* A long transactional.id still makes the producer idempotent. */
        assert_finalized(view, "enable.idempotence", "true");
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[256];
        ck_assert_msg(rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
                              RD_KAFKA_CONF_OK,
                      "%s=%s: %s", name, value, errstr);
}

START_TEST(changed_rereads_one_property)
{
        rd_kafka_conf_t *conf = CONF("client.id", "before", "max.in.flight", "3", "linger.ms",
                                     "7");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "client.id", "before", true);
        assert_value(view, "max.in.flight", "3", true);
        assert_value(view, "enable.idempotence", "false", false);
        assert_value(view, "linger.ms", "7", true);

        /* What enforcement does: change the conf, tell the view. */
        conf_set(conf, "client.id", "after");
        conf_set(conf, "enable.idempotence", "true");
        ksafe_view__changed(view, prop("client.id"), true);
        ksafe_view__changed(view, prop("enable.idempotence"), true);
        assert_value(view, "client.id", "after", true);
        assert_value(view, "enable.idempotence", "true", true);
        assert_finalized(view, "retries", "2147483647");
        /* The others are still right. */
        assert_value(view, "max.in.flight", "3", true);
        assert_value(view, "linger.ms", "7", true);

        /* Through an alias; and a value set to the default is set. */
        conf_set(conf, "max.in.flight", "4");
        ksafe_view__changed(view, prop("max.in.flight.requests.per.connection"), true);
        assert_value(view, "max.in.flight", "4", true);
        conf_set(conf, "retries", "2147483647");
        ksafe_view__changed(view, prop("retries"), true);
        assert_value(view, "retries", "2147483647", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

START_TEST(many_properties)
{
        /* More properties than the view caches: every one still right. */
        static const char *const names[] = {
                "client.id", "bootstrap.servers", "message.max.bytes", "receive.message.max.bytes",
                "metadata.max.age.ms", "topic.metadata.refresh.interval.ms", "socket.timeout.ms",
                "socket.send.buffer.bytes", "socket.receive.buffer.bytes", "socket.nagle.disable",
                "socket.max.fails", "broker.address.ttl", "reconnect.backoff.ms",
                "reconnect.backoff.max.ms", "statistics.interval.ms", "log_level",
                "queue.buffering.max.messages", "queue.buffering.max.kbytes", "linger.ms",
                "retry.backoff.ms", "batch.num.messages", "batch.size", "request.timeout.ms",
                "message.timeout.ms", "compression.codec", "compression.level",
                "security.protocol", "sasl.mechanisms", "api.version.request",
                "connections.max.idle.ms", "enable.idempotence", "max.in.flight",
                "message.send.max.retries", "request.required.acks", "transaction.timeout.ms",
                "sticky.partitioning.linger.ms", "topic.metadata.refresh.sparse",
                "enable.gapless.guarantee", "queuing.strategy", "compression.type",
        };
        rd_kafka_conf_t *conf = CONF("client.id", "many");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        for (int round = 0; round < 2; round++)
                for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                        const ksafe_prop_t *p = prop(names[i]);
                        ksafe_value_t v = value_of(view, names[i]);
                        if (p == prop("client.id"))
                                ck_assert_str_eq(v.text, "many");
                        else
                                ck_assert_msg(strcmp(v.text, p->def) == 0 && !v.is_set,
                                              "%s: \"%s\", is_set %d (round %d)", names[i],
                                              v.text, v.is_set, round);
                }
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/*
 * Created handles
 */

START_TEST(handle_reads_finalized_values)
{
        rd_kafka_t *rk = producer(CONF("enable.idempotence", "true"));
        ksafe_view_t *view = ksafe_view__from_handle(props, rk);
        ck_assert_ptr_nonnull(view);
        const char *const finalized[][2] = {
                {"enable.idempotence", "true"},
                {"max.in.flight", "5"},
                {"acks", "-1"},
                {"retries", "2147483647"},
        };
        for (size_t i = 0; i < sizeof(finalized) / sizeof(*finalized); i++) {
                ksafe_value_t v = value_of(view, finalized[i][0]);
                ck_assert_msg(strcmp(v.text, finalized[i][1]) == 0, "%s is \"%s\"",
                              finalized[i][0], v.text);
                ck_assert_msg(!v.derived, "%s: a handle's value is not modelled",
                              finalized[i][0]);
        }
        ksafe_view__destroy(view);
        rd_kafka_destroy(rk);
}
END_TEST

/* message.timeout.ms as rd_kafka_conf_get() reads it from the handle's
 * own conf (which falls through to its live default topic conf), or NULL
 * when the handle has no default topic conf. */
static const char *handle_message_timeout(rd_kafka_t *rk, char *buf, size_t size)
{
        return rd_kafka_conf_get(rd_kafka_conf(rk), "message.timeout.ms", buf, &size) ==
                               RD_KAFKA_CONF_OK
                       ? buf
                       : NULL;
}

START_TEST(handle_reads_finalized_topic_values)
{
        /* A topic-level property set: the handle has a default topic conf,
         * which rd_kafka_new() finalized (message.timeout.ms becomes
         * transaction.timeout.ms); read it as finalized. */
        rd_kafka_t *rk = producer(CONF("transactional.id", "tx", "acks", "all"));
        char used[64];
        ck_assert_str_eq(handle_message_timeout(rk, used, sizeof(used)), "60000");
        ksafe_view_t *view = ksafe_view__from_handle(props, rk);
        ck_assert_str_eq(value_of(view, "enable.idempotence").text, "true");
        ksafe_value_t timeout = value_of(view, "message.timeout.ms");
        ck_assert_str_eq(timeout.text, used);
        ck_assert(!timeout.derived);
        ksafe_view__destroy(view);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(handle_without_topic_conf)
{
        /* No topic-level property set: the handle has no default topic
         * conf, and every topic gets a fresh one that rd_kafka_topic_new()
         * finalizes: for a transactional producer message.timeout.ms is
         * transaction.timeout.ms there too. */
        rd_kafka_t *rk = producer(CONF("transactional.id", "tx", "linger.ms", "20"));
        char used[64];
        ck_assert_ptr_null(handle_message_timeout(rk, used, sizeof(used)));
        ksafe_view_t *view = ksafe_view__from_handle(props, rk);
        ck_assert_str_eq(value_of(view, "linger.ms").text, "20");
        ck_assert_str_eq(value_of(view, "acks").text, "-1");
        ck_assert_str_eq(value_of(view, "message.timeout.ms").text,
                         value_of(view, "transaction.timeout.ms").text);
        ksafe_view__destroy(view);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(topic_conf_view)
{
        rd_kafka_t *rk = producer(CONF("enable.idempotence", "true", "linger.ms", "20"));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        char errstr[256];
        ck_assert_int_eq(rd_kafka_topic_conf_set(tconf, "acks", "1", errstr, sizeof(errstr)),
                         RD_KAFKA_CONF_OK);
        ksafe_view_t *view = ksafe_view__from_topic_conf(props, rk, tconf);
        ck_assert(ksafe_view__is_topic_only(view));
        ck_assert_str_eq(value_of(view, "acks").text, "1");
        ck_assert_str_eq(value_of(view, "linger.ms").text, "20"); /* from the handle */
        ksafe_view__destroy(view);
        rd_kafka_topic_conf_destroy(tconf);
        rd_kafka_destroy(rk);
}
END_TEST

/*
 * Entries read from a file
 */

static ksafe_entry_t entry(const char *name, const char *value, int line)
{
        return (ksafe_entry_t){
                .name = (char *)name,
                .raw = (char *)value,
                .value = (char *)value,
                .prop = value ? prop(name) : NULL,
                .line = line,
                .column = 1,
                .status = KSAFE_ENTRY_OK,
                .shadowed_by = -1,
        };
}

START_TEST(entries_last_one_wins)
{
        ksafe_entry_t entries[] = {
                entry("acks", "1", 1),
                entry("request.required.acks", "0", 2),
                entry("enable.idempotence", "true", 3),
                entry("acks", NULL, 4), /* refused by librdkafka: no value */
        };
        entries[3].prop = prop("acks");
        entries[3].status = KSAFE_ENTRY_INVALID;
        ksafe_view_t *view = ksafe_view__from_entries(props, "f.properties", entries, 4);
        ck_assert_str_eq(ksafe_view__file(view), "f.properties");
        size_t count;
        ck_assert_ptr_eq(ksafe_view__entries(view, &count), entries);
        ck_assert_uint_eq(count, 4);

        ksafe_value_t acks = value_of(view, "acks");
        ck_assert_str_eq(acks.text, "0");
        ck_assert(acks.is_set);
        ck_assert_ptr_eq(acks.entry, &entries[1]);
        /* Unset values follow the finalize model here too. */
        assert_finalized(view, "max.in.flight", "5");
        ck_assert_ptr_null(value_of(view, "max.in.flight").entry);
        ksafe_view__destroy(view);
}
END_TEST

/*
 * The finalize model, complete: for each conf of the table, every property
 * of librdkafka's table reads in the view of the unfinalized conf as the
 * created handle reads it (rd_kafka_conf_get on rd_kafka_conf(rk) and on
 * its default topic conf). Each row names the adjustment of
 * rd_kafka_conf_finalize(), rd_kafka_topic_conf_finalize() or
 * rd_kafka_new() that it exercises; a row per adjustment.
 */
static const struct finalize_case {
        const char *adjustment;
        const char *const *kv;
} finalize_cases[] = {
        {"nothing set: producer defaults (allow.auto.create.topics true)", (const char *const[]){NULL}},
        {"sticky.partitioning.linger.ms = 2 x linger.ms", (const char *const[]){"linger.ms", "100", NULL}},
        {"sticky.partitioning.linger.ms capped at 900000", (const char *const[]){"linger.ms", "600000", NULL}},
        {"sticky.partitioning.linger.ms from a fractional linger.ms", (const char *const[]){"linger.ms", "0.75", NULL}},
        {"sticky.partitioning.linger.ms set: kept", (const char *const[]){"linger.ms", "100", "sticky.partitioning.linger.ms", "7", NULL}},
        {"idempotence: max.in.flight 5, retries INT32_MAX, acks -1, backpressure 1", (const char *const[]){"enable.idempotence", "true", NULL}},
        {"idempotence: a lower max.in.flight is kept", (const char *const[]){"enable.idempotence", "true", "max.in.flight", "2", NULL}},
        {"idempotence: backpressure set to 1 is 1", (const char *const[]){"enable.idempotence", "true", "queue.buffering.backpressure.threshold", "1", NULL}},
        {"transactional: idempotence on, socket.timeout.ms = transaction.timeout.ms - 100, message.timeout.ms = transaction.timeout.ms", (const char *const[]){"transactional.id", "tx", NULL}},
        {"transactional: socket.timeout.ms floor 900", (const char *const[]){"transactional.id", "tx", "transaction.timeout.ms", "1000", NULL}},
        {"transactional: socket.timeout.ms set: kept", (const char *const[]){"transactional.id", "tx", "socket.timeout.ms", "30000", NULL}},
        {"transactional: a long transaction.timeout.ms", (const char *const[]){"transactional.id", "tx", "transaction.timeout.ms", "900000", NULL}},
        {"transactional with a topic conf", (const char *const[]){"transactional.id", "tx", "acks", "all", "compression.codec", "lz4", NULL}},
        {"message.timeout.ms <= linger.ms: linger.ms = message.timeout.ms - 0.1", (const char *const[]){"message.timeout.ms", "3", NULL}},
        {"message.timeout.ms 0 (infinite): linger.ms kept", (const char *const[]){"message.timeout.ms", "0", NULL}},
        {"metadata.max.age.ms = 3 x topic.metadata.refresh.interval.ms", (const char *const[]){"topic.metadata.refresh.interval.ms", "1000", NULL}},
        {"metadata.max.age.ms kept when refresh is off", (const char *const[]){"topic.metadata.refresh.interval.ms", "-1", NULL}},
        {"metadata.max.age.ms set: kept", (const char *const[]){"topic.metadata.refresh.interval.ms", "1000", "metadata.max.age.ms", "5000", NULL}},
        {"connections.max.idle.ms 230000 on Azure", (const char *const[]){"bootstrap.servers", "127.0.0.1:1,my.AZURE.invalid:1", NULL}},
        {"connections.max.idle.ms set: kept on Azure", (const char *const[]){"bootstrap.servers", "x.azure.invalid:1", "connections.max.idle.ms", "1000", NULL}},
        {"allow.auto.create.topics set: kept", (const char *const[]){"allow.auto.create.topics", "false", NULL}},
        {"client.software.name and version sanitized", (const char *const[]){"client.software.name", " my app!", "client.software.version", "1.0 (beta)", NULL}},
        {"debug: log_level 7", (const char *const[]){"debug", "msg", NULL}},
        {"api.version.request on for broker.version.fallback >= 0.10", (const char *const[]){"api.version.request", "false", "broker.version.fallback", "0.10.0", NULL}},
        {"api.version.request off kept for an old broker.version.fallback", (const char *const[]){"api.version.request", "false", "broker.version.fallback", "0.9.0", NULL}},
        {"idempotence and linger.ms", (const char *const[]){"enable.idempotence", "true", "linger.ms", "50", "message.timeout.ms", "60000", NULL}},
};

/* The view's value of each property of one scope (listed by librdkafka's
 * dump), read before the conf is given to rd_kafka_new(); NULL for those
 * not compared (pointers, hidden ones, enabled_events which follows the
 * callbacks). */
static char **view_values(const ksafe_view_t *view, const char **dump, size_t cnt, bool topic)
{
        char **out = calloc(cnt, sizeof(*out));
        ck_assert_ptr_nonnull(out);
        for (size_t i = 0; i < cnt; i += 2) {
                char name[256];
                snprintf(name, sizeof(name), "%s%s", topic ? "topic." : "", dump[i]);
                const ksafe_prop_t *p = ksafe_props__find(props, name);
                if (!p || p->scope != (topic ? KSAFE_SCOPE_TOPIC : KSAFE_SCOPE_GLOBAL) ||
                    p->type == KSAFE_PROP_POINTER || strcmp(dump[i], "enabled_events") == 0)
                        continue;
                ksafe_value_t v;
                ck_assert(ksafe_view__value(view, p, &v));
                out[i] = strdup(v.text);
        }
        return out;
}

static ksafe_entry_t entry(const char *name, const char *value, int line);

/* Compare them with the handle's values, and free them. */
static void compare_scope(char **values, const char **dump, size_t cnt, rd_kafka_t *rk,
                          bool topic, const char *what)
{
        rd_kafka_topic_conf_t *tconf =
                topic ? rd_kafka_conf_get_default_topic_conf((rd_kafka_conf_t *)rd_kafka_conf(rk))
                      : NULL;
        for (size_t i = 0; i < cnt; i += 2) {
                const char *name = dump[i];
                char used[4096];
                size_t size = sizeof(used);
                rd_kafka_conf_res_t res =
                        tconf ? rd_kafka_topic_conf_get(tconf, name, used, &size)
                        : topic ? RD_KAFKA_CONF_UNKNOWN
                                : rd_kafka_conf_get(rd_kafka_conf(rk), name, used, &size);
                /* Not compared: an unset string; no default topic conf. */
                if (values[i] && res == RD_KAFKA_CONF_OK)
                        ck_assert_msg(strcmp(values[i], used) == 0,
                                      "%s: %s is \"%s\" in the view, \"%s\" in the handle", what,
                                      name, values[i], used);
                free(values[i]);
        }
        free(values);
}

START_TEST(finalize_model_is_complete)
{
        const struct finalize_case *c = &finalize_cases[_i];
        rd_kafka_conf_t *conf = conf_with(c->kv);
        rd_kafka_conf_set_log_cb(conf, quiet_log);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ck_assert_ptr_nonnull(view);
        size_t gcnt, tcnt;
        const char **gdump = rd_kafka_conf_dump(conf, &gcnt);
        rd_kafka_topic_conf_t *fresh = rd_kafka_topic_conf_new();
        const char **tdump = rd_kafka_topic_conf_dump(fresh, &tcnt);
        char **gvalues = view_values(view, gdump, gcnt, false);
        char **tvalues = view_values(view, tdump, tcnt, true);
        ksafe_view__destroy(view); /* it borrows conf, which rd_kafka_new() takes */
        /* The same settings as lines of a file: the same model. */
        ksafe_entry_t entries[8];
        size_t n = 0;
        for (size_t i = 0; c->kv[i]; i += 2, n++) {
                char why[256];
                if (!ksafe_props__find(props, c->kv[i])) { /* hidden: not a file's property */
                        n--;
                        continue;
                }
                entries[n] = entry(c->kv[i], c->kv[i + 1], (int)n + 1);
                entries[n].value = ksafe_prop__parse(prop(c->kv[i]), c->kv[i + 1], why,
                                                    sizeof(why));
                ck_assert_msg(entries[n].value, "%s: %s", c->kv[i], why);
        }
        ksafe_view_t *file = ksafe_view__from_entries(props, "f.properties", entries, n);
        char **gfile = view_values(file, gdump, gcnt, false);
        char **tfile = view_values(file, tdump, tcnt, true);
        ksafe_view__destroy(file);
        for (size_t i = 0; i < n; i++)
                free(entries[i].value);
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        ck_assert_msg(rk, "%s: rd_kafka_new: %s", c->adjustment, errstr);
        compare_scope(gvalues, gdump, gcnt, rk, false, c->adjustment);
        compare_scope(tvalues, tdump, tcnt, rk, true, c->adjustment);
        compare_scope(gfile, gdump, gcnt, rk, false, c->adjustment);
        compare_scope(tfile, tdump, tcnt, rk, true, c->adjustment);
        rd_kafka_conf_dump_free(gdump, gcnt);
        rd_kafka_conf_dump_free(tdump, tcnt);
        rd_kafka_topic_conf_destroy(fresh);
        rd_kafka_destroy(rk);
}
END_TEST

/*
 * Topic-level set-ness: a value at its default may or may not have been
 * set; librdkafka says which (the debug=conf probe), for a conf, a topic
 * conf and a handle alike.
 */
static const struct settle_case {
        const char *what;
        const char *const *kv;
        const char *name;
        const char *text;
        bool is_set;
} settle_cases[] = {
        {"acks=all set", (const char *const[]){"acks", "all", NULL}, "acks", "-1", true},
        {"acks not set, another topic property set",
         (const char *const[]){"request.timeout.ms", "1000", NULL}, "acks", "-1", false},
        {"no topic conf at all", (const char *const[]){"linger.ms", "1", NULL}, "acks", "-1",
         false},
        {"delivery.timeout.ms=300000 set",
         (const char *const[]){"delivery.timeout.ms", "300000", NULL}, "message.timeout.ms",
         "300000", true},
        {"queuing.strategy=fifo set", (const char *const[]){"queuing.strategy", "fifo", NULL},
         "queuing.strategy", "fifo", true},
        {"a value that differs is set without asking",
         (const char *const[]){"acks", "1", NULL}, "acks", "1", true},
};

START_TEST(settle_learns_topic_set_ness)
{
        const struct settle_case *c = &settle_cases[_i];
        /* A conf */
        rd_kafka_conf_t *conf = conf_with(c->kv);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ksafe_value_t v = value_of(view, c->name);
        ksafe_view__settle(view, prop(c->name), &v);
        ck_assert_msg(!v.unsure, "%s: still unsure", c->what);
        ck_assert_msg(v.is_set == c->is_set, "%s: conf: is_set %d", c->what, v.is_set);
        ck_assert_str_eq(v.text, c->text);
        ksafe_view__destroy(view);

        /* Its default topic conf as a topic conf of a producer */
        rd_kafka_t *rk = producer(conf_with((const char *const[]){"linger.ms", "0", NULL}));
        rd_kafka_topic_conf_t *tconf = rd_kafka_conf_get_default_topic_conf(conf);
        if (tconf) {
                view = ksafe_view__from_topic_conf(props, rk, tconf);
                v = value_of(view, c->name);
                ksafe_view__settle(view, prop(c->name), &v);
                ck_assert_msg(!v.unsure && v.is_set == c->is_set, "%s: tconf: is_set %d",
                              c->what, v.is_set);
                ksafe_view__destroy(view);
        }
        rd_kafka_destroy(rk);

        /* A handle made from the conf: finalize's values are not "set" */
        rk = producer(conf);
        view = ksafe_view__from_handle(props, rk);
        v = value_of(view, c->name);
        ksafe_view__settle(view, prop(c->name), &v);
        ck_assert_msg(!v.unsure && v.is_set == c->is_set, "%s: handle: is_set %d", c->what,
                      v.is_set);
        ksafe_view__destroy(view);
        rd_kafka_destroy(rk);
}
END_TEST

START_TEST(transactional_timeout_asks_librdkafka)
{
        /* Set to its default: librdkafka keeps it (and refuses it above
         * transaction.timeout.ms); not set: it becomes transaction.timeout.ms. */
        rd_kafka_conf_t *conf = CONF("transactional.id", "tx", "delivery.timeout.ms", "300000");
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_value(view, "message.timeout.ms", "300000", true);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);

        conf = CONF("transactional.id", "tx", "acks", "all");
        view = ksafe_view__from_conf(props, conf);
        assert_finalized(view, "message.timeout.ms", "60000");
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/*
 * Class 4: properties with a global and a topic-level form, from the
 * property table: only a twin that can say "inherit" replaces the global
 * value at produce time (rd_kafka_topic_new0()); the others of the same
 * name are the legacy consumer's.
 */
static const struct twin_case {
        const char *name;
        bool wins;
} twin_cases[] = {
        {"compression.codec", true},
        {"auto.commit.interval.ms", false},
        {"offset.store.method", false},
};

START_TEST(twins_from_the_property_table)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        size_t cnt, found = 0;
        const char **dump = rd_kafka_conf_dump(conf, &cnt);
        for (size_t i = 0; i < cnt; i += 2) {
                char name[300];
                snprintf(name, sizeof(name), "topic.%s", dump[i]);
                const ksafe_prop_t *t = ksafe_props__find(props, name);
                if (!t || t->scope != KSAFE_SCOPE_TOPIC || strcmp(t->name, dump[i]) != 0)
                        continue;
                size_t j = 0;
                while (j < sizeof(twin_cases) / sizeof(*twin_cases) &&
                       strcmp(twin_cases[j].name, dump[i]) != 0)
                        j++;
                ck_assert_msg(j < sizeof(twin_cases) / sizeof(*twin_cases),
                              "%s has a topic-level twin that the table does not list", dump[i]);
                found++;
                ck_assert_msg((ksafe_view__topic_twin(view, prop(dump[i])) != NULL) ==
                                      twin_cases[j].wins,
                              "%s", dump[i]);
        }
        ck_assert_uint_eq(found, sizeof(twin_cases) / sizeof(*twin_cases));
        rd_kafka_conf_dump_free(dump, cnt);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);

        /* Every spelling: the value used is the topic's unless inherit. */
        static const char *const spellings[][5] = {
                /* global name, global value, topic name, topic value, used */
                {"compression.type", "lz4", "topic.compression.type", "none", "none"},
                {"compression.codec", "lz4", "topic.compression.codec", "zstd", "zstd"},
                {"compression.type", "zstd", "topic.compression.codec", "inherit", "zstd"},
                {"compression.codec", "gzip", "topic.compression.type", "lz4", "lz4"},
        };
        for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++) {
                conf = conf_with((const char *const[]){spellings[i][0], spellings[i][1],
                                                       spellings[i][2], spellings[i][3], NULL});
                view = ksafe_view__from_conf(props, conf);
                ck_assert_str_eq(value_of(view, "compression.type").text, spellings[i][4]);
                ck_assert_str_eq(value_of(view, "compression.codec").text, spellings[i][4]);
                ksafe_view__destroy(view);
                rd_kafka_conf_destroy(conf);
        }
}
END_TEST

START_TEST(destroy_null)
{
        ksafe_view__destroy(NULL);
}
END_TEST

static Suite *view_suite(void)
{
        Suite *s = suite_create("view");
        TCase *tc = tcase_create("conf");
        tcase_add_unchecked_fixture(tc, props_setup, props_teardown);
        tcase_add_test(tc, defaults_are_not_set);
        tcase_add_test(tc, values_as_librdkafka_stores_them);
        tcase_add_test(tc, topic_prefix_on_global_conf);
        tcase_add_test(tc, topic_defaults_without_topic_conf);
        tcase_add_test(tc, idempotence_derives_unset_values);
        tcase_add_test(tc, transactional_id_derives_idempotence);
        tcase_add_test(tc, user_values_are_never_replaced);
        tcase_add_test(tc, value_set_to_its_default_is_set);
        tcase_add_test(tc, empty_transactional_id_is_not_transactional);
        tcase_add_test(tc, long_values_are_read);
        tcase_add_test(tc, changed_rereads_one_property);
        tcase_add_test(tc, many_properties);
        tcase_add_test(tc, destroy_null);
        suite_add_tcase(s, tc);

        tc = tcase_create("handle");
        tcase_add_unchecked_fixture(tc, props_setup, props_teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, handle_reads_finalized_values);
        tcase_add_test(tc, handle_reads_finalized_topic_values);
        tcase_add_test(tc, handle_without_topic_conf);
        tcase_add_test(tc, topic_conf_view);
        tcase_add_loop_test(tc, settle_learns_topic_set_ness, 0,
                            (int)(sizeof(settle_cases) / sizeof(*settle_cases)));
        tcase_add_test(tc, transactional_timeout_asks_librdkafka);
        tcase_add_test(tc, twins_from_the_property_table);
        tcase_add_loop_test(tc, finalize_model_is_complete, 0,
                            (int)(sizeof(finalize_cases) / sizeof(*finalize_cases)));
        suite_add_tcase(s, tc);

        tc = tcase_create("entries");
        tcase_add_unchecked_fixture(tc, props_setup, props_teardown);
        tcase_add_test(tc, entries_last_one_wins);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(view_suite());
        srunner_run_all(sr, CK_ENV);
        int failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed != 0;
}
