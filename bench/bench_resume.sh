#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/bench_resume.sh [CSHUTTLE_BIN] - what a lost SSH session and a
# network change cost an open connection, side by side: cshuttle (resume
# and probes, the defaults), cshuttle-reset (--resume-grace 0
# --probe-timeout 0: the behaviour before them) and sshuttle (Debian's, the
# reference), each carrying an echo stream (a numbered line every 100 ms,
# each answer checked) through:
#   - the SSH session killed on the server (a crashed sshd, a NAT that
#     drops the connection): does the stream survive, how long does it
#     stand still, how long until a new connection works;
#   - SSH packets dropped for BENCH_BLACKHOLE_SECS (25) without any event
#     the client's kernel reports (longer than the default --alive-timeout);
#   - the client's address moved to another subnet (a new Wi-Fi network);
# and, for cshuttle with and without resume, the cost of keeping what the
# peer has not acknowledged: a 100 MiB download (ROUNDS, 3) in MB/s and the
# client's peak RSS.  Prints a table and writes it to
# bench/results/resume-<date>.md.  Needs root and the packages of
# bench/packages.txt.

set -uo pipefail
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
CSHUTTLE_BIN=${1:-${CSHUTTLE_BIN:-$top/build/client/cshuttle}}
export CSHUTTLE_BIN
CSHUTTLE_REAL=$CSHUTTLE_BIN
ROUNDS=${ROUNDS:-3}
BENCH_BLACKHOLE_SECS=${BENCH_BLACKHOLE_SECS:-25}
BIG=$((100 * 1024 * 1024))
# shellcheck disable=SC2034 # read by tests/lab/lab.sh
LAB_TABLE_RE='cshuttle|sshuttle'
# shellcheck source=../tests/lab/lab.sh
. "$top/tests/lab/lab.sh"
lab_require_bin
[[ " ${BENCH_RESUME_TOOLS:-sshuttle} " != *" sshuttle "* ]] || command -v sshuttle >/dev/null ||
    lab_die "sshuttle is missing: install bench/packages.txt"
# shellcheck source=bench_tools.sh
. "$here/bench_tools.sh"
# shellcheck disable=SC2034 # read by bench_tools.sh
BENCH_HOST=labhost
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

# The echo stream (tests/lab/lab_outage.sh), each answer logged with its
# time.  Its local end is a second address of CLIENT (on lo) that no change
# below touches, as a VM's or a container's network would be: when
# CLIENT's own address moves, the stream's connection to the tool's
# listener stays valid, and whether it carries on is the tool's doing.
export LAB_STREAM_TS=1 LAB_STREAM_WAIT=60 LAB_STREAM_SRC=198.18.9.1
in_client ip addr add 198.18.9.1/32 dev lo || lab_die "cannot add the stream's address"
dev_c=${LAB_ID}c0
dev_s=${LAB_ID}s0

now_ms() { "$LAB_PY" -c 'import time; print(int(time.monotonic() * 1000))'; }

# stream_stop EVENT_MS: "survived|reset|stalled LONGEST_GAP_MS", the gap
# from EVENT_MS on; survived: every line came back, none lost, repeated or
# out of order.
stream_stop() {
	local out
	out=$(lab_stream_stop)
	awk -v k="$1" -v out="$out" '
	    /^[0-9]/ { if (p != "" && $1 > k && $1 - p > g) g = $1 - p; p = $1 }
	    END {
		r = out ~ /^ok/ ? "survived" : out ~ /^error/ ? "reset" : "stalled"
		# A gap only means something for a stream that went on.
		if (r == "survived") printf "%s %d\n", r, g
		else printf "%s -\n", r
	    }' "$LAB_STREAM_LOG"
}
# new_conn_ms T0: ms from T0 until a new connection through the tool works
# ("exited" when the tool is gone, "none" after NEW_CONN_MAX_S, 40, s).
# shellcheck disable=SC2153 # CSHUTTLE_PID is set by lab.sh
new_conn_ms() {
	local t0=$1 end=$(($1 + ${NEW_CONN_MAX_S:-40} * 1000)) t
	while t=$(now_ms) && ((t < end)); do
		lab_alive "$CSHUTTLE_PID" || { echo exited; return; }
		# Each try waits at most until the end, and 10 s.
		if [[ "$(ip netns exec "$LAB_NS_C" timeout $(((end - t + 999) / 1000)) \
		    "$LAB_PY" "$LAB_SRC/labcli.py" --timeout 10 hello 198.19.0.2 8001 2>/dev/null)" == "priv 8001 "* ]]; then
			echo $(($(now_ms) - t0))
			return
		fi
		sleep 0.1
	done
	echo none
}

# CLIENT's address moves to another subnet (the old one removed, the new
# one on the same link, the default route through SERVER's new address):
# a new Wi-Fi network.  addr_back undoes it.
addr_move() {
	in_server ip addr add 198.18.5.2/24 dev "$dev_s" &&
	    in_client ip addr del 198.18.0.1/24 dev "$dev_c" &&
	    in_client ip addr add 198.18.5.1/24 dev "$dev_c" &&
	    in_client ip route replace default via 198.18.5.2 dev "$dev_c"
}
addr_back() {
	in_client ip addr del 198.18.5.1/24 dev "$dev_c" 2>/dev/null
	in_client ip addr add 198.18.0.1/24 dev "$dev_c" 2>/dev/null
	in_client ip route replace default via 198.18.0.2 dev "$dev_c"
	in_server ip addr del 198.18.5.2/24 dev "$dev_s" 2>/dev/null
}

