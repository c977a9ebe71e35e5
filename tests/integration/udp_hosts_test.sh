#!/bin/bash
# SPDX-License-Identifier: ISC
#
# udp_hosts_test.sh builtin|ext - UDP in the other set-ups: a remote with
# nothing but busybox (x86_64, and aarch64 under qemu-user) carries a UDP
# echo; cshuttle run by an ordinary user through sudo (see sudo_test.sh)
# carries that user's UDP and nobody else's (root's and nobody's go around
# the tunnel, to a SERVER that does not forward them); as a LAN gateway
# (-l 0.0.0.0:PORT -l [::]:PORT, see lan_test.sh) it carries a LAN host's
# UDP, IPv4 and IPv6, from allowed sources only, and with the default
# loopback listener none of LAN's.

# shellcheck disable=SC2317  # the helpers below are called through check
# shellcheck disable=SC2016  # check's eval expands the single-quoted code
# shellcheck disable=SC2153  # lab_lan_up sets LAB_NS_L
set -uo pipefail
LAB_TRANSPORT=${1:-${LAB_TRANSPORT:-builtin}}
# shellcheck source=SCRIPTDIR/../lab/lab.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lab/lab.sh"
lab_require_bin
lab_need sudo sudo
lab_up
lab_udp_up || lab_die "the UDP services did not start"
lab_busybox_up || lab_die "the busybox remotes did not start"
lab_lan_up || lab_die "LAN setup failed"

E=$LAB_UDP_ECHO
# The user must be able to run both binaries whatever the permissions of
# the build tree: copies in the lab directory (as sudo_test.sh does).
bin=$LAB_DIR/cshuttle
tool=$LAB_DIR/udp_tool.bin
install -m 0755 "$CSHUTTLE_BIN" "$bin" || lab_die "cannot copy $CSHUTTLE_BIN"
install -m 0755 "$LAB_UDP_TOOL" "$tool" || lab_die "cannot copy $LAB_UDP_TOOL"

# seen_from OUT DST: the source IP the echo saw (empty when none answered).
seen_from() { local s; s=$(lab_udp_seen "$1" "$2" "$E"); echo "${s% *}"; }

stop() {
	stop_cshuttle TERM
	check_eq "$1: cshuttle exits 0 on SIGTERM" 0 "$CSHUTTLE_RC"
	check "$1: no table left" assert_no_tables
	check "$1: no ip rule or route of the capture left" lab_wait_for 3 lab_udp_fw_clean
}

