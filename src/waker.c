/* waker.c: the wake handle of one loop.
 *
 * Every wait on a loop shares its waker's one uv_async_t: libuv walks all of a
 * loop's async handles on every wake-up, and each send on a distinct handle is
 * its own eventfd write, so a handle per wait would cost O(waits) per wake.
 * A notifier pushes the woken request onto the lock-free ready list (ready.h)
 * and sends only if the list was empty; the async callback drains the list.
 *
 * Besides the async handle a waker owns an idle handle, active only while
 * there are completions decided on the loop itself (a wait satisfied at once,
 * a cancel), so they reach their callbacks from the loop without a system
 * call; and a timer for the earliest deadline of its deadline heap.
 *
 * The async handle is ref'd while any request is active and unref'd
 * otherwise, so an idle waker does not keep uv_run() alive.
 *
 * Closing is safe against notifiers on other threads without a count of them:
 * a notifier pushes a request and sends while holding that request's event
 * lock, and clears in_wait_set last. The close takes every active request's
 * event lock (uvev__wait_abort), and a drained request is only completed
 * after an acquire of in_wait_set or that lock (uvev__ws_settle). So once the
 * waker has no active request, no notifier can still be touching it.
 *
 * The model (test/model) compiles this file unchanged, on a model libuv with
 * 1.44's uv_async_send (test/model/uv.h; docs/design.md, section 8).
 */
#include "internal.h"
#include "heap.h"
#include "ready.h"
#include "waitset.h"

/* Any thread, under the request's event lock (the waitset calls it). */
void uvev__waker_wake(struct uvev__node* node) {
  uvev_wait_t* req;
  uvev_waker_t* w;

  req = uvev__container_of(node, uvev_wait_t, node);
  w = req->waker;
  /* The push hands req to the loop; from here on only the event lock (held by
   * our caller) keeps it and the waker alive. */
  if (uvev__ready_push(&w->ready, &req->rnode))
    uv_async_send(&w->async);
}

static void uvev__waker_async_cb(uv_async_t* handle) {
  uvev_waker_t* w;
  struct uvev__rnode* rn;
  uvev_wait_t* req;

  w = (uvev_waker_t*) handle->data;
  rn = uvev__ready_take(&w->ready);
  /* The chain is ours alone: its requests are active and only this drain
   * completes them, unless a callback closes the waker, in which case the
   * close has taken them over. */
  while (rn != NULL && !(w->flags & UVEV__WAKER_CLOSING)) {
    req = uvev__container_of(rn, uvev_wait_t, rnode);
    rn = uvev__get(rn->next);
    uvev__wait_ready(req);
  }
}

static void uvev__waker_idle_cb(uv_idle_t* handle) {
  uvev_waker_t* w;
  uvev_wait_t* req;
  uvev_wait_t* next;

  w = (uvev_waker_t*) handle->data;
  req = w->local_head;
  w->local_head = NULL;
  w->local_tail = NULL;
  uv_idle_stop(&w->idle);
  while (req != NULL && !(w->flags & UVEV__WAKER_CLOSING)) {
    next = req->next;
    uvev__wait_finish(req);
    req = next;
  }
}

static void uvev__waker_timer_cb(uv_timer_t* handle);

static void uvev__waker_arm(uvev_waker_t* w) {
  uint64_t now;
  uint64_t key;

  if (w->deadlines == NULL) {
    uv_timer_stop(&w->timer);
    return;
  }
  now = uv_now(w->loop);
  key = w->deadlines->key;
  uv_timer_start(&w->timer, uvev__waker_timer_cb, key > now ? key - now : 0, 0);
}

static void uvev__waker_timer_cb(uv_timer_t* handle) {
  uvev_waker_t* w;
  struct uvev__heap_node* n;
  uvev_wait_t* req;
  uint64_t now;

  w = (uvev_waker_t*) handle->data;
  now = uv_now(w->loop);
  while (!(w->flags & UVEV__WAKER_CLOSING)) {
    n = w->deadlines;
    if (n == NULL || n->key > now)
      break;
    req = uvev__container_of(n, uvev_wait_t, deadline);
    uvev__waker_remove_deadline(w, req);
    uvev__wait_expire(req);
  }
  if (!(w->flags & UVEV__WAKER_CLOSING))
    uvev__waker_arm(w);
}

void uvev__waker_add_deadline(uvev_waker_t* w, uvev_wait_t* req,
                              uint64_t timeout_ms) {
  uint64_t now;

  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_REGISTERED,
                     UVEV__WAIT_DECIDED | UVEV__WAIT_TIMED);
  now = uv_now(w->loop);
  req->deadline.key = timeout_ms > UINT64_MAX - now ? UINT64_MAX
                                                    : now + timeout_ms;
  req->deadline.seq = w->seq++;
  uvev__heap_insert(&w->deadlines, &req->deadline);
  req->flags |= UVEV__WAIT_TIMED;
  if (w->deadlines == &req->deadline)
    uvev__waker_arm(w);
}

