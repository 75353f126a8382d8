/* uvev/private.h: the private layout behind include/uvev.h: the field
 * types, the internal structs, and the private fields of each public struct
 * (UVEV_*_PRIVATE_FIELDS, as libuv's uv/unix.h has UV_*_PRIVATE_FIELDS).
 * Only libuvev touches these fields, and only through src/atomic.h; they are
 * here because users embed the structs. Included by uvev.h; not to be
 * included on its own.
 */
#ifndef UVEV_PRIVATE_H
#define UVEV_PRIVATE_H

/* The cache line that padding keeps apart: fields written by different
 * threads sit on lines of their own (64 bytes on x86-64 and on the common
 * ARM cores; a larger line only costs some false sharing, never
 * correctness). */
#define UVEV__CACHE_LINE 64

/* Field types. libuvev touches these fields only through src/atomic.h; its
 * model-checking build (test/model) predefines the three macros to Relacy's
 * checked types. */
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
  /* The nodes linked. Written under the lock, read without it as a hint
   * (uvev_event_waiters). */
  UVEV__ATOMIC(unsigned long) count;
  /* Set before the event is shared: wake the newest waiter first. */
  UVEV__SHARED(int) lifo;
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
  char pad0[UVEV__CACHE_LINE];
  UVEV__ATOMIC(uint64_t) head;    /* next position to receive << 1 | closed */
  char pad1[UVEV__CACHE_LINE];
  UVEV__ATOMIC(uint64_t) tail;    /* next position to send << 1 | closed */
  char pad2[UVEV__CACHE_LINE];
};

/* A claimed ring position and its cell, from a claim to its completion
 * (src/ring.h). Here because a blocking select keeps one per entry
 * (uvev_chan_sel_t). */
struct uvev__cell;
struct uvev__slot {
  struct uvev__cell* cell;
  uint64_t pos;
};

/* A node of a waker's deadline heap (a pairing heap, src/heap.h). */
struct uvev__heap_node {
  struct uvev__heap_node* child;
  struct uvev__heap_node* sibling;
  struct uvev__heap_node* prev;  /* parent if first child, else left sibling */
  uint64_t key;                  /* deadline, in uv_now() milliseconds */
  uint64_t seq;                  /* start order: equal deadlines stay FIFO */
};

/* uvev_event_t. nwaits counts the waits started and not yet called back
 * (loop waits) or returned (blocking waits that had to sleep);
 * uvev_event_destroy() refuses while it is nonzero. */
#define UVEV_EVENT_PRIVATE_FIELDS                                             \
  struct uvev__waitset ws;                                                    \
  UVEV__ATOMIC(unsigned long) nwaits;

/* uvev_waker_t. `ready` is pushed by any thread; the rest belongs to the
 * loop thread: async (notifiers send it, its callback drains `ready`), idle
 * (runs while local_head has completions decided on the loop), timer (armed
 * for the earliest of `deadlines`, a heap ordered by deadline then seq),
 * the active list (every started request, in start order; the async handle
 * is ref'd while nactive > 0), nclosing (handles still closing). */
#define UVEV_WAKER_PRIVATE_FIELDS                                             \
  uv_loop_t* loop;                                                            \
  uv_async_t async;                                                           \
  uv_idle_t idle;                                                             \
  uv_timer_t timer;                                                           \
  struct uvev__ready ready;                                                   \
  uvev_wait_t* local_head;                                                    \
  uvev_wait_t* local_tail;                                                    \
  uvev_wait_t* active_head;                                                   \
  uvev_wait_t* active_tail;                                                   \
  struct uvev__heap_node* deadlines;                                          \
  uint64_t seq;                                                               \
  unsigned int nactive;                                                       \
  unsigned int nclosing;                                                      \
  unsigned int flags;                                                         \
  uvev_waker_close_cb close_cb;

/* uvev_wait_t: loop thread only, except `node` (in event->ws while
 * registered) and `rnode` (in waker->ready once notified), which notifiers
 * on any thread touch. `next` links the waker's local queue; `flags` is the
 * state (src/internal.h, docs/design.md); `status` the decided status.
 * An any-of wait (src/any.c) uses its entries' nodes instead of `node`, and
 * not `event` or `pred`: `any` is its first entry, the others follow every
 * `any_stride` bytes, `nany` of them; `woken` has bit i set by the notifier
 * that unlinked entry i's node, and is nonzero exactly while the request is
 * pushed onto the ready list and not yet drained. */
#define UVEV_WAIT_PRIVATE_FIELDS                                              \
  uvev_waker_t* waker;                                                        \
  uvev_event_t* event;                                                        \
  uvev_pred_cb pred;                                                          \
  uvev_wait_cb cb;                                                            \
  struct uvev__node node;                                                     \
  struct uvev__rnode rnode;                                                   \
  uvev_wait_t* active_prev;                                                   \
  uvev_wait_t* active_next;                                                   \
  uvev_wait_t* next;                                                          \
  struct uvev__heap_node deadline;                                            \
  uvev_any_t* any;                                                            \
  size_t any_stride;                                                          \
  unsigned int nany;                                                          \
  UVEV__ATOMIC(unsigned int) woken;                                           \
  unsigned int flags;                                                         \
  int status;

/* uvev_any_t, an entry of an any-of wait: the node its wait inserts in the
 * entry's event, and who owns it: `req` for a loop wait (src/any.c),
 * `parker` for a blocking one (src/sync.c). `index` is the entry's place in
 * its array (its bit in `woken`); `registered` (the waiter's own, never
 * shared) is 1 from the insert of the node until the waiter takes it back. */
struct uvev__parker;
#define UVEV_ANY_PRIVATE_FIELDS                                               \
  struct uvev__node node;                                                     \
  uvev_wait_t* req;                                                           \
  struct uvev__parker* parker;                                                \
  unsigned int index;                                                         \
  int registered;

/* uvev_chan_t. Receivers wait on not_empty, senders on not_full; the pads
 * keep the two events' lines apart from `data` and from each other, and
 * the ring pads its own. `closing` counts uvev_chan_close() calls still
 * running: uvev_chan_destroy() waits for them. */
#define UVEV_CHAN_PRIVATE_FIELDS                                              \
  char pad0[UVEV__CACHE_LINE];                                                \
  uvev_event_t not_empty;                                                     \
  char pad1[UVEV__CACHE_LINE];                                                \
  uvev_event_t not_full;                                                      \
  struct uvev__ring ring;                                                     \
  UVEV__ATOMIC(unsigned long) closing;

/* uvev_chan_op_t: a wait on not_full (send) or not_empty (receive) whose
 * predicate is the try call for up to `max` elements (1 for the single
 * operations; `many` for the batches, whose status is the count); `result`
 * is what the last try returned, a count or an error. */
#define UVEV_CHAN_OP_PRIVATE_FIELDS                                           \
  uvev_wait_t wait;                                                           \
  uvev_chan_t* chan;                                                          \
  const void* elem;                                                           \
  void* out;                                                                  \
  size_t max;                                                                 \
  uvev_chan_cb cb;                                                            \
  int many;                                                                   \
  int result;

/* uvev_chan_sel_t: the any-of entry its select waits with (its event is the
 * channel's not_full or not_empty), and, for a blocking select, the position
 * its predicate claimed, completed after the wait has returned. */
#define UVEV_CHAN_SEL_PRIVATE_FIELDS                                          \
  uvev_any_t any;                                                             \
  struct uvev__slot slot;

#endif /* UVEV_PRIVATE_H */
