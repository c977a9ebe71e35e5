# SPDX-License-Identifier: ISC
# shellcheck shell=bash
#
# fw_nft_lab.sh - the namespaces, servers, probes and driver of
# fw_nft_test.sh (sourced by it, which sets NS, PEER, LAN, PORT, the DNS
# ports and DRIVE first).
#
#   fw_lab_up         private copies of the driver and of fw_req.py, the
#                     three namespaces and their servers (the programs:
#                     fw_nft_net.py; the driver serves its own listeners)
#   uprobe, tprobe,   what a UDP exchange or a TCP connection from a
#   refused, probe    namespace gets
#   drv_start, say,   fw_drive -v as a coprocess: one command, one answer
#   expect, drv_end
#   fwreq             requests written by hand (fw_req.py) to a helper
#   cloexec_from      every descriptor of a process from N is close-on-exec
#   ruleset, has_table, wait_gone, in_order: the table as nft lists it
#
# pass and fail report; FAILS counts the failures.  Everything is removed
# on exit (cleanup, armed by fw_lab_up before it creates anything).

FW_NET=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fw_nft_net.py
FW_REQ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fw_req.py
FW_PY=${LAB_PYTHON:-/usr/bin/python3}	# one that any user may run
TMP=
FAILS=0
BGPIDS=()
DPID=

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

cleanup() {
	local p
	exec 2>/dev/null
	for p in "${BGPIDS[@]}" $DPID; do
		kill -9 "$p"
	done
	# Anything still running in our own namespaces was started here.
	for ns in "$NS" "$PEER" "$LAN"; do
		for p in $(ip netns pids "$ns"); do
			kill -9 "$p"
		done
		ip netns del "$ns"
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}

fw_lab_up() {
	trap cleanup EXIT
	trap 'exit 1' INT TERM

	TMP=$(mktemp -d /tmp/csfw.XXXXXX) || exit 1
	chmod 755 "$TMP"	# the driver also runs as nobody, through a fake sudo
	# ... so run a copy that nobody can reach, whatever the permissions of the
	# build tree (a private checkout may be mode 0700).
	install -m 0755 "$DRIVE" "$TMP/fw_drive" || exit 1
	DRIVE=$TMP/fw_drive
	install -m 0644 "$FW_NET" "$TMP/fw_nft_net.py" || exit 1
	FW_NET=$TMP/fw_nft_net.py
	install -m 0644 "$FW_REQ" "$TMP/fw_req.py" || exit 1
	FW_REQ=$TMP/fw_req.py
	LOG=$TMP/drive.log
	: >"$LOG"

	fw_lab_net
	start_server "$PEER" real REAL \
		0.0.0.0 22 0.0.0.0 80 0.0.0.0 81 0.0.0.0 8080 :: 80 :: 81 \
		0.0.0.0 53 :: 53 :: 22
	start_server "$NS" local LOCAL 10.99.0.1 80 ::1 7070 :: 7071
	# The real nameservers and UDP services behind the peer; 67 and 547 stand
	# for DHCP servers.  A UDP server answers from the address it is bound to:
	# a wildcard one would answer from the peer's primary address, which a
	# connected client ignores.
	start_net "$PEER" udp udpsrv REAL 10.30.0.53 53 fd00:30::53 53 10.30.0.7 53 \
		192.0.2.7 5353 2001:db8:99::7 5353 192.0.2.7 67 2001:db8:99::7 547 \
		0.0.0.0 5353 :: 5353
	start_net "$NS" ludp udpsrv LOCAL 127.0.0.1 5353 ::1 5353
}

