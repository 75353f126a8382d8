/* pool.c: pool_lifo, a pool of blocking workers on one event, woken LIFO
 * (uvev_event_init_ex with UVEV_EVENT_LIFO) against FIFO (the default).
 *
 * POOL_WORKERS threads wait in uvev_wait_sync on one event for a job (a
 * token). The driver (the main thread) posts one job, notifies one worker
 * and waits (spin, then yield) for the job's acknowledgement, n times. Each
 * job reads the worker's own POOL_WORK_BYTES buffer, so a worker woken while
 * its buffer is still in cache finishes sooner. A LIFO event wakes the worker
 * that parked last, usually the one that has just finished and is still
 * spinning in its parker; FIFO wakes the one that has slept longest. The
 * row reports wake-ups per second and, in its note, how the jobs spread:
 * the share of the busiest worker and how many workers ran any job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvev.h>

#include "harness.h"
#include "metrics.h"

#define POOL_WORKERS 4
#define POOL_WORK_BYTES (64 * 1024)

typedef struct {
  uv_thread_t thread;
  unsigned long jobs;         /* jobs this worker ran */
  unsigned char* buf;
  unsigned long sum;          /* what the jobs read, so they are not elided */
} pool_worker_t;

static struct {
  uvev_event_t ev;
  long tokens;                /* atomic: jobs posted, not yet taken */
  int stop;                   /* atomic */
  unsigned long done;         /* atomic: jobs acknowledged */
  pool_worker_t workers[POOL_WORKERS];
} pl;

static int pl_take(void* arg) {
  long t;

  (void) arg;
  /* Acquire: pairs with the driver's release stores of stop and tokens. */
  if (__atomic_load_n(&pl.stop, __ATOMIC_ACQUIRE))
    return 1;
  t = __atomic_load_n(&pl.tokens, __ATOMIC_ACQUIRE);
  while (t > 0)
    if (__atomic_compare_exchange_n(&pl.tokens, &t, t - 1, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      return 1;
  return 0;
}

static void pl_work(void* arg) {
  pool_worker_t* w = arg;
  size_t i;

  for (;;) {
    if (uvev_wait_sync(&pl.ev, pl_take, NULL) != 0)
      bench_fail("pool_lifo: uvev_wait_sync");
    if (__atomic_load_n(&pl.stop, __ATOMIC_ACQUIRE))
      return;
    for (i = 0; i < POOL_WORK_BYTES; i += 64)
      w->sum += w->buf[i];
    w->jobs++;
    /* Release: pairs with the driver's acquire in bench_wait_for. */
    __atomic_add_fetch(&pl.done, 1, __ATOMIC_RELEASE);
  }
}

/* One repetition with a FIFO or a LIFO event: wake-ups per second (k). */
static double pl_run(const bench_args_t* a, bench_stats_t* stats,
                     unsigned int flags) {
  unsigned long i, most, used;
  uint64_t t0, ns;
  int k;

  memset(&pl, 0, sizeof(pl));
  if (uvev_event_init_ex(&pl.ev, flags) != 0)
    bench_fail("pool_lifo: init");
  for (k = 0; k < POOL_WORKERS; k++) {
    pl.workers[k].buf = calloc(1, POOL_WORK_BYTES);
    if (pl.workers[k].buf == NULL ||
        uv_thread_create(&pl.workers[k].thread, pl_work, &pl.workers[k]) != 0)
      bench_fail("pool_lifo: thread");
  }
  t0 = uv_hrtime();
  for (i = 0; i < a->n; i++) {
    /* Release: pairs with the acquire loads in pl_take. */
    __atomic_add_fetch(&pl.tokens, 1, __ATOMIC_RELEASE);
    uvev_notify_one(&pl.ev);
    bench_wait_for(&pl.done, i + 1);
  }
  ns = uv_hrtime() - t0;
  __atomic_store_n(&pl.stop, 1, __ATOMIC_RELEASE);
  uvev_notify_all(&pl.ev);
  most = 0;
  used = 0;
  for (k = 0; k < POOL_WORKERS; k++) {
    uv_thread_join(&pl.workers[k].thread);
    if (pl.workers[k].jobs > most)
      most = pl.workers[k].jobs;
    used += pl.workers[k].jobs != 0;
    free(pl.workers[k].buf);
  }
  if (__atomic_load_n(&pl.done, __ATOMIC_ACQUIRE) != a->n)
    bench_fail("pool_lifo: %lu of %lu jobs", pl.done, a->n);
  if (uvev_event_destroy(&pl.ev) != 0)
    bench_fail("pool_lifo: uvev_event_destroy");
  stats->busiest_pct = 100.0 * (double) most / (double) a->n;
  stats->workers_used = (double) used;
  return (double) a->n / ((double) ns / 1e6);
}

static double ours_lifo(const bench_args_t* a, bench_stats_t* stats) {
  return pl_run(a, stats, UVEV_EVENT_LIFO);
}

static double base_fifo(const bench_args_t* a, bench_stats_t* stats) {
  return pl_run(a, stats, 0);
}

void bench_pool_lifo(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_stats_t ours;
  bench_stats_t base;
  bench_row_t* r;

  a.n = bench_size(20000, 200);
  r = bench_row(m->name, "", m->unit);
  r->ours_label = "4 workers in uvev_wait_sync on a LIFO event";
  r->base_label = "the same on a FIFO event";
  bench_compare(r, ours_lifo, base_fifo, &a, bench_cfg.reps);
  bench_goal(r, &m->goal, r->ratio);
  ours = bench_stats_median(r, 1);
  base = bench_stats_median(r, 0);
  snprintf(r->note, sizeof(r->note),
           "busiest worker's share of the jobs: LIFO %.3g%%, FIFO %.3g%%; "
           "workers that ran any: LIFO %.0f, FIFO %.0f of %d",
           ours.busiest_pct, base.busiest_pct, ours.workers_used,
           base.workers_used, POOL_WORKERS);
}
