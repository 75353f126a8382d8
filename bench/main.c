/* main.c: the top of uvev-bench: the options, the list of metrics, and
 * main(), which runs them under the harness (harness.c).
 *
 *   uvev-bench [--short] [--json] [--only NAME] [--reps N]
 *              [--side ours|baseline]              (one side, to profile it)
 *   uvev-bench --series wake_scaling|chan_capacity  (data for plot.sh)
 *   uvev-bench --list | --help
 *
 * Exit status: 0 when every metric ran and every result was correct (a missed
 * goal is reported, not an error); 1 on a wrong result; 2 on bad usage; 3 when
 * the watchdog fired (something hung: a lost wake-up).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "harness.h"
#include "metrics.h"

/* Every metric, in the order they run: its name, unit, one-line summary
 * (--help) and goal. bench/check_docs.py holds bench/README.md and
 * README.md to these names. */
static const bench_metric_t metrics[] = {
  { "notify_empty", "ns/op",
    "ns per uvev_notify with no waiter vs seq_cst fence + relaxed load",
    { "ratio", BENCH_AT_MOST, 1.2 }, bench_notify_empty },
  { "pingpong_loops", "us/trip",
    "round trip between two loops on two threads vs raw uv_async_t",
    { "ratio", BENCH_AT_MOST, 1.10 }, bench_pingpong_loops },
  { "pingpong_threads", "us/trip",
    "round trip between two blocked threads vs pthread mutex+condvar",
    { "ratio", BENCH_AT_MOST, 1.10 }, bench_pingpong_threads },
  { "chan_thread_to_loop", "M msg/s",
    "1 thread -> 1 loop, capacity 1024 vs mutex ring + uv_async_send",
    { "ratio", BENCH_AT_LEAST, 1 }, bench_chan_thread_to_loop },
  { "chan_mpmc", "M msg/s",
    "2 threads -> 2 loops, capacity 1024 vs the same hand-written queue",
    { "ratio", BENCH_AT_LEAST, 1 }, bench_chan_mpmc },
  { "chan_cap16", "M msg/s",
    "1 thread -> 1 loop, capacity 16 vs the same hand-written queue",
    { "ratio", BENCH_AT_LEAST, 3 }, bench_chan_cap16 },
  { "chan_vs_ring", "M msg/s",
    "thread -> thread, blocking calls, capacity 1024 vs its bare ring, spinning",
    { "ratio", BENCH_AT_LEAST, 0.9 }, bench_chan_vs_ring },
  { "chan_batch", "M msg/s",
    "1 thread -> 1 loop, capacity 1024, batches of 64 vs single calls",
    { "ratio", BENCH_AT_LEAST, 2 }, bench_chan_batch },
  { "pool_lifo", "k wakes/s",
    "4 blocking workers on one event: LIFO wake-ups vs FIFO",
    { NULL, BENCH_AT_LEAST, 0 }, bench_pool_lifo },
  { "wake_scaling", "us/wake",
    "cost per wake with 1, 100, 10000 pending waits vs a uv_async_t each",
    { "ours / ours at 1", BENCH_AT_MOST, 1.5 }, bench_wake_scaling },
  { "notify_all_syscalls", "writes",
    "eventfd writes to wake 1000 waits on one loop vs a uv_async_t each",
    { "ours", BENCH_AT_MOST, 1 }, bench_notify_all_syscalls },
  { "allocs_per_msg", "allocs/msg",
    "heap allocations per channel message in the steady state",
    { "ours", BENCH_AT_MOST, 0 }, bench_allocs_per_msg },
};

#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static void usage(FILE* f) {
  size_t i;

  fprintf(f,
          "usage: uvev-bench [--short] [--json] [--only NAME] [--reps N]\n"
          "                  [--side ours|baseline]  (one side alone, to "
          "profile it)\n"
          "       uvev-bench --series wake_scaling|chan_capacity\n"
          "       uvev-bench --list\n"
          "metrics:\n");
  for (i = 0; i < NMETRICS; i++)
    fprintf(f, "  %-22s %s\n", metrics[i].name, metrics[i].what);
}

int main(int argc, char** argv) {
  const char* only = NULL;
  const char* series = NULL;
  size_t i;
  int c;

  bench_counters_init();
  for (c = 1; c < argc; c++) {
    if (strcmp(argv[c], "--short") == 0) {
      bench_cfg.short_run = 1;
    } else if (strcmp(argv[c], "--json") == 0) {
      bench_cfg.json = 1;
    } else if (strcmp(argv[c], "--only") == 0 && c + 1 < argc) {
      only = argv[++c];
    } else if (strcmp(argv[c], "--reps") == 0 && c + 1 < argc) {
      bench_cfg.reps = atoi(argv[++c]);
      if (bench_cfg.reps < 1 || bench_cfg.reps > BENCH_MAX_REPS) {
        fprintf(stderr, "uvev-bench: --reps takes 1..%d\n", BENCH_MAX_REPS);
        return 2;
      }
    } else if (strcmp(argv[c], "--side") == 0 && c + 1 < argc) {
      c++;
      if (strcmp(argv[c], "ours") == 0)
        bench_cfg.side = 1;
      else if (strcmp(argv[c], "baseline") == 0)
        bench_cfg.side = 2;
      else {
        usage(stderr);
        return 2;
      }
    } else if (strcmp(argv[c], "--series") == 0 && c + 1 < argc) {
      series = argv[++c];
    } else if (strcmp(argv[c], "--list") == 0) {
      for (i = 0; i < NMETRICS; i++)
        printf("%s\n", metrics[i].name);
      return 0;
    } else if (strcmp(argv[c], "--help") == 0 || strcmp(argv[c], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  bench_harness_init();

  if (series != NULL) {
    bench_begin(1);
    if (strcmp(series, "wake_scaling") == 0)
      bench_series_wake_scaling();
    else if (strcmp(series, "chan_capacity") == 0)
      bench_series_chan_capacity();
    else {
      usage(stderr);
      return 2;
    }
    bench_end_series();
    return 0;
  }

  if (only != NULL) {
    for (i = 0; i < NMETRICS; i++)
      if (strcmp(metrics[i].name, only) == 0)
        break;
    if (i == NMETRICS) {
      fprintf(stderr, "uvev-bench: no metric named %s\n", only);
      usage(stderr);
      return 2;
    }
  }

  bench_begin(0);
  for (i = 0; i < NMETRICS; i++)
    if (only == NULL || strcmp(metrics[i].name, only) == 0)
      bench_run_metric(&metrics[i]);
  bench_end();
  return 0;
}
