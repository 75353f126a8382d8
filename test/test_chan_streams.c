/* test_chan_streams.c: the channel's exactly-once streams between threads and loops
 * (stream.c), in order, with cancel and timeout in the middle, and in
 * batches.
 */
#include <string.h>

#include "helpers.h"
#include "stream.h"

static void run_stream_batch(int pt, int pl, int ct, int cl, size_t cap,
                             unsigned long per, int chaos, unsigned batch) {
  stream_config_t cfg;
  stream_result_t res;

  memset(&cfg, 0, sizeof(cfg));
  cfg.producer_threads = pt;
  cfg.producer_loops = pl;
  cfg.consumer_threads = ct;
  cfg.consumer_loops = cl;
  cfg.capacity = cap;
  cfg.per_producer = per;
  cfg.chaos = chaos;
  cfg.batch = batch;
  stream_run(&cfg, &res);
}

static void run_stream(int pt, int pl, int ct, int cl, size_t cap,
                       unsigned long per, int chaos) {
  run_stream_batch(pt, pl, ct, cl, cap, per, chaos, 0);
}

START_TEST(test_chan_fifo_1p1c) {
  run_stream(1, 0, 0, 1, 8, 20000, 0);   /* thread -> loop */
  run_stream(0, 1, 1, 0, 8, 20000, 0);   /* loop -> thread */
  run_stream(1, 0, 1, 0, 1, 20000, 0);   /* thread -> thread, capacity 1 */
}
END_TEST

START_TEST(test_chan_streams) {
  run_stream(2, 0, 0, 1, 64, 10000, 0);  /* threads -> a loop */
  run_stream(0, 1, 2, 0, 64, 10000, 0);  /* a loop -> threads */
  run_stream(3, 0, 2, 2, 7, 10000, 0);   /* threads -> loops + threads */
  run_stream(1, 1, 1, 1, 1, 5000, 0);    /* everything, capacity 1 */
}
END_TEST

START_TEST(test_chan_streams_chaos) {
  run_stream(2, 1, 1, 2, 4, 3000, 1);
  run_stream(1, 1, 2, 1, 1, 2000, 1);
}
END_TEST

/* Every peer in batches of 1 to n: the same accounting. */
START_TEST(test_chan_streams_batch) {
  run_stream_batch(1, 0, 0, 1, 64, 20000, 0, 64);  /* thread -> loop */
  run_stream_batch(0, 1, 1, 0, 64, 20000, 0, 64);  /* loop -> thread */
  run_stream_batch(3, 0, 2, 2, 7, 10000, 0, 5);    /* threads -> both */
  run_stream_batch(1, 1, 1, 1, 1, 5000, 0, 3);     /* capacity 1 */
  run_stream_batch(2, 1, 1, 2, 4, 3000, 1, 4);     /* chaos */
}
END_TEST

TCase* chan_streams_case(void) {
  TCase* tc;

  tc = test_case("streams", 0);
  tcase_add_test(tc, test_chan_fifo_1p1c);
  tcase_add_test(tc, test_chan_streams);
  tcase_add_test(tc, test_chan_streams_chaos);
  tcase_add_test(tc, test_chan_streams_batch);
  return tc;
}
