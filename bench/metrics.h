/* metrics.h: the entry points of the metric files, which main.c lists:
 * each metric adds its rows to the harness, each series prints the data
 * lines plot.sh reads.
 */
#ifndef UVEV_BENCH_METRICS_H_
#define UVEV_BENCH_METRICS_H_

#include "harness.h"

/* Each takes its entry in main.c's list: name, unit and goal come from it. */
void bench_notify_empty(const bench_metric_t* m);         /* notify.c */
void bench_pingpong_loops(const bench_metric_t* m);       /* pingpong.c */
void bench_pingpong_threads(const bench_metric_t* m);
void bench_chan_thread_to_loop(const bench_metric_t* m);  /* chan.c */
void bench_chan_mpmc(const bench_metric_t* m);
void bench_chan_cap16(const bench_metric_t* m);
void bench_chan_batch(const bench_metric_t* m);
void bench_chan_vs_ring(const bench_metric_t* m);         /* chan_ring.c */
void bench_allocs_per_msg(const bench_metric_t* m);
void bench_pool_lifo(const bench_metric_t* m);            /* pool.c */
void bench_wake_scaling(const bench_metric_t* m);         /* wake.c */
void bench_notify_all_syscalls(const bench_metric_t* m);

/* Data series for bench/plot.sh: "x ours baseline ..." lines. */
void bench_series_wake_scaling(void);   /* wake.c */
void bench_series_chan_capacity(void);  /* chan.c */

#endif /* UVEV_BENCH_METRICS_H_ */
