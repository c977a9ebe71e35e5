#!/bin/bash
# SPDX-License-Identifier: ISC
#
# status_test.sh builtin|ext - `cshuttle status` against running tunnels
# (client/control.c, client/status.c, docs/CONTROL.md):
#   - while a rate-limited download runs, --json shows one stream and
#     bytes received that grow, a rate, and at least what curl has got,
#     at most that plus what can be in flight (the largest credit a
#     stream grows to and the socket buffers);
#   - once it is done, the bytes match what was moved: at least the file,
#     at most the file plus LAB_STATUS_SLACK bytes (the HTTP headers; the
#     direction out carries only the request);
#   - the counters go on over a reconnect (reconnects 1, last_reason);
#   - a second tunnel is named after its listener port, and both are
#     listed without a NAME (text and a JSON array);
#   - a third with a name in use refuses to start (exit 1); a tunnel
#     killed with SIGKILL leaves a stale socket that is not listed and
#     that the next tunnel of that name replaces;
#   - another user cannot open the socket (permission denied), does not
#     see the tunnel in its own `cshuttle status`, and gets no answer
#     even when the file modes are opened up (SO_PEERCRED);
#   - --watch redraws in place on a terminal and prints snapshots in a
#     row elsewhere;
#   - the socket goes with the tunnel.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need jq jq
lab_up
lab_user_add || lab_die "cannot add the lab user"

slack=${LAB_STATUS_SLACK:-4096}
lab_make_bigfile || lab_die "cannot make the 100 MiB file"
size=$(stat -c %s "$LAB_BIG")
# While the download runs the tunnel is ahead of curl by what is in
# flight between them: at most the stream's credit, which starts at
# 4 MiB and grows up to the 16 MiB window while the loopback connection
# takes all it is sent (docs/PROTOCOL.md §7), and that connection's
# socket buffers (CLIENT's tcp_rmem and tcp_wmem maxima).
rmem=$(in_client sysctl -n net.ipv4.tcp_rmem | awk '{print $3}')
wmem=$(in_client sysctl -n net.ipv4.tcp_wmem | awk '{print $3}')
inflight=$((16 * 1024 * 1024 + rmem + wmem + slack))
dir=$CSHUTTLE_RUNTIME_DIR

# status ARGS...: `cshuttle status` in CLIENT, as root.
status() { in_client "$CSHUTTLE_BIN" status "$@"; }
# jget NAME FILTER: one value of the tunnel's --json status.
jget() { status --json "$1" | jq -r "$2"; }

start_cshuttle --name lab1 -r labhost 198.19.0.0/24 || lab_die "cshuttle did not start"
pid1=$CSHUTTLE_PID

check "the control socket exists, mode 0600" \
    test "$(stat -c %a "$dir/lab1.sock" 2>/dev/null)" = 600
check_eq "the directory is root's, mode 0700" "0 700" "$(stat -c '%u %a' "$dir")"
check_eq "idle: state connected" connected "$(jget lab1 .state)"
check_eq "idle: no stream" 0 "$(jget lab1 .streams.open)"
check_eq "idle: the subnet" "198.19.0.0/24" "$(jget lab1 '.subnets[0].subnet')"
check_eq "transport" "$([[ $LAB_TRANSPORT == ext ]] && echo 'ssh command' || echo libssh2)" \
    "$(jget lab1 .transport)"
check_eq "no DNS capture: dns is null" null "$(jget lab1 .dns)"
check_eq "UDP is carried, no flow yet" 0 "$(jget lab1 .udp.flows)"
text=$(status lab1)
check "text: the tunnel's header" grep -q '^tunnel: lab1$' <<<"$text"
check "text: remote and transport" grep -q '^  remote: labhost (' <<<"$text"

lab_say "a download at 10 MB/s while status looks on"
ip netns exec "$LAB_NS_C" curl -sS -f -m 60 --limit-rate 10M \
    -o "$LAB_DIR/status.got" http://198.19.0.2/big.bin &
