# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_outage.sh - outages and observers for the lab's always-on tests
# (reconnect, daemon, reload; sourced by lab.sh).
#
# lab_sessions: the pids of the lab sshd's sessions ("sshd: root@notty",
# one per SSH connection that logged in; pre-authentication processes are
# not counted), wherever their listener is (a session outlives a stopped
# listener).  lab_kill_sessions [SIGNAL] kills them (default KILL: a
# crashed server, the TCP connection closes at once).
# lab_sshd_stop stops the listener and its sessions; lab_sshd_start
# (lab.sh) starts it again, with the lab's sshd_config or another one.
# lab_ssh_block / lab_ssh_unblock: SERVER silently drops every SSH packet
# (port 22, both ways) with an nft table of its own, labblock_<lab id>: a
# network that stops answering without closing anything.
#
# lab_nft_watch_start REGEX: watch CLIENT's nftables while something
# happens: `nft list ruleset` every 50 ms, each sample "ok" when it
# matches REGEX (e.g. '198\.19\.0\.0/24 redirect to :') and "gap" when
# not, plus `nft monitor` (every change, one "# new generation" line per
# committed batch).  lab_nft_watch_stop ends both and sets LAB_WATCH_SAMPLES,
# LAB_WATCH_GAPS, LAB_WATCH_MAXDT (the longest time between two samples,
# in ms), LAB_WATCH_GENS (batches committed), LAB_WATCH_DROPS (batches
# that deleted a table without creating it again: a window without
# rules) and LAB_WATCH_MON (the monitor's output file).
#
# lab_stream_start HOST PORT: a long-lived connection from CLIENT to an
# echo service that does a round trip (a numbered line, checked) every
# 100 ms, each answer within $LAB_STREAM_WAIT (10) s; lab_stream_rounds prints how many
# were done so far, lab_stream_stop ends it and prints "ok N" (status 0)
# or "error ..." (status 1) for the first failure.  With LAB_STREAM_TS=1
# each answered round is logged as "MS N" (MS: CLOCK_MONOTONIC when the
# answer came, in ms) in $LAB_STREAM_LOG; LAB_STREAM_SRC=ADDR binds the
# connection's local end to ADDR.
#
# lab_syslog_up: a syslog receiver (a datagram socket, messages one a line
# in $LAB_SYSLOG_LOG) and LAB_SYSLOG_WRAP, a command prefix that runs a
# command in a mount namespace of its own whose /dev/log is that socket
# (an overlay over /dev: the host's /dev, and its syslog, are untouched).
# Use it inside the network namespace:
#   ip netns exec "$LAB_NS_C" "${LAB_SYSLOG_WRAP[@]}" cshuttle ... -D
#
# lab_pids_comm NS NAME: pids in NS whose command name is NAME.
# lab_sid PID: the session id of PID.

