/* baseline.c: the hand-written versions uvev is measured against, each the
 * plainest correct code a careful libuv user would write for the pattern,
 * and no slower than it has to be:
 *
 *   fence_floor        the seq_cst fence + relaxed load any eventcount's
 *                      notify needs, inline, with the cheapest x86 fence
 *   fence_compiled     the same with atomic_thread_fence() as compiled
 *   fence_call         the floor's fence and load in a function called
 *                      through a pointer: what a call alone adds
 *   pingpong_async     two loops, one uv_async_t each, bouncing a wake-up
 *   pingpong_condvar   two threads, one pthread mutex and a condvar each
 *   chan_mutex_ring    producer threads -> loops: a mutex-protected ring,
 *                      condvar backpressure, uv_async_send per message, each
 *                      async callback draining everything (the pattern of
 *                      Node's napi_threadsafe_function)
 *   wake_async_each    one uv_async_t per waiter on one loop, the driver
 *                      waking the first
 *   notify_all_async_each  the same handles, uv_async_send on every one
 *
 * pthread primitives are used directly (default attributes): the fastest a
 * libuv user could pick (uv_mutex_t is the same mutex behind a call).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "counters.h"
#include "harness.h"

/* ---- fence_floor, fence_compiled ----------------------------------------- */

/* A waitset's "nobody waits" flag, as a notifier reads it. */
static int floor_is_empty = 1;
static volatile unsigned long floor_sink;

/* The cheapest sequentially consistent fence a careful C programmer writes
 * for x86-64: a locked RMW on the top of the stack (a line no other core
 * touches). gcc emits exactly this for atomic_thread_fence(seq_cst); clang
 * emits mfence. Elsewhere, the portable fence. */
