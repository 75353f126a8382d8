/* test_any.c: any-of waits, on loops (uvev_wait_any) and threads
 * (uvev_wait_sync_any): true at start, true on another entry's event, the
 * order of the checks, at most one predicate succeeding, the hand-off by a
 * loser, cancel, timeout, waker close, FIFO per event, the deadline heap,
 * event destroy, an exactly-once token stream with two notifier threads,
 * and every misuse.
 */
#include <sched.h>
#include <string.h>

#include "helpers.h"

enum { NEV = 3 };

/* One source per entry: a token pool and a count of predicate calls. */
typedef struct {
  tokens_t tokens;
  int calls;  /* atomic: the blocking tests read it from another thread */
} src_t;

/* Counts the call once it is over: a count of 2 means the second call has
 * returned. */
static int src_take(void* arg) {
  src_t* s = (src_t*) arg;
  int took;

  took = tokens_take(&s->tokens);
  __atomic_add_fetch(&s->calls, 1, __ATOMIC_RELEASE);
  return took;
}

static int src_calls(src_t* s) {
  return __atomic_load_n(&s->calls, __ATOMIC_ACQUIRE);
}

static struct {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_waker_t other;     /* a second waker on the same loop */
  uvev_event_t ev[NEV];
  src_t src[NEV];
  uvev_any_t any[NEV];
  waiter_t r;             /* the any-of request */
  waiter_t w;             /* a single wait behind it */
  tokens_t wtokens;       /* w's own pool, when it has one */
  int seq;
  int destroy_in_cb;      /* r's callback destroys the events */
  int destroyed[NEV];
} ay;

static void any_setup(void) {
  int i;

  memset(&ay, 0, sizeof(ay));
  ck_assert_int_eq(uv_loop_init(&ay.loop), 0);
  ck_assert_int_eq(uvev_waker_init(&ay.loop, &ay.waker), 0);
  for (i = 0; i < NEV; i++) {
    ck_assert_int_eq(uvev_event_init(&ay.ev[i]), 0);
    ay.any[i].event = &ay.ev[i];
    ay.any[i].pred = src_take;
    ay.any[i].arg = &ay.src[i];
  }
  ay.r.seq = &ay.seq;
  ay.w.seq = &ay.seq;
}

static void any_teardown(void) {
  int i;

  for (i = 0; i < NEV; i++)
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 0);
  uvev_waker_close(&ay.waker, NULL);
  run_loop(&ay.loop, WATCHDOG_MS);
  close_loop(&ay.loop);
  for (i = 0; i < NEV; i++)
    if (!ay.destroyed[i])
      ck_assert_int_eq(uvev_event_destroy(&ay.ev[i]), 0);
}

static void r_cb(uvev_wait_t* req, int status) {
  int i;

  waiter_cb(req, status);
  if (!ay.destroy_in_cb)
    return;
  /* Done with the events: each may be destroyed at once. */
  for (i = 0; i < NEV; i++) {
    ck_assert_int_eq(uvev_event_destroy(&ay.ev[i]), 0);
    ay.destroyed[i] = 1;
  }
}

/* One turn of the loop at a time (the pending waits keep it alive) until
 * done(arg); dies after the watchdog bound. */
static void run_until_fn(int (*done)(void* arg, int n), void* arg, int n,
                         const char* what) {
  uint64_t start = uv_hrtime();

  while (!done(arg, n)) {
    if (uv_hrtime() - start > (uint64_t) WATCHDOG_MS * 1000000)
      die("any: %s never came", what);
    uv_run(&ay.loop, UV_RUN_ONCE);
  }
}

static int count_reached(void* arg, int n) {
  return *(int*) arg >= n;
}

static int linked_is(void* arg, int n) {
  return waiters_linked((uvev_event_t*) arg) == (unsigned) n;
}

static void run_until(int* flag) {
  run_until_fn(count_reached, flag, 1, "the awaited callback");
}

static void run_until_count(int* count, int n) {
  run_until_fn(count_reached, count, n, "the awaited callback count");
}

static void run_until_linked(uvev_event_t* ev, unsigned n) {
  run_until_fn(linked_is, ev, (int) n, "the awaited number of waiters");
}

/* A waiter that must have been handed a notification (its token is
 * there): a few turns of the loop deliver it, since the hand-off only
 * queued it on this loop. Fails at once if it was not woken: nothing else
 * would wake it (it is untimed), so the test does not wait for a watchdog. */
