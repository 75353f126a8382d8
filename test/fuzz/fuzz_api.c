/* fuzz_api.c: the libFuzzer target of uvev's public API as a state machine.
 *
 * This file owns the harness and its model. Each input becomes a sequence of
 * calls on two loops that this one thread runs in turn with
 * uv_run(UV_RUN_NOWAIT), each loop with its wakers: loop waits with and
 * without timeouts, cancels, notifies, waker close and re-init, event and
 * channel destroy and re-init, channel try calls and loop operations,
 * callbacks that act (restart, close, cancel, notify), documented misuse, and
 * timer advances. The model is checked after every step; a violation prints
 * the recent steps and aborts.
 *
 * Why the model can be exact: on one thread the state a predicate reads only
 * changes between calls, and a predicate runs only inside the start of its
 * own request or inside uv_run() of its loop. So a channel operation moves
 * its element inside its start exactly when the channel allows it then, and
 * otherwise inside a drain, right before its callback: both are points the
 * harness sees. Likewise each event's waiters (who is linked, in which order,
 * who a notify or a hand-off wakes), once the harness knows whether a check
 * runs before the poll phase (an expiry) or in it (a drain).
 *
 * UVEV_FUZZ_TRACE=1 prints every step as it runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "uvev.h"

#define NLOOPS 2
#define NWAKERS 4       /* slots 0 and 1 belong to loop 0, 2 and 3 to loop 1 */
#define NEVENTS 3
#define NWAITS 6
#define NCOPS 4         /* channel operations */
#define NCHANS 2
#define MAX_CAP 5
#define BUF_SIZE 32     /* element buffers; the largest element is 20 bytes */
#define MAX_ADVANCES 3  /* per input: each one spins for 3 ms */
#define MAX_ROUNDS 1000
#define NONE 1          /* no status decided yet (statuses are <= 0) */
#define SENTINEL 0xA5   /* fills receive buffers that nothing may write yet */

/* The input: a step is an opcode byte and its argument bytes (a byte past the
 * end reads as 0). test/fuzz/gen_corpus.py writes this layout.
 *
 *   OP_WAIT        req, slot | event << 2, pred | timeout << 4, action
 *   OP_CANCEL      req
 *   OP_NOTIFY      event | n << 2             n: 0, 1, 2, SIZE_MAX
 *   OP_TOKENS      event | (k - 1) << 2       adds k tokens, notifies nobody
 *   OP_RUN         loop | settle << 1         one uv_run, or both until idle
 *   OP_ADVANCE     -                          uv_now moves 3 ms, then settle
 *   OP_WAKER_CLOSE slot
 *   OP_WAKER_INIT  slot
 *   OP_EVENT_CYCLE event                      destroy if live, else init
 *   OP_CHAN_CYCLE  chan | drain << 1 | cap << 2 | size << 4
 *   OP_TRY_SEND    chan
 *   OP_TRY_RECV    chan
 *   OP_CHAN_OP     op, slot | chan << 2 | send << 3, action
 *   OP_CHAN_CANCEL op
 *   OP_CHAN_CLOSE  chan
 *   OP_MISUSE      kind, which
 *
 * pred: bit 0 takes a token (else only looks), bit 1 is false on every odd
 * call (the state changing between checks), bits 2-3 notify event n - 1
 * once it holds. timeout: 0, 1, 2 ms, UINT64_MAX, none (uvev_wait). action,
 * what the callback does: & 7 is 4 restart once, 5 close its waker, 6 cancel
 * request (action >> 3) (waits, then channel operations), 7 notify event
 * (action >> 3) all; anything else nothing.
 */
enum {
  OP_WAIT,
  OP_CANCEL,
  OP_NOTIFY,
  OP_TOKENS,
  OP_RUN,
  OP_ADVANCE,
  OP_WAKER_CLOSE,
  OP_WAKER_INIT,
  OP_EVENT_CYCLE,
  OP_CHAN_CYCLE,
  OP_TRY_SEND,
  OP_TRY_RECV,
  OP_CHAN_OP,
  OP_CHAN_CANCEL,
  OP_CHAN_CLOSE,
  OP_MISUSE,
  OP_COUNT
};

enum { PRED_TAKE = 1, PRED_FLAKY = 2 };
enum { ACT_RESTART = 4, ACT_CLOSE = 5, ACT_CANCEL = 6, ACT_NOTIFY = 7 };
enum { W_NONE, W_OPEN, W_CLOSING };
enum { WS_OUT, WS_LINKED, WS_POPPED };          /* fwait.ws */
enum { PH_NONE, PH_BEFORE_POLL, PH_POLL };      /* the phase of uv_run */
enum {
  MIS_WAIT,        /* a loop wait with one NULL argument */
  MIS_CANCEL,      /* cancel NULL */
  MIS_EVENT,       /* event calls on NULL */
  MIS_WAKER,       /* waker calls on NULL */
  MIS_CHAN_INIT,   /* bad capacities and sizes, NULL */
  MIS_TRY,         /* try calls with NULL */
  MIS_CHAN_OP,     /* a channel operation with one NULL argument */
  MIS_COUNT
};

#define TMO_PLAIN 4     /* the timeout index that calls uvev_wait */
static const uint64_t timeouts[] = {0, 1, 2, UINT64_MAX, UINT64_MAX};
static const size_t notify_ns[] = {0, 1, 2, SIZE_MAX};
static const size_t capacities[] = {1, 2, 3, MAX_CAP};
static const size_t elem_sizes[] = {1, 8, 20};

struct fwaker {
  uvev_waker_t w;
  int state;           /* W_NONE, W_OPEN, W_CLOSING */
  unsigned pending;    /* requests started on it and not called back */
};

struct fevent {
  uvev_event_t ev;
  int live;
  unsigned long tokens;
  unsigned pending;    /* waits started on it and not called back */
};

struct fchan {
  uvev_chan_t ch;
  int live;
  int closed;
  size_t cap;
  size_t esz;
  uint32_t q[MAX_CAP]; /* the model: ids of the elements inside, FIFO */
  unsigned head;
  unsigned len;
  unsigned pending;    /* operations started on it and not called back */
};

/* A loop wait and what the model knows of its current activation. */
struct fwait {
  uvev_wait_t req;
  int active;
  int slot;
  int ev;
  int tmo;
  unsigned pred;
  int action;
  int arg;
  uint64_t deadline;   /* uv_now at start + timeout; UINT64_MAX: never */
  int expect;          /* the status decided, as far as the model knows */
  unsigned calls;      /* predicate calls in this activation */
  int ws;              /* WS_OUT, WS_LINKED, WS_POPPED */
  unsigned long link_seq;  /* when it was linked */
  unsigned long pop_seq;   /* when it was pushed onto the ready list */
  unsigned long act_seq;   /* when it was started: the waker's list order */
};

struct fop {
  uvev_chan_op_t op;
  int active;
  int slot;
  int ch;
  int send;
  int action;
  int arg;
  int expect;
  int moved;           /* the element moved inside the start */
  uint32_t id;         /* the element sent, or the one received */
  unsigned char elem[BUF_SIZE];
  unsigned char out[BUF_SIZE];
};

