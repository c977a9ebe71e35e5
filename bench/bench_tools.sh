# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2004,SC2034,SC2153,SC2154  # bench.sh and lab.sh set the
# settings, M (an associative array) and the lab's variables
#
# bench_tools.sh - the tools under comparison, for bench.sh (which sources
# it): starting and stopping each one, and the CPU time and memory of its
# client-side processes.

# ---------------------------------------------------------------------------
# Starting and stopping the tools

# Where this tool reaches the services: ssh -L through its local ports,
# the others at the services' own addresses.
tool_addrs() {
	if [[ $1 == ssh-L ]]; then
		WEB_HOST=127.0.0.1 WEB_PORT=18080
		DIG_HOST=127.0.0.1 DIG_PORT=17002
		HOLD_HOST=127.0.0.1 HOLD_PORTX=17101
	else
		WEB_HOST=198.19.0.2 WEB_PORT=80
		DIG_HOST=198.19.0.2 DIG_PORT=7002
		HOLD_HOST=198.19.0.2 HOLD_PORTX=$HOLD_PORT
	fi
	WEB=$WEB_HOST:$WEB_PORT
}

# tool_exec TOOL [OPTIONS...]: start it and wait until it is up.  OPTIONS
# go to cshuttle (or sshuttle).
tool_exec() {
	local tool=$1
	shift
	case $tool in
	cshuttle)   CSHUTTLE_BIN=$CSHUTTLE_REAL LAB_TRANSPORT=builtin start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	cshuttle-e) CSHUTTLE_BIN=$CSHUTTLE_REAL LAB_TRANSPORT=ext start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	sshuttle)   CSHUTTLE_BIN=$top/tests/lab/sshuttle-shim.sh LAB_TRANSPORT=ext start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	sshuttle-tproxy)
		SSHUTTLE_METHOD=tproxy CSHUTTLE_BIN=$top/tests/lab/sshuttle-shim.sh \
		    LAB_TRANSPORT=ext start_cshuttle -r "$BENCH_HOST" 198.19.0.0/24 "$@" ;;
	ssh-L)
		ip netns exec "$LAB_NS_C" ssh -F "$LAB_SSHCFG" -N \
		    -o ExitOnForwardFailure=yes \
		    -L 127.0.0.1:18080:198.19.0.2:80 -L 127.0.0.1:17002:198.19.0.2:7002 \
		    -L "127.0.0.1:17101:198.19.0.2:$HOLD_PORT" \
		    "$BENCH_HOST" </dev/null >/dev/null 2>"$LAB_DIR/sshL.log" &
		SSHL_PID=$!
		lab_wait_for 30 eval 'in_client bash -c "exec 3<>/dev/tcp/127.0.0.1/18080" 2>/dev/null'
		;;
	esac
}

# tool_start TOOL [OPTIONS...]
tool_start() {
	# conntrack keeps the redirect of a closed connection through its
	# TIME_WAIT and ab reuses client ports at once: without a flush, a
	# tool would see connections steered to the port of the tool before
	# it (and refused).  Only the lab's CLIENT namespace is flushed.
	in_client conntrack -F >/dev/null 2>&1
	tool_exec "$@"
}

# tool_start_timed TOOL: tool_start, and LAUNCH set to the seconds from
# the exec of the tool to the first byte of an HTTP answer through it.
# The prober (benchnet.py firstbyte) starts first and polls every ~2 ms
# with a new connection each time; the clock starts once it polls.  So
# cshuttle's time has the SSH handshake, authentication, the stub's upload
# and the rules in it, ssh -L's its handshake and listener.
tool_start_timed() {
	local tool=$1 ready=$LAB_DIR/firstbyte.ready out=$LAB_DIR/firstbyte.out
	local pid t0 tfb rc
	LAUNCH=
	tool_addrs "$tool"
	rm -f "$ready"
	in_client conntrack -F >/dev/null 2>&1
	ip netns exec "$LAB_NS_C" "$LAB_PY" "$here/benchnet.py" firstbyte \
	    "$WEB_HOST" "$WEB_PORT" --ready "$ready" --timeout 60 \
	    </dev/null >"$out" 2>&1 &
	pid=$!
	if ! lab_wait_for 10 test -e "$ready"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "the first-byte prober did not start: $(cat "$out")" >&2
		return 1
	fi
	t0=$EPOCHREALTIME
	tool_exec "$tool"
	rc=$?
	((rc == 0)) || kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# The prober's tries from before the rules existed left conntrack
	# entries without the redirect (see tool_start).
	in_client conntrack -F >/dev/null 2>&1
	((rc == 0)) || return 1
	tfb=$(awk '/^first byte at/ { print $4 }' "$out")
	if [[ -z $tfb ]]; then
		echo "no first byte: $(cat "$out")" >&2
		return 0
	fi
	LAUNCH=$(awk -v a="$t0" -v b="$tfb" 'BEGIN { printf "%.3f", b - a }')
}

tool_stop() {
	if [[ $1 == ssh-L ]]; then
		kill "$SSHL_PID" 2>/dev/null
		wait "$SSHL_PID" 2>/dev/null
		SSHL_PID=
	else
		stop_cshuttle TERM
		# The next tool must not meet this one's rules.
		assert_no_tables || lab_bad "$1 left its nft tables behind"
	fi
}

# shellcheck disable=SC2153 # CSHUTTLE_PID is set by lab.sh
tool_root() { if [[ $1 == ssh-L ]]; then echo "$SSHL_PID"; else echo "$CSHUTTLE_PID"; fi; }

# ---------------------------------------------------------------------------
# Per-process accounting: CPU time and RSS of a tool's client side.

# tool_pids ROOT: ROOT and its descendants in CLIENT: cshuttle, its
# firewall helper and (-e) its ssh; sshuttle's python, its firewall
# process and its ssh; ssh for ssh -L.  Left out: the sshuttle shim's
# stderr reader (a subshell of the shim script, and what it runs), which is
# not part of sshuttle.
tool_pids() {
	local root=$1 p c stat rest comm i=0
	local -a queue f
	local -A kids=()
	for p in $(ip netns pids "$LAB_NS_C" 2>/dev/null); do
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		rest=${stat##*) }
		read -r -a f <<<"$rest"
		kids[${f[1]}]+=" $p"
	done
	queue=("$root")
	while ((i < ${#queue[@]})); do
		p=${queue[i]}
		i=$((i + 1))
		read -r comm 2>/dev/null <"/proc/$p/comm" || continue
		[[ $p != "$root" && ($comm == bash || $comm == sshuttle-shim*) ]] &&
		    continue
		echo "$p"
		for c in ${kids[$p]:-}; do
			queue+=("$c")
		done
	done
}

# CPU clock ticks (user + system, with reaped children) of the processes.
tool_cpu() {
	local p stat t=0
	local -a f
	for p in $(tool_pids "$1"); do
		read -r stat 2>/dev/null <"/proc/$p/stat" || continue
		# From field 3 (state) on: utime is field 14, cstime 17.
		read -r -a f <<<"${stat##*) }"
		t=$((t + f[11] + f[12] + f[13] + f[14]))
	done
	echo "$t"
}

# VmRSS in KiB: of ROOT, and the sum over its processes.
tool_rss_main() { lab_rss "$1"; }
tool_rss_all() {
	local p r t=0
	for p in $(tool_pids "$1"); do
		r=$(lab_rss "$p")
		t=$((t + ${r:-0}))
	done
	echo "$t"
}
