/* test_select.c: select over channels, on loops (uvev_chan_select) and
 * threads (uvev_chan_select_sync): ready at start, in order, mixed sends
 * and receives, a channel closed during a select, timeout, cancel, waker
 * close, destroy refused while pending, exactly-once streams from four
 * producers (one of them a sending select) through three channels into a
 * loop and a thread that both select, and every misuse.
 */
#include <string.h>

#include "helpers.h"

enum { NCH = 3 };

static struct {
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_t ch[NCH];
  uvev_chan_sel_t sel[NCH];
  uint64_t buf[NCH];
  chan_req_t op;
  int destroy_in_cb;
} sl;

/* Receives from every channel, into buf[i]. Capacity 1. */
static void sel_setup(void) {
  int i;

  memset(&sl, 0, sizeof(sl));
  ck_assert_int_eq(uv_loop_init(&sl.loop), 0);
  ck_assert_int_eq(uvev_waker_init(&sl.loop, &sl.waker), 0);
  for (i = 0; i < NCH; i++) {
    ck_assert_int_eq(uvev_chan_init(&sl.ch[i], 1, sizeof(uint64_t)), 0);
    sl.sel[i].ch = &sl.ch[i];
    sl.sel[i].dir = UVEV_CHAN_RECV;
    sl.sel[i].buf = &sl.buf[i];
  }
}

static void sel_teardown(void) {
  int i;

  uvev_waker_close(&sl.waker, NULL);
  run_loop(&sl.loop, WATCHDOG_MS);
  close_loop(&sl.loop);
  for (i = 0; i < NCH; i++) {
    ck_assert_uint_eq(uvev_event_waiters(&sl.ch[i].not_empty), 0);
    ck_assert_uint_eq(uvev_event_waiters(&sl.ch[i].not_full), 0);
    if (!sl.destroy_in_cb)
      ck_assert_int_eq(uvev_chan_destroy(&sl.ch[i]), 0);
  }
}

static void put(int i, uint64_t v) {
  ck_assert_int_eq(uvev_chan_try_send(&sl.ch[i], &v), 0);
}

static uint64_t get(int i) {
  uint64_t v;

  ck_assert_int_eq(uvev_chan_try_recv(&sl.ch[i], &v), 0);
  return v;
}

static void op_cb(uvev_chan_op_t* op, int status) {
  int i;

  chan_req_cb(op, status);
  if (!sl.destroy_in_cb)
    return;
  for (i = 0; i < NCH; i++)
    ck_assert_int_eq(uvev_chan_destroy(&sl.ch[i]), 0);
}

/* Elements in channels 1 and 2 at the start: the select takes 1's (the
 * first in order), and leaves 2's. The same for a blocking select. A send
 * entry with room completes as well. */
START_TEST(test_select_ready) {
  sel_setup();
  put(1, 11);
  put(2, 22);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, NCH, op_cb),
                   0);
  ck_assert_int_eq(sl.op.calls, 0);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.calls, 1);
  ck_assert_int_eq(sl.op.status, 1);
  ck_assert_int_eq(sl.sel[1].status, 0);
  ck_assert_uint_eq(sl.buf[1], 11);
  ck_assert_int_eq(sl.sel[0].status, UV_EAGAIN);
  ck_assert_int_eq(sl.sel[2].status, UV_EAGAIN);
  ck_assert_uint_eq(sl.buf[2], 0);
  ck_assert_int_eq(uvev_chan_select_sync(sl.sel, NCH), 2);
  ck_assert_int_eq(sl.sel[2].status, 0);
  ck_assert_uint_eq(sl.buf[2], 22);
  ck_assert_int_eq(uvev_chan_select_sync_timeout(sl.sel, NCH, 0),
                   UV_ETIMEDOUT);
  /* A receive on an empty channel, then a send with room. */
  sl.sel[1].dir = UVEV_CHAN_SEND;
  sl.buf[1] = 33;
  ck_assert_int_eq(uvev_chan_select_sync(sl.sel, 2), 1);
  ck_assert_int_eq(sl.sel[1].status, 0);
  ck_assert_uint_eq(get(1), 33);
  sl.buf[1] = 44;
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, 2, op_cb),
                   0);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.status, 1);
  ck_assert_uint_eq(get(1), 44);
  sel_teardown();
}
END_TEST

/* A pending loop select, then a thread sends on channel 2: the select
 * completes with 2 and the element. The channels refuse destroy while it is
 * pending, and allow it from its callback. */
