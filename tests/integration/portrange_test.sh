#!/bin/bash
# SPDX-License-Identifier: ISC
#
# portrange_test.sh builtin|ext - a subnet with a port range tunnels only
# those ports: 198.19.0.0/24:8000-8005.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

lab_say "cshuttle -r labhost 198.19.0.0/24:8000-8005"
start_cshuttle -r labhost 198.19.0.0/24:8000-8005 || lab_die "cshuttle did not start"
for port in 8000 8003 8005; do
	check_eq "port $port (in the range) is tunnelled" "priv $port 198.19.0.1" \
	    "$(lab_hello 198.19.0.2 $port)"
done
check "port 8006 (outside the range) is not tunnelled" lab_hello_fails 198.19.0.2 8006
check "port 8008 (outside the range) is not tunnelled" lab_hello_fails 198.19.0.2 8008
check "port 80 (outside the range) is not tunnelled" \
    lab_curl_fails http://198.19.0.2/small.txt
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
