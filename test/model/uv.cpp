/* uv.cpp: the model libuv's implementation (the interface and what it
 * covers: uv.h). Compiled into each model build's one translation unit by
 * model.h, after Relacy.
 *
 * The model clock. One clock for every thread, in ns, reset by each
 * scenario. It moves three ways:
 *   - every uv_hrtime() call returns it and then moves it on by
 *     UVM_CLOCK_STEP_NS, so that a busy-wait on the clock (src/internal.h's
 *     uvev__spin_until) is one round, as it is when the spin budget runs out;
 *   - a sleep that ends on its timeout (uv_cond_timedwait, the loop's poll
 *     with a timer armed) moves it to the end of that timeout: Relacy
 *     decides when a timed sleep times out, so a deadline can pass at any
 *     point of a schedule;
 *   - a scenario moves it with uvm_clock_advance_ms.
 * The loop's uv_now() is the clock in ms, cached by uv_update_time() as in
 * libuv.
 */
#include "uv.h"

/* Handle flags. */
enum {
  UVM_ACTIVE = 1,
  UVM_REF = 2,
  UVM_CLOSING = 4
};

#define UVM_CLOCK_STEP_NS 10000

/* Plain: the clock is the environment, not memory the model checks, and
 * Relacy runs every thread of a simulation on one OS thread. */
static uint64_t uvm_clock_ns;

void uvm_clock_reset(void) {
  uvm_clock_ns = 0;
}

static void uvm_clock_move_to(uint64_t ns) {
  if (ns > uvm_clock_ns)
    uvm_clock_ns = ns;
}

void uvm_clock_advance_ms(uint64_t ms) {
  uvm_clock_ns += ms * 1000000;
}

uint64_t uv_hrtime(void) {
  uint64_t t;

  t = uvm_clock_ns;
  uvm_clock_ns += UVM_CLOCK_STEP_NS;
  return t;
}


/* ---- Mutexes and condition variables --------------------------------------
 * The Relacy objects are constructed with the struct that holds them (C++);
 * init and destroy mark the object's life in `live` (uv.h), which every use
 * checks. */

static void uvm_check_live(const rl::var<int>& live) {
  RL_ASSERT(live($) == 1);  /* not initialised, or already destroyed */
}

int uv_mutex_init(uv_mutex_t* mutex) {
  mutex->live($) = 1;
  return 0;
}

void uv_mutex_destroy(uv_mutex_t* mutex) {
  uvm_check_live(mutex->live);
  mutex->live($) = 0;
}

void uv_mutex_lock(uv_mutex_t* mutex) {
  mutex->m.lock($);
  uvm_check_live(mutex->live);
}

void uv_mutex_unlock(uv_mutex_t* mutex) {
  uvm_check_live(mutex->live);
  mutex->m.unlock($);
}

int uv_cond_init(uv_cond_t* cond) {
  cond->live($) = 1;
  return 0;
}

void uv_cond_destroy(uv_cond_t* cond) {
  uvm_check_live(cond->live);
  cond->live($) = 0;
}

void uv_cond_signal(uv_cond_t* cond) {
  uvm_check_live(cond->live);
  cond->c.notify_one($);
}

void uv_cond_broadcast(uv_cond_t* cond) {
  uvm_check_live(cond->live);
  cond->c.notify_all($);
}

void uv_cond_wait(uv_cond_t* cond, uv_mutex_t* mutex) {
  uvm_check_live(cond->live);
  cond->c.wait(mutex->m, $);
}

/* Relacy may end the wait on its timeout at any point; the clock then
 * reads at least the end of the timeout. (A spurious wake-up counts as a
 * timeout here: callers re-check the clock and their condition either way.)
 */
int uv_cond_timedwait(uv_cond_t* cond, uv_mutex_t* mutex, uint64_t timeout) {
  uint64_t start;

  uvm_check_live(cond->live);
  start = uvm_clock_ns;
  if (cond->c.wait_for(mutex->m, timeout, $))
    return 0;
  uvm_clock_move_to(start + timeout);
  return UV_ETIMEDOUT;
}


