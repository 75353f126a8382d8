/* test_core.c: the core suite: events, loop waits, blocking waits, wakers.
 *
 * The reference crate's scenarios on loops, timeouts, cancel and its
 * hand-off, mixed loop and thread waiters, waker close, and every misuse of
 * the error table. Each wait is bounded by a watchdog (helpers.h).
 */
#include <string.h>

#include "helpers.h"

/* ---- shared bits ----------------------------------------------------------- */

static int flag_is_set(void* arg) {
  return __atomic_load_n((int*) arg, __ATOMIC_ACQUIRE) != 0;
}

static void flag_set(int* flag) {
  __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

static int never(void* arg) {
  return 0;
}

static int always(void* arg) {
  return 1;
}

static int take_token(void* arg) {
  return tokens_take((tokens_t*) arg);
}

/* A request with a place to record how it ended. */
typedef struct {
  uvev_wait_t req;
  int calls;     /* callback runs */
  int status;
  int order;     /* completion rank, from a shared sequence */
  int* seq;
  counter_t* done;
} waiter_t;

static void waiter_cb(uvev_wait_t* req, int status) {
  waiter_t* w = (waiter_t*) req;

  w->calls++;
  w->status = status;
  if (w->seq != NULL)
    w->order = (*w->seq)++;
  if (w->done != NULL)
    counter_add(w->done, 1);
}

static void fixture_setup(void) {
  wd_arm(300);
}

static void fixture_teardown(void) {
  wd_disarm();
}

/* ---- the reference crate's scenarios --------------------------------------- */

/* smoke: a thread stores a value and notifies; a loop waits for it. */
static int smoke_value;
static int smoke_in_start;

static int smoke_pred(void* arg) {
  return __atomic_load_n(&smoke_value, __ATOMIC_RELAXED) != 0;
}

static void smoke_cb(uvev_wait_t* req, int status) {
  ck_assert_int_eq(smoke_in_start, 0);
  ck_assert_int_eq(status, 0);
  ck_assert_int_eq(__atomic_load_n(&smoke_value, __ATOMIC_RELAXED), 42);
  *(int*) req->data += 1;
}

static void smoke_producer(void* arg) {
  await_linked(arg, 1);
  __atomic_store_n(&smoke_value, 42, __ATOMIC_RELAXED);
  uvev_notify_one(arg);
}

START_TEST(test_smoke) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  uvev_wait_t req;
  uv_thread_t tid;
  int calls;

  memset(&req, 0, sizeof(req));
  smoke_value = 0;
  calls = 0;
  req.data = &calls;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  smoke_in_start = 1;
  ck_assert_int_eq(uvev_wait(&waker, &req, &ev, smoke_pred, smoke_cb), 0);
  smoke_in_start = 0;
  ck_assert_int_eq(uv_thread_create(&tid, smoke_producer, &ev), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(calls, 1);
  ck_assert_int_eq(uv_thread_join(&tid), 0);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* A wait whose predicate already holds completes from the loop, never from
 * inside uvev_wait(). */
START_TEST(test_immediate) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t w;

  memset(&w, 0, sizeof(w));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, always, waiter_cb), 0);
  ck_assert_int_eq(w.calls, 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.status, 0);
  /* Reusable as it is, once called back. */
  ck_assert_int_eq(uvev_wait_timeout(&waker, &w.req, &ev, never, waiter_cb, 0),
                   0);
  ck_assert_int_eq(w.calls, 1);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(w.calls, 2);
  ck_assert_int_eq(w.status, UV_ETIMEDOUT);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* one-to-many: 4 waits on 4 loops in 4 threads; notify_one wakes exactly one,
 * then notify(3) wakes the rest. */
static struct {
  uvev_event_t ev;
  int flag;
  counter_t registered;
  counter_t done;
  waiter_t w[4];
} otm;

static void otm_setup(loop_thread_t* lt) {
  waiter_t* w = &otm.w[lt->index];

  w->done = &otm.done;
  w->req.data = &otm.flag;
  CHECK_ON_THREAD(uvev_wait(&lt->waker, &w->req, &otm.ev, flag_is_set,
                            waiter_cb) == 0);
  counter_add(&otm.registered, 1);
}

START_TEST(test_one_to_many) {
  loop_thread_t lt[4];
  int i;

  memset(&otm, 0, sizeof(otm));
  ck_assert_int_eq(uvev_event_init(&otm.ev), 0);
  counter_init(&otm.registered);
  counter_init(&otm.done);
  for (i = 0; i < 4; i++)
    loop_thread_start(&lt[i], otm_setup, NULL, i);
  wait_until_count(&otm.registered, 4);
  ck_assert_uint_eq(waiters_linked(&otm.ev), 4);

  flag_set(&otm.flag);
  uvev_notify_one(&otm.ev);
  ck_assert_uint_eq(waiters_linked(&otm.ev), 3);
  wait_until_count(&otm.done, 1);

  uvev_notify(&otm.ev, 3);
  ck_assert_uint_eq(waiters_linked(&otm.ev), 0);
  wait_until_count(&otm.done, 4);
  for (i = 0; i < 4; i++)
    loop_thread_join(&lt[i]);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(otm.w[i].calls, 1);
    ck_assert_int_eq(otm.w[i].status, 0);
  }
  ck_assert_uint_eq(counter_get(&otm.done), 4);
  counter_destroy(&otm.registered);
  counter_destroy(&otm.done);
  ck_assert_int_eq(uvev_event_destroy(&otm.ev), 0);
}
END_TEST

/* many-to-many: 4 token consumers over 2 loops; 4 notifier threads each add
 * one token and notify_one. Every token is taken exactly once. Many rounds. */
static struct {
  uvev_event_t ev;
  tokens_t tokens;
  counter_t done;
  waiter_t w[4];
} mtm;

