#!/bin/bash
# SPDX-License-Identifier: ISC
#
# fw_udp_test.sh - UDP capture (nftables TPROXY and policy routing) of the
# firewall module against the real kernel.
#
# usage: fw_udp_test.sh [path/to/fw_drive]	(or FW_DRIVE=path)
#
# The namespaces of fw_nft_test.sh (fw_nft_lab.sh), made for this run and
# removed at the end: "csfw<pid>" plays this host (the driver, its
# helper, its UDP sockets), "csfwp<pid>" the network behind the tunnel,
# "csfwl<pid>" a LAN host routed by this one.  A datagram the rules
# capture reaches the driver's UDP socket (urecv, with its original
# destination); a reply socket from the helper (usock) answers it from
# that destination.
# Exit 0: passed, 1: failed.
#
set -u

DRIVE=${1:-${FW_DRIVE:-}}
NS=csfw$$
PEER=csfwp$$
LAN=csfwl$$
PORT=12300
T=0x6375300c	# FW_TPROXY_MARK_BASE | PORT
R=0x6376300c	# FW_REPLY_MARK_BASE | PORT
TDEC=$((T))
PRIO=5000	# FW_UDP_RULE_PRIO

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lab/need.sh
. "$here/../lab/need.sh"
# shellcheck source=fw_nft_lab.sh
. "$here/fw_nft_lab.sh"

lab_need_root "network namespaces, nftables, policy routing"
lab_need ip iproute2 nft nftables python3 python3
if [ -z "$DRIVE" ] || [ ! -x "$DRIVE" ]; then
	echo "FAIL: fw_drive not given or not executable (usage: $0 path/to/fw_drive)"
	exit 1
fi
DRIVE=$(readlink -f "$DRIVE")
fw_lab_up

# ipr ARGS...: ip in this host's namespace
ipr() { ip -n "$NS" "$@"; }

# has_rule 4|6 MARK: an ip rule "fwmark MARK lookup MARK" exists
has_rule() {
	ipr -"$1" rule show | grep -q "fwmark $2 lookup $(($2))"
}

# has_route 4|6 TABLE: the table has a route
has_route() {
	[ -n "$(ipr -"$1" route show table "$(($2))" 2>/dev/null)" ]
}

# sender NAME NS HOST PORT: udpfrom in the background, output in $TMP/NAME
sender() {
	ip netns exec "$2" python3 "$FW_NET" udpfrom "$3" "$4" 4 >"$TMP/$1" 2>&1 &
	BGPIDS+=($!)
	SENDER=$!
	sleep 0.3
}

# answer NAME WANT: the background sender's output is WANT (a glob)
answer() {
	local got
	wait "$SENDER" 2>/dev/null
	got=$(cat "$TMP/$1")
	# shellcheck disable=SC2053
	if [[ $got == $2 ]]; then
		pass "sender $1 -> $got"
	else
		fail "sender $1: got '$got', want '$2'"
	fi
}

# glob TEXT: TEXT as a glob that matches it alone ([ and ] of IPv6
# addresses escaped)
glob() { printf '%s' "$1" | sed 's/[][*?]/\\&/g'; }

# captured NAME NS HOST PORT WANTFROM: a datagram reaches the driver with
# its original destination, and the reply socket's answer comes back
# from that destination; WANTFROM is the sender's address, a glob
captured() {
	local name=$1 ns=$2 host=$3 port=$4 from=$5 orig fam=4
	case $host in *:*) orig="[$host]:$port"; fam=6 ;; *) orig=$host:$port ;; esac
	orig=$(glob "$orig")
	sender "$name" "$ns" "$host" "$port"
	expect "urecv $orig from $from: ping" urecv
	expect "usock $orig mark $R: sent" usock "$fam" "$host" "$port" peer
	answer "$name" "FROM $orig REPLY $orig"
}

# not_captured NAME NS HOST PORT WANT: the datagram does not reach the
# driver; the sender gets WANT (a glob: the real server, or nothing)
not_captured() {
	sender "$1" "$2" "$3" "$4"
	expect "urecv none" urecv
	answer "$1" "$5"
}

