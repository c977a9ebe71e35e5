#!/bin/bash
# SPDX-License-Identifier: ISC
#
# leak_test.sh builtin|ext - leak protection: with 0/0 tunnelled (and
# --dns), what the tunnel does not carry must not go out beside it.  IPv6
# to anything but local and link-local addresses is refused at once
# (unless ::/0 is tunnelled too), and UDP that is neither captured DNS nor
# tunnelled is refused, also to port 53 of a server that is not a captured
# nameserver; loopback, link-local and DHCP keep working, DNS is answered
# through the tunnel, and cshuttle's own SSH connection lives on.  With
# --no-block-leaks the same packets reach SERVER (so it is the blocking
# that stops them), and after cshuttle is gone they reach it again.
# UDP to the tunnelled subnets is carried unless --no-udp is given
# (udp_leak_test.sh checks that what is carried is not blocked): the
# sections that check the blocking of UDP run with --no-udp, which keeps
# UDP out of the tunnel.
#
# SERVER runs a sink (lab_sink: TCP and UDP on every address, ports 7010,
# 67 and 53) that logs whatever reaches it; CLIENT one on port 7010.

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
lab_sink "$LAB_NS_S" ssink 7010 67 53 || lab_die "SERVER's sink did not start"
lab_sink "$LAB_NS_C" csink 7010 || lab_die "CLIENT's sink did not start"
sink_log=$LAB_DIR/ssink.log

small="hello from the private network"
ll_s=$(lab_linklocal "$LAB_NS_S" "${LAB_ID}s0") || lab_die "SERVER has no link-local address"
ll_c=$(lab_linklocal "$LAB_NS_C" "${LAB_ID}c0") ||
    lab_die "CLIENT has no usable link-local address"
ll="$ll_s%${LAB_ID}c0"
n=0

# A token for each probe, in $t, so the sink's log tells which ones
# arrived.
token() { n=$((n + 1)); t=t$n-$1; }

# arrived WHAT: did the sink log WHAT (a whole word at the end of a line)?
arrived() { grep -Eq "(^| )$1\$" "$sink_log"; }

# The sink's TCP connections from PEER.
tcp_from() { grep -c "^tcp 7010 $1\$" "$sink_log"; }

# udp_ok DESC HOST PORT [SRCPORT]: a datagram gets the sink's answer, and
# the sink logged it.
udp_ok() {
	local t out
	token udp
	out=$(lab_udp_probe "$2" "$3" "$t" "${4:-}")
	check "$1 (${out#* })" eval '[[ ${out#* } == "reply "*" $t" ]]'
}

# udp_blocked DESC HOST PORT: the sender gets an error at once, and the
# sink logged nothing.
udp_blocked() {
	local t out ms
	token udp
	out=$(lab_udp_probe "$2" "$3" "$t")
	ms=${out%% *}
	check "$1: the sender gets an error at once (${out#* }, $ms ms)" \
	    eval '[[ ${out#* } == "error "* ]] && ((ms < 1000))'
	sleep 0.2
	check_not "$1: nothing arrived" arrived "$t"
}

# udp_arrives DESC HOST PORT: the datagram reaches the sink.
udp_arrives() {
	local t out
	token udp
	out=$(lab_udp_probe "$2" "$3" "$t")
	check "$1 (${out#* })" arrived "$t"
}

# tcp6_refused DESC: a connection to [fd5e:0:0:1::2]:7010 fails at once
# and SERVER sees none.
tcp6_refused() {
	local before out ms
	before=$(tcp_from fd5e:0:0:1::1)
	out=$(lab_tcp_probe fd5e:0:0:1::2 7010)
	ms=${out%% *}
	check "$1: TCP to [fd5e:0:0:1::2]:7010 fails at once (${out#* }, $ms ms)" \
	    eval '[[ ${out#* } == "error "* ]] && ((ms < 1000))'
	check_eq "$1: SERVER saw no connection" "$before" "$(tcp_from fd5e:0:0:1::1)"
}

# tcp6_direct DESC: a connection to [fd5e:0:0:1::2]:7010 reaches SERVER
# directly (not through the tunnel).
tcp6_direct() {
	check_eq "$1: TCP to [fd5e:0:0:1::2]:7010 reaches SERVER directly" \
	    "reply ssink 7010 fd5e:0:0:1::1" "$(lab_tcp_probe fd5e:0:0:1::2 7010 | cut -d' ' -f2-)"
}

# start WHAT ARGS...: start cshuttle; a failure is a failed check, and
# the section's checks do not run.
start() {
	local what=$1
	shift
	lab_say "cshuttle $*"
	if ! start_cshuttle "$@"; then
		lab_bad "$what: cshuttle did not start ($(tail -n 1 "$CSHUTTLE_LOG" 2>/dev/null))"
		return 1
	fi
}

stop() {
	check "$1: cshuttle is still running (its SSH connection was not cut)" \
	    lab_alive "$CSHUTTLE_PID"
	stop_cshuttle TERM
	check_eq "$1: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	check "$1: no table left" assert_no_tables
	check "$1: no process left in CLIENT" lab_wait_for 10 lab_no_client_extra
}

