/* model.h: the Relacy build of the uvev core, and the pieces every model
 * scenario shares.
 *
 * It owns: the include order (system headers and <uv.h> before Relacy, which
 * #defines new, delete, malloc, free, assert and errno), the field-type
 * mapping include/uvev.h honours (UVEV__ATOMIC, UVEV__SHARED, UVEV__MUTEX),
 * the inclusion of the REAL src/waitset.c and src/ready.h (unchanged; built
 * with -DUVEV__MUTANT=n for the broken variants; test/model/chan.h adds
 * src/ring.c and src/chan.h), and models of what the core talks to:
 *   - tokens: the lock-free state the predicates watch (a count, consumed by
 *     a CAS-decrement, as a channel's receivers consume elements);
 *   - a blocking waiter parked on a per-waiter flag (rl::mutex +
 *     rl::condition_variable), following src/sync.c's use of the waitset,
 *     on any predicate (the channel's are its try operations);
 *   - a libuv loop with one waker: the ready list, libuv 1.44's
 *     uv_async_send / uv__async_spin on `pending`, the eventfd, and loop wait
 *     requests following src/wait.c and src/waker.c (start, drain, cancel,
 *     timeout, close).
 * Every rl:: object lives inside a scenario's rl::test_suite (globals crash).
 */
#ifndef UVEV_MODEL_H_
#define UVEV_MODEL_H_

/* System headers first: <relacy/relacy.hpp> redefines allocation, assert
 * and errno for everything included after it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <iostream>
#include <streambuf>
#include <uv.h>

#include <relacy/relacy.hpp>

/* The field types of include/uvev.h, as Relacy's checked types. */
#define UVEV__MODEL 1
#define UVEV__ATOMIC(T) rl::atomic<T>
#define UVEV__SHARED(T) rl::var<T>
#define UVEV__MUTEX rl::mutex

/* The real core, compiled as C++ under Relacy. */
#include "../../src/waitset.c"
#include "../../src/ready.h"

#ifndef UVEV_MODEL_MAX_REQS
# define UVEV_MODEL_MAX_REQS 2
#endif

/* Statuses, as the library reports them. */
enum {
  M_OK = 0,
  M_TIMEDOUT = UV_ETIMEDOUT,
  M_CANCELED = UV_ECANCELED,
  M_PENDING = 1  /* not finished (yet) */
};


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

static int token_count(rl::atomic<int>& tok) {
  /* Relaxed: read in after(), when every thread has finished. */
  return tok.load(rl::mo_relaxed, $);
}


/* ---- A flag to block on ---------------------------------------------------- */

/* A one-way gate: a thread waits until another opens it. Used to start a
 * notifier only once a waiter is registered. */
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


/* ---- Blocking waiters (src/sync.c) ---------------------------------------- */

/* What a park that returns without a notification stands for. */
enum {
  EARLY_SPURIOUS = 0,  /* a spurious wake-up: settle, re-check, register again */
  EARLY_TIMEOUT = 1    /* the deadline: settle, a last check, give up */
};

/* A blocking waiter: its node and its parker, as on sync.c's stack. */
struct twaiter {
  struct uvev__node node;  /* first member: twaiter_wake casts back to it */
  rl::mutex mu;
  rl::condition_variable cv;
  rl::var<int> notified;   /* under mu: the parker's flag */
  /* The waiter's stack frame. twaiter_wake reads it (as sync.c's wake reads
   * the parker); the waiter rewrites it when its wait returns (the frame is
   * gone). Relacy reports a data race if a notifier can still be inside
   * wake() then: that is what in_wait_set's release/acquire pair forbids. */
  rl::var<int> frame;
  int woken;               /* waiter thread only: the last wait ended on a
                              notification (settle found it notified) */
  int early;               /* waiter thread only: parks that may end early */
  int early_mode;          /* EARLY_SPURIOUS or EARLY_TIMEOUT */
};

