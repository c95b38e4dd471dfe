#ifndef MOORING_CNFTABLES_SHIM_H
#define MOORING_CNFTABLES_SHIM_H
#include <nftables/libnftables.h>
#endif
