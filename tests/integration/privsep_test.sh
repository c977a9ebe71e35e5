#!/bin/bash
# SPDX-License-Identifier: ISC
#
# privsep_test.sh builtin|ext - started as root, the tunnel's data path
# runs unprivileged (client/privsep.h):
#   - the process that holds the listeners (a child of the one started)
#     has four non-root uids, CapEff 0 and NoNewPrivs 1; the only root
#     processes of the tunnel are the one started, the firewall helper
#     and, for ext, ssh; the tunnel works; `cshuttle status` as root
#     works;
#   - sshd restarted: the session comes back (root reopens it);
#   - SIGHUP to the process started, with a subnet added to a --config
#     file only root can read: the new subnet is tunnelled;
#   - SIGTERM: exit 0, the pid file and the control socket are removed;
#   - with the unit's bounding set (no CAP_KILL), SIGHUP and SIGTERM still
#     reach the data path;
#   - started from a terminal, the data path has no controlling terminal,
#     /dev/null as input and the terminal for writing only;
#   - without a user "cshuttle", "nobody" is used with a warning naming
#     how to create it; --privsep-user USER (a throw-away user) is used;
#     a user that does not exist is a usage error (exit 2);
#     --privsep-user root keeps one process, with a warning.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up

cfg=$LAB_DIR/privsep.conf
pidfile=$LAB_DIR/privsep.pid
name=ps$$
hello() { printf 'priv %s 198.19.0.1\n' "$2"; }
via_tunnel() { [[ "$(lab_hello "$1" "$2" 2>/dev/null)" == "$(hello "$@")" ]]; }
logged() { lab_log_since "$CSHUTTLE_LOG" "$1" | grep -Eq -- "$2"; }

# The pids of the tunnel's processes: the one started and its descendants.
tree() {
	local p
	echo "$CSHUTTLE_PID"
	for p in $(ip netns pids "$LAB_NS_C"); do
		lab_descends "$p" "$CSHUTTLE_PID" && echo "$p"
	done
}

# The data path: the process of the tree that holds the TCP listeners,
# other than the firewall helper (which has copies to match them).
data_pid() {
	local p
	for p in $(in_client ss -Hltnp | grep -o '"cshuttle",pid=[0-9]*' |
	    cut -d= -f2 | sort -u); do
		[[ $p != "$CSHUTTLE_PID" && "$(lab_uids "$p")" != "0 0 0 0" ]] &&
		    lab_descends "$p" "$CSHUTTLE_PID" && echo "$p"
	done
}

field() { awk -v k="$2:" '$1 == k {$1 = ""; sub(/^ /, ""); print}' "/proc/$1/status"; }

# The root processes of the tree, as "comm" words, sorted.
root_procs() {
	local p
	for p in $(tree); do
		[[ "$(lab_uids "$p")" == "0 0 0 0" ]] || continue
		if [[ $p == "$CSHUTTLE_PID" ]]; then
			echo main
		elif [[ "$(lab_ppid "$p")" == "$CSHUTTLE_PID" &&
		    "$(cat "/proc/$p/comm")" == cshuttle ]]; then
			# Forked before the split, as the one started was.
			echo helper
		else
			cat "/proc/$p/comm"
		fi
	done | sort | tr '\n' ' '
}

expect_roots() {
	if [[ $LAB_TRANSPORT == ext ]]; then
		echo "helper main ssh "
	else
		echo "helper main "
	fi
}

check_dropped() {
	local what=$1 uid=$2 d
	d=$(data_pid)
	check "$what: one data-path process ($d)" eval '[[ $d =~ ^[0-9]+$ ]]'
	check_eq "$what: its uids" "$uid $uid $uid $uid" "$(lab_uids "$d")"
	check_eq "$what: CapEff" 0000000000000000 "$(field "$d" CapEff)"
	check_eq "$what: NoNewPrivs" 1 "$(field "$d" NoNewPrivs)"
	check_eq "$what: the root processes" "$(expect_roots)" "$(root_procs)"
}

nobody=$(id -u nobody)
printf '%s\n' "remote = labhost" "subnet = 198.19.0.0/24" >"$cfg"
chmod 600 "$cfg"

