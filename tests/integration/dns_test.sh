#!/bin/bash
# SPDX-License-Identifier: ISC
#
# dns_test.sh builtin|ext - --dns: queries to this machine's nameservers
# (CLIENT's resolv.conf says 127.0.0.53, a local dnsmasq with answers of
# its own) and to --ns-hosts are answered by the remote side's resolver
# (SERVER's resolv.conf, or --to-ns), over UDP and TCP, with real clients:
# dig, getent (glibc), curl by name.  --dns-domains sends only names under
# the given suffixes through the tunnel and the rest to the local
# nameserver.  A remote resolver that never answers costs the asking
# application a SERVFAIL, and nothing else: TCP through the tunnel goes on.
# (The servers and their answers: lab_dns_up in tests/lab/lab_dns.sh.)

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need dig bind9-dnsutils
lab_up
lab_dns_up || lab_die "the lab's DNS servers did not start"

small="hello from the private network"
local_secret=203.0.113.66
remote_secret=198.19.0.2

# dig in CLIENT, bounded (3 s, one try; +tcp retries are dig's own).
cdig() { in_client dig +time=3 +tries=1 "$@"; }

# The answers of a query, sorted, on one line ("" when none).
answers() { cdig +short "$@" | grep -v '^;' | sort | tr '\n' ' ' | sed 's/ $//'; }

