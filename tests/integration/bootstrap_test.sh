#!/bin/sh
# SPDX-License-Identifier: ISC
# bootstrap_test.sh - the SSH transports and the stub bootstrap against a
# private sshd.
#
# Usage: bootstrap_test.sh /path/to/ssh_drive   (or SSH_DRIVE=...)
#
# Runs sshd on 127.0.0.1:2222 inside a network namespace of its own, with
# its own host keys and authorized_keys, and a private /tmp (a directory
# of ours bind-mounted there) so we can check that the stub leaves nothing
# behind.  The remote user's $XDG_CACHE_HOME (sshd SetEnv) is a directory of
# ours too, for the --stub-cache cases.  ssh_drive runs in the same
# namespace.  Needs root, sshd and python3: without them the test fails
# (lab_need, tests/lab/need.sh).  Everything is removed on exit.
# VERBOSE=1 shows ssh_drive's output for passing cases too (DRIVE_VERBOSE=1
# adds debug logs).
set -u

DRIVE=${1:-${SSH_DRIVE:-}}
if [ -z "$DRIVE" ] || [ ! -x "$DRIVE" ]; then
	echo "usage: $0 /path/to/ssh_drive" >&2
	exit 2
fi
# shellcheck source=../lab/need.sh
. "$(dirname "$0")/../lab/need.sh"
lab_need_root "network namespace, sshd"
lab_need ip iproute2 /usr/sbin/sshd openssh-server ssh openssh-client \
    ssh-keygen openssh-client ssh-keyscan openssh-client \
    ssh-agent openssh-client ssh-add openssh-client python3 python3

NS=csssh$$
D=$(mktemp -d /var/tmp/csssh.XXXXXX) || exit 1
SSHD_PID=
SSH_AGENT_PID=
FAILED=0

cleanup() {
	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
	[ -n "$SSH_AGENT_PID" ] && kill "$SSH_AGENT_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up || exit 1

key() { ssh-keygen -q -t "$1" ${2:+-b "$2"} -N "" -C "$(basename "$3")" -f "$3" || exit 1; }
key ed25519 "" "$D/host_ed25519"
key ecdsa "" "$D/host_ecdsa"
key ed25519 "" "$D/id_ed25519"
key ed25519 "" "$D/id_other"
key rsa 3072 "$D/id_rsa"
key ed25519 "" "$D/fake_host"
cat "$D/id_ed25519.pub" "$D/id_rsa.pub" >"$D/authorized_keys"
mkdir -m 1777 "$D/rtmp"
mkdir -m 0700 "$D/rcache" "$D/rdir"

cat >"$D/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
HostKey $D/host_ed25519
HostKey $D/host_ecdsa
PidFile none
AuthorizedKeysFile $D/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
LogLevel VERBOSE
SetEnv XDG_CACHE_HOME=$D/rcache
EOF
mkdir -p /run/sshd
# ip netns exec gives sshd a mount namespace of its own: /tmp there is $D/rtmp.
ip netns exec "$NS" sh -c "mount --bind '$D/rtmp' /tmp && exec /usr/sbin/sshd -D \
    -f '$D/sshd_config' -E '$D/sshd.log'" &
SSHD_PID=$!

i=0
until ip netns exec "$NS" ssh-keyscan -p 2222 -T 1 127.0.0.1 >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 50 ]; then
		echo "sshd did not start:"
		cat "$D/sshd.log"
		exit 1
	fi
	sleep 0.1
done

# known_hosts variants.  The server has Ed25519 and ECDSA keys; only the
# Ed25519 one is recorded, so the host key preference must pick it.
hk() { cut -d' ' -f1,2 "$1"; }
echo "[127.0.0.1]:2222 $(hk "$D/host_ed25519.pub")" >"$D/kh_good"
cp "$D/kh_good" "$D/kh_hashed" && ssh-keygen -q -H -f "$D/kh_hashed" >/dev/null 2>&1
echo "[127.0.0.1]:2222 $(hk "$D/fake_host.pub")" >"$D/kh_bad"
# An entry for port 22 says nothing about port 2222 (OpenSSH semantics).
echo "127.0.0.1 $(hk "$D/fake_host.pub")" >"$D/kh_port22"
printf '@revoked * %s\n%s\n' "$(hk "$D/host_ed25519.pub")" "$(cat "$D/kh_good")" >"$D/kh_revoked"

