#!/bin/bash
# SPDX-License-Identifier: ISC
#
# login_test.sh [builtin] - the built-in client logs in and checks host
# keys the way ssh does (ssh/ssh2_auth.c, ssh/prompt.c, ssh/hostkey.c):
#   - a lab user with a password, against the lab's sshd with password
#     (port 2226) and keyboard-interactive through PAM (port 2227) turned
#     on for this test only: each login typed on a pseudo-terminal, never
#     echoed nor logged; a wrong password three times exits 3 with a clear
#     message; a reconnect asks again on the terminal;
#   - without a terminal, and with -D, a login that needs a password is
#     refused at start (exit 3) with a message that points to keys;
#     SSH_ASKPASS with SSH_ASKPASS_REQUIRE=force answers instead;
#   - -r user:password@host logs in without a terminal, warns that ps
#     shows it, keeps it out of the status, and reconnects with it; a
#     wrong one exits 3;
#   - no key and a server that takes keys only: "no key to try" names
#     password/keyboard-interactive and -e ssh;
#   - HostKeyAlias: the key pinned under the alias is checked (and the
#     host's own entries are not), a changed key under the alias is
#     refused, also with accept-new, and accept-new records a new key
#     under the alias;
#   - GlobalKnownHostsFile is read and never written;
#   - CheckHostIP: the address's entry is recorded beside the host's,
#     and an address whose key differs is refused under strict checking
#     and a warning otherwise.
# The built-in client only: `-e ssh` is OpenSSH's own business.

set -uo pipefail
LAB_TRANSPORT=${1:-builtin}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
[[ $LAB_TRANSPORT == builtin ]] || lab_die "login_test.sh tests the built-in client only"
lab_need chpasswd passwd
lab_up
lab_user_add || lab_die "cannot add the lab user"

d=$LAB_DIR
pw=Lab-pw-$RANDOM$RANDOM
echo "$LAB_USER:$pw" | chpasswd || lab_die "cannot set the lab user's password"
hk=$(cut -d' ' -f1,2 "$d/host_key.pub")
ohk=$(cut -d' ' -f1,2 "$d/other_host_key.pub")

# The lab's sshd, with passwords (2226) and keyboard-interactive through
# PAM (2227) on extra ports, for this test only.
sed -e 's/^Port 22$/Port 22\nPort 2226\nPort 2227/' -e 's/^UsePAM no$/UsePAM yes/' \
    "$d/sshd_config" >"$d/sshd_config_login"
cat >>"$d/sshd_config_login" <<EOF
Match LocalPort 2226
	PasswordAuthentication yes
	AuthenticationMethods password
Match LocalPort 2227
	KbdInteractiveAuthentication yes
	AuthenticationMethods keyboard-interactive
EOF
/usr/sbin/sshd -t -f "$d/sshd_config_login" || lab_die "the login sshd_config is invalid"
lab_sshd_stop
lab_sshd_start "$d/sshd_config_login" || lab_die "sshd did not start"
lab_wait_for 5 lab_listening "$LAB_NS_S" 2227 || lab_die "sshd does not listen on 2227"

{
	echo "198.18.0.2 $hk"
	for port in 2226 2227; do
		echo "[198.18.0.2]:$port $hk"
	done
} >"$d/known_hosts_login"
: >"$d/known_hosts_accept"
echo "pinned $hk" >"$d/known_hosts_alias"
# The right key under the host's own name, a wrong one under the alias.
printf '%s\n' "198.18.0.2 $hk" "pinned $ohk" >"$d/known_hosts_alias_changed"
cp "$d/known_hosts_alias_changed" "$d/known_hosts_alias_changed.orig"
echo "198.18.0.2 $hk" >"$d/known_hosts_global"
cp "$d/known_hosts_global" "$d/known_hosts_global.orig"
: >"$d/known_hosts_user_empty"
echo "labserver $hk" >"$d/known_hosts_checkip"
printf '%s\n' "labserver $hk" "198.18.0.2 $ohk" >"$d/known_hosts_checkip_bad"
cfg=$d/ssh_config_login
cat >"$cfg" <<EOF
Host labpw
	HostName 198.18.0.2
	Port 2226
