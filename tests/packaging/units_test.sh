#!/bin/bash
# SPDX-License-Identifier: ISC
# units_test.sh - the systemd units as systemd itself reads them:
# `systemd-analyze verify` must accept cshuttle@.service (as an instance)
# and cshuttle.target without a single message, their Documentation= pages
# must be the project's own, the service's exposure to a compromised
# cshuttle (`systemd-analyze security`) must stay at the figure
# docs/SECURITY.md records, its system call filter must allow the drop to
# the unprivileged user (@setuid) and nothing else of @privileged, and
# the pid file and control socket must lie in the one directory it may
# write.  systemd is not running here, so this is what can be checked
# without it.
#
# Usage: units_test.sh /path/to/cshuttle
# verify needs ExecStart= to name an executable, so a copy of the units
# points at the binary under test.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
source "$src/tests/lab/lab.sh"

bin=$(realpath -e "${1:-}" 2>/dev/null)
[[ -x $bin ]] || lab_die "usage: $0 /path/to/cshuttle (built binary)"
lab_need systemd-analyze systemd man man-db

T=$(mktemp -d /tmp/cs-units.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
unit=$src/packaging/systemd/cshuttle@.service
target=$src/packaging/systemd/cshuttle.target

check_eq "the service runs /usr/sbin/cshuttle with the profile" \
	"ExecStart=/usr/sbin/cshuttle --config /etc/cshuttle/%i.conf" \
	"$(grep '^ExecStart=' "$unit")"
sed "s|^ExecStart=/usr/sbin/cshuttle |ExecStart=$bin |" "$unit" >"$T/cshuttle@.service"
cp "$target" "$T/cshuttle.target"
# The man pages the units name, found through MANPATH as once installed.
mkdir -p "$T/man"
for page in "$src"/man/*.[1-9]; do
	mkdir -p "$T/man/man${page##*.}"
	cp "$page" "$T/man/man${page##*.}/"
done

out=$(cd "$T" && MANPATH=$T/man SYSTEMD_LOG_LEVEL=info \
	systemd-analyze verify "$T/cshuttle@office.service" "$T/cshuttle.target" 2>&1)
rc=$?
check_eq "systemd-analyze verify exits 0" 0 "$rc"
check_eq "systemd-analyze verify prints nothing" "" "$out"

# The check above must be able to fail: a unit with a typo and a missing
# binary is reported.
sed -e 's/^Restart=on-failure/Restart=sometimes/' \
	-e "s|^ExecStart=$bin |ExecStart=$T/missing |" "$T/cshuttle@.service" >"$T/bad@.service"
out=$(cd "$T" && MANPATH=$T/man systemd-analyze verify "$T/bad@x.service" 2>&1)
check "verify reports a bad Restart= value" grep -q "restart specifier" <<<"$out"
check "verify reports a missing ExecStart binary" grep -q "$T/missing" <<<"$out"

# Exposure, 0 (locked down) to 10 (unprotected): docs/SECURITY.md
# records 2.4, and why root with CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID
# and the network cannot be much below; every other door is shut.
out=$(cd "$T" && systemd-analyze security --offline=true --no-pager \
	--threshold=24 "$T/cshuttle@office.service" 2>&1)
rc=$?
lab_say "$(grep 'Overall exposure' <<<"$out")"
check_eq "systemd-analyze security: exposure at most 2.4" 0 "$rc"
for d in "CapabilityBoundingSet=~CAP_SYS_ADMIN" "CapabilityBoundingSet=~CAP_(DAC_" \
	"ProtectSystem=" "NoNewPrivileges=" "PrivateTmp=" "RestrictAddressFamilies=~AF_PACKET" \
	"ProcSubset=" "PrivateMounts=" "SystemCallFilter=~@mount" "SystemCallFilter=~@module" \
	"NotifyAccess="; do
	check "security: $d is locked" grep -qF "✓ $d" <<<"$out"
done

# The system call filter as systemd builds it: the first line is an
# allow list, each later line adds to it or (~) takes from it, and a
# group (@name) stands for what `systemd-analyze syscall-filter` lists.
syscalls() {
	local w
	for w in "$@"; do
		if [[ $w == @* ]]; then
			# shellcheck disable=SC2046 # one word per system call
			syscalls $(systemd-analyze syscall-filter --no-pager "$w" |
				awk 'NR > 1 && $1 !~ /^#/ && NF { print $1 }')
		else
			printf '%s\n' "$w"
		fi
	done
}
: >"$T/allowed"
first=1
while read -r line; do
	line=${line#SystemCallFilter=}
	if [[ $line == "~"* ]]; then
		((first)) && lab_die "the first SystemCallFilter= line must be an allow list"
		# shellcheck disable=SC2086 # a list of words
		syscalls ${line#"~"} | sort -u >"$T/deny"
		sort -u "$T/allowed" | comm -23 - "$T/deny" >"$T/allowed.new"
	else
		# shellcheck disable=SC2086
		{ cat "$T/allowed"; syscalls $line; } | sort -u >"$T/allowed.new"
	fi
	mv "$T/allowed.new" "$T/allowed"
	first=0
done < <(grep '^SystemCallFilter=' "$unit")
syscalls @setuid | sort -u >"$T/setuid"
syscalls @privileged | sort -u >"$T/privileged"
check "the filter allows a few hundred system calls" \
	test "$(wc -l <"$T/allowed")" -gt 200
check_eq "it allows all of @setuid (the drop to the unprivileged user)" "" \
	"$(comm -23 "$T/setuid" "$T/allowed" | tr '\n' ' ')"
check_eq "it allows nothing else of @privileged" "" \
	"$(comm -23 "$T/privileged" "$T/setuid" | comm -12 - "$T/allowed" | tr '\n' ' ')"
for c in prctl setrlimit prlimit64 socket sendmsg recvmsg clone3 execve; do
	check "it allows $c" grep -qx "$c" "$T/allowed"
done
for c in capset chown fchownat setfsuid ptrace mount bpf; do
	check_not "it denies $c" grep -qx "$c" "$T/allowed"
done
check_eq "the bounding set: CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID" \
	"CapabilityBoundingSet=CAP_NET_ADMIN CAP_SETUID CAP_SETGID" \
	"$(grep '^CapabilityBoundingSet=' "$unit")"
check_eq "it runs as root (the main process keeps the firewall)" "" \
	"$(grep -E '^(User|DynamicUser|AmbientCapabilities)=' "$unit")"

# ProtectSystem=strict leaves writable only what the unit names; the
# control socket (/run/cshuttle/NAME.sock) and `pidfile
# /run/cshuttle/NAME.pid` need /run/cshuttle, which systemd makes for the
# service's user, root, who writes both before anything drops.
check_eq "the file system is read-only to the service" "ProtectSystem=strict" \
	"$(grep '^ProtectSystem=' "$unit")"
check_eq "/run/cshuttle is its runtime directory" "RuntimeDirectory=cshuttle" \
	"$(grep '^RuntimeDirectory=' "$unit")"
check_eq "and no other path is made writable, or hidden" "" \
	"$(grep -E '^(ReadWritePaths|ReadOnlyPaths|InaccessiblePaths|TemporaryFileSystem)=' "$unit")"
check_eq "it is kept when an instance stops (its siblings' files)" \
	"RuntimeDirectoryPreserve=yes" "$(grep '^RuntimeDirectoryPreserve=' "$unit")"
for k in MemoryMax LimitNOFILE TasksMax ProcSubset PrivateIPC; do
	check "$k= is set" grep -q "^$k=." "$unit"
done
lab_finish
