/* model.cpp: runs the model scenarios of one build of the core (the real
 * code, or the mutant chosen with -DUVEV__MUTANT=n, see docs/design.md),
 * prints one line per scenario, then a RESULT line for test/model/driver.c.
 *
 *   uvev-model [--quiet | --verbose] [--all] [--scale X]
 *              [--bound N | --random N] [--set core | --set chan]
 *              [SCENARIO...]
 *
 * --quiet drops Relacy's own output (the history of a failure); a mutant
 * build is quiet unless --verbose is given, and stops at the first scenario
 * that catches it unless --all is given. --scale multiplies the iterations
 * of the random-scheduler scenarios; --bound and --random override the
 * search of every selected scenario (for tuning, and deeper runs by hand).
 * --set runs one scenario set only (the driver runs the real code's two sets
 * as two processes, on two CPUs).
 * Exit status: 0 every scenario passed, 1 some scenario failed (for a
 * mutant: it was caught), 2 usage error.
 *
 * Scenario sets: the core's (core.h) and the channel's (chan.h). The real
 * code's build holds both; a mutant's build holds only the set its row of
 * the mutant table names (see MODEL_HAS_CORE below).
 */
#include "core.h"
#include "chan.h"

/* The sets this build holds: test/model/meson.build defines both from the
 * mutant table of docs/design.md (section 9). A mutant build stops at its
 * first catch, so it holds only the set written against what it breaks. To
 * run a mutant against both, build it by hand with -DMODEL_HAS_CORE=1
 * -DMODEL_HAS_CHAN=1 (the channel's scenarios catch mutants 1, 2 and 3 as
 * well). */
#ifndef MODEL_HAS_CORE
# define MODEL_HAS_CORE 1
#endif
#ifndef MODEL_HAS_CHAN
# define MODEL_HAS_CHAN 1
#endif

struct scenario {
  const char* name;  /* NULL ends a table */
  int threads;
  rl::scheduler_type_e search;
  unsigned param;  /* context bound (sched_bound) or iterations (random) */
  bool (*run)(rl::test_params& params);
};

static const scenario core_scenarios[] = {
#if MODEL_HAS_CORE
  UVEV_MODEL_CORE_SCENARIOS
#endif
  { NULL, 0, rl::sched_full, 0, NULL }
};

static const scenario chan_scenarios[] = {
#if MODEL_HAS_CHAN
  UVEV_MODEL_CHAN_SCENARIOS
#endif
  { NULL, 0, rl::sched_full, 0, NULL }
};

/* Scenario sets, for --set, in run order. */
enum { SET_ALL = 0, SET_CORE = 1, SET_CHAN = 2 };

static const scenario* const set_table[] = {
  NULL, core_scenarios, chan_scenarios
};

#define MAX_SCENARIOS 64

/* Relacy's output for one scenario (the history of a failure). Relacy
 * replaces the global operator new with its checked allocator while a
 * simulation runs, so the stream writes into a fixed buffer and never
 * allocates; output past its end is dropped. */
static char capture_buf[16 << 20];

struct capture : std::streambuf {
  void reset() { setp(capture_buf, capture_buf + sizeof(capture_buf) - 1); }
  const char* text() {
    *pptr() = '\0';
    return pbase();
  }
};

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char* search_name(const scenario* s, char* buf, size_t len) {
  if (s->search == rl::sched_full)
    snprintf(buf, len, "full search");
  else if (s->search == rl::sched_bound)
    snprintf(buf, len, "context bound %u", s->param);
  else
    snprintf(buf, len, "random");
  return buf;
}