curl_pid=$!
sleep 2
b1=$(jget lab1 .bytes.in)
s1=$(jget lab1 .streams.open)
sleep 1.5
# curl's count first: what it has, the tunnel had before.
got=$(stat -c %s "$LAB_DIR/status.got")
j2=$(status --json lab1)
b2=$(jq -r .bytes.in <<<"$j2")
check_eq "during the download: one stream open" 1 "$s1"
check "during the download: bytes received grow ($b1 -> $b2)" test "$b2" -gt "$b1"
check "during the download: a rate in ($(jq -r .rate.in <<<"$j2") B/s)" \
    test "$(jq -r .rate.in <<<"$j2")" -gt 0
check "during the download: not yet the whole file" test "$b2" -lt "$size"
check "during the download: received ($b2) = curl's $got + at most $inflight in flight" \
    test "$b2" -ge "$got" -a "$b2" -le $((got + inflight))
wait "$curl_pid"
check_eq "the download completed" "$size" "$(stat -c %s "$LAB_DIR/status.got")"
j3=$(status --json lab1)
b3=$(jq -r .bytes.in <<<"$j3")
o3=$(jq -r .bytes.out <<<"$j3")
check "after: bytes in ($b3) = the file ($size) + at most $slack" \
    test "$b3" -ge "$size" -a "$b3" -le $((size + slack))
check "after: bytes out ($o3) are the request alone" test "$o3" -gt 0 -a "$o3" -le "$slack"
check_eq "after: no stream open" 0 "$(jq -r .streams.open <<<"$j3")"
check_eq "after: one stream in all" 1 "$(jq -r .streams.total <<<"$j3")"

lab_say "the counters go on over a reconnect"
lab_kill_sessions
lab_wait_for 20 test "$(jget lab1 .reconnects 2>/dev/null)" = 1
check_eq "one reconnect" 1 "$(jget lab1 .reconnects)"
check "the reason the session was lost" test "$(jget lab1 .last_reason)" != null
lab_wait_for 20 test "$(jget lab1 .state 2>/dev/null)" = connected
lab_curl http://198.19.0.2/small.txt >/dev/null
j4=$(status --json lab1)
check "bytes in kept over the reconnect ($(jq -r .bytes.in <<<"$j4") > $b3)" \
    test "$(jq -r .bytes.in <<<"$j4")" -gt "$b3"
check_eq "streams in all kept over the reconnect" 2 "$(jq -r .streams.total <<<"$j4")"
check "the session's uptime restarted" \
    test "$(jq -r .session_uptime <<<"$j4")" -lt "$(jq -r .uptime <<<"$j4")"

lab_say "a second tunnel, named after its port; both listed"
start_cshuttle -r labhost 198.19.1.0/24 || lab_die "the second cshuttle did not start"
pid2=$CSHUTTLE_PID
port2=$(in_client ss -Htlnp | awk -v p="pid=$pid2," \
    'index($0, p) && $4 ~ /^127\.0\.0\.1:/ { sub(/.*:/, "", $4); print $4; exit }')
check "the second tunnel's listener port ($port2)" test -n "$port2"
check "its socket is named after the port" test -S "$dir/$port2.sock"
all=$(status)
check "text lists lab1" grep -q '^tunnel: lab1$' <<<"$all"
check "text lists $port2" grep -q "^tunnel: $port2\$" <<<"$all"
check_eq "--json without NAME: an array of both, by name" "$port2 lab1" \
    "$(status --json | jq -r '[.[].name] | join(" ")')"

