/* atomic_win.h: the macros of atomic.h mapped to Windows' Interlocked*
 * functions and compiler barriers, for MSVC (which has neither __atomic
 * builtins nor GCC inline asm). Included by atomic.h when UVEV__INTERLOCKED
 * is defined (meson -Datomics=interlocked) or the compiler is MSVC.
 *
 * mingw-w64 has the same functions, which is how this file is built and
 * tested here (cross/mingw-w64.txt, under wine). No MSVC was available, so
 * that MSVC accepts it is not proven; it uses only C11 _Generic (MSVC 2019
 * 16.8 and later, /std:c11), <windows.h> and <intrin.h>.
 *
 * x64 only: there a plain aligned load is an acquire and a plain aligned
 * store a release (x86-TSO), so those need only a compiler barrier
 * (_ReadWriteBarrier). Every Interlocked* RMW is a full barrier, stronger
 * than any order asked for. A seq_cst store is an exchange. ARM64 would need
 * __ldar/__stlr for loads and stores, and 32-bit x86 a locked 64-bit load.
 *
 * Each operation picks a function by the type of the object (_Generic):
 * int, unsigned, long and unsigned long are 32 bits on Windows, long long
 * and unsigned long long (uint64_t, size_t) 64, and anything else is a
 * pointer.
 */
#ifndef UVEV_ATOMIC_WIN_H_
#define UVEV_ATOMIC_WIN_H_

#include <uv.h>      /* <winsock2.h> and <windows.h>, in that order */
#include <intrin.h>

#if !defined(_M_X64) && !defined(__x86_64__)
# error "src/atomic_win.h maps the atomics for x64 only"
#endif

#define UVEV__WIN_relaxed 0
#define UVEV__WIN_acquire 1
#define UVEV__WIN_release 2
#define UVEV__WIN_acq_rel 3
#define UVEV__WIN_seq_cst 4

/* One set of functions per object type T, whose Interlocked* functions
 * take IT and end in SFX (nothing, 64 or Pointer). */
#define UVEV__WIN_OPS(NAME, T, IT, SFX)                                       \
  static inline T uvev__win_load_##NAME(const volatile void* p, int mo) {    \
    T v = *(const volatile T*) p;                                             \
    (void) mo;                                                                \
    _ReadWriteBarrier();                                                      \
    return v;                                                                 \
  }                                                                           \
  static inline T uvev__win_exchange_##NAME(volatile void* p, T v, int mo) { \
    (void) mo;                                                                \
    return (T) InterlockedExchange##SFX((volatile IT*) p, (IT) v);           \
  }                                                                           \
  static inline void uvev__win_store_##NAME(volatile void* p, T v, int mo) { \
    if (mo == UVEV__WIN_seq_cst) {                                            \
      (void) InterlockedExchange##SFX((volatile IT*) p, (IT) v);             \
    } else {                                                                  \
      _ReadWriteBarrier();                                                    \
      *(volatile T*) p = v;                                                   \
    }                                                                         \
  }                                                                           \
  static inline int uvev__win_cas_##NAME(volatile void* p, void* expp, T v,  \
                                         int mo) {                            \
    T want = *(T*) expp;                                                      \
    T old = (T) InterlockedCompareExchange##SFX((volatile IT*) p, (IT) v,    \
                                                (IT) want);                   \
    (void) mo;                                                                \
    if (old == want)                                                          \
      return 1;                                                               \
    *(T*) expp = old;                                                         \
    return 0;                                                                 \
  }

/* Integers also add and or. */
#define UVEV__WIN_INT_OPS(NAME, T, IT, SFX)                                   \
  UVEV__WIN_OPS(NAME, T, IT, SFX)                                             \
  static inline T uvev__win_fetch_add_##NAME(volatile void* p, T v, int mo) {\
    (void) mo;                                                                \
    return (T) InterlockedExchangeAdd##SFX((volatile IT*) p, (IT) v);        \
  }                                                                           \
  static inline T uvev__win_fetch_sub_##NAME(volatile void* p, T v, int mo) {\
    (void) mo;                                                                \
    return (T) InterlockedExchangeAdd##SFX((volatile IT*) p, -(IT) v);       \
  }                                                                           \
  static inline T uvev__win_fetch_or_##NAME(volatile void* p, T v, int mo) { \
    (void) mo;                                                                \
    return (T) InterlockedOr##SFX((volatile IT*) p, (IT) v);                 \
  }

