#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/bench_stalled.sh [CSHUTTLE_BIN] - 10,000 stalled readers: the
# memory of cshuttle and of its stub against their buffer budgets
# (docs/PROTOCOL.md §6), side by side with sshuttle in the same run.
#
# On the lab of tests/lab/lab.sh, with a "source" service in PRIV
# (tests/lab/labsrv.py --source, port 7102: writes until the peer stops
# reading), each tool in turn (default options) carries at once:
#
#   BENCH_STALL_DOWN (10000) connections to the source whose reader never
#                    reads: what stays in flight is buffered by the client
#   BENCH_STALL_UP   (1000) connections to the lab's blackhole (7003) that
#                    are written until they take no more: buffered by the
#                    remote side
#
# Then the same with BENCH_SMALL_DOWN (800) and BENCH_SMALL_UP (100), which
# sshuttle survives (its select() takes descriptors below 1024 only).
# Once they are up and the memory has settled, it samples VmRSS of the
# tool's client processes and of the remote side's processes (those in
# SERVER that are not sshd), checks that a new connection still works, and
# prints them next to the budgets: client min(256 MiB, RAM/8), stub
# min(64 MiB, RAM/16), each exceeded by at most 4 KiB per stream.  A tool
# that does not survive, or does not carry every connection, is reported
# as such.  Writes bench/results/stalled-<date>.md.  A few minutes.
#
# Needs root, the packages of tests/lab/packages.txt, sshuttle and
# conntrack, and a hard limit on open files of BENCH_STALL_DOWN +
# BENCH_STALL_UP + 1024 (ulimit -Hn).

set -uo pipefail
export LC_ALL=C
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
CSHUTTLE_BIN=${1:-${CSHUTTLE_BIN:-$top/build/client/cshuttle}}
export CSHUTTLE_BIN
# shellcheck disable=SC2034 # read by bench_tools.sh
CSHUTTLE_REAL=$CSHUTTLE_BIN
STALL_DOWN=${BENCH_STALL_DOWN:-10000}
STALL_UP=${BENCH_STALL_UP:-1000}
SMALL_DOWN=${BENCH_SMALL_DOWN:-800}
SMALL_UP=${BENCH_SMALL_UP:-100}
SOURCE_PORT=7102
CLK_TCK=$(getconf CLK_TCK)
# shellcheck disable=SC2034 # read by tests/lab/lab.sh and bench_tools.sh
LAB_TABLE_RE='cshuttle|sshuttle'
# shellcheck disable=SC2034 # read by bench_tools.sh
BENCH_HOST=labhost
# shellcheck disable=SC2034 # read by bench_tools.sh
HOLD_PORT=7101
# shellcheck disable=SC2034 # read by bench_tools.sh
SSHL_PID=

need=$((STALL_DOWN + STALL_UP + 1024))
nofile_hard=$(ulimit -Hn)
if [[ $nofile_hard != unlimited ]] && ((nofile_hard < need)); then
	echo "bench_stalled: the hard limit on open files is $nofile_hard;" \
	    "$need are needed (ulimit -Hn $need as root first)" >&2
	exit 1
fi
ulimit -n "$nofile_hard" || exit 1

# shellcheck source=../tests/lab/lab.sh
. "$top/tests/lab/lab.sh"
lab_require_bin
for t in sshuttle conntrack; do
	command -v "$t" >/dev/null ||
	    lab_die "$t is missing: install the packages in bench/packages.txt"
done
# shellcheck source=bench_tools.sh
. "$here/bench_tools.sh"
lab_up

ip netns exec "$LAB_NS_P" "$LAB_PY" "$top/tests/lab/labsrv.py" \
    --source "198.19.0.2:$SOURCE_PORT" --ready "$LAB_DIR/source.ready" \
    </dev/null >>"$LAB_DIR/source.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_for 10 test -e "$LAB_DIR/source.ready" ||
    lab_die "the source service did not start: $(cat "$LAB_DIR/source.log")"

mem_kib=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
min() { echo $(($1 < $2 ? $1 : $2)); }
budget_c=$(min $((256 * 1024)) $((mem_kib / 8)))
budget_s=$(min $((64 * 1024)) $((mem_kib / 16)))
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# VmRSS (KiB) summed over the remote side's processes other than sshd.
remote_rss() {
	local p t=0 r
	for p in $(lab_server_extra_pids); do
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == sshd* ]] && continue
		r=$(lab_rss "$p")
		t=$((t + ${r:-0}))
	done
	echo "$t"
}