what="default user"
lab_say "$what"
start_cshuttle --config "$cfg" --name "$name" --pidfile "$pidfile" \
    --alive-interval 1 --alive-timeout 3 || lab_die "$what: cshuttle did not start"
check "$what: the tunnel works" via_tunnel 198.19.0.2 8001
# cshuttle if it existed when the tunnel started (a package may create it
# meanwhile), else nobody, which is said.
d_uid=$(lab_uids "$(data_pid)" | cut -d' ' -f1)
if [[ $d_uid == "$nobody" ]]; then
	check "$what: the fallback to nobody is said, with how to create cshuttle" \
	    lab_wait_for 5 grep -q 'no user cshuttle: .* runs as nobody .*useradd' \
	    "$CSHUTTLE_LOG"
else
	check_eq "$what: the user cshuttle" "$(id -u cshuttle 2>/dev/null)" "$d_uid"
fi
check_dropped "$what" "$d_uid"
check_eq "$what: the pid file names the process started" "$CSHUTTLE_PID" \
    "$(cat "$pidfile" 2>/dev/null)"
check "$what: the control socket is there" test -S "$CSHUTTLE_RUNTIME_DIR/$name.sock"
check "$what: cshuttle status as root" eval \
    'in_client "$CSHUTTLE_BIN" status "$name" | grep -q "connected"'

what="sshd restarted"
m=$(lab_log_mark "$CSHUTTLE_LOG")
lab_sshd_stop || lab_bad "$what: sshd did not stop"
check "$what: the session is lost" lab_wait_for 15 logged "$m" 'session lost'
lab_sshd_start || lab_die "$what: sshd did not start again"
check "$what: reconnected" lab_wait_for 40 logged "$m" '^cshuttle: reconnected to'
check "$what: the tunnel works" lab_wait_for 10 via_tunnel 198.19.0.2 8001
check_dropped "$what" "$d_uid"

what="SIGHUP with a subnet added"
printf '%s\n' "remote = labhost" "subnet = 198.19.0.0/24" \
    "subnet = 198.19.1.0/24" >"$cfg"
check "$what: not tunnelled before" eval '! via_tunnel 198.19.1.1 8001'
kill -HUP "$CSHUTTLE_PID"
check "$what: 198.19.1.1 is tunnelled" lab_wait_for 10 via_tunnel 198.19.1.1 8001
check "$what: 198.19.0.2 still is" via_tunnel 198.19.0.2 8001

what="SIGTERM"
stop_cshuttle TERM
check_eq "$what: exit 0" 0 "$CSHUTTLE_RC"
check "$what: the pid file is removed" test ! -e "$pidfile"
check "$what: the control socket is removed" test ! -e "$CSHUTTLE_RUNTIME_DIR/$name.sock"
check "$what: no table left" assert_no_tables
# The session's relay is a child of the main process: it has ended when
# cshuttle has, and held neither the listeners nor the tunnel's name.
check "$what: no process left in CLIENT once it has exited" lab_no_client_extra

what="--privsep-user USER"
lab_say "$what"
lab_user_add || lab_die "cannot add a user"
check "$what: the same --name starts at once after the last one's exit" \
    start_cshuttle --name "$name" --privsep-user "$LAB_USER" -r labhost \
    198.19.0.0/24
[[ -n ${CSHUTTLE_PID:-} ]] && lab_alive "$CSHUTTLE_PID" ||
    lab_die "$what: cshuttle did not start"
check "$what: the tunnel works" via_tunnel 198.19.0.2 8001
check_dropped "$what" "$(id -u "$LAB_USER")"
stop_cshuttle TERM
check_eq "$what: exit 0" 0 "$CSHUTTLE_RC"

# The unit's bounding set: no CAP_KILL, so root signals the dropped data
# path as its user (client/privsep.c); SIGHUP and SIGTERM still arrive.
what="the unit's capabilities (no CAP_KILL)"
lab_say "$what"
lab_cshuttle_cmd
start_cshuttle_cmd setpriv --bounding-set -all,+net_admin,+setuid,+setgid \
    "${LAB_CMD[@]}" -r labhost 198.19.0.0/24 || lab_die "$what: cshuttle did not start"
