/* test_chan_batch.c: the channel's batch operations (the _many calls): a FIFO
 * prefix with one claim, close semantics as for the single calls, a notify
 * sized to what moved, the loop and blocking forms, and misuse.
 */
#include <string.h>

#include "helpers.h"

enum { BATCH_CAP = 8 };

static void fill(uint64_t* v, size_t n, uint64_t first) {
  size_t i;

  for (i = 0; i < n; i++)
    v[i] = first + i;
}

static void expect_run(const uint64_t* v, size_t n, uint64_t first) {
  size_t i;

  for (i = 0; i < n; i++)
    ck_assert_uint_eq(v[i], first + i);
}

/* Try: each call moves what there is room for (or what is there), in order,
 * across the ring's wrap, and the single calls see the same sequence. */
START_TEST(test_batch_try) {
  uvev_chan_t ch;
  uint64_t in[3 * BATCH_CAP], out[3 * BATCH_CAP];
  uint64_t v;

  ck_assert_int_eq(uvev_chan_init(&ch, BATCH_CAP, sizeof(uint64_t)), 0);
  fill(in, 3 * BATCH_CAP, 100);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 4), UV_EAGAIN);
  /* More than the capacity: the capacity goes in, the rest is refused. */
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 3 * BATCH_CAP), BATCH_CAP);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 1), UV_EAGAIN);
  ck_assert_int_eq(uvev_chan_try_send(&ch, in), UV_EAGAIN);
  /* Part of it out, then a batch that wraps around the ring's end. */
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 3), 3);
  expect_run(out, 3, 100);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in + BATCH_CAP, 5), 3);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
  ck_assert_uint_eq(v, 103);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 3 * BATCH_CAP),
                   BATCH_CAP - 1);
  expect_run(out, BATCH_CAP - 1, 104);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 2), UV_EAGAIN);
  /* Mixed with single calls: one FIFO. */
  ck_assert_int_eq(uvev_chan_try_send(&ch, in), 0);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in + 1, 2), 2);
  ck_assert_int_eq(uvev_chan_try_send(&ch, in + 3), 0);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 4), 4);
  expect_run(out, 4, 100);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* Close: a batch send gets UV_EPIPE and moves nothing; receivers drain in
 * batches, then get UV_EOF, as with the single calls. */
START_TEST(test_batch_close) {
  uvev_chan_t ch;
  uint64_t in[BATCH_CAP], out[BATCH_CAP];

  ck_assert_int_eq(uvev_chan_init(&ch, BATCH_CAP, sizeof(uint64_t)), 0);
  fill(in, BATCH_CAP, 1);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 5), 5);
  uvev_chan_close(&ch);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 2), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_send_many_sync(&ch, in, 2), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 2), 2);
  expect_run(out, 2, 1);
  ck_assert_int_eq(uvev_chan_recv_many_sync(&ch, out, BATCH_CAP), 3);
  expect_run(out, 3, 3);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 2), UV_EOF);
  ck_assert_int_eq(uvev_chan_recv_many_sync(&ch, out, 2), UV_EOF);
  ck_assert_int_eq(uvev_chan_recv_many_sync_timeout(&ch, out, 2, 0), UV_EOF);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* ---- one notify sized to what moved ---------------------------------------
 *
 * Three threads sleep in single blocking calls; one batch that moves three
 * must wake all three. A notify of one would leave two asleep until their
 * watchdog timeout; the last try at the deadline would then succeed, so a
 * sleeper that needed its whole timeout fails the test. */

typedef struct {
  uvev_chan_t* ch;
  int sending;
  uint64_t elem;
  int err;
} sleeper_t;

static void sleeper(void* arg) {
  sleeper_t* s = arg;
  uint64_t start;

  start = uv_hrtime();
  if (s->sending)
    s->err = uvev_chan_send_sync_timeout(s->ch, &s->elem, WATCHDOG_MS);
  else
    s->err = uvev_chan_recv_sync_timeout(s->ch, &s->elem, WATCHDOG_MS);
  if (uv_hrtime() - start >= (uint64_t) WATCHDOG_MS * 1000000)
    s->err = UV_ETIMEDOUT;  /* woken by the deadline, not by the batch */
}

