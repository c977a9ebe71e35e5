#!/bin/bash
# SPDX-License-Identifier: ISC
#
# helper_test.sh - the firewall helper as an ordinary user reaches it:
# hand-written requests (tests/integration/fw_req.py) through the real
# sudo, by a throw-away user whose sudoers rule is the one
# `cshuttle --sudoers` prints.  Without a policy the helper refuses what
# would reach other users or hosts (PREROUTING 1, SCOPE host, USER), a
# fifth helper, descriptors of the wrong kind, a port whose loopback
# listener someone else holds (the table name), and a socket whose
# creator is not whom sudo names; what it accepts is scoped to the user
# (meta skuid).  With "allow USER lan host-wide" and "max-helpers USER 5"
# in the policy file, the same requests are accepted.  TMARK (--tmark)
# is refused without "allow USER tmark".  HOSTS (-H without
# --dns: names in /etc/hosts, here the private namespace's) is refused
# without "allow USER hosts" and written, then removed, with it.  `--firewall` is
# decided before any other parsing.
#
# The helper's policy file and slot files live in a private mount
# namespace (lab_private_up): the host's /etc and /run stay untouched.
# The transport does not matter: run once, whatever the argument.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$here/../lab/lab.sh"
lab_require_bin
lab_need sudo sudo python3 python3 visudo sudo
lab_up

# Copies the user can run, whatever the permissions of the build tree.
bin=$LAB_DIR/cshuttle
req=$LAB_DIR/fw_req.py
install -m 0755 "$CSHUTTLE_BIN" "$bin" || lab_die "cannot copy $CSHUTTLE_BIN"
install -m 0644 "$here/fw_req.py" "$req" || lab_die "cannot copy fw_req.py"
lab_user_add || lab_die "cannot create the test user"
u=$LAB_USER
uid=$(id -u "$u")
gid=$(id -g "$u")
lab_private_up || lab_die "cannot make the private mount namespace"
conf=/etc/cshuttle/helper.conf

lab_say "cshuttle --sudoers"
rule=$("$bin" --sudoers "$u")
check_eq "the rule names $u and every -v count of fw_start" \
    "$u ALL=(root) NOPASSWD: $bin --firewall, $bin --firewall -v, $bin --firewall -v -v, $bin --firewall -v -v -v" \
    "$rule"
check_eq "SUDO_USER is the default" "$rule" \
    "$(SUDO_USER=$u "$bin" --sudoers)"
check_eq "a name sudoers cannot take is refused (exit 2)" 2 \
    "$("$bin" --sudoers 'a b' >/dev/null 2>&1; echo $?)"
lab_user_sudoers "$rule" || lab_die "visudo refused: $rule"

# ask SCRIPT [fw_req options]: the user's requests to `sudo cshuttle
# --firewall`, in the private namespace; the replies, one a line.
ask() {
	local script=$1
	shift
	printf '%s\n' "$script" | ip netns exec "$LAB_NS_C" "${LAB_PRIVATE[@]}" \
	    "${LAB_ASUSER[@]}" python3 "$req" "$@" -- sudo -n "$bin" --firewall \
	    2>>"$LAB_DIR/helper.log"
}
# ask_held SCRIPT FILE [fw_req options]: the same, the input kept open
# (and so the helper and its rules) until FILE exists.
ask_held() {
	local script=$1 file=$2
	shift 2
	{ printf '%s\n' "$script"; until [[ -e $file ]]; do sleep 0.1; done; } |
	    ip netns exec "$LAB_NS_C" "${LAB_PRIVATE[@]}" "${LAB_ASUSER[@]}" \
	    python3 "$req" "$@" -- sudo -n "$bin" --firewall \
	    2>>"$LAB_DIR/helper.log"
}
# The reply lines of $1 joined with " / ".
flat() {
	local out="" l
	while IFS= read -r l; do
		out+="${out:+ / }$l"
	done <<<"$1"
	printf '%s' "$out"
}
# expect DESC WANT-GLOB SCRIPT: the flattened replies match.
expect() {
	local out
	out=$(flat "$(ask "$3")")
	# shellcheck disable=SC2053
	if [[ $out == $2 ]]; then
		lab_ok "$1: $out"
	else
		lab_bad "$1: got '$out', want '$2'"
	fi
}
# The private namespace's view (its /etc/hosts is its own copy of
# CLIENT's: lab_private_up).
in_private() { ip netns exec "$LAB_NS_C" "${LAB_PRIVATE[@]}" "$@"; }
no_table() { ! in_client nft list tables 2>/dev/null | grep -q "cshuttle_$1\$"; }
slots() { "${LAB_PRIVATE[@]}" sh -c "ls /run/cshuttle/helper 2>/dev/null"; }
no_slots() { [[ -z "$(slots)" ]]; }

