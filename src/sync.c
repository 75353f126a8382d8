/* sync.c: blocking waits for threads that run no loop, on one event or on
 * any of several (uvev_wait_sync_any).
 *
 * The waiter's node lives on its stack, next to a parker: a state word, and a
 * libuv mutex and condition variable to sleep on. The parker spins briefly
 * before it sleeps: a notification that arrives within the spin costs the
 * notifier no system call and the waiter no sleep, which is what keeps
 * small-buffer hand-offs between threads fast.
 *
 * The model (test/model) compiles this file unchanged, on its libuv's mutex,
 * condition variable and clock (test/model/uv.h).
 */
#include "internal.h"
#include "waitset.h"

/* Parker states. */
enum {
  UVEV__PARK_IDLE = 0,      /* inserted, not notified, not sleeping */
  UVEV__PARK_NOTIFIED = 1,  /* a notifier woke the node */
  UVEV__PARK_SLEEPING = 2   /* the waiter sleeps on the condition variable */
};

/* The longest single timed sleep, in ns. */
#define UVEV__MAX_SLEEP_NS ((uint64_t) 3600 * 1000000000)

struct uvev__parker {
  struct uvev__node node;
  UVEV__ATOMIC(int) state;
  uv_mutex_t mutex;
  uv_cond_t cond;
  /* An any-of wait's: bit i set by the notifier that unlinked entry i's
   * node since the waiter last cleared it. (Its nodes are in the entries;
   * `node` is then linked nowhere.) */
  UVEV__ATOMIC(unsigned int) woken;
};

/* Any thread, under the event lock. */
static void uvev__parker_wake(struct uvev__node* node) {
  struct uvev__parker* p;

  p = uvev__container_of(node, struct uvev__parker, node);
  /* Acq_rel: the release half pairs with the acquire loads in uvev__park;
   * the acquire half pairs with the waiter's CAS to SLEEPING, made under the
   * mutex that we take below before signalling. */
  if (uvev__exchange(p->state, UVEV__PARK_NOTIFIED, acq_rel) ==
      UVEV__PARK_SLEEPING) {
#if UVEV__MUTANT != 22
    uv_mutex_lock(&p->mutex);
    uv_cond_signal(&p->cond);
    uv_mutex_unlock(&p->mutex);
#else
    uv_cond_signal(&p->cond);
#endif
  }
}

static int uvev__parker_notified(void* arg) {
  struct uvev__parker* p = (struct uvev__parker*) arg;
  /* Acquire: pairs with the exchange in uvev__parker_wake. */
  return uvev__load(p->state, acquire) == UVEV__PARK_NOTIFIED;
}

/* Returns 1 once notified, 0 if the deadline (if any) passed first. */
static int uvev__park(struct uvev__parker* p, int timed, uint64_t deadline) {
  int state;
  uint64_t now;

  if (uvev__spin_until(uvev__parker_notified, p, UVEV__PARK_SPIN_NS))
    return 1;

  uv_mutex_lock(&p->mutex);
  state = UVEV__PARK_IDLE;
  /* Acquire on failure: pairs with the exchange in uvev__parker_wake.
   * Release on success: pairs with its acquire half; the waker then takes the
   * mutex, which it can only get once we sleep on the condition. */
  if (uvev__cas_strong(p->state, &state, UVEV__PARK_SLEEPING, acq_rel,
                       acquire)) {
    for (;;) {
      /* Acquire: pairs with the exchange in uvev__parker_wake. */
      state = uvev__load(p->state, acquire);
      if (state == UVEV__PARK_NOTIFIED)
        break;
      if (!timed) {
        uv_cond_wait(&p->cond, &p->mutex);
        continue;
      }
      now = uv_hrtime();
      if (now >= deadline)
        break;
      /* libuv adds the timeout to the clock: keep the sum in range (the loop
       * sleeps again if it wakes early). */
      uv_cond_timedwait(&p->cond, &p->mutex,
                        deadline - now < UVEV__MAX_SLEEP_NS
                            ? deadline - now
                            : UVEV__MAX_SLEEP_NS);
    }
  }
  uv_mutex_unlock(&p->mutex);
  return state == UVEV__PARK_NOTIFIED;
}

