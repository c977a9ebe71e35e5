#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
unprivileged.py - run the tests of a ctest label as an unprivileged user.

A unit test must pass for any user, without root and without a service
(tests/CMakeLists.txt).  Run as root, this takes each test of LABEL from
`ctest --show-only=json-v1` and runs its command as USER (default nobody)
through `setpriv --reuid --regid --clear-groups --reset-env` (the user's
own HOME, SHELL and PATH), with the test's ENVIRONMENT, working directory
and timeout.  The build and source trees must be readable by USER: the
test programs run from where they were built.

Usage: unprivileged.py BUILD_DIR [LABEL [USER [GROUP]]]
"""
import json
import os
import subprocess
import sys


def main():
    if not 2 <= len(sys.argv) <= 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    build = sys.argv[1]
    label = sys.argv[2] if len(sys.argv) > 2 else "unit"
    user = sys.argv[3] if len(sys.argv) > 3 else "nobody"
    group = sys.argv[4] if len(sys.argv) > 4 else "nogroup"
    if os.geteuid() != 0:
        sys.exit("FAIL: needs root (to become %s)" % user)
    out = subprocess.run(["ctest", "--test-dir", build, "-L", label,
                          "--show-only=json-v1"],
                         check=True, capture_output=True, text=True).stdout
    tests = json.loads(out)["tests"]
    asuser = ["setpriv", "--reuid=" + user, "--regid=" + group,
              "--clear-groups", "--reset-env"]
    if subprocess.run(asuser + ["test", "-r", build + "/CMakeCache.txt"]).returncode:
        print("FAIL: %s cannot read %s: the tests run from the build tree"
              % (user, build))
        return 1
    failed = []
    for t in tests:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        cmd = asuser + ["env"] + props.get("ENVIRONMENT", []) + t["command"]
        try:
            r = subprocess.run(cmd, cwd=props.get("WORKING_DIRECTORY", "/"),
                               capture_output=True, text=True,
                               timeout=props.get("TIMEOUT", 1500))
            ok, text = r.returncode == 0, r.stdout + r.stderr
            why = "exit %d" % r.returncode
        except subprocess.TimeoutExpired as e:
            ok, why = False, "timeout"
            text = "%s%s" % (e.stdout or "", e.stderr or "")
        print("%-4s %s (as %s)%s" % ("ok" if ok else "FAIL", t["name"], user,
                                     "" if ok else ": " + why))
        if not ok:
            failed.append(t["name"])
            print(text if isinstance(text, str) else text.decode(errors="replace"))
    print("%d tests of label %s as %s, %d failed%s"
          % (len(tests), label, user, len(failed),
             (": " + " ".join(failed)) if failed else ""))
    return 1 if failed or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