/* The node's wake(): called by a notifier under the waitset lock. */
static void twaiter_wake(struct uvev__node* node) {
  twaiter* w;

  w = (twaiter*) node;
  RL_ASSERT(w->frame($) > 0);  /* touches the waiter's frame */
  w->mu.lock($);
  w->notified($) = 1;
  w->cv.notify_one($);
  w->mu.unlock($);
}

static void twaiter_init(twaiter* w, int early, int early_mode) {
  RL_ASSERT((void*) &w->node == (void*) w);
  w->node.wake = twaiter_wake;
  w->notified($) = 0;
  w->frame($) = 1;
  w->woken = 0;
  w->early = early;
  w->early_mode = early_mode;
}

/* Returns 1 once notified, 0 if the park ended early (timeout, spurious). */
static int twaiter_park(twaiter* w) {
  int notified;

  w->mu.lock($);
  for (;;) {
    notified = w->notified($);
    if (notified)
      break;
    /* Any park may end early while the waiter has budget for it. */
    if (w->early > 0 && rl::rand(2)) {
      w->early--;
      break;
    }
    w->cv.wait(w->mu, $);
  }
  w->mu.unlock($);
  return notified;
}

/* uvev_wait_sync / uvev_wait_sync_timeout: pred(arg) is the predicate, and
 * the waitset is used exactly as src/sync.c uses it. Returns M_OK or
 * M_TIMEDOUT. */
static int twaiter_wait_pred(struct uvev__waitset* ws, int (*pred)(void*),
                             void* arg, twaiter* w) {
  int status;
  int notified;

  status = M_OK;
  w->woken = 0;
  if (pred(arg))
    goto out;
  for (;;) {
    /* sync.c stores IDLE before each insert; the node is not linked. */
    w->mu.lock($);
    w->notified($) = 0;
    w->mu.unlock($);
    uvev__ws_insert(ws, &w->node);
    if (pred(arg)) {
      uvev__ws_remove(ws, &w->node);
      break;
    }
    if (!twaiter_park(w) && w->early_mode == EARLY_TIMEOUT) {
      /* Out of the list first, then the last check: a notification that
       * raced in is either used by that check or handed on. */
      notified = uvev__ws_settle(ws, &w->node);
      status = pred(arg) ? M_OK : M_TIMEDOUT;
      if (notified && status != M_OK)
        uvev__ws_notify(ws, 1);
      break;
    }
    notified = uvev__ws_settle(ws, &w->node);
    if (pred(arg)) {
      w->woken = notified;
      break;
    }
    /* sync.c: notified and still false, and the deadline has passed
     * meanwhile (any round may be the one that crosses it). */
    if (w->early_mode == EARLY_TIMEOUT && w->early > 0 && rl::rand(2)) {
      w->early--;
      status = M_TIMEDOUT;
      break;
    }
  }
out:
  /* The frame is gone: no notifier may touch the parker any more. */
  w->frame($) = w->frame($) + 1;
  return status;
}

static int token_pred(void* arg) {
  return token_take(*(rl::atomic<int>*) arg);
}

/* The same wait on the token predicate. */
static int twaiter_wait(struct uvev__waitset* ws, rl::atomic<int>& tok,
                        twaiter* w) {
  return twaiter_wait_pred(ws, token_pred, &tok, w);
}


/* uvev_event_destroy once the last wait has returned (src/event.c), then the
 * memory is reused. Called only when that wait ended on a notification, so
 * the notify that woke it has certainly begun (destroying while a notify may
 * still start is the user's race): the notifier may still be in its critical
 * section (after the release of in_wait_set it still updates is_empty from
 * head and unlocks), and the lock and unlock wait for it. Reusing the memory
 * rewrites head and tail, which Relacy checks against the notifier's last
 * reads. */
static void event_destroy_and_reuse(struct uvev__waitset* ws) {
  uvev__lock(ws->lock);
  uvev__unlock(ws->lock);
  uvev__ws_destroy(ws);
  uvev__ws_init(ws);
}


/* ---- A loop and its waker (src/waker.c, src/wait.c, libuv 1.44) ----------- */

struct mloop;

