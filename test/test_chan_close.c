/* test_chan_close.c: the channel's close in every state: with senders blocked, with
 * receivers waiting, with elements left over (drained, then UV_EOF).
 */
#include <string.h>

#include "helpers.h"

static struct {
  uvev_chan_t ch;
  int result[4];
} cs;

static void blocked_sender(void* arg) {
  uint64_t v = 100 + (uintptr_t) arg;
  cs.result[(uintptr_t) arg] = uvev_chan_send_sync_timeout(&cs.ch, &v,
                                                           WATCHDOG_MS);
}

static void blocked_receiver(void* arg) {
  uint64_t v;
  cs.result[(uintptr_t) arg] = uvev_chan_recv_sync_timeout(&cs.ch, &v,
                                                           WATCHDOG_MS);
}

static void close_chan_idle(uv_idle_t* idle) {
  uv_close((uv_handle_t*) idle, NULL);
  uvev_chan_close(&cs.ch);
}

/* Blocked senders (two threads, one loop request) get UV_EPIPE; what was
 * in the channel stays there and drains, then UV_EOF. */
START_TEST(test_chan_close_blocked_senders) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_thread_t tid[2];
  chan_req_t send;
  uv_idle_t idle;
  uint64_t v;
  uintptr_t i;

  memset(&cs, 0, sizeof(cs));
  memset(&send, 0, sizeof(send));
  ck_assert_int_eq(uvev_chan_init(&cs.ch, 2, sizeof(v)), 0);
  for (v = 1; v <= 2; v++)
    ck_assert_int_eq(uvev_chan_try_send(&cs.ch, &v), 0);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  send.elem = 200;
  ck_assert_int_eq(uvev_chan_send(&waker, &send.op, &cs.ch, &send.elem,
                                  chan_req_cb), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&tid[i], blocked_sender, (void*) i), 0);
  await_linked(&cs.ch.not_full, 3);  /* all three are blocked */
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, close_chan_idle), 0);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < 2; i++) {
    ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
    ck_assert_int_eq(cs.result[i], UV_EPIPE);
  }
  ck_assert_int_eq(send.calls, 1);
  ck_assert_int_eq(send.status, UV_EPIPE);
  ck_assert_int_eq(uvev_chan_try_recv(&cs.ch, &v), 0);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(uvev_chan_try_recv(&cs.ch, &v), 0);
  ck_assert_uint_eq(v, 2);
  ck_assert_int_eq(uvev_chan_try_recv(&cs.ch, &v), UV_EOF);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&cs.ch), 0);
}
END_TEST

/* Waiting receivers (two threads, two loop requests) get UV_EOF. */
START_TEST(test_chan_close_waiting_receivers) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uv_thread_t tid[2];
  chan_req_t recv[2];
  uv_idle_t idle;
  uintptr_t i;

  memset(&cs, 0, sizeof(cs));
  memset(recv, 0, sizeof(recv));
  ck_assert_int_eq(uvev_chan_init(&cs.ch, 3, sizeof(uint64_t)), 0);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uvev_chan_recv(&waker, &recv[i].op, &cs.ch,
                                    &recv[i].elem, chan_req_cb), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&tid[i], blocked_receiver, (void*) i),
                     0);
  await_linked(&cs.ch.not_empty, 4);
  ck_assert_int_eq(uv_idle_init(&loop, &idle), 0);
  ck_assert_int_eq(uv_idle_start(&idle, close_chan_idle), 0);
  run_loop(&loop, WATCHDOG_MS);
  for (i = 0; i < 2; i++) {
    ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
    ck_assert_int_eq(cs.result[i], UV_EOF);
    ck_assert_int_eq(recv[i].calls, 1);
    ck_assert_int_eq(recv[i].status, UV_EOF);
  }
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&cs.ch), 0);
}
END_TEST

/* Closed with elements left: receivers on a loop and a thread drain exactly
 * those, in order, then get UV_EOF. */
static struct {
  uvev_chan_t ch;
  uvev_waker_t* waker;
  chan_req_t req;
  uint64_t got[8];
  int ngot;
  int eof;
} lo;

static void leftover_cb(uvev_chan_op_t* op, int status) {
  if (status == UV_EOF) {
    lo.eof++;
    return;
  }
  CHECK_ON_THREAD(status == 0);
  lo.got[lo.ngot++] = lo.req.elem;
  CHECK_ON_THREAD(uvev_chan_recv(lo.waker, op, &lo.ch, &lo.req.elem,
                                 leftover_cb) == 0);
}

START_TEST(test_chan_close_leftover) {
  uv_loop_t loop;
  uvev_waker_t waker;
  uint64_t v;
  int i;

  memset(&lo, 0, sizeof(lo));
  lo.waker = &waker;
  ck_assert_int_eq(uvev_chan_init(&lo.ch, 8, sizeof(v)), 0);
  for (v = 1; v <= 5; v++)
    ck_assert_int_eq(uvev_chan_try_send(&lo.ch, &v), 0);
  uvev_chan_close(&lo.ch);
  /* A blocking receiver takes the first two. */
  ck_assert_int_eq(uvev_chan_recv_sync(&lo.ch, &v), 0);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(uvev_chan_recv_sync_timeout(&lo.ch, &v, 10), 0);
  ck_assert_uint_eq(v, 2);
  /* A loop receiver takes the rest. */
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uvev_chan_recv(&waker, &lo.req.op, &lo.ch, &lo.req.elem,
                                  leftover_cb), 0);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(lo.ngot, 3);
  for (i = 0; i < 3; i++)
    ck_assert_uint_eq(lo.got[i], (uint64_t) i + 3);
  ck_assert_int_eq(lo.eof, 1);
  ck_assert_int_eq(uvev_chan_recv_sync(&lo.ch, &v), UV_EOF);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&lo.ch), 0);
}
END_TEST

TCase* chan_close_case(void) {
  TCase* tc;

  tc = test_case("close", 0);
  tcase_add_test(tc, test_chan_close_blocked_senders);
  tcase_add_test(tc, test_chan_close_waiting_receivers);
  tcase_add_test(tc, test_chan_close_leftover);
  return tc;
}
