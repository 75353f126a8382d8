/* stream.h: a channel stream with exact accounting, shared by the chan and
 * stress suites.
 *
 * Producers (threads with blocking sends, or loops with async sends) send
 * elements (producer << 40 | sequence); when the last producer is done it
 * closes the channel. Consumers (threads with blocking receives, or loops
 * with an async receive that then drains with try_recv) take elements until
 * EOF. At the end the count and an order-independent checksum (a sum of
 * hashed elements) must match what was sent, and each consumer must have
 * seen every producer's elements in increasing order (FIFO).
 *
 * With `batch` set, every peer moves elements with the batch calls instead.
 *
 * Hiccups: with `chaos` set, loop consumers cancel their pending receive at
 * random and restart it, thread consumers and producers use 1 ms timeouts
 * and retry; nothing may be lost or duplicated.
 */
#ifndef UVEV_TEST_STREAM_H_
#define UVEV_TEST_STREAM_H_

#include "helpers.h"

enum { STREAM_MAX_PEERS = 8, STREAM_MAX_BATCH = 64 };

typedef struct {
  int producer_threads;
  int producer_loops;
  int consumer_threads;
  int consumer_loops;
  size_t capacity;
  unsigned long per_producer;
  int chaos;
  /* Thread peers' blocking timeout, in ms; 0: WATCHDOG_MS. Without chaos an
   * operation that needs all of it fails the run: in a stream that moves,
   * nothing waits that long unless its wake-up was lost. */
  unsigned op_timeout_ms;
  /* No close at the end: each consumer takes exactly its share of the
   * elements (they must divide evenly), so the last ones reach their
   * consumers by wake-ups alone. */
  int quota;
  /* Batches: with batch > 0 (at most STREAM_MAX_BATCH) every peer uses the
   * _many calls, asking for 1 to `batch` elements at a time (a different
   * size each call), and accounts for the count each returns. */
  unsigned batch;
} stream_config_t;

typedef struct {
  unsigned long count;
  unsigned long long seconds_x1000;  /* wall time, ms */
} stream_result_t;

/* Runs one stream to the end (dies on a hang or a mismatch) and checks the
 * accounting with Check assertions on the calling thread. */
void stream_run(const stream_config_t* cfg, stream_result_t* res);

#endif /* UVEV_TEST_STREAM_H_ */
