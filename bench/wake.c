/* wake.c: the metrics of one loop with many waits pending:
 *
 *   wake_scaling         the cost of one wake-up of a loop on which 1, 100 or
 *                        10,000 waits are pending (one of them is woken)
 *   notify_all_syscalls  the eventfd writes it takes to wake 1,000 waits on
 *                        one loop at once
 *   --series wake_scaling  cost per wake against pending waits, for plot.sh
 *
 * The driver (the main thread) wakes the loop and spins until the loop's
 * callback acknowledges, so a round trip is the loop's wake-up and nothing
 * else; the baseline (baseline.c) uses the same driver with one uv_async_t
 * per waiter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uvev.h>

#include "baseline.h"
#include "counters.h"
#include "harness.h"
#include "metrics.h"

#define WK_STOP ((unsigned long) -1)

static struct {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ping;          /* the wait the driver wakes waits here */
  uvev_wait_t ping_req;
  uvev_event_t* idle_ev;      /* the other waits wait here, one event each */
  uvev_wait_t* idle_req;
  unsigned int nidle;
  unsigned long seq;          /* atomic: driver -> loop */
  unsigned long ack;          /* atomic: loop -> driver */
  unsigned long seen;         /* loop thread: what the predicate saw */
  unsigned long acked;        /* loop thread: the last value acknowledged */
  unsigned long cpu_from;     /* loop thread: the wakes its CPU time spans */
  unsigned long cpu_to;
  uint64_t cpu[2];            /* loop thread CPU ns at cpu_from and cpu_to */
  unsigned long cancelled;    /* loop thread: idle waits ended by the close */
  uv_sem_t ready;
} wk;

static int wk_ping_pred(void* arg) {
  (void) arg;
  /* Acquire: pairs with the driver's release store of seq. */
  wk.seen = __atomic_load_n(&wk.seq, __ATOMIC_ACQUIRE);
  return wk.seen != wk.acked;
}

static void wk_on_ping(uvev_wait_t* req, int status) {
  if (status != 0)
    bench_fail("wake_scaling: wait status %s", uv_err_name(status));
  if (wk.seen == WK_STOP) {
    uvev_waker_close(&wk.waker, NULL);  /* the idle waits end with it */
    return;
  }
  wk.acked = wk.seen;
  if (wk.seen == wk.cpu_from)
    wk.cpu[0] = bench_thread_cpu_ns();
  if (wk.seen == wk.cpu_to)
    wk.cpu[1] = bench_thread_cpu_ns();
  /* Release: pairs with the driver's acquire load of ack. */
  __atomic_store_n(&wk.ack, wk.seen, __ATOMIC_RELEASE);
  if (uvev_wait(&wk.waker, req, &wk.ping, wk_ping_pred, wk_on_ping) != 0)
    bench_fail("wake_scaling: uvev_wait");
}

static int wk_never(void* arg) {
  (void) arg;
  return 0;
}

static void wk_on_idle(uvev_wait_t* req, int status) {
  (void) req;
  if (status != UV_ECANCELED)
    bench_fail("wake_scaling: idle wait ended with %s", uv_err_name(status));
  wk.cancelled++;
}

static void wk_loop_thread(void* arg) {
  unsigned int i;

  (void) arg;
  if (uv_loop_init(&wk.loop) != 0 || uvev_waker_init(&wk.loop, &wk.waker) != 0)
    bench_fail("wake_scaling: loop init");
  for (i = 0; i < wk.nidle; i++)
    if (uvev_wait(&wk.waker, &wk.idle_req[i], &wk.idle_ev[i], wk_never,
                  wk_on_idle) != 0)
      bench_fail("wake_scaling: uvev_wait");
  if (uvev_wait(&wk.waker, &wk.ping_req, &wk.ping, wk_ping_pred,
                wk_on_ping) != 0)
    bench_fail("wake_scaling: uvev_wait");
  uv_sem_post(&wk.ready);
  uv_run(&wk.loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&wk.loop) != 0)
    bench_fail("wake_scaling: loop not closed");
}