static struct {
  uv_loop_t loops[NLOOPS];
  uv_prepare_t prepares[NLOOPS];  /* mark the start of the poll phase */
  struct fwaker wakers[NWAKERS];
  struct fevent events[NEVENTS];
  struct fwait waits[NWAITS];
  struct fop ops[NCOPS];
  struct fchan chans[NCHANS];
  /* Where we are: a callback may run only inside uv_run (running is its
   * loop, inside is NULL); a predicate also inside the start of its own
   * request (starting). */
  int running;
  const char* inside;
  const void* starting;
  /* Which phase of its one round uv_run(UV_RUN_NOWAIT) is in: before the
   * poll, timers expire (and the idle handle delivers); in the poll, the
   * async handle drains. A predicate run by the library outside a start is
   * an expiry's last check before, a notified wait's re-check in the poll. */
  int phase;
  struct fwait* recheck;   /* a drain linked it again: its re-check is next */
  unsigned long seq;
  unsigned long activity;  /* predicates and callbacks run so far */
  unsigned advances;
  uint64_t advanced_to[NLOOPS];
  uint32_t next_id;
  unsigned long tokens_added;
  unsigned long tokens_taken;      /* by predicates that returned true */
  unsigned long tokens_delivered;  /* ... of waits that completed with 0 */
  unsigned step;
  const uint8_t* in;
  size_t in_left;
} F;

static int trace;

/* ---- reporting ------------------------------------------------------------- */

#define LOG_LINES 48
static char log_lines[LOG_LINES][128];
static unsigned log_count;

static void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char* fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void note(const char* fmt, ...) {
  va_list ap;
  char* line;

  line = log_lines[log_count++ % LOG_LINES];
  va_start(ap, fmt);
  vsnprintf(line, sizeof(log_lines[0]), fmt, ap);
  va_end(ap);
  if (trace)
    fprintf(stderr, "  %s\n", line);
}

static void fail(const char* fmt, ...) {
  va_list ap;
  unsigned i;

  if (!trace) {
    fprintf(stderr, "uvev-fuzz-api: the last steps:\n");
    i = log_count > LOG_LINES ? log_count - LOG_LINES : 0;
    for (; i < log_count; i++)
      fprintf(stderr, "  %s\n", log_lines[i % LOG_LINES]);
  }
  fprintf(stderr, "uvev-fuzz-api: VIOLATION at step %u: ", F.step);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  abort();
}

static const char* st(int status) {
  static char names[4][32];
  static unsigned n;
  char* s;

  if (status == 0)
    return "0";
  if (status == NONE)
    return "undecided";
  s = names[n++ % 4];
  uv_err_name_r(status, s, sizeof(names[0]));
  return s;
}

static void expect_rc(const char* what, int got, int want) {
  if (got != want)
    fail("%s returned %s, want %s", what, st(got), st(want));
}

/* Bad input changes nothing: a copy of an object from before a call. */
typedef struct {
  const void* p;
  size_t n;
  unsigned char b[sizeof(union {
    uvev_chan_t c;
    uvev_waker_t w;
    uvev_chan_op_t o;
    uvev_event_t e;
    uvev_wait_t r;
  })];
} snap_t;

static void snap(snap_t* s, const void* p, size_t n) {
  s->p = p;
  s->n = p != NULL ? n : 0;
  if (p != NULL)
    memcpy(s->b, p, n);
}

static void unchanged(const snap_t* s, const char* what, const char* call) {
  if (s->n != 0 && memcmp(s->b, s->p, s->n) != 0)
    fail("%s changed %s though it was rejected", call, what);
}

/* ---- context --------------------------------------------------------------- */

struct ctx {
  const char* inside;
  const void* starting;
};

static struct ctx enter(const char* call, const void* starting) {
  struct ctx c;

  c.inside = F.inside;
  c.starting = F.starting;
  F.inside = call;
  F.starting = starting;
  return c;
}

static void leave(struct ctx c) {
  F.inside = c.inside;
  F.starting = c.starting;
}

static int loop_of(int slot) {
  return slot / 2;
}

/* A callback of a request on `slot` may run now. */
static void check_cb_context(const char* who, int active, int slot) {
  if (!active)
    fail("%s: callback of a request that is not active", who);
  if (F.inside != NULL)
    fail("%s: callback ran inside %s", who, F.inside);
  if (F.running != loop_of(slot))
    fail("%s: callback ran outside uv_run of its loop %d (running: %d)",
         who, loop_of(slot), F.running);
}

/* ---- input ----------------------------------------------------------------- */

static unsigned next_byte(void) {
  if (F.in_left == 0)
    return 0;
  F.in_left--;
  return *F.in++;
}

/* ---- the channel model ----------------------------------------------------- */

static void make_elem(unsigned char* buf, uint32_t id, size_t esz) {
  size_t i;
  unsigned char b;

  memset(buf, SENTINEL, BUF_SIZE);
  for (i = 0; i < esz; i++) {
    b = (unsigned char) ((id >> (8 * (i % 4))) + i * 37);
    buf[i] = b == SENTINEL ? 0x5A : b;
  }
}

/* A receive buffer holds element `id` and nothing past it, or (filled 0)
 * nothing at all. */
static void check_out(const char* who, const unsigned char* out, int filled,
                      uint32_t id, size_t esz) {
  unsigned char want[BUF_SIZE];

  if (filled)
    make_elem(want, id, esz);
  else
    memset(want, SENTINEL, BUF_SIZE);
  if (memcmp(out, want, BUF_SIZE) != 0)
    fail("%s: receive buffer holds %02x %02x.., want %s %u", who, out[0],
         out[1], filled ? "element" : "nothing, not even", id);
}

static void q_push(struct fchan* fc, uint32_t id) {
  if (fc->len == fc->cap)
    fail("model: push onto a full channel");
  fc->q[(fc->head + fc->len++) % MAX_CAP] = id;
}

static uint32_t q_pop(struct fchan* fc) {
  uint32_t id;

  if (fc->len == 0)
    fail("model: pop from an empty channel");
  id = fc->q[fc->head];
  fc->head = (fc->head + 1) % MAX_CAP;
  fc->len--;
  return id;
}

/* ---- forward --------------------------------------------------------------- */

static void wait_start(struct fwait* w, int slot, int e, unsigned pred,
                       int tmo, int action, int arg);
static void op_start(struct fop* o, int slot, int c, int send, int action,
                     int arg);
static void waker_close(int slot);
static void cancel_req(struct fwait* w, struct fop* o);
static void notify(int e, size_t n);

/* What a callback does once the model has recorded it. */
static void act(int action, int arg, struct fwait* w, struct fop* o) {
  switch (action) {
    case ACT_RESTART:
      if (w != NULL)
        wait_start(w, w->slot, w->ev, w->pred, w->tmo, 0, 0);
      else
        op_start(o, o->slot, o->ch, o->send, 0, 0);
      break;
    case ACT_CLOSE:
      waker_close(w != NULL ? w->slot : o->slot);
      break;
    case ACT_CANCEL:
      arg %= NWAITS + NCOPS;
      if (arg < NWAITS)
        cancel_req(&F.waits[arg], NULL);
      else
        cancel_req(NULL, &F.ops[arg - NWAITS]);
      break;
    case ACT_NOTIFY:
      notify(arg % NEVENTS, SIZE_MAX);
      break;
  }
}

/* ---- loop waits ------------------------------------------------------------ */

/* The event's waiters, as the model knows them: a wait is linked (in the
 * event's FIFO, oldest first by link_seq), popped (unlinked by a notifier and
 * on its waker's ready list, drained in push order by pop_seq), or out. */

