/* chan.h: the model scenarios of the channel: the REAL src/ring.c (the
 * lock-free ring), src/chan.h (each ring operation and its notification on
 * not_empty / not_full) and src/chan.c (init and destroy, the blocking and
 * the loop operations), compiled here under Relacy on top of model.h.
 *
 * It owns: the model cell (the ring's cell header, then an rl::var payload,
 * so Relacy checks every element for data races), the uvev__cell_put /
 * uvev__cell_get hooks that ring.c uses for it, and the model's malloc and
 * free for chan.c, which allocate cells through Relacy (so a touch of the
 * freed cells is an ACCESS TO FREED MEMORY); the channel scenarios, whose
 * after() checks the accounting (every accepted element received exactly
 * once, in order per producer, payload intact; nothing else received;
 * every operation ended). A lost wake-up leaves a waiter asleep forever:
 * Relacy reports DEADLOCK. The channel itself is allocated through Relacy
 * and freed after uvev_chan_destroy: a close or a send still touching it is
 * an ACCESS TO FREED MEMORY.
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

/* The element size the model's channels are made with: chan.c's stride
 * (the cell header plus the element, rounded to 8 bytes) is then exactly
 * one mcell. The elements themselves are ints, which the hooks copy. */
#define MCELL_ELEM_SIZE (sizeof(mcell) - sizeof(struct uvev__cell))
static_assert(sizeof(mcell) % 8 == 0, "an mcell is one chan.c stride");

/* ring.c copies elements through these instead of memcpy. */
#define uvev__cell_put(r, c, elem)                                            \
  (((struct mcell*) (c))->payload($) = *(const int*) (elem))
#define uvev__cell_get(r, c, out)                                             \
  (*(int*) (out) = ((struct mcell*) (c))->payload($))

/* chan.c's malloc and free: the only memory src/ allocates is a channel's
 * cells, which the model builds as mcells through Relacy (constructed, so
 * their atomics are checked; destroyed on free, so a later touch is
 * reported). */
static void* model_cells_alloc(size_t size) {
  size_t n;

  n = size / sizeof(mcell);
  RL_ASSERT(n > 0 && n * sizeof(mcell) == size);
  return new mcell[n];
}

static void model_cells_free(void* p) {
  delete[] (mcell*) p;
}

/* The real ring, the channel's lock-free half, and the channel. */
#include "../../src/ring.c"
#include "../../src/chan.h"
#undef malloc
#undef free
#define malloc(size) model_cells_alloc(size)
#define free(p) model_cells_free(p)
#include "../../src/chan.c"
#undef malloc
#undef free
#define malloc(sz) rl::rl_malloc((sz), $)
#define free(p) rl::rl_free((p), $)

/* Sizes of the scenarios below. */
enum {
  CH_MAX_CAP = 4,    /* ring cells */
  CH_MAX_PROD = 3,   /* producers (a pre-filled element counts as one) */
  CH_MAX_PER = 2,    /* elements per producer */
  CH_MAX_RECV = 2,   /* receivers */
  CH_UNTIL_EOF = CH_MAX_PROD * CH_MAX_PER  /* a receiver's `max`: no limit */
};

/* The element producer p sends k-th: never 0, and tells who sent it. */
#define CH_ELEM(p, k) (0x100 * ((p) + 1) + (k))

/* Everything a channel scenario may use. */
struct cworld {
  uvev_chan_t* ch;  /* allocated through Relacy; freed after destroy */
  /* Read in after() only; each written by one thread. */
  int sent[CH_MAX_PROD][CH_MAX_PER];  /* what each send returned */
  int got[CH_MAX_RECV][CH_MAX_PROD * CH_MAX_PER];  /* elements, in order */
  int ngot[CH_MAX_RECV];
  int end[CH_MAX_RECV];               /* how each receiver's loop ended */
};

