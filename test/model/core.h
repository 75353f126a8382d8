/* core.h: the model scenarios of the eventcount and its waits, on the real
 * files: src/waitset.c (the core), src/sync.c (blocking waits), src/wait.c
 * and src/waker.c (loop waits, with src/ready.h and the model libuv's
 * uv_async_t, idle handle and timer), src/event.c (destroy).
 *
 * Each scenario is one rl::test_suite: threads that wait and notify on one
 * event, tokens that the predicates consume, and after() checking that
 * every request was called back exactly once with a status the scenario
 * allows, and that every token was accounted for exactly once. A lost
 * wake-up leaves a waiter asleep (or the loop polling) forever: Relacy
 * reports DEADLOCK. A notifier that touches a freed waker, event, request
 * or a returned waiter's parker: ACCESS TO FREED MEMORY.
 *
 * The scenario table at the bottom (UVEV_MODEL_CORE_SCENARIOS) says how each
 * one is searched; test/model/model.cpp runs it.
 */
#ifndef UVEV_MODEL_CORE_H_
#define UVEV_MODEL_CORE_H_

#include "model.h"

static const uint64_t NO_TIMEOUT = UVEV__NO_TIMEOUT;

/* Everything a core scenario may use. Unused parts cost nothing to search.
 * The test suite is value-initialised for each iteration (Relacy), so the
 * requests start zero-filled, as the API asks. */
struct world {
  uvev_event_t* ev;       /* allocated through Relacy: destroy frees it */
  rl::atomic<int> tok;
  mloop loop;
  mreq r[3];
  mgate gate;
  mpred sp[2];            /* the blocking waiters' predicates */
  int status[2];          /* each blocking waiter's result */
};

/* flags: uvev_event_init_ex's (0, or UVEV_EVENT_LIFO). */
static void world_init_ex(world* w, unsigned int flags) {
  int err;

  uvm_clock_reset();
  w->ev = new uvev_event_t();
  err = uvev_event_init_ex(w->ev, flags);
  RL_ASSERT(err == 0);
  /* Relaxed: before() runs before every thread. */
  w->tok.store(0, rl::mo_relaxed, $);
  gate_init(&w->gate);
  w->sp[0].tok = &w->tok;
  w->sp[1].tok = &w->tok;
  w->status[0] = M_PENDING;
  w->status[1] = M_PENDING;
}

static void world_init(world* w) {
  world_init_ex(w, 0);
}

/* Destroys and frees the event, unless a scenario did. Every thread has
 * finished: nobody is registered, and the waiter count says so. */
static void world_end(world* w) {
  if (w->ev != NULL) {
    RL_ASSERT(uvev_event_waiters(w->ev) == 0);
    RL_ASSERT(uvev_event_destroy(w->ev) == 0);
    delete w->ev;
    w->ev = NULL;
  }
}

/* A blocking waiter (uvev_wait_sync, or _timeout with 1 ms). */
static int sync_wait(world* w, int i, int timed) {
  if (timed)
    return uvev_wait_sync_timeout(w->ev, mpred_take, &w->sp[i], 1);
  return uvev_wait_sync(w->ev, mpred_take, &w->sp[i]);
}

/* Destroys and frees the event now, from a waiter whose wait was ended by
 * a notifier (its predicate ran after the re-check of its registration:
 * only a notification gets an untimed wait there). The notifier may still
 * be inside its notify: destroy waits it out (src/event.c). */
static void destroy_if_woken(world* w, const mpred* p) {
  if (p->calls < 3)
    return;
  RL_ASSERT(uvev_event_destroy(w->ev) == 0);
  delete w->ev;
  w->ev = NULL;
}

static int consumed(const int* status, int n) {
  int i;
  int c;

  c = 0;
  for (i = 0; i < n; i++)
    if (status[i] == 0)
      c++;
  return c;
}


/* ---- Blocking waiters (src/sync.c) ------------------------------------------ */

/* One waiter, one token, one notify_one. If the notify woke the waiter, the
 * waiter destroys the event and frees it while the notifier may still be
 * leaving notify (destroy racing the last notifier). */