lab_sessions() {
	local p
	for p in $(ip netns pids "$LAB_NS_S" 2>/dev/null); do
		[[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" =~ ^sshd:\ [^\ ]+@notty ]] &&
		    echo "$p"
	done
}

lab_kill_sessions() {
	local p
	for p in $(lab_sessions); do
		kill -"${1:-KILL}" "$p" 2>/dev/null
	done
}

# Drop PID from LAB_PIDS (a daemon the test stopped itself).
lab_pids_forget() {
	local p keep=()
	for p in "${LAB_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	LAB_PIDS=("${keep[@]}")
}

lab_sshd_stop() {
	local i
	[[ -n "${LAB_SSHD_PID:-}" ]] || return 1
	kill -TERM "$LAB_SSHD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		lab_alive "$LAB_SSHD_PID" || break
		sleep 0.05
	done
	kill -KILL "$LAB_SSHD_PID" 2>/dev/null
	wait "$LAB_SSHD_PID" 2>/dev/null
	lab_pids_forget "$LAB_SSHD_PID"
	LAB_SSHD_PID=
	lab_kill_sessions KILL
	# shellcheck disable=SC2016  # eval expands it
	lab_wait_for 5 eval '! lab_listening "$LAB_NS_S" 22 && [[ -z "$(lab_sessions)" ]]'
}

lab_ssh_block() {
	in_server nft -f - <<EOF
table inet labblock_$LAB_ID {
	chain input {
		type filter hook input priority -50; policy accept;
		tcp dport 22 drop
	}
	chain output {
		type filter hook output priority -50; policy accept;
		tcp sport 22 drop
	}
}
EOF
}

lab_ssh_unblock() {
	in_server nft delete table inet "labblock_$LAB_ID" 2>/dev/null
	! in_server nft list tables 2>/dev/null | grep -q "labblock_$LAB_ID"
}

LAB_WATCH_N=0
LAB_WATCH_PID=
LAB_WATCH_MON_PID=
LAB_WATCH_FILE=
LAB_WATCH_MON=
LAB_WATCH_SAMPLES=0
LAB_WATCH_GAPS=0
LAB_WATCH_MAXDT=0
LAB_WATCH_GENS=0
LAB_WATCH_DROPS=0

lab_nft_watch_start() {
	local re=$1
	LAB_WATCH_N=$((LAB_WATCH_N + 1))
	LAB_WATCH_FILE=$LAB_DIR/nftwatch.$LAB_WATCH_N
	LAB_WATCH_MON=$LAB_WATCH_FILE.mon
	ip netns exec "$LAB_NS_C" nft monitor >"$LAB_WATCH_MON" 2>&1 &
	LAB_WATCH_MON_PID=$!
	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$LAB_NS_C" /bin/bash -c '
		while [[ ! -e $1 ]]; do
			if nft list ruleset 2>/dev/null | grep -Eq -- "$2"; then
				echo "$EPOCHREALTIME ok"
			else
				echo "$EPOCHREALTIME gap"
			fi
			sleep 0.05
		done' sh "$LAB_WATCH_FILE.stop" "$re" >"$LAB_WATCH_FILE" 2>&1 &
	LAB_WATCH_PID=$!
	# A few samples before anything happens (and time for the monitor
	# to subscribe).
	# shellcheck disable=SC2016  # eval expands it
	lab_wait_for 5 eval '(($(cat "$LAB_WATCH_FILE" 2>/dev/null | wc -l) >= 3))'
}

lab_nft_watch_stop() {
	local i
	[[ -n "$LAB_WATCH_PID" ]] || return 1
	: >"$LAB_WATCH_FILE.stop"
	for ((i = 0; i < 100; i++)); do
		lab_alive "$LAB_WATCH_PID" || break
		sleep 0.05
	done
	kill "$LAB_WATCH_PID" 2>/dev/null
	wait "$LAB_WATCH_PID" 2>/dev/null
	kill "$LAB_WATCH_MON_PID" 2>/dev/null
	wait "$LAB_WATCH_MON_PID" 2>/dev/null
	LAB_WATCH_PID=
	LAB_WATCH_MON_PID=
	# shellcheck disable=SC2034  # for the tests (so are the two below)
	LAB_WATCH_SAMPLES=$(grep -c . "$LAB_WATCH_FILE")
	# shellcheck disable=SC2034
	LAB_WATCH_GAPS=$(grep -c ' gap$' "$LAB_WATCH_FILE")
	# shellcheck disable=SC2034
	LAB_WATCH_MAXDT=$(awk 'NR > 1 { d = ($1 - p) * 1000; if (d > m) m = d }
	    { p = $1 } END { printf "%d\n", m }' "$LAB_WATCH_FILE")
	# shellcheck disable=SC2034
	LAB_WATCH_GENS=$(grep -c '^# new generation' "$LAB_WATCH_MON")
	# The monitor prints a batch's changes, then its generation line.
	# shellcheck disable=SC2034
	LAB_WATCH_DROPS=$(awk '
	    function batch(t) {
		for (t in del) if (!(t in add)) { n++; break }
		split("", del); split("", add)
	    }
	    $1 == "delete" && $2 == "table" { del[$3 " " $4] = 1 }
	    ($1 == "add" || $1 == "create") && $2 == "table" { add[$3 " " $4] = 1 }
	    /^# new generation/ { batch() }
	    END { batch(); print n + 0 }' "$LAB_WATCH_MON")
}

LAB_STREAM_PY='
import os, socket, sys, time
host, port, stop, ready, wait, ts, src = sys.argv[1:8]
n = 0
try:
    s = socket.create_connection((host, int(port)), timeout=float(wait),
                                 source_address=(src, 0) if src else None)
    while not os.path.exists(stop):
        msg = b"%08d\n" % n
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(len(msg) - len(got))
            if not d:
                raise OSError("closed by the peer after %d rounds" % n)
            got += d
        if got != msg:
            raise OSError("round %d: sent %r, got %r" % (n, msg, got))
        n += 1
        if ts:
            print("%d %d" % (time.monotonic() * 1000, n), flush=True)
        else:
            print(n, flush=True)
        if n == 1:
            open(ready, "w").close()
        time.sleep(0.1)
except OSError as e:
    print("error %s (after %d rounds)" % (e, n), flush=True)
    sys.exit(1)
print("ok %d" % n, flush=True)
'
LAB_STREAM_N=0
LAB_STREAM_PID=
LAB_STREAM_LOG=

lab_stream_start() {
	LAB_STREAM_N=$((LAB_STREAM_N + 1))
	LAB_STREAM_LOG=$LAB_DIR/stream.$LAB_STREAM_N
	ip netns exec "$LAB_NS_C" "$LAB_PY" -c "$LAB_STREAM_PY" "$1" "$2" \
	    "$LAB_STREAM_LOG.stop" "$LAB_STREAM_LOG.ready" "${LAB_STREAM_WAIT:-10}" \
	    "${LAB_STREAM_TS:+ts}" "${LAB_STREAM_SRC:-}" \
	    </dev/null >"$LAB_STREAM_LOG" 2>&1 &
	LAB_STREAM_PID=$!
	lab_wait_for 10 test -e "$LAB_STREAM_LOG.ready"
}

lab_stream_rounds() { grep -c '^[0-9]' "$LAB_STREAM_LOG" 2>/dev/null; }

lab_stream_stop() {
	local i rc
	[[ -n "$LAB_STREAM_PID" ]] || return 1
	: >"$LAB_STREAM_LOG.stop"
	for ((i = 0; i < 300; i++)); do
		lab_alive "$LAB_STREAM_PID" || break
		sleep 0.05
	done
	kill "$LAB_STREAM_PID" 2>/dev/null
	wait "$LAB_STREAM_PID"
	rc=$?
	LAB_STREAM_PID=
	grep -v '^[0-9]' "$LAB_STREAM_LOG" | tail -n 1
	return "$rc"
}

LAB_SYSLOG_LOG=
LAB_SYSLOG_WRAP=()

lab_syslog_up() {
	local d=$LAB_DIR/syslog
	mkdir -p "$d/up" "$d/work" || return 1
	ln -s "$d/sock" "$d/up/log" || return 1
	LAB_SYSLOG_LOG=$d/messages
	: >"$LAB_SYSLOG_LOG"
	ip netns exec "$LAB_NS_C" "$LAB_PY" -c '
import socket, sys
path, log, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
out = open(log, "a", buffering=1)
open(ready, "w").close()
while True:
    out.write(s.recv(65536).decode(errors="replace").rstrip("\n") + "\n")
' "$d/sock" "$LAB_SYSLOG_LOG" "$d/ready" </dev/null >>"$d/out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 5 test -e "$d/ready" || return 1
	# shellcheck disable=SC2016,SC2034  # expanded by the inner shell; for the tests
	LAB_SYSLOG_WRAP=(unshare -m --propagation private -- /bin/sh -c '
		mount -t overlay cshuttle-lab \
		    -o "lowerdir=/dev,upperdir=$1/up,workdir=$1/work" /dev &&
		shift && exec "$@"' sh "$d")
}

lab_pids_comm() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == "$2" ]] && echo "$p"
	done
}

lab_sid() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "$4"
}
