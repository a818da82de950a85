/* Issue 10 (b): a child made with clone(CLONE_UNTRACED) is never traced: it calls unshare,
 * opens /etc/shadow, and tries to outlive the run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static const char *marker;

static int child(void *arg) {
  (void)arg;
  unshare(CLONE_NEWUSER);
  int shadow = open("/etc/shadow", O_RDONLY);
  if (shadow >= 0) close(shadow);
  sleep(3);
  int fd = open(marker, O_WRONLY | O_CREAT, 0600);
  if (fd >= 0) close(fd);
  return 0;
}

int main(int argc, char **argv) {
  marker = argv[1];
  char *stack = malloc(1 << 16);
  clone(child, stack + (1 << 16), CLONE_UNTRACED | SIGCHLD, NULL);
  usleep(300 * 1000);
  return 0; /* the parent leaves; the child is meant to live on */
}