/* uvev_chan_init, on a channel allocated through Relacy. */
static void cworld_init(cworld* w, uint64_t capacity) {
  int i;
  int k;

  RL_ASSERT(capacity >= 1 && capacity <= CH_MAX_CAP);
  uvm_clock_reset();
  w->ch = new uvev_chan_t();
  RL_ASSERT(uvev_chan_init(w->ch, capacity, MCELL_ELEM_SIZE) == 0);
  for (i = 0; i < CH_MAX_PROD; i++)
    for (k = 0; k < CH_MAX_PER; k++)
      w->sent[i][k] = M_PENDING;
  for (i = 0; i < CH_MAX_RECV; i++) {
    w->ngot[i] = 0;
    w->end[i] = M_PENDING;
  }
}

/* uvev_chan_destroy and free, unless a scenario did. */
static void cworld_end(cworld* w) {
  if (w->ch == NULL)
    return;
  RL_ASSERT(uvev_chan_destroy(w->ch) == 0);
  delete w->ch;
  w->ch = NULL;
}

/* Producer p's k-th element, sent in before() (the channel starts with it). */
static void cworld_prefill(cworld* w, int p, int k) {
  int elem;

  elem = CH_ELEM(p, k);
  w->sent[p][k] = uvev_chan_try_send(w->ch, &elem);
  RL_ASSERT(w->sent[p][k] == 0);
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
static void producer(cworld* w, int p, int first, int n) {
  int k;
  int elem;

  for (k = first; k < n; k++) {
    elem = CH_ELEM(p, k);
    w->sent[p][k] = uvev_chan_send_sync(w->ch, &elem);
    if (w->sent[p][k] != 0)
      break;
  }
}

/* Receiver i receives, blocking, until UV_EOF, or until it has `max`. */
static void receiver(cworld* w, int i, int max) {
  int elem;
  int err;

  err = 0;
  while (w->ngot[i] < max) {
    err = uvev_chan_recv_sync(w->ch, &elem);
    if (err != 0)
      break;
    RL_ASSERT(w->ngot[i] < CH_MAX_PROD * CH_MAX_PER);
    w->got[i][w->ngot[i]++] = elem;
  }
  w->end[i] = err;
}


/* A batch element as the _many calls see it: ring.c steps through a batch
 * by the channel's element size, which in the model is MCELL_ELEM_SIZE; the
 * hooks copy the int at the start of each step. */
struct melem {
  int v;
  char pad[MCELL_ELEM_SIZE - sizeof(int)];
};
static_assert(sizeof(melem) == MCELL_ELEM_SIZE, "a batch steps by melems");

/* Producer p sends its elements 0..n-1 with blocking batch sends
 * (uvev_chan_send_many_sync), each of what is left; stops at UV_EPIPE. */
static void batch_producer(cworld* w, int p, int n) {
  melem elems[CH_MAX_PER];
  int k;
  int j;
  int m;

  RL_ASSERT(n <= CH_MAX_PER);
  for (k = 0; k < n; k++)
    elems[k].v = CH_ELEM(p, k);
  k = 0;
  while (k < n) {
    m = uvev_chan_send_many_sync(w->ch, &elems[k], (size_t) (n - k));
    if (m < 0) {
      w->sent[p][k] = m;
      break;
    }
    RL_ASSERT(m >= 1 && m <= n - k);  /* 1 to n: a prefix of what is left */
    for (j = 0; j < m; j++)
      w->sent[p][k + j] = 0;
    k += m;
  }
}

/* Receiver i receives with blocking batch receives of up to `each`
 * (uvev_chan_recv_many_sync) until it has `max`, or UV_EOF. */
static void batch_receiver(cworld* w, int i, int each, int max) {
  melem out[CH_MAX_PER];
  int j;
  int m;

  RL_ASSERT(each <= CH_MAX_PER);
  m = 0;
  while (w->ngot[i] < max) {
    m = uvev_chan_recv_many_sync(w->ch, out,
                                 (size_t) (max - w->ngot[i] < each
                                               ? max - w->ngot[i]
                                               : each));
    if (m < 0)
      break;
    RL_ASSERT(m >= 1 && m <= each);
    for (j = 0; j < m; j++) {
      RL_ASSERT(w->ngot[i] < CH_MAX_PROD * CH_MAX_PER);
      w->got[i][w->ngot[i]++] = out[j].v;
    }
  }
  w->end[i] = m < 0 ? m : 0;
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
  RL_ASSERT(uvev__load(w->ch->not_empty.ws.is_empty, relaxed));
  /* Relaxed: as above. */
  RL_ASSERT(uvev__load(w->ch->not_full.ws.is_empty, relaxed));
  RL_ASSERT(ring_pop_now(&w->ch->ring, &elem) ==
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
      producer(&w, 0, 0, 2);
    else
      receiver(&w, 0, 2);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[0][1] == 0);
    RL_ASSERT(w.ngot[0] == 2 && w.end[0] == 0);
    check_accounting(&w, 1, 1, 0);
    cworld_end(&w);
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
      producer(&w, (int) i, 0, nper);
    else
      receiver(&w, 0, 2 * nper);
  }
  void after() {
    int p;
    int k;

    for (p = 0; p < 2; p++)
      for (k = 0; k < nper; k++)
        RL_ASSERT(w.sent[p][k] == 0);
    RL_ASSERT(w.ngot[0] == 2 * nper && w.end[0] == 0);
    check_accounting(&w, 2, 1, 0);
    cworld_end(&w);
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
      producer(&w, 0, 1, 2);
    else
      uvev_chan_close(w.ch);
  }
  void after() {
    int elem;

    RL_ASSERT(w.sent[0][1] == UV_EPIPE);
    RL_ASSERT(ring_pop_now(&w.ch->ring, &elem) == 0);
    RL_ASSERT(elem == CH_ELEM(0, 0));
    RL_ASSERT(ring_pop_now(&w.ch->ring, &elem) == UV_EOF);
    /* Relaxed: every thread has finished; the sender is not registered. */
    RL_ASSERT(uvev__load(w.ch->not_full.ws.is_empty, relaxed));
    cworld_end(&w);
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
      producer(&w, 0, 1, 2);
    else if (i == 1)
      receiver(&w, 0, CH_UNTIL_EOF);
    else
      uvev_chan_close(w.ch);
  }
  void after() {
    RL_ASSERT(w.sent[0][1] == 0 || w.sent[0][1] == UV_EPIPE);
    RL_ASSERT(w.end[0] == UV_EOF);
    check_accounting(&w, 1, 1, 1);
    cworld_end(&w);
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
      producer(&w, 0, 0, 1);
    } else {
      if (i == 1)
        uvev_chan_close(w.ch);
      receiver(&w, (int) i - 1, CH_UNTIL_EOF);
    }
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 || w.sent[0][0] == UV_EPIPE);
    RL_ASSERT(w.end[0] == UV_EOF && w.end[1] == UV_EOF);
    check_accounting(&w, 1, 2, 1);
    cworld_end(&w);
  }
};