static inline void floor_fence(void) {
#if defined(__x86_64__)
  /* seq_cst fence: its pair is named at each call site. */
  __asm__ __volatile__("lock; orl $0, (%%rsp)" ::: "memory", "cc");
#elif defined(__i386__)
  /* seq_cst fence: its pair is named at each call site. */
  __asm__ __volatile__("lock; orl $0, (%%esp)" ::: "memory", "cc");
#else
  /* seq_cst fence: its pair is named at each call site. */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

double base_fence_floor(const bench_args_t* a, bench_stats_t* stats) {
  unsigned long slow;
  unsigned long i;
  uint64_t t0;
  uint64_t t1;

  (void) stats;
  slow = 0;
  for (i = 0; i < a->warmup; i++) {
    /* seq_cst fence: pairs with a waiter's fence (none here). */
    floor_fence();
    /* Relaxed: ordered by the fence above. */
    if (!__atomic_load_n(&floor_is_empty, __ATOMIC_RELAXED))
      slow++;
  }
  t0 = uv_hrtime();
  for (i = 0; i < a->n; i++) {
    /* seq_cst fence: the notifier's half of a Dekker pair; it would pair
     * with the fence a waiter issues after registering. Nobody registers
     * here: this is what a notifier pays when nobody waits. */
    floor_fence();
    /* Relaxed: ordered by the fence above (as uvev's load of is_empty). */
    if (!__atomic_load_n(&floor_is_empty, __ATOMIC_RELAXED))
      slow++;
  }
  t1 = uv_hrtime();
  floor_sink = slow;
  return (double) (t1 - t0) / (double) a->n;
}

/* The floor's fence and load as a function called out of line, for
 * information: what a call alone adds to them. The fence ORs the word below
 * the stack pointer, as uvev's does: right after the call, (%rsp) holds the
 * return address just stored, and a locked RMW of it would wait for that
 * store. */
__attribute__((noinline)) static int floor_notify_call(const int* is_empty) {
#if defined(__x86_64__)
  /* seq_cst fence: pairs with a waiter's fence (none here). */
  __asm__ __volatile__("lock; orl $0, -4(%%rsp)" ::: "memory", "cc");
#else
  /* seq_cst fence: pairs with a waiter's fence (none here). */
  floor_fence();
#endif
  /* Relaxed: ordered by the fence above. */
  return !__atomic_load_n(is_empty, __ATOMIC_RELAXED);
}

double base_fence_call(const bench_args_t* a, bench_stats_t* stats) {
  int (*volatile fn)(const int*) = floor_notify_call;
  int (*call)(const int*);
  unsigned long slow;
  unsigned long i;
  uint64_t t0;
  uint64_t t1;

  (void) stats;
  /* Through a pointer read once, so that the call stays a call. */
  call = fn;
  slow = 0;
  for (i = 0; i < a->warmup; i++)
    slow += (unsigned long) call(&floor_is_empty);
  t0 = uv_hrtime();
  for (i = 0; i < a->n; i++)
    slow += (unsigned long) call(&floor_is_empty);
  t1 = uv_hrtime();
  floor_sink = slow;
  return (double) (t1 - t0) / (double) a->n;
}

/* atomic_thread_fence(seq_cst) as the compiler emits it. gcc refuses it
 * under TSan (-Wtsan), which models no fence; there a seq_cst RMW on a local
 * stands in (the timings of a sanitized build mean nothing anyway). */
#if defined(__SANITIZE_THREAD__)
# define compiled_fence()                                                     \
  do {                                                                        \
    int dummy_ = 0;                                                           \
    /* seq_cst RMW standing in for the fence; pairs as the fence would. */   \
    __atomic_fetch_or(&dummy_, 0, __ATOMIC_SEQ_CST);                          \
  } while (0)
#else
# define compiled_fence() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

double base_fence_compiled(const bench_args_t* a, bench_stats_t* stats) {
  unsigned long slow;
  unsigned long i;
  uint64_t t0;
  uint64_t t1;

  (void) stats;
  slow = 0;
  for (i = 0; i < a->warmup; i++) {
    /* seq_cst fence: pairs with a waiter's fence (none here). */
    compiled_fence();
    /* Relaxed: ordered by the fence above. */
    if (!__atomic_load_n(&floor_is_empty, __ATOMIC_RELAXED))
      slow++;
  }
  t0 = uv_hrtime();
  for (i = 0; i < a->n; i++) {
    /* seq_cst fence: pairs with a waiter's fence (none here). */
    compiled_fence();
    /* Relaxed: ordered by the fence above. */
    if (!__atomic_load_n(&floor_is_empty, __ATOMIC_RELAXED))
      slow++;
  }
  t1 = uv_hrtime();
  floor_sink = slow;
  return (double) (t1 - t0) / (double) a->n;
}

/* ---- pingpong_async: two loops, a uv_async_t each ------------------------ */

static struct {
  uv_loop_t loop_a;
  uv_loop_t loop_b;
  uv_async_t async_a;
  uv_async_t async_b;
  uv_sem_t ready;
  unsigned long trips;        /* loop A only */
  unsigned long warmup;
  unsigned long n;
  uint64_t t0;
  uint64_t t1;
  int stop;                   /* atomic */
} pa;

/* Loop A: B answered; one round trip done. */
static void pa_on_a(uv_async_t* h) {
  pa.trips++;
  if (pa.trips == pa.warmup)
    pa.t0 = uv_hrtime();
  if (pa.trips == pa.warmup + pa.n) {
    pa.t1 = uv_hrtime();
    /* Release: pairs with the acquire load in pa_on_b; the send below
     * carries it (its pending flag is set by a full-barrier RMW). */
    __atomic_store_n(&pa.stop, 1, __ATOMIC_RELEASE);
    uv_async_send(&pa.async_b);
    uv_close((uv_handle_t*) h, NULL);
    return;
  }
  uv_async_send(&pa.async_b);
}

/* Loop B: answer. */
static void pa_on_b(uv_async_t* h) {
  /* Acquire: pairs with the release store in pa_on_a. */
  if (__atomic_load_n(&pa.stop, __ATOMIC_ACQUIRE)) {
    uv_close((uv_handle_t*) h, NULL);
    return;
  }
  uv_async_send(&pa.async_a);
}

static void pa_thread_b(void* arg) {
  (void) arg;
  if (uv_loop_init(&pa.loop_b) != 0 ||
      uv_async_init(&pa.loop_b, &pa.async_b, pa_on_b) != 0)
    bench_fail("pingpong_async: loop B init");
  uv_sem_post(&pa.ready);
  uv_run(&pa.loop_b, UV_RUN_DEFAULT);
  if (uv_loop_close(&pa.loop_b) != 0)
    bench_fail("pingpong_async: loop B not closed");
}

double base_pingpong_async(const bench_args_t* a, bench_stats_t* stats) {
  uv_thread_t tb;

  (void) stats;
  memset(&pa, 0, sizeof(pa));
  pa.warmup = a->warmup > 0 ? a->warmup : 1;
  pa.n = a->n;
  if (uv_sem_init(&pa.ready, 0) != 0 || uv_loop_init(&pa.loop_a) != 0 ||
      uv_async_init(&pa.loop_a, &pa.async_a, pa_on_a) != 0)
    bench_fail("pingpong_async: init");
  if (uv_thread_create(&tb, pa_thread_b, NULL) != 0)
    bench_fail("pingpong_async: thread");
  uv_sem_wait(&pa.ready);
  /* Serve: the first ping. */
  uv_async_send(&pa.async_b);
  uv_run(&pa.loop_a, UV_RUN_DEFAULT);
  uv_thread_join(&tb);
  if (uv_loop_close(&pa.loop_a) != 0)
    bench_fail("pingpong_async: loop A not closed");
  uv_sem_destroy(&pa.ready);
  if (pa.trips != pa.warmup + pa.n)
    bench_fail("pingpong_async: %lu round trips", pa.trips);
  return (double) (pa.t1 - pa.t0) / 1e3 / (double) pa.n;
}

/* ---- pingpong_condvar: two threads, pthread mutex + condvar -------------- */

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cond[2];     /* cond[i]: thread i waits here */
  unsigned long turn;         /* under mu; thread turn % 2 moves next */
  unsigned long last;         /* both stop when turn reaches it */
  unsigned long start;        /* turn at which thread 0 starts the clock */
  uint64_t t0;
  uint64_t t1;
} pc;