# --- 1: install --------------------------------------------------------------
echo "== install"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 46
expect ok udp
expect ok prerouting 1
expect ok allow 10.40.0.0/24
expect ok inc 10.0.0.0/8
expect ok exc 10.20.5.0/24
expect ok inc fd00::/8
expect ok exc fd00:20::/64
expect ok exempt 10.30.0.7 22
expect applied apply

rs=$(ruleset)
for pat in "chain udp_output" "type route hook output priority mangle; policy accept;" \
    "chain udp_prerouting" "type filter hook prerouting priority mangle; policy accept;" \
    "meta l4proto udp meta nfproto ipv4 meta mark $T tproxy ip to 127.0.0.1:$PORT meta mark set $T accept" \
    "meta l4proto udp meta nfproto ipv6 meta mark $T tproxy ip6 to [::1]:$PORT meta mark set $T accept" \
    "meta l4proto udp ip daddr 10.0.0.0/8 meta mark set $T" \
    "meta l4proto udp ip daddr 224.0.0.0/4 return" \
    "ip saddr 10.40.0.0/24 goto udp_lan" \
    "chain udp_reply" "meta mark $R drop"; do
	if printf '%s\n' "$rs" | grep -q -F -- "$pat"; then
		pass "ruleset has '$pat'"
	else
		fail "ruleset lacks '$pat'"
	fi
done
for f in 4 6; do
	has_rule $f $T && pass "ip -$f rule fwmark $T lookup $TDEC" ||
	    fail "no ip -$f rule for $T: $(ipr -$f rule show)"
	ipr -$f rule show | grep -q "^$PRIO:.*fwmark $T lookup $TDEC" &&
	    pass "ip -$f rule at priority $PRIO" || fail "ip -$f rule priority"
	ipr -$f route show table "$TDEC" | grep -q "^local default dev lo" &&
	    pass "ip -$f route table $TDEC: local default dev lo" ||
	    fail "ip -$f route table $TDEC: $(ipr -$f route show table "$TDEC")"
done
# The UDP sockets are transparent: they may send from any address, so
# they are confined as the reply sockets are.
expect "umark $R $R" umark
grep -q "cshuttle-fw: ip -4 rule add fwmark $T lookup $TDEC priority $PRIO" "$LOG" &&
    pass "helper logged the policy rule" || fail "no policy rule logged"

# --- 2: capture ----------------------------------------------------------------
echo "== capture"
captured c4 "$NS" 10.30.0.7 4444 "10.20.5.1:*"
captured c6 "$NS" fd00:30::7 4446 "\\[fd00:20::1\\]:*"
# Port 53 of a server that is not a captured nameserver: plain UDP.
captured c53 "$NS" 10.30.0.53 53 "10.20.5.1:*"
# From the LAN host, through prerouting.
captured lan "$LAN" 10.30.0.7 4447 "10.40.0.2:*"

echo "== not captured"
# Excluded: the real server answers.
not_captured x4 "$NS" 10.20.5.7 5353 "FROM 10.20.5.7:5353 REAL*"
not_captured x6 "$NS" fd00:20::7 5353 "FROM \\[fd00:20::7\\]:5353 REAL*"
# A local address inside an included subnet (nothing listens there).
not_captured local "$NS" 10.99.0.1 5353 TIMEOUT
# Multicast and broadcast-like destinations, the exempt destination.
not_captured mcast "$NS" 224.1.2.3 5000 TIMEOUT
not_captured exempt "$NS" 10.30.0.7 22 TIMEOUT
# Outside the subnets: the real server.
not_captured out "$NS" 192.0.2.7 5353 "FROM 192.0.2.7:5353 REAL*"

# --- 3: reply sockets --------------------------------------------------------------
echo "== reply sockets"
# Only what the rules carry, never this host's own addresses.
expect "error: Invalid argument" usock 4 10.20.5.7 5353
expect "error: Invalid argument" usock 4 10.99.0.1 53
expect "error: Invalid argument" usock 4 224.1.2.3 5000
expect "error: Invalid argument" usock 4 10.30.0.7 22
expect "error: Invalid argument" usock 4 192.0.2.7 5353
expect "error: Invalid argument" usock 6 fe80::7 5353
expect "usock 10.30.0.7:4444 mark $R: no send" usock 4 10.30.0.7 4444
# Confined: towards an address neither local nor an allowed source,
# the packet is dropped (EPERM on send) and nothing arrives.
expect "usock 10.30.0.7:4444 mark $R: error: send: Operation not permitted" \
    usock 4 10.30.0.7 4444 192.0.2.7 5353