/* The same with a closer of a thread of its own: sender, closer, two
 * receivers. */
struct chan_close_inflight4 : rl::test_suite<chan_close_inflight4, 4> {
  cworld w;
  void before() { cworld_init(&w, 1); }
  void thread(unsigned i) {
    if (i == 0)
      producer(&w, 0, 0, 1);
    else if (i == 1)
      uvev_chan_close(w.ch);
    else
      receiver(&w, (int) i - 2, CH_UNTIL_EOF);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 || w.sent[0][0] == UV_EPIPE);
    RL_ASSERT(w.end[0] == UV_EOF && w.end[1] == UV_EOF);
    check_accounting(&w, 1, 2, 1);
    cworld_end(&w);
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
      producer(&w, (int) i, 0, 1);
    else
      receiver(&w, (int) i - 2, 1);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[1][0] == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.ngot[1] == 1);
    check_accounting(&w, 2, 2, 0);
    cworld_end(&w);
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
      producer(&w, (int) i, 0, 1);
    else
      receiver(&w, (int) i - 2,
               i == 2 ? ((int) cap + 3) / 2 : ((int) cap + 2) / 2);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[1][0] == 0);
    RL_ASSERT(w.ngot[0] + w.ngot[1] == (int) cap + 2);
    check_accounting(&w, 3, 2, 0);
    cworld_end(&w);
  }
};
typedef chan_2s2r_full_t<1> chan_2s2r_full_cap1;
typedef chan_2s2r_full_t<2> chan_2s2r_full_cap2;