static void pc_play(int me) {
  pthread_mutex_lock(&pc.mu);
  for (;;) {
    while (pc.turn % 2 != (unsigned long) me && pc.turn < pc.last)
      pthread_cond_wait(&pc.cond[me], &pc.mu);
    if (me == 0 && pc.turn == pc.start)
      pc.t0 = uv_hrtime();
    if (pc.turn >= pc.last)
      break;
    pc.turn++;
    pthread_cond_signal(&pc.cond[!me]);
  }
  if (me == 0)
    pc.t1 = uv_hrtime();
  pthread_mutex_unlock(&pc.mu);
}

static void pc_thread_1(void* arg) {
  (void) arg;
  pc_play(1);
}

double base_pingpong_condvar(const bench_args_t* a, bench_stats_t* stats) {
  uv_thread_t t;

  (void) stats;
  memset(&pc, 0, sizeof(pc));
  if (pthread_mutex_init(&pc.mu, NULL) != 0 ||
      pthread_cond_init(&pc.cond[0], NULL) != 0 ||
      pthread_cond_init(&pc.cond[1], NULL) != 0)
    bench_fail("pingpong_condvar: init");
  pc.start = 2 * a->warmup;
  pc.last = 2 * (a->warmup + a->n);
  if (uv_thread_create(&t, pc_thread_1, NULL) != 0)
    bench_fail("pingpong_condvar: thread");
  pc_play(0);
  uv_thread_join(&t);
  if (pc.turn != pc.last)
    bench_fail("pingpong_condvar: ended at turn %lu", pc.turn);
  pthread_cond_destroy(&pc.cond[0]);
  pthread_cond_destroy(&pc.cond[1]);
  pthread_mutex_destroy(&pc.mu);
  return (double) (pc.t1 - pc.t0) / 1e3 / (double) a->n;
}

/* ---- chan_mutex_ring: threads -> loops, the napi_threadsafe_function way - */

#define MR_MAX 4

typedef struct {
  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t async;
  uint64_t* batch;            /* what one callback drained */
  unsigned long received;
  uint64_t sum;
  uint64_t end;
  uint64_t cpu;               /* thread CPU ns while running the loop */
} mr_consumer_t;

