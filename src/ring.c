/* ring.c: the bounded lock-free MPMC ring (see ring.h for the cell states).
 *
 * Written in the common subset of C11 and C++, like waitset.c, so that
 * test/model compiles this file under Relacy.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uvev.h"
#include "atomic.h"
#include "ring.h"

/* The element bytes of a cell; the model supplies checked payloads. */
#ifndef uvev__cell_put
# define uvev__cell_put(r, cell, elem)                                        \
  memcpy((char*) (cell) + sizeof(struct uvev__cell), (elem), (r)->elem_size)
# define uvev__cell_get(r, cell, out)                                         \
  memcpy((out), (char*) (cell) + sizeof(struct uvev__cell), (r)->elem_size)
#endif

#define UVEV__RING_CLOSED ((uint64_t) 1)

/* A power-of-two capacity (the common case) takes a mask instead of the
 * division, which costs tens of cycles on every send and receive. */
static struct uvev__cell* uvev__ring_cell(struct uvev__ring* r, uint64_t pos) {
  uint64_t cap;
  uint64_t idx;

  cap = r->capacity;
  idx = (cap & (cap - 1)) == 0 ? pos & (cap - 1) : pos % cap;
  return (struct uvev__cell*) (r->cells + (size_t) idx * r->stride);
}

void uvev__ring_init(struct uvev__ring* r, char* cells, uint64_t capacity,
                     size_t elem_size, size_t stride) {
  uint64_t i;

  r->cells = cells;
  r->capacity = capacity;
  r->elem_size = elem_size;
  r->stride = stride;
  /* Relaxed: the ring is not shared yet. */
  for (i = 0; i < capacity; i++)
    uvev__store(uvev__ring_cell(r, i)->seq, 2 * i, relaxed);
  uvev__store(r->head, (uint64_t) 0, relaxed);
  uvev__store(r->tail, (uint64_t) 0, relaxed);
}

int uvev__ring_push(struct uvev__ring* r, const void* elem) {
  struct uvev__cell* cell;
  uint64_t tail;
  uint64_t pos;
  uint64_t seq;
  int64_t dif;

  /* Relaxed: the CAS below decides; the cell's seq orders the data. */
  tail = uvev__load(r->tail, relaxed);
  for (;;) {
    if (tail & UVEV__RING_CLOSED)
      return UV_EPIPE;
    pos = tail >> 1;
    cell = uvev__ring_cell(r, pos);
    /* Acquire: pairs with the release store in uvev__ring_pop, so the
     * receiver's copy-out of the previous lap's element is done before we
     * overwrite the cell. */
    seq = uvev__load(cell->seq, acquire);
    dif = (int64_t) (seq - 2 * pos);
    if (dif == 0) {
      /* Relaxed: claims the position; close's fetch_or on the same word
       * makes this fail once the ring is closed. Data is ordered by seq. */
      if (uvev__cas(r->tail, &tail, tail + 2, relaxed, relaxed))
        break;
    } else if (dif < 0) {
      return UV_EAGAIN;  /* the cell still holds the element of pos - cap */
    } else {
      /* Another sender took pos. Relaxed: as above. */
      tail = uvev__load(r->tail, relaxed);
    }
  }
  uvev__preempt_point();
  uvev__cell_put(r, cell, elem);
  uvev__preempt_point();
  /* Release: pairs with the acquire load in uvev__ring_pop; publishes the
   * element. */
#if UVEV__MUTANT != 6
  uvev__store(cell->seq, 2 * pos + 1, release);
#else
  uvev__store(cell->seq, 2 * pos + 1, relaxed);
#endif
  return 0;
}

int uvev__ring_pop(struct uvev__ring* r, void* out) {
  struct uvev__cell* cell;
  uint64_t head;
  uint64_t tail;
  uint64_t pos;
  uint64_t seq;
  int64_t dif;

  /* Relaxed: the CAS below decides; the cell's seq orders the data. */
  head = uvev__load(r->head, relaxed);
  for (;;) {
    pos = head >> 1;
    cell = uvev__ring_cell(r, pos);
    /* Acquire: pairs with the release store in uvev__ring_push, so the
     * element is there before we copy it out. */
    seq = uvev__load(cell->seq, acquire);
    dif = (int64_t) (seq - (2 * pos + 1));
    if (dif == 0) {
      /* Acquire on success: pairs with the release fetch_or on head in
       * uvev__ring_close, so a pop that sees the closed bit also sees the
       * closed tail. Data is ordered by seq. */
      if (uvev__cas(r->head, &head, head + 2, acquire, relaxed))
        break;
    } else if (dif < 0) {
      /* Not yet written for this lap. EOF only if closed with nothing sent
       * at or after pos; otherwise a send is in flight, or none came yet.
       * Relaxed: no data is read on this path; a stale value means EAGAIN,
       * and whoever makes EOF true later notifies (see below). */
      tail = uvev__load(r->tail, relaxed);
      if ((tail & UVEV__RING_CLOSED) && (tail >> 1) == pos)
        return UV_EOF;
      return UV_EAGAIN;
    } else {
      /* Another receiver took pos. Relaxed: as above. */
      head = uvev__load(r->head, relaxed);
    }
  }
  uvev__preempt_point();
  uvev__cell_get(r, cell, out);
  uvev__preempt_point();
  /* Release: pairs with the acquire load in uvev__ring_push; the copy-out is
   * done before the next lap's sender overwrites the cell. */
#if UVEV__MUTANT != 8
  uvev__store(cell->seq, 2 * (pos + r->capacity), release);
#else
  uvev__store(cell->seq, 2 * (pos + r->capacity), relaxed);
#endif
  if (!(head & UVEV__RING_CLOSED))
    return 0;
  /* Closed before our pop: if we took the last element, EOF just became
   * true for every other receiver, and nothing else will tell them.
   * Relaxed: the tail's closed state is ordered by the acquire CAS above. */
  tail = uvev__load(r->tail, relaxed);
  return (tail >> 1) == pos + 1 ? UVEV__RING_LAST : 0;
}

int uvev__ring_close(struct uvev__ring* r) {
  uint64_t old;

  /* Relaxed RMW on the word a send CASes: from here no send can succeed.
   * The caller's notify (with its seq_cst fence) publishes it to waiters. */
  old = uvev__fetch_or(r->tail, UVEV__RING_CLOSED, relaxed);
  /* Release: pairs with the acquire CAS in uvev__ring_pop; every pop from
   * here on sees the bit, and the closed tail with it. */
  uvev__fetch_or(r->head, UVEV__RING_CLOSED, release);
  return !(old & UVEV__RING_CLOSED);
}
