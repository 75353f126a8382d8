/* chan.h: the lock-free half of a channel: each ring operation followed by
 * the notification that makes the ring a channel. chan.c builds the waiting
 * on top; test/model compiles this file (with ring.c and waitset.c) under
 * Relacy, so the model checks the very code the library runs.
 */
#ifndef UVEV_CHAN_H_
#define UVEV_CHAN_H_

#include "ring.h"
#include "waitset.h"

/* 0, UV_EAGAIN or UV_EPIPE; wakes one receiver on success. */
static inline int uvev__chan_send(uvev_chan_t* ch, const void* elem) {
  int err;

  err = uvev__ring_push(&ch->ring, elem);
  if (err == 0)
    uvev__ws_notify(&ch->not_empty.ws, 1);
  return err;
}

/* 0, UV_EAGAIN or UV_EOF; wakes one sender on success. */
static inline int uvev__chan_recv(uvev_chan_t* ch, void* out) {
  int err;

  err = uvev__ring_pop(&ch->ring, out);
  if (err < 0)
    return err;
  uvev__ws_notify(&ch->not_full.ws, 1);
  /* The last element after a close: EOF is now true for every receiver, and
   * the close's own notify may have come before they started waiting. */
#if UVEV__MUTANT != 7
  if (err == UVEV__RING_LAST)
    uvev__ws_notify(&ch->not_empty.ws, SIZE_MAX);
#endif
  return 0;
}

/* Closes the ring and wakes every waiter, once. */
static inline void uvev__chan_close(uvev_chan_t* ch) {
  if (uvev__ring_close(&ch->ring)) {
    uvev__ws_notify(&ch->not_empty.ws, SIZE_MAX);
    uvev__ws_notify(&ch->not_full.ws, SIZE_MAX);
  }
}

#endif /* UVEV_CHAN_H_ */
