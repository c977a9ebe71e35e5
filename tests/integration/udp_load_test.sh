#!/bin/bash
# SPDX-License-Identifier: ISC
#
# udp_load_test.sh builtin|ext - a UDP flood towards a receiver that never
# reads does not slow a TCP download through the same tunnel, nor make
# cshuttle buffer without bound (docs/PROTOCOL.md section 10: datagrams are
# dropped, never waited for).  Two receivers that never read: one in PRIV
# (the flood crosses the tunnel and is dropped by PRIV's kernel), and the
# sender itself, whose datagrams an echo service in PRIV sends back (the
# flood crosses the tunnel both ways, and cshuttle cannot deliver the
# answers).  The download's time is compared with its time alone, as in
# stall_test.sh: within 3 times (+5 s), and at least LAB_FLOOD_MIN_MBPS
# (default 10) MB/s: half the floor of the tests whose tunnel carries TCP
# alone (LAB_MIN_MBPS, 20), since here the same two cores also send, echo
# and carry up to 48 MB/s of datagrams (24 MB/s each way), which in the
# sanitizer build leaves the download about 20 MB/s whatever cshuttle
# does (30 MB/s in the release build).  Meanwhile another UDP flow still
# gets its answers.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
lab_udp_up || lab_die "the UDP services did not start"
# An echo without a log, for the flood.
flood_echo=7008
lab_udp_serve "$LAB_NS_P" udpecho-flood echo $flood_echo ||
    lab_die "the flood's echo did not start"

limit_kb=$((${LAB_RSS_LIMIT_MB:-64} * 1024))
rate=${LAB_UDP_FLOOD_PPS:-20000}
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

# Prints the seconds taken by CMD (and fails when CMD fails).
timed() {
	local t0 t1 rc
	t0=$(date +%s.%N)
	"$@" >"$LAB_DIR/timed.out" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
	return $rc
}

download() {
	[[ "$(lab_curl http://198.19.0.2/big.bin -m 120 | sha256sum |
	    cut -d' ' -f1)" == "$LAB_BIG_SHA" ]]
}

normal_speed() {
	awk -v base="$1" -v t="$2" -v min="${LAB_FLOOD_MIN_MBPS:-10}" \
	    'BEGIN { exit !(t <= 3 * base + 5 && 104.8576 / t >= min) }'
}

# flood WHAT PORT: blast PORT of 198.19.0.2 with 1200-byte datagrams at
# $rate/s (the blaster never reads) while a download runs, and a UDP echo
# on another flow is asked along the way.
flood() {
	local what=$1 port=$2 pid t out d0 d1
	d0=$(lab_udp_status udpload .udp.datagrams_out)
	ip netns exec "$LAB_NS_C" "$LAB_UDP_TOOL" blast 198.19.0.2 "$port" \
	    --size 1200 --rate "$rate" --seconds 60 --no-summary \
	    </dev/null >"$LAB_DIR/flood.out" 2>&1 &
	pid=$!
	sleep 1
	if t=$(timed download); then
		lab_ok "$what: the download is intact ($t s)"
		check "$what: at normal speed ($t s vs $t0 s alone)" normal_speed "$t0" "$t"
	else
		lab_bad "$what: the download is intact"
	fi
	out=$(lab_udp_ask 198.19.0.2 "$LAB_UDP_ECHO" --tries 3)
	check "$what: another flow still gets its echo ($(tail -n 1 <<<"$out"))" \
	    eval '[[ $(lab_udp_result "$out" 198.19.0.2 $LAB_UDP_ECHO) == seen ]]'
	check "$what: the flood is still being sent" lab_alive "$pid"
	d1=$(lab_udp_status udpload .udp.datagrams_out)
	check "$what: the tunnel carried the flood ($d0 -> $d1 datagrams out)" \
	    lab_num_ge "$d1" "$d0" "$rate"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check "$what: cshuttle is still running" lab_alive "$CSHUTTLE_PID"
}

start_cshuttle --name udpload -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"

lab_say "baseline: 100 MiB down with nothing else going on"
if t0=$(timed download); then
	lab_ok "baseline download intact ($t0 s)"
else
	lab_bad "baseline download intact"
	t0=60
fi

lab_say "a flood of $rate x 1200 bytes/s to a receiver in PRIV that never reads"
flood "receiver in PRIV" "$LAB_UDP_HOLE"
lab_say "a flood of $rate x 1200 bytes/s to an echo, whose answers the sender never reads"
flood "sender that never reads" $flood_echo

hwm=$(lab_rss "$CSHUTTLE_PID" VmHWM)
check "cshuttle's peak RSS ${hwm:-?} KiB stays under $limit_kb KiB" \
    test "${hwm:-999999999}" -lt "$limit_kb"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "no ip rule or route of the capture left" lab_wait_for 3 lab_udp_fw_clean

lab_finish