/* The oldest linked wait on event e, or NULL. */
static struct fwait* oldest_linked(int e) {
  struct fwait* best;
  int i;

  best = NULL;
  for (i = 0; i < NWAITS; i++)
    if (F.waits[i].ws == WS_LINKED && F.waits[i].ev == e &&
        (best == NULL || F.waits[i].link_seq < best->link_seq))
      best = &F.waits[i];
  return best;
}

static void link_wait(struct fwait* w) {
  w->ws = WS_LINKED;
  w->link_seq = ++F.seq;
}

/* What a notify of n does to the waiters: the n oldest are popped. The
 * library's own hand-offs are pops of 1. */
static void pop_linked(int e, size_t n) {
  struct fwait* w;

  for (; n > 0 && (w = oldest_linked(e)) != NULL; n--) {
    w->ws = WS_POPPED;
    w->pop_seq = ++F.seq;
  }
}

/* The drain takes w off its waker's ready list: it must be the oldest push. */
static void unpop(struct fwait* w, int i) {
  int k;

  if (F.phase != PH_POLL)
    fail("w%d: notified (as the model has it), but it left the ready list "
         "outside the drain: did a notify wake another waiter?", i);
  for (k = 0; k < NWAITS; k++)
    if (F.waits[k].ws == WS_POPPED && F.waits[k].slot == w->slot &&
        F.waits[k].pop_seq < w->pop_seq)
      fail("w%d: drained before w%d, which was notified first", i, k);
  w->ws = WS_OUT;
}

/* A decided wait leaves the event: unlinked, or, if a notifier had popped
 * it, its notification handed on to the next waiter. */
static void leave_event(struct fwait* w) {
  if (w->ws == WS_LINKED)
    w->ws = WS_OUT;
  else if (w->ws == WS_POPPED)
    pop_linked(w->ev, 1);
}

enum { PK_START_FIRST, PK_START_RECHECK, PK_DRAIN, PK_DRAIN_RECHECK,
       PK_EXPIRE };

/* Which check of the protocol this predicate call is: in the start, a first
 * check, then (after linking) the re-check; in the drain of a notified wait
 * the same pair; before the poll phase, the last check of an expiry. */
static int pred_kind(struct fwait* w, int i) {
  uint64_t now;

  if (F.starting == &w->req) {
    if (w->calls > 2)
      fail("w%d: predicate ran %u times inside its start", i, w->calls);
    return w->calls == 1 ? PK_START_FIRST : PK_START_RECHECK;
  }
  if (F.inside != NULL || F.running != loop_of(w->slot))
    fail("w%d: predicate ran inside %s (loop %d running)", i,
         F.inside != NULL ? F.inside : "no call", F.running);
  if (F.recheck != NULL) {
    if (F.recheck != w)
      fail("w%d: predicate ran where w%d's re-check was due", i,
           (int) (F.recheck - F.waits));
    F.recheck = NULL;
    return PK_DRAIN_RECHECK;
  }
  if (F.phase == PH_POLL) {
    if (w->ws != WS_POPPED)
      fail("w%d: re-checked by the drain, but no notify reached it", i);
    return PK_DRAIN;
  }
  now = uv_now(&F.loops[loop_of(w->slot)]);
  if (now < w->deadline)
    fail("w%d: checked by the timer at %llu, before its deadline %llu", i,
         (unsigned long long) now, (unsigned long long) w->deadline);
  return PK_EXPIRE;
}

static int fz_pred(void* arg) {
  struct fwait* w;
  struct fevent* fe;
  int was_popped;
  int holds;
  int kind;
  int i;

  w = (struct fwait*) arg;
  for (i = 0; i < NWAITS && w != &F.waits[i]; i++)
    continue;
  if (i == NWAITS)
    fail("a predicate got %p, not a request's data", arg);
  if (!w->active)
    fail("w%d: predicate ran for a request that is not active", i);
  if (w->expect != NONE)
    fail("w%d: predicate ran after the wait was decided (%s)", i,
         st(w->expect));
  F.activity++;
  w->calls++;
  kind = pred_kind(w, i);
  was_popped = w->ws == WS_POPPED;
  if (kind == PK_START_RECHECK)
    link_wait(w);
  else if (kind == PK_DRAIN)
    unpop(w, i);
  else if (kind == PK_EXPIRE && w->ws == WS_LINKED)
    w->ws = WS_OUT;

  fe = &F.events[w->ev];
  holds = !((w->pred & PRED_FLAKY) && (w->calls & 1)) && fe->tokens > 0;
  if (holds) {
    if (w->pred & PRED_TAKE) {
      fe->tokens--;
      F.tokens_taken++;
    }
    w->expect = 0;
    if ((w->pred >> 2) & 3)
      notify((int) (((w->pred >> 2) & 3) - 1) % NEVENTS, 1);
  }

  /* What the library does with the answer, before anything else can run. */
  if (holds && (kind == PK_START_RECHECK || kind == PK_DRAIN_RECHECK))
    leave_event(w);  /* popped by its own notify, it hands that on */
  if (!holds && kind == PK_DRAIN) {
    link_wait(w);
    F.recheck = w;
  }
  if (kind == PK_EXPIRE) {
    if (!holds)
      w->expect = UV_ETIMEDOUT;
    if (!holds && was_popped)
      pop_linked(w->ev, 1);
  }
  return holds;
}

static void fz_wait_cb(uvev_wait_t* req, int status) {
  struct fwait* w;
  char who[8];
  uint64_t now;
  int i;

  for (i = 0; i < NWAITS && req != &F.waits[i].req; i++)
    continue;
  if (i == NWAITS)
    fail("a wait callback got %p, not one of our requests", (void*) req);
  w = &F.waits[i];
  snprintf(who, sizeof(who), "w%d", i);
  check_cb_context(who, w->active, w->slot);
  now = uv_now(&F.loops[loop_of(w->slot)]);
  note("  cb w%d: %s (decided: %s, %u predicate calls)", i, st(status),
       st(w->expect), w->calls);
  if (status != w->expect)
    fail("w%d: called back with %s, want %s", i, st(status), st(w->expect));
  if (status == UV_ETIMEDOUT && now < w->deadline)
    fail("w%d: timed out at %llu, before its deadline %llu", i,
         (unsigned long long) now, (unsigned long long) w->deadline);
  if (req->data != w)
    fail("w%d: data changed to %p", i, req->data);
  if (w->ws == WS_LINKED)
    fail("w%d: called back while still linked in the event", i);
  if (w->ws == WS_POPPED)
    unpop(w, i);  /* decided while notified: the drain delivers it */
  F.activity++;
  w->active = 0;
  F.wakers[w->slot].pending--;
  F.events[w->ev].pending--;
  if (status == 0 && (w->pred & PRED_TAKE))
    F.tokens_delivered++;
  act(w->action, w->arg, w, NULL);
}

static int call_wait(struct fwait* w, uvev_waker_t* wk, uvev_event_t* ev,
                     uvev_pred_cb pred, uvev_wait_cb cb, int tmo,
                     const void* starting) {
  struct ctx c;
  int err;

  if (tmo == TMO_PLAIN) {
    c = enter("uvev_wait", starting);
    err = uvev_wait(wk, w != NULL ? &w->req : NULL, ev, pred, cb);
  } else {
    c = enter("uvev_wait_timeout", starting);
    err = uvev_wait_timeout(wk, w != NULL ? &w->req : NULL, ev, pred, cb,
                            timeouts[tmo]);
  }
  leave(c);
  return err;
}

