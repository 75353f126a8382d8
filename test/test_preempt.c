/* test_preempt.c: uvev-preempt-tests, channel streams under random
 * preemption. The library is built for it with -DUVEV__PREEMPT_HOOK, so
 * every ring operation calls uvev__preempt() between its claim and its
 * publish (src/atomic.h); this file's uvev__preempt() mostly returns, now and
 * then yields, and rarely sleeps a few microseconds, which opens the window
 * where another thread sees the operation half done. 3 producers and 3
 * consumers at capacities 1 to 4 must account for every element (stream.c),
 * with single operations and with batches.
 *
 * Many short streams rather than one long one: a stream that keeps moving
 * makes up for a lost wake-up with the next send, so each stream ends with
 * no close, its consumers taking exact shares, and its last elements reach
 * them by wake-ups alone. A blocking operation that needs its whole timeout
 * fails the run; so does a loop consumer left waiting (the loop watchdog).
 *
 * UVEV_PREEMPT_SEED sets the seed (printed at the start); each thread seeds
 * its own generator from it and the order it first got here.
 * UVEV_STRESS_SCALE scales the streams.
 */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "stream.h"

#define OP_TIMEOUT_MS 3000
#define STREAMS 500
#define PER_PRODUCER 20

static uint64_t base_seed;
static unsigned threads_seen;  /* atomic */
static __thread uint64_t rnd;

static uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void uvev__preempt(void);

void uvev__preempt(void) {
  struct timespec ts;
  unsigned n;

  if (rnd == 0) {
    n = __atomic_fetch_add(&threads_seen, 1, __ATOMIC_RELAXED);
    rnd = mix64(base_seed + n) | 1;
  }
  rnd ^= rnd << 13;
  rnd ^= rnd >> 7;
  rnd ^= rnd << 17;
  /* Of 1000: 900 nothing, 95 a yield, 5 a sleep of 1 to 20 us. */
  switch (rnd % 1000 < 900 ? 0 : rnd % 1000 < 995 ? 1 : 2) {
    case 0:
      return;
    case 1:
      sched_yield();
      return;
    default:
      ts.tv_sec = 0;
      ts.tv_nsec = 1000 + (long) ((rnd >> 32) % 19000);
      nanosleep(&ts, NULL);
  }
}

static int streams(void) {
  const char* s = getenv("UVEV_STRESS_SCALE");
  double scale = s != NULL ? atof(s) : 1.0;
  int n = (int) (STREAMS * scale);

  return n > 0 ? n : 1;
}

static void preempt_streams(int consumer_loops, unsigned batch) {
  stream_config_t cfg;
  stream_result_t res;
  unsigned long count;
  uint64_t start;
  size_t cap;
  int i, n;

  n = streams();
  for (cap = 1; cap <= 4; cap++) {
    memset(&cfg, 0, sizeof(cfg));
    cfg.producer_threads = 3;
    cfg.consumer_threads = 3 - consumer_loops;
    cfg.consumer_loops = consumer_loops;
    cfg.capacity = cap;
    cfg.per_producer = PER_PRODUCER;
    cfg.op_timeout_ms = OP_TIMEOUT_MS;
    cfg.quota = 1;
    cfg.batch = batch;
    count = 0;
    start = uv_hrtime();
    for (i = 0; i < n; i++) {
      stream_run(&cfg, &res);
      count += res.count;
    }
    printf("preempt: 3 threads -> %d threads + %d loop, capacity %zu%s: %d "
           "streams, %lu elements exactly once in %.2f s\n",
           3 - consumer_loops, consumer_loops, cap,
           batch ? ", batches" : "", n, count,
           (uv_hrtime() - start) / 1e9);
    fflush(stdout);
  }
}

START_TEST(test_preempt_threads) {
  preempt_streams(0, 0);
}
END_TEST

START_TEST(test_preempt_loop) {
  preempt_streams(1, 0);
}
END_TEST

/* Batches of 1 to 4: a batch stops before an operation stalled in flight,
 * and its one notify must wake as many peers as it moved. */
START_TEST(test_preempt_batch) {
  preempt_streams(1, 4);
}
END_TEST

static void fixture_setup(void) {
  wd_arm(60);
}

static void fixture_teardown(void) {
  wd_disarm();
}

int main(void) {
  const char* s;
  SRunner* sr;
  Suite* suite;
  TCase* tc;
  int failed;

  s = getenv("UVEV_PREEMPT_SEED");
  base_seed = s != NULL ? strtoull(s, NULL, 0) : uv_hrtime();
  printf("preempt: seed %llu (UVEV_PREEMPT_SEED)\n",
         (unsigned long long) base_seed);
  fflush(stdout);
  suite = suite_create("preempt");
  tc = tcase_create("stream");
  tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_preempt_threads);
  tcase_add_test(tc, test_preempt_loop);
  tcase_add_test(tc, test_preempt_batch);
  suite_add_tcase(suite, tc);
  sr = srunner_create(suite);
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
