#!/bin/bash
# SPDX-License-Identifier: ISC
#
# udp_leak_test.sh builtin|ext - UDP and leak protection.  Under 0/0 (with
# --dns or not) UDP to the private network goes through the tunnel, UDP to
# SERVER itself too (its echo sees SERVER's own address), UDP to a closed
# port or to an address the remote cannot reach fails cleanly (no answer,
# counted, cshuttle and the other flows carry on), DNS captured with --dns
# keeps its own path, link-local and multicast UDP and UDP to CLIENT's own
# addresses are never captured, and SERVER's leak
# counters (UDP from CLIENT's addresses) stay at zero: nothing went around
# the tunnel.  --no-udp gives the behaviour without UDP: UDP to a
# forwarded subnet goes around the tunnel (SERVER counts it, and drops it:
# it does not forward), under 0/0 it is refused at once.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need dig bind9-dnsutils jq jq
lab_up
lab_dns_up || lab_die "the lab's DNS servers did not start"
lab_udp_up || lab_die "the UDP services did not start"
lab_udp_leak_watch || lab_die "cannot count SERVER's UDP from CLIENT"
# CLIENT's own echo, on a port of its own (udp_test.sh checks one on the
# port of a tunnelled destination).
local_echo=7009
lab_udp_serve "$LAB_NS_C" udpecho-client echo $local_echo ||
    lab_die "CLIENT's UDP echo did not start"

E=$LAB_UDP_ECHO
name=udpleak
ll_s=$(lab_linklocal "$LAB_NS_S" "${LAB_ID}s0") || lab_die "SERVER has no link-local address"
ll_c=$(lab_linklocal "$LAB_NS_C" "${LAB_ID}c0") ||
    lab_die "CLIENT has no usable link-local address"
st() { lab_udp_status "$name" "$1"; }
drops() { st '[.udp // {} | paths(numbers) as $p | select($p | map(tostring) | join(".") | test("drop")) | getpath($p)] | add // 0'; }

# seen DESC WANT ADDR PORT: the echo at ADDR answers and saw WANT ("IP").
seen() {
	local out s
	out=$(lab_udp_ask "$3" "$4")
	s=$(lab_udp_seen "$out" "$3" "$4")
	check_eq "$1" "$2" "${s% *}"
}

# result DESC WANT ADDR PORT [ask options]: the exchange's result matches
# the pattern WANT (timeout, "error *" for an error at once, seen).
result() {
	local desc=$1 want=$2 out r ms
	shift 2
	out=$(lab_udp_ask "$@")
	r=$(lab_udp_result "$out" "$1" "$2")
	ms=$(awk -v d="$1" '$1 == d { print $(NF - 1) }' <<<"$out")
	if [[ $want == "error *" ]]; then
		check "$desc ($r, $ms ms)" eval '[[ $r == error* ]] && ((${ms:-9999} < 1000))'
	else
		check_eq "$desc ($ms ms)" "$want" "$r"
	fi
}

no_leak() {
	check_eq "$1: SERVER received no UDP from CLIENT (leak counters)" 0 "$(lab_udp_leaks)"
}

start() {
	lab_say "cshuttle $*"
	if ! start_cshuttle --name $name "$@"; then
		lab_bad "cshuttle $* did not start ($(tail -n 1 "$CSHUTTLE_LOG" 2>/dev/null))"
		return 1
	fi
}

stop() {
	check "$1: cshuttle is still running" lab_alive "$CSHUTTLE_PID"
	stop_cshuttle TERM
	check_eq "$1: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	check "$1: no table left" assert_no_tables
	check "$1: no ip rule or route of the capture left" lab_wait_for 3 lab_udp_fw_clean
}