/* ---- Handles --------------------------------------------------------------- */

static void uvm_handle_init(uv_loop_t* loop, uv_handle_t* h,
                            uv_handle_type type) {
  h->loop = loop;
  h->type = type;
  h->flags = UVM_REF;
  h->close_cb = NULL;
  h->next_closing = NULL;
  h->next_handle = loop->handles;
  loop->handles = h;
}

void uv_ref(uv_handle_t* handle) {
  handle->flags |= UVM_REF;
}

void uv_unref(uv_handle_t* handle) {
  handle->flags &= ~UVM_REF;
}

int uv_is_active(const uv_handle_t* handle) {
  return (handle->flags & UVM_ACTIVE) != 0;
}


/* ---- Async handles (libuv 1.44, src/unix/async.c) -------------------------- */

/* The eventfd write: wakes the loop out of its poll. */
static void uvm_fd_write(uv_loop_t* loop) {
  loop->fd_mu.lock($);
  loop->fd_readable($) = 1;
  loop->fd_cv.notify_one($);
  loop->fd_mu.unlock($);
}

int uv_async_init(uv_loop_t* loop, uv_async_t* handle, uv_async_cb async_cb) {
  uvm_handle_init(loop, (uv_handle_t*) handle, UV_ASYNC);
  handle->async_cb = async_cb;
  /* Relaxed: the handle is not shared yet. */
  handle->pending.store(0, rl::mo_relaxed, $);
  handle->flags |= UVM_ACTIVE;
  return 0;
}

/* Any thread. No memory barrier before the first load (1.44). */
int uv_async_send(uv_async_t* handle) {
  int expected;

  /* Relaxed: libuv's "cheap read first" (ACCESS_ONCE). It pairs with
   * nothing; uvev__ready_push's fence must make it see the loop's clear. */
  if (handle->pending.load(rl::mo_relaxed, $) != 0)
    return 0;
  expected = 0;
  /* Seq_cst CAS 0 -> 1 (cmpxchgi, a full barrier): pairs with the loop's
   * CAS 2 -> 0 in uvm_async_spin. */
  if (!handle->pending.compare_exchange_strong(expected, 1, rl::mo_seq_cst,
                                               $))
    return 0;
  uvm_fd_write(handle->loop);
  expected = 1;
  /* Seq_cst CAS 1 -> 2: pairs with the loop's CAS 2 -> 0, which spins while
   * it reads 1. The sender's last touch of the handle. */
  if (!handle->pending.compare_exchange_strong(expected, 2, rl::mo_seq_cst,
                                               $))
    RL_ASSERT(!"uv_async_send: pending changed under a sender (abort)");
  return 0;
}

/* uv__async_spin: returns what pending was (0 or 2) and leaves it 0; waits
 * out a sender that is between its two CASes. */
static int uvm_async_spin(uv_async_t* handle) {
  int expected;

  for (;;) {
    expected = 2;
    /* Seq_cst CAS 2 -> 0 (cmpxchgi): pairs with the sender's CAS 1 -> 2. */
    if (handle->pending.compare_exchange_strong(expected, 0, rl::mo_seq_cst,
                                                $))
      return 2;
    if (expected != 1)
      return expected;
    rl::yield(1, $);  /* a sender is between its CASes: cpu_relax */
  }
}

/* uv__async_io: the eventfd was readable. Every async handle that is
 * pending runs its callback. */
static void uvm_async_io(uv_loop_t* loop) {
  uv_handle_t* h;
  uv_async_t* a;

  for (h = loop->handles; h != NULL; h = h->next_handle) {
    if (h->type != UV_ASYNC || (h->flags & UVM_CLOSING))
      continue;
    a = (uv_async_t*) h;
    if (uvm_async_spin(a) == 0)
      continue;
    if (a->async_cb != NULL)
      a->async_cb(a);
  }
}


