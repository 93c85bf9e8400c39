/*
 * libFuzzer target: the .properties reader, in both dialects, under the
 * default policy and the example organisation policy, through check,
 * enforce, render and read-back (fuzz_config_roundtrip()).
 * The first byte chooses the dialect and the policy; the rest is the file.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        ksafe_config_options_t opts = {
                .version = KSAFE_CONFIG_OPTIONS_VERSION,
                .format = KSAFE_FORMAT_PROPERTIES,
                .dialect = data[0] & 1 ? KSAFE_DIALECT_JAVA : KSAFE_DIALECT_LIBRDKAFKA,
        };
        fuzz_config_roundtrip((const char *)data + 1, size - 1, &opts, fuzz_policy(data[0] >> 1));
        return 0;
}
