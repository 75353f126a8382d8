/* test_regress.c: the regress suite: bugs found in review, each pinned by a
 * test that fails on the code that had it (all but the busy-channel deadline
 * test, see there).
 *
 *  - lifetimes: a receiver that holds the element of a racing send, or has
 *    seen UV_EOF after a racing close, may destroy and free the channel at
 *    once;
 *  - deadlines: a timed blocking wait ends near its deadline however many
 *    notifications it gets;
 *  - bad input: a loop operation refused by a closing waker changes nothing;
 *  - stalls: a send or receive held up between its claim and its copy (its
 *    buffer is a protected page) must not cost another waiter its wake-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32  /* on Windows, <uv.h> brings <windows.h> */
# include <signal.h>
# include <sys/mman.h>
# include <sys/prctl.h>
# include <unistd.h>
#endif

#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
# define REGRESS_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define REGRESS_ASAN 1
# endif
#endif
#ifdef REGRESS_ASAN
# include <sanitizer/asan_interface.h>
#endif

/* The longest a test spins or yields for a state another thread makes. */
#define SPIN_LIMIT_NS ((uint64_t) WATCHDOG_MS * 1000000)

/* UVEV_STRESS_SCALE (the valgrind setup sets it) scales the round counts. */
static unsigned long scaled(unsigned long n) {
  const char* s = getenv("UVEV_STRESS_SCALE");
  double scale = s != NULL ? atof(s) : 1.0;

  n = (unsigned long) (n * scale);
  return n > 0 ? n : 1;
}

/* One step of a spin-wait: a yield now and then, and death after the
 * limit. `spins` counts the steps, `start` is when the wait began. */
static void spin_step(unsigned* spins, uint64_t start, const char* what) {
  if (++*spins % 256 != 0)
    return;
  sched_yield();
  if (uv_hrtime() - start > SPIN_LIMIT_NS)
    die("%s: still waiting after %d ms", what, WATCHDOG_MS);
}

/* ---- jitter ------------------------------------------------------------------
 * A timer signal holds the thread that starts it up at whatever instruction
 * it is on, until *jitter_watch changes (the other side has got on with its
 * round) or for JITTER_HOLD_NS at most, and then lets it run for
 * JITTER_GAP_NS before the next hold (the handler re-arms the timer as it
 * leaves, so the thread always gets its gap, however slow signals are). A
 * window a few instructions wide (a send between its publish and its
 * notify) is then hit within hundreds or thousands of rounds instead of
 * hundreds of thousands. It only delays a thread: no test relies on where it lands.
 */
#ifndef _WIN32
/* The gap must outlast the signal's delivery and return, or the held thread
 * never gets on. A 32-bit process on a 64-bit kernel takes its signals
 * through the compat path: at 10 us the send held in ring_put made no
 * progress for the 600 s of meson's timeout there (i686 build). */
#if defined(__i386__)
# define JITTER_GAP_NS 40000
#else
# define JITTER_GAP_NS 10000
#endif
#define JITTER_HOLD_NS 20000

static __thread timer_t jitter_timer;
static unsigned long* jitter_watch;

static void jitter_arm(void) {
  struct itimerspec its;

  memset(&its, 0, sizeof(its));
  its.it_value.tv_nsec = JITTER_GAP_NS;
  timer_settime(jitter_timer, 0, &its, NULL);
}

static void jitter_handler(int sig) {
  unsigned long seen;
  uint64_t start;
  int saved;

  saved = errno;
  seen = __atomic_load_n(jitter_watch, __ATOMIC_ACQUIRE);
  start = uv_hrtime();
  while (__atomic_load_n(jitter_watch, __ATOMIC_ACQUIRE) == seen &&
         uv_hrtime() - start < JITTER_HOLD_NS)
    ;
  jitter_arm();
  errno = saved;
}

/* On the thread to hold up. */
static void jitter_start(unsigned long* watch) {
  struct sigevent sev;
  struct sigaction sa;

  jitter_watch = watch;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = jitter_handler;
  sa.sa_flags = SA_RESTART;
  CHECK_ON_THREAD(sigaction(SIGRTMIN + 2, &sa, NULL) == 0);
  /* The kernel may defer a timer by the thread's slack, 50 us by default. */
  CHECK_ON_THREAD(prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0);
  memset(&sev, 0, sizeof(sev));
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGRTMIN + 2;
  sev._sigev_un._tid = gettid();
  CHECK_ON_THREAD(timer_create(CLOCK_MONOTONIC, &sev, &jitter_timer) == 0);
  jitter_arm();
}

static void jitter_stop(void) {
  CHECK_ON_THREAD(timer_delete(jitter_timer) == 0);
}
#else
/* Windows has no per-thread timer signal: the rounds run without jitter
 * (test_destroy_at_once says so once), so the window is hit less often; what
 * each round checks is the same. */
