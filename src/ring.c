/* ring.c: the bounded lock-free MPMC ring (see ring.h for the cell states
 * and the two steps of every operation).
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
/* Copies one element. The common sizes are spelled out so that the compiler
 * emits a move or two instead of a call to memcpy, which cost a sixth of a
 * batch's time (chan_batch in uvev-bench). */
static void uvev__ring_copy(void* dst, const void* src, size_t n) {
  switch (n) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, n); break;
  }
}
# define uvev__cell_put(r, cell, elem)                                        \
  uvev__ring_copy((char*) (cell) + sizeof(struct uvev__cell), (elem),         \
                  (r)->elem_size)
# define uvev__cell_get(r, cell, out)                                         \
  uvev__ring_copy((out), (char*) (cell) + sizeof(struct uvev__cell),          \
                  (r)->elem_size)
#endif

#define UVEV__RING_CLOSED ((uint64_t) 1)

/* Busy rounds a claim spends on an operation in flight before it yields. */
#define UVEV__RING_SPINS 64

/* A power-of-two capacity (the common case) takes a mask instead of the
 * division, which costs tens of cycles on every send and receive. */
static struct uvev__cell* uvev__ring_cell(struct uvev__ring* r, uint64_t pos) {
  uint64_t cap;
  uint64_t idx;

  cap = r->capacity;
  idx = (cap & (cap - 1)) == 0 ? pos & (cap - 1) : pos % cap;
  return (struct uvev__cell*) (r->cells + (size_t) idx * r->stride);
}

/* Waits a little for an operation in flight to complete its cell. Its owner
 * is a few instructions from the release store (uvev__ring_put/_take), or
 * at most one notify away (chan.h), so a short spin usually does; past that
 * its thread was preempted, and yielding lets it run. The wait is for an
 * operation that has already claimed, never for one that has not begun. */
