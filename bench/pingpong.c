/* pingpong.c: the metrics pingpong_loops and pingpong_threads: the round
 * trip of a hand-off through two events (each side waits on its own event and
 * notifies the other's), between two loops on two threads with loop waits,
 * and between two threads with blocking waits.
 *
 * The ball is one counter: side 0 moves it on even values, side 1 on odd
 * ones. Side 0 times the round trips after a warm-up.
 */
#include <string.h>

#include <uvev.h>

#include "baseline.h"
#include "harness.h"
#include "metrics.h"

#define PP_STOP ((unsigned long) -1)

/* ---- pingpong_loops ------------------------------------------------------ */

typedef struct {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_wait_t req;
  int me;
  unsigned long expect;       /* the value of the ball this side waits for */
  unsigned long seen;         /* what the predicate saw */
} pl_side_t;

static struct {
  uvev_event_t ev[2];         /* side i waits on ev[i] */
  pl_side_t side[2];
  unsigned long ball;         /* atomic */
  unsigned long start;        /* side 0 starts the clock at this value */
  unsigned long last;         /* and stops it here */
  uint64_t t0;
  uint64_t t1;
  uv_sem_t ready;
} pl;

static int pl_pred(void* arg) {
  pl_side_t* s = arg;

  /* Acquire: pairs with the release store of the ball in pl_on_ball (the
   * other side's move). */
  s->seen = __atomic_load_n(&pl.ball, __ATOMIC_ACQUIRE);
  return s->seen == s->expect || s->seen == PP_STOP;
}

static void pl_on_ball(uvev_wait_t* req, int status) {
  pl_side_t* s = req->data;
  unsigned long b;

  if (status != 0)
    bench_fail("pingpong_loops: wait status %s", uv_err_name(status));
  b = s->seen;
  if (b == PP_STOP) {
    uvev_waker_close(&s->waker, NULL);
    return;
  }
  if (s->me == 0 && b == pl.start)
    pl.t0 = uv_hrtime();
  if (s->me == 0 && b == pl.last) {
    pl.t1 = uv_hrtime();
    /* Release: pairs with the acquire load in pl_pred (side 1). */
    __atomic_store_n(&pl.ball, PP_STOP, __ATOMIC_RELEASE);
    uvev_notify_one(&pl.ev[1]);
    uvev_waker_close(&s->waker, NULL);
    return;
  }
  s->expect = b + 2;
  /* Release: pairs with the acquire load in pl_pred (the other side). */
  __atomic_store_n(&pl.ball, b + 1, __ATOMIC_RELEASE);
  uvev_notify_one(&pl.ev[!s->me]);
  if (uvev_wait(&s->waker, &s->req, &pl.ev[s->me], pl_pred, pl_on_ball) != 0)
    bench_fail("pingpong_loops: uvev_wait");
}

static void pl_start(pl_side_t* s) {
  if (uv_loop_init(&s->loop) != 0 ||
      uvev_waker_init(&s->loop, &s->waker) != 0)
    bench_fail("pingpong_loops: loop init");
  s->req.data = s;
  s->expect = (unsigned long) s->me;
  if (uvev_wait(&s->waker, &s->req, &pl.ev[s->me], pl_pred, pl_on_ball) != 0)
    bench_fail("pingpong_loops: uvev_wait");
}

static void pl_finish(pl_side_t* s) {
  if (uv_loop_close(&s->loop) != 0)
    bench_fail("pingpong_loops: loop not closed");
}

static void pl_thread_1(void* arg) {
  (void) arg;
  pl_start(&pl.side[1]);
  uv_sem_post(&pl.ready);
  uv_run(&pl.side[1].loop, UV_RUN_DEFAULT);
  pl_finish(&pl.side[1]);
}

static double ours_pingpong_loops(const bench_args_t* a, bench_stats_t* stats) {
  uv_thread_t t;

  (void) stats;
  memset(&pl, 0, sizeof(pl));
  pl.side[1].me = 1;
  pl.start = 2 * a->warmup;
  pl.last = 2 * (a->warmup + a->n);
  if (uvev_event_init(&pl.ev[0]) != 0 || uvev_event_init(&pl.ev[1]) != 0 ||
      uv_sem_init(&pl.ready, 0) != 0)
    bench_fail("pingpong_loops: init");
  if (uv_thread_create(&t, pl_thread_1, NULL) != 0)
    bench_fail("pingpong_loops: thread");
  uv_sem_wait(&pl.ready);
  /* Side 0's first wait is satisfied at once (the ball is 0): it serves. */
  pl_start(&pl.side[0]);
  uv_run(&pl.side[0].loop, UV_RUN_DEFAULT);
  uv_thread_join(&t);
  pl_finish(&pl.side[0]);
  if (uvev_event_destroy(&pl.ev[0]) != 0 ||
      uvev_event_destroy(&pl.ev[1]) != 0)
    bench_fail("pingpong_loops: event still busy");
  uv_sem_destroy(&pl.ready);
  if (pl.t1 == 0)
    bench_fail("pingpong_loops: the rally ended early");
  return (double) (pl.t1 - pl.t0) / 1e3 / (double) a->n;
}

