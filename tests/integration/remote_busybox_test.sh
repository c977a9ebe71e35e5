#!/bin/bash
# SPDX-License-Identifier: ISC
#
# remote_busybox_test.sh builtin|ext - a remote host with nothing but
# busybox-static (no libc, no dash, no coreutils): the stub is uploaded and
# started through busybox's sh, natively on x86_64 and on aarch64 (an
# aarch64 busybox, and so the aarch64 stub, run by qemu-user through
# binfmt_misc), traffic flows, and nothing is left on the remote host
# afterwards.  Resume works there too: while connected the root holds
# only the stub's 0700 directory in /tmp with its socket, an echo stream
# survives a killed SSH session, and the directory goes with the stub.
# With a noexec /tmp the stub runs from /var/tmp; with /tmp and
# /var/tmp both noexec cshuttle fails with one line that names the cause
# and --remote-tmpdir.  (The roots and their sshd: lab_busybox_up.)

# shellcheck disable=SC2317  # the helpers below are called through check
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_up
lab_busybox_up || lab_die "the busybox remotes did not start"

small="hello from the private network"
blob=$LAB_DIR/blob.bin
head -c $((4 * 1024 * 1024)) /dev/urandom >"$blob"

# The stub of the running session: the process below the busybox sshd one
# of whose arguments is an uploaded file (.cshuttle.*): argv[0] natively,
# argv[1] under qemu (binfmt_misc without the P flag).
bb_stub_pids() {
	local p
	for p in $(lab_server_extra_pids); do
		lab_descends "$p" "$LAB_BB_SSHD_PID" || continue
		tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null |
		    grep -Eqx '(/[^/]+)+/\.cshuttle\.[^/]+' && echo "$p"
	done
}

# The regular files of ROOT (relative), as the sessions see it.
bb_files() {
	lab_bb_listing "$1" |
	    awk -v r="$1/" '$1 == "f" { print substr($4, length(r) + 1) }' |
	    sort | tr '\n' ' '
}

# The uploaded stub that qemu process PID has mapped (from offset 0):
# /proc/PID/map_files opens it even after the stub removed it.  Its names
# are the ranges of /proc/PID/maps without leading zeros.
bb_qemu_guest() {
	local range
	range=$(awk '$3 == "00000000" && $6 ~ /\/\.cshuttle\./ {
		n = split($1, a, "-")
		for (i = 1; i <= n; i++) {
			sub(/^0+/, "", a[i])
			if (a[i] == "") a[i] = "0"
		}
		print a[1] "-" a[2]
		exit
	    }' "/proc/$1/maps" 2>/dev/null)
	[[ -n $range ]] && echo "/proc/$1/map_files/$range"
}

# A noexec tmpfs, mounted in the namespace of the busybox sshd (so it goes
# with it, whatever happens to this script).
bb_noexec() {
	lab_bb_ns mount -t tmpfs -o noexec,nosuid,nodev,mode=1777,size=16m \
	    cshuttle-noexec "$1"
}
bb_is_noexec() {
	lab_bb_ns findmnt -n -o OPTIONS --mountpoint "$1" | grep -qw noexec
}

# ROOT's listing without the stub's resume directory, and that directory
# alone, its names made general: "d 700 DIR" and "s DIR/s" when the stub
# waits as it should (docs/PROTOCOL.md section 11).
bb_listing_but_resume() {
	lab_bb_listing "$1" | grep -v -F " $1/tmp/cshuttle-resume-"
}
bb_resume_dir() {
	lab_bb_listing "$1" | grep -F " $1/tmp/cshuttle-resume-" |
	    sed -E "s#^\? [0-9]+ - .*/cshuttle-resume-[^/]+/s\$#s DIR/s#;
		    s#^d ([0-9]+) - .*/cshuttle-resume-[^/]+\$#d \\1 DIR#" | sort | tr '\n' ' '
}