static void mtm_setup(loop_thread_t* lt) {
  int i;

  for (i = 0; i < 2; i++) {
    waiter_t* w = &mtm.w[lt->index * 2 + i];
    w->done = &mtm.done;
    w->req.data = &mtm.tokens;
    CHECK_ON_THREAD(uvev_wait(&lt->waker, &w->req, &mtm.ev, take_token,
                              waiter_cb) == 0);
  }
}

static void mtm_notifier(void* arg) {
  tokens_add(&mtm.tokens, 1);
  uvev_notify_one(&mtm.ev);
}

START_TEST(test_many_to_many) {
  loop_thread_t lt[2];
  uv_thread_t nt[4];
  int round;
  int i;

  for (round = 0; round < 200; round++) {
    memset(&mtm, 0, sizeof(mtm));
    ck_assert_int_eq(uvev_event_init(&mtm.ev), 0);
    counter_init(&mtm.done);
    for (i = 0; i < 2; i++)
      loop_thread_start(&lt[i], mtm_setup, NULL, i);
    for (i = 0; i < 4; i++)
      ck_assert_int_eq(uv_thread_create(&nt[i], mtm_notifier, NULL), 0);
    wait_until_count(&mtm.done, 4);
    for (i = 0; i < 4; i++)
      ck_assert_int_eq(uv_thread_join(&nt[i]), 0);
    for (i = 0; i < 2; i++)
      loop_thread_join(&lt[i]);
    for (i = 0; i < 4; i++) {
      ck_assert_int_eq(mtm.w[i].calls, 1);
      ck_assert_int_eq(mtm.w[i].status, 0);
    }
    ck_assert_int_eq(mtm.tokens.count, 0);
    counter_destroy(&mtm.done);
    ck_assert_int_eq(uvev_event_destroy(&mtm.ev), 0);
  }
}
END_TEST

/* notify_all wakes every waiter on every loop. */
static struct {
  uvev_event_t ev;
  int flag;
  counter_t registered;
  counter_t done;
  waiter_t w[6];
} nall;

static void nall_setup(loop_thread_t* lt) {
  int i;

  for (i = 0; i < 3; i++) {
    waiter_t* w = &nall.w[lt->index * 3 + i];
    w->done = &nall.done;
    w->req.data = &nall.flag;
    CHECK_ON_THREAD(uvev_wait(&lt->waker, &w->req, &nall.ev, flag_is_set,
                              waiter_cb) == 0);
  }
  counter_add(&nall.registered, 1);
}

START_TEST(test_notify_all) {
  loop_thread_t lt[2];
  int i;

  memset(&nall, 0, sizeof(nall));
  ck_assert_int_eq(uvev_event_init(&nall.ev), 0);
  counter_init(&nall.registered);
  counter_init(&nall.done);
  for (i = 0; i < 2; i++)
    loop_thread_start(&lt[i], nall_setup, NULL, i);
  wait_until_count(&nall.registered, 2);
  ck_assert_uint_eq(waiters_linked(&nall.ev), 6);
  flag_set(&nall.flag);
  uvev_notify_all(&nall.ev);
  ck_assert_uint_eq(waiters_linked(&nall.ev), 0);
  wait_until_count(&nall.done, 6);
  for (i = 0; i < 2; i++)
    loop_thread_join(&lt[i]);
  for (i = 0; i < 6; i++)
    ck_assert_int_eq(nall.w[i].calls, 1);
  counter_destroy(&nall.registered);
  counter_destroy(&nall.done);
  ck_assert_int_eq(uvev_event_destroy(&nall.ev), 0);
}
END_TEST

/* ---- order, and notify on the waiter's own loop ---------------------------- */

static struct {
  uvev_event_t ev;
  tokens_t tokens;
  waiter_t w[3];
  int seq;
  int pred_calls;
  uv_idle_t idle;
  int step;
} fifo;

static int fifo_pred(void* arg) {
  fifo.pred_calls++;
  return tokens_take(&fifo.tokens);
}

/* One step per loop iteration: a token and one notify_one, after the
 * previous waiter has been called back. */
static void fifo_idle(uv_idle_t* idle) {
  int calls_before;
  int done;
  int i;

  done = 0;
  for (i = 0; i < 3; i++)
    done += fifo.w[i].calls;
  if (done < fifo.step)
    return;
  if (fifo.step == 3) {
    uv_close((uv_handle_t*) idle, NULL);
    return;
  }
  /* The oldest remaining waiter is at the head of the list. */
  ck_assert_ptr_eq(fifo.ev.ws.head, &fifo.w[fifo.step].req.node);
  tokens_add(&fifo.tokens, 1);
  calls_before = fifo.pred_calls;
  uvev_notify_one(&fifo.ev);
  /* On the waiter's own loop, notify only queues: no predicate ran, no
   * callback ran. */
  ck_assert_int_eq(fifo.pred_calls, calls_before);
  ck_assert_int_eq(fifo.w[fifo.step].calls, 0);
  fifo.step++;
}

START_TEST(test_fifo_and_own_loop_notify) {
  uv_loop_t loop;
  uvev_waker_t waker;
  int i;

  memset(&fifo, 0, sizeof(fifo));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&fifo.ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (i = 0; i < 3; i++) {
    fifo.w[i].seq = &fifo.seq;
    ck_assert_int_eq(uvev_wait(&waker, &fifo.w[i].req, &fifo.ev, fifo_pred,
                               waiter_cb), 0);
  }
  ck_assert_uint_eq(waiters_linked(&fifo.ev), 3);
  ck_assert_int_eq(uv_idle_init(&loop, &fifo.idle), 0);
  ck_assert_int_eq(uv_idle_start(&fifo.idle, fifo_idle), 0);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(fifo.w[i].calls, 1);
    ck_assert_int_eq(fifo.w[i].status, 0);
    ck_assert_int_eq(fifo.w[i].order, i);
  }
  ck_assert_int_eq(fifo.tokens.count, 0);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&fifo.ev), 0);
}
END_TEST

/* notify(n) wakes n more, and a notification on a false predicate puts the
 * wait back (a spurious wake-up is invisible to the user). */
