#!/bin/bash
# SPDX-License-Identifier: ISC
#
# ipv6_test.sh builtin|ext - IPv6 subnets: fd5e:0:0:2::/64, ::/0 and a
# bracketed subnet with a port range.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

small="hello from the private network"

lab_say "without cshuttle"
check "[fd5e:0:0:2::2] is unreachable from CLIENT" \
    lab_curl_fails 'http://[fd5e:0:0:2::2]/small.txt'

lab_say "cshuttle -r labhost fd5e:0:0:2::/64"
start_cshuttle -r labhost fd5e:0:0:2::/64 || lab_die "cshuttle did not start"
check_eq "curl -6 http://[fd5e:0:0:2::2]/small.txt through the tunnel" "$small" \
    "$(lab_curl 'http://[fd5e:0:0:2::2]/small.txt' -6)"
check_eq "PRIV sees the connection coming from SERVER" "priv 8002 fd5e:0:0:2::1" \
    "$(lab_hello fd5e:0:0:2::2 8002)"
check "[fd5e:0:0:3::1] (not included) is not tunnelled" \
    lab_curl_fails 'http://[fd5e:0:0:3::1]/small.txt'
check "198.19.0.2 (IPv4, not included) is not tunnelled" \
    lab_curl_fails http://198.19.0.2/small.txt
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -r labhost ::/0"
start_cshuttle -r labhost ::/0 || lab_die "cshuttle did not start"
check_eq "curl -6 http://[fd5e:0:0:3::1]/small.txt through the tunnel" "$small" \
    "$(lab_curl 'http://[fd5e:0:0:3::1]/small.txt' -6)"
check_eq "curl -6 http://[fd5e:0:0:2::2]/small.txt through the tunnel" "$small" \
    "$(lab_curl 'http://[fd5e:0:0:2::2]/small.txt' -6)"
check "198.19.0.2 (IPv4) is not tunnelled" \
    lab_curl_fails http://198.19.0.2/small.txt
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -r labhost '[fd5e:0:0:2::/64]:8000-8005'"
start_cshuttle -r labhost '[fd5e:0:0:2::/64]:8000-8005' ||
    lab_die "cshuttle did not start"
check_eq "port 8003 (in the range) is tunnelled" "priv 8003 fd5e:0:0:2::1" \
    "$(lab_hello fd5e:0:0:2::2 8003)"
check "port 8008 (outside the range) is not tunnelled" \
    lab_hello_fails fd5e:0:0:2::2 8008
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