static void jitter_start(unsigned long* watch) {
  static int said;

  (void) watch;
  if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
    fprintf(stderr, "regress: destroy_at_once runs without jitter on "
            "Windows (no per-thread timer signals)\n");
}

static void jitter_stop(void) {
}
#endif

/* ---- destroy at once ---------------------------------------------------------
 * Each round a peer thread sends to a fresh heap channel (and closes it, for
 * the close tests) while the test thread receives; the moment the receiver
 * has what it waited for (the element, or UV_EOF) it destroys the channel,
 * poisons it and frees it. A send or close that still touches the channel
 * then is a use after free: ASan reports it, TSan reports a race with the
 * free, a plain build seldom notices. The peer is jittered to hold it up
 * inside that window.
 */

enum { SEND_SYNC, SEND_TRY, SEND_MANY };
enum { RECV_SPIN, RECV_SYNC, RECV_LOOP };

static struct {
  uvev_chan_t* slot;  /* atomic: the channel of the next round */
  int stop;           /* atomic */
  int send;           /* SEND_* */
  int k;              /* elements each round */
  int want;           /* elements the receiver takes before it destroys */
  int close;          /* then close */
  /* the loop receiver */
  uvev_waker_t waker;
  uvev_chan_op_t op;
  uint64_t elem;
  int got;
  unsigned long round;
} dr;

#ifdef REGRESS_ASAN
static void dr_asan_report(void) {
  fprintf(stderr, "destroy: the report above came in round %lu\n", dr.round);
}
#endif

static void dr_asan_hook(void) {
#ifdef REGRESS_ASAN
  __asan_set_death_callback(dr_asan_report);
#endif
}

/* Without ASan a late read goes unseen and only the poison may crash a
 * late write: a tenth of the rounds there. */
static unsigned long dr_rounds(unsigned long n) {
#ifndef REGRESS_ASAN
  n /= 10;
#endif
  return scaled(n);
}

static void dr_peer(void* arg) {
  uvev_chan_t* ch;
  uint64_t start;
  uint64_t v;
  uint64_t batch[4];
  unsigned spins;
  int i, err;

  jitter_start(&dr.round);
  spins = 0;
  start = uv_hrtime();
  while (!__atomic_load_n(&dr.stop, __ATOMIC_ACQUIRE)) {
    ch = __atomic_exchange_n(&dr.slot, NULL, __ATOMIC_ACQUIRE);
    if (ch == NULL) {
      spin_step(&spins, start, "destroy peer");
      continue;
    }
    if (dr.send == SEND_MANY) {
      /* One batch of k: the channel has room for all of them. */
      for (i = 0; i < dr.k; i++)
        batch[i] = (uint64_t) i;
      CHECK_ON_THREAD(uvev_chan_try_send_many(ch, batch, (size_t) dr.k) ==
                      dr.k);
    }
    for (i = 0; i < dr.k && dr.send != SEND_MANY; i++) {
      v = (uint64_t) i;
      if (dr.send == SEND_SYNC)
        err = uvev_chan_send_sync_timeout(ch, &v, WATCHDOG_MS);
      else
        err = uvev_chan_try_send(ch, &v);
      CHECK_ON_THREAD(err == 0);
    }
    if (dr.close)
      uvev_chan_close(ch);
    start = uv_hrtime();
  }
  jitter_stop();
}

static void dr_destroy(uvev_chan_t* ch) {
  ck_assert_int_eq(uvev_chan_destroy(ch), 0);
  memset(ch, 0xdd, sizeof(*ch));
  free(ch);
}

/* Whether the receiver has all it waits for, given the last status. */
static int dr_done(int err) {
  return dr.close ? err == UV_EOF : dr.got == dr.want;
}

static void dr_on_recv(uvev_chan_op_t* op, int status) {
  uvev_chan_t* ch = op->data;

  if (status == 0)
    dr.got++;
  else
    ck_assert_int_eq(status, UV_EOF);
  if (dr_done(status)) {
    dr_destroy(ch);
    return;
  }
  ck_assert_int_eq(uvev_chan_recv(&dr.waker, &dr.op, ch, &dr.elem,
                                  dr_on_recv), 0);
}

static void dr_receive(uvev_chan_t* ch, int recv, uv_loop_t* loop) {
  uint64_t start;
  uint64_t v;
  unsigned spins;
  int err;

  dr.got = 0;
  if (recv == RECV_LOOP) {
    dr.op.data = ch;
    ck_assert_int_eq(uvev_chan_recv(&dr.waker, &dr.op, ch, &dr.elem,
                                    dr_on_recv), 0);
    run_loop(loop, WATCHDOG_MS);
    return;
  }
  spins = 0;
  start = uv_hrtime();
  do {
    if (recv == RECV_SPIN)
      err = uvev_chan_try_recv(ch, &v);
    else
      err = uvev_chan_recv_sync_timeout(ch, &v, WATCHDOG_MS);
    if (err == 0)
      dr.got++;
    else if (err == UV_EAGAIN)
      spin_step(&spins, start, "destroy receiver");
    else
      ck_assert_int_eq(err, UV_EOF);
  } while (!dr_done(err));
  dr_destroy(ch);
}

