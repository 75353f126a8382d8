/* ready.h: a waker's ready list, the lock-free hand-off from notifiers on any
 * thread to the loop thread.
 *
 * A multi-producer, single-consumer intrusive stack. Producers push with a CAS;
 * the loop takes the whole stack with one exchange and reverses it, so a batch
 * comes out in push order. Only the push onto an empty list asks the caller
 * to signal the loop (uv_async_send): a non-empty list already has a signal on
 * its way, from whoever pushed onto it when it was empty, and the take that
 * answers that signal takes everything pushed since.
 *
 * uv_async_send() is no memory barrier before libuv 1.53: it starts with a
 * relaxed load of the handle's `pending` flag and returns if it reads nonzero.
 * The loop clears `pending` and then runs our callback, which takes the list.
 * That is a Dekker pattern (we write head then read pending, the loop writes
 * pending then reads head), so both sides carry a seq_cst fence: the one in
 * uvev__ready_push and the one in uvev__ready_take. Without them a push can
 * read a stale `pending`, skip the send, and the loop miss the push.
 *
 * Like waitset.c, this compiles as C and, under test/model, as C++ on Relacy.
 */
#ifndef UVEV_READY_H_
#define UVEV_READY_H_

#include "uvev.h"
#include "atomic.h"

/* Any thread. Returns nonzero if the caller must signal the consumer. */
static inline int uvev__ready_push(struct uvev__ready* r,
                                   struct uvev__rnode* n) {
  struct uvev__rnode* head;

  /* Relaxed: only a guess for the CAS below, which checks it. */
  head = uvev__load(r->head, relaxed);
  do
    uvev__set(n->next, head);
  while (!uvev__cas(r->head, &head, n, release, relaxed));
  /* Release on success: pairs with the acquire exchange in uvev__ready_take,
   * publishing n->next and everything the caller wrote before the push. */
  if (head != NULL)
    return 0;
  /* seq_cst fence: pairs with the fence in uvev__ready_take (the Dekker pair
   * around uv_async_t.pending described above). */
#if UVEV__MUTANT != 5
  uvev__fence();
#endif
  return 1;
}

/* The consumer. Returns the pushed nodes, oldest first, linked by `next`. */
static inline struct uvev__rnode* uvev__ready_take(struct uvev__ready* r) {
  struct uvev__rnode* n;
  struct uvev__rnode* next;
  struct uvev__rnode* fifo;

  /* seq_cst fence: pairs with the fence in uvev__ready_push. libuv cleared
   * `pending` before calling us; this orders that clear before our read. */
  uvev__fence();
  /* Acquire: pairs with the release CAS in uvev__ready_push (and, through the
   * release sequence of RMWs on head, with every earlier push). */
  n = uvev__exchange(r->head, (struct uvev__rnode*) NULL, acquire);
  fifo = NULL;
  while (n != NULL) {
    next = uvev__get(n->next);
    uvev__set(n->next, fifo);
    fifo = n;
    n = next;
  }
  return fifo;
}

#endif /* UVEV_READY_H_ */