static void wait_start(struct fwait* w, int slot, int e, unsigned pred,
                       int tmo, int action, int arg) {
  struct fwaker* wk;
  struct fevent* fe;
  snap_t s_req;
  snap_t s_wk;
  snap_t s_ev;
  uint64_t now;
  int err;
  int i;

  wk = &F.wakers[slot];
  fe = &F.events[e];
  i = (int) (w - F.waits);
  /* A waker that was never opened or has closed, and a destroyed event, may
   * not be passed at all. */
  if (wk->state == W_NONE || !fe->live) {
    note("wait w%d: skipped (waker %d or event %d not there)", i, slot, e);
    return;
  }
  note("wait w%d on waker %d event %d pred %u timeout %d action %d/%d%s%s", i,
       slot, e, pred, tmo, action, arg, w->active ? " (active)" : "",
       wk->state == W_CLOSING ? " (closing waker)" : "");
  if (w->active || wk->state == W_CLOSING) {
    snap(&s_req, &w->req, sizeof(w->req));
    snap(&s_wk, &wk->w, sizeof(wk->w));
    snap(&s_ev, &fe->ev, sizeof(fe->ev));
    err = call_wait(w, &wk->w, &fe->ev, fz_pred, fz_wait_cb, tmo, NULL);
    if (!(w->active && err == UV_EBUSY) &&
        !(wk->state == W_CLOSING && err == UV_EINVAL))
      fail("wait w%d: returned %s, want %s", i, st(err),
           w->active ? "EBUSY" : "EINVAL (closing waker)");
    unchanged(&s_req, "the request", "uvev_wait");
    unchanged(&s_wk, "the waker", "uvev_wait");
    unchanged(&s_ev, "the event", "uvev_wait");
    return;
  }
  /* The predicate may run inside the call: the activation starts first. */
  now = uv_now(&F.loops[loop_of(slot)]);
  w->active = 1;
  w->slot = slot;
  w->ev = e;
  w->pred = pred;
  w->tmo = tmo;
  w->action = action;
  w->arg = arg;
  w->deadline = timeouts[tmo] <= 2 ? now + timeouts[tmo] : UINT64_MAX;
  w->expect = NONE;
  w->calls = 0;
  w->ws = WS_OUT;
  w->act_seq = ++F.seq;
  w->req.data = w;
  wk->pending++;
  fe->pending++;
  err = call_wait(w, &wk->w, &fe->ev, fz_pred, fz_wait_cb, tmo, &w->req);
  expect_rc("uvev_wait", err, 0);
  if (w->expect == NONE && timeouts[tmo] == 0)
    w->expect = UV_ETIMEDOUT;
  if (w->expect == NONE && w->ws != WS_LINKED)
    fail("w%d: undecided after its start, but never re-checked", i);
}

/* A cancel or a close decides an undecided wait: UV_ECANCELED, out of the
 * event, a notification it had received handed on. */
static void decide_cancelled(struct fwait* w) {
  if (w->expect != NONE)
    return;
  w->expect = UV_ECANCELED;
  leave_event(w);
}

/* Cancels a wait (o NULL) or a channel operation (w NULL). An inactive one
 * must be rejected and left as it is. */
static void cancel_req(struct fwait* w, struct fop* o) {
  const char* call;
  struct ctx c;
  snap_t s;
  int active;
  int err;

  call = w != NULL ? "uvev_wait_cancel" : "uvev_chan_cancel";
  active = w != NULL ? w->active : o->active;
  note("cancel %c%d%s", w != NULL ? 'w' : 'o',
       w != NULL ? (int) (w - F.waits) : (int) (o - F.ops),
       active ? "" : " (inactive)");
  if (w != NULL)
    snap(&s, &w->req, sizeof(w->req));
  else
    snap(&s, &o->op, sizeof(o->op));
  c = enter(call, NULL);
  err = w != NULL ? uvev_wait_cancel(&w->req) : uvev_chan_cancel(&o->op);
  leave(c);
  expect_rc(call, err, active ? 0 : UV_EINVAL);
  if (!active)
    unchanged(&s, "the request", call);
  else if (w != NULL)
    decide_cancelled(w);
  else if (o->expect == NONE)
    o->expect = UV_ECANCELED;
}

static void notify(int e, size_t n) {
  struct fevent* fe;
  struct ctx c;

  fe = &F.events[e];
  if (!fe->live) {
    note("notify event %d: skipped (destroyed)", e);
    return;
  }
  note("notify event %d n %zu (%u waits)", e, n, fe->pending);
  pop_linked(e, n);
  c = enter("uvev_notify", NULL);
  uvev_notify(&fe->ev, n);
  leave(c);
}

/* ---- channel operations ---------------------------------------------------- */

static void fz_op_cb(uvev_chan_op_t* op, int status) {
  struct fop* o;
  struct fchan* fc;
  char who[8];
  int i;

  for (i = 0; i < NCOPS && op != &F.ops[i].op; i++)
    continue;
  if (i == NCOPS)
    fail("a channel callback got %p, not one of our operations", (void*) op);
  o = &F.ops[i];
  snprintf(who, sizeof(who), "o%d", i);
  check_cb_context(who, o->active, o->slot);
  fc = &F.chans[o->ch];
  note("  cb o%d %s: %s (decided: %s)", i, o->send ? "send" : "recv",
       st(status), st(o->expect));
  if (op->data != o)
    fail("o%d: data changed to %p", i, op->data);
  if (o->expect != NONE) {
    if (status != o->expect)
      fail("o%d: called back with %s, want %s", i, st(status),
           st(o->expect));
  } else if (status == 0 && o->send) {
    /* It moved in the drain just before this callback. */
    if (fc->closed || fc->len == fc->cap)
      fail("o%d: sent into a channel that is %s", i,
           fc->closed ? "closed" : "full");
    q_push(fc, o->id);
  } else if (status == 0) {
    if (fc->len == 0)
      fail("o%d: received from a channel the model says is empty", i);
    o->id = q_pop(fc);
  } else if (!(status == UV_EPIPE && o->send && fc->closed) &&
             !(status == UV_EOF && !o->send && fc->closed && fc->len == 0)) {
    fail("o%d: called back with %s on a channel %s with %u elements", i,
         st(status), fc->closed ? "closed" : "open", fc->len);
  }
  if (!o->send)
    check_out(who, o->out, status == 0, o->id, fc->esz);
  F.activity++;
  o->active = 0;
  F.wakers[o->slot].pending--;
  fc->pending--;
  act(o->action, o->arg, NULL, o);
}

static int call_op(struct fop* o, uvev_waker_t* wk, uvev_chan_t* ch,
                   int send, const void* buf, uvev_chan_cb cb,
                   const void* starting) {
  struct ctx c;
  uvev_chan_op_t* op;
  int err;

  op = o != NULL ? &o->op : NULL;
  if (send) {
    c = enter("uvev_chan_send", starting);
    err = uvev_chan_send(wk, op, ch, buf, cb);
  } else {
    c = enter("uvev_chan_recv", starting);
    err = uvev_chan_recv(wk, op, ch, (void*) buf, cb);
  }
  leave(c);
  return err;
}

