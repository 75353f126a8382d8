/* chan.c: the bounded MPMC channel: the lock-free ring (ring.c) turned into a
 * channel with backpressure by two events (the lock-free half is chan.h),
 * and select, the first of several channel operations (an any-of wait).
 *
 * Every successful send notifies one receiver on `not_empty`, every
 * successful receive one sender on `not_full`; with nobody waiting that is a
 * fence and a load, so the try calls stay lock-free and syscall-free. A loop
 * operation is a wait whose predicate is the try call itself: it moves the
 * element when it succeeds, so a decided operation keeps its element even if
 * it is cancelled before its callback runs (wait.c's contract).
 *
 * The model (test/model) compiles this file unchanged, with its malloc and
 * free allocating the cells through Relacy (docs/design.md, section 8).
 */
#include <limits.h>
#include <stdlib.h>

#include "internal.h"
#include "chan.h"

int uvev_chan_init(uvev_chan_t* ch, size_t capacity, size_t elem_size) {
  size_t stride;
  char* cells;
  int err;

  if (ch == NULL || capacity == 0 || elem_size == 0)
    return UV_EINVAL;
  /* A cell: its sequence word, then the element, rounded to 8 bytes. */
  if (elem_size > SIZE_MAX - sizeof(struct uvev__cell) - 7)
    return UV_ENOMEM;
  stride = (sizeof(struct uvev__cell) + elem_size + 7) & ~(size_t) 7;
  if (capacity > SIZE_MAX / stride)
    return UV_ENOMEM;
  cells = (char*) malloc(capacity * stride);
  if (cells == NULL)
    return UV_ENOMEM;
  err = uvev_event_init(&ch->not_empty);
  if (err != 0)
    goto fail_cells;
  err = uvev_event_init(&ch->not_full);
  if (err != 0)
    goto fail_not_empty;
  uvev__ring_init(&ch->ring, cells, capacity, elem_size, stride);
  /* Relaxed: the channel is not shared yet. */
  uvev__store(ch->closing, 0, relaxed);
  return 0;

fail_not_empty:
  uvev_event_destroy(&ch->not_empty);
fail_cells:
  free(cells);
  return err;
}

int uvev_chan_destroy(uvev_chan_t* ch) {
  if (ch == NULL)
    return UV_EINVAL;
  /* A close that is still running (a receiver saw UV_EOF before the closer
   * returned) only has its notifies left: wait for it. Acquire: pairs with
   * the release decrement that ends uvev__chan_close (chan.h). */
#if UVEV__MUTANT != 25
  while (uvev__load(ch->closing, acquire) != 0)
    uvev__thread_yield();
#endif
  /* Acquire: pairs with the release decrement that ends each wait (as in
   * uvev_event_destroy); both are checked before either is destroyed. */
  if (uvev__load(ch->not_empty.nwaits, acquire) != 0 ||
      uvev__load(ch->not_full.nwaits, acquire) != 0)
    return UV_EBUSY;
  uvev_event_destroy(&ch->not_empty);
  uvev_event_destroy(&ch->not_full);
  free(ch->ring.cells);
  ch->ring.cells = NULL;
  return 0;
}

void uvev_chan_close(uvev_chan_t* ch) {
  if (ch != NULL)
    uvev__chan_close(ch);
}

int uvev_chan_try_send(uvev_chan_t* ch, const void* elem) {
  if (ch == NULL || elem == NULL)
    return UV_EINVAL;
  return uvev__chan_send(ch, elem);
}

int uvev_chan_try_recv(uvev_chan_t* ch, void* out) {
  if (ch == NULL || out == NULL)
    return UV_EINVAL;
  return uvev__chan_recv(ch, out);
}

/* A batch's count is returned as an int: a larger n moves at most INT_MAX,
 * which "up to n" allows. */
static size_t uvev__chan_batch(size_t n) {
  return n > INT_MAX ? (size_t) INT_MAX : n;
}

