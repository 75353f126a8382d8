/* model.h: the Relacy build of uvev, and the pieces every model scenario
 * shares.
 *
 * It owns: the include order (system headers before Relacy, which #defines
 * new, delete, malloc, free, assert and errno; then the model libuv, uv.h,
 * which include/uvev.h finds as <uv.h>), the field-type mapping
 * include/uvev.h honours (UVEV__ATOMIC, UVEV__SHARED, UVEV__MUTEX), the
 * model's uvev__zero (src/atomic.h), and the inclusion of the REAL
 * src/waitset.c, src/ready.h, src/heap.c, src/wait.c, src/any.c,
 * src/waker.c, src/sync.c and src/event.c, unchanged (built with -DUVEV__MUTANT=n for
 * the broken variants; test/model/chan.h adds src/ring.c, src/chan.h and
 * src/chan.c). Besides, models of what uvev's users bring:
 *   - tokens: the lock-free state the predicates watch (a count, consumed by
 *     a CAS-decrement, as a channel's receivers consume elements);
 *   - a loop thread's harness: a loop, a waker allocated through Relacy
 *     (freed in its close callback, so a notifier that touches it after the
 *     close is an ACCESS TO FREED MEMORY), and requests whose callbacks count
 *     how often they ran and keep the status.
 * Every rl:: object lives inside a scenario's rl::test_suite, or in memory
 * allocated through Relacy during a simulation (globals crash).
 */
#ifndef UVEV_MODEL_H_
#define UVEV_MODEL_H_

/* System headers first: <relacy/relacy.hpp> redefines allocation, assert
 * and errno for everything included after it. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <iostream>
#include <new>
#include <streambuf>

#include <relacy/relacy.hpp>

/* The field types of include/uvev.h, as Relacy's checked types. */
#define UVEV__MODEL 1
#define UVEV__ATOMIC(T) rl::atomic<T>
#define UVEV__SHARED(T) rl::var<T>
#define UVEV__MUTEX rl::mutex

/* The model libuv: include/uvev.h's <uv.h> is this one (the model's
 * include path, test/model/meson.build). */
#include "uv.h"

/* src/atomic.h's uvev__zero in the model: destroy the object and build it
 * again value-initialised, which zeroes its plain fields (memset would
 * overwrite the Relacy objects inside it). */
template<typename T>
static void uvev__model_zero(T* p) {
  p->~T();
  new (p) T();
}

/* The real library, compiled as C++ under Relacy. */
#include "../../src/waitset.c"
#include "../../src/ready.h"
#include "../../src/heap.c"
#include "../../src/wait.c"
#include "../../src/any.c"
#include "../../src/waker.c"
#include "../../src/sync.c"
#include "../../src/event.c"

/* The model libuv's implementation. */
#include "uv.cpp"


/* ---- Tokens ---------------------------------------------------------------- */

/* Makes one more token available; the caller notifies afterwards. */
static void token_put(rl::atomic<int>& tok) {
  /* Release: pairs with the acquire CAS in token_take (a consumer sees what
   * the producer wrote before the token). The wake-up itself must come from
   * uvev's fences: this is no seq_cst operation. */
  tok.fetch_add(1, rl::mo_release, $);
}

/* The predicate: consumes one token if there is one. */
static int token_take(rl::atomic<int>& tok) {
  int v;

  /* Relaxed: a guess that the CAS below checks. Reading 0 here is the
   * predicate's "false": the waiter's fence (uvev__ws_insert) and the
   * notifier's (uvev__ws_notify) must make it see token_put's increment. */
  v = tok.load(rl::mo_relaxed, $);
  while (v > 0) {
    /* Acquire: pairs with the release fetch_add in token_put. */
    if (tok.compare_exchange_strong(v, v - 1, rl::mo_acquire, $,
                                    rl::mo_relaxed, $))
      return 1;
  }
  return 0;
}

/* The predicate of a waiter that needs n tokens at once. */
static int token_take_n(rl::atomic<int>& tok, int n) {
  int v;

  /* Relaxed: as in token_take. */
  v = tok.load(rl::mo_relaxed, $);
  while (v >= n) {
    /* Acquire: as in token_take. */
    if (tok.compare_exchange_strong(v, v - n, rl::mo_acquire, $,
                                    rl::mo_relaxed, $))
      return 1;
  }
  return 0;
}

static int token_count(rl::atomic<int>& tok) {
  /* Relaxed: read in after(), when every thread has finished. */
  return tok.load(rl::mo_relaxed, $);
}

/* A predicate's argument: the tokens it takes from, and how often it ran
 * (a wait whose predicate ran more often than its start and its re-check
 * was woken by a notifier, which has then begun its notify). */
