#!/bin/bash
# SPDX-License-Identifier: ISC
#
# lan_test.sh builtin|ext - serving other hosts: with -l 0.0.0.0:PORT (and
# -l [::]:PORT) cshuttle also tunnels the traffic CLIENT routes for the
# hosts behind it (a LAN namespace), through a prerouting chain, besides
# CLIENT's own (the output chain).  With the default loopback listener it
# serves CLIENT only.  It serves the networks of the listening interfaces
# by default, never the uplink's (a host on SERVER's side), or those
# --allow-from names; connections and DNS queries sent to its listeners
# themselves get nothing.  sshuttle's listen forms: -l 0.0.0.0 (no port:
# pick one) routes LAN as well; several addresses (loopback and the LAN
# interface's) share one port and are each served; -l localhost:0 takes
# the name's addresses.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need dig bind9-dnsutils
lab_up
lab_lan_up || lab_die "LAN setup failed"

small="hello from the private network"
port=12345
table=cshuttle_$port

# The hooks of the chains of table $1 in CLIENT, sorted, one a line.
hooks() {
	in_client nft list table inet "$1" 2>/dev/null |
	    sed -n 's/.*type nat hook \([a-z]*\) .*/\1/p' | sort
}

lab_say "without cshuttle"
check "198.19.0.2 is unreachable from LAN" \
    lab_lan_curl_fails http://198.19.0.2/small.txt
check "[fd5e:0:0:2::2] is unreachable from LAN" \
    lab_lan_curl_fails 'http://[fd5e:0:0:2::2]/small.txt' -6
check_eq "LAN reaches SERVER through CLIENT (the lab routes)" \
    "server 7000 198.18.5.2" "$(lab_lan_hello 198.18.0.2 7000)"

lab_say "cshuttle -r labhost 198.19.0.0/24 (loopback listener: CLIENT only)"
start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"
check_eq "curl from CLIENT through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check "LAN is not served" lab_lan_curl_fails http://198.19.0.2/small.txt
check_eq "the table has an output chain only" "output" \
    "$(hooks "$(lab_tables | awk '{print $3}')")"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -l 0.0.0.0:$port -r labhost 198.19.0.0/24"
start_cshuttle -v -l 0.0.0.0:$port -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
# By default: the networks of the listening interfaces (all of them for
# 0.0.0.0), never the one with the default route, towards SERVER.
check "the LAN network is allowed, the uplink's not" grep -qx \
    "cshuttle: LAN sources allowed: 198\.18\.5\.0/24 (${LAB_ID}c1)" "$CSHUTTLE_LOG"
check "CLIENT has the table $table" \
    eval "in_client nft list tables | grep -qx 'table inet $table'"
check_eq "$table has a prerouting and an output chain" \
    "$(printf '%s\n' output prerouting)" "$(hooks "$table")"
check_eq "curl from LAN through the tunnel" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt)"
check_eq "PRIV sees LAN's connection coming from SERVER" \
    "priv 8001 198.19.0.1" "$(lab_lan_hello 198.19.0.2 8001)"
check_eq "curl from CLIENT through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check_eq "198.18.0.2:7000 (not included) is reached directly from LAN" \
    "server 7000 198.18.5.2" "$(lab_lan_hello 198.18.0.2 7000)"
check "198.19.2.1 (not included) is still unreachable from LAN" \
    lab_lan_curl_fails http://198.19.2.1/small.txt
# Straight to the listener from LAN: forwarded, the stub would connect to
# 198.18.5.1:PORT from SERVER, which routes it back here: a loop.  The
# helper's rule drops it; what reaches the listener is reset and logged.
r=$(lab_tcp_probe -n "$LAB_NS_L" 198.18.5.1 $port)
check "LAN's connection to the listener itself gets nothing: dropped or reset ($r)" \
    eval '[[ $r == *timeout || ($r == *"error ECONNRESET" && ${r%% *} -lt 1000) ]]'
if [[ $r == *ECONNRESET ]]; then
	check "cshuttle says why it reset it" grep -q "refused a connection from \
198.18.5.2 to the listener itself: only redirected connections are tunnelled" \
	    "$CSHUTTLE_LOG"
