#!/bin/bash
# SPDX-License-Identifier: ISC
#
# concurrency_test.sh builtin|ext - 500, then 2000 connections open at the
# same time through one tunnel, each echoing 16 KiB of its own data byte
# for byte.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"

check "500 concurrent echo connections, all data correct" \
    lab_cli --timeout 30 many 198.19.0.2 7001 --count 500 --size 16384
check "and again (flows were freed and can be reused)" \
    lab_cli --timeout 30 many 198.19.0.2 7001 --count 500 --size 16384
check "2000 concurrent echo connections, all data correct" \
    lab_cli --timeout 60 many 198.19.0.2 7001 --count 2000 --size 16384
check_eq "the tunnel still serves a plain request" \
    "hello from the private network" "$(lab_curl http://198.19.0.2/small.txt)"

check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
