/* wait.c: loop wait requests, from start to their one callback.
 *
 * Any-of requests (UVEV__WAIT_ANY) share the start checks, decide, cancel
 * and abort here, and hand the steps that touch their several nodes over to
 * any.c (unregister, ready, expire, finish).
 *
 * A request is REGISTERED from the moment its node goes into the event until
 * the loop takes it back: by uvev__ws_remove (cancel, timeout, close, or a
 * predicate that came true right after inserting), or by draining it from the
 * ready list after a notifier unlinked it. While a notified request sits on
 * the ready list nothing but the drain may complete it (the list is
 * intrusive), so cancel, timeout and close only decide its status there and
 * the drain delivers it. Everything here runs on the loop thread. The states
 * and transitions are tabled in docs/design.md, section 4.
 *
 * The model (test/model) compiles this file unchanged (docs/design.md, 8).
 */
#include "internal.h"
#include "waitset.h"

/* Takes the node back from the event. Returns 1 if it was still linked (the
 * request is out of every list), 0 if a notifier had already pushed it onto
 * the ready list (its notification has been handed on; the drain will come).
 */
static int uvev__wait_unregister(uvev_wait_t* req) {
  if (req->flags & UVEV__WAIT_ANY)
    return uvev__any_unregister(req);
  if (!uvev__ws_remove(&req->event->ws, &req->node))
    return 0;
  req->flags &= ~UVEV__WAIT_REGISTERED;
  return 1;
}

/* Fixes the status. Returns 1 if the caller must deliver the callback, 0 if
 * the drain of the ready list will. */
int uvev__wait_decide(uvev_wait_t* req, int status) {
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE, UVEV__WAIT_DECIDED);
  req->status = status;
  req->flags |= UVEV__WAIT_DECIDED;
  uvev__waker_remove_deadline(req->waker, req);
  if (req->flags & UVEV__WAIT_REGISTERED)
    return uvev__wait_unregister(req);
  return 1;
}

static void uvev__wait_insert(uvev_wait_t* req) {
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE,
                     UVEV__WAIT_REGISTERED | UVEV__WAIT_DECIDED);
  req->flags |= UVEV__WAIT_REGISTERED;
  uvev__ws_insert(&req->event->ws, &req->node);
}

void uvev__wait_finish(uvev_wait_t* req) {
  uvev_event_t* ev;

  if (req->flags & UVEV__WAIT_ANY) {
    uvev__any_finish(req);
    return;
  }
  /* Registered only when the waker's close took it off the ready list. */
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_DECIDED, 0);
  uvev__assert(!(req->flags & UVEV__WAIT_REGISTERED) ||
         (req->waker->flags & UVEV__WAKER_CLOSING));
  ev = req->event;
  uvev__waker_remove_deadline(req->waker, req);
  uvev__waker_remove(req->waker, req);
  req->flags = 0;
  /* Release: pairs with the acquire load in uvev_event_destroy. */
  uvev__fetch_sub(ev->nwaits, 1, release);
  req->cb(req, req->status);
}

/* What uvev__wait_start refuses for the waker and the request, in its
 * order: UV_EINVAL for NULL, UV_EBUSY for an active request, UV_EINVAL for a
 * closing waker. */
int uvev__wait_check(uvev_waker_t* w, uvev_wait_t* req) {
  if (w == NULL || req == NULL)
    return UV_EINVAL;
  if (req->flags & UVEV__WAIT_ACTIVE)
    return UV_EBUSY;
  if (w->flags & UVEV__WAKER_CLOSING)
    return UV_EINVAL;
  return 0;
}

