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
typedef struct uvev_chan_s uvev_chan_t;
typedef struct uvev_chan_op_s uvev_chan_op_t;

/* Returns nonzero when the awaited condition holds. For a loop wait `arg` is
 * the request's `data`; for a blocking wait it is the `arg` given. */
typedef int (*uvev_pred_cb)(void* arg);
/* Runs exactly once per started request, on the waker's loop thread. */
typedef void (*uvev_wait_cb)(uvev_wait_t* req, int status);
/* Runs on the loop thread once the waker is fully closed. */
typedef void (*uvev_waker_close_cb)(uvev_waker_t* waker);
/* Runs exactly once per started channel operation, on its loop thread. */
typedef void (*uvev_chan_cb)(uvev_chan_op_t* op, int status);


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

/* The lock-free ring under a channel (src/ring.h). head and tail sit on cache
 * lines of their own: receivers write one, senders the other. */
struct uvev__ring {
  char* cells;                    /* capacity cells of `stride` bytes */
  uint64_t capacity;
  size_t elem_size;
  size_t stride;
  char pad0[64];
  UVEV__ATOMIC(uint64_t) head;    /* next position to receive << 1 | closed */
  char pad1[64];
  UVEV__ATOMIC(uint64_t) tail;    /* next position to send << 1 | closed */
  char pad2[64];
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


/* ---- Channels --------------------------------------------------------------
 *
 * A bounded MPMC channel: a lock-free ring of fixed-size elements, copied in
 * and out, and two events ("not empty" for receivers, "not full" for senders)
 * that turn it into a channel with backpressure. try_send and try_recv take no
 * lock and make no system call when nobody waits. Loops wait with
 * uvev_chan_send/uvev_chan_recv (requests on a waker), threads block with the
 * _sync calls. Elements come out in the order their sends took effect (FIFO).
 * The capacity is exact.
 *
 * Close is idempotent and may be called from any thread: senders then get
 * UV_EPIPE; receivers drain what is left, then get UV_EOF.
 */

struct uvev_chan_s {
  void* data;                     /* public: for the user */
  /* private */
  char pad0[64];                  /* the events' lines apart from data's, */
  uvev_event_t not_empty;         /* receivers wait here */
  char pad1[64];                  /* from each other's */
  uvev_event_t not_full;          /* senders wait here */
  struct uvev__ring ring;         /* and (its own padding) from the ring's */
};

struct uvev_chan_op_s {
  void* data;                     /* public: for the user */
  /* private */
  uvev_wait_t wait;               /* on not_full (send) or not_empty (recv) */
  uvev_chan_t* chan;
  const void* elem;               /* send: the element to copy in */
  void* out;                      /* recv: where to copy the element out */
  uvev_chan_cb cb;
  int result;                     /* what the last try returned */
};

/* Any thread. Returns 0, UV_EINVAL (NULL, or a capacity or element size of
 * 0), or UV_ENOMEM. */
UVEV_EXTERN int uvev_chan_init(uvev_chan_t* ch, size_t capacity,
                               size_t elem_size);

/* Returns 0; UV_EBUSY, changing nothing, while any operation on the channel
 * is pending (loop or blocking); UV_EINVAL for NULL. Elements still in the
 * channel are dropped. */
UVEV_EXTERN int uvev_chan_destroy(uvev_chan_t* ch);

/* Closes the channel and wakes every waiter. Idempotent; any thread. */
UVEV_EXTERN void uvev_chan_close(uvev_chan_t* ch);

/* Any thread, never blocks. 0, UV_EAGAIN (full), UV_EPIPE (closed), or
 * UV_EINVAL for NULL. */
UVEV_EXTERN int uvev_chan_try_send(uvev_chan_t* ch, const void* elem);

/* Any thread, never blocks. 0, UV_EAGAIN (empty), UV_EOF (closed and
 * drained), or UV_EINVAL for NULL. */
UVEV_EXTERN int uvev_chan_try_recv(uvev_chan_t* ch, void* out);

/* Loop side: sends *elem once there is room; elem must stay valid until cb.
 * cb(op, status) runs once on the loop: 0, UV_EPIPE, or UV_ECANCELED.
 * Returns 0, UV_EINVAL (NULL, or the waker is closing) or UV_EBUSY (op is
 * active). */
UVEV_EXTERN int uvev_chan_send(uvev_waker_t* waker, uvev_chan_op_t* op,
                               uvev_chan_t* ch, const void* elem,
                               uvev_chan_cb cb);

/* Loop side: receives into *out once an element is there; out must stay valid
 * until cb. Status 0, UV_EOF, or UV_ECANCELED. Returns as uvev_chan_send. */
UVEV_EXTERN int uvev_chan_recv(uvev_waker_t* waker, uvev_chan_op_t* op,
                               uvev_chan_t* ch, void* out, uvev_chan_cb cb);

/* Cancels a pending operation, as uvev_wait_cancel: its callback gets
 * UV_ECANCELED unless the element was already moved (then 0). Loop thread.
 * 0, or UV_EINVAL if op is NULL or not active. */
UVEV_EXTERN int uvev_chan_cancel(uvev_chan_op_t* op);

/* Thread side, blocking. send: 0 or UV_EPIPE; recv: 0 or UV_EOF; the
 * _timeout variants also UV_ETIMEDOUT (the channel is tried one last time at
 * the deadline). UV_EINVAL for NULL. */
UVEV_EXTERN int uvev_chan_send_sync(uvev_chan_t* ch, const void* elem);
UVEV_EXTERN int uvev_chan_recv_sync(uvev_chan_t* ch, void* out);
UVEV_EXTERN int uvev_chan_send_sync_timeout(uvev_chan_t* ch, const void* elem,
                                            uint64_t timeout_ms);
UVEV_EXTERN int uvev_chan_recv_sync_timeout(uvev_chan_t* ch, void* out,
                                            uint64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* UVEV_H */
