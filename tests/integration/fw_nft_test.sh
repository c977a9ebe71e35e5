#!/bin/bash
# SPDX-License-Identifier: ISC
#
# fw_nft_test.sh - the firewall module against the real kernel.
#
# usage: fw_nft_test.sh [path/to/fw_drive]	(or FW_DRIVE=path)
#
# Needs root, ip, nft (only to inspect), python3, setpriv and sudo: without
# them it fails (lab_need, tests/lab/need.sh).
# Everything happens in three network namespaces made for this run and
# removed at the end: "csfw<pid>" plays this host (the driver, the helper,
# the redirect and DNS listeners), "csfwp<pid>" plays the network behind
# the tunnel and the Internet (the real servers and nameservers),
# "csfwl<pid>" a LAN host that uses this one as its router; fw_nft_lab.sh
# builds them.  The driver serves its own listeners (fw_drive.c); requests
# written by hand go through fw_req.py.  The sections below are one
# sequence: each starts from what the previous one left (no table, the
# servers up).
# Exit 0: passed, 1: failed.
#
set -u

DRIVE=${1:-${FW_DRIVE:-}}
NS=csfw$$
PEER=csfwp$$
LAN=csfwl$$
PORT=12300
MARK=0x6373300c		# FW_MARK_BASE | PORT
DNS1=12353		# 10.30.0.53 -> 127.0.0.1:DNS1
DNS2=12354		# fd00:30::53 -> [::1]:DNS2
DNS3=12355		# 127.0.0.53 -> 127.0.0.1:DNS3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lab/need.sh
. "$here/../lab/need.sh"
# shellcheck source=fw_nft_lab.sh
. "$here/fw_nft_lab.sh"

lab_need_root "network namespaces, nftables"
lab_need ip iproute2 nft nftables python3 python3 setpriv util-linux sudo sudo
if [ -z "$DRIVE" ] || [ ! -x "$DRIVE" ]; then
	echo "FAIL: fw_drive not given or not executable (usage: $0 path/to/fw_drive)"
	exit 1
fi
DRIVE=$(readlink -f "$DRIVE")
fw_lab_up

# --- 1: install, inspect, redirect ---------------------------------------------
echo "== install"
drv_start
expect started start
has_table && fail "table exists before the first apply"
expect ok port "$PORT"
expect ok fam 46
expect ok inc 10.0.0.0/8
expect ok exc 10.20.5.0/24
expect ok inc 10.20.5.0/24 8000 8999
expect ok exempt 10.30.0.7 22
expect ok inc fd00::/8
expect ok exc fd00:20::/64
expect applied apply

rs=$(ruleset)
for pat in "table inet cshuttle_$PORT" "flags owner" "chain output" \
    "type nat hook output priority -100; policy accept;" \
    "fib daddr type local return" \
    "ip daddr 10.30.0.7 tcp dport 22 return" \
    "ip daddr 10.20.5.0/24 tcp dport 8000-8999 redirect to :$PORT" \
    "ip daddr 10.20.5.0/24 return" \
    "ip daddr 10.0.0.0/8 redirect to :$PORT" \
    "ip6 daddr fd00:20::/64 return" \
    "ip6 daddr fd00::/8 redirect to :$PORT"; do
	if printf '%s\n' "$rs" | grep -q -F -- "$pat"; then
		pass "ruleset has '$pat'"
	else
		fail "ruleset lacks '$pat'"
	fi
done
printf '%s\n' "$rs" | grep -q "chain prerouting" &&
    fail "prerouting chain without prerouting"
in_order "nfproto ipv4 fib daddr type local return" "10.30.0.7 tcp dport 22" \
    "10.20.5.0/24 tcp dport 8000-8999" "10.20.5.0/24 return" \
    "10.0.0.0/8 redirect" "nfproto ipv6 fib daddr type local return" \
    "fd00:20::/64 return" "fd00::/8 redirect"
grep -q "cshuttle-fw: add table inet cshuttle_$PORT" "$LOG" &&
    grep -q "cshuttle-fw: output: redirect 10.0.0.0/8 -> :$PORT" "$LOG" &&
    pass "helper logged its changes" || fail "helper log: $(cat "$LOG")"

