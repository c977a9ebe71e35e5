# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2153,SC2154  # bench.sh and lab.sh set the
# settings, M and U (associative arrays) and the lab's variables
#
# bench_udp.sh - the UDP section of bench.sh (sourced by it; `bench.sh --only
# udp` runs it alone): numbered datagrams from CLIENT to a sink in PRIV
# (tests/integration/udp_tool.c blast and sink) through each tool, at
# increasing offered rates, 100-byte and 1,200-byte payloads; received
# datagrams per second, Mbit/s and loss; beside each tool's TCP download in
# the same run.  The tools: cshuttle (built-in transport), cshuttle-e
# (-e ssh), sshuttle-tproxy (Debian's sshuttle with --method tproxy, the
# only method of sshuttle that carries UDP) and direct (SERVER to PRIV
# without a tunnel: what the lab itself moves with the same tools).

BENCH_UDP_SECS=${BENCH_UDP_SECS:-5}
BENCH_UDP_ROUNDS=${BENCH_UDP_ROUNDS:-1}
# Offered rates: datagrams/s for 100 bytes (0: as fast as the sender
# goes), Mbit/s for 1,200 bytes.
BENCH_UDP_PPS=${BENCH_UDP_PPS:-10000 25000 50000 100000 0}
BENCH_UDP_MBPS=${BENCH_UDP_MBPS:-25 50 100 200 400}
UDP_TOOLS=(cshuttle cshuttle-e sshuttle-tproxy direct)
# sshuttle's tproxy method needs policy routing it does not add itself
# (sshuttle 1.1.1, docs/tproxy.rst): a rule for its mark (--tmark, 0x01)
# and a local route in a table of its own, set in CLIENT for the run.
SSHUTTLE_TPROXY_TABLE=100
SSHUTTLE_TPROXY_WHY=
declare -A U	# U[tool,case] = "offered received loss%" samples, ";"-separated

# udp_blast NS SIZE RATE: one run through the sink in PRIV; prints
# "OFFERED_PPS RECEIVED_PPS LOSS_PERCENT RECEIVED_MBITS" or nothing.
udp_blast() {
	local out b s
	out=$(ip netns exec "$1" "$LAB_UDP_TOOL" blast 198.19.0.2 "$LAB_UDP_SINK" \
	    --size "$2" --rate "$3" --seconds "$BENCH_UDP_SECS" 2>&1)
	b=$(grep '^blast:' <<<"$out")
	s=$(grep '^sink: run' <<<"$out")
	if [[ -z $b || -z $s ]]; then
		echo "    udp_tool blast: $(tr '\n' ' ' <<<"$out")" >&2
		return 1
	fi
	awk -v b="$b" -v s="$s" 'BEGIN {
		match(b, /: [0-9]+ pps/); op = substr(b, RSTART + 2, RLENGTH - 6)
		match(s, /, [0-9.]+ %\)/); loss = substr(s, RSTART + 2, RLENGTH - 5)
		match(s, /: [0-9]+ pps/); rp = substr(s, RSTART + 2, RLENGTH - 6)
		match(s, /pps, [0-9.]+ Mbit/); mb = substr(s, RSTART + 5, RLENGTH - 10)
		print op, rp, loss, mb
	}'
}

# udp_add TOOL CASE SAMPLE
udp_add() {
	U[$1,$2]="${U[$1,$2]:+${U[$1,$2]};}$3"
	lab_ok "$1 udp $2: $3"
}