check_eq "$what: the bounding set of the process started" 00000000000010c0 \
    "$(field "$CSHUTTLE_PID" CapBnd)"
check "$what: the tunnel works" via_tunnel 198.19.0.2 8001
m=$(lab_log_mark "$CSHUTTLE_LOG")
kill -HUP "$CSHUTTLE_PID"
check "$what: SIGHUP reaches the data path" lab_wait_for 10 logged "$m" "reloaded:"
stop_cshuttle TERM
check_eq "$what: SIGTERM reaches it: exit 0" 0 "$CSHUTTLE_RC"
check "$what: no table left" assert_no_tables

# Started from a terminal (script(1) gives it one, as a root shell
# would): root's opener asks for passwords there, so the data path keeps
# no way to read it: no controlling terminal, standard input /dev/null,
# the terminal on standard output reopened for writing only.
what="started from a terminal"
lab_say "$what"
lab_cshuttle_cmd
next_log=$LAB_DIR/cshuttle.$((LAB_CS_N + 1)).log
cmdline="$(printf '%q ' "${LAB_CMD[@]}" -r labhost 198.19.0.0/24) 2>>$(printf '%q' "$next_log")"
start_cshuttle_cmd script -qfec "$cmdline" /dev/null || lab_die "$what: cshuttle did not start"
comm() { cat "/proc/$1/comm" 2>/dev/null; }
# The controlling terminal's device number (field 7 of stat), 0 for none.
tty_nr() { awk '{sub(/.*\) /, ""); print $5}' "/proc/$1/stat"; }
m_pid=
for p in /proc/[0-9]*; do
	p=${p#/proc/}
	[[ "$(comm "$p")" == cshuttle ]] && lab_descends "$p" "$CSHUTTLE_PID" &&
	    [[ "$(comm "$(lab_ppid "$p")")" != cshuttle ]] && m_pid=$p
done
d=$(data_pid)
check "$what: the tunnel works" via_tunnel 198.19.0.2 8001
check "$what: the process started has the terminal ($m_pid)" eval \
    '[[ -n "$m_pid" && "$(tty_nr "$m_pid")" != 0 ]]'
check_eq "$what: the data path has no controlling terminal" 0 "$(tty_nr "$d")"
check_eq "$what: its standard input is /dev/null" /dev/null "$(readlink "/proc/$d/fd/0")"
check "$what: its standard output is the terminal, write-only" eval \
    '[[ "$(readlink "/proc/$d/fd/1")" == /dev/pts/* ]] &&
	(( (8#$(awk "\$1 == \"flags:\" {print \$2}" "/proc/$d/fdinfo/1") & 3) == 1 ))'
# A process that is not dumpable has its /proc files owned by root:
# its own user can neither ptrace it nor read its memory.
check_eq "$what: it is not dumpable: /proc/PID/mem is root's" 0 \
    "$(stat -c %u "/proc/$d/mem")"
kill -TERM "$m_pid"
check "$what: SIGTERM ends it" lab_wait_for 15 eval '! lab_alive "$CSHUTTLE_PID"'
wait "$CSHUTTLE_PID" 2>/dev/null
CSHUTTLE_PID=
check "$what: no table left" assert_no_tables

what="--privsep-user with no such user"
run_cshuttle --privsep-user "nosuch$$" -r labhost 198.19.0.0/24
check_eq "$what: exit 2" 2 "$CSHUTTLE_RC"
check "$what: says so" grep -q "nosuch$$.*no such user" "$LAB_DIR/last.err"

what="--privsep-user root"
start_cshuttle --privsep-user root -r labhost 198.19.0.0/24 ||
    lab_die "$what: cshuttle did not start"
check "$what: warned" grep -q 'whole tunnel runs as root' "$CSHUTTLE_LOG"
check "$what: the tunnel works" via_tunnel 198.19.0.2 8001
check_eq "$what: no unprivileged process holds the listeners" "" "$(data_pid)"
stop_cshuttle TERM
check_eq "$what: exit 0" 0 "$CSHUTTLE_RC"
check "$what: no table left" assert_no_tables

lab_finish
