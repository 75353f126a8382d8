/* test_lifetime.c: who may free what, when: an event destroyed and
 * freed the moment its last wait ends, while the notifier that woke it may
 * still be inside uvev_notify.
 */
#include <string.h>

#include "helpers.h"

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

TCase* lifetime_case(void) {
  TCase* tc;

  tc = test_case("lifetimes", 0);
  tcase_add_test(tc, test_destroy_after_last_wait);
  return tc;
}
