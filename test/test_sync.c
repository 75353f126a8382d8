/* test_sync.c: blocking waits: uvev_wait_sync and its timeout, tokens
 * consumed by threads, loop and thread waiters on one event.
 */
#include <string.h>

#include "helpers.h"

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

TCase* sync_case(void) {
  TCase* tc;

  tc = test_case("sync", 0);
  tcase_add_test(tc, test_sync_wait);
  tcase_add_test(tc, test_sync_tokens);
  tcase_add_test(tc, test_mixed_waiters);
  return tc;
}
