#!/bin/bash
# SPDX-License-Identifier: ISC
# install_test.sh - `cmake --install` of a build tree (into a DESTDIR)
# puts every file where the README and the manual say: the binary, both
# manual pages, the systemd units (ExecStart= naming the installed
# binary), the bash completion and the example profile.
#
# Usage: install_test.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"

build=${1:-}
[[ -f $build/CMakeCache.txt ]] || lab_die "usage: $0 BUILD_DIR (a configured and built tree)"
lab_need cmake cmake
T=$(mktemp -d /tmp/cs-install.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache CMAKE_INSTALL_PREFIX)
unitdir=$(cache CSHUTTLE_SYSTEMD_UNITDIR)
[[ $unitdir == /* ]] || unitdir=$prefix/$unitdir

if DESTDIR=$T cmake --install "$build" >"$T/install.log" 2>&1; then
	lab_ok "cmake --install (prefix $prefix, units in $unitdir)"
else
	cat "$T/install.log"
	lab_die "cmake --install failed (log above)"
fi
r=$T$prefix
check "sbin/cshuttle is executable" test -x "$r/sbin/cshuttle"
check_eq "it runs" "cshuttle $(sed -n 's/^project(cshuttle VERSION \([0-9.]*\).*/\1/p' \
	"$src/CMakeLists.txt")" "$("$r/sbin/cshuttle" --version 2>&1)"
check "man8/cshuttle.8" cmp "$src/man/cshuttle.8" "$r/share/man/man8/cshuttle.8"
check "man5/cshuttle.conf.5" cmp "$src/man/cshuttle.conf.5" "$r/share/man/man5/cshuttle.conf.5"
check "the bash completion" cmp "$src/packaging/bash-completion/cshuttle" \
	"$r/share/bash-completion/completions/cshuttle"
check "the example profile" cmp "$src/packaging/cshuttle.conf.example" \
	"$r/share/doc/cshuttle/examples/example.conf"
check "cshuttle.target" cmp "$src/packaging/systemd/cshuttle.target" "$T$unitdir/cshuttle.target"
check_eq "cshuttle@.service runs the installed binary" \
	"ExecStart=$prefix/sbin/cshuttle --config /etc/cshuttle/%i.conf" \
	"$(grep '^ExecStart=' "$T$unitdir/cshuttle@.service")"
check_eq "and differs from the source's only there" "" \
	"$(diff <(grep -v '^ExecStart=' "$src/packaging/systemd/cshuttle@.service") \
		<(grep -v '^ExecStart=' "$T$unitdir/cshuttle@.service"))"
# A prefix chosen at install time moves ExecStart= with it.
if DESTDIR=$T/p cmake --install "$build" --prefix /opt/cs >"$T/install2.log" 2>&1; then
	[[ $unitdir == "$prefix"/* ]] && unitdir=/opt/cs/${unitdir#"$prefix"/}
	check_eq "cmake --install --prefix /opt/cs: ExecStart follows" \
		"ExecStart=/opt/cs/sbin/cshuttle --config /etc/cshuttle/%i.conf" \
		"$(grep '^ExecStart=' "$T/p$unitdir/cshuttle@.service" 2>&1)"
else
	cat "$T/install2.log"
	lab_bad "cmake --install --prefix /opt/cs failed (log above)"
fi
lab_finish