START_TEST(test_notify_n_and_spurious) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t w[4];
  int flag;
  int i;

  memset(w, 0, sizeof(w));
  flag = 0;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (i = 0; i < 4; i++) {
    w[i].req.data = &flag;
    ck_assert_int_eq(uvev_wait(&waker, &w[i].req, &ev, flag_is_set,
                               waiter_cb), 0);
  }
  uvev_notify(&ev, 0);
  ck_assert_uint_eq(waiters_linked(&ev), 4);
  uvev_notify(&ev, 2);
  ck_assert_uint_eq(waiters_linked(&ev), 2);
  uvev_notify(&ev, 1);
  ck_assert_uint_eq(waiters_linked(&ev), 1);
  /* The three notified waits find the flag clear and go back. */
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_uint_eq(waiters_linked(&ev), 4);
  for (i = 0; i < 4; i++)
    ck_assert_int_eq(w[i].calls, 0);
  flag_set(&flag);
  uvev_notify_all(&ev);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(w[i].calls, 1);
    ck_assert_int_eq(w[i].status, 0);
  }
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* ---- timeouts --------------------------------------------------------------- */

static void set_flag_timer_cb(uv_timer_t* t) {
  flag_set((int*) t->data);
  uv_close((uv_handle_t*) t, NULL);
}

static void set_flag_notify_timer_cb(uv_timer_t* t) {
  void** args = t->data;
  flag_set((int*) args[0]);
  /* All: the oldest waiter of this event is another one. */
  uvev_notify_all((uvev_event_t*) args[1]);
  uv_close((uv_handle_t*) t, NULL);
}

START_TEST(test_timeout) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t expires, last_check, notified;
  uv_timer_t t1, t2;
  int flag_last, flag_notified;
  void* args[2];
  uint64_t start;

  memset(&expires, 0, sizeof(expires));
  memset(&last_check, 0, sizeof(last_check));
  memset(&notified, 0, sizeof(notified));
  flag_last = 0;
  flag_notified = 0;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  uv_update_time(&loop);
  start = uv_now(&loop);

  /* Never true: UV_ETIMEDOUT, not before the deadline. */
  ck_assert_int_eq(uvev_wait_timeout(&waker, &expires.req, &ev, never,
                                     waiter_cb, 30), 0);
  /* Becomes true shortly before the deadline, with no notify: only the last
   * check at the deadline can see it. */
  last_check.req.data = &flag_last;
  ck_assert_int_eq(uvev_wait_timeout(&waker, &last_check.req, &ev,
                                     flag_is_set, waiter_cb, 60), 0);
  ck_assert_int_eq(uv_timer_init(&loop, &t1), 0);
  t1.data = &flag_last;
  ck_assert_int_eq(uv_timer_start(&t1, set_flag_timer_cb, 40, 0), 0);
  /* Becomes true and is notified well before a long deadline. */
  notified.req.data = &flag_notified;
  ck_assert_int_eq(uvev_wait_timeout(&waker, &notified.req, &ev, flag_is_set,
                                     waiter_cb, WATCHDOG_MS * 2), 0);
  args[0] = &flag_notified;
  args[1] = &ev;
  ck_assert_int_eq(uv_timer_init(&loop, &t2), 0);
  t2.data = args;
  ck_assert_int_eq(uv_timer_start(&t2, set_flag_notify_timer_cb, 10, 0), 0);

  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(expires.calls, 1);
  ck_assert_int_eq(expires.status, UV_ETIMEDOUT);
  ck_assert_int_eq(last_check.calls, 1);
  ck_assert_int_eq(last_check.status, 0);
  ck_assert_int_eq(notified.calls, 1);
  ck_assert_int_eq(notified.status, 0);
  /* Nothing ends before its deadline. */
  ck_assert_uint_ge(uv_now(&loop) - start, 60);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* Deadlines expire in order; cancelled ones never expire. A pseudo-random
 * mix exercises the deadline heap. */
static int order_seq;

START_TEST(test_timeout_order) {
  enum { N = 300 };
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  static waiter_t w[N];
  static uint64_t timeout[N];
  unsigned rnd;
  int i, j;

  memset(w, 0, sizeof(w));
  order_seq = 0;
  rnd = 12345;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (i = 0; i < N; i++) {
    rnd = rnd * 1103515245 + 12345;
    timeout[i] = 1 + (rnd >> 16) % 40;
    w[i].seq = &order_seq;
    ck_assert_int_eq(uvev_wait_timeout(&waker, &w[i].req, &ev, never,
                                       waiter_cb, timeout[i]), 0);
  }
  for (i = 0; i < N; i += 3)
    ck_assert_int_eq(uvev_wait_cancel(&w[i].req), 0);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < N; i++) {
    ck_assert_int_eq(w[i].calls, 1);
    if (i % 3 == 0) {
      ck_assert_int_eq(w[i].status, UV_ECANCELED);
      continue;
    }
    ck_assert_int_eq(w[i].status, UV_ETIMEDOUT);
    for (j = 0; j < N; j++) {
      if (j % 3 == 0 || j == i)
        continue;
      /* Earlier deadline, or equal and started first: completes first. */
      if (timeout[j] < timeout[i] || (timeout[j] == timeout[i] && j < i))
        ck_assert_int_lt(w[j].order, w[i].order);
    }
  }
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* ---- hand-off: cancel, timeout and close pass a received notification on --- */

static struct {
  uvev_event_t ev;
  tokens_t tokens;
  int never_flag;
  waiter_t first, second;
  uvev_waker_t other;
  int other_closed;
} ho;

static void handoff_cancel_cb(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  tokens_add(&ho.tokens, 1);
  uvev_notify_one(&ho.ev);
  /* The notification went to the oldest waiter, which has not used it. */
  ck_assert_uint_eq(waiters_linked(&ho.ev), 1);
  ck_assert_int_eq(uvev_wait_cancel(&ho.first.req), 0);
  /* Handed on: the second waiter was woken too. */
  ck_assert_uint_eq(waiters_linked(&ho.ev), 0);
}