static void destroy_rounds(int send, int k, int want, int close, int recv,
                           unsigned long rounds) {
  uv_thread_t peer;
  uv_loop_t loop;
  uvev_chan_t* ch;
  unsigned long round;
  uint64_t start;

  memset(&dr, 0, sizeof(dr));
  dr.send = send;
  dr.k = k;
  dr.want = want != 0 ? want : k;
  dr.close = close;
  if (recv == RECV_LOOP) {
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(uvev_waker_init(&loop, &dr.waker), 0);
  }
  ck_assert_int_eq(uv_thread_create(&peer, dr_peer, NULL), 0);
  rounds = dr_rounds(rounds);
  dr_asan_hook();
  start = uv_hrtime();
  for (round = 0; round < rounds; round++) {
    __atomic_store_n(&dr.round, round, __ATOMIC_RELEASE);
    ch = malloc(sizeof(*ch));
    ck_assert_ptr_nonnull(ch);
    /* try_send must find room for all k at once. */
    ck_assert_int_eq(uvev_chan_init(ch, send != SEND_SYNC ? (size_t) k
                                                          : 1 + round % 3,
                                    sizeof(uint64_t)), 0);
    __atomic_store_n(&dr.slot, ch, __ATOMIC_RELEASE);
    dr_receive(ch, recv, &loop);
  }
  __atomic_store_n(&dr.stop, 1, __ATOMIC_RELEASE);
  ck_assert_int_eq(uv_thread_join(&peer), 0);
  printf("destroy: %lu rounds of %d %s then %s, %d received by %s: "
         "%.2f s\n", rounds, k,
         send == SEND_SYNC ? "send_sync" :
         send == SEND_TRY ? "try_send" : "in one try_send_many",
         close ? "close" : "nothing", dr.want,
         recv == RECV_SPIN ? "try_recv" :
         recv == RECV_SYNC ? "recv_sync_timeout" : "a loop",
         (uv_hrtime() - start) / 1e9);
  fflush(stdout);
  if (recv == RECV_LOOP) {
    uvev_waker_close(&dr.waker, NULL);
    run_loop(&loop, WATCHDOG_MS);
    close_loop(&loop);
  }
}

/* Loop test i runs destroy_cases[i]. */
static const struct {
  int send;
  int k;
  int want;  /* 0: all k */
  int close;
  int recv;
  unsigned long rounds;
} destroy_cases[] = {
  /* A send's element, taken by a spinning receiver; by a blocked one (the
   * send wakes it, and must be done with the channel's lock before the
   * receiver can have the element); a try_send's. */
  {SEND_SYNC, 1, 0, 0, RECV_SPIN, 50000},
  {SEND_SYNC, 1, 0, 0, RECV_SYNC, 20000},
  {SEND_TRY, 1, 0, 0, RECV_SPIN, 50000},
  /* UV_EOF from a racing close, seen by a spinning, a blocked and a loop
   * receiver. */
  {SEND_SYNC, 3, 0, 1, RECV_SPIN, 5000},
  {SEND_SYNC, 3, 0, 1, RECV_SYNC, 2000},
  {SEND_SYNC, 3, 0, 1, RECV_LOOP, 10000},
  /* A batch send's elements: all of them, and only the first (a receiver
   * holding any element of a batch may destroy: the batch publishes its
   * first position last). */
  {SEND_MANY, 4, 0, 0, RECV_SPIN, 50000},
  {SEND_MANY, 2, 1, 0, RECV_SPIN, 50000},
};

START_TEST(test_destroy_at_once) {
  destroy_rounds(destroy_cases[_i].send, destroy_cases[_i].k,
                 destroy_cases[_i].want, destroy_cases[_i].close,
                 destroy_cases[_i].recv, destroy_cases[_i].rounds);
}
END_TEST

/* The mirror for a batch receive: a sender that used the room the batch
 * made may destroy at once. A batch of ROOM_CAP elements of 1 MiB: one that
 * freed its first cell before copying out the others would still be copying
 * them when the sender, which copies in only one, destroys. */
#define ROOM_ELEM (1u << 20)
#define ROOM_CAP 4

static struct {
  uvev_chan_t* ch;  /* atomic: the channel of the next round */
  int stop;         /* atomic */
  char* out;
} rm;

