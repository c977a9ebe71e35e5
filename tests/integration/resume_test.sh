#!/bin/bash
# SPDX-License-Identifier: ISC
#
# resume_test.sh builtin|ext - open connections survive a lost session
# (docs/PROTOCOL.md section 11, README "Reconnecting"):
#   - the SSH session is killed during a 100 MiB download: the download
#     completes with the right SHA-256, and the log says the session
#     resumed with its connection;
#   - an echo stream (a line every 100 ms, each checked) survives SSH
#     packets being dropped for longer than --alive-timeout, with no line
#     lost, repeated or out of order;
#   - the stub waits in a 0700 directory of the remote's /tmp, and is
#     gone, with its socket and directory, at once when cshuttle ends on
#     purpose (SIGTERM), and when --resume-grace runs out after kill -9;
#   - when nothing waits any more at the reconnect (the grace ran out
#     during an outage, or the waiting stub was killed), the kept
#     connection is reset, the log says why, and new connections work;
#   - a DNS query in flight when the session is killed (the remote's
#     resolver unreachable for the moment) is asked again through the
#     next session: dig, trying once, gets its answer.
# (The stub-side protocol, a wrong secret included, is stub_drive's.)

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need dig bind9-dnsutils
lab_up
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
lab_dns_up || lab_die "the lab's DNS servers did not start"