static void handoff_setup(uv_loop_t* loop, uvev_waker_t* waker) {
  memset(&ho, 0, sizeof(ho));
  ck_assert_int_eq(uv_loop_init(loop), 0);
  ck_assert_int_eq(uvev_event_init(&ho.ev), 0);
  ck_assert_int_eq(uvev_waker_init(loop, waker), 0);
  ho.first.req.data = &ho.tokens;
  ho.second.req.data = &ho.tokens;
}

static void handoff_check(uv_loop_t* loop, uvev_waker_t* waker,
                          int first_status) {
  run_loop(loop, WATCHDOG_MS);
  ck_assert_int_eq(ho.first.calls, 1);
  ck_assert_int_eq(ho.first.status, first_status);
  ck_assert_int_eq(ho.second.calls, 1);
  ck_assert_int_eq(ho.second.status, 0);
  ck_assert_int_eq(ho.tokens.count, 0);
  uvev_waker_close(waker, NULL);
  run_loop(loop, WATCHDOG_MS);
  close_loop(loop);
  ck_assert_int_eq(uvev_event_destroy(&ho.ev), 0);
}

START_TEST(test_handoff_cancel) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_idle_t idle;

  handoff_setup(&loop, &waker);
  ck_assert_int_eq(uvev_wait(&waker, &ho.first.req, &ho.ev, take_token,
                             waiter_cb), 0);
  ck_assert_int_eq(uvev_wait(&waker, &ho.second.req, &ho.ev, take_token,
                             waiter_cb), 0);
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, handoff_cancel_cb), 0);
  handoff_check(&loop, &waker, UV_ECANCELED);
}
END_TEST

/* The first waiter's deadline comes while it is notified and not yet
 * re-checked: a timer due at the same time but started first runs first in
 * the same timer phase, before the loop drains the notification. */
static void handoff_timeout_cb(uv_timer_t* t) {
  uv_close((uv_handle_t*) t, NULL);
  tokens_add(&ho.tokens, 1);
  uvev_notify_one(&ho.ev);
  ck_assert_uint_eq(waiters_linked(&ho.ev), 1);
}

START_TEST(test_handoff_timeout) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_timer_t t;

  handoff_setup(&loop, &waker);
  ho.first.req.data = &ho.never_flag;
  ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
  ck_assert_int_eq(uv_timer_start(&t, handoff_timeout_cb, 20, 0), 0);
  ck_assert_int_eq(uvev_wait_timeout(&waker, &ho.first.req, &ho.ev,
                                     flag_is_set, waiter_cb, 20), 0);
  ck_assert_int_eq(uvev_wait(&waker, &ho.second.req, &ho.ev, take_token,
                             waiter_cb), 0);
  handoff_check(&loop, &waker, UV_ETIMEDOUT);
}
END_TEST

/* The other way round: the notified waiter's last check at its deadline
 * uses the notification (takes the token), so it is not handed on: the
 * second waiter is not woken for nothing and keeps its place. */
static int counting_take(void* arg) {
  waiter_t* w = arg;
  w->order++;  /* predicate calls */
  return tokens_take(&ho.tokens);
}

START_TEST(test_timeout_uses_notification) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_timer_t t;

  handoff_setup(&loop, &waker);
  ho.first.req.data = &ho.first;
  ho.second.req.data = &ho.second;
  ck_assert_int_eq(uv_timer_init(&loop, &t), 0);
  ck_assert_int_eq(uv_timer_start(&t, handoff_timeout_cb, 20, 0), 0);
  ck_assert_int_eq(uvev_wait_timeout(&waker, &ho.first.req, &ho.ev,
                                     counting_take, waiter_cb, 20), 0);
  ck_assert_int_eq(uvev_wait(&waker, &ho.second.req, &ho.ev, counting_take,
                             waiter_cb), 0);
  ck_assert_int_eq(ho.second.order, 2);  /* checked, registered, re-checked */
  while (ho.first.calls == 0)
    ck_assert_int_ne(uv_run(&loop, UV_RUN_ONCE), 0);
  ck_assert_int_eq(ho.first.status, 0);
  ck_assert_int_eq(ho.tokens.count, 0);
  /* The second waiter was never woken, and is still first in line. */
  ck_assert_int_eq(ho.second.order, 2);
  ck_assert_ptr_eq(ho.ev.ws.head, &ho.second.req.node);
  ck_assert_int_eq(uvev_wait_cancel(&ho.second.req), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(ho.second.status, UV_ECANCELED);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ho.ev), 0);
}
END_TEST

static void handoff_close_cb(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  tokens_add(&ho.tokens, 1);
  uvev_notify_one(&ho.ev);
  ck_assert_uint_eq(waiters_linked(&ho.ev), 1);
  uvev_waker_close(&ho.other, NULL);
  ck_assert_uint_eq(waiters_linked(&ho.ev), 0);
}

START_TEST(test_handoff_close) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_idle_t idle;

  handoff_setup(&loop, &waker);
  ck_assert_int_eq(uvev_waker_init(&loop, &ho.other), 0);
  ck_assert_int_eq(uvev_wait(&ho.other, &ho.first.req, &ho.ev, take_token,
                             waiter_cb), 0);
  ck_assert_int_eq(uvev_wait(&waker, &ho.second.req, &ho.ev, take_token,
                             waiter_cb), 0);
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, handoff_close_cb), 0);
  handoff_check(&loop, &waker, UV_ECANCELED);
}
END_TEST

/* Cancel keeps a status already decided: a predicate that succeeded (and may
 * have consumed) reports 0. */
START_TEST(test_cancel_after_success) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t w;

  memset(&w, 0, sizeof(w));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, always, waiter_cb), 0);
  ck_assert_int_eq(uvev_wait_cancel(&w.req), 0);
  ck_assert_int_eq(uvev_wait_cancel(&w.req), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.status, 0);
  ck_assert_int_eq(uvev_wait_cancel(&w.req), UV_EINVAL);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* ---- blocking waits ---------------------------------------------------------- */

