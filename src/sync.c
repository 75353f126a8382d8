/* sync.c: blocking waits for threads that run no loop.
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

  deadline = uv_hrtime();
  if (!timed || timeout_ms > (UINT64_MAX - deadline) / 1000000)
    timed = 0;  /* beyond the clock's range: never */
  else
    deadline += timeout_ms * 1000000;
  err = uv_mutex_init(&p.mutex);
  if (err != 0)
    return err;
  err = uv_cond_init(&p.cond);
  if (err != 0) {
    uv_mutex_destroy(&p.mutex);
    return err;
  }
  p.node.wake = uvev__parker_wake;
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
