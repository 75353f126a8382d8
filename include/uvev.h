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
 *   Any-of       uvev_wait_any() and uvev_wait_sync_any() wait for the first
 *                of several (event, predicate) pairs; uvev_chan_select() and
 *                uvev_chan_select_sync() for the first of several channel
 *                operations.
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
#define UVEV_VERSION_MINOR 2
#define UVEV_VERSION_PATCH 0

typedef struct uvev_event_s uvev_event_t;
typedef struct uvev_waker_s uvev_waker_t;
typedef struct uvev_wait_s uvev_wait_t;
typedef struct uvev_chan_s uvev_chan_t;
typedef struct uvev_chan_op_s uvev_chan_op_t;
typedef struct uvev_any_s uvev_any_t;
typedef struct uvev_chan_sel_s uvev_chan_sel_t;

/* Returns nonzero when the awaited condition holds. For a loop wait `arg` is
 * the request's `data`; for a blocking wait it is the `arg` given. */
typedef int (*uvev_pred_cb)(void* arg);
/* Runs exactly once per started request, on the waker's loop thread. For an
 * any-of wait a status >= 0 is the index of the entry whose predicate held. */
typedef void (*uvev_wait_cb)(uvev_wait_t* req, int status);
/* Runs on the loop thread once the waker is fully closed. */
typedef void (*uvev_waker_close_cb)(uvev_waker_t* waker);
/* Runs exactly once per started channel operation, on its loop thread. */
typedef void (*uvev_chan_cb)(uvev_chan_op_t* op, int status);


/* The private fields of the structs below, and the types they use: not part
 * of the API, kept apart the way libuv keeps uv/unix.h. */
#include "uvev/private.h"


/* ---- Events ---------------------------------------------------------------- */

struct uvev_event_s {
  UVEV_EVENT_PRIVATE_FIELDS
};

/* Returns 0, or an error from uv_mutex_init(). Any thread. */
UVEV_EXTERN int uvev_event_init(uvev_event_t* ev);

/* Flags of uvev_event_init_ex. */
enum {
  /* Wake the newest waiter first (LIFO) instead of the oldest: in a pool of
   * workers that all wait on one event, the one that parked last has the
   * warmest cache, and the others stay asleep. Every other rule holds as
   * for FIFO events (a wait that leaves after being notified hands the
   * notification on, now to the newest remaining waiter). */
  UVEV_EVENT_LIFO = 1
};

/* uvev_event_init with flags (0, or UVEV_EVENT_LIFO). UV_EINVAL for NULL or
 * an unknown flag, changing nothing. */
UVEV_EXTERN int uvev_event_init_ex(uvev_event_t* ev, unsigned int flags);

/* The number of waiters registered on the event now: loop waits and blocking
 * waits that have registered and are not yet notified, cancelled or timed
 * out. A hint, read without the lock and with no order: it may be stale by
 * the time it returns, so never decide with it whether to notify (notify is
 * already cheap with nobody waiting). 0 for NULL. Any thread. */
UVEV_EXTERN size_t uvev_event_waiters(const uvev_event_t* ev);

/* Returns 0. UV_EBUSY, changing nothing, while a loop wait on the event is
 * started and not yet called back (including one already notified and queued
 * on its loop; it may destroy from its callback), or a blocking wait sleeps
 * on it. UV_EINVAL for NULL.
 *
 * When destroy may be called: once no call on the event can still begin, and
 * every uvev_notify() and blocking wait on it has returned. A notify is not
 * counted (that would cost it a locked instruction with nobody waiting), and
 * it reads the event after the state change that lets a waiter return, so
 * "the waiter saw the state" does not mean "the notifier is done": join the
 * notifier, or learn it has returned from something it does after
 * uvev_notify(). A blocking wait is counted only while it sleeps, which no
 * other thread can observe: join it too (UV_EBUSY for it is a safety net). A
 * loop wait is counted from its start to its callback. */
UVEV_EXTERN int uvev_event_destroy(uvev_event_t* ev);

/* Wakes up to n more waiters, oldest first (newest first on a LIFO event);
 * n == SIZE_MAX wakes all. Call it after making the awaited state true.
 * Includes the full fence that pairs with the waiter's; with nobody waiting
 * it takes no lock and makes no system call. Any thread. NULL is ignored. */
UVEV_EXTERN void uvev_notify(uvev_event_t* ev, size_t n);

/* uvev_notify(ev, 1). A notification goes to a waiter, not to a predicate:
 * the waiter it reaches runs its own predicate, and if that is still false
 * it registers again and the notification is spent, not handed on (that is
 * eventcount semantics; only a wait that ends anyway hands on one it did not
 * use: a cancel, a close, a timeout whose last check is false, a re-check
 * just after registering that came true first). So when waiters on one
 * event wait for different predicates, a notify_one can wake one whose
 * predicate is false while another's is true, and that other sleeps on:
 * use uvev_notify_all there, or one event per predicate. */
