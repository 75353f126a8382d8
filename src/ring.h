/* ring.h: the bounded lock-free MPMC ring under the channel (ring.c).
 *
 * Cells hold fixed-size elements, copied in and out. Each cell starts with a
 * sequence word; for the cell of position p (p counts every send since init):
 *
 *   seq == 2p        free, waiting for the element of position p
 *   seq == 2p + 1    holds the element of position p
 *
 * Doubling keeps "full for p" (2p + 1) apart from "free for p + 1" (2p + 2)
 * even at capacity 1, and positions map to cells by p % capacity, so the
 * capacity is exact (no rounding to a power of two).
 *
 * Every operation has two steps: a claim (a CAS that moves the tail for a
 * send, the head for a receive) and a completion (the copy, then the release
 * store of the cell's seq). Between them the operation is in flight. A claim
 * that meets a cell still held by an operation in flight (the indices say
 * the ring is neither empty nor full) waits for it to complete instead of
 * reporting empty or full: see uvev__ring_wait in ring.c. So "empty" and
 * "full" are decided by the indices alone, and a waiter woken for an element
 * (or a free cell) never gives up on it because its owner was slow.
 *
 * The tail word is (next send position << 1) | closed. Close sets the bit with
 * an RMW on the same word a send CASes, so no send can succeed after close:
 * a receiver that finds the ring drained and closed reports EOF knowing no
 * element will follow. The head word is the next receive position << 1 (its
 * low bit stays 0). EOF needs no wake-up of its own when the last element
 * goes: a receiver sleeps only after it saw the ring empty and not closed,
 * and the close's notify pairs with that sighting (chan.h); one that sees
 * the closed bit with an element still in flight waits for it instead.
 *
 * No libuv here but its error codes; shared memory only through atomic.h, so
 * test/model can compile ring.c under Relacy (it supplies its own cell
 * payload through the uvev__cell_put/uvev__cell_get hooks).
 */
#ifndef UVEV_RING_H_
#define UVEV_RING_H_

#include <stddef.h>
#include <stdint.h>

#include "uvev.h"
#include "atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

struct uvev__cell {
  UVEV__ATOMIC(uint64_t) seq;  /* see above; the element follows */
};

/* struct uvev__slot, a claimed position and its cell, is in
 * include/uvev/private.h. */

/* Lays out `capacity` cells of `stride` bytes at `cells` (stride covers a
 * struct uvev__cell plus the element). */
void uvev__ring_init(struct uvev__ring* r, char* cells, uint64_t capacity,
                     size_t elem_size, size_t stride);

/* Claims the next send position: 0 (then *s must be completed with
 * uvev__ring_put), UV_EAGAIN (full) or UV_EPIPE (closed). */
int uvev__ring_claim_send(struct uvev__ring* r, struct uvev__slot* s);

/* Copies the element in and publishes it. The release store that publishes
 * it is the send's last touch of the ring. */
void uvev__ring_put(struct uvev__ring* r, const struct uvev__slot* s,
                    const void* elem);

/* Claims the next element: 0 (then *s must be completed with
 * uvev__ring_take), UV_EAGAIN (empty) or UV_EOF (closed and drained). */
int uvev__ring_claim_recv(struct uvev__ring* r, struct uvev__slot* s);

/* Copies the element out and frees the cell for the next lap's send. The
 * release store that frees it is the receive's last touch of the ring. */
void uvev__ring_take(struct uvev__ring* r, const struct uvev__slot* s,
                     void* out);

/* Batches: claim up to max (>= 1) consecutive positions with one CAS, and
 * return how many (a prefix of the free cells or of the published elements:
 * fewer than max when the ring holds fewer, or when an operation in flight
 * holds the next one), or the error of the single claim. The claimed n are
 * completed together, in position order, by _put_many/_take_many; the last
 * release store is the batch's last touch of the ring. */
int uvev__ring_claim_send_many(struct uvev__ring* r, struct uvev__slot* s,
                               size_t max);
void uvev__ring_put_many(struct uvev__ring* r, const struct uvev__slot* s,
                         const void* elems, size_t n);
int uvev__ring_claim_recv_many(struct uvev__ring* r, struct uvev__slot* s,
                               size_t max);
void uvev__ring_take_many(struct uvev__ring* r, const struct uvev__slot* s,
                          void* out, size_t n);

/* Returns 1 if this call closed the ring, 0 if it was closed already. */
int uvev__ring_close(struct uvev__ring* r);

#ifdef __cplusplus
}
#endif

#endif /* UVEV_RING_H_ */
