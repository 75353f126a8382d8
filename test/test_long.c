/* test_long.c: the long stress target: 4 loops and 2 threads, producers and
 * consumers on a channel and its events, 10^7 messages, exactly once by count
 * and checksum and in order per producer, repeated. Every wait is bounded by
 * a watchdog (stream.c).
 *
 * UVEV_LONG_MESSAGES (default 10^7) and UVEV_LONG_ROUNDS (default 2) size it.
 */
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "stream.h"

START_TEST(test_long_stream) {
  stream_config_t cfg;
  stream_result_t res;
  const char* s;
  unsigned long messages;
  int rounds, round;

  s = getenv("UVEV_LONG_MESSAGES");
  messages = s != NULL ? strtoul(s, NULL, 10) : 10000000;
  s = getenv("UVEV_LONG_ROUNDS");
  rounds = s != NULL ? atoi(s) : 2;
  memset(&cfg, 0, sizeof(cfg));
  /* Loops: 2 producers, 2 consumers; threads: 1 producer, 1 consumer. */
  cfg.producer_threads = 1;
  cfg.producer_loops = 2;
  cfg.consumer_threads = 1;
  cfg.consumer_loops = 2;
  cfg.capacity = 256;
  cfg.per_producer = messages / 3;
  for (round = 0; round < rounds; round++) {
    stream_run(&cfg, &res);
    printf("long stress: round %d: 4 loops + 2 threads, %lu messages exactly "
           "once in %.2f s\n", round + 1, res.count, res.seconds_x1000 / 1e3);
    fflush(stdout);
  }
}
END_TEST

TCase* long_case(void) {
  TCase* tc;

  tc = test_case("long", 1);
  tcase_add_test(tc, test_long_stream);
  return tc;
}