expect "usock \\[fd00:30::7\\]:4444 mark $R: error: send: Operation not permitted" \
    usock 6 fd00:30::7 4444 2001:db8:99::7 5353
# The UDP socket itself could send from any source address: confined
# the same way.
expect "error: send: Operation not permitted" uspoof 10.30.0.7 192.0.2.7 5353
expect sent uspoof 10.30.0.7 10.40.0.2 9
# ... towards the LAN host it goes.
expect "usock 10.30.0.7:4444 mark $R: sent" usock 4 10.30.0.7 4444 10.40.0.2 9

# Another helper starting meanwhile looks for stale rules: this
# instance's table exists (owned by its helper), so its rules stay.
out=$(fwreq "?" | paste -sd '|')
[ "$out" = "READY 4 0|rc 0" ] || fail "second helper: $out"
has_rule 4 $T && has_rule 6 $T && has_route 4 $T &&
    pass "a starting helper keeps a running instance's policy routing" ||
    fail "a starting helper removed a running instance's policy routing"
expect "urecv none" urecv

# --- 4: leak protection ------------------------------------------------------------
echo "== leak protection"
expect ok clear
expect ok port "$PORT"
expect ok fam 46
expect ok leaks 1
expect ok inc 0.0.0.0/0
expect ok inc ::/0
expect ok exc 10.20.5.0/24
expect ok exempt 10.30.0.7 22
expect applied apply
rs=$(ruleset)
printf '%s\n' "$rs" | sed -n '/chain leak_output/,/}/p' | grep -q "meta mark $T accept" &&
    pass "leak_output accepts carried UDP" || fail "leak_output: no mark $T accept"
# Carried, not blocked: any server, port 53 too.
captured l4 "$NS" 192.0.2.7 5353 "10.20.5.1:*"
captured l53 "$NS" 192.0.2.7 53 "10.20.5.1:*"
captured l6 "$NS" 2001:db8:99::7 5353 "\\[fd00:20::1\\]:*"
# Excluded: reachable, as before.
not_captured lx "$NS" 10.20.5.7 5353 "FROM 10.20.5.7:5353 REAL*"
# The exempt destination's UDP is still blocked (reject).
refused udp 10.30.0.7 22

# --- 5: the client killed ------------------------------------------------------------
echo "== client killed"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=
gone=no
for _ in $(seq 30); do
	if ! has_table && ! has_rule 4 $T && ! has_rule 6 $T && ! has_route 4 $T &&
	    ! has_route 6 $T; then
		gone=yes
		break
	fi
	sleep 0.1
done
[ $gone = yes ] && pass "client SIGKILL: table, ip rules and routes gone within 3 s" ||
    fail "left after the client died: $(ipr rule show; ipr -6 rule show; ruleset)"

# --- 6: the helper killed, and stale rules -----------------------------------------------
echo "== stale"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 46
expect ok udp
expect ok inc 10.0.0.0/8
expect applied apply
helper=$(pgrep -P "$DPID")
kill -9 "$helper"
wait_gone && pass "helper SIGKILL: the table goes with its socket" ||
    fail "table left after the helper was killed"
has_rule 4 $T && has_route 4 $T &&
    pass "helper SIGKILL: its ip rule and route stay (nobody left to remove them)" ||
    fail "ip rule gone after SIGKILL of the helper?"
drv_end

# A dead instance's (no table) and a live one's (its table exists),
# planted by hand.
DEAD=0x63753001
LIVE=0x63753002
ipr -4 rule add fwmark $DEAD lookup $((DEAD)) pref $PRIO
ipr -4 route add local default dev lo table $((DEAD))
ipr -6 rule add fwmark $DEAD lookup $((DEAD)) pref $PRIO
ipr -4 rule add fwmark $LIVE lookup $((LIVE)) pref $PRIO
ipr -4 route add local default dev lo table $((LIVE))
ip netns exec "$NS" nft add table inet cshuttle_12290	# LIVE & 0xffff
# An ip rule that only looks alike (table differs from the mark): not ours.
ipr -4 rule add fwmark $DEAD lookup 100 pref 5001

