/* soak.c: uvev-soak, one long seeded run of the whole library at once.
 *
 * It owns what the Check suites do not: every operation mixed at random on
 * loops and plain threads for a bounded time, while shared channels are
 * destroyed and re-created and wakers closed and re-created, with exact
 * accounting: each token added is taken once, by a wait that then completed
 * with 0; each element whose send returned 0 is received once (count and
 * checksum per channel life), in order per sender as each receiver sees it;
 * each loop request is called back once, with an allowed status.
 *
 * Shared channels live in slots; a user holds a reference (under the slot's
 * lock) for a session of operations. Retiring a channel puts a fresh one in
 * its slot and closes the old one; its users see EPIPE or EOF and let go, and
 * the last one drains and destroys it. Handoffs are private channels whose
 * sole receiver destroys them at once, on EOF or on the last element. Probes
 * destroy while a request is pending and expect UV_EBUSY.
 *
 * Lost wake-ups: a few times a second a checkpoint starts nothing new, and
 * every pending request that can complete must (its pool has a token, its
 * channel an element or room, or is closed). Checkpoints and shutdown are
 * bounded by the main thread, which dumps the state and aborts. The seed,
 * printed first, fixes the random decisions, not the interleavings. The
 * --no-... switches turn off the patterns that bugs known today trip over,
 * so that a run can look past them.
 */
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uvev.h"

enum {
  LOOPS = 3,          /* threads that run a loop */
  THREADS = 3,        /* plain threads */
  EVENTS = 3,         /* token pools, each with its event; the last one */
  QUIET = EVENTS - 1, /* gets tokens only from storms */
  SLOTS = 3,          /* shared channels */
  WAITS = 4,          /* event wait requests per loop */
  COPS = 4,           /* channel requests per loop */
  SENDERS = LOOPS * COPS + THREADS,
  MAX_PROD = 3,       /* producers of one handoff */
  SLACK_MS = 1000,    /* how late a timed blocking call may return */
  LATE_MS = 5,        /* predicate calls this long past a blocking */
  LATE_CALLS = 8,     /* wait's deadline: more than this, it overran */
  WATCHDOG_S = 30     /* bound of a checkpoint or a shutdown phase */
};

enum { RUN, PAUSE, DRAIN, STOP };     /* phases */
enum { HO_FREE, HO_OPEN };            /* handoff states */
enum { HO_EOF, HO_LAST };             /* how its receiver knows it is over */

