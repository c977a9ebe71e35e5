#!/bin/bash
# SPDX-License-Identifier: ISC
#
# config_test.sh builtin|ext - --config FILE:
#   - a broken file (unknown key, bad values, a missing value) stops
#     cshuttle before it does anything: exit 2, one line
#     "cshuttle: FILE:LINE: ..." naming the right line, no table, no SSH
#     connection; a file that cannot be read is one line naming it; the
#     new options' bad values on the command line are usage errors too;
#   - a run from the file alone (cshuttle --config FILE): remote, ssh
#     options, subnets (repeated and as a list), exclude, the alive
#     settings and reconnect, in both "key = value" and "key value" form,
#     with comments and blank lines;
#   - the command line overrides the file wherever --config stands: -r
#     wins over remote (the file's host would refuse the key), subnets
#     on the command line replace the file's list, -x replaces exclude;
#   - reconnect = off in the file: a killed session ends cshuttle (exit 1);
#   - files read as root (the --config file, exclude-from, @files,
#     --ssh-config) that someone else could have written: exit 2, one line
#     naming the file and the reason.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

hello() { printf 'priv %s 198.19.0.1\n' "$2"; }
via_tunnel() { [[ "$(lab_hello "$1" "$2" 2>/dev/null)" == "$(hello "$@")" ]]; }
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }

# SSH connections sshd has seen so far.
conns() { grep -c '^Connection from ' "$LAB_DIR/sshd.log"; }

N=0
# new_cfg LINE...: a new configuration file with these lines; its path
# in CFG.
new_cfg() {
	N=$((N + 1))
	CFG=$LAB_DIR/test$N.conf
	printf '%s\n' "$@" >"$CFG"
}

# The lines that make the lab's transport work from a file alone.
transport_lines() {
	echo "ssh-config $LAB_SSHCFG"
	if [[ $LAB_TRANSPORT == ext ]]; then
		echo "ssh-cmd = ssh -F $LAB_SSHCFG"
	fi
}

# bad_cfg WHAT LINE REGEX FILE-LINES...: cshuttle --config FILE -r labhost
# fails with exit 2 and one line "cshuttle: FILE:LINE: " matching REGEX.
# (BAD_CFG_ARGS: more arguments.)
BAD_CFG_ARGS=()
bad_cfg() {
	local what=$1 line=$2 re=$3
	shift 3
	new_cfg "$@"
	lab_say "$what"
	run_cshuttle --config "$CFG" -r labhost "${BAD_CFG_ARGS[@]}"
	check_eq "$what: exit code 2" 2 "$CSHUTTLE_RC"
	check_eq "$what: one line" 1 "$(grep -c . "$CSHUTTLE_LOG")"
	check "$what: 'cshuttle: $CFG:$line: ...'" \
	    grep -q "^cshuttle: ${CFG//./\\.}:$line: " "$CSHUTTLE_LOG"
	check "$what: naming the problem (/$re/)" grep -Eqi -- "$re" "$CSHUTTLE_LOG"
	check "$what: no table" assert_no_tables
	sed 's/^/    | /' "$CSHUTTLE_LOG"
}

# ---------------------------------------------------------------------------
# Each file is complete but for its error (a subnet follows it).
c0=$(conns)
bad_cfg "unknown key" 4 'frobnicate' \
    "# a profile" "" "remote = labhost" "frobnicate = yes" "subnet = 198.19.0.0/24"
bad_cfg "unknown key, 'key value' form" 2 'frobnicate' \
    "remote labhost" "frobnicate yes" "subnet 198.19.0.0/24"
bad_cfg "bad number" 3 'alive-interval|soon' \
    "remote = labhost" "  # indented comment" "alive-interval = soon" \
    "subnet = 198.19.0.0/24"
bad_cfg "negative number" 1 'alive-timeout|-5' \
    "alive-timeout = -5" "subnet = 198.19.0.0/24"
bad_cfg "bad boolean" 2 'reconnect|maybe' \
    "remote = labhost" "reconnect = maybe" "subnet = 198.19.0.0/24"
bad_cfg "missing value" 2 'remote|value' \
    "subnet = 198.19.0.0/24" "remote =" "exclude = 198.19.0.3"
bad_cfg "bad subnet" 3 '10\.0\.0\.0/33' \
    "remote = labhost" "" "subnet = 10.0.0.0/33"
bad_cfg "bad subnet in a list" 1 '198\.19\.300\.0' \
    "subnets = 198.19.0.0/24 198.19.300.0/24"