static void expect_handed_on(waiter_t* w) {
  int turns;

  for (turns = 0; turns < 100 && w->calls == 0; turns++)
    uv_run(&ay.loop, UV_RUN_NOWAIT);
  ck_assert_msg(w->calls == 1, "the notification was not handed on");
  ck_assert_int_eq(w->status, 0);
}

/* Entries 1 and 2 hold at the start: the check stops at 1, so 2's
 * predicate never runs and its token stays. Never called back inside the
 * start. */
START_TEST(test_any_true_at_start) {
  any_setup();
  tokens_add(&ay.src[1].tokens, 1);
  tokens_add(&ay.src[2].tokens, 1);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, NEV, r_cb), 0);
  ck_assert_int_eq(ay.r.calls, 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), 0);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.r.status, 1);
  ck_assert_int_eq(ay.src[0].calls, 1);
  ck_assert_int_eq(ay.src[1].calls, 1);
  ck_assert_int_eq(ay.src[2].calls, 0);
  ck_assert_int_eq(ay.src[1].tokens.count, 0);
  ck_assert_int_eq(ay.src[2].tokens.count, 1);
  /* A timeout of 0 with nothing true: UV_ETIMEDOUT, all checked once. */
  tokens_take(&ay.src[2].tokens);
  ck_assert_int_eq(uvev_wait_any_timeout(&ay.waker, &ay.r.req, ay.any, NEV,
                                         r_cb, 0), 0);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 2);
  ck_assert_int_eq(ay.r.status, UV_ETIMEDOUT);
  ck_assert_int_eq(ay.src[2].calls, 1);
  any_teardown();
}
END_TEST

/* Nothing holds at first; a notification of entry 2's event, whose state
 * came true, completes it with 2. Then the state of entry 1 comes true
 * while entry 0's event is notified (its state still false): the check
 * after that notification finds entry 1. Destroy refuses while a wait is
 * pending, and succeeds from its callback. */
START_TEST(test_any_notified) {
  int i;

  any_setup();
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, NEV, r_cb), 0);
  tokens_add(&ay.src[1].tokens, 1);
  uvev_notify_one(&ay.ev[0]);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.r.status, 1);
  ck_assert_int_eq(ay.src[1].tokens.count, 0);
  ck_assert_int_eq(ay.src[2].calls, 2);
  for (i = 0; i < NEV; i++) {
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 0);
    ay.src[i].calls = 0;
  }
  ay.r.calls = 0;

  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, NEV, r_cb), 0);
  for (i = 0; i < NEV; i++) {
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 1);
    ck_assert_int_eq(ay.src[i].calls, 2);  /* checked, registered, again */
    ck_assert_int_eq(uvev_event_destroy(&ay.ev[i]), UV_EBUSY);
  }
  tokens_add(&ay.src[2].tokens, 1);
  uvev_notify_one(&ay.ev[2]);
  ck_assert_uint_eq(waiters_linked(&ay.ev[2]), 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), 1);
  ay.destroy_in_cb = 1;
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.r.status, 2);
  ck_assert_int_eq(ay.src[2].tokens.count, 0);
  for (i = 0; i < NEV; i++)
    ck_assert_int_eq(ay.destroyed[i], 1);
  uvev_waker_close(&ay.waker, NULL);
  run_loop(&ay.loop, WATCHDOG_MS);
  close_loop(&ay.loop);
}
END_TEST

/* A notification that finds its entry false (spurious) re-registers that
 * entry only: on the other event the request keeps its place ahead of a
 * later waiter (FIFO per event). */
START_TEST(test_any_keeps_place) {
  any_setup();
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, 2, r_cb), 0);
  ay.w.req.data = &ay.src[0].tokens;
  ck_assert_int_eq(uvev_wait(&ay.waker, &ay.w.req, &ay.ev[0], take_token,
                             waiter_cb), 0);
  uvev_notify_one(&ay.ev[1]);  /* nothing there */
  ck_assert_uint_eq(waiters_linked(&ay.ev[1]), 0);
  run_until_linked(&ay.ev[1], 1);  /* drained, false, registered again */
  ck_assert_int_eq(ay.r.calls, 0);
  ck_assert_ptr_eq(ay.ev[0].ws.head, &ay.any[0].node);
  tokens_add(&ay.src[0].tokens, 1);
  uvev_notify_one(&ay.ev[0]);
  run_until(&ay.r.calls);
  ck_assert_int_eq(ay.r.status, 0);
  ck_assert_int_eq(ay.w.calls, 0);
  tokens_add(&ay.src[0].tokens, 1);
  uvev_notify_one(&ay.ev[0]);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.w.calls, 1);
  ck_assert_int_eq(ay.w.status, 0);
  ck_assert_int_eq(ay.w.order, 1);
  any_teardown();
}
END_TEST