/* ---- Idle handles ------------------------------------------------------------ */

int uv_idle_init(uv_loop_t* loop, uv_idle_t* handle) {
  uvm_handle_init(loop, (uv_handle_t*) handle, UV_IDLE);
  handle->idle_cb = NULL;
  return 0;
}

int uv_idle_start(uv_idle_t* handle, uv_idle_cb cb) {
  RL_ASSERT(!(handle->flags & UVM_CLOSING));
  if (handle->flags & UVM_ACTIVE)
    return 0;
  handle->idle_cb = cb;
  handle->flags |= UVM_ACTIVE;
  return 0;
}

int uv_idle_stop(uv_idle_t* handle) {
  handle->flags &= ~UVM_ACTIVE;
  return 0;
}


/* ---- Timers ------------------------------------------------------------------ */

int uv_timer_init(uv_loop_t* loop, uv_timer_t* handle) {
  uvm_handle_init(loop, (uv_handle_t*) handle, UV_TIMER);
  handle->timer_cb = NULL;
  handle->due = 0;
  handle->start_id = 0;
  return 0;
}

int uv_timer_start(uv_timer_t* handle, uv_timer_cb cb, uint64_t timeout,
                   uint64_t repeat) {
  RL_ASSERT(!(handle->flags & UVM_CLOSING));
  RL_ASSERT(repeat == 0);  /* uvev never repeats */
  handle->timer_cb = cb;
  handle->due = timeout > UINT64_MAX - handle->loop->time
                    ? UINT64_MAX
                    : handle->loop->time + timeout;
  handle->start_id = handle->loop->timer_counter++;
  handle->flags |= UVM_ACTIVE;
  return 0;
}

int uv_timer_stop(uv_timer_t* handle) {
  handle->flags &= ~UVM_ACTIVE;
  return 0;
}

/* The active timer that is due first, or NULL. */
static uv_timer_t* uvm_next_timer(uv_loop_t* loop) {
  uv_handle_t* h;
  uv_timer_t* t;
  uv_timer_t* best;

  best = NULL;
  for (h = loop->handles; h != NULL; h = h->next_handle) {
    if (h->type != UV_TIMER || !(h->flags & UVM_ACTIVE))
      continue;
    t = (uv_timer_t*) h;
    if (best == NULL || t->due < best->due ||
        (t->due == best->due && t->start_id < best->start_id))
      best = t;
  }
  return best;
}

static void uvm_run_timers(uv_loop_t* loop) {
  uv_timer_t* t;

  for (;;) {
    t = uvm_next_timer(loop);
    if (t == NULL || t->due > loop->time)
      break;
    uv_timer_stop(t);
    t->timer_cb(t);
  }
}


/* ---- Closing ------------------------------------------------------------------ */

void uv_close(uv_handle_t* handle, uv_close_cb close_cb) {
  RL_ASSERT(!(handle->flags & UVM_CLOSING));
  handle->flags |= UVM_CLOSING;
  handle->close_cb = close_cb;
  /* uv__async_close waits out a sender between its CASes. */
  if (handle->type == UV_ASYNC)
    uvm_async_spin((uv_async_t*) handle);
  handle->flags &= ~UVM_ACTIVE;
  handle->next_closing = handle->loop->closing_handles;
  handle->loop->closing_handles = handle;
}

static void uvm_run_closing_handles(uv_loop_t* loop) {
  uv_handle_t* h;
  uv_handle_t* next;
  uv_handle_t** p;

  h = loop->closing_handles;
  loop->closing_handles = NULL;
  for (; h != NULL; h = next) {
    next = h->next_closing;
    for (p = &loop->handles; *p != h; p = &(*p)->next_handle)
      RL_ASSERT(*p != NULL);
    *p = h->next_handle;
    /* The callback may free the handle. */
    if (h->close_cb != NULL)
      h->close_cb(h);
  }
}


/* ---- The loop ----------------------------------------------------------------- */