int uvev_chan_try_send_many(uvev_chan_t* ch, const void* elems, size_t n) {
  if (ch == NULL || elems == NULL || n == 0)
    return UV_EINVAL;
  return uvev__chan_send_many(ch, elems, uvev__chan_batch(n));
}

int uvev_chan_try_recv_many(uvev_chan_t* ch, void* out, size_t n) {
  if (ch == NULL || out == NULL || n == 0)
    return UV_EINVAL;
  return uvev__chan_recv_many(ch, out, uvev__chan_batch(n));
}

/* ---- loop side ----------------------------------------------------------- */

/* A loop operation moves up to op->max elements (1 for the single ones);
 * op->result is the count moved or the error. */
static int uvev__chan_send_pred(void* arg) {
  uvev_chan_op_t* op = (uvev_chan_op_t*) arg;

  op->result = uvev__chan_send_many(op->chan, op->elem, op->max);
  return op->result != UV_EAGAIN;
}

static int uvev__chan_recv_pred(void* arg) {
  uvev_chan_op_t* op = (uvev_chan_op_t*) arg;

  op->result = uvev__chan_recv_many(op->chan, op->out, op->max);
  return op->result != UV_EAGAIN;
}

/* Status: the wait's error, else the count moved (batches) or 0 (single
 * operations), else the channel's error. */
static void uvev__chan_op_cb(uvev_wait_t* req, int status) {
  uvev_chan_op_t* op = uvev__container_of(req, uvev_chan_op_t, wait);

  if (status == 0)
    status = op->result > 0 && !op->many ? 0 : op->result;
  op->cb(op, status);
}

static int uvev__chan_start(uvev_waker_t* w, uvev_chan_op_t* op,
                            uvev_chan_t* ch, int sending, const void* elems,
                            void* out, size_t n, int many, uvev_chan_cb cb) {
  int err;

  if (ch == NULL || cb == NULL || (elems == NULL && out == NULL) || n == 0)
    return UV_EINVAL;
  /* Everything uvev__wait_start could refuse, refused before the op is
   * touched: bad input changes nothing. */
  err = uvev__wait_check(w, op == NULL ? NULL : &op->wait);
  if (err != 0)
    return err;
  op->chan = ch;
  op->elem = elems;
  op->out = out;
  op->max = uvev__chan_batch(n);
  op->many = many;
  op->cb = cb;
  op->result = UV_EAGAIN;
  op->wait.data = op;
  /* The other end of a busy channel is usually about to move: a short spin
   * before registering saves the loop a sleep and the peer a wake-up. */
  return uvev__wait_start(w, &op->wait,
                          sending ? &ch->not_full : &ch->not_empty,
                          sending ? uvev__chan_send_pred : uvev__chan_recv_pred,
                          uvev__chan_op_cb, UVEV__NO_TIMEOUT,
                          UVEV__CHAN_SPIN_NS);
}

int uvev_chan_send(uvev_waker_t* w, uvev_chan_op_t* op, uvev_chan_t* ch,
                   const void* elem, uvev_chan_cb cb) {
  if (elem == NULL)
    return UV_EINVAL;
  return uvev__chan_start(w, op, ch, 1, elem, NULL, 1, 0, cb);
}

int uvev_chan_recv(uvev_waker_t* w, uvev_chan_op_t* op, uvev_chan_t* ch,
                   void* out, uvev_chan_cb cb) {
  if (out == NULL)
    return UV_EINVAL;
  return uvev__chan_start(w, op, ch, 0, NULL, out, 1, 0, cb);
}

int uvev_chan_send_many(uvev_waker_t* w, uvev_chan_op_t* op, uvev_chan_t* ch,
                        const void* elems, size_t n, uvev_chan_cb cb) {
  if (elems == NULL)
    return UV_EINVAL;
  return uvev__chan_start(w, op, ch, 1, elems, NULL, n, 1, cb);
}

int uvev_chan_recv_many(uvev_waker_t* w, uvev_chan_op_t* op, uvev_chan_t* ch,
                        void* out, size_t n, uvev_chan_cb cb) {
  if (out == NULL)
    return UV_EINVAL;
  return uvev__chan_start(w, op, ch, 0, NULL, out, n, 1, cb);
}