/* Microseconds per wake-up. */
static double ours_wake(const bench_args_t* a, bench_stats_t* stats) {
  uv_thread_t t;
  unsigned long i;
  uint64_t t0;
  uint64_t t1;

  memset(&wk, 0, sizeof(wk));
  wk.nidle = a->pending - 1;
  wk.cpu_from = a->warmup;
  wk.cpu_to = a->warmup + a->n;
  wk.idle_ev = calloc(wk.nidle + 1, sizeof(*wk.idle_ev));
  wk.idle_req = calloc(wk.nidle + 1, sizeof(*wk.idle_req));
  if (wk.idle_ev == NULL || wk.idle_req == NULL ||
      uvev_event_init(&wk.ping) != 0 || uv_sem_init(&wk.ready, 0) != 0)
    bench_fail("wake_scaling: init");
  for (i = 0; i < wk.nidle; i++)
    if (uvev_event_init(&wk.idle_ev[i]) != 0)
      bench_fail("wake_scaling: uvev_event_init");
  if (uv_thread_create(&t, wk_loop_thread, NULL) != 0)
    bench_fail("wake_scaling: thread");
  uv_sem_wait(&wk.ready);

  t0 = uv_hrtime();
  for (i = 1; i <= a->warmup + a->n; i++) {
    if (i == a->warmup + 1)
      t0 = uv_hrtime();
    /* Release: pairs with the acquire load in wk_ping_pred. */
    __atomic_store_n(&wk.seq, i, __ATOMIC_RELEASE);
    uvev_notify_one(&wk.ping);
    /* Pairs with the release store of ack in wk_on_ping. */
    bench_wait_for(&wk.ack, i);
  }
  t1 = uv_hrtime();
  /* Release: pairs with the acquire load in wk_ping_pred. */
  __atomic_store_n(&wk.seq, WK_STOP, __ATOMIC_RELEASE);
  uvev_notify_one(&wk.ping);

  uv_thread_join(&t);
  if (wk.cancelled != wk.nidle)
    bench_fail("wake_scaling: %lu of %u idle waits ended", wk.cancelled,
               wk.nidle);
  for (i = 0; i < wk.nidle; i++)
    if (uvev_event_destroy(&wk.idle_ev[i]) != 0)
      bench_fail("wake_scaling: event still busy");
  if (uvev_event_destroy(&wk.ping) != 0)
    bench_fail("wake_scaling: event still busy");
  uv_sem_destroy(&wk.ready);
  free(wk.idle_ev);
  free(wk.idle_req);
  stats->loop_cpu_us = (double) (wk.cpu[1] - wk.cpu[0]) / 1e3 /
                       (double) a->n;
  return (double) (t1 - t0) / 1e3 / (double) a->n;
}

/* One repetition of ours and the baseline at each number of pending waits,
 * all interleaved: the goal compares ours across rows. */
static void wk_compare(bench_row_t** rows, const unsigned int* pending,
                       int npoints, unsigned long n, int reps) {
  bench_args_t a = { 0 };
  int rep;
  int k;
  int j;

  a.n = n;
  a.warmup = bench_size(100, 2);  /* >= 1: the loop's CPU clock starts there */
  for (rep = bench_cfg.short_run ? 0 : -1; rep < reps; rep++) {
    for (j = 0; j < npoints; j++) {
      /* Alternate the order of the points and of the sides. */
      k = rep % 2 == 0 ? j : npoints - 1 - j;
      a.pending = pending[k];
      if ((rep + j) % 2 == 0) {
        bench_sample(rows[k], 1, ours_wake, &a, rep);
        bench_sample(rows[k], 0, base_wake_async_each, &a, rep);
      } else {
        bench_sample(rows[k], 0, base_wake_async_each, &a, rep);
        bench_sample(rows[k], 1, ours_wake, &a, rep);
      }
    }
  }
  for (k = 0; k < npoints; k++)
    bench_finish(rows[k]);
}

void bench_wake_scaling(const bench_metric_t* m) {
  static const unsigned int pending[] = { 1, 100, 10000 };
  bench_row_t* rows[3];
  bench_stats_t ours;
  bench_stats_t base;
  char variant[48];
  int k;

  for (k = 0; k < 3; k++) {
    snprintf(variant, sizeof(variant), "%u pending", pending[k]);
    rows[k] = bench_row(m->name, variant, m->unit);
    rows[k]->ours_label = "round trip: notify one of the loop's waits, its "
                          "callback acknowledges; one waker for every wait";
    rows[k]->base_label = "the same with one uv_async_t per waiter (the one "
                          "woken first in libuv's walk)";
  }
  wk_compare(rows, pending, 3, bench_size(3000, 20), bench_cfg.reps);
  for (k = 0; k < 3; k++) {
    ours = bench_stats_median(rows[k], 1);
    base = bench_stats_median(rows[k], 0);
    snprintf(rows[k]->note, sizeof(rows[k]->note),
             "the loop thread's CPU per wake (median): ours %.3g us, "
             "baseline %.3g us", ours.loop_cpu_us, base.loop_cpu_us);
  }
  bench_goal(rows[2], &m->goal, rows[2]->ours_med / rows[0]->ours_med);
}

