#!/bin/bash
#
# bench/bench.sh [CSHUTTLE_BIN] - throughput and connection rate through
# the tunnel, side by side with the reference tools, in one run on one lab.
#
# Builds the integration lab (tests/lab/lab.sh: CLIENT -> SERVER (sshd) ->
# PRIV (nginx, digest service)), then for ROUNDS rounds runs every tool in
# turn, alternating them so that drift on the machine hits all alike:
#
#   cshuttle       the built-in libssh2 transport
#   cshuttle -e    cshuttle over `ssh -F <labcfg>`
#   sshuttle       Debian's sshuttle (nft method)
#   ssh -L         OpenSSH port forwarding to the same services
#
# and measures, per round: download of a 100 MiB file (curl), upload of
# 100 MiB to a hashing service (checked), new connections per second (ab,
# one small HTTP request per connection, 16 concurrent), and request
# latency p50/p99 on keep-alive connections (ab -k).  Then, with --dns
# (not for ssh -L, which cannot carry DNS), DNS queries per second:
# dnsperf in CLIENT asks CLIENT's nameserver (127.0.0.53, captured) for
# names only the remote resolver knows (PRIV's dnsmasq, lab_dns_up) for
# BENCH_DNS_SECS seconds, at most 100 queries outstanding; every answer
# must be NOERROR.  Prints the medians and the ratios to ssh -L and
# sshuttle, and writes them to bench/results/bench-<date>.md.
#
# Needs root and the packages in tests/lab/packages.txt and
# bench/packages.txt.  ROUNDS (default 3), BENCH_CONNS (default 3000
# requests) and BENCH_DNS_SECS (default 10) may be set in the environment.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
CSHUTTLE_BIN=${1:-${CSHUTTLE_BIN:-$top/build/client/cshuttle}}
export CSHUTTLE_BIN
CSHUTTLE_REAL=$CSHUTTLE_BIN
ROUNDS=${ROUNDS:-3}
BENCH_CONNS=${BENCH_CONNS:-3000}
BENCH_DNS_SECS=${BENCH_DNS_SECS:-10}
LAB_TABLE_RE='cshuttle|sshuttle'
# shellcheck source=../tests/lab/lab.sh
. "$top/tests/lab/lab.sh"
lab_require_bin
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
# No query logs: dnsperf sends hundreds of thousands of queries.
LAB_DNS_QUIET=1 lab_dns_up || lab_die "the lab's DNS servers did not start"
dns_queries=$LAB_DIR/dnsperf.queries
for ((i = 1; i <= LAB_DNS_QN; i++)); do
	echo "q$i.lab.internal A"
done >"$dns_queries"

TOOLS=(cshuttle cshuttle-e sshuttle ssh-L)
DNS_TOOLS=(cshuttle cshuttle-e sshuttle)
declare -A M	# M[tool,metric] = space-separated samples
SSHL_PID=

# tool_start TOOL [OPTIONS...]: OPTIONS go to cshuttle (or sshuttle).
tool_start() {
	local tool=$1
	shift
	# conntrack keeps the redirect of a closed connection through its
	# TIME_WAIT and ab reuses client ports at once: without a flush, a
	# tool would see connections steered to the port of the tool before
	# it (and refused).  Only the lab's CLIENT namespace is flushed.
	in_client conntrack -F >/dev/null 2>&1
	case $tool in
	cshuttle)   CSHUTTLE_BIN=$CSHUTTLE_REAL LAB_TRANSPORT=builtin start_cshuttle -r labhost 198.19.0.0/24 "$@" ;;
	cshuttle-e) CSHUTTLE_BIN=$CSHUTTLE_REAL LAB_TRANSPORT=ext start_cshuttle -r labhost 198.19.0.0/24 "$@" ;;
	sshuttle)   CSHUTTLE_BIN=$top/tests/lab/sshuttle-shim.sh LAB_TRANSPORT=ext start_cshuttle -r labhost 198.19.0.0/24 "$@" ;;
	ssh-L)
		ip netns exec "$LAB_NS_C" ssh -F "$LAB_SSHCFG" -N \
		    -o ExitOnForwardFailure=yes \
		    -L 127.0.0.1:18080:198.19.0.2:80 -L 127.0.0.1:17002:198.19.0.2:7002 \
		    labhost </dev/null >/dev/null 2>"$LAB_DIR/sshL.log" &
		SSHL_PID=$!
		lab_wait_for 15 eval 'in_client bash -c "exec 3<>/dev/tcp/127.0.0.1/18080" 2>/dev/null'
		;;
	esac
}

tool_stop() {
	if [[ $1 == ssh-L ]]; then
		kill "$SSHL_PID" 2>/dev/null
		wait "$SSHL_PID" 2>/dev/null
		SSHL_PID=
	else
		stop_cshuttle TERM
	fi
}

# host:port of the web and digest services as this tool reaches them
tool_web()    { [[ $1 == ssh-L ]] && echo 127.0.0.1:18080 || echo 198.19.0.2:80; }
tool_digest() { [[ $1 == ssh-L ]] && echo "127.0.0.1 17002" || echo "198.19.0.2 7002"; }

# add TOOL METRIC VALUE: record one sample (each one is a passed check).
add() {
	M[$1,$2]="${M[$1,$2]:-} $3"
	lab_ok "$1 $2 $3"
}