/* A loop receive (uvev_chan_recv) on the model's loop: its predicate is the
 * whole try call, run on the loop thread. The callback keeps the status and
 * the element. */
struct cop {
  uvev_chan_op_t op;
  int out;
  int ncalls;
  int status;
};

static void cop_cb(uvev_chan_op_t* op, int status) {
  cop* c = uvev__container_of(op, cop, op);

  c->ncalls++;
  c->status = status;
}

static void cop_recv(mloop* l, cop* c, cworld* w) {
  c->status = M_PENDING;
  RL_ASSERT(uvev_chan_recv(l->waker, &c->op, w->ch, &c->out, cop_cb) == 0);
}

/* The loop receive's element, counted as receiver i's. */
static void cop_account(cworld* w, const cop* c, int i) {
  RL_ASSERT(c->ncalls == 1);
  if (c->status == 0)
    w->got[i][w->ngot[i]++] = c->out;
}

/* Two producers, a loop receive and a blocking receive (issue 11, the loop
 * side): the loop request's predicate is the whole try call, run on the
 * loop thread when the drain re-checks it. */
template<uint64_t cap>
struct chan_loop_rx_t : rl::test_suite<chan_loop_rx_t<cap>, 4> {
  cworld w;
  mloop loop;
  cop c;
  void before() {
    cworld_init(&w, cap);
    mloop_init(&loop);
  }
  void thread(unsigned i) {
    if (i < 2) {
      producer(&w, (int) i, 0, 1);
    } else if (i == 2) {
      cop_recv(&loop, &c, &w);
      mloop_run(&loop);
      mloop_close(&loop);
    } else {
      receiver(&w, 1, 1);
    }
  }
  void after() {
    cop_account(&w, &c, 0);
    RL_ASSERT(c.status == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.ngot[1] == 1);
    check_accounting(&w, 2, 2, 0);
    cworld_end(&w);
  }
};
typedef chan_loop_rx_t<1> chan_loop_rx_cap1;
typedef chan_loop_rx_t<2> chan_loop_rx_cap2;
typedef chan_loop_rx_t<4> chan_loop_rx_cap4;

/* A loop receive cancelled mid-stream: a producer sends two elements
 * (blocking, capacity 1) while the loop receives twice, cancelling the
 * second receive at once or after one turn of the loop. A cancelled
 * receive took no element (a decided one keeps its element and status);
 * whatever the loop did not take is still in the channel. */
struct chan_loop_cancel : rl::test_suite<chan_loop_cancel, 2> {
  cworld w;
  mloop loop;
  cop c[2];
  void before() {
    cworld_init(&w, 1);
    mloop_init(&loop);
  }
  void thread(unsigned i) {
    if (i == 0) {
      producer(&w, 0, 0, 1);
      producer(&w, 0, 1, 2);
    } else {
      cop_recv(&loop, &c[0], &w);
      mloop_run(&loop);
      cop_recv(&loop, &c[1], &w);
      if (rl::rand(2))
        uv_run(&loop.loop, UV_RUN_NOWAIT);
      RL_ASSERT(uvev_chan_cancel(&c[1].op) == 0 ||
                c[1].ncalls == 1);
      mloop_run(&loop);
      mloop_close(&loop);
      /* What the loop did not take, a blocking receive takes. */
      if (c[1].status != 0)
        receiver(&w, 1, 1);
    }
  }
  void after() {
    cop_account(&w, &c[0], 0);
    cop_account(&w, &c[1], 0);
    RL_ASSERT(c[0].status == 0);
    RL_ASSERT(c[1].status == 0 || c[1].status == UV_ECANCELED);
    RL_ASSERT(w.ngot[0] + w.ngot[1] == 2);
    check_accounting(&w, 1, 2, 0);
    cworld_end(&w);
  }
};

/* Loop receives while another thread sends one element and closes the
 * channel: the loop receives until UV_EOF, or closes its waker after one
 * receive (a receive still active is called back with UV_ECANCELED). */
