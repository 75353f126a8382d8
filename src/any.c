/* any.c: loop any-of waits: one request over several (event, predicate)
 * entries, from start to its one callback (docs/design.md, section 10).
 *
 * Each entry's node is linked in its own event, so notifiers on different
 * events (and threads) may each unlink one of the request's nodes at the
 * same time, while the request has one rnode for the ready list. The
 * request's `woken` word settles that: a notifier's wake sets its entry's
 * bit, and only the wake that found the word 0 pushes the request. The loop
 * clears the word when it drains the request, so the word is nonzero exactly
 * while the request is pushed and not yet drained, and its bits name the
 * entries whose nodes were unlinked since the last drain.
 *
 * The loop thread runs everything here but uvev__any_wake. wait.c keeps the
 * start checks, decide, cancel and abort for both kinds of request, and
 * calls the functions below for the steps that touch several nodes. Shared
 * memory is reached only through src/atomic.h and the waitset, and the file
 * is in the common subset of C11 and C++, so that a model can compile it.
 */
#include "internal.h"
#include "ready.h"
#include "waitset.h"

static uvev_any_t* uvev__any_entry(uvev_wait_t* req, unsigned int i) {
  return uvev__any_at(req->any, req->any_stride, i);
}

/* The bit of entry i in `woken` and in the masks below; none for i < 0 (no
 * entry won). */
static unsigned int uvev__any_bit(int i) {
  return i >= 0 ? 1u << (unsigned int) i : 0u;
}

/* Every entry's bit. */
static unsigned int uvev__any_all(unsigned int n) {
  return n >= 32 ? ~0u : (1u << n) - 1u;
}

/* Any thread, under the lock of the entry's event: a notifier unlinked the
 * entry's node (the waitset calls this). */
static void uvev__any_wake(struct uvev__node* node) {
  uvev_any_t* e;
  uvev_wait_t* req;
  uvev_waker_t* w;
  unsigned int woken;

  e = uvev__container_of(node, uvev_any_t, node);
  req = e->req;
  w = req->waker;
  /* Acquire: pairs with the release exchange in uvev__any_ready. The drain
   * read the request's rnode.next before it cleared the word, so that read
   * happens before the push below writes it again. */
  woken = uvev__fetch_or(req->woken, 1u << e->index, acquire);
  /* Another entry's wake already pushed the request, and the drain that
   * takes it will see this bit: one push per drain, one rnode suffices. */
  if (woken != 0)
    return;
  if (uvev__ready_push(&w->ready, &req->rnode))
    uv_async_send(&w->async);
}

/* Settles the registered entries among `mask` (nodes a notifier unlinked):
 * waits for each notifier to let go of its node. Returns those entries. */
static unsigned int uvev__any_settle(uvev_wait_t* req, unsigned int mask) {
  uvev_any_t* e;
  unsigned int notified;
  unsigned int i;

  notified = 0;
  for (i = 0; i < req->nany; i++) {
    e = uvev__any_entry(req, i);
    if (!(mask & (1u << i)) || !e->registered)
      continue;
    /* Its wake ran, so a notifier unlinked it: settle says notified. */
    uvev__ws_settle(&e->event->ws, &e->node);
    e->registered = 0;
    notified |= 1u << i;
  }
  return notified;
}

/* Inserts the nodes of the entries in `mask` (each insert ends with the
 * fence after which the caller checks again). */
static void uvev__any_insert(uvev_wait_t* req, unsigned int mask) {
  uvev_any_t* e;
  unsigned int i;

  for (i = 0; i < req->nany; i++) {
    e = uvev__any_entry(req, i);
    if (!(mask & (1u << i)))
      continue;
    uvev__assert(!e->registered);
    e->registered = 1;
    uvev__ws_insert(&e->event->ws, &e->node);
  }
}

/* Passes on the notifications the entries in `mask` received and did not
 * use: one more waiter of each one's event is woken, as the hand-off of a
 * cancelled wait (waitset.c) does. The request is still counted on the
 * events, so they are alive. */
static void uvev__any_hand_on(uvev_wait_t* req, unsigned int mask) {
  unsigned int i;

  for (i = 0; i < req->nany; i++)
    if (mask & (1u << i))
      uvev__ws_notify(&uvev__any_entry(req, i)->event->ws, 1);
}

static int uvev__any_check_req(uvev_wait_t* req) {
  return uvev__any_check(req->any, req->any_stride, req->nany);
}

