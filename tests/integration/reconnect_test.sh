#!/bin/bash
# SPDX-License-Identifier: ISC
#
# reconnect_test.sh builtin|ext - the SSH session dies and cshuttle
# carries on by itself, with its firewall rules in place the whole time
# (sampled every 50 ms, and nft monitor shows no table deleted):
#   - the session is killed while idle: "session lost: ...; reconnecting
#     in N s", "reconnected to HOST (attempt 1)", new connections work,
#     SERVER is left with exactly one session;
#   - the session is killed during a download (--resume-grace 0): the
#     download fails at once (its stream is reset, not left hanging), the
#     next one is whole;
#   - SERVER's sshd is stopped for 5 s: the attempts back off (1, 2, 4 s),
#     a connection opened during the outage waits and then works;
#     stopped for longer than the 30 s a waiting connection may wait: that
#     connection is reset at about 30 s, never left hanging;
#   - the network stops answering (SSH packets dropped): the loss is
#     found within --alive-timeout plus a margin, and the session comes
#     back once packets flow again;
#   - --no-reconnect: exit 1 with one error line, no table;
#   - a refused key or a changed host key at the reconnect is not retried:
#     exit 3 with "cannot reconnect: ...", no table.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

small="hello from the private network"
hello1="priv 8001 198.19.0.1"
# Short, so that a dead network is found quickly.  Without resume: what
# is checked here is a lost session's reset and replacement, which
# --resume-grace 0 keeps (resume_test.sh checks the default).
alive=(--alive-interval 1 --alive-timeout 3 --resume-grace 0)
alive_timeout_ms=3000
# The rule that must never go away.
rules_re='ip daddr 198\.19\.0\.0/24 redirect to :[0-9]+'

now_ms() {
	local t=$EPOCHREALTIME
	echo $((${t%.*} * 1000 + 10#${t#*.} / 1000))
}

# Did cshuttle log a line matching REGEX after MARK?  logged MARK REGEX
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }

# What cshuttle logged after MARK, indented (for the reader of the test
# output).
show_log() { lab_log_since "$CSHUTTLE_LOG" "$1" | sed 's/^/    | /'; }

hello_ok() { [[ "$(lab_hello 198.19.0.2 8001 2>/dev/null)" == "$hello1" ]]; }

# Exactly one sshd session in SERVER, and every other process there (the
# stub) is its descendant: nothing of an old session is left.
one_session() {
	local s p
	s=$(lab_sessions)
	[[ -n $s && $s != *$'\n'* ]] || return 1
	for p in $(lab_server_extra_pids); do
		[[ $p == "$s" ]] || lab_descends "$p" "$s" || return 1
	done
}

# With the external transport, exactly one ssh process in CLIENT: the old
# session's is gone.
one_ssh() {
	[[ $LAB_TRANSPORT == ext ]] || return 0
	[[ "$(lab_pids_comm "$LAB_NS_C" ssh | wc -l)" == 1 ]]
}

# start WHAT ARGS...: cshuttle for a section.
start() {
	local what=$1
	shift
	lab_say "$what"
	start_cshuttle -r labhost 198.19.0.0/24 "${alive[@]}" "$@" ||
	    lab_die "$what: cshuttle did not start"
	check "$what: tunnel works" hello_ok
}

# wait_exit SECS: wait for cshuttle to exit by itself; its status in
# CSHUTTLE_RC.  Fails (and kills it) when it is still running.
wait_exit() {
	local i n=$(($1 * 20))
	for ((i = 0; i < n; i++)); do
		lab_alive "$CSHUTTLE_PID" || break
		sleep 0.05
	done
	if lab_alive "$CSHUTTLE_PID"; then
		stop_cshuttle KILL
		CSHUTTLE_RC=still-running
		return 1
	fi
	wait "$CSHUTTLE_PID"
	CSHUTTLE_RC=$?
	CSHUTTLE_PID=
}

# finish WHAT: stop cshuttle if it runs; nothing of it is left.
finish() {
	local what=$1
	if [[ -n "$CSHUTTLE_PID" ]]; then
		stop_cshuttle TERM
		check_eq "$what: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	fi
	check "$what: no table left" assert_no_tables
	check "$what: no process left on the remote side" \
	    lab_wait_for 10 lab_no_server_session
	check "$what: no process left in CLIENT" lab_wait_for 10 lab_no_client_extra
}

# The rules were there all along: every sample of the watcher saw them,
# samples were frequent, and no cshuttle table was deleted.
check_watch() {
	local what=$1
	# A second more after the tunnel is back: a reconnect can take less
	# than the 20 samples (1 s) asked for below, and the samples must
	# reach past its end.
	sleep 1
	lab_nft_watch_stop
	check_eq "$what: rules present in all $LAB_WATCH_SAMPLES samples (every 50 ms)" \
	    0 "$LAB_WATCH_GAPS"
	check "$what: the samples cover the outage (longest pause ${LAB_WATCH_MAXDT} ms)" \
	    test "$LAB_WATCH_SAMPLES" -ge 20 -a "$LAB_WATCH_MAXDT" -lt 1000
	check_eq "$what: no batch deleted the table (nft monitor)" 0 "$LAB_WATCH_DROPS"
}

# The delays of "reconnecting in N s" after MARK, one a line.
delays() {
	lab_log_since "$CSHUTTLE_LOG" "$1" |
	    sed -nE 's/.*reconnecting in ([0-9]+(\.[0-9]+)?) ?s.*/\1/p'
}

# increasing N LIST: at least N numbers, each larger than the one before.
increasing() {
	local n=$1
	shift
	printf '%s\n' "$@" | awk -v n="$n" '
	    NR > 1 && $1 <= p { bad = 1 } { p = $1 } END { exit (bad || NR < n) }'
}

# The error lines of a run that ended: one of cshuttle's own lines
# matching REGEX; with the built-in transport it is the last line and
# nothing but cshuttle's lines came after MARK; with -e, ssh may have
# said something too.  final_error WHAT MARK REGEX
final_error() {
	local what=$1 m=$2 re=$3 out
	out=$(lab_log_since "$CSHUTTLE_LOG" "$m")
	check "$what: cshuttle says /$re/" grep -Eq -- "^cshuttle: .*($re)" <<<"$out"
	check_eq "$what: one such line" 1 "$(grep -Ec -- "^cshuttle: .*($re)" <<<"$out")"
	if [[ $LAB_TRANSPORT == builtin ]]; then
		check "$what: it is the last line" \
		    eval 'tail -n 1 <<<"$out" | grep -Eq -- "^cshuttle: .*($re)"'
		check "$what: no other output" \
		    eval '! grep -vq "^cshuttle: " <<<"$out"'
	fi
	show_log "$m"
}

# ---------------------------------------------------------------------------
what="idle session killed"
start "$what"
check "$what: one session on SERVER" lab_wait_for 10 one_session
old_session=$(lab_sessions)
rules_before=$(in_client nft list ruleset)
lab_nft_watch_start "$rules_re" || lab_bad "$what: the rule watcher did not start"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_kill_sessions KILL
check "$what: logged 'session lost: <reason>; reconnecting in N s'" \
    lab_wait_for 10 logged "$m" '^cshuttle: session lost: .+; reconnecting in [0-9.]+ ?s'
check "$what: logged 'reconnected to HOST (attempt 1)'" \
    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt 1\)'
