#!/bin/bash
#
# bulk_test.sh builtin|ext - 100 MiB down and 100 MiB up through the
# tunnel, both checked by sha256.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"

start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"

lab_say "download http://198.19.0.2/big.bin (100 MiB)"
t0=$(date +%s.%N)
sum=$(lab_curl http://198.19.0.2/big.bin -m 300 | sha256sum | cut -d' ' -f1)
t1=$(date +%s.%N)
lab_say "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s, %.0f MB/s", b - a, 104.8576 / (b - a) }')"
check_eq "downloaded file has the right sha256" "$LAB_BIG_SHA" "$sum"

lab_say "upload 100 MiB to the digest service on 198.19.0.2:7002"
check "uploaded bytes arrive intact (sha256 computed by the server)" \
    lab_cli --timeout 300 upload 198.19.0.2 7002 "$LAB_BIG"

check "cshuttle is still running" lab_alive "$CSHUTTLE_PID"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
