#!/usr/bin/env python3
"""Prints the import cycles among the modules of a crate's src/ (default app/src): every group of
modules that reach each other through `crate::…` paths. Exits 1 when there is one.
A module is a file; `a/mod.rs` is module `a`. A path names the longest module it starts with."""
import re
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "app/src")
modules = {}
for f in src.rglob("*.rs"):
    parts = list(f.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    modules[tuple(parts)] = f

def target(path):
    parts = tuple(path.split("::"))
    for n in range(len(parts), 0, -1):
        if parts[:n] in modules:
            return parts[:n]
    return None

edges = {m: set() for m in modules}
for m, f in modules.items():
    text = f.read_text()
    # `use crate::a::{b, c::d}` and inline `crate::a::b` paths.
    for group in re.finditer(r"crate::([\w:]+)::\{([^}]*)\}", text):
        for item in re.split(r"[,\s]+", group.group(2)):
            item = item.split("::{")[0].strip()
            if item and item not in ("self",):
                t = target(group.group(1) + "::" + item) or target(group.group(1))
                if t and t != m and t[: len(m)] != m:
                    edges[m].add(t)
    for path in re.finditer(r"crate::([\w:]+)", text):
        t = target(path.group(1).rstrip(":"))
        if t and t != m and t[: len(m)] != m and m[: len(t)] != t:
            edges[m].add(t)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop(); on.discard(w); scc.append(w)
            if w == v:
                break
        if len(scc) > 1:
            sccs.append(scc)
for v in modules:
    if v not in index:
        visit(v)
for scc in sccs:
    print("cycle:", " ↔ ".join(sorted("::".join(m) or "crate" for m in scc)))
sys.exit(1 if sccs else 0)