run() {
	name=$1
	shift
	case $1 in
	-*)	set -- "$DRIVE" "$@" ;;
	esac
	if ip netns exec "$NS" "$@" </dev/null >"$D/out" 2>&1; then
		echo "ok - $name"
		[ -n "${VERBOSE:-}" ] && sed 's/^/    /' "$D/out"
	else
		echo "not ok - $name"
		sed 's/^/    /' "$D/out"
		FAILED=1
	fi
	left=$(ls -A "$D/rtmp")
	if [ -n "$left" ]; then
		echo "not ok - $name: left on the remote: $left"
		FAILED=1
		rm -rf "$D/rtmp/"* "$D/rtmp/".??* 2>/dev/null
	fi
}
expect_out() {
	if grep -q -- "$1" "$D/out"; then
		echo "ok - output has: $1"
	else
		echo "not ok - output lacks: $1"
		sed 's/^/    /' "$D/out"
		FAILED=1
	fi
}
expect_no_out() {
	if grep -q -- "$1" "$D/out"; then
		echo "not ok - output has: $1"
		sed 's/^/    /' "$D/out"
		FAILED=1
	else
		echo "ok - output lacks: $1"
	fi
}
# The bootstrap says where the stub runs at debug level.
run_debug() {
	DRIVE_VERBOSE=1
	export DRIVE_VERBOSE
	run "$@"
	unset DRIVE_VERBOSE
}
expect_empty() {
	left=$(ls -A "$1")
	if [ -z "$left" ]; then
		echo "ok - nothing left in $1"
	else
		echo "not ok - left in $1: $left"
		FAILED=1
	fi
}
# The cache holds exactly one stub, stub-<sha256>, mode 0700.
expect_cached() {
	left=$(ls -A "$K")
	if echo "$left" | grep -Eqx 'stub-[0-9a-f]{64}' &&
	    [ "$(stat -c %a "$K/$left")" = 700 ]; then
		echo "ok - the cache holds $left"
	else
		echo "not ok - the cache holds: $(ls -lA "$K")"
		FAILED=1
	fi
}

C="--host 127.0.0.1 --port 2222 --user root"

