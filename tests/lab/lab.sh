# SPDX-License-Identifier: ISC
# shellcheck shell=bash
#
# lab.sh - a throw-away network lab for cshuttle's integration tests.
#
# Source it, then call lab_up.  Three network namespaces are created, with
# names unique to the run:
#
#   CLIENT  198.18.0.1/24  fd5e:0:0:1::1/64   runs cshuttle and test clients;
#           default routes via SERVER.
#   SERVER  198.18.0.2/24  fd5e:0:0:1::2/64   runs sshd (ports 22, 2200, and
#           198.19.0.1/24  fd5e:0:0:2::1/64   2222/2223 chrooted); forwarding
#                                             is OFF, so CLIENT cannot reach
#                                             PRIV without the tunnel.
#   PRIV    198.19.0.2/24  fd5e:0:0:2::2/64   the private network: nginx,
#           198.19.1.1-3/32, 198.19.2.1/32,   echo/digest/hello/blackhole/slow
#           fd5e:0:0:3::1/128 (on lo)         services; default routes via
#                                             SERVER.
#
# Services in PRIV (every address, IPv4 and IPv6):
#   80         nginx: /small.txt, /index.html, /big.bin (100 MiB, after
#              lab_make_bigfile; its sha256 is in $LAB_BIG_SHA)
#   7001       echo          7002  digest (reads to EOF, answers
#   7003       blackhole           "<sha256hex> <bytes>")
#   7004       slow reader   8000-8010  hello ("priv <port> <peer>")
# SERVER runs a hello service on 198.18.0.2:7000 ("server 7000 <peer>") and
# on its 127.0.0.1:7000 ("server-lo ..."); CLIENT runs one on 127.0.0.1:7000
# ("client-lo 7000").  The name "labweb" resolves to 198.19.2.1 in CLIENT.
# The lab's other parts, each in a file of its own that this one sources,
# so that sourcing lab.sh gives them all:
#   lab_cshuttle.sh start_cshuttle, stop_cshuttle, run_cshuttle and the
#                   checks for what cshuttle leaves behind (assert_no_tables)
#   lab_lan.sh      lab_lan_up (a LAN behind CLIENT)
#   lab_user.sh     lab_user_add (a local user) and its sudoers rule
#   lab_busybox.sh  lab_busybox_up (remotes with nothing but busybox,
#                   x86_64 and aarch64 under qemu-user, on SERVER's ports
#                   2224 and 2225)
#   lab_dns.sh      lab_dns_up (DNS servers: the remote's resolver in PRIV,
#                   SERVER's resolv.conf naming it, a local one on CLIENT's
#                   127.0.0.53 that CLIENT's resolv.conf names)
#   lab_probe.sh    lab_sink (a TCP and UDP listener that logs what reaches
#                   it) with the probes lab_udp_probe and lab_tcp_probe
#   lab_udp.sh      lab_udp_up (UDP echo, sink and a receiver that never
#                   reads, udp_tool), lab_udp_ask/lab_udp_blast, the leak
#                   counters in SERVER and the capture's ip rules and routes
#   lab_outage.sh   outages and observers for the always-on tests:
#                   lab_sessions, lab_kill_sessions, lab_sshd_stop,
#                   lab_ssh_block, lab_ssh_unblock, lab_nft_watch_start/_stop,
#                   lab_stream_start/_rounds/_stop, lab_syslog_up
#   need.sh         lab_need and lab_need_root: a missing tool, or not
#                   being root, fails the test (tests/lab/README.md,
#                   "Missing tools")
# Each names the tools it needs with lab_need when it starts something.
#
# Everything lives under $LAB_DIR (below /run/cshuttle-lab, which must be a
# root-owned path: sshd's ChrootDirectory refuses world-writable parents
# such as /tmp) and is removed by lab_down, which lab_up arms with `trap`
# before creating anything.  A lab whose owner process died (a crashed or
# killed run) is removed by the next lab_up.
#
# Environment: CSHUTTLE_BIN (the binary under test), LAB_TRANSPORT
# (builtin: cshuttle's own SSH; ext: -e "ssh -F <labcfg>"), LAB_KEEP=1
# leaves the lab up for inspection (debugging only).

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_BASE=${CSHUTTLE_LAB_BASE:-/run/cshuttle-lab}
LAB_PY=${LAB_PYTHON:-/usr/bin/python3}
LAB_TRANSPORT=${LAB_TRANSPORT:-builtin}
LAB_CONNECT_TIMEOUT=${LAB_CONNECT_TIMEOUT:-30}
# Tables that must not outlive cshuttle, as an extended regex on
# `nft list tables` output.
LAB_TABLE_RE=${LAB_TABLE_RE:-cshuttle}