: >"$LOG"
drv_start
expect started start
for f in 4 6; do
	has_rule $f $T && fail "ip -$f rule of the killed helper still there" ||
	    pass "ip -$f rule of the killed helper removed at the next start"
	has_rule $f $DEAD && fail "ip -$f rule of a dead instance kept" ||
	    pass "ip -$f rule of a dead instance removed"
done
has_route 4 $T && fail "route table $TDEC kept" || pass "route table $TDEC flushed"
has_route 4 $DEAD && fail "route table $((DEAD)) kept" || pass "route table $((DEAD)) flushed"
has_rule 4 $LIVE && has_route 4 $LIVE &&
    pass "a live instance's ip rule and route are kept" || fail "live instance's rule removed"
ipr -4 rule show | grep -q "fwmark $DEAD lookup 100" &&
    pass "a look-alike rule is kept" || fail "a look-alike rule was removed"
grep -q "left by a dead instance on port 12289" "$LOG" &&
    pass "removal logged at -v" || fail "removal not logged: $(cat "$LOG")"
expect stopped stop
drv_end
ipr -4 rule del fwmark $LIVE lookup $((LIVE)) pref $PRIO
ipr -4 rule del fwmark $DEAD lookup 100 pref 5001
ipr -4 route flush table $((LIVE))
ip netns exec "$NS" nft delete table inet cshuttle_12290

# --- 7: no UDP sockets, no UDP capture -----------------------------------------------
echo "== no udp"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
ruleset | grep -q -e "chain udp_" -e tproxy && fail "UDP chains without UDP sockets" ||
    pass "no UDP sockets: no UDP chains"
has_rule 4 $T && fail "ip rule without UDP sockets" || pass "no UDP sockets: no ip rule"
expect "error: Invalid argument" usock 4 10.30.0.7 4444
expect stopped stop
drv_end

# --- 8: a mark of the caller's choice (--tmark) --------------------------------------
echo "== tmark"
M=0x100		# and table 256
MNFT=0x00000100	# as nft prints it
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 46
expect ok udp
expect ok tmark $M
expect ok inc 10.0.0.0/8
expect ok exc 10.20.5.0/24
expect ok inc fd00::/8
expect ok exc fd00:20::/64
expect applied apply
rs=$(ruleset)
for pat in "meta l4proto udp ip daddr 10.0.0.0/8 meta mark set $MNFT" \
    "meta l4proto udp meta nfproto ipv4 meta mark $MNFT tproxy ip to 127.0.0.1:$PORT meta mark set $MNFT accept" \
    "meta l4proto udp meta nfproto ipv6 meta mark $MNFT tproxy ip6 to [::1]:$PORT meta mark set $MNFT accept"; do
	printf '%s\n' "$rs" | grep -q -F -- "$pat" && pass "ruleset has '$pat'" ||
	    fail "ruleset lacks '$pat'"
done
printf '%s\n' "$rs" | grep -q -F "$T" && fail "the port's own mark $T is still used" ||
    pass "the port's own mark $T is not used"
printf '%s\n' "$rs" | grep -q -F "comment \"cshuttle tmark $MNFT\"" &&
    pass "the table's comment names the mark" || fail "no comment naming $MNFT"
for f in 4 6; do
	ipr -$f rule show | grep -q "^$PRIO:.*fwmark $M lookup $((M)) proto 115" &&
	    pass "ip -$f rule fwmark $M lookup $((M)) at priority $PRIO, proto 115" ||
	    fail "no ip -$f rule for $M: $(ipr -$f rule show)"
	ipr -$f route show table $((M)) | grep -q "^local default dev lo proto 115" &&
	    pass "ip -$f route table $((M)): local default dev lo" ||
	    fail "ip -$f route table $((M)): $(ipr -$f route show table $((M)))"
	has_rule $f $T && fail "ip -$f rule for $T too" || pass "no ip -$f rule for $T"
done
captured m4 "$NS" 10.30.0.7 4444 "10.20.5.1:*"
captured m6 "$NS" fd00:30::7 4446 "\\[fd00:20::1\\]:*"
not_captured mx "$NS" 10.20.5.7 5353 "FROM 10.20.5.7:5353 REAL*"
# The same mark for a second instance (another port): its rule is there.
out=$(ip netns exec "$NS" "$DRIVE" <<EOF2 2>>"$LOG"
start
port 12301
fam 4
udp
tmark $M
inc 10.0.0.0/8
apply
EOF2
)
[[ $out == *"error: "*"File exists"*"another cshuttle with this --tmark"* ]] &&
    pass "a mark in use is refused" || fail "a mark in use: $out"