static void rm_receiver(void* arg) {
  uvev_chan_t* ch;
  uint64_t start;
  unsigned spins;

  (void) arg;
  spins = 0;
  start = uv_hrtime();
  while (!__atomic_load_n(&rm.stop, __ATOMIC_ACQUIRE)) {
    ch = __atomic_exchange_n(&rm.ch, NULL, __ATOMIC_ACQUIRE);
    if (ch == NULL) {
      spin_step(&spins, start, "room receiver");
      continue;
    }
    CHECK_ON_THREAD(uvev_chan_try_recv_many(ch, rm.out, ROOM_CAP) ==
                    ROOM_CAP);
    start = uv_hrtime();
  }
}

START_TEST(test_destroy_after_room) {
  uv_thread_t peer;
  uvev_chan_t* ch;
  unsigned long round, rounds;
  uint64_t start;
  unsigned spins;
  char* in;
  int i, err;

  memset(&rm, 0, sizeof(rm));
  rm.out = malloc(ROOM_CAP * ROOM_ELEM);
  in = calloc(1, ROOM_ELEM);
  ck_assert_ptr_nonnull(rm.out);
  ck_assert_ptr_nonnull(in);
  ck_assert_int_eq(uv_thread_create(&peer, rm_receiver, NULL), 0);
  rounds = dr_rounds(100);
  for (round = 0; round < rounds; round++) {
    ch = malloc(sizeof(*ch));
    ck_assert_ptr_nonnull(ch);
    ck_assert_int_eq(uvev_chan_init(ch, ROOM_CAP, ROOM_ELEM), 0);
    for (i = 0; i < ROOM_CAP; i++)
      ck_assert_int_eq(uvev_chan_try_send(ch, in), 0);
    __atomic_store_n(&rm.ch, ch, __ATOMIC_RELEASE);
    /* The room of the batch receive: the first that frees any, then
     * destroy. */
    spins = 0;
    start = uv_hrtime();
    while ((err = uvev_chan_try_send(ch, in)) == UV_EAGAIN)
      spin_step(&spins, start, "room sender");
    ck_assert_int_eq(err, 0);
    dr_destroy(ch);
  }
  __atomic_store_n(&rm.stop, 1, __ATOMIC_RELEASE);
  ck_assert_int_eq(uv_thread_join(&peer), 0);
  free(in);
  free(rm.out);
}
END_TEST

/* ---- deadlines under a storm ---------------------------------------------------
 * A timed wait that keeps being notified while its predicate stays false
 * must still end at its deadline. Far from a timing check: the bound is 50
 * times the timeout. The storm stops by itself a little after the bound, so
 * that code with the bug fails in about a second instead of hanging.
 */
#define STORM_TIMEOUT_MS 20
#define STORM_BOUND_MS 1000
#define STORM_STOP_NS ((uint64_t) (STORM_BOUND_MS + 200) * 1000000)

static struct {
  uvev_event_t ev;
  uint64_t start;
  unsigned long checks;
  /* the channel storm */
  uvev_chan_t ch;
  int stop;            /* atomic */
} sd;

static int storm_over(void) {
  return __atomic_load_n(&sd.stop, __ATOMIC_ACQUIRE) ||
         uv_hrtime() - sd.start > STORM_STOP_NS;
}

/* Never true, and notifies its own event (the contract allows it). */
static int self_notify_pred(void* arg) {
  sd.checks++;
  if (!storm_over())
    uvev_notify_one(&sd.ev);
  return 0;
}

START_TEST(test_deadline_self_notify) {
  uint64_t ms;
  int err;

  memset(&sd, 0, sizeof(sd));
  ck_assert_int_eq(uvev_event_init(&sd.ev), 0);
  sd.start = uv_hrtime();
  err = uvev_wait_sync_timeout(&sd.ev, self_notify_pred, NULL,
                               STORM_TIMEOUT_MS);
  ms = (uv_hrtime() - sd.start) / 1000000;
  ck_assert_msg(err == UV_ETIMEDOUT && ms <= STORM_BOUND_MS,
                "a %d ms wait whose predicate notifies its own event "
                "returned %s after %llu ms and %lu checks (want "
                "UV_ETIMEDOUT within %d ms)", STORM_TIMEOUT_MS,
                err == 0 ? "0" : uv_err_name(err), (unsigned long long) ms,
                sd.checks, STORM_BOUND_MS);
  ck_assert_int_eq(uvev_event_destroy(&sd.ev), 0);
}
END_TEST

static void storm_producer(void* arg) {
  uint64_t v;
  int err;

  for (v = 0; !storm_over(); v++) {
    err = uvev_chan_send_sync_timeout(&sd.ch, &v, WATCHDOG_MS);
    if (err == UV_EPIPE)
      break;
    CHECK_ON_THREAD(err == 0);
  }
}

