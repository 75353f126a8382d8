/* harness.h: the harness of uvev-bench (harness.c): the run configuration,
 * the result rows, the interleaved comparison of two sides, goals and
 * medians, the watchdog, and the printers. The metric files and baseline.c
 * build on it; it knows nothing of them.
 *
 * A metric compares "ours" (uvev) with a "baseline" (what a libuv user writes
 * by hand, baseline.c). Each side is a function that sets up, measures one
 * repetition and returns one number; the harness alternates the two sides,
 * repetition by repetition, and keeps the medians.
 */
#ifndef UVEV_BENCH_HARNESS_H_
#define UVEV_BENCH_HARNESS_H_

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define BENCH_MAX_REPS 64
#define BENCH_MAX_ROWS 48

/* The parameters of one repetition. */
typedef struct {
  unsigned long n;          /* operations, round trips, wakes or messages */
  unsigned long warmup;     /* untimed ones before the n */
  size_t capacity;          /* channel capacity */
  int producers;            /* producer threads */
  int consumers;            /* consumer loops, each on its own thread */
  unsigned int pending;     /* waits pending on the loop */
  int count_allocs;         /* chan: count allocations in the steady state */
  size_t batch;             /* chan: elements per callback (0: capacity) */
  int many;                 /* chan: move them with the _many calls */
} bench_args_t;

/* What a side measures of one repetition besides the value it returns. The
 * harness sets every field to NAN before the run; a side sets those it
 * measures. */
typedef struct {
  double writes_per_1k;     /* chan: write() calls (eventfd) per 1000 msgs */
  double producer_cpu_ns;   /* chan: producer threads' CPU ns per message */
  double consumer_cpu_ns;   /* chan: consumer threads' CPU ns per message */
  double loop_cpu_us;       /* wake: the loop thread's CPU us per wake */
  double busiest_pct;       /* pool: the busiest worker's share of the jobs */
  double workers_used;      /* pool: workers that ran any job */
} bench_stats_t;

/* One side of a comparison, run once; returns the measured value. */
typedef double (*bench_side_fn)(const bench_args_t* a, bench_stats_t* stats);

typedef struct {
  const char* name;         /* the metric's fixed name */
  char variant[48];         /* which row of the metric; "" if only one */
  const char* unit;
  const char* ours_label;   /* what "ours" runs */
  const char* base_label;   /* what the baseline runs; NULL: none */
  int nreps;
  double ours[BENCH_MAX_REPS];
  double base[BENCH_MAX_REPS];
  bench_stats_t ours_stats[BENCH_MAX_REPS];  /* next to ours[] */
  bench_stats_t base_stats[BENCH_MAX_REPS];
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

/* A metric's goal: `of` (the ratio, ours, or what else the metric computes)
 * at most or at least `limit`. */
typedef enum { BENCH_AT_MOST, BENCH_AT_LEAST } bench_bound_t;

typedef struct {
  const char* of;           /* NULL: the metric is informational */
  bench_bound_t bound;
  double limit;
} bench_goal_t;

/* One metric, as main.c lists it: the one place that names and describes
 * it. Its run function adds its rows, with this name and unit, and tests
 * this goal. */
typedef struct bench_metric_s bench_metric_t;
struct bench_metric_s {
  const char* name;
  const char* unit;
  const char* what;         /* one line, for --help */
  bench_goal_t goal;
  void (*run)(const bench_metric_t* m);
};

typedef struct {
  int short_run;            /* --short: tiny sizes, only proves it works */
  int reps;                 /* repetitions per side */
  int json;
  int side;                 /* --side: 0 both, 1 ours only, 2 baseline only */
} bench_cfg_t;

/* Set by main from the options before anything runs. */
extern bench_cfg_t bench_cfg;

/* ---- for the metrics ----------------------------------------------------- */

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
/* Tests the goal on `check`, the value of goal->of for this row. */
void bench_goal(bench_row_t* row, const bench_goal_t* goal, double check);
double bench_median(const double* v, int n);
/* The median of each field of one side's stats over the row's repetitions. */
bench_stats_t bench_stats_median(const bench_row_t* row, int ours);
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
/* Waits until *word == value, spinning first, then yielding the CPU: on a
 * machine with more runnable threads than cores a pure spin could hold the
 * very CPU the awaited thread was queued on until the next tick. The caller
 * stores *word with release order. */
void bench_wait_for(const unsigned long* word, unsigned long value);

/* ---- for main ------------------------------------------------------------ */

/* The watchdog's handler, the machine description, the load average. */
void bench_harness_init(void);
/* The header (a table's two lines, none for --json; a series' comment line)
 * and the start of the run's CPU accounting. */
void bench_begin(int series);
/* Runs one metric, the watchdog naming it, and charges the CPU that others
 * took meanwhile to the rows it added. */
void bench_run_metric(const bench_metric_t* m);
/* A series' last line: what others took of the machine. */
void bench_end_series(void);
/* The table or the JSON document, and the summary. */
void bench_end(void);

#endif /* UVEV_BENCH_HARNESS_H_ */
