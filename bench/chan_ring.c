/* chan_ring.c: chan_vs_ring, the cost of the eventcount over the queue it
 * wraps. One producer thread and one consumer thread move u64 messages
 * through a channel of capacity 1024 with the blocking calls
 * (uvev_chan_send_sync, uvev_chan_recv_sync); the baseline moves them through
 * the channel's own ring (src/ring.c, compiled into uvev-bench) with both
 * ends spinning on its claims, with no event at all. The ratio is what
 * waiting costs: the notifies, and the sleeps when one side runs ahead.
 * Every message is accounted for (count and checksum) on both sides.
 */
#include <stdlib.h>

#include <uvev.h>

#include "../src/ring.h"
#include "../src/atomic.h"
#include "harness.h"
#include "metrics.h"

#define CR_CAPACITY 1024

static struct {
  uvev_chan_t chan;
  struct uvev__ring ring;     /* the baseline's */
  char* cells;
  unsigned long n;
  int spin;                   /* 1: the baseline */
  uint64_t sum;               /* consumer */
  uint64_t producer_cpu;
  uint64_t consumer_cpu;
  uv_sem_t go;
} cr;

/* The bare ring: claim until there is room (or an element), then complete. */
static void cr_ring_send(uint64_t v) {
  struct uvev__slot s;

  while (uvev__ring_claim_send(&cr.ring, &s) != 0)
    uvev__cpu_relax();
  uvev__ring_put(&cr.ring, &s, &v);
}

static uint64_t cr_ring_recv(void) {
  struct uvev__slot s;
  uint64_t v;

  while (uvev__ring_claim_recv(&cr.ring, &s) != 0)
    uvev__cpu_relax();
  uvev__ring_take(&cr.ring, &s, &v);
  return v;
}

static void cr_produce(void* arg) {
  unsigned long i;
  uint64_t t0;
  uint64_t v;

  (void) arg;
  uv_sem_wait(&cr.go);
  t0 = bench_thread_cpu_ns();
  for (i = 0; i < cr.n; i++) {
    v = i;
    if (cr.spin)
      cr_ring_send(v);
    else if (uvev_chan_send_sync(&cr.chan, &v) != 0)
      bench_fail("chan_vs_ring: uvev_chan_send_sync");
  }
  cr.producer_cpu = bench_thread_cpu_ns() - t0;
}

static void cr_consume(void* arg) {
  unsigned long i;
  uint64_t t0;
  uint64_t v;

  (void) arg;
  uv_sem_wait(&cr.go);
  t0 = bench_thread_cpu_ns();
  for (i = 0; i < cr.n; i++) {
    if (cr.spin)
      v = cr_ring_recv();
    else if (uvev_chan_recv_sync(&cr.chan, &v) != 0)
      bench_fail("chan_vs_ring: uvev_chan_recv_sync");
    cr.sum += v;
  }
  cr.consumer_cpu = bench_thread_cpu_ns() - t0;
}

/* One repetition: M messages per second. */
static double cr_run(const bench_args_t* a, bench_stats_t* stats, int spin) {
  uv_thread_t producer, consumer;
  uint64_t t0, ns;
  size_t stride;

  cr.n = a->n;
  cr.spin = spin;
  cr.sum = 0;
  stride = (sizeof(struct uvev__cell) + sizeof(uint64_t) + 7) & ~(size_t) 7;
  cr.cells = malloc(CR_CAPACITY * stride);
  if (cr.cells == NULL ||
      uvev_chan_init(&cr.chan, CR_CAPACITY, sizeof(uint64_t)) != 0 ||
      uv_sem_init(&cr.go, 0) != 0)
    bench_fail("chan_vs_ring: init");
  uvev__ring_init(&cr.ring, cr.cells, CR_CAPACITY, sizeof(uint64_t), stride);
  if (uv_thread_create(&producer, cr_produce, NULL) != 0 ||
      uv_thread_create(&consumer, cr_consume, NULL) != 0)
    bench_fail("chan_vs_ring: thread");
  t0 = uv_hrtime();
  uv_sem_post(&cr.go);
  uv_sem_post(&cr.go);
  uv_thread_join(&producer);
  uv_thread_join(&consumer);
  ns = uv_hrtime() - t0;
  if (cr.sum != (uint64_t) cr.n * (cr.n - 1) / 2)
    bench_fail("chan_vs_ring: checksum wrong");
  stats->producer_cpu_ns = (double) cr.producer_cpu / (double) cr.n;
  stats->consumer_cpu_ns = (double) cr.consumer_cpu / (double) cr.n;
  if (uvev_chan_destroy(&cr.chan) != 0)
    bench_fail("chan_vs_ring: uvev_chan_destroy");
  uv_sem_destroy(&cr.go);
  free(cr.cells);
  return (double) cr.n / ((double) ns / 1e3);
}

static double ours_chan_sync(const bench_args_t* a, bench_stats_t* stats) {
  return cr_run(a, stats, 0);
}

static double base_ring_spin(const bench_args_t* a, bench_stats_t* stats) {
  return cr_run(a, stats, 1);
}

void bench_chan_vs_ring(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_stats_t ours;
  bench_stats_t base;
  bench_row_t* r;

  a.n = bench_size(10000000, 20000);
  r = bench_row(m->name, "", m->unit);
  r->ours_label = "uvev_chan_send_sync -> uvev_chan_recv_sync, 2 threads";
  r->base_label = "the channel's bare ring, both ends spinning on its claims";
  bench_compare(r, ours_chan_sync, base_ring_spin, &a, bench_cfg.reps);
  bench_goal(r, &m->goal, r->ratio);
  ours = bench_stats_median(r, 1);
  base = bench_stats_median(r, 0);
  snprintf(r->note, sizeof(r->note),
           "CPU ns/msg producer+consumer: ours %.4g+%.4g, baseline %.4g+%.4g",
           ours.producer_cpu_ns, ours.consumer_cpu_ns, base.producer_cpu_ns,
           base.consumer_cpu_ns);
}