/* The hand-off by a loser: both of the request's nodes are notified before
 * it drains; entry 0 wins, and entry 1's notification must reach the
 * waiter behind it on event 1, whose token is there. */
START_TEST(test_any_loser_hands_on) {
  any_setup();
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, 2, r_cb), 0);
  ay.w.req.data = &ay.src[1].tokens;
  ck_assert_int_eq(uvev_wait(&ay.waker, &ay.w.req, &ay.ev[1], take_token,
                             waiter_cb), 0);
  tokens_add(&ay.src[0].tokens, 1);
  tokens_add(&ay.src[1].tokens, 1);
  uvev_notify_one(&ay.ev[1]);  /* the request is first on both events */
  uvev_notify_one(&ay.ev[0]);
  ck_assert_uint_eq(waiters_linked(&ay.ev[1]), 1);  /* w, not notified */
  run_until(&ay.r.calls);
  ck_assert_int_eq(ay.r.status, 0);
  ck_assert_int_eq(ay.src[1].calls, 2);  /* never run after the start */
  expect_handed_on(&ay.w);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.w.calls, 1);
  ck_assert_int_eq(ay.src[1].tokens.count, 0);
  any_teardown();
}
END_TEST

/* A cancel after a notification, before the drain: UV_ECANCELED, and the
 * notification goes to the next waiter on that event. */
START_TEST(test_any_cancel) {
  any_setup();
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, NEV, r_cb), 0);
  ay.w.req.data = &ay.src[2].tokens;
  ck_assert_int_eq(uvev_wait(&ay.waker, &ay.w.req, &ay.ev[2], take_token,
                             waiter_cb), 0);
  tokens_add(&ay.src[2].tokens, 1);
  uvev_notify_one(&ay.ev[2]);
  ck_assert_int_eq(uvev_wait_cancel(&ay.r.req), 0);
  ck_assert_int_eq(uvev_wait_cancel(&ay.r.req), 0);  /* decided: kept */
  run_until(&ay.r.calls);
  ck_assert_int_eq(ay.r.status, UV_ECANCELED);
  ck_assert_int_eq(ay.src[2].calls, 2);
  expect_handed_on(&ay.w);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.src[2].tokens.count, 0);
  ck_assert_int_eq(uvev_wait_cancel(&ay.r.req), UV_EINVAL);
  /* Cancel with nothing notified; and cancel after success keeps the
   * index. */
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, NEV, r_cb), 0);
  ck_assert_int_eq(uvev_wait_cancel(&ay.r.req), 0);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.status, UV_ECANCELED);
  tokens_add(&ay.src[1].tokens, 1);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, NEV, r_cb), 0);
  ck_assert_int_eq(uvev_wait_cancel(&ay.r.req), 0);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 3);
  ck_assert_int_eq(ay.r.status, 1);
  ck_assert_int_eq(ay.src[1].tokens.count, 0);
  any_teardown();
}
END_TEST

/* Timeouts: nothing comes (UV_ETIMEDOUT, every node out); a notification
 * that raced in before the deadline's check is used by it; one whose entry
 * is still false at the deadline is handed on. The racing timer is due at
 * the same time and started first, so it runs first in the same timer phase,
 * before the loop drains the notification. */
static int race_mode;

static void race_timer_cb(uv_timer_t* t) {
  uv_close((uv_handle_t*) t, NULL);
  if (race_mode == 0)
    tokens_add(&ay.src[1].tokens, 1);  /* r's entry 1 */
  else
    tokens_add(&ay.wtokens, 1);        /* w's own pool */
  uvev_notify_one(&ay.ev[1]);
  ck_assert_uint_eq(waiters_linked(&ay.ev[1]), 1);  /* w, behind r */
}