int uvev_chan_cancel(uvev_chan_op_t* op) {
  if (op == NULL)
    return UV_EINVAL;
  return uvev_wait_cancel(&op->wait);
}

/* ---- thread side ---------------------------------------------------------
 *
 * A blocking operation's predicate only claims (ring.h): the notify and the
 * copy come after uvev_wait_sync has returned, when the wait no longer
 * touches the event. So the release store that completes the operation is
 * its last touch of the channel, as for the try calls (chan.h), even when
 * it had to wait: a receiver that holds the element may destroy at once. */

struct uvev__chan_sync {
  uvev_chan_t* ch;
  struct uvev__slot slot;
  size_t max;  /* positions to claim at most */
  int result;  /* what the last claim returned: a count or an error */
};

static int uvev__chan_sync_send_pred(void* arg) {
  struct uvev__chan_sync* s = (struct uvev__chan_sync*) arg;

  s->result = uvev__ring_claim_send_many(&s->ch->ring, &s->slot, s->max);
  return s->result != UV_EAGAIN;
}

static int uvev__chan_sync_recv_pred(void* arg) {
  struct uvev__chan_sync* s = (struct uvev__chan_sync*) arg;

  s->result = uvev__ring_claim_recv_many(&s->ch->ring, &s->slot, s->max);
  return s->result != UV_EAGAIN;
}

/* The try calls for a blocking operation of up to n: the count moved, or the
 * error. n == 1 takes the single calls, whose claim has no loop. */
static int uvev__chan_sync_try(uvev_chan_t* ch, const void* elems, void* out,
                               size_t n) {
  int err;

  if (n == 1) {
    err = elems != NULL ? uvev__chan_send(ch, elems) : uvev__chan_recv(ch, out);
    return err == 0 ? 1 : err;
  }
  return elems != NULL ? uvev__chan_send_many(ch, elems, n)
                       : uvev__chan_recv_many(ch, out, n);
}

/* Moves 1 to n elements: their count, or the error. */
static int uvev__chan_sync(uvev_chan_t* ch, const void* elems, void* out,
                           size_t n, int timed, uint64_t timeout_ms) {
  struct uvev__chan_sync s;
  uvev_event_t* ev;
  uvev_pred_cb pred;
  int err;

  if (ch == NULL || (elems == NULL && out == NULL) || n == 0)
    return UV_EINVAL;
  /* The wait's first check, without the wait: on a busy channel the room or
   * the element is usually there, and the whole operation is a try. */
  err = uvev__chan_sync_try(ch, elems, out, uvev__chan_batch(n));
  if (err != UV_EAGAIN)
    return err;
  s.ch = ch;
  s.max = uvev__chan_batch(n);
  s.result = UV_EAGAIN;
  ev = elems != NULL ? &ch->not_full : &ch->not_empty;
  pred = elems != NULL ? uvev__chan_sync_send_pred : uvev__chan_sync_recv_pred;
  if (timed)
    err = uvev_wait_sync_timeout(ev, pred, &s, timeout_ms);
  else
    err = uvev_wait_sync(ev, pred, &s);
  if (err != 0)
    return err;
  if (s.result < 0)
    return s.result;  /* UV_EPIPE, UV_EOF */
  if (elems != NULL)
    uvev__chan_send_finish(ch, &s.slot, elems, (size_t) s.result);
  else
    uvev__chan_recv_finish(ch, &s.slot, out, (size_t) s.result);
  return s.result;
}

/* The single blocking operations: 0 for the one element moved. */
static int uvev__chan_sync_one(uvev_chan_t* ch, const void* elem, void* out,
                               int timed, uint64_t timeout_ms) {
  int n;

  n = uvev__chan_sync(ch, elem, out, 1, timed, timeout_ms);
  return n > 0 ? 0 : n;
}

