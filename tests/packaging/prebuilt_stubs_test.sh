#!/bin/bash
# SPDX-License-Identifier: ISC
# prebuilt_stubs_test.sh - a build without musl or cross compilers (what
# a macOS or FreeBSD build is) takes its stubs from
# -DCSHUTTLE_PREBUILT_STUBS=DIR: configured that way from this build's
# stubs, the embedded stubs are those very files, musl-gcc is not looked
# for and no musl is built, and a directory that lacks an architecture stops the
# configuration with a message naming the missing file.
#
# Usage: prebuilt_stubs_test.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"

build=${1:-}
[[ -f $build/CMakeCache.txt ]] || lab_die "usage: $0 BUILD_DIR (a configured and built tree)"
lab_need cmake cmake
T=$(mktemp -d /tmp/cs-prebuilt.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

arches=$(sed -n 's/^CSHUTTLE_STUB_ARCHES:[A-Z]*=//p' "$build/CMakeCache.txt")
[[ -n $arches ]] || lab_die "$build builds no stubs"
mkdir "$T/stubs"
for a in ${arches//;/ }; do
	cp "$build/stubs/cshuttle-stub-$a" "$T/stubs/" || lab_die "no stub $a in $build"
done

if cmake -S "$src" -B "$T/b" -DCSHUTTLE_PREBUILT_STUBS="$T/stubs" \
    "-DCSHUTTLE_STUB_ARCHES=$arches" >"$T/conf.log" 2>&1 &&
    cmake --build "$T/b" --target stubs >"$T/build.log" 2>&1; then
	lab_ok "configured and the stubs embedded"
else
	cat "$T/conf.log" "$T/build.log" 2>/dev/null | tail -20
	lab_die "the build with prebuilt stubs failed (log above)"
fi
for a in ${arches//;/ }; do
	check "the $a stub embedded is the prebuilt one" \
	    cmp "$T/stubs/cshuttle-stub-$a" "$T/b/stubs/cshuttle-stub-$a"
	check "the $a stub is in the client's table" grep -q "\"$a\"" "$T/b/stubs/stubs_data.c"
done
# find_program caches what it looked for: musl-gcc never was.
check "musl-gcc was not looked for" bash -c "! grep -q '^MUSL_GCC' '$T/b/CMakeCache.txt'"
check "no musl was built" test ! -e "$T/b/musl"

first=${arches%%;*}
rm "$T/stubs/cshuttle-stub-$first"
if cmake -S "$src" -B "$T/c" -DCSHUTTLE_PREBUILT_STUBS="$T/stubs" \
    "-DCSHUTTLE_STUB_ARCHES=$arches" >"$T/conf2.log" 2>&1; then
	lab_bad "a directory without the $first stub was accepted"
else
	# CMake wraps its messages at spaces: joined again first.
	check "the missing stub is named" bash -c "tr -s '\n ' '  ' <'$T/conf2.log' |
	    grep -qF 'no $T/stubs/cshuttle-stub-$first '"
fi
lab_finish