Host labkbd
	HostName 198.18.0.2
	Port 2227
Host labnokey
	HostName 198.18.0.2
	User root
Host labcheckip labcheckip-bad labcheckip-warn
	HostName labserver
	CheckHostIP yes
Host labalias labalias-changed labalias-new labglobal labcheckip labcheckip-bad labcheckip-warn
	HostName 198.18.0.2
	User root
	IdentityFile $d/user_key
Host labalias
	HostKeyAlias pinned
	UserKnownHostsFile $d/known_hosts_alias
Host labalias-changed
	HostKeyAlias pinned
	UserKnownHostsFile $d/known_hosts_alias_changed
	StrictHostKeyChecking accept-new
Host labalias-new
	HostKeyAlias newpin
	UserKnownHostsFile $d/known_hosts_accept
	StrictHostKeyChecking accept-new
Host labglobal
	UserKnownHostsFile $d/known_hosts_user_empty
	GlobalKnownHostsFile $d/known_hosts_global
	StrictHostKeyChecking accept-new
Host labcheckip
	UserKnownHostsFile $d/known_hosts_checkip
Host labcheckip-bad
	UserKnownHostsFile $d/known_hosts_checkip_bad
Host labcheckip-warn
	UserKnownHostsFile $d/known_hosts_checkip_bad
	StrictHostKeyChecking no
Host *
	User $LAB_USER
	IdentityFile $d/no_such_key
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile $d/known_hosts_login
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	ConnectTimeout 10
	LogLevel ERROR
EOF

# A pseudo-terminal for cshuttle, driven by python3: SCRIPT is
# "expect=answer|..." (each answer typed once its prompt has appeared);
# everything the terminal showed goes to LOG, the child's pid to PIDFILE;
# the driver exits with the child's status.
cat >"$d/ptydrive.py" <<'EOF'
import os, pty, select, signal, sys, time
log, pidfile, script = sys.argv[1], sys.argv[2], sys.argv[3]
script = [a.split("=", 1) for a in script.split("|")] if script else []
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[4], sys.argv[4:])
with open(pidfile, "w") as f:
    f.write("%d\n" % pid)
out = open(log, "wb", buffering=0)
buf, pos, deadline = b"", 0, time.time() + 120
while time.time() < deadline:
    if not select.select([fd], [], [], 0.5)[0]:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out.write(data)
    buf += data
    while script:
        k = buf.find(script[0][0].encode(), pos)
        if k < 0:
            break
        pos = k + len(script[0][0])
        os.write(fd, script.pop(0)[1].encode() + b"\n")
else:
    os.kill(pid, signal.SIGKILL)
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
EOF

CS=("$CSHUTTLE_BIN" --ssh-config "$cfg")
# pty_run TAG SCRIPT ARGS...: cshuttle on a terminal in the foreground;
# its exit status in PTY_RC, what the terminal showed in $d/TAG.tty.
pty_run() {
	local tag=$1 script=$2
	shift 2
	ip netns exec "$LAB_NS_C" timeout -k 5 120 "$LAB_PY" "$d/ptydrive.py" \
	    "$d/$tag.tty" "$d/$tag.pid" "$script" "${CS[@]}" "$@" </dev/null >/dev/null 2>&1
	PTY_RC=$?
}
# pty_start TAG SCRIPT ARGS...: the same in the background, until the
# tunnel is up; pty_stop TAG ends it.
pty_start() {
	local tag=$1 script=$2
	shift 2
	ip netns exec "$LAB_NS_C" "$LAB_PY" "$d/ptydrive.py" "$d/$tag.tty" "$d/$tag.pid" \
	    "$script" "${CS[@]}" "$@" </dev/null >/dev/null 2>&1 &
	PTY_DRIVER=$!
	LAB_PIDS+=("$PTY_DRIVER")
	lab_wait_for 30 grep -qs 'cshuttle: connected' "$d/$tag.tty"
}
pty_stop() {
	kill -TERM "$(cat "$d/$1.pid")" 2>/dev/null
	wait "$PTY_DRIVER"
	PTY_RC=$?
}
# no_secret FILE...: the password appears in none of them.
no_secret() { ! grep -qsF -- "$pw" "$@"; }

