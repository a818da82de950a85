/*
 * A service that reads a file and writes it out, round after round. Given a port, it also
 * sends what it read to 127.0.0.1:PORT over UDP: the exfiltration its normal runs never make.
 *   exfil-after-read ROUNDS [PORT]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  int port = argc > 2 ? atoi(argv[2]) : 0;
  char buf[4096];
  for (int i = 0; i < rounds; i++) {
    int fd = open("/etc/hostname", O_RDONLY);
    ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf);
    if (fd >= 0) close(fd);
    if (n < 0) n = 0;
    if (port > 0) {
      int s = socket(AF_INET, SOCK_DGRAM, 0);
      struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
      to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      sendto(s, buf, n, 0, (struct sockaddr *)&to, sizeof to);
      close(s);
    }
    write(1, buf, n);
  }
  return 0;
}
