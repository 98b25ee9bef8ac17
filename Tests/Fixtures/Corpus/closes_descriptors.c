// Closes every descriptor above 2 once the agent has had time to connect (as daemons and
// closefrom() do), then talks to itself over a socketpair, which may get the agent's old number:
// only what the program sends itself may arrive, and the pair must stay open.
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 100; i++) memset(malloc(100000), 1, 100000);
    usleep(1500 * 1000);
    for (int fd = 3; fd < 1024; fd++) close(fd);
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 1;
    long sent = 0, received = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 20; i++) memset(malloc(50000), 1, 50000);
        char line[32];
        int length = snprintf(line, sizeof line, "round %d\n", round);
        if (write(pair[0], line, length) == length) sent += length;
        struct pollfd readable = {pair[1], POLLIN, 0};
        if (poll(&readable, 1, 50) > 0) {
            char buffer[65536];
            ssize_t n = read(pair[1], buffer, sizeof buffer);
            if (n > 0) received += n;
        }
    }
    printf("sent %ld, received %ld\n", sent, received);
    return 0;
}