static void storm_receiver(void* arg) {
  uint64_t v;
  int err;

  while (!storm_over()) {
    err = uvev_chan_try_recv(&sd.ch, &v);
    CHECK_ON_THREAD(err == 0 || err == UV_EAGAIN || err == UV_EOF);
  }
}

/* A second receiver on a channel whose elements a spinning receiver takes
 * as they come: it is notified again and again, and may get an element or
 * not, but must return within the bound. (The code with the bug overran
 * only while every element went to the other receiver; here the second one
 * soon wins one, so this passes there too: it pins the contract.) */
START_TEST(test_deadline_busy_chan) {
  uv_thread_t tid[2];
  uint64_t ms;
  uint64_t v;
  int err;

  memset(&sd, 0, sizeof(sd));
  ck_assert_int_eq(uvev_chan_init(&sd.ch, 1, sizeof(v)), 0);
  sd.start = uv_hrtime();
  ck_assert_int_eq(uv_thread_create(&tid[0], storm_receiver, NULL), 0);
  ck_assert_int_eq(uv_thread_create(&tid[1], storm_producer, NULL), 0);
  err = uvev_chan_recv_sync_timeout(&sd.ch, &v, STORM_TIMEOUT_MS);
  ms = (uv_hrtime() - sd.start) / 1000000;
  __atomic_store_n(&sd.stop, 1, __ATOMIC_RELEASE);
  /* The producer may be blocked on a full channel. */
  uvev_chan_close(&sd.ch);
  ck_assert_int_eq(uv_thread_join(&tid[0]), 0);
  ck_assert_int_eq(uv_thread_join(&tid[1]), 0);
  ck_assert_msg((err == 0 || err == UV_ETIMEDOUT) && ms <= STORM_BOUND_MS,
                "a %d ms receive on a busy channel returned %s after %llu ms "
                "(want 0 or UV_ETIMEDOUT within %d ms)", STORM_TIMEOUT_MS,
                err == 0 ? "0" : uv_err_name(err), (unsigned long long) ms,
                STORM_BOUND_MS);
  ck_assert_int_eq(uvev_chan_destroy(&sd.ch), 0);
}
END_TEST

/* ---- bad input changes nothing ------------------------------------------------ */

static struct {
  uvev_chan_t ch;
  uvev_waker_t waker;
  uvev_chan_op_t op;
  uint64_t elem;
  int calls;
  int refused;
} bi;

static void bi_unused_cb(uvev_chan_op_t* op, int status) {
  ck_abort_msg("a refused operation was called back");
}

/* Starts `op` both ways on the closing waker: each must be refused and leave
 * every byte of the request as it was. */
static void bi_refuse(uvev_chan_op_t* op) {
  uvev_chan_op_t before;
  uint64_t other;

  memcpy(&before, op, sizeof(before));
  ck_assert_int_eq(uvev_chan_recv(&bi.waker, op, &bi.ch, &other,
                                  bi_unused_cb), UV_EINVAL);
  ck_assert_msg(memcmp(&before, op, sizeof(before)) == 0,
                "uvev_chan_recv on a closing waker changed the request");
  ck_assert_int_eq(uvev_chan_send(&bi.waker, op, &bi.ch, &other,
                                  bi_unused_cb), UV_EINVAL);
  ck_assert_msg(memcmp(&before, op, sizeof(before)) == 0,
                "uvev_chan_send on a closing waker changed the request");
  bi.refused++;
}

/* Called back with UV_ECANCELED from inside the close: try again there. */
static void bi_cancelled_cb(uvev_chan_op_t* op, int status) {
  ck_assert_int_eq(status, UV_ECANCELED);
  bi.calls++;
  bi_refuse(op);
}

static void bi_close_cb(uvev_waker_t* w) {
  uvev_chan_op_t fresh;

  memset(&fresh, 0, sizeof(fresh));
  fresh.data = &fresh;
  bi_refuse(&fresh);
}

START_TEST(test_closing_waker_changes_nothing) {
  uvev_chan_op_t fresh;
  uv_loop_t loop;

  memset(&bi, 0, sizeof(bi));
  ck_assert_int_eq(uvev_chan_init(&bi.ch, 1, sizeof(uint64_t)), 0);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(uvev_waker_init(&loop, &bi.waker), 0);
  /* Pending on an empty channel: the close cancels it. */
  ck_assert_int_eq(uvev_chan_recv(&bi.waker, &bi.op, &bi.ch, &bi.elem,
                                  bi_cancelled_cb), 0);
  uvev_waker_close(&bi.waker, bi_close_cb);
  /* After the close was called, before it is done. */
  memset(&fresh, 0, sizeof(fresh));
  fresh.data = &fresh;
  bi_refuse(&fresh);
  run_loop(&loop, WATCHDOG_MS);
  ck_assert_int_eq(bi.calls, 1);
  ck_assert_int_eq(bi.refused, 3);
  close_loop(&loop);
  ck_assert_int_eq(uvev_chan_destroy(&bi.ch), 0);
}
END_TEST