probe 10.30.0.7 80 "REDIR 10.30.0.7:80"
probe 10.20.5.7 80 "REAL 10.20.5.7:80"
probe 10.20.5.7 8080 "REDIR 10.20.5.7:8080"
probe 10.30.0.7 22 "REAL 10.30.0.7:22"
probe 10.99.0.1 80 "LOCAL 10.99.0.1:80"
probe fd00:30::7 80 "REDIR [fd00:30::7]:80"
probe fd00:20::7 80 "REAL [fd00:20::7]:80"
# Only redirected connections reach the listeners: a direct one is
# dropped (it would be forwarded to the listener's own address).
printf '%s\n' "$rs" | grep -q -F "ip daddr 127.0.0.1 tcp dport $PORT ct direction original ct status ! dnat drop" &&
    printf '%s\n' "$rs" | grep -q -F "ip6 daddr ::1 tcp dport $PORT ct direction original ct status ! dnat drop" &&
    pass "input chain drops what was not redirected" ||
    fail "input chain: $(printf '%s\n' "$rs" | sed -n '/chain input/,/}/p')"
tprobe 127.0.0.1 "$PORT" TIMEOUT
tprobe ::1 "$PORT" TIMEOUT

# A second helper can neither take nor touch the owned table.
out=$(fwreq "?
LISTEN < tcp 127.0.0.2 $PORT listen
APPLY
?" | grep '^ERR')
case $out in
"ERR kernel refused \"add table inet cshuttle_$PORT (owner)\""*)
	pass "second owner refused: $out" ;;
*)	fail "second owner: '$out'" ;;
esac
has_table || fail "table gone after a refused second owner"

# --- 2: replace atomically ---------------------------------------------------
echo "== replace"
expect ok clear
expect ok port "$PORT"
expect ok fam 46
expect ok prerouting 1
expect ok allow 10.40.0.0/24
expect ok inc 0.0.0.0/0
expect ok inc ::/0
expect ok exempt 10.20.5.7 80
expect applied apply
rs=$(ruleset)
printf '%s\n' "$rs" | grep -q "10.0.0.0/8" && fail "old rules survived"
printf '%s\n' "$rs" | grep -q "chain prerouting" &&
    printf '%s\n' "$rs" | grep -q "type nat hook prerouting priority" &&
    printf '%s\n' "$rs" | grep -q "ip saddr 10.40.0.0/24 goto lan" &&
    pass "prerouting chain, for the allowed source" || fail "no prerouting chain"
[ "$(printf '%s\n' "$rs" | grep -c "redirect to :$PORT")" = 4 ] &&
    pass "2 redirects in each chain (output, lan)" || fail "redirect count: $rs"
probe 10.20.5.7 80 "REAL 10.20.5.7:80"
probe 10.20.5.7 81 "REDIR 10.20.5.7:81"
probe fd00:20::7 80 "REDIR [fd00:20::7]:80"
probe 10.99.0.1 80 "LOCAL 10.99.0.1:80"

# The listeners, and so the families, are those of the first series.
expect ok clear
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
rs=$(ruleset)
printf '%s\n' "$rs" | grep -q -e "chain prerouting" -e "chain lan" &&
    fail "prerouting chains kept" || pass "prerouting chains removed"
printf '%s\n' "$rs" | grep -q -e "ip6 daddr fd00" -e "nfproto ipv6 redirect" &&
    fail "IPv6 subnet rules kept"
probe fd00:20::7 81 "REAL [fd00:20::7]:81"
probe 10.20.5.7 81 "REDIR 10.20.5.7:81"

# --- 3: SIGKILL of the helper ---------------------------------------------------
echo "== helper killed"
expect alive alive
helper=$(pgrep -P "$DPID")
if [ -z "$helper" ]; then
	fail "no helper process under $DPID"
else
	[ -e /proc/"$DPID"/fd/7 ] || fail "the driver has no fd 7 to leak"
	# 0-2 inherited, 3 its socketpair end, 4 the netlink socket, 5 and 6
	# the listeners it keeps.
	fds=$(ls /proc/"$helper"/fd | sort -n | tr '\n' ' ')
	[ "$fds" = "0 1 2 3 4 5 6 " ] && pass "helper descriptors: $fds" ||
	    fail "helper descriptors: $fds"
	cloexec_from 4 "$helper" &&
	    pass "netlink socket and listeners are close-on-exec" ||
	    fail "helper descriptors not close-on-exec"
	kill -9 "$helper"
	wait_gone && pass "SIGKILL of the helper removed the table" ||
	    fail "table still there after SIGKILL"
	sleep 0.2
	expect dead alive
	expect "error: firewall helper exited*" apply
fi
expect stopped stop
drv_end

# --- 4: clean stop, EOF, death of the client ----------------------------------------
echo "== stop"
: >"$LOG"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
has_table && pass "table installed" || fail "table missing"
expect stopped stop
has_table && fail "table left after fw_stop" || pass "fw_stop removed the table"
grep -q "cshuttle-fw: delete table inet cshuttle_$PORT" "$LOG" &&
    pass "helper deleted the table itself" || fail "no delete logged"