/* For uvev__spin_until: one check, its result kept in req->status. */
static int uvev__any_spin_pred(void* arg) {
  uvev_wait_t* req = (uvev_wait_t*) arg;

  req->status = uvev__any_check_req(req);
  return req->status >= 0;
}

int uvev__any_start(uvev_waker_t* w, uvev_wait_t* req, uvev_any_t* any,
                    size_t stride, size_t n, uvev_wait_cb cb,
                    uint64_t timeout_ms, uint64_t spin_ns) {
  uvev_any_t* e;
  unsigned int i;
  int deliver;
  int win;
  int err;

  if (cb == NULL)
    return UV_EINVAL;
  err = uvev__any_valid(any, stride, n);
  if (err != 0)
    return err;
  err = uvev__wait_check(w, req);
  if (err != 0)
    return err;

  req->waker = w;
  req->event = NULL;
  req->pred = NULL;
  req->cb = cb;
  req->any = any;
  req->any_stride = stride;
  req->nany = (unsigned int) n;
  req->status = 0;
  req->flags = UVEV__WAIT_ACTIVE | UVEV__WAIT_ANY;
  /* Relaxed: no node is linked, so no notifier can reach the request. */
  uvev__store(req->woken, 0, relaxed);
  for (i = 0; i < req->nany; i++) {
    e = uvev__any_entry(req, i);
    e->req = req;
    e->parker = NULL;
    e->index = i;
    e->registered = 0;
    e->node.wake = uvev__any_wake;
    /* Relaxed: as in uvev__wait_start, once per entry (an event named by
     * two entries counts twice); uvev__any_finish ends each count. */
    uvev__fetch_add(e->event->nwaits, 1, relaxed);
  }
  uvev__waker_add(w, req);

  win = uvev__any_check_req(req);
  if (win < 0 && uvev__spin_until(uvev__any_spin_pred, req, spin_ns))
    win = req->status;
  if (win >= 0) {
    deliver = uvev__wait_decide(req, win);
  } else if (timeout_ms == 0) {
    deliver = uvev__wait_decide(req, UV_ETIMEDOUT);
  } else {
    req->flags |= UVEV__WAIT_REGISTERED;
    uvev__any_insert(req, uvev__any_all(req->nany));
    /* After every insert's fence: for each entry, either this check sees
     * its notifier's state or that notifier sees the node. */
    win = uvev__any_check_req(req);
    if (win < 0) {
      if (timeout_ms != UVEV__NO_TIMEOUT)
        uvev__waker_add_deadline(w, req, timeout_ms);
      return 0;
    }
    /* The nodes come out in decide; one notified meanwhile hands its
     * notification on, the winner's too: this check may have run before its
     * notifier's state change. */
    deliver = uvev__wait_decide(req, win);
  }
  if (deliver)
    uvev__waker_queue(w, req);
  return 0;
}

/* From uvev__wait_decide: takes every registered node back. Returns 1 if
 * the caller must deliver the callback, 0 if the request is pushed onto the
 * ready list and its drain will. */
int uvev__any_unregister(uvev_wait_t* req) {
  uvev_any_t* e;
  unsigned int i;

  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_REGISTERED |
                     UVEV__WAIT_DECIDED | UVEV__WAIT_ANY, 0);
  for (i = 0; i < req->nany; i++) {
    e = uvev__any_entry(req, i);
    if (!e->registered)
      continue;
    /* A node a notifier already took hands its notification on here: the
     * request will not use it. */
    uvev__ws_remove(&e->event->ws, &e->node);
    e->registered = 0;
  }
  /* Now no notifier can reach the request. Relaxed: every wake that set a
   * bit since the last drain ran under the lock of an event whose node was
   * registered then, and the remove above took that lock after it (a node
   * settled since was settled after its wake, by the acquire of in_wait_set
   * or the lock). So a wake that pushed the request is seen here. */
  if (uvev__load(req->woken, relaxed) != 0)
    return 0;
  req->flags &= ~UVEV__WAIT_REGISTERED;
  return 1;
}

