#include <stdlib.h>
#include "app.h"

unsigned long fibonacci(int n) {
    unsigned long *table = calloc(n + 2, sizeof *table);
    table[1] = 1;
    for (int i = 2; i <= n; i++) table[i] = table[i - 1] + table[i - 2];
    unsigned long result = table[n];
    free(table);
    return result;
}
