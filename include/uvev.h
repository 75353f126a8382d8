/* uvev.h: an eventcount for libuv.
 *
 * An event lets code built on lock-free state wait for that state to change.
 * A waiter gives a predicate; the wait ends when the predicate returns
 * nonzero. Whoever changes the state calls uvev_notify(); when nobody waits,
 * that costs one fence and one load, no lock and no system call.
 *
 *   Loop side    uvev_wait() and uvev_wait_timeout() start a request on a
 *                waker, the wake handle of one uv_loop_t. The predicate is
 *                re-checked on the loop thread each time the request is
 *                notified; the callback runs exactly once, on the loop thread,
 *                never from inside uvev_wait() itself.
 *   Thread side  uvev_wait_sync() and uvev_wait_sync_timeout() block the
 *                calling thread (a thread that runs no loop, or a libuv
 *                thread-pool job).
 *   Any thread   uvev_notify(), uvev_notify_one(), uvev_notify_all().
 *
 * One event may have loop and thread waiters at once, on any number of loops.
 * Waiters are woken in the order they registered (FIFO). Errors are libuv's
 * negative error codes, so uv_strerror() works on them.
 *
 * Rules the API relies on:
 *  - A request (uvev_wait_t, uvev_chan_op_t) that has never been used is
 *    zero-filled by its owner (= {0} or memset). Once its callback has run it
 *    may be started again as it is. That is what lets uvev tell "already
 *    active" (UV_EBUSY) and "not active" (UV_EINVAL) apart.
 *  - A waker is bound to its loop, not to a thread: "the loop thread" is the
 *    thread that runs the loop at the time. uvev_waker_init() and
 *    uvev_waker_close() may also be called by the thread that owns the loop
 *    while the loop is not running.
 *  - uvev_notify() called on a waiter's own loop thread only queues the
 *    wake-up: no predicate runs and no callback runs inside uvev_notify().
 *  - A predicate runs on the waiter's thread with no uvev lock held. It may
 *    consume (pop an element) and it may notify, but it must not start,
 *    cancel or close anything.
 *  - A wait whose predicate has succeeded completes with 0 even if a cancel,
 *    a close or its deadline comes before its callback runs: the predicate
 *    may have consumed something. A wait that was notified but not yet
 *    re-checked and is then cancelled completes with UV_ECANCELED and hands
 *    its notification to the next waiter, without running the predicate.
 */
#ifndef UVEV_H
#define UVEV_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
# define UVEV_EXTERN __attribute__((visibility("default")))
#else
# define UVEV_EXTERN
#endif

#define UVEV_VERSION_MAJOR 0
#define UVEV_VERSION_MINOR 1
#define UVEV_VERSION_PATCH 0

typedef struct uvev_event_s uvev_event_t;
typedef struct uvev_waker_s uvev_waker_t;
typedef struct uvev_wait_s uvev_wait_t;

/* Returns nonzero when the awaited condition holds. For a loop wait `arg` is
 * the request's `data`; for a blocking wait it is the `arg` given. */
typedef int (*uvev_pred_cb)(void* arg);
/* Runs exactly once per started request, on the waker's loop thread. */
typedef void (*uvev_wait_cb)(uvev_wait_t* req, int status);
/* Runs on the loop thread once the waker is fully closed. */
typedef void (*uvev_waker_close_cb)(uvev_waker_t* waker);


/* ---- Private field types ---------------------------------------------------
 * libuvev touches these fields only through src/atomic.h. Its model-checking
 * build (test/model) predefines the three macros to Relacy's checked types.
 */
#ifndef UVEV__ATOMIC
# define UVEV__ATOMIC(T) T      /* accessed only with atomic operations */
# define UVEV__SHARED(T) T      /* plain, ordered by a lock or release/acquire */
# define UVEV__MUTEX uv_mutex_t
#endif