# The status of a query's answer (NOERROR, NXDOMAIN, ...; "" when none).
status() { cdig "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }

# The addresses getent (glibc's resolver, as applications use it) gives.
ge_hosts() { in_client getent ahosts "$1" | awk '{print $1}' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# The TXT strings of big.lab.internal as dig gets them (extra dig options
# first), quotes removed, sorted.
big_txt() {
	cdig +short "$@" TXT big.lab.internal | grep -v '^;' | tr -d '"' | sort
}

# dig_clean ADDR [DIG OPTIONS]: a full dig answer for secret.lab.internal
# that dig found well-formed (the ID and the source are those of the
# query: dig warns about a mismatch and waits on otherwise), qr set,
# NOERROR, with ADDR as the answer.
dig_clean() {
	local out want=$1
	shift
	out=$(cdig "$@" secret.lab.internal) || return 1
	grep -q 'status: NOERROR' <<<"$out" &&
	    grep -Eq "^secret\.lab\.internal\.[[:space:]].*IN[[:space:]]+A[[:space:]]+${want//./\\.}\$" <<<"$out" &&
	    grep -Eq 'flags: qr( |;)' <<<"$out" &&
	    ! grep -Eqi 'mismatch|unexpected source|warning' <<<"$out"
}

# start NAME ARGS...: start cshuttle for a section; a failure is a failed
# check, and the section's checks do not run.
start() {
	local what=$1
	shift
	lab_say "cshuttle $*"
	if ! start_cshuttle "$@"; then
		lab_bad "$what: cshuttle did not start ($(tail -n 1 "$CSHUTTLE_LOG" 2>/dev/null))"
		return 1
	fi
}

# stop WHAT: stop it; afterwards nothing of it is left and the local
# resolver answers again.
stop() {
	stop_cshuttle TERM
	check_eq "$1: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	after "$1"
}

after() {
	check "$1: no table left" assert_no_tables
	check "$1: no session left on the remote" lab_wait_for 10 lab_no_server_session
	check "$1: no process left in CLIENT" lab_wait_for 10 lab_no_client_extra
	check_eq "$1: secret.lab.internal is the local answer again (UDP)" \
	    "$local_secret" "$(answers secret.lab.internal)"
	check_eq "$1: and over TCP" "$local_secret" "$(answers +tcp secret.lab.internal)"
}

lab_say "without cshuttle"
check_eq "CLIENT's resolv.conf names the local resolver" "nameserver 127.0.0.53" \
    "$(in_client cat /etc/resolv.conf)"
check_eq "the remote's sessions see nameserver 198.19.0.2" "nameserver 198.19.0.2" \
    "$(in_client timeout 20 ssh -F "$LAB_SSHCFG" labhost cat /etc/resolv.conf)"
check_eq "dig secret.lab.internal: the local answer" "$local_secret" \
    "$(answers secret.lab.internal)"
check_eq "getent: the local answer" "$local_secret" "$(ge_hosts secret.lab.internal)"
check_eq "www.lab.internal is unknown locally (REFUSED)" REFUSED \
    "$(status www.lab.internal)"
check_eq "the remote resolver is out of reach" "" \
    "$(answers +time=1 @198.19.0.2 secret.lab.internal)"
check_eq "nothing answers at 198.18.0.53" "" \
    "$(cdig +short +time=1 @198.18.0.53 secret.lab.internal | grep -v '^;')"

if start "--dns" -r labhost 198.19.0.0/24 fd5e:0:0:2::/64 --dns; then
	mark_c=$(lab_log_mark "$LAB_DNS_LOG_C")
	mark_p=$(lab_log_mark "$LAB_DNS_LOG_P")
	check_eq "dig secret.lab.internal (UDP): the remote answer" "$remote_secret" \
	    "$(answers secret.lab.internal)"
	check_eq "dig +tcp secret.lab.internal: the remote answer" "$remote_secret" \
	    "$(answers +tcp secret.lab.internal)"
	check "dig accepts the UDP answer (ID, source, qr, NOERROR)" \
	    dig_clean "$remote_secret"
	check "dig accepts the TCP answer (ID, source, qr, NOERROR)" \
	    dig_clean "$remote_secret" +tcp
	check_eq "public.example: the remote answer (no --dns-domains: every name)" \
	    198.19.0.77 "$(answers public.example)"
	check_eq "AAAA www.lab.internal" fd5e:0:0:2::2 "$(answers AAAA www.lab.internal)"
	check_eq "NXDOMAIN from the remote comes through as such" NXDOMAIN \
	    "$(status nothere.lab.internal)"
	check_eq "the big TXT set with plain dig (truncated over UDP)" \
	    "$(lab_dns_big_txt)" "$(big_txt)"
	check_eq "the big TXT set with dig +tcp" "$(lab_dns_big_txt)" "$(big_txt +tcp)"
	check_eq "getent ahosts secret.lab.internal (glibc)" "$remote_secret" \
	    "$(ge_hosts secret.lab.internal)"
	check_eq "getent hosts secret.lab.internal (gethostbyname)" "$remote_secret" \
	    "$(in_client getent hosts secret.lab.internal | awk '{print $1}')"
	check_eq "getent ahosts www.lab.internal: both families" \
	    "198.19.0.2 fd5e:0:0:2::2" "$(ge_hosts www.lab.internal)"
	check_eq "curl http://www.lab.internal/small.txt (name and connection remote)" \
	    "$small" "$(lab_curl http://www.lab.internal/small.txt)"
	check_eq "curl -6 http://www.lab.internal/small.txt" \
	    "$small" "$(lab_curl http://www.lab.internal/small.txt -6)"

	# 20 queries at once, each from its own socket: every answer goes
	# back to the one that asked.
	pids=()
	for ((i = 1; i <= 20; i++)); do
		in_client dig +time=5 +tries=1 +short "q$i.lab.internal" \
		    >"$LAB_DIR/q$i.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	n=0
	for ((i = 1; i <= 20; i++)); do
		[[ "$(cat "$LAB_DIR/q$i.out")" == "198.19.3.$i" ]] && n=$((n + 1))
	done
	check_eq "20 concurrent queries, each answered with its own name's address" 20 "$n"

	# (grep reads a here-string: with pipefail, grep -q leaving early
	# would fail the writer of a pipe.)
	check "the remote resolver saw the queries, from SERVER (198.19.0.1)" \
	    grep -q 'query\[A\] secret.lab.internal from 198.19.0.1$' \
	    <<<"$(lab_log_since "$LAB_DNS_LOG_P" "$mark_p")"
	check_eq "the local resolver saw none of them" "" \
	    "$(lab_log_since "$LAB_DNS_LOG_C" "$mark_c" | grep 'query\[')"
	check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
	stop "--dns"
fi

if start "--ns-hosts" -r labhost 198.19.0.0/24 --dns --ns-hosts 198.18.0.53; then
	check_eq "dig @198.18.0.53 secret.lab.internal: the remote answer" \
	    "$remote_secret" "$(answers @198.18.0.53 secret.lab.internal)"
	check_eq "dig +tcp @198.18.0.53 secret.lab.internal: the remote answer" \
	    "$remote_secret" "$(answers +tcp @198.18.0.53 secret.lab.internal)"
	check "dig accepts the answer from 198.18.0.53 (ID, source)" \
	    dig_clean "$remote_secret" @198.18.0.53
	check_eq "the resolv.conf server is still captured too" "$remote_secret" \
	    "$(answers secret.lab.internal)"
	stop "--ns-hosts"
	check_eq "--ns-hosts: nothing answers at 198.18.0.53 again" "" \
	    "$(cdig +short +time=1 @198.18.0.53 secret.lab.internal | grep -v '^;')"
fi

# The remote's resolv.conf names a server that never answers; --to-ns
# names the one to use instead.
lab_remote_resolv "$LAB_DNS_SILENT"
if start "--to-ns" -r labhost 198.19.0.0/24 --dns --to-ns 198.19.0.2; then
	check_eq "--to-ns 198.19.0.2: its answer, whatever the remote's resolv.conf says" \
	    "$remote_secret" "$(answers secret.lab.internal)"
	check_eq "--to-ns 198.19.0.2: over TCP too" "$remote_secret" \
	    "$(answers +tcp secret.lab.internal)"
	stop "--to-ns"
fi
if start "--to-ns ip:port" -r labhost 198.19.0.0/24 --dns --to-ns 198.19.1.1:5353; then
	check_eq "--to-ns 198.19.1.1:5353: the answer of the server on port 5353" \
	    198.19.1.53 "$(answers secret.lab.internal)"
	stop "--to-ns ip:port"
fi

# dead_dig TAG NAME: dig NAME in the background (15 s, one try); its
# output goes to $LAB_DIR/TAG, its exit code and milliseconds to TAG.rc.
dead_dig() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$LAB_NS_C" bash -c '
		t0=$(date +%s%N)
		dig +time=15 +tries=1 "$1" >"$2" 2>&1
		echo "$? $((($(date +%s%N) - t0) / 1000000))" >"$2.rc"' \
	    sh "$2" "$LAB_DIR/$1" &
	pids+=($!)
}

lab_say "the remote's resolver never answers ($LAB_DNS_SILENT)"
head -c $((8 << 20)) /dev/urandom >"$LAB_DIR/www/mid.bin"
mid_sha=$(sha256sum <"$LAB_DIR/www/mid.bin" | cut -d' ' -f1)
if start "dead resolver" -r labhost 198.19.0.0/24 --dns; then
	pids=()
	for ((i = 1; i <= 5; i++)); do
		dead_dig "dead$i" secret.lab.internal
	done
	sleep 0.3
	# While those wait, the tunnel carries TCP as before: no connection
	# waits for them (the stub waits 2 s for each attempt).
	n=0 slowest=0
	for ((i = 0; i < 10; i++)); do
		t0=$(date +%s%N)
		[[ "$(lab_hello 198.19.0.2 $((8000 + i)))" == "priv $((8000 + i)) 198.19.0.1" ]] &&
		    n=$((n + 1))
		ms=$((($(date +%s%N) - t0) / 1000000))
		((ms > slowest)) && slowest=$ms
	done
	check_eq "10 hellos through the tunnel while the queries wait" 10 "$n"
	check "none of them waited (slowest ${slowest} ms)" test "$slowest" -lt 1500
	check_eq "8 MiB through the tunnel while the queries wait" "$mid_sha" \
	    "$(lab_curl http://198.19.0.2/mid.bin | sha256sum | cut -d' ' -f1)"
	pending=0
	for ((i = 1; i <= 5; i++)); do
		[[ -e "$LAB_DIR/dead$i.rc" ]] || pending=$((pending + 1))
	done
	lab_say "$pending of 5 queries were still waiting when the TCP checks ended"
	wait "${pids[@]}"
	nfail=0 nservfail=0 max=0
	for ((i = 1; i <= 5; i++)); do
		read -r rc ms <"$LAB_DIR/dead$i.rc"
		((ms > max)) && max=$ms
		grep -q 'status: NOERROR' "$LAB_DIR/dead$i" || nfail=$((nfail + 1))
		grep -q 'status: SERVFAIL' "$LAB_DIR/dead$i" && ((ms < 12000)) &&
		    nservfail=$((nservfail + 1))
		lab_say "query $i: dig exit $rc after $ms ms: $(grep -o 'status: [A-Z]*' "$LAB_DIR/dead$i" || tail -n 1 "$LAB_DIR/dead$i")"
	done
	check_eq "no query got an answer" 5 "$nfail"
	check_eq "each got SERVFAIL within 12 s (not silence), slowest $max ms" 5 "$nservfail"
	check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
	check_eq "and the tunnel still works" "$small" \
	    "$(lab_curl http://198.19.0.2/small.txt)"
	stop "dead resolver"
fi

lab_say "the remote's resolver refuses ($LAB_DNS_REFUSED: nothing on port 53)"
lab_remote_resolv "$LAB_DNS_REFUSED"
if start "refusing resolver" -r labhost 198.19.0.0/24 --dns; then
	pids=()
	dead_dig refused secret.lab.internal
	wait "${pids[@]}"
	read -r rc ms <"$LAB_DIR/refused.rc"
	check "SERVFAIL within 5 s ($(grep -o 'status: [A-Z]*' "$LAB_DIR/refused" ||
	    tail -n 1 "$LAB_DIR/refused"), ${ms} ms)" eval \
	    'grep -q "status: SERVFAIL" "$LAB_DIR/refused" && ((ms < 5000))'
	check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
	stop "refusing resolver"