START_TEST(test_any_timeout) {
  uv_timer_t t;
  int i;

  any_setup();
  ck_assert_int_eq(uvev_wait_any_timeout(&ay.waker, &ay.r.req, ay.any, NEV,
                                         r_cb, 10), 0);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.status, UV_ETIMEDOUT);
  for (i = 0; i < NEV; i++) {
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 0);
    ck_assert_int_eq(ay.src[i].calls, 3);  /* start, registered, deadline */
  }
  ay.r.calls = 0;

  for (race_mode = 0; race_mode < 2; race_mode++) {
    ck_assert_int_eq(uv_timer_init(&ay.loop, &t), 0);
    ck_assert_int_eq(uv_timer_start(&t, race_timer_cb, 20, 0), 0);
    ck_assert_int_eq(uvev_wait_any_timeout(&ay.waker, &ay.r.req, ay.any, NEV,
                                           r_cb, 20), 0);
    ay.w.req.data = &ay.wtokens;
    ck_assert_int_eq(uvev_wait(&ay.waker, &ay.w.req, &ay.ev[1], take_token,
                               waiter_cb), 0);
    if (race_mode == 0) {
      /* The deadline's check took entry 1's token: w is not woken. */
      run_until(&ay.r.calls);
      ck_assert_int_eq(ay.r.status, 1);
      ck_assert_int_eq(ay.src[1].tokens.count, 0);
      ck_assert_ptr_eq(ay.ev[1].ws.head, &ay.w.req.node);
      ck_assert_int_eq(uvev_wait_cancel(&ay.w.req), 0);
      run_loop(&ay.loop, WATCHDOG_MS);
      ck_assert_int_eq(ay.w.status, UV_ECANCELED);
      ay.r.calls = 0;
      ay.w.calls = 0;
    } else {
      /* Entry 1 is still false: handed on, w takes its token. */
      run_until(&ay.r.calls);
      ck_assert_int_eq(ay.r.status, UV_ETIMEDOUT);
      expect_handed_on(&ay.w);
      run_loop(&ay.loop, WATCHDOG_MS);
      ck_assert_int_eq(ay.wtokens.count, 0);
    }
  }
  any_teardown();
}
END_TEST

/* The waker closes while the request is notified and not yet drained:
 * UV_ECANCELED, and the notification is handed on to a waiter of another
 * waker on the event. And a close with nothing notified. */
static void close_idle_cb(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  tokens_add(&ay.src[0].tokens, 1);
  uvev_notify_one(&ay.ev[0]);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), 1);
  uvev_waker_close(&ay.other, NULL);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[1]), 0);
}

START_TEST(test_any_waker_close) {
  uv_idle_t idle;
  waiter_t quiet;

  any_setup();
  memset(&quiet, 0, sizeof(quiet));
  ck_assert_int_eq(uvev_waker_init(&ay.loop, &ay.other), 0);
  ck_assert_int_eq(uvev_wait_any(&ay.other, &ay.r.req, ay.any, 2, r_cb), 0);
  ck_assert_int_eq(uvev_wait_any(&ay.other, &quiet.req, ay.any + 2, 1,
                                 waiter_cb), 0);
  ay.w.req.data = &ay.src[0].tokens;
  ck_assert_int_eq(uvev_wait(&ay.waker, &ay.w.req, &ay.ev[0], take_token,
                             waiter_cb), 0);
  ck_assert_int_eq(uv_idle_init(&ay.loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, close_idle_cb), 0);
  run_until(&ay.r.calls);
  expect_handed_on(&ay.w);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.r.status, UV_ECANCELED);
  ck_assert_int_eq(quiet.calls, 1);
  ck_assert_int_eq(quiet.status, UV_ECANCELED);
  ck_assert_int_eq(ay.w.calls, 1);
  ck_assert_int_eq(ay.src[0].tokens.count, 0);
  /* Refused on a closed waker, changing nothing. */
  ck_assert_int_eq(uvev_wait_any(&ay.other, &ay.r.req, ay.any, 2, r_cb),
                   UV_EINVAL);
  ck_assert_int_eq(ay.r.calls, 1);
  any_teardown();
}
END_TEST

/* The same event in two entries; and a callback that starts the request
 * again with the same array, once per token. */
static int restarts;

static void restart_cb(uvev_wait_t* req, int status) {
  waiter_cb(req, status);
  ck_assert_int_eq(status, 1);
  if (--restarts > 0)
    ck_assert_int_eq(uvev_wait_any(&ay.waker, req, ay.any, 2, restart_cb), 0);
}

