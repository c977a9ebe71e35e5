#!/bin/bash
# SPDX-License-Identifier: ISC
#
# remote_stub_test.sh builtin|ext - how the stub gets onto the remote host,
# beyond the plain upload:
#  - a remote whose architecture has no prebuilt stub but which has a C
#    compiler builds the stub from the uploaded source, and the tunnel
#    works;
#  - --stub-cache keeps the stub in the remote user's cache directory and
#    the next start skips the upload;
#  - --remote-tmpdir DIR is where the stub runs from.
# Each time nothing is left in the remote's temporary directories.
#
# An sshd of this test's own runs in SERVER next to the lab's: port 2226
# puts a `uname` that claims sparc64 first in PATH (the real cc stays
# reachable), port 2227 is plain.  Both set XDG_CACHE_HOME to a lab
# directory, so the cache never touches the real /root.

set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need cc gcc
lab_up

d=$LAB_DIR/rs
mkdir -p "$d/fakebin" "$d/tmp" "$d/cache" "$d/mytmp" || lab_die "mkdir"
chmod 1777 "$d/tmp"
chmod 700 "$d/mytmp"
if ! cp "$LAB_SRC/fake-uname.sh" "$d/fakebin/uname" || ! chmod 755 "$d/fakebin/uname"; then
	lab_die "fake uname"
fi

cat >"$d/sshd_config" <<EOF
ListenAddress 198.18.0.2
Port 2226
Port 2227
HostKey $LAB_DIR/host_key
PidFile none
AuthorizedKeysFile $LAB_DIR/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
SetEnv XDG_CACHE_HOME=$d/cache TMPDIR=/tmp
LogLevel VERBOSE
Match LocalPort 2226
	SetEnv PATH=$d/fakebin:/usr/local/bin:/usr/bin:/bin XDG_CACHE_HOME=$d/cache TMPDIR=/tmp
EOF
/usr/sbin/sshd -t -f "$d/sshd_config" || lab_die "sshd_config"
# /tmp of the sessions is $d/tmp, so leftovers can be seen.
ip netns exec "$LAB_NS_S" unshare -m --propagation private -- /bin/sh -c '
	mount --bind "$1/tmp" /tmp &&
	exec /usr/sbin/sshd -D -f "$1/sshd_config" -E "$1/sshd.log"' sh "$d" </dev/null &
LAB_PIDS+=("$!")
lab_wait_for 10 lab_listening "$LAB_NS_S" 2227 || lab_die "test sshd did not start"

