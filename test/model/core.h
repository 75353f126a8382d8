/* core.h: the model scenarios of the eventcount core (src/waitset.c) and of
 * the loop wake path (src/ready.h with libuv 1.44's uv_async_t).
 *
 * Each scenario is one rl::test_suite: threads that wait and notify on one
 * waitset, tokens that the predicates consume, and after() checking that
 * every token was accounted for exactly once. A lost wake-up leaves a waiter
 * parked (or the loop polling) forever: Relacy reports DEADLOCK. Plain shared
 * fields are rl::var: Relacy reports every DATA RACE on them.
 *
 * The scenario table at the bottom (UVEV_MODEL_CORE_SCENARIOS) says how each
 * one is searched; test/model/model.cpp runs it.
 */
#ifndef UVEV_MODEL_CORE_H_
#define UVEV_MODEL_CORE_H_

#include "model.h"

/* Everything a core scenario may use. Unused parts cost nothing to search. */
struct world {
  struct uvev__waitset ws;
  rl::atomic<int> tok;
  twaiter tw[2];
  mloop loop;
  struct lreq lr[2];
  mgate gate;
  int status[2];  /* each thread waiter's result, read in after() */
};

static void world_init(world* w) {
  uvev__ws_init(&w->ws);
  /* Relaxed: before() runs before every thread. */
  w->tok.store(0, rl::mo_relaxed, $);
  twaiter_init(&w->tw[0], 0, EARLY_SPURIOUS);
  twaiter_init(&w->tw[1], 0, EARLY_SPURIOUS);
  mloop_init(&w->loop);
  gate_init(&w->gate);
  w->status[0] = M_PENDING;
  w->status[1] = M_PENDING;
}

/* Produces n tokens, each followed by its own notify of `each` waiters. */
static void notifier(world* w, int n, size_t each) {
  int i;

  for (i = 0; i < n; i++) {
    token_put(w->tok);
    uvev__ws_notify(&w->ws, each);
  }
}

static int consumed(const int* status, int n) {
  int i;
  int c;

  c = 0;
  for (i = 0; i < n; i++)
    if (status[i] == M_OK)
      c++;
  return c;
}


/* ---- Blocking waiters ------------------------------------------------------ */

/* One waiter, one token, one notify_one. If the notify woke the waiter, the
 * waiter then destroys the event and reuses its memory while the notifier
 * may still be leaving notify (the race fixed in 9b300ba). */
