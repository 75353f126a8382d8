/* chan.c: the channel metrics from threads to loops: producer threads with
 * blocking sends (uvev_chan_send_sync) into loops that receive
 * asynchronously (uvev_chan_recv) and drain with uvev_chan_try_recv, or the
 * same with the batch calls; one u64 per message.
 *
 *   chan_thread_to_loop   1 thread -> 1 loop, capacity 1024
 *   chan_mpmc             2 threads -> 2 loops, capacity 1024
 *   chan_cap16            1 thread -> 1 loop, capacity 16
 *   chan_batch            1 thread -> 1 loop, capacity 1024, batches of 64
 *                         against the single calls
 *   allocs_per_msg        heap allocations per message once running
 *   --series chan_capacity  throughput against capacity, for plot.sh
 *
 * Every message is accounted for (count and checksum) in every mode.
 */
#include <stdio.h>
#include <string.h>

#include <uvev.h>

#include "baseline.h"
#include "counters.h"
#include "harness.h"
#include "metrics.h"

#define CH_MAX 4
#define CH_MAX_BATCH 64

typedef struct {
  uv_thread_t thread;
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_op_t op;
  uint64_t slot;              /* where the async receive puts an element */
  uint64_t* buf;              /* chan_batch: where a batch receive puts them */
  unsigned long received;
  uint64_t sum;
  uint64_t end;
  uint64_t cpu;               /* thread CPU ns while running the loop */
  /* allocs_per_msg: snapshots at the window's two ends (consumer 0) */
  int snaps;
  unsigned long msgs[2];
  unsigned long allocs[2];
  unsigned long uv_allocs[2];
} ch_consumer_t;

typedef struct {
  uv_thread_t thread;
  int id;
  uint64_t cpu;               /* thread CPU ns while sending */
} ch_producer_t;

static struct {
  uvev_chan_t chan;
  unsigned long per_producer;
  size_t max_batch;           /* elements one callback takes at most */
  size_t batch;               /* 0: single calls; else the _many calls */
  int nproducers;
  int nconsumers;
  int left;                   /* atomic: producers still sending */
  int count_allocs;
  unsigned long window[2];    /* allocs_per_msg: message numbers */
  uv_sem_t ready;
  uv_sem_t go;
  ch_consumer_t consumers[CH_MAX];
  ch_producer_t producers[CH_MAX];
} ch;

/* chan_batch: the same messages, ch.batch at a time with
 * uvev_chan_send_many_sync, which may move fewer. */
static void ch_produce_batches(ch_producer_t* p) {
  uint64_t buf[CH_MAX_BATCH];
  unsigned long i;
  size_t k, n;
  int moved;

  i = 0;
  while (i < ch.per_producer) {
    n = ch.per_producer - i < ch.batch ? ch.per_producer - i : ch.batch;
    for (k = 0; k < n; k++)
      buf[k] = (uint64_t) p->id << 48 | (i + k);
    moved = uvev_chan_send_many_sync(&ch.chan, buf, n);
    if (moved <= 0)
      bench_fail("chan: uvev_chan_send_many_sync");
    i += (unsigned long) moved;
  }
}

static void ch_produce(void* arg) {
  ch_producer_t* p = arg;
  unsigned long i;
  uint64_t v;

  uv_sem_wait(&ch.go);
  p->cpu = bench_thread_cpu_ns();
  if (ch.batch) {
    ch_produce_batches(p);
  } else {
    for (i = 0; i < ch.per_producer; i++) {
      v = (uint64_t) p->id << 48 | i;
      if (uvev_chan_send_sync(&ch.chan, &v) != 0)
        bench_fail("chan: uvev_chan_send_sync");
    }
  }
  p->cpu = bench_thread_cpu_ns() - p->cpu;
  /* Acq_rel: pairs with the same RMW of the other producers, so the last
   * one closes after every producer's last send. */
  if (__atomic_sub_fetch(&ch.left, 1, __ATOMIC_ACQ_REL) == 0)
    uvev_chan_close(&ch.chan);
}

static void ch_snapshot(ch_consumer_t* c) {
  while (c->snaps < 2 && c->received >= ch.window[c->snaps]) {
    c->msgs[c->snaps] = c->received;
    c->allocs[c->snaps] = bench_allocs();
    c->uv_allocs[c->snaps] = bench_uv_allocs();
    c->snaps++;
  }
}

static void ch_done(ch_consumer_t* c) {
  c->end = uv_hrtime();
  uvev_waker_close(&c->waker, NULL);
}

