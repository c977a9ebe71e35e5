#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bench/bench.sh [--only udp] [CSHUTTLE_BIN] - cshuttle side by side with
# the reference tools, in one run on one lab.
#
# Builds the integration lab (tests/lab/lab.sh: CLIENT -> SERVER (sshd) ->
# PRIV (nginx, digest service)) plus, for this benchmark, an echo service
# in PRIV that never closes idle connections (tests/lab/labsrv.py --echo,
# port 7101)
# and a delay relay in SERVER in front of sshd (delay_relay, port 2201, ssh
# alias "labslow": BENCH_DELAY_MS each way).  The tools:
#
#   cshuttle       the built-in libssh2 transport
#   cshuttle-e     cshuttle over `ssh -F <labcfg>`
#   sshuttle       Debian's sshuttle (nft method)
#   ssh-L          OpenSSH port forwarding to the same services
#
# For ROUNDS rounds every tool runs in turn, alternated within the round so
# that drift on the machine hits all alike, and is measured:
#
#   launch         exec of the tool until the first byte of an HTTP answer
#                  through it (a prober polls from before the exec)
#   download       100 MiB from nginx (curl), MB/s, and the client-side CPU
#                  time it cost the tool (s per GiB)
#   upload         100 MiB to the digest service (hash checked), the same
#   new conn/s     ab, one small request per connection, 16 concurrent
#   latency        wrk --latency, 4 keep-alive connections, p50 and p99
#   DNS            with --dns (not ssh -L): dnsperf, queries per second
#   delayed path   the same tool through labslow: download and upload
#                  (each bounded in time) and latency
#
# Once per tool: client RSS with 1,000 idle connections, 10,000 concurrent
# connections, and the download rate while another stream's reader is
# stalled.  Then, for cshuttle only, a soak: 1,000 idle connections held for
# BENCH_SOAK_SECS with a little traffic every 10 s, RSS sampled.  Then UDP
# (bench_udp.sh): datagrams through cshuttle, cshuttle -e and sshuttle's
# tproxy method at increasing offered rates, 100 and 1,200 bytes, received
# rate and loss, beside each one's TCP download.  Prints the medians, the
# ratios to ssh -L and sshuttle and the issue's targets, and writes them to
# bench/results/bench-<date>.md.  This file sets up the lab and runs the
# rounds; bench_tools.sh starts and stops the tools, bench_measure.sh
# measures, bench_udp.sh measures UDP, bench_report.sh writes the results.
#
# --only udp: the UDP section alone (bench/results/bench-udp-<date>.md).
#
# Needs root and the packages in tests/lab/packages.txt and
# bench/packages.txt, and delay_relay (built with the tree; compiled here
# when it is not found next to the binary).  Environment: ROUNDS (3),
# BENCH_CONNS (3000 requests), BENCH_DNS_SECS (10), BENCH_LAT_SECS (5),
# BENCH_DELAY_MS (10), BENCH_SLOW_SECS (30: bound of a delayed transfer),
# BENCH_IDLE_CONNS (1000), BENCH_MANY_CONNS (10000), BENCH_SOAK_SECS (600;
# 0 skips the soak), BENCH_UDP_SECS (5 per rate), BENCH_UDP_ROUNDS (1),
# BENCH_UDP_PPS, BENCH_UDP_MBPS (the offered rates; see bench_udp.sh).

set -uo pipefail
export LC_ALL=C		# decimal points in $EPOCHREALTIME and awk
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
ONLY=
if [[ ${1:-} == --only ]]; then
	case ${2:-} in
	udp) ONLY=udp ;;
	*) echo "usage: $0 [--only udp] [CSHUTTLE_BIN]" >&2; exit 2 ;;
	esac
	shift 2
fi
CSHUTTLE_BIN=${1:-${CSHUTTLE_BIN:-$top/build/client/cshuttle}}
export CSHUTTLE_BIN
CSHUTTLE_REAL=$CSHUTTLE_BIN
ROUNDS=${ROUNDS:-3}
BENCH_CONNS=${BENCH_CONNS:-3000}
BENCH_DNS_SECS=${BENCH_DNS_SECS:-10}
BENCH_LAT_SECS=${BENCH_LAT_SECS:-5}
BENCH_DELAY_MS=${BENCH_DELAY_MS:-10}
BENCH_SLOW_SECS=${BENCH_SLOW_SECS:-30}
BENCH_IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
BENCH_MANY_CONNS=${BENCH_MANY_CONNS:-10000}
BENCH_SOAK_SECS=${BENCH_SOAK_SECS:-600}
# shellcheck disable=SC2034 # read by tests/lab/lab.sh
LAB_TABLE_RE='cshuttle|sshuttle'
BIG=$((100 * 1024 * 1024))
CLK_TCK=$(getconf CLK_TCK)
HOLD_PORT=7101
SLOW_PORT=2201

# Thousands of connections need as many descriptors in every process on
# their way (the holder client, the tool, sshd's session, the stub, the
# echo service): everything started from here inherits the hard limit.
# Only root could raise the hard limit itself, and that is the machine's
# policy, not the benchmark's to change.
MANY_SKIP=
nofile_hard=$(ulimit -Hn)
if [[ $nofile_hard != unlimited ]] &&
    ((nofile_hard < BENCH_MANY_CONNS + 1024)); then
	echo "bench: the hard limit on open files is $nofile_hard; the" \
	    "$BENCH_MANY_CONNS-connection test needs $((BENCH_MANY_CONNS + 1024))" \
	    "per process (raise it, e.g. 'ulimit -Hn $((BENCH_MANY_CONNS + 1024))'" \
	    "as root before running): that test is skipped" >&2
	MANY_SKIP=1