/* ---- stalls between a claim and its copy --------------------------------------
 * The buffer of one operation is a page the test protects: its copy into or
 * out of the ring, which comes right after its claim on the ring, faults.
 * The SIGSEGV handler, on the faulting thread, says so (st.stalled) and holds
 * the thread until the test lets it go (st.release); then it unprotects the
 * page and returns, and the copy is retried and succeeds. In between, the
 * test runs the rest of a scenario against an operation that has claimed a
 * cell and not published or freed it, the state that cost a wake-up: a
 * receiver woken by a later send finds the head cell not ready, waits again
 * behind the other receivers, and the stalled send's one notification then
 * goes to another receiver, which takes one element of the two.
 *
 * Each operation but the stalled one finishes within DONE_BOUND_MS once it
 * is let go, or the test fails; then it closes the channel to get the
 * stragglers out (they take what is left), and checks the accounting.
 *
 * This runs as it is under ASan (its default handle_segv=1 lets a program
 * install its own handler; its memcpy checks the shadow, then faults in the
 * real copy), TSan (it delivers a synchronous signal at once) and valgrind.
 */
#define DONE_BOUND_MS 5000
/* How long to wait for the state the scenario wants next; a fixed library
 * may never get there (it waits inside the operation instead), and then
 * the scenario goes on. */
#define STEP_BOUND_MS 1000

typedef struct {
  uv_thread_t tid;
  int send;
  void* buf;         /* &elem, or the protected page */
  uint64_t elem;
  int result;
  /* a loop receiver */
  loop_thread_t lt;
  uvev_chan_op_t op;
} st_peer_t;

static struct {
  uvev_chan_t ch;
  counter_t done;
  char* page;
  size_t pagesize;
  int stalled;       /* atomic */
  int release;       /* atomic */
#ifdef _WIN32
  PVOID handler;
#else
  struct sigaction old;
#endif
} st;

/* The faulting thread holds on in the handler until the test releases it,
 * then makes the page accessible and retries the access. */
static void st_hold(void) {
  __atomic_store_n(&st.stalled, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&st.release, __ATOMIC_ACQUIRE))
    sched_yield();
}

#ifdef _WIN32
/* Windows: a vectored exception handler and VirtualProtect, the same stall
 * as the POSIX SIGSEGV handler and mprotect below. */
static LONG CALLBACK st_handler(EXCEPTION_POINTERS* ep) {
  EXCEPTION_RECORD* er = ep->ExceptionRecord;
  char* addr;
  DWORD was;

  if (er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION ||
      er->NumberParameters < 2)
    return EXCEPTION_CONTINUE_SEARCH;
  addr = (char*) er->ExceptionInformation[1];
  if (addr < st.page || addr >= st.page + st.pagesize)
    return EXCEPTION_CONTINUE_SEARCH;
  st_hold();
  VirtualProtect(st.page, st.pagesize, PAGE_READWRITE, &was);
  return EXCEPTION_CONTINUE_EXECUTION;
}

static void st_map(void) {
  SYSTEM_INFO si;

  GetSystemInfo(&si);
  st.pagesize = si.dwPageSize;
  st.page = VirtualAlloc(NULL, st.pagesize, MEM_COMMIT | MEM_RESERVE,
                         PAGE_READWRITE);
  ck_assert_ptr_nonnull(st.page);
}

static void st_protect(void) {
  DWORD was;

  ck_assert_int_ne(VirtualProtect(st.page, st.pagesize, PAGE_NOACCESS, &was),
                   0);
  st.handler = AddVectoredExceptionHandler(1, st_handler);
  ck_assert_ptr_nonnull(st.handler);
}

static void st_unmap(void) {
  ck_assert_int_ne(RemoveVectoredExceptionHandler(st.handler), 0);
  ck_assert_int_ne(VirtualFree(st.page, 0, MEM_RELEASE), 0);
}
#else
static void st_handler(int sig, siginfo_t* si, void* ctx) {
  char* addr = si->si_addr;

  if (addr < st.page || addr >= st.page + st.pagesize) {
    /* Not ours: the old handler reports it when the access faults again. */
    sigaction(SIGSEGV, &st.old, NULL);
    return;
  }
  st_hold();
  mprotect(st.page, st.pagesize, PROT_READ | PROT_WRITE);
}

