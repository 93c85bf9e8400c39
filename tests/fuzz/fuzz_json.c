/*
 * libFuzzer target: the JSON config reader, in both dialects, at the top
 * level or under --json-pointer /kafka, under the default and the example
 * organisation policy, through check, enforce, render and read-back.
 * The first byte chooses dialect, pointer and policy; the rest is the file.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        ksafe_config_options_t opts = {
                .version = KSAFE_CONFIG_OPTIONS_VERSION,
                .format = KSAFE_FORMAT_JSON,
                .dialect = data[0] & 1 ? KSAFE_DIALECT_JAVA : KSAFE_DIALECT_LIBRDKAFKA,
                .json_pointer = data[0] & 2 ? "/kafka" : NULL,
        };
        fuzz_config_roundtrip((const char *)data + 1, size - 1, &opts, fuzz_policy(data[0] >> 2));
        return 0;
}