static void op_start_rejected(struct fop* o, struct fwaker* wk,
                              struct fchan* fc, int send) {
  snap_t s_op;
  snap_t s_wk;
  snap_t s_ch;
  int err;

  snap(&s_op, &o->op, sizeof(o->op));
  snap(&s_wk, &wk->w, sizeof(wk->w));
  snap(&s_ch, &fc->ch, sizeof(fc->ch));
  err = call_op(o, &wk->w, &fc->ch, send, send ? o->elem : o->out, fz_op_cb,
                NULL);
  if (!(o->active && err == UV_EBUSY) &&
      !(wk->state == W_CLOSING && err == UV_EINVAL))
    fail("op o%d: returned %s, want %s", (int) (o - F.ops), st(err),
         o->active ? "EBUSY" : "EINVAL (closing waker)");
  unchanged(&s_op, "the op", send ? "uvev_chan_send" : "uvev_chan_recv");
  unchanged(&s_wk, "the waker", "uvev_chan_send/recv");
  unchanged(&s_ch, "the channel", "uvev_chan_send/recv");
}

static void op_start(struct fop* o, int slot, int c, int send, int action,
                     int arg) {
  struct fwaker* wk;
  struct fchan* fc;
  int err;
  int i;

  wk = &F.wakers[slot];
  fc = &F.chans[c];
  i = (int) (o - F.ops);
  if (wk->state == W_NONE || !fc->live) {
    note("op o%d: skipped (waker %d or channel %d not there)", i, slot, c);
    return;
  }
  note("%s o%d on waker %d chan %d (%u of %zu%s) action %d/%d%s%s",
       send ? "send" : "recv", i, slot, c, fc->len, fc->cap,
       fc->closed ? ", closed" : "", action, arg,
       o->active ? " (active)" : "",
       wk->state == W_CLOSING ? " (closing waker)" : "");
  if (o->active || wk->state == W_CLOSING) {
    op_start_rejected(o, wk, fc, send);
    return;
  }
  o->active = 1;
  o->slot = slot;
  o->ch = c;
  o->send = send;
  o->action = action;
  o->arg = arg;
  o->expect = NONE;
  o->moved = 0;
  o->op.data = o;
  memset(o->out, SENTINEL, BUF_SIZE);
  /* Its predicate (the try call) runs at once: it moves the element now
   * exactly when the channel allows it. */
  if (send) {
    o->id = F.next_id++;
    make_elem(o->elem, o->id, fc->esz);
    if (fc->closed) {
      o->expect = UV_EPIPE;
    } else if (fc->len < fc->cap) {
      q_push(fc, o->id);
      o->moved = 1;
      o->expect = 0;
    }
  } else if (fc->len > 0) {
    o->id = q_pop(fc);
    o->moved = 1;
    o->expect = 0;
  } else if (fc->closed) {
    o->expect = UV_EOF;
  }
  wk->pending++;
  fc->pending++;
  err = call_op(o, &wk->w, &fc->ch, send, send ? o->elem : o->out, fz_op_cb,
                &o->op);
  expect_rc(send ? "uvev_chan_send" : "uvev_chan_recv", err, 0);
  if (!send)
    check_out("recv start", o->out, o->moved, o->id, fc->esz);
}

/* ---- wakers ---------------------------------------------------------------- */

static void fz_close_cb(uvev_waker_t* w) {
  struct fwaker* wk;
  char who[16];
  int i;

  for (i = 0; i < NWAKERS && w != &F.wakers[i].w; i++)
    continue;
  if (i == NWAKERS)
    fail("close_cb got %p, not one of our wakers", (void*) w);
  wk = &F.wakers[i];
  note("  close_cb waker %d", i);
  snprintf(who, sizeof(who), "waker %d", i);
  check_cb_context(who, 1, i);
  if (wk->state != W_CLOSING)
    fail("waker %d: close_cb ran, but the waker is not closing", i);
  if (wk->pending != 0)
    fail("waker %d: close_cb ran with %u requests not called back", i,
         wk->pending);
  F.activity++;
  wk->state = W_NONE;
}

static void waker_init(int slot) {
  struct fwaker* wk;
  struct ctx c;
  int err;

  wk = &F.wakers[slot];
  if (wk->state != W_NONE) {
    note("waker init %d: skipped (in use)", slot);
    return;
  }
  note("waker init %d", slot);
  c = enter("uvev_waker_init", NULL);
  err = uvev_waker_init(&F.loops[loop_of(slot)], &wk->w);
  leave(c);
  expect_rc("uvev_waker_init", err, 0);
  wk->w.data = wk;
  wk->state = W_OPEN;
}

/* What a close does: it decides every undecided request UV_ECANCELED, one
 * after another in start order (so a notification handed on may reach a
 * later request of the same waker and be handed on again), then empties the
 * ready list: the close itself delivers what was on it. */
static void close_model(int slot) {
  struct fwait* next;
  unsigned long after;
  int i;

  for (after = 0;; after = next->act_seq) {
    next = NULL;
    for (i = 0; i < NWAITS; i++)
      if (F.waits[i].active && F.waits[i].slot == slot &&
          F.waits[i].act_seq > after &&
          (next == NULL || F.waits[i].act_seq < next->act_seq))
        next = &F.waits[i];
    if (next == NULL)
      break;
    decide_cancelled(next);
  }
  for (i = 0; i < NWAITS; i++)
    if (F.waits[i].active && F.waits[i].slot == slot)
      F.waits[i].ws = WS_OUT;
  for (i = 0; i < NCOPS; i++)
    if (F.ops[i].active && F.ops[i].slot == slot && F.ops[i].expect == NONE)
      F.ops[i].expect = UV_ECANCELED;
}

static void waker_close(int slot) {
  struct fwaker* wk;
  struct ctx c;
  snap_t s;

  wk = &F.wakers[slot];
  note("waker close %d%s", slot,
       wk->state == W_NONE ? " (not open: closes NULL)"
                           : wk->state == W_CLOSING ? " (again)" : "");
  c = enter("uvev_waker_close", NULL);
  if (wk->state == W_NONE) {
    /* A closed waker may be freed: it takes no call but init. */
    uvev_waker_close(NULL, fz_close_cb);
  } else if (wk->state == W_CLOSING) {
    snap(&s, &wk->w, sizeof(wk->w));
    uvev_waker_close(&wk->w, fz_close_cb);
    unchanged(&s, "the waker", "a second uvev_waker_close");
  } else {
    close_model(slot);
    wk->state = W_CLOSING;
    uvev_waker_close(&wk->w, fz_close_cb);
  }
  leave(c);
}

/* ---- events and channels --------------------------------------------------- */

static void event_cycle(int e) {
  struct fevent* fe;
  struct ctx c;
  snap_t s;
  int err;

  fe = &F.events[e];
  if (!fe->live) {
    note("event init %d", e);
    c = enter("uvev_event_init", NULL);
    err = uvev_event_init(&fe->ev);
    leave(c);
    expect_rc("uvev_event_init", err, 0);
    fe->live = 1;
    return;
  }
  note("event destroy %d (%u waits)", e, fe->pending);
  snap(&s, &fe->ev, sizeof(fe->ev));
  c = enter("uvev_event_destroy", NULL);
  err = uvev_event_destroy(&fe->ev);
  leave(c);
  expect_rc("uvev_event_destroy", err, fe->pending != 0 ? UV_EBUSY : 0);
  if (err == UV_EBUSY)
    unchanged(&s, "the event", "uvev_event_destroy");
  else
    fe->live = 0;
}

