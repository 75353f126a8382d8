/* notify.c: the metric notify_empty, the cost of uvev_notify() when nobody
 * waits: what every channel send and receive pays. Its floor is the fence and
 * the load that any correct eventcount needs (baseline.c).
 */
#include <stdio.h>

#include <uvev.h>

#include "baseline.h"
#include "harness.h"
#include "metrics.h"

static double ours_notify_empty(const bench_args_t* a, bench_stats_t* stats) {
  uvev_event_t ev;
  uint64_t t0;
  uint64_t t1;
  unsigned long i;

  (void) stats;
  if (uvev_event_init(&ev) != 0)
    bench_fail("uvev_event_init");
  for (i = 0; i < a->warmup; i++)
    uvev_notify(&ev, 1);
  t0 = uv_hrtime();
  /* A call into the library each time: the compiler cannot elide it. */
  for (i = 0; i < a->n; i++)
    uvev_notify(&ev, 1);
  t1 = uv_hrtime();
  if (uvev_event_destroy(&ev) != 0)
    bench_fail("uvev_event_destroy");
  return (double) (t1 - t0) / (double) a->n;
}

void bench_notify_empty(const bench_metric_t* m) {
  bench_args_t a = { 0 };
  bench_row_t* r;
  int reps;

  a.n = bench_size(10000000, 10000);
  a.warmup = a.n / 10;
  /* Cheap (about 50 ms a side): take more repetitions than elsewhere. */
  reps = bench_cfg.short_run ? bench_cfg.reps : 2 * bench_cfg.reps + 1;

  r = bench_row(m->name, "", m->unit);
  r->ours_label = "uvev_notify(ev, 1), no waiter (through the library's ABI)";
  r->base_label = "fence_floor: lock orl $0,(%rsp) + relaxed load, inline";
  bench_compare(r, ours_notify_empty, base_fence_floor, &a, reps);
  bench_goal(r, &m->goal, r->ratio);

  r = bench_row(m->name, "[info] fence as compiled", m->unit);
  r->ours_label = "-";
  r->base_label = "atomic_thread_fence(seq_cst) + relaxed load, inline";
#if defined(__x86_64__) && defined(__clang__)
  snprintf(r->note, sizeof(r->note), "clang %d.%d emits mfence for it",
           __clang_major__, __clang_minor__);
#elif defined(__x86_64__) && defined(__GNUC__)
  snprintf(r->note, sizeof(r->note),
           "gcc %d.%d emits lock or $0,(%%rsp) for it", __GNUC__,
           __GNUC_MINOR__);
#endif
  bench_compare(r, NULL, base_fence_compiled, &a, reps);

  /* uvev_notify is a call into the library (the ABI stays: an inline
   * notify would freeze the waitset's layout into every caller), so the
   * like-for-like floor is the same fence and load behind a call. */
  r = bench_row(m->name, "vs the floor out of line", m->unit);
  r->ours_label = "uvev_notify(ev, 1), no waiter (through the library's ABI)";
  r->base_label = "the floor's fence and load in a function called through "
                  "a pointer";
  snprintf(r->note, sizeof(r->note),
           "a call against a call: what uvev_notify adds to the fence and "
           "the load beyond the call itself");
  bench_compare(r, ours_notify_empty, base_fence_call, &a, reps);
  bench_goal(r, &m->goal, r->ratio);
}
