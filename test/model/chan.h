/* chan.h: the model scenarios of the channel: the REAL src/ring.c (the
 * lock-free ring) and src/chan.h (each ring operation and its notification
 * on not_empty / not_full), compiled here under Relacy on top of model.h's
 * waitset and blocking waiters.
 *
 * It owns: the model cell (the ring's cell header, then an rl::var payload,
 * so Relacy checks every element for data races) and the uvev__cell_put /
 * uvev__cell_get hooks that ring.c uses for it; blocking send and receive
 * modelled on src/chan.c's _sync calls (the predicate is the try operation,
 * its result kept; the wait is model.h's twaiter_wait_pred, which follows
 * src/sync.c); the channel scenarios, whose after() checks the accounting
 * (every accepted element received exactly once, in order per producer,
 * payload intact; nothing else received; every operation ended). A lost
 * wake-up leaves a waiter parked forever: Relacy reports DEADLOCK.
 *
 * The table at the bottom (UVEV_MODEL_CHAN_SCENARIOS) says how each scenario
 * is searched; test/model/model.cpp runs it.
 */
#ifndef UVEV_MODEL_CHAN_H_
#define UVEV_MODEL_CHAN_H_

#include "model.h"
#include "../../src/ring.h"

/* A cell of the model's ring: what ring.c sees (a struct uvev__cell at the
 * start of every `stride` bytes), then the element, an int. */
struct mcell {
  struct uvev__cell cell;  /* first member: ring.c's cell pointer is ours */
  rl::var<int> payload;    /* the element; written and read only by ring.c */
};

/* ring.c copies elements through these instead of memcpy. */
#define uvev__cell_put(r, c, elem)                                            \
  (((struct mcell*) (c))->payload($) = *(const int*) (elem))
#define uvev__cell_get(r, c, out)                                             \
  (*(int*) (out) = ((struct mcell*) (c))->payload($))

/* The real ring and the channel's lock-free half, compiled as C++. */
#include "../../src/ring.c"
#include "../../src/chan.h"

/* Sizes of the scenarios below. */
enum {
  CH_MAX_CAP = 4,    /* ring cells */
  CH_MAX_PROD = 3,   /* producers (a pre-filled element counts as one) */
  CH_MAX_PER = 2,    /* elements per producer */
  CH_MAX_RECV = 2,   /* receivers */
  CH_MAX_WAIT = 4,   /* blocking threads */
  CH_UNTIL_EOF = CH_MAX_PROD * CH_MAX_PER  /* a receiver's `max`: no limit */
};

/* The element producer p sends k-th: never 0, and tells who sent it. */
#define CH_ELEM(p, k) (0x100 * ((p) + 1) + (k))

/* Everything a channel scenario may use. */
struct cworld {
  uvev_chan_t ch;
  mcell cells[CH_MAX_CAP];
  twaiter tw[CH_MAX_WAIT];
  /* Read in after() only; each written by one thread. */
  int sent[CH_MAX_PROD][CH_MAX_PER];  /* what each send returned */
  int got[CH_MAX_RECV][CH_MAX_PROD * CH_MAX_PER];  /* elements, in order */
  int ngot[CH_MAX_RECV];
  int end[CH_MAX_RECV];               /* how each receiver's loop ended */
};

/* uvev_chan_init, with the cells inside the test suite. */
static void cworld_init(cworld* w, uint64_t capacity) {
  int i;
  int k;

  RL_ASSERT(capacity >= 1 && capacity <= CH_MAX_CAP);
  RL_ASSERT((void*) &w->cells[0].cell == (void*) &w->cells[0]);
  uvev__ws_init(&w->ch.not_empty.ws);
  uvev__ws_init(&w->ch.not_full.ws);
  /* Relaxed: before() runs before every thread; nwaits is not modelled. */
  uvev__store(w->ch.not_empty.nwaits, 0UL, relaxed);
  /* Relaxed: as above. */
  uvev__store(w->ch.not_full.nwaits, 0UL, relaxed);
  uvev__ring_init(&w->ch.ring, (char*) w->cells, capacity, sizeof(int),
                  sizeof(mcell));
  /* Relaxed: as above. */
  uvev__store(w->ch.closing, 0UL, relaxed);
  for (i = 0; i < CH_MAX_WAIT; i++)
    twaiter_init(&w->tw[i], 0, EARLY_SPURIOUS);
  for (i = 0; i < CH_MAX_PROD; i++)
    for (k = 0; k < CH_MAX_PER; k++)
      w->sent[i][k] = M_PENDING;
  for (i = 0; i < CH_MAX_RECV; i++) {
    w->ngot[i] = 0;
    w->end[i] = M_PENDING;
  }
}

