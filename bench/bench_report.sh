# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2153,SC2154  # bench.sh and lab.sh set the
# settings, M (an associative array) and the lab's variables
#
# bench_report.sh - the results of bench.sh (sourced by it): medians, ratios,
# the issue's targets, written to bench/results/bench-<date>.md and shown.

# ---------------------------------------------------------------------------
# The results

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
med() { median "${M[$1,$2]:-}"; }
# rat A B METRIC: the ratio of two tools' medians
rat() { ratio "$(med "$1" "$3")" "$(med "$2" "$3")"; }
# The one sample of a once-per-tool metric.
one() { local v=${M[$1,$2]:-}; v=${v# }; echo "${v:--}"; }

# ratio_rows METRIC...: one table row per cshuttle transport and reference
# tool, the ratio of their medians for each METRIC.
ratio_rows() {
	local tool ref m row
	for tool in cshuttle cshuttle-e; do
		for ref in ssh-L sshuttle; do
			row="| $tool / $ref |"
			for m in "$@"; do
				row+=" $(rat "$tool" "$ref" "$m") |"
			done
			echo "$row"
		done
	done
}

# target WHAT VALUE OP GOAL: a line of the targets table; OP is >= or <=.
target() {
	local what=$1 v=$2 op=$3 goal=$4 verdict
	if [[ $v == - || -z $v ]]; then
		verdict="not measured"
	else
		verdict=$(awk -v v="$v" -v g="$goal" -v op="$op" 'BEGIN {
			if (op == ">=") {
				if (v >= g) print "met"
				else printf "short by %.0f %%\n", (g - v) / g * 100
			} else {
				if (v <= g) print "met"
				else printf "over by %.0f %%\n", (v - g) / g * 100
			}
		}')
	fi
	printf '| %s | %s | %s %s | %s |\n' "$what" "$v" "$op" "$goal" "$verdict"
	[[ $verdict == short* || $verdict == over* ]] && SHORT+=("$what")
}
SHORT=()

# shortfalls: for each kind of target missed in this run, what the
# profiles in docs/PERFORMANCE.md found blocking it.
shortfalls() {
	local w builtin='' ext='' conns='' other=''
	((${#SHORT[@]} > 0)) || return 0
	for w in "${SHORT[@]}"; do
		case $w in
		download:\ cshuttle\ /* | upload:\ cshuttle\ /*) builtin=1 ;;
		download:\ cshuttle-e* | upload:\ cshuttle-e*) ext=1 ;;
		new\ conn/s*) conns=1 ;;
		*) other+=" $w;" ;;
		esac
	done
	echo
	echo "### What blocks the targets missed (docs/PERFORMANCE.md)"
	echo
	[[ -n $builtin ]] && echo "- Built-in transport throughput: the client is CPU-bound, and about" \
	    "60 % of its time is libssh2 1.10 calling the cipher once per 16-byte block" \
	    "(see Cipher calls below: per-packet calls would cost less than half as much" \
	    "per byte). libssh2 >= 1.11 encrypts whole packets."
	[[ -n $ext ]] && echo "- -e ssh throughput: each byte crosses two more processes than" \
	    "with ssh -L (cshuttle <-> ssh, sshd <-> stub), four more copies on the" \
	    "same two cores; client CPU per GiB above."
	[[ -n $conns ]] && echo "- New connections: the machine is CPU-bound and a connection's cost" \
	    "is kernel TCP work (accept, connect, shutdown, close) in the tunnel's" \
	    "processes, which ssh -L does in fewer of them."
	[[ -n $other ]] && echo "- Also missed:$other see docs/PERFORMANCE.md."
	return 0
}

# many_ok TOOL: the share of the concurrent connections that succeeded
many_ok() {
	local v
	v=$(one "$1" many)
	[[ $v == */* ]] || { echo -; return; }
	awk -v ok="${v%/*}" -v n="$BENCH_MANY_CONNS" 'BEGIN { printf "%.4f", ok / n }'
}

# start, end, max, growth (end - start), growth over the second half
soak_stats() {
	printf '%s\n' "${SOAK_SAMPLES[@]}" | awk 'NF == 2 {
		v[NR] = $2; if ($2 > m) m = $2 }
	    END {
		if (NR == 0) { print "- - - - -"; exit }
		h = int((NR + 1) / 2)
		printf "%.1f %.1f %.1f %.1f %.1f\n", v[1], v[NR], m,
		    v[NR] - v[1], v[NR] - v[h]
	    }'
}

# bench_report: write the report to bench/results and show it.
bench_report() {
	local res crypt_bin soak_start soak_end soak_max soak_growth soak_growth2
	local tool m d s
	mkdir -p "$here/results"
	res=$here/results/bench-$(date -u +%Y%m%d-%H%M%S).md
	read -r soak_start soak_end soak_max soak_growth soak_growth2 <<<"$(soak_stats)"
	{
		echo "# cshuttle benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "Lab: three network namespaces on one machine ($(nproc) cores, $(uname -r)),"
		echo "sshd $(ssh -V 2>&1 | sed 's/,.*//'), nginx; cshuttle $("$CSHUTTLE_REAL" --version 2>&1 | head -n 1),"
		echo "sshuttle $(sshuttle --version 2>&1), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')."
		echo "Medians of $ROUNDS rounds, tools alternated within each round (ratios are of"
		echo "the medians). MB/s = 10^6 bytes/s, MiB = 2^20 bytes."
		echo
		echo "## Method"
		echo
		echo "- Download: 100 MiB from nginx (curl). Upload: 100 MiB to a service that"
		echo "  hashes what it reads, checked against the file, timed by the sender from"
		echo "  its first byte to the service's answer."
		echo "- CPU s/GiB: user + system clock ticks ($CLK_TCK/s, reaped children"
		echo "  included) of the tool's client-side processes during that download or"
		echo "  upload, per GiB moved: the launched process and its descendants in CLIENT"
		echo "  (cshuttle and its firewall helper, with -e its ssh; sshuttle's python,"
		echo "  its firewall process and its ssh; ssh for ssh -L)."
		echo "- New conn/s: $BENCH_CONNS HTTP requests, one per connection, 16 concurrent (ab)."
		echo "- Latency: wrk --latency, 1 thread, 4 keep-alive connections as fast as"
		echo "  they go, ${BENCH_LAT_SECS} s, small.txt: p50 and p99 in µs."
		echo "- DNS: --dns, dnsperf for ${BENCH_DNS_SECS} s against CLIENT's nameserver (captured),"
		echo "  at most 100 queries outstanding, answered by dnsmasq behind the SSH"
		echo "  server; queries per second, and queries lost (no answer within 5 s) per"
		echo "  run. ssh -L carries no DNS."
		echo "- Launch: from the exec of the tool to the first byte of an HTTP answer"
		echo "  through it, seen by a prober that polls from before the exec (a new"
		echo "  connection every ~2 ms, 10 ms per connect): for cshuttle the SSH"
		echo "  handshake, authentication, the stub's upload and the rules; for ssh -L its"
		echo "  handshake until the forwarded port answers."
		echo "- Once per tool: VmRSS of the launched process (main) and the sum over its"
		echo "  processes (all, as for CPU) with $BENCH_IDLE_CONNS connections to an echo service"
		echo "  in PRIV open and idle, each having done one round trip; ok = connections"
		echo "  that did one more round trip after that. $BENCH_MANY_CONNS conns: as many"
		echo "  connections opened at once, a round trip on each as it opens and one once"
		echo "  all are up; succeeded/failed. Stalled reader: downloads next to a"
		echo "  connection whose reader took 64 KiB of big.bin and stopped, against"
		echo "  downloads just before it (medians of 3 each)."
		echo "- Delayed path: the SSH connection through delay_relay (bench/delay_relay.c)"
		echo "  in SERVER, which holds every chunk ${BENCH_DELAY_MS} ms in each direction (round trip"
		echo "  $((2 * BENCH_DELAY_MS)) ms; the kernel has no netem). Each transfer stops after"
		echo "  ${BENCH_SLOW_SECS} s (curl --max-time, or the sender's own bound) and the rate is"
		echo "  the bytes that got through over the time taken (sshuttle does not move"
		echo "  100 MiB in that time). Latency: wrk as above, in ms."
		echo "- Soak: cshuttle only, $BENCH_IDLE_CONNS idle connections held ${BENCH_SOAK_SECS} s;"
		echo "  every 10 s the VmRSS of all its processes is summed, then 20 new connections (ab) and a"
		echo "  10 MiB download go through (one round of that before the first sample)."
		echo "  Growth = last sample - first."
		if [[ -n $MANY_SKIP ]]; then
			echo
			echo "The $BENCH_MANY_CONNS-connection test was skipped: the hard limit on open files"
			echo "is $nofile_hard, it needs $((BENCH_MANY_CONNS + 1024)) per process."
		fi
		echo
		echo "## Zero added latency"
		echo
		echo "| tool | download MB/s | upload MB/s | new conn/s | p50 µs | p99 µs | DNS q/s | DNS lost | launch s | CPU s/GiB down | CPU s/GiB up |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|"
		for tool in "${TOOLS[@]}"; do
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$tool" \
			    "$(med "$tool" down)" "$(med "$tool" up)" "$(med "$tool" conns)" \
			    "$(med "$tool" p50)" "$(med "$tool" p99)" "$(med "$tool" dns)" \
			    "$(med "$tool" dnslost)" "$(med "$tool" launch)" \
			    "$(med "$tool" cpudown)" "$(med "$tool" cpuup)"
		done
		echo
		echo "Ratios (for latency, launch and CPU lower is better):"
		echo
		echo "| ratio | download | upload | new conn/s | p50 | p99 | DNS q/s | launch | CPU down | CPU up |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		ratio_rows down up conns p50 p99 dns launch cpudown cpuup
		echo
		echo "## Connections and memory (once per tool)"
		echo
		echo "| tool | RSS main MiB, $BENCH_IDLE_CONNS idle | RSS all MiB | idle conns ok | $BENCH_MANY_CONNS conns: ok/failed | download MB/s | beside a stalled reader | ratio |"
		echo "|---|---|---|---|---|---|---|---|"
		for tool in "${TOOLS[@]}"; do
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$tool" \
			    "$(one "$tool" rssmain)" "$(one "$tool" rssall)" \
			    "$(one "$tool" idleok)" "$(one "$tool" many)" \
			    "$(one "$tool" stallref)" "$(one "$tool" stalldown)" \
			    "$(ratio "$(one "$tool" stalldown)" "$(one "$tool" stallref)")"
		done
		echo
		echo "## Delayed path (${BENCH_DELAY_MS} ms each way)"
		echo
		echo "| tool | download MB/s | upload MB/s | p50 ms | p99 ms |"
		echo "|---|---|---|---|---|"
		for tool in "${TOOLS[@]}"; do
			printf '| %s | %s | %s | %s | %s |\n' "$tool" \
			    "$(med "$tool" sdown)" "$(med "$tool" sup)" \
			    "$(med "$tool" sp50)" "$(med "$tool" sp99)"
		done
		echo
		echo "| ratio | download | upload | p50 | p99 |"
		echo "|---|---|---|---|---|"
		ratio_rows sdown sup sp50 sp99
		echo
		echo "## Soak (cshuttle)"
		echo
		if ((BENCH_SOAK_SECS > 0)); then
			echo "$BENCH_IDLE_CONNS idle connections for ${BENCH_SOAK_SECS} s: VmRSS (all processes) start $soak_start MiB,"
			echo "end $soak_end MiB, max $soak_max MiB, growth $soak_growth MiB (over the second half:"
			echo "$soak_growth2 MiB);"
			echo "${SOAK_OK:-0}/$BENCH_IDLE_CONNS connections did a round trip at the end;"
			echo "$SOAK_TRAFFIC_FAIL of the periodic transfers failed."
			echo
			line=
			for s in "${SOAK_SAMPLES[@]}"; do
				line+="${line:+, }${s% *} s: ${s#* }"
			done
			echo "VmRSS samples (MiB): $line."
		else
			echo "Skipped (BENCH_SOAK_SECS=0)."
		fi
		echo
		echo "## Targets"
		echo
		echo "| target | measured | goal | verdict |"
		echo "|---|---|---|---|"
		for m in down up; do
			d=download; [[ $m == up ]] && d=upload
			target "$d: cshuttle / ssh-L" "$(rat cshuttle ssh-L "$m")" ">=" 0.9
			target "$d: cshuttle-e / ssh-L" "$(rat cshuttle-e ssh-L "$m")" ">=" 1.0
			target "$d: cshuttle / sshuttle" "$(rat cshuttle sshuttle "$m")" ">=" 7
			target "$d: cshuttle-e / sshuttle" "$(rat cshuttle-e sshuttle "$m")" ">=" 7
		done
		for tool in cshuttle cshuttle-e; do
			target "new conn/s: $tool / sshuttle" "$(rat "$tool" sshuttle conns)" ">=" 3
			target "new conn/s: $tool / ssh-L" "$(rat "$tool" ssh-L conns)" ">=" 1.5
		done
		for tool in cshuttle cshuttle-e; do
			target "DNS q/s: $tool / sshuttle" "$(rat "$tool" sshuttle dns)" ">=" 3
		done
		for tool in cshuttle cshuttle-e; do
			target "launch to first byte, s: $tool" "$(med "$tool" launch)" "<=" 0.3
		done
		target "RSS MiB, $BENCH_IDLE_CONNS idle: cshuttle (all its processes)" "$(one cshuttle rssall)" "<=" 16
		target "RSS MiB, $BENCH_IDLE_CONNS idle: cshuttle-e main (without ssh)" "$(one cshuttle-e rssmain)" "<=" 16
		if ((BENCH_SOAK_SECS > 0)); then
			target "soak growth MiB (~0)" "$soak_growth" "<=" 1
		fi
		for m in sdown sup; do
			d="delayed download"; [[ $m == sup ]] && d="delayed upload"
			target "$d: cshuttle / ssh-L" "$(rat cshuttle ssh-L "$m")" ">=" 0.9
			target "$d: cshuttle / sshuttle" "$(rat cshuttle sshuttle "$m")" ">=" 10
		done
		for tool in cshuttle cshuttle-e; do
			target "$BENCH_MANY_CONNS concurrent: $tool, share ok" "$(many_ok "$tool")" ">=" 1
		done
		for tool in cshuttle cshuttle-e; do
			target "stalled reader: $tool, download ratio (~1)" \
			    "$(ratio "$(one "$tool" stalldown)" "$(one "$tool" stallref)")" ">=" 0.9
		done
		shortfalls
		echo
		udp_report_section
		echo
		echo "## Samples"
		echo
		for tool in "${TOOLS[@]}"; do
			echo "- $tool: down [${M[$tool,down]:-} ], up [${M[$tool,up]:-} ]," \
			    "conn/s [${M[$tool,conns]:-} ], p50 µs [${M[$tool,p50]:-} ]," \
			    "p99 µs [${M[$tool,p99]:-} ], DNS q/s [${M[$tool,dns]:-} ]," \
			    "DNS lost [${M[$tool,dnslost]:-} ], launch s [${M[$tool,launch]:-} ]," \
			    "CPU down [${M[$tool,cpudown]:-} ], CPU up [${M[$tool,cpuup]:-} ];" \
			    "delayed: down [${M[$tool,sdown]:-} ], up [${M[$tool,sup]:-} ]," \
			    "p50 ms [${M[$tool,sp50]:-} ], p99 ms [${M[$tool,sp99]:-} ]"
		done
		# Why the built-in transport trails ssh -L on a CPU-bound link: the
		# cost of libssh2 1.10's cipher calls on this machine (see
		# docs/PERFORMANCE.md).
		crypt_bin=$(dirname "$CSHUTTLE_REAL")/../bench/crypt_calls
		if [[ -x $crypt_bin ]]; then
			echo
			echo "## Cipher calls (bench/crypt_calls)"
			echo
			echo '```'
			"$crypt_bin"
			echo '```'
		fi
	} >"$res"
	cat "$res"
	lab_say "written to $res"
}
