#include "build_info.h"

const char *mooring_build_commit(void) { return MOORING_COMMIT; }
