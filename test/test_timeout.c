/* test_timeout.c: loop waits with deadlines: a predicate that turns
 * true just before the deadline, and deadlines completing in their order.
 */
#include <string.h>

#include "helpers.h"

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

TCase* timeout_case(void) {
  TCase* tc;

  tc = test_case("timeouts", 0);
  tcase_add_test(tc, test_timeout);
  tcase_add_test(tc, test_timeout_order);
  return tc;
}