drv_end

drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
helper=$(pgrep -P "$DPID")
drv_end		# EOF: the driver calls fw_stop() on its way out
has_table && fail "table left after EOF" || pass "EOF removed the table"
[ -n "$helper" ] && kill -0 "$helper" 2>/dev/null && fail "helper outlived fw_stop"

drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
helper=$(pgrep -P "$DPID")
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=
wait_gone && pass "client SIGKILL removed the table" ||
    fail "table left after the client died"
for _ in $(seq 30); do
	[ -n "$helper" ] && kill -0 "$helper" 2>/dev/null || break
	sleep 0.1
done
[ -n "$helper" ] && kill -0 "$helper" 2>/dev/null &&
    fail "helper outlived its client" || pass "helper ended with its client"

# --- 5: the helper's input validation ---------------------------------------------
echo "== validation"
# Each bad series is sent with the input kept open: the helper must
# answer ERR and exit by itself, leaving no table behind.
bad_series() {	# WANT-GLOB LINES
	local want=$1 lines=$2 fifo=$TMP/in out=$TMP/out pid fd rc
	rm -f "$fifo"
	mkfifo "$fifo"
	ip netns exec "$NS" "$DRIVE" --firewall <"$fifo" >"$out" 2>/dev/null &
	pid=$!
	exec {fd}>"$fifo"
	printf '%b' "$lines" >&"$fd"
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "helper still running after: $lines"
		kill -9 "$pid"
	fi
	wait "$pid"
	rc=$?
	exec {fd}>&-
	got=$(tail -1 "$out")
	# shellcheck disable=SC2053
	if [[ $got == $want ]] && [ "$rc" = 1 ] && ! has_table; then
		pass "refused: $got"
	else
		fail "series '$lines': rc $rc, got '$got', want '$want'"
	fi
}
bad_series "ERR SUBNET: host bits set in 10.0.0.1/8" \
    "SUBNET inc 4 10.0.0.1 8 0 65535\nAPPLY\n"
bad_series "ERR unknown request or wrong field count (PORT)" "PORT $PORT\n"
bad_series "ERR SUBNET: bad IPv4 address" "SUBNET inc 4 fd00:: 8 0 65535\n"
bad_series "ERR unknown request*" "FLUSH\n"
# Longer than FW_PROTO_MAXLINE (firewall/fw_proto.h), which HOST lines raised to 320.
bad_series "ERR request line too long" "$(printf 'X%.0s' $(seq 1000))\n"
bad_series "ERR APPLY without LISTEN" "APPLY\n"
bad_series "ERR EXEMPT: more than 8" \
    "$(for _ in $(seq 9); do printf 'EXEMPT 4 192.0.2.1 22\\n'; done)"
bad_series "ERR DNS: bad IPv4 address" "DNS 4 fd00::53\n"
bad_series "ERR BLOCKLEAKS: expected 0 or 1" "BLOCKLEAKS yes\n"
bad_series "ERR MARK inside a series" "BLOCKLEAKS 1\nMARK\n"
bad_series "ERR unknown request or wrong field count (MARK)" "MARK 4 udp\n"
bad_series "ERR SCOPE: expected caller or host" "SCOPE everyone\n"
# Descriptors cannot come through a pipe (as under sudo with I/O logging).
bad_series "ERR LISTEN: descriptors cannot reach the helper: its input is not a socket (sudo with I/O logging?)" \
    "LISTEN\n"