/* Sets up a blocking wait's parker and its deadline (on uv_hrtime's clock):
 * 0, or the error of uv_mutex_init or uv_cond_init. A timeout beyond the
 * clock's range clears *timed: it never expires. */
static int uvev__parker_init(struct uvev__parker* p, int* timed,
                             uint64_t timeout_ms, uint64_t* deadline) {
  int err;

  *deadline = uv_hrtime();
  if (!*timed || timeout_ms > (UINT64_MAX - *deadline) / 1000000)
    *timed = 0;
  else
    *deadline += timeout_ms * 1000000;
  err = uv_mutex_init(&p->mutex);
  if (err != 0)
    return err;
  err = uv_cond_init(&p->cond);
  if (err != 0) {
    uv_mutex_destroy(&p->mutex);
    return err;
  }
  p->node.wake = uvev__parker_wake;
  return 0;
}

static int uvev__wait_sync(uvev_event_t* ev, uvev_pred_cb pred, void* arg,
                           int timed, uint64_t timeout_ms) {
  struct uvev__parker p;
  uint64_t deadline;
  int notified;
  int err;

  if (ev == NULL || pred == NULL)
    return UV_EINVAL;
  if (pred(arg))
    return 0;
  if (timed && timeout_ms == 0)
    return UV_ETIMEDOUT;

  err = uvev__parker_init(&p, &timed, timeout_ms, &deadline);
  if (err != 0)
    return err;
  /* Relaxed: as in uvev__wait_start. */
  uvev__fetch_add(ev->nwaits, 1, relaxed);

  for (;;) {
#if UVEV__MUTANT != 21
    /* Relaxed: the node is not linked, so no notifier can see the parker. */
    uvev__store(p.state, UVEV__PARK_IDLE, relaxed);
    uvev__ws_insert(&ev->ws, &p.node);
#else
    uvev__ws_insert(&ev->ws, &p.node);
    uvev__store(p.state, UVEV__PARK_IDLE, relaxed);
#endif
    if (pred(arg)) {
      uvev__ws_remove(&ev->ws, &p.node);
      err = 0;
      break;
    }
    if (!uvev__park(&p, timed, deadline)) {
      /* Out of the list first, then the last check: a notification that
       * raced in is either used by that check or handed on, never lost. */
      notified = uvev__ws_settle(&ev->ws, &p.node);
      err = pred(arg) ? 0 : UV_ETIMEDOUT;
      if (notified && err != 0)
        uvev__ws_notify(&ev->ws, 1);
      break;
    }
#if UVEV__MUTANT != 23
    uvev__ws_settle(&ev->ws, &p.node);
#endif
    if (pred(arg)) {
      err = 0;
      break;
    }
    /* Notified, and still false: wait again, unless the deadline passed
     * meanwhile. uvev__park returns at once when it finds a notification,
     * without looking at the clock, so under a stream of notifications
     * (a competing waiter that always wins, a predicate that notifies its
     * own event) only this check ends a timed wait on time. The check just
     * made was its last one, and the notification was spent on it, as on
     * any wake-up whose predicate is false: nothing to hand on. */
    if (timed && uv_hrtime() >= deadline) {
      err = UV_ETIMEDOUT;
      break;
    }
  }

  /* Release: pairs with the acquire load in uvev_event_destroy. */
  uvev__fetch_sub(ev->nwaits, 1, release);
  uv_cond_destroy(&p.cond);
  uv_mutex_destroy(&p.mutex);
  return err;
}

int uvev_wait_sync(uvev_event_t* ev, uvev_pred_cb pred, void* arg) {
  return uvev__wait_sync(ev, pred, arg, 0, 0);
}

