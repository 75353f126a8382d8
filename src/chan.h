/* chan.h: the lock-free half of a channel: each ring operation with the
 * notification that makes the ring a channel, and the close. chan.c builds
 * the waiting on top; test/model compiles this file (with ring.c and
 * waitset.c) under Relacy, so the model checks the very code the library
 * runs.
 *
 * Every operation is claim, notify, complete (ring.h): the notify comes
 * between the claim and the release store that completes the operation, so
 * that store is the operation's last touch of the channel. A receiver that
 * holds an element may therefore destroy the channel at once: the send that
 * put it there no longer reads it (uvev.h, "Destroy").
 *
 * The pairing with a waiter: the claim (a seq_cst CAS on tail or head) is
 * the state change; the notify's seq_cst load of is_empty follows it
 * (uvev__ws_notify_after_rmw: the RMW stands in for the notify's fence, so a
 * message costs one locked instruction on x86), and the waiter's re-check
 * follows the fence that ends uvev__ws_insert. Either the notify sees the
 * waiter, or the waiter's re-check sees the claim, and then waits for the
 * operation in flight to complete (ring.c) instead of reporting empty or
 * full. A notified waiter that finds the cell not yet complete waits for it
 * too, so a notification is never spent on a waiter that then gives up.
 */
#ifndef UVEV_CHAN_H_
#define UVEV_CHAN_H_

#include "ring.h"
#include "waitset.h"

/* The rest of a send whose claim of n positions succeeded: wake n
 * receivers, then publish the n elements. n is a constant 1 for the single
 * operations, which then inline to the single put. */
static inline void uvev__chan_send_finish(uvev_chan_t* ch,
                                          const struct uvev__slot* s,
                                          const void* elems, size_t n) {
#if UVEV__MUTANT != 9 && UVEV__MUTANT != 28
  uvev__ws_notify_after_rmw(&ch->not_empty.ws, n);
#elif UVEV__MUTANT == 28
  uvev__ws_notify_after_rmw(&ch->not_empty.ws, 1);
#endif
  if (n == 1)
    uvev__ring_put(&ch->ring, s, elems);
  else
    uvev__ring_put_many(&ch->ring, s, elems, n);
#if UVEV__MUTANT == 9
  uvev__ws_notify(&ch->not_empty.ws, n);
#endif
}

/* The rest of a receive whose claim of n elements succeeded: wake n senders,
 * then copy out and free the n cells. */
static inline void uvev__chan_recv_finish(uvev_chan_t* ch,
                                          const struct uvev__slot* s,
                                          void* out, size_t n) {
#if UVEV__MUTANT != 9 && UVEV__MUTANT != 29
  uvev__ws_notify_after_rmw(&ch->not_full.ws, n);
#elif UVEV__MUTANT == 29
  uvev__ws_notify_after_rmw(&ch->not_full.ws, 1);
#endif
  if (n == 1)
    uvev__ring_take(&ch->ring, s, out);
  else
    uvev__ring_take_many(&ch->ring, s, out, n);
#if UVEV__MUTANT == 9
  uvev__ws_notify(&ch->not_full.ws, n);
#endif
}

/* 0, UV_EAGAIN or UV_EPIPE; wakes one receiver on success. */
static inline int uvev__chan_send(uvev_chan_t* ch, const void* elem) {
  struct uvev__slot s;
  int err;

  err = uvev__ring_claim_send(&ch->ring, &s);
  if (err == 0)
    uvev__chan_send_finish(ch, &s, elem, 1);
  return err;
}

/* 0, UV_EAGAIN or UV_EOF; wakes one sender on success. */
static inline int uvev__chan_recv(uvev_chan_t* ch, void* out) {
  struct uvev__slot s;
  int err;

  err = uvev__ring_claim_recv(&ch->ring, &s);
  if (err == 0)
    uvev__chan_recv_finish(ch, &s, out, 1);
  return err;
}

/* Sends up to max (>= 1) elements with one claim and one notify: the count
 * sent, UV_EAGAIN or UV_EPIPE. */
static inline int uvev__chan_send_many(uvev_chan_t* ch, const void* elems,
                                       size_t max) {
  struct uvev__slot s;
  int n;

  n = uvev__ring_claim_send_many(&ch->ring, &s, max);
  if (n > 0)
    uvev__chan_send_finish(ch, &s, elems, (size_t) n);
  return n;
}

/* Receives up to max (>= 1) elements with one claim and one notify: the
 * count received, UV_EAGAIN or UV_EOF. */
static inline int uvev__chan_recv_many(uvev_chan_t* ch, void* out,
                                       size_t max) {
  struct uvev__slot s;
  int n;

  n = uvev__ring_claim_recv_many(&ch->ring, &s, max);
  if (n > 0)
    uvev__chan_recv_finish(ch, &s, out, (size_t) n);
  return n;
}

/* Closes the ring and wakes every waiter, once. Counted in ch->closing for
 * as long as it runs, so that uvev_chan_destroy waits for it: receivers see
 * UV_EOF (and senders UV_EPIPE) from the ring's closed bit, before the
 * notifies below are done. */
static inline void uvev__chan_close(uvev_chan_t* ch) {
  /* Relaxed: sequenced before the release fetch_or in uvev__ring_close, so
   * whoever sees the closed bit (with an acquire load) sees this count. */
  uvev__fetch_add(ch->closing, 1, relaxed);
  if (uvev__ring_close(&ch->ring)) {
    /* Every waiter, on both sides: none may sleep once the channel is
     * closed, and a receiver only sleeps after it saw it open (ring.h). */
#if UVEV__MUTANT != 7
    uvev__ws_notify(&ch->not_empty.ws, SIZE_MAX);
#else
    uvev__ws_notify(&ch->not_empty.ws, 1);
#endif
    uvev__ws_notify(&ch->not_full.ws, SIZE_MAX);
  }
  /* Release, the close's last touch: pairs with the acquire load in
   * uvev_chan_destroy. */
  uvev__fetch_sub(ch->closing, 1, release);
}

#endif /* UVEV_CHAN_H_ */