static void sender_main(void* arg) {
  uint64_t v = 99;

  CHECK_ON_THREAD(uvev_chan_send_sync_timeout((uvev_chan_t*) arg, &v,
                                              WATCHDOG_MS) == 0);
}

START_TEST(test_select_wait) {
  uv_thread_t t;
  int i;

  sel_setup();
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, NCH, op_cb),
                   0);
  for (i = 0; i < NCH; i++)
    ck_assert_int_eq(uvev_chan_destroy(&sl.ch[i]), UV_EBUSY);
  ck_assert_int_eq(uv_thread_create(&t, sender_main, &sl.ch[2]), 0);
  sl.destroy_in_cb = 1;
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(uv_thread_join(&t), 0);
  ck_assert_int_eq(sl.op.calls, 1);
  ck_assert_int_eq(sl.op.status, 2);
  ck_assert_int_eq(sl.sel[2].status, 0);
  ck_assert_uint_eq(sl.buf[2], 99);
  sel_teardown();
}
END_TEST

/* A blocking select waiting on a full channel (send) and an empty one
 * (receive): a receive from the full one makes room, and the send
 * completes. */
static struct {
  uv_thread_t tid;
  uvev_chan_sel_t* sel;
  size_t n;
  int result;
} bs;

static void blocking_select_main(void* arg) {
  (void) arg;
  bs.result = uvev_chan_select_sync_timeout(bs.sel, bs.n, WATCHDOG_MS);
}

START_TEST(test_select_sync_wait) {
  sel_setup();
  put(0, 1);
  sl.sel[0].dir = UVEV_CHAN_SEND;
  sl.buf[0] = 2;
  bs.sel = sl.sel;
  bs.n = 2;
  ck_assert_int_eq(uv_thread_create(&bs.tid, blocking_select_main, NULL), 0);
  await_linked(&sl.ch[0].not_full, 1);
  await_linked(&sl.ch[1].not_empty, 1);
  ck_assert_uint_eq(get(0), 1);
  ck_assert_int_eq(uv_thread_join(&bs.tid), 0);
  ck_assert_int_eq(bs.result, 0);
  ck_assert_int_eq(sl.sel[0].status, 0);
  ck_assert_int_eq(sl.sel[1].status, UV_EAGAIN);
  ck_assert_uint_eq(get(0), 2);
  sel_teardown();
}
END_TEST

/* A channel closed during a select: its entry completes with UV_EOF (a
 * receive) or UV_EPIPE (a send), and the others move nothing. */
START_TEST(test_select_closed) {
  sel_setup();
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, NCH, op_cb),
                   0);
  uvev_chan_close(&sl.ch[1]);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.status, 1);
  ck_assert_int_eq(sl.sel[1].status, UV_EOF);
  /* Closed stays closed: the next select reports it again at once, and an
   * entry before it in the array that has an element comes first. */
  put(0, 5);
  ck_assert_int_eq(uvev_chan_select_sync(sl.sel, NCH), 0);
  ck_assert_int_eq(sl.sel[0].status, 0);
  ck_assert_int_eq(uvev_chan_select_sync(sl.sel, NCH), 1);
  ck_assert_int_eq(sl.sel[1].status, UV_EOF);

  /* A blocking select on a full channel's send and an empty one's
   * receive; the full one is closed. */
  put(2, 6);
  sl.sel[2].dir = UVEV_CHAN_SEND;
  bs.sel = sl.sel;
  bs.n = NCH;
  sl.sel[1].ch = &sl.ch[0];  /* receive from 0 (empty now), not closed 1 */
  ck_assert_int_eq(uv_thread_create(&bs.tid, blocking_select_main, NULL), 0);
  await_linked(&sl.ch[2].not_full, 1);
  uvev_chan_close(&sl.ch[2]);
  ck_assert_int_eq(uv_thread_join(&bs.tid), 0);
  ck_assert_int_eq(bs.result, 2);
  ck_assert_int_eq(sl.sel[2].status, UV_EPIPE);
  ck_assert_uint_eq(get(2), 6);  /* still there to drain */
  sel_teardown();
}
END_TEST

/* Timeout and cancel move nothing; a cancel after the element moved keeps
 * the index. */
