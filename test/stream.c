/* stream.c: channel streams with exact accounting (see stream.h). */
#include <string.h>

#include "stream.h"

typedef struct stream_s stream_t;

typedef struct {
  stream_t* s;
  int id;                      /* producer id, or consumer index */
  int producer;
  int loop;
  loop_thread_t lt;            /* loop peers */
  uv_thread_t tid;             /* thread peers */
  uvev_chan_op_t op;
  uint64_t elem;               /* loop peers: the element in flight */
  uint64_t buf[STREAM_MAX_BATCH];  /* cfg->batch: the elements in flight */
  size_t want;                 /* cfg->batch: the size asked for */
  unsigned long next;          /* producers: next sequence number */
  unsigned rnd;                /* chaos */
  uv_timer_t chaos_timer;
  /* consumers */
  unsigned long count;
  uint64_t sum;
  unsigned long seen[STREAM_MAX_PEERS];  /* next sequence expected, at least */
} peer_t;

struct stream_s {
  const stream_config_t* cfg;
  uvev_chan_t ch;
  int producers_left;          /* atomic */
  unsigned long share;         /* cfg->quota: each consumer's share */
  peer_t peers[2 * STREAM_MAX_PEERS];
};

static uint64_t hash64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t element(int producer, unsigned long seq) {
  return (uint64_t) producer << 40 | seq;
}

static unsigned long rnd_next(peer_t* p);

static unsigned chance(peer_t* p) {
  return rnd_next(p) % 4;
}

static void account(peer_t* p, uint64_t e) {
  unsigned long producer = e >> 40;
  unsigned long seq = e & ((1ull << 40) - 1);

  CHECK_ON_THREAD(producer < STREAM_MAX_PEERS);
  /* FIFO: one consumer sees each producer's elements in order. */
  if (seq < p->seen[producer])
    die("stream: consumer %d got %lu:%lu after %lu:%lu", p->id, producer, seq,
        producer, p->seen[producer] - 1);
  p->seen[producer] = seq + 1;
  p->count++;
  p->sum += hash64(e);
}

/* The thread peers' timeout, and the check that an operation did not need
 * all of it. */
static uint64_t op_timeout(peer_t* p) {
  if (p->s->cfg->chaos)
    return 1;
  return p->s->cfg->op_timeout_ms != 0 ? p->s->cfg->op_timeout_ms
                                       : WATCHDOG_MS;
}

static void op_check(peer_t* p, uint64_t start, int err) {
  uint64_t ms;

  if (p->s->cfg->chaos || p->s->cfg->op_timeout_ms == 0)
    return;
  ms = (uv_hrtime() - start) / 1000000;
  if (ms >= p->s->cfg->op_timeout_ms)
    die("stream: %s %d: an operation took %llu ms and returned %s (a lost "
        "wake-up, healed only by its deadline?)",
        p->producer ? "producer" : "consumer", p->id,
        (unsigned long long) ms, err == 0 ? "0" : uv_err_name(err));
}

static int share_taken(peer_t* p) {
  return p->s->cfg->quota && p->count == p->s->share;
}

static unsigned long rnd_next(peer_t* p) {
  p->rnd ^= p->rnd << 13;
  p->rnd ^= p->rnd >> 17;
  p->rnd ^= p->rnd << 5;
  return p->rnd;
}

/* cfg->batch: the next batch size, 1 to batch, and no more than is left to
 * send or to take. */
static size_t batch_size(peer_t* p) {
  unsigned long left;
  size_t n;

  n = 1 + rnd_next(p) % p->s->cfg->batch;
  left = p->producer ? p->s->cfg->per_producer - p->next
         : p->s->cfg->quota ? p->s->share - p->count
         : n;
  return n < left ? n : (size_t) left;
}

/* A producer's next batch: elements next, next + 1, ... into p->buf. */
static size_t batch_fill(peer_t* p) {
  size_t i, n;

  n = batch_size(p);
  for (i = 0; i < n; i++)
    p->buf[i] = element(p->id, p->next + i);
  return n;
}

static void producer_done(stream_t* s) {
  if (s->cfg->quota)
    return;
  if (__atomic_sub_fetch(&s->producers_left, 1, __ATOMIC_ACQ_REL) == 0)
    uvev_chan_close(&s->ch);
}

/* ---- threads ---------------------------------------------------------------- */