typedef struct {
  uv_thread_t thread;
  int id;
  uint64_t cpu;               /* thread CPU ns while sending */
} mr_producer_t;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t not_full;
  uint64_t* ring;             /* under mu, like everything down to `left` */
  size_t cap;
  size_t head;                /* oldest element */
  size_t tail;                /* next free cell */
  size_t count;
  int waiting;                /* producers blocked on not_full */
  int left;                   /* producers still sending; 0: closed */
  unsigned long per_producer;
  int nproducers;
  int nconsumers;
  uv_sem_t ready;
  uv_sem_t go;
  mr_consumer_t consumers[MR_MAX];
  mr_producer_t producers[MR_MAX];
} mr;

static void mr_produce(void* arg) {
  mr_producer_t* p = arg;
  uv_async_t* async;
  unsigned long i;
  uint64_t v;
  int last;

  async = &mr.consumers[p->id % mr.nconsumers].async;
  uv_sem_wait(&mr.go);
  p->cpu = bench_thread_cpu_ns();
  for (i = 0; i < mr.per_producer; i++) {
    v = (uint64_t) p->id << 48 | i;
    pthread_mutex_lock(&mr.mu);
    while (mr.count == mr.cap) {
      mr.waiting++;
      pthread_cond_wait(&mr.not_full, &mr.mu);
      mr.waiting--;
    }
    mr.ring[mr.tail] = v;
    if (++mr.tail == mr.cap)
      mr.tail = 0;
    mr.count++;
    pthread_mutex_unlock(&mr.mu);
    uv_async_send(async);
  }
  pthread_mutex_lock(&mr.mu);
  last = --mr.left == 0;
  pthread_mutex_unlock(&mr.mu);
  /* Closed: every loop must see it, each drains what is left. */
  if (last)
    for (i = 0; i < (unsigned long) mr.nconsumers; i++)
      uv_async_send(&mr.consumers[i].async);
  p->cpu = bench_thread_cpu_ns() - p->cpu;
}

static void mr_on_async(uv_async_t* h) {
  mr_consumer_t* c = h->data;
  size_t k;
  size_t first;
  size_t i;
  int closed;

  pthread_mutex_lock(&mr.mu);
  k = mr.count;
  first = mr.cap - mr.head < k ? mr.cap - mr.head : k;
  memcpy(c->batch, mr.ring + mr.head, first * sizeof(uint64_t));
  memcpy(c->batch + first, mr.ring, (k - first) * sizeof(uint64_t));
  mr.head = (mr.head + k) % mr.cap;
  mr.count = 0;
  if (k > 0 && mr.waiting == 1)
    pthread_cond_signal(&mr.not_full);
  else if (k > 0 && mr.waiting > 1)
    pthread_cond_broadcast(&mr.not_full);
  closed = mr.left == 0;
  pthread_mutex_unlock(&mr.mu);

  for (i = 0; i < k; i++)
    c->sum += c->batch[i];
  c->received += k;
  if (closed) {
    c->end = uv_hrtime();
    uv_close((uv_handle_t*) h, NULL);
  }
}

static void mr_consume(void* arg) {
  mr_consumer_t* c = arg;

  uv_sem_post(&mr.ready);
  c->cpu = bench_thread_cpu_ns();
  uv_run(&c->loop, UV_RUN_DEFAULT);
  c->cpu = bench_thread_cpu_ns() - c->cpu;
}

