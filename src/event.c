/* event.c: the public event (eventcount) calls: init, destroy, notify.
 * The waiting itself lives in wait.c (loops) and sync.c (threads). The
 * model (test/model) compiles this file unchanged.
 */
#include "internal.h"
#include "waitset.h"

int uvev_event_init(uvev_event_t* ev) {
  int err;

  if (ev == NULL)
    return UV_EINVAL;
  err = uvev__ws_init(&ev->ws);
  if (err != 0)
    return err;
  /* Relaxed: the event is not shared yet. */
  uvev__store(ev->nwaits, 0, relaxed);
  return 0;
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
  uvev__lock(ev->ws.lock);
  uvev__unlock(ev->ws.lock);
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