int uvev__wait_start(uvev_waker_t* w, uvev_wait_t* req, uvev_event_t* ev,
                     uvev_pred_cb pred, uvev_wait_cb cb, uint64_t timeout_ms,
                     uint64_t spin_ns) {
  int deliver;
  int err;

  if (ev == NULL || pred == NULL || cb == NULL)
    return UV_EINVAL;
  err = uvev__wait_check(w, req);
  if (err != 0)
    return err;

  req->waker = w;
  req->event = ev;
  req->pred = pred;
  req->cb = cb;
  req->node.wake = uvev__waker_wake;
  req->status = 0;
  req->flags = UVEV__WAIT_ACTIVE;
  /* Relaxed: a destroy must already be ordered after this start by the user;
   * the release decrement in uvev__wait_finish ends the count. */
  uvev__fetch_add(ev->nwaits, 1, relaxed);
  uvev__waker_add(w, req);

  if (pred(req->data) || uvev__spin_until(pred, req->data, spin_ns)) {
    deliver = uvev__wait_decide(req, 0);
  } else if (timeout_ms == 0) {
    deliver = uvev__wait_decide(req, UV_ETIMEDOUT);
  } else {
    uvev__wait_insert(req);
#if UVEV__MUTANT != 12
    if (!pred(req->data)) {
#else
    if (1) {
#endif
      if (timeout_ms != UVEV__NO_TIMEOUT)
        uvev__waker_add_deadline(w, req, timeout_ms);
      return 0;
    }
    deliver = uvev__wait_decide(req, 0);
  }
  /* Never call back from inside the start: the idle handle delivers it.
   * (Not delivering means it was notified meanwhile: the drain delivers it.) */
  if (deliver)
    uvev__waker_queue(w, req);
  return 0;
}

/* The drain took req off the ready list: a notifier woke it. */
void uvev__wait_ready(uvev_wait_t* req) {
  if (req->flags & UVEV__WAIT_ANY) {
    uvev__any_ready(req);
    return;
  }
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_REGISTERED, 0);
  req->flags &= ~UVEV__WAIT_REGISTERED;
  /* Wait for the notifier to let go of the node (it may still be between
   * the push and its release of in_wait_set). */
#if UVEV__MUTANT != 13
  uvev__ws_settle(&req->event->ws, &req->node);
#endif
  if (!(req->flags & UVEV__WAIT_DECIDED)) {
    if (!req->pred(req->data)) {
      uvev__wait_insert(req);
      if (!req->pred(req->data))
        return;  /* waits again */
    }
    if (!uvev__wait_decide(req, 0))
      return;  /* notified again meanwhile: the next drain delivers it */
  }
  uvev__wait_finish(req);
}

/* The deadline passed. The request is registered and undecided. */
void uvev__wait_expire(uvev_wait_t* req) {
  struct uvev__waitset* ws;
  int notified;

  if (req->flags & UVEV__WAIT_ANY) {
    uvev__any_expire(req);
    return;
  }
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_REGISTERED,
                     UVEV__WAIT_DECIDED | UVEV__WAIT_TIMED);
  /* Out of the event first, then the last check: a notification that raced
   * in is either used by that check or handed on, never lost. */
  ws = &req->event->ws;
  notified = uvev__ws_settle(ws, &req->node);
#if UVEV__MUTANT != 15
  req->status = req->pred(req->data) ? 0 : UV_ETIMEDOUT;
#else
  req->status = UV_ETIMEDOUT;
#endif
  req->flags |= UVEV__WAIT_DECIDED;
#if UVEV__MUTANT != 14
  if (notified && req->status != 0)
    uvev__ws_notify(ws, 1);
#endif
#if UVEV__MUTANT != 17
  if (!notified) {
#else
  if (1) {
#endif
    req->flags &= ~UVEV__WAIT_REGISTERED;
    uvev__wait_finish(req);
  }
  /* Notified: it sits on the ready list, and the drain delivers it. */
}

/* The waker is closing: decide every request that is not yet decided. */
void uvev__wait_abort(uvev_wait_t* req) {
#if UVEV__MUTANT == 18
  if (!(req->flags & UVEV__WAIT_DECIDED)) {
    req->status = UV_ECANCELED;
    req->flags |= UVEV__WAIT_DECIDED;
  }
  return;
#endif
  if (!(req->flags & UVEV__WAIT_DECIDED))
    uvev__wait_decide(req, UV_ECANCELED);
#if UVEV__MUTANT == 16
  else
    req->status = UV_ECANCELED;
#endif
}

int uvev_wait(uvev_waker_t* w, uvev_wait_t* req, uvev_event_t* ev,
              uvev_pred_cb pred, uvev_wait_cb cb) {
  return uvev__wait_start(w, req, ev, pred, cb, UVEV__NO_TIMEOUT, 0);
}

int uvev_wait_timeout(uvev_waker_t* w, uvev_wait_t* req, uvev_event_t* ev,
                      uvev_pred_cb pred, uvev_wait_cb cb, uint64_t timeout_ms) {
  /* The largest timeout is "never", as far as this loop can tell. */
  if (timeout_ms == UVEV__NO_TIMEOUT)
    timeout_ms--;
  return uvev__wait_start(w, req, ev, pred, cb, timeout_ms, 0);
}

int uvev_wait_cancel(uvev_wait_t* req) {
  if (req == NULL || !(req->flags & UVEV__WAIT_ACTIVE))
    return UV_EINVAL;
  if (req->flags & UVEV__WAIT_DECIDED) {
#if UVEV__MUTANT == 16
    req->status = UV_ECANCELED;
#endif
    return 0;  /* keeps its real status */
  }
  if (uvev__wait_decide(req, UV_ECANCELED))
    uvev__waker_queue(req->waker, req);
  return 0;
}
