/* hello.c: the smallest use of uvev.
 *
 * A thread stores 42 with a relaxed store and notifies; a loop waits until the
 * value is non-zero and reads 42. uvev_notify's fence and the waiter's re-check
 * make the relaxed store enough: the waiter either sees the value or is woken.
 */
#include <stdio.h>
#include <uv.h>
#include <uvev.h>

static uvev_event_t event;
static int value;  /* written with a relaxed atomic store, read likewise */

static int value_is_set(void* arg) {
  return __atomic_load_n(&value, __ATOMIC_RELAXED) != 0;
}

static void on_value(uvev_wait_t* req, int status) {
  int* got = req->data;
  if (status == 0)
    *got = __atomic_load_n(&value, __ATOMIC_RELAXED);
}

static void producer(void* arg) {
  __atomic_store_n(&value, 42, __ATOMIC_RELAXED);
  uvev_notify_one(&event);
}

int main(void) {
  uv_loop_t* loop = uv_default_loop();
  uvev_waker_t waker;
  uvev_wait_t req = {0};
  uv_thread_t thread;
  int got = 0;

  uvev_event_init(&event);
  uvev_waker_init(loop, &waker);
  req.data = &got;
  uvev_wait(&waker, &req, &event, value_is_set, on_value);
  uv_thread_create(&thread, producer, NULL);

  uv_run(loop, UV_RUN_DEFAULT);  /* returns once the wait is done */

  uv_thread_join(&thread);
  uvev_waker_close(&waker, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  uvev_event_destroy(&event);
  printf("hello: the loop got %d\n", got);
  return uv_loop_close(loop) == 0 && got == 42 ? 0 : 1;
}