static void uvev__ring_wait(unsigned* rounds) {
  if (*rounds < UVEV__RING_SPINS) {
    (*rounds)++;
    uvev__cpu_relax();
  } else {
    uvev__thread_yield();
  }
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

/* Counts the cells from pos + 1 on, up to pos + max - 1, that are in state
 * `want` for their position (want_odd: 0 free, 1 full), given that pos's
 * cell is; returns 1 + that count. Stops at the first cell that is not: a
 * batch is a prefix, so FIFO holds. A position a lap ahead maps to a cell
 * whose seq is a lap behind, so the count never exceeds the capacity. */
static size_t uvev__ring_run(struct uvev__ring* r, uint64_t pos, size_t max,
                             uint64_t want_odd) {
  size_t k;

  for (k = 1; k < max; k++) {
    /* Acquire: as for pos's cell in the callers, per cell. */
    if (uvev__load(uvev__ring_cell(r, pos + k)->seq, acquire) !=
        2 * (pos + k) + want_odd)
      break;
  }
  return k;
}

/* Claims up to max (>= 1) positions from the tail: their count, UV_EAGAIN or
 * UV_EPIPE. Inline, so that max == 1 (uvev__ring_claim_send) has no loop. */
static inline int uvev__ring_claim_send_n(struct uvev__ring* r,
                                          struct uvev__slot* s, size_t max) {
  struct uvev__cell* cell;
  uint64_t tail;
  uint64_t head;
  uint64_t pos;
  uint64_t seq;
  size_t k;
  unsigned rounds;

  rounds = 0;
  /* Relaxed: the CAS below decides; the cell's seq orders the data. */
  tail = uvev__load(r->tail, relaxed);
  for (;;) {
    if (tail & UVEV__RING_CLOSED) {
      /* Acquire: pairs with the release fetch_or in uvev__ring_close. A
       * sender told UV_EPIPE has seen the closer's count (chan.h), which
       * uvev_chan_destroy relies on. */
      (void) uvev__load(r->tail, acquire);
      return UV_EPIPE;
    }
    pos = tail >> 1;
    cell = uvev__ring_cell(r, pos);
    /* Acquire: pairs with the release store in uvev__ring_take, so the
     * receiver's copy-out of the previous lap's element is done before we
     * overwrite the cell. */
    seq = uvev__load(cell->seq, acquire);
    if (seq == 2 * pos) {
      /* The free cells that follow pos's join the claim. A cell free for
       * its position stays free until the tail has passed it, so if the CAS
       * below succeeds (the tail has not moved), all k are ours. */
#if UVEV__MUTANT != 31
      k = max == 1 ? 1 : uvev__ring_run(r, pos, max, 0);
#else
      k = max;
#endif
      /* Seq_cst on success: claims the positions, and is the state change
       * that uvev__ws_notify_after_rmw pairs with the receivers' fence
       * (chan.h), in place of a fence of its own. Close's fetch_or on the
       * same word makes this fail once the ring is closed. Data is ordered
       * by seq. Relaxed on failure: the loop looks again. */
#if UVEV__MUTANT != 11
      if (uvev__cas(r->tail, &tail, tail + 2 * k, seq_cst, relaxed))
        break;
#else
      if (uvev__cas(r->tail, &tail, tail + 2 * k, relaxed, relaxed))
        break;
#endif
      continue;  /* the failed CAS reloaded tail */
    }
    if ((int64_t) (seq - 2 * pos) < 0) {
      /* The cell still holds the element of pos - capacity. Full if no
       * receive has claimed that element; if one has, it is in flight: wait
       * for it to free the cell. Seq_cst: a sender re-checking after its
       * wait's fence must see a receive's seq_cst claim that came before
       * that fence in S, since the receive's notify has no fence of its own
       * (chan.h). Off the fast path: only a full-looking cell gets here. */
      head = uvev__load(r->head, seq_cst);
      if ((int64_t) (pos - (head >> 1)) >= (int64_t) r->capacity)
        return UV_EAGAIN;
#if UVEV__MUTANT == 9 || UVEV__MUTANT == 10
      return UV_EAGAIN;
#endif
      uvev__ring_wait(&rounds);
    }
    /* Another sender took pos, or we waited for a receive. Relaxed: as
     * above. */
    tail = uvev__load(r->tail, relaxed);
  }
  s->cell = cell;
  s->pos = pos;
  return (int) k;
}

int uvev__ring_claim_send(struct uvev__ring* r, struct uvev__slot* s) {
  int n;

  n = uvev__ring_claim_send_n(r, s, 1);
  return n > 0 ? 0 : n;
}

int uvev__ring_claim_send_many(struct uvev__ring* r, struct uvev__slot* s,
                               size_t max) {
  return uvev__ring_claim_send_n(r, s, max);
}

/* Copies n elements in and publishes them: positions s->pos + 1 on first,
 * s->pos last. No receive can claim any of them before s->pos is published
 * (a claim starts at the head, and waits for s->pos), so a receiver that
 * holds any element of the batch knows the batch is done: the release store
 * of s->pos's seq is its last touch of the channel, as for a single send.
 * Inline, so that n == 1 (uvev__ring_put) has no loop. */
static inline void uvev__ring_put_n(struct uvev__ring* r,
                                    const struct uvev__slot* s,
                                    const void* elems, size_t n) {
  struct uvev__cell* cell;
  const char* elem;
  size_t esz;
  uint64_t pos;
  size_t i;

  esz = r->elem_size;
#if UVEV__MUTANT == 30
  for (i = 0; i < n; i++) {
    pos = s->pos + i;
    cell = uvev__ring_cell(r, pos);
    uvev__cell_put(r, cell, (const char*) elems + i * esz);
    uvev__store(cell->seq, 2 * pos + 1, release);
  }
  return;
#endif
  for (i = 1; i < n; i++) {
    pos = s->pos + i;
    cell = uvev__ring_cell(r, pos);
    elem = (const char*) elems + i * esz;
    uvev__preempt_point();
    uvev__cell_put(r, cell, elem);
    uvev__preempt_point();
    /* Release: pairs with the acquire load in uvev__ring_claim_recv_n (and
     * uvev__ring_run); publishes the element. */
    uvev__store(cell->seq, 2 * pos + 1, release);
  }
  cell = s->cell;
  pos = s->pos;
  uvev__preempt_point();
  uvev__cell_put(r, cell, elems);
  uvev__preempt_point();
  /* Release, the batch's last touch: as above. */
#if UVEV__MUTANT != 6
  uvev__store(cell->seq, 2 * pos + 1, release);
#else
  uvev__store(cell->seq, 2 * pos + 1, relaxed);
#endif
}

void uvev__ring_put(struct uvev__ring* r, const struct uvev__slot* s,
                    const void* elem) {
  uvev__ring_put_n(r, s, elem, 1);
}

void uvev__ring_put_many(struct uvev__ring* r, const struct uvev__slot* s,
                         const void* elems, size_t n) {
  uvev__ring_put_n(r, s, elems, n);
}

/* Claims up to max (>= 1) elements from the head: their count, UV_EAGAIN or
 * UV_EOF. Inline, so that max == 1 (uvev__ring_claim_recv) has no loop. */
static inline int uvev__ring_claim_recv_n(struct uvev__ring* r,
                                          struct uvev__slot* s, size_t max) {
  struct uvev__cell* cell;
  uint64_t head;
  uint64_t tail;
  uint64_t pos;
  uint64_t seq;
  size_t k;
  unsigned rounds;

  rounds = 0;
  /* Relaxed: the CAS below decides; the cell's seq orders the data. */
  head = uvev__load(r->head, relaxed);
  for (;;) {
    pos = head >> 1;
    cell = uvev__ring_cell(r, pos);
    /* Acquire: pairs with the release store in uvev__ring_put, so the
     * element is there before we copy it out. */
    seq = uvev__load(cell->seq, acquire);
    if (seq == 2 * pos + 1) {
      /* The published elements that follow pos's join the claim; they stay
       * published until the head has passed them, as in the send. */
      k = max == 1 ? 1 : uvev__ring_run(r, pos, max, 1);
      /* Seq_cst on success: claims the positions, and pairs with the
       * senders' fence through uvev__ws_notify_after_rmw, as in
       * uvev__ring_claim_send. Data is ordered by seq. */
#if UVEV__MUTANT != 11
      if (uvev__cas(r->head, &head, head + 2 * k, seq_cst, relaxed))
        break;
#else
      if (uvev__cas(r->head, &head, head + 2 * k, relaxed, relaxed))
        break;
#endif
      continue;  /* the failed CAS reloaded head */
    }
    if ((int64_t) (seq - (2 * pos + 1)) < 0) {
      /* Not yet published for this lap. Empty if no send has claimed pos,
       * and then EOF if closed; if one has, it is in flight: wait for it.
       * Seq_cst: a receiver re-checking after its wait's fence must see a
       * send's seq_cst claim that came before that fence in S, since the
       * send's notify has no fence of its own (chan.h); and, as an acquire,
       * it pairs with the release fetch_or in uvev__ring_close, so a
       * receiver told UV_EOF has seen the closer's count. Off the fast path:
       * only an empty-looking cell gets here. */
      tail = uvev__load(r->tail, seq_cst);
      if ((int64_t) ((tail >> 1) - pos) <= 0)
        return (tail & UVEV__RING_CLOSED) ? UV_EOF : UV_EAGAIN;
#if UVEV__MUTANT == 9 || UVEV__MUTANT == 10
      return UV_EAGAIN;
#endif
      uvev__ring_wait(&rounds);
    }
    /* Another receiver took pos, or we waited for a send. Relaxed: as
     * above. */
    head = uvev__load(r->head, relaxed);
  }
  s->cell = cell;
  s->pos = pos;
  return (int) k;
}

int uvev__ring_claim_recv(struct uvev__ring* r, struct uvev__slot* s) {
  int n;

  n = uvev__ring_claim_recv_n(r, s, 1);
  return n > 0 ? 0 : n;
}

int uvev__ring_claim_recv_many(struct uvev__ring* r, struct uvev__slot* s,
                               size_t max) {
  return uvev__ring_claim_recv_n(r, s, max);
}

/* Copies n elements out and frees their cells: s->pos + 1 on first, s->pos
 * last. No send can use any of this room before s->pos's cell is free (a
 * send claims at the tail, and waits for that cell), so a sender that used
 * any of it knows the batch is done: the release store that frees s->pos's
 * cell is its last touch of the channel, as for a single receive. Inline,
 * so that n == 1 (uvev__ring_take) has no loop. */
static inline void uvev__ring_take_n(struct uvev__ring* r,
                                     const struct uvev__slot* s, void* out,
                                     size_t n) {
  struct uvev__cell* cell;
  size_t esz;
  uint64_t cap;
  uint64_t pos;
  size_t i;

  esz = r->elem_size;
  cap = r->capacity;
#if UVEV__MUTANT == 32
  for (i = 0; i < n; i++) {
    pos = s->pos + i;
    cell = uvev__ring_cell(r, pos);
    uvev__cell_get(r, cell, (char*) out + i * esz);
    uvev__store(cell->seq, 2 * (pos + cap), release);
  }
  return;
#endif
  for (i = 1; i < n; i++) {
    pos = s->pos + i;
    cell = uvev__ring_cell(r, pos);
    uvev__preempt_point();
    uvev__cell_get(r, cell, (char*) out + i * esz);
    uvev__preempt_point();
    /* Release: pairs with the acquire load in uvev__ring_claim_send_n (and
     * uvev__ring_run); the copy-out is done before the next lap's sender
     * overwrites the cell. */
    uvev__store(cell->seq, 2 * (pos + cap), release);
  }
  cell = s->cell;
  pos = s->pos;
  uvev__preempt_point();
  uvev__cell_get(r, cell, out);
  uvev__preempt_point();
  /* Release, the batch's last touch: as above. */
#if UVEV__MUTANT != 8
  uvev__store(cell->seq, 2 * (pos + cap), release);
#else
  uvev__store(cell->seq, 2 * (pos + cap), relaxed);
#endif
}

void uvev__ring_take(struct uvev__ring* r, const struct uvev__slot* s,
                     void* out) {
  uvev__ring_take_n(r, s, out, 1);
}

void uvev__ring_take_many(struct uvev__ring* r, const struct uvev__slot* s,
                          void* out, size_t n) {
  uvev__ring_take_n(r, s, out, n);
}

int uvev__ring_close(struct uvev__ring* r) {
  uint64_t old;

  /* Release RMW on the word a send CASes: from here no send can succeed.
   * Release pairs with the acquire loads that see the bit (UV_EPIPE in
   * uvev__ring_claim_send, UV_EOF in uvev__ring_claim_recv). The caller's
   * notify (with its seq_cst fence) publishes it to waiters. */
  old = uvev__fetch_or(r->tail, UVEV__RING_CLOSED, release);
  return !(old & UVEV__RING_CLOSED);
}
