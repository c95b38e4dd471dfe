#ifndef MOORING_CGIT2_SHIM_H
#define MOORING_CGIT2_SHIM_H
#include <git2.h>
/* git_libgit2_opts is variadic (it does not import into Swift): the one option mooring sets. */
static inline int mooring_git_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}
#endif
