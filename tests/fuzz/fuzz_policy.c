/*
 * libFuzzer target: the policy loader (ksafe_policy_load_string) with
 * fixed environments: none and "prod". The input is the policy text.
 */
#include "fuzz_policy_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_cstring(data, size);
        FUZZ_OOM_OK(text);
        fuzz_load_policy(text, NULL);
        fuzz_load_policy(text, "prod");
        free(text);
        return 0;
}
