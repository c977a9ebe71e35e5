#!/bin/bash
# SPDX-License-Identifier: ISC
#
# udp_fw_test.sh builtin|ext - the policy routing of the UDP capture
# (TPROXY needs it, and nftables does not own it): per listener port P an
# ip rule "fwmark 0x6375PPPP lookup 0x6375PPPP" per family and a "local
# default dev lo" route in that table, beside the nft table cshuttle_P.
# Two instances each have their own; SIGKILL of one removes its table,
# rules and routes within 3 s and leaves the other's; a stale rule of a
# dead instance (one whose nft table is gone) is removed at the next start,
# a live instance's never; SIGTERM removes everything.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016,SC2034  # check's eval expands the single-quoted
# code, and uses the variables set for it
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_udp_up || lab_die "the UDP services did not start"

E=$LAB_UDP_ECHO
subnets=(198.19.0.0/24 fd5e:0:0:2::/64)

# echo_ok DESC: UDP to the echo, IPv4 and IPv6, through the tunnel.
echo_ok() {
	local o4 o6
	o4=$(lab_udp_ask 198.19.0.2 "$E")
	o6=$(lab_udp_ask fd5e:0:0:2::2 "$E")
	check "$1: UDP to the echo through the tunnel, IPv4 and IPv6" eval \
	    '[[ $(lab_udp_seen "$o4" 198.19.0.2 $E) == "198.19.0.1 "* &&
	        $(lab_udp_seen "$o6" fd5e:0:0:2::2 $E) == "fd5e:0:0:2::1 "* ]]'
}

# has_fw P: port P's table, both rules and both routes are there (what is
# missing is said on stderr).
has_fw() {
	local t=$(($(lab_udp_mark "$1"))) tables rules routes
	tables=$(in_client nft list tables 2>&1)
	rules=$(lab_udp_rules "$1")
	routes=$(lab_udp_routes "$1")
	if ! grep -qx "table inet cshuttle_$1" <<<"$tables"; then
		echo "    port $1: no table; nft list tables: $(tr '\n' ' ' <<<"$tables")" >&2
		return 1
	fi
	if [[ $(grep -Ec "lookup ($t|$(lab_udp_mark "$1"))( |$)" <<<"$rules") != 2 ]]; then
		echo "    port $1: rules: $(tr '\n' ' ' <<<"$rules")" >&2
		return 1
	fi
	if [[ $(grep -c "local default dev lo" <<<"$routes") != 2 ]]; then
		echo "    port $1: routes: $(tr '\n' ' ' <<<"$routes")" >&2
		return 1
	fi
}

# gone P: nothing of port P's is left.
gone() {
	! in_client nft list tables | grep -qx "table inet cshuttle_$1" &&
	    [[ -z "$(lab_udp_rules "$1")$(lab_udp_routes "$1")" ]]
}

show() { lab_udp_fw_left | lab_udp_show; }

lab_say "SIGTERM"
start_cshuttle -r labhost "${subnets[@]}" || lab_die "cshuttle did not start"
p=$(lab_udp_port)
check "port $p: its table, an ip rule per family (fwmark $(lab_udp_mark "$p")), a route per family" \
    has_fw "$p"
show
echo_ok "port $p"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "nothing of port $p left" lab_wait_for 3 gone "$p"
check "no rule or route of the capture at all" lab_udp_fw_clean

lab_say "two instances, SIGKILL"
start_cshuttle -r labhost "${subnets[@]}" || lab_die "cshuttle A did not start"
a_pid=$CSHUTTLE_PID
pa=$(lab_udp_port)
start_cshuttle -r labhost 198.19.1.0/24 fd5e:0:0:3::/64 || lab_die "cshuttle B did not start"
pb=$(lab_tables | awk '{ print $3 }' | sed -n 's/^cshuttle_\([0-9]*\)$/\1/p' | grep -vx "$pa")
check "two listener ports ($pa, $pb)" eval '[[ -n $pa && -n $pb && $pa != "$pb" ]]'
check "A (port $pa) has its table, rules and routes" has_fw "$pa"
check "B (port $pb) has its own" has_fw "$pb"
show
echo_ok "A"
o=$(lab_udp_ask 198.19.1.1 "$E")
check "B: UDP to 198.19.1.1 through its tunnel" \
    eval '[[ $(lab_udp_seen "$o" 198.19.1.1 $E) == "198.19.0.1 "* ]]'
stop_cshuttle KILL
check "SIGKILL of B: nothing of port $pb left within 3 s" lab_wait_for 3 gone "$pb"
check "A's table, rules and routes are still there" has_fw "$pa"
CSHUTTLE_PID=$a_pid
echo_ok "A, after B was killed"

lab_say "a stale rule of a dead instance is removed at the next start"
# A port with no table: its rules are a dead instance's.
px=$(( (pa + 1000) % 64511 + 1024 ))
mx=$(lab_udp_mark "$px")
if ! in_client ip -4 rule add fwmark "$mx" lookup "$mx" ||
    ! in_client ip -6 rule add fwmark "$mx" lookup "$mx"; then
	lab_die "cannot plant the stale rules"
fi
check_eq "planted: two rules for port $px" 2 "$(lab_udp_rules "$px" | wc -l)"
start_cshuttle -r labhost 198.19.1.0/24 || lab_die "cshuttle C did not start"
pc=$(lab_tables | awk '{ print $3 }' | sed -n 's/^cshuttle_\([0-9]*\)$/\1/p' |
    grep -vx "$pa")
check "the stale rules of port $px are gone once C started" lab_wait_for 3 eval \
    '[[ -z $(lab_udp_rules "$px") ]]'
check "A's (live) rules and routes are kept" has_fw "$pa"
check "C (port $pc) has its own" has_fw "$pc"
show
echo_ok "A, after C started"

lab_say "SIGKILL of both"
stop_cshuttle KILL
CSHUTTLE_PID=$a_pid
stop_cshuttle KILL
check "nothing of port $pa left within 3 s" lab_wait_for 3 gone "$pa"
check "nothing of port $pc left within 3 s" lab_wait_for 3 gone "$pc"
check "no table left" assert_no_tables
check "no rule or route of the capture at all" lab_udp_fw_clean
show
check "no process left in CLIENT" lab_wait_for 10 lab_no_client_extra

lab_finish
