/* counters.h: the counting instruments (counters.c): write() and the
 * malloc family interposed for the whole process, and libuv's allocator.
 */
#ifndef UVEV_BENCH_COUNTERS_H_
#define UVEV_BENCH_COUNTERS_H_

void bench_counters_init(void);        /* first thing in main */
int bench_counters_available(void);    /* 0 under sanitizers */
void bench_count_writes(int on);
unsigned long bench_writes(void);      /* write() calls while counting */
unsigned long bench_allocs(void);      /* malloc/calloc/realloc, process-wide */
unsigned long bench_uv_allocs(void);   /* the part libuv asked for */

#endif /* UVEV_BENCH_COUNTERS_H_ */