P=22300		# the user's listener port
good="?
LISTEN < tcp 127.0.0.1 $P listen
LISTEN < tcp ::1 $P listen
BLOCKLEAKS 1
SUBNET inc 4 0.0.0.0 0 0 65535
APPLY
?"

lab_say "without a policy file"
ready="READY 4 $uid"
ask_held "$good" "$LAB_DIR/rules.seen" >"$LAB_DIR/good.out" &
asker=$!
# While it holds its rules: every rule of the output side is the user's.
lab_wait_for 10 in_client nft list table inet "cshuttle_$P" >/dev/null 2>&1 ||
    lab_bad "no table cshuttle_$P"
rs=$(in_client nft list table inet "cshuttle_$P" 2>&1)
touch "$LAB_DIR/rules.seen"
wait "$asker"
check_eq "the user's series is applied" "$ready / OK / rc 0" \
    "$(flat "$(cat "$LAB_DIR/good.out")")"
rules() { sed -n "/chain $1 {/,/}/p" <<<"$rs" | grep -v -e "chain $1" -e hook -e '}'; }
n_out=$(rules output | grep -c .)
n_uid=$(rules output | grep -c "meta skuid $uid ")
check "every output rule matches meta skuid $uid ($n_uid of $n_out)" \
    test "$n_out" -gt 0 -a "$n_uid" = "$n_out"
n_out=$(rules leak_output | grep -c .)
n_uid=$(rules leak_output | grep -c "meta skuid $uid ")
check "every leak_output rule matches meta skuid $uid ($n_uid of $n_out)" \
    test "$n_out" -gt 0 -a "$n_uid" = "$n_out"
check "the input chain drops what was not redirected to $P" \
    grep -q "ip daddr 127.0.0.1 tcp dport $P ct direction original ct status ! dnat drop" <<<"$rs"
check "no prerouting chain" test -z "$(grep 'chain prerouting' <<<"$rs")"
check "its table is gone with it" lab_wait_for 5 no_table "$P"
check "its slot file is gone with it" lab_wait_for 5 no_slots

prefix="READY 4 $uid / ERR"
pol=$conf
expect "PREROUTING 1 refused" \
    "$prefix PREROUTING 1 (serving other hosts) is not allowed for user $u: add \"allow $u lan\" to $pol / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P listen
PREROUTING 1
ALLOW 4 10.40.0.0 24
APPLY
?"
expect "SCOPE host refused" \
    "$prefix SCOPE host (every local user's traffic) is not allowed for user $u: add \"allow $u host-wide\" to $pol / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P listen
SCOPE host
BLOCKLEAKS 1
SUBNET inc 4 0.0.0.0 0 0 65535
APPLY
?"
expect "TMARK refused" \
    "$prefix TMARK (a mark of the caller's choice for carried UDP, and its routing table) is not allowed for user $u: add \"allow $u tmark\" to $pol / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P listen
UDP < udp 127.0.0.1 $P
TMARK 256
SUBNET inc 4 10.0.0.0 8 0 65535
APPLY
?"
expect "USER refused" \
    "$prefix USER is for root: a tunnel started by $u carries only $u's traffic / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P listen
USER 0
APPLY
?"
expect "HOSTS refused" \
    "$prefix HOSTS (writing /etc/hosts) is not allowed for user $u: add \"allow $u hosts\" to $pol / rc 1" \
    "?
