#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
spdx_check.py - every source file of the tree says its licence in its first
lines: "SPDX-License-Identifier: ISC" (LICENSE holds the text).

Source files are C, shell, Python, CMake, the manual pages, the systemd
units and the Debian maintainer scripts; data (corpora, results), prose
(Markdown) and files whose format has no comments (package lists, the
Debian control files) are left out.

Usage: spdx_check.py SOURCE_DIR
"""
import os
import re
import sys

SKIP_DIRS = {".git", "build", "build-asan", "corpus", "results"}
SOURCE = re.compile(r"(\.(c|h|sh|py|cmake|[58]|service|target|example)|CMakeLists\.txt)$")
EXTRA = {"packaging/bash-completion/cshuttle", "packaging/debian/rules",
         "packaging/debian/cshuttle.postinst", "packaging/debian/cshuttle.prerm",
         ".ci/run"}
TAG = "SPDX-License-Identifier: ISC"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = os.path.abspath(sys.argv[1])
    missing, n = [], 0
    for d, dirs, files in os.walk(src):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build"))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(d, f), src)
            if not (SOURCE.search(f) or rel in EXTRA):
                continue
            n += 1
            with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
                head = [fh.readline() for _ in range(3)]
            if not any(TAG in line for line in head):
                missing.append(rel)
    for m in missing:
        print(f"FAIL: {m}: no \"{TAG}\" line in its first three lines")
    if missing:
        sys.exit(1)
    print(f"spdx ok: {n} source files carry the licence line")


if __name__ == "__main__":
    main()