struct sync_1w_1n : rl::test_suite<sync_1w_1n, 2> {
  world w;
  void before() { world_init(&w); }
  void thread(unsigned i) {
    if (i == 0) {
      w.status[0] = sync_wait(&w, 0, 0);
      destroy_if_woken(&w, &w.sp[0]);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.status[0] == 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* A timed wait racing the notify: the deadline may pass before, during or
 * after it. Either the waiter took the token or the token is still there. */
struct sync_timeout : rl::test_suite<sync_timeout, 2> {
  world w;
  void before() { world_init(&w); }
  void thread(unsigned i) {
    if (i == 0)
      w.status[0] = sync_wait(&w, 0, 1);
    else
      notifier(w.ev, w.tok, 1, 1);
  }
  void after() {
    RL_ASSERT(w.status[0] == 0 || w.status[0] == UV_ETIMEDOUT);
    RL_ASSERT(consumed(w.status, 1) + token_count(w.tok) == 1);
    world_end(&w);
  }
};

/* Two waiters, the first timed; two tokens, two notify_one. A notification
 * that reaches the timed waiter too late (its deadline passed, its last
 * check found nothing because the other waiter took the token) is handed
 * on to the other waiter, which would sleep forever without it. */
struct sync_timeout_2w : rl::test_suite<sync_timeout_2w, 3> {
  world w;
  void before() { world_init(&w); }
  void thread(unsigned i) {
    if (i < 2)
      w.status[i] = sync_wait(&w, (int) i, i == 0);
    else
      notifier(w.ev, w.tok, 2, 1);
  }
  void after() {
    RL_ASSERT(w.status[0] == 0 || w.status[0] == UV_ETIMEDOUT);
    RL_ASSERT(w.status[1] == 0);
    RL_ASSERT(consumed(w.status, 2) + token_count(w.tok) == 2);
    world_end(&w);
  }
};

/* Two waiters, two tokens, two notify_one (or both tokens and one
 * notify_all). */
template<size_t each, int ntok>
struct sync_2w_t : rl::test_suite<sync_2w_t<each, ntok>, 3> {
  world w;
  void before() { world_init(&w); }
  void thread(unsigned i) {
    if (i < 2) {
      w.status[i] = sync_wait(&w, (int) i, 0);
    } else if (ntok == 2) {
      notifier(w.ev, w.tok, 2, each);
    } else {
      token_put(w.tok);
      token_put(w.tok);
      uvev_notify(w.ev, each);
    }
  }
  void after() {
    RL_ASSERT(w.status[0] == 0 && w.status[1] == 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};
typedef sync_2w_t<1, 2> sync_2w_1n;
typedef sync_2w_t<SIZE_MAX, 0> sync_2w_notify_all;


/* ---- Loop waits (src/wait.c, src/waker.c) ------------------------------------ */

/* The callback of a request that then frees itself (and, if a notifier
 * woke it, the event): a notifier that still touches the request or the
 * event after its last touch is an ACCESS TO FREED MEMORY. It leaves its
 * count and status in the world's r[0]. */
static void free_in_cb(mreq* r, int status) {
  world* w = (world*) r->then_arg;
  mpred pred = r->pred;

  w->r[0].ncalls = r->ncalls;
  w->r[0].status = status;
  /* The request first: the event's destroy waits for the notifier's lock,
   * which would hide a notifier still touching the request. */
  delete r;
  if (status == 0)
    destroy_if_woken(w, &pred);
}

/* One request, one notifier. The request is allocated through Relacy and
 * freed in its callback; if the notifier woke it, the callback destroys and
 * frees the event too. Then the loop closes its waker. */
struct loop_1r_1n : rl::test_suite<loop_1r_1n, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq* r = new mreq();
      r->then = free_in_cb;
      r->then_arg = &w;
      mreq_start(w.loop.waker, r, w.ev, &w.tok, NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* Two requests on one loop, one notifier that notifies twice: the second
 * push may land on a list the loop has just taken, while `pending` is being
 * cleared (the ready list's fence pair, ready.h). */
struct loop_2r_1n : rl::test_suite<loop_2r_1n, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 2, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], 0, 0, 0);
    mreq_check(&w.r[1], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* Cancel racing a notify: A and B wait (A first), then the notifier makes
 * one token and notifies one waiter while the loop cancels A. If the
 * notification went to A, the cancel hands it to B. */
struct loop_cancel : rl::test_suite<loop_cancel, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      gate_open(&w.gate);
      RL_ASSERT(uvev_wait_cancel(&w.r[0].req) == 0);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      gate_wait(&w.gate);
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], UV_ECANCELED, UV_ECANCELED, UV_ECANCELED);
    mreq_check(&w.r[1], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* A timed request: its deadline (the model clock, moved when the loop's
 * poll times out) may pass before, during or after the notify. The expiry
 * settles the node, then checks one last time. */
struct loop_timeout : rl::test_suite<loop_timeout, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, 1);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    int ok;

    ok = mreq_check(&w.r[0], 0, UV_ETIMEDOUT, UV_ETIMEDOUT);
    RL_ASSERT(ok + token_count(w.tok) == 1);
    world_end(&w);
  }
};

/* A timed request A and an untimed B, two tokens: A's deadline may pass
 * after A was notified; its expiry hands the notification to B. */
struct loop_timeout_2r : rl::test_suite<loop_timeout_2r, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, 1);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 2, 1);
    }
  }
  void after() {
    int ok;

    ok = mreq_check(&w.r[0], 0, UV_ETIMEDOUT, UV_ETIMEDOUT);
    mreq_check(&w.r[1], 0, 0, 0);
    RL_ASSERT(ok + 1 + token_count(w.tok) == 2);
    world_end(&w);
  }
};

