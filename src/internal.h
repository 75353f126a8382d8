/* internal.h: what the library's files share with each other and nothing
 * else: request flags and the calls between the waker (waker.c) and the loop
 * wait requests (wait.c).
 */
#ifndef UVEV_INTERNAL_H_
#define UVEV_INTERNAL_H_

#include <stddef.h>
#include <stdint.h>

#include "uvev.h"
#include "atomic.h"

/* uvev_wait_t.flags (loop thread only). */
enum {
  UVEV__WAIT_ACTIVE = 1,      /* started; its callback has not run yet */
  UVEV__WAIT_REGISTERED = 2,  /* node inserted in the event and not yet taken
                                 back: still linked, or unlinked by a notifier
                                 and pushed onto the waker's ready list */
  UVEV__WAIT_DECIDED = 4,     /* status fixed; only the callback is owed */
  UVEV__WAIT_TIMED = 8        /* in the waker's deadline heap */
};

/* Checks a transition of the request state machine (docs/design.md,
 * "Request states"): the flags in `set` must be set and those in `clear`
 * clear. On in every build without NDEBUG (meson's default, and CI), and in
 * the model, where Relacy reports it (src/atomic.h). */
#define uvev__assert_flags(req, set, clear)                                   \
  uvev__assert(((req)->flags & ((set) | (clear))) == (set))

/* uvev_waker_t.flags. */
enum {
  UVEV__WAKER_CLOSING = 1
};

#define UVEV__NO_TIMEOUT UINT64_MAX

/* Busy-waiting budgets, in ns (see uvev__spin_until). Measured with
 * bench/uvev-bench on chan_cap16 and pingpong_threads. */
#define UVEV__PARK_SPIN_NS 10000   /* a blocking waiter, before it sleeps */
#define UVEV__CHAN_SPIN_NS 10000   /* a loop channel operation, before it
                                      registers */

/* Re-checks pred(arg) for up to spin_ns, pausing the CPU between checks.
 * Returns 1 as soon as it holds. A waiter whose state is about to change
 * (the other end of a busy channel) saves itself a sleep and a wake-up. */
static inline int uvev__spin_until(uvev_pred_cb pred, void* arg,
                                   uint64_t spin_ns) {
  uint64_t deadline;
  int i;

  if (spin_ns == 0)
    return 0;
  deadline = uv_hrtime() + spin_ns;
  do {
    for (i = 0; i < 8; i++)
      uvev__cpu_relax();
    if (pred(arg))
      return 1;
  } while (uv_hrtime() < deadline);
  return 0;
}

/* waker.c */
void uvev__waker_wake(struct uvev__node* node);
void uvev__waker_add(uvev_waker_t* w, uvev_wait_t* req);
void uvev__waker_remove(uvev_waker_t* w, uvev_wait_t* req);
void uvev__waker_queue(uvev_waker_t* w, uvev_wait_t* req);
void uvev__waker_add_deadline(uvev_waker_t* w, uvev_wait_t* req,
                              uint64_t timeout_ms);
void uvev__waker_remove_deadline(uvev_waker_t* w, uvev_wait_t* req);

/* wait.c */
int uvev__wait_check(uvev_waker_t* w, uvev_wait_t* req);
int uvev__wait_start(uvev_waker_t* w, uvev_wait_t* req, uvev_event_t* ev,
                     uvev_pred_cb pred, uvev_wait_cb cb, uint64_t timeout_ms,
                     uint64_t spin_ns);
void uvev__wait_ready(uvev_wait_t* req);
void uvev__wait_expire(uvev_wait_t* req);
void uvev__wait_abort(uvev_wait_t* req);
void uvev__wait_finish(uvev_wait_t* req);

#endif /* UVEV_INTERNAL_H_ */
