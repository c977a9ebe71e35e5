#!/bin/bash
# SPDX-License-Identifier: ISC
#
# signals_test.sh builtin|ext - SIGINT and SIGTERM: exit code 0, no nft
# table left, nothing left on the remote (no process, no file).  SIGKILL:
# the kernel removes the table, and the remote stub notices and exits,
# leaving no file behind.  Each time with a connection still open.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

small="hello from the private network"

# Start cshuttle with a stalled download open through it (pid in $busy).
start_busy() {
	start_cshuttle -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"
	check_eq "tunnel works" "$small" "$(lab_curl http://198.19.0.2/small.txt)"
	check "the remote side has a session while cshuttle runs" \
	    test -n "$(lab_server_extra_pids)"
	rm -f "$LAB_DIR/busy.ready"
	ip netns exec "$LAB_NS_C" "$LAB_PY" "$LAB_SRC/labcli.py" stall 198.19.0.2 7001 / \
	    --read 1 --ready "$LAB_DIR/busy.ready" --hold 60 \
	    >/dev/null 2>&1 &
	busy=$!
	lab_wait_for 10 test -e "$LAB_DIR/busy.ready" ||
	    lab_bad "a connection is open through the tunnel"
}

# Everything gone: table, remote processes and files, local helpers.
check_clean() {
	kill "$busy" 2>/dev/null
	wait "$busy" 2>/dev/null
	check "no table left" assert_no_tables
	if lab_wait_for 15 lab_no_server_session; then
		lab_ok "no process left on the remote side"
	else
		lab_bad "no process left on the remote side:"
		# shellcheck disable=SC2046  # one pid per word
		lab_ps $(lab_server_extra_pids)
	fi
	if lab_wait_for 15 lab_remote_clean; then
		lab_ok "no file left in the remote's temporary directories"
	else
		lab_bad "no file left in the remote's temporary directories:"
		lab_remote_leftovers
	fi
	if lab_wait_for 15 lab_no_client_extra; then
		lab_ok "no process left in CLIENT"
	else
		lab_bad "no process left in CLIENT:"
		# shellcheck disable=SC2046  # one pid per word
		lab_ps $(lab_client_extra_pids)
	fi
	check "198.19.0.2 is unreachable again" \
	    lab_curl_fails http://198.19.0.2/small.txt
}

for sig in INT TERM; do
	lab_say "SIG$sig"
	start_busy
	stop_cshuttle "$sig"
	check_eq "cshuttle exits 0 on SIG$sig" 0 "$CSHUTTLE_RC"
	check_clean
done

lab_say "SIGKILL"
start_busy
stop_cshuttle KILL
check_eq "cshuttle was killed" 137 "$CSHUTTLE_RC"
check_clean

lab_finish