static struct {
  uvev_event_t ev;
  int flag;
  int notify;
} th;

static void th_setter(void* arg) {
  await_linked(&th.ev, 1);
  flag_set(&th.flag);
  if (th.notify)
    uvev_notify_one(&th.ev);
}

START_TEST(test_sync_wait) {
  uv_thread_t tid;
  uint64_t start;

  memset(&th, 0, sizeof(th));
  ck_assert_int_eq(uvev_event_init(&th.ev), 0);

  /* Notified while asleep. */
  th.notify = 1;
  ck_assert_int_eq(uv_thread_create(&tid, th_setter, NULL), 0);
  ck_assert_int_eq(uvev_wait_sync_timeout(&th.ev, flag_is_set, &th.flag,
                                          WATCHDOG_MS), 0);
  ck_assert_int_eq(uv_thread_join(&tid), 0);
  /* Already true: no wait. */
  ck_assert_int_eq(uvev_wait_sync(&th.ev, flag_is_set, &th.flag), 0);
  ck_assert_int_eq(uvev_wait_sync_timeout(&th.ev, flag_is_set, &th.flag, 0),
                   0);

  /* Never true: UV_ETIMEDOUT, not before the deadline; and at once for 0. */
  start = uv_hrtime();
  ck_assert_int_eq(uvev_wait_sync_timeout(&th.ev, never, NULL, 30),
                   UV_ETIMEDOUT);
  ck_assert_uint_ge(uv_hrtime() - start, 30 * 1000000ull);
  ck_assert_int_eq(uvev_wait_sync_timeout(&th.ev, never, NULL, 0),
                   UV_ETIMEDOUT);
  ck_assert_uint_eq(waiters_linked(&th.ev), 0);

  /* True before the deadline but never notified: the last check sees it. */
  th.flag = 0;
  th.notify = 0;
  ck_assert_int_eq(uv_thread_create(&tid, th_setter, NULL), 0);
  ck_assert_int_eq(uvev_wait_sync_timeout(&th.ev, flag_is_set, &th.flag, 100),
                   0);
  ck_assert_int_eq(uv_thread_join(&tid), 0);
  ck_assert_uint_eq(waiters_linked(&th.ev), 0);
  ck_assert_int_eq(uvev_event_destroy(&th.ev), 0);
}
END_TEST

/* Blocking waits consume tokens with notify_one, many rounds. */
static struct {
  uvev_event_t ev;
  tokens_t tokens;
  counter_t done;
} tw;

static void tw_consumer(void* arg) {
  CHECK_ON_THREAD(uvev_wait_sync_timeout(&tw.ev, take_token, &tw.tokens,
                                         WATCHDOG_MS) == 0);
  counter_add(&tw.done, 1);
}

START_TEST(test_sync_tokens) {
  uv_thread_t tid[3];
  int round;
  int i;

  for (round = 0; round < 200; round++) {
    memset(&tw, 0, sizeof(tw));
    ck_assert_int_eq(uvev_event_init(&tw.ev), 0);
    counter_init(&tw.done);
    for (i = 0; i < 3; i++)
      ck_assert_int_eq(uv_thread_create(&tid[i], tw_consumer, NULL), 0);
    for (i = 0; i < 3; i++) {
      tokens_add(&tw.tokens, 1);
      uvev_notify_one(&tw.ev);
    }
    for (i = 0; i < 3; i++)
      ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
    ck_assert_uint_eq(counter_get(&tw.done), 3);
    ck_assert_int_eq(tw.tokens.count, 0);
    counter_destroy(&tw.done);
    ck_assert_int_eq(uvev_event_destroy(&tw.ev), 0);
  }
}
END_TEST

/* One event, loop waiters and blocking thread waiters at once. */
static struct {
  uvev_event_t ev;
  tokens_t tokens;
  counter_t done;
  counter_t registered;
  waiter_t w[4];
} mix;

static void mix_setup(loop_thread_t* lt) {
  int i;

  for (i = 0; i < 2; i++) {
    waiter_t* w = &mix.w[lt->index * 2 + i];
    w->done = &mix.done;
    w->req.data = &mix.tokens;
    CHECK_ON_THREAD(uvev_wait(&lt->waker, &w->req, &mix.ev, take_token,
                              waiter_cb) == 0);
  }
  counter_add(&mix.registered, 2);
}

static void mix_thread(void* arg) {
  CHECK_ON_THREAD(uvev_wait_sync_timeout(&mix.ev, take_token, &mix.tokens,
                                         WATCHDOG_MS) == 0);
  counter_add(&mix.done, 1);
}

START_TEST(test_mixed_waiters) {
  loop_thread_t lt[2];
  uv_thread_t tid[2];
  int i;

  memset(&mix, 0, sizeof(mix));
  ck_assert_int_eq(uvev_event_init(&mix.ev), 0);
  counter_init(&mix.done);
  counter_init(&mix.registered);
  for (i = 0; i < 2; i++)
    loop_thread_start(&lt[i], mix_setup, NULL, i);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&tid[i], mix_thread, NULL), 0);
  wait_until_count(&mix.registered, 4);
  await_linked(&mix.ev, 6);
  for (i = 0; i < 6; i++) {
    tokens_add(&mix.tokens, 1);
    uvev_notify_one(&mix.ev);
  }
  wait_until_count(&mix.done, 6);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
  for (i = 0; i < 2; i++)
    loop_thread_join(&lt[i]);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(mix.w[i].calls, 1);
    ck_assert_int_eq(mix.w[i].status, 0);
  }
  ck_assert_int_eq(mix.tokens.count, 0);
  counter_destroy(&mix.done);
  counter_destroy(&mix.registered);
  ck_assert_int_eq(uvev_event_destroy(&mix.ev), 0);
}
END_TEST

/* ---- wakers: ref, close ------------------------------------------------------ */