# bb_resume ARCH: an echo stream survives the SSH session killed under it.
bb_resume() {
	local m out n0
	m=$(lab_log_mark "$CSHUTTLE_LOG")
	LAB_STREAM_WAIT=60 lab_stream_start 198.19.0.2 7001 ||
	    lab_bad "$1: an echo stream through the tunnel"
	sleep 1
	n0=$(lab_stream_rounds)
	lab_kill_sessions KILL
	check "$1: the session was lost" lab_wait_for 10 eval \
	    'lab_log_since "$CSHUTTLE_LOG" "$m" | grep -q "session lost: "'
	check "$1: the session resumed with the stream" lab_wait_for 40 eval \
	    'lab_log_since "$CSHUTTLE_LOG" "$m" | grep -q "the session resumed, 1 connection kept"'
	check "$1: the stream goes on" lab_wait_for 10 eval '(( $(lab_stream_rounds) > n0 + 10 ))'
	out=$(lab_stream_stop)
	check "$1: no line lost, repeated or out of order ($out)" eval '[[ $out == "ok "* ]]'
	lab_log_since "$CSHUTTLE_LOG" "$m" | grep -E 'session|resum|reconnect' | sed 's/^/    | /'
}

# Is EXE (a /proc/PID/exe link) a removed .cshuttle.* file under ROOT?
bb_runs_from() {
	[[ $1 == "$2"/*/.cshuttle.*" (deleted)" ]]
}

# bb_after WHAT ROOT BEFORE: once cshuttle is gone, nothing of it is left:
# no table in CLIENT, no session on the remote, ROOT listed as BEFORE.
bb_after() {
	check "$1: no table left" assert_no_tables
	check "$1: no session left on the remote" \
	    lab_wait_for 10 lab_no_server_session
	check_eq "$1: nothing left in the root (/tmp, /var/tmp or elsewhere)" \
	    "$3" "$(lab_bb_listing "$2")"
	check "$1: no process left in CLIENT" lab_wait_for 10 lab_no_client_extra
}

# bb_remote ALIAS ARCH ELF_MACHINE ROOT: a whole session with the busybox
# remote ALIAS whose machine is ARCH.
bb_remote() {
	local alias=$1 arch=$2 mach=$3 root=$4 before stubs stub exe guest

	lab_say "$alias: nothing but busybox ($arch)"
	check_eq "$arch root: its only regular files are busybox and passwd" \
	    "bin/busybox etc/passwd " "$(bb_files "$root")"
	check_eq "$arch root: its busybox is an $arch ELF (e_machine $mach)" \
	    "$mach" "$(lab_elf_machine "$root/bin/busybox")"
	before=$(lab_bb_listing "$root")

	if ! start_cshuttle -r "$alias" 198.19.0.0/24 -v; then
		lab_bad "$arch: cshuttle did not start with $alias"
		bb_after "$arch" "$root" "$before"
		return
	fi
	check "$arch: cshuttle uploaded the $arch stub" \
	    grep -q "uploading the $arch stub" "$CSHUTTLE_LOG"
	check "$arch: the stub started" \
	    grep -q "stub started on the remote host" "$CSHUTTLE_LOG"
	check_eq "$arch: curl http://198.19.0.2/small.txt through the tunnel" \
	    "$small" "$(lab_curl http://198.19.0.2/small.txt)"
	check_eq "$arch: PRIV sees the connection coming from SERVER" \
	    "priv 8001 198.19.0.1" "$(lab_hello 198.19.0.2 8001)"
	check "$arch: 4 MiB to the digest service arrive intact" \
	    lab_cli upload 198.19.0.2 7002 "$blob"

	stubs=$(bb_stub_pids)
	check_eq "$arch: one stub process, below the busybox sshd" 1 \
	    "$(grep -c . <<<"$stubs")"
	stub=$(head -n 1 <<<"$stubs")
	exe=$(readlink "/proc/$stub/exe" 2>/dev/null)
	lab_ps "$stub"
	if [[ $arch == x86_64 ]]; then
		check "x86_64: the stub runs natively, from the root's file system ($exe)" \
		    bb_runs_from "$exe" "$root"
		check_eq "x86_64: the stub is an x86_64 ELF" 62 \
		    "$(lab_elf_machine "/proc/$stub/exe")"
	else
		check_eq "$arch: the stub process is qemu-user" \
		    "$(readlink -f "$LAB_QEMU_AARCH64")" "$exe"
		guest=$(bb_qemu_guest "$stub")
		check "$arch: qemu runs the uploaded stub ($(readlink "$guest" 2>/dev/null))" \
		    test -n "$guest"
		check_eq "$arch: the stub qemu runs is an $arch ELF" "$mach" \
		    "$(lab_elf_machine "$guest")"
	fi
	check_eq "$arch: while connected, the root is as it was (the stub removed its file) but for /tmp/cshuttle-resume-*" \
	    "$before" "$(bb_listing_but_resume "$root")"
	check_eq "$arch: the stub waits in a 0700 directory of /tmp, at a socket" \
	    "d 700 DIR s DIR/s " "$(bb_resume_dir "$root")"
	bb_resume "$arch"
	check_eq "$arch: after the resume, one waiting stub's directory still" \
	    "d 700 DIR s DIR/s " "$(bb_resume_dir "$root")"

	stop_cshuttle TERM
	check_eq "$arch: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	bb_after "$arch" "$root" "$before"
}

# With /tmp noexec the bootstrap must find /var/tmp (ROOT is labhost-bb's).
bb_noexec_tmp() {
	local root=$1 before=$2

	lab_say "labhost-bb with a noexec /tmp: the stub runs from /var/tmp"
	check "the root's /tmp is noexec" bb_is_noexec "$root/tmp"
	if ! start_cshuttle -r labhost-bb 198.19.0.0/24 -v; then
		lab_bad "noexec /tmp: cshuttle did not start"
		bb_after "noexec /tmp" "$root" "$before"
		return
	fi
	check "noexec /tmp: cshuttle says the stub started from /var/tmp" \
	    grep -q "stub started on the remote host from /var/tmp" "$CSHUTTLE_LOG"
	check_eq "noexec /tmp: curl through the tunnel" "$small" \
	    "$(lab_curl http://198.19.0.2/small.txt)"
	check_eq "noexec /tmp: hello through the tunnel" "priv 8002 198.19.0.1" \
	    "$(lab_hello 198.19.0.2 8002)"
	stop_cshuttle TERM
	check_eq "noexec /tmp: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	bb_after "noexec /tmp" "$root" "$before"
}

bb_remote labhost-bb x86_64 62 "$LAB_BB_ROOT_x86_64"
bb_remote labhost-bb64 aarch64 183 "$LAB_BB_ROOT_aarch64"

root=$LAB_BB_ROOT_x86_64
before=$(lab_bb_listing "$root")

bb_noexec "$root/tmp" || lab_die "cannot mount a tmpfs on $root/tmp"
bb_noexec_tmp "$root" "$before"

lab_say "labhost-bb with /tmp and /var/tmp noexec: a one-line error"
bb_noexec "$root/var/tmp" || lab_die "cannot mount a tmpfs on $root/var/tmp"
check "the root's /var/tmp is noexec" bb_is_noexec "$root/var/tmp"
run_cshuttle -r labhost-bb 198.19.0.0/24
sed 's/^/    | /' "$CSHUTTLE_LOG"
check_eq "all noexec: exit code" 1 "$CSHUTTLE_RC"
check_eq "all noexec: one-line error" 1 "$(grep -c . "$CSHUTTLE_LOG")"
check "all noexec: the error says noexec" grep -qi 'noexec' "$CSHUTTLE_LOG"
check "all noexec: the error points to --remote-tmpdir" \
    grep -q -- '--remote-tmpdir' "$CSHUTTLE_LOG"
bb_after "all noexec" "$root" "$before"

check "the noexec mounts are removed" \
    lab_bb_ns umount "$root/var/tmp" "$root/tmp"
check_eq "the root is as it was" "$before" "$(lab_bb_listing "$root")"

lab_finish
