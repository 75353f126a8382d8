/* select.c: the README's select example as a program.
 *
 * A thread streams the numbers 1..COUNT into a data channel with blocking
 * sends, then sends one message on a control channel. A loop receives from
 * both with one select, data first, and stops on the control message. A
 * select moves one element per completion, so the control message never
 * costs a data element; and since the control message was sent after every
 * data element, the data still in the channel when it arrives is taken with
 * try_recv before stopping. The count and the sum say nothing was lost.
 */
#include <stdio.h>
#include <uv.h>
#include <uvev.h>

#define COUNT 100000

static uvev_chan_t data;       /* uint64_t elements */
static uvev_chan_t control;
static uvev_waker_t waker;
static uvev_chan_sel_t sel[2];
static uint64_t value;         /* sel[0].buf */
static uint64_t message;       /* sel[1].buf */
static uint64_t count;
static uint64_t sum;

static void use(uint64_t v) {
  count++;
  sum += v;
}

static void on_select(uvev_chan_op_t* op, int i) {
  if (i == 0 && sel[0].status == 0) {  /* a data element, in value */
    use(value);
    uvev_chan_select(&waker, op, sel, 2, on_select);  /* the next one */
    return;
  }
  /* The control message (i == 1; or a channel closed, or an error): what
   * was sent before it is in the data channel. Take it, then stop. */
  while (uvev_chan_try_recv(&data, &value) == 0)
    use(value);
  uvev_waker_close(&waker, NULL);
}

static void producer(void* arg) {
  uint64_t v;

  for (v = 1; v <= COUNT; v++)
    uvev_chan_send_sync(&data, &v);
  v = 1;
  uvev_chan_send_sync(&control, &v);
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uvev_chan_op_t op = {0};
  uv_thread_t thread;
  int ok;

  uvev_chan_init(&data, 64, sizeof(uint64_t));
  uvev_chan_init(&control, 1, sizeof(uint64_t));
  uvev_waker_init(loop, &waker);
  sel[0].ch = &data;
  sel[0].dir = UVEV_CHAN_RECV;
  sel[0].buf = &value;
  sel[1].ch = &control;
  sel[1].dir = UVEV_CHAN_RECV;
  sel[1].buf = &message;
  uvev_chan_select(&waker, &op, sel, 2, on_select);
  uv_thread_create(&thread, producer, NULL);

  uv_run(loop, UV_RUN_DEFAULT);  /* returns once the waker is closed */

  uv_thread_join(&thread);
  ok = count == COUNT && sum == (uint64_t) COUNT * (COUNT + 1) / 2 &&
       message == 1;
  printf("select: %llu values (sum %llu), then the control message: %s\n",
         (unsigned long long) count, (unsigned long long) sum,
         ok ? "nothing lost" : "MISMATCH");
  uvev_chan_destroy(&data);
  uvev_chan_destroy(&control);
  return uv_loop_close(loop) == 0 && ok ? 0 : 1;
}
