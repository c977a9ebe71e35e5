#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/compare.sh BIN... - A/B of cshuttle builds: bulk throughput of each
# binary in turn, in one lab, round after round.
#
# bench.sh compares cshuttle with other tools; this compares cshuttle with
# itself, to see what one change buys (docs/PERFORMANCE.md).  Per round
# and per transport, each binary is started, then downloads 100 MiB three
# times (the first one in a fresh session is "cold": buffers and TCP
# windows still grow during it) and uploads it twice (hash-checked), and
# is stopped.  One line per binary and round, MB/s (10^6 bytes/s), each
# upload with the stub's CPU seconds per GiB after the colon; the
# binary is named by the directory above its own (build/client/cshuttle
# -> build).
#
# With CONNS=N (N > 0), also new connections per second: ab, N requests
# of a small file, one connection each, 16 at a time, twice ("conn/s"
# column); that needs ab (apache2-utils, bench/packages.txt).
#
# With STREAMS=N (N > 0), also N downloads at once, STREAM_MIB (8) each,
# twice: their total MB/s and, counted by perf (linux-perf) on the
# syscalls tracepoints, the system calls and the epoll_ctl calls per MiB
# of the stub and of cshuttle's processes ("streams" column: MB/s
# stub-syscalls/stub-epoll_ctl client-syscalls/client-epoll_ctl): what
# streams that wait for a busy link cost.
#
# With DELAY_MS=N (N > 0), every tunnel goes through the delayed path of
# bench.sh (delay_relay in front of sshd, N ms each way) instead: what a
# change buys where the path, not the machine, is the limit.
#
# Environment: ROUNDS (3), TRANSPORTS ("ext builtin"), NO_UPLOAD=1,
# NO_BULK=1 (no downloads or uploads), CONNS (0), STREAMS (0),
# STREAM_MIB (8), DELAY_MS (0).
# Needs root and the packages in tests/lab/packages.txt.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
(($# > 0)) || { echo "usage: $0 CSHUTTLE_BIN..." >&2; exit 2; }
BINS=("$@")
ROUNDS=${ROUNDS:-3}
TRANSPORTS=${TRANSPORTS:-ext builtin}
CSHUTTLE_BIN=$1
export CSHUTTLE_BIN
# shellcheck disable=SC2034 # read by tests/lab/lab.sh
LAB_TABLE_RE='cshuttle'
# shellcheck source=../tests/lab/lab.sh
. "$top/tests/lab/lab.sh"
lab_require_bin
CONNS=${CONNS:-0}
((CONNS == 0)) || lab_need ab apache2-utils
STREAMS=${STREAMS:-0}
STREAM_MIB=${STREAM_MIB:-8}
((STREAMS == 0)) || lab_need perf linux-perf
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
DELAY_MS=${DELAY_MS:-0}
host=labhost
if ((DELAY_MS > 0)); then
	# shellcheck source=bench_delay.sh
	. "$here/bench_delay.sh"
	bench_delay_up "$DELAY_MS" 2201 "$(dirname "$1")/../bench/delay_relay"
	host=labslow
fi

name() { basename "$(dirname "$(dirname "$1")")"; }

# The pids, comma-separated, of the processes in namespace NS whose
# command matches the extended regular expression RE.
ns_pids() {
	local p comm list=''
	for p in $(ip netns pids "$1" 2>/dev/null); do
		read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		[[ $comm =~ $2 ]] && list+=${list:+,}$p
	done
	echo "$list"
}

# CPU clock ticks (user + system) of process PID so far; 0 if it is gone.
stub_ticks() {
	local stat
	local -a f
	read -r stat 2>/dev/null <"/proc/$1/stat" || { echo 0; return; }
	read -r -a f <<<"${stat##*) }"
	echo $((f[11] + f[12]))
}

# many_streams: STREAMS downloads at once; prints "MB/s
# stub-syscalls/stub-epoll_ctl client-syscalls/client-epoll_ctl", per MiB.
many_streams() {
	local stub client t0 t1 i mib=$((STREAMS * STREAM_MIB)) ev
	ev=raw_syscalls:sys_enter,syscalls:sys_enter_epoll_ctl
	# The stub runs from a file it removed, named .cshuttle.XXXXXX.
	stub=$(ns_pids "$LAB_NS_S" '^\.cshuttle\.')
	client=$(ns_pids "$LAB_NS_C" '^cshuttle')
	[[ -n $stub && -n $client ]] || { echo failed; return; }
	perf stat -x, -e "$ev" -p "$stub" -o "$LAB_DIR/perf-stub.txt" 2>/dev/null &
	local ps=$!
	perf stat -x, -e "$ev" -p "$client" -o "$LAB_DIR/perf-client.txt" 2>/dev/null &
	local pc=$!
	sleep 0.5
	t0=$(date +%s.%N)
	local -a curls=()
	for ((i = 0; i < STREAMS; i++)); do
		in_client curl -s -o /dev/null --max-time 300 \
		    -r "0-$((STREAM_MIB * 1048576 - 1))" http://198.19.0.2/big.bin &
		curls+=($!)
	done
	wait "${curls[@]}"
	t1=$(date +%s.%N)
	kill -INT "$ps" "$pc"
	wait "$ps" "$pc" 2>/dev/null
	awk -F, -v mib="$mib" -v t0="$t0" -v t1="$t1" '
	    FNR == 1 { f++ }
	    /raw_syscalls/ { all[f] = $1 } /epoll_ctl/ { ctl[f] = $1 }
	    END { printf "%.0f %.0f/%.1f %.0f/%.1f", mib * 1.048576 / (t1 - t0),
	        all[1] / mib, ctl[1] / mib, all[2] / mib, ctl[2] / mib }' \
	    "$LAB_DIR/perf-stub.txt" "$LAB_DIR/perf-client.txt"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for tr in $TRANSPORTS; do
		for bin in "${BINS[@]}"; do
			# Redirects of closed connections linger in conntrack.
			in_client conntrack -F >/dev/null 2>&1
			if ! CSHUTTLE_BIN=$bin LAB_TRANSPORT=$tr start_cshuttle \
			    -r "$host" 198.19.0.0/24 >/dev/null 2>&1; then
				lab_bad "$(name "$bin") ($tr) did not start"
				continue
			fi
			down='' up='' conns='' streams=''
			for ((i = 0; i < (${NO_BULK:-0} ? 0 : 3); i++)); do
				down+=" $(in_client curl -s -o /dev/null -w '%{speed_download}' \
				    --max-time 120 "http://198.19.0.2/big.bin" |
				    awk '{ printf "%.0f", $1 / 1e6 }')"
			done
			for ((i = 0; i < (CONNS > 0 ? 2 : 0); i++)); do
				conns+=" $(in_client ab -q -n "$CONNS" -c 16 -s 30 \
				    http://198.19.0.2/small.txt 2>&1 |
				    awk '/^Failed requests: *[1-9]/ { bad = 1 }
				        /^Requests per second:/ { r = $4 }
				        END { print (bad || r == "") ? "failed" : int(r) }')"
			done
			if [[ -z ${NO_UPLOAD:-} && ${NO_BULK:-0} == 0 ]]; then
				stub=$(ns_pids "$LAB_NS_S" '^\.cshuttle\.')
				for i in 1 2; do
					t0=$(stub_ticks "$stub")
					up+=" $(in_client python3 "$top/tests/lab/labcli.py" --timeout 120 \
					    upload 198.19.0.2 7002 "$LAB_BIG" 2>&1 |
					    sed -n 's/.*matches.* \([0-9]*\) MB\/s).*/\1/p')"
					up+=":$(awk -v t="$(($(stub_ticks "$stub") - t0))" \
					    'BEGIN { printf "%.2f", t / 100 * 10.24 }')"
				done
			fi
			for ((i = 0; i < (STREAMS > 0 ? 2 : 0); i++)); do
				streams+=" $(many_streams)"
			done
			lab_ok "$(printf 'round %d %-8s %-12s down%s  up%s  conn/s%s  streams%s' \
			    "$r" "$tr" "$(name "$bin")" "${down:- -}" "${up:- -}" "${conns:- -}" \
			    "${streams:- -}")"
			stop_cshuttle TERM
		done
	done
done
lab_finish