/* Producer p's k-th element, sent in before() (the channel starts with it). */
static void cworld_prefill(cworld* w, int p, int k) {
  int elem;

  elem = CH_ELEM(p, k);
  w->sent[p][k] = uvev__chan_send(&w->ch, &elem);
  RL_ASSERT(w->sent[p][k] == 0);
}


/* ---- Blocking send and receive (src/chan.c, thread side) ------------------ */

/* uvev__chan_sync's state: the predicate only claims (src/chan.c), and the
 * notify and the copy come after the wait has returned. */
struct csync {
  uvev_chan_t* ch;
  struct uvev__slot slot;
  int result;  /* what the last claim returned */
};

static int csync_send_pred(void* arg) {
  csync* s = (csync*) arg;

  s->result = uvev__ring_claim_send(&s->ch->ring, &s->slot);
  return s->result != UV_EAGAIN;
}

static int csync_recv_pred(void* arg) {
  csync* s = (csync*) arg;

  s->result = uvev__ring_claim_recv(&s->ch->ring, &s->slot);
  return s->result != UV_EAGAIN;
}

/* uvev_chan_send_sync: 0 or UV_EPIPE. */
static int chan_send_sync(cworld* w, twaiter* tw, int elem) {
  csync s;
  int err;

  s.ch = &w->ch;
  s.result = UV_EAGAIN;
  err = twaiter_wait_pred(&w->ch.not_full.ws, csync_send_pred, &s, tw);
  if (err != M_OK)
    return err;
  if (s.result == 0)
    uvev__chan_send_finish(&w->ch, &s.slot, &elem, 1);
  return s.result;
}

/* uvev_chan_recv_sync: 0 (the element in *out) or UV_EOF. */
static int chan_recv_sync(cworld* w, twaiter* tw, int* out) {
  csync s;
  int err;

  s.ch = &w->ch;
  s.result = UV_EAGAIN;
  err = twaiter_wait_pred(&w->ch.not_empty.ws, csync_recv_pred, &s, tw);
  if (err != M_OK)
    return err;
  if (s.result != 0)
    return s.result;
  uvev__chan_recv_finish(&w->ch, &s.slot, out, 1);
  return 0;
}

/* A loop receive (src/chan.c's uvev__chan_recv_pred): the predicate is the
 * whole try call, run on the loop. */
struct cloop_recv {
  uvev_chan_t* ch;
  int out;
  int result;
};

static int cloop_recv_pred(void* arg) {
  cloop_recv* op = (cloop_recv*) arg;

  op->result = uvev__chan_recv(op->ch, &op->out);
  return op->result != UV_EAGAIN;
}

/* Takes the next element at once, outside any wait (after() only). */
static int ring_pop_now(struct uvev__ring* r, int* out) {
  struct uvev__slot s;
  int err;

  err = uvev__ring_claim_recv(r, &s);
  if (err == 0)
    uvev__ring_take(r, &s, out);
  return err;
}

/* Producer p sends its elements first..n-1, blocking; stops at UV_EPIPE. */
static void producer(cworld* w, twaiter* tw, int p, int first, int n) {
  int k;

  for (k = first; k < n; k++) {
    w->sent[p][k] = chan_send_sync(w, tw, CH_ELEM(p, k));
    if (w->sent[p][k] != 0)
      break;
  }
}