START_TEST(test_any_same_event_restart) {
  int k;

  any_setup();
  ay.any[0].pred = never;
  ay.any[1].event = &ay.ev[0];
  ay.any[1].arg = &ay.src[0];
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, 2, r_cb), 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), 2);
  ck_assert_int_eq(uvev_event_destroy(&ay.ev[0]), UV_EBUSY);
  tokens_add(&ay.src[0].tokens, 1);
  uvev_notify_one(&ay.ev[0]);  /* entry 0's node, whose predicate is false */
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 1);
  ck_assert_int_eq(ay.r.status, 1);

  restarts = 5;
  ay.r.calls = 0;
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, 2,
                                 restart_cb), 0);
  for (k = 0; k < 5; k++) {
    ck_assert_uint_eq(waiters_linked(&ay.ev[0]), 2);
    tokens_add(&ay.src[0].tokens, 1);
    uvev_notify_all(&ay.ev[0]);
    run_until_count(&ay.r.calls, k + 1);
  }
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.r.calls, 5);
  ck_assert_int_eq(ay.src[0].tokens.count, 0);
  any_teardown();
}
END_TEST

/* The deadline heap: any-of and single timed waits end in deadline order,
 * and one that completes early leaves the heap. */
START_TEST(test_any_deadlines) {
  waiter_t t[4];
  uvev_any_t a[4][2];
  static const uint64_t ms[4] = {60, 20, 40, 30};
  int i;

  any_setup();
  memset(t, 0, sizeof(t));
  for (i = 0; i < 4; i++) {
    t[i].seq = &ay.seq;
    a[i][0] = ay.any[0];
    a[i][1] = ay.any[1];
    ck_assert_int_eq(uvev_wait_any_timeout(&ay.waker, &t[i].req, a[i], 2,
                                           waiter_cb, ms[i]), 0);
  }
  ay.w.req.data = &ay.src[2];
  ck_assert_int_eq(uvev_wait_timeout(&ay.waker, &ay.w.req, &ay.ev[2],
                                     src_take, waiter_cb, 50), 0);
  /* t[0], first in line on event 1 and with the latest deadline, completes
   * at once on a token for its entry 1, and leaves the heap. */
  tokens_add(&ay.src[1].tokens, 1);
  uvev_notify_one(&ay.ev[1]);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(t[0].calls, 1);
  ck_assert_int_eq(t[0].status, 1);
  ck_assert_int_eq(t[0].order, 0);
  ck_assert_int_eq(t[1].status, UV_ETIMEDOUT);
  ck_assert_int_eq(t[1].order, 1);
  ck_assert_int_eq(t[3].status, UV_ETIMEDOUT);
  ck_assert_int_eq(t[3].order, 2);
  ck_assert_int_eq(t[2].status, UV_ETIMEDOUT);
  ck_assert_int_eq(t[2].order, 3);
  ck_assert_int_eq(ay.w.status, UV_ETIMEDOUT);
  ck_assert_int_eq(ay.w.order, 4);
  any_teardown();
}
END_TEST

/* ---- blocking ------------------------------------------------------------ */

typedef struct {
  uv_thread_t tid;
  uvev_any_t* any;
  size_t n;
  uint64_t timeout_ms;
  int result;
  int done;  /* atomic */
} sync_waiter_t;

static void sync_waiter_main(void* arg) {
  sync_waiter_t* s = (sync_waiter_t*) arg;

  s->result = uvev_wait_sync_any_timeout(s->any, s->n, s->timeout_ms);
  __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
}

static void sync_waiter_start(sync_waiter_t* s, uvev_any_t* any, size_t n,
                              uint64_t timeout_ms) {
  memset(s, 0, sizeof(*s));
  s->any = any;
  s->n = n;
  s->timeout_ms = timeout_ms;
  ck_assert_int_eq(uv_thread_create(&s->tid, sync_waiter_main, s), 0);
}

