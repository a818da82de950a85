/* Issue 10, ptrace-away: the tracee attaches to its tracer (strace, its parent: the same uid
 * may) and stops it; strace and every traced process would then hang, unseen. */
#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
int main(void) {
  long r = ptrace(PTRACE_SEIZE, getppid(), 0, 0);
  printf("seize %ld %s\n", r, r ? strerror(errno) : "");
  r = ptrace(PTRACE_INTERRUPT, getppid(), 0, 0);
  printf("interrupt %ld %s\n", r, r ? strerror(errno) : "");
  fflush(stdout);
  write(1, "after\n", 6);
  return 0;
}
