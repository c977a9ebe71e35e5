#!/bin/bash
# SPDX-License-Identifier: ISC
#
# daemon_test.sh builtin|ext - -D (--daemon), --pidfile and --syslog:
#   - `cshuttle -D --pidfile F` returns 0 only once the tunnel works (a
#     connection made right after it returns gets through), prints
#     nothing, and leaves a daemon: F (mode 0644) holds its pid, it is not
#     the test's child or in its session, its stdin/out/err are /dev/null,
#     its directory is /, and it logs to syslog (facility daemon, ident
#     cshuttle; the lab gives it a /dev/log of its own);
#   - a second instance with the same F, which names a live cshuttle, is
#     refused and changes nothing; a stale F (a dead pid) is taken over;
#   - the daemon reconnects when its session is killed;
#   - SIGTERM: the daemon exits, F and the table are gone;
#   - -D with a host that cannot be reached, or a refused key: the
#     command exits 1 with one line on stderr, no pidfile, no table, no
#     process left;
#   - --pidfile without -D, and --syslog without -D.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_syslog_up || lab_die "the syslog receiver did not start"

hello1="priv 8001 198.19.0.1"
alive=(--alive-interval 1 --alive-timeout 3)
mkdir -m 755 "$LAB_DIR/run"
pidfile=$LAB_DIR/run/cshuttle.pid