fi
lab_remote_resolv 198.19.0.2

if start "split DNS" -r labhost 198.19.0.0/24 --dns --dns-domains lab.internal; then
	mark_c=$(lab_log_mark "$LAB_DNS_LOG_C")
	mark_p=$(lab_log_mark "$LAB_DNS_LOG_P")
	check_eq "secret.lab.internal (under lab.internal): the remote answer" \
	    "$remote_secret" "$(answers secret.lab.internal)"
	check_eq "SECRET.Lab.Internal (suffixes ignore case): the remote answer" \
	    "$remote_secret" "$(answers SECRET.Lab.Internal)"
	check_eq "public.example (elsewhere): the local answer" 198.18.0.77 \
	    "$(answers public.example)"
	check_eq "public.example over TCP: the local answer" 198.18.0.77 \
	    "$(answers +tcp public.example)"
	check_eq "notlab.internal (not under lab.internal): the local answer" \
	    198.18.0.78 "$(answers notlab.internal)"
	out=$(cdig public.example)
	check "dig accepts a locally forwarded answer (ID, source)" eval \
	    'grep -q "status: NOERROR" <<<"$out" &&
		! grep -Eqi "mismatch|unexpected source|warning" <<<"$out"'
	check_eq "getent ahosts public.example: the local answer" 198.18.0.77 \
	    "$(ge_hosts public.example)"
	check_eq "getent ahosts secret.lab.internal: the remote answer" \
	    "$remote_secret" "$(ge_hosts secret.lab.internal)"
	check_eq "curl http://www.lab.internal/small.txt" "$small" \
	    "$(lab_curl http://www.lab.internal/small.txt -4)"
	log_c=$(lab_log_since "$LAB_DNS_LOG_C" "$mark_c")
	log_p=$(lab_log_since "$LAB_DNS_LOG_P" "$mark_p")
	check "the local resolver got public.example" \
	    grep -q 'query\[A\] public.example from' <<<"$log_c"
	check_not "the local resolver never got secret.lab.internal" \
	    grep -qi 'secret.lab.internal' <<<"$log_c"
	check "the remote resolver got secret.lab.internal" \
	    grep -qi 'query\[A\] secret.lab.internal from 198.19.0.1' <<<"$log_p"
	check_not "the remote resolver never got public.example or notlab.internal" \
	    grep -Eq 'public.example|notlab.internal' <<<"$log_p"
	check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
	stop "split DNS"