START_TEST(test_any_sync) {
  sync_waiter_t s;
  int i;

  any_setup();
  tokens_add(&ay.src[2].tokens, 1);
  tokens_add(&ay.src[1].tokens, 1);
  ck_assert_int_eq(uvev_wait_sync_any(ay.any, NEV), 1);
  ck_assert_int_eq(src_calls(&ay.src[2]), 0);
  ck_assert_int_eq(uvev_wait_sync_any_timeout(ay.any, NEV, 0), 2);
  ck_assert_int_eq(uvev_wait_sync_any_timeout(ay.any, NEV, 0), UV_ETIMEDOUT);
  ck_assert_int_eq(uvev_wait_sync_any_timeout(ay.any, NEV, 10),
                   UV_ETIMEDOUT);
  for (i = 0; i < NEV; i++)
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 0);

  /* Blocked on all three; entry 2's event notified from here. */
  sync_waiter_start(&s, ay.any, NEV, WATCHDOG_MS);
  await_linked(&ay.ev[2], 1);
  await_linked(&ay.ev[0], 1);
  tokens_add(&ay.src[2].tokens, 1);
  uvev_notify_one(&ay.ev[2]);
  ck_assert_int_eq(uv_thread_join(&s.tid), 0);
  ck_assert_int_eq(s.result, 2);
  for (i = 0; i < NEV; i++) {
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 0);
    ck_assert_int_eq(uvev_event_destroy(&ay.ev[i]), 0);
    ck_assert_int_eq(uvev_event_init(&ay.ev[i]), 0);
  }
  any_teardown();
}
END_TEST

/* The hand-off by a blocking loser. The thread waits on events 0 and 1 and
 * has run its check after registering (its predicates were called twice
 * each) before anything is there; a loop waiter registers behind it on
 * event 1. Both tokens are added, then event 1 is notified, then event 0:
 * whenever the thread checks next, entry 0 holds and wins, and entry 1 was
 * notified and lost, so its notification must reach the loop waiter. */
START_TEST(test_any_sync_loser_hands_on) {
  sync_waiter_t s;

  any_setup();
  sync_waiter_start(&s, ay.any, 2, WATCHDOG_MS);
  while (src_calls(&ay.src[1]) < 2)
    uv_sleep(0);
  ay.w.req.data = &ay.src[1].tokens;
  ck_assert_int_eq(uvev_wait(&ay.waker, &ay.w.req, &ay.ev[1], take_token,
                             waiter_cb), 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[1]), 2);
  tokens_add(&ay.src[0].tokens, 1);
  tokens_add(&ay.src[1].tokens, 1);
  uvev_notify_one(&ay.ev[1]);
  uvev_notify_one(&ay.ev[0]);
  ck_assert_int_eq(uv_thread_join(&s.tid), 0);
  ck_assert_int_eq(s.result, 0);
  expect_handed_on(&ay.w);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(ay.src[1].tokens.count, 0);
  any_teardown();
}
END_TEST

/* ---- an exactly-once stream ----------------------------------------------
 *
 * Two notifier threads, one per event, each adds `per` tokens to its pool
 * one at a time and notifies one waiter. Two loop any-of requests on two
 * loop threads and two blocking any-of threads take tokens over both
 * events, plus a stop event; a single blocking waiter on event 0 competes
 * too. The one that takes the last token raises the stop flag. Every token
 * is taken once: the counts of all the takers add up exactly. Requests
 * notified by both events on two threads at once are the case this is
 * for. */
enum { STREAM_LOOPS = 2, STREAM_THREADS = 2 };

static struct {
  uvev_event_t ev[3];
  tokens_t pool[2];
  int stop;
  unsigned long total;
  unsigned long taken;         /* atomic */
  unsigned long by[2];         /* atomic: per event */
  unsigned long per;
} st;

typedef struct {
  uvev_any_t any[3];
  uvev_wait_t req;
  uvev_waker_t* waker;
  unsigned long mine;
} st_taker_t;

static int st_take(void* arg) {
  tokens_t* pool = (tokens_t*) arg;

  if (!tokens_take(pool))
    return 0;
  __atomic_add_fetch(&st.by[pool == &st.pool[1]], 1, __ATOMIC_RELAXED);
  if (__atomic_add_fetch(&st.taken, 1, __ATOMIC_RELAXED) == st.total) {
    flag_set(&st.stop);
    uvev_notify_all(&st.ev[2]);
    uvev_notify_all(&st.ev[0]);  /* the single waiter checks the flag */
  }
  return 1;
}

static void st_taker_init(st_taker_t* t) {
  int i;

  memset(t, 0, sizeof(*t));
  for (i = 0; i < 3; i++) {
    t->any[i].event = &st.ev[i];
    t->any[i].pred = i < 2 ? st_take : flag_is_set;
    t->any[i].arg = i < 2 ? (void*) &st.pool[i] : (void*) &st.stop;
  }
}

/* One token at a time, and the next only once it has been taken, so that
 * every token is taken by a waiter that was woken for it (or that had just
 * registered): the takers are asleep on both events most of the time, and
 * the two notifiers wake the same requests at once. */