# The three namespaces: NS (this host), PEER (behind the tunnel, and the
# Internet), LAN (a host routed by NS).
fw_lab_net() {
	ip netns add "$NS" || exit 1
	ip netns add "$PEER" || exit 1
	ip netns add "$LAN" || exit 1
	# Any failure from here on ends the test (and cleanup runs).
	set -e
	ip -n "$NS" link set lo up
	ip -n "$PEER" link set lo up
	ip -n "$LAN" link set lo up
	ip -n "$NS" link add veth0 type veth peer name veth1 netns "$PEER"
	ip -n "$NS" addr add 10.20.5.1/24 dev veth0
	ip -n "$NS" addr add fd00:20::1/64 dev veth0 nodad
	ip -n "$NS" link set veth0 up
	ip -n "$PEER" addr add 10.20.5.7/24 dev veth1
	ip -n "$PEER" addr add fd00:20::7/64 dev veth1 nodad
	ip -n "$PEER" addr add 10.30.0.7/32 dev lo
	ip -n "$PEER" addr add fd00:30::7/128 dev lo
	ip -n "$PEER" link set veth1 up
	ip -n "$NS" route add 10.0.0.0/8 via 10.20.5.7
	ip -n "$NS" route add fd00::/8 via fd00:20::7
	# A local address inside an included subnet: must never be captured.
	ip -n "$NS" addr add 10.99.0.1/32 dev lo
	# The Internet is behind the peer too: so a blocked packet fails because
	# of a rule, never for want of a route.
	ip -n "$NS" route add default via 10.20.5.7
	ip -n "$NS" -6 route add default via fd00:20::7
	ip -n "$PEER" addr add 192.0.2.7/32 dev lo
	ip -n "$PEER" addr add 2001:db8:99::7/128 dev lo
	# Nameservers: 10.30.0.53 and fd00:30::53 behind the tunnel.
	ip -n "$PEER" addr add 10.30.0.53/32 dev lo
	ip -n "$PEER" addr add fd00:30::53/128 dev lo
	# Link-local neighbours, which leak protection leaves alone.
	ip -n "$NS" addr add 169.254.7.1/16 dev veth0
	ip -n "$PEER" addr add 169.254.7.7/16 dev veth1
	ip -n "$NS" addr add fe80::1/64 dev veth0 nodad
	ip -n "$PEER" addr add fe80::7/64 dev veth1 nodad
	# The LAN host, routed by NS.
	ip -n "$NS" link add veth2 type veth peer name lan0 netns "$LAN"
	ip -n "$NS" addr add 10.40.0.1/24 dev veth2
	ip -n "$NS" link set veth2 up
	ip -n "$LAN" addr add 10.40.0.2/24 dev lan0
	ip -n "$LAN" link set lan0 up
	ip -n "$LAN" route add default via 10.40.0.1
	ip -n "$PEER" route add 10.40.0.0/24 via 10.20.5.1
	ip netns exec "$NS" sysctl -q -w net.ipv4.ip_forward=1
	set +e
}

# --- servers and clients -------------------------------------------------------
# The servers answer with one line that says who answered (fw_nft_net.py).

start_server() {	# NS READYNAME TAG ADDR PORT...
	local ns=$1 ready=$TMP/$2.ready
	shift 2
	ip netns exec "$ns" python3 "$FW_NET" linesrv "$ready" "$@" 2>>"$TMP/srv.log" &
	BGPIDS+=($!)
	for _ in $(seq 50); do
		[ -e "$ready" ] && return 0
		sleep 0.1
	done
	echo "server $* did not start"; cat "$TMP/srv.log"
	exit 1
}

start_net() {	# NS READYNAME udpsrv TAG ADDR PORT...
	local ns=$1 ready=$TMP/$2.ready
	shift 2
	ip netns exec "$ns" python3 "$FW_NET" "$1" "$ready" "${@:2}" \
	    2>>"$TMP/srv.log" &
	BGPIDS+=($!)
	for _ in $(seq 50); do
		[ -e "$ready" ] && return 0
		sleep 0.1
	done
	echo "server $* did not start"; cat "$TMP/srv.log"
	exit 1
}

# uprobe|tprobe HOST PORT WANT [NS]: a UDP exchange or a TCP connection
# from the client namespace (or NS); WANT is a glob.
netprobe() {
	local kind=$1 got
	got=$(ip netns exec "${5:-$NS}" python3 "$FW_NET" "$kind" "$2" "$3")
	# shellcheck disable=SC2053
	if [[ $got == $4 ]]; then
		pass "$kind $2 port $3 -> $got"
	else
		fail "$kind $2 port $3: got '$got', want '$4'"
	fi
}
uprobe() { netprobe udp "$@"; }
tprobe() { netprobe tcp "$@"; }

