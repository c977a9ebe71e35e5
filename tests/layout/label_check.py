#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
label_check.py - every test of a build carries exactly one of the labels
unit, integration, fuzz and packaging (tests/CMakeLists.txt says what each
means), so that `ctest -L unit` is exactly the tests any user can run and
nothing falls between the labels.

Usage: label_check.py CTEST BUILD_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

LABELS = {"unit", "integration", "fuzz", "packaging"}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: label_check.py CTEST BUILD_DIR")
    ctest, build = sys.argv[1:]
    # ctest writes its log into the tree it reads, which the user running
    # the unit tests may not own: it reads a copy of the test files.
    with tempfile.TemporaryDirectory(prefix="cslabels.") as tmp:
        for d, _, files in os.walk(build):
            if "CTestTestfile.cmake" in files:
                dst = os.path.join(tmp, os.path.relpath(d, build))
                os.makedirs(dst, exist_ok=True)
                shutil.copy(os.path.join(d, "CTestTestfile.cmake"), dst)
        out = subprocess.run([ctest, "--test-dir", tmp, "--show-only=json-v1"],
                             check=True, capture_output=True, text=True).stdout
    tests = json.loads(out)["tests"]
    bad = 0
    for t in tests:
        labels = []
        for p in t.get("properties", []):
            if p["name"] == "LABELS":
                labels = p["value"]
        kinds = [x for x in labels if x in LABELS]
        if len(kinds) != 1:
            print("FAIL: %s has labels %s, want exactly one of %s"
                  % (t["name"], labels or "none", ", ".join(sorted(LABELS))))
            bad += 1
    if not tests:
        print("FAIL: no tests found in %s" % build)
        bad += 1
    print("%d tests, %d without exactly one label" % (len(tests), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
