/* test_waker.c: wakers: ref/unref of the loop, close with requests
 * pending, close from a callback, close while the loop is not running, and
 * close racing notifiers (the race suite's test, a few rounds).
 */
#include <string.h>

#include "helpers.h"

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

/* Close racing notifier threads (the race suite runs many more rounds). */
START_TEST(test_waker_close_race) {
  race_waker_close(1000);
}
END_TEST

TCase* waker_case(void) {
  TCase* tc;

  tc = test_case("waker", 0);
  tcase_add_test(tc, test_waker_unref);
  tcase_add_test(tc, test_waker_close_pending);
  tcase_add_test(tc, test_waker_close_in_callback);
  tcase_add_test(tc, test_waker_close_not_running);
  tcase_add_test(tc, test_waker_close_race);
  return tc;
}
