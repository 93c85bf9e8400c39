/* The library's version. */
#include "ksafe_int.h"

int ksafe_version(void)
{
        return KSAFE_VERSION;
}

const char *ksafe_version_str(void)
{
        return KSAFE_VERSION_STR;
}