fi
ulimit -n "$nofile_hard" || echo "bench: cannot raise the open files limit to $nofile_hard" >&2

# shellcheck source=../tests/lab/lab.sh
. "$top/tests/lab/lab.sh"
lab_require_bin
needed=(wrk ab dnsperf sshuttle conntrack curl)
[[ $ONLY == udp ]] && needed=(sshuttle conntrack curl)
for t in "${needed[@]}"; do
	command -v "$t" >/dev/null ||
	    lab_die "$t is missing: install the packages in bench/packages.txt"
done
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

declare -A M	# M[tool,metric] = space-separated samples
# The tools, the measurements and the report, in files of their own.
# shellcheck source=bench_tools.sh
. "$here/bench_tools.sh"
# shellcheck source=bench_measure.sh
. "$here/bench_measure.sh"
# shellcheck source=bench_udp.sh
. "$here/bench_udp.sh"
# shellcheck source=bench_report.sh
. "$here/bench_report.sh"
# shellcheck source=bench_delay.sh
. "$here/bench_delay.sh"
BENCH_HOST=labhost

if [[ $ONLY == udp ]]; then
	run_udp
	bench_report_udp
	lab_finish
fi
# No query logs: dnsperf sends hundreds of thousands of queries.
LAB_DNS_QUIET=1 lab_dns_up || lab_die "the lab's DNS servers did not start"
dns_queries=$LAB_DIR/dnsperf.queries
for ((i = 1; i <= LAB_DNS_QN; i++)); do
	echo "q$i.lab.internal A"
done >"$dns_queries"

# The echo service that holds idle connections, in PRIV: nginx closes idle
# keep-alive connections after a few seconds; the lab's echo service never
# does.  It takes the hard limit on descriptors, checked above.
ip netns exec "$LAB_NS_P" "$LAB_PY" "$top/tests/lab/labsrv.py" \
    --echo "198.19.0.2:$HOLD_PORT" --ready "$LAB_DIR/holdsrv.ready" \
    </dev/null >>"$LAB_DIR/holdsrv.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_for 10 test -e "$LAB_DIR/holdsrv.ready" ||
    lab_die "the hold service did not start: $(cat "$LAB_DIR/holdsrv.log")"

# The delayed path (bench_delay.sh).
bench_delay_up "$BENCH_DELAY_MS" "$SLOW_PORT" \
    "${BENCH_DELAY_RELAY:-$(dirname "$CSHUTTLE_REAL")/../bench/delay_relay}"

TOOLS=(cshuttle cshuttle-e sshuttle ssh-L)
DNS_TOOLS=(cshuttle cshuttle-e sshuttle)
SSHL_PID=
BENCH_HOST=labhost	# labslow for the delayed path

# ---------------------------------------------------------------------------
# The run

for ((r = 1; r <= ROUNDS; r++)); do
	for tool in "${TOOLS[@]}"; do
		BENCH_HOST=labhost
		lab_say "round $r/$ROUNDS: $tool"
		if tool_start_timed "$tool"; then
			[[ -n $LAUNCH ]] && add "$tool" launch "$LAUNCH"
			[[ -n $LAUNCH ]] || lab_bad "$tool: no first byte measured"
			measure "$tool"
			tool_stop "$tool"
		else
			lab_bad "$tool did not start"
			tool_stop "$tool"
		fi
		if [[ " ${DNS_TOOLS[*]} " == *" $tool "* ]]; then
			lab_say "round $r/$ROUNDS: $tool --dns"
			if tool_start "$tool" --dns; then
				measure_dns "$tool"
				tool_stop "$tool"
			else
				lab_bad "$tool --dns did not start"
				tool_stop "$tool"
			fi
		fi
		BENCH_HOST=labslow
		lab_say "round $r/$ROUNDS: $tool, delayed path (${BENCH_DELAY_MS} ms each way)"
		if tool_start "$tool"; then
			measure_slow "$tool"
			tool_stop "$tool"
		else
			lab_bad "$tool did not start on the delayed path"
			tool_stop "$tool"
		fi
	done
done

# Once per tool: these take long (10,000 connections) and vary little.
for tool in "${TOOLS[@]}"; do
	BENCH_HOST=labhost
	lab_say "$tool: stalled reader, $BENCH_IDLE_CONNS idle, $BENCH_MANY_CONNS concurrent"
	if ! tool_start "$tool"; then
		lab_bad "$tool did not start"
		tool_stop "$tool"
		continue
	fi
	measure_stall "$tool"
	measure_idle "$tool"
	measure_many "$tool"
	if [[ $tool != ssh-L ]] && ! lab_alive "$CSHUTTLE_PID"; then
		echo "    $tool exited during the connection tests: $(tail -n 3 "$CSHUTTLE_LOG" | tr '\n' ' ')"
	fi
	tool_stop "$tool"
done

run_soak
BENCH_HOST=labhost
run_udp

bench_report
lab_finish