check "$what: a new connection works" hello_ok
check_eq "$what: curl works" "$small" "$(lab_curl http://198.19.0.2/small.txt)"
check_watch "$what"
check_eq "$what: the ruleset is the same as before" "$rules_before" \
    "$(in_client nft list ruleset)"
check "$what: cshuttle still runs" lab_alive "$CSHUTTLE_PID"
check "$what: SERVER ends with exactly one session" lab_wait_for 10 one_session
check "$what: and it is a new one" test "$(lab_sessions)" != "$old_session"
check "$what: one ssh process in CLIENT" lab_wait_for 10 one_ssh
show_log "$m"
finish "$what"

# ---------------------------------------------------------------------------
what="session killed during a download"
lab_make_bigfile || lab_die "cannot make the big file"
start "$what"
dl1=$LAB_DIR/dl1.bin
dl2=$LAB_DIR/dl2.bin
# Slow enough to be in the middle of it when the session dies.
ip netns exec "$LAB_NS_C" curl -sS -o "$dl1" --limit-rate 5M --max-time 60 \
    http://198.19.0.2/big.bin </dev/null 2>"$LAB_DIR/dl1.err" &
curl_pid=$!
lab_wait_for 15 eval '(($(stat -c %s "$dl1" 2>/dev/null || echo 0) > 2000000))' ||
    lab_bad "$what: the download started"
m=$(lab_log_mark "$CSHUTTLE_LOG")
t0=$(now_ms)
lab_kill_sessions KILL
for ((i = 0; i < 400; i++)); do
	lab_alive "$curl_pid" || break
	sleep 0.05
done
dt=$(($(now_ms) - t0))
if lab_alive "$curl_pid"; then
	lab_bad "$what: curl still hangs 20 s after the session died"
	kill "$curl_pid"
