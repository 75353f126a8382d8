/* uv.h: the model libuv. The model build (test/model) finds this file
 * instead of the system's <uv.h>, so src/ compiles unchanged against it as
 * C++ under Relacy. It owns the types and calls uvev uses, and nothing more:
 *
 *   - uv_loop_t with uv_run (DEFAULT, ONCE, NOWAIT), driven by a loop thread
 *     of the scenario: timers, idle handles, the poll, the async handles,
 *     the closing handles, in libuv 1.44's order;
 *   - uv_async_t with libuv 1.44's protocol on `pending` (a relaxed
 *     pre-check, a CAS 0 -> 1, the eventfd write, a CAS 1 -> 2; the loop
 *     CASes 2 -> 0, and spins while a sender is between its CASes, before
 *     it runs the callback; uv_close waits out such a sender too);
 *   - uv_idle_t, uv_timer_t (on the model clock), uv_ref / uv_unref,
 *     uv_close with its callback;
 *   - uv_mutex_t / uv_cond_t on Relacy's mutex and condition variable,
 *     with POSIX's rule that nobody may still use one that is destroyed;
 *   - uv_hrtime, the model clock (uv.cpp says how it moves).
 *
 * The implementation is uv.cpp. Included after <relacy/relacy.hpp> (the
 * model's prelude, model.h, sees to that): the handles hold Relacy's
 * checked types, so that a touch of a freed handle is reported.
 */
#ifndef UVEV_MODEL_UV_H_
#define UVEV_MODEL_UV_H_

#include <stddef.h>
#include <stdint.h>

#ifndef RL_RELACY_HPP
# error "test/model/uv.h: include <relacy/relacy.hpp> first (model.h)"
#endif

/* libuv's error numbers (negated errno values), from libuv's own header. */
#include <uv/errno.h>

enum {
  UV_EAGAIN = UV__EAGAIN,
  UV_EBUSY = UV__EBUSY,
  UV_ECANCELED = UV__ECANCELED,
  UV_EINVAL = UV__EINVAL,
  UV_ENOMEM = UV__ENOMEM,
  UV_EOF = UV__EOF,
  UV_EPIPE = UV__EPIPE,
  UV_ETIMEDOUT = UV__ETIMEDOUT
};

typedef struct uv_loop_s uv_loop_t;
typedef struct uv_handle_s uv_handle_t;
typedef struct uv_async_s uv_async_t;
typedef struct uv_idle_s uv_idle_t;
typedef struct uv_timer_s uv_timer_t;

typedef void (*uv_close_cb)(uv_handle_t* handle);
typedef void (*uv_async_cb)(uv_async_t* handle);
typedef void (*uv_idle_cb)(uv_idle_t* handle);
typedef void (*uv_timer_cb)(uv_timer_t* handle);

typedef enum {
  UV_ASYNC = 1,
  UV_IDLE = 2,
  UV_TIMER = 3
} uv_handle_type;

typedef enum {
  UV_RUN_DEFAULT = 0,
  UV_RUN_ONCE = 1,
  UV_RUN_NOWAIT = 2
} uv_run_mode;

/* The fields every handle starts with (a handle is cast to uv_handle_t, as
 * in libuv). Loop thread only. */
#define UVM_HANDLE_FIELDS                                                     \
  void* data;                                                                 \
  uv_loop_t* loop;                                                            \
  uv_handle_type type;                                                        \
  unsigned int flags;        /* UVM_ACTIVE, UVM_REF, UVM_CLOSING */           \
  uv_close_cb close_cb;                                                       \
  uv_handle_t* next_handle;  /* the loop's handles, newest first */           \
  uv_handle_t* next_closing; /* the loop's closing handles */

struct uv_handle_s {
  UVM_HANDLE_FIELDS
};

struct uv_async_s {
  UVM_HANDLE_FIELDS
  uv_async_cb async_cb;
  /* 0 idle, 1 a sender is writing the eventfd, 2 sent, not yet seen. Any
   * thread. */
  rl::atomic<int> pending;
};

struct uv_idle_s {
  UVM_HANDLE_FIELDS
  uv_idle_cb idle_cb;
};

struct uv_timer_s {
  UVM_HANDLE_FIELDS
  uv_timer_cb timer_cb;
  uint64_t due;       /* in loop time (ms) */
  uint64_t start_id;  /* equal due times run in start order */
};

struct uv_loop_s {
  void* data;
  /* Loop thread only. */
  uv_handle_t* handles;
  uv_handle_t* closing_handles;
  uint64_t time;            /* ms, the cached uv_now() */
  uint64_t timer_counter;
  int stop_flag;
  /* The loop's eventfd, with the kernel's ordering (a lock). Any thread. */
  rl::mutex fd_mu;
  rl::condition_variable fd_cv;
  rl::var<int> fd_readable;  /* under fd_mu */
};

/* A mutex or condition variable is alive from its init to its destroy, and
 * POSIX leaves a destroy undefined while another thread may still be using
 * the object: the model checks that with `live`, a checked plain variable
 * that init and destroy write and every use reads. A use by another thread
 * that does not happen before the destroy is then a data race, and a use
 * after it reads 0. A lock reads it inside the critical section and an
 * unlock before it lets go, so that (as POSIX allows) a thread that took the
 * mutex after every other user unlocked it may destroy it. */
typedef struct {
  rl::mutex m;
  rl::var<int> live;
} uv_mutex_t;

typedef struct {
  rl::condition_variable c;
  rl::var<int> live;
} uv_cond_t;

int uv_loop_init(uv_loop_t* loop);
int uv_loop_close(uv_loop_t* loop);
int uv_run(uv_loop_t* loop, uv_run_mode mode);
void uv_stop(uv_loop_t* loop);
uint64_t uv_now(const uv_loop_t* loop);
void uv_update_time(uv_loop_t* loop);
uint64_t uv_hrtime(void);

void uv_ref(uv_handle_t* handle);
void uv_unref(uv_handle_t* handle);
int uv_is_active(const uv_handle_t* handle);
void uv_close(uv_handle_t* handle, uv_close_cb close_cb);

int uv_async_init(uv_loop_t* loop, uv_async_t* handle, uv_async_cb async_cb);
int uv_async_send(uv_async_t* handle);

int uv_idle_init(uv_loop_t* loop, uv_idle_t* handle);
int uv_idle_start(uv_idle_t* handle, uv_idle_cb cb);
int uv_idle_stop(uv_idle_t* handle);

int uv_timer_init(uv_loop_t* loop, uv_timer_t* handle);
int uv_timer_start(uv_timer_t* handle, uv_timer_cb cb, uint64_t timeout,
                   uint64_t repeat);
int uv_timer_stop(uv_timer_t* handle);

int uv_mutex_init(uv_mutex_t* mutex);
void uv_mutex_destroy(uv_mutex_t* mutex);
void uv_mutex_lock(uv_mutex_t* mutex);
void uv_mutex_unlock(uv_mutex_t* mutex);

int uv_cond_init(uv_cond_t* cond);
void uv_cond_destroy(uv_cond_t* cond);
void uv_cond_signal(uv_cond_t* cond);
void uv_cond_broadcast(uv_cond_t* cond);
void uv_cond_wait(uv_cond_t* cond, uv_mutex_t* mutex);
int uv_cond_timedwait(uv_cond_t* cond, uv_mutex_t* mutex, uint64_t timeout);

/* The model clock (uv.cpp), for scenarios. */
void uvm_clock_reset(void);
void uvm_clock_advance_ms(uint64_t ms);

#endif /* UVEV_MODEL_UV_H_ */
