/* test_chan.c: the channel suite: capacities, try calls, close in every
 * state, exactly-once streams between threads and loops, cancel and timeout
 * in the middle of a stream, misuse.
 */
#include <string.h>

#include "helpers.h"
#include "stream.h"

static void fixture_setup(void) {
  wd_arm(300);
}

static void fixture_teardown(void) {
  wd_disarm();
}

/* ---- capacity and try calls ------------------------------------------------- */

/* Exactly `cap` elements fit, come out in order, and the ring wraps. */
static void check_capacity(size_t cap) {
  uvev_chan_t ch;
  uint64_t v, next_in, next_out;
  size_t i;
  int lap;

  ck_assert_int_eq(uvev_chan_init(&ch, cap, sizeof(uint64_t)), 0);
  next_in = 0;
  next_out = 0;
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);
  for (lap = 0; lap < 3; lap++) {
    /* Fill to exactly the capacity. */
    for (i = 0; i < cap; i++) {
      v = next_in++;
      ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
    }
    v = 999999;
    ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EAGAIN);
    /* Take half (at least one), top up, so positions wrap unevenly. */
    for (i = 0; i < cap / 2 + 1; i++) {
      ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
      ck_assert_uint_eq(v, next_out++);
    }
    for (i = 0; i < cap / 2 + 1; i++) {
      v = next_in++;
      ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
    }
    ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EAGAIN);
    /* Drain. */
    for (i = 0; i < cap; i++) {
      ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
      ck_assert_uint_eq(v, next_out++);
    }
    ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EAGAIN);
  }
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}

START_TEST(test_chan_capacities) {
  static const size_t caps[] = {1, 2, 3, 7, 1000, 65536};
  size_t i;

  for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
    check_capacity(caps[i]);
}
END_TEST

/* Elements of odd sizes are copied whole. */
START_TEST(test_chan_element_sizes) {
  uvev_chan_t ch;
  unsigned char in[37], out[37];
  int i, k;

  ck_assert_int_eq(uvev_chan_init(&ch, 3, sizeof(in)), 0);
  for (k = 0; k < 10; k++) {
    for (i = 0; i < (int) sizeof(in); i++)
      in[i] = (unsigned char) (k * 31 + i);
    ck_assert_int_eq(uvev_chan_try_send(&ch, in), 0);
    memset(out, 0, sizeof(out));
    ck_assert_int_eq(uvev_chan_try_recv(&ch, out), 0);
    ck_assert_mem_eq(in, out, sizeof(in));
  }
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

START_TEST(test_chan_try_closed) {
  uvev_chan_t ch;
  uint64_t v;

  ck_assert_int_eq(uvev_chan_init(&ch, 4, sizeof(v)), 0);
  v = 1;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  v = 2;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  uvev_chan_close(&ch);
  uvev_chan_close(&ch);  /* idempotent */
  v = 3;
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), 0);
  ck_assert_uint_eq(v, 2);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EOF);
  ck_assert_int_eq(uvev_chan_try_recv(&ch, &v), UV_EOF);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);

  /* Full and closed: EPIPE, not EAGAIN. */
  ck_assert_int_eq(uvev_chan_init(&ch, 1, sizeof(v)), 0);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), 0);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EAGAIN);
  uvev_chan_close(&ch);
  ck_assert_int_eq(uvev_chan_try_send(&ch, &v), UV_EPIPE);
  ck_assert_int_eq(uvev_chan_destroy(&ch), 0);
}
END_TEST

/* ---- close in every state ---------------------------------------------------- */

typedef struct {
  uvev_chan_op_t op;
  uint64_t elem;
  int calls;
  int status;
} chan_req_t;

static void chan_req_cb(uvev_chan_op_t* op, int status) {
  chan_req_t* r = (chan_req_t*) op;
  r->calls++;
  r->status = status;
}

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

/* ---- cancel keeps what was moved --------------------------------------------- */

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

/* ---- streams, exactly once ---------------------------------------------------- */