struct chan_loop_close : rl::test_suite<chan_loop_close, 2> {
  cworld w;
  mloop loop;
  cop c[2];
  int nops;
  void before() {
    cworld_init(&w, 1);
    mloop_init(&loop);
    nops = 0;
  }
  void thread(unsigned i) {
    if (i == 0) {
      producer(&w, 0, 0, 1);
      uvev_chan_close(w.ch);
    } else {
      int early = (int) rl::rand(2);
      for (nops = 0; nops < 2; nops++) {
        cop_recv(&loop, &c[nops], &w);
        if (early && nops == 1)
          break;
        mloop_run(&loop);
        if (c[nops].status != 0)
          break;
      }
      if (nops < 2)
        nops++;
      mloop_close(&loop);
    }
  }
  void after() {
    int k;

    for (k = 0; k < nops; k++) {
      cop_account(&w, &c[k], 0);
      RL_ASSERT(c[k].status == 0 || c[k].status == UV_EOF ||
                c[k].status == UV_ECANCELED);
    }
    /* The element is received, or still in the channel (the loop's waker
     * closed before it). */
    if (w.ngot[0] == 0) {
      int elem;
      RL_ASSERT(ring_pop_now(&w.ch->ring, &elem) == 0);
      RL_ASSERT(elem == CH_ELEM(0, 0));
      w.got[0][w.ngot[0]++] = elem;
    }
    check_accounting(&w, 1, 1, 1);
    cworld_end(&w);
  }
};

/* A receiver destroys the channel as soon as it saw UV_EOF, while the
 * close may still be running (its notifies): uvev_chan_destroy waits for
 * it (`closing`), then the memory is freed. The closer sent one element
 * first, which the receiver takes before the EOF. */
struct chan_destroy_eof : rl::test_suite<chan_destroy_eof, 2> {
  cworld w;
  void before() { cworld_init(&w, 1); }
  void thread(unsigned i) {
    if (i == 0) {
      receiver(&w, 0, CH_UNTIL_EOF);
      RL_ASSERT(uvev_chan_destroy(w.ch) == 0);
      delete w.ch;
      w.ch = NULL;
    } else {
      int elem = CH_ELEM(0, 0);
      w.sent[0][0] = uvev_chan_try_send(w.ch, &elem);
      uvev_chan_close(w.ch);
    }
  }
  void after() {
    RL_ASSERT(w.end[0] == UV_EOF);
    RL_ASSERT(w.sent[0][0] == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.got[0][0] == CH_ELEM(0, 0));
  }
};

/* A receiver destroys the channel as soon as it holds the element: the
 * blocking send that put it there ends on its publish, so it is done with
 * the channel. */
struct chan_destroy_recv : rl::test_suite<chan_destroy_recv, 2> {
  cworld w;
  void before() { cworld_init(&w, 1); }
  void thread(unsigned i) {
    if (i == 0) {
      receiver(&w, 0, 1);
      RL_ASSERT(uvev_chan_destroy(w.ch) == 0);
      delete w.ch;
      w.ch = NULL;
    } else {
      producer(&w, 0, 0, 1);
    }
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.got[0][0] == CH_ELEM(0, 0));
  }
};


/* ---- Batches (uvev_chan_*_many) ------------------------------------------- */

/* A batch send of 2 against two single blocking receives, capacity 2: the
 * receivers may both be asleep when the batch claims, and its one notify
 * must wake both (it is sized to the batch); one receiver left asleep with
 * an element in the channel is a DEADLOCK. Exactly once. */
struct chan_batch_send : rl::test_suite<chan_batch_send, 3> {
  cworld w;
  void before() { cworld_init(&w, 2); }
  void thread(unsigned i) {
    if (i == 0)
      batch_producer(&w, 0, 2);
    else
      receiver(&w, (int) i - 1, 1);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[0][1] == 0);
    RL_ASSERT(w.ngot[0] == 1 && w.ngot[1] == 1);
    check_accounting(&w, 1, 2, 0);
    cworld_end(&w);
  }
};

