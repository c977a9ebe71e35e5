#!/bin/bash
# SPDX-License-Identifier: ISC
#
# reload_test.sh builtin|ext - SIGHUP re-reads --config FILE, with an echo
# stream held open through the tunnel all along:
#   - a subnet and an exclude added to FILE take effect; the stream goes
#     on echoing; the rules are replaced in one nftables batch (nft
#     monitor: one generation, no table deleted) and the old subnet's rule
#     is never missing (sampled every 50 ms); the session is the same;
#   - a subnet removed: new connections there are no longer tunnelled,
#     the established stream to it goes on (established streams are
#     untouched);
#   - FILE with an unknown key, or a bad value: logged with FILE:LINE,
#     nothing changes (not even the valid lines of that file);
#   - remote (namespace, seed-hosts) changed in FILE: "needs a restart:
#     remote" (namespace, seed-hosts), ignored, while
#     the subnet change in the same file is applied;
#   - a subnet given as a host name whose name server holds the answer:
#     while the reload waits for it, the stream goes on echoing and new
#     connections are tunnelled as before; a second SIGHUP meanwhile is
#     remembered and runs after it; once the answer comes, the name's
#     address is tunnelled;
#   - subnets on the command line replace the file's, at start and after
#     a reload.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

cfg=$LAB_DIR/reload.conf
# What PRIV's hello services answer through the tunnel (their peer is
# SERVER).
hello() { printf 'priv %s 198.19.0.1\n' "$2"; }
via_tunnel() { [[ "$(lab_hello "$1" "$2" 2>/dev/null)" == "$(hello "$@")" ]]; }

# Did cshuttle log a line matching REGEX after MARK?
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }
show_log() { lab_log_since "$CSHUTTLE_LOG" "$1" | sed 's/^/    | /'; }

# Lines of the configuration file, one argument each.
write_cfg() { printf '%s\n' "$@" >"$cfg"; }

# The stream has done at least N more round trips than now: it echoes.
stream_moves() {
	local want=$(($(lab_stream_rounds) + ${1:-5}))
	lab_wait_for 10 eval '(($(lab_stream_rounds) >= want))'
}

# hup WHAT: send SIGHUP; afterwards cshuttle still runs.
hup() {
	kill -HUP "$CSHUTTLE_PID"
	sleep 0.5
	check "$1: cshuttle still runs after SIGHUP" lab_alive "$CSHUTTLE_PID"
}

# ---------------------------------------------------------------------------
what="start with --config"
write_cfg "# the reload test" "remote = labhost" "subnet = 198.19.0.0/24"
lab_say "$what"
start_cshuttle --config "$cfg" || lab_die "$what: cshuttle did not start"
check "$what: 198.19.0.2 is tunnelled" via_tunnel 198.19.0.2 8001
check "$what: 198.19.1.1 is not" lab_hello_fails 198.19.1.1 8001
table=$(lab_tables)
session=$(lab_sessions)
lab_stream_start 198.19.0.2 7001 || lab_bad "$what: an echo stream through the tunnel"

what="SIGHUP, subnet and exclude added"
lab_nft_watch_start 'ip daddr 198\.19\.0\.0/24 redirect to :[0-9]+' ||
    lab_bad "$what: the rule watcher did not start"
write_cfg "# the reload test" "remote = labhost" "subnet = 198.19.0.0/24" \
    "subnet = 198.19.1.0/24" "exclude = 198.19.1.3"
m=$(lab_log_mark "$CSHUTTLE_LOG")
hup "$what"
check "$what: 198.19.1.1 is tunnelled" lab_wait_for 10 via_tunnel 198.19.1.1 8001
check "$what: 198.19.1.3 is excluded" lab_hello_fails 198.19.1.3 8001
check "$what: 198.19.0.2 still is" via_tunnel 198.19.0.2 8001
check "$what: the old stream still echoes" stream_moves
lab_nft_watch_stop
check_eq "$what: the 198.19.0.0/24 rule was there in all $LAB_WATCH_SAMPLES samples" \
    0 "$LAB_WATCH_GAPS"