# Under 0/0 (ARGS: the rest of the command line).
under_default_route() {
	local what=$1 d0
	shift
	start -r labhost "$@" || return
	seen "$what: UDP to 198.19.0.2 through the tunnel (seen from 198.19.0.1)" \
	    198.19.0.1 198.19.0.2 "$E"
	seen "$what: UDP to SERVER's 198.18.0.2 through the tunnel (seen from itself)" \
	    198.18.0.2 198.18.0.2 "$E"
	d0=$(drops)
	result "$what: UDP to a closed port of 198.19.0.2: no answer, no error" \
	    timeout 198.19.0.2 "$LAB_UDP_CLOSED" --wait 1
	result "$what: UDP to 198.19.9.9 (the remote has no route): no answer" \
	    timeout 198.19.9.9 "$E" --wait 1
	check "$what: both counted as dropped ($d0 -> $(drops))" \
	    lab_wait_for 3 eval 'lab_num_ge "$(drops)" "$d0" 2'
	out=$(in_client "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 100 --wait 10)
	check "$what: 100 flows at once ($out)" eval '[[ $out == "answered 100 of 100,"* ]]'
	seen "$what: link-local UDP to SERVER is not captured (SERVER sees CLIENT's $ll_c)" \
	    "$ll_c" "$ll_s%${LAB_ID}c0" "$E"
	no_leak "$what"
	if [[ " $* " == *" ::/0 "* ]]; then
		seen "$what: IPv6 UDP to [fd5e:0:0:2::2] through the tunnel" \
		    fd5e:0:0:2::1 fd5e:0:0:2::2 "$E"
		seen "$what: IPv6 UDP to SERVER's [fd5e:0:0:1::2] through the tunnel" \
		    fd5e:0:0:1::2 fd5e:0:0:1::2 "$E"
	else
		result "$what: IPv6 (not tunnelled) is refused at once" \
		    "error *" fd5e:0:0:1::2 "$E" --wait 1
	fi
	if [[ " $* " == *" --dns "* ]]; then
		t0=$(st .udp.total)
		check_eq "$what: DNS through its own path (the remote resolver's answer)" \
		    198.19.0.2 "$(in_client dig +short +time=3 +tries=1 secret.lab.internal)"
		check "$what: counted as a DNS query" eval 'lab_num_ge "$(st .dns.queries)" 1'
		check_eq "$what: and not as a UDP flow" "$t0" "$(st .udp.total)"
	fi
	seen "$what: UDP to CLIENT's own 198.18.0.1 is not captured" \
	    198.18.0.1 198.18.0.1 $local_echo
	check_eq "$what: a query to 198.19.0.2:53 itself, as UDP through the tunnel" \
	    198.19.0.2 "$(in_client dig +short +time=3 +tries=1 @198.19.0.2 secret.lab.internal)"
	no_leak "$what, at the end"
	# Multicast is never captured (whether leak protection lets it out
	# is not UDP's business): no flow, and the counters start again.
	t0=$(st .udp.total)
	lab_udp_ask 239.255.0.1 "$E" --wait 0.5 >/dev/null
	check_eq "$what: UDP to 239.255.0.1 (multicast) opens no flow" "$t0" "$(st .udp.total)"
	lab_udp_leak_reset
	stop "$what"
}

lab_say "without cshuttle, SERVER counts CLIENT's UDP"
seen "UDP to SERVER's echo arrives directly" 198.18.0.1 198.18.0.2 "$E"
check "SERVER's leak counters count it" eval 'lab_num_gt "$(lab_udp_leaks)" 0'
lab_udp_leak_reset
check_eq "the counters are reset" 0 "$(lab_udp_leaks)"

under_default_route "0/0" 0/0
under_default_route "0/0 --dns" 0/0 --dns
under_default_route "0/0 ::/0 --dns" 0/0 ::/0 --dns

lab_say "--no-udp: UDP is not carried"
if start -r labhost 198.19.0.0/24 fd5e:0:0:2::/64 --no-udp; then
	check_eq "status: no UDP" null "$(st .udp)"
	result "--no-udp: UDP to 198.19.0.2 gets no answer" timeout 198.19.0.2 "$E" --wait 1
	check "--no-udp: it went around the tunnel (SERVER counted it: $(lab_udp_leaks))" \
	    eval 'lab_num_gt "$(lab_udp_leaks)" 0'
	check_eq "--no-udp: TCP still goes through the tunnel" "priv 8001 198.19.0.1" \
	    "$(lab_hello 198.19.0.2 8001)"
	check_eq "--no-udp: no ip rule or route for the capture" "" "$(lab_udp_fw_left)"
	stop "--no-udp"
fi
lab_udp_leak_reset
if start -r labhost 0/0 --no-udp; then
	result "--no-udp under 0/0: UDP to 198.19.0.2 is refused at once" \
	    "error *" 198.19.0.2 "$E" --wait 1
	result "--no-udp under 0/0: UDP to 198.18.0.2 too" "error *" 198.18.0.2 "$E" --wait 1
	no_leak "--no-udp under 0/0"
	check_eq "--no-udp under 0/0: TCP through the tunnel" "priv 8001 198.19.0.1" \
	    "$(lab_hello 198.19.0.2 8001)"
	stop "--no-udp under 0/0"
fi

lab_finish