struct mpred {
  rl::atomic<int>* tok;
  int need;   /* tokens taken at once; 0 means 1 */
  int calls;  /* the waiter's thread only */
};

static int mpred_take(void* arg) {
  mpred* p = (mpred*) arg;

  p->calls++;
  if (p->need > 1)
    return token_take_n(*p->tok, p->need);
  return token_take(*p->tok);
}

/* Produces n tokens, each followed by its own notify of `each` waiters. */
static void notifier(uvev_event_t* ev, rl::atomic<int>& tok, int n,
                     size_t each) {
  int i;

  for (i = 0; i < n; i++) {
    token_put(tok);
    uvev_notify(ev, each);
  }
}


/* ---- A one-way gate ---------------------------------------------------------- */

/* A thread waits until another opens it: starts a notifier only once a
 * waiter is registered. */
struct mgate {
  rl::mutex mu;
  rl::condition_variable cv;
  rl::var<int> open;  /* under mu */
};

static void gate_init(mgate* g) {
  g->open($) = 0;
}

static void gate_open(mgate* g) {
  g->mu.lock($);
  g->open($) = 1;
  g->cv.notify_all($);
  g->mu.unlock($);
}

static void gate_wait(mgate* g) {
  g->mu.lock($);
  while (!g->open($))
    g->cv.wait(g->mu, $);
  g->mu.unlock($);
}


/* ---- Loop requests ------------------------------------------------------------- */

/* Statuses a request has before its callback ran. */
enum { M_PENDING = 1 };

/* A loop wait request (uvev_wait_t) on a token predicate. Its callback
 * counts its runs and keeps the status: after() checks "exactly once, with
 * a status the scenario allows". */
struct mreq {
  uvev_wait_t req;
  mpred pred;
  int ncalls;
  int status;
  void (*then)(struct mreq* r, int status);  /* optional, in the callback */
  void* then_arg;
};

static void mreq_cb(uvev_wait_t* req, int status) {
  mreq* r = uvev__container_of(req, mreq, req);

  r->ncalls++;
  r->status = status;
  if (r->then != NULL)
    r->then(r, status);
}

/* uvev_wait (timeout_ms UVEV__NO_TIMEOUT) or uvev_wait_timeout. */
static void mreq_start(uvev_waker_t* w, mreq* r, uvev_event_t* ev,
                       rl::atomic<int>* tok, uint64_t timeout_ms) {
  int err;

  r->pred.tok = tok;
  r->pred.calls = 0;  /* pred.need: as the scenario set it */
  r->status = M_PENDING;
  r->req.data = &r->pred;
  if (timeout_ms == UVEV__NO_TIMEOUT)
    err = uvev_wait(w, &r->req, ev, mpred_take, mreq_cb);
  else
    err = uvev_wait_timeout(w, &r->req, ev, mpred_take, mreq_cb, timeout_ms);
  RL_ASSERT(err == 0);
}

/* The request's callback ran exactly once, with one of the statuses given
 * (up to three; M_PENDING for none). Returns 1 if it was 0. */
static int mreq_check(const mreq* r, int s1, int s2, int s3) {
  RL_ASSERT(r->ncalls == 1);
  RL_ASSERT(r->status == s1 || r->status == s2 || r->status == s3);
  return r->status == 0;
}


/* ---- A loop thread ---------------------------------------------------------------- */

/* A loop and its waker. The waker is allocated through Relacy and freed in
 * its close callback: a notifier that still touches it after that is an
 * ACCESS TO FREED MEMORY. */
struct mloop {
  uv_loop_t loop;
  uvev_waker_t* waker;
  int closed;  /* close callbacks run */
};

static void mloop_init(mloop* l) {
  int err;

  uv_loop_init(&l->loop);
  l->waker = new uvev_waker_t();
  l->waker->data = l;
  err = uvev_waker_init(&l->loop, l->waker);
  RL_ASSERT(err == 0);
  l->closed = 0;
}

static void mloop_closed(uvev_waker_t* w) {
  mloop* l = (mloop*) w->data;

  l->closed++;
  delete w;
}

/* uv_run until nothing keeps the loop alive (every request called back). */
static void mloop_run(mloop* l) {
  uv_run(&l->loop, UV_RUN_DEFAULT);
}

/* Closes the waker (whatever is still active is called back) and runs the
 * loop until the close callback has freed it; the loop is then empty. */
static void mloop_close(mloop* l) {
  uvev_waker_close(l->waker, mloop_closed);
  uv_run(&l->loop, UV_RUN_DEFAULT);
  RL_ASSERT(l->closed == 1);
  RL_ASSERT(uv_loop_close(&l->loop) == 0);
}

#endif /* UVEV_MODEL_H_ */
