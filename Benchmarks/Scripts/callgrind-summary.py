#!/usr/bin/env python3
"""Summarizes a callgrind profile of one benchmark workload per operation.

usage: callgrind-summary.py PROFILE OPERATIONS [TOP] [--callers FUNCTION]
       callgrind-summary.py PROFILE OPERATIONS --json WORKLOAD SYSTEM PINNED

Prints the instructions per operation (Ir / OPERATIONS) by area (libpq, libc allocation, the Swift concurrency
runtime, the Swift core runtime, each module of the executable, ...), the TOP functions by self cost, and how often
the costly runtime entry points and system calls were called per operation. With --callers, also who calls FUNCTION
(a prefix of its name) and how often per operation. With --json, prints only one JSON line for the benchmark's
report: {"workload":...,"system":...,"pinned":...,"instructions_per_op":N}. Reads callgrind's own file format, so it
needs nothing but Python 3.
"""
import collections
import json
import re
import sys


def parse(path):
    """Returns (self cost by function, calls by callee, object file by function, calls by (callee, caller))."""
    names = {"fn": {}, "cfn": {}, "ob": {}, "cob": {}, "fl": {}, "fi": {}, "fe": {}, "cfi": {}, "cfl": {}}
    self_cost = collections.Counter()
    calls = collections.Counter()
    calls_by_caller = collections.Counter()
    object_of = {}
    current_fn = current_ob = callee = callee_ob = None
    pending_call = None

    def resolve(kind, value):
        # Compressed names: "(12) name" defines id 12, "(12)" refers to it.
        match = re.match(r"\((\d+)\)(?: (.*))?$", value)
        if not match:
            return value
        table = names["fn" if kind in ("fn", "cfn") else "ob" if kind in ("ob", "cob") else "fl"]
        if match.group(2) is not None:
            table[match.group(1)] = match.group(2)
        return table.get(match.group(1), value)

    with open(path, errors="replace") as profile:
        for line in profile:
            line = line.rstrip("\n")
            if not line or line[0] in "#":
                continue
            key, _, value = line.partition("=")
            if key in ("ob", "fl", "fi", "fe", "cfi", "cfl"):
                resolved = resolve(key, value)
                if key == "ob":
                    current_ob = resolved
                continue
            if key == "cob":
                callee_ob = resolve(key, value)
                continue
            if key == "fn":
                current_fn = resolve(key, value)
                object_of.setdefault(current_fn, current_ob)
                continue
            if key == "cfn":
                callee = resolve(key, value)
                continue
            if key == "calls":
                pending_call = int(value.split()[0])
                calls[callee] += pending_call
                calls_by_caller[(callee, current_fn)] += pending_call
                if callee_ob:
                    object_of.setdefault(callee, callee_ob)
                callee_ob = None
                continue
            if line[0].isdigit() or line[0] in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                if pending_call is not None:
                    pending_call = None  # inclusive cost of the call: not self cost
                else:
                    self_cost[current_fn] += cost
    return self_cost, calls, object_of, calls_by_caller


AREAS = [
    ("libpq", lambda fn, ob: "libpq" in (ob or "")),
    ("libc: malloc/free", lambda fn, ob: "libc.so" in (ob or "") and re.search(r"malloc|free|calloc|realloc|tcache", fn)),
    ("libc: memcpy/memmove/str", lambda fn, ob: "libc.so" in (ob or "") and re.search(r"mem|str", fn)),
    ("libc: locks, futex, other", lambda fn, ob: "libc.so" in (ob or "")),
    ("ld.so: __tls_get_addr", lambda fn, ob: "tls_get_addr" in fn),
    ("Swift concurrency runtime", lambda fn, ob: "libswift_Concurrency" in (ob or "")),
    ("Swift core: retain/release", lambda fn, ob: "libswiftCore" in (ob or "") and re.search(r"retain|release|RefCount", fn)),
    ("Swift core: metadata, generics, casts", lambda fn, ob: "libswiftCore" in (ob or "") and re.search(r"etadata|Conformance|witness|dynamicCast|instantiate", fn)),
    ("Swift core: strings, hashing, other", lambda fn, ob: "libswiftCore" in (ob or "")),
    ("libdispatch", lambda fn, ob: "libdispatch" in (ob or "")),
    ("Foundation", lambda fn, ob: "Foundation" in (ob or "")),
    ("executable: PostgresTransport", lambda fn, ob: "17PostgresTransport" in fn),
    ("executable: ResilientPostgres", lambda fn, ob: "17ResilientPostgres" in fn),
    ("executable: PostgresPolicy", lambda fn, ob: "14PostgresPolicy" in fn),
    ("executable: PostgresNIO", lambda fn, ob: "11PostgresNIO" in fn or "_ConnectionPoolModule" in fn),
    ("executable: NIO", lambda fn, ob: re.search(r"\d+NIO(Core|Posix|Embedded|ConcurrencyHelpers)?", fn) is not None),
    ("executable: benchmark code", lambda fn, ob: re.search(r"(NIOWorkloads|ResilientWorkloads|BenchmarkSupport|lpqw_)", fn) is not None),
    ("executable: other (stdlib specializations, thunks)", lambda fn, ob: True),
]