/* Receiver i receives, blocking, until UV_EOF, or until it has `max`. */
static void receiver(cworld* w, twaiter* tw, int i, int max) {
  int elem;
  int err;

  err = 0;
  while (w->ngot[i] < max) {
    err = chan_recv_sync(w, tw, &elem);
    if (err != 0)
      break;
    RL_ASSERT(w->ngot[i] < CH_MAX_PROD * CH_MAX_PER);
    w->got[i][w->ngot[i]++] = elem;
  }
  w->end[i] = err;
}


/* ---- The accounting, checked in after() ------------------------------------ */

/* Every element whose send returned 0 was received exactly once; no other
 * element was received (a payload that is no element of ours is a torn or
 * stale one); each receiver got each producer's elements in the order they
 * were sent; nobody is left registered on either event; and nothing is left
 * in the ring, which reports EOF if it was closed. nprod producers, nrecv
 * receivers. */
static void check_accounting(cworld* w, int nprod, int nrecv, int closed) {
  int times[CH_MAX_PROD][CH_MAX_PER];
  int last[CH_MAX_PROD];
  int i;
  int j;
  int p;
  int k;
  int elem;

  memset(times, 0, sizeof(times));
  for (i = 0; i < nrecv; i++) {
    for (p = 0; p < CH_MAX_PROD; p++)
      last[p] = -1;
    for (j = 0; j < w->ngot[i]; j++) {
      elem = w->got[i][j];
      p = elem / 0x100 - 1;
      k = elem % 0x100;
      if (p < 0 || p >= nprod || k >= CH_MAX_PER) {
        RL_ASSERT(!"received a payload that no producer sent");
        return;
      }
      RL_ASSERT(w->sent[p][k] == 0);  /* only accepted elements come out */
      RL_ASSERT(k > last[p]);         /* FIFO per producer */
      last[p] = k;
      times[p][k]++;
    }
  }
  for (p = 0; p < nprod; p++)
    for (k = 0; k < CH_MAX_PER; k++)
      RL_ASSERT(times[p][k] == (w->sent[p][k] == 0));  /* exactly once */
  /* Relaxed: every thread has finished; nobody may still be registered. */
  RL_ASSERT(uvev__load(w->ch.not_empty.ws.is_empty, relaxed));
  /* Relaxed: as above. */
  RL_ASSERT(uvev__load(w->ch.not_full.ws.is_empty, relaxed));
  RL_ASSERT(ring_pop_now(&w->ch.ring, &elem) ==
            (closed ? UV_EOF : UV_EAGAIN));
}


/* ---- Scenarios ------------------------------------------------------------- */

/* One producer, one consumer, capacity 1, two elements: each cell is used
 * twice, so both of the cell's release/acquire pairs are exercised (the
 * element published by the send, the cell freed by the receive). */
struct chan_1p1c : rl::test_suite<chan_1p1c, 2> {
  cworld w;
  void before() { cworld_init(&w, 1); }
  void thread(unsigned i) {
    if (i == 0)
      producer(&w, &w.tw[0], 0, 0, 2);
    else
      receiver(&w, &w.tw[1], 0, 2);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[0][1] == 0);
    RL_ASSERT(w.ngot[0] == 2 && w.end[0] == 0);
    check_accounting(&w, 1, 1, 0);
  }
};

/* Two producers, one consumer, capacity cap: each producer sends nper
 * elements, blocking while the channel is full; the consumer receives them
 * all, blocking while it is empty. Senders compete for cells and wake-ups. */
template<uint64_t cap, int nper>
struct chan_2p1c_t : rl::test_suite<chan_2p1c_t<cap, nper>, 3> {
  cworld w;
  void before() { cworld_init(&w, cap); }
  void thread(unsigned i) {
    if (i < 2)
      producer(&w, &w.tw[i], (int) i, 0, nper);
    else
      receiver(&w, &w.tw[2], 0, 2 * nper);
  }
  void after() {
    int p;
    int k;

    for (p = 0; p < 2; p++)
      for (k = 0; k < nper; k++)
        RL_ASSERT(w.sent[p][k] == 0);
    RL_ASSERT(w.ngot[0] == 2 * nper && w.end[0] == 0);
    check_accounting(&w, 2, 1, 0);
  }
};
typedef chan_2p1c_t<1, 2> chan_2p1c_cap1;
typedef chan_2p1c_t<2, 2> chan_2p1c_cap2;
typedef chan_2p1c_t<1, 1> chan_2p1c_cap1_1;