/* The receivers' side: capacity 2, full (two elements of producer 2 sent in
 * before()), two single blocking sends that may both be asleep, and one
 * batch receive of 2, which frees both cells and must wake both senders.
 * Nobody receives after it: the senders' elements are what the channel
 * holds at the end, in after(). */
struct chan_batch_recv : rl::test_suite<chan_batch_recv, 3> {
  cworld w;
  void before() {
    cworld_init(&w, 2);
    cworld_prefill(&w, 2, 0);
    cworld_prefill(&w, 2, 1);
  }
  void thread(unsigned i) {
    if (i == 0)
      batch_receiver(&w, 0, 2, 2);
    else
      producer(&w, (int) i - 1, 0, 1);
  }
  void after() {
    int elem;
    int k;

    RL_ASSERT(w.sent[0][0] == 0 && w.sent[1][0] == 0);
    RL_ASSERT(w.ngot[0] == 2);  /* one batch of both: they were published */
    RL_ASSERT(w.got[0][0] == CH_ELEM(2, 0) && w.got[0][1] == CH_ELEM(2, 1));
    for (k = 0; k < 2; k++) {
      RL_ASSERT(ring_pop_now(&w.ch->ring, &elem) == 0);
      w.got[1][w.ngot[1]++] = elem;
    }
    check_accounting(&w, 3, 2, 0);
    cworld_end(&w);
  }
};

/* A receiver destroys the channel as soon as it holds the first element of
 * a batch send (uvev_chan_try_send_many of 2 into an empty channel of 2):
 * the batch publishes that position last, so holding it means the batch is
 * done with the channel. Published in position order instead, the batch
 * would still be copying the second element into the freed cells (ACCESS
 * TO FREED MEMORY). */
struct chan_batch_destroy : rl::test_suite<chan_batch_destroy, 2> {
  cworld w;
  int moved;
  void before() {
    cworld_init(&w, 2);
    moved = M_PENDING;
  }
  void thread(unsigned i) {
    if (i == 0) {
      melem elems[2];
      elems[0].v = CH_ELEM(0, 0);
      elems[1].v = CH_ELEM(0, 1);
      moved = uvev_chan_try_send_many(w.ch, elems, 2);
    } else {
      receiver(&w, 0, 1);
      RL_ASSERT(uvev_chan_destroy(w.ch) == 0);
      delete w.ch;
      w.ch = NULL;
    }
  }
  void after() {
    RL_ASSERT(moved == 2);  /* both cells were free */
    RL_ASSERT(w.ngot[0] == 1 && w.got[0][0] == CH_ELEM(0, 0));  /* FIFO */
  }
};

/* The same for a batch receive: capacity 2, full (two elements of producer
 * 1), a uvev_chan_try_recv_many of 2, and a blocking sender that destroys
 * the channel as soon as its element is in: the room it used is the
 * batch's first cell, freed last, so the batch is done with the channel.
 * Freed in position order instead, the batch would still be copying the
 * second element out of the freed cells. */
struct chan_batch_destroy_room : rl::test_suite<chan_batch_destroy_room, 2> {
  cworld w;
  int moved;
  melem out[2];
  void before() {
    cworld_init(&w, 2);
    cworld_prefill(&w, 1, 0);
    cworld_prefill(&w, 1, 1);
    moved = M_PENDING;
  }
  void thread(unsigned i) {
    if (i == 0) {
      moved = uvev_chan_try_recv_many(w.ch, out, 2);
    } else {
      producer(&w, 0, 0, 1);
      RL_ASSERT(uvev_chan_destroy(w.ch) == 0);
      delete w.ch;
      w.ch = NULL;
    }
  }
  void after() {
    RL_ASSERT(moved == 2);  /* both were published */
    RL_ASSERT(out[0].v == CH_ELEM(1, 0) && out[1].v == CH_ELEM(1, 1));
    RL_ASSERT(w.sent[0][0] == 0);
  }
};

/* Batches are FIFO prefixes: capacity 2 holding one element (producer 1's)
 * at the start, a batch sender of 2 that finds one cell free (or two, if
 * the receiver was first) and sends the rest after, and a batch receiver of
 * up to 2 at a time. Every element arrives once, in send order; a batch
 * that claimed more cells than were free would overwrite the element still
 * held, or leave the receiver facing a cell of the wrong lap. */
