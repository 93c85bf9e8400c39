/*
 * Other clients' property names.
 *
 * A producer config shared with the Java client carries properties that
 * librdkafka does not know (serializers, buffer.memory, ...). With
 * --dialect java they are accepted without a warning. This is the one
 * hand-kept list in ksafe: the Java client's ProducerConfig and
 * CommonClientConfigs names that librdkafka 2.0 does not have.
 */
#include <stdlib.h>
#include <string.h>

#include "ksafe_int.h"

static const char *const java_only[] = {
        /* sorted: bsearch */
        "auto.include.jmx.reporter",
        "buffer.memory",
        "client.dns.lookup",
        "default.api.timeout.ms",
        "interceptor.classes",
        "key.serializer",
        "max.block.ms",
        "max.request.size",
        "metadata.max.idle.ms",
        "metric.reporters",
        "metrics.num.samples",
        "metrics.recording.level",
        "metrics.sample.window.ms",
        "partitioner.adaptive.partitioning.enable",
        "partitioner.availability.timeout.ms",
        "partitioner.class",
        "partitioner.ignore.keys",
        "receive.buffer.bytes",
        "reconnect.backoff.ms",
        "sasl.client.callback.handler.class",
        "sasl.jaas.config",
        "sasl.kerberos.kinit.cmd",
        "sasl.kerberos.min.time.before.relogin",
        "sasl.kerberos.ticket.renew.jitter",
        "sasl.kerberos.ticket.renew.window.factor",
        "sasl.login.callback.handler.class",
        "sasl.login.class",
        "sasl.login.connect.timeout.ms",
        "sasl.login.read.timeout.ms",
        "sasl.login.refresh.buffer.seconds",
        "sasl.login.refresh.min.period.seconds",
        "sasl.login.refresh.window.factor",
        "sasl.login.refresh.window.jitter",
        "sasl.login.retry.backoff.max.ms",
        "sasl.login.retry.backoff.ms",
        "sasl.oauthbearer.clock.skew.seconds",
        "sasl.oauthbearer.expected.audience",
        "sasl.oauthbearer.expected.issuer",
        "sasl.oauthbearer.jwks.endpoint.refresh.ms",
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms",
        "sasl.oauthbearer.jwks.endpoint.url",
        "sasl.oauthbearer.scope.claim.name",
        "sasl.oauthbearer.sub.claim.name",
        "security.providers",
        "send.buffer.bytes",
        "ssl.enabled.protocols",
        "ssl.engine.factory.class",
        "ssl.keymanager.algorithm",
        "ssl.keystore.certificate.chain",
        "ssl.keystore.key",
        "ssl.keystore.type",
        "ssl.protocol",
        "ssl.provider",
        "ssl.secure.random.implementation",
        "ssl.trustmanager.algorithm",
        "ssl.truststore.certificates",
        "ssl.truststore.location",
        "ssl.truststore.password",
        "ssl.truststore.type",
        "value.serializer",
};

static int cmp_name(const void *key, const void *elem)
{
        return strcmp(key, *(const char *const *)elem);
}

bool ksafe_dialect__java_knows(const char *name)
{
        return bsearch(name, java_only, sizeof(java_only) / sizeof(*java_only),
                       sizeof(*java_only), cmp_name) != NULL;
}
