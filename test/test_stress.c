/* test_stress.c: placeholder, filled below. */
#include "helpers.h"
Suite* stress_suite(void) { return suite_create("stress"); }
