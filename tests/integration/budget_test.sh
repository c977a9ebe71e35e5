#!/bin/bash
# SPDX-License-Identifier: ISC
#
# budget_test.sh builtin|ext - global bounds (docs/PROTOCOL.md §6): with a
# deliberately small --buffer-budget (both sides: the client asks the stub
# for it) and 200 stalled downloads plus 10 stalled uploads, a download and
# an upload still complete intact, new connections still open and carry
# data, and the RSS of cshuttle and of the stub grows by no more than the
# budget's bound plus a tolerance, measured from their RSS with no streams.
# A --max-streams below what is open resets the connections beyond it.
#
# The bound: the budget plus the 4 KiB floor per stream is what the peer
# may make a side buffer; queues grow by doubling (up to 2x), and the link
# queue adds up to 8 MiB.  Tolerance: 2 x (budget + streams x 4 KiB) +
# 8 MiB + 8 MiB of allocator slack.  Without the budget the stalled
# downloads alone could hold 200 x 4 MiB.

# shellcheck disable=SC2317  # the helpers below are called through check
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
head -c $((16 * 1024 * 1024)) "$LAB_BIG" >"$LAB_DIR/www/mid.bin" ||
	lab_die "cannot make the 16 MiB file"
mid_sha=$(sha256sum "$LAB_DIR/www/mid.bin" | cut -d' ' -f1)

# AddressSanitizer's quarantine would count as RSS (see stall_test.sh).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

budget_kb=$((4 * 1024))
ndown=200
nup=10
streams=$((ndown + nup + 16))
tol_kb=$((2 * (budget_kb + streams * 4) + 16 * 1024))

# The stub: the SERVER process that is not sshd (the largest, if several).
stub_pid() {
	local p best='' max=0 v
	for p in $(lab_server_extra_pids); do
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == sshd ]] && continue
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == ssh ]] && continue
		v=$(lab_rss "$p" VmRSS)
		[[ -n "$v" ]] && ((v >= max)) && { max=$v; best=$p; }
	done
	echo "$best"
}

start_cshuttle -r labhost --buffer-budget 4M 198.19.0.0/24 ||
	lab_die "cshuttle did not start"
check "a first connection works" lab_hello 198.19.0.2 8000
sleep 1
spid=$(stub_pid)
[[ -n $spid ]] || lab_die "no stub process found on the server"
base_c=$(lab_rss "$CSHUTTLE_PID" VmRSS)
base_s=$(lab_rss "$spid" VmRSS)
lab_say "RSS with no streams: cshuttle $base_c KiB, stub $base_s KiB; tolerance $tol_kb KiB"

lab_say "stall: $ndown downloads nobody reads, $nup uploads to a peer that never reads"
lab_cli --timeout 30 stallmany 198.19.0.2 80 /big.bin 7003 --down "$ndown" \
    --up "$nup" --ready "$LAB_DIR/stall.ready" --resume "$LAB_DIR/stall.resume" \
    --hold 300 >"$LAB_DIR/stall.out" 2>&1 &
stall_pid=$!
check "the stalled flows are up" lab_wait_for 120 test -e "$LAB_DIR/stall.ready"
lab_say "$(cat "$LAB_DIR/stall.out")"
sleep 2

download() {
	[[ "$(lab_curl http://198.19.0.2/mid.bin -m 240 | sha256sum |
	    cut -d' ' -f1)" == "$mid_sha" ]]
}
check "a 16 MiB download beside them completes intact" download
check "a 100 MiB upload beside them completes intact" \
    lab_cli --timeout 240 upload 198.19.0.2 7002 "$LAB_BIG"
check "20 new echo connections open and carry data" \
    lab_cli --timeout 60 many 198.19.0.2 7001 --count 20 --size 4096
check "a new connection gets its greeting" lab_hello 198.19.0.2 8001

hwm_c=$(lab_rss "$CSHUTTLE_PID" VmHWM)
hwm_s=$(lab_rss "$spid" VmHWM)
lab_say "peak RSS: cshuttle ${hwm_c:-?} KiB (+$((${hwm_c:-0} - base_c))), stub ${hwm_s:-?} KiB (+$((${hwm_s:-0} - base_s)))"
check "cshuttle's RSS grew by at most $tol_kb KiB" \
    test "$((${hwm_c:-999999999} - base_c))" -le "$tol_kb"
check "the stub's RSS grew by at most $tol_kb KiB" \
    test "$((${hwm_s:-999999999} - base_s))" -le "$tol_kb"

touch "$LAB_DIR/stall.resume"
wait "$stall_pid"
check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"

lab_say "--max-streams 5: a sixth connection at once is reset, the five work"
start_cshuttle -r labhost --max-streams 5 198.19.0.0/24 ||
	lab_die "cshuttle did not start"
lab_cli --timeout 30 stallmany 198.19.0.2 80 /small.txt 7003 --down 5 --up 0 \
    --ready "$LAB_DIR/five.ready" --resume "$LAB_DIR/five.resume" \
    --hold 60 >"$LAB_DIR/five.out" 2>&1 &
five_pid=$!
check "five connections are up" lab_wait_for 30 test -e "$LAB_DIR/five.ready"
sleep 1
check "a sixth is refused" lab_hello_fails 198.19.0.2 8002
check "the refusal is logged" grep -q "the maximum (--max-streams)" "$CSHUTTLE_LOG"
touch "$LAB_DIR/five.resume"
wait "$five_pid"
check "once they closed, a connection works again" \
    lab_wait_for 10 lab_hello 198.19.0.2 8002
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