START_TEST(test_select_timeout_cancel) {
  int i;

  sel_setup();
  ck_assert_int_eq(uvev_chan_select_timeout(&sl.waker, &sl.op.op, sl.sel,
                                            NCH, op_cb, 10), 0);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.status, UV_ETIMEDOUT);
  for (i = 0; i < NCH; i++)
    ck_assert_int_eq(sl.sel[i].status, UV_EAGAIN);
  ck_assert_int_eq(uvev_chan_select_sync_timeout(sl.sel, NCH, 10),
                   UV_ETIMEDOUT);

  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, NCH, op_cb),
                   0);
  ck_assert_int_eq(uvev_chan_cancel(&sl.op.op), 0);
  put(0, 7);  /* after the cancel: stays in the channel */
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.status, UV_ECANCELED);
  ck_assert_int_eq(sl.sel[0].status, UV_EAGAIN);
  ck_assert_int_eq(uvev_chan_cancel(&sl.op.op), UV_EINVAL);

  /* The element is there: the select takes it at once; a cancel then keeps
   * it. */
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, NCH, op_cb),
                   0);
  ck_assert_int_eq(uvev_chan_cancel(&sl.op.op), 0);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.status, 0);
  ck_assert_uint_eq(sl.buf[0], 7);
  ck_assert_int_eq(uvev_chan_try_recv(&sl.ch[0], &sl.buf[1]), UV_EAGAIN);
  sel_teardown();
}
END_TEST

/* The waker closes under a pending select: UV_ECANCELED, nothing moved,
 * and an element sent just before (its notification taken by the select)
 * reaches a blocking receiver behind it. */
static void recv_main(void* arg) {
  uint64_t v;

  CHECK_ON_THREAD(uvev_chan_recv_sync_timeout((uvev_chan_t*) arg, &v,
                                              WATCHDOG_MS) == 0);
  CHECK_ON_THREAD(v == 8);
}

START_TEST(test_select_waker_close) {
  uv_thread_t t;

  sel_setup();
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, NCH, op_cb),
                   0);
  ck_assert_int_eq(uv_thread_create(&t, recv_main, &sl.ch[1]), 0);
  await_linked(&sl.ch[1].not_empty, 2);
  put(1, 8);  /* notifies the select, first in line */
  uvev_waker_close(&sl.waker, NULL);
  ck_assert_int_eq(uv_thread_join(&t), 0);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(sl.op.calls, 1);
  ck_assert_int_eq(sl.op.status, UV_ECANCELED);
  ck_assert_int_eq(sl.sel[1].status, UV_EAGAIN);
  close_loop(&sl.loop);
  ck_assert_int_eq(uvev_chan_destroy(&sl.ch[0]), 0);
  ck_assert_int_eq(uvev_chan_destroy(&sl.ch[1]), 0);
  ck_assert_int_eq(uvev_chan_destroy(&sl.ch[2]), 0);
}
END_TEST

/* ---- exactly once ---------------------------------------------------------
 *
 * Producers 0..2 send `per` elements each into their own channel with
 * blocking sends; producer 3 sends `per` elements with a blocking select
 * over sends to all three. A loop and a thread receive with selects over
 * the three channels, each dropping an entry from its array when its
 * channel reports UV_EOF, until none is left. Every element arrives once
 * (count and checksum), and each receiver sees each producer's elements of
 * one channel in increasing order. */
enum { SP = 4 };

static struct {
  uvev_chan_t ch[NCH];
  unsigned long per;
  unsigned long long sent_sum;  /* atomic */
} ss;

typedef struct {
  uvev_chan_sel_t sel[NCH];
  uint64_t buf[NCH];
  size_t n;
  unsigned long count;
  unsigned long long sum;
  uint64_t last[SP][NCH];  /* last sequence + 1 per producer and channel */
  uvev_chan_op_t op;
  uvev_waker_t* waker;
} sreceiver_t;

static uint64_t mix(uint64_t v) {
  v ^= v >> 31;
  v *= 0x9e3779b97f4a7c15ULL;
  v ^= v >> 29;
  return v;
}

static void sreceiver_init(sreceiver_t* r) {
  int i;

  memset(r, 0, sizeof(*r));
  for (i = 0; i < NCH; i++) {
    r->sel[i].ch = &ss.ch[i];
    r->sel[i].dir = UVEV_CHAN_RECV;
    r->sel[i].buf = &r->buf[i];
  }
  r->n = NCH;
}