static void st_notifier_main(void* arg) {
  int k = (int) (intptr_t) arg;
  uint64_t start;
  unsigned long i;

  for (i = 0; i < st.per; i++) {
    tokens_add(&st.pool[k], 1);
    uvev_notify_one(&st.ev[k]);
    start = uv_hrtime();
    while (__atomic_load_n(&st.pool[k].count, __ATOMIC_ACQUIRE) != 0) {
      if (uv_hrtime() - start > (uint64_t) WATCHDOG_MS * 1000000)
        die("any stream: token %lu of event %d never taken (lost wake-up)",
            i, k);
      sched_yield();
    }
  }
}

static void st_loop_cb(uvev_wait_t* req, int status) {
  st_taker_t* t = (st_taker_t*) req->data;

  CHECK_ON_THREAD(status >= 0 && status <= 2);
  if (status == 2)
    return;
  t->mine++;
  CHECK_ON_THREAD(uvev_wait_any(t->waker, req, t->any, 3, st_loop_cb) == 0);
}

static void st_loop_setup(loop_thread_t* lt) {
  st_taker_t* t = (st_taker_t*) lt->arg;

  t->req.data = t;
  t->waker = &lt->waker;
  CHECK_ON_THREAD(uvev_wait_any(&lt->waker, &t->req, t->any, 3,
                                st_loop_cb) == 0);
}

static void st_thread_main(void* arg) {
  st_taker_t* t = (st_taker_t*) arg;
  int r;

  for (;;) {
    r = uvev_wait_sync_any_timeout(t->any, 3, WATCHDOG_MS);
    CHECK_ON_THREAD(r >= 0 && r <= 2);
    if (r == 2)
      return;
    t->mine++;
  }
}

typedef struct {
  uv_thread_t tid;
  unsigned long mine;
  int took;
} st_single_t;

/* A token, or the stop flag. */
static int st_single_pred(void* arg) {
  st_single_t* s = (st_single_t*) arg;

  s->took = st_take(&st.pool[0]);
  return s->took || flag_is_set(&st.stop);
}

/* A plain blocking waiter on event 0, competing with the any-of waits. */
static void st_single_main(void* arg) {
  st_single_t* s = (st_single_t*) arg;

  for (;;) {
    CHECK_ON_THREAD(uvev_wait_sync_timeout(&st.ev[0], st_single_pred, s,
                                           WATCHDOG_MS) == 0);
    if (!s->took)
      return;
    s->mine++;
  }
}

static void any_stream(unsigned long per) {
  loop_thread_t lt[STREAM_LOOPS];
  st_taker_t lt_taker[STREAM_LOOPS];
  st_taker_t th_taker[STREAM_THREADS];
  uv_thread_t th[STREAM_THREADS];
  uv_thread_t nt[2];
  st_single_t single;
  unsigned long sum;
  int i;

  memset(&st, 0, sizeof(st));
  st.per = per;
  st.total = 2 * per;
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(uvev_event_init(&st.ev[i]), 0);
  for (i = 0; i < STREAM_LOOPS; i++) {
    st_taker_init(&lt_taker[i]);
    loop_thread_start(&lt[i], st_loop_setup, &lt_taker[i], i);
  }
  for (i = 0; i < STREAM_THREADS; i++) {
    st_taker_init(&th_taker[i]);
    ck_assert_int_eq(uv_thread_create(&th[i], st_thread_main, &th_taker[i]),
                     0);
  }
  memset(&single, 0, sizeof(single));
  ck_assert_int_eq(uv_thread_create(&single.tid, st_single_main, &single), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&nt[i], st_notifier_main,
                                      (void*) (intptr_t) i), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_join(&nt[i]), 0);
  sum = 0;
  for (i = 0; i < STREAM_LOOPS; i++) {
    loop_thread_join(&lt[i]);
    sum += lt_taker[i].mine;
  }
  for (i = 0; i < STREAM_THREADS; i++) {
    ck_assert_int_eq(uv_thread_join(&th[i]), 0);
    sum += th_taker[i].mine;
  }
  ck_assert_int_eq(uv_thread_join(&single.tid), 0);
  sum += single.mine;
  ck_assert_uint_eq(sum, st.total);
  ck_assert_uint_eq(st.taken, st.total);
  ck_assert_uint_eq(st.by[0], per);
  ck_assert_uint_eq(st.by[1], per);
  ck_assert_int_eq(st.pool[0].count, 0);
  ck_assert_int_eq(st.pool[1].count, 0);
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(uvev_event_destroy(&st.ev[i]), 0);
}