fi
wait "$curl_pid"
curl_rc=$?
check "$what: the download fails (curl exit $curl_rc: $(head -c 200 "$LAB_DIR/dl1.err"))" \
    test "$curl_rc" -ne 0
check "$what: at once, not hung (${dt} ms after the loss)" test "$dt" -lt 10000
check "$what: with part of the file" \
    test "$(stat -c %s "$dl1")" -lt $((100 * 1024 * 1024))
check "$what: reconnected" \
    lab_wait_for 30 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt [0-9]+\)'
check "$what: a new download completes" \
    in_client curl -sS -f -o "$dl2" --max-time 60 http://198.19.0.2/big.bin
check_eq "$what: with the right sha256" "$LAB_BIG_SHA" \
    "$(sha256sum "$dl2" | cut -d' ' -f1)"
rm -f "$dl1" "$dl2" "$LAB_BIG"
show_log "$m"
finish "$what"

# ---------------------------------------------------------------------------
what="--no-reconnect, session killed"
start "$what" --no-reconnect
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_kill_sessions KILL
check "$what: cshuttle exits by itself" wait_exit 15
check_eq "$what: exit code 1" 1 "$CSHUTTLE_RC"
out=$(lab_log_since "$CSHUTTLE_LOG" "$m")
if [[ $LAB_TRANSPORT == builtin ]]; then
	check_eq "$what: one error line" 1 "$(grep -c . <<<"$out")"
else
	check "$what: cshuttle reports the failure" grep -q '^cshuttle: ' <<<"$out"
fi
check "$what: it does not claim to reconnect" \
    eval '! grep -qi "reconnect" <<<"$out"'
show_log "$m"
finish "$what"

# ---------------------------------------------------------------------------
what="SSH packets dropped"
start "$what"
old_session=$(lab_sessions)
lab_nft_watch_start "$rules_re" || lab_bad "$what: the rule watcher did not start"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_ssh_block || lab_bad "$what: cannot drop SSH packets in SERVER"
t0=$(now_ms)
for ((i = 0; i < 300; i++)); do
	logged "$m" '^cshuttle: session lost: ' && break
	sleep 0.05
done
dt=$(($(now_ms) - t0))
check "$what: the loss is logged" logged "$m" '^cshuttle: session lost: .+; reconnecting in'
check "$what: within --alive-timeout + 3 s (${dt} ms)" \
    test "$dt" -le $((alive_timeout_ms + 3000))
# A connection made while the network is dead: it waits for the session.
probe_d=$LAB_DIR/probe-d
lab_tcp_probe -w 45 198.19.0.2 8001 >"$probe_d" 2>&1 &
probe_pid=$!
sleep 2
check "$what: still no session while packets are dropped" \
    eval '! logged "$m" "^cshuttle: reconnected"'
lab_ssh_unblock || lab_bad "$what: cannot remove the drop rules"
t0=$(now_ms)
check "$what: reconnected once packets flow again" \
    lab_wait_for 40 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt [0-9]+\)'
lab_say "$what: reconnected $(($(now_ms) - t0)) ms after the drop ended"
check "$what: a new connection works" hello_ok
wait "$probe_pid"
check "$what: the connection made during the outage got its answer ($(cat "$probe_d"))" \
    grep -Eq "^[0-9]+ reply $hello1\$" "$probe_d"
check_watch "$what"
check "$what: cshuttle still runs" lab_alive "$CSHUTTLE_PID"
check "$what: one ssh process in CLIENT" lab_wait_for 10 one_ssh
show_log "$m"
# The old session's sshd was never told that its client gave up (the
# packets that would have said so were dropped), and waits for a
# connection that is gone: not cshuttle's to end.
if lab_alive "$old_session"; then
	lab_say "$what: the old session ($old_session) is still on SERVER; killing it"
	kill -KILL "$old_session"
fi
finish "$what"

# ---------------------------------------------------------------------------
what="sshd stopped for 5 s"
start "$what"
lab_nft_watch_start "$rules_re" || lab_bad "$what: the rule watcher did not start"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_sshd_stop || lab_bad "$what: sshd did not stop"
t_down=$(now_ms)
check "$what: the loss is logged" \
    lab_wait_for 10 logged "$m" '^cshuttle: session lost: .+; reconnecting in'
sleep 1
probe_a=$LAB_DIR/probe-a
lab_tcp_probe -w 45 198.19.0.2 8001 >"$probe_a" 2>&1 &
probe_pid=$!
left=$((5000 - ($(now_ms) - t_down)))
((left > 0)) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
check "$what: the connection made during the outage waits" lab_alive "$probe_pid"
lab_sshd_start || lab_die "$what: sshd did not start again"
check "$what: reconnected (attempt 2 or later)" \
    lab_wait_for 40 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt ([2-9]|[1-9][0-9]+)\)'
