/*
 * libFuzzer target: the policy loader with the environment name taken
 * from the input: the first line is the name (KSAFE_ENV or -e), the rest
 * the policy text.
 */
#include "fuzz_policy_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_cstring(data, size);
        FUZZ_OOM_OK(text);
        char *nl = memchr(text, '\n', size);
        const char *policy = "";
        if (nl) {
                *nl = '\0';
                policy = nl + 1;
        }
        fuzz_load_policy(policy, text);
        free(text);
        return 0;
}