static void ch_on_recv(uvev_chan_op_t* op, int status) {
  ch_consumer_t* c = op->data;
  uint64_t v;
  size_t k;
  int err;

  if (status == UV_EOF) {
    ch_done(c);
    return;
  }
  if (status != 0)
    bench_fail("chan: receive status %s", uv_err_name(status));
  c->sum += c->slot;
  c->received++;
  /* Drain what is there, but at most a channel's worth per callback (the
   * baseline's callback takes what it finds, at most the capacity), so the
   * loop gets back to its other work. */
  err = 0;
  for (k = 1; k < ch.max_batch; k++) {
    err = uvev_chan_try_recv(&ch.chan, &v);
    if (err != 0)
      break;
    c->sum += v;
    c->received++;
  }
  if (ch.count_allocs && c == &ch.consumers[0])
    ch_snapshot(c);
  if (err == UV_EOF) {
    ch_done(c);
    return;
  }
  if (uvev_chan_recv(&c->waker, op, &ch.chan, &c->slot, ch_on_recv) != 0)
    bench_fail("chan: uvev_chan_recv");
}

/* chan_batch: a batch receive of up to ch.batch, then batch tries; the same
 * drain per callback as the single calls' (at most a channel's worth). */
static void ch_on_recv_many(uvev_chan_op_t* op, int status) {
  ch_consumer_t* c = op->data;
  size_t taken;
  size_t n;
  int k;

  if (status == UV_EOF) {
    ch_done(c);
    return;
  }
  if (status <= 0)
    bench_fail("chan: batch receive status %s", uv_err_name(status));
  /* Then drain, a batch at a time, at most a channel's worth per callback
   * as the single calls' callback does. */
  taken = 0;
  for (;;) {
    for (k = 0; k < status; k++)
      c->sum += c->buf[k];
    c->received += (unsigned long) status;
    taken += (size_t) status;
    if (taken >= ch.max_batch)
      break;
    n = ch.max_batch - taken < ch.batch ? ch.max_batch - taken : ch.batch;
    status = uvev_chan_try_recv_many(&ch.chan, c->buf, n);
    if (status == UV_EOF) {
      ch_done(c);
      return;
    }
    if (status == UV_EAGAIN)
      break;
    if (status <= 0)
      bench_fail("chan: uvev_chan_try_recv_many %s", uv_err_name(status));
  }
  if (uvev_chan_recv_many(&c->waker, op, &ch.chan, c->buf, ch.batch,
                          ch_on_recv_many) != 0)
    bench_fail("chan: uvev_chan_recv_many");
}

static void ch_consume(void* arg) {
  static uint64_t bufs[CH_MAX][CH_MAX_BATCH];
  ch_consumer_t* c = arg;
  int err;

  c->buf = bufs[c - ch.consumers];
  if (uv_loop_init(&c->loop) != 0 || uvev_waker_init(&c->loop, &c->waker) != 0)
    bench_fail("chan: loop init");
  c->op.data = c;
  if (ch.batch)
    err = uvev_chan_recv_many(&c->waker, &c->op, &ch.chan, c->buf, ch.batch,
                              ch_on_recv_many);
  else
    err = uvev_chan_recv(&c->waker, &c->op, &ch.chan, &c->slot, ch_on_recv);
  if (err != 0)
    bench_fail("chan: uvev_chan_recv");
  uv_sem_post(&ch.ready);
  c->cpu = bench_thread_cpu_ns();
  uv_run(&c->loop, UV_RUN_DEFAULT);
  c->cpu = bench_thread_cpu_ns() - c->cpu;
  if (uv_loop_close(&c->loop) != 0)
    bench_fail("chan: loop not closed");
}

/* Runs one repetition and fills the channel fields of stats; returns the
 * elapsed ns. */