#define at_load(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define at_store(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define at_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define CHECK(cond)                                                           \
  do {                                                                        \
    if (!(cond))                                                              \
      fail("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);             \
  } while (0)

typedef struct lt_s lt_t;

typedef struct {              /* one life of a shared channel */
  uvev_chan_t ch;
  unsigned long id;
  int slot, cap;
  int refs, retired;          /* under the slot's lock */
  int closed;                 /* atomic, as is all below */
  int nsend, nrecv;           /* loop requests pending on it */
  unsigned long sent, recvd;
  uint64_t sent_sum, recvd_sum;
} chan_t;

typedef struct {
  uv_mutex_t lock;
  chan_t* cur;                /* NULL only once the run is over */
} slot_t;

typedef struct {              /* a sender and receiver on shared channels */
  chan_t* c;                  /* held, or NULL */
  int sender;
  uint64_t seq;               /* advances when a send succeeds */
  uint64_t elem;              /* the element being sent */
  uint64_t out;
  uint64_t next[SENDERS];     /* as a receiver of c: lowest seq allowed */
} user_t;

struct taker {                /* a token predicate's argument */
  int e, took;
  uint64_t timeout;           /* blocking waits: the timeout, in ns */
  uint64_t deadline;          /* from the first call, as the library's */
  int late;                   /* calls made LATE_MS or more after it */
};

typedef struct {
  lt_t* lt;
  struct taker t;
  uvev_wait_t req;
  int active, timed;
} wop_t;

typedef struct {
  lt_t* lt;
  uvev_chan_op_t op;
  user_t u;
  int active, send;
} cop_t;

typedef struct {
  /* Set by the receiver before it opens the handoff, read-only while open. */
  uvev_chan_t* ch;
  int mode, at_once;          /* at once: not after the producers' acks */
  int nprod, per_prod;
  int state, claimed;         /* under board_lock */
  int left;                   /* atomic: producers sending; the last closes */
  int acked;                  /* atomic: producers done with the channel */
  uvev_chan_op_t op;          /* the receiver's, on its loop, from here on */
  int op_active, got, eof;
  int next[MAX_PROD];
  uint64_t out;
} handoff_t;

typedef struct {
  lt_t* lt;
  uvev_chan_t* ch;            /* NULL when idle */
  uvev_event_t ev;
  uvev_chan_op_t op;
  uvev_wait_t req;
  int flag;
  int active;                 /* requests not yet called back */
  uint64_t in, out;
} probe_t;

struct lt_s {
  int id;
  uv_thread_t tid;
  uv_loop_t loop;
  uv_timer_t tick;
  uvev_waker_t* w;            /* NULL while closing */
  uvev_waker_t* closing;
  int final;                  /* the last waker close: the loop ends */
  uint64_t rng;
  wop_t waits[WAITS];
  cop_t cops[COPS];
  handoff_t ho;
  probe_t probe;
  unsigned long started, called, ops;
  unsigned settled;           /* atomic: the last checkpoint it passed */
  int exited;                 /* atomic */
};

typedef struct {
  uv_thread_t tid;
  uint64_t rng;
  user_t u;
  uint64_t next_storm;
  unsigned long ops;
  int exited;                 /* atomic */
} th_t;

static struct {
  unsigned long long seed;
  unsigned seconds;
  int destroy_after_eof, destroy_last, storm, preempt;
} opt = { 0, 20, 1, 1, 1, 1 };

static struct {               /* all atomic */
  unsigned long created, destroyed, moved, handoffs, at_once, ebusy, wakers;
  unsigned long probes;
  long live;
} stats;

static int phase;                      /* atomic, as is checkpoint */
static unsigned checkpoint;
static uvev_event_t events[EVENTS];
static long pool[EVENTS];              /* atomic, as are the three below */
static unsigned long added[EVENTS], taken[EVENTS];
static long pending[EVENTS];           /* loop waits not yet called back */
static slot_t slots[SLOTS];
static uv_mutex_t board_lock;          /* handoff states; leaving RUN */
static uv_mutex_t mon_lock;            /* pauses and the watchdog */
static uv_cond_t mon_cond;
static lt_t lts[LOOPS];
static th_t ths[THREADS];
static char alarm_msg[96];

static void fail(const char* fmt, ...) {
  va_list ap;

  fprintf(stderr, "uvev-soak: FAILED, seed %llu: ", opt.seed);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  abort();
}

static const char* errname(int err) {
  return err == 0 ? "0" : uv_err_name(err);
}

static void mon_poke(void) {
  uv_mutex_lock(&mon_lock);
  uv_cond_broadcast(&mon_cond);
  uv_mutex_unlock(&mon_lock);
}

static uint64_t rnd(uint64_t* s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dull;
}

static unsigned pick(uint64_t* s, unsigned n) {
  return (unsigned) (rnd(s) >> 32) % n;
}

static void rng_init(uint64_t* s, unsigned stream) {
  *s = (opt.seed + 1) * 0x9e3779b97f4a7c15ull ^ (stream + 1ull) << 32;
}

/* Preemption noise, never synchronisation: it shuffles the interleavings. */
static void noise(uint64_t* rng) {
  struct timespec ts;

  if (pick(rng, 8) == 0) {
    sched_yield();
  } else if (pick(rng, 8) == 0) {
    ts.tv_sec = 0;
    ts.tv_nsec = 1000 * (long) pick(rng, 50);
    nanosleep(&ts, NULL);
  }
}

static uint64_t cpu_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

/* The preemption points of the library's test build (src/atomic.h): now and
 * then give the CPU away between a ring operation's claim and its publish,
 * so that others meet it half done far more often. */
void uvev__preempt(void);

void uvev__preempt(void) {
  static __thread uint64_t rng;

  if (rng == 0)
    rng_init(&rng, (unsigned) uv_thread_self());
  if (opt.preempt && pick(&rng, 8) == 0)
    sched_yield();
}

/* A timed blocking call returns soon after its deadline. On a loaded machine
 * a thread may wait long for a CPU, so the wall-clock bound is loose; the
 * thread's own CPU time past the deadline is not inflated by load, and shows
 * a waiter that kept looping instead of returning. */
static void check_late(const char* what, uint64_t start, uint64_t cpu,
                       uint64_t ms, int err) {
  uint64_t spent = (uv_hrtime() - start) / 1000000;
  uint64_t used = (cpu_ns() - cpu) / 1000000;

  if (used > ms + SLACK_MS || spent > ms + 10 * SLACK_MS)
    fail("%s with a timeout of %llu ms returned %s after %llu ms, %llu ms "
         "of them on the CPU", what, (unsigned long long) ms, errname(err),
         (unsigned long long) spent, (unsigned long long) used);
}

/* ---- tokens ------------------------------------------------------------ */

static int take_pred(void* arg) {
  struct taker* t = arg;
  long n;

  if (t->took)
    fail("event %d: a predicate ran again after it took a token", t->e);
  /* A timed wait checks once more at its deadline and returns. However late
   * its thread runs, it does not go on re-checking. (The library takes its
   * clock right after the first call, so our deadline is not later.) */
  if (t->timeout != 0 && t->deadline == 0)
    t->deadline = uv_hrtime() + t->timeout;
  else if (t->timeout != 0 &&
           uv_hrtime() > t->deadline + LATE_MS * 1000000ull &&
           ++t->late > LATE_CALLS)
    fail("uvev_wait_sync_timeout: predicate called %d times %d ms or more "
         "after the deadline", t->late, LATE_MS);
  n = __atomic_load_n(&pool[t->e], __ATOMIC_RELAXED);
  while (n > 0)
    if (__atomic_compare_exchange_n(&pool[t->e], &n, n - 1, 1,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return t->took = 1;
  return 0;
}

static void produce(uint64_t* rng, int e) {
  unsigned k = 1 + pick(rng, 4);

  /* A small pool, so that waits sleep and need their wake-ups. */
  if (at_load(&pool[e]) >= 8)
    return;
  at_add(&added[e], k);
  at_add(&pool[e], k);
  /* Never fewer wake-ups than tokens: the checkpoints rely on it. */
  if (pick(rng, 4) == 0)
    uvev_notify_all(&events[e]);
  else
    uvev_notify(&events[e], k + pick(rng, 2));
}

/* ---- shared channels --------------------------------------------------- */

static uint64_t mix(uint64_t x) {
  x *= 0xff51afd7ed558ccdull;
  return x ^ (x >> 33);
}

static chan_t* chan_new(int slot, uint64_t* rng) {
  chan_t* c;

  c = calloc(1, sizeof(*c));
  CHECK(c != NULL);
  c->cap = 1 + pick(rng, 8);
  CHECK(uvev_chan_init(&c->ch, c->cap, sizeof(uint64_t)) == 0);
  c->slot = slot;
  c->id = at_add(&stats.created, 1) + 1;
  at_add(&stats.live, 1);
  return c;
}

static void chan_got(chan_t* c, uint64_t* next, uint64_t e) {
  unsigned s = (unsigned) (e >> 48);
  uint64_t q = e & ((1ull << 48) - 1);

  if (s >= SENDERS || q < next[s])
    fail("channel %lu: element %u:%llu, duplicate or out of order", c->id, s,
         (unsigned long long) q);
  next[s] = q + 1;
  at_add(&c->recvd, 1);
  at_add(&c->recvd_sum, mix(e));
}

/* Nobody holds c any more: nothing can start on it or still run in it. */
static void chan_finish(chan_t* c) {
  uint64_t next[SENDERS];
  uint64_t e;
  int err;

  memset(next, 0, sizeof(next));
  while ((err = uvev_chan_try_recv(&c->ch, &e)) == 0)
    chan_got(c, next, e);
  if (err != UV_EOF)
    fail("channel %lu: closed and unused, try_recv: %s", c->id, errname(err));
  err = uvev_chan_destroy(&c->ch);
  if (err != 0)
    fail("channel %lu: unused, destroy: %s", c->id, errname(err));
  if (c->sent != c->recvd || c->sent_sum != c->recvd_sum)
    fail("channel %lu: %lu elements sent, %lu received (checksums %llx, "
         "%llx)", c->id, c->sent, c->recvd,
         (unsigned long long) c->sent_sum, (unsigned long long) c->recvd_sum);
  at_add(&stats.moved, c->recvd);
  at_add(&stats.destroyed, 1);
  at_add(&stats.live, -1);
  free(c);
  mon_poke();
}

static void chan_release(chan_t* c) {
  slot_t* s = &slots[c->slot];
  int last;

  uv_mutex_lock(&s->lock);
  last = --c->refs == 0 && c->retired;
  uv_mutex_unlock(&s->lock);
  if (last)
    chan_finish(c);
}

/* Replaces the slot's channel (or empties the slot) and closes the old one,
 * holding a reference of our own while the close runs. */
static void chan_retire(int slot, uint64_t* rng, int replace) {
  slot_t* s = &slots[slot];
  chan_t* c;

  uv_mutex_lock(&s->lock);
  c = s->cur;
  if (c != NULL) {
    c->refs++;
    c->retired = 1;
    s->cur = replace ? chan_new(slot, rng) : NULL;
  }
  uv_mutex_unlock(&s->lock);
  if (c == NULL)
    return;
  uvev_chan_close(&c->ch);
  at_store(&c->closed, 1);
  chan_release(c);
}

static chan_t* user_take(user_t* u, int slot) {
  slot_t* s = &slots[slot];

  uv_mutex_lock(&s->lock);
  u->c = s->cur;
  if (u->c != NULL)
    u->c->refs++;
  uv_mutex_unlock(&s->lock);
  memset(u->next, 0, sizeof(u->next));
  return u->c;
}

static void user_drop(user_t* u) {
  chan_release(u->c);
  u->c = NULL;
}

static uint64_t* user_next(user_t* u) {
  u->elem = (uint64_t) u->sender << 48 | u->seq;
  return &u->elem;
}

/* Accounts a send or receive that returned `status`; `other` is the one
 * status besides 0 and EPIPE or EOF that the call may return. The session
 * ends when the channel is closed. */
static void user_after(user_t* u, int send, int status, int other) {
  int closed = send ? UV_EPIPE : UV_EOF;

  if (status != 0 && status != closed && status != other)
    fail("channel %lu: %s returned %s", u->c->id, send ? "send" : "recv",
         errname(status));
  if (status == 0 && send) {
    at_add(&u->c->sent, 1);
    at_add(&u->c->sent_sum, mix(u->elem));
    u->seq++;
  } else if (status == 0) {
    chan_got(u->c, u->next, u->out);
  } else if (status == closed) {
    user_drop(u);
  }
}

/* A try call (r 0 or 1) or the end of the session, on u's channel. */
static void user_try(user_t* u, unsigned r) {
  if (r == 0)
    user_after(u, 1, uvev_chan_try_send(&u->c->ch, user_next(u)), UV_EAGAIN);
  else if (r == 1)
    user_after(u, 0, uvev_chan_try_recv(&u->c->ch, &u->out), UV_EAGAIN);
  else
    user_drop(u);
}

/* ---- handoffs: private channels whose receiver destroys them ------------ */

static void handoff_open(lt_t* lt) {
  handoff_t* h = &lt->ho;
  int ok;

  h->mode = pick(&lt->rng, 2) ? HO_EOF : HO_LAST;
  ok = h->mode == HO_EOF ? opt.destroy_after_eof : opt.destroy_last;
  h->at_once = ok && pick(&lt->rng, 4) != 0;
  h->nprod = 1 + pick(&lt->rng, MAX_PROD);
  h->per_prod = 1 + pick(&lt->rng, 40);
  h->ch = malloc(sizeof(*h->ch));
  CHECK(h->ch != NULL);
  CHECK(uvev_chan_init(h->ch, 1 + pick(&lt->rng, 8), sizeof(uint64_t)) == 0);
  h->got = 0;
  h->eof = 0;
  memset(h->next, 0, sizeof(h->next));
  at_store(&h->left, h->nprod);
  at_store(&h->acked, 0);
  /* Under the lock that the run leaves RUN under: a handoff opens only while
   * the producers still look for work. */
  uv_mutex_lock(&board_lock);
  ok = at_load(&phase) == RUN;
  if (ok) {
    h->claimed = 0;
    h->state = HO_OPEN;
  }
  uv_mutex_unlock(&board_lock);
  if (!ok) {
    CHECK(uvev_chan_destroy(h->ch) == 0);
    free(h->ch);
    h->ch = NULL;
  }
}

static void handoff_got(handoff_t* h, int status) {
  unsigned p = (unsigned) (h->out >> 48);
  int i = (int) (h->out & 0xffffffff);

  if (status == UV_EOF && h->mode == HO_EOF &&
      h->got == h->nprod * h->per_prod) {
    h->eof = 1;
    return;
  }
  if (status != 0)
    fail("handoff: recv returned %s after %d of %d elements",
         errname(status), h->got, h->nprod * h->per_prod);
  if (p >= (unsigned) h->nprod || i != h->next[p])
    fail("handoff: element %u:%d out of order", p, i);
  h->next[p]++;
  h->got++;
}

static void on_handoff_recv(uvev_chan_op_t* op, int status);

/* The receiver, on its loop: receive everything (and EOF), destroy, then
 * free the record once every producer has said it is done with it. */
static void handoff_step(lt_t* lt) {
  handoff_t* h = &lt->ho;
  int total = h->nprod * h->per_prod;
  int err;

  if (h->state != HO_OPEN || h->op_active)
    return;
  while (h->ch != NULL && (h->got < total || (h->mode == HO_EOF && !h->eof))) {
    if (lt->w != NULL && pick(&lt->rng, 2) == 0) {
      CHECK(uvev_chan_recv(lt->w, &h->op, h->ch, &h->out,
                           on_handoff_recv) == 0);
      h->op_active = 1;
      lt->started++;
      return;
    }
    err = uvev_chan_try_recv(h->ch, &h->out);
    if (err == UV_EAGAIN)
      return;
    handoff_got(h, err);
  }
  if (h->ch != NULL) {
    /* At once, a producer's last blocking send or the close may still be
     * running in it: destroy must refuse until they have left. */
    if (!h->at_once && at_load(&h->acked) < h->nprod)
      return;
    err = uvev_chan_destroy(h->ch);
    if (err == UV_EBUSY && h->at_once) {
      at_add(&stats.ebusy, 1);
      return;
    }
    if (err != 0)
      fail("handoff: destroy returned %s", errname(err));
    free(h->ch);
    h->ch = NULL;
    at_add(&stats.moved, total);
    at_add(&stats.at_once, h->at_once);
  }
  if (at_load(&h->acked) < h->nprod)
    return;
  uv_mutex_lock(&board_lock);
  h->state = HO_FREE;
  uv_mutex_unlock(&board_lock);
  at_add(&stats.handoffs, 1);
  mon_poke();
}

static void on_handoff_recv(uvev_chan_op_t* op, int status) {
  lt_t* lt = op->data;

  CHECK(lt->ho.op_active);
  lt->ho.op_active = 0;
  lt->called++;
  if (status != UV_ECANCELED)
    handoff_got(&lt->ho, status);
  handoff_step(lt);
}

/* A producer: claims a part of an open handoff and sends it. Returns 0 if no
 * handoff needed a producer. */
static int handoff_serve(th_t* t) {
  handoff_t* h = NULL;
  uvev_chan_t* ch = NULL;
  uint64_t e, ms, start, cpu;
  int i, p = 0, n = 0, err;

  uv_mutex_lock(&board_lock);
  for (i = 0; i < LOOPS && h == NULL; i++)
    if (lts[i].ho.state == HO_OPEN && lts[i].ho.claimed < lts[i].ho.nprod)
      h = &lts[i].ho;
  if (h != NULL) {
    p = h->claimed++;
    ch = h->ch;
    n = h->per_prod;
  }
  uv_mutex_unlock(&board_lock);
  if (h == NULL)
    return 0;
  for (i = 0; i < n; i++) {
    e = (uint64_t) p << 48 | (uint64_t) i;
    do {
      /* HO_LAST: the last send is a blocking call, which destroy waits for;
       * the receiver could not tell a try_send still running. */
      if (pick(&t->rng, 2) == 0 && (i < n - 1 || h->mode == HO_EOF)) {
        err = uvev_chan_try_send(ch, &e);
        CHECK(err == 0 || err == UV_EAGAIN);
      } else {
        ms = pick(&t->rng, 10);
        start = uv_hrtime();
        cpu = cpu_ns();
        err = uvev_chan_send_sync_timeout(ch, &e, ms);
        check_late("uvev_chan_send_sync_timeout", start, cpu, ms, err);
        CHECK(err == 0 || err == UV_ETIMEDOUT);
      }
      if (err != 0)
        noise(&t->rng);
    } while (err != 0);
  }
  if (h->mode == HO_EOF && at_add(&h->left, -1) == 1)
    uvev_chan_close(ch);
  /* From here on ch may be gone; only the record is touched. */
  at_add(&h->acked, 1);
  return 1;
}

/* ---- probes: destroy while a request is pending ----------------------- */

static int probe_pred(void* arg) {
  return ((probe_t*) arg)->flag;
}

static void probe_done(probe_t* p) {
  p->lt->called++;
  if (--p->active > 0)
    return;
  CHECK(uvev_chan_destroy(p->ch) == 0);
  free(p->ch);
  p->ch = NULL;
  CHECK(uvev_event_destroy(&p->ev) == 0);
}

static void on_probe_recv(uvev_chan_op_t* op, int status) {
  probe_t* p = op->data;

  /* Cancelled by a waker close before the element was taken: it is still
   * there, untouched by the refused destroys. */
  if (status == UV_ECANCELED)
    CHECK(uvev_chan_try_recv(p->ch, &p->out) == 0);
  else
    CHECK(status == 0);
  CHECK(p->out == p->in);
  probe_done(p);
}

static void on_probe_wait(uvev_wait_t* req, int status) {
  CHECK(status == 0 || status == UV_ECANCELED);
  probe_done(req->data);
}

/* The objects are this loop's own, so no other call can race the destroys. */
static void probe_start(lt_t* lt) {
  probe_t* p = &lt->probe;

  p->ch = malloc(sizeof(*p->ch));
  CHECK(p->ch != NULL);
  CHECK(uvev_chan_init(p->ch, 1 + pick(&lt->rng, 8), sizeof(uint64_t)) == 0);
  CHECK(uvev_event_init(&p->ev) == 0);
  p->flag = 0;
  CHECK(uvev_chan_recv(lt->w, &p->op, p->ch, &p->out, on_probe_recv) == 0);
  CHECK(uvev_wait(lt->w, &p->req, &p->ev, probe_pred, on_probe_wait) == 0);
  p->active = 2;
  lt->started += 2;
  CHECK(uvev_chan_destroy(p->ch) == UV_EBUSY);
  CHECK(uvev_event_destroy(&p->ev) == UV_EBUSY);
  /* Notified and queued on this loop, not yet called back: still busy. */
  p->in = rnd(&lt->rng);
  CHECK(uvev_chan_try_send(p->ch, &p->in) == 0);
  p->flag = 1;
  uvev_notify_one(&p->ev);
  CHECK(uvev_chan_destroy(p->ch) == UV_EBUSY);
  CHECK(uvev_event_destroy(&p->ev) == UV_EBUSY);
  at_add(&stats.probes, 1);
}

/* ---- loop threads ------------------------------------------------------ */

static void on_wait(uvev_wait_t* req, int status);

static void wait_start(lt_t* lt, wop_t* o) {
  static const uint64_t timeouts[] = { 0, 1, 5, 20, 200 };
  uvev_event_t* ev;
  int err;

  o->t.e = pick(&lt->rng, QUIET);
  o->t.took = 0;
  o->timed = pick(&lt->rng, 2);
  o->req.data = &o->t;
  ev = &events[o->t.e];
  at_add(&pending[o->t.e], 1);
  if (o->timed)
    err = uvev_wait_timeout(lt->w, &o->req, ev, take_pred, on_wait,
                            timeouts[pick(&lt->rng, 5)]);
  else
    err = uvev_wait(lt->w, &o->req, ev, take_pred, on_wait);
  CHECK(err == 0);
  o->active = 1;
  lt->started++;
}

static void on_wait(uvev_wait_t* req, int status) {
  wop_t* o = (wop_t*) ((char*) req - offsetof(wop_t, req));
  lt_t* lt = o->lt;

  CHECK(o->active);
  o->active = 0;
  lt->called++;
  at_add(&pending[o->t.e], -1);
  if (status != 0 && status != UV_ECANCELED &&
      !(status == UV_ETIMEDOUT && o->timed))
    fail("loop wait (timed %d): status %s", o->timed, errname(status));
  if ((status == 0) != o->t.took)
    fail("loop wait: status %s with %d token taken", errname(status),
         o->t.took);
  if (status == 0)
    at_add(&taken[o->t.e], 1);
  if (lt->closing != NULL && pick(&lt->rng, 4) == 0)
    CHECK(uvev_wait(lt->closing, req, &events[0], take_pred, on_wait) ==
          UV_EINVAL);
  if (at_load(&phase) != RUN)
    mon_poke();
  else if (lt->w != NULL && pick(&lt->rng, 4) == 0)
    wait_start(lt, o);  /* again, from its own callback */
}

static void on_cop(uvev_chan_op_t* op, int status);

static void cop_start(lt_t* lt, cop_t* c, int send) {
  chan_t* ch = c->u.c;

  c->send = send;
  at_add(send ? &ch->nsend : &ch->nrecv, 1);
  if (send)
    CHECK(uvev_chan_send(lt->w, &c->op, &ch->ch, user_next(&c->u), on_cop) ==
          0);
  else
    CHECK(uvev_chan_recv(lt->w, &c->op, &ch->ch, &c->u.out, on_cop) == 0);
  c->active = 1;
  lt->started++;
}

static void on_cop(uvev_chan_op_t* op, int status) {
  cop_t* c = op->data;
  lt_t* lt = c->lt;

  CHECK(c->active);
  c->active = 0;
  lt->called++;
  at_add(c->send ? &c->u.c->nsend : &c->u.c->nrecv, -1);
  user_after(&c->u, c->send, status, UV_ECANCELED);
  if (c->u.c != NULL && at_load(&phase) != RUN)
    user_drop(&c->u);
  else if (c->u.c != NULL && lt->w != NULL && pick(&lt->rng, 4) == 0)
    cop_start(lt, c, c->send);
}

/* 1 if a channel request of this loop is pending where it cannot stay: its
 * channel is closed, or (unless closed_only) has an element for a receiver,
 * or room for a sender. Counts are exact once nothing else moves. */
static int lt_owed(lt_t* lt, int closed_only) {
  chan_t* c;
  long n;
  int i;

  for (i = 0; i < COPS; i++) {
    if (!lt->cops[i].active)
      continue;
    c = lt->cops[i].u.c;
    n = (long) (at_load(&c->sent) - at_load(&c->recvd));
    if (at_load(&c->closed) ||
        (!closed_only && ((at_load(&c->nrecv) > 0 && n > 0) ||
                          (at_load(&c->nsend) > 0 && n < c->cap))))
      return 1;
  }
  return 0;
}

static void cop_action(lt_t* lt, cop_t* c) {
  user_t* u = &c->u;
  unsigned r;

  /* One pending on a closed channel must end by itself: no cancel hides a
   * lost wake-up from the next checkpoint. */
  if (c->active) {
    if (!at_load(&u->c->closed) && pick(&lt->rng, 4) == 0)
      CHECK(uvev_chan_cancel(&c->op) == 0);
    return;
  }
  if (u->c == NULL && user_take(u, pick(&lt->rng, SLOTS)) == NULL)
    return;
  r = pick(&lt->rng, 8);
  if (r < 2 || r == 7)
    user_try(u, r);
  else if (lt->w != NULL)
    cop_start(lt, c, r < 4);
}

static void on_waker_closed(uvev_waker_t* w) {
  lt_t* lt = w->data;
  int i;

  /* Every request was called back before close_cb. */
  for (i = 0; i < WAITS; i++)
    CHECK(!lt->waits[i].active);
  for (i = 0; i < COPS; i++)
    CHECK(!lt->cops[i].active);
  CHECK(!lt->ho.op_active && lt->probe.active == 0 && w == lt->closing);
  free(w);
  lt->closing = NULL;
  if (lt->final)
    uv_close((uv_handle_t*) &lt->tick, NULL);
}

static void waker_open(lt_t* lt) {
  uvev_waker_t* w;

  w = calloc(1, sizeof(*w));
  CHECK(w != NULL);
  w->data = lt;
  CHECK(uvev_waker_init(&lt->loop, w) == 0);
  lt->w = w;
  at_add(&stats.wakers, 1);
}

/* Pending requests complete with UV_ECANCELED or their decided status; the
 * next tick makes a new waker. */
static void waker_close(lt_t* lt) {
  lt->closing = lt->w;
  lt->w = NULL;
  uvev_waker_close(lt->closing, on_waker_closed);
}

static void lt_action(lt_t* lt) {
  unsigned r = pick(&lt->rng, 1000);
  wop_t* o = &lt->waits[r % WAITS];

  if (r < 350) {
    if (o->active && lt->w != NULL && pick(&lt->rng, 8) == 0)
      CHECK(uvev_wait(lt->w, &o->req, &events[0], take_pred, on_wait) ==
            UV_EBUSY);
    else if (o->active && pick(&lt->rng, 3) == 0)
      CHECK(uvev_wait_cancel(&o->req) == 0);
    else if (!o->active && lt->w != NULL)
      wait_start(lt, o);
    else if (!o->active && pick(&lt->rng, 8) == 0)
      CHECK(uvev_wait_cancel(&o->req) == UV_EINVAL);
  } else if (r < 750) {
    cop_action(lt, &lt->cops[r % COPS]);
  } else if (r < 850) {
    produce(&lt->rng, pick(&lt->rng, QUIET));
  } else if (r < 855) {
    chan_retire(pick(&lt->rng, SLOTS), &lt->rng, 1);
  } else if (r < 856) {
    if (lt->w != NULL && !lt_owed(lt, 1))
      waker_close(lt);
  } else if (r < 875) {
    if (lt->w != NULL && lt->probe.ch == NULL)
      probe_start(lt);
  } else if (r < 900) {
    if (lt->ho.state == HO_FREE)
      handoff_open(lt);
  } else if (r < 910) {
    uvev_notify(&events[pick(&lt->rng, EVENTS)], pick(&lt->rng, 3));
  }
}

/* Draining: start nothing, let go of channels. Stopping: also cancel the
 * waits, then close the waker for good, which ends the loop. */
static void lt_drain(lt_t* lt, int ph) {
  int busy = lt->probe.ch != NULL || lt->ho.state != HO_FREE;
  int i;

  for (i = 0; i < COPS; i++) {
    if (!lt->cops[i].active && lt->cops[i].u.c != NULL)
      user_drop(&lt->cops[i].u);
    busy |= lt->cops[i].active;
  }
  for (i = 0; i < WAITS; i++) {
    if (lt->waits[i].active && ph == STOP)
      CHECK(uvev_wait_cancel(&lt->waits[i].req) == 0);
    busy |= lt->waits[i].active;
  }
  if (ph == STOP && !busy && lt->w != NULL) {
    lt->final = 1;
    waker_close(lt);
  }
}

static void on_tick(uv_timer_t* timer) {
  lt_t* lt = timer->data;
  int ph = at_load(&phase);
  int i, n;

  if (lt->w == NULL && lt->closing == NULL && !lt->final)
    waker_open(lt);
  if (ph == RUN) {
    n = 1 + pick(&lt->rng, 4);
    for (i = 0; i < n; i++)
      lt_action(lt);
    lt->ops += n;
  } else if (ph == PAUSE) {
    if (!lt_owed(lt, 0))
      at_store(&lt->settled, at_load(&checkpoint));
  } else {
    lt_drain(lt, ph);
  }
  handoff_step(lt);
  if (!lt->final)
    uv_timer_start(timer, on_tick, pick(&lt->rng, 3), 0);
}

static void lt_main(void* arg) {
  lt_t* lt = arg;
  int i;

  CHECK(uv_loop_init(&lt->loop) == 0);
  for (i = 0; i < WAITS; i++)
    lt->waits[i].lt = lt;
  for (i = 0; i < COPS; i++) {
    lt->cops[i].lt = lt;
    lt->cops[i].op.data = &lt->cops[i];
    lt->cops[i].u.sender = lt->id * COPS + i;
  }
  lt->ho.op.data = lt;
  lt->probe.lt = lt;
  lt->probe.op.data = &lt->probe;
  lt->probe.req.data = &lt->probe;
  waker_open(lt);
  CHECK(uv_timer_init(&lt->loop, &lt->tick) == 0);
  lt->tick.data = lt;
  uv_timer_start(&lt->tick, on_tick, 0, 0);
  uv_run(&lt->loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&lt->loop) == 0);
  if (lt->started != lt->called)
    fail("loop %d: %lu requests started, %lu called back", lt->id,
         lt->started, lt->called);
  at_store(&lt->exited, 1);
  mon_poke();
}

/* ---- plain threads ----------------------------------------------------- */

static const uint64_t sync_timeouts[] = { 0, 1, 5, 20 };

static void th_wait(th_t* t) {
  struct taker tk;
  uint64_t ms = sync_timeouts[pick(&t->rng, 4)];
  uint64_t start = uv_hrtime();
  uint64_t cpu = cpu_ns();
  int err;

  /* The quiet event only when storms run, so that some waits sit them out. */
  tk.e = pick(&t->rng, opt.storm ? EVENTS : QUIET);
  tk.took = 0;
  tk.late = 0;
  tk.timeout = ms * 1000000;
  tk.deadline = 0;
  err = uvev_wait_sync_timeout(&events[tk.e], take_pred, &tk, ms);
  check_late("uvev_wait_sync_timeout", start, cpu, ms, err);
  if ((err != 0 && err != UV_ETIMEDOUT) || (err == 0) != tk.took)
    fail("blocking wait returned %s with %d token taken", errname(err),
         tk.took);
  if (err == 0)
    at_add(&taken[tk.e], 1);
}

static void th_chan(th_t* t) {
  user_t* u = &t->u;
  uint64_t ms = sync_timeouts[pick(&t->rng, 4)];
  uint64_t start, cpu;
  unsigned r = pick(&t->rng, 9);
  int err;

  if (u->c == NULL && user_take(u, pick(&t->rng, SLOTS)) == NULL)
    return;
  start = uv_hrtime();
  cpu = cpu_ns();
  if (r < 2 || r == 8) {
    user_try(u, r);
  } else if (r < 6) {
    err = uvev_chan_send_sync_timeout(&u->c->ch, user_next(u), ms);
    check_late("uvev_chan_send_sync_timeout", start, cpu, ms, err);
    user_after(u, 1, err, UV_ETIMEDOUT);
  } else if (r < 8) {
    err = uvev_chan_recv_sync_timeout(&u->c->ch, &u->out, ms);
    check_late("uvev_chan_recv_sync_timeout", start, cpu, ms, err);
    user_after(u, 0, err, UV_ETIMEDOUT);
  }
}

/* Wake-ups with nothing to take, for a while: blocking waiters on the quiet
 * event are woken again and again and must still return by their deadline.
 * Then tokens, so that some of them succeed. */
static void storm(th_t* t) {
  uint64_t end = uv_hrtime() + (200 + pick(&t->rng, 2300)) * 1000000ull;

  t->next_storm = end + (1000 + pick(&t->rng, 4000)) * 1000000ull;
  while (uv_hrtime() < end)
    uvev_notify_all(&events[QUIET]);
  produce(&t->rng, QUIET);
}

static void th_main(void* arg) {
  th_t* t = arg;
  unsigned r;
  int ph;

  t->next_storm = uv_hrtime() + pick(&t->rng, 3000) * 1000000ull;
  while ((ph = at_load(&phase)) <= PAUSE) {
    t->ops++;
    if (ph == PAUSE) {
      uv_mutex_lock(&mon_lock);
      while (at_load(&phase) == PAUSE)
        uv_cond_timedwait(&mon_cond, &mon_lock, 50000000);
      uv_mutex_unlock(&mon_lock);
      continue;
    }
    r = pick(&t->rng, 1000);
    if (r < 150)
      produce(&t->rng, pick(&t->rng, QUIET));
    else if (r < 300)
      th_wait(t);
    else if (r < 700)
      th_chan(t);
    else if (r < 704)
      chan_retire(pick(&t->rng, SLOTS), &t->rng, 1);
    else if (r < 800)
      handoff_serve(t);
    else if (r < 830)
      uvev_notify(&events[pick(&t->rng, EVENTS)], pick(&t->rng, 3));
    else if (r < 840 && opt.storm && uv_hrtime() >= t->next_storm)
      storm(t);
    else
      noise(&t->rng);
  }
  if (t->u.c != NULL)
    user_drop(&t->u);
  /* No handoff opens any more; the open ones still need their producers. */
  while (handoff_serve(t))
    t->ops++;
  at_store(&t->exited, 1);
  mon_poke();
}

/* ---- the watchdog and the run ------------------------------------------ */

/* White box, for the dump only: the channel's ring words, the request's
 * flags and its waitset link, the event's waiters. */
static void dump_cop(cop_t* c) {
  chan_t* ch = c->u.c;
  uvev_event_t* ev = c->send ? &ch->ch.not_full : &ch->ch.not_empty;
  struct uvev__node* n;
  int linked = 0;

  for (n = ev->ws.head; n != NULL; n = n->next)
    linked++;
  fprintf(stderr, "  %s on channel %lu: closed %d, %lu sent, %lu received, "
          "capacity %d; ring head %llx tail %llx; request flags %x, in wait "
          "set %d; event is_empty %d, %d linked, %lu waits\n",
          c->send ? "send" : "recv", ch->id, ch->closed, ch->sent, ch->recvd,
          ch->cap, (unsigned long long) ch->ch.ring.head,
          (unsigned long long) ch->ch.ring.tail, c->op.wait.flags,
          c->op.wait.node.in_wait_set, ev->ws.is_empty, linked, ev->nwaits);
}

static void dump(void) {
  handoff_t* h;
  int i, j;

  fprintf(stderr, "phase %d, checkpoint %u, %ld shared channels live\n",
          phase, checkpoint, stats.live);
  for (i = 0; i < EVENTS; i++)
    fprintf(stderr, "event %d: %ld tokens, %ld loop waits pending\n", i,
            pool[i], pending[i]);
  for (i = 0; i < LOOPS; i++) {
    h = &lts[i].ho;
    fprintf(stderr, "loop %d: exited %d, settled %u, handoff %s: mode %d, "
            "%d of %d, eof %d, %d of %d acks, recv pending %d\n", i,
            lts[i].exited, lts[i].settled, h->state ? "open" : "free",
            h->mode, h->got, h->nprod * h->per_prod, h->eof, h->acked,
            h->nprod, h->op_active);
    for (j = 0; j < WAITS; j++)
      if (lts[i].waits[j].active)
        fprintf(stderr, "  wait on event %d, timed %d\n",
                lts[i].waits[j].t.e, lts[i].waits[j].timed);
    for (j = 0; j < COPS; j++)
      if (lts[i].cops[j].active)
        dump_cop(&lts[i].cops[j]);
  }
}

/* Done with the given stage of the run? */
static int done(int what) {
  int i, ok = 1;

  uv_mutex_lock(&board_lock);
  for (i = 0; i < LOOPS; i++) {
    if (what == 'l')
      ok &= at_load(&lts[i].exited);
    else if (what == 'p')
      ok &= at_load(&lts[i].settled) == at_load(&checkpoint);
    else if (what == 'c')
      ok &= lts[i].ho.state == HO_FREE && at_load(&stats.live) == 0;
    if (i < THREADS && what == 't')
      ok &= at_load(&ths[i].exited);
  }
  uv_mutex_unlock(&board_lock);
  /* Nobody adds tokens now: a pool with tokens left must not keep a loop
   * wait asleep, since each token came with a wake-up of its own. */
  for (i = 0; i < EVENTS && (what == 'p' || what == 'e'); i++)
    ok &= at_load(&pool[i]) == 0 || at_load(&pending[i]) == 0;
  return ok;
}

static void await(int what, const char* name) {
  uint64_t deadline = uv_hrtime() + WATCHDOG_S * 1000000000ull;

  uv_mutex_lock(&mon_lock);
  while (!done(what)) {
    if (uv_hrtime() > deadline) {
      dump();
      fail("watchdog: %s not done after %d s (a lost wake-up?)", name,
           WATCHDOG_S);
    }
    /* Timed: a poke that comes between done() and the wait is not lost. */
    uv_cond_timedwait(&mon_cond, &mon_lock, 50000000);
  }
  uv_mutex_unlock(&mon_lock);
}

static void leave(int ph) {
  uv_mutex_lock(&board_lock);
  at_store(&phase, ph);
  uv_mutex_unlock(&board_lock);
  mon_poke();
}

static void on_alarm(int sig) {
  ssize_t n = write(2, alarm_msg, strlen(alarm_msg));

  (void) n;
  abort();
}

int main(int argc, char** argv) {
  unsigned long ops = 0, tokens = 0;
  uint64_t start, end, ms, rng;
  int seeded = 0;
  int i;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      opt.seed = strtoull(argv[++i], NULL, 0);
      seeded = 1;
    } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      opt.seconds = (unsigned) atoi(argv[++i]);
    } else if (strcmp(argv[i], "--no-destroy-after-eof") == 0) {
      opt.destroy_after_eof = 0;
    } else if (strcmp(argv[i], "--no-destroy-last") == 0) {
      opt.destroy_last = 0;
    } else if (strcmp(argv[i], "--no-storm") == 0) {
      opt.storm = 0;
    } else if (strcmp(argv[i], "--no-preempt") == 0) {
      opt.preempt = 0;
    } else {
      fprintf(stderr, "usage: uvev-soak [--seed N] [--seconds S] "
              "[--no-destroy-after-eof] [--no-destroy-last] [--no-storm] "
              "[--no-preempt]\n");
      return 2;
    }
  }
  if (!seeded)
    opt.seed = uv_hrtime() ^ (uint64_t) time(NULL) << 24;
  printf("uvev-soak: seed %llu, %u s%s%s%s%s\n", opt.seed, opt.seconds,
         opt.destroy_after_eof ? "" : ", --no-destroy-after-eof",
         opt.destroy_last ? "" : ", --no-destroy-last",
         opt.storm ? "" : ", --no-storm", opt.preempt ? "" : ", --no-preempt");
  fflush(stdout);
  snprintf(alarm_msg, sizeof(alarm_msg),
           "uvev-soak: FAILED, seed %llu: process alarm\n", opt.seed);
  signal(SIGALRM, on_alarm);
  alarm(opt.seconds + 5 * WATCHDOG_S);

  start = uv_hrtime();
  CHECK(uv_mutex_init(&board_lock) == 0);
  CHECK(uv_mutex_init(&mon_lock) == 0);
  CHECK(uv_cond_init(&mon_cond) == 0);
  for (i = 0; i < EVENTS; i++)
    CHECK(uvev_event_init(&events[i]) == 0);
  rng_init(&rng, LOOPS + THREADS);
  for (i = 0; i < SLOTS; i++) {
    CHECK(uv_mutex_init(&slots[i].lock) == 0);
    slots[i].cur = chan_new(i, &rng);
  }
  for (i = 0; i < LOOPS; i++) {
    lts[i].id = i;
    rng_init(&lts[i].rng, i);
    CHECK(uv_thread_create(&lts[i].tid, lt_main, &lts[i]) == 0);
  }
  for (i = 0; i < THREADS; i++) {
    ths[i].u.sender = LOOPS * COPS + i;
    rng_init(&ths[i].rng, LOOPS + i);
    CHECK(uv_thread_create(&ths[i].tid, th_main, &ths[i]) == 0);
  }

  /* The run, with a checkpoint every 0.2 to 0.8 s. The sleeps set its pace;
   * they order nothing. */
  end = start + opt.seconds * 1000000000ull;
  while (uv_hrtime() < end) {
    ms = 200 + pick(&rng, 600);
    if (uv_hrtime() + ms * 1000000 > end)
      ms = (end - uv_hrtime()) / 1000000;
    uv_sleep((unsigned) ms);
    at_add(&checkpoint, 1);
    leave(PAUSE);
    await('p', "checkpoint");
    leave(RUN);
  }

  leave(DRAIN);
  await('t', "plain threads (and the handoffs they serve)");
  for (i = 0; i < SLOTS; i++)
    chan_retire(i, NULL, 0);
  await('c', "channel and handoff shutdown");
  await('e', "token pools with loop waits asleep");
  leave(STOP);
  await('l', "loop shutdown");
  for (i = 0; i < THREADS; i++) {
    CHECK(uv_thread_join(&ths[i].tid) == 0);
    ops += ths[i].ops;
  }
  for (i = 0; i < LOOPS; i++) {
    CHECK(uv_thread_join(&lts[i].tid) == 0);
    ops += lts[i].ops;
  }
  alarm(0);

  for (i = 0; i < EVENTS; i++) {
    if (added[i] != taken[i] + (unsigned long) pool[i])
      fail("event %d: %lu tokens added, %lu taken, %ld left", i, added[i],
           taken[i], pool[i]);
    CHECK(pending[i] == 0 && uvev_event_destroy(&events[i]) == 0);
    tokens += taken[i];
  }
  if (stats.created != stats.destroyed)
    fail("%lu channels created, %lu destroyed", stats.created,
         stats.destroyed);
  printf("uvev-soak: seed %llu: ok in %.1f s, %u checkpoints: %lu operations, "
         "%lu elements moved, %lu tokens, %lu channels created and destroyed, "
         "%lu handoffs (%lu destroyed at once, %lu EBUSY retries), %lu "
         "probes, %lu wakers\n", opt.seed, (uv_hrtime() - start) / 1e9,
         checkpoint, ops, stats.moved, tokens, stats.destroyed,
         stats.handoffs, stats.at_once, stats.ebusy, stats.probes,
         stats.wakers);
  return 0;
}
