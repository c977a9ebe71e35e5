#!/bin/bash
# SPDX-License-Identifier: ISC
#
# tests/run.sh - build and run the whole cshuttle test suite.
#
# Two builds, both with -Werror:
#   build-asan/  clang, AddressSanitizer + UndefinedBehaviorSanitizer and
#                libFuzzer: every test (unit, fuzz, integration) runs here;
#   build/       the release build (hardening flags): unit and stub tests,
#                and the unit tests again as nobody (tests/unprivileged.py).
# Needs root (network namespaces, nftables) and the packages in
# packaging/debian-build-deps.txt and tests/lab/packages.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}

echo "== release build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCSHUTTLE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"

echo "== sanitizer + fuzz build (build-asan/)"
CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCSHUTTLE_WERROR=ON \
    -DCSHUTTLE_SANITIZE=ON -DCSHUTTLE_FUZZ=ON >/dev/null
cmake --build build-asan -j"$jobs"

# Leaks are errors too; abort on the first sanitizer report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
echo "== release: unit and stub tests"
ctest --test-dir build -L 'unit' -j"$jobs" --output-on-failure || status=1
ctest --test-dir build -R '^stub\.' -j"$jobs" --output-on-failure || status=1
# A unit test needs neither root nor a service: the label again, as nobody.
echo "== release: unit tests as nobody"
python3 tests/unprivileged.py build unit nobody nogroup || status=1
echo "== sanitizers: the whole suite"
ctest --test-dir build-asan -j"$jobs" --output-on-failure || status=1
exit $status
