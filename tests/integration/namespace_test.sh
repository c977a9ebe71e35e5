#!/bin/bash
# SPDX-License-Identifier: ISC
#
# namespace_test.sh builtin|ext - --namespace NAME and --namespace-pid PID:
# cshuttle started in the root namespace (no `ip netns exec`) does all its
# work in CLIENT: the private network is reachable from CLIENT, the rules
# are in CLIENT's nft and none in the root namespace, SIGTERM cleans up.
# The configuration keys namespace and namespace-pid do the same (the
# file is read before cshuttle enters the namespace).  A missing
# namespace is a usage error naming its path.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

# ns_start ARGS...: cshuttle with ARGS from the root namespace, waiting
# for "cshuttle: connected" (start_cshuttle_cmd without ip netns exec).
ns_start() {
	local i
	lab_cshuttle_cmd
	LAB_CS_N=$((LAB_CS_N + 1))
	CSHUTTLE_LOG=$LAB_DIR/cshuttle.$LAB_CS_N.log
	lab_say "starting: ${LAB_CMD[*]} $*"
	setsid "${LAB_CMD[@]}" "$@" </dev/null >/dev/null 2>"$CSHUTTLE_LOG" &
	CSHUTTLE_PID=$!
	for ((i = 0; i < LAB_CONNECT_TIMEOUT * 20; i++)); do
		grep -qs '^cshuttle: connected' "$CSHUTTLE_LOG" && return 0
		lab_alive "$CSHUTTLE_PID" || break
		sleep 0.05
	done
	cat "$CSHUTTLE_LOG" >&2
	return 1
}
root_tables() { nft list tables 2>/dev/null | grep -E "$LAB_TABLE_RE"; }

# ns_round WHAT ARGS...: one run with ARGS naming CLIENT.
ns_round() {
	local what=$1
	shift
	lab_say "$what"
	check "198.19.0.2 is unreachable from CLIENT before" \
	    lab_hello_fails 198.19.0.2 8001
	ns_start "$@" -r labhost 198.19.0.0/24 || {
		lab_bad "$what: cshuttle did not start"
		return
	}
	check_eq "$what: PRIV reached from CLIENT through the tunnel" \
	    "priv 8001 198.19.0.1" "$(lab_hello 198.19.0.2 8001)"
	check "$what: the rules are in CLIENT's nft" lab_tables
	# Other tests' tunnels live in namespaces of their own: the root
	# namespace's list stays what it was.
	check_eq "$what: no rules added in the root namespace" "$root_before" \
	    "$(root_tables)"
	stop_cshuttle TERM
	check_eq "$what: SIGTERM ends it cleanly" 0 "$CSHUTTLE_RC"
	check "$what: CLIENT's rules are gone" assert_no_tables
}

root_before=$(root_tables)
ns_round "--namespace $LAB_NS_C" --namespace "$LAB_NS_C"

cfg=$LAB_DIR/ns.conf
printf 'namespace = %s\n' "$LAB_NS_C" >"$cfg" && chmod 600 "$cfg"
ns_round "config key namespace = $LAB_NS_C" --config "$cfg"

ip netns exec "$LAB_NS_C" sleep 600 &
sleeper=$!
ns_round "--namespace-pid (a sleep in CLIENT)" --namespace-pid "$sleeper"
printf 'namespace-pid = %s\n' "$sleeper" >"$cfg"
ns_round "config key namespace-pid (a sleep in CLIENT)" --config "$cfg"
kill "$sleeper" 2>/dev/null
wait "$sleeper" 2>/dev/null

lab_say "a missing namespace"
lab_cshuttle_cmd
"${LAB_CMD[@]}" --namespace "$LAB_ID-none" -r labhost 198.19.0.0/24 \
    </dev/null >/dev/null 2>"$LAB_DIR/missing.err"
check_eq "--namespace of a missing name: exit 2" 2 "$?"
check "the message names /run/netns/$LAB_ID-none" \
    grep -qF "/run/netns/$LAB_ID-none" "$LAB_DIR/missing.err"
lab_finish
