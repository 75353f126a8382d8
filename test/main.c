/* main.c: runs the Check suites named on the command line (all if none),
 * each made of the test cases of its files. */
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static Suite* suite_of(const char* name, TCase* (*const* cases)(void)) {
  Suite* s;

  s = suite_create(name);
  for (; *cases != NULL; cases++)
    suite_add_tcase(s, (*cases)());
  return s;
}

int main(int argc, char** argv) {
  static TCase* (*const core[])(void) = {
    notify_case, timeout_case, handoff_case, sync_case, waker_case,
    misuse_case, lifetime_case, lifo_case, any_case, NULL
  };
  static TCase* (*const chan[])(void) = {
    chan_ring_case, chan_close_case, chan_ops_case, chan_batch_case,
    chan_streams_case, select_case, NULL
  };
  static TCase* (*const stress[])(void) = { stress_case, NULL };
  static TCase* (*const race[])(void) = { race_case, NULL };
  static TCase* (*const longs[])(void) = { long_case, NULL };
  static TCase* (*const regress[])(void) = { regress_case, NULL };
  static const struct {
    const char* name;
    TCase* (*const* cases)(void);
  } suites[] = {
    {"core", core},
    {"chan", chan},
    {"stress", stress},
    {"race", race},
    {"long", longs},
    {"regress", regress},
  };
  SRunner* sr;
  Suite* s;
  size_t i;
  int j;
  int failed;

  sr = NULL;
  for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
    int wanted = argc < 2;
    for (j = 1; j < argc; j++)
      if (strcmp(argv[j], suites[i].name) == 0)
        wanted = 1;
    if (!wanted)
      continue;
    s = suite_of(suites[i].name, suites[i].cases);
    if (sr == NULL)
      sr = srunner_create(s);
    else
      srunner_add_suite(sr, s);
  }
  if (sr == NULL) {
    fprintf(stderr, "no such suite\n");
    return 2;
  }
  /* CK_ENV: CK_VERBOSITY=verbose lists every test; the default is normal.
   * CK_RUN_CASE=NAME runs one test case (helpers.h lists them). */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
