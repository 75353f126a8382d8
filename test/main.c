/* main.c: runs the Check suites named on the command line (all if none). */
#include <stdio.h>
#include <string.h>

#include "helpers.h"

int main(int argc, char** argv) {
  static const struct {
    const char* name;
    Suite* (*make)(void);
  } suites[] = {
    {"core", core_suite},
    {"chan", chan_suite},
    {"stress", stress_suite},
    {"race", race_suite},
    {"long", long_suite},
    {"regress", regress_suite},
  };
  SRunner* sr;
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
    if (sr == NULL)
      sr = srunner_create(suites[i].make());
    else
      srunner_add_suite(sr, suites[i].make());
  }
  if (sr == NULL) {
    fprintf(stderr, "no such suite\n");
    return 2;
  }
  /* CK_ENV: CK_VERBOSITY=verbose lists every test; the default is normal. */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
