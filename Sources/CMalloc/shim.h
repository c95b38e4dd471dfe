#ifndef MOORING_CMALLOC_SHIM_H
#define MOORING_CMALLOC_SHIM_H
/* glibc's malloc.h: Swift's Glibc module leaves out mallopt and its M_* options. */
#include <malloc.h>
#endif