static double any_scale(void) {
  const char* s = getenv("UVEV_STRESS_SCALE");

  return s != NULL ? atof(s) : 1.0;
}

START_TEST(test_any_stream) {
  unsigned long per = (unsigned long) (50000 * any_scale());

  any_stream(per < 100 ? 100 : per);
}
END_TEST

/* ---- misuse -------------------------------------------------------------- */

START_TEST(test_any_misuse) {
  uvev_any_t many[UVEV_ANY_MAX + 1];
  uvev_any_t bad[2];
  waiter_t busy;
  int i;

  any_setup();
  memset(&busy, 0, sizeof(busy));
  for (i = 0; i <= UVEV_ANY_MAX; i++) {
    many[i].event = &ay.ev[0];
    many[i].pred = never;
    many[i].arg = NULL;
  }
  ck_assert_int_eq(uvev_wait_any(NULL, &ay.r.req, ay.any, 1, r_cb), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, NULL, ay.any, 1, r_cb), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, NULL, 1, r_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, 1, NULL),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, ay.any, 0, r_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, many,
                                 UVEV_ANY_MAX + 1, r_cb), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_any_timeout(&ay.waker, &ay.r.req, many,
                                         UVEV_ANY_MAX + 1, r_cb, 5),
                   UV_EINVAL);
  bad[0] = ay.any[0];
  bad[1] = ay.any[1];
  bad[1].event = NULL;
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, bad, 2, r_cb),
                   UV_EINVAL);
  bad[1] = ay.any[1];
  bad[1].pred = NULL;
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &ay.r.req, bad, 2, r_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_any(NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_any(ay.any, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_any(many, UVEV_ANY_MAX + 1), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_any(bad, 2), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_any_timeout(bad, 2, 5), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_any_timeout(NULL, 1, 5), UV_EINVAL);
  /* Nothing was touched: no predicate ran, no node is linked, the request
   * is not active. */
  for (i = 0; i < NEV; i++) {
    ck_assert_int_eq(ay.src[i].calls, 0);
    ck_assert_uint_eq(waiters_linked(&ay.ev[i]), 0);
  }
  ck_assert_int_eq(uvev_wait_cancel(&ay.r.req), UV_EINVAL);
  /* UVEV_ANY_MAX entries work (the same event in all of them). */
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &busy.req, many, UVEV_ANY_MAX,
                                 waiter_cb), 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), UVEV_ANY_MAX);
  /* Active: UV_EBUSY, also as a single wait, and it stays as it was. */
  ck_assert_int_eq(uvev_wait_any(&ay.waker, &busy.req, ay.any, 2, r_cb),
                   UV_EBUSY);
  ck_assert_int_eq(uvev_wait(&ay.waker, &busy.req, &ay.ev[1], never, r_cb),
                   UV_EBUSY);
  ck_assert_uint_eq(waiters_linked(&ay.ev[1]), 0);
  ck_assert_uint_eq(waiters_linked(&ay.ev[0]), UVEV_ANY_MAX);
  ck_assert_int_eq(uvev_wait_cancel(&busy.req), 0);
  run_loop(&ay.loop, WATCHDOG_MS);
  ck_assert_int_eq(busy.calls, 1);
  ck_assert_int_eq(busy.status, UV_ECANCELED);
  ck_assert_int_eq(ay.r.calls, 0);
  any_teardown();
}
END_TEST

TCase* any_case(void) {
  TCase* tc;

  tc = test_case("any", 0);
  tcase_add_test(tc, test_any_true_at_start);
  tcase_add_test(tc, test_any_notified);
  tcase_add_test(tc, test_any_keeps_place);
  tcase_add_test(tc, test_any_loser_hands_on);
  tcase_add_test(tc, test_any_cancel);
  tcase_add_test(tc, test_any_timeout);
  tcase_add_test(tc, test_any_waker_close);
  tcase_add_test(tc, test_any_same_event_restart);
  tcase_add_test(tc, test_any_deadlines);
  tcase_add_test(tc, test_any_sync);
  tcase_add_test(tc, test_any_sync_loser_hands_on);
  tcase_add_test(tc, test_any_stream);
  tcase_add_test(tc, test_any_misuse);
  return tc;
}
