// Closes standard input, output and error, then opens files that get descriptors 0, 1 and 2: a
// daemon's start-up. Anything the agent wrote to "stderr" now would land in error.log.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    close(0);
    close(1);
    close(2);
    int in = open("input.txt", O_RDONLY);
    int out = open("output.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open("error.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in != 0 || out != 1 || err != 2) return 10;
    char *lines[256];
    for (int i = 0; i < 256; i++) {
        lines[i] = malloc(8192);
        snprintf(lines[i], 8192, "line %d\n", i);
    }
    for (int i = 0; i < 256; i++) {
        if (write(out, lines[i], strlen(lines[i])) < 0) return 11;
        if (i % 2) free(lines[i]);
    }
    if (write(err, "no errors\n", 10) != 10) return 12;
    return 0;
}