LAB_NPASS=0
LAB_NFAIL=0
LAB_ID=
LAB_DIR=
LAB_OWNER=
LAB_PIDS=()
LAB_CS_N=0
CSHUTTLE_PID=
CSHUTTLE_LOG=
CSHUTTLE_RC=

# The lab must never talk to anything outside itself.
unset http_proxy https_proxy ftp_proxy all_proxy no_proxy \
    HTTP_PROXY HTTPS_PROXY FTP_PROXY ALL_PROXY NO_PROXY SSH_AUTH_SOCK

# shellcheck source=need.sh
. "$LAB_SRC/need.sh"
# shellcheck source=lab_cshuttle.sh
. "$LAB_SRC/lab_cshuttle.sh"
# shellcheck source=lab_lan.sh
. "$LAB_SRC/lab_lan.sh"
# shellcheck source=lab_user.sh
. "$LAB_SRC/lab_user.sh"
# shellcheck source=lab_busybox.sh
. "$LAB_SRC/lab_busybox.sh"
# shellcheck source=lab_dns.sh
. "$LAB_SRC/lab_dns.sh"
# shellcheck source=lab_probe.sh
. "$LAB_SRC/lab_probe.sh"
# shellcheck source=lab_outage.sh
. "$LAB_SRC/lab_outage.sh"
# shellcheck source=lab_udp.sh
. "$LAB_SRC/lab_udp.sh"

# ---------------------------------------------------------------------------
# Reporting

lab_say()  { printf '%s\n' "--- $*"; }
lab_ok()   { printf '%s\n' "ok   - $*"; LAB_NPASS=$((LAB_NPASS + 1)); }
lab_bad()  { printf '%s\n' "FAIL - $*"; LAB_NFAIL=$((LAB_NFAIL + 1)); }

# check DESCRIPTION CMD...: CMD must succeed.
check() {
	local desc=$1
	shift
	if "$@"; then lab_ok "$desc"; else lab_bad "$desc"; fi
}

# check_not DESCRIPTION CMD...: CMD must fail.
check_not() {
	local desc=$1
	shift
	if "$@"; then lab_bad "$desc"; else lab_ok "$desc"; fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [[ "$2" == "$3" ]]; then
		lab_ok "$1"
	else
		lab_bad "$1 (expected '$2', got '$3')"
	fi
}

lab_die() {
	lab_bad "$*"
	exit 1
}

# Prints the summary and exits: 0 only if every check passed and at least
# one ran.
lab_finish() {
	printf 'checks: %d ok, %d failed\n' "$LAB_NPASS" "$LAB_NFAIL"
	if ((LAB_NFAIL == 0 && LAB_NPASS > 0)); then
		exit 0
	fi
	exit 1
}

# The binary under test must exist: a missing binary is a failure, never
# a skip.
lab_require_bin() {
	if [[ -z "${CSHUTTLE_BIN:-}" ]]; then
		lab_die "CSHUTTLE_BIN is not set"
	fi
	if [[ ! -x "$CSHUTTLE_BIN" ]]; then
		lab_die "cshuttle binary $CSHUTTLE_BIN missing or not executable"
	fi
	case $LAB_TRANSPORT in
	builtin|ext) ;;
	*) lab_die "LAB_TRANSPORT must be builtin or ext, not '$LAB_TRANSPORT'" ;;
	esac
	lab_say "binary: $CSHUTTLE_BIN, transport: $LAB_TRANSPORT"
}

# ---------------------------------------------------------------------------
# Small utilities