lab_say "password on a terminal"
pty_start pw "password: =$pw" -v -r labpw 198.19.0.0/24
check "the password login connects" grep -q 'cshuttle: connected' "$d/pw.tty"
check "the prompt names the user and host" \
    grep -q "$LAB_USER@198.18.0.2's password: " "$d/pw.tty"
check_eq "the tunnel works" "hello from the private network" \
    "$(lab_curl http://198.19.0.2/small.txt)"
check "the password was neither echoed nor logged" no_secret "$d/pw.tty"
pty_stop pw
check_eq "it exits 0" 0 "$PTY_RC"

lab_say "keyboard-interactive on a terminal (PAM)"
pty_start kbd "assword: =$pw" -vv -r labkbd 198.19.0.0/24
check "the keyboard-interactive login connects" grep -q 'cshuttle: connected' "$d/kbd.tty"
check "cshuttle says it used keyboard-interactive" \
    grep -q 'authenticated with keyboard-interactive' "$d/kbd.tty"
check "the answer was neither echoed nor logged" no_secret "$d/kbd.tty"
pty_stop kbd

lab_say "a wrong password, three times"
pty_run wrong "password: =wrong1|try again.=wrong2|try again.=wrong3" -r labpw 198.19.0.0/24
check_eq "exit status 3" 3 "$PTY_RC"
check "ssh's 'Permission denied, please try again.'" \
    grep -q 'Permission denied, please try again.' "$d/wrong.tty"
check "the message says so" grep -q \
    "authentication failed for $LAB_USER@198.18.0.2: permission denied (tried: password (3 tries))" \
    "$d/wrong.tty"
check "no table left" assert_no_tables

lab_say "a reconnect asks again on the terminal"
pty_start again "password: =$pw|password: =$pw" --alive-interval 1 --alive-timeout 3 \
    -r labpw 198.19.0.0/24
lab_kill_sessions
check "asked again, and reconnected" \
    lab_wait_for 30 grep -q 'reconnected to labpw' "$d/again.tty"
check_eq "two prompts" 2 "$(grep -c "password: " "$d/again.tty")"
check_eq "the tunnel works again" "hello from the private network" \
    "$(lab_curl http://198.19.0.2/small.txt)"
pty_stop again

lab_say "nobody to ask: refused at start"
run_cshuttle_cmd "${CS[@]}" -r labpw 198.19.0.0/24
check_eq "without a terminal: exit status 3" 3 "$CSHUTTLE_RC"
check "... pointing to keys" grep -q \
    "there is no terminal to ask it on.*: log in with a key (ssh-agent or IdentityFile)" \
    "$CSHUTTLE_LOG"
run_cshuttle_cmd "${CS[@]}" -D -r labkbd 198.19.0.0/24
check_eq "-D: exit status 3" 3 "$CSHUTTLE_RC"
check "... a daemon never asks" grep -q "which a daemon (-D) never asks for" "$CSHUTTLE_LOG"
check "no table left" assert_no_tables

lab_say "SSH_ASKPASS without a terminal"
printf '#!/bin/sh\necho "$1" >>%s\necho %s\n' "$d/askpass.log" "$pw" >"$d/askpass.sh"
chmod 700 "$d/askpass.sh"
start_cshuttle_cmd env SSH_ASKPASS="$d/askpass.sh" SSH_ASKPASS_REQUIRE=force \
    "${CS[@]}" -r labpw 198.19.0.0/24
check "SSH_ASKPASS_REQUIRE=force: logged in" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
check "the program was asked with the prompt" grep -q "password: " "$d/askpass.log"
stop_cshuttle

lab_say "-r user:password@host"
start_cshuttle_cmd "${CS[@]}" --name pwtun --alive-interval 1 --alive-timeout 3 \
    -r "$LAB_USER:$pw@labpw" 198.19.0.0/24