int uv_loop_init(uv_loop_t* loop) {
  loop->handles = NULL;
  loop->closing_handles = NULL;
  loop->timer_counter = 0;
  loop->stop_flag = 0;
  loop->fd_readable($) = 0;
  uv_update_time(loop);
  return 0;
}

int uv_loop_close(uv_loop_t* loop) {
  return loop->handles != NULL ? UV_EBUSY : 0;
}

void uv_stop(uv_loop_t* loop) {
  loop->stop_flag = 1;
}

uint64_t uv_now(const uv_loop_t* loop) {
  return loop->time;
}

void uv_update_time(uv_loop_t* loop) {
  loop->time = uv_hrtime() / 1000000;
}

static int uvm_has_active_handles(uv_loop_t* loop) {
  uv_handle_t* h;

  for (h = loop->handles; h != NULL; h = h->next_handle)
    if ((h->flags & (UVM_ACTIVE | UVM_REF)) == (UVM_ACTIVE | UVM_REF))
      return 1;
  return 0;
}

static int uvm_alive(uv_loop_t* loop) {
  return uvm_has_active_handles(loop) || loop->closing_handles != NULL;
}

/* uv_backend_timeout: -1 forever, 0 do not block, else ms. */
static int64_t uvm_backend_timeout(uv_loop_t* loop) {
  uv_handle_t* h;
  uv_timer_t* t;

  if (loop->stop_flag || !uvm_has_active_handles(loop) ||
      loop->closing_handles != NULL)
    return 0;
  for (h = loop->handles; h != NULL; h = h->next_handle)
    if (h->type == UV_IDLE && (h->flags & UVM_ACTIVE))
      return 0;
  t = uvm_next_timer(loop);
  if (t == NULL)
    return -1;
  return t->due > loop->time ? (int64_t) (t->due - loop->time) : 0;
}

/* uv__io_poll on the eventfd alone. A poll that could block forever and is
 * never woken is a lost wake-up: Relacy reports the DEADLOCK. */
static void uvm_poll(uv_loop_t* loop, int64_t timeout) {
  int readable;

  loop->fd_mu.lock($);
  readable = loop->fd_readable($);
  while (!readable && timeout != 0) {
    if (timeout < 0) {
      loop->fd_cv.wait(loop->fd_mu, $);
    } else if (!loop->fd_cv.wait_for(loop->fd_mu, timeout, $)) {
      readable = loop->fd_readable($);
      if (!readable)
        uvm_clock_move_to((loop->time + (uint64_t) timeout) * 1000000);
      break;
    }
    readable = loop->fd_readable($);
  }
  loop->fd_readable($) = 0;
  loop->fd_mu.unlock($);
  if (readable)
    uvm_async_io(loop);
}

static void uvm_run_idle(uv_loop_t* loop) {
  uv_handle_t* h;

  for (h = loop->handles; h != NULL; h = h->next_handle)
    if (h->type == UV_IDLE && (h->flags & UVM_ACTIVE))
      ((uv_idle_t*) h)->idle_cb((uv_idle_t*) h);
}

/* libuv 1.44's uv_run, without the phases uvev has no handle in. */
int uv_run(uv_loop_t* loop, uv_run_mode mode) {
  int r;

  r = uvm_alive(loop);
  if (!r)
    uv_update_time(loop);
  while (r != 0 && loop->stop_flag == 0) {
    uv_update_time(loop);
    uvm_run_timers(loop);
    uvm_run_idle(loop);
    uvm_poll(loop, mode == UV_RUN_NOWAIT ? 0 : uvm_backend_timeout(loop));
    uvm_run_closing_handles(loop);
    if (mode == UV_RUN_ONCE) {
      uv_update_time(loop);
      uvm_run_timers(loop);
    }
    r = uvm_alive(loop);
    if (mode == UV_RUN_ONCE || mode == UV_RUN_NOWAIT)
      break;
  }
  loop->stop_flag = 0;
  return r;
}