check "$what: the samples were frequent (longest pause ${LAB_WATCH_MAXDT} ms)" \
    test "$LAB_WATCH_SAMPLES" -ge 10 -a "$LAB_WATCH_MAXDT" -lt 1000
check_eq "$what: one nftables batch" 1 "$LAB_WATCH_GENS"
check_eq "$what: which did not delete the table" 0 "$LAB_WATCH_DROPS"
check_eq "$what: the same table" "$table" "$(lab_tables)"
check_eq "$what: the same session" "$session" "$(lab_sessions)"
check "$what: no session lost" eval '! logged "$m" "session lost"'
show_log "$m"

what="SIGHUP, subnet 198.19.0.0/24 removed"
write_cfg "remote = labhost" "subnet = 198.19.1.0/24" "exclude = 198.19.1.3"
m=$(lab_log_mark "$CSHUTTLE_LOG")
hup "$what"
check "$what: 198.19.0.2 is no longer tunnelled" \
    lab_wait_for 10 lab_hello_fails 198.19.0.2 8001
check "$what: 198.19.1.1 still is" via_tunnel 198.19.1.1 8001
check "$what: the established stream to 198.19.0.2 goes on" stream_moves
show_log "$m"

# A broken file changes nothing, not even its valid lines (198.19.2.0/24).
for bad in "no-such-key = 1" "alive-interval = soon" "subnet = 198.19.2.0/33"; do
	what="SIGHUP, '$bad' on line 4"
	write_cfg "remote = labhost" "subnet = 198.19.1.0/24" \
	    "subnet = 198.19.2.0/24" "$bad" "exclude = 198.19.1.3"
	rules=$(in_client nft list ruleset)
	lab_nft_watch_start 'ip daddr 198\.19\.1\.0/24 redirect to :[0-9]+' ||
	    lab_bad "$what: the rule watcher did not start"
	m=$(lab_log_mark "$CSHUTTLE_LOG")
	hup "$what"
	check "$what: logged as $cfg:4:" \
	    lab_wait_for 5 logged "$m" "^cshuttle: .*${cfg//./\\.}:4: "
	check "$what: 198.19.2.1 is not tunnelled" lab_hello_fails 198.19.2.1 8001
	check "$what: 198.19.1.1 still is" via_tunnel 198.19.1.1 8001
	check "$what: the stream still echoes" stream_moves
	lab_nft_watch_stop
	check_eq "$what: no nftables change" 0 "$LAB_WATCH_GENS"
	check_eq "$what: the ruleset is unchanged" "$rules" "$(in_client nft list ruleset)"
	show_log "$m"
done

what="SIGHUP, remote, namespace and seed-hosts changed and a subnet added"
write_cfg "remote = labalt" "subnet = 198.19.1.0/24" "subnet = 198.19.2.0/24" \
    "exclude = 198.19.1.3" "namespace = $LAB_NS_C" "seed-hosts = seeded.lab"
m=$(lab_log_mark "$CSHUTTLE_LOG")
hup "$what"
check "$what: logged 'needs a restart: remote'" \
    lab_wait_for 5 logged "$m" 'needs a restart: remote'
check "$what: logged 'needs a restart: namespace'" \
    lab_wait_for 5 logged "$m" 'needs a restart: namespace'
check "$what: logged 'needs a restart: seed-hosts'" \
    lab_wait_for 5 logged "$m" 'needs a restart: seed-hosts'
check "$what: the subnet is applied: 198.19.2.1 is tunnelled" \
    lab_wait_for 10 via_tunnel 198.19.2.1 8001
check_eq "$what: the same session" "$session" "$(lab_sessions)"
check "$what: the stream still echoes" stream_moves
show_log "$m"