lab_say "a name in use, a stale socket"
run_cshuttle --name lab1 -r labhost 198.19.2.0/24
check_eq "a third tunnel named lab1 exits 1" 1 "$CSHUTTLE_RC"
check "it says the name is in use" grep -q 'running already' "$LAB_DIR/last.err"
check_eq "lab1 still answers" connected "$(jget lab1 .state)"
kill -KILL "$pid2"
wait "$pid2" 2>/dev/null
check "the killed tunnel's socket stays behind" test -S "$dir/$port2.sock"
check_eq "the stale socket is not listed" "lab1" "$(status --json | jq -r '[.[].name] | join(" ")')"
status "$port2" >/dev/null 2>"$LAB_DIR/stale.err"
check_eq "status of the dead tunnel exits 1" 1 $?
check "it says that it is not running" grep -q 'is running' "$LAB_DIR/stale.err"
start_cshuttle --name "$port2" -r labhost 198.19.1.0/24 ||
    lab_die "a tunnel could not take over the stale name"
pid2=$CSHUTTLE_PID
check_eq "the stale socket was replaced" connected "$(jget "$port2" .state)"

lab_say "another user"
asuser() { in_client "${LAB_ASUSER[@]}" "$@"; }
asuser env CSHUTTLE_RUNTIME_DIR="$dir" "$CSHUTTLE_BIN" status lab1 \
    >/dev/null 2>"$LAB_DIR/user.err"
check_eq "the other user's status of lab1 exits 1" 1 $?
check "... with permission denied" grep -q 'Permission denied' "$LAB_DIR/user.err"
check "the socket refuses the user's connect" asuser "$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(0)
sys.exit(1)' "$dir/lab1.sock"
out=$(asuser "$CSHUTTLE_BIN" status 2>&1)
check "the other user's own status does not list lab1" \
    test "$(grep -c 'lab1' <<<"$out")" -eq 0
# Opened up by mistake: the kernel's word on the peer still refuses it.
chmod 755 "$dir"
chmod 666 "$dir/lab1.sock"
check "with the modes opened, the server closes on the user without a word" \
    asuser "$LAB_PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
sys.exit(0 if s.recv(100) == b"" else 1)' "$dir/lab1.sock"
chmod 700 "$dir"
chmod 600 "$dir/lab1.sock"
check "the refusal is logged" grep -q 'connection from uid' "$LAB_DIR/cshuttle.1.log"

lab_say "--watch"
out=$(in_client timeout 2.6 "$CSHUTTLE_BIN" status --watch lab1)
check "without a terminal: snapshots in a row (at least 2)" \
    test "$(grep -c '^tunnel: lab1$' <<<"$out")" -ge 2
out=$(in_client timeout 2.6 "$CSHUTTLE_BIN" status --watch --json lab1)
check "--json --watch: one JSON line each" \
    test "$(jq -r .name <<<"$out" | grep -c '^lab1$')" -ge 2
in_client "$LAB_PY" -c '
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "status", "--watch", "lab1"])
data = b""
end = time.time() + 2.6
while time.time() < end:
    try:
        data += os.read(fd, 65536)
    except OSError:
        break
os.kill(pid, 15)
os.waitpid(pid, 0)
sys.stdout.write(data.decode("ascii", "replace"))' "$CSHUTTLE_BIN" >"$LAB_DIR/watch.tty"
check "on a terminal: redrawn in place (home and clear, at least twice)" \
    test "$(grep -o $'\e\\[H\e\\[2J' "$LAB_DIR/watch.tty" | wc -l)" -ge 2

lab_say "the socket goes with its tunnel"
CSHUTTLE_PID=$pid2
stop_cshuttle TERM
check_eq "the second tunnel exits 0" 0 "$CSHUTTLE_RC"
check_not "its socket is gone" test -e "$dir/$port2.sock"
CSHUTTLE_PID=$pid1
stop_cshuttle TERM
check_eq "lab1 exits 0" 0 "$CSHUTTLE_RC"
check_not "lab1's socket is gone" test -e "$dir/lab1.sock"
check_eq "status now: no tunnel" "no tunnel is running" "$(status)"
check "no table left" assert_no_tables

lab_finish