void bench_pingpong_loops(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_row_t* r;

  a.n = bench_size(10000, 20);
  a.warmup = bench_size(500, 2);
  r = bench_row(m->name, "", m->unit);
  r->ours_label = "two loops, uvev_wait + uvev_notify_one on two events";
  r->base_label = "two loops, uv_async_send on one uv_async_t each";
  bench_compare(r, ours_pingpong_loops, base_pingpong_async, &a,
                bench_cfg.reps);
  bench_goal(r, &m->goal, r->ratio);
}

/* ---- pingpong_threads ---------------------------------------------------- */

typedef struct {
  unsigned long expect;
  unsigned long seen;
} pt_side_t;

static struct {
  uvev_event_t ev[2];         /* thread i waits on ev[i] */
  unsigned long ball;         /* atomic */
  unsigned long start;
  unsigned long last;         /* both stop once the ball reaches it */
  uint64_t t0;
  uint64_t t1;
} pt;

static int pt_pred(void* arg) {
  pt_side_t* s = arg;

  /* Acquire: pairs with the release store of the ball in pt_play (the
   * other thread's move). */
  s->seen = __atomic_load_n(&pt.ball, __ATOMIC_ACQUIRE);
  return s->seen == s->expect || s->seen >= pt.last;
}

static void pt_play(int me) {
  pt_side_t s;

  for (s.expect = (unsigned long) me;; s.expect += 2) {
    if (uvev_wait_sync(&pt.ev[me], pt_pred, &s) != 0)
      bench_fail("pingpong_threads: uvev_wait_sync");
    if (me == 0 && s.seen == pt.start)
      pt.t0 = uv_hrtime();
    if (s.seen >= pt.last)
      break;
    /* Release: pairs with the acquire load in pt_pred (the other thread). */
    __atomic_store_n(&pt.ball, s.seen + 1, __ATOMIC_RELEASE);
    uvev_notify_one(&pt.ev[!me]);
  }
  if (me == 0)
    pt.t1 = uv_hrtime();
}

static void pt_thread_1(void* arg) {
  (void) arg;
  pt_play(1);
}

static double ours_pingpong_threads(const bench_args_t* a,
                                    bench_stats_t* stats) {
  uv_thread_t t;

  (void) stats;
  memset(&pt, 0, sizeof(pt));
  pt.start = 2 * a->warmup;
  pt.last = 2 * (a->warmup + a->n);
  if (uvev_event_init(&pt.ev[0]) != 0 || uvev_event_init(&pt.ev[1]) != 0)
    bench_fail("pingpong_threads: init");
  if (uv_thread_create(&t, pt_thread_1, NULL) != 0)
    bench_fail("pingpong_threads: thread");
  pt_play(0);
  uv_thread_join(&t);
  if (uvev_event_destroy(&pt.ev[0]) != 0 ||
      uvev_event_destroy(&pt.ev[1]) != 0)
    bench_fail("pingpong_threads: event still busy");
  /* Relaxed: pairs with nothing; uv_thread_join ordered the last store. */
  if (__atomic_load_n(&pt.ball, __ATOMIC_RELAXED) != pt.last)
    bench_fail("pingpong_threads: the rally ended early");
  return (double) (pt.t1 - pt.t0) / 1e3 / (double) a->n;
}

void bench_pingpong_threads(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_row_t* r;

  a.n = bench_size(20000, 20);
  a.warmup = bench_size(500, 2);
  r = bench_row(m->name, "", m->unit);
  r->ours_label = "two threads, uvev_wait_sync + uvev_notify_one";
  r->base_label = "two threads, pthread mutex + a condvar each";
  bench_compare(r, ours_pingpong_threads, base_pingpong_condvar, &a,
                bench_cfg.reps);
  bench_goal(r, &m->goal, r->ratio);
}