static void try_send(int c) {
  struct fchan* fc;
  unsigned char buf[BUF_SIZE];
  struct ctx x;
  uint32_t id;
  int err;

  fc = &F.chans[c];
  if (!fc->live)
    return;
  id = F.next_id++;
  make_elem(buf, id, fc->esz);
  note("try_send chan %d #%u (%u of %zu%s)", c, id, fc->len, fc->cap,
       fc->closed ? ", closed" : "");
  x = enter("uvev_chan_try_send", NULL);
  err = uvev_chan_try_send(&fc->ch, buf);
  leave(x);
  expect_rc("uvev_chan_try_send", err,
            fc->closed ? UV_EPIPE : fc->len == fc->cap ? UV_EAGAIN : 0);
  if (err == 0)
    q_push(fc, id);
}

/* Returns what uvev_chan_try_recv returned. */
static int try_recv(int c) {
  struct fchan* fc;
  unsigned char out[BUF_SIZE];
  struct ctx x;
  uint32_t id;
  int err;

  fc = &F.chans[c];
  if (!fc->live)
    return UV_EINVAL;
  note("try_recv chan %d (%u of %zu%s)", c, fc->len, fc->cap,
       fc->closed ? ", closed" : "");
  memset(out, SENTINEL, BUF_SIZE);
  x = enter("uvev_chan_try_recv", NULL);
  err = uvev_chan_try_recv(&fc->ch, out);
  leave(x);
  expect_rc("uvev_chan_try_recv", err,
            fc->len > 0 ? 0 : fc->closed ? UV_EOF : UV_EAGAIN);
  id = err == 0 ? q_pop(fc) : 0;
  check_out("try_recv", out, err == 0, id, fc->esz);
  return err;
}

static void chan_cycle(int c, unsigned a) {
  struct fchan* fc;
  struct ctx x;
  snap_t s;
  int err;

  fc = &F.chans[c];
  if (!fc->live) {
    fc->cap = capacities[(a >> 2) & 3];
    fc->esz = elem_sizes[(a >> 4) % 3];
    note("chan init %d capacity %zu size %zu", c, fc->cap, fc->esz);
    x = enter("uvev_chan_init", NULL);
    err = uvev_chan_init(&fc->ch, fc->cap, fc->esz);
    leave(x);
    expect_rc("uvev_chan_init", err, 0);
    fc->live = 1;
    fc->closed = 0;
    fc->head = 0;
    fc->len = 0;
    return;
  }
  /* Draining first checks that what the model holds is what is inside. */
  if (fc->pending == 0 && (a & 2))
    while (try_recv(c) == 0)
      continue;
  note("chan destroy %d (%u ops, %u elements dropped)", c, fc->pending,
       fc->len);
  snap(&s, &fc->ch, sizeof(fc->ch));
  x = enter("uvev_chan_destroy", NULL);
  err = uvev_chan_destroy(&fc->ch);
  leave(x);
  expect_rc("uvev_chan_destroy", err, fc->pending != 0 ? UV_EBUSY : 0);
  if (err == UV_EBUSY)
    unchanged(&s, "the channel", "uvev_chan_destroy");
  else
    fc->live = 0;
}

static void chan_close(int c) {
  struct fchan* fc;
  struct ctx x;
  snap_t s;

  fc = &F.chans[c];
  if (!fc->live)
    return;
  note("chan close %d%s", c, fc->closed ? " (again)" : "");
  snap(&s, &fc->ch, sizeof(fc->ch));
  x = enter("uvev_chan_close", NULL);
  uvev_chan_close(&fc->ch);
  leave(x);
  if (fc->closed)
    unchanged(&s, "the channel", "a second uvev_chan_close");
  fc->closed = 1;
}

/* ---- running the loops ----------------------------------------------------- */

static void fz_prepare_cb(uv_prepare_t* handle) {
  F.phase = PH_POLL;
}

static void run_once(int i) {
  F.running = i;
  F.phase = PH_BEFORE_POLL;
  uv_run(&F.loops[i], UV_RUN_NOWAIT);
  F.phase = PH_NONE;
  F.running = -1;
  if (F.recheck != NULL)
    fail("w%d: linked again by a drain, never re-checked",
         (int) (F.recheck - F.waits));
}

/* After the loops have nothing left to do, nothing may be stuck. */
static void check_settled(int advanced) {
  struct fwait* w;
  struct fop* o;
  struct fchan* fc;
  unsigned pending[NLOOPS];
  int alive;
  int i;

  pending[0] = pending[1] = 0;
  for (i = 0; i < NWAKERS; i++) {
    if (F.wakers[i].state == W_CLOSING)
      fail("waker %d: closed, but its close_cb never ran", i);
    pending[loop_of(i)] += F.wakers[i].pending;
  }
  for (i = 0; i < NWAITS; i++) {
    w = &F.waits[i];
    if (!w->active)
      continue;
    if (w->expect != NONE)
      fail("w%d: decided (%s) but never called back", i, st(w->expect));
    if (w->ws == WS_POPPED)
      fail("w%d: lost wake-up: notified, never re-checked", i);
    if (advanced && w->deadline <= F.advanced_to[loop_of(w->slot)])
      fail("w%d: deadline %llu passed (now %llu), never timed out", i,
           (unsigned long long) w->deadline,
           (unsigned long long) F.advanced_to[loop_of(w->slot)]);
  }
  for (i = 0; i < NCOPS; i++) {
    o = &F.ops[i];
    if (!o->active)
      continue;
    fc = &F.chans[o->ch];
    if (o->expect != NONE)
      fail("o%d: decided (%s) but never called back", i, st(o->expect));
    if (fc->closed || (o->send ? fc->len < fc->cap : fc->len > 0))
      fail("o%d: lost wake-up: %s still waits on a channel %s with %u of "
           "%zu", i, o->send ? "send" : "recv",
           fc->closed ? "closed" : "open", fc->len, fc->cap);
  }
  /* A waker keeps its loop alive only while it has requests pending. */
  for (i = 0; i < NLOOPS; i++) {
    alive = uv_loop_alive(&F.loops[i]);
    if ((alive != 0) != (pending[i] != 0))
      fail("loop %d: alive %d with %u requests pending", i, alive,
           pending[i]);
  }
}

/* Runs both loops until a round of both runs nothing. */
static void settle(int advanced) {
  unsigned long before;
  int rounds;

  for (rounds = 0;; rounds++) {
    before = F.activity;
    run_once(0);
    run_once(1);
    if (F.activity == before)
      break;
    if (rounds == MAX_ROUNDS)
      fail("the loops still run callbacks after %d rounds", rounds);
  }
  check_settled(advanced);
}

/* Moves uv_now by 3 ms on both loops, so that every wait timed 0 to 2 ms
 * before is due, then runs the loops. It spins: no sleep, and only when a
 * timed wait is pending, at most MAX_ADVANCES times an input. */
static void advance(void) {
  uint64_t t0[NLOOPS];
  int timed;
  int i;

  timed = 0;
  for (i = 0; i < NWAITS; i++)
    if (F.waits[i].active && F.waits[i].deadline != UINT64_MAX)
      timed = 1;
  if (!timed || F.advances == MAX_ADVANCES) {
    note("advance: skipped (%s), settle", timed ? "budget" : "nothing timed");
    settle(0);
    return;
  }
  F.advances++;
  for (i = 0; i < NLOOPS; i++)
    t0[i] = uv_now(&F.loops[i]);
  do {
    uv_update_time(&F.loops[0]);
    uv_update_time(&F.loops[1]);
  } while (uv_now(&F.loops[0]) - t0[0] < 3 || uv_now(&F.loops[1]) - t0[1] < 3);
  for (i = 0; i < NLOOPS; i++)
    F.advanced_to[i] = uv_now(&F.loops[i]);
  note("advance: now %llu, %llu", (unsigned long long) F.advanced_to[0],
       (unsigned long long) F.advanced_to[1]);
  settle(1);
}