bad_cfg "verbose out of range" 2 'verbose|7' \
    "remote = labhost" "verbose = 7" "subnet = 198.19.0.0/24"
# A broken file is broken even where the command line overrides it: the
# mistake would otherwise surface only on the day the override is left out.
BAD_CFG_ARGS=(198.19.0.0/24)
bad_cfg "bad subnet, subnets on the command line" 2 '10\.0\.0\.0/33' \
    "remote = labhost" "subnet = 10.0.0.0/33"
BAD_CFG_ARGS=()

what="a file that cannot be read"
lab_say "$what"
run_cshuttle --config "$LAB_DIR/no-such.conf" -r labhost 198.19.0.0/24
check "$what: fails (exit $CSHUTTLE_RC)" test "$CSHUTTLE_RC" -ne 0
check_eq "$what: one line" 1 "$(grep -c . "$CSHUTTLE_LOG")"
check "$what: naming the file" grep -qF "$LAB_DIR/no-such.conf" "$CSHUTTLE_LOG"
check "$what: no table" assert_no_tables
sed 's/^/    | /' "$CSHUTTLE_LOG"

for args in "--alive-interval soon" "--alive-timeout -1" "--alive-interval"; do
	what="cshuttle $args"
	lab_say "$what"
	# shellcheck disable=SC2086  # the words of $args
	run_cshuttle -r labhost 198.19.0.0/24 $args
	check_eq "$what: exit code 2" 2 "$CSHUTTLE_RC"
	check_eq "$what: one line" 1 "$(grep -c . "$CSHUTTLE_LOG")"
	check "$what: naming the option" grep -q -- "${args%% *}" "$CSHUTTLE_LOG"
	sed 's/^/    | /' "$CSHUTTLE_LOG"
done

# Files read as root: the --config file, and every file it or the command
# line names (an exclude-from file, an @file, the ssh configuration) must
# be one that only root could have written, in a directory of which the
# same holds.  Each refusal is one line naming the file and the reason.
unsafe() {
	local what=$1 re=$2
	shift 2
	lab_say "$what"
	run_cshuttle "$@"
	check_eq "$what: exit code 2" 2 "$CSHUTTLE_RC"
	check_eq "$what: one line" 1 "$(grep -c . "$CSHUTTLE_LOG")"
	check "$what: naming the file and why (/$re/)" grep -Eq -- "$re" "$CSHUTTLE_LOG"
	check "$what: no table" assert_no_tables
	sed 's/^/    | /' "$CSHUTTLE_LOG"
}
mkdir -m 775 "$LAB_DIR/shared" && mkdir -m 1777 "$LAB_DIR/sticky" &&
    mkdir -m 755 "$LAB_DIR/mine" || lab_die "cannot make the directories"
new_cfg "remote labhost" "subnet 198.19.0.0/24"
cp "$CFG" "$LAB_DIR/shared/c.conf"
unsafe "--config in a directory the group may write" \
    "shared/c\.conf: its directory .*/shared is writable by group or others" \
    --config "$LAB_DIR/shared/c.conf"
printf '198.19.0.3\n' >"$LAB_DIR/mine/excludes"
chmod 666 "$LAB_DIR/mine/excludes"
new_cfg "remote labhost" "exclude-from $LAB_DIR/mine/excludes" "subnet 198.19.0.0/24"
unsafe "an exclude-from file anybody may write" \
    "test$N\.conf:2: exclude file \".*/mine/excludes\": writable by group or others" \
    --config "$CFG"
printf -- '-r\nlabhost\n198.19.0.0/24\n' >"$LAB_DIR/mine/args"
chmod 620 "$LAB_DIR/mine/args"
unsafe "an @file the group may write" \
    "argument file \".*/mine/args\": writable by group or others" \
    "@$LAB_DIR/mine/args"
cp "$LAB_SSHCFG" "$LAB_DIR/sticky/ssh_config"
unsafe "--ssh-config in a directory anybody may write (sticky or not)" \
    "--ssh-config .*/sticky/ssh_config: its directory .*/sticky is writable by group or others" \
    -r labhost 198.19.0.0/24 --ssh-config "$LAB_DIR/sticky/ssh_config"
chown 65534 "$LAB_DIR/mine/args" && chmod 600 "$LAB_DIR/mine/args"
unsafe "an @file of another user" \
    "argument file \".*/mine/args\": owned by uid 65534, neither root nor me" \
    "@$LAB_DIR/mine/args"