static void start_sleepers(uvev_chan_t* ch, sleeper_t* s, uv_thread_t* t,
                           int sending, uvev_event_t* ev) {
  int i;

  for (i = 0; i < 3; i++) {
    s[i].ch = ch;
    s[i].sending = sending;
    s[i].elem = 50 + (uint64_t) i;
    s[i].err = 1;
    ck_assert_int_eq(uv_thread_create(&t[i], sleeper, &s[i]), 0);
  }
  /* Only once all three sleep does the batch below need its wake-ups. */
  await_linked(ev, 3);
}

START_TEST(test_batch_wakes_as_many_as_moved) {
  uvev_chan_t ch;
  sleeper_t s[3];
  uv_thread_t t[3];
  uint64_t in[3], out[3], seen;
  int i;

  /* Receivers asleep on an empty channel; a batch send of three. */
  ck_assert_int_eq(uvev_chan_init(&ch, 4, sizeof(uint64_t)), 0);
  start_sleepers(&ch, s, t, 0, &ch.not_empty);
  fill(in, 3, 1);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 3), 3);
  seen = 0;
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(uv_thread_join(&t[i]), 0);
    ck_assert_int_eq(s[i].err, 0);
    seen |= 1u << s[i].elem;
  }
  ck_assert_uint_eq(seen, 0xe);  /* 1, 2 and 3, once each */

  /* Senders asleep on a full channel; a batch receive of three. */
  fill(in, 3, 10);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 3), 3);
  ck_assert_int_eq(uvev_chan_try_send(&ch, in), 0);  /* full: 4 of 4 */
  start_sleepers(&ch, s, t, 1, &ch.not_full);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 3), 3);
  expect_run(out, 3, 10);
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(uv_thread_join(&t[i]), 0);
    ck_assert_int_eq(s[i].err, 0);
  }
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 1), 1);
  ck_assert_uint_eq(out[0], 10);
  seen = 0;
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, out, 3), 3);
  for (i = 0; i < 3; i++)
    seen |= 1u << (out[i] - 50);
  ck_assert_uint_eq(seen, 0x7);  /* the three sleepers' elements */
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* ---- the loop side ---------------------------------------------------------- */

typedef struct {
  uvev_chan_op_t op;
  uint64_t buf[BATCH_CAP];
  int calls;
  int status;
} batch_req_t;

static void batch_cb(uvev_chan_op_t* op, int status) {
  batch_req_t* r = (batch_req_t*) op;

  r->calls++;
  r->status = status;
}

START_TEST(test_batch_loop) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_t ch;
  batch_req_t r;
  uint64_t in[BATCH_CAP];

  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_chan_init(&ch, BATCH_CAP, sizeof(uint64_t)), 0);
  fill(in, BATCH_CAP, 20);

  /* Elements there: the receive takes up to its n at once, and its status is
   * the count; cancelling it then keeps the count. */
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 5), 5);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, r.buf, 3,
                                       batch_cb), 0);
  ck_assert_int_eq(uvev_chan_cancel(&r.op), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 3);
  expect_run(r.buf, 3, 20);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, r.buf, BATCH_CAP,
                                       batch_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 2);
  ck_assert_int_eq(r.status, 2);
  expect_run(r.buf, 2, 23);

  /* Nothing there: a batch that arrives later completes the wait, all of it
   * in one callback. */
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, r.buf, BATCH_CAP,
                                       batch_cb), 0);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 4), 4);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 3);
  ck_assert_int_eq(r.status, 4);
  expect_run(r.buf, 4, 20);

  /* A loop batch send moves what there is room for; the status says how
   * much. */
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, in, 6), 6);
  ck_assert_int_eq(uvev_chan_send_many(&waker, &r.op, &ch, in, BATCH_CAP,
                                       batch_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 4);
  ck_assert_int_eq(r.status, 2);

  /* Closed: the send gets UV_EPIPE; the receive drains, then UV_EOF. */
  uvev_chan_close(&ch);
  ck_assert_int_eq(uvev_chan_send_many(&waker, &r.op, &ch, in, 2, batch_cb),
                   0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.status, UV_EPIPE);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, r.buf, BATCH_CAP,
                                       batch_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.status, BATCH_CAP);
  expect_run(r.buf, 6, 20);
  expect_run(r.buf + 6, 2, 20);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, r.buf, BATCH_CAP,
                                       batch_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 7);
  ck_assert_int_eq(r.status, UV_EOF);

  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* Blocking: a batch blocks only until one element can move, and its timeout
 * tries one last time at the deadline. */