declare -A R
# BENCH_RESUME_TOOLS: a subset, e.g. "cshuttle cshuttle-reset".
read -r -a TOOLS <<<"${BENCH_RESUME_TOOLS:-cshuttle cshuttle-reset sshuttle}"
tool_args() {
	case $1 in
	cshuttle) echo cshuttle ;;
	cshuttle-reset) echo cshuttle --resume-grace 0 --probe-timeout 0 ;;
	sshuttle) echo sshuttle ;;
	esac
}

# run_case KEY WHAT EVENT: the echo stream through EVENT (a function);
# R[$tool,KEY] is "STREAM GAP NEW_CONNECTION".  New connections are timed
# from T_NEW: the event's start, unless the event sets it.
run_case() {
	local t0 nc
	lab_say "$tool: $2"
	lab_stream_start 198.19.0.2 7001 || lab_bad "$tool: no echo stream"
	sleep 1
	t0=$(now_ms)
	T_NEW=$t0
	"$3"
	nc=$(new_conn_ms "$T_NEW")
	sleep 3
	R[$tool,$1]="$(stream_stop "$t0") $nc"
	lab_ok "$tool: $2: ${R[$tool,$1]}"
}
ev_kill() { lab_kill_sessions KILL; }
ev_block() {
	lab_ssh_block
	sleep "$BENCH_BLACKHOLE_SECS"
	lab_ssh_unblock
	T_NEW=$(now_ms)
}
ev_move() { addr_move || lab_bad "cannot move CLIENT's address"; }
# sshuttle ends with its ssh: start it again for the next case.
still_up() {
	lab_alive "$CSHUTTLE_PID" && return 0
	stop_cshuttle TERM 2>/dev/null
	tool_start "$@" || { lab_bad "$tool did not start again"; return 1; }
}

for tool in "${TOOLS[@]}"; do
	# shellcheck disable=SC2046  # the tool and its options, a word each
	set -- $(tool_args "$tool")
	tool_start "$@" || { lab_bad "$tool did not start"; continue; }
	run_case kill "the SSH session killed" ev_kill
	still_up "$@" || continue
	run_case block "SSH packets dropped for $BENCH_BLACKHOLE_SECS s" ev_block
	still_up "$@" || continue
	run_case move "CLIENT's address moved to another subnet" ev_move
	tool_stop "$tool" 2>/dev/null
	lab_kill_sessions KILL
	addr_back
done

for tool in cshuttle cshuttle-reset; do
	# shellcheck disable=SC2046
	set -- $(tool_args "$tool")
	lab_say "$tool: $ROUNDS downloads of 100 MiB"
	tool_start "$@" || { lab_bad "$tool did not start"; continue; }
	for ((i = 0; i < ROUNDS; i++)); do
		out=$(in_client curl -s -o /dev/null -w '%{size_download} %{time_total}' \
		    --max-time 120 http://198.19.0.2/big.bin)
		read -r bytes secs <<<"$out"
		[[ $bytes == "$BIG" ]] || { lab_bad "$tool: download incomplete"; continue; }
		R[$tool,mbps]+="$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }') "
	done
	R[$tool,rss]=$(t=0; for p in $(tool_pids "$CSHUTTLE_PID"); do
		r=$(lab_rss "$p" VmHWM); t=$((t + ${r:-0})); done; echo "$t")
	lab_ok "$tool: ${R[$tool,mbps]}MB/s, RSS ${R[$tool,rss]} KiB"
	tool_stop "$tool"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mkdir -p "$here/results"
res=$here/results/resume-$(date +%Y%m%d-%H%M%S).md
{
	echo "# Resume: a lost SSH session, side by side"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r); $("$CSHUTTLE_REAL" -V 2>/dev/null | head -n 1); sshuttle $(sshuttle --version 2>&1 | head -n 1)."
	echo "An echo stream (a line every 100 ms, each answer checked) through each tool, from an"
	echo "address of the client host that the events leave alone (a VM's or container's network)."
	echo "Stream: survived (every line came back: none lost, repeated or out of order), reset"
	echo "(the connection was closed) or stalled (no answer, still open)."
	echo "Gap: the longest time the stream stood still after the event (ms)."
	echo "New connection: ms from the event (for the blackhole: from the packets flowing again)"
	echo "until a new connection through the tool works; exited: the tool ended; none: not"
	echo "within ${NEW_CONN_MAX_S:-40} s. cshuttle-reset is cshuttle without resume or probes"
	echo "(--resume-grace 0 --probe-timeout 0: the behaviour before them). Default"
	echo "--alive-interval and --alive-timeout (15 s)."
	echo
	echo "| tool | event | stream | gap ms | new connection ms |"
	echo "|---|---|---|---|---|"
	for tool in "${TOOLS[@]}"; do
		for ev in kill block move; do
			case $ev in
			kill) what="SSH session killed" ;;
			block) what="${BENCH_BLACKHOLE_SECS} s blackhole" ;;
			move) what="address moved" ;;
			esac
			read -r st gap nc <<<"${R[$tool,$ev]:-- - -}"
			echo "| $tool | $what | $st | $gap | $nc |"
		done
	done
	echo
	echo "The cost of resume on bulk transfer (100 MiB downloads, median of $ROUNDS; peak RSS of the client's processes):"
	echo
	echo "| tool | MB/s | peak RSS KiB |"
	echo "|---|---|---|"
	for tool in cshuttle cshuttle-reset; do
		echo "| $tool | $(median <<<"${R[$tool,mbps]:-}") | ${R[$tool,rss]:-} |"
	done
} | tee "$res"
lab_finish
