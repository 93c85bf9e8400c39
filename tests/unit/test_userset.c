/*
 * What a view of a conf knows without asking librdkafka for every value:
 * which properties were set (a probe of copies, userset.c), that the others
 * hold their default, what finalize makes of them once a value changed
 * (values are remembered per view until something changes), and the facts
 * about each property that no conf changes (its topic-level twin).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"
#include "common.h"

static ksafe_props_t *props;

static void props_setup(void)
{
        props = ksafe_props__new();
        ck_assert_ptr_nonnull(props);
}

static const ksafe_prop_t *prop(const char *name)
{
        const ksafe_prop_t *p = ksafe_props__find(props, name);
        ck_assert_msg(p, "librdkafka has no property \"%s\"", name);
        return p;
}

static void set_ok(rd_kafka_conf_t *conf, const char *name, const char *value)
{
        char errstr[512];
        ck_assert_msg(rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) ==
                              RD_KAFKA_CONF_OK,
                      "%s=%s: %s", name, value, errstr);
}

/* A conf with the (name, value) pairs of kv set, up to a NULL name. */
static rd_kafka_conf_t *conf_with(const char *const kv[][2])
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        for (size_t i = 0; kv[i][0]; i++)
                set_ok(conf, kv[i][0], kv[i][1]);
        return conf;
}

static void assert_reads(const ksafe_view_t *view, const char *name, const char *text, bool is_set,
                         const char *what)
{
        ksafe_value_t v;
        ck_assert(ksafe_view__value(view, prop(name), &v));
        ck_assert_msg(strcmp(v.text, text) == 0, "%s: %s reads \"%s\", expected \"%s\"", what, name,
                      v.text, text);
        ck_assert_msg(v.is_set == is_set, "%s: %s is_set %d", what, name, v.is_set);
}

/*
 * A view of a conf reads a set property from the conf, an unset one as its
 * default (or what finalize makes of it), whatever else is set: each row
 * is a conf and what the view must read.
 */
static const struct reads_case {
        const char *what;
        const char *kv[6][2];
        const char *name, *text;
        bool is_set;
} reads_cases[] = {
        {"set to a value", {{"linger.ms", "100"}, {NULL, NULL}}, "linger.ms", "100", true},
        {"set through an alias",
         {{"queue.buffering.max.ms", "7"}, {NULL, NULL}},
         "linger.ms",
         "7",
         true},
        {"set to its default", {{"linger.ms", "5"}, {NULL, NULL}}, "linger.ms", "5", true},
        {"not set", {{"client.id", "x"}, {NULL, NULL}}, "linger.ms", "5", false},
        {"a string set", {{"client.id", "app"}, {NULL, NULL}}, "client.id", "app", true},
        {"a string not set", {{"linger.ms", "1"}, {NULL, NULL}}, "transactional.id", "", false},
        {"unset, derived from a set one",
         {{"enable.idempotence", "true"}, {NULL, NULL}},
         "max.in.flight",
         "5",
         false},
        {"set to the default finalize would change",
         {{"enable.idempotence", "true"}, {"max.in.flight", "1000000"}, {NULL, NULL}},
         "max.in.flight",
         "1000000",
         true},
        /* test.mock.num.brokers is hidden (not in the table): the probe
         * still tells the view it is set, and rd_kafka_new() then makes
         * security.protocol plaintext. */
        {"mock cluster set, security.protocol replaced",
         {{"test.mock.num.brokers", "1"}, {"security.protocol", "ssl"}, {NULL, NULL}},
         "security.protocol",
         "plaintext",
         true},
        {"no mock cluster, security.protocol as set",
         {{"security.protocol", "ssl"}, {NULL, NULL}},
         "security.protocol",
         "ssl",
         true},
        {"a topic-level property set", {{"acks", "1"}, {NULL, NULL}}, "acks", "1", true},
};