/* Close racing a blocked send: capacity 1, full (an element sent before the
 * threads start), nobody receives. The sender blocks (or finds the channel
 * closed); close must wake it with UV_EPIPE, and its element must not be in
 * the channel: draining finds the first element, then EOF. */
struct chan_close_full : rl::test_suite<chan_close_full, 2> {
  cworld w;
  void before() {
    cworld_init(&w, 1);
    cworld_prefill(&w, 0, 0);
  }
  void thread(unsigned i) {
    if (i == 0)
      producer(&w, &w.tw[0], 0, 1, 2);
    else
      uvev__chan_close(&w.ch);
  }
  void after() {
    int elem;

    RL_ASSERT(w.sent[0][1] == UV_EPIPE);
    RL_ASSERT(ring_pop_now(&w.ch.ring, &elem) == 0);
    RL_ASSERT(elem == CH_ELEM(0, 0));
    RL_ASSERT(ring_pop_now(&w.ch.ring, &elem) == UV_EOF);
    /* Relaxed: every thread has finished; the sender is not registered. */
    RL_ASSERT(uvev__load(w.ch.not_full.ws.is_empty, relaxed));
  }
};

/* A send racing close, with a receiver: capacity 1, full at the start, so
 * the send may block until the receiver makes room, or until the close.
 * The send either succeeds, and then its element is received, or gets
 * UV_EPIPE; it never succeeds after the receiver saw EOF (the element
 * would be lost). The receiver ends on EOF. */
struct chan_close_send : rl::test_suite<chan_close_send, 3> {
  cworld w;
  void before() {
    cworld_init(&w, 1);
    cworld_prefill(&w, 0, 0);
  }
  void thread(unsigned i) {
    if (i == 0)
      producer(&w, &w.tw[0], 0, 1, 2);
    else if (i == 1)
      receiver(&w, &w.tw[1], 0, CH_UNTIL_EOF);
    else
      uvev__chan_close(&w.ch);
  }
  void after() {
    RL_ASSERT(w.sent[0][1] == 0 || w.sent[0][1] == UV_EPIPE);
    RL_ASSERT(w.end[0] == UV_EOF);
    check_accounting(&w, 1, 1, 1);
  }
};

/* Close with an element in flight, two receivers that loop until EOF.
 * The close comes from a receiver, before it receives, so it can land after
 * the send claimed its position but before the element is published. In
 * v0.1 both receivers could then find the channel closed but not drained
 * and sleep, and only a wake-up from the receive of the last element (the
 * head's closed bit) could end the second one's wait. Now a receiver that
 * sees the closed bit with an element in flight waits for that element, and
 * one sleeps only after seeing the channel open, which the close's notify
 * pairs with: mutant 7 (a close that wakes one receiver) is caught here. */
struct chan_close_inflight : rl::test_suite<chan_close_inflight, 3> {
  cworld w;
  void before() { cworld_init(&w, 1); }
  void thread(unsigned i) {
    if (i == 0) {
      producer(&w, &w.tw[0], 0, 0, 1);
    } else {
      if (i == 1)
        uvev__chan_close(&w.ch);
      receiver(&w, &w.tw[i], (int) i - 1, CH_UNTIL_EOF);
    }
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 || w.sent[0][0] == UV_EPIPE);
    RL_ASSERT(w.end[0] == UV_EOF && w.end[1] == UV_EOF);
    check_accounting(&w, 1, 2, 1);
  }
};

/* The same with a closer of a thread of its own: sender, closer, two
 * receivers. */
