// LeakAgentHooks installs the malloc-family interposer for the whole process. It has no API:
// linking it is the opt-in. See CLeakTrack.h for what the tracker exposes.
#ifndef LEAKAGENTHOOKS_H
#define LEAKAGENTHOOKS_H
#endif
