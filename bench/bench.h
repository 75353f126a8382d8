/* bench.h: what the files of uvev-bench share: the run configuration, the
 * result rows the harness prints, the interleaved comparison driver, the
 * system-call and allocation counters, and each metric's entry point.
 *
 * A metric compares "ours" (uvev) with a "baseline" (what a libuv user writes
 * by hand, baseline.c). Each side is a function that sets up, measures one
 * repetition and returns one number; the harness (main.c) alternates the two
 * sides, repetition by repetition, and keeps the medians.
 */
#ifndef UVEV_BENCH_H_
#define UVEV_BENCH_H_

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define BENCH_MAX_REPS 64
#define BENCH_MAX_ROWS 48
#define BENCH_NEXTRA 3

/* The parameters of one repetition. */
typedef struct {
  unsigned long n;          /* operations, round trips, wakes or messages */
  unsigned long warmup;     /* untimed ones before the n */
  size_t capacity;          /* channel capacity */
  int producers;            /* producer threads */
  int consumers;            /* consumer loops, each on its own thread */
  unsigned int pending;     /* waits pending on the loop */
  int count_allocs;         /* chan: count allocations in the steady state */
} bench_args_t;

/* One side of a comparison, run once; returns the measured value. */
typedef double (*bench_side_fn)(const bench_args_t* a);

typedef struct {
  const char* name;         /* the metric's fixed name */
  char variant[48];         /* which row of the metric; "" if only one */
  const char* unit;
  const char* ours_label;   /* what "ours" runs */
  const char* base_label;   /* what the baseline runs; NULL: none */
  int nreps;
  double ours[BENCH_MAX_REPS];
  double base[BENCH_MAX_REPS];
  double ours_extra[BENCH_NEXTRA][BENCH_MAX_REPS];  /* bench_extra, per run */
  double base_extra[BENCH_NEXTRA][BENCH_MAX_REPS];
  int has_ours;
  int has_base;
  double ours_med;
  double base_med;
  double ratio;             /* ours_med / base_med, or NAN */
  char goal[80];            /* "" for an informational row */
  double check;             /* the value the goal tests */
  int met;                  /* 1 met, 0 missed, -1 no goal */
  char note[160];
  double others;            /* % of the machine's CPU others took meanwhile */
  int counted;              /* a count, not a timing: noise cannot move it */
} bench_row_t;

typedef struct {
  int short_run;            /* --short: tiny sizes, only proves it works */
  int reps;                 /* repetitions per side */
  int json;
  int side;                 /* --side: 0 both, 1 ours only, 2 baseline only */
} bench_cfg_t;

extern bench_cfg_t bench_cfg;

/* main.c: the harness. */
bench_row_t* bench_row(const char* name, const char* variant,
                       const char* unit);
/* Runs ours and base (either may be NULL) `reps` times each, alternating
 * which goes first, after one untimed warm-up of each; keeps the medians. */
void bench_compare(bench_row_t* row, bench_side_fn ours, bench_side_fn base,
                   const bench_args_t* a, int reps);
/* The pieces of bench_compare, for metrics that interleave several rows:
 * one run of one side stored as repetition `rep` (-1: a warm-up, not kept),
 * then the medians and the ratio. */
void bench_sample(bench_row_t* row, int ours, bench_side_fn fn,
                  const bench_args_t* a, int rep);
void bench_finish(bench_row_t* row);
void bench_goal_max(bench_row_t* row, double check, double limit,
                    const char* what);
void bench_goal_min(bench_row_t* row, double check, double limit,
                    const char* what);
/* A side may report more numbers about its run here (the channel sides:
 * eventfd writes per 1000 messages, producer and consumer CPU ns per
 * message); bench_sample keeps them next to the sample. */
extern double bench_extra[BENCH_NEXTRA];
/* CPU time the calling thread has used so far, in ns: CPU per message is
 * less disturbed by other processes than wall time, and tells which side of
 * a pipeline limits it. */
uint64_t bench_thread_cpu_ns(void);
/* `full` normally, `tiny` under --short. */
unsigned long bench_size(unsigned long full, unsigned long tiny);
/* A wrong result (lost or duplicated message, bad count): prints and exits
 * with status 1, whatever the mode. */
void bench_fail(const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
double bench_median(const double* v, int n);

/* counters.c: write() and malloc-family interposers, libuv's allocator. */
void bench_counters_init(void);        /* first thing in main */
int bench_counters_available(void);    /* 0 under sanitizers */
void bench_count_writes(int on);
unsigned long bench_writes(void);      /* write() calls while counting */
unsigned long bench_allocs(void);      /* malloc/calloc/realloc, process-wide */
unsigned long bench_uv_allocs(void);   /* the part libuv asked for */

/* Waits until *word == value, spinning first, then yielding the CPU: on a
 * machine with more runnable threads than cores a pure spin could hold the
 * very CPU the awaited thread was queued on until the next tick. The caller
 * stores *word with release order. */
void bench_wait_for(const unsigned long* word, unsigned long value);

/* Metric groups: each adds its rows. */
void bench_notify_empty(void);          /* notify.c */
void bench_pingpong_loops(void);        /* pingpong.c */
void bench_pingpong_threads(void);
void bench_chan_thread_to_loop(void);   /* chan.c */
void bench_chan_mpmc(void);
void bench_chan_cap16(void);
void bench_allocs_per_msg(void);
void bench_wake_scaling(void);          /* wake.c */
void bench_notify_all_syscalls(void);

/* Data series for bench/plot.sh: print "x ours baseline" lines. */
void bench_series_wake_scaling(void);   /* wake.c */
void bench_series_chan_capacity(void);  /* chan.c */

/* Our sides. */
double ours_chan(const bench_args_t* a);           /* chan.c: M msg/s */
double ours_wake(const bench_args_t* a);           /* wake.c: us per wake */

/* baseline.c: the hand-written versions. */
double base_fence_floor(const bench_args_t* a);     /* ns per op */
double base_fence_compiled(const bench_args_t* a);  /* ns per op */
double base_fence_call(const bench_args_t* a);      /* ns per op */
double base_pingpong_async(const bench_args_t* a);  /* us per round trip */
double base_pingpong_condvar(const bench_args_t* a);
double base_chan_mutex_ring(const bench_args_t* a); /* M msg/s */
double base_wake_async_each(const bench_args_t* a); /* us per wake */
double base_notify_all_async_each(const bench_args_t* a);  /* writes */

#endif /* UVEV_BENCH_H_ */