# refused udp|tcp HOST PORT [NS]: the attempt fails at once (< 1 s) with
# an error a reject gives: EPERM (the drop verdict, on send), ECONNREFUSED
# (port-unreachable, tcp reset), EACCES (admin-prohibited), ENETUNREACH.
refused() {
	local got ms
	got=$(ip netns exec "${4:-$NS}" python3 "$FW_NET" "$1" "$2" "$3")
	ms=${got##* }
	if [[ $got =~ ^ERR\ (EPERM|ECONNREFUSED|EACCES|ENETUNREACH)\ [0-9]+$ ]] &&
	    [ "$ms" -lt 1000 ]; then
		pass "$1 $2 port $3 refused at once: $got ms"
	else
		fail "$1 $2 port $3: got '$got', want an immediate refusal"
	fi
}

# probe HOST PORT WANT: connect from the client namespace.
probe() {
	local got
	got=$(ip netns exec "$NS" python3 "$FW_NET" line "$1" "$2")
	if [ "$got" = "$3" ]; then
		pass "$1 port $2 -> $got"
	else
		fail "$1 port $2: got '$got', want '$3'"
	fi
}

# --- the driver, as a coprocess ----------------------------------------------
# bash unsets DRV_PID as soon as it reaps the coprocess: DPID keeps a copy.

drv_start() {	# [command prefix...]: start fw_drive -v in $NS
	# fd 7 stands for the client's other descriptors (listeners, SSH):
	# the forked helper must not inherit it.
	coproc DRV { exec ip netns exec "$NS" "$@" "$DRIVE" -v 2>>"$LOG" 7</dev/null; }
	DPID=$DRV_PID
}

# say LINE...: send one command, the answer lands in $ANSWER.
say() {
	ANSWER="<no answer>"
	printf '%s\n' "$*" >&"${DRV[1]}" || return
	IFS= read -r -t 20 ANSWER <&"${DRV[0]}" || ANSWER="<no answer>"
}

# expect WANT LINE...: the command's answer must be WANT (a glob).
expect() {
	local want=$1
	shift
	say "$@"
	# shellcheck disable=SC2053
	if [[ $ANSWER == $want ]]; then
		pass "'$*' -> $ANSWER"
	else
		fail "'$*': got '$ANSWER', want '$want'"
	fi
}

drv_end() {	# close its input, wait for it
	eval "exec ${DRV[1]}>&-"
	wait "$DPID" 2>/dev/null
	DPID=
}

# fwreq SCRIPT [PREFIX...]: fw_req.py plays SCRIPT to `[PREFIX...] fw_drive
# --firewall $FWREQ_V` in $NS; its replies, one a line, then "rc N".
fwreq() {
	local script=$1
	shift
	# shellcheck disable=SC2086  # FWREQ_V: no word or one
	printf '%s\n' "$script" | ip netns exec "$NS" python3 "$FW_REQ" -- \
	    "$@" "$DRIVE" --firewall ${FWREQ_V:-}
}

# cloexec_from N PID: every descriptor of PID from N on is close-on-exec.
cloexec_from() {
	local fd flags n=0
	for fd in $(ls /proc/"$2"/fd 2>/dev/null); do
		[ "$fd" -ge "$1" ] || continue
		flags=$(awk '/^flags:/ { print $2 }' /proc/"$2"/fdinfo/"$fd")
		[ -n "$flags" ] && (( 8#$flags & 8#2000000 )) || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

ruleset() { ip netns exec "$NS" nft list ruleset 2>&1; }
has_table() { ruleset | grep -q "table inet cshuttle_$PORT "; }

# wait_gone: up to 3 s for the table to disappear.
wait_gone() {
	for _ in $(seq 30); do
		has_table || return 0
		sleep 0.1
	done
	return 1
}

# in_order PATTERN...: each pattern matches a later line of the output chain.
in_order() {
	local text prev=0 n pat
	text=$(ip netns exec "$NS" nft list chain inet "cshuttle_$PORT" output)
	for pat in "$@"; do
		n=$(printf '%s\n' "$text" | grep -n -F -- "$pat" | head -1 | cut -d: -f1)
		if [ -z "$n" ] || [ "$n" -le "$prev" ]; then
			fail "rule order: '$pat' missing or out of order"
			printf '%s\n' "$text"
			return
		fi
		prev=$n
	done
	pass "rule order: $*"
}
