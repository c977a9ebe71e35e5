#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/profile.sh CSHUTTLE_BIN - where the CPU goes, for cshuttle
# (built-in transport), cshuttle -e ssh and ssh -L, in one lab: the whole
# machine is sampled with perf (cpu-clock, every CPU) while the tool
# downloads, then uploads, 100 MiB through the plain path (each transfer
# runs twice and is profiled the second time, a download also the first,
# in a fresh session), then while ab
# makes PROFILE_CONNS (5000) connections, 16 at a time, for a small file.
#
# Printed (and written to bench/results/profile-DATE.md unless NO_SAVE=1),
# per tool and workload: MB/s (or connections/s), the CPU seconds the
# whole machine spent per GiB moved (per 1,000 connections), idle
# excluded (the two cores are shared by both ends, the services and the
# tools), how they split by command (cshuttle, ssh, sshd, the stub,
# nginx, curl, the kernel's softirq threads...) and, for the largest, by
# shared object (libcrypto, the kernel, libssh2, libc).  Sampling:
# PROFILE_HZ (999) per CPU.
#
# Needs root, perf (linux-perf), ab (apache2-utils), the packages in
# tests/lab/packages.txt.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
(($# == 1)) || { echo "usage: $0 CSHUTTLE_BIN" >&2; exit 2; }
CSHUTTLE_BIN=$1
export CSHUTTLE_BIN
CSHUTTLE_REAL=$CSHUTTLE_BIN
PROFILE_HZ=${PROFILE_HZ:-999}
PROFILE_CONNS=${PROFILE_CONNS:-5000}
# shellcheck disable=SC2034 # read by tests/lab/lab.sh and bench_tools.sh
LAB_TABLE_RE='cshuttle'
BENCH_HOST=labhost
HOLD_PORT=7101
# shellcheck source=../tests/lab/lab.sh
. "$top/tests/lab/lab.sh"
# shellcheck source=bench_tools.sh
. "$here/bench_tools.sh"
lab_require_bin
lab_need perf linux-perf
lab_need ab apache2-utils
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

out=$LAB_DIR/profile.md
perf_data=$LAB_DIR/perf.data

# profile_report TOOL WORKLOAD RATE: the split of the samples in
# $perf_data, per GiB (a 100 MiB transfer) or per 1,000 connections.
profile_report() {
	local tool=$1 dir=$2 mbs=$3 busy secs per unit rate
	if [[ $dir == connections* ]]; then
		per=$(awk -v n="$PROFILE_CONNS" 'BEGIN { print 1000 / n }')
		unit="1,000 connections" rate="connections/s"
	else
		per=10.24 unit=GiB rate="MB/s"
	fi
	# Samples of every command but the idle task, per command.
	# The stub runs from a file it removed, named .cshuttle.XXXXXX.
	perf report -i "$perf_data" --stdio --sort comm -F overhead,sample,comm \
	    2>/dev/null | awk '!/^#/ && NF >= 3 {
		sub(/^\.cshuttle\..*/, "stub", $3); print $2, $3 }' >"$LAB_DIR/comm.txt"
	busy=$(awk '$2 != "swapper" { s += $1 } END { print s + 0 }' "$LAB_DIR/comm.txt")
	secs=$(awk -v s="$busy" -v hz="$PROFILE_HZ" 'BEGIN { printf "%.2f", s / hz }')
	{
		echo "### $tool, $dir: $mbs $rate"
		echo
		echo "Busy CPU (both cores, idle excluded): $secs s," \
		    "$(awk -v s="$secs" -v p="$per" 'BEGIN { printf "%.2f", s * p }') s per $unit."
		echo
		echo "| command | share of busy CPU | CPU s per $unit |"
		echo "|---|---|---|"
		awk -v b="$busy" -v hz="$PROFILE_HZ" -v p="$per" '$2 != "swapper" && b > 0 {
			printf "| %s | %.1f %% | %.2f |\n", $2, 100 * $1 / b, $1 / hz * p }' \
		    "$LAB_DIR/comm.txt" | sort -t'|' -k3 -rn | head -8
		echo
		echo "By command and shared object (the largest 10):"
		echo
		echo "| command | object | CPU s per $unit |"
		echo "|---|---|---|"
		perf report -i "$perf_data" --stdio --sort comm,dso -F sample,comm,dso \
		    2>/dev/null | awk -v hz="$PROFILE_HZ" -v p="$per" '
			!/^#/ && NF >= 3 && $2 != "swapper" {
				sub(/^\.cshuttle\..*/, "stub", $2)
				sub(/^\.cshuttle\..*/, "stub", $3)
				printf "| %s | %s | %.2f |\n", $2, $3, $1 / hz * p }' |
		    sort -t'|' -k4 -rn | head -10
		echo
	} >>"$out"
}

