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
 * The tail word is (next send position << 1) | closed. Close sets the bit with
 * an RMW on the same word a send CASes, so no send can succeed after close:
 * a receiver that finds the ring drained and closed reports EOF knowing no
 * element will follow. The head word is (next receive position << 1) |
 * closed too, so the receive that takes the last element after a close
 * knows it from its own CAS, and can tell the other receivers (EOF became
 * true without a close to announce it): uvev__ring_pop returns
 * UVEV__RING_LAST then.
 *
 * No libuv here but its error codes; shared memory only through atomic.h, so
 * test/model can compile ring.c under Relacy (it supplies its own cell
 * payload through the uvev__cell_put/uvev__cell_get hooks).
 */
#ifndef UVEV_RING_H_
#define UVEV_RING_H_

#include "atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

struct uvev__cell {
  UVEV__ATOMIC(uint64_t) seq;  /* see above; the element follows */
};

/* Lays out `capacity` cells of `stride` bytes at `cells` (stride covers a
 * struct uvev__cell plus the element). */
void uvev__ring_init(struct uvev__ring* r, char* cells, uint64_t capacity,
                     size_t elem_size, size_t stride);

/* 0, UV_EAGAIN (full) or UV_EPIPE (closed). */
int uvev__ring_push(struct uvev__ring* r, const void* elem);

/* uvev__ring_pop's "took the last element of a closed ring". */
#define UVEV__RING_LAST 1

/* 0 or UVEV__RING_LAST (an element was taken), UV_EAGAIN (empty) or UV_EOF
 * (closed and drained). */
int uvev__ring_pop(struct uvev__ring* r, void* out);

/* Returns 1 if this call closed the ring, 0 if it was closed already. */
int uvev__ring_close(struct uvev__ring* r);

#ifdef __cplusplus
}
#endif

#endif /* UVEV_RING_H_ */