hk=$(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")
printf '[198.18.0.2]:2226 %s\n[198.18.0.2]:2227 %s\n' "$hk" "$hk" >>"$LAB_DIR/known_hosts"
cat >>"$LAB_SSHCFG" <<EOF
Host labhost-cc
	HostName 198.18.0.2
	Port 2226
Host labhost-plain
	HostName 198.18.0.2
	Port 2227
EOF

tmp_clean() { [[ -z "$(find "$d/tmp" "$d/mytmp" -mindepth 1 2>/dev/null)" ]]; }
log_has() { grep -q -- "$1" "$CSHUTTLE_LOG"; }
cache_files() { find "$d/cache" -type f | sort; }

# -- compiled on the remote -------------------------------------------------
lab_say "remote says sparc64 and has cc: the stub is compiled there"
if start_cshuttle -v -r labhost-cc 198.19.0.0/24; then
	lab_ok "cshuttle connected"
	check "the client sent the source to compile" \
	    log_has "no prebuilt stub for sparc64: compiling the stub on the remote host with cc"
	check_eq "traffic goes through the compiled stub" "priv 8001 198.19.0.1" \
	    "$(lab_hello 198.19.0.2 8001)"
	check "a web page comes through it" lab_curl http://198.19.0.2/small.txt
	stop_cshuttle TERM
	check_eq "cshuttle exits 0" 0 "$CSHUTTLE_RC"
else
	lab_bad "cshuttle did not start"
	sed 's/^/    | /' "$CSHUTTLE_LOG"
fi
check "compiled: no table left" assert_no_tables
check "compiled: nothing left in the remote /tmp" lab_wait_for 5 tmp_clean

# -- the cache --------------------------------------------------------------
lab_say "--stub-cache: the first start uploads into the cache"
if start_cshuttle -v --stub-cache -r labhost-plain 198.19.0.0/24; then
	check "uploaded into the remote cache" log_has "into the remote cache"
	check_eq "traffic goes through" "priv 8002 198.19.0.1" "$(lab_hello 198.19.0.2 8002)"
	stop_cshuttle TERM
else
	lab_bad "cshuttle did not start"
	sed 's/^/    | /' "$CSHUTTLE_LOG"
fi
check_eq "one cached stub, named by its hash" 1 "$(cache_files | grep -c '/cshuttle/stub-[0-9a-f]\{64\}$')"
f=$(cache_files | head -n 1)
check_eq "the cached stub is private (0700)" 700 "$(stat -c %a "$f" 2>/dev/null)"
check_eq "its name is its sha256" "${f##*stub-}" "$(sha256sum <"$f" | cut -d' ' -f1)"

lab_say "--stub-cache: the second start uses it"
if start_cshuttle -v --stub-cache -r labhost-plain 198.19.0.0/24; then
	check "the cached stub was used" log_has "using the cached x86_64 stub"
	check_not "nothing was uploaded" log_has "uploading the"
	check_eq "traffic goes through" "priv 8003 198.19.0.1" "$(lab_hello 198.19.0.2 8003)"
	stop_cshuttle TERM
else
	lab_bad "cshuttle did not start"
	sed 's/^/    | /' "$CSHUTTLE_LOG"
fi

lab_say "--stub-cache: a damaged cached stub is replaced"
printf 'garbage' >>"$f"
if start_cshuttle -v --stub-cache -r labhost-plain 198.19.0.0/24; then
	check "uploaded again" log_has "into the remote cache"
	check_eq "traffic goes through" "priv 8004 198.19.0.1" "$(lab_hello 198.19.0.2 8004)"
	stop_cshuttle TERM
else
	lab_bad "cshuttle did not start"
	sed 's/^/    | /' "$CSHUTTLE_LOG"
fi
check_eq "the cached stub is whole again" "${f##*stub-}" "$(sha256sum <"$f" | cut -d' ' -f1)"
check "cache: nothing left in the remote /tmp" lab_wait_for 5 tmp_clean

# -- --remote-tmpdir --------------------------------------------------------
lab_say "--remote-tmpdir DIR: the stub runs from DIR"
if start_cshuttle -v --remote-tmpdir "$d/mytmp" -r labhost-plain 198.19.0.0/24; then
	check "started from DIR" log_has "stub started on the remote host from $d/mytmp"
	check_eq "traffic goes through" "priv 8005 198.19.0.1" "$(lab_hello 198.19.0.2 8005)"
	stop_cshuttle TERM
else
	lab_bad "cshuttle did not start"
	sed 's/^/    | /' "$CSHUTTLE_LOG"
fi
check "--remote-tmpdir: nothing left in DIR or /tmp" lab_wait_for 5 tmp_clean

lab_say "--remote-tmpdir naming a missing directory"
run_cshuttle --remote-tmpdir /nonexistent/dir -r labhost-plain 198.19.0.0/24
check_eq "exit code 1" 1 "$CSHUTTLE_RC"
check_eq "one-line error" 1 "$(grep -c . "$CSHUTTLE_LOG")"
check "the error names the directory" \
    grep -q -- "--remote-tmpdir /nonexistent/dir is not a writable directory" "$CSHUTTLE_LOG"
check "no table left" assert_no_tables
sed 's/^/    | /' "$CSHUTTLE_LOG"

check "nothing left in the remote /tmp" lab_wait_for 5 tmp_clean
lab_finish
