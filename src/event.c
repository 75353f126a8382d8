/* event.c: the public event (eventcount) calls: init (FIFO or LIFO),
 * destroy, notify, and the waiter count.
 * The waiting itself lives in wait.c (loops) and sync.c (threads). The
 * model (test/model) compiles this file unchanged.
 */
#include "internal.h"
#include "waitset.h"

int uvev_event_init(uvev_event_t* ev) {
  return uvev_event_init_ex(ev, 0);
}

int uvev_event_init_ex(uvev_event_t* ev, unsigned int flags) {
  int err;

  if (ev == NULL || (flags & ~(unsigned int) UVEV_EVENT_LIFO) != 0)
    return UV_EINVAL;
  err = uvev__ws_init(&ev->ws);
  if (err != 0)
    return err;
  /* Plain: the event is not shared yet; publishing it orders this. */
  uvev__set(ev->ws.lifo, (flags & UVEV_EVENT_LIFO) != 0);
  /* Relaxed: the event is not shared yet. */
  uvev__store(ev->nwaits, 0, relaxed);
  return 0;
}

size_t uvev_event_waiters(const uvev_event_t* ev) {
  if (ev == NULL)
    return 0;
  /* Relaxed: a hint (uvev.h); the count is written under the lock. */
  return (size_t) uvev__load(((uvev_event_t*) ev)->ws.count, relaxed);
}

int uvev_event_destroy(uvev_event_t* ev) {
  if (ev == NULL)
    return UV_EINVAL;
  /* Acquire: pairs with the release decrement that ends each wait, so that
   * the wait's last touch of the event happens before the destroy. */
  if (uvev__load(ev->nwaits, acquire) != 0)
    return UV_EBUSY;
  /* The last wait may have ended on the acquire of in_wait_set, without the
   * lock, while the notifier that woke it is still inside its critical
   * section: wait for it to leave before destroying the mutex. */
#if UVEV__MUTANT != 24
  uvev__lock(ev->ws.lock);
  uvev__unlock(ev->ws.lock);
#endif
  uvev__ws_destroy(&ev->ws);
  return 0;
}

void uvev_notify(uvev_event_t* ev, size_t n) {
  if (ev != NULL && n != 0)
    uvev__ws_notify(&ev->ws, n);
}

void uvev_notify_one(uvev_event_t* ev) {
  uvev_notify(ev, 1);
}

void uvev_notify_all(uvev_event_t* ev) {
  uvev_notify(ev, SIZE_MAX);
}