# What works without cshuttle (each check below can pass).
baseline() {
	udp_arrives "$1: UDP to 198.18.0.2:7010 arrives" 198.18.0.2 7010
	udp_arrives "$1: UDP to 198.18.0.2:53 arrives" 198.18.0.2 53
	udp_arrives "$1: UDP to [fd5e:0:0:1::2]:7010 arrives" fd5e:0:0:1::2 7010
	tcp6_direct "$1"
	check_eq "$1: DNS is the local resolver's" 203.0.113.66 \
	    "$(in_client dig +short +time=3 +tries=1 secret.lab.internal)"
}

baseline "without cshuttle"
udp_ok "without cshuttle: UDP to CLIENT's 127.0.0.1:7010" 127.0.0.1 7010
udp_ok "without cshuttle: UDP to SERVER's link-local address" "$ll" 7010

if start "0/0 --dns --no-udp" -r labhost 0/0 --dns --no-udp; then
	lab_say "blocked"
	tcp6_refused "IPv6"
	udp_blocked "UDP to [fd5e:0:0:1::2]:7010" fd5e:0:0:1::2 7010
	udp_blocked "UDP to 198.18.0.2:7010" 198.18.0.2 7010
	udp_blocked "UDP to 198.18.0.2:53 (not a captured nameserver)" 198.18.0.2 53
	lab_say "still working"
	udp_ok "UDP to CLIENT's 127.0.0.1:7010 (loopback)" 127.0.0.1 7010
	udp_ok "UDP to CLIENT's [::1]:7010 (loopback)" ::1 7010
	udp_ok "UDP to SERVER's link-local $ll" "$ll" 7010
	check_eq "TCP to SERVER's link-local address" "reply ssink 7010 $ll_c" \
	    "$(lab_tcp_probe "$ll" 7010 | cut -d' ' -f2-)"
	udp_ok "DHCP: UDP from port 68 to 198.18.0.2:67 (a lease renewal)" \
	    198.18.0.2 67 68
	check_eq "DNS is answered through the tunnel" 198.19.0.2 \
	    "$(in_client dig +short +time=3 +tries=1 secret.lab.internal)"
	check_eq "and over TCP" 198.19.0.2 \
	    "$(in_client dig +short +tcp +time=3 +tries=1 secret.lab.internal)"
	check_eq "TCP to 198.19.0.2 through the tunnel" "$small" \
	    "$(lab_curl http://198.19.0.2/small.txt)"
	check_eq "TCP to SERVER itself through the tunnel" "server 7000 198.18.0.2" \
	    "$(lab_hello 198.18.0.2 7000)"
	check_eq "a second ssh to labhost works" "still here" \
	    "$(in_client timeout 20 ssh -F "$LAB_SSHCFG" labhost echo still here)"
	stop "0/0 --dns --no-udp"
	baseline "after cshuttle"
fi

if start "0/0 ::/0 --dns --no-udp" -r labhost 0/0 ::/0 --dns --no-udp; then
	check_eq "::/0 tunnelled: TCP to [fd5e:0:0:1::2]:7010 goes through the tunnel" \
	    "reply ssink 7010 fd5e:0:0:1::2" \
	    "$(lab_tcp_probe fd5e:0:0:1::2 7010 | cut -d' ' -f2-)"
	udp_blocked "::/0 tunnelled: UDP to [fd5e:0:0:1::2]:7010" fd5e:0:0:1::2 7010
	udp_blocked "::/0 tunnelled: UDP to 198.18.0.2:7010" 198.18.0.2 7010
	udp_ok "::/0 tunnelled: UDP to SERVER's link-local address" "$ll" 7010
	udp_ok "::/0 tunnelled: UDP to CLIENT's [::1]:7010 (loopback)" ::1 7010
	check_eq "::/0 tunnelled: DNS through the tunnel" 198.19.0.2 \
	    "$(in_client dig +short +time=3 +tries=1 secret.lab.internal)"
	stop "0/0 ::/0 --dns --no-udp"
fi

if start "::/0 --no-udp" -r labhost ::/0 --no-udp; then
	udp_blocked "only ::/0: UDP to [fd5e:0:0:1::2]:7010" fd5e:0:0:1::2 7010
	udp_arrives "only ::/0: UDP to 198.18.0.2:7010 (IPv4 is not tunnelled) arrives" \
	    198.18.0.2 7010
	check_eq "only ::/0: TCP to 198.18.0.2:7000 goes directly" \
	    "server 7000 198.18.0.1" "$(lab_hello 198.18.0.2 7000)"
	stop "::/0 --no-udp"
fi

if start "--no-block-leaks" -r labhost 0/0 --dns --no-block-leaks; then
	udp_arrives "--no-block-leaks: UDP to 198.18.0.2:7010 arrives" 198.18.0.2 7010
	udp_arrives "--no-block-leaks: UDP to [fd5e:0:0:1::2]:7010 arrives" \
	    fd5e:0:0:1::2 7010
	tcp6_direct "--no-block-leaks"
	check_eq "--no-block-leaks: DNS is still captured" 198.19.0.2 \
	    "$(in_client dig +short +time=3 +tries=1 secret.lab.internal)"
	check_eq "--no-block-leaks: TCP to 198.19.0.2 through the tunnel" "$small" \
	    "$(lab_curl http://198.19.0.2/small.txt)"
	stop "--no-block-leaks"
fi

lab_finish
