#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""workflows_test.py - the CI workflows for the systems this machine is
not (.github/workflows/macos.yml, freebsd.yml) cannot run here; this
checks what can be: each file is YAML, runs on push and pull requests,
has the job that builds the ported parts, runs their unit tests and has
pfctl parse the golden rulesets, on the right kind of machine, and every
path it names exists in the tree.

Usage: workflows_test.py SOURCE_DIR
"""
import glob
import os
import sys

import yaml

src = sys.argv[1]
failed = 0


def check(what, ok):
    global failed
    print(("ok   - " if ok else "FAIL - ") + what)
    if not ok:
        failed += 1


def commands(job):
    text = []
    for step in job.get("steps", []):
        text.append(step.get("run", ""))
        text.append(str(step.get("with", {}).get("run", "")))
        text.append(str(step.get("with", {}).get("prepare", "")))
    return "\n".join(text)


for name, runner in (("macos", "macos-"), ("freebsd", "ubuntu-")):
    path = os.path.join(src, ".github", "workflows", name + ".yml")
    with open(path) as f:
        doc = yaml.safe_load(f)
    # YAML 1.1 reads the key "on" as True.
    on = doc.get("on", doc.get(True))
    check(f"{name}: runs on push and pull requests", on == ["push", "pull_request"])
    job = doc.get("jobs", {}).get("portable")
    check(f"{name}: has the job 'portable'", isinstance(job, dict))
    if not isinstance(job, dict):
        continue
    check(f"{name}: on a {runner}* machine", str(job.get("runs-on", "")).startswith(runner))
    steps = job.get("steps", [])
    check(f"{name}: every step runs or uses something",
          all(("run" in s) != ("uses" in s) for s in steps))
    cmd = commands(job)
    check(f"{name}: builds with warnings as errors", "-DCSHUTTLE_WERROR=ON" in cmd)
    check(f"{name}: runs the unit tests", "ctest --test-dir build" in cmd)
    check(f"{name}: pfctl parses the golden rulesets, loading nothing",
          "pfctl -n -f" in cmd and "tests/golden/pf/*.conf" in cmd)
    if name == "freebsd":
        check("freebsd: in a FreeBSD VM",
              any(s.get("uses", "").startswith("vmactions/freebsd-vm@") for s in steps))
        check("freebsd: loads pf first", "kldload -n pf" in cmd)

check("the golden rulesets exist", len(glob.glob(os.path.join(src, "tests/golden/pf/*.conf"))) >= 7)
print(f"checks: {failed} failed")
sys.exit(1 if failed else 0)