alive=(--alive-interval 1 --alive-timeout 3)
hello1="priv 8001 198.19.0.1"
hello_ok() { [[ "$(lab_hello 198.19.0.2 8001 2>/dev/null)" == "$hello1" ]]; }
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }
show_log() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -v ': stream [0-9]*:' | sed 's/^/    | /'; }
# The socket the stub of this run waits at (from the -v log), as the
# server sees it, and the directory it is in.
token_path() { sed -n 's/^cshuttle: the stub waits at \(.*\) after a lost link$/\1/p' "$CSHUTTLE_LOG" | tail -n 1; }
srv_path() { printf '%s\n' "$LAB_DIR/srv/tmp/${1#/tmp/}"; }
stub_pids() {
	local p
	for p in $(lab_server_extra_pids); do
		[[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" == *sshd* ]] || echo "$p"
	done
}
no_stub() { [[ -z "$(stub_pids)" ]]; }
# Show what is left in SERVER (after a failed check).
show_stubs() { lab_ps $(stub_pids) | sed 's/^/    | /'; }

lab_say "kill the SSH session during a 100 MiB download"
start_cshuttle --name resume -v "${alive[@]}" -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
tok=$(token_path)
check "the stub waits at a socket of the remote's /tmp ($tok)" \
    eval '[[ $tok == /tmp/cshuttle-resume-*/s && -S $(srv_path "$tok") ]]'
check_eq "its directory is the user's alone" 700 "$(stat -c %a "$(dirname "$(srv_path "$tok")")")"
m=$(lab_log_mark "$CSHUTTLE_LOG")
in_client curl -s --limit-rate 25M -m 120 -o "$LAB_DIR/dl.bin" http://198.19.0.2/big.bin &
cpid=$!
sleep 1.5
check "the download is under way" eval '(( $(stat -c %s "$LAB_DIR/dl.bin" 2>/dev/null || echo 0) > 0 ))'
lab_kill_sessions KILL
wait "$cpid"
check_eq "curl succeeds" 0 "$?"
check_eq "the download is whole (SHA-256)" "$LAB_BIG_SHA" \
    "$(sha256sum "$LAB_DIR/dl.bin" | cut -d' ' -f1)"
check "the session was lost" logged "$m" 'session lost: '
check "the connection waited for it" logged "$m" '1 connection waits for the session to resume'
check "the session resumed with it" \
    logged "$m" 'reconnected to labhost \(attempt [0-9]+\): the session resumed, 1 connection kept'
check "new connections work" hello_ok
show_log "$m"
rm -f "$LAB_DIR/dl.bin"

lab_say "SSH packets dropped for 7 s (--alive-timeout 3): an echo stream carries on"
m=$(lab_log_mark "$CSHUTTLE_LOG")
LAB_STREAM_WAIT=60 lab_stream_start 198.19.0.2 7001 || lab_bad "an echo stream through the tunnel"
sleep 1
lab_ssh_block || lab_bad "cannot drop SSH packets in SERVER"
n0=$(lab_stream_rounds)
sleep 7
n1=$(lab_stream_rounds)
lab_ssh_unblock
check "the stream stood still meanwhile ($n0 -> $n1 rounds)" test $((n1 - n0)) -le 2
check "the session was found dead" lab_wait_for 20 logged "$m" 'session lost: '
check "the session resumed" lab_wait_for 30 logged "$m" 'the session resumed, 1 connection kept'
check "the stream goes on" lab_wait_for 10 eval '(( $(lab_stream_rounds) > n1 + 10 ))'
out=$(lab_stream_stop)
check "no line lost, repeated or out of order ($out)" eval '[[ $out == "ok "* ]]'
show_log "$m"

lab_say "SIGTERM: the stub ends at once, with its socket and directory"
tok=$(token_path)
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "the stub is gone within 3 s" lab_wait_for 3 no_stub
no_stub || show_stubs
check "its socket and directory are gone" eval '[[ ! -e $(dirname "$(srv_path "$tok")") ]]'
check "nothing is left in the remote's temporary directories" lab_wait_for 3 lab_remote_clean

lab_say "kill -9 of cshuttle: the stub waits out --resume-grace 2, then ends"
start_cshuttle --name resume -v "${alive[@]}" --resume-grace 2 -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
tok=$(token_path)
check "a connection works" hello_ok
# Every process of it (the main one, the unprivileged tunnel in a session
# of its own, the helper, ssh with -e ssh) at once, the newest first: a
# crash, not a shutdown the tunnel would see coming (it ends when the main
# process does, and would say BYE).
# shellcheck disable=SC2046  # one pid a word
kill -KILL $(lab_client_extra_pids | sort -rn)
wait "$CSHUTTLE_PID" 2>/dev/null
CSHUTTLE_PID=
sleep 1
check "1 s later the stub still waits ($tok)" eval '[[ -S $(srv_path "$tok") && -n $(stub_pids) ]]'
check "within 2 + 3 s it is gone, with its socket and directory" \
    lab_wait_for 5 eval 'no_stub && [[ ! -e $(dirname "$(srv_path "$tok")") ]]'
check "nothing is left in the remote's temporary directories" lab_wait_for 3 lab_remote_clean
check "no table left" assert_no_tables

lab_say "an outage longer than --resume-grace 2: the kept connection is reset"
start_cshuttle --name resume -v "${alive[@]}" --resume-grace 2 -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_stream_start 198.19.0.2 7001 || lab_bad "an echo stream through the tunnel"
lab_sshd_stop || lab_bad "cannot stop sshd"
sleep 4
lab_sshd_start || lab_die "sshd did not start again"
check "the reconnect says the session could not be resumed" lab_wait_for 20 logged "$m" \
    'the session could not be resumed within 2 s: 1 connection reset|cannot resume the session: no stub waits any more'
check "reconnected" lab_wait_for 20 logged "$m" '^cshuttle: reconnected to labhost'
out=$(lab_stream_stop)
check "the stream was reset ($out)" eval '[[ $out == error* ]]'
check "new connections work" hello_ok
show_log "$m"

lab_say "the waiting stub is killed during an outage: nothing to resume"
stop_cshuttle TERM
start_cshuttle --name resume -v "${alive[@]}" -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_stream_start 198.19.0.2 7001 || lab_bad "an echo stream through the tunnel"
lab_ssh_block || lab_bad "cannot drop SSH packets in SERVER"
lab_kill_sessions KILL
check "the session was found dead" lab_wait_for 20 logged "$m" 'session lost: '
for p in $(stub_pids); do kill -KILL "$p"; done
lab_ssh_unblock
check "the new stub finds nothing waiting" lab_wait_for 30 logged "$m" \
    'cannot resume the session: no stub waits any more.*: 1 connection reset'
check "reconnected" lab_wait_for 20 logged "$m" '^cshuttle: reconnected to labhost'
out=$(lab_stream_stop)
check "the stream was reset ($out)" eval '[[ $out == error* ]]'
check "new connections work" hello_ok
show_log "$m"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "no stub left" lab_wait_for 3 no_stub
# The killed stub could not remove its socket: only that is left.
check "nothing else is left in the remote's temporary directories" \
    eval '[[ -z $(lab_remote_leftovers | grep -v "/cshuttle-resume-[^/]*\(/s\)\?$") ]]'

lab_say "a DNS query in flight when the session is killed is asked again"
start_cshuttle --name resume -v --dns -r labhost 198.19.0.0/24 ||
    lab_die "cshuttle did not start"
check_eq "a query through the tunnel is answered" 198.19.0.2 \
    "$(in_client dig +time=3 +tries=1 +short secret.lab.internal | grep -v '^;')"
# The remote's resolver drops queries for a while: the next one stays in
# flight in the stub.
in_priv nft -f - <<EOF || lab_bad "cannot drop DNS in PRIV"
table inet labdns_$LAB_ID {
	chain input {
		type filter hook input priority -50; policy accept;
		udp dport 53 drop
		tcp dport 53 drop
	}
}
EOF
m=$(lab_log_mark "$CSHUTTLE_LOG")
in_client dig +time=9 +tries=1 +short secret.lab.internal >"$LAB_DIR/dig.out" 2>&1 &
dpid=$!
sleep 1
lab_kill_sessions KILL
in_priv nft delete table inet "labdns_$LAB_ID" || lab_bad "cannot remove PRIV's drop"
check "the session was lost" lab_wait_for 10 logged "$m" 'session lost: '
wait "$dpid"
check_eq "dig, trying once, gets the answer across the lost session" 198.19.0.2 \
    "$(grep -v '^;' "$LAB_DIR/dig.out")"
check "the log says the query was asked again" \
    logged "$m" 'dns: 1 query in flight at the loss asked again'
show_log "$m"
stop_cshuttle TERM
check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
check "no stub left" lab_wait_for 3 no_stub

lab_finish