/* The hand-off on timeout, on the loop: A (timed, first) needs two tokens,
 * B one; the notifier makes one and notifies one waiter. The loop moves the
 * clock past A's deadline before it runs, so A expires before any drain
 * (timers run first). If the notification went to A, the expiry's last
 * check fails and it hands the notification to B; without that B waits
 * forever (the loop polls: DEADLOCK). (Had A been drained first, the
 * notification would have been spent on A's false predicate, as notify_one
 * does with any waiter: heterogeneous predicates call for notify_all.) */
struct loop_handoff : rl::test_suite<loop_handoff, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      w.r[0].pred.need = 2;
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, 1);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      uvm_clock_advance_ms(2);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], UV_ETIMEDOUT, UV_ETIMEDOUT, UV_ETIMEDOUT);
    mreq_check(&w.r[1], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* The last check at the deadline: a timed request whose predicate holds
 * when its deadline passes completes with 0. The loop makes a token without
 * notifying, moves the clock past the deadline and runs (the timer fires
 * first); a notifier adds a token of its own and notifies, which may reach
 * the request before or after the expiry. */
struct loop_deadline : rl::test_suite<loop_deadline, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, 1);
      token_put(w.tok);
      uvm_clock_advance_ms(2);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 1);
    world_end(&w);
  }
};

/* A decided request keeps its status: A is satisfied at once (a token made
 * before it started; its callback is queued on the idle handle) and then
 * cancelled, which changes nothing; B waits for the notifier's token while
 * the loop closes the waker, which calls B back with 0 or UV_ECANCELED, and
 * A still with 0. */
struct loop_decided : rl::test_suite<loop_decided, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      token_put(w.tok);
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      RL_ASSERT(uvev_wait_cancel(&w.r[0].req) == 0);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      if (rl::rand(2))
        uv_run(&w.loop.loop, UV_RUN_NOWAIT);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    int ok;

    mreq_check(&w.r[0], 0, 0, 0);
    ok = mreq_check(&w.r[1], 0, UV_ECANCELED, UV_ECANCELED);
    RL_ASSERT(1 + ok + token_count(w.tok) == 2);
    world_end(&w);
  }
};

/* Closing the waker while the notifier may be anywhere in its notify (the
 * claim at the top of src/waker.c: closing is safe without counting
 * notifiers). The loop closes at once, or after its request completed; the
 * close callback frees the waker, so a notifier that can still reach it is
 * an ACCESS TO FREED MEMORY. */
struct loop_close : rl::test_suite<loop_close, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      if (rl::rand(2))
        mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    int ok;

    ok = mreq_check(&w.r[0], 0, UV_ECANCELED, UV_ECANCELED);
    RL_ASSERT(ok + token_count(w.tok) == 1);
    world_end(&w);
  }
};

/* A request started again from its own callback, twice in all: the
 * notifier must not touch the request after its push but for the release
 * store of in_wait_set, or the restart's writes race with it. */
static void restart_once(mreq* r, int status) {
  world* w = (world*) r->then_arg;

  if (status != 0 || r->ncalls != 1)
    return;
  mreq_start(w->loop.waker, r, w->ev, &w->tok, NO_TIMEOUT);
}