# profile_run TOOL WORKLOAD: run it twice; the second run is profiled,
# and for a download the first too (the first 100 MiB of a fresh session,
# which pays for its queues and TCP buffers growing).
profile_run() {
	local tool=$1 dir=$2 mbs i perf_pid=
	for i in 1 2; do
		if ((i == 2)) || [[ $dir == download ]]; then
			perf record -e cpu-clock -a -F "$PROFILE_HZ" -o "$perf_data" \
			    >/dev/null 2>&1 &
			perf_pid=$!
			sleep 0.3
		fi
		if [[ $dir == connections ]]; then
			mbs=$(in_client ab -q -n "$PROFILE_CONNS" -c 16 -s 30 \
			    "http://$WEB/small.txt" 2>&1 |
			    awk '/^Failed requests: *[1-9]/ { bad = 1 }
			        /^Requests per second:/ { r = $4 }
			        END { print (bad || r == "") ? "failed" : int(r) }')
		elif [[ $dir == download ]]; then
			mbs=$(in_client curl -s -o /dev/null -w '%{speed_download}' \
			    --max-time 120 "http://$WEB/big.bin" | awk '{ printf "%.0f", $1 / 1e6 }')
		else
			mbs=$(in_client "$LAB_PY" "$top/tests/lab/labcli.py" --timeout 120 \
			    upload "$DIG_HOST" "$DIG_PORT" "$LAB_BIG" 2>&1 |
			    sed -n 's/.*matches.* \([0-9]*\) MB\/s).*/\1/p')
		fi
		[[ -n $perf_pid ]] || continue
		kill -INT "$perf_pid" 2>/dev/null
		wait "$perf_pid" 2>/dev/null
		perf_pid=
		if [[ $dir == download ]]; then
			lab_ok "$tool $dir ($( ((i == 1)) && echo cold || echo warm)): ${mbs:-?}"
			profile_report "$tool" "$dir, $( ((i == 1)) && echo "cold (the first of a fresh session)" || echo warm)" "${mbs:-?}"
		else
			lab_ok "$tool $dir: ${mbs:-?}"
			profile_report "$tool" "$dir" "${mbs:-?}"
		fi
	done
}

{
	echo "# Where the CPU goes: $(date -u +%Y-%m-%d) $(uname -r), $(nproc) CPUs"
	echo
	echo "\`bench/profile.sh\`: perf cpu-clock samples of the whole machine at" \
	    "${PROFILE_HZ} Hz per CPU during the second of two 100 MiB transfers" \
	    "in a session (for downloads the first as well, \"cold\"), and during the second of two runs of ab" \
	    "making ${PROFILE_CONNS} connections, 16 at a time (plain path, no delay)."
	echo
} >"$out"
for tool in cshuttle cshuttle-e ssh-L; do
	tool_addrs "$tool"
	tool_start "$tool" || { lab_bad "$tool did not start"; continue; }
	profile_run "$tool" download
	profile_run "$tool" upload
	profile_run "$tool" connections
	tool_stop "$tool"
done
cat "$out"
if [[ -z ${NO_SAVE:-} ]]; then
	mkdir -p "$here/results"
	cp "$out" "$here/results/profile-$(date -u +%Y%m%d-%H%M%S).md"
fi
lab_finish