# ---------------------------------------------------------------------------
lab_say "remotes with nothing but busybox"
for alias in labhost-bb labhost-bb64; do
	if ! start_cshuttle -r $alias 198.19.0.0/24 fd5e:0:0:2::/64; then
		lab_bad "$alias: cshuttle did not start"
		continue
	fi
	out=$(lab_udp_ask 198.19.0.2 "$E" --to 198.19.0.2 "$E")
	check_eq "$alias: UDP echo through the tunnel (seen from 198.19.0.1)" 198.19.0.1 \
	    "$(seen_from "$out" 198.19.0.2)"
	lab_udp_show <<<"$out"
	out=$(lab_udp_ask fd5e:0:0:2::2 "$E")
	check_eq "$alias: IPv6 UDP echo" fd5e:0:0:2::1 "$(seen_from "$out" fd5e:0:0:2::2)"
	out=$(in_client "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 50 --wait 15)
	check "$alias: 50 flows, one source port each ($out)" \
	    eval '[[ $out == "answered 50 of 50, distinct source ports 50, ports changed 0,"* ]]'
	out=$(lab_udp_ask 198.19.0.2 "$LAB_UDP_CLOSED" --to 198.19.0.2 "$E" --wait 1)
	check_eq "$alias: after a datagram to a closed port the flow carries on" seen \
	    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
	stop "$alias"
done

# ---------------------------------------------------------------------------
lab_say "an ordinary user, through sudo"
lab_user_add || lab_die "cannot create the test user"
u=$LAB_USER
h=$LAB_USER_HOME
# shellcheck disable=SC2016  # expanded by the user's shell
"${LAB_ASUSER[@]}" sh -c 'umask 077 && mkdir "$HOME/.ssh" &&
    ssh-keygen -q -t ed25519 -N "" -C "$USER" -f "$HOME/.ssh/id_ed25519"' ||
    lab_die "cannot make the user's key"
cat "$h/.ssh/id_ed25519.pub" >>"$LAB_DIR/authorized_keys"
echo "198.18.0.2 $(cut -d' ' -f1,2 "$LAB_DIR/host_key.pub")" >"$h/.ssh/known_hosts"
cat >"$h/.ssh/config" <<'EOF'
Host labhost
	HostName 198.18.0.2
Host *
	User root
	StrictHostKeyChecking yes
	BatchMode yes
	ConnectTimeout 10
	LogLevel ERROR
EOF
chown -R "$u:$u" "$h/.ssh"
chmod 600 "$h/.ssh/config" "$h/.ssh/known_hosts"
lab_user_sudoers "$("$bin" --sudoers "$u")" || lab_die "cannot install the sudoers rule"
lab_private_up || lab_die "cannot make the private mount namespace"
cs=("${LAB_PRIVATE[@]}" "${LAB_ASUSER[@]}" "$bin")
[[ $LAB_TRANSPORT == ext ]] && cs+=(-e ssh)
if start_cshuttle_cmd "${cs[@]}" -r labhost 198.19.0.0/24 fd5e:0:0:2::/64; then
	out=$(in_client "${LAB_ASUSER[@]}" "$tool" ask 198.19.0.2 "$E")
	check_eq "the user's UDP goes through the tunnel (seen from 198.19.0.1)" 198.19.0.1 \
	    "$(seen_from "$out" 198.19.0.2)"
	out=$(in_client "${LAB_ASUSER[@]}" "$tool" ask fd5e:0:0:2::2 "$E")
	check_eq "the user's IPv6 UDP too" fd5e:0:0:2::1 "$(seen_from "$out" fd5e:0:0:2::2)"
	out=$(lab_udp_ask 198.19.0.2 "$E" --wait 1)
	check_eq "root's UDP is not carried (no answer)" timeout \
	    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
	out=$(in_client setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$tool" ask 198.19.0.2 "$E" --wait 1)
	check_eq "nobody's UDP is not carried either" timeout \
	    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
	out=$(in_client "${LAB_ASUSER[@]}" "$tool" flows 198.19.0.2 "$E" 100 --wait 10)
	check "the user's 100 flows at once ($out)" eval '[[ $out == "answered 100 of 100,"* ]]'
	check "cshuttle runs as $u" eval '[[ $(lab_uids "$CSHUTTLE_PID") == "$(id -u "$u") "* ]]'
	stop "sudo"
else
	lab_bad "the user's cshuttle did not start"
fi

# ---------------------------------------------------------------------------
lab_say "a LAN gateway"
port=12345
lan_ask() { in_lan "$LAB_UDP_TOOL" ask "$@"; }

if start_cshuttle -r labhost 198.19.0.0/24 fd5e:0:0:2::/64; then
	out=$(lan_ask 198.19.0.2 "$E" --wait 1)
	check_eq "loopback listener: LAN's UDP is not carried" timeout \
	    "$(lab_udp_result "$out" 198.19.0.2 "$E")"
	out=$(lab_udp_ask 198.19.0.2 "$E")
	check_eq "loopback listener: CLIENT's is" 198.19.0.1 "$(seen_from "$out" 198.19.0.2)"
	stop "loopback listener"
fi

if start_cshuttle -l 0.0.0.0:$port -l "[::]:$port" -r labhost 198.19.0.0/24 fd5e:0:0:2::/64; then
	out=$(lan_ask 198.19.0.2 "$E")
	check_eq "LAN's UDP through the tunnel (seen from 198.19.0.1)" 198.19.0.1 \
	    "$(seen_from "$out" 198.19.0.2)"
	out=$(lan_ask fd5e:0:0:2::2 "$E")
	check_eq "LAN's IPv6 UDP through the tunnel" fd5e:0:0:2::1 \
	    "$(seen_from "$out" fd5e:0:0:2::2)"
	out=$(lan_ask 198.19.0.2 "$E" --to 198.19.1.1 "$E")
	a=$(lab_udp_seen "$out" 198.19.0.2 "$E")
	b=$(lab_udp_seen "$out" 198.19.1.1 "$E")
	check "LAN, one socket, two destinations: 198.19.1.1 is not forwarded, 198.19.0.2 is ($a; $b)" \
	    eval '[[ $a == "198.19.0.1 "* && -z $b ]]'
	out=$(in_lan "$LAB_UDP_TOOL" flows 198.19.0.2 "$E" 100 --wait 10)
	check "LAN's 100 flows at once ($out)" eval '[[ $out == "answered 100 of 100,"* ]]'
	out=$(lab_udp_ask 198.19.0.2 "$E")
	check_eq "CLIENT's own UDP through the tunnel" 198.19.0.1 "$(seen_from "$out" 198.19.0.2)"
	stop "LAN gateway"
fi

ip -n "$LAB_NS_L" addr add 198.18.5.3/24 dev "${LAB_ID}l0" ||
    lab_die "cannot add 198.18.5.3 to LAN"
if start_cshuttle -l 0.0.0.0:$port --allow-from 198.18.5.2/32 -r labhost 198.19.0.0/24; then
	out=$(lan_ask 198.19.0.2 "$E" --bind 198.18.5.2)
	check_eq "--allow-from 198.18.5.2/32: its UDP is carried" 198.19.0.1 \
	    "$(seen_from "$out" 198.19.0.2)"
	out=$(lan_ask 198.19.0.2 "$E" --bind 198.18.5.3 --wait 1)
	check_eq "198.18.5.3's is not" timeout "$(lab_udp_result "$out" 198.19.0.2 "$E")"
	stop "--allow-from"
fi

lab_finish
