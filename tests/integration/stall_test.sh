#!/bin/bash
# SPDX-License-Identifier: ISC
#
# stall_test.sh builtin|ext - one flow whose reader stops reading (and one
# whose remote peer never reads) must not slow the other flows down, nor
# make cshuttle (or the remote stub) buffer without bound.  The stalled
# download resumes afterwards and completes intact.
#
# LAB_RSS_LIMIT_MB (default 64) bounds the peak RSS (VmHWM) of cshuttle and
# of the remote side's non-sshd processes; "normal speed" is within 3 times
# the time taken alone (+5 s) and at least LAB_MIN_MBPS (default 20) MB/s.

# shellcheck disable=SC2317  # the helpers below are called through timed/check
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

limit_kb=$((${LAB_RSS_LIMIT_MB:-64} * 1024))
# AddressSanitizer keeps freed memory in quarantine (256 MiB by default),
# which would count as RSS here: shrink it, so the check sees cshuttle's
# own buffering.  No effect on a build without sanitizers.
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
	[[ "$(lab_curl http://198.19.0.2/big.bin -m 300 | sha256sum |
	    cut -d' ' -f1)" == "$LAB_BIG_SHA" ]]
}
upload() { lab_cli --timeout 300 upload 198.19.0.2 7002 "$LAB_BIG"; }

# Is the time $2 for 100 MiB "normal": close to the baseline $1, and no
# slower than LAB_MIN_MBPS (default 20) MB/s?
normal_speed() {
	awk -v base="$1" -v t="$2" -v min="${LAB_MIN_MBPS:-20}" \
	    'BEGIN { exit !(t <= 3 * base + 5 && 104.8576 / t >= min) }'
}

# Largest VmHWM (KiB) among SERVER's processes that are not sshd.
remote_peak() {
	local p max=0 v
	for p in $(lab_server_extra_pids); do
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == sshd ]] && continue
		v=$(lab_rss "$p" VmHWM)
		[[ -n "$v" ]] && ((v > max)) && max=$v
	done
	echo "$max"
}

start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"

lab_say "baseline: 100 MiB down and up with nothing else going on"
if t_down0=$(timed download); then
	lab_ok "baseline download intact (${t_down0} s)"
else
	lab_bad "baseline download intact"
fi
if t_up0=$(timed upload); then
	lab_ok "baseline upload intact (${t_up0} s)"
else
	lab_bad "baseline upload intact"; cat "$LAB_DIR/timed.out"
fi

lab_say "stall: a download nobody reads, an upload to a peer that never reads"
ip netns exec "$LAB_NS_C" "$LAB_PY" "$LAB_SRC/labcli.py" stall 198.19.0.2 80 /big.bin \
    --ready "$LAB_DIR/stall.ready" --resume "$LAB_DIR/stall.resume" \
    --sha "$LAB_BIG_SHA" --hold 240 >"$LAB_DIR/stall.out" 2>&1 &
stall_pid=$!
ip netns exec "$LAB_NS_C" "$LAB_PY" "$LAB_SRC/labcli.py" stallup 198.19.0.2 7003 \
    --ready "$LAB_DIR/stallup.ready" --hold 240 >"$LAB_DIR/stallup.out" 2>&1 &
stallup_pid=$!
check "the stalled download started" lab_wait_for 30 test -e "$LAB_DIR/stall.ready"
check "the stalled upload filled up" lab_wait_for 60 test -e "$LAB_DIR/stallup.ready"
lab_say "$(cat "$LAB_DIR/stallup.out")"
# Let the stalled flows fill every buffer on their way.
sleep 1

if t_down1=$(timed download); then
	lab_ok "download beside the stalled flows intact (${t_down1} s)"
	check "download at normal speed (${t_down1} s vs ${t_down0} s alone)" \
	    normal_speed "$t_down0" "$t_down1"
else
	lab_bad "download beside the stalled flows intact"
fi
if t_up1=$(timed upload); then
	lab_ok "upload beside the stalled flows intact (${t_up1} s)"
	check "upload at normal speed (${t_up1} s vs ${t_up0} s alone)" \
	    normal_speed "$t_up0" "$t_up1"
else
	lab_bad "upload beside the stalled flows intact"; cat "$LAB_DIR/timed.out"
fi

hwm=$(lab_rss "$CSHUTTLE_PID" VmHWM)
check "cshuttle's peak RSS ${hwm:-?} KiB stays under $limit_kb KiB" \
    test "${hwm:-999999999}" -lt "$limit_kb"
rhwm=$(remote_peak)
check "remote side's peak RSS $rhwm KiB stays under $limit_kb KiB" \
    test "$rhwm" -lt "$limit_kb"

lab_say "resume the stalled download"
touch "$LAB_DIR/stall.resume"
wait "$stall_pid"
rc=$?
lab_say "$(tail -n 1 "$LAB_DIR/stall.out")"
check_eq "the stalled download resumes and completes intact" 0 "$rc"
kill "$stallup_pid" 2>/dev/null
wait "$stallup_pid" 2>/dev/null

check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
