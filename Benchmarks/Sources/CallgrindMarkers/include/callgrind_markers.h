// Marks the timed part of a workload for callgrind, so that a profile holds exactly what the benchmark times:
//   valgrind --tool=callgrind --instr-atstart=no ResilientPostgresBenchmarks child --system S --workload W
// Outside valgrind (or where valgrind's headers are missing at build time) the markers do nothing.
#ifndef RESILIENT_POSTGRES_CALLGRIND_MARKERS_H
#define RESILIENT_POSTGRES_CALLGRIND_MARKERS_H

/// Starts callgrind's instrumentation (of every thread).
void callgrind_markers_begin(void);

/// Stops callgrind's instrumentation.
void callgrind_markers_end(void);

#endif
