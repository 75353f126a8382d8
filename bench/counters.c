/* counters.c: the counting instruments of the metrics that count instead of
 * timing.
 *
 *  - write(): defined here, it interposes on the C library's for every
 *    library in the process (libuv's uv_async_send calls write() through its
 *    PLT), counts calls while counting is on, and makes the system call.
 *    That counts the eventfd writes of notify_all_syscalls.
 *  - malloc, calloc, realloc: likewise interposed for the whole process (libc
 *    exports the real ones as __libc_*), counted always. uvev allocates with
 *    malloc itself (uvev_chan_init), so libuv's hooks alone would miss it.
 *  - libuv's allocator (uv_replace_allocator): tells which part of the count
 *    libuv asked for.
 *
 * Sanitizers and valgrind bring their own malloc and write; under a sanitizer
 * the interposers are left out and the counting metrics say so.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <uv.h>

#include "counters.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
# define BENCH_SANITIZED 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||   \
     __has_feature(memory_sanitizer)
#  define BENCH_SANITIZED 1
# endif
#endif

static int counting_writes;     /* atomic */
static unsigned long nwrites;   /* atomic */
static unsigned long nallocs;   /* atomic */
static unsigned long nuv;       /* atomic */

int bench_counters_available(void) {
#if defined(BENCH_SANITIZED)
  return 0;
#else
  return 1;
#endif
}

void bench_count_writes(int on) {
  /* Relaxed: the threads whose writes are counted are started or signalled
   * after this store by calls that synchronise (uvev_notify's lock, uv_sem),
   * and the count is read after they are done. */
  __atomic_store_n(&counting_writes, on, __ATOMIC_RELAXED);
}

unsigned long bench_writes(void) {
  /* Relaxed: read after the counted work has been joined (happens-before
   * through uv_thread_join / uv_sem). */
  return __atomic_load_n(&nwrites, __ATOMIC_RELAXED);
}

unsigned long bench_allocs(void) {
  /* Relaxed: a snapshot; the steady-state window is bounded by messages
   * that synchronise through the channel. */
  return __atomic_load_n(&nallocs, __ATOMIC_RELAXED);
}

unsigned long bench_uv_allocs(void) {
  /* Relaxed: as in bench_allocs. */
  return __atomic_load_n(&nuv, __ATOMIC_RELAXED);
}

#if !defined(BENCH_SANITIZED)

ssize_t write(int fd, const void* buf, size_t len) {
  /* Relaxed: pairs with the store in bench_count_writes (see there). */
  if (__atomic_load_n(&counting_writes, __ATOMIC_RELAXED))
    /* Relaxed: a counter, read after a join (bench_writes). */
    __atomic_fetch_add(&nwrites, 1, __ATOMIC_RELAXED);
  return (ssize_t) syscall(SYS_write, fd, buf, len);
}

/* glibc's own allocator, under names that interposing malloc leaves alone. */
extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t n, size_t size);
extern void* __libc_realloc(void* ptr, size_t size);

void* malloc(size_t size) {
  /* Relaxed: a counter, read as a snapshot (bench_allocs). */
  __atomic_fetch_add(&nallocs, 1, __ATOMIC_RELAXED);
  return __libc_malloc(size);
}

void* calloc(size_t n, size_t size) {
  /* Relaxed: as in malloc. */
  __atomic_fetch_add(&nallocs, 1, __ATOMIC_RELAXED);
  return __libc_calloc(n, size);
}

void* realloc(void* ptr, size_t size) {
  /* Relaxed: as in malloc. */
  __atomic_fetch_add(&nallocs, 1, __ATOMIC_RELAXED);
  return __libc_realloc(ptr, size);
}

#endif /* !BENCH_SANITIZED */

/* libuv's allocations go through these, then through malloc above. */
static void* uv_count_malloc(size_t size) {
  /* Relaxed: a counter, read as a snapshot (bench_uv_allocs). */
  __atomic_fetch_add(&nuv, 1, __ATOMIC_RELAXED);
  return malloc(size);
}

static void* uv_count_realloc(void* ptr, size_t size) {
  /* Relaxed: as in uv_count_malloc. */
  __atomic_fetch_add(&nuv, 1, __ATOMIC_RELAXED);
  return realloc(ptr, size);
}

static void* uv_count_calloc(size_t n, size_t size) {
  /* Relaxed: as in uv_count_malloc. */
  __atomic_fetch_add(&nuv, 1, __ATOMIC_RELAXED);
  return calloc(n, size);
}

static void uv_count_free(void* ptr) {
  free(ptr);
}

void bench_counters_init(void) {
  /* Before libuv allocates anything: it requires that. */
  if (uv_replace_allocator(uv_count_malloc, uv_count_realloc,
                           uv_count_calloc, uv_count_free) != 0)
    abort();
}