double base_chan_mutex_ring(const bench_args_t* a, bench_stats_t* stats) {
  mr_consumer_t* c;
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

  if (a->producers > MR_MAX || a->consumers > MR_MAX)
    bench_fail("chan_mutex_ring: too many threads");
  memset(&mr, 0, sizeof(mr));
  mr.cap = a->capacity;
  mr.nproducers = a->producers;
  mr.nconsumers = a->consumers;
  mr.left = a->producers;
  mr.per_producer = a->n / (unsigned long) a->producers;
  mr.ring = malloc(mr.cap * sizeof(uint64_t));
  if (mr.ring == NULL || pthread_mutex_init(&mr.mu, NULL) != 0 ||
      pthread_cond_init(&mr.not_full, NULL) != 0 ||
      uv_sem_init(&mr.ready, 0) != 0 || uv_sem_init(&mr.go, 0) != 0)
    bench_fail("chan_mutex_ring: init");

  for (k = 0; k < mr.nconsumers; k++) {
    c = &mr.consumers[k];
    c->batch = malloc(mr.cap * sizeof(uint64_t));
    if (c->batch == NULL || uv_loop_init(&c->loop) != 0 ||
        uv_async_init(&c->loop, &c->async, mr_on_async) != 0)
      bench_fail("chan_mutex_ring: consumer init");
    c->async.data = c;
    if (uv_thread_create(&c->thread, mr_consume, c) != 0)
      bench_fail("chan_mutex_ring: thread");
  }
  for (k = 0; k < mr.nproducers; k++) {
    mr.producers[k].id = k;
    if (uv_thread_create(&mr.producers[k].thread, mr_produce,
                         &mr.producers[k]) != 0)
      bench_fail("chan_mutex_ring: thread");
  }
  for (k = 0; k < mr.nconsumers; k++)
    uv_sem_wait(&mr.ready);
  writes = bench_writes();
  bench_count_writes(1);
  t0 = uv_hrtime();
  for (k = 0; k < mr.nproducers; k++)
    uv_sem_post(&mr.go);

  pcpu = 0;
  for (k = 0; k < mr.nproducers; k++) {
    uv_thread_join(&mr.producers[k].thread);
    pcpu += mr.producers[k].cpu;
  }
  received = 0;
  sum = 0;
  ccpu = 0;
  end = t0;
  for (k = 0; k < mr.nconsumers; k++) {
    c = &mr.consumers[k];
    uv_thread_join(&c->thread);
    ccpu += c->cpu;
    if (uv_loop_close(&c->loop) != 0)
      bench_fail("chan_mutex_ring: loop not closed");
    received += c->received;
    sum += c->sum;
    if (c->end > end)
      end = c->end;
    free(c->batch);
  }
  bench_count_writes(0);
  writes = bench_writes() - writes;
  stats->writes_per_1k = (double) writes * 1e3 / (double) received;
  stats->producer_cpu_ns = (double) pcpu / (double) received;
  stats->consumer_cpu_ns = (double) ccpu / (double) received;
  expect = 0;
  for (k = 0; k < mr.nproducers; k++)
    for (i = 0; i < mr.per_producer; i++)
      expect += (uint64_t) k << 48 | i;
  if (received != mr.per_producer * (unsigned long) mr.nproducers ||
      sum != expect)
    bench_fail("chan_mutex_ring: %lu of %lu messages, checksum %s", received,
               mr.per_producer * (unsigned long) mr.nproducers,
               sum == expect ? "ok" : "wrong");
  uv_sem_destroy(&mr.ready);
  uv_sem_destroy(&mr.go);
  pthread_cond_destroy(&mr.not_full);
  pthread_mutex_destroy(&mr.mu);
  free(mr.ring);
  return (double) received / ((double) (end - t0) / 1e3);  /* M msg/s */
}

/* ---- wake_async_each: one uv_async_t per waiter -------------------------- */

#define WA_STOP ((unsigned long) -1)

static struct {
  uv_loop_t loop;
  uv_async_t* handles;        /* handles[0] is the one the driver wakes */
  unsigned int nhandles;
  unsigned long seq;          /* atomic: driver -> loop */
  unsigned long ack;          /* atomic: loop -> driver */
  unsigned long woken;        /* notify_all: callbacks run, loop thread */
  unsigned long cpu_from;     /* loop thread: the wakes its CPU time spans */
  unsigned long cpu_to;
  uint64_t cpu[2];            /* loop thread CPU ns at cpu_from and cpu_to */
  uv_sem_t ready;
} wa;

static void wa_close_all(void) {
  unsigned int i;

  for (i = 0; i < wa.nhandles; i++)
    uv_close((uv_handle_t*) &wa.handles[i], NULL);
}

/* wake_scaling: the one waiter the driver wakes, every time. */
static void wa_on_ping(uv_async_t* h) {
  unsigned long s;

  (void) h;
  /* Acquire: pairs with the driver's release store of seq. */
  s = __atomic_load_n(&wa.seq, __ATOMIC_ACQUIRE);
  if (s == WA_STOP) {
    wa_close_all();
    return;
  }
  if (s == wa.cpu_from)
    wa.cpu[0] = bench_thread_cpu_ns();
  if (s == wa.cpu_to)
    wa.cpu[1] = bench_thread_cpu_ns();
  /* Release: pairs with the driver's acquire load of ack. */
  __atomic_store_n(&wa.ack, s, __ATOMIC_RELEASE);
}