/* ---- documented misuse ----------------------------------------------------- */

static int waker_usable(int i, int want) {
  return (F.wakers[i].state != W_NONE) == want;  /* may be given to a call */
}

static int event_live(int i, int want) {
  return F.events[i].live == want;
}

static int chan_live(int i, int want) {
  return F.chans[i].live == want;
}

/* The first of n objects, from `from` on, for which ok(i, want); or -1. */
static int find(unsigned from, int n, int (*ok)(int, int), int want) {
  int i;

  for (i = 0; i < n; i++)
    if (ok((int) ((from + i) % n), want))
      return (int) ((from + i) % n);
  return -1;
}

/* A loop wait or a channel operation with argument `null` (0 waker, 1
 * request, 2 event or channel, 3 predicate or element, 4 callback) NULL. */
static void misuse_start(int chan_op, unsigned which) {
  struct fwait* w;
  struct fop* o;
  snap_t s_req;
  snap_t s_wk;
  snap_t s_obj;
  const void* obj;
  size_t obj_size;
  unsigned null;
  int active;
  int slot;
  int x;
  int err;

  null = (which >> 3) % 5;
  slot = find(which, NWAKERS, waker_usable, 1);
  x = chan_op ? find(which >> 1, NCHANS, chan_live, 1)
              : find(which >> 1, NEVENTS, event_live, 1);
  if ((slot < 0 && null != 0) || (x < 0 && null != 2)) {
    note("misuse: skipped (no waker or %s)", chan_op ? "channel" : "event");
    return;
  }
  w = &F.waits[which % NWAITS];
  o = &F.ops[which % NCOPS];
  active = chan_op ? o->active : w->active;
  note("misuse: %s with argument %u NULL (request %s)",
       chan_op ? (which & 0x80 ? "chan_send" : "chan_recv")
               : (which & 0x80 ? "wait_timeout" : "wait"),
       null, active ? "active" : "inactive");
  if (chan_op) {
    obj = x >= 0 ? (const void*) &F.chans[x].ch : NULL;
    obj_size = sizeof(uvev_chan_t);
    snap(&s_req, &o->op, sizeof(o->op));
  } else {
    obj = x >= 0 ? (const void*) &F.events[x].ev : NULL;
    obj_size = sizeof(uvev_event_t);
    snap(&s_req, &w->req, sizeof(w->req));
  }
  snap(&s_wk, slot >= 0 ? &F.wakers[slot].w : NULL, sizeof(uvev_waker_t));
  snap(&s_obj, obj, obj_size);
  if (chan_op)
    err = call_op(null == 1 ? NULL : o, null == 0 ? NULL : &F.wakers[slot].w,
                  null == 2 ? NULL : &F.chans[x].ch, which & 0x80,
                  null == 3 ? NULL : (which & 0x80 ? o->elem : o->out),
                  null == 4 ? NULL : fz_op_cb, NULL);
  else
    err = call_wait(null == 1 ? NULL : w, null == 0 ? NULL : &F.wakers[slot].w,
                    null == 2 ? NULL : &F.events[x].ev,
                    null == 3 ? NULL : fz_pred, null == 4 ? NULL : fz_wait_cb,
                    which & 0x80 ? 1 : TMO_PLAIN, NULL);
  /* With an active request both errors apply; either may win. */
  if (err != UV_EINVAL && !(err == UV_EBUSY && active && null != 1))
    fail("misuse start with argument %u NULL returned %s, want EINVAL", null,
         st(err));
  unchanged(&s_req, "the request", "a start with a NULL argument");
  unchanged(&s_wk, "the waker", "a start with a NULL argument");
  unchanged(&s_obj, "the event or channel", "a start with a NULL argument");
}

static void misuse(unsigned kind, unsigned which) {
  unsigned char buf[BUF_SIZE];
  struct ctx c;
  snap_t s;
  int slot;
  int x;

  kind %= MIS_COUNT;
  switch (kind) {
    case MIS_WAIT:
    case MIS_CHAN_OP:
      misuse_start(kind == MIS_CHAN_OP, which);
      return;
    case MIS_CANCEL:
      note("misuse: cancel NULL");
      c = enter("cancel NULL", NULL);
      expect_rc("uvev_wait_cancel(NULL)", uvev_wait_cancel(NULL), UV_EINVAL);
      expect_rc("uvev_chan_cancel(NULL)", uvev_chan_cancel(NULL), UV_EINVAL);
      leave(c);
      return;
    case MIS_EVENT:
      note("misuse: event calls on NULL");
      c = enter("event calls on NULL", NULL);
      expect_rc("uvev_event_init(NULL)", uvev_event_init(NULL), UV_EINVAL);
      expect_rc("uvev_event_destroy(NULL)", uvev_event_destroy(NULL),
                UV_EINVAL);
      uvev_notify(NULL, notify_ns[which & 3]);
      uvev_notify_one(NULL);
      uvev_notify_all(NULL);
      leave(c);
      return;
    case MIS_WAKER:
      slot = (int) (which % NWAKERS);
      note("misuse: waker calls on NULL (slot %d)", slot);
      snap(&s, &F.wakers[slot].w, sizeof(uvev_waker_t));
      c = enter("waker calls on NULL", NULL);
      expect_rc("uvev_waker_init(NULL, waker)",
                uvev_waker_init(NULL, &F.wakers[slot].w), UV_EINVAL);
      expect_rc("uvev_waker_init(loop, NULL)",
                uvev_waker_init(&F.loops[loop_of(slot)], NULL), UV_EINVAL);
      uvev_waker_close(NULL, fz_close_cb);
      leave(c);
      unchanged(&s, "the waker", "uvev_waker_init(NULL, waker)");
      return;
    case MIS_CHAN_INIT:
      note("misuse: channel init with bad arguments");
      c = enter("channel calls with bad arguments", NULL);
      expect_rc("uvev_chan_init(NULL)", uvev_chan_init(NULL, 1, 1),
                UV_EINVAL);
      expect_rc("uvev_chan_destroy(NULL)", uvev_chan_destroy(NULL),
                UV_EINVAL);
      uvev_chan_close(NULL);
      /* Only on a destroyed channel: init on a live one would leak it. */
      x = find(which, NCHANS, chan_live, 0);
      if (x >= 0) {
        snap(&s, &F.chans[x].ch, sizeof(uvev_chan_t));
        expect_rc("uvev_chan_init(capacity 0)",
                  uvev_chan_init(&F.chans[x].ch, 0, 8), UV_EINVAL);
        expect_rc("uvev_chan_init(size 0)",
                  uvev_chan_init(&F.chans[x].ch, 4, 0), UV_EINVAL);
        expect_rc("uvev_chan_init(size SIZE_MAX)",
                  uvev_chan_init(&F.chans[x].ch, 1, SIZE_MAX), UV_ENOMEM);
        expect_rc("uvev_chan_init(capacity SIZE_MAX)",
                  uvev_chan_init(&F.chans[x].ch, SIZE_MAX, 8), UV_ENOMEM);
        unchanged(&s, "the channel", "a rejected uvev_chan_init");
      }
      leave(c);
      return;
    case MIS_TRY:
      note("misuse: try calls with NULL");
      memset(buf, 0, sizeof(buf));
      c = enter("try calls with NULL", NULL);
      expect_rc("uvev_chan_try_send(NULL, elem)",
                uvev_chan_try_send(NULL, buf), UV_EINVAL);
      expect_rc("uvev_chan_try_recv(NULL, out)",
                uvev_chan_try_recv(NULL, buf), UV_EINVAL);
      x = find(which, NCHANS, chan_live, 1);
      if (x >= 0) {
        snap(&s, &F.chans[x].ch, sizeof(uvev_chan_t));
        expect_rc("uvev_chan_try_send(ch, NULL)",
                  uvev_chan_try_send(&F.chans[x].ch, NULL), UV_EINVAL);
        expect_rc("uvev_chan_try_recv(ch, NULL)",
                  uvev_chan_try_recv(&F.chans[x].ch, NULL), UV_EINVAL);
        unchanged(&s, "the channel", "a try call with NULL");
      }
      leave(c);
      return;
  }
}