# Requests written by hand, on a socket: each bad one is refused and ends
# the helper; what is accepted works.  $1 the wanted replies, joined with
# " / " (a glob), $2 the script.
hand() {
	local out
	out=$(fwreq "$2" | paste -sd '|' | sed 's/|/ \/ /g')
	# shellcheck disable=SC2053
	if [[ $out == $1 ]] && ! has_table; then
		pass "by hand: $out"
	else
		fail "by hand: got '$out', want '$1'"
	fi
}
L="LISTEN < tcp 127.0.0.1 $PORT listen"
hand "READY 4 0 / ERR LISTEN: not a TCP socket / rc 1" "?
LISTEN < udp 127.0.0.1 $PORT"
hand "READY 4 0 / ERR LISTEN: the socket is not listening / rc 1" "?
LISTEN < tcp 127.0.0.1 $PORT"
hand "READY 4 0 / ERR LISTEN: 1 descriptor missing / rc 1" "?
LISTEN"
hand "READY 4 0 / OK / ERR LISTEN: only in the first series (the port cannot change) / rc 1" "?
$L
APPLY
?
LISTEN < tcp ::1 $PORT listen"
hand "READY 4 0 / ERR DNS: 10.30.0.53 given twice / rc 1" "?
$L
DNS 4 10.30.0.53 < udp 127.0.0.1 $DNS1 < tcp 127.0.0.1 $DNS1 listen
DNS 4 10.30.0.53 < udp 127.0.0.1 $DNS2 < tcp 127.0.0.1 $DNS2 listen"
hand "READY 4 0 / ERR DNS: an IPv6 listener for an IPv4 nameserver / rc 1" "?
$L
DNS 4 10.30.0.53 < udp ::1 $DNS1 < tcp ::1 $DNS1 listen"
hand "READY 4 0 / ERR PREROUTING 1 without ALLOW / rc 1" "?
$L
PREROUTING 1
APPLY"
hand "READY 4 0 / ERR APPLY: 1 descriptor too many / rc 1" "?
$L
BLOCKLEAKS 0 < udp -4 0
APPLY"
# MARK before any rules, then on sockets of ours, then a wrong one.
hand "READY 4 0 / NOMARK 22 no rules applied yet / OK / MARK / mark $MARK / MARK / mark $MARK / ERR MARK: not an IPv4 or IPv6 socket / rc 1" "?
MARK < udp -4 0
?
$L
APPLY
?
MARK < udp -6 0
?
?mark
MARK < tcp -4 0
?
?mark
MARK < unix
?"
hand "READY 4 0 / OK / ERR MARK: not an IPv4 or IPv6 socket / rc 1" "?
$L
APPLY
?
MARK < pipe"

# A good series on the helper's own stdin, then EOF.
out=$(FWREQ_V=-v fwreq "?
$L
SUBNET inc 4 10.0.0.0 8 0 65535
APPLY
?" 2>"$TMP/h.log" | paste -sd '|')
[ "$out" = "READY 4 0|OK|rc 0" ] && ! has_table &&
    grep -q "cshuttle-fw: delete table" "$TMP/h.log" &&
    pass "stdin helper: READY, OK, table deleted at EOF" ||
    fail "stdin helper: '$out'"

# The largest request: every subnet slot used, both chains, one batch of
# about 2,000 messages and as many acks.
rm -f "$TMP/big.done"
{
	printf '?\n%s\nLISTEN < tcp ::1 %s listen\n' "$L" "$PORT"
	printf 'PREROUTING 1\nALLOW 4 10.40.0.0 24\n'
	for i in $(seq 0 511); do
		printf 'SUBNET inc 4 10.%d.%d.0 24 0 65535\n' $((i / 256)) $((i % 256))
		printf 'SUBNET exc 6 fd00:%x:: 32 1000 2000\n' "$i"
	done
	printf 'APPLY\n?\n'
	until [ -e "$TMP/big.done" ]; do sleep 0.1; done
} | ip netns exec "$NS" python3 "$FW_REQ" -- "$DRIVE" --firewall \
    >"$TMP/big.out" 2>"$TMP/big.log" &
bigpid=$!
for _ in $(seq 100); do
	[ "$(wc -l <"$TMP/big.out")" -ge 2 ] && break
	sleep 0.1
done
n=$(ip netns exec "$NS" nft list table inet "cshuttle_$PORT" 2>/dev/null |
    grep -c -e "redirect to :$PORT" -e "tcp dport 1000-2000 return")
[ "$(sed -n 2p "$TMP/big.out")" = OK ] && [ "$n" = 2048 ] &&
    pass "1024 subnets in both chains in one batch" ||
    fail "large batch: '$(cat "$TMP/big.out")', $n rules, $(cat "$TMP/big.log")"
touch "$TMP/big.done"
wait "$bigpid"
wait_gone || fail "table left after the large batch"

# A table we do not own, left by someone else, is never adopted.
ip netns exec "$NS" nft add table inet "cshuttle_$PORT"
out=$(fwreq "?
$L
APPLY
?" | grep '^ERR')
case $out in
*"File exists (is another cshuttle using port $PORT?)") pass "foreign table: $out" ;;
*)	fail "foreign table: '$out'" ;;
esac
ip netns exec "$NS" nft delete table inet "cshuttle_$PORT"