void bench_series_wake_scaling(void) {
  static const unsigned int pending[] = { 1, 10, 100, 1000, 3000, 10000 };
  bench_row_t* rows[6];
  bench_stats_t ours;
  bench_stats_t base;
  int k;

  for (k = 0; k < 6; k++)
    rows[k] = bench_row("wake_scaling", "", "us/wake");
  printf("# wake_scaling: a driver thread wakes one wait of a loop and waits "
         "for its acknowledgement; medians of %d\n", bench_cfg.reps);
  printf("# pending ours_round_trip_us baseline_round_trip_us "
         "ours_loop_cpu_us baseline_loop_cpu_us\n");
  fflush(stdout);
  wk_compare(rows, pending, 6, bench_size(2000, 20), bench_cfg.reps);
  for (k = 0; k < 6; k++) {
    ours = bench_stats_median(rows[k], 1);
    base = bench_stats_median(rows[k], 0);
    printf("%u %.4g %.4g %.4g %.4g\n", pending[k], rows[k]->ours_med,
           rows[k]->base_med, ours.loop_cpu_us, base.loop_cpu_us);
  }
}

/* ---- notify_all_syscalls ------------------------------------------------- */

static struct {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  uvev_wait_t* reqs;
  unsigned int n;
  int flag;                   /* atomic: the state the waits wait for */
  unsigned long woken;        /* loop thread */
  uv_sem_t ready;
} na;

static int na_pred(void* arg) {
  (void) arg;
  /* Acquire: pairs with the release store in ours_notify_all. */
  return __atomic_load_n(&na.flag, __ATOMIC_ACQUIRE);
}

static void na_on_woken(uvev_wait_t* req, int status) {
  (void) req;
  if (status != 0)
    bench_fail("notify_all_syscalls: wait status %s", uv_err_name(status));
  if (++na.woken == na.n)
    uvev_waker_close(&na.waker, NULL);
}

static void na_loop_thread(void* arg) {
  unsigned int i;

  (void) arg;
  if (uv_loop_init(&na.loop) != 0 || uvev_waker_init(&na.loop, &na.waker) != 0)
    bench_fail("notify_all_syscalls: loop init");
  for (i = 0; i < na.n; i++)
    if (uvev_wait(&na.waker, &na.reqs[i], &na.ev, na_pred, na_on_woken) != 0)
      bench_fail("notify_all_syscalls: uvev_wait");
  uv_sem_post(&na.ready);
  uv_run(&na.loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&na.loop) != 0)
    bench_fail("notify_all_syscalls: loop not closed");
}

/* write() calls made while waking every wait. */
static double ours_notify_all(const bench_args_t* a,
                              bench_stats_t* stats) {
  uv_thread_t t;
  unsigned long before;
  unsigned long writes;

  (void) stats;
  memset(&na, 0, sizeof(na));
  na.n = a->pending;
  na.reqs = calloc(na.n, sizeof(*na.reqs));
  if (na.reqs == NULL || uvev_event_init(&na.ev) != 0 ||
      uv_sem_init(&na.ready, 0) != 0)
    bench_fail("notify_all_syscalls: init");
  if (uv_thread_create(&t, na_loop_thread, NULL) != 0)
    bench_fail("notify_all_syscalls: thread");
  uv_sem_wait(&na.ready);
  uv_sleep(5);  /* let the loop block in epoll_wait, as a loop at rest does */
  before = bench_writes();
  bench_count_writes(1);
  /* Release: pairs with the acquire load in na_pred. */
  __atomic_store_n(&na.flag, 1, __ATOMIC_RELEASE);
  uvev_notify_all(&na.ev);
  bench_count_writes(0);
  writes = bench_writes() - before;
  uv_thread_join(&t);
  if (na.woken != na.n)
    bench_fail("notify_all_syscalls: %lu of %u waits woken", na.woken, na.n);
  if (uvev_event_destroy(&na.ev) != 0)
    bench_fail("notify_all_syscalls: event still busy");
  uv_sem_destroy(&na.ready);
  free(na.reqs);
  return (double) writes;
}

void bench_notify_all_syscalls(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_row_t* r;
  double lo;
  double hi;
  int i;

  a.pending = 1000;
  r = bench_row(m->name, "1000 waits", m->unit);
  r->counted = 1;
  r->ours_label = "uvev_notify_all on one event, 1000 loop waits";
  r->base_label = "uv_async_send on 1000 uv_async_t";
  if (!bench_counters_available()) {
    snprintf(r->note, sizeof(r->note),
             "not measured: built with a sanitizer (it owns write())");
    return;
  }
  bench_compare(r, ours_notify_all, base_notify_all_async_each, &a,
                bench_cfg.reps);
  bench_goal(r, &m->goal, r->ours_med);
  lo = hi = r->ours[0];
  for (i = 1; i < r->nreps; i++) {
    lo = r->ours[i] < lo ? r->ours[i] : lo;
    hi = r->ours[i] > hi ? r->ours[i] : hi;
  }
  snprintf(r->note, sizeof(r->note),
           "counted by a write() interposer; ours ranged %g..%g over %d "
           "repetitions", lo, hi, r->nreps);
  if (r->base_med != a.pending)
    bench_fail("notify_all_syscalls: the baseline made %g writes, not %u",
               r->base_med, a.pending);
}
