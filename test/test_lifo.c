/* test_lifo.c: the event options: LIFO wake-ups (uvev_event_init_ex with
 * UVEV_EVENT_LIFO) on loops and threads, the hand-off on a LIFO event, the
 * waiter count (uvev_event_waiters), and their misuse.
 */
#include <string.h>

#include "helpers.h"

static struct {
  uvev_event_t ev;
  tokens_t tokens;
  waiter_t w[3];
  int seq;
} lf;

static void lifo_setup(uv_loop_t* loop, uvev_waker_t* waker, unsigned flags) {
  int i;

  memset(&lf, 0, sizeof(lf));
  ck_assert_int_eq(uv_loop_init(loop), 0);
  ck_assert_int_eq(uvev_event_init_ex(&lf.ev, flags), 0);
  ck_assert_int_eq(uvev_waker_init(loop, waker), 0);
  for (i = 0; i < 3; i++) {
    lf.w[i].seq = &lf.seq;
    lf.w[i].req.data = &lf.tokens;
    ck_assert_int_eq(uvev_wait(waker, &lf.w[i].req, &lf.ev, take_token,
                               waiter_cb), 0);
  }
  ck_assert_uint_eq(uvev_event_waiters(&lf.ev), 3);
}

static void lifo_teardown(uv_loop_t* loop, uvev_waker_t* waker) {
  ck_assert_uint_eq(uvev_event_waiters(&lf.ev), 0);
  uvev_waker_close(waker, NULL);
  run_loop(loop, WATCHDOG_MS);
  close_loop(loop);
  ck_assert_int_eq(uvev_event_destroy(&lf.ev), 0);
}

/* Runs the loop (the other waits keep it alive) until w's callback ran;
 * dies if it takes more than a few thousand turns. */
static void run_until_called(uv_loop_t* loop, waiter_t* w) {
  int turns;

  for (turns = 0; w->calls == 0; turns++) {
    if (turns == 10000)
      die("lifo: the notified waiter was never called back");
    uv_run(loop, UV_RUN_NOWAIT);
  }
}

/* One token and one notify at a time: the newest waiter is called back
 * first on a LIFO event, the oldest on a FIFO one; the count follows. */
static void lifo_order(unsigned flags) {
  uv_loop_t loop;
  uvev_waker_t waker;
  int i, k;

  lifo_setup(&loop, &waker, flags);
  for (k = 0; k < 3; k++) {
    tokens_add(&lf.tokens, 1);
    uvev_notify_one(&lf.ev);
    ck_assert_uint_eq(uvev_event_waiters(&lf.ev), 2 - (unsigned) k);
    i = flags & UVEV_EVENT_LIFO ? 2 - k : k;
    run_until_called(&loop, &lf.w[i]);
    ck_assert_int_eq(lf.w[i].calls, 1);
    ck_assert_int_eq(lf.w[i].status, 0);
    ck_assert_int_eq(lf.w[i].order, k);
  }
  lifo_teardown(&loop, &waker);
}

START_TEST(test_lifo_loop_order) {
  lifo_order(UVEV_EVENT_LIFO);
  lifo_order(0);
}
END_TEST

/* A notified wait that is cancelled before its callback hands the
 * notification on: on a LIFO event to the newest remaining waiter. */
static void lifo_cancel_cb(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  tokens_add(&lf.tokens, 1);
  uvev_notify_one(&lf.ev);                       /* to w[2], the newest */
  ck_assert_uint_eq(uvev_event_waiters(&lf.ev), 2);
  ck_assert_int_eq(uvev_wait_cancel(&lf.w[2].req), 0);
  /* Handed on to w[1]: only w[0] is still registered (white box: the one
   * node linked is w[0]'s). */
  ck_assert_uint_eq(uvev_event_waiters(&lf.ev), 1);
  ck_assert_ptr_eq(lf.ev.ws.head, &lf.w[0].req.node);
  ck_assert_int_eq(uvev_wait_cancel(&lf.w[0].req), 0);
}

START_TEST(test_lifo_handoff) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_idle_t idle;

  lifo_setup(&loop, &waker, UVEV_EVENT_LIFO);
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, lifo_cancel_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(lf.w[2].status, UV_ECANCELED);
  ck_assert_int_eq(lf.w[1].calls, 1);
  ck_assert_int_eq(lf.w[1].status, 0);
  ck_assert_int_eq(lf.w[0].status, UV_ECANCELED);
  ck_assert_int_eq(lf.tokens.count, 0);
  lifo_teardown(&loop, &waker);
}
END_TEST

/* Threads: three blocked in uvev_wait_sync_timeout, registered one after the
 * other; each notify wakes the newest sleeper. */
typedef struct {
  uvev_event_t* ev;
  tokens_t* tokens;
  int err;
  int* seq;
  int order;  /* atomic: which wake-up woke it */
} sleeper_t;

static void lifo_sleeper(void* arg) {
  sleeper_t* s = arg;

  s->err = uvev_wait_sync_timeout(s->ev, take_token, s->tokens, WATCHDOG_MS);
  __atomic_store_n(&s->order, __atomic_fetch_add(s->seq, 1, __ATOMIC_ACQ_REL),
                   __ATOMIC_RELEASE);
}

START_TEST(test_lifo_threads) {
  uvev_event_t ev;
  tokens_t tokens;
  sleeper_t s[3];
  uv_thread_t t[3];
  int seq;
  int i;

  memset(&tokens, 0, sizeof(tokens));
  seq = 0;
  ck_assert_int_eq(uvev_event_init_ex(&ev, UVEV_EVENT_LIFO), 0);
  for (i = 0; i < 3; i++) {
    s[i].ev = &ev;
    s[i].tokens = &tokens;
    s[i].seq = &seq;
    s[i].order = -1;
    ck_assert_int_eq(uv_thread_create(&t[i], lifo_sleeper, &s[i]), 0);
    await_linked(&ev, (unsigned) i + 1);  /* registration order is i */
  }
  ck_assert_uint_eq(uvev_event_waiters(&ev), 3);
  for (i = 0; i < 3; i++) {
    tokens_add(&tokens, 1);
    uvev_notify_one(&ev);
    ck_assert_int_eq(uv_thread_join(&t[2 - i]), 0);
    ck_assert_int_eq(s[2 - i].err, 0);
    ck_assert_int_eq(__atomic_load_n(&s[2 - i].order, __ATOMIC_ACQUIRE), i);
  }
  ck_assert_uint_eq(uvev_event_waiters(&ev), 0);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

START_TEST(test_event_init_ex_misuse) {
  uvev_event_t ev;

  ck_assert_int_eq(uvev_event_init_ex(NULL, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_event_init_ex(&ev, 2), UV_EINVAL);
  ck_assert_int_eq(uvev_event_init_ex(&ev, ~0u), UV_EINVAL);
  ck_assert_uint_eq(uvev_event_waiters(NULL), 0);
  ck_assert_int_eq(uvev_event_init_ex(&ev, 0), 0);
  ck_assert_uint_eq(uvev_event_waiters(&ev), 0);
  ck_assert_int_eq(uvev_event_destroy(&ev), 0);
}
END_TEST

TCase* lifo_case(void) {
  TCase* tc;

  tc = test_case("lifo", 0);
  tcase_add_test(tc, test_lifo_loop_order);
  tcase_add_test(tc, test_lifo_handoff);
  tcase_add_test(tc, test_lifo_threads);
  tcase_add_test(tc, test_event_init_ex_misuse);
  return tc;
}
