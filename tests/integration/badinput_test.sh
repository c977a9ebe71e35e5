#!/bin/bash
# SPDX-License-Identifier: ISC
#
# badinput_test.sh builtin|ext - every bad input gives a short error, the
# documented exit code (2 usage, 3 refused by the server, 1 runtime), and
# leaves no nft table:
# bad CIDR, unknown host name as a subnet, unknown option, unknown -r host,
# rejected key, changed host key (the message shows the fingerprint),
# unknown host key under StrictHostKeyChecking yes, a remote without
# /bin/sh, a remote whose architecture has no stub, a remote that echoes
# what it is sent.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

# expect_error WHAT CODE REGEX [ssh] -- ARGS...: run cshuttle with ARGS,
# expect exit CODE and an error matching REGEX (case-insensitive).  Errors
# found by cshuttle itself must be one line; with the external transport,
# errors found by ssh come with ssh's own lines ("ssh" marks those cases),
# and then only a line of cshuttle's own is required.
expect_error() {
	local what=$1 code=$2 re=$3 from_ssh=
	shift 3
	if [[ $1 == ssh ]]; then
		from_ssh=1
		shift
	fi
	[[ $1 == -- ]] && shift
	lab_say "$what: cshuttle $*"
	run_cshuttle "$@"
	check_eq "$what: exit code" "$code" "$CSHUTTLE_RC"
	if [[ -n $from_ssh && $LAB_TRANSPORT == ext ]]; then
		check "$what: cshuttle reports the failure" \
		    grep -q '^cshuttle: ' "$CSHUTTLE_LOG"
	else
		check_eq "$what: one-line error" 1 \
		    "$(grep -c . "$CSHUTTLE_LOG")"
	fi
	check "$what: message matches /$re/" grep -Eqi -- "$re" "$CSHUTTLE_LOG"
	check "$what: no table left" assert_no_tables
	sed 's/^/    | /' "$CSHUTTLE_LOG"
}

expect_error "bad CIDR" 2 '10\.0\.0\.0/33' -- \
    -r labhost 10.0.0.0/33
expect_error "unknown host name as subnet" 2 'nosuch\.invalid' -- \
    -r labhost nosuch.invalid
expect_error "unknown option" 2 'no-such-option' -- \
    -r labhost --no-such-option 198.19.0.0/24
expect_error "unknown -r host" 1 'nosuch\.invalid' ssh -- \
    -r nosuch.invalid 198.19.0.0/24
expect_error "key not accepted" 3 'auth|denied|permission' ssh -- \
    -r labhost-wrongkey 198.19.0.0/24
fp_re=$(printf '%s' "$LAB_HOSTKEY_FP" | sed 's/[][\.*^$+?(){}|]/\\&/g')
expect_error "changed host key" 3 "$fp_re" ssh -- \
    -r labhost-badhostkey 198.19.0.0/24
expect_error "unknown host key, StrictHostKeyChecking yes" 3 'host key|known' ssh -- \
    -r labhost-newhostkey 198.19.0.0/24
check "unknown host key: known_hosts file left unchanged" \
    test ! -s "$LAB_DIR/known_hosts_empty"
expect_error "remote without /bin/sh" 1 '/bin/sh' -- \
    -r labhost-nosh 198.19.0.0/24
check "remote without /bin/sh: nothing left in its /tmp" \
    test -z "$(ls -A "$LAB_DIR/chroot-nosh/tmp")"
expect_error "unsupported remote architecture" 1 'sparc64' -- \
    -r labhost-sparc 198.19.0.0/24
check "unsupported architecture: nothing left in its /tmp" \
    test -z "$(ls -A "$LAB_DIR/chroot-sparc/tmp")"

# A "remote" that echoes what it is sent instead of running the bootstrap
# (a -e command that is not ssh; ssh -tt, whose terminal echoes): found
# out at once, when the client's first line comes back, not after the
# minute that the wait for the bootstrap would take.
echoes() {
	local what=$1 t0 ms
	shift
	t0=$(date +%s%N)
	expect_error "$what" 1 'the remote echoes what it is sent: is -e running ssh\?' \
	    "$@"
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "$what: found out within 5 s ($ms ms)" test "$ms" -le 5000
}
echoes "a remote that echoes (-e runs cat)" -- \
    -r labhost -e 'sh -c "exec cat" --' 198.19.0.0/24
echoes "a remote whose terminal echoes (ssh -tt)" ssh -- \
    -r labhost -e "ssh -tt -F $LAB_SSHCFG" 198.19.0.0/24

check "no session left on the remote" lab_wait_for 10 lab_no_server_session
check "no process left in CLIENT" lab_wait_for 10 lab_no_client_extra

lab_finish