/* Loop request flags (src/internal.h). Loop thread only. */
enum {
  R_ACTIVE = 1,
  R_REGISTERED = 2,
  R_DECIDED = 4,
  R_TIMED = 8
};

/* A loop wait request (uvev_wait_t): node, ready-list link, state. */
struct lreq {
  struct uvev__node node;     /* first member: lreq_wake casts back to it */
  struct uvev__rnode rnode;   /* in the loop's ready list once notified */
  /* req->waker: written by the loop at start, read by a notifier in wake()
   * (a plain field in uvev_wait_t; checked for races here). */
  rl::var<struct mloop*> waker;
  struct uvev__waitset* ws;   /* the event; constant */
  int (*pred)(void* arg);     /* the predicate and its argument; constant */
  void* arg;
  int flags;                  /* loop thread only, like the rest below */
  int status;
  int woken;                  /* completed by a drain that found it notified */
};

/* A loop with its waker: the uv_async_t, the eventfd, the ready list. */
struct mloop {
  struct uvev__ready ready;   /* the real ready list (src/ready.h) */
  /* uv_async_t.pending, libuv 1.44: 0 idle, 1 a sender is writing the fd,
   * 2 sent and not yet seen by the loop. */
  rl::atomic<int> pending;
  /* The uv_async_t's memory: every touch by a sender reads it; the close
   * callback (after uv_close) "frees" it by writing it. A sender that is
   * not ordered before the free is a data race. */
  rl::var<int> handle;
  /* The loop's eventfd, with the kernel's ordering (a lock). */
  rl::mutex fd_mu;
  rl::condition_variable fd_cv;
  rl::var<int> fd_readable;   /* under fd_mu */
  /* Loop thread only. */
  struct lreq* reqs[UVEV_MODEL_MAX_REQS];
  int nreqs;
  int ndone;                  /* requests whose callback has run */
  int closing;
};

static void mloop_init(mloop* l) {
  /* Relaxed: before() runs before every thread. */
  uvev__store(l->ready.head, (struct uvev__rnode*) NULL, relaxed);
  /* Relaxed: as above. */
  l->pending.store(0, rl::mo_relaxed, $);
  l->handle($) = 1;
  l->fd_readable($) = 0;
  l->nreqs = 0;
  l->ndone = 0;
  l->closing = 0;
}

/* Writes the eventfd: wakes the loop out of its poll. */
static void mloop_fd_write(mloop* l) {
  l->fd_mu.lock($);
  l->fd_readable($) = 1;
  l->fd_cv.notify_one($);
  l->fd_mu.unlock($);
}

/* The loop's poll: blocks until the eventfd is readable, then reads it dry.
 * With `timer` set a deadline may fire first: returns 0 then, 1 otherwise. */
static int mloop_fd_poll(mloop* l, int timer) {
  int readable;

  l->fd_mu.lock($);
  for (;;) {
    readable = l->fd_readable($);
    if (readable)
      break;
    if (timer && rl::rand(2))
      break;
    l->fd_cv.wait(l->fd_mu, $);
  }
  l->fd_readable($) = 0;
  l->fd_mu.unlock($);
  return readable;
}

/* uv_async_send, as libuv 1.44 has it (no memory barrier before the load). */
static void model_uv_async_send(mloop* l) {
  int expected;

  RL_ASSERT(l->handle($) != 0);
  /* Relaxed: libuv's "cheap read first" (ACCESS_ONCE). It pairs with
   * nothing; uvev__ready_push's fence must make it see the loop's clear. */
  if (l->pending.load(rl::mo_relaxed, $) != 0)
    return;
  expected = 0;
  /* Seq_cst CAS 0->1 (cmpxchgi, a full barrier): pairs with the loop's CAS
   * 2->0 in model_uv_async_spin. */
  if (!l->pending.compare_exchange_strong(expected, 1, rl::mo_seq_cst, $))
    return;
  mloop_fd_write(l);
  RL_ASSERT(l->handle($) != 0);
  expected = 1;
  /* Seq_cst CAS 1->2: pairs with the loop's CAS 2->0, which spins while it
   * reads 1; this is the sender's last touch of the handle. */
  if (!l->pending.compare_exchange_strong(expected, 2, rl::mo_seq_cst, $))
    RL_ASSERT(!"uv_async_send: pending changed under a sender (abort)");
}

