/* test_race.c: the close-versus-notify race suite.
 *
 * Wakers closed (and freed in their close callback) while other threads
 * notify the events their requests wait on; channels closed while other
 * threads and a loop send and receive. Exact accounting in every round:
 * every request called back once, every element that a send accepted
 * received exactly once. Meant to run under TSan and ASan, where a touch of
 * freed or unsynchronised memory is reported.
 *
 * UVEV_RACE_ROUNDS (default 50000) sets the rounds of each test: the two
 * tests together make 10^5 rounds by default.
 */
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static int env_race_rounds(void) {
  const char* s = getenv("UVEV_RACE_ROUNDS");
  int n = s != NULL ? atoi(s) : 50000;
  return n > 0 ? n : 1;
}

/* ---- wakers closed under notifiers ------------------------------------------ */

static struct {
  uvev_event_t ev[2];
  int stop;
  counter_t started;
} wr;

static void wr_notifier(void* arg) {
  uintptr_t k = (uintptr_t) arg;
  unsigned long i;

  counter_add(&wr.started, 1);
  for (i = 0; !__atomic_load_n(&wr.stop, __ATOMIC_ACQUIRE); i++) {
    if (i % 3 == 0)
      uvev_notify_all(&wr.ev[k]);
    else
      uvev_notify_one(&wr.ev[k]);
  }
}

static void wr_close_cb(uvev_waker_t* w) {
  int* closed = w->data;
  memset(w, 0xdd, sizeof(*w));
  free(w);
  *closed += 1;
}

typedef struct {
  uvev_wait_t req;
  int calls;
  int status;
} wr_req_t;

static void wr_cb(uvev_wait_t* req, int status) {
  wr_req_t* r = (wr_req_t*) req;
  r->calls++;
  r->status = status;
}

static int wr_never(void* arg) {
  return 0;
}

void race_waker_close(int rounds) {
  enum { WAITS = 6 };
  uv_thread_t tid[2];
  uv_loop_t loop;
  uvev_waker_t* waker;
  wr_req_t req[WAITS];
  int round, closed, i;

  memset(&wr, 0, sizeof(wr));
  counter_init(&wr.started);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uvev_event_init(&wr.ev[i]), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_create(&tid[i], wr_notifier,
                                      (void*) (uintptr_t) i), 0);
  wait_until_count(&wr.started, 2);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  for (round = 0; round < rounds; round++) {
    waker = malloc(sizeof(*waker));
    ck_assert_ptr_nonnull(waker);
    ck_assert_int_eq(uvev_waker_init(&loop, waker), 0);
    closed = 0;
    waker->data = &closed;
    memset(req, 0, sizeof(req));
    for (i = 0; i < WAITS; i++) {
      /* Some with deadlines (far enough never to pass, even under TSan),
       * so the close also meets the heap and the timer. */
      if (i % 2)
        ck_assert_int_eq(uvev_wait_timeout(waker, &req[i].req,
                                           &wr.ev[i % 2], wr_never, wr_cb,
                                           3600 * 1000), 0);
      else
        ck_assert_int_eq(uvev_wait(waker, &req[i].req, &wr.ev[i % 2],
                                   wr_never, wr_cb), 0);
    }
    /* Let some notifications through, then close in the middle of them. */
    for (i = 0; i < round % 3; i++)
      uv_run(&loop, UV_RUN_NOWAIT);
    uvev_waker_close(waker, wr_close_cb);
    run_loop(&loop, WATCHDOG_MS);
    ck_assert_int_eq(closed, 1);
    for (i = 0; i < WAITS; i++) {
      ck_assert_int_eq(req[i].calls, 1);
      ck_assert_int_eq(req[i].status, UV_ECANCELED);
    }
  }
  close_loop(&loop);
  __atomic_store_n(&wr.stop, 1, __ATOMIC_RELEASE);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
  for (i = 0; i < 2; i++)
    ck_assert_int_eq(uvev_event_destroy(&wr.ev[i]), 0);
  counter_destroy(&wr.started);
}

START_TEST(test_race_waker_close) {
  race_waker_close(env_race_rounds());
}
END_TEST