ipr -4 rule show | grep -q "fwmark $M lookup $((M))" &&
    pass "... and the first instance keeps its rule" || fail "the rule in use was removed"
expect stopped stop
drv_end
gone=yes
for f in 4 6; do
	has_rule $f $M && gone=no
	has_route $f $M && gone=no
done
has_table && gone=no
[ $gone = yes ] && pass "tmark: table, ip rules and routes gone at exit" ||
    fail "tmark: left at exit: $(ipr rule show; ipr -6 rule show; ruleset)"

# A table with a default route of the host's own: refused, not replaced.
ipr -4 route add unreachable default table 257
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok udp
expect ok tmark 257
expect ok inc 10.0.0.0/8
expect "error: *route add local default dev lo table 257: File exists*" apply
drv_end
ipr -4 route show table 257 | grep -q "^unreachable default" &&
    pass "the host's route in table 257 is kept" || fail "table 257: $(ipr -4 route show table 257)"
has_rule 4 257 && fail "ip rule left for 257" || pass "no ip rule for 257"
ipr -4 route flush table 257

# After a SIGKILL of the helper the rule and route stay until the next
# start, which removes them: no table's comment names the mark any more.
# Beside them, planted by hand: a look-alike rule of no protocol (not
# ours: kept), and a rule and route of protocol 115 whose mark nobody
# names, in a table that also holds a route of the host's own (the rule
# and our route go, the host's route stays).
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 46
expect ok udp
expect ok tmark $M
expect ok inc 10.0.0.0/8
expect applied apply
helper=$(pgrep -P "$DPID")
kill -9 "$helper"
wait_gone && pass "tmark, helper SIGKILL: the table goes" || fail "table left"
drv_end
has_rule 4 $M && has_route 4 $M && has_rule 6 $M &&
    pass "tmark, helper SIGKILL: rule and route stay" ||
    fail "tmark: rule gone after SIGKILL of the helper?"
ipr -4 rule add fwmark 0x200 lookup 512 pref $PRIO
ipr -4 rule add fwmark 0x300 lookup 768 pref $PRIO protocol 115
ipr -4 route add local default dev lo table 768 proto 115
ipr -4 route add unreachable 10.9.9.0/24 table 768
: >"$LOG"
drv_start
expect started start
for f in 4 6; do
	has_rule $f $M && fail "ip -$f rule of $M kept at the next start" ||
	    pass "ip -$f rule of $M removed at the next start"
	has_route $f $M && fail "ip -$f route table $((M)) kept" ||
	    pass "ip -$f route table $((M)) flushed"
done
has_rule 4 0x200 && pass "a rule of no protocol is kept" ||
    fail "a rule of no protocol was removed"
has_rule 4 0x300 && fail "a leftover of proto 115 kept" ||
    pass "a leftover of proto 115 removed"
ipr -4 route show table 768 | grep -q "proto 115" &&
    fail "its route of proto 115 kept" || pass "its route of proto 115 removed"
ipr -4 route show table 768 | grep -q "^unreachable 10.9.9.0/24" &&
    pass "the host's route in that table is kept" ||
    fail "the host's route in table 768 was removed"
grep -q "left by a dead instance with that --tmark" "$LOG" &&
    pass "removal logged at -v" || fail "removal not logged: $(cat "$LOG")"
# A running instance with the mark keeps its rule when another starts.
expect ok port "$PORT"
expect ok fam 4
expect ok udp
expect ok tmark $M
expect ok inc 10.0.0.0/8
expect applied apply
out=$(fwreq "?" | paste -sd '|')
[ "$out" = "READY 4 0|rc 0" ] || fail "second helper: $out"
has_rule 4 $M && has_route 4 $M &&
    pass "a starting helper keeps a running instance's rule of its --tmark" ||
    fail "a starting helper removed a running instance's --tmark rule"
expect stopped stop
drv_end
ipr -4 rule del fwmark 0x200 lookup 512 pref $PRIO
ipr -4 route flush table 768

echo "fw_udp_test: $FAILS failure(s)"
[ "$FAILS" -eq 0 ]