int main(int argc, char** argv) {
  const int mutant = UVEV__MUTANT;
  const scenario* order[MAX_SCENARIOS];
  int order_set[MAX_SCENARIOS];
  size_t nscen;
  std::ostream null_stream(NULL);
  capture cap;
  std::ostream cap_stream(&cap);
  int quiet;
  int all;
  double scale;
  int force_bound;
  long force_random;
  int nsel;
  int only;
  int set;
  int i;
  size_t k;
  int npass;
  int nfail;
  char caught[1024];
  double t_all;

  quiet = mutant != 0;
  all = 0;
  scale = 1.0;
  force_bound = 0;
  force_random = 0;
  nsel = 0;
  only = SET_ALL;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quiet") == 0) {
      quiet = 1;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      quiet = 0;
    } else if (strcmp(argv[i], "--all") == 0) {
      all = 1;
    } else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      scale = atof(argv[++i]);
    } else if (strcmp(argv[i], "--bound") == 0 && i + 1 < argc) {
      force_bound = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--random") == 0 && i + 1 < argc) {
      force_random = atol(argv[++i]);
    } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc &&
               (strcmp(argv[i + 1], "core") == 0 ||
                strcmp(argv[i + 1], "chan") == 0)) {
      only = strcmp(argv[++i], "core") == 0 ? SET_CORE : SET_CHAN;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--quiet | --verbose] [--all] [--scale X] "
              "[--bound N | --random N] [--set core | --set chan] "
              "[SCENARIO...]\n", argv[0]);
      return 2;
    } else {
      nsel++;
    }
  }

  nscen = 0;
  for (set = SET_CORE; set <= SET_CHAN; set++) {
    const scenario* t;
    for (t = set_table[set]; t->name != NULL; t++) {
      if (nscen == MAX_SCENARIOS) {
        fprintf(stderr, "%s: more than %d scenarios\n", argv[0],
                MAX_SCENARIOS);
        return 2;
      }
      order[nscen] = t;
      order_set[nscen++] = set;
    }
  }

  npass = 0;
  nfail = 0;
  caught[0] = '\0';
  t_all = now_s();
  for (k = 0; k < nscen; k++) {
    scenario sc = *order[k];
    const scenario* s = &sc;
    rl::test_params p;
    char search[64];
    double t0;
    bool ok;

    if (only != SET_ALL && order_set[k] != only)
      continue;
    if (nsel > 0) {
      int want = 0;
      for (i = 1; i < argc; i++)
        if (strcmp(argv[i], s->name) == 0)
          want = 1;
      if (!want)
        continue;
    }
    if (force_bound > 0) {
      sc.search = rl::sched_bound;
      sc.param = (unsigned) force_bound;
    } else if (force_random > 0) {
      sc.search = rl::sched_random;
      sc.param = (unsigned) force_random;
    }
    p.search_type = s->search;
    if (s->search == rl::sched_bound)
      p.context_bound = s->param;
    if (s->search == rl::sched_random)
      p.iteration_count = (rl::iteration_t) (s->param * scale);
    cap.reset();
    cap_stream.clear();
    p.output_stream = quiet ? &null_stream : &cap_stream;
    p.progress_stream = &null_stream;

    t0 = now_s();
    ok = s->run(p);
    if (ok) {
      npass++;
      printf("model[%d] %-26s pass    %d threads, %s, %llu iterations, %.1f s\n",
             mutant, s->name, s->threads, search_name(s, search, sizeof(search)),
             (unsigned long long) p.stop_iteration, now_s() - t0);
    } else {
      nfail++;
      printf("model[%d] %-26s %s  %s at iteration %llu, %.1f s\n", mutant,
             s->name, mutant ? "CAUGHT" : "FAILED",
             rl::test_result_str(p.test_result),
             (unsigned long long) p.stop_iteration, now_s() - t0);
      if (!quiet)
        fputs(cap.text(), stdout);
      if (strlen(caught) + strlen(s->name) + 2 < sizeof(caught)) {
        if (caught[0] != '\0')
          strcat(caught, ",");
        strcat(caught, s->name);
      }
    }
    fflush(stdout);
    if (mutant != 0 && nfail > 0 && !all)
      break;
  }
  printf("RESULT mutant=%d passed=%d failed=%d failed_in=%s time=%.1f\n",
         mutant, npass, nfail, caught[0] ? caught : "-", now_s() - t_all);
  return nfail > 0 ? 1 : 0;
}