START_TEST(conf_view_reads)
{
        const struct reads_case *c = &reads_cases[_i];
        rd_kafka_conf_t *conf = conf_with(c->kv);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ck_assert_ptr_nonnull(view);
        assert_reads(view, c->name, c->text, c->is_set, c->what);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* An interceptor that says it took a value but keeps it to itself:
 * librdkafka replays it onto every copy of the conf (as the interceptor's
 * configuration), so the copy the probe makes holds it and the conf does
 * not. */
static rd_kafka_conf_res_t swallow(rd_kafka_conf_t *conf, const char *name, const char *val,
                                   char *errstr, size_t errstr_size, void *ic_opaque)
{
        (void)conf, (void)val, (void)errstr, (void)errstr_size;
        return strcmp(name, ic_opaque) == 0 ? RD_KAFKA_CONF_OK : RD_KAFKA_CONF_UNKNOWN;
}

static const struct swallow_case {
        const char *name, *value; /* set through the swallowing interceptor */
        const char *reads;        /* what the conf itself holds */
} swallow_cases[] = {
        {"enable.idempotence", "true", "false"},
        {"linger.ms", "100", "5"},
        {"max.in.flight", "3", "1000000"},
        {"client.id", "app", "rdkafka"},
};

/* Values are read from the conf, never from the probe's copy. */
START_TEST(values_come_from_the_conf_not_its_copy)
{
        const struct swallow_case *c = &swallow_cases[_i];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ck_assert_int_eq(rd_kafka_conf_interceptor_add_on_conf_set(conf, "swallow", swallow,
                                                                   (void *)c->name),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
        set_ok(conf, c->name, c->value);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ksafe_value_t v;
        ck_assert(ksafe_view__stored(view, prop(c->name), &v));
        ck_assert_msg(strcmp(v.text, c->reads) == 0, "%s reads \"%s\", the conf holds \"%s\"",
                      c->name, v.text, c->reads);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* What the view said before a change is said again only while nothing
 * changed: each row overrides one property and reads another. */
static const struct change_case {
        const char *what;
        const char *kv[4][2];
        const char *read;            /* read before the change */
        const char *before;          /* what it reads then */
        const char *changed, *value; /* the change */
        const char *after;           /* what `read` reads after it */
} change_cases[] = {
        {"idempotence makes an unset max.in.flight 5",
         {{"client.id", "x"}, {NULL, NULL}},
         "max.in.flight",
         "1000000",
         "enable.idempotence",
         "true",
         "5"},
        {"transactional.id makes an unset message.timeout.ms the transaction's",
         {{"transaction.timeout.ms", "90000"}, {NULL, NULL}},
         "delivery.timeout.ms",
         "300000",
         "transactional.id",
         "tx",
         "90000"},
        {"sticky.partitioning.linger.ms follows linger.ms",
         {{"linger.ms", "100"}, {NULL, NULL}},
         "sticky.partitioning.linger.ms",
         "200",
         "linger.ms",
         "10",
         "20"},
        {"the changed property itself",
         {{"linger.ms", "100"}, {NULL, NULL}},
         "linger.ms",
         "100",
         "linger.ms",
         "30",
         "30"},
        {"transactional.id makes idempotence true",
         {{"client.id", "x"}, {NULL, NULL}},
         "enable.idempotence",
         "false",
         "transactional.id",
         "tx",
         "true"},
};

START_TEST(values_follow_changes)
{
        const struct change_case *c = &change_cases[_i];
        rd_kafka_conf_t *conf = conf_with(c->kv);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        ksafe_value_t v;
        ck_assert(ksafe_view__value(view, prop(c->read), &v));
        ck_assert_msg(strcmp(v.text, c->before) == 0, "%s: before, %s reads %s", c->what, c->read,
                      v.text);
        ck_assert(ksafe_view__override(view, prop(c->changed), c->value, true));
        ck_assert(ksafe_view__value(view, prop(c->read), &v));
        ck_assert_msg(strcmp(v.text, c->after) == 0, "%s: after, %s reads %s, expected %s", c->what,
                      c->read, v.text, c->after);
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* The topic-level twin that wins over a global property at produce time,
 * from the table built once per process, as a lookup by name says. */
START_TEST(topic_twins)
{
        static const struct {
                const char *name;
                const char *twin; /* NULL: none */
        } cases[] = {
                {"compression.codec", "compression.codec"},
                {"compression.type", "compression.codec"},
                {"linger.ms", NULL},
                {"enable.idempotence", NULL},
                {"acks", NULL},
                {"auto.commit.interval.ms", NULL},
        };
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const ksafe_prop_t *twin = ksafe_view__topic_twin(view, prop(cases[i].name));
                if (!cases[i].twin) {
                        ck_assert_msg(!twin, "%s has twin %s", cases[i].name, twin->name);
                        continue;
                }
                ck_assert_msg(twin && twin->scope == KSAFE_SCOPE_TOPIC &&
                                      strcmp(twin->name, cases[i].twin) == 0,
                              "%s: twin %s", cases[i].name, twin ? twin->name : "none");
        }
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

/* plugin.library.paths is left out of the probe's copies (copying it loads
 * every plugin again): the view reads it from the conf. */
START_TEST(plugin_paths_read_from_the_conf)
{
        const char *path = getenv("KSAFE_PLUGIN_PATH");
        if (!path || !*path)
                return; /* registered without the plugin's path */
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set_ok(conf, "plugin.library.paths", path);
        ksafe_view_t *view = ksafe_view__from_conf(props, conf);
        assert_reads(view, "plugin.library.paths", path, true, "plugin loaded");
        /* what the plugin's conf_init set on the conf is set */
        assert_reads(view, "enable.idempotence", "true", true, "plugin loaded");
        ksafe_view__destroy(view);
        rd_kafka_conf_destroy(conf);
}
END_TEST

static Suite *userset_suite(void)
{
        Suite *s = suite_create("userset");
        TCase *tc = tcase_create("conf views");
        tcase_add_checked_fixture(tc, props_setup, NULL);
        tcase_add_loop_test(tc, conf_view_reads, 0, ARRAY_SIZE(reads_cases));
        tcase_add_loop_test(tc, values_come_from_the_conf_not_its_copy, 0,
                            ARRAY_SIZE(swallow_cases));
        tcase_add_loop_test(tc, values_follow_changes, 0, ARRAY_SIZE(change_cases));
        tcase_add_test(tc, topic_twins);
        tcase_add_test(tc, plugin_paths_read_from_the_conf);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return ksafe_test_run(userset_suite());
}