# measure_udp TOOL NS: the ladders, from NS (CLIENT through the tool,
# SERVER for direct), and a TCP download beside them.
measure_udp() {
	local tool=$1 ns=$2 r m pps res out bytes secs
	if [[ $tool == direct ]]; then
		out=$(in_server curl -s -o /dev/null -w '%{size_download} %{time_total}' \
		    --max-time 120 http://198.19.0.2/big.bin)
	else
		out=$(http_get http://198.19.0.2/big.bin 120)
	fi
	read -r bytes secs <<<"$out"
	if [[ ${bytes:-} == "$BIG" ]]; then
		udp_add "$tool" tcp "$(mbps "$bytes" "$secs")"
	else
		lab_bad "$tool: TCP download incomplete ($out)"
	fi
	for r in $BENCH_UDP_PPS; do
		if res=$(udp_blast "$ns" 100 "$r"); then
			udp_add "$tool" "p$r" "$res"
		else
			lab_bad "$tool: 100-byte datagrams at ${r}/s: no summary"
		fi
	done
	for m in $BENCH_UDP_MBPS; do
		pps=$((m * 1000000 / 8 / 1200))
		if res=$(udp_blast "$ns" 1200 "$pps"); then
			udp_add "$tool" "m$m" "$res"
		else
			lab_bad "$tool: 1200-byte datagrams at $m Mbit/s: no summary"
		fi
	done
}

sshuttle_tproxy_routing() {
	local op=$1 fam
	for fam in 4 6; do
		in_client ip -"$fam" rule "$op" fwmark 0x1 lookup "$SSHUTTLE_TPROXY_TABLE" ||
		    return 1
		in_client ip -"$fam" route "$op" local default dev lo \
		    table "$SSHUTTLE_TPROXY_TABLE" || return 1
	done
}

# Start TOOL for the UDP section; true when it carries traffic.
udp_tool_start() {
	local tool=$1 o
	case $tool in
	direct) return 0 ;;
	sshuttle-tproxy)
		sshuttle_tproxy_routing add || {
			SSHUTTLE_TPROXY_WHY="cannot add the policy routing in CLIENT"
			return 1
		}
		;;
	esac
	tool_start "$tool" || return 1
	# A datagram must make it: sshuttle says it is connected before its
	# UDP path works, if it works at all.
	o=$(lab_udp_ask 198.19.0.2 "$LAB_UDP_ECHO" --tries 3 --wait 1)
	if [[ $(lab_udp_result "$o" 198.19.0.2 "$LAB_UDP_ECHO") != seen ]]; then
		[[ $tool == sshuttle-tproxy ]] &&
		    SSHUTTLE_TPROXY_WHY="started, but carried no datagram: $(tail -n 1 <<<"$o"); its log: $(grep -iE 'udp|tproxy|error|exception|fatal' "$CSHUTTLE_LOG" | head -n 3 | tr '\n' ' ')"
		return 1
	fi
}

udp_tool_stop() {
	case $1 in
	direct) return 0 ;;
	sshuttle-tproxy)
		tool_stop "$1"
		sshuttle_tproxy_routing del
		;;
	*) tool_stop "$1" ;;
	esac
}

run_udp() {
	local r tool ns
	lab_udp_up || lab_die "the UDP services did not start"
	for ((r = 1; r <= BENCH_UDP_ROUNDS; r++)); do
		for tool in "${UDP_TOOLS[@]}"; do
			lab_say "UDP round $r/$BENCH_UDP_ROUNDS: $tool"
			ns=$LAB_NS_C
			[[ $tool == direct ]] && ns=$LAB_NS_S
			if udp_tool_start "$tool"; then
				measure_udp "$tool" "$ns"
			elif [[ $tool == sshuttle-tproxy ]]; then
				echo "    sshuttle --method tproxy: ${SSHUTTLE_TPROXY_WHY:-did not start: $(tail -n 3 "$CSHUTTLE_LOG" 2>/dev/null | tr '\n' ' ')}"
				SSHUTTLE_TPROXY_WHY=${SSHUTTLE_TPROXY_WHY:-did not start: $(tail -n 3 "$CSHUTTLE_LOG" 2>/dev/null | tr '\n' ' ')}
			else
				lab_bad "$tool did not carry UDP"
			fi
			udp_tool_stop "$tool"
		done
	done
}

# ---------------------------------------------------------------------------
# The report

# udp_med TOOL CASE FIELD: the median of field FIELD (1 offered, 2
# received pps, 3 loss %, 4 received Mbit/s) over the rounds.
udp_med() {
	local v=${U[$1,$2]:-}
	[[ -n $v ]] || { echo -; return; }
	median "$(tr ';' '\n' <<<"$v" | awk -v f="$3" '{ printf "%s ", $f }')"
}

# udp_cell TOOL CASE: "received (loss %)" for a table cell.
udp_cell() {
	local v=${U[$1,$2]:-}
	[[ -n $v ]] || { echo -; return; }
	if [[ $2 == m* ]]; then
		printf '%s Mbit/s (%s %%)' "$(udp_med "$1" "$2" 4)" "$(udp_med "$1" "$2" 3)"
	else
		printf '%s/s (%s %%)' "$(udp_med "$1" "$2" 2)" "$(udp_med "$1" "$2" 3)"
	fi
}

