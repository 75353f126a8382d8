/* test_notify.c: loop waits woken by notify: the reference crate's
 * scenarios on loops (smoke, a wait satisfied at once, one-to-many,
 * many-to-many, notify_all), FIFO order, notify on the waiter's own loop,
 * notify(n) and spurious re-checks.
 */
#include <string.h>

#include "helpers.h"

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

TCase* notify_case(void) {
  TCase* tc;

  tc = test_case("notify", 0);
  tcase_add_test(tc, test_smoke);
  tcase_add_test(tc, test_immediate);
  tcase_add_test(tc, test_one_to_many);
  tcase_add_test(tc, test_many_to_many);
  tcase_add_test(tc, test_notify_all);
  tcase_add_test(tc, test_fifo_and_own_loop_notify);
  tcase_add_test(tc, test_notify_n_and_spurious);
  return tc;
}