/* Leaves the timer armed: if it fires early it re-arms for the new minimum. */
void uvev__waker_remove_deadline(uvev_waker_t* w, uvev_wait_t* req) {
  if (!(req->flags & UVEV__WAIT_TIMED))
    return;
  uvev__heap_remove(&w->deadlines, &req->deadline);
  req->flags &= ~UVEV__WAIT_TIMED;
}

void uvev__waker_add(uvev_waker_t* w, uvev_wait_t* req) {
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE,
                     UVEV__WAIT_REGISTERED | UVEV__WAIT_DECIDED |
                     UVEV__WAIT_TIMED);
  req->active_next = NULL;
  req->active_prev = w->active_tail;
  if (w->active_tail != NULL)
    w->active_tail->active_next = req;
  else
    w->active_head = req;
  w->active_tail = req;
  if (w->nactive++ == 0)
    uv_ref((uv_handle_t*) &w->async);
}

void uvev__waker_remove(uvev_waker_t* w, uvev_wait_t* req) {
  if (req->active_prev != NULL)
    req->active_prev->active_next = req->active_next;
  else
    w->active_head = req->active_next;
  if (req->active_next != NULL)
    req->active_next->active_prev = req->active_prev;
  else
    w->active_tail = req->active_prev;
  req->active_prev = NULL;
  req->active_next = NULL;
  if (--w->nactive == 0 && !(w->flags & UVEV__WAKER_CLOSING))
    uv_unref((uv_handle_t*) &w->async);
}

/* Queues a completion decided on the loop; the idle handle delivers it. */
void uvev__waker_queue(uvev_waker_t* w, uvev_wait_t* req) {
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_DECIDED,
                     UVEV__WAIT_REGISTERED);
  req->next = NULL;
  if (w->local_tail != NULL) {
    w->local_tail->next = req;
  } else {
    w->local_head = req;
    uv_idle_start(&w->idle, uvev__waker_idle_cb);
  }
  w->local_tail = req;
}

int uvev_waker_init(uv_loop_t* loop, uvev_waker_t* w) {
  void* data;
  int err;

  if (loop == NULL || w == NULL)
    return UV_EINVAL;
  data = w->data;
  uvev__zero(w);
  w->data = data;
  w->loop = loop;
  err = uv_async_init(loop, &w->async, uvev__waker_async_cb);
  if (err != 0)
    return err;
  /* uv_idle_init and uv_timer_init cannot fail (they allocate nothing). */
  uv_idle_init(loop, &w->idle);
  uv_timer_init(loop, &w->timer);
  w->async.data = w;
  w->idle.data = w;
  w->timer.data = w;
  uv_unref((uv_handle_t*) &w->async);
  uv_unref((uv_handle_t*) &w->idle);
  uv_unref((uv_handle_t*) &w->timer);
  /* Relaxed: the waker is not shared yet. */
  uvev__store(w->ready.head, (struct uvev__rnode*) NULL, relaxed);
  return 0;
}

static void uvev__waker_closed(uv_handle_t* handle) {
  uvev_waker_t* w;

  w = (uvev_waker_t*) handle->data;
#if UVEV__MUTANT != 19
  if (--w->nclosing > 0)
    return;
#endif
  while (w->active_head != NULL)
    uvev__wait_finish(w->active_head);
  if (w->close_cb != NULL)
    w->close_cb(w);
}

void uvev_waker_close(uvev_waker_t* w, uvev_waker_close_cb close_cb) {
  uvev_wait_t* req;

  if (w == NULL || (w->flags & UVEV__WAKER_CLOSING))
    return;
#if UVEV__MUTANT != 20
  w->flags |= UVEV__WAKER_CLOSING;
#endif
  w->close_cb = close_cb;
  /* Take every request out of its event (handing on notifications it had
   * received) and decide its status. After this no notifier can reach the
   * waker: see the top of this file. */
  for (req = w->active_head; req != NULL; req = req->active_next)
    uvev__wait_abort(req);
  w->local_head = NULL;
  w->local_tail = NULL;
  /* Relaxed: only this thread can reach the list now. */
  uvev__store(w->ready.head, (struct uvev__rnode*) NULL, relaxed);
  w->nclosing = 3;
  uv_close((uv_handle_t*) &w->async, uvev__waker_closed);
  uv_close((uv_handle_t*) &w->idle, uvev__waker_closed);
  uv_close((uv_handle_t*) &w->timer, uvev__waker_closed);
}
