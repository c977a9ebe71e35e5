#!/bin/bash
# SPDX-License-Identifier: ISC
#
# autohosts_file_test.sh builtin|ext - -H/--auto-hosts without --dns: the
# firewall helper writes the remote's forwarded names into CLIENT's
# /etc/hosts (the lab's /etc/netns/<CLIENT>/hosts, which `ip netns exec`
# bind-mounts there: a mount point, rewritten in place) between marked
# lines; getent resolves them on CLIENT.  The block is gone after
# SIGTERM, after `kill -9` of cshuttle (the helper sees its input close),
# and after `kill -9` of both cshuttle and its helper once the next
# cshuttle starts (the block's id names a process that is gone).  The
# sudo mode without the policy's "hosts" is tested in helper_test.sh.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

# shellcheck disable=SC2317  # called through check
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }
# The addresses glibc gives (getent ahosts), sorted, on one line.
ge_hosts() {
	in_client getent ahosts "$1" | awk '{print $1}' | sort -u | tr '\n' ' ' |
	    sed 's/ $//'
}
hosts_c=/etc/netns/$LAB_NS_C/hosts
hosts_s=/etc/netns/$LAB_NS_S/hosts
# The begin lines of cshuttle blocks in CLIENT's hosts file.
blocks() { grep -c '^# cshuttle pid[0-9]*-[0-9]* begin$' "$hosts_c"; }
# shellcheck disable=SC2317  # called through check
no_blocks() { [[ $(blocks) == 0 ]]; }
# shellcheck disable=SC2317  # called through check
one_block() { [[ $(blocks) == 1 ]]; }
# The pid in the block's id: the helper's.
helper_pid() { sed -n 's/^# cshuttle pid\([0-9]*\)-[0-9]* begin$/\1/p' "$hosts_c"; }

printf '%s\n' "198.19.0.2 onlyremote.lab.internal intranet" \
    "192.0.2.99 outside.lab.internal" >>"$hosts_s" ||
    lab_die "cannot extend SERVER's hosts file"
# A file without a final newline: kept as it is around the block.
printf '198.18.0.77 lastline.lab.internal' >>"$hosts_c" ||
    lab_die "cannot extend CLIENT's hosts file"
orig=$(cat "$hosts_c")

lab_say "without cshuttle"
check_eq "onlyremote.lab.internal does not resolve on CLIENT" "" \
    "$(ge_hosts onlyremote.lab.internal)"

lab_say "cshuttle -H -r labhost 198.19.0.0/16 (no --dns)"
start_cshuttle -H -r labhost 198.19.0.0/16 || lab_die "cshuttle did not start"
check "the names are logged" \
    lab_wait_for 10 logged 0 '^cshuttle: auto-hosts: [0-9]+ names of [0-9]+ in the forwarded subnets'
check "one block in CLIENT's hosts file" lab_wait_for 5 one_block
check_eq "getent ahosts onlyremote.lab.internal" 198.19.0.2 \
    "$(ge_hosts onlyremote.lab.internal)"
check_eq "getent ahosts intranet" 198.19.0.2 "$(ge_hosts intranet)"
check_eq "outside.lab.internal (not forwarded) is not added" "" \
    "$(ge_hosts outside.lab.internal)"
check_eq "the last line, which had no newline, still resolves" 198.18.0.77 \
    "$(ge_hosts lastline.lab.internal)"
check_eq "curl http://onlyremote.lab.internal/small.txt through the tunnel" \
    "hello from the private network" \
    "$(lab_curl http://onlyremote.lab.internal/small.txt)"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "SIGTERM: the block is gone" lab_wait_for 5 no_blocks
check_eq "SIGTERM: the rest of the file is as it was (and a newline)" \
    "$orig" "$(cat "$hosts_c")"
check "no table left" assert_no_tables

lab_say "kill -9 of cshuttle"
start_cshuttle -H -r labhost 198.19.0.0/16 || lab_die "cshuttle did not start"
check "one block" lab_wait_for 10 one_block
stop_cshuttle KILL
check "kill -9: the block is gone (the helper saw its input close)" \
    lab_wait_for 5 no_blocks
check_eq "onlyremote.lab.internal no longer resolves" "" \
    "$(ge_hosts onlyremote.lab.internal)"
check "no table left" lab_wait_for 5 assert_no_tables

lab_say "kill -9 of cshuttle and its helper"
start_cshuttle -H -r labhost 198.19.0.0/16 || lab_die "cshuttle did not start"
check "one block" lab_wait_for 10 one_block
hp=$(helper_pid)
check "the block names a running process ($hp)" lab_alive "$hp"
kill -KILL "$hp" 2>/dev/null
stop_cshuttle KILL
# shellcheck disable=SC2317  # called through check
helper_gone() { ! lab_alive "$hp"; }
check "the helper is gone" lab_wait_for 5 helper_gone
check_eq "a stale block is left" 1 "$(blocks)"
check "no table left" lab_wait_for 5 assert_no_tables
start_cshuttle -r labhost 198.19.0.0/16 || lab_die "cshuttle did not start"
check "the next start removes it" lab_wait_for 5 no_blocks
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check_eq "the rest of the file is as it was" "$orig" "$(cat "$hosts_c")"
check "no table left" assert_no_tables

lab_finish
