/* The library's version. */
#include "ksafe_int.h"

const char *ksafe_version_str(void)
{
        return KSAFE_VERSION_STR;
}