/* The drain took req off the ready list: some of its nodes were notified. */
void uvev__any_ready(uvev_wait_t* req) {
  unsigned int mask;
  unsigned int notified;
  int deliver;
  int win;

  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_REGISTERED |
                     UVEV__WAIT_ANY, 0);
  /* Release: pairs with the acquire fetch_or in uvev__any_wake (the rnode
   * may be pushed again from here on). A wake that comes after this in the
   * word's order finds it without the bits taken here, and the first such
   * wake pushes the request again. */
  mask = uvev__exchange(req->woken, 0u, release);
  notified = uvev__any_settle(req, mask);
  if (req->flags & UVEV__WAIT_DECIDED) {
    /* Cancel, timeout or close came while it was pushed: they took every
     * node back and handed on what the nodes had received. */
    uvev__assert(notified == 0);
    req->flags &= ~UVEV__WAIT_REGISTERED;
    uvev__any_finish(req);
    return;
  }
  win = uvev__any_check_req(req);
  if (win < 0) {
    /* The notifications were spent on this check, as for a single wait: the
     * notified entries register again, and the others never left, so they
     * keep their places. */
    uvev__any_insert(req, notified);
    win = uvev__any_check_req(req);
    if (win < 0)
      return;  /* waits again */
    notified = 0;
  }
  /* decide takes back every node still registered; the entries notified
   * before the check that won, other than the winner, were not used. */
  deliver = uvev__wait_decide(req, win);
#if UVEV__MUTANT != 33
  uvev__any_hand_on(req, notified & ~uvev__any_bit(win));
#endif
  if (deliver)
    uvev__any_finish(req);
  /* Else notified again meanwhile: the next drain delivers it. */
}

/* The deadline passed. The request is registered and undecided. */
void uvev__any_expire(uvev_wait_t* req) {
  uvev_any_t* e;
  unsigned int notified;
  unsigned int i;
  int win;

  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_REGISTERED |
                     UVEV__WAIT_ANY, UVEV__WAIT_DECIDED | UVEV__WAIT_TIMED);
  /* Out of every event first, then the last check: a notification that
   * raced in is either used by that check or handed on, never lost. */
  notified = 0;
  for (i = 0; i < req->nany; i++) {
    e = uvev__any_entry(req, i);
    if (!e->registered)
      continue;
    if (uvev__ws_settle(&e->event->ws, &e->node))
      notified |= 1u << i;
    e->registered = 0;
  }
  win = uvev__any_check_req(req);
  req->status = win >= 0 ? win : UV_ETIMEDOUT;
  req->flags |= UVEV__WAIT_DECIDED;
#if UVEV__MUTANT != 34
  uvev__any_hand_on(req, notified & ~uvev__any_bit(win));
#endif
  /* Relaxed: as in uvev__any_unregister (every node was settled above). */
  if (uvev__load(req->woken, relaxed) != 0)
    return;  /* pushed: the drain delivers it */
  req->flags &= ~UVEV__WAIT_REGISTERED;
  uvev__any_finish(req);
}

void uvev__any_finish(uvev_wait_t* req) {
  unsigned int i;

  /* Registered only when the waker's close took it off the ready list. */
  uvev__assert_flags(req, UVEV__WAIT_ACTIVE | UVEV__WAIT_DECIDED |
                     UVEV__WAIT_ANY, 0);
  uvev__assert(!(req->flags & UVEV__WAIT_REGISTERED) ||
               (req->waker->flags & UVEV__WAKER_CLOSING));
  uvev__waker_remove_deadline(req->waker, req);
  uvev__waker_remove(req->waker, req);
  req->flags = 0;
  for (i = 0; i < req->nany; i++) {
    /* Release: pairs with the acquire load in uvev_event_destroy. */
    uvev__fetch_sub(uvev__any_entry(req, i)->event->nwaits, 1, release);
  }
  req->cb(req, req->status);
}

int uvev_wait_any(uvev_waker_t* w, uvev_wait_t* req, uvev_any_t* any,
                  size_t n, uvev_wait_cb cb) {
  return uvev__any_start(w, req, any, sizeof(uvev_any_t), n, cb,
                         UVEV__NO_TIMEOUT, 0);
}

int uvev_wait_any_timeout(uvev_waker_t* w, uvev_wait_t* req, uvev_any_t* any,
                          size_t n, uvev_wait_cb cb, uint64_t timeout_ms) {
  /* As uvev_wait_timeout: the largest timeout is "never". */
  if (timeout_ms == UVEV__NO_TIMEOUT)
    timeout_ms--;
  return uvev__any_start(w, req, any, sizeof(uvev_any_t), n, cb, timeout_ms,
                         0);
}
