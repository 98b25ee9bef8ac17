#!/usr/bin/env python3
"""Reads one callgrind output file: total instructions, and the calls the program made into the
malloc family with their inclusive instructions.

A call counts when its callee is one of the malloc family's entry points and its caller lies in
none of the objects named by --inside (the allocator itself, the preload library): the calls the
program made, not the ones the allocator or the tracker made on its behalf.

    callgrind_costs.py FILE [--inside SUBSTRING]...   -> JSON on stdout
"""
import json
import re
import sys

ENTRY_POINTS = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "malloc_usable_size", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc",
}


def costs(path, inside):
    names = {"ob": {}, "fn": {}}
    total = 0
    calls = 0
    inclusive = 0
    current_object = current_function = ""
    callee_object = callee_function = None
    pending_call = False

    def named(kind, text):
        match = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not match:
            return text
        key, name = match.groups()
        if name is not None:
            names[kind][key] = name
        return names[kind].get(key, "")

    with open(path, errors="replace") as file:
        for line in file:
            line = line.rstrip("\n")
            if line.startswith("summary:") or line.startswith("totals:"):
                total = max(total, int(line.split()[1]))
            elif line.startswith("ob="):
                current_object = named("ob", line[3:])
            elif line.startswith("fn="):
                current_function = named("fn", line[3:])
                callee_object = None
            elif line.startswith("cob="):
                callee_object = named("ob", line[4:])
            elif line.startswith("cfn="):
                callee_function = named("fn", line[4:])
            elif line.startswith("calls="):
                count = int(line[6:].split()[0])
                caller_inside = any(part in current_object for part in inside)
                if callee_function in ENTRY_POINTS and not caller_inside:
                    calls += count
                    pending_call = True
                else:
                    pending_call = False
            elif pending_call and line and (line[0].isdigit() or line[0] in "+-*"):
                inclusive += int(line.split()[1])
                pending_call = False
            elif line.startswith(("cfi=", "cfl=", "fi=", "fe=", "fl=")):
                continue
    return {"instructions": total, "allocatorCalls": calls, "allocatorInstructions": inclusive}


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if not arguments:
        sys.exit(__doc__)
    path, inside = arguments[0], []
    rest = arguments[1:]
    while rest:
        if rest[0] == "--inside" and len(rest) > 1:
            inside.append(rest[1])
            rest = rest[2:]
        else:
            sys.exit(f"callgrind_costs.py: unknown argument {rest[0]!r}")
    print(json.dumps(costs(path, inside)))