static void st_map(void) {
  void* p;

  st.pagesize = (size_t) sysconf(_SC_PAGESIZE);
  p = mmap(NULL, st.pagesize, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne(p, MAP_FAILED);
  st.page = p;
}

static void st_protect(void) {
  struct sigaction sa;

  ck_assert_int_eq(mprotect(st.page, st.pagesize, PROT_NONE), 0);
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = st_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGSEGV, &sa, &st.old), 0);
}

static void st_unmap(void) {
  ck_assert_int_eq(sigaction(SIGSEGV, &st.old, NULL), 0);
  ck_assert_int_eq(munmap(st.page, st.pagesize), 0);
}
#endif

/* Sets up the channel and the page; `elem` goes into the page (a send from
 * it), or the page stays for a receive into it. */
static void st_setup(size_t capacity, uint64_t elem) {
  memset(&st, 0, sizeof(st));
  ck_assert_int_eq(uvev_chan_init(&st.ch, capacity, sizeof(uint64_t)), 0);
  counter_init(&st.done);
  st_map();
  memcpy(st.page, &elem, sizeof(elem));
  st_protect();
}

static void st_teardown(void) {
  st_unmap();
  counter_destroy(&st.done);
  ck_assert_int_eq(uvev_chan_destroy(&st.ch), 0);
}

static void st_peer_main(void* arg) {
  st_peer_t* p = arg;

  if (p->send)
    p->result = uvev_chan_send_sync_timeout(&st.ch, p->buf, WATCHDOG_MS);
  else
    p->result = uvev_chan_recv_sync_timeout(&st.ch, p->buf, WATCHDOG_MS);
  counter_add(&st.done, 1);
}

/* A blocking send (of elem) or receive on a thread of its own; stalled
 * ones use the page. */
static void st_start(st_peer_t* p, int send, uint64_t elem, int stalled) {
  memset(p, 0, sizeof(*p));
  p->send = send;
  p->elem = elem;
  p->buf = stalled ? (void*) st.page : (void*) &p->elem;
  ck_assert_int_eq(uv_thread_create(&p->tid, st_peer_main, p), 0);
}

static void st_on_recv(uvev_chan_op_t* op, int status) {
  st_peer_t* p = op->data;

  p->result = status;
  counter_add(&st.done, 1);
}

static void st_loop_setup(loop_thread_t* lt) {
  st_peer_t* p = lt->arg;

  p->op.data = p;
  CHECK_ON_THREAD(uvev_chan_recv(&lt->waker, &p->op, &st.ch, &p->elem,
                                 st_on_recv) == 0);
}

/* A loop receiver, on a loop thread of its own. */
static void st_start_loop(st_peer_t* p) {
  memset(p, 0, sizeof(*p));
  p->buf = &p->elem;
  loop_thread_start(&p->lt, st_loop_setup, p, 0);
}

static void st_join(st_peer_t* p) {
  if (p->lt.setup != NULL)
    loop_thread_join(&p->lt);
  else
    ck_assert_int_eq(uv_thread_join(&p->tid), 0);
  /* The stalled operation's element lives in the page, readable again. */
  if (p->buf == st.page)
    memcpy(&p->elem, st.page, sizeof(p->elem));
}

/* Starts p and waits until it blocks on ev, behind those already there. */
static void st_start_waiting(st_peer_t* p, int send, uint64_t elem,
                             uvev_event_t* ev) {
  unsigned n;

  n = waiters_linked(ev);
  st_start(p, send, elem, 0);
  await_linked(ev, n + 1);
}

/* Starts p on the page and waits until it faults there. */
static void st_start_stalled(st_peer_t* p, int send, uint64_t elem) {
  uint64_t start;
  unsigned spins;

  st_start(p, send, elem, 1);
  spins = 0;
  start = uv_hrtime();
  while (!__atomic_load_n(&st.stalled, __ATOMIC_ACQUIRE))
    spin_step(&spins, start, "stall: the faulting operation");
}

/* Yields until fewer or more than n waiters are linked on ev, or
 * STEP_BOUND_MS passed. */
static void st_await_not_linked(uvev_event_t* ev, unsigned n) {
  uint64_t start;

  start = uv_hrtime();
  while (waiters_linked(ev) == n &&
         uv_hrtime() - start < (uint64_t) STEP_BOUND_MS * 1000000)
    sched_yield();
}

/* Lets the stalled operation go and waits for all n operations to finish.
 * Returns 1 if they did within the bound; if not, closes the channel so
 * that the stragglers return, and returns 0. */
static int st_release(unsigned long n) {
  int err;

  __atomic_store_n(&st.release, 1, __ATOMIC_RELEASE);
  err = counter_wait(&st.done, n, DONE_BOUND_MS);
  if (err == 0)
    return 1;
  fprintf(stderr, "stall: %lu of %lu operations done %d ms after the "
          "stalled one was let go; linked: not_empty %u, not_full %u\n",
          counter_get(&st.done), n, DONE_BOUND_MS,
          waiters_linked(&st.ch.not_empty), waiters_linked(&st.ch.not_full));
  uvev_chan_close(&st.ch);
  return 0;
}

