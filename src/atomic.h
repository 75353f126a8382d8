/* atomic.h: the only file that names the memory model.
 *
 * The eventcount core (waitset.c), the wake path's ready list (ready.h), the
 * ring (ring.c) and the channel's lock-free half (chan.h) touch shared memory
 * only through these macros. A normal build maps them to GCC/Clang __atomic
 * builtins and libuv's mutex (or, with MSVC or -Datomics=interlocked, to
 * Windows' Interlocked* functions: atomic_win.h); the model-checking build (test/model,
 * UVEV__MODEL defined) maps the same names to Relacy, so those four files
 * are checked as they are under the C11 memory model. The other files use
 * the macros too, and the model compiles them as well, on a model libuv
 * (test/model/uv.h; docs/design.md, section 8).
 *
 * Field types come from include/uvev.h: UVEV__ATOMIC(T) for atomics,
 * UVEV__SHARED(T) for plain fields that several threads touch under a lock or
 * a happens-before edge, UVEV__MUTEX for the waitset lock.
 *
 * Orders are spelled as bare words: relaxed, acquire, release, acq_rel,
 * seq_cst.
 */
#ifndef UVEV_ATOMIC_H_
#define UVEV_ATOMIC_H_

/* Mutants: deliberately broken variants of the sources, built only by the
 * model tests (test/model) to prove that the model catches real bugs. 0 is
 * the real code; the library is always built with 0. The table of what each
 * number breaks is docs/design.md, section 9 (the model build reads it). */
#ifndef UVEV__MUTANT
# define UVEV__MUTANT 0
#endif
#if UVEV__MUTANT != 0 && !defined(UVEV__MODEL)
# error "UVEV__MUTANT is for the model tests only"
#endif

#if defined(UVEV__MODEL)

