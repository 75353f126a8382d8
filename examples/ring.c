/* ring.c: cross-loop signalling. K loops on K threads pass a token around a
 * ring of channels: loop i receives from channel i and sends to channel
 * i + 1. Loop 0 times each lap and prints the round-trip latency.
 *
 *   ring [-k loops] [-r laps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>
#include <uvev.h>

#define MAX_LOOPS 16

typedef struct {
  uv_thread_t thread;
  uv_loop_t loop;
  uvev_waker_t waker;
  uvev_chan_op_t op;
  uvev_chan_t chan;            /* this loop's inbox */
  uint64_t token;              /* the lap number */
  int id;
} node_t;

static node_t nodes[MAX_LOOPS];
static int k = 4;
static uint64_t laps = 10000;
static uint64_t* lap_ns;       /* loop 0: time of each lap */
static uint64_t lap_start;

static void on_token(uvev_chan_op_t* op, int status) {
  node_t* n = op->data;
  node_t* next = &nodes[(n->id + 1) % k];

  if (status == UV_EOF)
    return;
  if (n->id == 0) {
    uint64_t now = uv_hrtime();
    if (n->token > 0)
      lap_ns[n->token - 1] = now - lap_start;
    lap_start = now;
    if (n->token == laps) {
      int i;
      for (i = 0; i < k; i++)
        uvev_chan_close(&nodes[i].chan);
      return;
    }
    n->token++;
  }
  /* The next inbox is empty (one token in the ring): this cannot block. */
  if (uvev_chan_try_send(&next->chan, &n->token) != 0)
    abort();
  uvev_chan_recv(&n->waker, op, &n->chan, &n->token, on_token);
}

static void node_main(void* arg) {
  node_t* n = arg;

  uv_loop_init(&n->loop);
  uvev_waker_init(&n->loop, &n->waker);
  n->op.data = n;
  uvev_chan_recv(&n->waker, &n->op, &n->chan, &n->token, on_token);
  uv_run(&n->loop, UV_RUN_DEFAULT);
  uvev_waker_close(&n->waker, NULL);
  uv_run(&n->loop, UV_RUN_DEFAULT);
  uv_loop_close(&n->loop);
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*) a, y = *(const uint64_t*) b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  uint64_t zero = 0;
  uint64_t i;
  int c;

  for (c = 1; c < argc; c++) {
    if (strcmp(argv[c], "-k") == 0 && c + 1 < argc)
      k = atoi(argv[++c]);
    else if (strcmp(argv[c], "-r") == 0 && c + 1 < argc)
      laps = strtoull(argv[++c], NULL, 10);
    else {
      fprintf(stderr, "usage: %s [-k loops] [-r laps]\n", argv[0]);
      return 2;
    }
  }
  if (k < 2 || k > MAX_LOOPS || laps < 1)
    return 2;
  lap_ns = calloc(laps, sizeof(*lap_ns));
  for (c = 0; c < k; c++) {
    nodes[c].id = c;
    uvev_chan_init(&nodes[c].chan, 1, sizeof(uint64_t));
  }
  uvev_chan_try_send(&nodes[0].chan, &zero);  /* the token starts at loop 0 */
  for (c = 0; c < k; c++)
    uv_thread_create(&nodes[c].thread, node_main, &nodes[c]);
  for (c = 0; c < k; c++)
    uv_thread_join(&nodes[c].thread);

  qsort(lap_ns, laps, sizeof(*lap_ns), cmp_u64);
  printf("ring: %d loops on %d threads, %llu laps: round trip median %.1f us, "
         "p99 %.1f us (%.1f us per hop)\n", k, k, (unsigned long long) laps,
         lap_ns[laps / 2] / 1e3, lap_ns[laps * 99 / 100] / 1e3,
         lap_ns[laps / 2] / 1e3 / k);
  for (c = 0; c < k; c++)
    uvev_chan_destroy(&nodes[c].chan);
  for (i = 0; i < laps; i++)
    if (lap_ns[i] == 0)
      return 1;
  free(lap_ns);
  return 0;
}