/* A waiter's entry in an event's FIFO of waiters. */
struct uvev__node {
  UVEV__SHARED(struct uvev__node*) next;  /* under the waitset lock */
  UVEV__SHARED(struct uvev__node*) prev;  /* under the waitset lock */
  /* 1 while linked. Set under the lock by the waiter; cleared under the lock
   * with a release store by whoever unlinks it, after its last touch. */
  UVEV__ATOMIC(int) in_wait_set;
  /* Called under the waitset lock by the notifier that unlinked the node.
   * Set by the waiter before the node is first linked. */
  void (*wake)(struct uvev__node* node);
};

/* The eventcount core: the waiters of one event. */
struct uvev__waitset {
  UVEV__MUTEX lock;                       /* guards head, tail, links */
  UVEV__SHARED(struct uvev__node*) head;  /* oldest waiter */
  UVEV__SHARED(struct uvev__node*) tail;  /* newest waiter */
  /* Mirrors head == NULL. Written under the lock, read by notify without it:
   * the cheap exit when nobody waits. */
  UVEV__ATOMIC(int) is_empty;
};

/* A link in a waker's ready list (a lock-free stack, see src/ready.h). */
struct uvev__rnode {
  UVEV__SHARED(struct uvev__rnode*) next;
};

struct uvev__ready {
  UVEV__ATOMIC(struct uvev__rnode*) head;
};

/* A node of a waker's deadline heap (a pairing heap, src/heap.h). */
struct uvev__heap_node {
  struct uvev__heap_node* child;
  struct uvev__heap_node* sibling;
  struct uvev__heap_node* prev;  /* parent if first child, else left sibling */
  uint64_t key;                  /* deadline, in uv_now() milliseconds */
  uint64_t seq;                  /* start order: equal deadlines stay FIFO */
};


/* ---- Events ---------------------------------------------------------------- */

struct uvev_event_s {
  /* private */
  struct uvev__waitset ws;
  /* Waits started and not yet called back (loop waits) or returned (blocking
   * waits); uvev_event_destroy() refuses while it is nonzero. */
  UVEV__ATOMIC(unsigned long) nwaits;
};

/* Returns 0, or an error from uv_mutex_init(). Any thread. */
UVEV_EXTERN int uvev_event_init(uvev_event_t* ev);

/* Returns 0. UV_EBUSY, changing nothing, while any wait on the event is
 * started and not yet called back (including one already notified and queued
 * on its loop). UV_EINVAL for NULL. Must not race with notify. */
UVEV_EXTERN int uvev_event_destroy(uvev_event_t* ev);

/* Wakes up to n more waiters, oldest first; n == SIZE_MAX wakes all. Call it
 * after making the awaited state true. Includes the full fence that pairs with
 * the waiter's; with nobody waiting it takes no lock and makes no system call.
 * Any thread. NULL is ignored. */
UVEV_EXTERN void uvev_notify(uvev_event_t* ev, size_t n);
UVEV_EXTERN void uvev_notify_one(uvev_event_t* ev);
UVEV_EXTERN void uvev_notify_all(uvev_event_t* ev);


/* ---- Wakers: one per loop -------------------------------------------------- */

struct uvev_waker_s {
  void* data;                     /* public: for the user */
  /* private; fields below `ready` belong to the loop thread */
  uv_loop_t* loop;
  uv_async_t async;               /* notifiers send it; its callback drains */
  uv_idle_t idle;                 /* runs while `local` has completions */
  uv_timer_t timer;               /* armed for the earliest deadline */
  struct uvev__ready ready;       /* notified requests, pushed by any thread */
  uvev_wait_t* batch;             /* rest of the ready chain being drained */
  uvev_wait_t* local_head;        /* completions decided on the loop, FIFO */
  uvev_wait_t* local_tail;
  uvev_wait_t* active_head;       /* every started request, in start order */
  uvev_wait_t* active_tail;
  struct uvev__heap_node* deadlines;  /* root of the deadline heap */
  uint64_t seq;                   /* next deadline sequence number */
  unsigned int nactive;           /* length of the active list; ref'd if > 0 */
  unsigned int nclosing;          /* handles still closing */
  unsigned int flags;
  uvev_waker_close_cb close_cb;
};

