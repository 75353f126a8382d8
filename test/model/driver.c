/* driver.c: the `model` test. Runs the model build of the real code and each
 * mutant build (test/model/model.cpp compiled with -DUVEV__MUTANT=n), as
 * many at once as there are CPUs, prints their lines, and sums up:
 *
 *   model: N scenarios passed, M of K mutants caught
 *
 *   uvev-model-driver MODEL [MUTANT...]
 *
 * The real code runs as two processes, one per scenario set (--set core,
 * --set chan), so that on two CPUs the core's set runs on one while the
 * channel's set and then the mutants share the other; N counts both sets.
 * A mutant build holds only the scenarios that the mutant table says catch
 * it, and runs them all (--all). Exit status 0 only if every scenario
 * passed on the real code and every mutant was caught by every scenario of
 * its build. Plain C: no Relacy here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 64

/* The real code's scenario sets, one process each (model.cpp's --set). */
static const char* const real_sets[] = {"core", "chan"};
#define NREAL ((int) (sizeof(real_sets) / sizeof(real_sets[0])))

struct job {
  const char* path;
  const char* set;    /* --set for the real code, NULL for a mutant */
  FILE* out;          /* the child's stdout, kept in a temporary file */
  pid_t pid;
  int status;         /* from waitpid */
  int done;
  /* From the child's RESULT line. */
  int have_result;
  int mutant;
  int passed;
  int failed;
  char failed_in[1024];
};

static double now_s(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int start(struct job* j) {
  j->out = tmpfile();
  if (j->out == NULL) {
    perror("tmpfile");
    return -1;
  }
  fflush(stdout);
  j->pid = fork();
  if (j->pid < 0) {
    perror("fork");
    return -1;
  }
  if (j->pid == 0) {
    if (dup2(fileno(j->out), STDOUT_FILENO) < 0)
      _exit(127);
    if (j->set != NULL)
      execl(j->path, j->path, "--set", j->set, (char*) NULL);
    else
      execl(j->path, j->path, "--all", (char*) NULL);
    fprintf(stderr, "model: cannot run %s: %s\n", j->path, strerror(errno));
    _exit(127);
  }
  return 0;
}

/* Copies the child's output to ours (once every job is done, in the order
 * given) and reads its RESULT line. */
static void collect(struct job* j) {
  char line[2048];

  rewind(j->out);
  while (fgets(line, sizeof(line), j->out) != NULL) {
    if (strncmp(line, "RESULT ", 7) == 0) {
      if (sscanf(line, "RESULT mutant=%d passed=%d failed=%d failed_in=%1023s",
                 &j->mutant, &j->passed, &j->failed, j->failed_in) == 4)
        j->have_result = 1;
      continue;
    }
    fputs(line, stdout);
  }
  fclose(j->out);
  j->out = NULL;
  fflush(stdout);
}

int main(int argc, char** argv) {
  struct job jobs[MAX_JOBS];
  int njobs;
  int running;
  int next;
  int ndone;
  long ncpu;
  int i;
  int ok;
  int caught;
  int nscen;
  double t0;

  if (argc < 2 || argc - 2 + NREAL > MAX_JOBS) {
    fprintf(stderr, "usage: %s MODEL [MUTANT...]\n", argv[0]);
    return 2;
  }
  njobs = argc - 2 + NREAL;
  memset(jobs, 0, sizeof(jobs));
  for (i = 0; i < NREAL; i++) {
    jobs[i].path = argv[1];
    jobs[i].set = real_sets[i];
  }
  for (i = NREAL; i < njobs; i++)
    jobs[i].path = argv[i - NREAL + 2];
  ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  if (ncpu < 1)
    ncpu = 1;

  /* The real code's sets are the longest runs: they start first, the
   * mutants follow as CPUs free up. */
  t0 = now_s();
  running = 0;
  next = 0;
  ndone = 0;
  while (ndone < njobs) {
    pid_t pid;
    int status;

    while (next < njobs && running < ncpu) {
      if (start(&jobs[next]) != 0)
        return 2;
      next++;
      running++;
    }
    pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR)
        continue;
      perror("waitpid");
      return 2;
    }
    for (i = 0; i < next; i++) {
      if (jobs[i].pid == pid && !jobs[i].done) {
        jobs[i].done = 1;
        jobs[i].status = status;
        running--;
        ndone++;
      }
    }
  }

  for (i = 0; i < njobs; i++)
    collect(&jobs[i]);

  /* The real code: every scenario of every set passes (exit 0). */
  ok = 1;
  nscen = 0;
  for (i = 0; i < NREAL; i++) {
    struct job* j = &jobs[i];
    if (j->have_result && j->mutant == 0 && WIFEXITED(j->status) &&
        WEXITSTATUS(j->status) == 0 && j->failed == 0 && j->passed > 0) {
      nscen += j->passed;
    } else {
      ok = 0;
      printf("model: the real code FAILED (%s --set %s, %d scenarios passed, "
             "%d failed: %s)\n", j->path, j->set, j->passed, j->failed,
             j->have_result ? j->failed_in : "no RESULT line");
    }
  }
  /* Each mutant: every scenario of its build (the ones its row of the
   * mutant table says catch it) fails on it, exit 1 with a RESULT line. A
   * crash is not a catch, and neither is a scenario that lets it pass. */
  caught = 0;
  for (i = NREAL; i < njobs; i++) {
    struct job* j = &jobs[i];
    if (j->have_result && j->mutant != 0 && WIFEXITED(j->status) &&
        WEXITSTATUS(j->status) == 1 && j->failed > 0 && j->passed == 0) {
      caught++;
      printf("model: mutant %d caught by %s\n", j->mutant, j->failed_in);
    } else {
      ok = 0;
      if (j->have_result && WIFEXITED(j->status) &&
          WEXITSTATUS(j->status) == 0)
        printf("model: mutant %d SURVIVED all %d scenarios\n", j->mutant,
               j->passed);
      else if (j->have_result && WIFEXITED(j->status) &&
               WEXITSTATUS(j->status) == 1)
        printf("model: mutant %d caught by %s, but %d of its scenarios "
               "passed\n", j->mutant, j->failed_in, j->passed);
      else if (WIFSIGNALED(j->status))
        printf("model: %s was killed by signal %d\n", j->path,
               WTERMSIG(j->status));
      else
        printf("model: %s did not run to the end (exit status %d)\n",
               j->path, WEXITSTATUS(j->status));
    }
  }
  printf("model: %d scenarios passed, %d of %d mutants caught (%.0f s)\n",
         nscen, caught, njobs - NREAL, now_s() - t0);
  return ok ? 0 : 1;
}