static void thread_producer(void* arg) {
  peer_t* p = arg;
  uint64_t start;
  uint64_t e;
  int err;

  p->next = 0;
  while (p->next < p->s->cfg->per_producer) {
    start = uv_hrtime();
    if (p->s->cfg->batch) {
      err = uvev_chan_send_many_sync_timeout(&p->s->ch, p->buf, batch_fill(p),
                                             op_timeout(p));
    } else {
      e = element(p->id, p->next);
      err = uvev_chan_send_sync_timeout(&p->s->ch, &e, op_timeout(p));
      err = err == 0 ? 1 : err;
    }
    op_check(p, start, err > 0 ? 0 : err);
    if (err > 0)
      p->next += (unsigned long) err;
    else if (err != UV_ETIMEDOUT || !p->s->cfg->chaos)
      die("stream: producer %d: %s at %lu", p->id, uv_strerror(err),
          p->next);
  }
  producer_done(p->s);
}

static void thread_consumer(void* arg) {
  peer_t* p = arg;
  uint64_t start;
  uint64_t e;
  int err;

  int i;

  while (!share_taken(p)) {
    start = uv_hrtime();
    if (p->s->cfg->batch) {
      err = uvev_chan_recv_many_sync_timeout(&p->s->ch, p->buf, batch_size(p),
                                             op_timeout(p));
    } else {
      err = uvev_chan_recv_sync_timeout(&p->s->ch, &e, op_timeout(p));
      p->buf[0] = e;
      err = err == 0 ? 1 : err;
    }
    op_check(p, start, err > 0 ? 0 : err);
    if (err > 0)
      for (i = 0; i < err; i++)
        account(p, p->buf[i]);
    else if (err == UV_EOF)
      break;
    else if (err != UV_ETIMEDOUT || !p->s->cfg->chaos)
      die("stream: consumer %d: %s after %lu", p->id, uv_strerror(err),
          p->count);
  }
}

/* ---- loops ------------------------------------------------------------------ */

static void loop_send(peer_t* p);
static void loop_recv(peer_t* p);

static void chaos_cancel(uv_timer_t* t) {
  peer_t* p = t->data;
  uvev_chan_cancel(&p->op);  /* UV_EINVAL when nothing is pending: fine */
}

static void chaos_start(peer_t* p) {
  if (!p->s->cfg->chaos)
    return;
  CHECK_ON_THREAD(uv_timer_init(&p->lt.loop, &p->chaos_timer) == 0);
  p->chaos_timer.data = p;
  uv_timer_start(&p->chaos_timer, chaos_cancel, 1, 1);
  uv_unref((uv_handle_t*) &p->chaos_timer);
}

static void chaos_stop(peer_t* p) {
  if (p->s->cfg->chaos)
    uv_close((uv_handle_t*) &p->chaos_timer, NULL);
}

static void on_sent(uvev_chan_op_t* op, int status) {
  peer_t* p = op->data;

  if (status == UV_ECANCELED && p->s->cfg->chaos) {
    loop_send(p);  /* the same element again */
    return;
  }
  if (p->s->cfg->batch) {
    CHECK_ON_THREAD(status > 0 && (size_t) status <= p->want);
    p->next += (unsigned long) status;
  } else {
    CHECK_ON_THREAD(status == 0);
    p->next++;
  }
  if (p->next == p->s->cfg->per_producer) {
    chaos_stop(p);
    producer_done(p->s);
    return;
  }
  p->elem = element(p->id, p->next);
  loop_send(p);
}

static void loop_send(peer_t* p) {
  if (p->s->cfg->batch) {
    p->want = batch_fill(p);
    CHECK_ON_THREAD(uvev_chan_send_many(&p->lt.waker, &p->op, &p->s->ch,
                                        p->buf, p->want, on_sent) == 0);
  } else {
    CHECK_ON_THREAD(uvev_chan_send(&p->lt.waker, &p->op, &p->s->ch, &p->elem,
                                   on_sent) == 0);
  }
  if (p->s->cfg->chaos && chance(p) == 0)
    CHECK_ON_THREAD(uvev_chan_cancel(&p->op) == 0);
}

static void on_received(uvev_chan_op_t* op, int status) {
  peer_t* p = op->data;
  uint64_t e;
  int err;

  if (status == UV_ECANCELED && p->s->cfg->chaos) {
    loop_recv(p);
    return;
  }
  if (status == UV_EOF) {
    chaos_stop(p);
    return;
  }
  if (p->s->cfg->batch) {
    /* One wait takes the batch; the next wait drains the rest. */
    CHECK_ON_THREAD(status > 0 && (size_t) status <= p->want);
    for (size_t i = 0; i < (size_t) status; i++)
      account(p, p->buf[i]);
    if (share_taken(p))
      chaos_stop(p);
    else
      loop_recv(p);
    return;
  }
  CHECK_ON_THREAD(status == 0);
  account(p, p->elem);
  /* Drain what is there without another wait. */
  err = 0;
  while (!share_taken(p) && (err = uvev_chan_try_recv(&p->s->ch, &e)) == 0)
    account(p, e);
  if (err == UV_EOF || share_taken(p)) {
    chaos_stop(p);
    return;
  }
  CHECK_ON_THREAD(err == UV_EAGAIN);
  loop_recv(p);
}