measure() {
	local tool=$1 web out up ab
	web=$(tool_web "$tool")
	# download, MB/s (10^6 bytes)
	out=$(in_client curl -s -o /dev/null -w '%{speed_download} %{size_download}' \
	    --max-time 120 "http://$web/big.bin")
	if [[ ${out#* } == $((100 * 1024 * 1024)) ]]; then
		add "$tool" down "$(awk -v s="${out% *}" 'BEGIN { printf "%.1f", s / 1e6 }')"
	else
		lab_bad "$tool: download incomplete ($out)"
	fi
	# upload, MB/s, hash checked by the service; timed here because the
	# client prints its time to 0.1 s only
	local t0 t1
	t0=$(date +%s%N)
	# shellcheck disable=SC2046
	up=$(in_client python3 "$top/tests/lab/labcli.py" --timeout 120 upload \
	    $(tool_digest "$tool") "$LAB_BIG" 2>&1)
	t1=$(date +%s%N)
	if [[ $up == *"sha256 matches"* ]]; then
		add "$tool" up "$(awk -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", 104857600 / (t / 1e9) / 1e6 }')"
	else
		lab_bad "$tool: upload failed: $up"
	fi
	# new connections per second
	ab=$(in_client ab -q -n "$BENCH_CONNS" -c 16 -s 30 "http://$web/small.txt" 2>&1)
	if [[ $ab =~ Failed\ requests:\ +0 && $ab =~ Requests\ per\ second:\ +([0-9.]+) ]]; then
		add "$tool" conns "${BASH_REMATCH[1]}"
	else
		lab_bad "$tool: ab (new connections) failed: $(grep -E 'Failed|Non-2xx|apr_|Complete' <<<"$ab" | tr '\n' ' ')"
	fi
	# keep-alive latency, 4 concurrent connections
	ab=$(in_client ab -q -k -n "$BENCH_CONNS" -c 4 -s 30 "http://$web/small.txt" 2>&1)
	if [[ $ab =~ \ 50%\ +([0-9]+) ]]; then
		add "$tool" p50 "${BASH_REMATCH[1]}"
		[[ $ab =~ \ 99%\ +([0-9]+) ]] && add "$tool" p99 "${BASH_REMATCH[1]}"
	else
		lab_bad "$tool: ab -k (latency) failed"
	fi
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

median() {
	tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ a[NR] = $1 }
	    END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
	    else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

for ((r = 1; r <= ROUNDS; r++)); do
	for tool in "${TOOLS[@]}"; do
		lab_say "round $r/$ROUNDS: $tool"
		if ! tool_start "$tool"; then
			lab_bad "$tool did not start"
			continue
		fi
		measure "$tool"
		tool_stop "$tool"
		[[ " ${DNS_TOOLS[*]} " == *" $tool "* ]] || continue
		lab_say "round $r/$ROUNDS: $tool --dns"
		if ! tool_start "$tool" --dns; then
			lab_bad "$tool --dns did not start"
			continue
		fi
		measure_dns "$tool"
		tool_stop "$tool"
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

mkdir -p "$here/results"
res=$here/results/bench-$(date -u +%Y%m%d-%H%M%S).md
{
	echo "# cshuttle benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Lab: three network namespaces on one machine ($(nproc) cores, $(uname -r)),"
	echo "sshd OpenSSH $(ssh -V 2>&1 | sed 's/,.*//'), nginx; zero added latency."
	echo "Medians of $ROUNDS rounds, tools alternated within each round."
	echo "Download/upload: 100 MiB, MB/s = 10^6 bytes/s. Connections: $BENCH_CONNS"
	echo "HTTP requests, one per connection, 16 concurrent (ab). Latency: ab -k,"
	echo "4 keep-alive connections, ms. DNS: --dns, dnsperf for ${BENCH_DNS_SECS} s against"
	echo "CLIENT's nameserver (captured), at most 100 queries outstanding, answered by"
	echo "dnsmasq behind the SSH server; queries per second, and queries lost (no answer"
	echo "within 5 s) per run. ssh -L carries no DNS."
	echo
	echo "| tool | download MB/s | upload MB/s | new conn/s | p50 ms | p99 ms | DNS q/s | DNS lost |"
	echo "|---|---|---|---|---|---|---|---|"
	for tool in "${TOOLS[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$tool" \
		    "$(median "${M[$tool,down]:-}")" "$(median "${M[$tool,up]:-}")" \
		    "$(median "${M[$tool,conns]:-}")" "$(median "${M[$tool,p50]:-}")" \
		    "$(median "${M[$tool,p99]:-}")" "$(median "${M[$tool,dns]:-}")" \
		    "$(median "${M[$tool,dnslost]:-}")"
	done
	echo
	echo "| ratio | download | upload | new conn/s | DNS q/s |"
	echo "|---|---|---|---|---|"
	for tool in cshuttle cshuttle-e; do
		for ref in ssh-L sshuttle; do
			printf '| %s / %s | %s | %s | %s | %s |\n' "$tool" "$ref" \
			    "$(ratio "$(median "${M[$tool,down]:-}")" "$(median "${M[$ref,down]:-}")")" \
			    "$(ratio "$(median "${M[$tool,up]:-}")" "$(median "${M[$ref,up]:-}")")" \
			    "$(ratio "$(median "${M[$tool,conns]:-}")" "$(median "${M[$ref,conns]:-}")")" \
			    "$(ratio "$(median "${M[$tool,dns]:-}")" "$(median "${M[$ref,dns]:-}")")"
		done
	done
	echo
	echo "Samples:"
	echo
	for tool in "${TOOLS[@]}"; do
		echo "- $tool: down [${M[$tool,down]:-} ], up [${M[$tool,up]:-} ], conn/s [${M[$tool,conns]:-} ], DNS q/s [${M[$tool,dns]:-} ], DNS lost [${M[$tool,dnslost]:-} ]"
	done
} >"$res"
cat "$res"
lab_say "written to $res"
lab_finish
