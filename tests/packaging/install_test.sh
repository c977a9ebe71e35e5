#!/bin/bash
# SPDX-License-Identifier: ISC
# install_test.sh - `cmake --install` of a build tree (into a DESTDIR)
# puts every file where the README and the manual say: the binary, both
# manual pages, the systemd units (ExecStart= naming the installed
# binary), the sysusers.d file (which systemd-sysusers, run on a
# throwaway copy of /etc, turns into the cshuttle user), the bash
# completion and the example profile.
#
# Usage: install_test.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"

build=${1:-}
[[ -f $build/CMakeCache.txt ]] || lab_die "usage: $0 BUILD_DIR (a configured and built tree)"
lab_need cmake cmake systemd-sysusers systemd
T=$(mktemp -d /tmp/cs-install.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache CMAKE_INSTALL_PREFIX)
unitdir=$(cache CSHUTTLE_SYSTEMD_UNITDIR)
[[ $unitdir == /* ]] || unitdir=$prefix/$unitdir
sysusersdir=$(cache CSHUTTLE_SYSUSERSDIR)
[[ $sysusersdir == /* ]] || sysusersdir=$prefix/$sysusersdir

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
check "the sysusers.d file" cmp "$src/packaging/sysusers.d/cshuttle.conf" \
	"$T$sysusersdir/cshuttle.conf"
# What systemd-sysusers makes of it, in a copy of this system's user
# database: the machine's own is not touched.
mkdir -p "$T/sysroot/etc"
for f in passwd group shadow gshadow; do
	if [[ -f /etc/$f ]]; then cp /etc/$f "$T/sysroot/etc/"; fi
done
sed -i -e '/^cshuttle:/d' "$T/sysroot/etc/"{passwd,group,shadow,gshadow} 2>/dev/null
if systemd-sysusers --root="$T/sysroot" "$T$sysusersdir/cshuttle.conf" >"$T/sysusers.log" 2>&1; then
	pw=$(grep '^cshuttle:' "$T/sysroot/etc/passwd")
	IFS=: read -r _ _ uid gid _ home shell <<<"$pw"
	check "systemd-sysusers makes a system user cshuttle (uid ${uid:-none} < 1000)" \
		test -n "$uid" -a "${uid:-1000}" -lt 1000
	check_eq "with its own group" "cshuttle:x:$gid:" \
		"$(grep "^cshuttle:" "$T/sysroot/etc/group")"
	check_eq "no home, no login shell" "/nonexistent /usr/sbin/nologin" "$home $shell"
	check "and no password" grep -q '^cshuttle:!' "$T/sysroot/etc/shadow"
else
	cat "$T/sysusers.log"
	lab_bad "systemd-sysusers --root failed (log above)"
fi
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
