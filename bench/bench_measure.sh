# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2153,SC2154  # bench.sh and lab.sh set the
# settings, M (an associative array) and the lab's variables
#
# bench_measure.sh - what bench.sh measures through a running tool (sourced by
# it): transfers, connection rate, latency, DNS, the delayed path, idle and
# concurrent connections, a stalled reader, the soak.  Each sample lands in
# M[tool,metric].

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
	if ((HOLD_OK != BENCH_MANY_CONNS)); then
		echo "    $tool: $(tr '\n' ' ' <"$HOLD_OUT")"
		# What cshuttle said meanwhile, for the why.
		[[ $tool == cshuttle* ]] && tail -n 8 "$CSHUTTLE_LOG" | sed 's/^/      /'
	fi
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
# BENCH_SOAK_SECS; every 10 s the VmRSS of all its processes is summed
# (in a root run the launched process only supervises: the traffic goes
# through the unprivileged one and the relay), then a little traffic
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
		rss=$(tool_rss_all "$CSHUTTLE_PID")
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
