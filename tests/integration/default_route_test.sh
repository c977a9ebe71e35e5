#!/bin/bash
# SPDX-License-Identifier: ISC
#
# default_route_test.sh builtin|ext - `0/0` without any -x: everything is
# tunnelled, yet cshuttle's own SSH connection keeps working, a second SSH
# connection to the server works (through the tunnel), services on the
# server itself are reachable, and CLIENT's loopback is left alone.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

small="hello from the private network"

lab_say "cshuttle -r labhost 0/0"
start_cshuttle -r labhost 0/0 || lab_die "cshuttle did not start"
check_eq "curl http://198.19.0.2/small.txt through the tunnel" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check_eq "198.19.2.1 (behind PRIV) through the tunnel" "$small" \
    "$(lab_curl http://198.19.2.1/small.txt)"
check_eq "a service on SERVER itself, reached through the tunnel" \
    "server 7000 198.18.0.2" "$(lab_hello 198.18.0.2 7000)"
check_eq "CLIENT's loopback is not tunnelled" "client-lo 7000 127.0.0.1" \
    "$(lab_hello 127.0.0.1 7000)"
check_eq "a second ssh to labhost works while 0/0 is active" "still here" \
    "$(in_client timeout 20 ssh -F "$LAB_SSHCFG" labhost echo still here)"

lab_say "keep the tunnel busy for a while, then check it is still alive"
n=0
for ((i = 0; i < 40; i++)); do
	[[ "$(lab_curl http://198.19.0.2/small.txt -m 5)" == "$small" ]] || break
	n=$((n + 1))
	sleep 0.05
done
check_eq "40 sequential requests through the tunnel" 40 "$n"
check "4 MiB to the digest service and back" \
    lab_cli halfclose 198.19.0.2 7002 --size $((4 << 20))
sleep 2
check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
check_eq "and the tunnel still answers" "$small" \
    "$(lab_curl http://198.19.0.2/small.txt)"

stop_cshuttle INT
check_eq "cshuttle exits 0 on SIGINT" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "198.19.0.2 is unreachable again" lab_curl_fails http://198.19.0.2/small.txt

lab_finish