int uvev_wait_sync_timeout(uvev_event_t* ev, uvev_pred_cb pred, void* arg,
                           uint64_t timeout_ms) {
  return uvev__wait_sync(ev, pred, arg, 1, timeout_ms);
}


/* ---- any-of -------------------------------------------------------------
 *
 * The waiter's nodes are in the entries, each linked in its own event, and
 * share one parker. A notifier's wake records its entry in the parker's
 * `woken` and wakes the parker as for a single wait. After each park the
 * waiter resets the parker and takes `woken`, in that order, so a notifier
 * it does not see in `woken` is seen by the next park (see below). The loop
 * version is any.c; the steps and the reasons are the same. */

/* Any thread, under the lock of the entry's event. */
static void uvev__parker_any_wake(struct uvev__node* node) {
  uvev_any_t* e;
  struct uvev__parker* p;

  e = uvev__container_of(node, uvev_any_t, node);
  p = e->parker;
  /* Acquire: pairs with the release exchange of `woken` in
   * uvev__wait_sync_any. If this RMW comes after that exchange (so the
   * waiter did not see this bit), the waiter's reset of `state` to IDLE,
   * sequenced before its exchange, happens before the exchange of `state`
   * in uvev__parker_wake below, which therefore leaves it NOTIFIED: the
   * next park returns at once. */
  uvev__fetch_or(p->woken, 1u << e->index, acquire);
  /* The parker's state, its signal, as for a single wait. */
  uvev__parker_wake(&p->node);
}

/* Every entry's bit, or those of `mask` that are registered: settles each
 * one's node (out of its event, and its notifier done with it). Returns the
 * entries that had been notified. */
static unsigned int uvev__sync_any_settle(uvev_any_t* any, size_t stride,
                                          unsigned int n, unsigned int mask) {
  uvev_any_t* e;
  unsigned int notified;
  unsigned int i;

  notified = 0;
  for (i = 0; i < n; i++) {
    e = uvev__any_at(any, stride, i);
    if (!(mask & (1u << i)) || !e->registered)
      continue;
    if (uvev__ws_settle(&e->event->ws, &e->node))
      notified |= 1u << i;
    e->registered = 0;
  }
  return notified;
}

static void uvev__sync_any_insert(uvev_any_t* any, size_t stride,
                                  unsigned int n, unsigned int mask) {
  uvev_any_t* e;
  unsigned int i;

  for (i = 0; i < n; i++) {
    e = uvev__any_at(any, stride, i);
    if (!(mask & (1u << i)))
      continue;
    e->registered = 1;
    uvev__ws_insert(&e->event->ws, &e->node);
  }
}

/* Hands on the notifications of the entries in `mask`, unused. */
static void uvev__sync_any_hand_on(uvev_any_t* any, size_t stride,
                                   unsigned int n, unsigned int mask) {
  unsigned int i;

  for (i = 0; i < n; i++)
    if (mask & (1u << i))
      uvev__ws_notify(&uvev__any_at(any, stride, i)->event->ws, 1);
}

