#ifndef MOORING_BUILD_INFO_H
#define MOORING_BUILD_INFO_H
/* The commit a binary was built from. `make release` (and `make deb`) pass -DMOORING_COMMIT="<sha>" to the C
 * compiler; Swift has no way to take a string from the build command, so it lives here. */
#ifndef MOORING_COMMIT
#define MOORING_COMMIT "unknown"
#endif
const char *mooring_build_commit(void);
#endif
