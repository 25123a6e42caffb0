#include "callgrind_markers.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

void callgrind_markers_begin(void) { CALLGRIND_START_INSTRUMENTATION; }

void callgrind_markers_end(void) { CALLGRIND_STOP_INSTRUMENTATION; }