HOST 4 10.40.0.5 db.lab.internal
HOSTS
?"
check "no table after the refusals" no_table "$P"
check "no cshuttle block in the hosts file" \
    test -z "$(in_private grep '^# cshuttle ' /etc/hosts)"

lab_say "descriptors of the wrong kind"
expect "LISTEN with a UDP socket" "$prefix LISTEN: not a TCP socket / rc 1" \
    "?
LISTEN < udp 127.0.0.1 $P"
expect "LISTEN with a TCP socket that does not listen" \
    "$prefix LISTEN: the socket is not listening / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P"
expect "LISTEN with a unix socket" "$prefix LISTEN: not an IPv4 or IPv6 socket / rc 1" \
    "?
LISTEN < unix"
expect "LISTEN with a pipe" "$prefix LISTEN: not an IPv4 or IPv6 socket / rc 1" \
    "?
LISTEN < pipe"
expect "LISTEN without a descriptor" "$prefix LISTEN: 1 descriptor missing / rc 1" \
    "?
LISTEN"
expect "an IPv6 listener that takes IPv4 too" \
    "$prefix LISTEN: an IPv6 socket must be IPV6_V6ONLY / rc 1" \
    "?
LISTEN < tcp :: $P listen dual"
expect "a descriptor too many" "$prefix APPLY: 1 descriptor too many / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P listen
PREROUTING 0 < udp -4 0
APPLY
?"
expect "MARK: its own socket marked; a unix socket refused" \
    "READY 4 $uid / OK / MARK / mark 0x6373$(printf %04x $P) / ERR MARK: not an IPv4 or IPv6 socket / rc 1" \
    "?
LISTEN < tcp 127.0.0.1 $P listen
APPLY
?
MARK < udp -4 0
?
?mark
MARK < unix
?"
check "no table after the refusals" lab_wait_for 5 no_table "$P"

lab_say "another user's port, another user's socket"
# root listens on 127.0.0.1:Q; the user may bind Q on 127.0.0.2, but not
# take the table name cshuttle_Q the holder of 127.0.0.1:Q needs.
Q=22400
in_client python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
open(sys.argv[2], "w").close()
time.sleep(600)' "$Q" "$LAB_DIR/root.listens" &
LAB_PIDS+=($!)
lab_wait_for 5 test -e "$LAB_DIR/root.listens" || lab_bad "root's listener did not start"
expect "a table for a port root holds on 127.0.0.1" \
    "$prefix LISTEN: port $Q on 127.0.0.1 is held by another socket: the table cshuttle_$Q cannot be yours / rc 1" \
    "?
LISTEN < tcp 127.0.0.2 $Q listen
APPLY
?"
check "no table cshuttle_$Q" no_table "$Q"
# The socketpair made by root, sudo run by the user: SUDO_UID is the
# user's, the socket's creator root.
out=$(printf '?\n' | ip netns exec "$LAB_NS_C" "${LAB_PRIVATE[@]}" python3 "$req" -- \
    "${LAB_ASUSER[@]}" sudo -n "$bin" --firewall 2>>"$LAB_DIR/helper.log")
check_eq "a socket that is not the caller's" \
    "ERR the caller is not who sudo says: SUDO_UID is $uid, the socket on standard input belongs to uid 0 / rc 1" \
    "$(flat "$out")"

lab_say "too many helpers"
holders=()
for i in 1 2 3 4; do
	ask_held "?" "$LAB_DIR/release" >"$LAB_DIR/holder.$i" &
	holders+=($!)
done
held() { [[ $(cat "$LAB_DIR"/holder.* 2>/dev/null | grep -c "^READY") == 4 ]]; }
check "four helpers run" lab_wait_for 10 held
check_eq "four slot files" 4 "$(slots | grep -c "^$uid\.")"
expect "a fifth is refused" \
    "ERR too many helpers for user $u (4 running): add \"max-helpers $u 8\" to $pol / rc 1" "?"