START_TEST(test_waker_unref) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t w;

  memset(&w, 0, sizeof(w));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  /* Idle: uv_run returns at once (the watchdog would catch a hang). */
  ck_assert_int_eq(uv_run(&loop, UV_RUN_NOWAIT), 0);
  run_loop(&loop, WATCHDOG_MS);
  /* Pending: the loop stays alive. */
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, never, waiter_cb), 0);
  ck_assert_int_ne(uv_loop_alive(&loop), 0);
  ck_assert_int_eq(uvev_wait_cancel(&w.req), 0);
  /* Decided but not yet called back: still alive. */
  ck_assert_int_ne(uv_loop_alive(&loop), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.status, UV_ECANCELED);
  ck_assert_int_eq(uv_loop_alive(&loop), 0);
  uvev_waker_close(&waker, NULL);
  uvev_waker_close(&waker, NULL);  /* ignored */
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* Close with requests in every state: linked, notified (on the ready list),
 * decided with 0 (queued), timed. All are called back, before close_cb. */
static struct {
  uvev_event_t ev;
  int never_flag;
  waiter_t w[4];
  int seq;
  int close_order;
  uvev_waker_t* waker;
  int closing;
  int late_start_err;
  waiter_t spare;
} cl;

static void cl_waiter_cb(uvev_wait_t* req, int status) {
  waiter_cb(req, status);
  /* A closing waker takes no new request. */
  if (cl.closing)
    cl.late_start_err = uvev_wait(cl.waker, &cl.spare.req, &cl.ev, always,
                                  waiter_cb);
}

static void cl_close_cb(uvev_waker_t* w) {
  cl.close_order = cl.seq++;
}

static void cl_idle(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  uvev_notify_one(&cl.ev);  /* w[0] is notified, not yet re-checked */
  uvev_waker_close(cl.waker, cl_close_cb);
  cl.closing = 1;
  ck_assert_uint_eq(waiters_linked(&cl.ev), 0);
  /* w[2] (satisfied at once) may have been delivered already. */
  ck_assert_int_eq(cl.w[0].calls + cl.w[1].calls + cl.w[3].calls, 0);
}

START_TEST(test_waker_close_pending) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_idle_t idle;
  int i;

  memset(&cl, 0, sizeof(cl));
  cl.waker = &waker;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&cl.ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (i = 0; i < 4; i++) {
    cl.w[i].seq = &cl.seq;
    cl.w[i].req.data = &cl.never_flag;
  }
  ck_assert_int_eq(uvev_wait(&waker, &cl.w[0].req, &cl.ev, flag_is_set,
                             cl_waiter_cb), 0);
  ck_assert_int_eq(uvev_wait(&waker, &cl.w[1].req, &cl.ev, flag_is_set,
                             cl_waiter_cb), 0);
  ck_assert_int_eq(uvev_wait(&waker, &cl.w[2].req, &cl.ev, always,
                             cl_waiter_cb), 0);
  ck_assert_int_eq(uvev_wait_timeout(&waker, &cl.w[3].req, &cl.ev,
                                     flag_is_set, cl_waiter_cb, 60000), 0);
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, cl_idle), 0);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(cl.w[i].calls, 1);
    ck_assert_int_lt(cl.w[i].order, cl.close_order);
  }
  ck_assert_int_eq(cl.w[0].status, UV_ECANCELED);
  ck_assert_int_eq(cl.w[1].status, UV_ECANCELED);
  ck_assert_int_eq(cl.w[2].status, 0);
  ck_assert_int_eq(cl.w[3].status, UV_ECANCELED);
  ck_assert_int_eq(cl.close_order, 4);
  ck_assert_int_eq(cl.late_start_err, UV_EINVAL);
  ck_assert_int_eq(cl.spare.calls, 0);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&cl.ev), 0);
}
END_TEST

/* Close a waker from inside one of its own callbacks, in the middle of a
 * drain: the rest of the batch is cancelled, each called back once. */
static struct {
  uvev_event_t ev;
  int flag;
  waiter_t w[5];
  uvev_waker_t* waker;
  int closed;
} cc;

static void cc_cb(uvev_wait_t* req, int status) {
  waiter_cb(req, status);
  if (req == &cc.w[1].req)
    uvev_waker_close(cc.waker, NULL);
}

static void cc_idle(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  flag_set(&cc.flag);
  uvev_notify_all(&cc.ev);
}

START_TEST(test_waker_close_in_callback) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_idle_t idle;
  int i;

  memset(&cc, 0, sizeof(cc));
  cc.waker = &waker;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&cc.ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (i = 0; i < 5; i++) {
    cc.w[i].req.data = &cc.flag;
    ck_assert_int_eq(uvev_wait(&waker, &cc.w[i].req, &cc.ev, flag_is_set,
                               cc_cb), 0);
  }
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, cc_idle), 0);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < 5; i++)
    ck_assert_int_eq(cc.w[i].calls, 1);
  ck_assert_int_eq(cc.w[0].status, 0);
  ck_assert_int_eq(cc.w[1].status, 0);
  for (i = 2; i < 5; i++)
    ck_assert_int_eq(cc.w[i].status, UV_ECANCELED);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&cc.ev), 0);
}
END_TEST

/* Close before the loop ever runs. */
START_TEST(test_waker_close_not_running) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t w[2];
  int closed;

  memset(w, 0, sizeof(w));
  closed = 0;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  waker.data = &closed;
  ck_assert_int_eq(uvev_wait(&waker, &w[0].req, &ev, never, waiter_cb), 0);
  ck_assert_int_eq(uvev_wait_timeout(&waker, &w[1].req, &ev, never, waiter_cb,
                                     10), 0);
  uvev_waker_close(&waker, NULL);
  ck_assert_int_eq(w[0].calls + w[1].calls, 0);
  ck_assert_int_eq(uvev_event_destroy(&ev), UV_EBUSY);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(w[0].calls, 1);
  ck_assert_int_eq(w[1].calls, 1);
  ck_assert_int_eq(w[0].status, UV_ECANCELED);
  ck_assert_int_eq(w[1].status, UV_ECANCELED);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* Close racing notifier threads: wakers are closed (and freed in close_cb)
 * while other threads notify the events their requests wait on. ASan, TSan
 * and valgrind catch a notifier touching a freed waker. */
