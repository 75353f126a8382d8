/* helpers.h: what the Check suites share: watchdogs, loop threads, tokens.
 *
 * Watchdogs. A lost wake-up must fail fast, never hang:
 *  - every test arms a process alarm (wd_arm) in its fixture;
 *  - every loop is run by run_loop(), which fails if the loop is still
 *    running after a bound (an unref'd timer, so it never keeps the loop
 *    alive itself);
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

/* Watchdog bound of one loop run or one blocking wait, in ms. */
#define WATCHDOG_MS 20000

void die(const char* fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define CHECK_ON_THREAD(cond)                                                 \
  do {                                                                        \
    if (!(cond))                                                              \
      die("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);              \
  } while (0)

/* The per-test process alarm; tests arm it in a checked fixture. */
void wd_arm(unsigned seconds);
void wd_disarm(void);

/* Set by a test to print its state when a watchdog fires. */
extern void (*watchdog_dump)(void);

/* Runs the loop until nothing keeps it alive; dies if that takes longer than
 * timeout_ms. */
void run_loop(uv_loop_t* loop, uint64_t timeout_ms);

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

/* Every suite. */
Suite* core_suite(void);
Suite* chan_suite(void);
Suite* stress_suite(void);
Suite* race_suite(void);
Suite* long_suite(void);
Suite* regress_suite(void);

#endif /* UVEV_TEST_HELPERS_H_ */