check "logged in without a terminal" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
check "warned that ps shows it" grep -q 'visible to other users (ps)' "$CSHUTTLE_LOG"
check_eq "the status names the user, not the password" "$LAB_USER@labpw" \
    "$(in_client "$CSHUTTLE_BIN" status --json pwtun | "$LAB_PY" -c \
    'import json, sys; print(json.load(sys.stdin)["remote"])')"
lab_kill_sessions
check "reconnected with it" lab_wait_for 30 grep -q 'reconnected to' "$CSHUTTLE_LOG"
check "the password was never logged" no_secret "$CSHUTTLE_LOG"
stop_cshuttle
run_cshuttle_cmd "${CS[@]}" -r "$LAB_USER:wrong@labkbd" 198.19.0.0/24
check_eq "a wrong -r password: exit status 3" 3 "$CSHUTTLE_RC"
check "... the password given with -r was refused" \
    grep -q 'the password given with -r was refused' "$CSHUTTLE_LOG"

lab_say "no key, and a server that takes keys only"
run_cshuttle_cmd "${CS[@]}" -r labnokey 198.19.0.0/24
check_eq "exit status 3" 3 "$CSHUTTLE_RC"
check "no key to try, no password or keyboard-interactive, -e ssh" grep -q \
    "no key to try (no ssh-agent keys, no IdentityFile found), and no password or keyboard-interactive login to fall back on (the server offers neither): add a key, or use \`-e ssh\`" \
    "$CSHUTTLE_LOG"

lab_say "HostKeyAlias"
start_cshuttle_cmd "${CS[@]}" -r labalias 198.19.0.0/24
check "the key pinned under the alias is accepted" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
stop_cshuttle
run_cshuttle_cmd "${CS[@]}" -r labalias-changed 198.19.0.0/24
check_eq "a changed key under the alias (accept-new): exit status 3" 3 "$CSHUTTLE_RC"
check "... refused as changed, the host's own entry notwithstanding" \
    grep -q 'host key for pinned has changed' "$CSHUTTLE_LOG"
check "... and never replaced" cmp -s "$d/known_hosts_alias_changed" \
    "$d/known_hosts_alias_changed.orig"
start_cshuttle_cmd "${CS[@]}" -r labalias-new 198.19.0.0/24
check "accept-new takes a new key" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
stop_cshuttle
check_eq "... and records it under the alias alone" "newpin $hk" \
    "$(cut -d' ' -f1-3 "$d/known_hosts_accept")"

lab_say "GlobalKnownHostsFile"
start_cshuttle_cmd "${CS[@]}" -r labglobal 198.19.0.0/24
check "the key in the global file is accepted" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
stop_cshuttle
check "the global file is unchanged" cmp -s "$d/known_hosts_global" "$d/known_hosts_global.orig"
check "nothing was added to the user's file" test ! -s "$d/known_hosts_user_empty"

lab_say "CheckHostIP"
start_cshuttle_cmd "${CS[@]}" -r labcheckip 198.19.0.0/24
check "a host known by name connects" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
stop_cshuttle
check "the address's entry is recorded beside it" \
    grep -qx "198.18.0.2 $hk.*" "$d/known_hosts_checkip"
run_cshuttle_cmd "${CS[@]}" -r labcheckip-bad 198.19.0.0/24
check_eq "the address's key differs (strict): exit status 3" 3 "$CSHUTTLE_RC"
check "... as ssh says" grep -q \
    'host key for labserver differs from the key for the IP address 198.18.0.2' \
    "$CSHUTTLE_LOG"
start_cshuttle_cmd "${CS[@]}" -r labcheckip-warn 198.19.0.0/24
check "StrictHostKeyChecking no: connects" grep -q 'cshuttle: connected' "$CSHUTTLE_LOG"
check "... with the warning" grep -q 'differs from the key for the IP address' "$CSHUTTLE_LOG"
stop_cshuttle

check "no table left" assert_no_tables
lab_finish
