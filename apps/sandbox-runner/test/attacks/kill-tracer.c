/* Issue 10 (a): leave the process group, SIGKILL the parent (strace), then do what the
 * policy forbids, untraced if the kill worked. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  setpgid(0, 0);
  kill(getppid(), SIGKILL);
  usleep(300 * 1000);
  unshare(CLONE_NEWUTS);
  sleep(2);
  /* Still running two seconds later: the runner let it outlive the run. */
  int fd = open(argv[1], O_WRONLY | O_CREAT, 0600);
  if (fd >= 0) close(fd);
  return 0;
}
