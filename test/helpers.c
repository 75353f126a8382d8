/* helpers.c: watchdogs, counters and tokens for the Check suites. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sched.h>
#ifndef _WIN32
# include <unistd.h>
#endif

#include "helpers.h"

void (*watchdog_dump)(void);

void die(const char* fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  fprintf(stderr, "FATAL: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  fflush(stderr);
  abort();
}

/* Process watchdog: SIGALRM's default action ends the process, which Check
 * (in fork mode) or meson (without) reports as a failure. Sanitizers and
 * valgrind slow tests down a lot, hence the generous bound. */
#ifndef _WIN32
void wd_arm(unsigned seconds) {
  alarm(seconds);
}

void wd_disarm(void) {
  alarm(0);
}
#else
/* Windows has no alarm(): a watchdog thread waits for the disarm with the
 * same bound and ends the process if it does not come. Check never forks
 * there, so this is the only bound on a test. */
static struct {
  uv_mutex_t lock;
  uv_cond_t cond;
  uv_thread_t tid;
  unsigned seconds;
  int armed;
} wd;

static void wd_main(void* arg) {
  uint64_t deadline = uv_hrtime() + (uint64_t) wd.seconds * 1000000000;
  uint64_t now;

  (void) arg;
  uv_mutex_lock(&wd.lock);
  while (wd.armed && (now = uv_hrtime()) < deadline)
    (void) uv_cond_timedwait(&wd.cond, &wd.lock, deadline - now);
  if (wd.armed)
    die("process watchdog: test still running after %u s", wd.seconds);
  uv_mutex_unlock(&wd.lock);
}

static void wd_init(void) {
  CHECK_ON_THREAD(uv_mutex_init(&wd.lock) == 0);
  CHECK_ON_THREAD(uv_cond_init(&wd.cond) == 0);
}

void wd_arm(unsigned seconds) {
  static uv_once_t once = UV_ONCE_INIT;

  uv_once(&once, wd_init);
  wd_disarm();
  uv_mutex_lock(&wd.lock);
  wd.seconds = seconds;
  wd.armed = 1;
  uv_mutex_unlock(&wd.lock);
  CHECK_ON_THREAD(uv_thread_create(&wd.tid, wd_main, NULL) == 0);
}

void wd_disarm(void) {
  int was;

  uv_mutex_lock(&wd.lock);
  was = wd.armed;
  wd.armed = 0;
  uv_cond_signal(&wd.cond);
  uv_mutex_unlock(&wd.lock);
  if (was)
    CHECK_ON_THREAD(uv_thread_join(&wd.tid) == 0);
}
#endif

static void fixture_setup(void) {
  wd_arm(TEST_TIMEOUT_S);
}

static void fixture_setup_long(void) {
  wd_arm(TEST_TIMEOUT_LONG_S);
}

static void fixture_teardown(void) {
  wd_disarm();
}

TCase* test_case(const char* name, int long_running) {
  TCase* tc;

  tc = tcase_create(name);
  tcase_add_checked_fixture(tc,
                            long_running ? fixture_setup_long : fixture_setup,
                            fixture_teardown);
  tcase_set_timeout(tc, long_running ? TEST_TIMEOUT_LONG_S : TEST_TIMEOUT_S);
  return tc;
}

/* Bumped by test_progress(); 0 while the test reports none. */
static unsigned long progress;

void test_progress(void) {
  /* Relaxed: a count, read by the watchdogs for change only. */
  __atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
}

/* The timer's data holds the progress seen at its last tick. */
static void on_loop_watchdog(uv_timer_t* t) {
  unsigned long now;

  now = __atomic_load_n(&progress, __ATOMIC_RELAXED);
  if (now != (unsigned long) (uintptr_t) uv_handle_get_data((uv_handle_t*) t)) {
    uv_handle_set_data((uv_handle_t*) t, (void*) (uintptr_t) now);
    return;
  }
  if (watchdog_dump != NULL)
    watchdog_dump();
  die("loop watchdog: loop %p still running, no progress for %llu ms "
      "(lost wake-up?)",
      (void*) t->loop, (unsigned long long) uv_timer_get_repeat(t));
}

static void on_close_free(uv_handle_t* h) {
  free(h);
}