static void run_stream(int pt, int pl, int ct, int cl, size_t cap,
                       unsigned long per, int chaos) {
  stream_config_t cfg;
  stream_result_t res;

  memset(&cfg, 0, sizeof(cfg));
  cfg.producer_threads = pt;
  cfg.producer_loops = pl;
  cfg.consumer_threads = ct;
  cfg.consumer_loops = cl;
  cfg.capacity = cap;
  cfg.per_producer = per;
  cfg.chaos = chaos;
  stream_run(&cfg, &res);
}

START_TEST(test_chan_fifo_1p1c) {
  run_stream(1, 0, 0, 1, 8, 20000, 0);   /* thread -> loop */
  run_stream(0, 1, 1, 0, 8, 20000, 0);   /* loop -> thread */
  run_stream(1, 0, 1, 0, 1, 20000, 0);   /* thread -> thread, capacity 1 */
}
END_TEST

START_TEST(test_chan_streams) {
  run_stream(2, 0, 0, 1, 64, 10000, 0);  /* threads -> a loop */
  run_stream(0, 1, 2, 0, 64, 10000, 0);  /* a loop -> threads */
  run_stream(3, 0, 2, 2, 7, 10000, 0);   /* threads -> loops + threads */
  run_stream(1, 1, 1, 1, 1, 5000, 0);    /* everything, capacity 1 */
}
END_TEST

START_TEST(test_chan_streams_chaos) {
  run_stream(2, 1, 1, 2, 4, 3000, 1);
  run_stream(1, 1, 2, 1, 1, 2000, 1);
}
END_TEST

/* ---- backpressure ------------------------------------------------------------ */

static void bp_sender(void* arg) {
  uint64_t v = 42;
  cs.result[0] = uvev_chan_send_sync_timeout(&cs.ch, &v, WATCHDOG_MS);
}

/* A full channel blocks its sender until a receive makes room. */
START_TEST(test_chan_backpressure) {
  uv_thread_t tid;
  uint64_t v;

  memset(&cs, 0, sizeof(cs));
  cs.result[0] = 1;
  ck_assert_int_eq(uvev_chan_init(&cs.ch, 2, sizeof(v)), 0);
  for (v = 1; v <= 2; v++)
    ck_assert_int_eq(uvev_chan_send_sync(&cs.ch, &v), 0);
  ck_assert_int_eq(uv_thread_create(&tid, bp_sender, NULL), 0);
  await_linked(&cs.ch.not_full, 1);
  ck_assert_int_eq(cs.result[0], 1);  /* still blocked */
  ck_assert_int_eq(uvev_chan_recv_sync(&cs.ch, &v), 0);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(uv_thread_join(&tid), 0);
  ck_assert_int_eq(cs.result[0], 0);
  ck_assert_int_eq(uvev_chan_recv_sync(&cs.ch, &v), 0);
  ck_assert_uint_eq(v, 2);
  ck_assert_int_eq(uvev_chan_recv_sync(&cs.ch, &v), 0);
  ck_assert_uint_eq(v, 42);
  ck_assert_int_eq(uvev_chan_destroy(&cs.ch), 0);
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

Suite* chan_suite(void) {
  Suite* s;
  TCase* tc;

  s = suite_create("chan");

  tc = tcase_create("ring");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_chan_capacities);
  tcase_add_test(tc, test_chan_element_sizes);
  tcase_add_test(tc, test_chan_try_closed);
  suite_add_tcase(s, tc);

  tc = tcase_create("close");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_chan_close_blocked_senders);
  tcase_add_test(tc, test_chan_close_waiting_receivers);
  tcase_add_test(tc, test_chan_close_leftover);
  suite_add_tcase(s, tc);

  tc = tcase_create("ops");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_chan_cancel);
  tcase_add_test(tc, test_chan_sync_timeout);
  tcase_add_test(tc, test_chan_backpressure);
  tcase_add_test(tc, test_chan_misuse);
  suite_add_tcase(s, tc);

  tc = tcase_create("streams");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_chan_fifo_1p1c);
  tcase_add_test(tc, test_chan_streams);
  tcase_add_test(tc, test_chan_streams_chaos);
  suite_add_tcase(s, tc);

  return s;
}