/* ---- one input --------------------------------------------------------------- */

static void check_step(void) {
  struct fop* o;
  int i;

  if (F.inside != NULL || F.starting != NULL || F.running != -1)
    fail("harness: context not restored");
  /* Nothing reaches a receive buffer behind the model's back. */
  for (i = 0; i < NCOPS; i++) {
    o = &F.ops[i];
    if (o->active && !o->send)
      check_out("pending recv", o->out, o->moved, o->id, F.chans[o->ch].esz);
  }
}

static void step(void) {
  unsigned op;
  unsigned a;
  unsigned b;
  unsigned c;
  unsigned d;

  op = next_byte() % OP_COUNT;
  switch (op) {
    case OP_WAIT:
      a = next_byte();
      b = next_byte();
      c = next_byte();
      d = next_byte();
      wait_start(&F.waits[a % NWAITS], (int) (b & 3), (int) ((b >> 2) % NEVENTS),
                 c & 15, (int) ((c >> 4) % 5), (int) (d & 7), (int) (d >> 3));
      break;
    case OP_CANCEL:
      cancel_req(&F.waits[next_byte() % NWAITS], NULL);
      break;
    case OP_NOTIFY:
      a = next_byte();
      notify((int) ((a & 3) % NEVENTS), notify_ns[(a >> 2) & 3]);
      break;
    case OP_TOKENS:
      a = next_byte();
      F.events[(a & 3) % NEVENTS].tokens += 1 + ((a >> 2) & 3);
      F.tokens_added += 1 + ((a >> 2) & 3);
      note("tokens event %u +%u", (a & 3) % NEVENTS, 1 + ((a >> 2) & 3));
      break;
    case OP_RUN:
      a = next_byte();
      note("run %s", a & 2 ? "both until idle" : a & 1 ? "loop 1" : "loop 0");
      if (a & 2)
        settle(0);
      else
        run_once((int) (a & 1));
      break;
    case OP_ADVANCE:
      advance();
      break;
    case OP_WAKER_CLOSE:
      waker_close((int) (next_byte() % NWAKERS));
      break;
    case OP_WAKER_INIT:
      waker_init((int) (next_byte() % NWAKERS));
      break;
    case OP_EVENT_CYCLE:
      event_cycle((int) (next_byte() % NEVENTS));
      break;
    case OP_CHAN_CYCLE:
      a = next_byte();
      chan_cycle((int) (a & 1), a);
      break;
    case OP_TRY_SEND:
      try_send((int) (next_byte() % NCHANS));
      break;
    case OP_TRY_RECV:
      try_recv((int) (next_byte() % NCHANS));
      break;
    case OP_CHAN_OP:
      a = next_byte();
      b = next_byte();
      c = next_byte();
      op_start(&F.ops[a % NCOPS], (int) (b & 3), (int) ((b >> 2) & 1),
               (int) ((b >> 3) & 1), (int) (c & 7), (int) (c >> 3));
      break;
    case OP_CHAN_CANCEL:
      cancel_req(NULL, &F.ops[next_byte() % NCOPS]);
      break;
    case OP_CHAN_CLOSE:
      chan_close((int) (next_byte() % NCHANS));
      break;
    case OP_MISUSE:
      a = next_byte();
      misuse(a, next_byte());
      break;
  }
  check_step();
}

/* Two loops (each with the prepare handle that marks its poll phase), a
 * waker on each, every event, both channels. */
static void setup(void) {
  int i;

  memset(&F, 0, sizeof(F));
  log_count = 0;
  F.running = -1;
  for (i = 0; i < NLOOPS; i++) {
    expect_rc("uv_loop_init", uv_loop_init(&F.loops[i]), 0);
    /* Unref'd: it must not keep the loop alive (check_settled). */
    uv_prepare_init(&F.loops[i], &F.prepares[i]);
    uv_prepare_start(&F.prepares[i], fz_prepare_cb);
    uv_unref((uv_handle_t*) &F.prepares[i]);
  }
  waker_init(0);
  waker_init(2);
  for (i = 0; i < NEVENTS; i++)
    event_cycle(i);
  chan_cycle(0, 1 << 2);  /* capacity 2, elements of 1 byte */
  chan_cycle(1, 1 << 4);  /* capacity 1, elements of 8 bytes */
}

/* Closes everything; every request must have been called back, every
 * element left must still be inside, and the loops must close. */
static void teardown(void) {
  int i;

  note("teardown");
  for (i = 0; i < NWAKERS; i++)
    if (F.wakers[i].state == W_OPEN)
      waker_close(i);
  settle(0);
  for (i = 0; i < NWAITS; i++)
    if (F.waits[i].active)
      fail("w%d: still active after every waker closed", i);
  for (i = 0; i < NCOPS; i++)
    if (F.ops[i].active)
      fail("o%d: still active after every waker closed", i);
  for (i = 0; i < NCHANS; i++) {
    if (!F.chans[i].live)
      continue;
    while (try_recv(i) == 0)
      continue;
    chan_cycle(i, 0);
  }
  for (i = 0; i < NEVENTS; i++)
    if (F.events[i].live)
      event_cycle(i);
  for (i = 0; i < NLOOPS; i++) {
    uv_close((uv_handle_t*) &F.prepares[i], NULL);
    run_once(i);
    if (uv_loop_close(&F.loops[i]) != 0)
      fail("loop %d: uv_loop_close failed: handles left open", i);
  }
  for (i = 0; i < NEVENTS; i++)
    F.tokens_added -= F.events[i].tokens;
  if (F.tokens_added != F.tokens_taken ||
      F.tokens_taken != F.tokens_delivered)
    fail("tokens: %lu added and not left, %lu taken, %lu delivered by waits "
         "that completed with 0", F.tokens_added, F.tokens_taken,
         F.tokens_delivered);
}

int LLVMFuzzerInitialize(int* argc, char*** argv);
int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerInitialize(int* argc, char*** argv) {
  const char* s;

  s = getenv("UVEV_FUZZ_TRACE");
  trace = s != NULL && *s == '1';
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  setup();
  F.in = data;
  F.in_left = size;
  while (F.in_left > 0) {
    F.step++;
    step();
  }
  teardown();
  return 0;
}