fi
check "no stream went to the listener's own address" \
    eval '! grep -q "198\.18\.5\.1:$port" "$CSHUTTLE_LOG"'
check_eq "curl from LAN through the tunnel, after that" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "198.19.0.2 is unreachable from LAN again" \
    lab_lan_curl_fails http://198.19.0.2/small.txt

# A host on the uplink (SERVER, from an address of its own whose traffic
# to 198.19.77.0/24 it routes through CLIENT) is no LAN host: CLIENT
# forwards its connection untouched, and SERVER, which does not forward,
# drops it.  Its other addresses have no route to 198.19.77.0/24, so a
# stub asked to connect there fails at once instead of looping.
lab_say "the uplink's hosts are not served by default"
ip -n "$LAB_NS_S" addr add 198.18.0.3/24 dev "${LAB_ID}s0" &&
    ip -n "$LAB_NS_S" rule add from 198.18.0.3 lookup 77 &&
    ip -n "$LAB_NS_S" route add 198.18.0.0/24 dev "${LAB_ID}s0" table 77 &&
    ip -n "$LAB_NS_S" route add 198.19.77.0/24 via 198.18.0.1 table 77 ||
    lab_die "cannot route SERVER's 198.18.0.3 through CLIENT"
start_cshuttle -v -l 0.0.0.0:$port -r labhost 198.19.0.0/16 ||
    lab_die "cshuttle did not start"
ip netns exec "$LAB_NS_S" curl -s -o /dev/null --interface 198.18.0.3 \
    --connect-timeout 2 -m 3 http://198.19.77.7/ 2>/dev/null
check "SERVER's connection through CLIENT was not redirected" \
    eval '! grep -q "198\.19\.77\.7" "$CSHUTTLE_LOG"'
in_lan curl -s -o /dev/null --connect-timeout 2 -m 3 http://198.19.77.7/ 2>/dev/null
check "LAN's connection to the same address was" \
    grep -q "198\.19\.77\.7:80" "$CSHUTTLE_LOG"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

# --allow-from names the sources served: one LAN host, not its neighbour.
lab_say "cshuttle -l 0.0.0.0:$port --allow-from 198.18.5.2/32"
ip -n "$LAB_NS_L" addr add 198.18.5.3/24 dev "${LAB_ID}l0" ||
    lab_die "cannot add 198.18.5.3 to LAN"
start_cshuttle -l 0.0.0.0:$port --allow-from 198.18.5.2/32 -r labhost \
    198.19.0.0/24 || lab_die "cshuttle did not start"
check "cshuttle says what it allows" grep -qx \
    "cshuttle: LAN sources allowed: 198\.18\.5\.2/32 (--allow-from)" "$CSHUTTLE_LOG"
check_eq "curl from 198.18.5.2 through the tunnel" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt --interface 198.18.5.2)"
check "198.18.5.3 is not tunnelled" \
    lab_lan_curl_fails http://198.19.0.2/small.txt --interface 198.18.5.3
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

# DNS listeners on a LAN address answer only what the rules redirected to
# them, never a query sent to them straight (an open resolver otherwise):
# over UDP the helper's rule drops it, over TCP cshuttle resets it too.
lab_say "cshuttle -l 0.0.0.0:$port --ns-hosts 198.19.0.2: DNS from LAN"
lab_dns_up || lab_die "DNS servers did not start"
start_cshuttle -l 0.0.0.0:$port --ns-hosts 198.19.0.2 -r labhost \
    198.19.0.0/24 || lab_die "cshuttle did not start"
check_eq "LAN's query to 198.19.0.2 is answered through the tunnel" "198.19.0.2" \
    "$(in_lan dig +short +tries=1 +time=3 @198.19.0.2 secret.lab.internal)"
for tcp in +notcp +tcp; do
	out=$(in_lan dig $tcp +tries=1 +time=2 -p $((port + 1)) @198.18.5.1 \
	    secret.lab.internal 2>&1)
	check "a query ($tcp) sent straight to the DNS listener gets nothing" \
	    eval '! grep -q "status:" <<<"$out"'
done
check_eq "LAN's query to 198.19.0.2 is still answered" "198.19.0.2" \
    "$(in_lan dig +short +tries=1 +time=3 @198.19.0.2 secret.lab.internal)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -l 0.0.0.0:$port -l [::]:$port (IPv4 and IPv6)"
