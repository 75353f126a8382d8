/* helpers.h: what the Check suites share: watchdogs, loop threads, tokens.
 *
 * Watchdogs. A lost wake-up must fail fast, never hang:
 *  - every test arms a process alarm (wd_arm) in its fixture;
 *  - every loop is run by run_loop(), which fails if the loop is still
 *    running after a bound (an unref'd timer, so it never keeps the loop
 *    alive itself), or, in a test that reports its progress, after a bound
 *    with no progress;
 *  - every blocking wait uses a timeout variant, or wait_until_count().
 * Threads other than the test's own report failures with die(), which
 * aborts: Check cannot catch an assertion made on another thread.
 */
#ifndef UVEV_TEST_HELPERS_H_
#define UVEV_TEST_HELPERS_H_

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "uvev.h"

/* Timeouts, all of them here. WATCHDOG_MS bounds one loop run or one
 * blocking wait. A test case's bound (Check's timeout, and the process alarm
 * its fixture arms, which also holds with CK_FORK=no where Check enforces no
 * timeout) is TEST_TIMEOUT_S, or TEST_TIMEOUT_LONG_S for the stress, race and
 * long suites; meson's per-suite timeouts (test/meson.build) only bound the
 * whole run. */
#define WATCHDOG_MS 20000
#define TEST_TIMEOUT_S 300
#define TEST_TIMEOUT_LONG_S 3600

void die(const char* fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define CHECK_ON_THREAD(cond)                                                 \
  do {                                                                        \
    if (!(cond))                                                              \
      die("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);              \
  } while (0)

/* The per-test process alarm; test_case() arms it in a checked fixture. */
void wd_arm(unsigned seconds);
void wd_disarm(void);

/* A Check test case with the shared fixture and the timeouts above (the long
 * ones if `long_running`). Every file's case is made with it. */
TCase* test_case(const char* name, int long_running);

/* Set by a test to print its state when a watchdog fires. */
extern void (*watchdog_dump)(void);

/* Runs the loop until nothing keeps it alive; dies if that takes longer than
 * timeout_ms, or, once the test has called test_progress(), if timeout_ms
 * pass without a call to it (a long stress under a sanitizer on a busy
 * machine is slow, not stuck). */
void run_loop(uv_loop_t* loop, uint64_t timeout_ms);

/* Tells run_loop's watchdogs that the test moves on (any thread). */
void test_progress(void);

/* Closes a loop that must have no handle left. */
void close_loop(uv_loop_t* loop);

/* A counter that threads bump and the test awaits. */
typedef struct {
  uvev_event_t ev;
  unsigned long value;   /* atomic */
  unsigned long target;  /* for the predicate */
} counter_t;

void counter_init(counter_t* c);
void counter_destroy(counter_t* c);
void counter_add(counter_t* c, unsigned long n);
unsigned long counter_get(counter_t* c);
/* Blocks (with the watchdog bound) until the counter reaches target. */
void wait_until_count(counter_t* c, unsigned long target);
/* As wait_until_count, but gives up after timeout_ms: 0 or UV_ETIMEDOUT. */
int counter_wait(counter_t* c, unsigned long target, uint64_t timeout_ms);

/* A pool of tokens: an atomic count; take() succeeds once per token. */
typedef struct {
  long count;  /* atomic */
} tokens_t;

void tokens_add(tokens_t* t, long n);
int tokens_take(tokens_t* t);  /* 1 if a token was taken */

/* White box: the number of nodes linked in the event's waitset now. */
unsigned waiters_linked(uvev_event_t* ev);
/* Spins (yielding) until exactly n waiters are linked; dies after the
 * watchdog bound. Used to start a notifier only once its waiters sleep. */
void await_linked(uvev_event_t* ev, unsigned n);

/* A thread that runs its own loop with a waker: init, setup() on the loop
 * thread (it starts waits), run until the waker goes idle, close. */
typedef struct loop_thread_s loop_thread_t;
struct loop_thread_s {
  uv_thread_t tid;
  uv_loop_t loop;
  uvev_waker_t waker;
  void (*setup)(loop_thread_t* lt);
  void* arg;
  int index;
};

void loop_thread_start(loop_thread_t* lt, void (*setup)(loop_thread_t*),
                       void* arg, int index);
void loop_thread_join(loop_thread_t* lt);

/* Predicates and a request that records how it ended, for the tests of
 * every file. */
static inline int flag_is_set(void* arg) {
  return __atomic_load_n((int*) arg, __ATOMIC_ACQUIRE) != 0;
}

static inline void flag_set(int* flag) {
  __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

static inline int never(void* arg) {
  (void) arg;
  return 0;
}

static inline int always(void* arg) {
  (void) arg;
  return 1;
}

static inline int take_token(void* arg) {
  return tokens_take((tokens_t*) arg);
}

typedef struct {
  uvev_wait_t req;
  int calls;     /* callback runs */
  int status;
  int order;     /* completion rank, from a shared sequence */
  int* seq;
  counter_t* done;
} waiter_t;

static inline void waiter_cb(uvev_wait_t* req, int status) {
  waiter_t* w = (waiter_t*) req;

  w->calls++;
  w->status = status;
  if (w->seq != NULL)
    w->order = (*w->seq)++;
  if (w->done != NULL)
    counter_add(w->done, 1);
}

/* A channel operation that records how it ended. */
typedef struct {
  uvev_chan_op_t op;
  uint64_t elem;
  int calls;
  int status;
} chan_req_t;

static inline void chan_req_cb(uvev_chan_op_t* op, int status) {
  chan_req_t* r = (chan_req_t*) op;

  r->calls++;
  r->status = status;
}

/* test_race.c: wakers closed (and freed) while threads notify, `rounds`
 * times; the waker case runs a few rounds, the race suite many. */
void race_waker_close(int rounds);

/* Each file's test case; main.c puts them into suites (core: notify ..
 * lifetimes; chan: chan_*; then stress, race, long). CK_RUN_CASE=NAME runs
 * one case by the name test_case() gave it, e.g.
 *   CK_RUN_CASE=handoff build/test/uvev-tests core */
TCase* notify_case(void);      /* test_notify.c */
TCase* timeout_case(void);     /* test_timeout.c */
TCase* handoff_case(void);     /* test_handoff.c */
TCase* sync_case(void);        /* test_sync.c */
TCase* waker_case(void);       /* test_waker.c */
TCase* misuse_case(void);      /* test_misuse.c */
TCase* lifetime_case(void);    /* test_lifetime.c */
TCase* lifo_case(void);        /* test_lifo.c */
TCase* any_case(void);         /* test_any.c */
TCase* chan_ring_case(void);   /* test_chan_ring.c */
TCase* chan_close_case(void);  /* test_chan_close.c */
TCase* chan_ops_case(void);    /* test_chan_ops.c */
TCase* chan_batch_case(void);  /* test_chan_batch.c */
TCase* chan_streams_case(void);  /* test_chan_streams.c */
TCase* select_case(void);      /* test_select.c */
TCase* stress_case(void);      /* test_stress.c */
TCase* race_case(void);        /* test_race.c */
TCase* long_case(void);        /* test_long.c */
TCase* regress_case(void);   /* test_regress.c, its own suite */

#endif /* UVEV_TEST_HELPERS_H_ */
