#!/bin/bash
# SPDX-License-Identifier: ISC
#
# lan_test.sh builtin|ext - serving other hosts: with -l 0.0.0.0:PORT (and
# -l [::]:PORT) cshuttle also tunnels the traffic CLIENT routes for the
# hosts behind it (a LAN namespace), through a prerouting chain, besides
# CLIENT's own (the output chain).  With the default loopback listener it
# serves CLIENT only.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
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
start_cshuttle -l 0.0.0.0:$port -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
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
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "198.19.0.2 is unreachable from LAN again" \
    lab_lan_curl_fails http://198.19.0.2/small.txt

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

lab_finish