fi

# A forwarding socket whose port an application's redirected query used
# a moment ago: its packets follow that flow's conntrack entry back to
# cshuttle.  It must notice at once, never send the query round and round
# (every captured query would fail while the entry lives), and answer from
# another port.
if start "port reuse" -r labhost 198.19.0.0/24 --dns --dns-domains lab.internal; then
	range=$(in_client sysctl -n net.ipv4.ip_local_port_range)
	in_client sysctl -q -w net.ipv4.ip_local_port_range="40000 40001"
	out=$(in_client python3 "$LAB_SRC/../integration/dns_portreuse.py" \
	    "$CSHUTTLE_LOG" notlab.internal 198.18.0.78)
	in_client sysctl -q -w net.ipv4.ip_local_port_range="$range"
	check "notlab.internal answered locally from another port ($out)" \
	    grep -q '^ok' <<<"$out"
	check "the forward that came back is logged" \
	    grep -q 'redirected back' "$CSHUTTLE_LOG"
	check_not "no query went round: nothing busy" \
	    grep -q 'queries in flight already' "$CSHUTTLE_LOG"
	check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
	stop "port reuse"
fi

# The SSH server by name, with its name's resolver captured: after the
# session dies, nothing but the local resolver can answer for that name,
# and the reconnect must still find the server.
lab_say "-r by host name, --dns, session killed: the reconnect resolves it"
hk=$(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")
echo "sshgw.lab.test $hk" >>"$LAB_DIR/known_hosts"
printf 'Host labhost-byname\n\tHostName sshgw.lab.test\n' >>"$LAB_SSHCFG"
if start "reconnect by name" -r labhost-byname 198.19.0.0/24 --dns --alive-interval 1 \
    --alive-timeout 3; then
	check_eq "before: the remote answer" "$remote_secret" "$(answers secret.lab.internal)"
	lab_kill_sessions
	check "the lost session is noticed" \
	    lab_wait_for 10 grep -q "session lost" "$CSHUTTLE_LOG"
	check "reconnected, the server's name resolved locally" \
	    lab_wait_for 30 grep -q "reconnected to" "$CSHUTTLE_LOG"
	check_not "no attempt failed to resolve the server" \
	    grep -Eqi "attempt [0-9]+ failed.*(resolv|name|host)" "$CSHUTTLE_LOG"
	check_eq "after: the remote answer again" "$remote_secret" \
	    "$(answers secret.lab.internal)"
	check_eq "after: traffic goes through" "priv 8006 198.19.0.1" \
	    "$(lab_hello 198.19.0.2 8006)"
	stop "reconnect by name"
fi

lab_finish
