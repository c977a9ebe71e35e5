#!/bin/bash
# SPDX-License-Identifier: ISC
#
# autonets_test.sh builtin|ext - -N/--auto-nets: cshuttle -N alone reaches
# the networks SERVER routes (its own 198.19.0.0/24, 198.19.1.0/24 and
# 198.19.2.0/24 through PRIV, and their IPv6 twins) while the network of
# the SSH connection (198.18.0.0/24, fd5e:0:0:1::/64: CLIENT's own, and
# holding the SSH server) stays out; a reconnect takes the routes again
# (one added to SERVER meanwhile is forwarded, and `cshuttle status`
# lists it); an exclude still wins.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

small="hello from the private network"
# shellcheck disable=SC2317  # logged and has_net run through check
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }
# The last "auto-nets: ..." line cshuttle logged.
autonets_line() { grep -E '^cshuttle: auto-nets: ' "$CSHUTTLE_LOG" | tail -n 1; }
# shellcheck disable=SC2317
has_net() { grep -qE -- "(: |, )${1//./\\.}(,|\$)" <<<"$(autonets_line)"; }

lab_say "without cshuttle"
check "198.19.0.2 is unreachable from CLIENT" \
    lab_curl_fails http://198.19.0.2/small.txt

lab_say "cshuttle -N -r labhost (no subnets)"
start_cshuttle -N -r labhost || lab_die "cshuttle did not start"
line=$(autonets_line)
check "cshuttle logs the networks it took ($line)" test -n "$line"
for n in 198.19.0.0/24 198.19.1.0/24 198.19.2.0/24 fd5e:0:0:2::/64 fd5e:0:0:3::/64; do
	check "auto-nets has $n" has_net "$n"
done
for n in 198.18.0.0/24 fd5e:0:0:1::/64 0.0.0.0/0 ::/0 fe80::/64 ff00::/8; do
	check_not "auto-nets leaves out $n" has_net "$n"
done
check_eq "curl http://198.19.0.2/small.txt through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check_eq "PRIV sees the connection coming from SERVER" "priv 8001 198.19.0.1" \
    "$(lab_hello 198.19.0.2 8001)"
check_eq "198.19.2.1 (routed by SERVER through PRIV) through the tunnel" "$small" \
    "$(lab_curl http://198.19.2.1/small.txt)"
check_eq "[fd5e:0:0:2::2] through the tunnel" "priv 8001 fd5e:0:0:2::1" \
    "$(lab_hello fd5e:0:0:2::2 8001)"
check_eq "198.18.0.2:7000 (the SSH path network) is reached directly" \
    "server 7000 198.18.0.1" "$(lab_hello 198.18.0.2 7000)"

lab_say "a route added on SERVER is taken at the next session"
in_priv ip addr add 198.19.9.1/32 dev lo || lab_bad "cannot add 198.19.9.1 to PRIV"
in_server ip route add 198.19.9.0/24 via 198.19.0.2 || lab_bad "cannot add the route"
check "198.19.9.1 is not forwarded yet" lab_hello_fails 198.19.9.1 8001
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_kill_sessions KILL
check "reconnected" \
    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt 1\)'
check "the new set is logged" logged "$m" '^cshuttle: auto-nets: .*198\.19\.9\.0/24'
check "auto-nets has 198.19.9.0/24" has_net 198.19.9.0/24
check_eq "198.19.9.1 through the tunnel" "priv 8001 198.19.0.1" \
    "$(lab_hello 198.19.9.1 8001)"
check_eq "the old networks still go through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
st=$(in_client "$CSHUTTLE_BIN" status)
check "cshuttle status lists the new network among the subnets" \
    grep -qE -- '^ +subnets:.* 198\.19\.9\.0/24(,|$)' <<<"$st"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -N -x 198.19.0.0/16 -r labhost: the exclude wins"
start_cshuttle -N -x 198.19.0.0/16 -r labhost || lab_die "cshuttle did not start"
check_not "auto-nets leaves out 198.19.0.0/24" has_net 198.19.0.0/24
check_not "auto-nets leaves out 198.19.2.0/24" has_net 198.19.2.0/24
check "auto-nets still has fd5e:0:0:2::/64" has_net fd5e:0:0:2::/64
check "198.19.0.2 is not forwarded" lab_curl_fails http://198.19.0.2/small.txt
check_eq "[fd5e:0:0:2::2] through the tunnel" "priv 8001 fd5e:0:0:2::1" \
    "$(lab_hello fd5e:0:0:2::2 8001)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