/* Receivers r[0] (registered first) and r[1], the stalled send a (of 1) and
 * a normal send (of 2) from the test thread: each receiver gets one. */
static void st_recv_scenario(int loop_first) {
  st_peer_t r[2];
  st_peer_t a;
  uint64_t b;
  int ok;

  st_setup(4, 1);
  if (loop_first) {
    st_start_loop(&r[0]);
    await_linked(&st.ch.not_empty, 1);
  } else {
    st_start_waiting(&r[0], 0, 0, &st.ch.not_empty);
  }
  st_start_waiting(&r[1], 0, 0, &st.ch.not_empty);
  st_start_stalled(&a, 1, 1);
  /* No receive on this thread from here until the release: it could wait
   * for the stalled send. */
  b = 2;
  ck_assert_int_eq(uvev_chan_try_send(&st.ch, &b), 0);
  /* r[0] woken by it, on the code with the bug, finds the stalled cell at
   * the head and waits again, behind r[1]. */
  st_await_not_linked(&st.ch.not_empty, 1);
  ok = st_release(3);
  st_join(&a);
  st_join(&r[0]);
  st_join(&r[1]);
  st_teardown();
  ck_assert_msg(ok, "lost wake-up: a receiver was still waiting %d ms after "
                "both elements were sent (one of them by a send stalled "
                "between its claim and its publish)", DONE_BOUND_MS);
  ck_assert_int_eq(a.result, 0);
  ck_assert_int_eq(r[0].result, 0);
  ck_assert_int_eq(r[1].result, 0);
  ck_assert_uint_eq(r[0].elem + r[1].elem, 3);
  ck_assert_uint_ne(r[0].elem, r[1].elem);
}

START_TEST(test_stall_send_threads) {
  st_recv_scenario(0);
}
END_TEST

START_TEST(test_stall_send_loop) {
  st_recv_scenario(1);
}
END_TEST

/* The mirror image: a full channel of capacity 2 (holding 1 and 2), senders
 * s[0] (registered first, of 11) and s[1] (of 12), the stalled receive a
 * (it takes 1) and a normal receive b (it takes 2): both senders get in. */
START_TEST(test_stall_recv) {
  st_peer_t s[2];
  st_peer_t a, b;
  uint64_t v, sum;
  int ok;

  st_setup(2, 0);
  for (v = 1; v <= 2; v++)
    ck_assert_int_eq(uvev_chan_try_send(&st.ch, &v), 0);
  st_start_waiting(&s[0], 1, 11, &st.ch.not_full);
  st_start_waiting(&s[1], 1, 12, &st.ch.not_full);
  st_start_stalled(&a, 0, 0);
  /* b on a thread of its own: on a fixed library it may wait for a. */
  st_start(&b, 0, 0, 0);
  counter_wait(&st.done, 1, STEP_BOUND_MS);
  /* s[0] woken by b, on the code with the bug, finds the stalled cell and
   * waits again, behind s[1]. */
  st_await_not_linked(&st.ch.not_full, 1);
  ok = st_release(4);
  st_join(&a);
  st_join(&b);
  st_join(&s[0]);
  st_join(&s[1]);
  sum = 0;
  while (uvev_chan_try_recv(&st.ch, &v) == 0)
    sum += v;
  st_teardown();
  ck_assert_msg(ok, "lost wake-up: a sender was still waiting %d ms after "
                "two elements were received (one of them by a receive "
                "stalled between its claim and its copy)", DONE_BOUND_MS);
  ck_assert_int_eq(a.result, 0);
  ck_assert_int_eq(b.result, 0);
  ck_assert_uint_eq(a.elem, 1);
  ck_assert_uint_eq(b.elem, 2);
  ck_assert_int_eq(s[0].result, 0);
  ck_assert_int_eq(s[1].result, 0);
  ck_assert_uint_eq(sum, 23);
}
END_TEST

TCase* regress_case(void) {
  TCase* tc;

  tc = test_case("regress", 0);
  tcase_add_loop_test(tc, test_destroy_at_once, 0,
                      sizeof(destroy_cases) / sizeof(destroy_cases[0]));
  tcase_add_test(tc, test_destroy_after_room);
  tcase_add_test(tc, test_deadline_self_notify);
  tcase_add_test(tc, test_deadline_busy_chan);
  tcase_add_test(tc, test_closing_waker_changes_nothing);
  tcase_add_test(tc, test_stall_send_threads);
  tcase_add_test(tc, test_stall_send_loop);
  tcase_add_test(tc, test_stall_recv);
  return tc;
}
