/* harness.c: what every metric runs under: the rows and their repetitions,
 * medians and goals, the watchdog, the CPU accounting of the machine, the
 * machine description, and the two outputs (a table for people, --json for
 * programs). main.c drives it; the metric files fill its rows.
 */
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* How busy the rest of the machine was: CPU time of all CPUs from
 * /proc/stat, minus our own from getrusage. */
typedef struct {
  double busy;                /* seconds, all CPUs, everyone (incl. steal) */
  double total;               /* seconds, all CPUs */
  double self;                /* seconds, this process */
} cpu_sample_t;

bench_cfg_t bench_cfg = { 0, 5, 0, 0 };

static bench_row_t rows[BENCH_MAX_ROWS];
static int nrows;
/* What runs now, for bench_fail and the watchdog. */
static const char* current = "startup";
static cpu_sample_t run_start;

void bench_fail(const char* fmt, ...) {
  va_list ap;

  va_start(ap, fmt);
  fprintf(stderr, "uvev-bench: FAILED in %s: ", current);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void on_watchdog(int sig) {
  static const char msg[] = "uvev-bench: watchdog: a repetition hung in ";

  /* Only async-signal-safe calls here. */
  (void) sig;
  if (write(2, msg, sizeof(msg) - 1) < 0 ||
      write(2, current, strlen(current)) < 0 || write(2, "\n", 1) < 0)
    _exit(3);
  _exit(3);
}

void bench_wait_for(const unsigned long* word, unsigned long value) {
  int spins;

  for (spins = 0;; spins++) {
    /* Acquire: pairs with the caller's partner's release store of *word. */
    if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == value)
      return;
    if (spins < 1000) {
#if defined(__x86_64__) || defined(__i386__)
      __asm__ __volatile__("pause" ::: "memory");
#endif
    } else {
      sched_yield();
    }
  }
}