static struct {
  uvev_event_t ev[2];
  int stop;
  counter_t started;
} cr;

static void cr_notifier(void* arg) {
  uintptr_t k = (uintptr_t) arg;
  unsigned long i;

  counter_add(&cr.started, 1);
  for (i = 0; !__atomic_load_n(&cr.stop, __ATOMIC_ACQUIRE); i++) {
    if (i % 3 == 0)
      uvev_notify_all(&cr.ev[k]);
    else
      uvev_notify_one(&cr.ev[k]);
  }
}

static void cr_close_cb(uvev_waker_t* w) {
  int* closed = w->data;
  memset(w, 0xdd, sizeof(*w));
  free(w);
  *closed += 1;
}

static void cr_cb(uvev_wait_t* req, int status) {
  CHECK_ON_THREAD(status == UV_ECANCELED);
  *(int*) req->data += 1;
}

static int cr_pred(void* arg) {
  return 0;
}

START_TEST(test_waker_close_race) {
  enum { ROUNDS = 1000, WAITS = 8 };
  uv_thread_t tid[2];
  uv_loop_t loop;
  uvev_waker_t* waker;
  uvev_wait_t req[WAITS];
  int calls;
  int closed;
  int round;
  int i;

  memset(&cr, 0, sizeof(cr));
  counter_init(&cr.started);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uvev_event_init(&cr.ev[i]), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&tid[i], cr_notifier,
                                      (void*) (uintptr_t) i), 0);
  wait_until_count(&cr.started, 2);
  for (round = 0; round < ROUNDS; round++) {
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    waker = malloc(sizeof(*waker));
    ck_assert_ptr_nonnull(waker);
    ck_assert_int_eq(uvev_waker_init(&loop, waker), 0);
    closed = 0;
    waker->data = &closed;
    calls = 0;
    memset(req, 0, sizeof(req));
    for (i = 0; i < WAITS; i++) {
      req[i].data = &calls;
      ck_assert_int_eq(uvev_wait(waker, &req[i], &cr.ev[i % 2], cr_pred,
                                 cr_cb), 0);
    }
    /* Let some notifications through, then close in the middle of them. */
    for (i = 0; i < round % 4; i++)
      uv_run(&loop, UV_RUN_NOWAIT);
    uvev_waker_close(waker, cr_close_cb);
    run_loop(&loop, WATCHDOG_MS);
    ck_assert_int_eq(calls, WAITS);
    ck_assert_int_eq(closed, 1);
    close_loop(&loop);
  }
  __atomic_store_n(&cr.stop, 1, __ATOMIC_RELEASE);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uvev_event_destroy(&cr.ev[i]), 0);
  counter_destroy(&cr.started);
}
END_TEST

/* The event is destroyed (and freed) the moment its last wait ends, while
 * the notifier that woke it may still be inside uvev_notify: on a loop (in
 * the callback) and on a thread (right after uvev_wait_sync returns). ASan
 * and TSan see a notifier touching freed memory. */
typedef struct {
  uvev_event_t ev;
  int flag;
} boxed_event_t;

static int box_flag_is_set(void* arg) {
  return flag_is_set(&((boxed_event_t*) arg)->flag);
}

static void dr_notifier(void* arg) {
  boxed_event_t* b = arg;
  await_linked(&b->ev, 1);
  flag_set(&b->flag);
  uvev_notify_one(&b->ev);
}

static void dr_cb(uvev_wait_t* req, int status) {
  boxed_event_t* b = req->data;
  CHECK_ON_THREAD(status == 0);
  CHECK_ON_THREAD(uvev_event_destroy(&b->ev) == 0);
  memset(b, 0xdd, sizeof(*b));
  free(b);
}

START_TEST(test_destroy_after_last_wait) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_wait_t req;
  uv_thread_t tid;
  boxed_event_t* b;
  int round;

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (round = 0; round < 500; round++) {
    b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(uvev_event_init(&b->ev), 0);
    memset(&req, 0, sizeof(req));
    req.data = b;
    ck_assert_int_eq(uvev_wait(&waker, &req, &b->ev, box_flag_is_set, dr_cb),
                     0);
    ck_assert_int_eq(uv_thread_create(&tid, dr_notifier, b), 0);
    run_loop(&loop, WATCHDOG_MS);
    ck_assert_int_eq(uv_thread_join(&tid), 0);

    b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(uvev_event_init(&b->ev), 0);
    ck_assert_int_eq(uv_thread_create(&tid, dr_notifier, b), 0);
    ck_assert_int_eq(uvev_wait_sync_timeout(&b->ev, flag_is_set, &b->flag,
                                            UINT64_MAX), 0);
    ck_assert_int_eq(uvev_event_destroy(&b->ev), 0);
    memset(b, 0xdd, sizeof(*b));
    ck_assert_int_eq(uv_thread_join(&tid), 0);
    free(b);
  }
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
}
END_TEST

/* ---- misuse: every error of the table, and nothing changes ------------------ */