/* ---- channels closed under senders and receivers ---------------------------- */

/* Persistent threads run the rounds in lockstep with the test's loop: a
 * sender and a receiver with blocking calls, and a closer that closes the
 * channel after a round-dependent number of spins. On the loop, an async
 * sender and an async receiver run until UV_EPIPE / UV_EOF. */
static struct {
  uvev_chan_t ch;
  uv_barrier_t start;
  uv_barrier_t end;
  int rounds;
  int round;
  /* per round, per side: accepted sends and their checksum, receives */
  unsigned long sent[2];
  uint64_t sent_sum[2];
  unsigned long got[2];
  uint64_t got_sum[2];
  /* the loop side */
  uvev_chan_op_t send_op;
  uvev_chan_op_t recv_op;
  uint64_t send_elem;
  uint64_t recv_elem;
  uvev_waker_t* waker;
} cr;

static uint64_t cr_value(int side, unsigned long i) {
  return ((uint64_t) side << 56 | i) * 0x9e3779b97f4a7c15ull;
}

static void cr_sender(void* arg) {
  unsigned long i;
  uint64_t v;
  int round, err;

  for (round = 0; round < cr.rounds; round++) {
    uv_barrier_wait(&cr.start);
    for (i = 0;; i++) {
      v = cr_value(0, i);
      err = uvev_chan_send_sync_timeout(&cr.ch, &v, WATCHDOG_MS);
      if (err == UV_EPIPE)
        break;
      CHECK_ON_THREAD(err == 0);
      cr.sent[0]++;
      cr.sent_sum[0] += v;
    }
    uv_barrier_wait(&cr.end);
  }
}

static void cr_receiver(void* arg) {
  uint64_t v;
  int round, err;

  for (round = 0; round < cr.rounds; round++) {
    uv_barrier_wait(&cr.start);
    for (;;) {
      err = uvev_chan_recv_sync_timeout(&cr.ch, &v, WATCHDOG_MS);
      if (err == UV_EOF)
        break;
      CHECK_ON_THREAD(err == 0);
      cr.got[0]++;
      cr.got_sum[0] += v;
    }
    uv_barrier_wait(&cr.end);
  }
}

static void cr_closer(void* arg) {
  volatile unsigned spin;
  int round;

  for (round = 0; round < cr.rounds; round++) {
    uv_barrier_wait(&cr.start);
    for (spin = 0; spin < (unsigned) (round % 64) * 50; spin++)
      ;
    uvev_chan_close(&cr.ch);
    uv_barrier_wait(&cr.end);
  }
}

static void cr_send_next(void);
static void cr_recv_next(void);

static void cr_on_sent(uvev_chan_op_t* op, int status) {
  if (status == UV_EPIPE)
    return;
  CHECK_ON_THREAD(status == 0);
  cr.sent[1]++;
  cr.sent_sum[1] += cr.send_elem;
  cr_send_next();
}

static void cr_send_next(void) {
  cr.send_elem = cr_value(1, cr.sent[1]);
  CHECK_ON_THREAD(uvev_chan_send(cr.waker, &cr.send_op, &cr.ch, &cr.send_elem,
                                 cr_on_sent) == 0);
}

static void cr_on_recv(uvev_chan_op_t* op, int status) {
  if (status == UV_EOF)
    return;
  CHECK_ON_THREAD(status == 0);
  cr.got[1]++;
  cr.got_sum[1] += cr.recv_elem;
  cr_recv_next();
}

static void cr_recv_next(void) {
  CHECK_ON_THREAD(uvev_chan_recv(cr.waker, &cr.recv_op, &cr.ch, &cr.recv_elem,
                                 cr_on_recv) == 0);
}