int uvev_chan_send_sync(uvev_chan_t* ch, const void* elem) {
  if (elem == NULL)
    return UV_EINVAL;
  return uvev__chan_sync_one(ch, elem, NULL, 0, 0);
}

int uvev_chan_recv_sync(uvev_chan_t* ch, void* out) {
  if (out == NULL)
    return UV_EINVAL;
  return uvev__chan_sync_one(ch, NULL, out, 0, 0);
}

int uvev_chan_send_sync_timeout(uvev_chan_t* ch, const void* elem,
                                uint64_t timeout_ms) {
  if (elem == NULL)
    return UV_EINVAL;
  return uvev__chan_sync_one(ch, elem, NULL, 1, timeout_ms);
}

int uvev_chan_recv_sync_timeout(uvev_chan_t* ch, void* out,
                                uint64_t timeout_ms) {
  if (out == NULL)
    return UV_EINVAL;
  return uvev__chan_sync_one(ch, NULL, out, 1, timeout_ms);
}

int uvev_chan_send_many_sync(uvev_chan_t* ch, const void* elems, size_t n) {
  if (elems == NULL)
    return UV_EINVAL;
  return uvev__chan_sync(ch, elems, NULL, n, 0, 0);
}

int uvev_chan_recv_many_sync(uvev_chan_t* ch, void* out, size_t n) {
  if (out == NULL)
    return UV_EINVAL;
  return uvev__chan_sync(ch, NULL, out, n, 0, 0);
}

int uvev_chan_send_many_sync_timeout(uvev_chan_t* ch, const void* elems,
                                     size_t n, uint64_t timeout_ms) {
  if (elems == NULL)
    return UV_EINVAL;
  return uvev__chan_sync(ch, elems, NULL, n, 1, timeout_ms);
}

int uvev_chan_recv_many_sync_timeout(uvev_chan_t* ch, void* out, size_t n,
                                     uint64_t timeout_ms) {
  if (out == NULL)
    return UV_EINVAL;
  return uvev__chan_sync(ch, NULL, out, n, 1, timeout_ms);
}

/* ---- select ---------------------------------------------------------------
 *
 * An any-of wait whose entries are the channels' events (not_full for a
 * send, not_empty for a receive) and whose predicates are channel
 * operations. On a loop the predicate is the whole try call, as for the
 * single loop operations: the element moves on the loop thread when the
 * predicate succeeds, and at most one predicate of a wait succeeds
 * (any.c). A blocking select's predicate only claims, as for the blocking
 * operations; the select completes the claim after the wait has returned,
 * so its release store is its last touch of that channel. */

/* UV_EINVAL for a select array uvev.h refuses, else 0. */
static int uvev__sel_valid(uvev_chan_sel_t* sel, size_t n) {
  size_t i;

  if (sel == NULL || n == 0 || n > UVEV_ANY_MAX)
    return UV_EINVAL;
  for (i = 0; i < n; i++) {
    if (sel[i].ch == NULL || sel[i].buf == NULL ||
        (sel[i].dir != UVEV_CHAN_SEND && sel[i].dir != UVEV_CHAN_RECV))
      return UV_EINVAL;
  }
  return 0;
}

/* Makes each entry's any-of entry, after the array was found valid. */
static void uvev__sel_prepare(uvev_chan_sel_t* sel, size_t n,
                              uvev_pred_cb pred) {
  size_t i;

  for (i = 0; i < n; i++) {
    sel[i].status = UV_EAGAIN;
    sel[i].any.event = sel[i].dir == UVEV_CHAN_SEND ? &sel[i].ch->not_full
                                                    : &sel[i].ch->not_empty;
    sel[i].any.pred = pred;
    sel[i].any.arg = &sel[i];
  }
}

/* Loop: the try call. Holds unless the channel was full or empty. */
static int uvev__sel_pred(void* arg) {
  uvev_chan_sel_t* s = (uvev_chan_sel_t*) arg;
  int err;

  if (s->dir == UVEV_CHAN_SEND)
    err = uvev__chan_send(s->ch, s->buf);
  else
    err = uvev__chan_recv(s->ch, s->buf);
  if (err == UV_EAGAIN)
    return 0;
  s->status = err;
  return 1;
}

