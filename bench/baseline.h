/* baseline.h: the hand-written sides (baseline.c) the metric files measure
 * uvev against; each runs one repetition, as a bench_side_fn.
 */
#ifndef UVEV_BENCH_BASELINE_H_
#define UVEV_BENCH_BASELINE_H_

#include "harness.h"

double base_fence_floor(const bench_args_t* a);     /* ns per op */
double base_fence_compiled(const bench_args_t* a);  /* ns per op */
double base_fence_call(const bench_args_t* a);      /* ns per op */
double base_pingpong_async(const bench_args_t* a);  /* us per round trip */
double base_pingpong_condvar(const bench_args_t* a);
double base_chan_mutex_ring(const bench_args_t* a); /* M msg/s */
double base_wake_async_each(const bench_args_t* a); /* us per wake */
double base_notify_all_async_each(const bench_args_t* a);  /* writes */

#endif /* UVEV_BENCH_BASELINE_H_ */