# Poll CMD every 50 ms until it succeeds or SECONDS elapse.
lab_wait_for() {
	local secs=$1 i n
	shift
	n=$((secs * 20))
	for ((i = 0; i < n; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.05
	done
	"$@"
}

lab_starttime() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# Field 22; the command name (field 2) may contain spaces.
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "${20}"
}

lab_alive() {
	[[ -n "$1" ]] && kill -0 "$1" 2>/dev/null &&
	    [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# Run CMD in a namespace.  For a background job whose pid matters, call
# `ip netns exec "$LAB_NS_C" CMD &` directly: `in_client CMD &` forks a
# subshell, so $! would not be CMD's pid.
in_client() { ip netns exec "$LAB_NS_C" "$@"; }
in_server() { ip netns exec "$LAB_NS_S" "$@"; }
in_priv()   { ip netns exec "$LAB_NS_P" "$@"; }

# Is something listening on TCP PORT in namespace NS?
lab_listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

# Kill every process inside namespace $1 (TERM, then KILL).
lab_kill_ns() {
	local ns=$1 pids i
	ip netns pids "$ns" >/dev/null 2>&1 || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[[ -z "$pids" ]] && return 0
	# shellcheck disable=SC2086
	kill -TERM $pids 2>/dev/null
	for ((i = 0; i < 40; i++)); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[[ -z "$pids" ]] && return 0
		sleep 0.05
	done
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	for ((i = 0; i < 40; i++)); do
		[[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && return 0
		sleep 0.05
	done
}

# Remove the namespaces, /etc/netns entries and directory of lab $1.
lab_destroy() {
	local id=$1 ns
	for ns in "$id-c" "$id-s" "$id-p" "$id-l"; do
		lab_kill_ns "$ns"
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	lab_user_destroy "$id"
	if [[ -d $LAB_BASE/$id/bb ]]; then
		lab_binfmt_remove "$id"
	fi
	rm -rf "${LAB_BASE:?}/$id"
	rmdir /etc/netns 2>/dev/null
}

# Remove labs whose owner process is gone.
lab_reap_stale() {
	local d id pid st
	[[ -d "$LAB_BASE" ]] || return 0
	for d in "$LAB_BASE"/cs*; do
		[[ -d "$d" ]] || continue
		id=${d##*/}
		if [[ -r "$d/owner" ]]; then
			read -r pid st <"$d/owner"
			if [[ -n "$pid" ]] && lab_alive "$pid" &&
			    [[ "$(lab_starttime "$pid")" == "$st" ]]; then
				continue
			fi
		elif [[ -n "$(find "$d" -maxdepth 0 -mmin -1)" ]]; then
			# Being created right now by another run.
			continue
		fi
		echo "lab: removing stale lab $id" >&2
		lab_destroy "$id"
	done
}

# ---------------------------------------------------------------------------
# Bring-up

lab_up() {
	local i

	lab_need_root "network namespaces, sshd, nftables"
	# What the core lab runs; the extras name theirs.  The chroots hold
	# dash and busybox (lab_chroot_base).
	lab_need ip iproute2 ss iproute2 /usr/sbin/sshd openssh-server \
	    ssh-keygen openssh-client nginx nginx-light "$LAB_PY" python3 \
	    curl curl nft nftables /bin/dash dash /bin/busybox busybox-static \
	    unshare util-linux nsenter util-linux setsid util-linux \
	    timeout coreutils
	if [[ $LAB_TRANSPORT == ext ]]; then
		lab_need ssh openssh-client
	fi

	# Armed before anything exists, so every path out cleans up.
	trap lab_down EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM

	mkdir -p /run/sshd "$LAB_BASE" || lab_die "cannot create $LAB_BASE"
	chmod 755 "$LAB_BASE"
	lab_reap_stale

	for ((i = 0; i < 10; i++)); do
		LAB_ID=cs$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
		if mkdir -m 700 "$LAB_BASE/$LAB_ID" 2>/dev/null; then
			LAB_DIR=$LAB_BASE/$LAB_ID
			break
		fi
	done
	[[ -n "$LAB_DIR" ]] || lab_die "cannot create a lab directory"
	LAB_OWNER=$BASHPID
	echo "$LAB_OWNER $(lab_starttime "$LAB_OWNER")" >"$LAB_DIR/owner"

	LAB_NS_C=$LAB_ID-c
	LAB_NS_S=$LAB_ID-s
	LAB_NS_P=$LAB_ID-p
	LAB_SSHCFG=$LAB_DIR/ssh_config
	# The control sockets of this lab's tunnels (`cshuttle status`):
	# the default, /run/cshuttle, is shared by every lab running as root,
	# and two labs' tunnels would then claim the same names.
	export CSHUTTLE_RUNTIME_DIR=$LAB_DIR/control
	# CLIENT's resolv.conf names 127.0.0.53, as on a systemd-resolved
	# host: the upstream servers are this file's (absent unless a test
	# writes it), never those of the host running the lab (/run is
	# shared by every network namespace).
	export CSHUTTLE_RESOLVED_CONF=$LAB_DIR/resolved.conf
	lab_say "lab $LAB_ID in $LAB_DIR"

	lab_net || lab_die "network setup failed"
	lab_keys || lab_die "key setup failed"
	lab_chroots || lab_die "chroot setup failed"
	lab_sshd || lab_die "sshd did not start"
	lab_web || lab_die "nginx did not start"
	lab_services || lab_die "test services did not start"
	lab_say "lab $LAB_ID is up"
}

lab_net() {
	local C=$LAB_NS_C S=$LAB_NS_S P=$LAB_NS_P ns

	for ns in "$C" "$S" "$P"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
		# Keep name resolution inside the lab.  (Retried: another lab
		# may be removing an empty /etc/netns at this very moment.)
		mkdir -p "/etc/netns/$ns" || mkdir -p "/etc/netns/$ns" || return 1
		echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
		printf '%s\n' "127.0.0.1 localhost" "::1 localhost" \
		    "198.18.0.2 labserver" "198.19.0.2 labpriv" \
		    "198.19.2.1 labweb" >"/etc/netns/$ns/hosts"
	done

	ip link add "${LAB_ID}c0" netns "$C" type veth \
	    peer name "${LAB_ID}s0" netns "$S" || return 1
	ip link add "${LAB_ID}s1" netns "$S" type veth \
	    peer name "${LAB_ID}p0" netns "$P" || return 1

	ip -n "$C" addr add 198.18.0.1/24 dev "${LAB_ID}c0"
	ip -n "$C" addr add fd5e:0:0:1::1/64 dev "${LAB_ID}c0" nodad
	ip -n "$S" addr add 198.18.0.2/24 dev "${LAB_ID}s0"
	ip -n "$S" addr add fd5e:0:0:1::2/64 dev "${LAB_ID}s0" nodad
	ip -n "$S" addr add 198.19.0.1/24 dev "${LAB_ID}s1"
	ip -n "$S" addr add fd5e:0:0:2::1/64 dev "${LAB_ID}s1" nodad
	ip -n "$P" addr add 198.19.0.2/24 dev "${LAB_ID}p0"
	ip -n "$P" addr add fd5e:0:0:2::2/64 dev "${LAB_ID}p0" nodad
	ip -n "$P" addr add 198.19.1.1/32 dev lo
	ip -n "$P" addr add 198.19.1.2/32 dev lo
	ip -n "$P" addr add 198.19.1.3/32 dev lo
	ip -n "$P" addr add 198.19.2.1/32 dev lo
	ip -n "$P" addr add fd5e:0:0:3::1/128 dev lo

	ip -n "$C" link set "${LAB_ID}c0" up || return 1
	ip -n "$S" link set "${LAB_ID}s0" up || return 1
	ip -n "$S" link set "${LAB_ID}s1" up || return 1
	ip -n "$P" link set "${LAB_ID}p0" up || return 1

	ip -n "$C" route add default via 198.18.0.2 || return 1
	ip -n "$C" -6 route add default via fd5e:0:0:1::2 || return 1
	ip -n "$P" route add default via 198.19.0.1 || return 1
	ip -n "$P" -6 route add default via fd5e:0:0:2::1 || return 1
	ip -n "$S" route add 198.19.1.0/24 via 198.19.0.2 || return 1
	ip -n "$S" route add 198.19.2.0/24 via 198.19.0.2 || return 1
	ip -n "$S" -6 route add fd5e:0:0:3::/64 via fd5e:0:0:2::2 || return 1

	# SERVER is not a router: the private network is reachable from
	# CLIENT only through the tunnel.
	ip netns exec "$S" sysctl -qw net.ipv4.ip_forward=0 \
	    net.ipv6.conf.all.forwarding=0 || return 1
}

lab_keys() {
	local d=$LAB_DIR hk port

	ssh-keygen -q -t ed25519 -N '' -C lab-host -f "$d/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -C lab-other-host -f "$d/other_host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -C lab-user -f "$d/user_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -C lab-wrong-user -f "$d/wrong_key" || return 1
	cp "$d/user_key.pub" "$d/authorized_keys"
	# shellcheck disable=SC2034  # for the tests
	LAB_HOSTKEY_FP=$(ssh-keygen -l -f "$d/host_key.pub" | awk '{print $2}')

	hk=$(cut -d' ' -f1,2 "$d/host_key.pub")
	{
		echo "198.18.0.2 $hk"
		echo "fd5e:0:0:1::2 $hk"
		for port in 2200 2222 2223 2224 2225; do
			echo "[198.18.0.2]:$port $hk"
			echo "[fd5e:0:0:1::2]:$port $hk"
		done
	} >"$d/known_hosts"
	hk=$(cut -d' ' -f1,2 "$d/other_host_key.pub")
	echo "198.18.0.2 $hk" >"$d/known_hosts_wrong"
	: >"$d/known_hosts_empty"

	# One alias per situation the tests need; everything else is shared.
	cat >"$LAB_SSHCFG" <<EOF
Host labhost
	HostName 198.18.0.2
Host labalt
	HostName fd5e:0:0:1::2
	Port 2200
Host labhost-wrongkey
	HostName 198.18.0.2
	IdentityFile $d/wrong_key
Host labhost-badhostkey
	HostName 198.18.0.2
	UserKnownHostsFile $d/known_hosts_wrong
Host labhost-newhostkey
	HostName 198.18.0.2
	UserKnownHostsFile $d/known_hosts_empty
Host labjump
	HostName fd5e:0:0:1::2
	Port 2200
	ProxyJump labhost
Host labhost-nosh
	HostName 198.18.0.2
	Port 2222
Host labhost-sparc
	HostName 198.18.0.2
	Port 2223
Host labhost-bb
	HostName 198.18.0.2
	Port 2224
Host labhost-bb64
	HostName 198.18.0.2
	Port 2225
Host * !labhost-wrongkey
	IdentityFile $d/user_key
Host *
	User root
	IdentitiesOnly yes
	IdentityAgent none
	UserKnownHostsFile $d/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	UpdateHostKeys no
	BatchMode yes
	ConnectTimeout 10
	LogLevel ERROR
EOF
}

# Two chroots for sshd: one without /bin/sh, one whose uname claims an
# architecture no stub exists for.  sshd runs commands with the account's
# login shell (root: /bin/bash) inside the chroot, so /bin/bash there is a
# copy of dash (dash ignores argv[0]); the tools come from busybox-static.
lab_chroot_base() {
	local root=$1 lib a
	mkdir -p "$root"/{bin,lib64,root,tmp,dev,etc} || return 1
	chmod 1777 "$root/tmp"
	cp /bin/dash "$root/bin/bash" || return 1
	for lib in $(ldd /bin/dash | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib" || return 1
	done
	cp /bin/busybox "$root/bin/busybox" || return 1
	for a in cat head tail dd mkdir rmdir rm chmod mktemp base64 od printf \
	    echo test tr sed ls sleep id env gzip gunzip sha256sum wc cut \
	    stat mv cp ln true false kill uname xargs expr tee; do
		ln -s busybox "$root/bin/$a"
	done
	: >"$root/dev/null"
	echo "root:x:0:0:root:/root:/bin/bash" >"$root/etc/passwd"
}

lab_chroots() {
	local r
	r=$LAB_DIR/chroot-nosh
	lab_chroot_base "$r" || return 1
	[[ ! -e "$r/bin/sh" ]] || return 1

	r=$LAB_DIR/chroot-sparc
	lab_chroot_base "$r" || return 1
	cp /bin/dash "$r/bin/sh" || return 1
	rm -f "$r/bin/uname"
	cp "$LAB_SRC/fake-uname.sh" "$r/bin/uname" || return 1
	chmod 755 "$r/bin/uname"
}

lab_sshd() {
	local d=$LAB_DIR
	mkdir -p "$d/srv/tmp" "$d/srv/vartmp" "$d/srv/shm"
	chmod 1777 "$d/srv/tmp" "$d/srv/vartmp" "$d/srv/shm"
	cat >"$d/sshd_config" <<EOF
ListenAddress 198.18.0.2
ListenAddress fd5e:0:0:1::2
Port 22
Port 2200
Port 2222
Port 2223
HostKey $d/host_key
PidFile none
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
AllowTcpForwarding yes
MaxStartups 100:30:200
SetEnv TMPDIR=/tmp
LogLevel VERBOSE
Match LocalPort 2222
	ChrootDirectory $d/chroot-nosh
Match LocalPort 2223
	ChrootDirectory $d/chroot-sparc
EOF
	/usr/sbin/sshd -t -f "$d/sshd_config" || return 1
	lab_sshd_start "$d/sshd_config"
}

# lab_sshd_start [CONFIG]: start the lab's sshd (again, after
# lab_sshd_stop), with $LAB_DIR/sshd_config or CONFIG (e.g. a copy with
# another HostKey), and wait until it listens.
lab_sshd_start() {
	local d=$LAB_DIR cfg=${1:-$LAB_DIR/sshd_config}

	# shellcheck disable=SC2016  # expanded by the inner shell
	# sshd gets its own mount namespace in which /tmp, /var/tmp and
	# /dev/shm are lab directories, so whatever the remote side leaves
	# behind can be seen (and is removed with the lab).
	ip netns exec "$LAB_NS_S" unshare -m --propagation private -- \
	    /bin/sh -c '
		mount --bind "$1/srv/tmp" /tmp &&
		mount --bind "$1/srv/vartmp" /var/tmp &&
		mount --bind "$1/srv/shm" /dev/shm &&
		mount --bind /dev/null "$1/chroot-nosh/dev/null" &&
		mount --bind /dev/null "$1/chroot-sparc/dev/null" &&
		exec /usr/sbin/sshd -D -f "$2" -E "$1/sshd.log"' \
	    sh "$d" "$cfg" </dev/null &
	LAB_SSHD_PID=$!
	LAB_PIDS+=("$LAB_SSHD_PID")
	lab_wait_for 10 lab_listening "$LAB_NS_S" 22 &&
	    lab_wait_for 5 lab_listening "$LAB_NS_S" 2223
}

lab_web() {
	local w=$LAB_DIR/www n=$LAB_DIR/nginx
	mkdir -p "$w" "$n/tmp"
	echo "hello from the private network" >"$w/small.txt"
	cat >"$w/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>cshuttle lab</title></head>
<body><h1>Private web server</h1>
<p>This page lives on 198.19.0.2, a network only the SSH server can reach.</p>
</body></html>
EOF
	cat >"$n/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $n/nginx.pid;
error_log $n/error.log;
events { worker_connections 2048; }
http {
	access_log off;
	client_body_temp_path $n/tmp/body;
	proxy_temp_path $n/tmp/proxy;
	fastcgi_temp_path $n/tmp/fastcgi;
	uwsgi_temp_path $n/tmp/uwsgi;
	scgi_temp_path $n/tmp/scgi;
	default_type application/octet-stream;
	sendfile on;
	keepalive_timeout 5;
	server {
		listen 80 default_server;
		listen [::]:80 default_server ipv6only=on;
		root $w;
	}
}
EOF
	ip netns exec "$LAB_NS_P" nginx -p "$n/" -c "$n/nginx.conf" \
	    -e "$n/error.log" -g 'daemon off;' </dev/null &
	LAB_PIDS+=($!)
	lab_wait_for 10 lab_listening "$LAB_NS_P" 80
}

# The 100 MiB file, made on demand (it costs a second).
lab_make_bigfile() {
	head -c $((100 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/www/big.bin" ||
	    return 1
	# shellcheck disable=SC2034  # for the tests
	LAB_BIG_SHA=$(sha256sum "$LAB_DIR/www/big.bin" | cut -d' ' -f1)
	# shellcheck disable=SC2034  # for the tests
	LAB_BIG=$LAB_DIR/www/big.bin
}

# Start labsrv.py in namespace NS with ARGS and wait for it to be ready.
lab_labsrv() {
	local ns=$1 tag=$2 ready
	shift 2
	ready=$LAB_DIR/$tag.ready
	ip netns exec "$ns" "$LAB_PY" "$LAB_SRC/labsrv.py" --ready "$ready" "$@" \
	    </dev/null >>"$LAB_DIR/$tag.log" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 10 test -e "$ready"
}

lab_services() {
	lab_labsrv "$LAB_NS_P" priv --name priv \
	    --echo '*:7001' --digest '*:7002' --blackhole '*:7003' \
	    --slow '*:7004' --hello '*:8000-8010' || return 1
	lab_labsrv "$LAB_NS_S" server --name server --hello 198.18.0.2:7000 || return 1
	lab_labsrv "$LAB_NS_S" serverlo --name server-lo --hello 127.0.0.1:7000 || return 1
	lab_labsrv "$LAB_NS_C" clientlo --name client-lo --hello 127.0.0.1:7000 || return 1
}

# lab_down [STATUS]: tear everything down (the EXIT trap calls it without
# argument, with the exit status in $?); daemon logs are shown when the
# status is not 0.
lab_down() {
	local rc=${1:-$?}
	# Only the shell that built the lab tears it down, never a subshell
	# that happened to inherit the trap.
	[[ -n "$LAB_ID" && "$BASHPID" == "$LAB_OWNER" ]] || return "$rc"
	trap - EXIT HUP INT TERM
	if [[ -n "${LAB_KEEP:-}" ]]; then
		echo "lab: LAB_KEEP set, leaving $LAB_ID up ($LAB_DIR)" >&2
		return "$rc"
	fi
	if lab_alive "$CSHUTTLE_PID"; then
		kill -TERM "$CSHUTTLE_PID" 2>/dev/null
	fi
	if ((rc != 0)); then
		lab_dump_logs
	fi
	lab_destroy "$LAB_ID"
	wait "${LAB_PIDS[@]}" 2>/dev/null
	LAB_ID=
	rmdir "$LAB_BASE" 2>/dev/null
	return "$rc"
}

# On failure, show what the daemons said.
lab_dump_logs() {
	local f
	for f in "$LAB_DIR"/cshuttle.*.log "$LAB_DIR/sshd.log" \
	    "$LAB_DIR/bb/sshd.log"; do
		[[ -s "$f" ]] || continue
		echo "==== ${f##*/} (last 30 lines)"
		tail -n 30 "$f"
	done
}

# ---------------------------------------------------------------------------
# Clients

# HTTP GET from CLIENT; prints the body.  lab_curl URL [curl options]
lab_curl() {
	local url=$1
	shift
	in_client curl -sS -f --connect-timeout 5 -m 30 "$@" "$url"
}

# Does an HTTP GET from CLIENT fail (as it must without the tunnel)?
lab_curl_fails() {
	! in_client curl -s -f -o /dev/null --connect-timeout 2 -m 4 "$1"
}

# Read the hello line of a service from CLIENT: lab_hello HOST PORT
lab_hello() {
	in_client "$LAB_PY" "$LAB_SRC/labcli.py" --timeout 10 hello "$1" "$2"
}

# Does connecting to a hello service from CLIENT fail (as it must when the
# address is not tunnelled)?
lab_hello_fails() {
	! in_client "$LAB_PY" "$LAB_SRC/labcli.py" --timeout 2 hello "$1" "$2" \
	    >/dev/null 2>&1
}

lab_cli() {
	in_client "$LAB_PY" "$LAB_SRC/labcli.py" "$@"
}

# VmRSS / VmHWM of a process in KiB: lab_rss PID [VmRSS|VmHWM]
lab_rss() {
	awk -v k="${2:-VmRSS}:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null
}