WATCHED = [
    "malloc", "free", "swift_task_alloc", "swift_task_switch", "swift_task_create", "swift_continuation_init",
    "swift_continuation_resume", "swift_retain", "swift_release", "swift_allocObject", "swift_task_enqueueGlobal",
    "swift_job_run", "__tls_get_addr", "epoll_ctl", "epoll_wait", "write", "read", "__libc_send", "__libc_recv",
    "send", "recv", "poll", "__poll", "futex", "__futex_abstimed_wait_common", "pthread_cond_signal",
    "pthread_mutex_lock", "clock_gettime", "__clock_gettime", "PQsendQueryParams", "PQexecParams",
    "PQconsumeInput", "PQflush", "PQisBusy", "PQgetResult", "PQclear", "PQparameterStatus", "PQtransactionStatus",
]


def main():
    arguments = sys.argv[1:]
    callers_of = None
    if "--callers" in arguments:
        index = arguments.index("--callers")
        callers_of = arguments[index + 1]
        del arguments[index:index + 2]
    json_fields = None
    if "--json" in arguments:
        index = arguments.index("--json")
        json_fields = arguments[index + 1:index + 4]
        del arguments[index:index + 4]
        if len(json_fields) < 3:
            sys.exit(__doc__)
    if len(arguments) < 2:
        sys.exit(__doc__)
    path, operations = arguments[0], int(arguments[1])
    if json_fields:
        workload, system, pinned = json_fields
        total = sum(parse(path)[0].values())
        print(json.dumps({"workload": workload, "system": system, "pinned": pinned == "true",
                          "instructions_per_op": round(total / operations)}, separators=(",", ":")))
        return
    top = int(arguments[2]) if len(arguments) > 2 else 25
    self_cost, calls, object_of, calls_by_caller = parse(path)
    total = sum(self_cost.values())
    print(f"{path}: {total:,} instructions, {total / operations:,.0f} per operation ({operations:,} operations)")
    print("\nby area (instructions per operation):")
    areas = collections.Counter()
    for fn, cost in self_cost.items():
        ob = object_of.get(fn)
        for area, matches in AREAS:
            if matches(fn, ob):
                areas[area] += cost
                break
    for area, cost in areas.most_common():
        print(f"  {cost / operations:10,.0f}  {100 * cost / total:5.1f}%  {area}")
    print(f"\ntop {top} functions by self cost (instructions per operation):")
    for fn, cost in self_cost.most_common(top):
        ob = (object_of.get(fn) or "").rsplit("/", 1)[-1]
        print(f"  {cost / operations:10,.0f}  {fn[:110]}  [{ob}]")
    print("\ncalls per operation:")
    for name in WATCHED:
        count = sum(n for fn, n in calls.items() if fn == name or fn.startswith(name + "'") or fn.endswith(":" + name))
        if count:
            print(f"  {count / operations:8.2f}  {name}")
    if callers_of:
        print(f"\ncallers of {callers_of}* (calls per operation):")
        by_caller = collections.Counter()
        for (callee, caller), count in calls_by_caller.items():
            if callee.startswith(callers_of):
                by_caller[caller] += count
        for caller, count in by_caller.most_common(40):
            if count / operations >= 0.01:
                print(f"  {count / operations:8.2f}  {caller[:150]}")


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        pass
