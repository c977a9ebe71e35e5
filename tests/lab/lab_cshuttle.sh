# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_cshuttle.sh - cshuttle under test in the lab (sourced by lab.sh):
# running and starting it in CLIENT (start_cshuttle, start_cshuttle_cmd,
# run_cshuttle, run_cshuttle_cmd, stop_cshuttle), and what it leaves: nft
# tables, processes in CLIENT and SERVER, files on the remote side.

# The command line (without subnets) used for the current transport.
lab_cshuttle_cmd() {
	LAB_CMD=("$CSHUTTLE_BIN" --ssh-config "$LAB_SSHCFG")
	if [[ $LAB_TRANSPORT == ext ]]; then
		LAB_CMD+=(-e "ssh -F $LAB_SSHCFG")
	fi
}

# Run cshuttle in CLIENT in the foreground with ARGS; stderr goes to
# $LAB_DIR/last.err, the exit code to CSHUTTLE_RC.  Bounded by 60 s.
run_cshuttle() {
	lab_cshuttle_cmd
	CSHUTTLE_LOG=$LAB_DIR/last.err
	ip netns exec "$LAB_NS_C" timeout -k 5 60 "${LAB_CMD[@]}" "$@" \
	    </dev/null >"$LAB_DIR/last.out" 2>"$CSHUTTLE_LOG"
	CSHUTTLE_RC=$?
	return 0
}

# Start cshuttle in CLIENT with ARGS and wait for "cshuttle: connected".
start_cshuttle() {
	lab_cshuttle_cmd
	start_cshuttle_cmd "${LAB_CMD[@]}" "$@"
}

# start_cshuttle_cmd CMD...: start CMD, the whole command line (cshuttle,
# possibly behind setpriv or env), in CLIENT and wait for "cshuttle:
# connected"; start_cshuttle is this with the lab's cshuttle command.
start_cshuttle_cmd() {
	local i n
	LAB_CS_N=$((LAB_CS_N + 1))
	CSHUTTLE_LOG=$LAB_DIR/cshuttle.$LAB_CS_N.log
	lab_say "starting: $*"
	# In a session of its own, so that whatever it signals as a process
	# group never reaches the test.  setsid does not fork here (a
	# background job of a non-interactive shell is no group leader), so
	# $! is CMD's pid; setpriv and env exec it too.  No controlling
	# terminal: sudo cannot prompt.
	ip netns exec "$LAB_NS_C" setsid "$@" \
	    </dev/null >"$LAB_DIR/cshuttle.$LAB_CS_N.out" 2>"$CSHUTTLE_LOG" &
	CSHUTTLE_PID=$!
	n=$((LAB_CONNECT_TIMEOUT * 20))
	for ((i = 0; i < n; i++)); do
		if grep -qs '^cshuttle: connected' "$CSHUTTLE_LOG"; then
			return 0
		fi
		if ! lab_alive "$CSHUTTLE_PID"; then
			wait "$CSHUTTLE_PID"
			CSHUTTLE_RC=$?
			echo "cshuttle exited with status $CSHUTTLE_RC before connecting:" >&2
			cat "$CSHUTTLE_LOG" >&2
			CSHUTTLE_PID=
			return 1
		fi
		sleep 0.05
	done
	echo "cshuttle did not connect within ${LAB_CONNECT_TIMEOUT}s:" >&2
	cat "$CSHUTTLE_LOG" >&2
	return 1
}

# run_cshuttle_cmd CMD...: like run_cshuttle, but CMD is the whole command
# line; in a session of its own, without a controlling terminal.
run_cshuttle_cmd() {
	CSHUTTLE_LOG=$LAB_DIR/last.err
	ip netns exec "$LAB_NS_C" timeout -k 5 60 setsid -w "$@" \
	    </dev/null >"$LAB_DIR/last.out" 2>"$CSHUTTLE_LOG"
	CSHUTTLE_RC=$?
	return 0
}

# stop_cshuttle [SIGNAL]: signal it (default TERM), wait at most 15 s
# (then KILL), exit code in CSHUTTLE_RC.
stop_cshuttle() {
	local sig=${1:-TERM} i
	CSHUTTLE_RC=
	[[ -n "$CSHUTTLE_PID" ]] || return 1
	kill -"$sig" "$CSHUTTLE_PID" 2>/dev/null
	# Polling rather than a watchdog subshell: a subshell forked while
	# traps are set may run them.
	for ((i = 0; i < 300; i++)); do
		lab_alive "$CSHUTTLE_PID" || break
		sleep 0.05
	done
	if lab_alive "$CSHUTTLE_PID"; then
		echo "cshuttle still running 15 s after SIG$sig, killing it" >&2
		kill -KILL "$CSHUTTLE_PID" 2>/dev/null
	fi
	wait "$CSHUTTLE_PID"
	CSHUTTLE_RC=$?
	CSHUTTLE_PID=
	return 0
}

# The nft tables in CLIENT that belong to a tunnel (none expected).
lab_tables() {
	in_client nft list tables 2>/dev/null | grep -E "$LAB_TABLE_RE"
}

# True when CLIENT has no tunnel table; waits up to 5 s for it to go (the
# kernel removes an owned table as soon as its socket closes, but a
# reference implementation may need a moment).
assert_no_tables() {
	if lab_wait_for 5 lab_no_tables; then
		return 0
	fi
	echo "tables left in CLIENT:" >&2
	lab_tables >&2
	return 1
}
lab_no_tables() { ! lab_tables >/dev/null; }

# Processes in SERVER other than the lab's own daemons (sshd listener,
# hello services): sshd session processes and whatever they started.
lab_server_extra_pids() {
	local p known=" ${LAB_PIDS[*]} "
	for p in $(ip netns pids "$LAB_NS_S"); do
		[[ $known == *" $p "* ]] && continue
		echo "$p"
	done
}

# Processes in CLIENT other than the lab's services (e.g. a leftover ssh).
lab_client_extra_pids() {
	local p known=" ${LAB_PIDS[*]} "
	for p in $(ip netns pids "$LAB_NS_C"); do
		[[ $known == *" $p "* ]] && continue
		echo "$p"
	done
}

lab_no_server_session() { [[ -z "$(lab_server_extra_pids)" ]]; }
lab_no_client_extra() { [[ -z "$(lab_client_extra_pids)" ]]; }

# Files the remote side left in its temporary directories.
lab_remote_leftovers() {
	find "$LAB_DIR/srv/tmp" "$LAB_DIR/srv/vartmp" "$LAB_DIR/srv/shm" \
	    -mindepth 1 2>/dev/null
}
lab_remote_clean() { [[ -z "$(lab_remote_leftovers)" ]]; }

# Show processes (for failure messages).
lab_ps() {
	local p
	for p in "$@"; do
		printf '  %s %s\n' "$p" "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}

# Real, effective, saved and file-system uid of a process.
lab_uids() {
	awk '$1 == "Uid:" {print $2, $3, $4, $5}' "/proc/$1/status" 2>/dev/null
}

lab_ppid() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "$2"
}

# Is PID a descendant of ANCESTOR?  lab_descends PID ANCESTOR
lab_descends() {
	local p=$1 i
	for ((i = 0; i < 16; i++)); do
		p=$(lab_ppid "$p") || return 1
		[[ $p == "$2" ]] && return 0
		[[ $p == 0 || $p == 1 ]] && return 1
	done
	return 1
}

# Pids in namespace NS whose command line is exactly ARGS.
lab_pids_argv() {
	local ns=$1 p want
	shift
	want=$(printf '%s\n' "$@")
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		[[ "$(tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null)" == "$want" ]] &&
		    echo "$p"
	done
}