# The best received rate of 100-byte datagrams over the ladder.
udp_best_pps() {
	local r best=- v
	for r in $BENCH_UDP_PPS; do
		v=$(udp_med "$1" "p$r" 2)
		[[ $v == - ]] && continue
		if [[ $best == - ]] || awk -v a="$v" -v b="$best" 'BEGIN { exit !(a > b) }'; then
			best=$v
		fi
	done
	echo "$best"
}

udp_report_section() {
	local tool r m row hdr sep
	hdr="| offered |" sep="|---|"
	for tool in "${UDP_TOOLS[@]}"; do
		hdr+=" $tool |"
		sep+="---|"
	done
	echo "## UDP"
	echo
	echo "Numbered datagrams from CLIENT to a sink in PRIV (udp_tool blast/sink),"
	echo "${BENCH_UDP_SECS} s per rate, paced by the sender; a cell is what the sink received"
	echo "(datagrams or Mbit/s of payload per second, from its first datagram to its"
	echo "last) and the loss (datagrams sent and never received). Medians of"
	echo "$BENCH_UDP_ROUNDS round(s). \"direct\" is SERVER to PRIV without a tunnel: what the"
	echo "lab moves with the same sender and sink. max = as fast as the sender goes"
	echo "(its rate is in the samples). TCP: a 100 MiB download through the same tool"
	echo "in the same run."
	echo
	echo "100-byte datagrams:"
	echo
	echo "$hdr"
	echo "$sep"
	for r in $BENCH_UDP_PPS; do
		row="| $( ((r == 0)) && echo max || echo "$r/s") |"
		for tool in "${UDP_TOOLS[@]}"; do
			row+=" $(udp_cell "$tool" "p$r") |"
		done
		echo "$row"
	done
	echo
	echo "1,200-byte datagrams:"
	echo
	echo "$hdr"
	echo "$sep"
	for m in $BENCH_UDP_MBPS; do
		row="| $m Mbit/s |"
		for tool in "${UDP_TOOLS[@]}"; do
			row+=" $(udp_cell "$tool" "m$m") |"
		done
		echo "$row"
	done
	row="| TCP download, MB/s |"
	for tool in "${UDP_TOOLS[@]}"; do
		row+=" $(median "$(tr ';' ' ' <<<"${U[$tool,tcp]:-}")") |"
	done
	echo "$row"
	echo
	if [[ -n $SSHUTTLE_TPROXY_WHY ]]; then
		echo "sshuttle-tproxy: not measured: $SSHUTTLE_TPROXY_WHY"
		echo
	fi
	echo "### UDP targets"
	echo
	echo "| target | measured | goal | verdict |"
	echo "|---|---|---|---|"
	for tool in cshuttle cshuttle-e; do
		target "100-byte datagrams/s: $tool (best received)" "$(udp_best_pps "$tool")" ">=" 50000
		target "loss % at 100 Mbit/s of 1,200-byte datagrams: $tool" \
		    "$(udp_med "$tool" m100 3)" "<=" 0.99
	done
	echo
	echo "UDP samples (offered pps, received pps, loss %, received Mbit/s):"
	echo
	for tool in "${UDP_TOOLS[@]}"; do
		row="- $tool:"
		for r in $BENCH_UDP_PPS; do
			row+=" 100 B @ $( ((r == 0)) && echo max || echo "$r") [${U[$tool,p$r]:-}];"
		done
		for m in $BENCH_UDP_MBPS; do
			row+=" 1200 B @ $m Mbit/s [${U[$tool,m$m]:-}];"
		done
		row+=" TCP MB/s [${U[$tool,tcp]:-}]"
		echo "$row"
	done
}

# bench_report_udp: the UDP section alone (bench.sh --only udp).
bench_report_udp() {
	local res
	mkdir -p "$here/results"
	res=$here/results/bench-udp-$(date -u +%Y%m%d-%H%M%S).md
	{
		echo "# cshuttle UDP benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "Lab: three network namespaces on one machine ($(nproc) cores, $(uname -r)),"
		echo "sshd $(ssh -V 2>&1 | sed 's/,.*//'); cshuttle $("$CSHUTTLE_REAL" --version 2>&1 | head -n 1),"
		echo "sshuttle $(sshuttle --version 2>&1) (--method tproxy)."
		echo
		udp_report_section
	} >"$res"
	cat "$res"
	lab_say "written to $res"
}
