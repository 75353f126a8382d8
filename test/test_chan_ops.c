/* test_chan_ops.c: the channel's single operations: cancel keeps what was moved, the
 * blocking timeouts, backpressure at exactly the capacity, misuse.
 */
#include <string.h>

#include "helpers.h"

START_TEST(test_chan_cancel) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_t ch;
  chan_req_t recv, send;
  uint64_t v;

  memset(&recv, 0, sizeof(recv));
  memset(&send, 0, sizeof(send));
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_chan_init(&ch, 1, sizeof(v)), 0);

  /* An element is there: the receive takes it at once; cancelling it then
   * keeps status 0 (the element is not lost). */
  v = 7;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  ck_assert_int_eq(uvev_chan_recv(&waker, &recv.op, &ch, &recv.elem,
                                  chan_req_cb), 0);
  ck_assert_int_eq(uvev_chan_cancel(&recv.op), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(recv.calls, 1);
  ck_assert_int_eq(recv.status, 0);
  ck_assert_uint_eq(recv.elem, 7);

  /* Nothing there: a cancelled receive gets UV_ECANCELED and takes
   * nothing later. */
  ck_assert_int_eq(uvev_chan_recv(&waker, &recv.op, &ch, &recv.elem,
                                  chan_req_cb), 0);
  ck_assert_int_eq(uvev_chan_cancel(&recv.op), 0);
  ck_assert_int_eq(uvev_chan_cancel(&recv.op), 0);
  v = 8;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(recv.calls, 2);
  ck_assert_int_eq(recv.status, UV_ECANCELED);
  ck_assert_int_eq(uvev_chan_cancel(&recv.op), UV_EINVAL);

  /* Full: a cancelled send gets UV_ECANCELED and its element never goes in. */
  send.elem = 9;
  ck_assert_int_eq(uvev_chan_send(&waker, &send.op, &ch, &send.elem,
                                  chan_req_cb), 0);
  ck_assert_int_eq(uvev_chan_cancel(&send.op), 0);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
  ck_assert_uint_eq(v, 8);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(send.calls, 1);
  ck_assert_int_eq(send.status, UV_ECANCELED);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);

  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* Timeouts of blocking calls: nothing moves, and the channel is tried one
 * last time at the deadline. */
