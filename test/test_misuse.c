/* test_misuse.c: every error of the table, and nothing changes; a
 * request started again from its own callback.
 */
#include <string.h>

#include "helpers.h"

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

TCase* misuse_case(void) {
  TCase* tc;

  tc = test_case("misuse", 0);
  tcase_add_test(tc, test_misuse);
  tcase_add_test(tc, test_restart_in_callback);
  return tc;
}
