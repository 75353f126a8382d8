/* model.cpp: runs the model scenarios of one build of the core (the real
 * code, or the mutant chosen with -DUVEV__MUTANT=n, see docs/design.md),
 * prints one line per scenario, then a RESULT line for test/model/driver.c.
 *
 *   uvev-model [--quiet | --verbose] [--progress] [--all] [--scale X]
 *              [--bound N | --random N | --full] [--set core | --set chan]
 *              [SCENARIO...]
 *
 * --quiet drops Relacy's own output (the history of a failure); a mutant
 * build is quiet unless --verbose is given, and stops at the first scenario
 * that catches it unless --all is given. --progress prints Relacy's
 * progress (iterations done and its estimate of the total) on stderr.
 * --scale multiplies the iterations
 * of the random-scheduler scenarios; --bound N sets the context bound of
 * the bounded rows, --random N the iterations of the random ones; in a
 * build made with -DMODEL_ANY_SEARCH, --bound, --random and --full replace
 * the search of every selected scenario (for tuning, and deeper runs by
 * hand). --set runs one scenario set only (the driver runs the real code's
 * two sets as two processes, on two CPUs).
 * Exit status: 0 every scenario passed, 1 some scenario failed (for a
 * mutant: it was caught), 2 usage error.
 *
 * Scenario sets: the core's (core.h) and the channel's (chan.h). The real
 * code's build holds every scenario of both; a mutant's build only those
 * that catch it (MODEL_ONLY below).
 */
#include "core.h"
#include "chan.h"

/* Which scenarios this build holds. The real code's build holds every one;
 * a mutant's only those that the mutant table of docs/design.md (section 9)
 * says catch it: test/model/meson.build passes them as MODEL_ONLY, a
 * comma-separated list of scenario names. A scenario left out is not
 * instantiated at all, and instantiating the scenarios is most of a
 * build's compile time: each is a whole simulator. */

/* Whether `name` is exactly one of the comma-separated names in `list`
 * (constexpr, so that the choice is made at compile time). */
static constexpr bool model_name_is(const char* name, const char* list) {
  return *name == '\0' ? (*list == ',' || *list == '\0')
                       : (*name == *list && model_name_is(name + 1, list + 1));
}

static constexpr const char* model_next_name(const char* list) {
  return *list == '\0' ? list
                       : *list == ',' ? list + 1 : model_next_name(list + 1);
}

static constexpr bool model_name_in(const char* name, const char* list) {
  return *list != '\0' &&
         (model_name_is(name, list) ||
          model_name_in(name, model_next_name(list)));
}

#ifdef MODEL_ONLY
# define MODEL_WANTED(name) model_name_in(name, MODEL_ONLY)
#else
# define MODEL_WANTED(name) true
#endif

/* The simulator of one scenario, with the search its table row gives, and
 * only that one: rl::simulate<T> builds all three of Relacy's schedulers for
 * every scenario. A build made with -DMODEL_ANY_SEARCH (by hand, for tuning)
 * takes rl::simulate<T>, so that --bound, --random and --full can override
 * the row. On a failure the run is repeated to collect the history, as
 * rl::simulate does, unless the output is dropped (--quiet). */
template<typename T, rl::scheduler_type_e search> struct model_sched;
template<typename T> struct model_sched<T, rl::sched_random> {
  typedef rl::random_scheduler<T::params::thread_count> type;
};
template<typename T> struct model_sched<T, rl::sched_bound> {
  typedef rl::context_bound_scheduler<T::params::thread_count> type;
};
template<typename T> struct model_sched<T, rl::sched_full> {
  typedef rl::full_search_scheduler<T::params::thread_count> type;
};

typedef bool (*model_run_fn)(rl::test_params& params);

#ifdef MODEL_ANY_SEARCH
static const int any_search = 1;
#else
static const int any_search = 0;
#endif

static int model_quiet;  /* main's --quiet: a failure's history is dropped */

template<bool wanted, typename T, rl::scheduler_type_e search>
struct model_pick {
  static bool run(rl::test_params& p) {
#ifdef MODEL_ANY_SEARCH
    return rl::simulate<T>(p);
#else
    typedef typename model_sched<T, search>::type sched;
    rl::ostringstream state;
    rl::ostringstream again;
    rl::test_result_e res;

    RL_VERIFY(p.search_type == search);
    res = rl::run_test<T, sched>(p, state, false);
    if (res != rl::test_result_success && !model_quiet) {
      p.initial_state = state.str();
      p.collect_history = true;
      (void) rl::run_test<T, sched>(p, again, true);
    }
    p.test_result = res;
    return res == T::params::expected_result;
#endif
  }
  static model_run_fn fn() { return &run; }
};

template<typename T, rl::scheduler_type_e search>
struct model_pick<false, T, search> {
  static model_run_fn fn() { return NULL; }
};

/* One row of a scenario table (core.h, chan.h): name, search (bound,
 * random or full), context bound or iterations, the test suite. */
