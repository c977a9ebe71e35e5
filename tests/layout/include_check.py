#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
include_check.py - the tree keeps the layout docs/ARCHITECTURE.md draws.

docs/ARCHITECTURE.md holds a table, between the markers
"<!-- layout:begin -->" and "<!-- layout:end -->", of each source folder
and the folders it may include headers from.  This check reads that table,
finds which folder every project header lives in, and fails for each
`#include "x.h"` in a folder's .c or .h files that names a header of a
folder it may not use, for a header it cannot find, for a folder with
sources that the table does not list, and for a cycle in the table itself.

Usage: include_check.py SOURCE_DIR
"""
import os
import re
import sys

BEGIN, END = "<!-- layout:begin -->", "<!-- layout:end -->"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# Folders whose files are not part of the layout: the tests and the
# benchmark may use anything, the build writes generated files elsewhere.
IGNORED = {"tests", "bench", "build", "build-asan", "packaging", "man", "docs"}


def read_rules(src):
    path = os.path.join(src, "docs", "ARCHITECTURE.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"FAIL: {path}: no layout table between {BEGIN} and {END}")
    rules = {}
    for line in text.split(BEGIN, 1)[1].split(END, 1)[0].splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0] or set(cells[0]) <= set("-: "):
            continue
        if cells[0].lower() == "folder":
            continue
        folder = cells[0].rstrip("/")
        uses = [u.strip().strip("`").rstrip("/") for u in cells[1].split(",")]
        rules[folder] = {u for u in uses if u and u not in ("-", "–", "nothing")}
    if not rules:
        sys.exit(f"FAIL: {path}: the layout table is empty")
    return rules


def find_cycle(rules):
    state = {}

    def visit(n, stack):
        state[n] = 1
        for m in sorted(rules.get(n, ())):
            if state.get(m) == 1:
                return stack + [n, m]
            if m not in state:
                c = visit(m, stack + [n])
                if c:
                    return c
        state[n] = 2
        return None

    for n in sorted(rules):
        if n not in state:
            c = visit(n, [])
            if c:
                return c
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = os.path.abspath(sys.argv[1])
    rules = read_rules(src)
    errors = []
    cycle = find_cycle(rules)
    if cycle:
        errors.append("the layout table has a cycle: " + " -> ".join(cycle))
    for folder, uses in rules.items():
        for u in uses:
            if u not in rules:
                errors.append(f"the layout table lets {folder}/ use {u}/, which it does not list")

    # Which folder each project header lives in.
    home, files = {}, {}
    for entry in sorted(os.listdir(src)):
        d = os.path.join(src, entry)
        if entry.startswith(".") or entry in IGNORED or not os.path.isdir(d):
            continue
        srcs = [n for n in sorted(os.listdir(d)) if n.endswith((".c", ".h"))]
        if not srcs:
            continue
        if entry not in rules:
            errors.append(f"{entry}/ has C sources but no row in the layout table")
            continue
        files[entry] = srcs
        for n in srcs:
            if n.endswith(".h"):
                if n in home:
                    errors.append(f"header {n} exists in both {home[n]}/ and {entry}/")
                home[n] = entry

    checked = 0
    for folder, names in files.items():
        allowed = rules[folder] | {folder}
        for n in names:
            path = os.path.join(src, folder, n)
            with open(path, encoding="utf-8", errors="replace") as f:
                body = f.read()
            for m in INCLUDE.finditer(body):
                checked += 1
                hdr = os.path.basename(m.group(1))
                line = body.count("\n", 0, m.start()) + 1
                where = f"{folder}/{n}:{line}"
                if hdr not in home:
                    # Generated at build time (none is included today).
                    errors.append(f"{where}: includes \"{m.group(1)}\", which no source folder has")
                elif home[hdr] not in allowed:
                    errors.append(f"{where}: includes {home[hdr]}/{hdr}, but {folder}/ may use only "
                                  + ", ".join(sorted(allowed)))
    for e in errors:
        print("FAIL:", e)
    if errors:
        sys.exit(1)
    print(f"layout ok: {checked} includes in {sum(len(v) for v in files.values())} files "
          f"of {len(files)} folders follow docs/ARCHITECTURE.md")


if __name__ == "__main__":
    main()
