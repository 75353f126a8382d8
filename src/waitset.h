/* waitset.h: the eventcount core, a FIFO of waiter nodes behind one lock.
 *
 * No libuv here: shared memory is reached only through src/atomic.h, so the
 * same source compiles as C11 for the library and as C++ under Relacy for the
 * model tests (test/model). The protocol (docs/design.md, section 2):
 *
 *   waiter                              notifier
 *   ------                              --------
 *   if pred() -> done                   make pred() true
 *   uvev__ws_insert()  [ends in fence]  uvev__ws_notify()  [starts with fence]
 *   if pred() -> uvev__ws_remove()        if is_empty -> return
 *   sleep until the node's wake()         lock; pop; wake(); clear in_wait_set
 *   uvev__ws_settle(); re-check pred()
 *
 * The two fences make a Dekker pair: either the waiter's re-check sees the
 * new state or the notifier sees the node linked (or both).
 */
#ifndef UVEV_WAITSET_H_
#define UVEV_WAITSET_H_

#include "uvev.h"
#include "atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

int uvev__ws_init(struct uvev__waitset* ws);
void uvev__ws_destroy(struct uvev__waitset* ws);

/* Links `node` at the back (its `wake` must be set), then issues the full
 * fence after which the waiter re-checks its predicate. */
void uvev__ws_insert(struct uvev__waitset* ws, struct uvev__node* node);

/* Takes the node out after it was inserted: the wait is over (predicate true
 * on the re-check, timeout, cancel, close). Returns 1 if it was still linked.
 * Returns 0 if a notifier had already unlinked it and woken it; the
 * notification it consumed is then handed to the next waiter. On return no
 * notifier touches the node any more. */
int uvev__ws_remove(struct uvev__waitset* ws, struct uvev__node* node);

/* After a wake-up (or a spurious re-check): makes sure the node is out of the
 * list and that the notifier that woke it is done with it. Returns 1 if the
 * node had been notified, 0 if it was still linked (then it is unlinked, and
 * there is no notification to hand on). */
int uvev__ws_settle(struct uvev__waitset* ws, struct uvev__node* node);

/* The part of uvev__ws_notify that takes the lock. */
void uvev__ws_notify_slow(struct uvev__waitset* ws, size_t n);

#ifdef __cplusplus
}
#endif

/* Wakes up to n more waiters (SIZE_MAX: all), oldest first. Inline, so that
 * with nobody waiting it is the fence and one load. */
static inline void uvev__ws_notify(struct uvev__waitset* ws, size_t n) {
  /* seq_cst fence: pairs with the fence at the end of uvev__ws_insert (the
   * Dekker pair). The caller's state change is before it. */
#if UVEV__MUTANT != 1
  uvev__fence();
#endif
  /* Relaxed: ordered by the fence pair; the lock orders the rest. */
  if (uvev__load(ws->is_empty, relaxed))
    return;
  uvev__ws_notify_slow(ws, n);
}

/* uvev__ws_notify for a caller whose state change was a seq_cst RMW (the
 * channel's claim, ring.c), with nothing but this call after it that the
 * waiter's predicate reads. No fence: the RMW comes before the seq_cst load
 * below in the single total order S, and the waiter's seq_cst fence (end of
 * uvev__ws_insert) falls somewhere in S. If it falls before the load, the
 * load sees the waiter's is_empty = 0 (the store is sequenced before that
 * fence); if after, the RMW precedes the fence, and so the waiter's re-check,
 * a seq_cst load of the word the RMW wrote (ring.c reads the other side's
 * index that way), reads the RMW's value or a later one. On x86 a seq_cst
 * load is a plain mov: the message then pays one locked instruction, the
 * claim. An arbitrary predicate can read state changed by plain stores,
 * which have no place in S: uvev_notify keeps its fence. */
static inline void uvev__ws_notify_after_rmw(struct uvev__waitset* ws,
                                             size_t n) {
  /* Seq_cst: pairs with the caller's seq_cst RMW and the waiter's fence, as
   * above. */
  if (uvev__load(ws->is_empty, seq_cst))
    return;
  uvev__ws_notify_slow(ws, n);
}

#endif /* UVEV_WAITSET_H_ */