static uint64_t ch_run(const bench_args_t* a, bench_stats_t* stats) {
  ch_consumer_t* c;
  uint64_t expect;
  uint64_t sum;
  uint64_t t0;
  uint64_t end;
  unsigned long received;
  unsigned long writes;
  uint64_t pcpu;
  uint64_t ccpu;
  unsigned long i;
  int k;

  if (a->producers > CH_MAX || a->consumers > CH_MAX)
    bench_fail("chan: too many threads");
  memset(&ch, 0, sizeof(ch));
  ch.nproducers = a->producers;
  ch.nconsumers = a->consumers;
  ch.left = a->producers;
  ch.per_producer = a->n / (unsigned long) a->producers;
  ch.max_batch = a->capacity;  /* every loop drains a channel's worth at most */
  ch.batch = a->many ? a->batch : 0;
  if (ch.batch > CH_MAX_BATCH)
    bench_fail("chan: batch too large");
  ch.count_allocs = a->count_allocs;
  ch.window[0] = a->warmup;
  ch.window[1] = a->n - a->n / 10;
  if (uvev_chan_init(&ch.chan, a->capacity, sizeof(uint64_t)) != 0 ||
      uv_sem_init(&ch.ready, 0) != 0 || uv_sem_init(&ch.go, 0) != 0)
    bench_fail("chan: init");
  for (k = 0; k < ch.nconsumers; k++)
    if (uv_thread_create(&ch.consumers[k].thread, ch_consume,
                         &ch.consumers[k]) != 0)
      bench_fail("chan: thread");
  for (k = 0; k < ch.nproducers; k++) {
    ch.producers[k].id = k;
    if (uv_thread_create(&ch.producers[k].thread, ch_produce,
                         &ch.producers[k]) != 0)
      bench_fail("chan: thread");
  }
  for (k = 0; k < ch.nconsumers; k++)
    uv_sem_wait(&ch.ready);
  writes = bench_writes();
  bench_count_writes(1);
  t0 = uv_hrtime();
  for (k = 0; k < ch.nproducers; k++)
    uv_sem_post(&ch.go);

  pcpu = 0;
  for (k = 0; k < ch.nproducers; k++) {
    uv_thread_join(&ch.producers[k].thread);
    pcpu += ch.producers[k].cpu;
  }
  received = 0;
  sum = 0;
  ccpu = 0;
  end = t0;
  for (k = 0; k < ch.nconsumers; k++) {
    c = &ch.consumers[k];
    uv_thread_join(&c->thread);
    ccpu += c->cpu;
    received += c->received;
    sum += c->sum;
    if (c->end > end)
      end = c->end;
  }
  bench_count_writes(0);
  writes = bench_writes() - writes;
  stats->writes_per_1k = (double) writes * 1e3 / (double) received;
  stats->producer_cpu_ns = (double) pcpu / (double) received;
  stats->consumer_cpu_ns = (double) ccpu / (double) received;
  expect = 0;
  for (k = 0; k < ch.nproducers; k++)
    for (i = 0; i < ch.per_producer; i++)
      expect += (uint64_t) k << 48 | i;
  if (received != ch.per_producer * (unsigned long) ch.nproducers ||
      sum != expect)
    bench_fail("chan: %lu of %lu messages, checksum %s", received,
               ch.per_producer * (unsigned long) ch.nproducers,
               sum == expect ? "ok" : "wrong");
  if (uvev_chan_destroy(&ch.chan) != 0)
    bench_fail("chan: uvev_chan_destroy");
  uv_sem_destroy(&ch.ready);
  uv_sem_destroy(&ch.go);
  return end - t0;
}

/* M messages per second. */
static double ours_chan(const bench_args_t* a, bench_stats_t* stats) {
  uint64_t ns;

  ns = ch_run(a, stats);
  return (double) (ch.per_producer * (unsigned long) ch.nproducers) /
         ((double) ns / 1e3);
}

/* chan_batch: ours with the _many calls, the baseline the single ones. */
static double ours_chan_many(const bench_args_t* a, bench_stats_t* stats) {
  bench_args_t b = *a;

  b.many = 1;
  return ours_chan(&b, stats);
}

/* Heap allocations per message between the window's ends. */
static double ours_chan_allocs(const bench_args_t* a,
                               bench_stats_t* stats) {
  ch_consumer_t* c;

  ch_run(a, stats);
  c = &ch.consumers[0];
  if (c->snaps < 2 || c->msgs[1] <= c->msgs[0])
    bench_fail("allocs_per_msg: no steady-state window");
  return (double) (c->allocs[1] - c->allocs[0]) /
         (double) (c->msgs[1] - c->msgs[0]);
}

/* The CPU note of a channel row: ns of CPU per message, each side. */
static void chan_note(bench_row_t* r) {
  bench_stats_t ours;
  bench_stats_t base;

  ours = bench_stats_median(r, 1);
  base = bench_stats_median(r, 0);
  snprintf(r->note, sizeof(r->note),
           "CPU ns/msg producers+consumers: ours %.4g+%.4g, baseline "
           "%.4g+%.4g; eventfd writes/1000 msgs: ours %.3g, baseline %.3g",
           ours.producer_cpu_ns, ours.consumer_cpu_ns, base.producer_cpu_ns,
           base.consumer_cpu_ns, ours.writes_per_1k, base.writes_per_1k);
}

