#!/bin/bash
#
# bench/bench.sh [CSHUTTLE_BIN] - cshuttle side by side with the reference
# tools, in one run on one lab.
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
# BENCH_SOAK_SECS with a little traffic every 10 s, RSS sampled.  Prints
# the medians, the ratios to ssh -L and sshuttle and the issue's targets,
# and writes them to bench/results/bench-<date>.md.
#
# Needs root and the packages in tests/lab/packages.txt and
# bench/packages.txt, and delay_relay (built with the tree; compiled here
# when it is not found next to the binary).  Environment: ROUNDS (3),
# BENCH_CONNS (3000 requests), BENCH_DNS_SECS (10), BENCH_LAT_SECS (5),
# BENCH_DELAY_MS (10), BENCH_SLOW_SECS (30: bound of a delayed transfer),
# BENCH_IDLE_CONNS (1000), BENCH_MANY_CONNS (10000), BENCH_SOAK_SECS (600;
# 0 skips the soak).

set -uo pipefail
export LC_ALL=C		# decimal points in $EPOCHREALTIME and awk
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
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
for t in wrk ab dnsperf sshuttle conntrack curl; do
	command -v "$t" >/dev/null ||
	    lab_die "$t is missing: install the packages in bench/packages.txt"
done
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
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

# The delayed path: delay_relay in SERVER in front of sshd, and an ssh
# alias for it.  The relay is this tree's build, or compiled here (an
# installed cshuttle has no build tree next to it).
relay_bin=${BENCH_DELAY_RELAY:-$(dirname "$CSHUTTLE_REAL")/../bench/delay_relay}
if [[ ! -x $relay_bin ]]; then
	relay_bin=$LAB_DIR/delay_relay
	cc -O2 -Wall -o "$relay_bin" "$here/delay_relay.c" ||
	    lab_die "cannot compile bench/delay_relay.c"
fi
ip netns exec "$LAB_NS_S" "$relay_bin" -d "$BENCH_DELAY_MS" \
    "198.18.0.2:$SLOW_PORT" 198.18.0.2:22 \
    </dev/null >>"$LAB_DIR/delay_relay.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_for 10 lab_listening "$LAB_NS_S" "$SLOW_PORT" ||
    lab_die "delay_relay did not start: $(cat "$LAB_DIR/delay_relay.log")"
# Appended after "Host *": that block sets neither HostName nor Port.
printf 'Host labslow\n\tHostName 198.18.0.2\n\tPort %s\n' "$SLOW_PORT" \
    >>"$LAB_SSHCFG"
echo "[198.18.0.2]:$SLOW_PORT $(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")" \
    >>"$LAB_DIR/known_hosts"

TOOLS=(cshuttle cshuttle-e sshuttle ssh-L)
DNS_TOOLS=(cshuttle cshuttle-e sshuttle)
declare -A M	# M[tool,metric] = space-separated samples
SSHL_PID=
BENCH_HOST=labhost	# labslow for the delayed path

# ---------------------------------------------------------------------------
# Starting and stopping the tools

# Where this tool reaches the services: ssh -L through its local ports,
# the others at the services' own addresses.
tool_addrs() {
	if [[ $1 == ssh-L ]]; then
		WEB_HOST=127.0.0.1 WEB_PORT=18080
		DIG_HOST=127.0.0.1 DIG_PORT=17002
		HOLD_HOST=127.0.0.1 HOLD_PORTX=17101
	else
		WEB_HOST=198.19.0.2 WEB_PORT=80
		DIG_HOST=198.19.0.2 DIG_PORT=7002
		HOLD_HOST=198.19.0.2 HOLD_PORTX=$HOLD_PORT
	fi
	WEB=$WEB_HOST:$WEB_PORT
}