lab_say "with a policy file"
printf 'allow %s lan host-wide  # serve the LAN, everyone\nmax-helpers %s 5\n' "$u" "$u" |
    lab_private_policy
expect "a fifth is accepted" "$ready / rc 0" "?"
touch "$LAB_DIR/release"
wait "${holders[@]}"
check "the four are gone, and their slot files" lab_wait_for 5 no_slots
ask_held "?
LISTEN < tcp 127.0.0.1 $P listen
PREROUTING 1
ALLOW 4 10.40.0.0 24
SCOPE host
BLOCKLEAKS 1
SUBNET inc 4 0.0.0.0 0 0 65535
APPLY
?" "$LAB_DIR/rules2.seen" >"$LAB_DIR/lan.out" &
asker=$!
lab_wait_for 10 in_client nft list table inet "cshuttle_$P" >/dev/null 2>&1
rs=$(in_client nft list table inet "cshuttle_$P" 2>&1)
touch "$LAB_DIR/rules2.seen"
wait "$asker"
check_eq "PREROUTING 1 and SCOPE host are accepted" "$ready / OK / rc 0" \
    "$(flat "$(cat "$LAB_DIR/lan.out")")"
check "prerouting serves the allowed source" \
    grep -q "ip saddr 10.40.0.0/24 goto lan" <<<"$rs"
check "host-wide: no rule matches a user" test -z "$(grep skuid <<<"$rs")"

lab_say "with \"allow $u hosts\""
printf 'allow %s hosts\n' "$u" | lab_private_policy
ask_held "?
HOST 4 10.40.0.5 db.lab.internal
HOSTS
?" "$LAB_DIR/hosts.seen" >"$LAB_DIR/hosts.out" &
asker=$!
# shellcheck disable=SC2317  # called through lab_wait_for
resolves() {
	[[ $(in_private getent ahostsv4 db.lab.internal | awk 'NR == 1 {print $1}') == 10.40.0.5 ]]
}
check "the name resolves while the helper runs" lab_wait_for 10 resolves
touch "$LAB_DIR/hosts.seen"
wait "$asker"
check_eq "HOSTS is accepted" "$ready / OK / rc 0" \
    "$(flat "$(cat "$LAB_DIR/hosts.out")")"
check "its block is gone with it" \
    test -z "$(in_private grep '^# cshuttle ' /etc/hosts)"
: | lab_private_policy

lab_say "a policy file nobody may trust"
printf 'allow %s lan\n' "$u" | lab_private_policy 0664
expect "group-writable: the helper does not start" \
    "ERR the helper's policy $pol must be a regular file owned by root and writable by nobody else / rc 1" "?"
printf 'allow %s lan teleport\n' "$u" | lab_private_policy
expect "an unknown keyword: the helper does not start" \
    "ERR $pol:1: allow: unknown keyword \"teleport\" (known: lan, host-wide, hosts, tmark) / rc 1" "?"
: | lab_private_policy

lab_say "--firewall is decided first"
fw() { ip netns exec "$LAB_NS_C" "${LAB_PRIVATE[@]}" "$@" </dev/null 2>&1; }
check_eq "-vv -q accepted; \$CSHUTTLE_ARGS ignored" "READY 4 0" \
    "$(CSHUTTLE_ARGS='--bogus @/nonexistent' fw "$bin" --firewall -vv -q)"
check_eq "anything else is refused (exit 2)" \
    "cshuttle: --firewall takes only -v and -q, not \"--config\" / rc 2" \
    "$(flat "$(fw "$bin" --firewall --config /nonexistent; echo "rc $?")")"
check_eq "@FILE is not read" \
    "cshuttle: --firewall takes only -v and -q, not \"@$LAB_DIR/args\" / rc 2" \
    "$(flat "$(fw "$bin" --firewall "@$LAB_DIR/args"; echo "rc $?")")"
check_eq "not first: refused" \
    "cshuttle: --firewall must be the first argument (see cshuttle --help) / rc 2" \
    "$(flat "$(fw "$bin" -v --firewall; echo "rc $?")")"

check "no slot file left" no_slots
check "no table left" assert_no_tables
lab_finish
