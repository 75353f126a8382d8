/* test_stress.c: the stress suite, with exact accounting.
 *
 * Tokens: producer threads add 10^6 tokens to one event, each with
 * notify_one, while 3 loops (2 waits each) and 2 blocking threads consume
 * them. The pool holds at most POOL tokens: producers block on a second
 * event until there is room, so most tokens pass through a wake-up on both
 * sides. Every consumer has a fixed quota and stops when it is met, and there
 * is no final notify_all: a lost wake-up leaves a token in the pool while its
 * consumer sleeps, and the watchdog fails the run. Every token is consumed
 * exactly once: the quotas add up to the total, the pool ends empty, and a
 * consumer never takes more than its quota.
 *
 * UVEV_STRESS_SCALE (default 1) multiplies the tokens by a factor (use a
 * fraction such as 0.1 under valgrind); UVEV_STRESS_ROUNDS (default 3) sets
 * the repetitions.
 */
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "stream.h"

enum {
  LOOPS = 3,
  WAITS_PER_LOOP = 2,
  THREADS = 2,
  PRODUCERS = 2,
  CONSUMERS = LOOPS * WAITS_PER_LOOP + THREADS,
  POOL = 2
};

static unsigned long env_tokens(unsigned long base) {
  const char* s = getenv("UVEV_STRESS_SCALE");
  double scale = s != NULL ? atof(s) : 1.0;
  unsigned long n = (unsigned long) (base * scale);
  /* A multiple of the consumers and producers, at least one round each. */
  n -= n % (CONSUMERS * PRODUCERS);
  return n > 0 ? n : CONSUMERS * PRODUCERS;
}

static int env_rounds(void) {
  const char* s = getenv("UVEV_STRESS_ROUNDS");
  int n = s != NULL ? atoi(s) : 3;
  return n > 0 ? n : 1;
}

typedef struct {
  uvev_wait_t req;
  unsigned long quota;
  unsigned long taken;
} consumer_t;

static struct {
  uvev_event_t ev;
  tokens_t tokens;
  unsigned long total;
  uvev_event_t room;
  unsigned long empty_checks;
  consumer_t c[CONSUMERS];
  uvev_waker_t* waker[LOOPS];
} st;

/* Takes a token for the consumer; the wait ends on each token. */
/* Takes a token for the consumer (the wait ends on each token) and tells
 * the producers there is room. */
static int st_pred(void* arg) {
  consumer_t* c = arg;

  if (!tokens_take(&st.tokens)) {
    __atomic_fetch_add(&st.empty_checks, 1, __ATOMIC_RELAXED);
    return 0;
  }
  c->taken++;
  test_progress();
  uvev_notify_one(&st.room);
  return 1;
}