/* uv__async_spin: returns what pending was (0 not pending, 2 pending) and
 * leaves it 0; waits out a sender that is between its two CASes. */
static int model_uv_async_spin(mloop* l) {
  int expected;

  for (;;) {
    expected = 2;
    /* Seq_cst CAS 2->0 (cmpxchgi): pairs with the sender's CAS 1->2. */
    if (l->pending.compare_exchange_strong(expected, 0, rl::mo_seq_cst, $))
      return 2;
    if (expected != 1)
      return expected;
    rl::yield(1, $);  /* a sender is between its CASes: cpu_relax */
  }
}

static struct lreq* lreq_of(mloop* l, struct uvev__rnode* rn) {
  int i;

  for (i = 0; i < l->nreqs; i++)
    if (&l->reqs[i]->rnode == rn)
      return l->reqs[i];
  RL_ASSERT(!"ready list holds an unknown node");
  return NULL;
}

/* The node's wake() for a loop request (uvev__waker_wake): under the event
 * lock, push onto the waker's ready list and send if it was empty. */
static void lreq_wake(struct uvev__node* node) {
  struct lreq* r;
  mloop* l;

  r = (struct lreq*) node;
  l = r->waker($);
  if (uvev__ready_push(&l->ready, &r->rnode))
    model_uv_async_send(l);
}

/* A request on `ws` whose predicate is pred(arg). */
static void lreq_init_pred(struct lreq* r, mloop* l, struct uvev__waitset* ws,
                           int (*pred)(void*), void* arg) {
  RL_ASSERT((void*) &r->node == (void*) r);
  RL_ASSERT(l->nreqs < UVEV_MODEL_MAX_REQS);
  r->node.wake = lreq_wake;
  r->waker($) = NULL;
  r->ws = ws;
  r->pred = pred;
  r->arg = arg;
  r->flags = 0;
  r->status = M_PENDING;
  r->woken = 0;
  l->reqs[l->nreqs++] = r;
}

/* A request that consumes one of the tokens in `tok`. */
static void lreq_init(struct lreq* r, mloop* l, struct uvev__waitset* ws,
                      rl::atomic<int>* tok) {
  lreq_init_pred(r, l, ws, token_pred, tok);
}

/* The callback runs (uvev__wait_finish). */
static void lreq_finish(mloop* l, struct lreq* r) {
  RL_ASSERT(r->flags & R_ACTIVE);
  r->flags = 0;
  l->ndone++;
}

static int lreq_unregister(struct lreq* r) {
  if (!uvev__ws_remove(r->ws, &r->node))
    return 0;
  r->flags &= ~R_REGISTERED;
  return 1;
}

/* uvev__wait_decide: 1 if the caller delivers, 0 if the drain will. */
static int lreq_decide(struct lreq* r, int status) {
  r->status = status;
  r->flags |= R_DECIDED;
  r->flags &= ~R_TIMED;
  if (r->flags & R_REGISTERED)
    return lreq_unregister(r);
  return 1;
}

static void lreq_insert(struct lreq* r) {
  r->flags |= R_REGISTERED;
  uvev__ws_insert(r->ws, &r->node);
}

/* uvev_wait / uvev_wait_timeout (timed: the deadline is in the future).
 * A completion decided here is delivered at once: the real code goes through
 * the idle handle, which changes no ordering the model checks. */
static void lreq_start(mloop* l, struct lreq* r, int timed) {
  int deliver;

  RL_ASSERT(!(r->flags & R_ACTIVE));
  r->waker($) = l;
  r->status = M_OK;
  r->flags = R_ACTIVE;
  r->woken = 0;
  if (r->pred(r->arg)) {
    deliver = lreq_decide(r, M_OK);
  } else {
    lreq_insert(r);
    if (!r->pred(r->arg)) {
      if (timed)
        r->flags |= R_TIMED;
      return;
    }
    deliver = lreq_decide(r, M_OK);
  }
  if (deliver)
    lreq_finish(l, r);
}