struct chan_batch_fifo : rl::test_suite<chan_batch_fifo, 2> {
  cworld w;
  void before() {
    cworld_init(&w, 2);
    cworld_prefill(&w, 1, 0);
  }
  void thread(unsigned i) {
    if (i == 0)
      batch_producer(&w, 0, 2);
    else
      batch_receiver(&w, 0, 2, 3);
  }
  void after() {
    RL_ASSERT(w.sent[0][0] == 0 && w.sent[0][1] == 0);
    RL_ASSERT(w.ngot[0] == 3 && w.end[0] == 0);
    RL_ASSERT(w.got[0][0] == CH_ELEM(1, 0));
    RL_ASSERT(w.got[0][1] == CH_ELEM(0, 0) && w.got[0][2] == CH_ELEM(0, 1));
    check_accounting(&w, 2, 1, 0);
    cworld_end(&w);
  }
};


/* ---- Select (uvev_chan_select_sync) ---------------------------------------- */

/* A blocking select receiving from two channels of capacity 1, and a
 * blocking sender on each: the select returns one index, exactly one
 * element moved, through that entry, the other entry moved nothing and its
 * channel still holds its element, and neither channel has a node left. */
struct chan_select_2s : rl::test_suite<chan_select_2s, 3> {
  uvev_chan_t* ch[2];  /* allocated through Relacy; freed in after() */
  uvev_chan_sel_t sel[2];
  int buf[2];          /* the select's thread only, then after() */
  int sent[2];         /* each sender's own */
  int r;
  void before() {
    int i;

    uvm_clock_reset();
    for (i = 0; i < 2; i++) {
      ch[i] = new uvev_chan_t();
      RL_ASSERT(uvev_chan_init(ch[i], 1, MCELL_ELEM_SIZE) == 0);
      sel[i].ch = ch[i];
      sel[i].dir = UVEV_CHAN_RECV;
      sel[i].buf = &buf[i];
      buf[i] = 0;
      sent[i] = M_PENDING;
    }
    r = M_PENDING;
  }
  void thread(unsigned i) {
    int elem;

    if (i == 0) {
      r = uvev_chan_select_sync(sel, 2);
    } else {
      elem = CH_ELEM(i - 1, 0);
      sent[i - 1] = uvev_chan_send_sync(ch[i - 1], &elem);
    }
  }
  void after() {
    int elem;
    int i;

    RL_ASSERT(r == 0 || r == 1);
    for (i = 0; i < 2; i++) {
      RL_ASSERT(sent[i] == 0);
      if (i == r) {
        RL_ASSERT(sel[i].status == 0 && buf[i] == CH_ELEM(i, 0));
        RL_ASSERT(ring_pop_now(&ch[i]->ring, &elem) == UV_EAGAIN);
      } else {
        RL_ASSERT(sel[i].status == UV_EAGAIN && buf[i] == 0);
        RL_ASSERT(ring_pop_now(&ch[i]->ring, &elem) == 0);
        RL_ASSERT(elem == CH_ELEM(i, 0));
      }
      /* Relaxed: every thread has finished. */
      RL_ASSERT(uvev__load(ch[i]->not_empty.ws.is_empty, relaxed));
      /* Relaxed: as above. */
      RL_ASSERT(uvev__load(ch[i]->not_full.ws.is_empty, relaxed));
      RL_ASSERT(uvev_chan_destroy(ch[i]) == 0);
      delete ch[i];
      ch[i] = NULL;
    }
  }
};


/* ---- The table --------------------------------------------------------------
 * As core.h's: name, search, context bound or iterations, test suite. As
 * there, no full search ends (every ring operation is a few atomics, each
 * load with several values to try), so every scenario is searched to a
 * context bound, as deep as the budget allows; the 3- and 4-thread ones
 * are run again under the random scheduler, and chan_2p1c_cap1,
 * chan_2p1c_cap2 and chan_2p1c_cap1_1 only there (on the real chan.c and
 * sync.c, whose spins add scheduling points, bound 1 of chan_2p1c_cap2
 * alone takes a minute, bound 2 of chan_2p1c_cap1_1 four). chan_batch_fifo
 * is at bound 2: bound 3 took 90 s (12.9 million executions); and
 * chan_batch_recv at bound 1: bound 2 took 54 s on a busy machine (4.4
 * million), once blocking operations first try (chan.c). chan_select_2s
 * at bound 1: bound 2 took 40 s (4.5 million).
 * The cheap scenarios come first. */