#define MODEL_SCENARIO(name, search, param, T)                                \
  { name, T::params::thread_count, rl::sched_##search, param,                 \
    model_pick<MODEL_WANTED(name), T, rl::sched_##search>::fn() },

struct scenario {
  const char* name;  /* NULL ends a table */
  int threads;
  rl::scheduler_type_e search;
  unsigned param;  /* context bound (sched_bound) or iterations (random) */
  model_run_fn run;  /* NULL: not in this build */
};

static const scenario core_scenarios[] = {
  UVEV_MODEL_CORE_SCENARIOS
  { NULL, 0, rl::sched_full, 0, NULL }
};

static const scenario chan_scenarios[] = {
  UVEV_MODEL_CHAN_SCENARIOS
  { NULL, 0, rl::sched_full, 0, NULL }
};

/* Scenario sets, for --set, in run order. */
enum { SET_ALL = 0, SET_CORE = 1, SET_CHAN = 2 };

static const scenario* const set_table[] = {
  NULL, core_scenarios, chan_scenarios
};

#define MAX_SCENARIOS 96

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
  int progress;
  int all;
  double scale;
  int force_bound;
  long force_random;
  int force_full;
  int nbuilt;
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
  progress = 0;
  scale = 1.0;
  force_bound = 0;
  force_random = 0;
  force_full = 0;
  nsel = 0;
  only = SET_ALL;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quiet") == 0) {
      quiet = 1;
    } else if (strcmp(argv[i], "--verbose") == 0) {
      quiet = 0;
    } else if (strcmp(argv[i], "--progress") == 0) {
      progress = 1;
    } else if (strcmp(argv[i], "--all") == 0) {
      all = 1;
    } else if (strcmp(argv[i], "--scale") == 0 && i + 1 < argc) {
      scale = atof(argv[++i]);
    } else if (strcmp(argv[i], "--bound") == 0 && i + 1 < argc) {
      force_bound = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--random") == 0 && i + 1 < argc) {
      force_random = atol(argv[++i]);
    } else if (strcmp(argv[i], "--full") == 0) {
      force_full = 1;
    } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc &&
               (strcmp(argv[i + 1], "core") == 0 ||
                strcmp(argv[i + 1], "chan") == 0)) {
      only = strcmp(argv[++i], "core") == 0 ? SET_CORE : SET_CHAN;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--quiet | --verbose] [--progress] [--all] "
              "[--scale X] [--bound N | --random N | --full] "
              "[--set core | --set chan] [SCENARIO...]\n", argv[0]);
      return 2;
    } else {
      nsel++;
    }
  }

  model_quiet = quiet;
  nscen = 0;
  nbuilt = 0;
  for (set = SET_CORE; set <= SET_CHAN; set++) {
    const scenario* t;
    for (t = set_table[set]; t->name != NULL; t++) {
      if (t->run == NULL)
        continue;  /* not in this build (MODEL_ONLY) */
      nbuilt++;
      if (nscen == MAX_SCENARIOS) {
        fprintf(stderr, "%s: more than %d scenarios\n", argv[0],
                MAX_SCENARIOS);
        return 2;
      }
      order[nscen] = t;
      order_set[nscen++] = set;
    }
  }

#ifdef MODEL_ONLY
  /* Every name the mutant table gives must be a scenario: a misspelt one
   * would leave the mutant with nothing to catch it. */
  {
    const char* c;
    int nnames = 1;
    for (c = MODEL_ONLY; *c != '\0'; c++)
      nnames += *c == ',';
    if (nbuilt != nnames) {
      fprintf(stderr, "%s: MODEL_ONLY \"%s\" names %d scenarios, %d exist\n",
              argv[0], MODEL_ONLY, nnames, nbuilt);
      return 2;
    }
  }
#endif
  if (nbuilt == 0) {
    fprintf(stderr, "%s: no scenarios in this build\n", argv[0]);
    return 2;
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
    /* Without MODEL_ANY_SEARCH a row has its own simulator only: --bound
     * and --random then tune the rows of their kind, and --full none. */
    if (force_bound > 0 && (any_search || sc.search == rl::sched_bound)) {
      sc.search = rl::sched_bound;
      sc.param = (unsigned) force_bound;
    } else if (force_random > 0 &&
               (any_search || sc.search == rl::sched_random)) {
      sc.search = rl::sched_random;
      sc.param = (unsigned) force_random;
    } else if (force_full) {
      if (!any_search) {
        fprintf(stderr, "%s: --full needs a build with -DMODEL_ANY_SEARCH\n",
                argv[0]);
        return 2;
      }
      sc.search = rl::sched_full;
      sc.param = 0;
    }
    p.search_type = s->search;
    if (s->search == rl::sched_bound)
      p.context_bound = s->param;
    if (s->search == rl::sched_random)
      p.iteration_count = (rl::iteration_t) (s->param * scale);
    cap.reset();
    cap_stream.clear();
    p.output_stream = quiet ? &null_stream : &cap_stream;
    p.progress_stream = progress ? &std::cerr : &null_stream;

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
