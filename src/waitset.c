/* waitset.c: the eventcount core (see waitset.h for the protocol).
 *
 * Written in the common subset of C11 and C++ so that test/model can compile
 * this very file under Relacy: no designated initialisers, no implicit casts
 * from void*, shared memory only through src/atomic.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "uvev.h"
#include "atomic.h"
#include "waitset.h"

int uvev__ws_init(struct uvev__waitset* ws) {
  int err;

  err = uvev__mutex_init(ws->lock);
  if (err != 0)
    return err;
  uvev__set(ws->head, (struct uvev__node*) NULL);
  uvev__set(ws->tail, (struct uvev__node*) NULL);
  uvev__set(ws->lifo, 0);
  /* Relaxed: the event is not yet shared; publishing it orders this. */
  uvev__store(ws->is_empty, 1, relaxed);
  uvev__store(ws->count, 0, relaxed);
  return 0;
}

void uvev__ws_destroy(struct uvev__waitset* ws) {
  uvev__mutex_destroy(ws->lock);
}

/* Lock held. */
static void uvev__ws_count(struct uvev__waitset* ws, long delta) {
  /* Relaxed: written only under the lock; uvev_event_waiters reads it
   * without the lock as a hint, with no order promised. */
  uvev__store(ws->count, uvev__load(ws->count, relaxed) + delta, relaxed);
}

/* Lock held. */
static void uvev__ws_unlink(struct uvev__waitset* ws, struct uvev__node* node) {
  struct uvev__node* prev;
  struct uvev__node* next;

  prev = uvev__get(node->prev);
  next = uvev__get(node->next);
  if (prev != NULL)
    uvev__set(prev->next, next);
  else
    uvev__set(ws->head, next);
  if (next != NULL)
    uvev__set(next->prev, prev);
  else
    uvev__set(ws->tail, prev);
  uvev__ws_count(ws, -1);
}

/* Lock held. */
static void uvev__ws_update_empty(struct uvev__waitset* ws) {
  /* Relaxed: written only under the lock; read without it by
   * uvev__ws_notify, ordered there by the seq_cst fence pair. */
  uvev__store(ws->is_empty, uvev__get(ws->head) == NULL, relaxed);
}

/* Lock held. Pops up to n nodes and wakes each. */
static void uvev__ws_notify_locked(struct uvev__waitset* ws, size_t n) {
  struct uvev__node* node;

  for (; n > 0; n--) {
    /* FIFO: the oldest waiter; LIFO: the newest, whose cache is warmest. */
#if UVEV__MUTANT != 26
    node = uvev__get(ws->lifo) ? uvev__get(ws->tail) : uvev__get(ws->head);
#else
    node = uvev__get(ws->head);
#endif
    if (node == NULL)
      break;
    uvev__ws_unlink(ws, node);
    node->wake(node);
    /* Release, as the last touch of the node: pairs with the acquire load in
     * uvev__ws_settle. A waiter that reads 0 there may reuse or free the node
     * (and what wake() reached) without taking the lock. */
#if UVEV__MUTANT != 4
    uvev__store(node->in_wait_set, 0, release);
#else
    uvev__store(node->in_wait_set, 0, relaxed);
#endif
  }
  uvev__ws_update_empty(ws);
}

void uvev__ws_insert(struct uvev__waitset* ws, struct uvev__node* node) {
  struct uvev__node* tail;

  uvev__lock(ws->lock);
  tail = uvev__get(ws->tail);
  uvev__set(node->next, (struct uvev__node*) NULL);
  uvev__set(node->prev, tail);
  if (tail != NULL)
    uvev__set(tail->next, node);
  else
    uvev__set(ws->head, node);
  uvev__set(ws->tail, node);
  uvev__ws_count(ws, 1);
  /* Relaxed: every other access is under the lock, and this waiter's own
   * later loads are ordered after it by program order. */
  uvev__store(node->in_wait_set, 1, relaxed);
  /* Seq_cst: uvev__ws_notify's relaxed load sees it through the fence pair
   * (the fence below), which is enough for uvev_notify. The channel's notify
   * has no fence (uvev__ws_notify_after_rmw): its seq_cst load and this
   * store are then ordered directly in S. (C11 would order them through
   * this store, the fence below and S as well; Relacy, which checks this
   * file, does not model that rule, so the store is seq_cst. It is on the
   * registering path only, under the lock.) */
  uvev__store(ws->is_empty, 0, seq_cst);
  uvev__unlock(ws->lock);
  /* seq_cst fence: pairs with the fence at the top of uvev__ws_notify. Either
   * the predicate re-check that follows sees the notifier's new state, or
   * the notifier's is_empty load sees the 0 stored above. */
#if UVEV__MUTANT != 2
  uvev__fence();
#endif
}

int uvev__ws_remove(struct uvev__waitset* ws, struct uvev__node* node) {
  int linked;

  uvev__lock(ws->lock);
  /* Relaxed: written only under the lock, which we hold. */
  linked = uvev__load(node->in_wait_set, relaxed);
  if (linked) {
    uvev__ws_unlink(ws, node);
    /* Relaxed: only this waiter reads it outside the lock. */
    uvev__store(node->in_wait_set, 0, relaxed);
    uvev__ws_update_empty(ws);
  } else {
    /* A notifier spent a notification on this node; the wait no longer
     * needs it, so hand it to the next waiter (without this, a channel
     * deadlocks when a notified receiver goes away). */
#if UVEV__MUTANT != 3
    uvev__ws_notify_locked(ws, 1);
#endif
#if UVEV__MUTANT == 27
    uvev__ws_count(ws, -1);
#endif
  }
  uvev__unlock(ws->lock);
  return linked;
}

int uvev__ws_settle(struct uvev__waitset* ws, struct uvev__node* node) {
  int linked;

  /* Acquire: pairs with the release store in uvev__ws_notify_locked. Reading
   * 0 means the notifier is done with the node. */
  if (uvev__load(node->in_wait_set, acquire) == 0)
    return 1;
  /* Still set: either the notifier has not yet finished (it holds the lock
   * until it has), or nobody notified us (a spurious re-check). */
  uvev__lock(ws->lock);
  /* Relaxed: written only under the lock, which we hold. */
  linked = uvev__load(node->in_wait_set, relaxed);
  if (linked) {
    uvev__ws_unlink(ws, node);
    /* Relaxed: only this waiter reads it outside the lock. */
    uvev__store(node->in_wait_set, 0, relaxed);
    uvev__ws_update_empty(ws);
  }
  uvev__unlock(ws->lock);
  return !linked;
}

void uvev__ws_notify_slow(struct uvev__waitset* ws, size_t n) {
  uvev__lock(ws->lock);
  uvev__ws_notify_locked(ws, n);
  uvev__unlock(ws->lock);
}