run "libssh2: Ed25519 key, known host, 12 MiB echoed" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --strict yes --mib 12
expect_out "remote: fake stub running"
expect_out "connected to 127.0.0.1 port 2222"
run "libssh2: hashed known_hosts entry" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_hashed" --strict yes --mib 1
run "libssh2: changed host key is refused" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_bad" --strict no \
    --expect-fail hostkey --match "has changed (ED25519 SHA256:"
run "libssh2: port 22 entry does not apply to port 2222" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_port22" --strict yes \
    --expect-fail hostkey --match "is not known"
run "libssh2: revoked host key is refused" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_revoked" --strict no \
    --expect-fail hostkey --match "revoked"
run "libssh2: unknown host key, ask, no terminal" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/nonexistent" --strict ask \
    --expect-fail hostkey --match "no terminal to confirm"
run "libssh2: accept-new records the key" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/new/known_hosts" --strict accept-new --mib 1
expect_out "added host key for \[127.0.0.1\]:2222"
run "libssh2: the recorded key is then known" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/new/known_hosts" --strict yes --mib 1
run "libssh2: key not authorized" \
    $C --identity "$D/id_other" --known-hosts "$D/kh_good" \
    --expect-fail auth --match "authentication failed for root@127.0.0.1 (tried: $D/id_other)"
run "libssh2: RSA key only (libssh2 1.10 cannot do rsa-sha2)" \
    $C --identity "$D/id_rsa" --known-hosts "$D/kh_good" \
    --expect-fail auth --match "cannot sign with rsa-sha2"
# What libssh2 1.10 cannot use is named, with `-e ssh`: a FIDO key (a
# private key file whose .pub says sk-ssh-ed25519; no device is needed to
# be left out) and a certificate beside a key (signed by a CA the server
# does not trust, on a key it does not know).
cp "$D/id_other" "$D/id_sk"
python3 -c 'import base64, struct, sys
t = b"sk-ssh-ed25519@openssh.com"
blob = struct.pack(">I", len(t)) + t + struct.pack(">I", 32) + bytes(32) + \
    struct.pack(">I", 4) + b"ssh:"
print(t.decode(), base64.b64encode(blob).decode(), "fake")' >"$D/id_sk.pub" || exit 1
run "libssh2: a FIDO key is left out, and named" \
    $C --identity "$D/id_sk" --known-hosts "$D/kh_good" \
    --expect-fail auth --match "cannot use FIDO keys ($D/id_sk left out): use \`-e ssh\`"
key ed25519 "" "$D/ca"
ssh-keygen -q -s "$D/ca" -I test -n root "$D/id_other.pub" || exit 1
run "libssh2: a certificate cannot be presented, and is named" \
    $C --identity "$D/id_other" --known-hosts "$D/kh_good" \
    --expect-fail auth --match "cannot present certificates ($D/id_other): use \`-e ssh\`"
rm -f "$D/id_other-cert.pub"
run "libssh2: no such server" \
    --host 127.0.0.1 --port 2223 --user root --identity "$D/id_ed25519" \
    --known-hosts "$D/kh_good" --expect-fail connect --match "Connection refused"
run "libssh2: remote exit status at EOF" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --stub exit3
run "libssh2: a stub that cannot start (exec format error)" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --stub noprobe \
    --expect-fail remote --match "the stub cannot start"
expect_out "failed as expected (.*): remote bootstrap failed (fake stub on $(uname -m)): the stub cannot start: .*Exec format error\$"

run_debug "libssh2: --remote-tmpdir is tried first" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --remote-tmpdir "$D/rdir" --mib 1
expect_out "stub started on the remote host from $D/rdir\$"
expect_empty "$D/rdir"
run "libssh2: --remote-tmpdir that does not exist" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --remote-tmpdir "$D/nonexistent" \
    --expect-fail remote --match "--remote-tmpdir $D/nonexistent is not a writable directory"

# --stub-cache: the stub stays in the remote user's cache ($D/rcache via
# sshd's SetEnv), not in /tmp, and the next session skips the upload.
K=$D/rcache/cshuttle
run_debug "libssh2: --stub-cache, first session uploads into the cache" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --stub-cache --mib 1
expect_out "uploading the fake stub ([0-9]* bytes) into the remote cache"
expect_out "stub started on the remote host from $K\$"
expect_no_out "using the cached"
expect_cached
run_debug "libssh2: --stub-cache, second session uses the cached stub" \
    $C --identity "$D/id_ed25519" --known-hosts "$D/kh_good" --stub-cache --mib 1
expect_out "using the cached fake stub in $K\$"
expect_out "remote: fake stub running"
expect_no_out "uploading"
expect_cached

# ssh-agent with the RSA key first: the loop must go on to the Ed25519 key.
eval "$(ssh-agent -s -a "$D/agent.sock")" >/dev/null
ssh-add -q "$D/id_rsa" "$D/id_ed25519" 2>/dev/null
run "libssh2: ssh-agent (RSA refused, Ed25519 next)" \
    $C --agent "$D/agent.sock" --known-hosts "$D/kh_good" --mib 2
run "libssh2: IdentitiesOnly keeps agent keys out" \
    $C --agent "$D/agent.sock" --identities-only --identity "$D/id_other" \
    --known-hosts "$D/kh_good" \
    --expect-fail auth --match "(tried: $D/id_other)"

# On a terminal: the host key question and an encrypted key's passphrase
# (a wrong one first).  A pseudo-terminal driven by python3 answers each
# prompt once it has appeared (the passphrase prompt discards type-ahead).
PTY_DRIVER='
import os, pty, select, sys, time
script = [a.split("=", 1) for a in sys.argv[1].split("|")]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
buf, pos, deadline = b"", 0, time.time() + 60
while time.time() < deadline:
    if not select.select([fd], [], [], 1)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    buf += data
    if script:
        k = buf.find(script[0][0].encode(), pos)
        if k >= 0:
            pos = k + len(script[0][0])
            os.write(fd, script.pop(0)[1].encode() + b"\n")
else:
    os.kill(pid, 9)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
'
ssh-keygen -q -t ed25519 -N "sekrit" -C enc -f "$D/id_enc" || exit 1
cat "$D/id_enc.pub" >>"$D/authorized_keys"
rm "$D/id_enc.pub"	# the public key must come from the private key file
run "libssh2: terminal: accept the host key, passphrase (wrong, then right)" \
    "$(command -v python3)" -c "$PTY_DRIVER" \
    "continue connecting=yes|passphrase for key=wrong|passphrase for key=sekrit" \
    "$DRIVE" $C --identity "$D/id_enc" --known-hosts "$D/tty/known_hosts" \
    --strict ask --mib 1
expect_out "ED25519 key fingerprint is SHA256:"
expect_out "added host key for"
run "libssh2: terminal: refuse the host key" \
    "$(command -v python3)" -c "$PTY_DRIVER" "continue connecting=no" \
    "$DRIVE" $C --identity "$D/id_enc" --known-hosts "$D/tty2/known_hosts" \
    --strict ask --expect-fail hostkey --match "was not accepted"

SSH="ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none"
run "ssh command: 12 MiB echoed" \
    --cmd "$SSH -i $D/id_ed25519 -o UserKnownHostsFile=$D/kh_good -o StrictHostKeyChecking=yes" \
    --remote root@127.0.0.1:2222 --mib 12
expect_out "remote: fake stub running"
run "ssh command: key not authorized" \
    --cmd "$SSH -i $D/id_other -o UserKnownHostsFile=$D/kh_good -o StrictHostKeyChecking=yes" \
    --remote root@127.0.0.1:2222 --expect-fail auth --match "Permission denied"
run "ssh command: changed host key" \
    --cmd "$SSH -i $D/id_ed25519 -o UserKnownHostsFile=$D/kh_bad -o StrictHostKeyChecking=yes" \
    --remote root@127.0.0.1:2222 --expect-fail hostkey
run "ssh command: remote exit status at EOF" \
    --cmd "$SSH -i $D/id_ed25519 -o UserKnownHostsFile=$D/kh_good -o StrictHostKeyChecking=yes" \
    --remote root@127.0.0.1:2222 --stub exit3
run "ssh command: a stub that cannot start" \
    --cmd "$SSH -i $D/id_ed25519 -o UserKnownHostsFile=$D/kh_good -o StrictHostKeyChecking=yes" \
    --remote root@127.0.0.1:2222 --stub noprobe \
    --expect-fail remote --match "the stub cannot start"
expect_out "remote bootstrap failed (fake stub on $(uname -m)): the stub cannot start: "
run_debug "ssh command: --stub-cache uses the stub libssh2 stored" \
    --cmd "$SSH -i $D/id_ed25519 -o UserKnownHostsFile=$D/kh_good -o StrictHostKeyChecking=yes" \
    --remote root@127.0.0.1:2222 --stub-cache --mib 1
expect_out "using the cached fake stub in $K\$"
expect_cached

if [ $FAILED -ne 0 ]; then
	echo "sshd log:"
	sed 's/^/    /' "$D/sshd.log"
	exit 1
fi
echo "all passed"
exit 0