/* wake_scaling: the other waiters are never woken. */
static void wa_on_idle(uv_async_t* h) {
  (void) h;
  bench_fail("wake_async_each: an idle waiter was woken");
}

/* notify_all_syscalls: every waiter is woken once. */
static void wa_on_all(uv_async_t* h) {
  (void) h;
  if (++wa.woken == wa.nhandles)
    wa_close_all();
}

static void wa_loop_thread(void* arg) {
  uv_sem_post(&wa.ready);
  uv_run(&wa.loop, UV_RUN_DEFAULT);
  (void) arg;
}

static void wa_setup(unsigned int n, uv_async_cb first, uv_async_cb rest) {
  unsigned int i;

  memset(&wa, 0, sizeof(wa));
  wa.nhandles = n;
  wa.handles = calloc(n, sizeof(*wa.handles));
  if (wa.handles == NULL || uv_loop_init(&wa.loop) != 0 ||
      uv_sem_init(&wa.ready, 0) != 0)
    bench_fail("wake_async_each: init");
  /* libuv walks a loop's async handles in the order they were initialised,
   * on every wake-up: the one the driver wakes comes first, so that its
   * callback (and the driver) need not wait for the walk to end. */
  for (i = 0; i < n; i++)
    if (uv_async_init(&wa.loop, &wa.handles[i], i == 0 ? first : rest) != 0)
      bench_fail("wake_async_each: uv_async_init");
}

static void wa_teardown(uv_thread_t* t) {
  uv_thread_join(t);
  if (uv_loop_close(&wa.loop) != 0)
    bench_fail("wake_async_each: loop not closed");
  uv_sem_destroy(&wa.ready);
  free(wa.handles);
}

double base_wake_async_each(const bench_args_t* a, bench_stats_t* stats) {
  uv_thread_t t;
  unsigned long i;
  uint64_t t0;
  uint64_t t1;

  wa_setup(a->pending, wa_on_ping, wa_on_idle);
  wa.cpu_from = a->warmup;
  wa.cpu_to = a->warmup + a->n;
  if (uv_thread_create(&t, wa_loop_thread, NULL) != 0)
    bench_fail("wake_async_each: thread");
  uv_sem_wait(&wa.ready);
  t0 = uv_hrtime();
  for (i = 1; i <= a->warmup + a->n; i++) {
    if (i == a->warmup + 1)
      t0 = uv_hrtime();
    /* Release: pairs with the acquire load in wa_on_ping. */
    __atomic_store_n(&wa.seq, i, __ATOMIC_RELEASE);
    uv_async_send(&wa.handles[0]);
    /* Pairs with the release store of ack in wa_on_ping. */
    bench_wait_for(&wa.ack, i);
  }
  t1 = uv_hrtime();
  /* Release: pairs with the acquire load in wa_on_ping. */
  __atomic_store_n(&wa.seq, WA_STOP, __ATOMIC_RELEASE);
  uv_async_send(&wa.handles[0]);
  wa_teardown(&t);
  stats->loop_cpu_us = (double) (wa.cpu[1] - wa.cpu[0]) / 1e3 /
                       (double) a->n;
  return (double) (t1 - t0) / 1e3 / (double) a->n;
}

double base_notify_all_async_each(const bench_args_t* a,
                                  bench_stats_t* stats) {
  uv_thread_t t;
  unsigned long before;
  unsigned long writes;
  unsigned int i;

  (void) stats;
  wa_setup(a->pending, wa_on_all, wa_on_all);
  if (uv_thread_create(&t, wa_loop_thread, NULL) != 0)
    bench_fail("wake_async_each: thread");
  uv_sem_wait(&wa.ready);
  uv_sleep(5);  /* let the loop block in epoll_wait, as a loop at rest does */
  before = bench_writes();
  bench_count_writes(1);
  for (i = 0; i < wa.nhandles; i++)
    uv_async_send(&wa.handles[i]);
  bench_count_writes(0);
  writes = bench_writes() - before;
  wa_teardown(&t);
  if (wa.woken != a->pending)
    bench_fail("notify_all: %lu of %u waiters woken", wa.woken, a->pending);
  return (double) writes;
}