static void chan_metric(const bench_metric_t* m, size_t cap, int producers,
                        int consumers, unsigned long n) {
  bench_args_t a = { 0 };
  bench_row_t* r;

  a.n = n;
  a.capacity = cap;
  a.producers = producers;
  a.consumers = consumers;
  r = bench_row(m->name, "", m->unit);
  r->ours_label = "uvev_chan_send_sync -> uvev_chan_recv + try_recv drain";
  r->base_label = "mutex ring + condvar backpressure + uv_async_send per "
                  "message, drain all per callback";
  bench_compare(r, ours_chan, base_chan_mutex_ring, &a, bench_cfg.reps);
  bench_goal(r, &m->goal, r->ratio);
  chan_note(r);
}

void bench_chan_batch(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_row_t* r;

  a.n = bench_size(10000000, 20000);
  a.capacity = 1024;
  a.batch = CH_MAX_BATCH;
  a.producers = 1;
  a.consumers = 1;
  r = bench_row(m->name, "", m->unit);
  r->ours_label = "uvev_chan_send_many_sync of 64 -> uvev_chan_recv_many of "
                  "64 + try_recv_many drain";
  r->base_label = "uvev_chan_send_sync -> uvev_chan_recv + try_recv drain";
  bench_compare(r, ours_chan_many, ours_chan, &a, bench_cfg.reps);
  bench_goal(r, &m->goal, r->ratio);
  chan_note(r);
}

void bench_chan_thread_to_loop(const bench_metric_t* m) {
  chan_metric(m, 1024, 1, 1, bench_size(10000000, 20000));
}

void bench_chan_mpmc(const bench_metric_t* m) {
  chan_metric(m, 1024, 2, 2, bench_size(10000000, 20000));
}

void bench_chan_cap16(const bench_metric_t* m) {
  chan_metric(m, 16, 1, 1, bench_size(2000000, 5000));
}

void bench_allocs_per_msg(const bench_metric_t* m) {
  static const size_t caps[] = { 16, 1024 };
  bench_args_t a = { 0 };
  bench_row_t* r;
  char variant[48];
  size_t i;

  for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
    a.n = bench_size(caps[i] < 64 ? 500000 : 2000000, 4000);
    a.warmup = a.n / 10;
    a.capacity = caps[i];
    a.producers = 1;
    a.consumers = 1;
    a.count_allocs = 1;
    snprintf(variant, sizeof(variant), "capacity %zu", caps[i]);
    r = bench_row(m->name, variant, m->unit);
    r->counted = 1;
    r->ours_label = "malloc+calloc+realloc in the process, 1 thread -> 1 "
                    "loop";
    r->base_label = NULL;
    if (!bench_counters_available()) {
      snprintf(r->note, sizeof(r->note),
               "not measured: built with a sanitizer (its malloc is used)");
      continue;
    }
    bench_compare(r, ours_chan_allocs, NULL, &a, bench_cfg.reps);
    bench_goal(r, &m->goal, r->ours_med);
    snprintf(r->note, sizeof(r->note),
             "last repetition: %lu allocations (%lu by libuv) over %lu "
             "messages",
             ch.consumers[0].allocs[1] - ch.consumers[0].allocs[0],
             ch.consumers[0].uv_allocs[1] - ch.consumers[0].uv_allocs[0],
             ch.consumers[0].msgs[1] - ch.consumers[0].msgs[0]);
  }
}

void bench_series_chan_capacity(void) {
  static const size_t caps[] = { 1, 4, 16, 64, 256, 1024, 4096 };
  bench_args_t a = { 0 };
  bench_row_t* r;
  bench_row_t* rb;
  size_t i;

  printf("# chan_capacity: 1 producer thread (blocking send) -> 1 loop, u64 "
         "messages; medians of %d\n", bench_cfg.reps);
  printf("# capacity ours_Mmsg_per_s baseline_Mmsg_per_s "
         "ours_batches_Mmsg_per_s\n");
  for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
    a.n = caps[i] * 10000;
    if (a.n < 50000)
      a.n = 50000;
    if (a.n > 10000000)
      a.n = 10000000;
    a.n = bench_size(a.n, 2000);
    a.capacity = caps[i];
    a.producers = 1;
    a.consumers = 1;
    r = bench_row("chan_capacity", "", "M msg/s");
    bench_compare(r, ours_chan, base_chan_mutex_ring, &a, bench_cfg.reps);
    /* The batch calls, in batches of up to 64 (no more than the capacity). */
    a.batch = caps[i] < CH_MAX_BATCH ? caps[i] : CH_MAX_BATCH;
    rb = bench_row("chan_capacity", "batches", "M msg/s");
    bench_compare(rb, ours_chan_many, NULL, &a, bench_cfg.reps);
    a.batch = 0;
    printf("%zu %.4g %.4g %.4g\n", caps[i], r->ours_med, r->base_med,
           rb->ours_med);
    fflush(stdout);
  }
}
