/* consumer.c: the program that the consumer tests (test/consumers) build
 * against uvev the ways a user would: CMake's uvev::uvev, pkg-config, a meson
 * subproject. It uses uvev and libuv (uv.h and uv_* calls) and names no
 * other library, so each build must bring libuv along with uvev.
 *
 * A thread sends the numbers 0 .. N-1 into a channel of 16 with blocking
 * sends, then closes it; the loop receives with uvev_chan_recv and
 * uvev_chan_try_recv and checks that each number comes once, in order, then
 * UV_EOF. Exit status 0 only then. A watchdog timer fails the run after
 * 30 s, so a lost wake-up cannot hang it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>
#include <uvev.h>

#define N 200000
#define WATCHDOG_MS 30000

static uvev_chan_t chan;
static uvev_waker_t waker;
static uvev_chan_op_t op;
static uv_timer_t watchdog;
static uint64_t slot;
static uint64_t next;           /* the number expected next */

static void fail(const char* what, int err) {
  fprintf(stderr, "consumer: %s: %s (after %" PRIu64 " numbers)\n", what,
          err != 0 ? uv_strerror(err) : "failed", next);
  exit(1);
}

static void producer(void* arg) {
  uint64_t i;
  int err;

  (void) arg;
  for (i = 0; i < N; i++) {
    err = uvev_chan_send_sync(&chan, &i);
    if (err != 0)
      fail("uvev_chan_send_sync", err);
  }
  uvev_chan_close(&chan);
}

static void take(uint64_t v) {
  if (v != next) {
    fprintf(stderr, "consumer: got %" PRIu64 ", expected %" PRIu64 "\n", v,
            next);
    exit(1);
  }
  next++;
}

static void on_recv(uvev_chan_op_t* req, int status) {
  uint64_t v;
  int err;

  if (status == UV_EOF) {
    uv_close((uv_handle_t*) &watchdog, NULL);
    uvev_waker_close(&waker, NULL);
    return;
  }
  if (status != 0)
    fail("uvev_chan_recv callback", status);
  take(slot);
  while (uvev_chan_try_recv(&chan, &v) == 0)
    take(v);
  err = uvev_chan_recv(&waker, req, &chan, &slot, on_recv);
  if (err != 0)
    fail("uvev_chan_recv", err);
}

static void on_watchdog(uv_timer_t* t) {
  (void) t;
  fail("no UV_EOF after 30 s", 0);
}

static void check(const char* what, int err) {
  if (err != 0)
    fail(what, err);
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uv_thread_t thread;

  check("uvev_chan_init", uvev_chan_init(&chan, 16, sizeof(uint64_t)));
  check("uvev_waker_init", uvev_waker_init(loop, &waker));
  check("uv_timer_init", uv_timer_init(loop, &watchdog));
  check("uv_timer_start", uv_timer_start(&watchdog, on_watchdog, WATCHDOG_MS,
                                         0));
  check("uv_thread_create", uv_thread_create(&thread, producer, NULL));
  check("uvev_chan_recv", uvev_chan_recv(&waker, &op, &chan, &slot, on_recv));
  check("uv_run", uv_run(loop, UV_RUN_DEFAULT));
  check("uv_thread_join", uv_thread_join(&thread));
  if (next != N)
    fail("UV_EOF before every number came", 0);
  check("uvev_chan_destroy", uvev_chan_destroy(&chan));
  check("uv_loop_close", uv_loop_close(loop));
  printf("consumer: %d numbers once each, in order (uvev %d.%d.%d, libuv %s)\n",
         N, UVEV_VERSION_MAJOR, UVEV_VERSION_MINOR, UVEV_VERSION_PATCH,
         uv_version_string());
  return 0;
}
