/* Issue 10 (c): LD_PRELOAD in the request's env. Whoever loads this appends its name to
 * $SYSCAN_PRELOAD_MARK and calls personality (a dangerous syscall): it must be the command
 * alone, traced, never strace or the isolation tool. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

__attribute__((constructor)) static void loaded(void) {
  const char *mark = getenv("SYSCAN_PRELOAD_MARK");
  if (mark == NULL) return;
  char comm[64] = {0};
  int in = open("/proc/self/comm", O_RDONLY);
  if (in >= 0) {
    ssize_t n = read(in, comm, sizeof comm - 1);
    if (n < 0) n = 0;
    comm[n] = 0;
    close(in);
  }
  int out = open(mark, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (out >= 0) {
    if (write(out, comm, strlen(comm)) < 0) {}
    close(out);
  }
  personality(0xffffffff);
}
