#!/bin/bash
# SPDX-License-Identifier: ISC
# units_test.sh - the systemd units as systemd itself reads them:
# `systemd-analyze verify` must accept cshuttle@.service (as an instance)
# and cshuttle.target without a single message, their Documentation= pages
# must be the project's own, and the service's exposure to a compromised
# cshuttle (`systemd-analyze security`) must stay low.  systemd is not
# running here, so this is what can be checked without it.
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

# Exposure, 0 (locked down) to 10 (unprotected): root with CAP_NET_ADMIN
# and the network cannot be below 2, but every other door is shut.
out=$(cd "$T" && systemd-analyze security --offline=true --no-pager \
	--threshold=30 "$T/cshuttle@office.service" 2>&1)
rc=$?
lab_say "$(grep 'Overall exposure' <<<"$out")"
check_eq "systemd-analyze security: exposure at most 3.0" 0 "$rc"
for d in "CapabilityBoundingSet=~CAP_SYS_ADMIN" "CapabilityBoundingSet=~CAP_(DAC_" \
	"ProtectSystem=" "NoNewPrivileges=" "PrivateTmp=" "RestrictAddressFamilies=~AF_PACKET"; do
	check "security: $d is locked" grep -qF "✓ $d" <<<"$out"
done
lab_finish
