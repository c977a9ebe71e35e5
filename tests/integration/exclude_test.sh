#!/bin/bash
# SPDX-License-Identifier: ISC
#
# exclude_test.sh builtin|ext - excluded subnets (-x, -X FILE) are not
# tunnelled, and the most specific subnet wins: include /16, exclude a /24
# inside it, include a /32 inside that.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

lab_say "cshuttle -r labhost 198.19.0.0/16 -x 198.19.1.0/24 198.19.1.2/32"
start_cshuttle -r labhost 198.19.0.0/16 -x 198.19.1.0/24 198.19.1.2/32 ||
    lab_die "cshuttle did not start"
check_eq "198.19.0.2 (in the /16) is tunnelled" "priv 8001 198.19.0.1" \
    "$(lab_hello 198.19.0.2 8001)"
check_eq "198.19.2.1 (in the /16) is tunnelled" "priv 8001 198.19.0.1" \
    "$(lab_hello 198.19.2.1 8001)"
check "198.19.1.1 (excluded /24) is not tunnelled" lab_hello_fails 198.19.1.1 8001
check "198.19.1.3 (excluded /24) is not tunnelled" lab_hello_fails 198.19.1.3 8001
check_eq "198.19.1.2 (included /32 inside the excluded /24) is tunnelled" \
    "priv 8001 198.19.0.1" "$(lab_hello 198.19.1.2 8001)"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_say "cshuttle -r labhost -X FILE 198.19.0.0/16 198.19.1.2"
printf '%s\n' 198.19.2.0/24 198.19.1.1 >"$LAB_DIR/excludes"
start_cshuttle -r labhost -X "$LAB_DIR/excludes" 198.19.0.0/16 198.19.1.2 ||
    lab_die "cshuttle did not start"
check_eq "198.19.0.2 is tunnelled" "priv 8002 198.19.0.1" \
    "$(lab_hello 198.19.0.2 8002)"
check "198.19.2.1 (excluded /24 from the file) is not tunnelled" \
    lab_curl_fails http://198.19.2.1/small.txt
check "198.19.1.1 (excluded address from the file) is not tunnelled" \
    lab_hello_fails 198.19.1.1 8002
check_eq "198.19.1.2 is tunnelled" "priv 8002 198.19.0.1" \
    "$(lab_hello 198.19.1.2 8002)"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
