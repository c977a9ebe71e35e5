#!/bin/bash
# SPDX-License-Identifier: ISC
#
# sudo_test.sh builtin|ext - cshuttle run by an ordinary user: it starts
# its firewall helper as `sudo cshuttle --firewall`, and everything else
# runs as the user, with the user's own ~/.ssh (config, key, known_hosts,
# agent); no --ssh-config.  The helper runs as root, cshuttle does not;
# SIGTERM and SIGKILL of the user's cshuttle leave no table and no helper.
# Without a sudoers rule, cshuttle fails at once with one clear line.
# The tunnel carries the user's connections only: root's and another
# user's (nobody's) do not reach the private network, and the tunnel's own
# sockets (listeners, SSH) belong to the user (/proc/net/tcp).
#
# The user is a throw-away system account named after the lab, its home is
# in the lab directory, and its sudoers rule is the one `cshuttle
# --sudoers` prints; lab_destroy removes both.  cshuttle runs in a private
# mount namespace of the lab (lab_private_up), where the helper's slot
# files stay.

# shellcheck disable=SC2317  # the helpers below are called through check
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need sudo sudo ssh-agent openssh-client ssh-add openssh-client
lab_up

small="hello from the private network"
# The user must be able to reach the binary whatever the permissions of
# the build tree (a private checkout may be mode 0700): run a copy from the
# lab directory.  That path is also what cshuttle passes to sudo (its
# /proc/self/exe).
bin=$LAB_DIR/cshuttle
install -m 0755 "$CSHUTTLE_BIN" "$bin" || lab_die "cannot copy $CSHUTTLE_BIN"

lab_user_add || lab_die "cannot create the test user"
u=$LAB_USER
h=$LAB_USER_HOME
uid=$(id -u "$u")
"${LAB_ASUSER[@]}" test -x "$bin" ||
    lab_die "user $u cannot execute $bin (check the permissions of its directories)"

# The user's ~/.ssh: its own key (authorized in the lab's sshd), a hashed
# known_hosts with the lab's host key (as Debian's ssh writes them), and a
# config with the alias.
# shellcheck disable=SC2016  # expanded by the user's shell
"${LAB_ASUSER[@]}" sh -c 'umask 077 && mkdir "$HOME/.ssh" &&
    ssh-keygen -q -t ed25519 -N "" -C "$USER" -f "$HOME/.ssh/id_ed25519"' ||
    lab_die "cannot make the user's key"
cat "$h/.ssh/id_ed25519.pub" >>"$LAB_DIR/authorized_keys"
user_fp=$(ssh-keygen -l -f "$h/.ssh/id_ed25519.pub" | awk '{print $2}')
echo "198.18.0.2 $(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")" >"$h/.ssh/known_hosts"
ssh-keygen -q -H -f "$h/.ssh/known_hosts" >/dev/null 2>&1 ||
    lab_die "cannot hash known_hosts"
rm -f "$h/.ssh/known_hosts.old"
cat >"$h/.ssh/config" <<'EOF'
Host labhost
	HostName 198.18.0.2
# Not in known_hosts: must be refused.
Host labhost-unknown
	HostName fd5e:0:0:1::2
Host *
	User root
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 10
	LogLevel ERROR
EOF
chown -R "$u:$u" "$h/.ssh"
chmod 600 "$h/.ssh/config" "$h/.ssh/known_hosts"

# cshuttle as the user: CS_ENV may add environment variables.  Each run
# in a private mount namespace of its own, made now: it sees the sudoers
# rule and the user's files as they are.
CS_ENV=()
cs_cmd() {
	lab_private_up || lab_die "cannot make the private mount namespace"
	CS=("${LAB_PRIVATE[@]}" "${LAB_ASUSER[@]}" env "${CS_ENV[@]}" "$bin")
	if [[ $LAB_TRANSPORT == ext ]]; then
		# Plain ssh: the user's ~/.ssh/config, as for the built-in one.
		CS+=(-e ssh)
	fi
}

# HTTP GET from CLIENT as the user, and as nobody (which must fail).
user_curl() {
	in_client "${LAB_ASUSER[@]}" curl -sS -f --connect-timeout 5 -m 30 "$@"
}
nobody_curl_fails() {
	! in_client setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    curl -s -f -o /dev/null --connect-timeout 2 -m 4 "$1"
}

