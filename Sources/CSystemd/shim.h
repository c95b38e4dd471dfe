#ifndef MOORING_CSYSTEMD_SHIM_H
#define MOORING_CSYSTEMD_SHIM_H
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <stdio.h>
/* The C global `stdout` is not concurrency-safe in Swift 6; touch it from C. */
static inline void mooring_stdout_linebuffered(void) { setvbuf(stdout, NULL, _IOLBF, 0); }
#endif