START_TEST(test_misuse) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_event_t ev;
  waiter_t w;
  waiter_t idle_req;
  int flag;

  memset(&w, 0, sizeof(w));
  memset(&idle_req, 0, sizeof(idle_req));
  flag = 0;
  w.req.data = &flag;
  ck_assert_int_eq(uv_loop_init(&loop), 0);

  ck_assert_int_eq(uvev_event_init(NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_event_destroy(NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_waker_init(NULL, &waker), UV_EINVAL);
  ck_assert_int_eq(uvev_waker_init(&loop, NULL), UV_EINVAL);
  uvev_notify(NULL, 1);
  uvev_notify_one(NULL);
  uvev_notify_all(NULL);
  uvev_waker_close(NULL, NULL);
  ck_assert_int_eq(uvev_wait_sync(NULL, always, NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_sync_timeout(NULL, always, NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_wait_cancel(NULL), UV_EINVAL);

  ck_assert_int_eq(uvev_event_init(&ev), 0);
  ck_assert_int_eq(uvev_wait_sync(&ev, NULL, NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_wait(NULL, &w.req, &ev, flag_is_set, waiter_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait(&waker, NULL, &ev, flag_is_set, waiter_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait(&waker, &w.req, NULL, flag_is_set, waiter_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, NULL, waiter_cb), UV_EINVAL);
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, flag_is_set, NULL),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_wait_timeout(&waker, &w.req, &ev, flag_is_set, NULL,
                                     1), UV_EINVAL);
  /* Never started: not active. */
  ck_assert_int_eq(uvev_wait_cancel(&w.req), UV_EINVAL);
  /* None of that touched anything. */
  ck_assert_uint_eq(waiters_linked(&ev), 0);
  ck_assert_int_eq(uv_loop_alive(&loop), 0);
  ck_assert_ptr_eq(w.req.data, &flag);

  /* Active: a second start is refused and changes nothing. */
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, flag_is_set, waiter_cb), 0);
  ck_assert_int_eq(uvev_wait(&waker, &w.req, &ev, always, waiter_cb),
                   UV_EBUSY);
  ck_assert_int_eq(uvev_wait_timeout(&waker, &w.req, &ev, always, waiter_cb,
                                     0), UV_EBUSY);
  ck_assert_uint_eq(waiters_linked(&ev), 1);
  ck_assert_int_eq(w.calls, 0);
  /* Registered: destroy is refused, and still once notified and queued. */
  ck_assert_int_eq(uvev_event_destroy(&ev), UV_EBUSY);
  flag_set(&flag);
  uvev_notify_one(&ev);
  ck_assert_uint_eq(waiters_linked(&ev), 0);
  ck_assert_int_eq(uvev_event_destroy(&ev), UV_EBUSY);
  /* The event still works after the refusals: the request completes once. */
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.status, 0);
  /* Called back: not active any more. */
  ck_assert_int_eq(uvev_wait_cancel(&w.req), UV_EINVAL);

  /* A closing waker takes no request. */
  uvev_waker_close(&waker, NULL);
  ck_assert_int_eq(uvev_wait(&waker, &idle_req.req, &ev, always, waiter_cb),
                   UV_EINVAL);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(idle_req.calls, 0);
  ck_assert_int_eq(w.calls, 1);
  close_loop(&loop);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

/* A request restarted from its own callback, many times; the event may be
 * destroyed from the last callback. */
static struct {
  uvev_event_t ev;
  uvev_waker_t* waker;
  tokens_t tokens;
  int rounds;
  int destroy_err;
} rs;

static void rs_cb(uvev_wait_t* req, int status) {
  CHECK_ON_THREAD(status == 0);
  if (++rs.rounds < 1000) {
    /* Odd rounds complete at once; even ones register, then get notified. */
    if (rs.rounds % 2)
      tokens_add(&rs.tokens, 1);
    CHECK_ON_THREAD(uvev_wait(rs.waker, req, &rs.ev, take_token, rs_cb) == 0);
    if (rs.rounds % 2 == 0) {
      CHECK_ON_THREAD(waiters_linked(&rs.ev) == 1);
      tokens_add(&rs.tokens, 1);
      uvev_notify_one(&rs.ev);
    }
    return;
  }
  rs.destroy_err = uvev_event_destroy(&rs.ev);
}

START_TEST(test_restart_in_callback) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_wait_t req;

  memset(&rs, 0, sizeof(rs));
  memset(&req, 0, sizeof(req));
  rs.waker = &waker;
  rs.destroy_err = 1;
  req.data = &rs.tokens;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_event_init(&rs.ev), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  tokens_add(&rs.tokens, 1);
  ck_assert_int_eq(uvev_wait(&waker, &req, &rs.ev, take_token, rs_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(rs.rounds, 1000);
  ck_assert_int_eq(rs.destroy_err, 0);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
}
END_TEST

Suite* core_suite(void) {
  Suite* s;
  TCase* tc;

  s = suite_create("core");

  tc = tcase_create("scenarios");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_smoke);
  tcase_add_test(tc, test_immediate);
  tcase_add_test(tc, test_one_to_many);
  tcase_add_test(tc, test_many_to_many);
  tcase_add_test(tc, test_notify_all);
  tcase_add_test(tc, test_fifo_and_own_loop_notify);
  tcase_add_test(tc, test_notify_n_and_spurious);
  suite_add_tcase(s, tc);

  tc = tcase_create("timeouts");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_timeout);
  tcase_add_test(tc, test_timeout_order);
  tcase_add_test(tc, test_sync_wait);
  suite_add_tcase(s, tc);

  tc = tcase_create("handoff");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_handoff_cancel);
  tcase_add_test(tc, test_handoff_timeout);
  tcase_add_test(tc, test_timeout_uses_notification);
  tcase_add_test(tc, test_handoff_close);
  tcase_add_test(tc, test_cancel_after_success);
  suite_add_tcase(s, tc);

  tc = tcase_create("threads");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_sync_tokens);
  tcase_add_test(tc, test_mixed_waiters);
  suite_add_tcase(s, tc);

  tc = tcase_create("waker");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_waker_unref);
  tcase_add_test(tc, test_waker_close_pending);
  tcase_add_test(tc, test_waker_close_in_callback);
  tcase_add_test(tc, test_waker_close_not_running);
  tcase_add_test(tc, test_waker_close_race);
  suite_add_tcase(s, tc);

  tc = tcase_create("misuse");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_misuse);
  tcase_add_test(tc, test_restart_in_callback);
  tcase_add_test(tc, test_destroy_after_last_wait);
  suite_add_tcase(s, tc);

  return s;
}