struct chan_close_inflight4 : rl::test_suite<chan_close_inflight4, 4> {
  cworld w;
  void before() { cworld_init(&w, 1); }
  void thread(unsigned i) {
    if (i == 0)
      producer(&w, &w.tw[0], 0, 0, 1);
    else if (i == 1)
      uvev__chan_close(&w.ch);
    else
      receiver(&w, &w.tw[i - 1], (int) i - 2, CH_UNTIL_EOF);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 || w.sent[0][0] == UV_EPIPE);
    RL_ASSERT(w.end[0] == UV_EOF && w.end[1] == UV_EOF);
    check_accounting(&w, 1, 2, 1);
  }
};


/* Two producers and two receivers, all blocking (issue 11). A receiver
 * woken for an element whose cell is still in flight (claimed by a send
 * that has not published yet: the other sender may have claimed later and
 * published first) must wait for it, not register again: otherwise the
 * notification is spent and the element after it stays in the ring with a
 * receiver asleep. Each producer sends one element, each receiver takes one;
 * a lost wake-up leaves a receiver parked: DEADLOCK. Mutant 9 (the v0.1
 * ring) and 10 are caught here. */
template<uint64_t cap>
struct chan_2p2c_t : rl::test_suite<chan_2p2c_t<cap>, 4> {
  cworld w;
  void before() { cworld_init(&w, cap); }
  void thread(unsigned i) {
    if (i < 2)
      producer(&w, &w.tw[i], (int) i, 0, 1);
    else
      receiver(&w, &w.tw[i], (int) i - 2, 1);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[1][0] == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.ngot[1] == 1);
    check_accounting(&w, 2, 2, 0);
  }
};
typedef chan_2p2c_t<1> chan_2p2c_cap1;
typedef chan_2p2c_t<2> chan_2p2c_cap2;
typedef chan_2p2c_t<4> chan_2p2c_cap4;

/* The senders' side of the same: the channel starts full (cap elements of
 * producer 2 sent in before()), two senders block, two receivers make room.
 * A sender woken for a cell whose receive is still in flight (claimed, not
 * yet freed) must wait for it. cap + 2 elements in all: receiver 0 takes
 * half, rounded up. */
template<uint64_t cap>
struct chan_2s2r_full_t : rl::test_suite<chan_2s2r_full_t<cap>, 4> {
  cworld w;
  void before() {
    int k;

    cworld_init(&w, cap);
    for (k = 0; k < (int) cap; k++)
      cworld_prefill(&w, 2, k);
  }
  void thread(unsigned i) {
    if (i < 2)
      producer(&w, &w.tw[i], (int) i, 0, 1);
    else
      receiver(&w, &w.tw[i], (int) i - 2,
               i == 2 ? ((int) cap + 3) / 2 : ((int) cap + 2) / 2);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[1][0] == 0);
    RL_ASSERT(w.ngot[0] + w.ngot[1] == (int) cap + 2);
    check_accounting(&w, 3, 2, 0);
  }
};
typedef chan_2s2r_full_t<1> chan_2s2r_full_cap1;
typedef chan_2s2r_full_t<2> chan_2s2r_full_cap2;

/* Two producers, a loop receive and a blocking receive (issue 11, the loop
 * side): the loop request's predicate is the whole try call, run on the
 * loop thread when the drain re-checks it. */
template<uint64_t cap>
struct chan_loop_rx_t : rl::test_suite<chan_loop_rx_t<cap>, 4> {
  cworld w;
  mloop loop;
  lreq lr;
  cloop_recv op;
  void before() {
    cworld_init(&w, cap);
    mloop_init(&loop);
    op.ch = &w.ch;
    op.out = 0;
    op.result = UV_EAGAIN;
    lreq_init_pred(&lr, &loop, &w.ch.not_empty.ws, cloop_recv_pred, &op);
  }
  void thread(unsigned i) {
    if (i < 2) {
      producer(&w, &w.tw[i], (int) i, 0, 1);
    } else if (i == 2) {
      lreq_start(&loop, &lr, 0);
      mloop_run(&loop, 1);
      if (lr.status == M_OK && op.result == 0)
        w.got[0][w.ngot[0]++] = op.out;
    } else {
      receiver(&w, &w.tw[3], 1, 1);
    }
  }
  void after() {
    RL_ASSERT(lr.status == M_OK && op.result == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.ngot[1] == 1);
    check_accounting(&w, 2, 2, 0);
  }
};
typedef chan_loop_rx_t<1> chan_loop_rx_cap1;
typedef chan_loop_rx_t<2> chan_loop_rx_cap2;
typedef chan_loop_rx_t<4> chan_loop_rx_cap4;