# --- 6: DNS capture, marked sockets ----------------------------------------------
echo "== dns capture"
: >"$LOG"
drv_start
expect started start
# No mark before the first apply: nothing to ask the helper for.
expect "mark 0x00000000" mark
expect "error: Invalid argument" msock 4 udp
expect ok port "$PORT"
expect ok fam 46
expect ok inc 0.0.0.0/0
expect ok inc ::/0
expect ok exempt 10.20.5.7 22
expect ok dns 10.30.0.53 "$DNS1"
expect ok dns fd00:30::53 "$DNS2"
expect ok dns 127.0.0.53 "$DNS3"
expect applied apply
expect "mark $MARK" mark
in_order "meta mark $MARK return" \
    "ip daddr 10.30.0.53 udp dport 53 redirect to :$DNS1" \
    "ip daddr 10.30.0.53 tcp dport 53 redirect to :$DNS1" \
    "ip6 daddr fd00:30::53 udp dport 53 redirect to :$DNS2" \
    "ip6 daddr fd00:30::53 tcp dport 53 redirect to :$DNS2" \
    "ip daddr 127.0.0.53 udp dport 53 redirect to :$DNS3" \
    "ip daddr 127.0.0.53 tcp dport 53 redirect to :$DNS3" \
    "nfproto ipv4 fib daddr type local return" \
    "ip daddr 10.20.5.7 tcp dport 22 return" \
    "meta nfproto ipv4 redirect to :$PORT"