uint64_t bench_thread_cpu_ns(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return 0;
  return (uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec;
}

static void cpu_sample(cpu_sample_t* s) {
  unsigned long long v[10];
  struct rusage ru;
  double tick;
  FILE* f;
  int n;
  int i;

  memset(s, 0, sizeof(*s));
  memset(v, 0, sizeof(v));
  tick = (double) sysconf(_SC_CLK_TCK);
  f = fopen("/proc/stat", "r");
  if (f != NULL) {
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    for (i = 0; i < n && i < 8; i++) {
      s->total += (double) v[i] / tick;
      if (i != 3 && i != 4)   /* idle, iowait */
        s->busy += (double) v[i] / tick;
    }
  }
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    s->self = (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
              (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Percent of the machine's CPU time that other processes (and the
 * hypervisor, as steal) took between a and b. */
static double cpu_others(const cpu_sample_t* a, const cpu_sample_t* b) {
  double others;

  if (b->total <= a->total)
    return NAN;
  others = (b->busy - a->busy) - (b->self - a->self);
  return others < 0 ? 0 : 100 * others / (b->total - a->total);
}

unsigned long bench_size(unsigned long full, unsigned long tiny) {
  return bench_cfg.short_run ? tiny : full;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*) a;
  double y = *(const double*) b;

  return x < y ? -1 : x > y;
}

double bench_median(const double* v, int n) {
  double s[BENCH_MAX_REPS];

  if (n <= 0)
    return NAN;
  memcpy(s, v, (size_t) n * sizeof(*s));
  qsort(s, (size_t) n, sizeof(*s), cmp_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

bench_stats_t bench_stats_median(const bench_row_t* row, int ours) {
  const bench_stats_t* s;
  bench_stats_t m;
  double writes[BENCH_MAX_REPS];
  double producer[BENCH_MAX_REPS];
  double consumer[BENCH_MAX_REPS];
  double loop[BENCH_MAX_REPS];
  double busiest[BENCH_MAX_REPS];
  double used[BENCH_MAX_REPS];
  int i;

  s = ours ? row->ours_stats : row->base_stats;
  for (i = 0; i < row->nreps; i++) {
    writes[i] = s[i].writes_per_1k;
    producer[i] = s[i].producer_cpu_ns;
    consumer[i] = s[i].consumer_cpu_ns;
    loop[i] = s[i].loop_cpu_us;
    busiest[i] = s[i].busiest_pct;
    used[i] = s[i].workers_used;
  }
  m.writes_per_1k = bench_median(writes, row->nreps);
  m.producer_cpu_ns = bench_median(producer, row->nreps);
  m.consumer_cpu_ns = bench_median(consumer, row->nreps);
  m.loop_cpu_us = bench_median(loop, row->nreps);
  m.busiest_pct = bench_median(busiest, row->nreps);
  m.workers_used = bench_median(used, row->nreps);
  return m;
}

bench_row_t* bench_row(const char* name, const char* variant,
                       const char* unit) {
  bench_row_t* r;

  if (nrows == BENCH_MAX_ROWS)
    bench_fail("too many rows");
  r = &rows[nrows++];
  memset(r, 0, sizeof(*r));
  r->name = name;
  snprintf(r->variant, sizeof(r->variant), "%s", variant);
  r->unit = unit;
  r->ours_med = NAN;
  r->base_med = NAN;
  r->ratio = NAN;
  r->check = NAN;
  r->met = -1;
  return r;
}

static void run_side(bench_row_t* row, bench_side_fn fn, const char* side,
                     const bench_args_t* a, bench_stats_t* stats,
                     double* out) {
  /* A side sets only what it measures: the rest must read as not measured,
   * not as what an earlier repetition left. */
  static const bench_stats_t unmeasured = { NAN, NAN, NAN, NAN, NAN, NAN };
  char what[128];
  double v;

  snprintf(what, sizeof(what), "%s %s (%s)", row->name, row->variant, side);
  current = what;
  *stats = unmeasured;
  alarm(bench_cfg.short_run ? 120 : 600);
  v = fn(a, stats);
  alarm(0);
  current = row->name;
  if (out != NULL)
    *out = v;
}

void bench_sample(bench_row_t* row, int ours, bench_side_fn fn,
                  const bench_args_t* a, int rep) {
  bench_stats_t scratch;

  if (bench_cfg.side != 0 && bench_cfg.side != (ours ? 1 : 2))
    return;  /* --side: profiling one side alone */
  if (rep < 0) {
    run_side(row, fn, "warm-up", a, &scratch, NULL);
    return;
  }
  if (rep >= BENCH_MAX_REPS)
    bench_fail("too many repetitions");
  if (ours) {
    run_side(row, fn, "ours", a, &row->ours_stats[rep], &row->ours[rep]);
    row->has_ours = 1;
  } else {
    run_side(row, fn, "baseline", a, &row->base_stats[rep], &row->base[rep]);
    row->has_base = 1;
  }
  if (rep + 1 > row->nreps)
    row->nreps = rep + 1;
}

void bench_finish(bench_row_t* row) {
  if (row->has_ours)
    row->ours_med = bench_median(row->ours, row->nreps);
  if (row->has_base)
    row->base_med = bench_median(row->base, row->nreps);
  if (row->has_ours && row->has_base && row->base_med != 0)
    row->ratio = row->ours_med / row->base_med;
}

void bench_compare(bench_row_t* row, bench_side_fn ours, bench_side_fn base,
                   const bench_args_t* a, int reps) {
  int i;

  /* One untimed run of each side first: page faults, lazy binding, the
   * first eventfd, the CPU leaving its deepest idle state. */
  if (!bench_cfg.short_run) {
    if (ours != NULL)
      bench_sample(row, 1, ours, a, -1);
    if (base != NULL)
      bench_sample(row, 0, base, a, -1);
  }
  /* Interleaved, alternating which side goes first, so that both share the
   * machine's noise and neither always runs on a warmer or colder machine. */
  for (i = 0; i < reps; i++) {
    if (i % 2 == 0 && ours != NULL)
      bench_sample(row, 1, ours, a, i);
    if (base != NULL)
      bench_sample(row, 0, base, a, i);
    if (i % 2 == 1 && ours != NULL)
      bench_sample(row, 1, ours, a, i);
  }
  bench_finish(row);
}

void bench_goal(bench_row_t* row, const bench_goal_t* goal, double check) {
  int at_most;

  if (goal->of == NULL)
    return;  /* informational: the row keeps met = -1 and no goal */
  at_most = goal->bound == BENCH_AT_MOST;
  row->check = check;
  row->met = at_most ? check <= goal->limit : check >= goal->limit;
  snprintf(row->goal, sizeof(row->goal), "%s %s %g", goal->of,
           at_most ? "<=" : ">=", goal->limit);
}

/* ---- machine description ------------------------------------------------- */

static char cpu_model[256] = "unknown";
static char kernel[800] = "unknown";
static char compiler[128];
static double load_start[3];
static double load_end[3];
static double run_others;

static void describe_machine(void) {
  uv_utsname_t u;
  FILE* f;
  char line[256];
  char* p;

  f = fopen("/proc/cpuinfo", "r");
  if (f != NULL) {
    while (fgets(line, sizeof(line), f) != NULL) {
      if (strncmp(line, "model name", 10) != 0 || (p = strchr(line, ':')) == 0)
        continue;
      p += strspn(p + 1, " \t") + 1;
      p[strcspn(p, "\n")] = '\0';
      snprintf(cpu_model, sizeof(cpu_model), "%s", p);
      break;
    }
    fclose(f);
  }
  if (uv_os_uname(&u) == 0)
    snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release,
             u.machine);
#if defined(__clang__)
  snprintf(compiler, sizeof(compiler), "clang %s", __clang_version__);
#elif defined(__GNUC__)
  snprintf(compiler, sizeof(compiler), "gcc %s", __VERSION__);
#else
  snprintf(compiler, sizeof(compiler), "unknown");
#endif
}

/* ---- output -------------------------------------------------------------- */

/* Above this share of the machine taken by others, a row is marked noisy. */
#define BENCH_NOISY_PERCENT 10

static const char* met_word(const bench_row_t* r) {
  int noisy = !r->counted && r->others > BENCH_NOISY_PERCENT;

  if (r->met < 0)
    return "";
  if (r->met)
    return noisy ? "met*" : "met";
  return noisy ? "MISSED*" : "MISSED";
}

/* Three significant digits, or "-". */
static void fmt_value(char* buf, size_t size, double v) {
  if (isnan(v))
    snprintf(buf, size, "-");
  else if (v != 0 && fabs(v) < 0.01)
    snprintf(buf, size, "%.2e", v);
  else if (fabs(v) < 100)
    snprintf(buf, size, "%.3g", v);
  else
    snprintf(buf, size, "%.0f", v);
}

static void print_table(void) {
  char name[80];
  char ours[32];
  char base[32];
  char ratio[32];
  char others[16];
  bench_row_t* r;
  int i;

  printf("%-38s %-10s %9s %9s %7s  %-26s %-6s %s\n", "metric", "unit",
         "ours", "baseline", "ratio", "goal", "", "others");
  for (i = 0; i < nrows; i++) {
    r = &rows[i];
    snprintf(name, sizeof(name), "%s%s%s", r->name, r->variant[0] ? " " : "",
             r->variant);
    fmt_value(ours, sizeof(ours), r->ours_med);
    fmt_value(base, sizeof(base), r->base_med);
    if (isnan(r->ratio))
      snprintf(ratio, sizeof(ratio), "-");
    else
      snprintf(ratio, sizeof(ratio), "%.3g", r->ratio);
    if (isnan(r->others))
      snprintf(others, sizeof(others), "-");
    else
      snprintf(others, sizeof(others), "%.0f%%", r->others);
    printf("%-38s %-10s %9s %9s %7s  %-26s %-6s %6s\n", name, r->unit, ours,
           base, ratio, r->goal, met_word(r), others);
    if (r->note[0] != '\0')
      printf("    %s\n", r->note);
  }
}

static void json_string(const char* s) {
  putchar('"');
  for (; s != NULL && *s != '\0'; s++) {
    if (*s == '"' || *s == '\\')
      printf("\\%c", *s);
    else if ((unsigned char) *s < 0x20)
      printf("\\u%04x", (unsigned char) *s);
    else
      putchar(*s);
  }
  putchar('"');
}

static void json_number(double v) {
  if (isnan(v) || isinf(v))
    printf("null");
  else
    printf("%.6g", v);
}

static void json_samples(const double* v, int n, int has) {
  int i;

  if (!has) {
    printf("null");
    return;
  }
  putchar('[');
  for (i = 0; i < n; i++) {
    if (i > 0)
      putchar(',');
    json_number(v[i]);
  }
  putchar(']');
}

/* One member, after `sep`: "key": value; a NULL string is null. */
static void json_str_member(const char* sep, const char* key, const char* s) {
  printf("%s\"%s\": ", sep, key);
  if (s != NULL)
    json_string(s);
  else
    printf("null");
}

static void json_num_member(const char* sep, const char* key, double v) {
  printf("%s\"%s\": ", sep, key);
  json_number(v);
}

static void print_json(int failed_goals) {
  bench_row_t* r;
  int i;

  printf("{\n  \"machine\": {\"nproc\": %u", uv_available_parallelism());
  json_str_member(", ", "cpu", cpu_model);
  json_str_member(", ", "kernel", kernel);
  json_str_member(", ", "libuv", uv_version_string());
  json_str_member(", ", "compiler", compiler);
  printf(", \"loadavg_start\": %.2f, \"loadavg_end\": %.2f", load_start[0],
         load_end[0]);
  json_num_member(", ", "others_cpu_percent", run_others);
  printf("},\n");
  printf("  \"short\": %s, \"reps\": %d,\n  \"rows\": [\n",
         bench_cfg.short_run ? "true" : "false", bench_cfg.reps);
  for (i = 0; i < nrows; i++) {
    r = &rows[i];
    json_str_member("    {", "name", r->name);
    json_str_member(", ", "variant", r->variant);
    json_str_member(", ", "unit", r->unit);
    json_str_member(", ", "ours_label", r->ours_label);
    json_str_member(", ", "baseline_label", r->base_label);
    json_num_member(",\n     ", "ours", r->ours_med);
    json_num_member(", ", "baseline", r->base_med);
    json_num_member(", ", "ratio", r->ratio);
    json_str_member(", ", "goal", r->goal[0] != '\0' ? r->goal : NULL);
    json_num_member(", ", "check", r->check);
    printf(", \"met\": %s", r->met < 0 ? "null" : r->met ? "true" : "false");
    json_num_member(", ", "others_cpu_percent", r->others);
    printf(",\n     \"ours_samples\": ");
    json_samples(r->ours, r->nreps, r->has_ours);
    printf(", \"baseline_samples\": ");
    json_samples(r->base, r->nreps, r->has_base);
    json_str_member(", ", "note", r->note);
    printf("}%s\n", i + 1 < nrows ? "," : "");
  }
  printf("  ],\n  \"missed\": %d\n}\n", failed_goals);
}


/* ---- the run ------------------------------------------------------------- */

static void print_machine(const char* prefix) {
  printf("%suvev-bench: %u CPUs, %s, %s, libuv %s, %s\n", prefix,
         uv_available_parallelism(), cpu_model, kernel, uv_version_string(),
         compiler);
}

void bench_harness_init(void) {
  signal(SIGALRM, on_watchdog);
  describe_machine();
  uv_loadavg(load_start);
}

void bench_begin(int series) {
  if (series) {
    print_machine("# ");
  } else if (!bench_cfg.json) {
    print_machine("");
    printf("medians of %d interleaved repetitions per side%s; "
           "ratio = ours / baseline\n\n", bench_cfg.reps,
           bench_cfg.short_run ? " (--short: tiny sizes, timings mean "
                                 "nothing)" : "");
    fflush(stdout);
  }
  cpu_sample(&run_start);
}

void bench_run_metric(const bench_metric_t* m) {
  cpu_sample_t before;
  cpu_sample_t after;
  int first;
  int i;

  current = m->name;
  first = nrows;
  cpu_sample(&before);
  m->run(m);
  cpu_sample(&after);
  for (i = first; i < nrows; i++)
    rows[i].others = cpu_others(&before, &after);
  if (!bench_cfg.short_run && isatty(2))
    fprintf(stderr, "uvev-bench: %s done\n", m->name);
}

void bench_end_series(void) {
  cpu_sample_t run_end;

  cpu_sample(&run_end);
  printf("# others: %.0f%% of the machine's CPU time\n",
         cpu_others(&run_start, &run_end));
}

void bench_end(void) {
  cpu_sample_t run_end;
  int missed;
  int i;

  cpu_sample(&run_end);
  run_others = cpu_others(&run_start, &run_end);
  uv_loadavg(load_end);
  missed = 0;
  for (i = 0; i < nrows; i++)
    missed += rows[i].met == 0;
  if (bench_cfg.json) {
    print_json(missed);
    return;
  }
  print_table();
  printf("\n%d goal%s missed%s\n", missed, missed == 1 ? "" : "s",
         bench_cfg.short_run ? " (--short: not meaningful)" : "");
  printf("others: the share of the machine's CPU time (all %u CPUs) that "
         "other processes\nand the hypervisor took while the metric ran "
         "(%.0f%% over the whole run; load average\n%.2f at the start, "
         "%.2f at the end). *: above %d%%, timings are disturbed.\n",
         uv_available_parallelism(), run_others, load_start[0],
         load_end[0], BENCH_NOISY_PERCENT);
}
