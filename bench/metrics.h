/* metrics.h: the entry points of the metric files, which main.c lists:
 * each metric adds its rows to the harness, each series prints the data
 * lines plot.sh reads.
 */
#ifndef UVEV_BENCH_METRICS_H_
#define UVEV_BENCH_METRICS_H_

void bench_notify_empty(void);          /* notify.c */
void bench_pingpong_loops(void);        /* pingpong.c */
void bench_pingpong_threads(void);
void bench_chan_thread_to_loop(void);   /* chan.c */
void bench_chan_mpmc(void);
void bench_chan_cap16(void);
void bench_allocs_per_msg(void);
void bench_wake_scaling(void);          /* wake.c */
void bench_notify_all_syscalls(void);

/* Data series for bench/plot.sh: "x ours baseline ..." lines. */
void bench_series_wake_scaling(void);   /* wake.c */
void bench_series_chan_capacity(void);  /* chan.c */

#endif /* UVEV_BENCH_METRICS_H_ */
