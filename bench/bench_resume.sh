#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/bench_resume.sh [CSHUTTLE_BIN] - what a lost SSH session costs an
# open connection, side by side: cshuttle (resume, the default),
# cshuttle-reset (--resume-grace 0: the behaviour before resume) and
# sshuttle (Debian's, the reference), each carrying an echo stream (a
# numbered line every 100 ms, each answer checked) through:
#   - the SSH session killed on the server (a crashed sshd, a NAT that
#     drops the connection): does the stream survive, how long does it
#     stand still, how long until a new connection works;
#   - SSH packets dropped for BENCH_BLACKHOLE_SECS (7) without any event
#     the client's kernel reports (--alive-timeout 3 for cshuttle);
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
BENCH_BLACKHOLE_SECS=${BENCH_BLACKHOLE_SECS:-7}
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
BENCH_HOST=labhost
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

# The echo stream: one line "MS N" per answered round (MS: the clock when
# the answer came), "error ..." at the first failure, "ok N" at the end.
STREAM_PY='
import os, socket, sys, time
host, port, stop = sys.argv[1:4]
n = 0
try:
    s = socket.create_connection((host, int(port)), timeout=60)
    while not os.path.exists(stop):
        msg = b"%08d\n" % n
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(len(msg) - len(got))
            if not d:
                raise OSError("closed by the peer")
            got += d
        if got != msg:
            raise OSError("round %d: sent %r, got %r" % (n, msg, got))
        n += 1
        print("%d %d" % (time.monotonic() * 1000, n), flush=True)
        time.sleep(0.1)
except OSError as e:
    print("error %s" % e, flush=True)
    sys.exit(1)
print("ok %d" % n, flush=True)
'
now_ms() { "$LAB_PY" -c 'import time; print(int(time.monotonic() * 1000))'; }

# stream_start / stream_stop: the stream in CLIENT; stream_stop prints
# "survived|reset LONGEST_GAP_MS" (the gap from KILL_MS on).
stream_start() {
	rm -f "$LAB_DIR/rstream.stop"
	ip netns exec "$LAB_NS_C" "$LAB_PY" -c "$STREAM_PY" 198.19.0.2 7001 \
	    "$LAB_DIR/rstream.stop" </dev/null >"$LAB_DIR/rstream.out" 2>&1 &
	STREAM_PID=$!
	lab_wait_for 10 eval '[[ $(grep -c "^[0-9]" "$LAB_DIR/rstream.out") -ge 5 ]]'
}
stream_stop() {
	: >"$LAB_DIR/rstream.stop"
	lab_wait_for 65 eval '! lab_alive "$STREAM_PID"'
	kill "$STREAM_PID" 2>/dev/null
	wait "$STREAM_PID" 2>/dev/null
	awk -v k="$1" '
	    /^[0-9]/ { if (p != "" && $1 > k && $1 - p > g) g = $1 - p; p = $1 }
	    /^error/ { r = 1 } /^ok/ { ok = 1 }
	    END { printf "%s %d\n", (ok && !r) ? "survived" : "reset", g }' \
	    "$LAB_DIR/rstream.out"
}
# new_conn_ms T0: ms from T0 until a new connection through the tool works
# (60 s at most).
new_conn_ms() {
	local t0=$1 i
	for ((i = 0; i < 600; i++)); do
		if [[ "$(lab_hello 198.19.0.2 8001 2>/dev/null)" == "priv 8001 "* ]]; then
			echo $(($(now_ms) - t0))
			return
		fi
		sleep 0.1
	done
	echo never
}

declare -A R
# BENCH_RESUME_TOOLS: a subset, e.g. "cshuttle cshuttle-reset".
read -r -a TOOLS <<<"${BENCH_RESUME_TOOLS:-cshuttle cshuttle-reset sshuttle}"
tool_args() {
	case $1 in
	cshuttle) echo cshuttle --alive-interval 1 --alive-timeout 3 ;;
	cshuttle-reset) echo cshuttle --alive-interval 1 --alive-timeout 3 --resume-grace 0 ;;
	sshuttle) echo sshuttle ;;
	esac
}

for tool in "${TOOLS[@]}"; do
	# shellcheck disable=SC2046  # the tool and its options, a word each
	set -- $(tool_args "$tool")
	lab_say "$tool: the SSH session killed"
	tool_start "$@" || { lab_bad "$tool did not start"; continue; }
	stream_start || lab_bad "$tool: no echo stream"
	sleep 1
	t0=$(now_ms)
	lab_kill_sessions KILL
	nc=$(new_conn_ms "$t0")
	sleep 3
	R[$tool,kill]="$(stream_stop "$t0") $nc"
	lab_ok "$tool: killed session: ${R[$tool,kill]}"
	# sshuttle ends with its ssh; start it again for the next case.
	if lab_alive "$CSHUTTLE_PID"; then :; else
		stop_cshuttle TERM 2>/dev/null
		tool_start "$@" || { lab_bad "$tool did not start again"; continue; }
	fi
	lab_say "$tool: SSH packets dropped for $BENCH_BLACKHOLE_SECS s"
	stream_start || lab_bad "$tool: no echo stream"
	sleep 1
	t0=$(now_ms)
	lab_ssh_block
	sleep "$BENCH_BLACKHOLE_SECS"
	lab_ssh_unblock
	t1=$(now_ms)
	nc=$(new_conn_ms "$t1")
	sleep 3
	R[$tool,block]="$(stream_stop "$t0") $nc"
	lab_ok "$tool: blackhole: ${R[$tool,block]}"
	tool_stop "$tool" 2>/dev/null
	lab_kill_sessions KILL
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
	echo "An echo stream (a line every 100 ms, each answer checked) through each tool."
	echo "Gap: the longest time the stream stood still after the event (ms)."
	echo "New connection: ms from the session killed, or from the packets flowing again,"
	echo "until a new connection through the tool works."
	echo
	echo "| tool | session killed: stream | gap ms | new connection ms | ${BENCH_BLACKHOLE_SECS} s blackhole: stream | gap ms | new connection ms |"
	echo "|---|---|---|---|---|---|---|"
	for tool in "${TOOLS[@]}"; do
		read -r ks kg kn <<<"${R[$tool,kill]:-- - -}"
		read -r bs bg bn <<<"${R[$tool,block]:-- - -}"
		echo "| $tool | $ks | $kg | $kn | $bs | $bg | $bn |"
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
