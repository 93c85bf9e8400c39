/*
 * A librdkafka mock cluster in a process of its own, for ksafe-verify's -b
 * mode: `mock_cluster TOPIC PARTITIONS` creates 3 brokers and the topic,
 * prints the bootstrap servers on one line and serves until its standard
 * input closes.
 */
#include <stdio.h>
#include <stdlib.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

int main(int argc, char **argv)
{
        char errstr[512];
        if (argc != 3) {
                fprintf(stderr, "usage: mock_cluster TOPIC PARTITIONS\n");
                return 2;
        }
        char *end;
        long partitions = strtol(argv[2], &end, 10);
        if (*end || partitions < 1 || partitions > 1000) {
                fprintf(stderr, "mock_cluster: bad partition count\n");
                return 2;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr))) {
                fprintf(stderr, "mock_cluster: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "mock_cluster: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return 1;
        }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 3);
        if (!mc || rd_kafka_mock_topic_create(mc, argv[1], (int)partitions, 3)) {
                fprintf(stderr, "mock_cluster: cannot create the cluster or its topic\n");
                if (mc)
                        rd_kafka_mock_cluster_destroy(mc);
                rd_kafka_destroy(rk);
                return 1;
        }
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        while (getchar() != EOF) {
        }
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
