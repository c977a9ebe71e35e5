#!/bin/bash
# SPDX-License-Identifier: ISC
#
# bulk_test.sh builtin|ext - 100 MiB down and 100 MiB up through the
# tunnel, both checked by sha256, both at a sane speed: at least
# LAB_MIN_MBPS (default 20) MB/s, an order of magnitude below what a
# sanitizer build does on two cores, so only a stalling transfer fails.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

min=${LAB_MIN_MBPS:-20}
now() { date +%s.%N; }
# mbps START END: MB/s for 100 MiB
mbps() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", 104.8576 / (b - a) }'; }

start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"

lab_say "download http://198.19.0.2/big.bin (100 MiB)"
t0=$(now)
sum=$(lab_curl http://198.19.0.2/big.bin -m 300 | sha256sum | cut -d' ' -f1)
t1=$(now)
check_eq "downloaded file has the right sha256" "$LAB_BIG_SHA" "$sum"
rate=$(mbps "$t0" "$t1")
check "download at $rate MB/s (at least $min)" test "$rate" -ge "$min"

lab_say "upload 100 MiB to the digest service on 198.19.0.2:7002"
t0=$(now)
check "uploaded bytes arrive intact (sha256 computed by the server)" \
    lab_cli --timeout 300 upload 198.19.0.2 7002 "$LAB_BIG"
t1=$(now)
rate=$(mbps "$t0" "$t1")
check "upload at $rate MB/s (at least $min)" test "$rate" -ge "$min"

check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
