/* Take the tracer's fds with pidfd_getfd (the same uid may, when the target is dumpable):
 * with the trace FIFO in hand, the tracee could forge or garble trace lines at will.
 * Exit 4 when a FIFO of the tracer was taken, 0 when every attempt was refused. */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  int pidfd = syscall(SYS_pidfd_open, getppid(), 0);
  if (pidfd < 0) return 0;
  for (int n = 0; n < 16; n++) {
    int fd = syscall(SYS_pidfd_getfd, pidfd, n, 0);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) return 4;
  }
  return 0;
}
