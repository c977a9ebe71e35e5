#!/bin/bash
# SPDX-License-Identifier: ISC
#
# netchange_test.sh builtin|ext - a change of the network is noticed at
# once (client/netwatch.h, client/tunnel_netwatch.c), with --alive-timeout
# left at 15 s:
#   - the tunnel (unprivileged: the lab runs cshuttle as root) watches the
#     route to the server, without a warning;
#   - a change elsewhere (a new link with an address in CLIENT) loses
#     nothing: the route to the server is the same, no probe fails;
#   - CLIENT's address moves to another subnet while an echo stream runs
#     (the old address removed, a new one added, the default route through
#     SERVER's new address on the same link): the session's own address is
#     gone, so it is lost at once without a probe, the next session starts
#     without backoff, and a new connection works again well within
#     --alive-timeout (< 8 s, the time printed).  The stream itself is not
#     carried over (its local end was bound to the address that went
#     away): its outcome is only printed;
#   - the route moves to a new address while the old one stays, but
#     packets from the old one no longer get through (SERVER drops them):
#     the probe goes unanswered within --probe-timeout, the session is
#     lost "after a network change" and the next one starts at once;
#   - a blackhole without any netlink event (SERVER drops SSH packets): no
#     probe, the loss is found by --alive-timeout only;
#   - between sessions (sshd stopped, attempts backing off), an address
#     added in CLIENT cuts the backoff short: the next attempt starts at
#     once and the tunnel is back well before the backoff would end.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

hello1="priv 8001 198.19.0.1"
alive_timeout_ms=15000
dev_c=${LAB_ID}c0
dev_s=${LAB_ID}s0