/* Creates the wake handle of `loop`: one uv_async_t (plus an idle and a timer
 * handle) shared by every wait on that loop. Loop thread. It keeps the loop
 * alive only while it has requests pending. Returns 0, UV_EINVAL for NULL, or
 * an error from uv_async_init(). */
UVEV_EXTERN int uvev_waker_init(uv_loop_t* loop, uvev_waker_t* waker);

/* Closes the waker. Every pending request completes with UV_ECANCELED (or the
 * status already decided for it), then close_cb runs; the waker's memory may
 * be freed in close_cb. Safe while other threads notify events its requests
 * wait on. Loop thread. Closing twice, or NULL, is ignored. */
UVEV_EXTERN void uvev_waker_close(uvev_waker_t* waker, uvev_waker_close_cb close_cb);


/* ---- Loop waits ------------------------------------------------------------ */

struct uvev_wait_s {
  void* data;                     /* public: passed to the predicate */
  /* private, loop thread unless noted */
  uvev_waker_t* waker;
  uvev_event_t* event;
  uvev_pred_cb pred;
  uvev_wait_cb cb;
  struct uvev__node node;         /* in event->ws while registered (any thread) */
  struct uvev__rnode rnode;       /* in waker->ready once notified (any thread) */
  uvev_wait_t* active_prev;       /* waker's active list */
  uvev_wait_t* active_next;
  uvev_wait_t* next;              /* waker's local queue or drain batch */
  struct uvev__heap_node deadline;
  unsigned int flags;
  int status;                     /* the decided status, once decided */
};

/* Starts a wait on `waker`'s loop until pred(req->data) returns nonzero, then
 * calls cb(req, 0). The predicate is checked at once, and again on the loop
 * each time the request is notified. Loop thread. Returns 0, UV_EINVAL (a NULL
 * argument, or the waker is closing), or UV_EBUSY (req is already active).
 * cb later gets 0 or UV_ECANCELED. */
UVEV_EXTERN int uvev_wait(uvev_waker_t* waker, uvev_wait_t* req, uvev_event_t* ev,
              uvev_pred_cb pred, uvev_wait_cb cb);

/* As uvev_wait(); if the predicate is still false at the deadline, checked one
 * last time then, cb gets UV_ETIMEDOUT. The deadline is uv_now() + timeout_ms;
 * 0 means "now". */
UVEV_EXTERN int uvev_wait_timeout(uvev_waker_t* waker, uvev_wait_t* req, uvev_event_t* ev,
                      uvev_pred_cb pred, uvev_wait_cb cb, uint64_t timeout_ms);

/* Cancels a started request: its callback later gets UV_ECANCELED, unless its
 * status was already decided (then it keeps it). A notification it had
 * received and not yet used passes to the next waiter. Loop thread. Returns 0,
 * or UV_EINVAL if req is NULL or not active. */
UVEV_EXTERN int uvev_wait_cancel(uvev_wait_t* req);


/* ---- Blocking waits -------------------------------------------------------- */

/* Blocks the calling thread until pred(arg) returns nonzero. Not on a loop
 * thread whose loop has waits to serve. Returns 0, or UV_EINVAL for NULL. */
UVEV_EXTERN int uvev_wait_sync(uvev_event_t* ev, uvev_pred_cb pred, void* arg);

/* As uvev_wait_sync(); returns UV_ETIMEDOUT if pred(arg) is still false after
 * timeout_ms (checked one last time then). */
UVEV_EXTERN int uvev_wait_sync_timeout(uvev_event_t* ev, uvev_pred_cb pred, void* arg,
                           uint64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* UVEV_H */