wait "$probe_pid"
check "$what: the waiting connection got its answer ($(cat "$probe_a"))" \
    grep -Eq "^[0-9]+ reply $hello1\$" "$probe_a"
check "$what: within the 30 s a connection may wait" \
    test "$(cut -d' ' -f1 "$probe_a")" -lt 30000
check "$what: a new connection works" hello_ok
mapfile -t d < <(delays "$m")
check "$what: the attempts back off (delays: ${d[*]})" increasing 3 "${d[@]}"
check_watch "$what"
check "$what: SERVER ends with exactly one session" lab_wait_for 10 one_session
check "$what: one ssh process in CLIENT" lab_wait_for 10 one_ssh
show_log "$m"
finish "$what"

# A new cshuttle: the back-off starts again at 1 s (the last session was
# too short to reset it).
what="sshd stopped for 40 s"
start "$what"
lab_nft_watch_start "$rules_re" || lab_bad "$what: the rule watcher did not start"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_sshd_stop || lab_bad "$what: sshd did not stop"
check "$what: the loss is logged" \
    lab_wait_for 10 logged "$m" '^cshuttle: session lost: .+; reconnecting in'
probe_b=$LAB_DIR/probe-b
lab_tcp_probe -w 60 198.19.0.2 8001 >"$probe_b" 2>&1 &
probe_pid=$!
for ((i = 0; i < 900; i++)); do
	lab_alive "$probe_pid" || break
	sleep 0.05
done
check "$what: the waiting connection ended while sshd was down" \
    eval '! lab_alive "$probe_pid"'
wait "$probe_pid"
check "$what: it was reset ($(cat "$probe_b"))" \
    grep -Eq '^[0-9]+ error ECONNRESET$' "$probe_b"
b_ms=$(cut -d' ' -f1 "$probe_b")
check "$what: after about 30 s (${b_ms} ms)" \
    test "$b_ms" -ge 25000 -a "$b_ms" -le 40000
lab_sshd_start || lab_die "$what: sshd did not start again"
check "$what: reconnected" \
    lab_wait_for 90 logged "$m" '^cshuttle: reconnected to [^ ]+ \(attempt [0-9]+\)'
check "$what: a new connection works" hello_ok
mapfile -t d < <(delays "$m")
check "$what: the delays keep growing (${d[*]})" increasing 5 "${d[@]}"
check_watch "$what"
check "$what: SERVER ends with exactly one session" lab_wait_for 10 one_session
check "$what: one ssh process in CLIENT" lab_wait_for 10 one_ssh
show_log "$m"
finish "$what"

# ---------------------------------------------------------------------------
# Failures that another attempt would not cure.  Each counts the SSH
# connections sshd saw after the loss: one attempt, no retries.
conns() { grep -c '^Connection from 198\.18\.0\.1 ' "$LAB_DIR/sshd.log"; }

what="key refused at the reconnect"
start "$what"
cp "$LAB_DIR/authorized_keys" "$LAB_DIR/authorized_keys.orig"
cp "$LAB_DIR/wrong_key.pub" "$LAB_DIR/authorized_keys"
m=$(lab_log_mark "$CSHUTTLE_LOG")
c0=$(conns)
lab_kill_sessions KILL
check "$what: cshuttle exits by itself" wait_exit 30
check_eq "$what: exit code 3 (refused)" 3 "$CSHUTTLE_RC"
final_error "$what" "$m" 'cannot reconnect: .*(auth|denied|permission|publickey|key)'
check_eq "$what: one attempt, not retried" 1 $(($(conns) - c0))
mv -f "$LAB_DIR/authorized_keys.orig" "$LAB_DIR/authorized_keys"
finish "$what"

what="host key changed at the reconnect"
start "$what"
sed "s|^HostKey .*|HostKey $LAB_DIR/other_host_key|" "$LAB_DIR/sshd_config" \
    >"$LAB_DIR/sshd_config.otherkey"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_sshd_stop || lab_bad "$what: sshd did not stop"
c0=$(conns)
lab_sshd_start "$LAB_DIR/sshd_config.otherkey" ||
    lab_die "$what: sshd did not start with the other host key"
check "$what: cshuttle exits by itself" wait_exit 30
check_eq "$what: exit code 3 (refused)" 3 "$CSHUTTLE_RC"
final_error "$what" "$m" 'cannot reconnect: .*(host key|fingerprint|SHA256:)'
check_eq "$what: one attempt, not retried" 1 $(($(conns) - c0))
lab_sshd_stop
lab_sshd_start || lab_die "sshd did not start again"
finish "$what"

lab_finish