START_TEST(test_batch_sync) {
  uvev_chan_t ch;
  uint64_t in[4], out[4];

  ck_assert_int_eq(uvev_chan_init(&ch, 2, sizeof(uint64_t)), 0);
  fill(in, 4, 7);
  ck_assert_int_eq(uvev_chan_recv_many_sync_timeout(&ch, out, 4, 20),
                   UV_ETIMEDOUT);
  ck_assert_int_eq(uvev_chan_send_many_sync_timeout(&ch, in, 4, 0), 2);
  ck_assert_int_eq(uvev_chan_send_many_sync_timeout(&ch, in + 2, 2, 20),
                   UV_ETIMEDOUT);
  ck_assert_int_eq(uvev_chan_recv_many_sync(&ch, out, 1), 1);
  ck_assert_int_eq(uvev_chan_send_many_sync(&ch, in + 2, 2), 1);
  ck_assert_int_eq(uvev_chan_recv_many_sync_timeout(&ch, out + 1, 3, 0), 2);
  expect_run(out, 3, 7);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* Misuse: NULL, n == 0, a closing waker: a clear error, and nothing moved or
 * changed. */
START_TEST(test_batch_misuse) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_t ch;
  batch_req_t r, before;
  uint64_t v[2] = {1, 2};

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_chan_init(&ch, 2, sizeof(uint64_t)), 0);
  ck_assert_int_eq(uvev_chan_try_send_many(NULL, v, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, v, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_recv_many(NULL, v, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, v, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send_many_sync(&ch, v, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_many_sync(&ch, NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send_many_sync_timeout(NULL, v, 1, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_many_sync_timeout(&ch, v, 0, 0), UV_EINVAL);

  memset(&r, 0, sizeof(r));  /* a request is zero-filled before first use */
  before = r;
  ck_assert_int_eq(uvev_chan_send_many(&waker, &r.op, &ch, v, 0, batch_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, NULL, 1, batch_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, v, 1, NULL),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_many(NULL, &r.op, &ch, v, 1, batch_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, NULL, &ch, v, 1, batch_cb),
                   UV_EINVAL);
  ck_assert(memcmp(&r, &before, sizeof(r)) == 0);
  /* Nothing moved: the channel is still empty, and takes two. */
  ck_assert_int_eq(uvev_chan_try_recv_many(&ch, v, 2), UV_EAGAIN);
  ck_assert_int_eq(uvev_chan_try_send_many(&ch, v, 2), 2);

  uvev_waker_close(&waker, NULL);
  ck_assert_int_eq(uvev_chan_recv_many(&waker, &r.op, &ch, v, 1, batch_cb),
                   UV_EINVAL);
  ck_assert(memcmp(&r, &before, sizeof(r)) == 0);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

TCase* chan_batch_case(void) {
  TCase* tc;

  tc = test_case("batch", 0);
  tcase_add_test(tc, test_batch_try);
  tcase_add_test(tc, test_batch_close);
  tcase_add_test(tc, test_batch_wakes_as_many_as_moved);
  tcase_add_test(tc, test_batch_loop);
  tcase_add_test(tc, test_batch_sync);
  tcase_add_test(tc, test_batch_misuse);
  return tc;
}