void run_loop(uv_loop_t* loop, uint64_t timeout_ms) {
  uv_timer_t* t;

  t = malloc(sizeof(*t));
  CHECK_ON_THREAD(t != NULL);
  CHECK_ON_THREAD(uv_timer_init(loop, t) == 0);
  uv_handle_set_data((uv_handle_t*) t,
                     (void*) (uintptr_t) __atomic_load_n(&progress,
                                                         __ATOMIC_RELAXED));
  /* The repeat value carries the bound into the message, and ticks the
   * progress check. */
  uv_timer_start(t, on_loop_watchdog, timeout_ms, timeout_ms);
  uv_unref((uv_handle_t*) t);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t*) t, on_close_free);
  uv_run(loop, UV_RUN_DEFAULT);
}

static void on_walk_report(uv_handle_t* h, void* arg) {
  fprintf(stderr, "open handle: type %s, active %d, closing %d\n",
          uv_handle_type_name(uv_handle_get_type(h)), uv_is_active(h),
          uv_is_closing(h));
}

void close_loop(uv_loop_t* loop) {
  int err;

  err = uv_loop_close(loop);
  if (err != 0) {
    uv_walk(loop, on_walk_report, NULL);
    die("uv_loop_close: %s", uv_strerror(err));
  }
}

void counter_init(counter_t* c) {
  c->value = 0;
  c->target = 0;
  CHECK_ON_THREAD(uvev_event_init(&c->ev) == 0);
}

void counter_destroy(counter_t* c) {
  CHECK_ON_THREAD(uvev_event_destroy(&c->ev) == 0);
}

void counter_add(counter_t* c, unsigned long n) {
  __atomic_fetch_add(&c->value, n, __ATOMIC_RELEASE);
  uvev_notify_all(&c->ev);
}

unsigned long counter_get(counter_t* c) {
  return __atomic_load_n(&c->value, __ATOMIC_ACQUIRE);
}

struct count_arg {
  counter_t* c;
  unsigned long target;
};

static int count_reached(void* arg) {
  struct count_arg* a = arg;
  return counter_get(a->c) >= a->target;
}

int counter_wait(counter_t* c, unsigned long target, uint64_t timeout_ms) {
  struct count_arg a;

  a.c = c;
  a.target = target;
  return uvev_wait_sync_timeout(&c->ev, count_reached, &a, timeout_ms);
}

void wait_until_count(counter_t* c, unsigned long target) {
  int err;

  err = counter_wait(c, target, WATCHDOG_MS);
  if (err != 0)
    die("wait_until_count: %lu of %lu after %d ms: %s", counter_get(c),
        target, WATCHDOG_MS, uv_strerror(err));
}

void tokens_add(tokens_t* t, long n) {
  __atomic_fetch_add(&t->count, n, __ATOMIC_RELEASE);
}

int tokens_take(tokens_t* t) {
  long n;

  n = __atomic_load_n(&t->count, __ATOMIC_RELAXED);
  while (n > 0) {
    if (__atomic_compare_exchange_n(&t->count, &n, n - 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_RELAXED))
      return 1;
  }
  return 0;
}

unsigned waiters_linked(uvev_event_t* ev) {
  struct uvev__node* n;
  unsigned count;

  count = 0;
  uv_mutex_lock(&ev->ws.lock);
  for (n = ev->ws.head; n != NULL; n = n->next)
    count++;
  uv_mutex_unlock(&ev->ws.lock);
  return count;
}

void await_linked(uvev_event_t* ev, unsigned n) {
  uint64_t start;

  start = uv_hrtime();
  while (waiters_linked(ev) != n) {
    if (uv_hrtime() - start > (uint64_t) WATCHDOG_MS * 1000000)
      die("await_linked: %u linked, want %u", waiters_linked(ev), n);
    sched_yield();
  }
}

static void loop_thread_main(void* arg) {
  loop_thread_t* lt = arg;

  CHECK_ON_THREAD(uv_loop_init(&lt->loop) == 0);
  CHECK_ON_THREAD(uvev_waker_init(&lt->loop, &lt->waker) == 0);
  lt->waker.data = lt;
  lt->setup(lt);
  /* Returns once the waker has no request left: it is unref'd then. */
  run_loop(&lt->loop, WATCHDOG_MS);
  uvev_waker_close(&lt->waker, NULL);
  run_loop(&lt->loop, WATCHDOG_MS);
  close_loop(&lt->loop);
}

void loop_thread_start(loop_thread_t* lt, void (*setup)(loop_thread_t*),
                       void* arg, int index) {
  lt->setup = setup;
  lt->arg = arg;
  lt->index = index;
  CHECK_ON_THREAD(uv_thread_create(&lt->tid, loop_thread_main, lt) == 0);
}

void loop_thread_join(loop_thread_t* lt) {
  CHECK_ON_THREAD(uv_thread_join(&lt->tid) == 0);
}