/* Puts a token in the pool if it holds fewer than POOL. */
static int st_put(void* arg) {
  long n = __atomic_load_n(&st.tokens.count, __ATOMIC_RELAXED);

  while (n < POOL) {
    if (__atomic_compare_exchange_n(&st.tokens.count, &n, n + 1, 1,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
      return 1;
  }
  return 0;
}

static void st_loop_cb(uvev_wait_t* req, int status) {
  consumer_t* c = (consumer_t*) req;

  CHECK_ON_THREAD(status == 0);
  CHECK_ON_THREAD(c->taken <= c->quota);
  if (c->taken == c->quota)
    return;
  CHECK_ON_THREAD(uvev_wait(st.waker[(c - st.c) / WAITS_PER_LOOP], req,
                            &st.ev, st_pred, st_loop_cb) == 0);
}

static void st_loop_setup(loop_thread_t* lt) {
  int i;

  st.waker[lt->index] = &lt->waker;
  for (i = 0; i < WAITS_PER_LOOP; i++) {
    consumer_t* c = &st.c[lt->index * WAITS_PER_LOOP + i];
    c->req.data = c;
    CHECK_ON_THREAD(uvev_wait(&lt->waker, &c->req, &st.ev, st_pred,
                              st_loop_cb) == 0);
  }
}

static void st_thread(void* arg) {
  consumer_t* c = arg;
  int err;

  while (c->taken < c->quota) {
    err = uvev_wait_sync_timeout(&st.ev, st_pred, c, WATCHDOG_MS);
    if (err != 0)
      die("stress: blocking consumer: %s with %lu of %lu taken, %ld in pool",
          uv_strerror(err), c->taken, c->quota, st.tokens.count);
  }
}

static void st_producer(void* arg) {
  unsigned long n = st.total / PRODUCERS;
  unsigned long i;

  int err;

  for (i = 0; i < n; i++) {
    err = uvev_wait_sync_timeout(&st.room, st_put, NULL, WATCHDOG_MS);
    if (err != 0)
      die("stress: producer: %s at %lu of %lu", uv_strerror(err), i, n);
    uvev_notify_one(&st.ev);
  }
}

START_TEST(test_stress_tokens) {
  loop_thread_t lt[LOOPS];
  uv_thread_t consumer[THREADS];
  uv_thread_t producer[PRODUCERS];
  unsigned long sum;
  uint64_t start;
  int rounds;
  int round;
  int i;

  rounds = env_rounds();
  for (round = 0; round < rounds; round++) {
    memset(&st, 0, sizeof(st));
    st.total = env_tokens(1000000);
    ck_assert_int_eq(uvev_event_init(&st.ev), 0);
    ck_assert_int_eq(uvev_event_init(&st.room), 0);
    for (i = 0; i < CONSUMERS; i++)
      st.c[i].quota = st.total / CONSUMERS;
    start = uv_hrtime();
    for (i = 0; i < LOOPS; i++)
      loop_thread_start(&lt[i], st_loop_setup, NULL, i);
    for (i = 0; i < THREADS; i++)
      ck_assert_int_eq(uv_thread_create(&consumer[i], st_thread,
                                        &st.c[LOOPS * WAITS_PER_LOOP + i]), 0);
    for (i = 0; i < PRODUCERS; i++)
      ck_assert_int_eq(uv_thread_create(&producer[i], st_producer, NULL), 0);

    for (i = 0; i < PRODUCERS; i++)
      ck_assert_int_eq(uv_thread_join(&producer[i]), 0);
    for (i = 0; i < THREADS; i++)
      ck_assert_int_eq(uv_thread_join(&consumer[i]), 0);
    for (i = 0; i < LOOPS; i++)
      loop_thread_join(&lt[i]);

    sum = 0;
    for (i = 0; i < CONSUMERS; i++) {
      ck_assert_uint_eq(st.c[i].taken, st.c[i].quota);
      sum += st.c[i].taken;
    }
    ck_assert_uint_eq(sum, st.total);
    ck_assert_int_eq(st.tokens.count, 0);
    ck_assert_uint_eq(waiters_linked(&st.ev), 0);
    ck_assert_uint_eq(waiters_linked(&st.room), 0);
    ck_assert_int_eq(uvev_event_destroy(&st.ev), 0);
    ck_assert_int_eq(uvev_event_destroy(&st.room), 0);
    printf("stress tokens: round %d: %lu tokens through a pool of %d, "
           "%d producers, %d loops x %d waits + %d threads: exactly once in "
           "%.2f s (%lu empty checks)\n",
           round + 1, st.total, POOL, PRODUCERS, LOOPS, WAITS_PER_LOOP,
           THREADS, (uv_hrtime() - start) / 1e9, st.empty_checks);
    fflush(stdout);
  }
}
END_TEST

/* Channel streams, exactly once by count and checksum (stream.c). */
static void chan_stream(const char* what, int pt, int pl, int ct, int cl,
                        size_t cap, unsigned long total, int chaos) {
  stream_config_t cfg;
  stream_result_t res;
  int rounds = env_rounds();
  int round;

  memset(&cfg, 0, sizeof(cfg));
  cfg.producer_threads = pt;
  cfg.producer_loops = pl;
  cfg.consumer_threads = ct;
  cfg.consumer_loops = cl;
  cfg.capacity = cap;
  cfg.per_producer = env_tokens(total) / (unsigned long) (pt + pl);
  cfg.chaos = chaos;
  for (round = 0; round < rounds; round++) {
    stream_run(&cfg, &res);
    printf("stress chan: round %d: %s, capacity %zu: %lu elements exactly "
           "once in %.2f s\n", round + 1, what, cap, res.count,
           res.seconds_x1000 / 1e3);
    fflush(stdout);
  }
}

START_TEST(test_stress_chan_threads_to_loop) {
  chan_stream("2 threads (blocking send) -> 1 loop (async recv)", 2, 0, 0, 1,
              64, 1000000, 0);
}
END_TEST

START_TEST(test_stress_chan_loop_to_threads) {
  chan_stream("1 loop (async send) -> 2 threads (blocking recv)", 0, 1, 2, 0,
              64, 1000000, 0);
}
END_TEST

START_TEST(test_stress_chan_mpmc) {
  chan_stream("3 threads -> 2 loops + 2 threads", 3, 0, 2, 2, 64, 1000000, 0);
}
END_TEST

START_TEST(test_stress_chan_chaos) {
  chan_stream("cancel and timeout mid-stream: 2 threads + 1 loop -> "
              "2 loops + 1 thread", 2, 1, 1, 2, 16, 100000, 1);
}
END_TEST

TCase* stress_case(void) {
  TCase* tc;

  tc = test_case("stress", 1);
  tcase_add_test(tc, test_stress_tokens);
  tcase_add_test(tc, test_stress_chan_threads_to_loop);
  tcase_add_test(tc, test_stress_chan_loop_to_threads);
  tcase_add_test(tc, test_stress_chan_mpmc);
  tcase_add_test(tc, test_stress_chan_chaos);
  return tc;
}