START_TEST(test_chan_sync_timeout) {
  uvev_chan_t ch;
  uint64_t v;

  ck_assert_int_eq(uvev_chan_init(&ch, 1, sizeof(v)), 0);
  ck_assert_int_eq(uvev_chan_recv_sync_timeout(&ch, &v, 20), UV_ETIMEDOUT);
  ck_assert_int_eq(uvev_chan_recv_sync_timeout(&ch, &v, 0), UV_ETIMEDOUT);
  v = 5;
  ck_assert_int_eq(uvev_chan_send_sync_timeout(&ch, &v, 0), 0);
  v = 6;
  ck_assert_int_eq(uvev_chan_send_sync_timeout(&ch, &v, 20), UV_ETIMEDOUT);
  ck_assert_int_eq(uvev_chan_send_sync_timeout(&ch, &v, 0), UV_ETIMEDOUT);
  ck_assert_int_eq(uvev_chan_recv_sync_timeout(&ch, &v, 0), 0);
  ck_assert_uint_eq(v, 5);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* The channel and the blocked sender's result of the backpressure test. */
static struct {
  uvev_chan_t ch;
  int result[1];
} bp;

/* ---- backpressure ------------------------------------------------------------ */

static void bp_sender(void* arg) {
  uint64_t v = 42;
  bp.result[0] = uvev_chan_send_sync_timeout(&bp.ch, &v, WATCHDOG_MS);
}

/* A full channel blocks its sender until a receive makes room. */
START_TEST(test_chan_backpressure) {
  uv_thread_t tid;
  uint64_t v;

  memset(&bp, 0, sizeof(bp));
  bp.result[0] = 1;
  ck_assert_int_eq(uvev_chan_init(&bp.ch, 2, sizeof(v)), 0);
  for (v = 1; v <= 2; v++)
    ck_assert_int_eq(uvev_chan_send_sync(&bp.ch, &v), 0);
  ck_assert_int_eq(uv_thread_create(&tid, bp_sender, NULL), 0);
  await_linked(&bp.ch.not_full, 1);
  ck_assert_int_eq(bp.result[0], 1);  /* still blocked */
  ck_assert_int_eq(uvev_chan_recv_sync(&bp.ch, &v), 0);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(uv_thread_join(&tid), 0);
  ck_assert_int_eq(bp.result[0], 0);
  ck_assert_int_eq(uvev_chan_recv_sync(&bp.ch, &v), 0);
  ck_assert_uint_eq(v, 2);
  ck_assert_int_eq(uvev_chan_recv_sync(&bp.ch, &v), 0);
  ck_assert_uint_eq(v, 42);
  ck_assert_int_eq(uvev_chan_destroy(&bp.ch), 0);
}
END_TEST

/* ---- misuse -------------------------------------------------------------------- */

START_TEST(test_chan_misuse) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_t ch;
  chan_req_t r;
  uint64_t v;

  memset(&r, 0, sizeof(r));
  memset(&ch, 0x5a, sizeof(ch));
  ck_assert_int_eq(uvev_chan_init(NULL, 1, 8), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_init(&ch, 0, 8), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_init(&ch, 1, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_init(&ch, SIZE_MAX / 2, 8), UV_ENOMEM);
  ck_assert_int_eq(uvev_chan_init(&ch, 1, SIZE_MAX), UV_ENOMEM);
  ck_assert_int_eq(uvev_chan_destroy(NULL), UV_EINVAL);
  uvev_chan_close(NULL);
  ck_assert_int_eq(uvev_chan_cancel(NULL), UV_EINVAL);

  ck_assert_int_eq(uvev_chan_init(&ch, 2, sizeof(v)), 0);
  ck_assert_int_eq(uvev_chan_try_send(NULL, &v), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_send(&ch, NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_recv(NULL, &v), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send_sync(NULL, &v), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send_sync(&ch, NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_sync(NULL, &v), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_sync(&ch, NULL), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send_sync_timeout(&ch, NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv_sync_timeout(NULL, &v, 1), UV_EINVAL);

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_chan_send(NULL, &r.op, &ch, &r.elem, chan_req_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send(&waker, NULL, &ch, &r.elem, chan_req_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send(&waker, &r.op, NULL, &r.elem, chan_req_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send(&waker, &r.op, &ch, NULL, chan_req_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_send(&waker, &r.op, &ch, &r.elem, NULL),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv(&waker, &r.op, &ch, NULL, chan_req_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_recv(&waker, &r.op, NULL, &r.elem, chan_req_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_cancel(&r.op), UV_EINVAL);
  /* Nothing moved. */
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);

  /* Active: a second start is refused and changes nothing; destroy too. */
  ck_assert_int_eq(uvev_chan_recv(&waker, &r.op, &ch, &r.elem, chan_req_cb),
                   0);
  ck_assert_int_eq(uvev_chan_recv(&waker, &r.op, &ch, &v, chan_req_cb),
                   UV_EBUSY);
  ck_assert_int_eq(uvev_chan_send(&waker, &r.op, &ch, &v, chan_req_cb),
                   UV_EBUSY);
  ck_assert_int_eq(uvev_chan_destroy(&ch), UV_EBUSY);
  v = 77;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 1);
  ck_assert_int_eq(r.status, 0);
  ck_assert_uint_eq(r.elem, 77);

  /* A closing waker takes no operation. */
  uvev_waker_close(&waker, NULL);
  ck_assert_int_eq(uvev_chan_recv(&waker, &r.op, &ch, &r.elem, chan_req_cb),
                   UV_EINVAL);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(r.calls, 1);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

TCase* chan_ops_case(void) {
  TCase* tc;

  tc = test_case("ops", 0);
  tcase_add_test(tc, test_chan_cancel);
  tcase_add_test(tc, test_chan_sync_timeout);
  tcase_add_test(tc, test_chan_backpressure);
  tcase_add_test(tc, test_chan_misuse);
  return tc;
}