# In CLIENT's /proc/net/tcp (and tcp6): the listening sockets of the port
# cshuttle's helper redirects to, and the established connection to the
# SSH server (198.18.0.2:22), each belong to the user (the tunnel's own
# sockets, never root's).  Fields: local, remote, state, ..., uid.
tunnel_sockets_owned() {
	local port n
	port=$(in_client nft list tables | sed -n 's/^table inet cshuttle_//p' | head -1)
	[[ -n $port ]] || return 1
	n=$(in_client cat /proc/net/tcp /proc/net/tcp6 | awk -v port="$(printf '%04X' "$port")" \
	    -v uid="$uid" '
		$2 ~ ":" port "$" && $4 == "0A" { if ($8 != uid) bad++; lis++ }
		$3 == "020012C6:0016" && $4 == "01" { if ($8 != uid) bad++; ssh++ }
		END { print (bad ? "bad" : lis + 0 " " ssh + 0) }')
	echo "    | listeners and SSH connections of uid $uid: $n"
	[[ $n =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]]
}

# Accepted logins with key fingerprint FP in the sshd log.
accepted() {
	grep -c "Accepted publickey for root .*$1" "$LAB_DIR/sshd.log"
}

helpers() { lab_pids_argv "$LAB_NS_C" "$bin" --firewall; }
no_helper() { [[ -z "$(helpers)" ]]; }
gone() { ! lab_alive "$1"; }
one_pid() { [[ $1 =~ ^[0-9]+$ ]]; }

# Start the user's cshuttle and check who runs what; the helper's pid is
# left in $helper.
start_as_user() {
	local fp=$1 n
	shift
	cs_cmd
	n=$(accepted "$fp")
	start_cshuttle_cmd "${CS[@]}" "$@" || lab_die "cshuttle did not start"
	check_eq "the user's curl http://198.19.0.2/small.txt through the tunnel" \
	    "$small" "$(user_curl http://198.19.0.2/small.txt)"
	check "root's connection does not reach the private network" \
	    lab_curl_fails http://198.19.0.2/small.txt
	check "another user's (nobody's) does not either" \
	    nobody_curl_fails http://198.19.0.2/small.txt
	check "the tunnel's sockets belong to $u (/proc/net/tcp)" tunnel_sockets_owned
	check "an nft table named cshuttle_<port> exists" \
	    eval 'in_client nft list tables | grep -Eq "^table inet cshuttle_[0-9]+$"'
	check "sshd accepted the expected key" test "$(accepted "$fp")" -gt "$n"
	check_eq "cshuttle runs as $u (uid $uid)" "$uid $uid $uid $uid" \
	    "$(lab_uids "$CSHUTTLE_PID")"
	helper=$(helpers)
	check "exactly one firewall helper ($bin --firewall) runs" \
	    one_pid "$helper"
	check_eq "the helper runs as root" "0 0 0 0" "$(lab_uids "$helper")"
	check "the helper descends from the user's cshuttle (through sudo)" \
	    lab_descends "$helper" "$CSHUTTLE_PID"
}

lab_say "no sudoers rule for $u"
cs_cmd
run_cshuttle_cmd "${CS[@]}" -r labhost 198.19.0.0/24
check_eq "cshuttle exits 1" 1 "$CSHUTTLE_RC"
sed 's/^/    | /' "$CSHUTTLE_LOG"
check_eq "one error line of cshuttle's own" 1 \
    "$(grep -c '^cshuttle:' "$CSHUTTLE_LOG")"
check "it names sudo" grep -q '^cshuttle:.*sudo' "$CSHUTTLE_LOG"
check "no table" assert_no_tables
check "no helper left" no_helper

rule=$("$bin" --sudoers "$u")
lab_user_sudoers "$rule" || lab_die "cannot install the sudoers rule"
lab_say "sudoers: $rule"

lab_say "SIGTERM"
start_as_user "$user_fp" -r labhost 198.19.0.0/24
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "the helper is gone" lab_wait_for 5 gone "$helper"
check "198.19.0.2 is unreachable again" lab_curl_fails http://198.19.0.2/small.txt

lab_say "SIGKILL"
start_as_user "$user_fp" -r labhost 198.19.0.0/24
sudo_pid=$(lab_ppid "$helper")
stop_cshuttle KILL
check_eq "cshuttle was killed" 137 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "the helper is gone" lab_wait_for 5 gone "$helper"
check "sudo is gone" lab_wait_for 5 gone "$sudo_pid"
check "no helper left" no_helper
check "198.19.0.2 is unreachable again" lab_curl_fails http://198.19.0.2/small.txt

lab_say "a host that is not in the user's known_hosts"
cs_cmd
run_cshuttle_cmd "${CS[@]}" -r labhost-unknown 198.19.0.0/24
check_eq "cshuttle exits 3 (host key refused)" 3 "$CSHUTTLE_RC"
sed 's/^/    | /' "$CSHUTTLE_LOG"
check "it says why (host key)" grep -qi 'host key\|known' "$CSHUTTLE_LOG"
check "no table" assert_no_tables
check "no helper left" lab_wait_for 5 no_helper

lab_say "the user's ssh-agent (no key file in ~/.ssh)"
"${LAB_ASUSER[@]}" ssh-keygen -q -t ed25519 -N '' -C "$u-agent" \
    -f "$h/agent_key" || lab_die "cannot make the agent key"
cat "$h/agent_key.pub" >>"$LAB_DIR/authorized_keys"
agent_fp=$(ssh-keygen -l -f "$h/agent_key.pub" | awk '{print $2}')
mv "$h/.ssh/id_ed25519" "$h/off_id_ed25519"
mv "$h/.ssh/id_ed25519.pub" "$h/off_id_ed25519.pub"
sock=$h/agent.sock
ip netns exec "$LAB_NS_C" "${LAB_ASUSER[@]}" ssh-agent -D -a "$sock" \
    </dev/null >/dev/null 2>&1 &
agent=$!
lab_wait_for 5 test -S "$sock" || lab_die "ssh-agent did not start"
"${LAB_ASUSER[@]}" env SSH_AUTH_SOCK="$sock" ssh-add -q "$h/agent_key" ||
    lab_die "ssh-add failed"
rm -f "$h/agent_key" "$h/agent_key.pub"
CS_ENV=(SSH_AUTH_SOCK="$sock")
start_as_user "$agent_fp" -r labhost 198.19.0.0/24
stop_cshuttle TERM
check_eq "cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
check "no table left" assert_no_tables
check "the helper is gone" lab_wait_for 5 gone "$helper"
kill "$agent" 2>/dev/null
wait "$agent" 2>/dev/null

lab_finish