# tool_exec TOOL [OPTIONS...]: start it and wait until it is up.  OPTIONS
# go to cshuttle (or sshuttle).
tool_exec() {
	local tool=$1
	shift
	case $tool in
	cshuttle)   CSHUTTLE_BIN=$CSHUTTLE_REAL LAB_TRANSPORT=builtin start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	cshuttle-e) CSHUTTLE_BIN=$CSHUTTLE_REAL LAB_TRANSPORT=ext start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	sshuttle)   CSHUTTLE_BIN=$top/tests/lab/sshuttle-shim.sh LAB_TRANSPORT=ext start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	ssh-L)
		ip netns exec "$LAB_NS_C" ssh -F "$LAB_SSHCFG" -N \
		    -o ExitOnForwardFailure=yes \
		    -L 127.0.0.1:18080:198.19.0.2:80 -L 127.0.0.1:17002:198.19.0.2:7002 \
		    -L "127.0.0.1:17101:198.19.0.2:$HOLD_PORT" \
		    "$BENCH_HOST" </dev/null >/dev/null 2>"$LAB_DIR/sshL.log" &
		SSHL_PID=$!
		lab_wait_for 30 eval 'in_client bash -c "exec 3<>/dev/tcp/127.0.0.1/18080" 2>/dev/null'
		;;
	esac
}

# tool_start TOOL [OPTIONS...]
tool_start() {
	# conntrack keeps the redirect of a closed connection through its
	# TIME_WAIT and ab reuses client ports at once: without a flush, a
	# tool would see connections steered to the port of the tool before
	# it (and refused).  Only the lab's CLIENT namespace is flushed.
	in_client conntrack -F >/dev/null 2>&1
	tool_exec "$@"
}

# tool_start_timed TOOL: tool_start, and LAUNCH set to the seconds from
# the exec of the tool to the first byte of an HTTP answer through it.
# The prober (benchnet.py firstbyte) starts first and polls every ~2 ms
# with a new connection each time; the clock starts once it polls.  So
# cshuttle's time has the SSH handshake, authentication, the stub's upload
# and the rules in it, ssh -L's its handshake and listener.
tool_start_timed() {
	local tool=$1 ready=$LAB_DIR/firstbyte.ready out=$LAB_DIR/firstbyte.out
	local pid t0 tfb rc
	LAUNCH=
	tool_addrs "$tool"
	rm -f "$ready"
	in_client conntrack -F >/dev/null 2>&1
	ip netns exec "$LAB_NS_C" "$LAB_PY" "$here/benchnet.py" firstbyte \
	    "$WEB_HOST" "$WEB_PORT" --ready "$ready" --timeout 60 \
	    </dev/null >"$out" 2>&1 &
	pid=$!
	if ! lab_wait_for 10 test -e "$ready"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "the first-byte prober did not start: $(cat "$out")" >&2
		return 1
	fi
	t0=$EPOCHREALTIME
	tool_exec "$tool"
	rc=$?
	((rc == 0)) || kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The prober's tries from before the rules existed left conntrack
	# entries without the redirect (see tool_start).
	in_client conntrack -F >/dev/null 2>&1
	((rc == 0)) || return 1
	tfb=$(awk '/^first byte at/ { print $4 }' "$out")
	if [[ -z $tfb ]]; then
		echo "no first byte: $(cat "$out")" >&2
		return 0
	fi
	LAUNCH=$(awk -v a="$t0" -v b="$tfb" 'BEGIN { printf "%.3f", b - a }')
}

tool_stop() {
	if [[ $1 == ssh-L ]]; then
		kill "$SSHL_PID" 2>/dev/null
		wait "$SSHL_PID" 2>/dev/null
		SSHL_PID=
	else
		stop_cshuttle TERM
		# The next tool must not meet this one's rules.
		assert_no_tables || lab_bad "$1 left its nft tables behind"
	fi
}

# shellcheck disable=SC2153 # CSHUTTLE_PID is set by lab.sh
tool_root() { if [[ $1 == ssh-L ]]; then echo "$SSHL_PID"; else echo "$CSHUTTLE_PID"; fi; }

# ---------------------------------------------------------------------------
# Per-process accounting: CPU time and RSS of a tool's client side.