static void cr_dump(void) {
  struct uvev__ring* r = &cr.ch.ring;
  uint64_t i;

  uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
  uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

  fprintf(stderr, "round %d: capacity %llu head %llu tail %llu (raw %llu, "
          "closed %d); idle active %d\n",
          cr.round, (unsigned long long) r->capacity,
          (unsigned long long) (head >> 1), (unsigned long long) (tail >> 1),
          (unsigned long long) tail, (int) (tail & 1),
          uv_is_active((uv_handle_t*) &cr.waker->idle));
  for (i = 0; i < r->capacity; i++)
    fprintf(stderr, "  cell %llu seq %llu\n", (unsigned long long) i,
            (unsigned long long) *(uint64_t*) (r->cells + i * r->stride));
  fprintf(stderr, "  linked: not_empty %u not_full %u; nwaits %lu %lu\n",
          waiters_linked(&cr.ch.not_empty), waiters_linked(&cr.ch.not_full),
          cr.ch.not_empty.nwaits, cr.ch.not_full.nwaits);
  fprintf(stderr, "  send op flags %u in_wait_set %d result %d; recv op "
          "flags %u in_wait_set %d result %d\n", cr.send_op.wait.flags,
          cr.send_op.wait.node.in_wait_set, cr.send_op.result,
          cr.recv_op.wait.flags, cr.recv_op.wait.node.in_wait_set,
          cr.recv_op.result);
#ifdef _WIN32
# define ASYNC_PENDING async_sent  /* libuv's name for it on Windows */
#else
# define ASYNC_PENDING pending
#endif
  fprintf(stderr, "  waker nactive %u ready %p local %p async pending %d\n",
          cr.waker->nactive, (void*) cr.waker->ready.head,
          (void*) cr.waker->local_head, (int) cr.waker->async.ASYNC_PENDING);
  fprintf(stderr, "  sent %lu/%lu got %lu/%lu\n", cr.sent[0], cr.sent[1],
          cr.got[0], cr.got[1]);
}

START_TEST(test_race_chan_close) {
  uv_thread_t tid[3];
  uv_loop_t loop;
  uvev_waker_t waker;
  uint64_t v;
  int i;

  memset(&cr, 0, sizeof(cr));
  watchdog_dump = cr_dump;
  cr.rounds = env_race_rounds();
  cr.waker = &waker;
  ck_assert_int_eq(uv_barrier_init(&cr.start, 4), 0);
  ck_assert_int_eq(uv_barrier_init(&cr.end, 4), 0);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &waker), 0);
  ck_assert_int_eq(uv_thread_create(&tid[0], cr_sender, NULL), 0);
  ck_assert_int_eq(uv_thread_create(&tid[1], cr_receiver, NULL), 0);
  ck_assert_int_eq(uv_thread_create(&tid[2], cr_closer, NULL), 0);
  for (cr.round = 0; cr.round < cr.rounds; cr.round++) {
    ck_assert_int_eq(uvev_chan_init(&cr.ch, 1 + cr.round % 4,
                                    sizeof(uint64_t)), 0);
    memset(cr.sent, 0, sizeof(cr.sent));
    memset(cr.sent_sum, 0, sizeof(cr.sent_sum));
    memset(cr.got, 0, sizeof(cr.got));
    memset(cr.got_sum, 0, sizeof(cr.got_sum));
    cr_send_next();
    cr_recv_next();
    uv_barrier_wait(&cr.start);
    run_loop(&loop, WATCHDOG_MS);
    uv_barrier_wait(&cr.end);
    /* Both receivers saw UV_EOF: nothing may be left behind (a send that
     * succeeded after EOF would be a lost element). */
    ck_assert_int_eq(uvev_chan_try_recv(&cr.ch, &v), UV_EOF);
    ck_assert_uint_eq(cr.got[0] + cr.got[1], cr.sent[0] + cr.sent[1]);
    ck_assert_uint_eq(cr.got_sum[0] + cr.got_sum[1],
                      cr.sent_sum[0] + cr.sent_sum[1]);
    ck_assert_int_eq(uvev_chan_destroy(&cr.ch), 0);
  }
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(uv_thread_join(&tid[i]), 0);
  uvev_waker_close(&waker, NULL);
  run_loop(&loop, WATCHDOG_MS);
  close_loop(&loop);
  uv_barrier_destroy(&cr.start);
  uv_barrier_destroy(&cr.end);
}
END_TEST

TCase* race_case(void) {
  TCase* tc;

  tc = test_case("close", 1);
  tcase_add_test(tc, test_race_waker_close);
  tcase_add_test(tc, test_race_chan_close);
  return tc;
}
