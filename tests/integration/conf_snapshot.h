/*
 * Helpers shared by the integration suites: comparing a conf before and
 * after a call. Included by one test program each (static functions).
 */
#ifndef KSAFE_TEST_CONF_SNAPSHOT_H
#define KSAFE_TEST_CONF_SNAPSHOT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

/* Every property of a conf and of its default topic conf, "name=value\n"
 * each, to compare a conf before and after a call. free() it. */
static char *conf_snapshot(rd_kafka_conf_t *conf)
{
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        ck_assert_ptr_nonnull(out);
        size_t count;
        const char **dump = rd_kafka_conf_dump(conf, &count);
        for (size_t i = 0; i < count; i += 2)
                fprintf(out, "%s=%s\n", dump[i], dump[i + 1]);
        rd_kafka_conf_dump_free(dump, count);
        rd_kafka_topic_conf_t *tconf = rd_kafka_conf_get_default_topic_conf(conf);
        if (tconf) {
                dump = rd_kafka_topic_conf_dump(tconf, &count);
                for (size_t i = 0; i < count; i += 2)
                        fprintf(out, "topic %s=%s\n", dump[i], dump[i + 1]);
                rd_kafka_conf_dump_free(dump, count);
        }
        fclose(out);
        return text;
}

/* The first line of `after` that differs from `before` (for messages). */
static const char *first_change(const char *before, const char *after)
{
        const char *line = after;
        for (size_t i = 0; after[i] && after[i] == before[i]; i++)
                if (after[i] == '\n')
                        line = after + i + 1;
        return line;
}

#define ck_assert_conf_unchanged(before, conf)                                                     \
        do {                                                                                       \
                char *_after = conf_snapshot(conf);                                                \
                ck_assert_msg(strcmp(before, _after) == 0, "conf changed at: %.80s",               \
                              first_change(before, _after));                                       \
                free(_after);                                                                      \
        } while (0)

#endif