struct loop_reuse : rl::test_suite<loop_reuse, 2> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      w.r[0].then = restart_once;
      w.r[0].then_arg = &w;
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 2, 1);
    }
  }
  void after() {
    RL_ASSERT(w.r[0].ncalls == 2 && w.r[0].status == 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* Cancel racing a notify across a loop and a thread: the cancelled loop
 * request hands its notification to the blocking waiter. */
struct mixed_cancel : rl::test_suite<mixed_cancel, 3> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      gate_open(&w.gate);
      RL_ASSERT(uvev_wait_cancel(&w.r[0].req) == 0);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else if (i == 1) {
      w.status[0] = sync_wait(&w, 0, 0);
    } else {
      gate_wait(&w.gate);
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], UV_ECANCELED, UV_ECANCELED, UV_ECANCELED);
    RL_ASSERT(w.status[0] == 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* A loop request and a blocking waiter on one event, two tokens, one
 * notify_all. */
struct mixed_notify_all : rl::test_suite<mixed_notify_all, 3> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else if (i == 1) {
      w.status[0] = sync_wait(&w, 0, 0);
    } else {
      token_put(w.tok);
      token_put(w.tok);
      uvev_notify_all(w.ev);
    }
  }
  void after() {
    mreq_check(&w.r[0], 0, 0, 0);
    RL_ASSERT(w.status[0] == 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* Two notifiers racing into one loop: concurrent pushes, coalesced sends. */
struct loop_2r_2n : rl::test_suite<loop_2r_2n, 3> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], 0, 0, 0);
    mreq_check(&w.r[1], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* Two notifiers racing a waker close: the loop runs once or not at all,
 * then closes (every request still active is called back), and the close
 * callback frees the waker. */
struct loop_close_2n : rl::test_suite<loop_close_2n, 3> {
  world w;
  void before() {
    world_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      if (rl::rand(2))
        uv_run(&w.loop.loop, UV_RUN_ONCE);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    int ok;

    ok = mreq_check(&w.r[0], 0, UV_ECANCELED, UV_ECANCELED);
    ok += mreq_check(&w.r[1], 0, UV_ECANCELED, UV_ECANCELED);
    RL_ASSERT(ok + token_count(w.tok) == 2);
    world_end(&w);
  }
};


/* ---- LIFO events and the waiter count (src/waitset.c, src/event.c) ------- */

/* Runs the loop until one of the first two requests has been called back. */
static void run_until_one(world* w) {
  while (w->r[0].ncalls == 0 && w->r[1].ncalls == 0)
    uv_run(&w->loop.loop, UV_RUN_ONCE);
}

/* On a LIFO event notify_one wakes the newest waiter: A then B register
 * (one loop thread, so in that order), then one token and one notify_one.
 * B must get it; A, never notified, is cancelled by the waker's close. */
struct lifo_newest : rl::test_suite<lifo_newest, 2> {
  world w;
  void before() {
    world_init_ex(&w, UVEV_EVENT_LIFO);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      gate_open(&w.gate);
      run_until_one(&w);
      mloop_close(&w.loop);
    } else {
      gate_wait(&w.gate);
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], UV_ECANCELED, UV_ECANCELED, UV_ECANCELED);
    mreq_check(&w.r[1], 0, 0, 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* The hand-off on cancel, on a LIFO event: A then B register, the loop
 * cancels B (the newest) while the notifier makes one token and notifies
 * one. If the notification went to B, the cancel hands it to A, the newest
 * left; without the hand-off A waits forever (DEADLOCK). */
struct lifo_cancel : rl::test_suite<lifo_cancel, 2> {
  world w;
  void before() {
    world_init_ex(&w, UVEV_EVENT_LIFO);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      mreq_start(w.loop.waker, &w.r[0], w.ev, &w.tok, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.r[1], w.ev, &w.tok, NO_TIMEOUT);
      gate_open(&w.gate);
      RL_ASSERT(uvev_wait_cancel(&w.r[1].req) == 0);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      gate_wait(&w.gate);
      notifier(w.ev, w.tok, 1, 1);
    }
  }
  void after() {
    mreq_check(&w.r[0], 0, 0, 0);
    mreq_check(&w.r[1], UV_ECANCELED, UV_ECANCELED, UV_ECANCELED);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};

/* uvev_event_waiters is a hint, but it never goes below zero (it would wrap
 * to a huge size_t) nor above the waiters there are: a blocking waiter and
 * a notifier that reads the count right after its notify, in every race of
 * the re-check with the notify (including the hand-off, where the waiter
 * leaves a node the notifier had already unlinked). */
struct event_waiters : rl::test_suite<event_waiters, 2> {
  world w;
  void before() { world_init(&w); }
  void thread(unsigned i) {
    if (i == 0) {
      w.status[0] = sync_wait(&w, 0, 0);
      RL_ASSERT(uvev_event_waiters(w.ev) <= 1);
    } else {
      notifier(w.ev, w.tok, 1, 1);
      RL_ASSERT(uvev_event_waiters(w.ev) <= 1);
    }
  }
  void after() {
    RL_ASSERT(w.status[0] == 0);
    RL_ASSERT(token_count(w.tok) == 0);
    world_end(&w);
  }
};


/* ---- Any-of waits (src/any.c, the any-of half of src/sync.c) ------------ */

/* Two events, A (0) and B (1), each with its own tokens; one any-of waiter
 * X over (A, B), in that order, and a second waiter Y on B alone. */
struct aworld {
  uvev_event_t* ev[2];    /* allocated through Relacy: destroyed in after() */
  rl::atomic<int> tok[2];
  mloop loop;
  mreq x;                 /* X on a loop: its request and its callback */
  mpred xp[2];            /* X's predicates: A's tokens, B's tokens */
  uvev_any_t any[2];
  int xstatus;            /* X blocking: what uvev_wait_sync_any returned */
  mreq y;                 /* Y on the loop */
  mpred yp;               /* Y blocking: its predicate, on B's tokens */
  int ystatus;
};

static void aworld_init(aworld* w) {
  int i;

  uvm_clock_reset();
  for (i = 0; i < 2; i++) {
    w->ev[i] = new uvev_event_t();
    RL_ASSERT(uvev_event_init(w->ev[i]) == 0);
    /* Relaxed: before() runs before every thread. */
    w->tok[i].store(0, rl::mo_relaxed, $);
    w->xp[i].tok = &w->tok[i];
    w->any[i].event = w->ev[i];
    w->any[i].pred = mpred_take;
    w->any[i].arg = &w->xp[i];
  }
  w->yp.tok = &w->tok[1];
  w->xstatus = M_PENDING;
  w->ystatus = M_PENDING;
}

/* Every thread has finished: no node is left in either event, the waiter
 * counts are back to 0, and destroy agrees. */
static void aworld_end(aworld* w) {
  int i;

  for (i = 0; i < 2; i++) {
    /* Relaxed: every thread has finished. */
    RL_ASSERT(uvev__load(w->ev[i]->ws.is_empty, relaxed));
    RL_ASSERT(uvev_event_waiters(w->ev[i]) == 0);
    RL_ASSERT(uvev_event_destroy(w->ev[i]) == 0);
    delete w->ev[i];
    w->ev[i] = NULL;
  }
}

/* X took B's token (it won on B): it makes another one for Y, so that Y
 * ends in every schedule. (The scenarios are about the schedules where X
 * wins on A while B's notification reached X's node first.) */
static void any_give_back(aworld* w, int status) {
  if (status != 1)
    return;
  token_put(w->tok[1]);
  uvev_notify(w->ev[1], 1);
}

static void any_give_back_cb(mreq* r, int status) {
  any_give_back((aworld*) r->then_arg, status);
}

/* X as a loop any-of wait (uvev_wait_any, or _timeout). */
static void any_loop_start(aworld* w, uint64_t timeout_ms) {
  int err;

  w->x.status = M_PENDING;
  w->x.then = any_give_back_cb;
  w->x.then_arg = w;
  if (timeout_ms == NO_TIMEOUT)
    err = uvev_wait_any(w->loop.waker, &w->x.req, w->any, 2, mreq_cb);
  else
    err = uvev_wait_any_timeout(w->loop.waker, &w->x.req, w->any, 2, mreq_cb,
                                timeout_ms);
  RL_ASSERT(err == 0);
}

/* After(): X ended once with `x` (A's index 0, B's 1, or UV_ETIMEDOUT if
 * `timed`), Y with B's token; A's token is still there unless X took it,
 * and every token of B (one, and the one X gave back) was taken. */
static void any_check(aworld* w, int x, int y, int timed) {
  RL_ASSERT(x == 0 || x == 1 || (timed && x == UV_ETIMEDOUT));
  RL_ASSERT(y == 0);
  RL_ASSERT(token_count(w->tok[0]) == (x == 0 ? 0 : 1));
  RL_ASSERT(token_count(w->tok[1]) == 0);
  aworld_end(w);
}

/* A loop any-of wait X over A and B, a loop wait Y on B behind X's node,
 * and a notifier per event, each making one token and notifying one
 * waiter. If X wins on A after B's notifier took X's node on B (the
 * notification went to X, which checks A first), the drain hands B's
 * notification on to Y; without that Y waits forever with B's token there
 * (the loop polls: DEADLOCK). */
struct any_loop : rl::test_suite<any_loop, 3> {
  aworld w;
  void before() {
    aworld_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      any_loop_start(&w, NO_TIMEOUT);
      mreq_start(w.loop.waker, &w.y, w.ev[1], &w.tok[1], NO_TIMEOUT);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev[i - 1], w.tok[i - 1], 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.x.ncalls == 1 && w.y.ncalls == 1);
    any_check(&w, w.x.status, w.y.status, 0);
  }
};

/* As any_loop with a timed X whose deadline has passed before the loop
 * runs (timers first): the expiry settles both nodes, checks one last time
 * and hands on a notified node's notification that it did not use. The
 * notifiers may come before, during or after the expiry. */
struct any_loop_timeout : rl::test_suite<any_loop_timeout, 3> {
  aworld w;
  void before() {
    aworld_init(&w);
    mloop_init(&w.loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      any_loop_start(&w, 1);
      mreq_start(w.loop.waker, &w.y, w.ev[1], &w.tok[1], NO_TIMEOUT);
      uvm_clock_advance_ms(2);
      mloop_run(&w.loop);
      mloop_close(&w.loop);
    } else {
      notifier(w.ev[i - 1], w.tok[i - 1], 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.x.ncalls == 1 && w.y.ncalls == 1);
    any_check(&w, w.x.status, w.y.status, 1);
  }
};

/* The blocking any_loop: X is uvev_wait_sync_any in a thread; A's notifier
 * then waits on B as Y (uvev_wait_sync), so Y's node is behind X's unless X
 * has already left B. If X wins on A after B's notifier took X's node, X
 * hands B's notification on to Y before it returns; without that Y sleeps
 * forever (DEADLOCK). */
struct any_sync : rl::test_suite<any_sync, 3> {
  aworld w;
  void before() { aworld_init(&w); }
  void thread(unsigned i) {
    if (i == 0) {
      w.xstatus = uvev_wait_sync_any(w.any, 2);
      any_give_back(&w, w.xstatus);
    } else if (i == 1) {
      notifier(w.ev[0], w.tok[0], 1, 1);
      w.ystatus = uvev_wait_sync(w.ev[1], mpred_take, &w.yp);
    } else {
      notifier(w.ev[1], w.tok[1], 1, 1);
    }
  }
  void after() { any_check(&w, w.xstatus, w.ystatus, 0); }
};


/* Spurious wake-ups of a blocking any-of wait: one notifier notifies A and
 * B with no token (notifications whose state change another waiter took),
 * then makes a token of B and notifies B. X goes back to park after each
 * wake-up that finds nothing, and must end with B's token. The schedule
 * that needs care (docs/design.md, section 10): a notify of B unlinks X's
 * node and sets its bit before X takes `woken`, but changes the parker's
 * state only after X reset it, so X's next park returns at once with no
 * bit; the token's notify then comes between X's taking `woken` and its
 * reset. Reset first (sync.c), that notify's state change survives the
 * reset; reset last, the reset wipes it, and X's check (no fence since its
 * last insert, so it may miss the token) sends X to sleep with the token
 * there: DEADLOCK, found at context bound 6 only. */
struct any_sync_spurious : rl::test_suite<any_sync_spurious, 2> {
  aworld w;
  void before() { aworld_init(&w); }
  void thread(unsigned i) {
    if (i == 0) {
      w.xstatus = uvev_wait_sync_any(w.any, 2);
    } else {
      uvev_notify(w.ev[0], 1);
      uvev_notify(w.ev[1], 1);
      notifier(w.ev[1], w.tok[1], 1, 1);
    }
  }
  void after() {
    RL_ASSERT(w.xstatus == 1);
    RL_ASSERT(token_count(w.tok[0]) == 0 && token_count(w.tok[1]) == 0);
    aworld_end(&w);
  }
};


/* ---- The table --------------------------------------------------------------
 * MODEL_SCENARIO (model.cpp): name, search (bound, random or full), context
 * bound or iterations, test suite (which gives the thread count). A context
 * bound for every scenario: Relacy's full search ends for none of the
 * 2-thread ones on the real files (docs/design.md, section 8, has the
 * numbers). The 2-thread blocking ones get bound 8; the 2-thread loop
 * ones, whose every operation is many scheduling points, bounds 3 to 5.
 * The 3-thread scenarios are run again under the random scheduler, which
 * reaches schedules with more preemptions than the bound. The 3-thread
 * loop any-of ones get bound 1 (bound 2 of any_loop_timeout took 15 s,
 * 1.0 million executions) and 300 000 random executions; any_sync_spurious
 * bound 4 (bound 5 took a minute). */
#define UVEV_MODEL_CORE_SCENARIOS                                               \
  MODEL_SCENARIO("sync_1w_1n",         bound,  8, sync_1w_1n)   \
  MODEL_SCENARIO("sync_timeout",       bound,  8, sync_timeout) \
  MODEL_SCENARIO("loop_1r_1n",         bound,  5, loop_1r_1n)   \
  MODEL_SCENARIO("loop_2r_1n",         bound,  3, loop_2r_1n)   \
  MODEL_SCENARIO("loop_cancel",        bound,  4, loop_cancel)  \
  MODEL_SCENARIO("loop_timeout",       bound,  5, loop_timeout) \
  MODEL_SCENARIO("loop_timeout_2r",    bound,  3, loop_timeout_2r) \
  MODEL_SCENARIO("loop_handoff",       bound,  4, loop_handoff) \
  MODEL_SCENARIO("loop_deadline",      bound,  4, loop_deadline) \
  MODEL_SCENARIO("loop_decided",       bound,  4, loop_decided) \
  MODEL_SCENARIO("loop_close",         bound,  5, loop_close)   \
  MODEL_SCENARIO("loop_reuse",         bound,  4, loop_reuse)   \
  MODEL_SCENARIO("lifo_newest",        bound,  4, lifo_newest)  \
  MODEL_SCENARIO("lifo_cancel",        bound,  4, lifo_cancel)  \
  MODEL_SCENARIO("event_waiters",      bound,  8, event_waiters) \
  MODEL_SCENARIO("any_sync_spurious",  bound,  4, any_sync_spurious) \
  MODEL_SCENARIO("sync_2w_1n",         bound,  2, sync_2w_1n)   \
  MODEL_SCENARIO("sync_2w_notify_all", bound,  3, sync_2w_notify_all) \
  MODEL_SCENARIO("sync_timeout_2w",    bound,  3, sync_timeout_2w) \
  MODEL_SCENARIO("mixed_cancel",       bound,  2, mixed_cancel) \
  MODEL_SCENARIO("mixed_notify_all",   bound,  2, mixed_notify_all) \
  MODEL_SCENARIO("loop_2r_2n",         bound,  2, loop_2r_2n)   \
  MODEL_SCENARIO("loop_close_2n",      bound,  2, loop_close_2n) \
  MODEL_SCENARIO("any_loop",           bound,  1, any_loop)     \
  MODEL_SCENARIO("any_loop_timeout",   bound,  1, any_loop_timeout) \
  MODEL_SCENARIO("any_sync",           bound,  2, any_sync)     \
  MODEL_SCENARIO("sync_2w_1n/random",         random, 100000, sync_2w_1n) \
  MODEL_SCENARIO("sync_timeout_2w/random",    random, 100000, sync_timeout_2w) \
  MODEL_SCENARIO("mixed_cancel/random",       random, 100000, mixed_cancel) \
  MODEL_SCENARIO("mixed_notify_all/random",   random, 100000, mixed_notify_all) \
  MODEL_SCENARIO("loop_2r_2n/random",         random, 100000, loop_2r_2n) \
  MODEL_SCENARIO("loop_close_2n/random",      random, 100000, loop_close_2n) \
  MODEL_SCENARIO("any_loop/random",           random, 300000, any_loop) \
  MODEL_SCENARIO("any_loop_timeout/random",   random, 300000, any_loop_timeout) \
  MODEL_SCENARIO("any_sync/random",           random, 300000, any_sync)

#endif /* UVEV_MODEL_CORE_H_ */
