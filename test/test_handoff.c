/* test_handoff.c: the hand-off: a cancel, a timeout or a close that
 * meets a request already notified passes the notification to the next
 * waiter; a timeout uses a notification that raced in; a cancel after
 * success keeps the status.
 */
#include <string.h>

#include "helpers.h"

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

TCase* handoff_case(void) {
  TCase* tc;

  tc = test_case("handoff", 0);
  tcase_add_test(tc, test_handoff_cancel);
  tcase_add_test(tc, test_handoff_timeout);
  tcase_add_test(tc, test_timeout_uses_notification);
  tcase_add_test(tc, test_handoff_close);
  tcase_add_test(tc, test_cancel_after_success);
  return tc;
}
