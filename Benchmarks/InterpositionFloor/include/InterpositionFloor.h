// The library has no API: preloading it replaces malloc, free, calloc and realloc with forwards.
#ifndef INTERPOSITION_FLOOR_H
#define INTERPOSITION_FLOOR_H
#endif