#define UVEV_MODEL_CHAN_SCENARIOS                                               \
  MODEL_SCENARIO("chan_destroy_recv",    bound,  4, chan_destroy_recv) \
  MODEL_SCENARIO("chan_destroy_eof",     bound,  3, chan_destroy_eof) \
  MODEL_SCENARIO("chan_loop_cancel",     bound,  2, chan_loop_cancel) \
  MODEL_SCENARIO("chan_loop_close",      bound,  3, chan_loop_close) \
  MODEL_SCENARIO("chan_close_full",      bound,  4, chan_close_full) \
  MODEL_SCENARIO("chan_close_inflight",  bound,  2, chan_close_inflight) \
  MODEL_SCENARIO("chan_close_inflight4", bound,  1, chan_close_inflight4) \
  MODEL_SCENARIO("chan_close_send",      bound,  2, chan_close_send) \
  MODEL_SCENARIO("chan_batch_destroy",   bound,  4, chan_batch_destroy) \
  MODEL_SCENARIO("chan_batch_destroy_room", bound, 4, chan_batch_destroy_room) \
  MODEL_SCENARIO("chan_batch_fifo",      bound,  2, chan_batch_fifo) \
  MODEL_SCENARIO("chan_batch_send",      bound,  2, chan_batch_send) \
  MODEL_SCENARIO("chan_batch_recv",      bound,  1, chan_batch_recv) \
  MODEL_SCENARIO("chan_1p1c",            bound,  2, chan_1p1c)  \
  MODEL_SCENARIO("chan_select_2s",       bound,  1, chan_select_2s) \
  MODEL_SCENARIO("chan_close_inflight/random",  random, 300000, chan_close_inflight) \
  MODEL_SCENARIO("chan_close_inflight4/random", random, 300000, chan_close_inflight4) \
  MODEL_SCENARIO("chan_close_send/random",      random, 300000, chan_close_send) \
  MODEL_SCENARIO("chan_batch_send/random",      random, 300000, chan_batch_send) \
  MODEL_SCENARIO("chan_batch_recv/random",      random, 300000, chan_batch_recv) \
  MODEL_SCENARIO("chan_2p1c_cap1_1/random",     random, 300000, chan_2p1c_cap1_1) \
  MODEL_SCENARIO("chan_2p1c_cap1/random",       random, 300000, chan_2p1c_cap1) \
  MODEL_SCENARIO("chan_2p1c_cap2/random",       random, 300000, chan_2p1c_cap2) \
  MODEL_SCENARIO("chan_2p2c_cap1/random",       random, 100000, chan_2p2c_cap1) \
  MODEL_SCENARIO("chan_2p2c_cap2/random",       random, 100000, chan_2p2c_cap2) \
  MODEL_SCENARIO("chan_2p2c_cap4/random",       random, 100000, chan_2p2c_cap4) \
  MODEL_SCENARIO("chan_2s2r_full_cap1/random",  random, 100000, chan_2s2r_full_cap1) \
  MODEL_SCENARIO("chan_2s2r_full_cap2/random",  random, 100000, chan_2s2r_full_cap2) \
  MODEL_SCENARIO("chan_loop_rx_cap1/random",    random, 100000, chan_loop_rx_cap1) \
  MODEL_SCENARIO("chan_loop_rx_cap2/random",    random, 100000, chan_loop_rx_cap2) \
  MODEL_SCENARIO("chan_loop_rx_cap4/random",    random, 100000, chan_loop_rx_cap4) \
  MODEL_SCENARIO("chan_select_2s/random",       random, 300000, chan_select_2s)

#endif /* UVEV_MODEL_CHAN_H_ */