UVEV_EXTERN void uvev_notify_one(uvev_event_t* ev);
UVEV_EXTERN void uvev_notify_all(uvev_event_t* ev);


/* ---- Wakers: one per loop -------------------------------------------------- */

struct uvev_waker_s {
  void* data;                     /* public: for the user */
  UVEV_WAKER_PRIVATE_FIELDS
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
  UVEV_WAIT_PRIVATE_FIELDS
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


/* ---- Any-of waits ---------------------------------------------------------
 *
 * One wait over several (event, predicate) pairs, the entries of an array
 * the caller owns: it ends when one of the predicates returns nonzero, and
 * reports that entry's index. Each entry holds the node its wait links into
 * the entry's event, so nothing is allocated. The rules of the single waits
 * hold, and:
 *  - A check runs the predicates in array order and stops at the first that
 *    returns nonzero: that index is the result. The wait checks at its start,
 *    after registering, and on the waiter's thread after each notification
 *    of any of its events. So at most one predicate succeeds per wait, and
 *    after it no predicate of the wait runs again: consuming predicates
 *    (a try receive) are safe. The order is a priority, not fairness: an
 *    entry that holds at every check wins over every entry after it; rotate
 *    the array between waits to share.
 *  - Each event keeps its FIFO (or LIFO) order of waiters; a notification of
 *    one event does not move the wait's place in the others. A notification
 *    that reached the wait through another entry than the one that won (a
 *    loser's) is handed on to that event's next waiter, as a cancelled wait
 *    hands on.
 *  - The array and every entry's event stay valid, and the entries
 *    unchanged, until the callback has run (loop) or the call has returned
 *    (blocking); then the caller may free or reuse them (also from the
 *    callback). An entry belongs to one wait at a time. The same event may
 *    appear in several entries.
 *  - A pending loop wait counts on each entry's event: uvev_event_destroy()
 *    refuses with UV_EBUSY until its callback has run.
 *  - 1 to UVEV_ANY_MAX entries. UV_EINVAL, changing nothing, for NULL, for
 *    n == 0 or n > UVEV_ANY_MAX, and for an entry with a NULL event or
 *    predicate.
 */

/* The most entries an any-of wait or a select may have. */
#define UVEV_ANY_MAX 32

struct uvev_any_s {
  uvev_event_t* event;            /* public: set by the caller */
  uvev_pred_cb pred;              /* public: set by the caller */
  void* arg;                      /* public: passed to pred */
  UVEV_ANY_PRIVATE_FIELDS
};

/* Starts a wait on `waker`'s loop until one of the n entries' predicates,
 * pred(arg), returns nonzero, then calls cb(req, i) with that entry's
 * index i. Loop thread. req is a uvev_wait_t (its `data` is the user's; the
 * predicates get their entry's arg); cancel it with uvev_wait_cancel(),
 * which works as for uvev_wait(). Returns 0, UV_EINVAL (a NULL argument,
 * a bad array as above, or the waker is closing) or UV_EBUSY (req is
 * already active), changing nothing on error. cb later gets an index
 * (>= 0) or UV_ECANCELED (cancelled, or the waker closed, before a
 * predicate held; once one has held, the wait keeps its index). */
UVEV_EXTERN int uvev_wait_any(uvev_waker_t* waker, uvev_wait_t* req,
                              uvev_any_t* any, size_t n, uvev_wait_cb cb);

/* As uvev_wait_any(); if no predicate holds at the deadline (they are all
 * checked one last time then), cb gets UV_ETIMEDOUT. timeout_ms as for
 * uvev_wait_timeout(). */
UVEV_EXTERN int uvev_wait_any_timeout(uvev_waker_t* waker, uvev_wait_t* req,
                                      uvev_any_t* any, size_t n,
                                      uvev_wait_cb cb, uint64_t timeout_ms);

/* Blocks the calling thread until one of the n entries' predicates returns
 * nonzero, and returns that entry's index. Where uvev_wait_sync() may be
 * called. UV_EINVAL for a bad array (as above), or an error from
 * uv_mutex_init()/uv_cond_init(). */
UVEV_EXTERN int uvev_wait_sync_any(uvev_any_t* any, size_t n);

/* As uvev_wait_sync_any(); UV_ETIMEDOUT if none holds after timeout_ms
 * (all checked one last time then). */
UVEV_EXTERN int uvev_wait_sync_any_timeout(uvev_any_t* any, size_t n,
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
  UVEV_CHAN_PRIVATE_FIELDS
};

struct uvev_chan_op_s {
  void* data;                     /* public: for the user */
  UVEV_CHAN_OP_PRIVATE_FIELDS
};

/* Any thread. Returns 0, UV_EINVAL (NULL, or a capacity or element size of
 * 0), or UV_ENOMEM. */
UVEV_EXTERN int uvev_chan_init(uvev_chan_t* ch, size_t capacity,
                               size_t elem_size);

/* Frees the ring. Elements still in the channel are dropped. Returns 0;
 * UV_EINVAL for NULL; UV_EBUSY, changing nothing, while a loop operation
 * (uvev_chan_send/_recv) is started and not yet called back, or a blocking
 * operation sleeps in the channel. If the close whose closed bit the caller
 * saw (through UV_EOF or UV_EPIPE) is still running its notifies, destroy
 * waits for it to return.
 *
 * When destroy may be called: once no call on the channel can still begin,
 * and the caller knows of every call that may still be running on another
 * thread that it is done with the channel:
 *  - a try send and a blocking send are done once their element can be
 *    received: the release store that publishes it is their last touch. So a
 *    receiver holding the last element it will get may destroy at once.
 *    Likewise a try or blocking receive is done once the room it made can be
 *    used by a send. The same holds for any element (or room) of a batch:
 *    a batch makes its first one available last.
 *  - the close that the caller saw (UV_EOF, UV_EPIPE) is waited for, as
 *    above: a sole receiver that got UV_EOF may destroy at once. A second
 *    close racing it is not covered: join other closers.
 *  - a loop operation is done once its callback has run (it may destroy from
 *    the callback); until then destroy refuses with UV_EBUSY.
 *  - a blocking call is counted only while it sleeps, which no other thread
 *    can observe, and try calls and uvev_notify() count nothing: join
 *    threads that may still be inside one. UV_EBUSY for them is a safety net,
 *    not a promise. Counting every call from its entry would not make a
 *    promise of it either: a call that has entered but not yet counted
 *    still races the destroy, so the rule would still be "join"; it would
 *    only cost two more locked RMWs per message.
 * With several receivers, one that got UV_EOF cannot know that the others
 * have returned: join them before destroying. */
UVEV_EXTERN int uvev_chan_destroy(uvev_chan_t* ch);

/* Closes the channel and wakes every waiter. Idempotent; any thread. */
UVEV_EXTERN void uvev_chan_close(uvev_chan_t* ch);

/* Any thread, never sleeps. 0, UV_EAGAIN (full), UV_EPIPE (closed), or
 * UV_EINVAL for NULL. Full means full by the ring's indices: if the oldest
 * element has been claimed by a receive still copying it out, the send waits
 * for that receive (a spin, then yields of the CPU) instead of reporting
 * full. It never waits for an operation that has not begun. */
UVEV_EXTERN int uvev_chan_try_send(uvev_chan_t* ch, const void* elem);

/* Any thread, never sleeps. 0, UV_EAGAIN (empty), UV_EOF (closed and
 * drained), or UV_EINVAL for NULL. Empty means empty by the ring's indices:
 * if a send has claimed the next position but not yet published its element,
 * the receive waits for it (a spin, then yields of the CPU). So a receive
 * that starts after a send has returned finds that send's element, or one
 * sent before it (linearizable). */
UVEV_EXTERN int uvev_chan_try_recv(uvev_chan_t* ch, void* out);

/* Batches: up to n elements with one claim and one notify sized to what
 * moved, FIFO, each element exactly once, with the single calls' close
 * semantics. elems points to n elements, back to back (n * elem_size
 * bytes). A batch moves a prefix of what it asked for: the elements (or the
 * free cells) that were there, in a row, when it claimed, and stops before
 * one still held by an operation in flight. At most INT_MAX per call.
 * Any thread, never sleeps. The count moved (1 to n), or UV_EAGAIN (full,
 * empty), UV_EPIPE (closed), UV_EOF (closed and drained), UV_EINVAL (NULL,
 * or n == 0). */
UVEV_EXTERN int uvev_chan_try_send_many(uvev_chan_t* ch, const void* elems,
                                        size_t n);
UVEV_EXTERN int uvev_chan_try_recv_many(uvev_chan_t* ch, void* out, size_t n);

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

/* Loop side batches: move 1 to n elements (as uvev_chan_try_send_many) once
 * any can move; elems/out must stay valid until cb. cb's status is the count
 * moved (> 0), UV_EPIPE or UV_EOF, or UV_ECANCELED. Returns as uvev_chan_send
 * (UV_EINVAL also for n == 0). A loop that drains a busy channel takes
 * everything there in one callback. */
UVEV_EXTERN int uvev_chan_send_many(uvev_waker_t* waker, uvev_chan_op_t* op,
                                    uvev_chan_t* ch, const void* elems,
                                    size_t n, uvev_chan_cb cb);
UVEV_EXTERN int uvev_chan_recv_many(uvev_waker_t* waker, uvev_chan_op_t* op,
                                    uvev_chan_t* ch, void* out, size_t n,
                                    uvev_chan_cb cb);

/* Cancels a pending operation, as uvev_wait_cancel: its callback gets
 * UV_ECANCELED unless the element was already moved (then 0, or a batch's
 * count). Loop thread.
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

/* Thread side, blocking batches: wait until at least one element can move,
 * then move 1 to n of them (as uvev_chan_try_send_many). The count moved, or
 * the errors of the single calls; UV_EINVAL also for n == 0. */
UVEV_EXTERN int uvev_chan_send_many_sync(uvev_chan_t* ch, const void* elems,
                                         size_t n);
UVEV_EXTERN int uvev_chan_recv_many_sync(uvev_chan_t* ch, void* out, size_t n);
UVEV_EXTERN int uvev_chan_send_many_sync_timeout(uvev_chan_t* ch,
                                                 const void* elems, size_t n,
                                                 uint64_t timeout_ms);
UVEV_EXTERN int uvev_chan_recv_many_sync_timeout(uvev_chan_t* ch, void* out,
                                                 size_t n,
                                                 uint64_t timeout_ms);

/* ---- Select ----------------------------------------------------------------
 *
 * The first of several channel operations that can complete: an any-of wait
 * whose entries are sends and receives. sel is an array of n entries (1 to
 * UVEV_ANY_MAX), each a channel, a direction and a buffer (the element to
 * send, or where to receive one). At every check the entries are tried in
 * array order, each with its try call, and the first that does not find its
 * channel full (a send) or empty (a receive) completes the select: its
 * index is the result and its `status` says what happened to it:
 *   0             the element was moved, exactly once
 *   UV_EPIPE      a send on a closed channel
 *   UV_EOF        a receive on a closed channel with nothing left
 * Every other entry's status is UV_EAGAIN and nothing moved through it. So
 * a closed channel completes the select for its own entry, at every check
 * until the caller takes that entry out of the array: the entries before
 * it are still tried first, those after it are not reached meanwhile. As
 * for any-of waits, order is priority: a channel that always has an
 * element starves the entries after it; rotate the array to share.
 *
 * The array, its channels and buffers stay valid and unchanged until the
 * callback has run (loop) or the call has returned (blocking); then the
 * caller may free or reuse them (also from the callback). A pending loop
 * select counts on its channels: uvev_chan_destroy() refuses with UV_EBUSY
 * until its callback. UV_EINVAL, changing nothing, for NULL sel, n == 0 or
 * n > UVEV_ANY_MAX, or an entry with a NULL channel or buffer or a direction
 * other than UVEV_CHAN_SEND and UVEV_CHAN_RECV.
 */

/* uvev_chan_sel_t.dir. */
enum {
  UVEV_CHAN_SEND = 1,
  UVEV_CHAN_RECV = 2
};

struct uvev_chan_sel_s {
  uvev_chan_t* ch;                /* public: set by the caller */
  int dir;                        /* public: UVEV_CHAN_SEND or _RECV */
  void* buf;                      /* public: the element, or room for one */
  int status;                     /* public, set by the select: see above */
  UVEV_CHAN_SEL_PRIVATE_FIELDS
};

/* Loop side: starts a select; cb(op, status) runs once on the loop, with
 * the index of the entry that completed (its status as above), or
 * UV_ECANCELED (uvev_chan_cancel(), or the waker closed, before any
 * entry could complete; nothing moved). Returns 0, UV_EINVAL (a NULL
 * argument, a bad array, or the waker is closing) or UV_EBUSY (op is
 * active). */
UVEV_EXTERN int uvev_chan_select(uvev_waker_t* waker, uvev_chan_op_t* op,
                                 uvev_chan_sel_t* sel, size_t n,
                                 uvev_chan_cb cb);

/* As uvev_chan_select(); cb gets UV_ETIMEDOUT if no entry could complete by
 * the deadline (all tried one last time then). timeout_ms as for
 * uvev_wait_timeout(). */
UVEV_EXTERN int uvev_chan_select_timeout(uvev_waker_t* waker,
                                         uvev_chan_op_t* op,
                                         uvev_chan_sel_t* sel, size_t n,
                                         uvev_chan_cb cb,
                                         uint64_t timeout_ms);

/* Thread side, blocking: returns the index of the entry that completed
 * (its status as above), UV_EINVAL, or an error from uv_mutex_init() or
 * uv_cond_init(); the _timeout variant also UV_ETIMEDOUT (nothing moved).
 * As for the blocking operations, the release store that completes the
 * element's move is the select's last touch of that channel (uvev_chan_destroy
 * rules). */
UVEV_EXTERN int uvev_chan_select_sync(uvev_chan_sel_t* sel, size_t n);
UVEV_EXTERN int uvev_chan_select_sync_timeout(uvev_chan_sel_t* sel, size_t n,
                                              uint64_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* UVEV_H */