/* uvev__wait_ready: the drain took r off the ready list. */
static void lreq_ready(mloop* l, struct lreq* r) {
  r->flags &= ~R_REGISTERED;
  r->woken = uvev__ws_settle(r->ws, &r->node);
  if (!(r->flags & R_DECIDED)) {
    if (!r->pred(r->arg)) {
      lreq_insert(r);
      if (!r->pred(r->arg))
        return;  /* waits again */
      r->woken = 0;
    }
    if (!lreq_decide(r, M_OK))
      return;  /* notified again meanwhile: the next drain delivers it */
  }
  lreq_finish(l, r);
}

/* uvev_wait_cancel. */
static void lreq_cancel(mloop* l, struct lreq* r) {
  if (!(r->flags & R_ACTIVE) || (r->flags & R_DECIDED))
    return;
  if (lreq_decide(r, M_CANCELED))
    lreq_finish(l, r);
}

/* uvev__wait_expire: the deadline passed (registered and undecided). */
static void lreq_expire(mloop* l, struct lreq* r) {
  int notified;

  r->flags &= ~R_TIMED;
  /* Out of the event first, then the last check; a notification that raced
   * in is used by the check or handed on. */
  notified = uvev__ws_settle(r->ws, &r->node);
  r->status = r->pred(r->arg) ? M_OK : M_TIMEDOUT;
  r->flags |= R_DECIDED;
  if (notified && r->status != M_OK)
    uvev__ws_notify(r->ws, 1);
  if (!notified) {
    r->flags &= ~R_REGISTERED;
    lreq_finish(l, r);
  }
  /* Notified: it sits on the ready list, and the drain delivers it. */
}

/* The waker's async callback (uvev__waker_async_cb). */
static void mloop_async_cb(mloop* l) {
  struct uvev__rnode* rn;
  struct lreq* r;

  rn = uvev__ready_take(&l->ready);
  while (rn != NULL && !l->closing) {
    r = lreq_of(l, rn);
    rn = uvev__get(rn->next);
    lreq_ready(l, r);
  }
}

/* uv_run until `ndone` callbacks have run: poll the eventfd, then
 * uv__async_io for our one handle (uv__async_spin, then the callback). With
 * a timed request active, a poll may end on its deadline instead. */
static void mloop_run(mloop* l, int ndone) {
  int i;
  int timer;

  while (l->ndone < ndone) {
    timer = 0;
    for (i = 0; i < l->nreqs; i++)
      if (l->reqs[i]->flags & R_TIMED)
        timer = 1;
    if (!mloop_fd_poll(l, timer)) {
      for (i = 0; i < l->nreqs; i++)
        if (l->reqs[i]->flags & R_TIMED)
          lreq_expire(l, l->reqs[i]);
      continue;
    }
    if (model_uv_async_spin(l) != 0)
      mloop_async_cb(l);
  }
}

/* uvev_waker_close, then the close callbacks, then the user frees the
 * waker. Every request ends up called back. */
static void mloop_close(mloop* l) {
  int i;

  l->closing = 1;
  for (i = 0; i < l->nreqs; i++)
    if ((l->reqs[i]->flags & R_ACTIVE) && !(l->reqs[i]->flags & R_DECIDED))
      lreq_decide(l->reqs[i], M_CANCELED);  /* uvev__wait_abort */
  /* Relaxed: as in uvev_waker_close, only this thread can reach the list. */
  uvev__store(l->ready.head, (struct uvev__rnode*) NULL, relaxed);
  /* uv_close(&async): uv__async_close waits out a sender mid-send. */
  model_uv_async_spin(l);
  /* uvev__waker_closed: the remaining callbacks, then close_cb frees. */
  for (i = 0; i < l->nreqs; i++)
    if (l->reqs[i]->flags & R_ACTIVE)
      lreq_finish(l, l->reqs[i]);
  l->handle($) = 0;
}

#endif /* UVEV_MODEL_H_ */