# tool_pids ROOT: ROOT and its descendants in CLIENT: cshuttle, its
# firewall helper and (-e) its ssh; sshuttle's python, its firewall
# process and its ssh; ssh for ssh -L.  Left out: the sshuttle shim's
# stderr reader (a subshell of the shim script, and what it runs), which is
# not part of sshuttle.
tool_pids() {
	local root=$1 p c stat rest comm i=0
	local -a queue f
	local -A kids=()
	for p in $(ip netns pids "$LAB_NS_C" 2>/dev/null); do
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		rest=${stat##*) }
		read -r -a f <<<"$rest"
		kids[${f[1]}]+=" $p"
	done
	queue=("$root")
	while ((i < ${#queue[@]})); do
		p=${queue[i]}
		i=$((i + 1))
		read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		[[ $p != "$root" && ($comm == bash || $comm == sshuttle-shim*) ]] &&
		    continue
		echo "$p"
		for c in ${kids[$p]:-}; do
			queue+=("$c")
		done
	done
}

# CPU clock ticks (user + system, with reaped children) of the processes.
tool_cpu() {
	local p stat t=0
	local -a f
	for p in $(tool_pids "$1"); do
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		# From field 3 (state) on: utime is field 14, cstime 17.
		read -r -a f <<<"${stat##*) }"
		t=$((t + f[11] + f[12] + f[13] + f[14]))
	done
	echo "$t"
}

# VmRSS in KiB: of ROOT, and the sum over its processes.
tool_rss_main() { lab_rss "$1"; }
tool_rss_all() {
	local p r t=0
	for p in $(tool_pids "$1"); do
		r=$(lab_rss "$p")
		t=$((t + ${r:-0}))
	done
	echo "$t"
}

# ---------------------------------------------------------------------------
# Measurements

# add TOOL METRIC VALUE: record one sample (each one is a passed check).
add() {
	M[$1,$2]="${M[$1,$2]:-} $3"
	lab_ok "$1 $2 $3"
}

mbps()    { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / s / 1e6; else print "-" }'; }
# s/GiB from a tick count and a byte count
cpu_gib() { awk -v t="$1" -v hz="$CLK_TCK" -v b="$2" 'BEGIN { printf "%.2f", t / hz / (b / 1073741824) }'; }
kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# http_get URL MAXSECS: "BYTES SECS" as curl counted them (also when
# MAXSECS cut the transfer short).
http_get() {
	in_client curl -s -o /dev/null -w '%{size_download} %{time_total}' \
	    --max-time "$2" "$1"
}

# upload [MAXSECS]: "BYTES SECS match|mismatch", timed by the client from
# its first byte to the service's answer (so without the start-up of the
# client), or an error message.
upload() {
	in_client "$LAB_PY" "$here/benchnet.py" upload "$DIG_HOST" "$DIG_PORT" \
	    "$LAB_BIG" --max-secs "${1:-0}" 2>&1
}

# wrk_pct PERCENT: the latency at PERCENT in wrk's output, in µs.
wrk_pct() {
	awk -v p="$1%" '$1 == p {
		v = $2; m = 1
		if (v ~ /us$/) m = 1
		else if (v ~ /ms$/) m = 1000
		else if (v ~ /s$/) m = 1000000
		sub(/[a-z]+$/, "", v)
		printf "%.0f\n", v * m
	}'
}

# measure_latency TOOL P50 P99 DIVISOR DECIMALS: wrk on keep-alive
# connections; ab -k reports whole milliseconds, which here is 0.
measure_latency() {
	local tool=$1 out p50 p99
	out=$(in_client wrk --latency -t1 -c4 -d"${BENCH_LAT_SECS}s" \
	    --timeout 10s "http://$WEB/small.txt" 2>&1)
	p50=$(wrk_pct 50 <<<"$out")
	p99=$(wrk_pct 99 <<<"$out")
	if [[ -z $p50 || -z $p99 ]] || grep -qE 'Socket errors|Non-2xx' <<<"$out"; then
		lab_bad "$tool: wrk (latency) failed: $(grep -E 'Socket errors|Non-2xx|requests in|unable' <<<"$out" | tr '\n' ' ')"
		return
	fi
	add "$tool" "$2" "$(awk -v v="$p50" -v d="$4" -v n="$5" 'BEGIN { printf "%.*f", n, v / d }')"
	add "$tool" "$3" "$(awk -v v="$p99" -v d="$4" -v n="$5" 'BEGIN { printf "%.*f", n, v / d }')"
}

# The zero-latency path: throughput and its CPU cost, new connections,
# latency.
measure() {
	local tool=$1 root out bytes secs verdict c0 c1 ab
	tool_addrs "$tool"
	root=$(tool_root "$tool")
	# Download, MB/s (10^6 bytes).  CPU: the tool's client processes'
	# clock ticks before and after, so curl's own are not in it.
	c0=$(tool_cpu "$root")
	out=$(http_get "http://$WEB/big.bin" 120)
	c1=$(tool_cpu "$root")
	read -r bytes secs <<<"$out"
	if [[ ${bytes:-} == "$BIG" ]]; then
		add "$tool" down "$(mbps "$bytes" "$secs")"
		add "$tool" cpudown "$(cpu_gib $((c1 - c0)) "$bytes")"
	else
		lab_bad "$tool: download incomplete ($out)"
	fi
	# Upload to the digest service, which checks the hash.
	c0=$(tool_cpu "$root")
	out=$(upload)
	c1=$(tool_cpu "$root")
	read -r bytes secs verdict <<<"$out"
	if [[ ${verdict:-} == match && $bytes == "$BIG" ]]; then
		add "$tool" up "$(mbps "$bytes" "$secs")"
		add "$tool" cpuup "$(cpu_gib $((c1 - c0)) "$bytes")"
	else
		lab_bad "$tool: upload failed: $out"
	fi
	# New connections per second.
	ab=$(in_client ab -q -n "$BENCH_CONNS" -c 16 -s 30 "http://$WEB/small.txt" 2>&1)
	if [[ $ab =~ Failed\ requests:\ +0 && $ab =~ Requests\ per\ second:\ +([0-9.]+) ]]; then
		add "$tool" conns "${BASH_REMATCH[1]}"
	else
		lab_bad "$tool: ab (new connections) failed: $(grep -E 'Failed|Non-2xx|apr_|Complete' <<<"$ab" | tr '\n' ' ')"
	fi
	measure_latency "$tool" p50 p99 1 0
}

# DNS through the tunnel: queries per second and queries lost.
measure_dns() {
	local tool=$1 out sent ndone lost qps codes
	out=$(in_client dnsperf -s 127.0.0.53 -d "$dns_queries" \
	    -l "$BENCH_DNS_SECS" -q 100 -t 5 2>&1)
	sent=$(awk '/Queries sent:/ {print $3}' <<<"$out")
	ndone=$(awk '/Queries completed:/ {print $3}' <<<"$out")
	lost=$(awk '/Queries lost:/ {print $3}' <<<"$out")
	qps=$(awk '/Queries per second:/ {print $4}' <<<"$out")
	codes=$(sed -n 's/^ *Response codes: *//p' <<<"$out")
	if [[ -z $qps || -z $ndone || $ndone == 0 ]]; then
		lab_bad "$tool: dnsperf failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
	elif [[ $codes != "NOERROR $ndone "* ]]; then
		# e.g. REFUSED: the local resolver answered, not the remote one
		lab_bad "$tool: DNS answers not all NOERROR (sent $sent, completed $ndone: $codes)"
	else
		add "$tool" dns "$(awk -v q="$qps" 'BEGIN { printf "%.0f", q }')"
		add "$tool" dnslost "$lost"
	fi
}

# The delayed path (the tool started with -r labslow): throughput and
# latency.  sshuttle moves 1-2 MB/s over 20 ms, so each transfer stops
# after BENCH_SLOW_SECS and the rate is the bytes that got through in
# the time taken.
measure_slow() {
	local tool=$1 out bytes secs verdict
	tool_addrs "$tool"
	out=$(http_get "http://$WEB/big.bin" "$BENCH_SLOW_SECS")
	read -r bytes secs <<<"$out"
	if [[ ${bytes:-0} -gt 0 ]]; then
		add "$tool" sdown "$(mbps "$bytes" "$secs")"
	else
		lab_bad "$tool: delayed download got nothing ($out)"
	fi
	out=$(upload "$BENCH_SLOW_SECS")
	read -r bytes secs verdict <<<"$out"
	if [[ ${verdict:-} == match && ${bytes:-0} -gt 0 ]]; then
		add "$tool" sup "$(mbps "$bytes" "$secs")"
	else
		lab_bad "$tool: delayed upload failed: $out"
	fi
	measure_latency "$tool" sp50 sp99 1000 2
}

# hold_start COUNT [RELEASE]: the holder client in CLIENT (benchnet.py
# hold), in the background; HOLD_PID, HOLD_OUT, HOLD_READY.
HOLD_N=0
HOLD_OK=
hold_start() {
	HOLD_N=$((HOLD_N + 1))
	HOLD_OUT=$LAB_DIR/hold.$HOLD_N.out
	HOLD_READY=$LAB_DIR/hold.$HOLD_N.ready
	local relopt=()
	[[ -n ${2:-} ]] && relopt=(--release "$2")
	ip netns exec "$LAB_NS_C" "$LAB_PY" "$here/benchnet.py" hold \
	    "$HOLD_HOST" "$HOLD_PORTX" --count "$1" --ready "$HOLD_READY" \
	    "${relopt[@]}" --timeout 60 </dev/null >"$HOLD_OUT" 2>&1 &
	HOLD_PID=$!
}

# hold_wait: wait for the holder to exit; HOLD_OK is its "ok N of M"
# count N.  (Not for $(...): a subshell cannot wait for its parent's
# children.)
hold_wait() {
	wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
	HOLD_OK=$(awk '$1 == "ok" { print $2 }' "$HOLD_OUT")
	HOLD_OK=${HOLD_OK:-0}
}

# Client memory with BENCH_IDLE_CONNS connections open and idle, each
# having done one round trip (so the remote side of each exists).
measure_idle() {
	local tool=$1 rel=$LAB_DIR/idle.release root up
	tool_addrs "$tool"
	root=$(tool_root "$tool")
	rm -f "$rel"
	hold_start "$BENCH_IDLE_CONNS" "$rel"
	if ! lab_wait_for 120 test -e "$HOLD_READY"; then
		: >"$rel"
		hold_wait
		lab_bad "$tool: the $BENCH_IDLE_CONNS idle connections did not come up: $(tr '\n' ' ' <"$HOLD_OUT")"
		return
	fi
	up=$(awk '{ print $2 }' "$HOLD_READY")
	# Let whatever the round trips allocated settle.
	sleep 2
	add "$tool" rssmain "$(kib_mib "$(tool_rss_main "$root")")"
	add "$tool" rssall "$(kib_mib "$(tool_rss_all "$root")")"
	: >"$rel"
	hold_wait
	add "$tool" idleok "$HOLD_OK/$BENCH_IDLE_CONNS"
	[[ $up == "$BENCH_IDLE_CONNS" ]] ||
	    echo "    $tool: only $up of $BENCH_IDLE_CONNS idle connections came up: $(tr '\n' ' ' <"$HOLD_OUT")"
}

# BENCH_MANY_CONNS connections open at once, each with a round trip when
# it opens and one more once all are up: "succeeded/failed".
measure_many() {
	local tool=$1
	if [[ -n $MANY_SKIP ]]; then
		M[$tool,many]=" skipped"
		return
	fi
	tool_addrs "$tool"
	hold_start "$BENCH_MANY_CONNS"
	hold_wait
	add "$tool" many "$HOLD_OK/$((BENCH_MANY_CONNS - HOLD_OK))"
	((HOLD_OK == BENCH_MANY_CONNS)) ||
	    echo "    $tool: $(tr '\n' ' ' <"$HOLD_OUT")"
}

# downloads N: the median MB/s of N complete downloads of big.bin; fails
# (saying so on stderr) when one was incomplete.
downloads() {
	local i out bytes secs all=
	for ((i = 0; i < $1; i++)); do
		out=$(http_get "http://$WEB/big.bin" 120)
		read -r bytes secs <<<"$out"
		if [[ ${bytes:-} != "$BIG" ]]; then
			echo "    incomplete download: $out" >&2
			return 1
		fi
		all+=" $(mbps "$bytes" "$secs")"
	done
	median "$all"
}

# Downloads while another connection through the same tunnel has a reader
# that stopped reading (labcli.py stall: reads 64 KiB of big.bin, then
# sleeps), next to downloads just before it (medians of 3 each: a single
# 100 MiB download varies by 10 % or more here): a stalled stream must not
# hold up the others.
measure_stall() {
	local tool=$1 ready=$LAB_DIR/stall.ready pid ref stalled
	tool_addrs "$tool"
	if ! ref=$(downloads 3); then
		lab_bad "$tool: download before the stall incomplete"
		return
	fi
	rm -f "$ready"
	ip netns exec "$LAB_NS_C" "$LAB_PY" "$top/tests/lab/labcli.py" \
	    --timeout 30 stall "$WEB_HOST" "$WEB_PORT" /big.bin \
	    --ready "$ready" --hold 600 </dev/null >"$LAB_DIR/stall.out" 2>&1 &
	pid=$!
	if ! lab_wait_for 30 test -e "$ready"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		lab_bad "$tool: the stalled reader did not start: $(cat "$LAB_DIR/stall.out")"
		return
	fi
	# Time for every buffer on the stalled stream's way to fill.
	sleep 1
	stalled=$(downloads 3) || stalled=
	if ! lab_alive "$pid"; then
		lab_bad "$tool: the stalled reader ended early: $(cat "$LAB_DIR/stall.out")"
	elif [[ -n $stalled ]]; then
		add "$tool" stallref "$ref"
		add "$tool" stalldown "$stalled"
	else
		lab_bad "$tool: download beside a stalled reader incomplete"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# The soak: cshuttle holds BENCH_IDLE_CONNS idle connections for
# BENCH_SOAK_SECS; every 10 s its VmRSS is sampled, then a little traffic
# goes through (20 new connections with ab, a 10 MiB download), so that
# anything a connection leaves behind adds up.  One round of that traffic
# comes before the first sample: the buffers a first transfer allocates
# are not growth.
SOAK_SAMPLES=()
SOAK_TRAFFIC_FAIL=0
SOAK_OK=
soak_traffic() {
	local ab out
	ab=$(in_client ab -q -n 20 -c 4 -s 30 "http://$WEB/small.txt" 2>&1)
	[[ $ab =~ Failed\ requests:\ +0 ]] || SOAK_TRAFFIC_FAIL=$((SOAK_TRAFFIC_FAIL + 1))
	out=$(in_client curl -s -o /dev/null -w '%{size_download}' \
	    --max-time 30 -r 0-10485759 "http://$WEB/big.bin")
	[[ $out == 10485760 ]] || SOAK_TRAFFIC_FAIL=$((SOAK_TRAFFIC_FAIL + 1))
}

run_soak() {
	local rel=$LAB_DIR/soak.release t0 k now wait_s rss
	((BENCH_SOAK_SECS > 0)) || return 0
	BENCH_HOST=labhost
	lab_say "soak: cshuttle, $BENCH_IDLE_CONNS idle connections, $BENCH_SOAK_SECS s"
	if ! tool_start cshuttle; then
		lab_bad "cshuttle did not start for the soak"
		tool_stop cshuttle
		return
	fi
	tool_addrs cshuttle
	rm -f "$rel"
	hold_start "$BENCH_IDLE_CONNS" "$rel"
	if ! lab_wait_for 120 test -e "$HOLD_READY"; then
		: >"$rel"
		hold_wait
		lab_bad "soak: the idle connections did not come up"
		tool_stop cshuttle
		return
	fi
	soak_traffic
	t0=$EPOCHREALTIME
	for ((k = 0; k * 10 <= BENCH_SOAK_SECS; k++)); do
		now=$EPOCHREALTIME
		wait_s=$(awk -v t0="$t0" -v n="$now" -v k="$k" \
		    'BEGIN { w = t0 + 10 * k - n; printf "%.3f", (w > 0 ? w : 0) }')
		sleep "$wait_s"
		rss=$(tool_rss_main "$CSHUTTLE_PID")
		SOAK_SAMPLES+=("$((k * 10)) $(kib_mib "${rss:-0}")")
		((k * 10 + 10 <= BENCH_SOAK_SECS)) || break
		soak_traffic
	done
	: >"$rel"
	hold_wait
	SOAK_OK=$HOLD_OK
	tool_stop cshuttle
	lab_ok "soak: ${#SOAK_SAMPLES[@]} samples, ${SOAK_OK:-0}/$BENCH_IDLE_CONNS connections alive at the end, $SOAK_TRAFFIC_FAIL traffic failures"
}

median() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 }
	    END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
	    else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

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
	echo "  every 10 s its VmRSS is sampled, then 20 new connections (ab) and a"
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
		echo "$BENCH_IDLE_CONNS idle connections for ${BENCH_SOAK_SECS} s: VmRSS start $soak_start MiB,"
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
lab_finish
