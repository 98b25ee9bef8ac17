#include "macros.h"
#define GREETING(name) "hello, " #name
int answer = SQUARE(6) + 6;
const char *greeting = GREETING(corpus);
#ifdef __x86_64__
const char *machine = "x86_64";
#endif