now_ms() {
	local t=$EPOCHREALTIME
	echo $((${t%.*} * 1000 + 10#${t#*.} / 1000))
}

# run_daemon ARGS...: `cshuttle -D ARGS` in CLIENT (with the lab's
# /dev/log); its exit status in D_RC, its stderr in the file D_ERR,
# stdout in D_OUT, how long it took in D_MS.
D_N=0
run_daemon() {
	local t0
	lab_cshuttle_cmd
	D_N=$((D_N + 1))
	D_ERR=$LAB_DIR/daemon.$D_N.err
	D_OUT=$LAB_DIR/daemon.$D_N.out
	lab_say "cshuttle -D $*"
	t0=$(now_ms)
	ip netns exec "$LAB_NS_C" timeout -k 5 60 "${LAB_SYSLOG_WRAP[@]}" \
	    "${LAB_CMD[@]}" -D "$@" </dev/null >"$D_OUT" 2>"$D_ERR"
	D_RC=$?
	D_MS=$(($(now_ms) - t0))
	sed 's/^/    | /' "$D_ERR"
}

# Syslog lines (facility daemon, ident cshuttle) after MARK matching REGEX.
syslogged() {
	lab_log_since "$LAB_SYSLOG_LOG" "$1" |
	    grep -Eq -- "^<(2[4-9]|3[01])>.* cshuttle(\[[0-9]+\])?: ($2)"
}

# Wait for PID to be gone (it is not our child: poll).
gone() {
	local i
	for ((i = 0; i < 300; i++)); do
		lab_alive "$1" || return 0
		sleep 0.05
	done
	return 1
}

probe_ok() {
	[[ "$(lab_tcp_probe -w 3 198.19.0.2 8001)" =~ ^[0-9]+\ reply\ $hello1$ ]]
}

fd_is_null() { [[ "$(readlink "/proc/$1/fd/$2")" == /dev/null ]]; }

# no_leftovers WHAT: no table, no session on SERVER, no process in CLIENT.
no_leftovers() {
	check "$1: no table left" assert_no_tables
	check "$1: no session left on the remote side" \
	    lab_wait_for 10 lab_no_server_session
	check "$1: no process left in CLIENT" lab_wait_for 10 lab_no_client_extra
}

# ---------------------------------------------------------------------------
what="-D --pidfile"
m=$(lab_log_mark "$LAB_SYSLOG_LOG")
run_daemon --pidfile "$pidfile" -r labhost 198.19.0.0/24 "${alive[@]}"
check "$what: the tunnel works the moment the command returns" probe_ok
check_eq "$what: exit code 0" 0 "$D_RC"
check "$what: prints nothing" test ! -s "$D_ERR" -a ! -s "$D_OUT"
lab_say "$what: returned after $D_MS ms"
dpid=$(cat "$pidfile" 2>/dev/null)
check "$what: the pidfile holds a pid ($dpid)" eval '[[ $dpid =~ ^[1-9][0-9]*$ ]]'
# The running daemon, the pid in $dpid.
live_daemon() {
	check "$what: that process runs" lab_alive "$dpid"
	check_eq "$what: and is cshuttle" cshuttle "$(cat "/proc/$dpid/comm" 2>/dev/null)"
	check_eq "$what: in CLIENT" "$LAB_NS_C" "$(ip netns identify "$dpid" 2>/dev/null)"
	check_eq "$what: pidfile mode 0644" 644 "$(stat -c %a "$pidfile")"
	check "$what: the daemon is no descendant of the test" \
	    eval '! lab_descends "$dpid" "$BASHPID"'
	check "$what: nor in the test's session" \
	    test "$(lab_sid "$dpid")" != "$(lab_sid "$BASHPID")"
	check "$what: stdin, stdout and stderr are /dev/null" \
	    eval 'fd_is_null "$dpid" 0 && fd_is_null "$dpid" 1 && fd_is_null "$dpid" 2'
	check_eq "$what: its working directory is /" / "$(readlink "/proc/$dpid/cwd")"
	check "$what: it logs to syslog (daemon facility, ident cshuttle)" \
	    lab_wait_for 5 syslogged "$m" 'connected'
	check "$what: one table in CLIENT" \
	    test "$(lab_tables | wc -l)" -eq 1
	table=$(lab_tables)

	what="a second -D with the same pidfile"
	run_daemon --pidfile "$pidfile" -r labhost 198.19.1.0/24
	check "$what: refused (exit $D_RC)" test "$D_RC" -ne 0
	check_eq "$what: one line on stderr" 1 "$(grep -c . "$D_ERR")"
	check "$what: naming the pidfile" grep -qF -- "$pidfile" "$D_ERR"
	check_eq "$what: the pidfile is unchanged" "$dpid" "$(cat "$pidfile" 2>/dev/null)"
	check "$what: the first daemon still runs" lab_alive "$dpid"
	check_eq "$what: its table is the only one" "$table" "$(lab_tables)"
	check "$what: 198.19.1.1 is not tunnelled" lab_hello_fails 198.19.1.1 8001
	check_eq "$what: one session on SERVER" 1 "$(lab_sessions | wc -l)"

	what="-D, session killed"
	m=$(lab_log_mark "$LAB_SYSLOG_LOG")
	lab_kill_sessions KILL
	check "$what: the loss goes to syslog" \
	    lab_wait_for 10 syslogged "$m" 'session lost: '
	check "$what: the daemon reconnects" \
	    lab_wait_for 30 syslogged "$m" 'reconnected to [^ ]+ \(attempt [0-9]+\)'
	check "$what: the tunnel works" probe_ok
	check "$what: the daemon still runs" lab_alive "$dpid"
	check_eq "$what: the pidfile is unchanged" "$dpid" "$(cat "$pidfile" 2>/dev/null)"

	what="-D, SIGTERM"
	kill -TERM "$dpid"
	check "$what: the daemon exits" gone "$dpid"
	check "$what: the pidfile is removed" test ! -e "$pidfile"
	check "$what: 198.19.0.2 is unreachable again" lab_hello_fails 198.19.0.2 8001
	no_leftovers "$what"
	check "$what: no temporary pidfile left" \
	    test -z "$(ls -A "$LAB_DIR/run")"
}
if [[ $dpid =~ ^[1-9][0-9]*$ ]]; then
	live_daemon
else
	lab_bad "$what: no daemon to look at"
	# Whatever was left, for the next sections.
	# shellcheck disable=SC2046  # one pid per word
	kill $(lab_client_extra_pids) 2>/dev/null
	no_leftovers "$what"
fi

# ---------------------------------------------------------------------------
what="-D, stale pidfile"
sleep 0.1 &
stale=$!
wait "$stale"
echo "$stale" >"$pidfile"
run_daemon --pidfile "$pidfile" -r labhost 198.19.0.0/24
check_eq "$what: exit code 0" 0 "$D_RC"
check "$what: the tunnel works" probe_ok
dpid=$(cat "$pidfile" 2>/dev/null)
check "$what: the pidfile names the new daemon ($dpid)" \
    eval '[[ $dpid =~ ^[1-9][0-9]*$ && $dpid != "$stale" ]] && lab_alive "$dpid"'
if [[ $dpid =~ ^[1-9][0-9]*$ ]] && lab_alive "$dpid"; then
	kill -TERM "$dpid"
	check "$what: the daemon exits on SIGTERM" gone "$dpid"
fi
check "$what: the pidfile is removed" test ! -e "$pidfile"
no_leftovers "$what"

# ---------------------------------------------------------------------------
# Start-up failures: the parent reports the daemon's error and its code.
what="-D, unreachable host"
run_daemon --pidfile "$pidfile" -r root@198.18.0.99 198.19.0.0/24
check_eq "$what: exit code 1" 1 "$D_RC"
check_eq "$what: one line on stderr" 1 "$(grep -c . "$D_ERR")"
check "$what: it names the host" grep -q '^cshuttle: .*198\.18\.0\.99' "$D_ERR"
check "$what: no pidfile" test ! -e "$pidfile"
no_leftovers "$what"

what="-D, key refused"
run_daemon --pidfile "$pidfile" -r labhost-wrongkey 198.19.0.0/24
check_eq "$what: exit code 3 (refused)" 3 "$D_RC"
check_eq "$what: one line on stderr" 1 "$(grep -c . "$D_ERR")"
check "$what: it says why" grep -Eqi '^cshuttle: .*(auth|denied|permission|publickey)' "$D_ERR"
check "$what: no pidfile" test ! -e "$pidfile"
no_leftovers "$what"

what="-D, usage error"
run_daemon --pidfile "$pidfile" -r labhost 10.0.0.0/33
check_eq "$what: exit code 2" 2 "$D_RC"
check_eq "$what: one line on stderr" 1 "$(grep -c . "$D_ERR")"
check "$what: no pidfile" test ! -e "$pidfile"
no_leftovers "$what"

# ---------------------------------------------------------------------------
what="--pidfile without -D"
fg_pidfile=$LAB_DIR/run/fg.pid
if start_cshuttle -r labhost 198.19.0.0/24 --pidfile "$fg_pidfile"; then
	check_eq "$what: the pidfile holds cshuttle's pid" "$CSHUTTLE_PID" \
	    "$(cat "$fg_pidfile" 2>/dev/null)"
	check_eq "$what: mode 0644" 644 "$(stat -c %a "$fg_pidfile")"
	stop_cshuttle TERM
	check_eq "$what: exit code 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	check "$what: the pidfile is removed" test ! -e "$fg_pidfile"
else
	lab_bad "$what: cshuttle did not start"
fi
no_leftovers "$what"

what="--syslog without -D"
lab_cshuttle_cmd
m=$(lab_log_mark "$LAB_SYSLOG_LOG")
ip netns exec "$LAB_NS_C" "${LAB_SYSLOG_WRAP[@]}" "${LAB_CMD[@]}" --syslog \
    -r labhost 198.19.0.0/24 </dev/null >"$LAB_DIR/syslog-fg.out" \
    2>"$LAB_DIR/syslog-fg.err" &
fg=$!
check "$what: 'connected' goes to syslog" lab_wait_for 30 syslogged "$m" 'connected'
check "$what: the tunnel works" probe_ok
check "$what: cshuttle runs in the foreground (the test's child)" lab_alive "$fg"
kill -TERM "$fg"
if ! gone "$fg"; then
	lab_bad "$what: cshuttle still runs 15 s after SIGTERM"
	kill -KILL "$fg"
fi
wait "$fg"
check_eq "$what: exit code 0 on SIGTERM" 0 "$?"
check "$what: nothing on stderr" test ! -s "$LAB_DIR/syslog-fg.err"
no_leftovers "$what"

lab_finish
