/* slot.c: a single-slot MPMC channel for non-zero values, from two events.
 *
 * The slot is one atomic word: 0 means empty. A sender waits until it can
 * compare-and-swap its value into an empty slot, then notifies "full"; a
 * receiver waits until it can swap a value out, then notifies "empty". Two
 * senders and two receivers each run their own loop on their own thread, so
 * every hand-off crosses loops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>
#include <uvev.h>

#define PER_SENDER 20000

typedef struct {
  unsigned long slot;   /* 0 = empty */
  uvev_event_t empty;   /* notified when the slot empties */
  uvev_event_t full;    /* notified when the slot fills */
} slot_chan_t;

static slot_chan_t chan;
static unsigned long received;   /* values taken, all receivers */
static unsigned long total;

typedef struct {
  uv_thread_t thread;
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_wait_t req;
  int id;
  unsigned long next;      /* sender: next value to send */
  unsigned long sum;       /* receiver: sum of values taken */
  unsigned long count;     /* receiver: number of values taken */
} peer_t;

static void send_next(peer_t* p);
static void recv_next(peer_t* p);

/* Sender predicate: put our value in if the slot is empty. */
static int try_put(void* arg) {
  peer_t* p = arg;
  unsigned long expected = 0;
  return __atomic_compare_exchange_n(&chan.slot, &expected, p->next, 0,
                                     __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

static void on_sent(uvev_wait_t* req, int status) {
  peer_t* p = req->data;
  uvev_notify_one(&chan.full);
  if (++p->next <= (unsigned long) p->id * PER_SENDER + PER_SENDER)
    send_next(p);
}

static void send_next(peer_t* p) {
  uvev_wait(&p->waker, &p->req, &chan.empty, try_put, on_sent);
}

/* Receiver predicate: take a value if there is one; also true once every
 * value has been received, so that idle receivers can stop. */
static int try_take(void* arg) {
  peer_t* p = arg;
  unsigned long v = __atomic_exchange_n(&chan.slot, 0, __ATOMIC_ACQUIRE);
  if (v != 0) {
    p->sum += v;
    p->count++;
    __atomic_fetch_add(&received, 1, __ATOMIC_RELEASE);
    return 1;
  }
  return __atomic_load_n(&received, __ATOMIC_ACQUIRE) == total;
}

static void on_received(uvev_wait_t* req, int status) {
  peer_t* p = req->data;
  if (__atomic_load_n(&received, __ATOMIC_ACQUIRE) == total) {
    uvev_notify_all(&chan.full);  /* let the other receiver stop too */
    return;
  }
  uvev_notify_one(&chan.empty);
  recv_next(p);
}

static void recv_next(peer_t* p) {
  uvev_wait(&p->waker, &p->req, &chan.full, try_take, on_received);
}

static void run_peer(void* arg) {
  peer_t* p = arg;

  uv_loop_init(&p->loop);
  uvev_waker_init(&p->loop, &p->waker);
  p->req.data = p;
  if (p->next != 0)
    send_next(p);
  else
    recv_next(p);
  uv_run(&p->loop, UV_RUN_DEFAULT);  /* until this peer's waits are over */
  uvev_waker_close(&p->waker, NULL);
  uv_run(&p->loop, UV_RUN_DEFAULT);
  uv_loop_close(&p->loop);
}

int main(void) {
  peer_t peers[4] = {{0}};
  unsigned long sum = 0, count = 0, expect_sum = 0;
  uint64_t start;
  int i;

  uvev_event_init(&chan.empty);
  uvev_event_init(&chan.full);
  total = 2 * PER_SENDER;
  for (i = 0; i < 2; i++) {        /* senders: ids 0 and 1 */
    peers[i].id = i;
    peers[i].next = (unsigned long) i * PER_SENDER + 1;
  }
  for (i = 1; i <= (int) total; i++)
    expect_sum += (unsigned long) i;

  start = uv_hrtime();
  for (i = 0; i < 4; i++)
    uv_thread_create(&peers[i].thread, run_peer, &peers[i]);
  for (i = 0; i < 4; i++)
    uv_thread_join(&peers[i].thread);

  for (i = 2; i < 4; i++) {
    sum += peers[i].sum;
    count += peers[i].count;
  }
  printf("slot: 2 senders and 2 receivers on 4 loops: %lu values in %.1f ms, "
         "receivers took %lu and %lu, sum %s\n",
         count, (uv_hrtime() - start) / 1e6, peers[2].count, peers[3].count,
         sum == expect_sum ? "ok" : "WRONG");
  uvev_event_destroy(&chan.empty);
  uvev_event_destroy(&chan.full);
  return count == total && sum == expect_sum ? 0 : 1;
}