int uvev__wait_sync_any(uvev_any_t* any, size_t stride, size_t count,
                        int timed, uint64_t timeout_ms) {
  struct uvev__parker p;
  uvev_any_t* e;
  uint64_t deadline;
  unsigned int notified;
  unsigned int unused;
  unsigned int mask;
  unsigned int all;
  unsigned int n;
  unsigned int i;
  int win;
  int err;

  err = uvev__any_valid(any, stride, count);
  if (err != 0)
    return err;
  n = (unsigned int) count;
  all = n >= 32 ? ~0u : (1u << n) - 1u;
  win = uvev__any_check(any, stride, n);
  if (win >= 0)
    return win;
  if (timed && timeout_ms == 0)
    return UV_ETIMEDOUT;

  /* p.node is linked nowhere; see the struct. */
  err = uvev__parker_init(&p, &timed, timeout_ms, &deadline);
  if (err != 0)
    return err;
  /* Relaxed: no node is linked, so no notifier can see the parker. */
  uvev__store(p.state, UVEV__PARK_IDLE, relaxed);
  uvev__store(p.woken, 0u, relaxed);
  for (i = 0; i < n; i++) {
    e = uvev__any_at(any, stride, i);
    e->req = NULL;
    e->parker = &p;
    e->index = i;
    e->registered = 0;
    e->node.wake = uvev__parker_any_wake;
    /* Relaxed: as in uvev__wait_sync, once per entry. */
    uvev__fetch_add(e->event->nwaits, 1, relaxed);
  }

  err = UV_ETIMEDOUT;
  unused = 0;
  uvev__sync_any_insert(any, stride, n, all);
  /* After every insert's fence, as in any.c. */
  win = uvev__any_check(any, stride, n);
  while (win < 0) {
    if (!uvev__park(&p, timed, deadline)) {
      /* Out of every event first, then the last check: a notification that
       * raced in is either used by that check or handed on. */
      notified = uvev__sync_any_settle(any, stride, n, all);
      win = uvev__any_check(any, stride, n);
      unused = notified & ~(win >= 0 ? 1u << win : 0u);
      break;
    }
    /* Relaxed: ordered before the exchange below by its release half, which
     * is what uvev__parker_any_wake relies on. A notifier that exchanged
     * SLEEPING for NOTIFIED before this store may still signal the condition
     * variable after it; that signal at most ends a later park early, and a
     * park re-reads the state in its loop. */
    uvev__store(p.state, UVEV__PARK_IDLE, relaxed);
    /* Release: pairs with the acquire fetch_or in uvev__parker_any_wake.
     * Which nodes were unlinked is confirmed by settling them. */
    mask = uvev__exchange(p.woken, 0u, release);
    notified = uvev__sync_any_settle(any, stride, n, mask);
    win = uvev__any_check(any, stride, n);
    if (win >= 0) {
      /* The entries notified before this check, but the winner, were not
       * used: handed on below. */
      unused = notified & ~(1u << win);
      break;
    }
    /* Notified, and nothing holds: as in uvev__wait_sync, only this check
     * of the clock ends a timed wait under a stream of notifications; they
     * were spent on the check just made. */
    if (timed && uv_hrtime() >= deadline)
      break;
    /* The notified entries register again; the others never left, and
     * keep their places. */
    uvev__sync_any_insert(any, stride, n, notified);
    win = uvev__any_check(any, stride, n);
  }

  /* The nodes still registered come out; one a notifier took meanwhile
   * hands its notification on (waitset.c). Then the unused notifications
   * of the others, which so go to other waiters, not to a node of this
   * wait on the same event. */
  for (i = 0; i < n; i++) {
    e = uvev__any_at(any, stride, i);
    if (e->registered) {
      uvev__ws_remove(&e->event->ws, &e->node);
      e->registered = 0;
    }
  }
#if UVEV__MUTANT != 35
  uvev__sync_any_hand_on(any, stride, n, unused);
#else
  (void) unused;
  uvev__sync_any_hand_on(any, stride, n, 0u);  /* hands nothing on */
#endif
  for (i = 0; i < n; i++) {
    /* Release: pairs with the acquire load in uvev_event_destroy. */
    uvev__fetch_sub(uvev__any_at(any, stride, i)->event->nwaits, 1, release);
  }
  uv_cond_destroy(&p.cond);
  uv_mutex_destroy(&p.mutex);
  return win >= 0 ? win : err;
}

int uvev_wait_sync_any(uvev_any_t* any, size_t n) {
  return uvev__wait_sync_any(any, sizeof(uvev_any_t), n, 0, 0);
}

int uvev_wait_sync_any_timeout(uvev_any_t* any, size_t n,
                               uint64_t timeout_ms) {
  return uvev__wait_sync_any(any, sizeof(uvev_any_t), n, 1, timeout_ms);
}