/* Relacy: the model test includes <relacy/relacy.hpp> before this file. */
#define uvev__load(obj, mo)            (obj).load(rl::mo_##mo, $)
#define uvev__store(obj, val, mo)      (obj).store((val), rl::mo_##mo, $)
#define uvev__exchange(obj, val, mo)   (obj).exchange((val), rl::mo_##mo, $)
#define uvev__fetch_add(obj, val, mo)  (obj).fetch_add((val), rl::mo_##mo, $)
#define uvev__fetch_sub(obj, val, mo)  (obj).fetch_sub((val), rl::mo_##mo, $)
#define uvev__fetch_or(obj, val, mo)   (obj).fetch_or((val), rl::mo_##mo, $)
#define uvev__cas(obj, expp, val, mo, fail_mo)                                \
  (obj).compare_exchange_weak(*(expp), (val), rl::mo_##mo, $,                 \
                              rl::mo_##fail_mo, $)
#define uvev__cas_strong(obj, expp, val, mo, fail_mo)                         \
  (obj).compare_exchange_strong(*(expp), (val), rl::mo_##mo, $,               \
                                rl::mo_##fail_mo, $)
#define uvev__get(var)                 (var)($)
#define uvev__set(var, val)            ((var)($) = (val))
#define uvev__mutex_init(m)            0
#define uvev__mutex_destroy(m)         ((void) &(m))
#define uvev__lock(m)                  (m).lock($)
#define uvev__unlock(m)                (m).unlock($)
#define uvev__fence()                  rl::atomic_thread_fence(rl::mo_seq_cst, $)
#define uvev__cpu_relax()              rl::yield(1, $)
#define uvev__thread_yield()           rl::yield(1, $)
/* Relacy reports a failed assertion with the history that led to it. */
#define uvev__assert(cond)             RL_ASSERT(cond)
/* The model's structs hold Relacy's checked objects, which memset would
 * corrupt: the model (test/model/model.h) rebuilds the object in place,
 * value-initialised, which zeroes every plain field as memset does. */
#define uvev__zero(p)                  uvev__model_zero(p)

#else /* !UVEV__MODEL */

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include <uv.h>

#define uvev__assert(cond)             assert(cond)
/* Zero-fills the object p points to. */
#define uvev__zero(p)                  memset((p), 0, sizeof(*(p)))

#if defined(__SANITIZE_THREAD__)
# define UVEV__TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define UVEV__TSAN 1
# endif
#endif

#define uvev__get(var)                 (var)
#define uvev__set(var, val)            ((var) = (val))
#define uvev__mutex_init(m)            uv_mutex_init(&(m))
#define uvev__mutex_destroy(m)         uv_mutex_destroy(&(m))
#define uvev__lock(m)                  uv_mutex_lock(&(m))
#define uvev__unlock(m)                uv_mutex_unlock(&(m))

/* Windows' Interlocked* functions instead of the builtins below: always with
 * MSVC, with gcc if asked (meson -Datomics=interlocked, mingw-w64). */
#if defined(UVEV__INTERLOCKED) || (defined(_MSC_VER) && !defined(__clang__))
# include "atomic_win.h"
#else

#define UVEV__MO_relaxed __ATOMIC_RELAXED
#define UVEV__MO_acquire __ATOMIC_ACQUIRE
#define UVEV__MO_release __ATOMIC_RELEASE
#define UVEV__MO_acq_rel __ATOMIC_ACQ_REL
#define UVEV__MO_seq_cst __ATOMIC_SEQ_CST

#define uvev__load(obj, mo)            __atomic_load_n(&(obj), UVEV__MO_##mo)
#define uvev__store(obj, val, mo)      __atomic_store_n(&(obj), (val), UVEV__MO_##mo)
#define uvev__exchange(obj, val, mo)   __atomic_exchange_n(&(obj), (val), UVEV__MO_##mo)
#define uvev__fetch_add(obj, val, mo)  __atomic_fetch_add(&(obj), (val), UVEV__MO_##mo)
#define uvev__fetch_sub(obj, val, mo)  __atomic_fetch_sub(&(obj), (val), UVEV__MO_##mo)
#define uvev__fetch_or(obj, val, mo)   __atomic_fetch_or(&(obj), (val), UVEV__MO_##mo)
#define uvev__cas(obj, expp, val, mo, fail_mo)                                \
  __atomic_compare_exchange_n(&(obj), (expp), (val), 1,                       \
                              UVEV__MO_##mo, UVEV__MO_##fail_mo)
#define uvev__cas_strong(obj, expp, val, mo, fail_mo)                         \
  __atomic_compare_exchange_n(&(obj), (expp), (val), 0,                       \
                              UVEV__MO_##mo, UVEV__MO_##fail_mo)

/* A sequentially consistent fence. On x86 a locked RMW on our own stack is
 * one: gcc emits such an RMW for the fence, while clang emits mfence, which
 * costs about four times as much. The stack line is private to this thread,
 * so it never bounces between cores. The word just below the stack pointer,
 * not the one at it: right after a call, (%rsp) holds the return address the
 * call has just stored, and a locked RMW of it waits for that store (about
 * twice the fence's cost in notify_empty). Or-ing 0 changes no byte, so the
 * red zone's contents are safe. Only the x86-64 SysV ABI (Linux, the BSDs,
 * macOS) promises a red zone; Windows x64, i386 and code built with
 * -mno-red-zone (define UVEV_NO_RED_ZONE) use the word at the stack pointer,
 * as gcc's own fence does. TSan does not model inline asm (nor fences),
 * so sanitizer builds take the portable path. */
#if (defined(__x86_64__) || defined(__i386__)) && !defined(UVEV__TSAN)
static inline void uvev__fence(void) {
# if defined(__x86_64__) && !defined(_WIN32) && !defined(UVEV_NO_RED_ZONE)
  __asm__ __volatile__("lock; orl $0, -4(%%rsp)" ::: "memory", "cc");
# elif defined(__x86_64__)
  __asm__ __volatile__("lock; orl $0, (%%rsp)" ::: "memory", "cc");
# else
  __asm__ __volatile__("lock; orl $0, (%%esp)" ::: "memory", "cc");
# endif
}
#elif defined(UVEV__TSAN) && (defined(__x86_64__) || defined(__i386__))
static inline void uvev__fence(void) {
  /* gcc warns on atomic_thread_fence under TSan (-Wtsan), and TSan models
   * no fence anyway: it checks the rest. On x86 this RMW is a full barrier,
   * as the fence is; on other CPUs it is not, so they take the fence. */
  int x = 0;
  __atomic_fetch_or(&x, 0, __ATOMIC_SEQ_CST);
}
#elif defined(UVEV__TSAN) && defined(__GNUC__) && !defined(__clang__) &&     \
      __GNUC__ >= 11
static inline void uvev__fence(void) {
# pragma GCC diagnostic push
# pragma GCC diagnostic ignored "-Wtsan"
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
# pragma GCC diagnostic pop
}
#else
static inline void uvev__fence(void) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#endif

#if defined(__x86_64__) || defined(__i386__)
# define uvev__cpu_relax() __asm__ __volatile__("pause" ::: "memory")
#elif defined(__aarch64__)
# define uvev__cpu_relax() __asm__ __volatile__("yield" ::: "memory")
#else
# define uvev__cpu_relax() ((void) 0)
#endif
#endif /* UVEV__INTERLOCKED */

/* Gives the CPU to another thread: a wait for an operation in flight whose
 * thread was preempted (ring.c). */
#if defined(_WIN32)
# define uvev__thread_yield() ((void) SwitchToThread())
#else
# include <sched.h>
# define uvev__thread_yield() ((void) sched_yield())
#endif

#endif /* UVEV__MODEL */

/* Preemption points, for the stress suite only: a test build of the library
 * (test/meson.build, -DUVEV__PREEMPT_HOOK) calls uvev__preempt(), which the
 * test program defines, at places inside a ring operation (between a claim
 * and its publish), so that the windows where another thread sees the
 * operation half done are hit often. Nothing at all in the library and in
 * the model. */
#if defined(UVEV__PREEMPT_HOOK) && !defined(UVEV__MODEL)
void uvev__preempt(void);
# define uvev__preempt_point() uvev__preempt()
#else
# define uvev__preempt_point() ((void) 0)
#endif

/* container_of for the C build; the model tests use their own layouts. */
#define uvev__container_of(ptr, type, member)                                 \
  ((type*) ((char*) (ptr) - offsetof(type, member)))

#endif /* UVEV_ATOMIC_H_ */