/* Accounts for what entry i of the select did; drops it on UV_EOF. */
static void sreceiver_take(sreceiver_t* r, int i) {
  uint64_t v;
  uint64_t p;
  uint64_t seq;
  int c;

  CHECK_ON_THREAD(i >= 0 && (size_t) i < r->n);
  if (r->sel[i].status == UV_EOF) {
    memmove(&r->sel[i], &r->sel[i + 1], (r->n - i - 1) * sizeof(r->sel[0]));
    r->n--;
    return;
  }
  CHECK_ON_THREAD(r->sel[i].status == 0);
  v = *(uint64_t*) r->sel[i].buf;
  c = (int) (r->sel[i].ch - ss.ch);
  p = v >> 40;
  seq = v & ((1ULL << 40) - 1);
  CHECK_ON_THREAD(p < SP);
  CHECK_ON_THREAD(seq >= r->last[p][c]);
  r->last[p][c] = seq + 1;
  r->count++;
  r->sum += mix(v);
}

static void sloop_cb(uvev_chan_op_t* op, int status) {
  sreceiver_t* r = (sreceiver_t*) op->data;

  sreceiver_take(r, status);
  if (r->n > 0)
    CHECK_ON_THREAD(uvev_chan_select(r->waker, op, r->sel, r->n, sloop_cb) ==
                    0);
}

static void sloop_setup(loop_thread_t* lt) {
  sreceiver_t* r = (sreceiver_t*) lt->arg;

  r->waker = &lt->waker;
  r->op.data = r;
  CHECK_ON_THREAD(uvev_chan_select(r->waker, &r->op, r->sel, r->n,
                                   sloop_cb) == 0);
}

static void sthread_main(void* arg) {
  sreceiver_t* r = (sreceiver_t*) arg;

  while (r->n > 0)
    sreceiver_take(r, uvev_chan_select_sync_timeout(r->sel, r->n,
                                                    WATCHDOG_MS));
}

static void sproducer_main(void* arg) {
  int p = (int) (intptr_t) arg;
  uvev_chan_sel_t sel[NCH];
  uint64_t v;
  unsigned long long sum;
  unsigned long k;
  int i;

  memset(sel, 0, sizeof(sel));
  sum = 0;
  for (k = 0; k < ss.per; k++) {
    v = (uint64_t) p << 40 | k;
    if (p < NCH) {
      CHECK_ON_THREAD(uvev_chan_send_sync_timeout(&ss.ch[p], &v,
                                                  WATCHDOG_MS) == 0);
    } else {
      /* Rotated, so that no channel is always first. */
      for (i = 0; i < NCH; i++) {
        sel[i].ch = &ss.ch[(k + i) % NCH];
        sel[i].dir = UVEV_CHAN_SEND;
        sel[i].buf = &v;
      }
      i = uvev_chan_select_sync_timeout(sel, NCH, WATCHDOG_MS);
      CHECK_ON_THREAD(i >= 0 && sel[i].status == 0);
    }
    sum += mix(v);
  }
  __atomic_add_fetch(&ss.sent_sum, sum, __ATOMIC_RELAXED);
}

static double sel_scale(void) {
  const char* s = getenv("UVEV_STRESS_SCALE");

  return s != NULL ? atof(s) : 1.0;
}

START_TEST(test_select_stream) {
  loop_thread_t lt;
  uv_thread_t th;
  uv_thread_t prod[SP];
  sreceiver_t lr;
  sreceiver_t tr;
  unsigned long total;
  int i;

  memset(&ss, 0, sizeof(ss));
  ss.per = (unsigned long) (20000 * sel_scale());
  if (ss.per < 200)
    ss.per = 200;
  for (i = 0; i < NCH; i++)
    ck_assert_int_eq(uvev_chan_init(&ss.ch[i], 1 + 3 * i, sizeof(uint64_t)),
                     0);
  sreceiver_init(&lr);
  sreceiver_init(&tr);
  loop_thread_start(&lt, sloop_setup, &lr, 0);
  ck_assert_int_eq(uv_thread_create(&th, sthread_main, &tr), 0);
  for (i = 0; i < SP; i++)
    ck_assert_int_eq(uv_thread_create(&prod[i], sproducer_main,
                                      (void*) (intptr_t) i), 0);
  for (i = 0; i < SP; i++)
    ck_assert_int_eq(uv_thread_join(&prod[i]), 0);
  for (i = 0; i < NCH; i++)
    uvev_chan_close(&ss.ch[i]);
  loop_thread_join(&lt);
  ck_assert_int_eq(uv_thread_join(&th), 0);
  total = (unsigned long) SP * ss.per;
  ck_assert_uint_eq(lr.count + tr.count, total);
  ck_assert_uint_eq(lr.sum + tr.sum, ss.sent_sum);
  for (i = 0; i < NCH; i++)
    ck_assert_int_eq(uvev_chan_destroy(&ss.ch[i]), 0);
}
END_TEST