static void loop_recv(peer_t* p) {
  if (p->s->cfg->batch) {
    p->want = batch_size(p);
    CHECK_ON_THREAD(uvev_chan_recv_many(&p->lt.waker, &p->op, &p->s->ch,
                                        p->buf, p->want, on_received) == 0);
  } else {
    CHECK_ON_THREAD(uvev_chan_recv(&p->lt.waker, &p->op, &p->s->ch, &p->elem,
                                   on_received) == 0);
  }
  if (p->s->cfg->chaos && chance(p) == 0)
    CHECK_ON_THREAD(uvev_chan_cancel(&p->op) == 0);
}

static void loop_setup(loop_thread_t* lt) {
  peer_t* p = lt->arg;

  p->op.data = p;
  chaos_start(p);
  if (p->producer) {
    p->next = 0;
    p->elem = element(p->id, 0);
    if (p->s->cfg->per_producer == 0) {
      chaos_stop(p);
      producer_done(p->s);
      return;
    }
    loop_send(p);
  } else {
    loop_recv(p);
  }
}

/* ---- the run ---------------------------------------------------------------- */

void stream_run(const stream_config_t* cfg, stream_result_t* res) {
  static stream_t s;
  unsigned long count;
  uint64_t sum, expect;
  uint64_t start;
  int nprod, ncons, n;
  int i, j;
  unsigned long k;

  memset(&s, 0, sizeof(s));
  s.cfg = cfg;
  nprod = cfg->producer_threads + cfg->producer_loops;
  ncons = cfg->consumer_threads + cfg->consumer_loops;
  ck_assert_int_le(nprod, STREAM_MAX_PEERS);
  ck_assert_int_le(ncons, STREAM_MAX_PEERS);
  ck_assert_uint_le(cfg->batch, STREAM_MAX_BATCH);
  ck_assert_int_eq(uvev_chan_init(&s.ch, cfg->capacity, sizeof(uint64_t)), 0);
  s.producers_left = nprod;
  if (cfg->quota) {
    ck_assert_uint_eq(nprod * cfg->per_producer % ncons, 0);
    s.share = nprod * cfg->per_producer / ncons;
  }

  n = 0;
  for (i = 0; i < nprod; i++, n++) {
    s.peers[n].producer = 1;
    s.peers[n].id = i;
    s.peers[n].loop = i >= cfg->producer_threads;
  }
  for (i = 0; i < ncons; i++, n++) {
    s.peers[n].id = i;
    s.peers[n].loop = i >= cfg->consumer_threads;
  }
  start = uv_hrtime();
  for (i = 0; i < n; i++) {
    peer_t* p = &s.peers[i];
    p->s = &s;
    p->rnd = 2463534242u + (unsigned) i * 7919u;
    if (p->loop)
      loop_thread_start(&p->lt, loop_setup, p, i);
    else
      ck_assert_int_eq(uv_thread_create(&p->tid, p->producer ? thread_producer
                                                             : thread_consumer,
                                        p), 0);
  }
  for (i = 0; i < n; i++) {
    if (s.peers[i].loop)
      loop_thread_join(&s.peers[i].lt);
    else
      ck_assert_int_eq(uv_thread_join(&s.peers[i].tid), 0);
  }
  res->seconds_x1000 = (uv_hrtime() - start) / 1000000;

  count = 0;
  sum = 0;
  for (i = nprod; i < n; i++) {
    count += s.peers[i].count;
    sum += s.peers[i].sum;
  }
  expect = 0;
  for (j = 0; j < nprod; j++)
    for (k = 0; k < cfg->per_producer; k++)
      expect += hash64(element(j, k));
  ck_assert_uint_eq(count, nprod * cfg->per_producer);
  ck_assert_uint_eq(sum, expect);
  ck_assert_int_eq(uvev_chan_try_recv(&s.ch, &sum),
                   cfg->quota ? UV_EAGAIN : UV_EOF);
  ck_assert_int_eq(uvev_chan_destroy(&s.ch), 0);
  res->count = count;
}
