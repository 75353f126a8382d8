/* baseline.h: the hand-written sides (baseline.c) the metric files measure
 * uvev against; each runs one repetition, as a bench_side_fn.
 */
#ifndef UVEV_BENCH_BASELINE_H_
#define UVEV_BENCH_BASELINE_H_

#include "harness.h"

/* ns per op, fence and load: inline, as compiled, called out of line. */
double base_fence_floor(const bench_args_t* a, bench_stats_t* stats);
double base_fence_compiled(const bench_args_t* a, bench_stats_t* stats);
double base_fence_call(const bench_args_t* a, bench_stats_t* stats);
/* us per round trip: two loops, two threads. */
double base_pingpong_async(const bench_args_t* a, bench_stats_t* stats);
double base_pingpong_condvar(const bench_args_t* a, bench_stats_t* stats);
/* M msg/s; sets the channel fields of stats. */
double base_chan_mutex_ring(const bench_args_t* a, bench_stats_t* stats);
/* us per wake; sets loop_cpu_us. */
double base_wake_async_each(const bench_args_t* a, bench_stats_t* stats);
/* write() calls to wake every waiter. */
double base_notify_all_async_each(const bench_args_t* a,
                                  bench_stats_t* stats);

#endif /* UVEV_BENCH_BASELINE_H_ */
