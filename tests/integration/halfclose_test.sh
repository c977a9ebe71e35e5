#!/bin/bash
# SPDX-License-Identifier: ISC
#
# halfclose_test.sh builtin|ext - a client that shuts down its write side
# still receives the answer: the digest service reads to EOF and only then
# replies; the echo service sends everything back after the client's EOF.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need socat socat
lab_up

head -c $((4 << 20)) /dev/urandom >"$LAB_DIR/4m.bin"
sum4=$(sha256sum "$LAB_DIR/4m.bin" | cut -d' ' -f1)
empty=$(sha256sum </dev/null | cut -d' ' -f1)

start_cshuttle -r labhost 198.19.0.0/24 fd5e:0:0:2::/64 ||
    lab_die "cshuttle did not start"

check "python: 1 MiB, shutdown(SHUT_WR), digest answer arrives" \
    lab_cli halfclose 198.19.0.2 7002 --size $((1 << 20))
check "python over IPv6: 1 MiB, shutdown(SHUT_WR), digest answer arrives" \
    lab_cli halfclose fd5e:0:0:2::2 7002 --size $((1 << 20))
check "python: nothing sent, shutdown(SHUT_WR), digest of nothing arrives" \
    lab_cli halfclose 198.19.0.2 7002 --size 0
check_eq "socat -t: 4 MiB file, EOF, digest answer arrives" "$sum4 $((4 << 20))" \
    "$(in_client socat -t 30 - TCP:198.19.0.2:7002 <"$LAB_DIR/4m.bin")"
check_eq "socat -t: 4 MiB to the echo service, EOF, all 4 MiB come back" "$sum4" \
    "$(in_client socat -t 30 - TCP:198.19.0.2:7001 <"$LAB_DIR/4m.bin" |
        sha256sum | cut -d' ' -f1)"
check_eq "socat -t: empty input to the echo service, clean EOF back" "$empty" \
    "$(in_client socat -t 30 - TCP:198.19.0.2:7001 </dev/null |
        sha256sum | cut -d' ' -f1)"

stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

lab_finish
