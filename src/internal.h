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
  UVEV__WAIT_TIMED = 8,       /* in the waker's deadline heap */
  UVEV__WAIT_ANY = 16         /* an any-of wait (any.c); for its whole life,
                                 REGISTERED means: some entry's node is
                                 registered, or the request is pushed onto
                                 the ready list and not yet drained */
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

/* An assertion, on in every build without NDEBUG. (A model build may
 * define its own before this file is included.) */
#ifndef uvev__assert
# define uvev__assert(cond) assert(cond)
#endif

/* Any-of entries: entry i of an array whose entries are `stride` bytes
 * apart (a select embeds them in larger entries). */
static inline uvev_any_t* uvev__any_at(uvev_any_t* any, size_t stride,
                                       unsigned int i) {
  return (uvev_any_t*) ((char*) any + (size_t) i * stride);
}

/* One check of an any-of wait: the predicates in array order, up to the
 * first that holds. Returns its index, or -1. */
static inline int uvev__any_check(uvev_any_t* any, size_t stride,
                                  unsigned int n) {
  uvev_any_t* e;
  unsigned int i;

  for (i = 0; i < n; i++) {
    e = uvev__any_at(any, stride, i);
    if (e->pred(e->arg))
      return (int) i;
  }
  return -1;
}

/* UV_EINVAL for an array an any-of wait cannot take (uvev.h), else 0. */
static inline int uvev__any_valid(uvev_any_t* any, size_t stride, size_t n) {
  uvev_any_t* e;
  unsigned int i;

  if (any == NULL || n == 0 || n > UVEV_ANY_MAX)
    return UV_EINVAL;
  for (i = 0; i < n; i++) {
    e = uvev__any_at(any, stride, i);
    if (e->event == NULL || e->pred == NULL)
      return UV_EINVAL;
  }
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
int uvev__wait_decide(uvev_wait_t* req, int status);

/* any.c: the any-of half of the calls above, which hand any-of requests
 * (UVEV__WAIT_ANY) over to these. */
int uvev__any_start(uvev_waker_t* w, uvev_wait_t* req, uvev_any_t* any,
                    size_t stride, size_t n, uvev_wait_cb cb,
                    uint64_t timeout_ms, uint64_t spin_ns);
int uvev__any_unregister(uvev_wait_t* req);
void uvev__any_ready(uvev_wait_t* req);
void uvev__any_expire(uvev_wait_t* req);
void uvev__any_finish(uvev_wait_t* req);

/* sync.c: a blocking any-of wait over entries `stride` bytes apart. The
 * index of the entry that held, or an error. */
int uvev__wait_sync_any(uvev_any_t* any, size_t stride, size_t n, int timed,
                        uint64_t timeout_ms);

#endif /* UVEV_INTERNAL_H_ */