/* ---- The table --------------------------------------------------------------
 * As core.h's: name, threads, search, context bound (sched_bound) or
 * iterations (sched_random), runner. Relacy's full search of even the
 * 2-thread channel scenarios runs for many minutes (every ring operation is
 * a few atomics, each load with several values to try), so every scenario is
 * searched to a context bound, as deep as the budget allows; the 3- and
 * 4-thread ones are run again under the random scheduler, and chan_2p1c_cap1
 * (four elements through one cell, whose bound 1 alone takes a minute) only
 * there. The cheap scenarios that catch mutants 6, 7 and 8 come first (a
 * mutant build stops at its first catch). About 110 s on one core in all. */
#define UVEV_MODEL_CHAN_SCENARIOS                                               \
  { "chan_2p1c_cap2",       3, rl::sched_bound,  1, &rl::simulate<chan_2p1c_cap2> }, \
  { "chan_close_full",      2, rl::sched_bound,  6, &rl::simulate<chan_close_full> }, \
  { "chan_close_inflight",  3, rl::sched_bound,  2, &rl::simulate<chan_close_inflight> }, \
  { "chan_close_inflight4", 4, rl::sched_bound,  1, &rl::simulate<chan_close_inflight4> }, \
  { "chan_close_send",      3, rl::sched_bound,  2, &rl::simulate<chan_close_send> }, \
  { "chan_2p1c_cap1_1",     3, rl::sched_bound,  2, &rl::simulate<chan_2p1c_cap1_1> }, \
  { "chan_1p1c",            2, rl::sched_bound,  3, &rl::simulate<chan_1p1c> },  \
  { "chan_close_inflight/random",  3, rl::sched_random, 1000000, &rl::simulate<chan_close_inflight> }, \
  { "chan_close_inflight4/random", 4, rl::sched_random, 1000000, &rl::simulate<chan_close_inflight4> }, \
  { "chan_close_send/random",      3, rl::sched_random, 1000000, &rl::simulate<chan_close_send> }, \
  { "chan_2p1c_cap1_1/random",     3, rl::sched_random, 1000000, &rl::simulate<chan_2p1c_cap1_1> }, \
  { "chan_2p1c_cap1/random",       3, rl::sched_random, 1000000, &rl::simulate<chan_2p1c_cap1> }, \
  { "chan_2p1c_cap2/random",       3, rl::sched_random, 1000000, &rl::simulate<chan_2p1c_cap2> }, \
  { "chan_2p2c_cap1/random",       4, rl::sched_random, 300000, &rl::simulate<chan_2p2c_cap1> }, \
  { "chan_2p2c_cap2/random",       4, rl::sched_random, 300000, &rl::simulate<chan_2p2c_cap2> }, \
  { "chan_2p2c_cap4/random",       4, rl::sched_random, 300000, &rl::simulate<chan_2p2c_cap4> }, \
  { "chan_2s2r_full_cap1/random",  4, rl::sched_random, 300000, &rl::simulate<chan_2s2r_full_cap1> }, \
  { "chan_2s2r_full_cap2/random",  4, rl::sched_random, 300000, &rl::simulate<chan_2s2r_full_cap2> }, \
  { "chan_loop_rx_cap1/random",    4, rl::sched_random, 300000, &rl::simulate<chan_loop_rx_cap1> }, \
  { "chan_loop_rx_cap2/random",    4, rl::sched_random, 300000, &rl::simulate<chan_loop_rx_cap2> }, \
  { "chan_loop_rx_cap4/random",    4, rl::sched_random, 300000, &rl::simulate<chan_loop_rx_cap4> },

#endif /* UVEV_MODEL_CHAN_H_ */