ruleset | grep -q "leak_" && fail "leak protection without BLOCKLEAKS"
# Each nameserver's queries reach its own listener, UDP and TCP; TCP to a
# nameserver inside 0/0 is DNS, not the generic redirect (sshuttle sends
# it to its TCP proxy); a nameserver on a local address is caught before
# "fib daddr type local return".
uprobe 10.30.0.53 53 "DNS $DNS1"
tprobe 10.30.0.53 53 "DNS $DNS1 10.30.0.53:53"
uprobe fd00:30::53 53 "DNS $DNS2"
tprobe fd00:30::53 53 "DNS $DNS2 \[fd00:30::53\]:53"
uprobe 127.0.0.53 53 "DNS $DNS3"
tprobe 127.0.0.53 53 "DNS $DNS3 127.0.0.53:53"
# Another server's port 53 is not DNS capture: TCP takes 0/0, UDP goes out.
probe 10.30.0.7 53 "REDIR 10.30.0.7:53"
uprobe 10.30.0.7 53 "REAL 53"
# A query sent straight to a DNS listener gets nothing.
uprobe 127.0.0.1 "$DNS1" TIMEOUT
tprobe 127.0.0.1 "$DNS1" TIMEOUT
tprobe ::1 "$DNS2" TIMEOUT
# Our own sockets, marked by the helper, pass both: they reach the real
# nameserver.
m="msock mark $MARK nonblock cloexec:"
expect "$m REAL 53" msock 4 udp 10.30.0.53 53
expect "$m REAL 10.30.0.53:53" msock 4 tcp 10.30.0.53 53
expect "$m REAL 53" msock 6 udp fd00:30::53 53
expect "$m REAL \[fd00:30::53\]:53" msock 6 tcp fd00:30::53 53
expect "$m REAL 10.20.5.7:80" msock 4 tcp 10.20.5.7 80
# It keeps the listeners (5, 6) and the DNS listeners of its rules
# (7-12), none of the sockets it marked.
helper=$(pgrep -P "$DPID")
fds=$(ls /proc/"$helper"/fd 2>/dev/null | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 4 5 6 7 8 9 10 11 12 " ] &&
    pass "the helper keeps no marked socket: $fds" ||
    fail "helper descriptors after msock: $fds"
expect stopped stop
drv_end
has_table && fail "table left after the DNS run"

# --- 7: leak protection -------------------------------------------------------------
echo "== leak protection: 0/0, not ::/0"
: >"$LOG"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 46
expect ok prerouting 1
expect ok allow 10.40.0.0/24
expect ok inc 0.0.0.0/0
expect ok exc 10.20.5.0/24
expect ok exempt 2001:db8:99::7 22
expect ok dns 10.30.0.53 "$DNS1"
expect ok dns fd00:30::53 "$DNS2"
expect ok leaks 1
expect applied apply
rs=$(ruleset)
for pat in "chain leak_output" "type filter hook output priority filter; policy accept;" \
    "chain leak_forward" "type filter hook forward priority filter; policy accept;" \
    "ip saddr 10.40.0.0/24 goto leak_lan" "chain leak_lan" \
    "meta mark $MARK accept" 'oif "lo" accept' "ct direction reply accept" \
    "ip6 daddr 2001:db8:99::7 tcp dport 22 accept" \
    "meta nfproto ipv6 limit rate 10/second log group $PORT snaplen 128" \
    "reject with icmpv6 admin-prohibited" \
    "meta l4proto udp reject with icmp port-unreachable" \
    "ip daddr 10.20.5.0/24 accept"; do
	printf '%s\n' "$rs" | grep -q -F -- "$pat" && pass "ruleset has '$pat'" ||
	    fail "ruleset lacks '$pat'"
done
# IPv6 is refused at once (so applications fall back to IPv4), except the
# SSH server, link-local, loopback and replies to inbound connections.
refused tcp 2001:db8:99::7 80
refused udp 2001:db8:99::7 5353
refused tcp fd00:20::7 80
probe 2001:db8:99::7 22 "REAL [2001:db8:99::7]:22"
tprobe fe80::7%veth0 80 "REAL ?fe80::7*:80"
uprobe fe80::7%veth0 5353 "REAL 5353"
probe ::1 7070 "LOCAL [::1]:7070"
uprobe ::1 5353 "LOCAL 5353"
uprobe 2001:db8:99::7 547 "REAL 547"
uprobe fd00:30::53 53 "DNS $DNS2"	# captured: on loopback by now
tprobe fd00:30::53 53 "DNS $DNS2 \[fd00:30::53\]:53"
refused udp fd00:30::53 5353
out=$(ip netns exec "$PEER" python3 "$FW_NET" line fd00:20::1 7071)
[ "$out" = "LOCAL [fd00:20::1]:7071" ] &&
    pass "an inbound IPv6 connection is answered: $out" ||
    fail "inbound IPv6 connection: '$out'"
# IPv4 UDP is refused, except captured DNS (redirected to loopback before
# the filter sees it), DHCP, link-local, loopback and the excluded subnet;
# IPv4 TCP is the redirect's business.
refused udp 192.0.2.7 5353
refused udp 10.30.0.53 5353
uprobe 10.30.0.53 53 "DNS $DNS1"
refused udp 10.30.0.7 53	# with capture, another server's port 53 is a leak
uprobe 192.0.2.7 67 "REAL 67"
uprobe 169.254.7.7 5353 "REAL 5353"
uprobe 127.0.0.1 5353 "LOCAL 5353"
uprobe 10.20.5.7 5353 "REAL 5353"
probe 192.0.2.7 80 "REDIR 192.0.2.7:80"
probe 10.20.5.7 80 "REAL 10.20.5.7:80"
# The marked sockets pass.
expect "$m REAL 5353" msock 4 udp 192.0.2.7 5353
expect "$m REAL 5353" msock 6 udp 2001:db8:99::7 5353
expect "$m REAL \[2001:db8:99::7\]:80" msock 6 tcp 2001:db8:99::7 80
# A LAN host routed through us: its UDP is refused by the forward chain.
refused udp 192.0.2.7 5353 "$LAN"

# -v: one line per blocked packet, and none for what passed.
want_log() {
	for _ in $(seq 20); do
		grep -q -F -- "cshuttle-fw: $1" "$LOG" && break
		sleep 0.1
	done
	grep -q -F -- "cshuttle-fw: $1" "$LOG" && pass "logged: $1" ||
	    fail "not logged: $1"
}
want_log "blocked tcp [2001:db8:99::7]:80 (leak protection)"
want_log "blocked udp [2001:db8:99::7]:5353 (leak protection)"
want_log "blocked udp 192.0.2.7:5353 (leak protection)"
want_log "blocked udp 10.30.0.53:5353 (leak protection)"
want_log "blocked udp 10.30.0.7:53 (leak protection)"
want_log "blocked udp 192.0.2.7:5353 from 10.40.0.2 (leak protection)"
# (port 53 of the captured servers passed; 10.30.0.7:53 was refused)
grep -E "blocked .*(:22 |:67 |:547 |10\.30\.0\.53:53 |\[fd00:30::53\]:53 |fe80|169\.254|127\.0\.0\.1|::1|10\.20\.5\.7)" \
    "$LOG" && fail "a packet that passed was logged as blocked"
grep -q "^$PORT " <(ip netns exec "$NS" cat /proc/net/netfilter/nfnetlink_log) &&
    pass "nflog group $PORT is bound" || fail "nflog group $PORT not bound"
# 0-4, the listeners 5 and 6, two DNS listener pairs 7-10, nflog 11.
helper=$(pgrep -P "$DPID")
fds=$(ls /proc/"$helper"/fd 2>/dev/null | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 4 5 6 7 8 9 10 11 " ] && cloexec_from 4 "$helper" &&
    pass "helper descriptors with nflog: $fds, close-on-exec" ||
    fail "helper descriptors with nflog: '$fds'"

# A flood cannot fill the log: the rules pass 10/s each, the helper
# writes 5/s after a burst of 20, and counts the rest.
before=$(grep -c "cshuttle-fw: blocked" "$LOG")
sent=$(ip netns exec "$NS" python3 "$FW_NET" flood 3 192.0.2.7:9999 \
    "[2001:db8:99::7]:9999")
sleep 0.5
n=$(( $(grep -c "cshuttle-fw: blocked" "$LOG") - before ))
[ "${sent:-0}" -ge 1000 ] && [ "$n" -ge 5 ] && [ "$n" -le 40 ] &&
    pass "flood of $sent packets: $n lines" ||
    fail "flood of $sent packets: $n lines"

# --- 8: a re-apply replaces the filter chains too --------------------------------
echo "== leak protection: 0/0 and ::/0, then off"
expect ok clear
expect ok port "$PORT"
expect ok fam 46
expect ok inc 0.0.0.0/0
expect ok inc ::/0
expect ok leaks 1
expect applied apply
rs=$(ruleset)
printf '%s\n' "$rs" | grep -q "chain leak_output" &&
    ! printf '%s\n' "$rs" | grep -q -e "chain leak_forward" -e "admin-prohibited" \
    -e "chain prerouting" -e "chain leak_lan" -e "chain lan" &&
    pass "filter chains replaced" ||
    fail "filter chains after re-apply: $rs"
probe 2001:db8:99::7 80 "REDIR [2001:db8:99::7]:80"
refused udp 2001:db8:99::7 5353
refused udp 192.0.2.7 5353
# No DNS line any more (no --dns): lookups go to this network's resolvers
# as without cshuttle, or no name would resolve at all.
uprobe 10.30.0.53 53 "REAL 53"
uprobe fd00:30::53 53 "REAL 53"
expect ok clear
expect ok port "$PORT"
expect ok fam 46
expect ok prerouting 1
expect ok allow 10.40.0.0/24
expect ok inc 0.0.0.0/0
expect ok leaks 0
expect applied apply
ruleset | grep -q "leak_" && fail "filter chains left with leaks 0" ||
    pass "--no-block-leaks: no filter chain"
probe 2001:db8:99::7 80 "REAL [2001:db8:99::7]:80"
uprobe 192.0.2.7 5353 "REAL 5353"
uprobe 192.0.2.7 5353 "REAL 5353" "$LAN"
expect stopped stop
drv_end
grep -q "cshuttle-fw: [0-9]* more blocked packets not logged (leak protection)" "$LOG" &&
    pass "the helper counted what it did not log" ||
    fail "no count of unlogged packets"
has_table && fail "table left after the leak protection run" ||
    pass "no table after the leak protection run"
grep -q "^$PORT " <(ip netns exec "$NS" cat /proc/net/netfilter/nfnetlink_log) &&
    fail "nflog group $PORT still bound" || pass "nflog group unbound"

# --- 9: the sudo path, as an unprivileged user ----------------------------------------
echo "== sudo path"
mkdir -p "$TMP/bin"
cat >"$TMP/bin/sudo" <<'EOF'
#!/bin/sh
# Stand-in for sudo: check the arguments, then run the command unprivileged.
echo "fake-sudo: $*" >&2
[ "$1" = -p ] && [ "$2" = "[cshuttle] password for %u: " ] && [ "$3" = -- ] ||
	{ echo "fake-sudo: unexpected arguments" >&2; exit 1; }
shift 3
exec "$@"
EOF
chmod 755 "$TMP/bin" "$TMP/bin/sudo"
: >"$LOG"
drv_start setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env PATH="$TMP/bin:$PATH"
expect started start
expect "caller 65534" caller
expect ok port "$PORT"
expect ok fam 4
expect ok scope caller
expect ok inc 10.0.0.0/8
expect "error: kernel refused the batch: Operation not permitted (the firewall needs root or CAP_NET_ADMIN)" apply
grep -q -F -x -- "fake-sudo: -p [cshuttle] password for %u:  -- $DRIVE --firewall -v" "$LOG" &&
    pass "sudo command line" || fail "sudo command line: $(grep fake-sudo "$LOG")"
has_table && fail "unprivileged helper created a table"
expect stopped stop
drv_end

# sudo refusing (wrong password, no sudoers entry): a clear error.
mkdir -p "$TMP/nosudo"
printf '#!/bin/sh\necho "fake-sudo: refusing" >&2\nexit 1\n' >"$TMP/nosudo/sudo"
chmod 755 "$TMP/nosudo" "$TMP/nosudo/sudo"
drv_start setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env PATH="$TMP/nosudo:$PATH"
expect "error: firewall helper did not start (sudo refused*" start
drv_end

# The real sudo (Debian's sudoers has use_pty): the socketpair must reach
# the helper as its stdin and stdout, or no descriptor can be passed.  As
# root, so no sudoers entry is needed.
out=$(fwreq "?
LISTEN < tcp 127.0.0.1 $PORT listen
APPLY
?
MARK < udp -4 0
?
?mark" sudo -n -- | paste -sd '|' | sed 's/|/ \/ /g')
[ "$out" = "READY 4 0 / OK / MARK / mark $MARK / rc 0" ] && ! has_table &&
    pass "real sudo: $out" || fail "real sudo: '$out'"

# --- 10: a LAN gateway serves the allowed sources only ---------------------------------
echo "== allowed sources"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok laddr 0.0.0.0
expect ok prerouting 1
expect ok allow 10.40.0.2/32
expect ok inc 10.30.0.0/24
expect applied apply
ruleset | grep -q "ip saddr 10.40.0.2 goto lan" && pass "a goto for 10.40.0.2" ||
    fail "no goto for 10.40.0.2: $(ruleset)"
ruleset | grep -q -F "meta nfproto ipv4 tcp dport $PORT ct direction original ct status ! dnat drop" &&
    pass "the wildcard listener is guarded on its port" ||
    fail "no port-only drop rule for the wildcard listener"
tprobe 10.30.0.7 80 "REDIR 10.30.0.7:80" "$LAN"
# A direct connection to the listener, from the LAN or from here, is
# dropped: forwarded, it would come back to the listener (a loop).
tprobe 10.40.0.1 "$PORT" TIMEOUT "$LAN"
tprobe 10.20.5.1 "$PORT" TIMEOUT
expect ok clear
expect ok prerouting 1
expect ok allow 192.0.2.0/24
expect ok inc 10.30.0.0/24
expect applied apply
tprobe 10.30.0.7 80 "REAL 10.30.0.7:80" "$LAN"	# not an allowed source
probe 10.30.0.7 80 "REDIR 10.30.0.7:80"		# this host: the output chain
expect stopped stop
drv_end
has_table && fail "table left after the allowed sources"

# --- 11: a caller other than root gets rules for its own sockets ----------------------------
echo "== non-root caller"
# The socketpair is made by nobody (as sudo's caller would make it), the
# helper runs as root: its caller is nobody.  In a mount namespace of its
# own, with an empty /run and no policy file, so that the host's slot
# directory and policy stay as they are.
rm -f "$TMP/nr.done"
{
	printf '?\nLISTEN < tcp 127.0.0.1 %s serve\nLISTEN < tcp ::1 %s serve\n' \
	    "$PORT" "$PORT"
	printf 'SUBNET inc 4 10.30.0.0 24 0 65535\nAPPLY\n?\n'
	until [ -e "$TMP/nr.done" ]; do sleep 0.1; done
} | ip netns exec "$NS" unshare -m --propagation private -- sh -c '
	mount -n -t tmpfs cshuttle-test /run
	[ -d /etc/cshuttle ] && mount -n -t tmpfs cshuttle-test /etc/cshuttle
	exec "$@"' sh python3 "$FW_REQ" --peer-as 65534:65534 -- "$DRIVE" --firewall \
    >"$TMP/nr.out" 2>"$TMP/nr.log" &
nrpid=$!
for _ in $(seq 100); do
	[ "$(wc -l <"$TMP/nr.out")" -ge 2 ] && break
	sleep 0.1
done
[ "$(paste -sd '|' "$TMP/nr.out")" = "READY 4 65534|OK" ] &&
    pass "nobody's series applied" ||
    fail "nobody's series: '$(cat "$TMP/nr.out")' $(cat "$TMP/nr.log")"
text=$(ip netns exec "$NS" nft list chain inet "cshuttle_$PORT" output | grep -e return -e redirect)
n=$(printf '%s\n' "$text" | grep -c .)
k=$(printf '%s\n' "$text" | grep -c "meta skuid 65534 ")
[ "$n" -gt 0 ] && [ "$n" = "$k" ] && pass "every output rule matches meta skuid 65534 ($k of $n)" ||
    fail "skuid on $k of $n output rules: $text"
probe 10.30.0.7 80 "REAL 10.30.0.7:80"		# root's: untouched
got=$(ip netns exec "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$FW_PY" "$FW_NET" line 10.30.0.7 80)
[ "$got" = "REDIR 10.30.0.7:80" ] && pass "nobody's connection is redirected" ||
    fail "nobody's connection: '$got'"
touch "$TMP/nr.done"
wait "$nrpid"
[ "$(tail -1 "$TMP/nr.out")" = "rc 0" ] && pass "nobody's helper ended at EOF" ||
    fail "nobody's helper: $(cat "$TMP/nr.out")"
wait_gone || fail "table left after the non-root caller"

echo
if [ "$FAILS" -ne 0 ]; then
	echo "fw_nft_test: $FAILS failure(s)"
	echo "--- driver log"; cat "$LOG"
	exit 1
fi
echo "fw_nft_test: all passed"
exit 0