check_eq "no error above made an SSH connection" "$c0" "$(conns)"
check "no process left in CLIENT" lab_wait_for 10 lab_no_client_extra

# ---------------------------------------------------------------------------
what="cshuttle --config FILE alone"
new_cfg "# cshuttle profile for the lab" "" "remote = labhost" \
    "$(transport_lines)" \
    "subnets = 198.19.0.0/24 198.19.1.0/24" \
    "subnet 198.19.2.1/32" \
    "   exclude = 198.19.1.3   " \
    "alive-interval = 1" "alive-timeout 3" "reconnect = yes" "" "# end"
lab_say "$what"
sed 's/^/    | /' "$CFG"
if start_cshuttle_cmd "$CSHUTTLE_BIN" --config "$CFG"; then
	check "$what: 198.19.0.2 is tunnelled (subnets = a b)" via_tunnel 198.19.0.2 8001
	check "$what: 198.19.1.1 is tunnelled (subnets = a b)" via_tunnel 198.19.1.1 8001
	check "$what: 198.19.2.1 is tunnelled (subnet b)" via_tunnel 198.19.2.1 8001
	check "$what: 198.19.1.3 is excluded" lab_hello_fails 198.19.1.3 8001
	m=$(lab_log_mark "$CSHUTTLE_LOG")
	lab_kill_sessions KILL
	check "$what: the session is killed: reconnected (reconnect = yes)" \
	    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to '
	check "$what: the tunnel works again" via_tunnel 198.19.0.2 8001
	stop_cshuttle TERM
	check_eq "$what: exit 0 on SIGTERM" 0 "$CSHUTTLE_RC"
else
	lab_bad "$what: cshuttle did not start"
fi
check "$what: no table left" assert_no_tables

what="-r and -x on the command line, --config last"
new_cfg "remote = labhost-wrongkey" "subnet = 198.19.1.0/24" "exclude = 198.19.1.1"
lab_say "$what"
if start_cshuttle -r labhost -x 198.19.1.2 --config "$CFG"; then
	lab_ok "$what: -r labhost wins over the file's remote"
	check "$what: 198.19.1.1 is tunnelled: -x replaced the file's exclude" \
	    via_tunnel 198.19.1.1 8001
	check "$what: 198.19.1.2 is excluded (-x)" lab_hello_fails 198.19.1.2 8001
	check "$what: 198.19.1.3 is tunnelled (the file's subnet)" \
	    via_tunnel 198.19.1.3 8001
	stop_cshuttle TERM
	check_eq "$what: exit 0 on SIGTERM" 0 "$CSHUTTLE_RC"
else
	lab_bad "$what: cshuttle did not start"
fi
check "$what: no table left" assert_no_tables

what="subnets on the command line"
lab_say "$what"
if start_cshuttle --config "$CFG" -r labhost 198.19.0.0/24; then
	check "$what: 198.19.0.2 is tunnelled" via_tunnel 198.19.0.2 8001
	check "$what: 198.19.1.3 (the file's subnet) is not: the list is replaced" \
	    lab_hello_fails 198.19.1.3 8001
	stop_cshuttle TERM
	check_eq "$what: exit 0 on SIGTERM" 0 "$CSHUTTLE_RC"
else
	lab_bad "$what: cshuttle did not start"
fi
check "$what: no table left" assert_no_tables

what="reconnect = off"
new_cfg "remote = labhost" "subnet = 198.19.0.0/24" "reconnect = off"
lab_say "$what"
if start_cshuttle --config "$CFG"; then
	check "$what: tunnel works" via_tunnel 198.19.0.2 8001
	lab_kill_sessions KILL
	for ((i = 0; i < 300; i++)); do
		lab_alive "$CSHUTTLE_PID" || break
		sleep 0.05
	done
	if lab_alive "$CSHUTTLE_PID"; then
		lab_bad "$what: cshuttle still runs 15 s after its session died"
		stop_cshuttle KILL
	else
		wait "$CSHUTTLE_PID"
		check_eq "$what: the session is killed: exit 1" 1 "$?"
		CSHUTTLE_PID=
	fi
else
	lab_bad "$what: cshuttle did not start"
fi
check "$what: no table left" assert_no_tables
check "no process left on the remote side" lab_wait_for 10 lab_no_server_session
check "no process left in CLIENT" lab_wait_for 10 lab_no_client_extra

lab_finish