# A name server in CLIENT (resolv.conf names 127.0.0.1) that holds every
# answer until the file $1 exists: slow.lab.test is 198.19.0.2 (A only).
# Each question's name goes to the log $2 as it arrives.
LAB_HOLD_DNS_PY='
import os, socket, struct, sys
release, log, ready = sys.argv[1:4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
s.settimeout(0.05)
out = open(log, "a", buffering=1)
open(ready, "w").close()
held = []
def question(q):
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    return ".".join(labels), struct.unpack(">H", q[i + 1:i + 3])[0], i + 5
def answer(q):
    name, qtype, end = question(q)
    a = qtype == 1 and name == "slow.lab.test"
    r = q[:2] + b"\x81\x80" + struct.pack(">HHHH", 1, 1 if a else 0, 0, 0) + q[12:end]
    if a:
        r += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("198.19.0.2")
    return r
while True:
    try:
        q, peer = s.recvfrom(4096)
        out.write(question(q)[0] + "\n")
        held.append((q, peer))
    except socket.timeout:
        pass
    if os.path.exists(release):
        for q, peer in held:
            s.sendto(answer(q), peer)
        held = []
'

what="SIGHUP, a subnet whose name server holds the answer"
hold=$LAB_DIR/hold-dns
ip netns exec "$LAB_NS_C" "$LAB_PY" -c "$LAB_HOLD_DNS_PY" "$hold.release" \
    "$hold.log" "$hold.ready" </dev/null >"$hold.out" 2>&1 &
hold_pid=$!
LAB_PIDS+=("$hold_pid")
lab_wait_for 5 test -e "$hold.ready" || lab_bad "$what: the name server did not start"
write_cfg "remote = labalt" "subnet = 198.19.1.0/24" "subnet = 198.19.2.0/24" \
    "exclude = 198.19.1.3" "subnet = slow.lab.test"
m=$(lab_log_mark "$CSHUTTLE_LOG")
hup "$what"
check "$what: the reload asks for slow.lab.test" \
    lab_wait_for 5 grep -qx slow.lab.test "$hold.log"
# The answer is held: the reload waits, the tunnel must not.  (A reload
# that blocked the loop would let these pass only once it was over.)
check "$what: the stream echoes" stream_moves
check "$what: 198.19.1.1 is tunnelled" via_tunnel 198.19.1.1 8001
check "$what: ...while the reload was still waiting" \
    eval '! logged "$m" "reloaded:|cannot reload"'
kill -HUP "$CSHUTTLE_PID"
check "$what: a second SIGHUP meanwhile is remembered" \
    lab_wait_for 5 logged "$m" "a reload is running; another one follows it"
: >"$hold.release"
check "$what: once answered, the subnet is applied" \
    lab_wait_for 10 logged "$m" "reloaded: subnets"
check "$what: 198.19.0.2 (slow.lab.test) is tunnelled" \
    lab_wait_for 10 via_tunnel 198.19.0.2 8001
check "$what: then the second reload ran" \
    lab_wait_for 10 eval '(($(lab_log_since "$CSHUTTLE_LOG" "$m" | grep -c "reloaded:") == 2))'
check_eq "$what: the same session" "$session" "$(lab_sessions)"
check "$what: the stream still echoes" stream_moves
show_log "$m"
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
lab_pids_forget "$hold_pid"

msg=$(lab_stream_stop)
check "the echo stream lived through every reload ($msg)" \
    eval '[[ $msg == "ok "* ]]'
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables

# ---------------------------------------------------------------------------
what="subnets on the command line"
write_cfg "remote = labhost" "subnet = 198.19.1.0/24"
lab_say "$what"
start_cshuttle --config "$cfg" 198.19.2.0/24 || lab_die "$what: cshuttle did not start"
check "$what: 198.19.2.1 (command line) is tunnelled" via_tunnel 198.19.2.1 8001
check "$what: 198.19.1.1 (file) is not: the command line replaces the list" \
    lab_hello_fails 198.19.1.1 8001
write_cfg "remote = labhost" "subnet = 198.19.1.0/24" "subnet = 198.19.0.0/24"
m=$(lab_log_mark "$CSHUTTLE_LOG")
hup "$what"
sleep 1
check "$what, after SIGHUP: 198.19.2.1 still tunnelled" via_tunnel 198.19.2.1 8001
check "$what, after SIGHUP: 198.19.0.2 (file) is not" lab_hello_fails 198.19.0.2 8001
check "$what, after SIGHUP: nor 198.19.1.1" lab_hello_fails 198.19.1.1 8001
show_log "$m"
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "no process left on the remote side" lab_wait_for 10 lab_no_server_session
check "no process left in CLIENT" lab_wait_for 10 lab_no_client_extra

lab_finish
