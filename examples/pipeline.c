/* pipeline.c: native threads stream records into a loop through a bounded
 * channel.
 *
 * N producer threads send numbered records with blocking sends; one loop
 * receives them in batches: a batch receive takes up to BATCH records with
 * one claim, and its callback drains the channel with try_recv_many before
 * it waits again, so a wake-up is paid per burst, not per record.
 * The loop starts late on purpose, to show backpressure: the producers fill
 * the channel and block until the loop makes room. The last producer closes
 * the channel; the loop stops at UV_EOF and checks that every record came
 * exactly once and in order per producer.
 *
 *   pipeline [-p producers] [-c capacity] [-n records] [-q]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <uvev.h>

#define MAX_PRODUCERS 16
#define CACHE_LINE 64
#define BATCH 256

/* Each producer's state on cache lines of its own, and the loop's on others:
 * a counter the loop bumps per record must not share a line with anything a
 * producer touches per record, or both cores stall on that line (false
 * sharing; it cost this demo two thirds of its throughput). */
typedef struct {
  uv_thread_t thread;
  int id;
  unsigned long count;         /* records to send */
  unsigned long sent;          /* atomic: records sent so far */
} __attribute__((aligned(CACHE_LINE))) producer_t;

static uvev_chan_t chan;
static producer_t producers[MAX_PRODUCERS];
static int nproducers = 2;
static unsigned long per_producer;
static int producers_left;     /* atomic */

/* What the loop has seen. */
static struct {
  unsigned long received;
  unsigned long next_seq[MAX_PRODUCERS];
  unsigned long out_of_order;
  uint64_t checksum;
  uint64_t batch[BATCH];       /* where the receives put records */
} __attribute__((aligned(CACHE_LINE))) seen;
static uint64_t start_ns, end_ns;
static unsigned long sent_at_start;

static uint64_t make_record(int producer, unsigned long seq) {
  return (uint64_t) producer << 48 | seq;
}

static void producer_main(void* arg) {
  producer_t* p = arg;
  unsigned long i;
  uint64_t r;

  for (i = 0; i < p->count; i++) {
    r = make_record(p->id, i);
    if (uvev_chan_send_sync(&chan, &r) != 0)
      abort();
    __atomic_store_n(&p->sent, i + 1, __ATOMIC_RELAXED);
  }
  if (__atomic_sub_fetch(&producers_left, 1, __ATOMIC_ACQ_REL) == 0)
    uvev_chan_close(&chan);
}

static void take(uint64_t r) {
  int producer = (int) (r >> 48);
  unsigned long seq = r & ((1ull << 48) - 1);

  if (producer >= nproducers || seq != seen.next_seq[producer])
    seen.out_of_order++;
  seen.next_seq[producer] = seq + 1;
  seen.checksum += r * 0x9e3779b97f4a7c15ull;
  seen.received++;
}

/* status: how many records the receive put in seen.batch, or UV_EOF. */
static void on_records(uvev_chan_op_t* op, int status) {
  uvev_waker_t* waker = op->data;
  int i;

  while (status > 0) {
    for (i = 0; i < status; i++)
      take(seen.batch[i]);
    status = uvev_chan_try_recv_many(&chan, seen.batch, BATCH);
  }
  if (status == UV_EOF) {
    end_ns = uv_hrtime();
    uvev_waker_close(waker, NULL);
    return;
  }
  uvev_chan_recv_many(waker, op, &chan, seen.batch, BATCH, on_records);
}

static void start_receiving(uv_timer_t* timer) {
  uvev_chan_op_t* op = timer->data;
  int i;

  /* Everything sent so far sits in the channel: the producers are blocked. */
  for (i = 0; i < nproducers; i++)
    sent_at_start += __atomic_load_n(&producers[i].sent, __ATOMIC_RELAXED);
  start_ns = uv_hrtime();
  uvev_chan_recv_many(op->data, op, &chan, seen.batch, BATCH, on_records);
  uv_close((uv_handle_t*) timer, NULL);
}

int main(int argc, char** argv) {
  uv_loop_t* loop = uv_default_loop();
  uvev_waker_t waker;
  uvev_chan_op_t op = {0};
  uv_timer_t timer;
  size_t capacity = 1024;
  unsigned long total = 10000000;
  uint64_t expect = 0;
  unsigned long i;
  int quiet = 0;
  int ok;
  int c;

  for (c = 1; c < argc; c++) {
    if (strcmp(argv[c], "-p") == 0 && c + 1 < argc)
      nproducers = atoi(argv[++c]);
    else if (strcmp(argv[c], "-c") == 0 && c + 1 < argc)
      capacity = strtoul(argv[++c], NULL, 10);
    else if (strcmp(argv[c], "-n") == 0 && c + 1 < argc)
      total = strtoul(argv[++c], NULL, 10);
    else if (strcmp(argv[c], "-q") == 0)
      quiet = 1;
    else {
      fprintf(stderr, "usage: %s [-p producers] [-c capacity] [-n records] "
              "[-q]\n", argv[0]);
      return 2;
    }
  }
  if (nproducers < 1 || nproducers > MAX_PRODUCERS || capacity == 0 ||
      total < (unsigned long) nproducers)
    return 2;
  per_producer = total / (unsigned long) nproducers;
  total = per_producer * (unsigned long) nproducers;

  if (uvev_chan_init(&chan, capacity, sizeof(uint64_t)) != 0 ||
      uvev_waker_init(loop, &waker) != 0)
    return 1;
  op.data = &waker;
  producers_left = nproducers;
  for (c = 0; c < nproducers; c++) {
    producers[c].id = c;
    producers[c].count = per_producer;
    uv_thread_create(&producers[c].thread, producer_main, &producers[c]);
  }
  /* The loop is "busy" for 100 ms before it starts receiving. */
  uv_timer_init(loop, &timer);
  timer.data = &op;
  uv_timer_start(&timer, start_receiving, 100, 0);

  uv_run(loop, UV_RUN_DEFAULT);

  for (c = 0; c < nproducers; c++)
    uv_thread_join(&producers[c].thread);
  for (c = 0; c < nproducers; c++)
    for (i = 0; i < per_producer; i++)
      expect += make_record(c, i) * 0x9e3779b97f4a7c15ull;
  ok = seen.received == total && seen.out_of_order == 0 &&
       seen.checksum == expect;

  if (!quiet) {
    printf("pipeline: %d producer thread%s -> 1 loop, channel capacity %zu, "
           "%lu records\n", nproducers, nproducers > 1 ? "s" : "", capacity,
           total);
    printf("backpressure: the loop was busy for 100 ms; the producers sent "
           "%lu records (capacity %zu) and blocked\n", sent_at_start,
           capacity);
    printf("exactly once: %lu received, %lu out of order, checksum %s\n",
           seen.received, seen.out_of_order,
           seen.checksum == expect ? "ok" : "WRONG");
  }
  printf("%.1f M records/s (%lu records in %.3f s)\n",
         total / ((end_ns - start_ns) / 1e9) / 1e6, total,
         (end_ns - start_ns) / 1e9);
  uvev_chan_destroy(&chan);
  if (uv_loop_close(loop) != 0)
    ok = 0;
  /* Without backpressure the producers would have sent far more. */
  return ok && sent_at_start <= capacity ? 0 : 1;
}