start_cshuttle -l 0.0.0.0:$port -l "[::]:$port" -r labhost \
    198.19.0.0/24 fd5e:0:0:2::/64 || lab_die "cshuttle did not start"
check_eq "$table has a prerouting and an output chain" \
    "$(printf '%s\n' output prerouting)" "$(hooks "$table")"
check_eq "curl -4 from LAN through the tunnel" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt)"
check_eq "curl -6 from LAN through the tunnel" "$small" \
    "$(lab_lan_curl 'http://[fd5e:0:0:2::2]/small.txt' -6)"
check_eq "PRIV sees LAN's IPv6 connection coming from SERVER" \
    "priv 8002 fd5e:0:0:2::1" "$(lab_lan_hello fd5e:0:0:2::2 8002)"
check_eq "curl -6 from CLIENT through the tunnel" "$small" \
    "$(lab_curl 'http://[fd5e:0:0:2::2]/small.txt' -6)"
check_eq "[fd5e:0:0:1::2]:7000 (not included) is reached directly from LAN" \
    "server 7000 fd5e:0:0:5::2" "$(lab_lan_hello fd5e:0:0:1::2 7000)"
stop_cshuttle KILL
check_eq "cshuttle was killed" 137 "$CSHUTTLE_RC"
check "no table left after SIGKILL" assert_no_tables
check "[fd5e:0:0:2::2] is unreachable from LAN again" \
    lab_lan_curl_fails 'http://[fd5e:0:0:2::2]/small.txt' -6

# With an IPv4 address only, nothing serves LAN's IPv6: its IPv6 traffic
# must not be redirected to a port where nobody listens for it (that
# would refuse its connections), whether cshuttle tunnels IPv6 for CLIENT
# alone or not at all.
lab_say "cshuttle -l 0.0.0.0:$port with an IPv6 subnet"
start_cshuttle -l 0.0.0.0:$port -r labhost 198.19.0.0/24 fd5e:0:0:1::2 ||
    lab_die "cshuttle did not start"
check_eq "curl -4 from LAN through the tunnel" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt)"
reply=$(lab_lan_hello fd5e:0:0:1::2 7000 2>&1)
check "LAN's IPv6 connection to [fd5e:0:0:1::2]:7000 is not refused ($reply)" \
    test "${reply#server 7000 }" != "$reply"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -l 0.0.0.0 (sshuttle's recipe: no port, one is picked)"
start_cshuttle -v -l 0.0.0.0 -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
check "the LAN network is allowed" grep -qx \
    "cshuttle: LAN sources allowed: 198\.18\.5\.0/24 (${LAB_ID}c1)" "$CSHUTTLE_LOG"
check_eq "curl from LAN through the tunnel" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt)"
check_eq "curl from CLIENT through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -l 127.0.0.1,198.18.5.1:$port (two IPv4 addresses, one port)"
start_cshuttle -v -l 127.0.0.1,198.18.5.1:$port -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
check "the listen address's network is allowed" grep -qx \
    "cshuttle: LAN sources allowed: 198\.18\.5\.0/24 (${LAB_ID}c1)" "$CSHUTTLE_LOG"
check_eq "$table has a prerouting and an output chain" \
    "$(printf '%s\n' output prerouting)" "$(hooks "$table")"
check_eq "curl from LAN through the tunnel (the 198.18.5.1 listener)" "$small" \
    "$(lab_lan_curl http://198.19.0.2/small.txt)"
check_eq "curl from CLIENT through the tunnel (the loopback listener)" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
r=$(lab_tcp_probe -n "$LAB_NS_L" 198.18.5.1 $port)
check "LAN's connection to the listener itself gets nothing ($r)" \
    eval '[[ $r == *timeout || ($r == *"error ECONNRESET" && ${r%% *} -lt 1000) ]]'
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -l localhost:0 (a host name: CLIENT only)"
start_cshuttle -l localhost:0 -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
check_eq "curl from CLIENT through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check "LAN is not served" lab_lan_curl_fails http://198.19.0.2/small.txt
check_eq "the table has an output chain only" "output" \
    "$(hooks "$(lab_tables | awk '{print $3}')")"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