now_ms() {
	local t=$EPOCHREALTIME
	echo $((${t%.*} * 1000 + 10#${t#*.} / 1000))
}

logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }
show_log() { lab_log_since "$CSHUTTLE_LOG" "$1" | sed 's/^/    | /'; }
hello_ok() { [[ "$(lab_hello 198.19.0.2 8001 2>/dev/null)" == "$hello1" ]]; }

# The tunnel's process: unprivileged (root's run splits), a descendant of
# cshuttle, with the listeners.
tunnel_pid() {
	local p
	for p in $(in_client ss -Hltnp | grep -o '"cshuttle",pid=[0-9]*' |
	    cut -d= -f2 | sort -u); do
		[[ $p != "$CSHUTTLE_PID" && "$(lab_uids "$p")" != "0 0 0 0" ]] &&
		    lab_descends "$p" "$CSHUTTLE_PID" && echo "$p"
	done
}

# Has process PID a NETLINK_ROUTE socket in the link, address and route
# groups (RTMGRP_LINK | IPV4_IFADDR | IPV4_ROUTE | IPV6_IFADDR |
# IPV6_ROUTE = 0x551)?  /proc/PID/net/netlink: sk Eth Pid Groups ... Inode.
rtnl_watcher() {
	local ino
	for ino in $(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
	    tr -dc '0-9\n'); do
		awk -v i="$ino" '$2 == 0 && $NF == i && $4 == "00000551" {f = 1}
		    END {exit !f}' "/proc/$1/net/netlink" && return 0
	done
	return 1
}

# wait_ok SECS: poll hello_ok every 100 ms for at most SECS.
wait_ok() {
	local i n=$(($1 * 10))
	for ((i = 0; i < n; i++)); do
		hello_ok && return 0
		sleep 0.1
	done
	return 1
}

# The steps of the start as -v times them (common/phase.h): STEPS in this
# order, each once, the times never going back, and the total last.
startup_timed() {
	local steps
	steps=$(sed -nE 's/^cshuttle: start-up: ([0-9]+) ms: (.*)$/\1|\2/p' "$CSHUTTLE_LOG")
	printf '%s\n' "$steps" | sed 's/^/    | /'
	awk -F'|' 'NR > 1 && $1 + 0 < last { bad = 1 } { last = $1 + 0 } END { exit bad }' \
	    <<<"$steps" || return 1
	[[ "$(cut -d'|' -f2 <<<"$steps" | sed 's/ (uploaded)$//; s/ (cached)$//' | tr '\n' ';')" == "$1" ]]
}

what="start"
lab_say "$what"
start_cshuttle -r labhost 198.19.0.0/24 -v --alive-timeout 15 ||
    lab_die "$what: cshuttle did not start"
check "$what: tunnel works" hello_ok
if [[ $LAB_TRANSPORT == ext ]]; then
	session_steps="ssh to run;"
else
	session_steps="TCP connection to 198.18.0.2 port 22;SSH handshake;authenticated;"
fi
check "$what: -v times each step of the start" startup_timed \
    "the firewall helper is up;listening;${session_steps}the remote host answered the bootstrap;the stub started;the stub said hello;the rules are in place;the first session is ready;"
check "$what: the route to the server is watched" \
    grep -Eq '^cshuttle: watching the route to 198\.18\.0\.2: dev [^ ]+ src 198\.18\.0\.1' \
    "$CSHUTTLE_LOG"
check_not "$what: no warning about network changes" \
    grep -q 'network change is noticed only after' "$CSHUTTLE_LOG"
tpid=$(tunnel_pid)
check "$what: the tunnel runs unprivileged (pid ${tpid:-none}, uid $(lab_uids "${tpid:-0}"))" \
    test -n "$tpid"
check "$what: and watches rtnetlink's link, address and route groups" rtnl_watcher "$tpid"

what="a change elsewhere"
lab_say "$what"
m=$(lab_log_mark "$CSHUTTLE_LOG")
if ! { in_client ip link add nwx0 type veth peer name nwx1 &&
    in_client ip link set nwx0 up && in_client ip link set nwx1 up &&
    in_client ip addr add 10.77.0.1/24 dev nwx0; }; then
	lab_bad "$what: cannot add a link in CLIENT"
fi
sleep 2
check "$what: the tunnel still works" hello_ok
check_not "$what: the session was not lost" logged "$m" 'session lost'
check_not "$what: no probe went unanswered" logged "$m" 'probe not answered'
in_client ip link del nwx0 2>/dev/null
show_log "$m"

what="the address moves"
lab_say "$what"
lab_stream_start 198.19.0.2 7001 || lab_bad "$what: an echo stream through the tunnel"
sleep 1
in_server ip addr add 198.18.5.2/24 dev "$dev_s" || lab_bad "$what: SERVER's new address"
m=$(lab_log_mark "$CSHUTTLE_LOG")
t0=$(now_ms)
if ! { in_client ip addr del 198.18.0.1/24 dev "$dev_c" &&
    in_client ip addr add 198.18.5.1/24 dev "$dev_c" &&
    in_client ip route replace default via 198.18.5.2 dev "$dev_c"; }; then
	lab_bad "$what: cannot move CLIENT's address"
fi
wait_ok 20
dt=$(($(now_ms) - t0))
lab_say "$what: a new connection worked ${dt} ms after the change (alive timeout ${alive_timeout_ms} ms)"
check "$what: traffic flows again within 8 s (${dt} ms)" test "$dt" -lt 8000
check "$what: the change was logged with its cause" \
    logged "$m" 'network change: the route to the server changed'
check_not "$what: no probe was needed" logged "$m" 'probing the session'
check "$what: the loss names the address that went away, and the next session starts at once" \
    logged "$m" '^cshuttle: session lost: this host no longer has the address 198\.18\.0\.1 the session went from \(a network change\); reconnecting now$'
check "$what: reconnected" logged "$m" '^cshuttle: reconnected to '
lab_say "$what: the echo stream: $(lab_stream_stop)"
check "$what: the new route is watched" \
    logged "$m" 'watching the route to 198\.18\.0\.2: via 198\.18\.5\.2 dev [^ ]+ src 198\.18\.5\.1'
show_log "$m"

what="the route moves, the old address stays but gets nowhere"
lab_say "$what"
check "$what: the tunnel works before" wait_ok 20
in_server ip addr add 198.18.6.2/24 dev "$dev_s" || lab_bad "$what: SERVER's new address"
in_server nft -f - <<EOF || lab_bad "$what: cannot drop the old address's packets in SERVER"
table inet labold_$LAB_ID {
	chain input {
		type filter hook input priority -50; policy accept;
		ip saddr 198.18.5.1 tcp dport 22 drop
	}
}
EOF
m=$(lab_log_mark "$CSHUTTLE_LOG")
t0=$(now_ms)
if ! { in_client ip addr add 198.18.6.1/24 dev "$dev_c" &&
    in_client ip route replace default via 198.18.6.2 dev "$dev_c" src 198.18.6.1; }; then
	lab_bad "$what: cannot move CLIENT's route"
fi
wait_ok 20
dt=$(($(now_ms) - t0))
lab_say "$what: a new connection worked ${dt} ms after the change (alive timeout ${alive_timeout_ms} ms)"
check "$what: traffic flows again within 8 s (${dt} ms)" test "$dt" -lt 8000
check "$what: the probe was logged with its cause" \
    logged "$m" 'network change: .*; probing the session'
check "$what: the loss names the network change, and the next session starts at once" \
    logged "$m" '^cshuttle: session lost: the server did not answer within 1\.5 s after a network change; reconnecting now$'
check "$what: reconnected" logged "$m" '^cshuttle: reconnected to '
check "$what: the new route is watched" \
    logged "$m" 'watching the route to 198\.18\.0\.2: via 198\.18\.6\.2 dev [^ ]+ src 198\.18\.6\.1'
in_server nft delete table inet "labold_$LAB_ID" || lab_bad "$what: cannot remove SERVER's drop"
show_log "$m"

what="a blackhole without a netlink event"
lab_say "$what"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_ssh_block || lab_bad "$what: cannot drop SSH packets in SERVER"
t0=$(now_ms)
for ((i = 0; i < 500; i++)); do
	logged "$m" '^cshuttle: session lost: ' && break
	sleep 0.05
done
dt=$(($(now_ms) - t0))
check "$what: the loss is found by --alive-timeout (${dt} ms)" \
    logged "$m" '^cshuttle: session lost: the server stopped answering'
check "$what: not before about --alive-timeout (${dt} ms)" \
    test "$dt" -ge $((alive_timeout_ms - 6000)) -a "$dt" -le $((alive_timeout_ms + 3000))
check_not "$what: no probe" logged "$m" 'probing the session'
lab_ssh_unblock || lab_bad "$what: cannot remove the drop rules"
check "$what: reconnected once packets flow again" \
    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to '
check "$what: a new connection works" hello_ok
show_log "$m"

what="the backoff cut short"
lab_say "$what"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_sshd_stop || lab_bad "$what: sshd did not stop"
check "$what: an attempt failed and the next waits" \
    lab_wait_for 20 logged "$m" '^cshuttle: reconnect attempt [0-9]+ failed: .*; reconnecting in'
wait_s=$(lab_log_since "$CSHUTTLE_LOG" "$m" |
    sed -nE 's/^cshuttle: reconnect attempt [0-9]+ failed: .*; reconnecting in ([0-9.]+) s$/\1/p' |
    tail -n 1)
lab_sshd_start || lab_die "$what: sshd did not start again"
m2=$(lab_log_mark "$CSHUTTLE_LOG")
t0=$(now_ms)
in_client ip addr add 198.18.7.1/24 dev "$dev_c" || lab_bad "$what: cannot add an address"
check "$what: reconnected" lab_wait_for 20 logged "$m2" '^cshuttle: reconnected to '
dt=$(($(now_ms) - t0))
lab_say "$what: reconnected ${dt} ms after the change; the backoff was ${wait_s} s"
check "$what: the change cut the backoff short" logged "$m2" 'network change: .*; reconnecting now'
check "$what: within 3 s (${dt} ms)" test "$dt" -lt 3000
check "$what: a new connection works" hello_ok
show_log "$m"

stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "no process left in CLIENT" lab_wait_for 10 lab_no_client_extra
lab_finish
