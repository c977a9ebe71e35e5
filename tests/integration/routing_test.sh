#!/bin/bash
# SPDX-License-Identifier: ISC
#
# routing_test.sh builtin|ext - subnet routing: included addresses go
# through the tunnel, others are untouched; ip-route shorthand (198.19/16),
# host names as subnets; the ssh configuration is honoured (the tests only
# ever name the `labhost`/`labalt` aliases, never an address); connections
# made to the listener itself are refused.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

small="hello from the private network"

lab_say "without cshuttle"
check "198.19.0.2 is unreachable from CLIENT" \
    lab_curl_fails http://198.19.0.2/small.txt

lab_say "cshuttle -r labhost 198.19.0.0/24"
start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"
check_eq "curl http://198.19.0.2/small.txt through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check_eq "PRIV sees the connection coming from SERVER" "priv 8001 198.19.0.1" \
    "$(lab_hello 198.19.0.2 8001)"
check "an nft table named cshuttle_<port> exists while running" \
    eval 'in_client nft list tables | grep -Eq "^table inet cshuttle_[0-9]+$"'
check "198.19.2.1 (not included) is untouched: still unreachable" \
    lab_curl_fails http://198.19.2.1/small.txt
check_eq "198.18.0.2:7000 (not included) is reached directly" \
    "server 7000 198.18.0.1" "$(lab_hello 198.18.0.2 7000)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "198.19.0.2 is unreachable again" lab_curl_fails http://198.19.0.2/small.txt

# A connection straight to the listener was not redirected: it has the
# listener itself as its original destination.  Forwarded, the stub would
# connect to the remote's own 127.0.0.1:PORT.  The helper's rule drops
# such packets (the connection times out); what reaches the listener all
# the same is reset at once and logged.  Either way nothing reaches the
# remote, and the tunnel goes on working.
lab_say "cshuttle -l 12399 -r labhost 198.19.0.0/24: connections to the listener itself"
lab_sink "$LAB_NS_S" direct 12399 || lab_die "no sink on SERVER"
start_cshuttle -l 12399 -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"
reset=
for a in 127.0.0.1 ::1; do
	r=$(lab_tcp_probe "$a" 12399)
	check "a connection to $a:12399 gets nothing: dropped or reset at once ($r)" \
	    eval '[[ $r == *timeout || ($r == *"error ECONNRESET" && ${r%% *} -lt 1000) ]]'
	[[ $r == *ECONNRESET ]] && reset=1
done
# (one line per 10 s: the first says it for both)
if [[ -n $reset ]]; then
	check "cshuttle says why it reset them" grep -Eq "refused a connection from \
[0-9a-f.:]+ to the listener itself: only redirected connections are tunnelled" \
	    "$CSHUTTLE_LOG"
fi
check_eq "the tunnel still works" "$small" "$(lab_curl http://198.19.0.2/small.txt)"
check_eq "nothing reached the remote's own port 12399" "" "$(cat "$LAB_DIR/direct.log")"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -r labhost 198.19/16 (ip-route shorthand)"
start_cshuttle -r labhost 198.19/16 || lab_die "cshuttle did not start"
check_eq "198.19.2.1 reached through the tunnel" "$small" \
    "$(lab_curl http://198.19.2.1/small.txt)"
check_eq "198.19.1.3:8005 reached through the tunnel" "priv 8005 198.19.0.1" \
    "$(lab_hello 198.19.1.3 8005)"
stop_cshuttle TERM
check "no table left" assert_no_tables

lab_say "cshuttle -r labhost labweb (a host name as subnet)"
start_cshuttle -r labhost labweb || lab_die "cshuttle did not start"
check_eq "labweb (198.19.2.1) reached through the tunnel" "$small" \
    "$(lab_curl http://labweb/small.txt)"
check "198.19.0.2 (not included) is untouched: still unreachable" \
    lab_curl_fails http://198.19.0.2/small.txt
stop_cshuttle TERM
check "no table left" assert_no_tables

lab_say "cshuttle -r labalt 198.19.0.2 (HostName and Port from the ssh config)"
before=$(grep -c 'on fd5e:0:0:1::2 port 2200' "$LAB_DIR/sshd.log")
start_cshuttle -r labalt 198.19.0.2 || lab_die "cshuttle did not start"
check_eq "198.19.0.2 reached through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
after=$(grep -c 'on fd5e:0:0:1::2 port 2200' "$LAB_DIR/sshd.log")
check "sshd saw a connection to [fd5e:0:0:1::2]:2200 (HostName/Port honoured)" \
    test "$after" -gt "$before"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

# ProxyJump: the built-in transport cannot jump, so cshuttle hands the
# connection to ssh and says so; with 0/0 the first hop (itself an alias
# in the ssh config) must stay out of the tunnel, or nothing would work.
lab_say "cshuttle -r labjump 0/0 (ProxyJump labhost in the ssh config)"
before=$(grep -c 'on fd5e:0:0:1::2 port 2200' "$LAB_DIR/sshd.log")
start_cshuttle -r labjump 0/0 || lab_die "cshuttle did not start"
if [[ $LAB_TRANSPORT == builtin ]]; then
	# (with -e the external ssh was asked for anyway)
	check "cshuttle says it uses the external ssh for ProxyJump" \
	    grep -q 'ProxyJump.*external ssh' "$CSHUTTLE_LOG"
fi
check_eq "198.19.0.2 reached through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
after=$(grep -c 'on fd5e:0:0:1::2 port 2200' "$LAB_DIR/sshd.log")
check "the session went through the jump to [fd5e:0:0:1::2]:2200" \
    test "$after" -gt "$before"
check_eq "198.18.0.2:7000 reached through the tunnel (seen from SERVER itself)" \
    "server 7000 198.18.0.2" "$(lab_hello 198.18.0.2 7000)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