/* Status: the entry's index, or the wait's error. */
static void uvev__sel_cb(uvev_wait_t* req, int status) {
  uvev_chan_op_t* op = uvev__container_of(req, uvev_chan_op_t, wait);

  op->cb(op, status);
}

static int uvev__sel_start(uvev_waker_t* w, uvev_chan_op_t* op,
                           uvev_chan_sel_t* sel, size_t n, uvev_chan_cb cb,
                           uint64_t timeout_ms) {
  int err;

  if (cb == NULL)
    return UV_EINVAL;
  err = uvev__sel_valid(sel, n);
  if (err != 0)
    return err;
  /* Refused before the op or the array is touched: bad input changes
   * nothing. */
  err = uvev__wait_check(w, op == NULL ? NULL : &op->wait);
  if (err != 0)
    return err;
  uvev__sel_prepare(sel, n, uvev__sel_pred);
  op->chan = NULL;
  op->elem = NULL;
  op->out = NULL;
  op->max = 0;
  op->many = 0;
  op->cb = cb;
  op->result = 0;
  op->wait.data = op;
  /* The spin of the single loop operations, over all the entries. */
  return uvev__any_start(w, &op->wait, &sel[0].any, sizeof(*sel), n,
                         uvev__sel_cb, timeout_ms, UVEV__CHAN_SPIN_NS);
}

int uvev_chan_select(uvev_waker_t* w, uvev_chan_op_t* op,
                     uvev_chan_sel_t* sel, size_t n, uvev_chan_cb cb) {
  return uvev__sel_start(w, op, sel, n, cb, UVEV__NO_TIMEOUT);
}

int uvev_chan_select_timeout(uvev_waker_t* w, uvev_chan_op_t* op,
                             uvev_chan_sel_t* sel, size_t n, uvev_chan_cb cb,
                             uint64_t timeout_ms) {
  /* As uvev_wait_timeout: the largest timeout is "never". */
  if (timeout_ms == UVEV__NO_TIMEOUT)
    timeout_ms--;
  return uvev__sel_start(w, op, sel, n, cb, timeout_ms);
}

/* Thread: the claim alone; the select completes it. */
static int uvev__sel_sync_pred(void* arg) {
  uvev_chan_sel_t* s = (uvev_chan_sel_t*) arg;
  int err;

  if (s->dir == UVEV_CHAN_SEND)
    err = uvev__ring_claim_send(&s->ch->ring, &s->slot);
  else
    err = uvev__ring_claim_recv(&s->ch->ring, &s->slot);
  if (err == UV_EAGAIN)
    return 0;
  s->status = err;
  return 1;
}

static int uvev__sel_sync(uvev_chan_sel_t* sel, size_t n, int timed,
                          uint64_t timeout_ms) {
  uvev_chan_sel_t* s;
  int i;

  i = uvev__sel_valid(sel, n);
  if (i != 0)
    return i;
  uvev__sel_prepare(sel, n, uvev__sel_sync_pred);
  i = uvev__wait_sync_any(&sel[0].any, sizeof(*sel), n, timed, timeout_ms);
  if (i < 0)
    return i;
  /* The one claim the wait made (only its winner's predicate succeeded),
   * completed now that the wait no longer touches any event. */
  s = &sel[i];
  if (s->status == 0) {
    if (s->dir == UVEV_CHAN_SEND)
      uvev__chan_send_finish(s->ch, &s->slot, s->buf, 1);
    else
      uvev__chan_recv_finish(s->ch, &s->slot, s->buf, 1);
  }
  return i;
}

int uvev_chan_select_sync(uvev_chan_sel_t* sel, size_t n) {
  return uvev__sel_sync(sel, n, 0, 0);
}

int uvev_chan_select_sync_timeout(uvev_chan_sel_t* sel, size_t n,
                                  uint64_t timeout_ms) {
  return uvev__sel_sync(sel, n, 1, timeout_ms);
}