struct sync_1w_1n : rl::test_suite<sync_1w_1n, 2> {
  world w;
  void before() { world_init(&w); }
  void thread(unsigned i) {
    if (i == 0) {
      w.status[0] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
      if (w.tw[0].woken)
        event_destroy_and_reuse(&w.ws);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.status[0] == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* The waiter's park may return twice without a notification: it settles
 * (unlinking itself if still linked), re-checks and registers again. */
struct sync_spurious : rl::test_suite<sync_spurious, 2> {
  world w;
  void before() {
    world_init(&w);
    twaiter_init(&w.tw[0], 2, EARLY_SPURIOUS);
  }
  void thread(unsigned i) {
    if (i == 0)
      w.status[0] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
    else
      notifier(&w, 1, 1);
  }
  void after() {
    RL_ASSERT(w.status[0] == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* The waiter's deadline may pass while the notify races in: it removes its
 * node (handing on a notification it got) and checks one last time. Either
 * it took the token or the token is still there. */
struct sync_timeout : rl::test_suite<sync_timeout, 2> {
  world w;
  void before() {
    world_init(&w);
    twaiter_init(&w.tw[0], 1, EARLY_TIMEOUT);
  }
  void thread(unsigned i) {
    if (i == 0)
      w.status[0] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
    else
      notifier(&w, 1, 1);
  }
  void after() {
    RL_ASSERT(w.status[0] == M_OK || w.status[0] == M_TIMEDOUT);
    RL_ASSERT(consumed(w.status, 1) + token_count(w.tok) == 1);
  }
};

/* Two waiters, two tokens, two notify_one (or one notify(2), or notify_all),
 * and a spurious wake-up on each side. */
template<size_t each, int ntok>
struct sync_2w_1n_t : rl::test_suite<sync_2w_1n_t<each, ntok>, 3> {
  world w;
  void before() {
    world_init(&w);
    twaiter_init(&w.tw[0], 1, EARLY_SPURIOUS);
    twaiter_init(&w.tw[1], 1, EARLY_SPURIOUS);
  }
  void thread(unsigned i) {
    if (i < 2) {
      w.status[i] = twaiter_wait(&w.ws, w.tok, &w.tw[i]);
    } else if (ntok == 2) {
      notifier(&w, 2, each);
    } else {
      /* Both tokens first, then one notify for everyone. */
      token_put(w.tok);
      token_put(w.tok);
      uvev__ws_notify(&w.ws, each);
    }
  }
  void after() {
    RL_ASSERT(w.status[0] == M_OK && w.status[1] == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};
typedef sync_2w_1n_t<1, 2> sync_2w_1n;
typedef sync_2w_1n_t<SIZE_MAX, 0> sync_2w_notify_all;

/* One waiter that waits twice, two notifiers racing each other. */
struct sync_1w_2n : rl::test_suite<sync_1w_2n, 3> {
  world w;
  void before() {
    world_init(&w);
    twaiter_init(&w.tw[0], 1, EARLY_SPURIOUS);
  }
  void thread(unsigned i) {
    if (i == 0) {
      w.status[0] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
      w.status[1] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.status[0] == M_OK && w.status[1] == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Two waiters, one may time out; two tokens, so the other never waits for
 * a token that is not there. Nothing is consumed twice or lost. */
struct sync_timeout_2w : rl::test_suite<sync_timeout_2w, 3> {
  world w;
  void before() {
    world_init(&w);
    twaiter_init(&w.tw[0], 1, EARLY_TIMEOUT);
  }
  void thread(unsigned i) {
    if (i < 2)
      w.status[i] = twaiter_wait(&w.ws, w.tok, &w.tw[i]);
    else
      notifier(&w, 2, 1);
  }
  void after() {
    RL_ASSERT(w.status[1] == M_OK);
    RL_ASSERT(consumed(w.status, 2) + token_count(w.tok) == 2);
  }
};


/* ---- Loop waits and the wake path ----------------------------------------- */

/* A loop request, one notifier: wake() pushes onto the ready list and sends
 * (libuv 1.44); the loop polls, spins, drains, re-checks. If it completed on
 * the notification, its callback destroys the event and reuses the memory. */
struct loop_1r_1n : rl::test_suite<loop_1r_1n, 2> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      mloop_run(&w.loop, 1);
      if (w.lr[0].woken)
        event_destroy_and_reuse(&w.ws);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.lr[0].status == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Two requests on one loop, one notifier that notifies twice: the second
 * push may land on a list the loop has just taken, while `pending` is being
 * cleared. Without uvev's fence the sender reads a stale `pending` and never
 * sends: the loop polls forever. */
struct loop_2r_1n : rl::test_suite<loop_2r_1n, 2> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    lreq_init(&w.lr[1], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      lreq_start(&w.loop, &w.lr[1], 0);
      mloop_run(&w.loop, 2);
    } else {
      notifier(&w, 2, 1);
    }
  }
  void after() {
    RL_ASSERT(w.lr[0].status == M_OK && w.lr[1].status == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Cancel racing a notify: A and B wait (A first), then the notifier makes
 * one token and notifies one waiter while the loop cancels A. If the
 * notification went to A, the cancel must hand it to B. */
struct loop_cancel : rl::test_suite<loop_cancel, 2> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    lreq_init(&w.lr[1], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      lreq_start(&w.loop, &w.lr[1], 0);
      gate_open(&w.gate);
      lreq_cancel(&w.loop, &w.lr[0]);
      mloop_run(&w.loop, 2);
    } else {
      gate_wait(&w.gate);
      notifier(&w, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.lr[0].status == M_CANCELED);
    RL_ASSERT(w.lr[1].status == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Cancel racing a notify across a loop and a thread: the cancelled loop
 * request must hand its notification to the blocking waiter. */
struct mixed_cancel : rl::test_suite<mixed_cancel, 3> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      gate_open(&w.gate);
      lreq_cancel(&w.loop, &w.lr[0]);
      mloop_run(&w.loop, 1);
    } else if (i == 1) {
      w.status[0] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
    } else {
      gate_wait(&w.gate);
      notifier(&w, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.lr[0].status == M_CANCELED);
    RL_ASSERT(w.status[0] == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* A timed loop request: its deadline may pass before, during or after the
 * notify. The expiry removes the node, then checks one last time. */
struct loop_timeout : rl::test_suite<loop_timeout, 2> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 1);
      mloop_run(&w.loop, 1);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    int s;

    s = w.lr[0].status;
    RL_ASSERT(s == M_OK || s == M_TIMEDOUT);
    RL_ASSERT((s == M_OK) + token_count(w.tok) == 1);
  }
};

/* Closing the waker while a notifier may be between its push and the end of
 * uv_async_send (src/waker.c, top comment). The loop closes at once, or after
 * its request completed; then it frees the uv_async_t. A sender that is not
 * ordered before the free is a data race on mloop.handle. */
struct loop_close : rl::test_suite<loop_close, 2> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      if (rl::rand(2))
        mloop_run(&w.loop, 1);
      mloop_close(&w.loop);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    int s;

    s = w.lr[0].status;
    RL_ASSERT(s == M_OK || s == M_CANCELED);
    RL_ASSERT((s == M_OK) + token_count(w.tok) == 1);
  }
};

/* A timed request A and an untimed B on one loop, two tokens: A's deadline
 * may pass after A was notified; its expiry hands the notification to B. */
struct loop_timeout_2r : rl::test_suite<loop_timeout_2r, 2> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    lreq_init(&w.lr[1], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 1);
      lreq_start(&w.loop, &w.lr[1], 0);
      mloop_run(&w.loop, 2);
    } else {
      notifier(&w, 2, 1);
    }
  }
  void after() {
    int s;

    s = w.lr[0].status;
    RL_ASSERT(s == M_OK || s == M_TIMEDOUT);
    RL_ASSERT(w.lr[1].status == M_OK);
    RL_ASSERT((s == M_OK) + 1 + token_count(w.tok) == 2);
  }
};

/* One request started again from its own completion, twice: the notifier
 * must not touch the request after its push but for the release store of
 * in_wait_set, its last touch (docs/design.md, section 1), or the restart's
 * writes race with it. */
struct loop_reuse : rl::test_suite<loop_reuse, 2> {
  world w;
  int first;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    first = M_PENDING;
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      mloop_run(&w.loop, 1);
      first = w.lr[0].status;
      lreq_start(&w.loop, &w.lr[0], 0);
      mloop_run(&w.loop, 2);
    } else {
      notifier(&w, 2, 1);
    }
  }
  void after() {
    RL_ASSERT(first == M_OK && w.lr[0].status == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Cross-loop/thread signalling: a loop request and a blocking waiter on one
 * event, two tokens, one notify_all. */
struct mixed_notify_all : rl::test_suite<mixed_notify_all, 3> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    twaiter_init(&w.tw[0], 1, EARLY_SPURIOUS);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      mloop_run(&w.loop, 1);
    } else if (i == 1) {
      w.status[0] = twaiter_wait(&w.ws, w.tok, &w.tw[0]);
    } else {
      token_put(w.tok);
      token_put(w.tok);
      uvev__ws_notify(&w.ws, SIZE_MAX);
    }
  }
  void after() {
    RL_ASSERT(w.lr[0].status == M_OK && w.status[0] == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Two notifiers racing into one loop: concurrent pushes, coalesced sends. */
struct loop_2r_2n : rl::test_suite<loop_2r_2n, 3> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    lreq_init(&w.lr[1], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      lreq_start(&w.loop, &w.lr[1], 0);
      mloop_run(&w.loop, 2);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.lr[0].status == M_OK && w.lr[1].status == M_OK);
    RL_ASSERT(token_count(w.tok) == 0);
  }
};

/* Two notifiers racing a waker close: the loop runs until 0, 1 or 2 of its
 * requests completed, then closes and frees the handle. */
struct loop_close_2n : rl::test_suite<loop_close_2n, 3> {
  world w;
  void before() {
    world_init(&w);
    lreq_init(&w.lr[0], &w.loop, &w.ws, &w.tok);
    lreq_init(&w.lr[1], &w.loop, &w.ws, &w.tok);
  }
  void thread(unsigned i) {
    if (i == 0) {
      lreq_start(&w.loop, &w.lr[0], 0);
      lreq_start(&w.loop, &w.lr[1], 0);
      mloop_run(&w.loop, (int) rl::rand(3));
      mloop_close(&w.loop);
    } else {
      notifier(&w, 1, 1);
    }
  }
  void after() {
    int s0;
    int s1;

    s0 = w.lr[0].status;
    s1 = w.lr[1].status;
    RL_ASSERT(s0 == M_OK || s0 == M_CANCELED);
    RL_ASSERT(s1 == M_OK || s1 == M_CANCELED);
    RL_ASSERT((s0 == M_OK) + (s1 == M_OK) + token_count(w.tok) == 2);
  }
};


/* ---- The table --------------------------------------------------------------
 * name, threads, search, context bound (sched_bound) or iterations
 * (sched_random), runner. Full search where it finishes in seconds (Relacy's
 * full search of the loop scenarios runs for many minutes); a context bound
 * as deep as the budget allows elsewhere; the 3-thread scenarios are run
 * again under the random scheduler, which reaches schedules with more
 * preemptions than the bound. About two minutes on one core in all. */
#define UVEV_MODEL_CORE_SCENARIOS                                               \
  { "sync_1w_1n",         2, rl::sched_full,   0, &rl::simulate<sync_1w_1n> },   \
  { "sync_timeout",       2, rl::sched_full,   0, &rl::simulate<sync_timeout> }, \
  { "sync_spurious",      2, rl::sched_bound,  5, &rl::simulate<sync_spurious> }, \
  { "loop_1r_1n",         2, rl::sched_bound,  6, &rl::simulate<loop_1r_1n> },   \
  { "loop_2r_1n",         2, rl::sched_bound,  4, &rl::simulate<loop_2r_1n> },   \
  { "loop_cancel",        2, rl::sched_bound,  5, &rl::simulate<loop_cancel> },  \
  { "loop_timeout",       2, rl::sched_bound,  6, &rl::simulate<loop_timeout> }, \
  { "loop_timeout_2r",    2, rl::sched_bound,  4, &rl::simulate<loop_timeout_2r> }, \
  { "loop_close",         2, rl::sched_bound,  6, &rl::simulate<loop_close> },   \
  { "loop_reuse",         2, rl::sched_bound,  5, &rl::simulate<loop_reuse> },   \
  { "sync_2w_1n",         3, rl::sched_bound,  2, &rl::simulate<sync_2w_1n> },   \
  { "sync_2w_notify_all", 3, rl::sched_bound,  3, &rl::simulate<sync_2w_notify_all> }, \
  { "sync_1w_2n",         3, rl::sched_bound,  3, &rl::simulate<sync_1w_2n> },   \
  { "sync_timeout_2w",    3, rl::sched_bound,  3, &rl::simulate<sync_timeout_2w> }, \
  { "mixed_cancel",       3, rl::sched_bound,  3, &rl::simulate<mixed_cancel> }, \
  { "mixed_notify_all",   3, rl::sched_bound,  3, &rl::simulate<mixed_notify_all> }, \
  { "loop_2r_2n",         3, rl::sched_bound,  3, &rl::simulate<loop_2r_2n> },   \
  { "loop_close_2n",      3, rl::sched_bound,  3, &rl::simulate<loop_close_2n> }, \
  { "sync_2w_1n/random",         3, rl::sched_random, 1000000, &rl::simulate<sync_2w_1n> }, \
  { "sync_2w_notify_all/random", 3, rl::sched_random, 1000000, &rl::simulate<sync_2w_notify_all> }, \
  { "sync_1w_2n/random",         3, rl::sched_random, 1000000, &rl::simulate<sync_1w_2n> }, \
  { "sync_timeout_2w/random",    3, rl::sched_random, 1000000, &rl::simulate<sync_timeout_2w> }, \
  { "mixed_cancel/random",       3, rl::sched_random, 1000000, &rl::simulate<mixed_cancel> }, \
  { "mixed_notify_all/random",   3, rl::sched_random, 1000000, &rl::simulate<mixed_notify_all> }, \
  { "loop_2r_2n/random",         3, rl::sched_random, 1000000, &rl::simulate<loop_2r_2n> }, \
  { "loop_close_2n/random",      3, rl::sched_random, 1000000, &rl::simulate<loop_close_2n> },

#endif /* UVEV_MODEL_CORE_H_ */
