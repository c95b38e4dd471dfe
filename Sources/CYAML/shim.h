#ifndef MOORING_CYAML_SHIM_H
#define MOORING_CYAML_SHIM_H
#include <yaml.h>
#endif
