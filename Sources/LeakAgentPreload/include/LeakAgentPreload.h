// libLeakAgentPreload.so: the agent for programs that cannot be rebuilt. No API: preload it
// (agent/leakwatch-run does) and configure it with LEAKWATCH_* environment variables.
#ifndef LEAKAGENTPRELOAD_H
#define LEAKAGENTPRELOAD_H
#endif
