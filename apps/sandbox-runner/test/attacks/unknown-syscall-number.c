/*
 * A syscall by a number strace has no name for (999): strace cannot be told to refuse it by
 * name, so it runs even where every call outside the baseline is refused at entry.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  long r = syscall(999);
  printf("syscall(999) = %ld\n", r);
  return 0;
}
