#!/bin/bash
# SPDX-License-Identifier: ISC
# portable_test.sh - the build a macOS or FreeBSD machine makes today
# (CSHUTTLE_PORTABLE_ONLY: the event loop, the protocol, the pf side and
# their unit tests, without libssh2, libnftnl, libmnl or c-ares), made
# here from a copy of the configuration's choices: it configures, builds
# with warnings as errors, and its unit tests pass, the event loop's on
# epoll and poll alike.
#
# Usage: portable_test.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"
lab_need cmake cmake
T=$(mktemp -d /tmp/cs-portable.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

if cmake -S "$src" -B "$T/b" -DCSHUTTLE_PORTABLE_ONLY=ON -DCSHUTTLE_WERROR=ON \
    >"$T/conf.log" 2>&1 && cmake --build "$T/b" -j2 >"$T/build.log" 2>&1; then
	lab_ok "the portable subset configures and builds"
else
	tail -30 "$T/conf.log" "$T/build.log" 2>/dev/null
	lab_die "the portable subset does not build (log above)"
fi
check "it needs none of the Linux-only libraries" \
    bash -c "! grep -qE '^(NFTNL|MNL|LIBSSH2|CARES)_FOUND' '$T/b/CMakeCache.txt'"
check "no client, no stub" bash -c "[ ! -e '$T/b/client' ] && [ ! -e '$T/b/server-stub' ]"
if (cd "$T/b" && ctest -j2 >"$T/test.log" 2>&1); then
	lab_ok "its unit tests pass: $(grep -o '[0-9]*% tests passed.*' "$T/test.log" | head -1)"
else
	tail -30 "$T/test.log"
	lab_bad "its unit tests failed (log above)"
fi
check "the event loop's tests ran on poll too" grep -q "unit.test_ev.poll" "$T/test.log"
check "the pf tests ran" grep -q "unit.test_fw_pfrules" "$T/test.log"
lab_finish
