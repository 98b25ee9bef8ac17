#include <stdio.h>
#include <stdlib.h>
#include "app.h"

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10;
    for (int i = 0; i <= n; i++) printf("fib(%d) = %lu\n", i, fibonacci(i));
    return 0;
}
