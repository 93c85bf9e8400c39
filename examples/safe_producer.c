/*
 * The README's example: one call changes, and the producer is safe.
 *
 *   cc safe_producer.c $(pkg-config --cflags --libs ksafe) -o safe_producer
 *   ./safe_producer [BOOTSTRAP_SERVERS]
 *
 * Without an argument it uses librdkafka's embedded mock cluster.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksafe.h>

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
        (void)rk;
        int *delivered = opaque;
        if (msg->err)
                fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(msg->err));
        else
                (*delivered)++;
}

int main(int argc, char **argv)
{
        char errstr[512];
        int delivered = 0;
        /* The library it runs with is at least the one it was built for. */
        if (ksafe_version() < KSAFE_VERSION) {
                fprintf(stderr, "libksafe %s is older than %s\n", ksafe_version_str(),
                        KSAFE_VERSION_STR);
                return 1;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (argc > 1)
                rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr));
        else
                rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr));
        rd_kafka_conf_set(conf, "acks", "1", errstr, sizeof(errstr)); /* unsafe: ksafe fixes it */
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_conf_set_opaque(conf, &delivered);

        /* Was: rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)) */
        ksafe_report_t *report = NULL;
        rd_kafka_t *rk = ksafe_producer_new(conf, NULL, &report, errstr, sizeof(errstr));
        if (report) { /* NULL when no report was made (a policy that cannot be loaded) */
                char *text = ksafe_report_to_text(report);
                fputs(text ? text : "", stderr);
                ksafe_free(text); /* strings from ksafe are freed with ksafe_free() */
        }
        if (!rk) {
                fprintf(stderr, "%s\n", errstr);
                /* Still ours on failure, unless a failed audit (a ksafe bug)
                 * destroyed it with the handle. */
                if (!ksafe_report_conf_consumed(report))
                        rd_kafka_conf_destroy(conf);
                ksafe_report_destroy(report);
                return 1;
        }
        ksafe_report_destroy(report);

        for (int i = 0; i < 10; i++) {
                char payload[32];
                snprintf(payload, sizeof(payload), "message %d", i);
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("ksafe-example"),
                                  RD_KAFKA_V_VALUE(payload, strlen(payload)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        }
        rd_kafka_flush(rk, 10000);
        printf("%d of 10 messages delivered by an idempotent, acks=all producer\n", delivered);
        rd_kafka_destroy(rk);
        return delivered == 10 ? 0 : 1;
}