UVEV__WIN_INT_OPS(i, int, LONG, )
UVEV__WIN_INT_OPS(u, unsigned, LONG, )
UVEV__WIN_INT_OPS(l, long, LONG, )
UVEV__WIN_INT_OPS(ul, unsigned long, LONG, )
UVEV__WIN_INT_OPS(ll, long long, LONG64, 64)
UVEV__WIN_INT_OPS(ull, unsigned long long, LONG64, 64)
/* A name for void*, so that const volatile T* qualifies the pointer. */
typedef void* uvev__win_ptr;
UVEV__WIN_OPS(p, uvev__win_ptr, PVOID, Pointer)
/* Arithmetic on a pointer: declared, never defined, and called with too
 * many arguments, so it does not compile. */
void uvev__win_no_pointer_arithmetic(void);

#define UVEV__WIN_PICK(obj, op)                                               \
  _Generic((obj),                                                             \
    int: uvev__win_##op##_i,                                                  \
    unsigned: uvev__win_##op##_u,                                             \
    long: uvev__win_##op##_l,                                                 \
    unsigned long: uvev__win_##op##_ul,                                       \
    long long: uvev__win_##op##_ll,                                           \
    unsigned long long: uvev__win_##op##_ull,                                 \
    default: uvev__win_##op##_p)
#define UVEV__WIN_PICK_INT(obj, op)                                           \
  _Generic((obj),                                                             \
    int: uvev__win_##op##_i,                                                  \
    unsigned: uvev__win_##op##_u,                                             \
    long: uvev__win_##op##_l,                                                 \
    unsigned long: uvev__win_##op##_ul,                                       \
    long long: uvev__win_##op##_ll,                                           \
    unsigned long long: uvev__win_##op##_ull,                                 \
    default: uvev__win_no_pointer_arithmetic)

#define uvev__load(obj, mo)                                                   \
  UVEV__WIN_PICK(obj, load)((const volatile void*) &(obj), UVEV__WIN_##mo)
#define uvev__store(obj, val, mo)                                             \
  UVEV__WIN_PICK(obj, store)((volatile void*) &(obj), (val), UVEV__WIN_##mo)
#define uvev__exchange(obj, val, mo)                                          \
  UVEV__WIN_PICK(obj, exchange)((volatile void*) &(obj), (val),               \
                                UVEV__WIN_##mo)
#define uvev__fetch_add(obj, val, mo)                                         \
  UVEV__WIN_PICK_INT(obj, fetch_add)((volatile void*) &(obj), (val),              \
                                 UVEV__WIN_##mo)
#define uvev__fetch_sub(obj, val, mo)                                         \
  UVEV__WIN_PICK_INT(obj, fetch_sub)((volatile void*) &(obj), (val),              \
                                 UVEV__WIN_##mo)
#define uvev__fetch_or(obj, val, mo)                                          \
  UVEV__WIN_PICK_INT(obj, fetch_or)((volatile void*) &(obj), (val),               \
                                UVEV__WIN_##mo)
/* Interlocked CAS never fails spuriously: weak and strong are the same. */
#define uvev__cas(obj, expp, val, mo, fail_mo)                                \
  UVEV__WIN_PICK(obj, cas)((volatile void*) &(obj), (void*) (expp), (val),    \
                           UVEV__WIN_##mo)
#define uvev__cas_strong(obj, expp, val, mo, fail_mo)                         \
  uvev__cas(obj, expp, val, mo, fail_mo)

/* MSVC's MemoryBarrier on x64 is a locked RMW at the stack pointer
 * (__faststorefence), never below it; mingw-w64's is an mfence. */
#define uvev__fence()                  MemoryBarrier()
#define uvev__cpu_relax()              YieldProcessor()

#endif /* UVEV_ATOMIC_WIN_H_ */