# settle ROOT: wait until the stalled flows have filled every buffer on
# their way: the client's processes use less than 5 % of a CPU over 2 s
# (at most 120 s).  Until then a new connection waits its turn behind
# thousands of streams that still move.
settle() {
	local a b i
	a=$(tool_cpu "$1")
	for ((i = 0; i < 60; i++)); do
		sleep 2
		b=$(tool_cpu "$1")
		((b - a <= CLK_TCK / 10)) && return
		a=$b
	done
}

# stall_done READY PID: the stalled connections are up, or their client
# gave up.  (Called through lab_wait_for.)
# shellcheck disable=SC2317
stall_done() { [[ -e $1 ]] || ! lab_alive "$2"; }

declare -A R
TOOLS=(cshuttle sshuttle)
RUNS=("$STALL_DOWN:$STALL_UP" "$SMALL_DOWN:$SMALL_UP")
for run in "${RUNS[@]}"; do
	ndown=${run%:*} nup=${run#*:}
	for tool in "${TOOLS[@]}"; do
		k=$tool,$run
		lab_say "$tool: $ndown stalled downloads, $nup stalled uploads"
		if ! tool_start "$tool"; then
			lab_bad "$tool did not start"
			tool_stop "$tool"
			R[$k,note]="did not start"
			continue
		fi
		root=$(tool_root "$tool")
		R[$k,base_c]=$(tool_rss_all "$root")
		R[$k,base_s]=$(remote_rss)
		ready=$LAB_DIR/stalled.$tool.ready
		resume=$LAB_DIR/stalled.$tool.resume
		t0=$EPOCHREALTIME
		in_client "$LAB_PY" "$top/tests/lab/labcli.py" --timeout 60 stallmany \
		    198.19.0.2 "$SOURCE_PORT" - 7003 --down "$ndown" --up "$nup" \
		    --limit 100000 --pace 1 --ready "$ready" --resume "$resume" --hold 900 \
		    </dev/null >"$LAB_DIR/stalled.$tool.out" 2>&1 &
		pid=$!
		lab_wait_for 600 stall_done "$ready" "$pid"
		if [[ -e $ready ]]; then
			R[$k,secs]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
			settle "$root"
			lab_ok "$tool: $ndown + $nup stalled connections up"
			R[$k,rss_c]=$(tool_rss_all "$root")
			R[$k,rss_s]=$(remote_rss)
			if lab_alive "$root" && in_client curl -s -f -o /dev/null -m 20 \
			    http://198.19.0.2/small.txt; then
				R[$k,new]=yes
			else
				R[$k,new]=no
			fi
		else
			R[$k,note]="the stalled connections did not all come up: $(tail -n 2 \
			    "$LAB_DIR/stalled.$tool.out" | tr '\n' ' ')"
			R[$k,rss_c]=$(tool_rss_all "$root")
			R[$k,rss_s]=$(remote_rss)
		fi
		lab_alive "$root" || R[$k,note]+=" (exited: $(tail -n 2 "$CSHUTTLE_LOG" | tr '\n' ' '))"
		touch "$resume"
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		lab_say "$tool: $(tail -n 1 "$LAB_DIR/stalled.$tool.out")"
		tool_stop "$tool"
	done
done

out=$top/bench/results/stalled-$(date -u +%Y%m%d-%H%M%S).md
{
	echo "# Stalled readers ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "bench/bench_stalled.sh, $(nproc) cores, $(mib "$mem_kib") MiB of memory;"
	echo "default options. Budgets: client $(mib "$budget_c") MiB, stub $(mib "$budget_s") MiB;"
	echo "each exceeded by at most 4 KiB per stream."
	echo "RSS in MiB, summed over the client's processes and over the remote"
	echo "side's processes other than sshd; \"empty\": before the connections."
	echo
	echo "| stalled down + up | tool | up in s | client RSS empty / stalled | remote RSS empty / stalled | new connection works | note |"
	echo "|---|---|---|---|---|---|---|"
	for run in "${RUNS[@]}"; do
		for tool in "${TOOLS[@]}"; do
			k=$tool,$run
			echo "| ${run%:*} + ${run#*:} | $tool | ${R[$k,secs]:--} |" \
			    "$(mib "${R[$k,base_c]:-0}") / $(mib "${R[$k,rss_c]:-0}") |" \
			    "$(mib "${R[$k,base_s]:-0}") / $(mib "${R[$k,rss_s]:-0}") |" \
			    "${R[$k,new]:--} | ${R[$k,note]:-} |"
		done
	done
} >"$out"
cat "$out"
echo "written to $out"
lab_finish
