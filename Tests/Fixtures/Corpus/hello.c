// A PIE program (gcc's default on Debian) that keeps some of what it allocates.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *repeat(const char *word, int times) {
    size_t length = strlen(word);
    char *text = malloc(length * times + 1);
    for (int i = 0; i < times; i++) memcpy(text + i * length, word, length);
    text[length * times] = '\0';
    return text;
}

int main(void) {
    char *kept[64];
    unsigned long checksum = 0;
    for (int i = 0; i < 64; i++) {
        kept[i] = repeat("leak", 1000 + i);
        for (char *c = kept[i]; *c; c++) checksum = checksum * 31 + (unsigned char)*c;
    }
    for (int i = 0; i < 32; i++) free(kept[i]);
    printf("hello from a PIE program, checksum %lu\n", checksum);
    return 0;
}