/* ---- misuse -------------------------------------------------------------- */

START_TEST(test_select_misuse) {
  uvev_chan_sel_t many[UVEV_ANY_MAX + 1];
  uvev_chan_sel_t bad[2];
  chan_req_t busy;
  int i;

  sel_setup();
  memset(&busy, 0, sizeof(busy));
  memset(many, 0, sizeof(many));
  for (i = 0; i <= UVEV_ANY_MAX; i++) {
    many[i].ch = &sl.ch[0];
    many[i].dir = UVEV_CHAN_RECV;
    many[i].buf = &sl.buf[0];
  }
  ck_assert_int_eq(uvev_chan_select(NULL, &sl.op.op, sl.sel, 1, op_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, NULL, sl.sel, 1, op_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, NULL, 1, op_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, 1, NULL),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, 0, op_cb),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, many,
                                    UVEV_ANY_MAX + 1, op_cb), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select_timeout(&sl.waker, &sl.op.op, many,
                                            UVEV_ANY_MAX + 1, op_cb, 5),
                   UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select_sync(NULL, 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select_sync(sl.sel, 0), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select_sync(many, UVEV_ANY_MAX + 1), UV_EINVAL);
  ck_assert_int_eq(uvev_chan_select_sync_timeout(NULL, 1, 5), UV_EINVAL);
  for (i = 0; i < 4; i++) {
    bad[0] = sl.sel[0];
    bad[1] = sl.sel[1];
    bad[1].status = 12345;
    if (i == 0)
      bad[1].ch = NULL;
    else if (i == 1)
      bad[1].buf = NULL;
    else if (i == 2)
      bad[1].dir = 0;
    else
      bad[1].dir = UVEV_CHAN_RECV + 1;
    ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, bad, 2, op_cb),
                     UV_EINVAL);
    ck_assert_int_eq(uvev_chan_select_sync(bad, 2), UV_EINVAL);
    ck_assert_int_eq(uvev_chan_select_sync_timeout(bad, 2, 5), UV_EINVAL);
    /* Changed nothing, not even the statuses. */
    ck_assert_int_eq(bad[1].status, 12345);
  }
  /* UVEV_ANY_MAX entries (the same channel in all) work; an active op
   * refuses another start, as select or as a single operation. */
  put(0, 3);
  ck_assert_int_eq(uvev_chan_select_sync(many, UVEV_ANY_MAX), 0);
  ck_assert_uint_eq(sl.buf[0], 3);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &busy.op, many, UVEV_ANY_MAX,
                                    chan_req_cb), 0);
  ck_assert_uint_eq(waiters_linked(&sl.ch[0].not_empty), UVEV_ANY_MAX);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &busy.op, sl.sel, 2,
                                    chan_req_cb), UV_EBUSY);
  ck_assert_int_eq(uvev_chan_recv(&sl.waker, &busy.op, &sl.ch[1], &sl.buf[1],
                                  chan_req_cb), UV_EBUSY);
  ck_assert_uint_eq(waiters_linked(&sl.ch[1].not_empty), 0);
  ck_assert_int_eq(uvev_chan_cancel(&busy.op), 0);
  run_loop(&sl.loop, WATCHDOG_MS);
  ck_assert_int_eq(busy.calls, 1);
  ck_assert_int_eq(busy.status, UV_ECANCELED);
  ck_assert_int_eq(sl.op.calls, 0);
  /* A closing waker refuses. */
  uvev_waker_close(&sl.waker, NULL);
  ck_assert_int_eq(uvev_chan_select(&sl.waker, &sl.op.op, sl.sel, 1, op_cb),
                   UV_EINVAL);
  run_loop(&sl.loop, WATCHDOG_MS);
  close_loop(&sl.loop);
  for (i = 0; i < NCH; i++)
    ck_assert_int_eq(uvev_chan_destroy(&sl.ch[i]), 0);
}
END_TEST

TCase* select_case(void) {
  TCase* tc;

  tc = test_case("select", 0);
  tcase_add_test(tc, test_select_ready);
  tcase_add_test(tc, test_select_wait);
  tcase_add_test(tc, test_select_sync_wait);
  tcase_add_test(tc, test_select_closed);
  tcase_add_test(tc, test_select_timeout_cancel);
  tcase_add_test(tc, test_select_waker_close);
  tcase_add_test(tc, test_select_stream);
  tcase_add_test(tc, test_select_misuse);
  return tc;
}
