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
# Opt-in extras: lab_lan_up (a LAN behind CLIENT), lab_user_add (a local
# user), lab_busybox_up (remotes with nothing but busybox, x86_64 and
# aarch64 under qemu-user, on SERVER's ports 2224 and 2225), lab_dns_up
# (DNS servers: the remote's resolver in PRIV, SERVER's resolv.conf naming
# it, a local one on CLIENT's 127.0.0.53 that CLIENT's resolv.conf names;
# see "DNS" below), lab_sink (a TCP and UDP listener that logs what
# reaches it) with the probes lab_udp_probe and lab_tcp_probe.
# Outages and observers for the always-on tests (see "Outages" below):
# lab_sessions, lab_kill_sessions, lab_sshd_stop, lab_sshd_start,
# lab_ssh_block, lab_ssh_unblock, lab_nft_watch_start/_stop,
# lab_stream_start/_rounds/_stop, lab_syslog_up (LAB_SYSLOG_WRAP).
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
# cshuttle under test

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

# ---------------------------------------------------------------------------
# Extras some tests add to the lab: a LAN behind CLIENT and a local user.
# Both are named after the lab id, so lab_destroy removes them, also for a
# stale lab.

# lab_lan_up: a fourth namespace, LAN, whose default routes go through
# CLIENT, like a host on the network of a machine that runs cshuttle for
# its neighbours (-l 0.0.0.0:PORT).  CLIENT forwards for it, so without
# the tunnel LAN's traffic to PRIV ends at SERVER like CLIENT's own (it
# does not forward).  SERVER gets routes back to LAN, and its hello
# service also on [fd5e:0:0:1::2]:7000.
#
#   CLIENT  198.18.5.1/24  fd5e:0:0:5::1/64
#   LAN     198.18.5.2/24  fd5e:0:0:5::2/64
lab_lan_up() {
	local C=$LAB_NS_C L=$LAB_ID-l

	LAB_NS_L=$L
	ip netns add "$L" || return 1
	ip -n "$L" link set lo up || return 1
	mkdir -p "/etc/netns/$L" || mkdir -p "/etc/netns/$L" || return 1
	cp "/etc/netns/$C/resolv.conf" "/etc/netns/$C/hosts" "/etc/netns/$L/" ||
	    return 1
	ip link add "${LAB_ID}c1" netns "$C" type veth \
	    peer name "${LAB_ID}l0" netns "$L" || return 1
	ip -n "$C" addr add 198.18.5.1/24 dev "${LAB_ID}c1" || return 1
	ip -n "$C" addr add fd5e:0:0:5::1/64 dev "${LAB_ID}c1" nodad || return 1
	ip -n "$L" addr add 198.18.5.2/24 dev "${LAB_ID}l0" || return 1
	ip -n "$L" addr add fd5e:0:0:5::2/64 dev "${LAB_ID}l0" nodad || return 1
	ip -n "$C" link set "${LAB_ID}c1" up || return 1
	ip -n "$L" link set "${LAB_ID}l0" up || return 1
	ip -n "$L" route add default via 198.18.5.1 || return 1
	ip -n "$L" -6 route add default via fd5e:0:0:5::1 || return 1
	ip netns exec "$C" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 || return 1
	# SERVER answers LAN directly (its hello services): proof that the
	# routing works, and what traffic that is not tunnelled does.
	ip -n "$LAB_NS_S" route add 198.18.5.0/24 via 198.18.0.1 || return 1
	ip -n "$LAB_NS_S" -6 route add fd5e:0:0:5::/64 via fd5e:0:0:1::1 ||
	    return 1
	lab_labsrv "$LAB_NS_S" server6 --name server \
	    --hello '[fd5e:0:0:1::2]:7000' || return 1
	lab_say "LAN namespace $L is up"
}

in_lan() { ip netns exec "$LAB_NS_L" "$@"; }

# HTTP GET from LAN; prints the body.  lab_lan_curl URL [curl options]
lab_lan_curl() {
	local url=$1
	shift
	in_lan curl -sS -f --connect-timeout 5 -m 30 "$@" "$url"
}

# Does an HTTP GET from LAN fail?  lab_lan_curl_fails URL [curl options]
lab_lan_curl_fails() {
	local url=$1
	shift
	! in_lan curl -s -f -o /dev/null --connect-timeout 2 -m 4 "$@" "$url"
}

# Read the hello line of a service from LAN: lab_lan_hello HOST PORT
lab_lan_hello() {
	in_lan "$LAB_PY" "$LAB_SRC/labcli.py" --timeout 10 hello "$1" "$2"
}

# lab_user_add: a throw-away system user, LAB_USER ("csu" and the lab id's
# hex digits), whose home, LAB_USER_HOME, is inside the lab directory (made
# traversable for it).  No subordinate ids, no mail spool, no password.
lab_user_add() {
	local i

	LAB_USER=csu${LAB_ID#cs}
	LAB_USER_HOME=$LAB_DIR/home
	chmod 711 "$LAB_DIR" || return 1
	mkdir -m 700 "$LAB_USER_HOME" || return 1
	# Parallel runs may hold the lock on /etc/passwd for a moment.
	for ((i = 0; i < 50; i++)); do
		useradd --system --user-group --no-create-home \
		    --home-dir "$LAB_USER_HOME" --shell /bin/sh \
		    --comment "cshuttle lab $LAB_ID" "$LAB_USER" 2>/dev/null &&
		    break
		getent passwd "$LAB_USER" >/dev/null && return 1
		sleep 0.1
	done
	getent passwd "$LAB_USER" >/dev/null || return 1
	chown "$LAB_USER:$LAB_USER" "$LAB_USER_HOME" || return 1
	# sudo looks up its host name, and warns when CLIENT's hosts file
	# (the lab's own) does not have it, as Debian's /etc/hosts would.
	echo "127.0.1.1 $(hostname)" >>"/etc/netns/$LAB_NS_C/hosts"
	# The prefix that runs a command as the user, with the environment
	# of a fresh login (HOME, USER, LOGNAME, SHELL, PATH).
	# shellcheck disable=SC2034  # for the tests
	LAB_ASUSER=(setpriv --reuid="$LAB_USER" --regid="$LAB_USER"
	    --init-groups --reset-env)
	lab_say "user $LAB_USER, home $LAB_USER_HOME"
}

# The sudoers drop-in for the lab's user (its name has no dot, or sudo
# would skip it).
lab_sudoers_file() { printf '/etc/sudoers.d/cshuttle-lab-%s\n' "$1"; }

# lab_user_sudoers LINE: install LINE as the lab user's sudoers rules,
# validated with visudo before it goes live (a broken file would break
# sudo for everybody).
lab_user_sudoers() {
	local f tmp
	f=$(lab_sudoers_file "$LAB_ID")
	# A name with a dot: sudo ignores it while it is being checked.
	tmp=$f.new
	printf '%s\n' "$1" >"$tmp" || return 1
	chmod 0440 "$tmp" || { rm -f "$tmp"; return 1; }
	if ! visudo -qcf "$tmp" >&2; then
		rm -f "$tmp"
		return 1
	fi
	mv -f "$tmp" "$f"
}

lab_user_sudoers_remove() {
	rm -f "$(lab_sudoers_file "$LAB_ID")" "$(lab_sudoers_file "$LAB_ID").new"
}

# Remove what lab_user_add and lab_user_sudoers made for lab $1: only a
# user whose home is in that lab (its processes are gone by now: they ran
# in the lab's namespaces).
lab_user_destroy() {
	local id=$1 user f home
	user=csu${id#cs}
	f=$(lab_sudoers_file "$id")
	rm -f "$f" "$f.new"
	home=$(getent passwd "$user" | cut -d: -f6)
	[[ -n "$home" && $home == "${LAB_BASE:?}/$id/"* ]] || return 0
	rm -f "/run/sudo/ts/$user"
	userdel "$user" 2>/dev/null || {
		sleep 0.5
		userdel "$user"
	}
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

# ---------------------------------------------------------------------------
# Bare remotes: busybox-static and nothing else.
#
# lab_busybox_up (after lab_up): two more roots, served by a second sshd
# in SERVER, each holding only a static busybox with links for its applets
# (/bin/sh among them), an /etc/passwd, /root, /tmp and /var/tmp (1777) and
# /dev/null: no libc, no dash, nothing of coreutils.
#
#   port 2224, alias labhost-bb    $LAB_BB_ROOT_x86_64: the host's own
#                                  /bin/busybox (busybox-static)
#   port 2225, alias labhost-bb64  $LAB_BB_ROOT_aarch64: an aarch64 busybox
#                                  ($CSHUTTLE_LAB_BUSYBOX_aarch64, fetched
#                                  at build time by fetch-busybox.sh), run
#                                  by qemu-aarch64-static through binfmt_misc
#                                  (qemu-user-static)
#
# sshd starts commands with the account's login shell as the *host's*
# passwd says (root: /bin/bash, which busybox is not), so this sshd runs in
# a mount namespace of its own in which /etc/passwd gives root /bin/sh, as
# on a busybox system.  The roots' mounts (/dev/null, the tests' noexec
# tmpfs) live in that namespace too: lab_bb_ns runs a command there, and
# lab_bb_listing lists a root as the sessions see it.
#
# The binfmt_misc handler, LAB_BB_BINFMT (cshuttle-<lab id>-aarch64), has
# the F flag: the kernel opens qemu-aarch64-static when it is registered,
# so it runs inside a chroot that has no such file.  And the P flag, with
# the interpreter name that tells qemu so ($LAB_QEMU_AARCH64): busybox's
# sh runs most applets by executing /proc/self/exe (qemu makes that the
# guest binary) with the applet's name as argv[0], which the kernel would
# otherwise replace with the file name (`wc -c` would run `sh -c`).
# binfmt_misc is mounted for it in sshd's namespace only when the host has
# not mounted it: the host's mounts are never touched (unmounting the last
# mount of binfmt_misc drops every handler, other runs' too), and a handler
# registered there dies with that namespace.  lab_destroy writes -1 to it
# all the same, for a host that has binfmt_misc mounted, where it would
# outlive sshd.  The newest handler for a format wins, so one the machine
# may already have (e.g. systemd's qemu-aarch64, without F) does not get
# in the way.

LAB_BB_ROOT_x86_64=
LAB_BB_ROOT_aarch64=
LAB_BB_SSHD_PID=
LAB_BB_BINFMT=
LAB_QEMU_AARCH64=${LAB_QEMU_AARCH64:-/usr/libexec/qemu-binfmt/aarch64-binfmt-P}

# e_machine of ELF file FILE, in decimal (62 x86_64, 183 aarch64); fails
# when FILE is not a 64-bit little-endian ELF file.
lab_elf_machine() {
	local m
	[[ "$(head -c 4 "$1" 2>/dev/null)" == $'\x7fELF' ]] || return 1
	[[ "$(od -An -tu1 -j4 -N2 "$1" | tr -s ' ')" == " 2 1" ]] || return 1
	m=$(od -An -tu1 -j18 -N2 "$1" | tr -s ' ') || return 1
	# shellcheck disable=SC2086
	set -- $m
	printf '%s\n' $(($1 + 256 * $2))
}

# lab_bb_root ROOT BUSYBOX: a root with nothing but BUSYBOX and its applets.
# The applet list is the host busybox's (the same Debian version; the
# caller compares them).  Every component is root-owned and not group or
# world writable, as ChrootDirectory demands.
lab_bb_root() {
	local root=$1 bb=$2 a
	mkdir -m 755 "$root" "$root"/{bin,etc,dev,var} || return 1
	mkdir -m 700 "$root/root" || return 1
	mkdir -m 1777 "$root/tmp" "$root/var/tmp" || return 1
	cp "$bb" "$root/bin/busybox" || return 1
	chmod 755 "$root/bin/busybox" || return 1
	for a in $(/bin/busybox --list); do
		[[ $a == busybox ]] && continue
		ln -s busybox "$root/bin/$a" || return 1
	done
	[[ -L $root/bin/sh ]] || return 1
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	# The mount point of the bind mount of /dev/null (in sshd's namespace).
	: >"$root/dev/null"
}

lab_busybox_up() {
	local d=$LAB_DIR/bb bb64=${CSHUTTLE_LAB_BUSYBOX_aarch64:-} v1 v2 reg
	local magic mask

	if [[ ! -x /bin/busybox || $(lab_elf_machine /bin/busybox) != 62 ]] ||
	    ldd /bin/busybox >/dev/null 2>&1; then
		echo "lab: /bin/busybox is not a static x86_64 busybox (install busybox-static)" >&2
		return 1
	fi
	if [[ -z $bb64 ]]; then
		echo "lab: CSHUTTLE_LAB_BUSYBOX_aarch64 is not set (the build fetches it: tests/lab/fetch-busybox.sh)" >&2
		return 1
	fi
	if [[ ! -f $bb64 || $(lab_elf_machine "$bb64") != 183 ]]; then
		echo "lab: $bb64 is not an aarch64 busybox" >&2
		return 1
	fi
	if [[ ! -x $LAB_QEMU_AARCH64 || $LAB_QEMU_AARCH64 != *-binfmt-P ]]; then
		echo "lab: $LAB_QEMU_AARCH64 missing (install qemu-user-static)" >&2
		return 1
	fi
	v1=$(grep -ao -m1 'BusyBox v[0-9][^ ]* ([^)]*)' /bin/busybox | head -n 1)
	v2=$(grep -ao -m1 'BusyBox v[0-9][^ ]* ([^)]*)' "$bb64" | head -n 1)
	if [[ "${v1%% (*}" != "${v2%% (*}" ]]; then
		# The applet links of both roots come from the host's busybox.
		echo "lab: warning: $bb64 is '$v2', the host's busybox '$v1'" >&2
	fi

	mkdir -m 700 "$d" || return 1
	LAB_BB_ROOT_x86_64=$LAB_DIR/bb-x86_64
	LAB_BB_ROOT_aarch64=$LAB_DIR/bb-aarch64
	lab_bb_root "$LAB_BB_ROOT_x86_64" /bin/busybox || return 1
	lab_bb_root "$LAB_BB_ROOT_aarch64" "$bb64" || return 1

	# The host's accounts (sshd needs its privilege separation user),
	# root's shell being busybox's /bin/sh.
	awk -F: -v OFS=: '$1 == "root" { $7 = "/bin/sh" } { print }' \
	    /etc/passwd >"$d/passwd" || return 1
	chmod 644 "$d/passwd"

	# ELF, 64-bit, little-endian, version 1, executable or shared object
	# (static-pie), machine 183 (aarch64): what Debian's own qemu-aarch64
	# entry matches.  The kernel decodes the \x escapes.
	magic='\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
	mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
	LAB_BB_BINFMT=cshuttle-$LAB_ID-aarch64
	reg=":$LAB_BB_BINFMT:M::$magic:$mask:$LAB_QEMU_AARCH64:PF"

	{
		echo "ListenAddress 198.18.0.2"
		echo "Port 2224"
		echo "Port 2225"
		echo "HostKey $LAB_DIR/host_key"
		echo "PidFile none"
		echo "AuthorizedKeysFile $LAB_DIR/authorized_keys"
		echo "PermitRootLogin prohibit-password"
		echo "StrictModes no"
		echo "PubkeyAuthentication yes"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "UsePAM no"
		echo "UseDNS no"
		echo "PrintMotd no"
		echo "PrintLastLog no"
		echo "MaxStartups 100:30:200"
		echo "LogLevel VERBOSE"
		echo "Match LocalPort 2224"
		printf '\tChrootDirectory %s\n' "$LAB_BB_ROOT_x86_64"
		echo "Match LocalPort 2225"
		printf '\tChrootDirectory %s\n' "$LAB_BB_ROOT_aarch64"
	} >"$d/sshd_config"
	/usr/sbin/sshd -t -f "$d/sshd_config" || return 1

	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$LAB_NS_S" unshare -m --propagation private -- \
	    /bin/sh -c '
		b=/proc/sys/fs/binfmt_misc
		mount --bind "$1/bb/passwd" /etc/passwd &&
		mount --bind /dev/null "$1/bb-x86_64/dev/null" &&
		mount --bind /dev/null "$1/bb-aarch64/dev/null" &&
		{ [ -e $b/register ] || mount -t binfmt_misc cshuttle-lab $b; } &&
		printf "%s\n" "$2" >$b/register &&
		exec /usr/sbin/sshd -D -f "$1/bb/sshd_config" -E "$1/bb/sshd.log"' \
	    sh "$LAB_DIR" "$reg" </dev/null &
	LAB_BB_SSHD_PID=$!
	LAB_PIDS+=("$LAB_BB_SSHD_PID")
	lab_wait_for 10 lab_listening "$LAB_NS_S" 2224 || return 1
	lab_wait_for 5 lab_listening "$LAB_NS_S" 2225 || return 1
	lab_bb_ns test -e "/proc/sys/fs/binfmt_misc/$LAB_BB_BINFMT" || return 1
	lab_say "busybox remotes are up: labhost-bb (x86_64), labhost-bb64 (aarch64, binfmt_misc $LAB_BB_BINFMT)"
}

# Run CMD in the mount namespace of the busybox sshd and its sessions.
lab_bb_ns() { nsenter -t "$LAB_BB_SSHD_PID" -m -- "$@"; }

# Every file of busybox root ROOT as its sessions see it (with the tests'
# mounts), one per line: type (f, d, l, c or ?), mode, size (of regular
# files, else -), path.  stat, not find's -type: find takes the type from
# the directory entry, which for a mount point is that of the file below.
lab_bb_listing() {
	lab_bb_ns find "$1" -exec stat -c '%F|%a|%s|%n' {} + |
	    awk -F'|' '{
		t = "?"
		if ($1 ~ /^regular/) t = "f"
		else if ($1 == "directory") t = "d"
		else if ($1 == "symbolic link") t = "l"
		else if ($1 == "character special file") t = "c"
		print t, $2, (t == "f" ? $3 : "-"), $4
	    }' | sort
}

# Remove the binfmt_misc handler of lab ID, wherever binfmt_misc is
# mounted: a private mount of it shares the live instance, if any is left.
lab_binfmt_remove() {
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare -m --propagation private -- /bin/sh -c '
		b=/proc/sys/fs/binfmt_misc
		[ -e $b/register ] ||
		    mount -t binfmt_misc cshuttle-lab $b 2>/dev/null || exit 0
		if [ -e "$b/$1" ]; then echo -1 >"$b/$1"; fi' \
	    sh "cshuttle-$1-aarch64"
}

# ---------------------------------------------------------------------------
# DNS, and probes for what a firewall lets out.
#
# lab_dns_up (after lab_up; for the --dns tests and the benchmark): three
# dnsmasq servers that never ask anybody else (--no-resolv --no-hosts) and
# answer only from their command lines.  LAB_DNS_QUIET=1 leaves out the
# query logs (the benchmark's millions of queries).
#
#   PRIV   198.19.0.2, fd5e:0:0:2::2   the remote side's resolver: SERVER's
#          port 53, UDP and TCP        resolv.conf names it, so whatever
#                                      sshd starts (the stub) asks it.
#            secret.lab.internal    A     198.19.0.2
#            www.lab.internal       A     198.19.0.2
#                                   AAAA  fd5e:0:0:2::2
#            big.lab.internal       TXT   $LAB_DNS_BIG_N strings of 247
#                                         bytes (lab_dns_big_txt): more than
#                                         any UDP answer may carry, so UDP
#                                         answers are truncated (TC)
#            public.example         A     198.19.0.77
#            notlab.internal        A     198.19.0.78
#            q1..q$LAB_DNS_QN.lab.internal  A  198.19.3.N
#            anything else under lab.internal or example: NXDOMAIN
#   PRIV   198.19.1.1 port 5353        a second resolver (--to-ns ip:port):
#            secret.lab.internal    A     198.19.1.53
#   PRIV   $LAB_DNS_SILENT (198.19.1.2) reads DNS queries and never
#          answers; at $LAB_DNS_REFUSED (198.19.1.3) nothing listens on
#          port 53 (ICMP port unreachable): dead resolvers.
#   CLIENT 127.0.0.53 port 53          the local resolver, where
#                                      systemd-resolved would listen; CLIENT's
#                                      resolv.conf names it.  Other answers
#                                      for the same names:
#            secret.lab.internal    A     203.0.113.66
#            public.example         A     198.18.0.77
#            notlab.internal        A     198.18.0.78
#            sshgw.lab.test         A     198.18.0.2 (the SSH server
#                                         by name, for DNS-capturing
#                                         reconnects)
#            anything else: REFUSED (it has no upstream); no
#            AAAA for these names (NOERROR, no data)
#
# Query logs (dnsmasq's log-queries: "query[A] NAME from ADDR"):
# $LAB_DNS_LOG_P (PRIV), $LAB_DNS_LOG_ALT (PRIV :5353), $LAB_DNS_LOG_C
# (CLIENT); lab_log_mark FILE and lab_log_since FILE MARK read what came
# after a point.
#
# SERVER's resolv.conf lives in /etc/netns/<SERVER>/resolv.conf, which
# `ip netns exec` bind-mounted over /etc/resolv.conf for sshd; it is
# rewritten in place (same inode), so sessions that start afterwards see
# the new text: lab_remote_resolv ADDR... (e.g. $LAB_DNS_SILENT, for the
# dead-resolver tests).  lab_remote_resolv_seen prints it
# as sshd's mount namespace sees it.
#
# lab_sink NS TAG PORT...: a TCP and UDP listener on every address of NS
# (IPv4 and IPv6, link-local included) on each PORT.  TCP: answers
# "TAG PORT PEER" and closes; UDP: answers "TAG DATA" to the sender.  It
# logs "tcp PORT PEER" and "udp PORT PEER DATA" to $LAB_DIR/TAG.log, so a
# test can tell whether anything arrived.
# lab_udp_probe / lab_tcp_probe [-n NS] [-w SECS] HOST PORT [DATA] [SRCPORT]:
# send from CLIENT (or NS), wait at most SECS (2) for an answer, and print
# "MS RESULT": the milliseconds it took and "reply TEXT", "timeout", or
# "error ERRNO" (ECONNREFUSED, EPERM, ...).
# lab_linklocal NS DEV prints DEV's fe80:: address once DAD is done.

LAB_DNS_BIG_N=12
LAB_DNS_QN=50
LAB_DNS_SILENT=198.19.1.2
# shellcheck disable=SC2034  # for the tests
LAB_DNS_REFUSED=198.19.1.3
# shellcheck disable=SC2034  # for the tests (so are the three below)
LAB_DNS_LOG_P=
LAB_DNS_LOG_ALT=
LAB_DNS_LOG_C=

# The strings of big.lab.internal's TXT records, one a line, sorted.
lab_dns_big_txt() {
	local i fill
	fill=$(printf '0123456789abcdef%.0s' {1..15})
	for ((i = 1; i <= LAB_DNS_BIG_N; i++)); do
		printf 'big-%02d-%s\n' "$i" "$fill"
	done
}

# lab_dnsmasq NS TAG ADDR PORT ARGS...: dnsmasq in NS on ADDR:PORT (UDP
# and TCP), in the foreground (so lab_kill_ns finds it), logging to
# $LAB_DIR/dns-TAG.log; waits until it listens.
lab_dnsmasq() {
	local ns=$1 tag=$2 addr=$3 port=$4 log
	shift 4
	log=$LAB_DIR/dns-$tag.log
	local q=(--log-queries)
	[[ -n "${LAB_DNS_QUIET:-}" ]] && q=()
	ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file=/dev/null \
	    --user=root --no-resolv --no-hosts --no-poll --bind-interfaces \
	    --listen-address="$addr" --port="$port" \
	    --pid-file="$LAB_DIR/dns-$tag.pid" --log-facility="$log" "${q[@]}" \
	    "$@" </dev/null >>"$LAB_DIR/dns-$tag.out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 10 eval "ip netns exec $ns ss -Hlun 'sport = :$port' |
	    grep -qF ' ${addr}:$port ' &&
	    ip netns exec $ns ss -Hltn 'sport = :$port' | grep -qF ' ${addr}:$port '"
}

lab_dns_up() {
	local P=$LAB_NS_P i rec=() t

	for ((i = 1; i <= LAB_DNS_QN; i++)); do
		rec+=("--host-record=q$i.lab.internal,198.19.3.$i")
	done
	while read -r t; do
		rec+=("--txt-record=big.lab.internal,$t")
	done < <(lab_dns_big_txt)
	# One instance per address: with --bind-interfaces, dnsmasq binds
	# each listen-address itself.
	# shellcheck disable=SC2034  # for the tests
	LAB_DNS_LOG_P=$LAB_DIR/dns-priv.log
	lab_dnsmasq "$P" priv 198.19.0.2 53 --listen-address=fd5e:0:0:2::2 \
	    --local=/lab.internal/ --local=/example/ \
	    --host-record=secret.lab.internal,198.19.0.2 \
	    --host-record=www.lab.internal,198.19.0.2,fd5e:0:0:2::2 \
	    --host-record=public.example,198.19.0.77 \
	    --host-record=notlab.internal,198.19.0.78 \
	    "${rec[@]}" || return 1
	lab_wait_for 5 eval "in_priv ss -Hlun 'sport = :53' | grep -qF '[fd5e:0:0:2::2]:53'" ||
	    return 1
	# shellcheck disable=SC2034  # for the tests
	LAB_DNS_LOG_ALT=$LAB_DIR/dns-alt.log
	lab_dnsmasq "$P" alt 198.19.1.1 5353 \
	    --host-record=secret.lab.internal,198.19.1.53 || return 1
	ip netns exec "$P" socat -u "UDP4-RECV:53,bind=$LAB_DNS_SILENT" \
	    OPEN:/dev/null </dev/null >>"$LAB_DIR/dns-silent.out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 5 eval "in_priv ss -Hlun 'sport = :53' | grep -qF ' $LAB_DNS_SILENT:53 '" ||
	    return 1
	# shellcheck disable=SC2034  # for the tests
	LAB_DNS_LOG_C=$LAB_DIR/dns-client.log
	lab_dnsmasq "$LAB_NS_C" client 127.0.0.53 53 \
	    --local=/secret.lab.internal/ --local=/public.example/ \
	    --local=/notlab.internal/ --local=/sshgw.lab.test/ \
	    --host-record=sshgw.lab.test,198.18.0.2 \
	    --host-record=secret.lab.internal,203.0.113.66 \
	    --host-record=public.example,198.18.0.77 \
	    --host-record=notlab.internal,198.18.0.78 || return 1

	echo "nameserver 127.0.0.53" >"/etc/netns/$LAB_NS_C/resolv.conf" ||
	    return 1
	lab_remote_resolv 198.19.0.2 || return 1
	[[ "$(lab_remote_resolv_seen)" == "nameserver 198.19.0.2" ]] || {
		echo "lab: sshd does not see SERVER's resolv.conf" >&2
		return 1
	}
	lab_say "DNS is up: PRIV 198.19.0.2 (SERVER's resolver), 198.19.1.1:5353, CLIENT 127.0.0.53 (CLIENT's resolver)"
}

# lab_remote_resolv ADDR...: the nameservers of SERVER's resolv.conf, for
# sessions that start from now on.
lab_remote_resolv() {
	local a
	# Written in place: sshd sees this very file through a bind mount.
	for a in "$@"; do echo "nameserver $a"; done \
	    >"/etc/netns/$LAB_NS_S/resolv.conf"
}

lab_remote_resolv_seen() {
	nsenter -t "$LAB_SSHD_PID" -m cat /etc/resolv.conf
}

# Byte size of FILE (a mark for lab_log_since).
lab_log_mark() { stat -c %s "$1" 2>/dev/null || echo 0; }

# What FILE got after MARK.
lab_log_since() { tail -c +$(($2 + 1)) "$1" 2>/dev/null; }

lab_sink() {
	local ns=$1 tag=$2 ready
	shift 2
	ready=$LAB_DIR/$tag.ready
	[[ -e "$LAB_DIR/labsink.py" ]] || cat >"$LAB_DIR/labsink.py" <<'EOF'
import selectors, socket, sys
tag, log, ready = sys.argv[1:4]
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[4:]):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET6, kind)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        if kind == socket.SOCK_STREAM:
            s.listen(64)
        sel.register(s, selectors.EVENT_READ, port)
out = open(log, "a", buffering=1)
open(ready, "w").close()
def peer(a):
    h = a[0].split("%")[0]
    return h[7:] if h.startswith("::ffff:") else h
while True:
    for key, _ in sel.select():
        s, port = key.fileobj, key.data
        try:
            if s.type == socket.SOCK_STREAM:
                c, a = s.accept()
                out.write("tcp %d %s\n" % (port, peer(a)))
                c.sendall(("%s %d %s\n" % (tag, port, peer(a))).encode())
                c.close()
            else:
                d, a = s.recvfrom(4096)
                d = d.decode(errors="replace").strip()
                out.write("udp %d %s %s\n" % (port, peer(a), d))
                s.sendto(("%s %s\n" % (tag, d)).encode(), a)
        except OSError:
            pass
EOF
	: >"$LAB_DIR/$tag.log"
	ip netns exec "$ns" "$LAB_PY" "$LAB_DIR/labsink.py" "$tag" \
	    "$LAB_DIR/$tag.log" "$ready" "$@" </dev/null \
	    >>"$LAB_DIR/$tag.out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 10 test -e "$ready"
}

# The probe clients: one datagram or one connection, with its outcome.
LAB_PROBE_PY='
import errno, socket, sys, time
kind, host, port, data, sport, wait = sys.argv[1:7]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
typ = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
addr = socket.getaddrinfo(host, int(port), fam, typ)[0][4]
s = socket.socket(fam, typ)
if sport:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(sport)))
s.settimeout(float(wait))
t0 = time.monotonic()
try:
    s.connect(addr)
    if typ == socket.SOCK_DGRAM:
        s.send(data.encode())
    r = "reply " + s.recv(4096).decode(errors="replace").strip()
except socket.timeout:
    r = "timeout"
except OSError as e:
    r = "error " + errno.errorcode.get(e.errno, str(e.errno))
print("%d %s" % ((time.monotonic() - t0) * 1000, r))
'

# lab_udp_probe [-n NS] [-w SECONDS] HOST PORT [DATA] [SRCPORT]
lab_udp_probe() { lab_probe udp "$@"; }
lab_tcp_probe() { lab_probe tcp "$@"; }
lab_probe() {
	local kind=$1 ns=$LAB_NS_C wait=2
	shift
	while [[ $1 == -* ]]; do
		case $1 in
		-n) ns=$2; shift 2 ;;
		-w) wait=$2; shift 2 ;;
		*) return 2 ;;
		esac
	done
	ip netns exec "$ns" "$LAB_PY" -c "$LAB_PROBE_PY" "$kind" "$1" "$2" \
	    "${3:-probe}" "${4:-}" "$wait"
}

# lab_linklocal NS DEV: DEV's link-local address, once usable (DAD over).
lab_linklocal() {
	local a
	lab_wait_for 5 eval "[[ -n \"\$(ip -n $1 -6 addr show dev $2 scope link)\" &&
	    -z \"\$(ip -n $1 -6 addr show dev $2 scope link tentative)\" ]]" ||
	    return 1
	a=$(ip -n "$1" -6 -o addr show dev "$2" scope link | awk '{print $4}')
	echo "${a%/*}"
}

# ---------------------------------------------------------------------------
# Outages, for the always-on tests (reconnect, daemon, reload).
#
# lab_sessions: the pids of the lab sshd's sessions ("sshd: root@notty",
# one per SSH connection that logged in; pre-authentication processes are
# not counted), wherever their listener is (a session outlives a stopped
# listener).  lab_kill_sessions [SIGNAL] kills them (default KILL: a
# crashed server, the TCP connection closes at once).
# lab_sshd_stop stops the listener and its sessions; lab_sshd_start
# (above) starts it again, with the lab's sshd_config or another one.
# lab_ssh_block / lab_ssh_unblock: SERVER silently drops every SSH packet
# (port 22, both ways) with an nft table of its own, labblock_<lab id>: a
# network that stops answering without closing anything.
#
# lab_nft_watch_start REGEX: watch CLIENT's nftables while something
# happens: `nft list ruleset` every 50 ms, each sample "ok" when it
# matches REGEX (e.g. '198\.19\.0\.0/24 redirect to :') and "gap" when
# not, plus `nft monitor` (every change, one "# new generation" line per
# committed batch).  lab_nft_watch_stop ends both and sets LAB_WATCH_SAMPLES,
# LAB_WATCH_GAPS, LAB_WATCH_MAXDT (the longest time between two samples,
# in ms), LAB_WATCH_GENS (batches committed), LAB_WATCH_DROPS (batches
# that deleted a table without creating it again: a window without
# rules) and LAB_WATCH_MON (the monitor's output file).
#
# lab_stream_start HOST PORT: a long-lived connection from CLIENT to an
# echo service that does a round trip (a numbered line, checked) every
# 100 ms, each answer within 10 s; lab_stream_rounds prints how many
# were done so far, lab_stream_stop ends it and prints "ok N" (status 0)
# or "error ..." (status 1) for the first failure.
#
# lab_syslog_up: a syslog receiver (a datagram socket, messages one a line
# in $LAB_SYSLOG_LOG) and LAB_SYSLOG_WRAP, a command prefix that runs a
# command in a mount namespace of its own whose /dev/log is that socket
# (an overlay over /dev: the host's /dev, and its syslog, are untouched).
# Use it inside the network namespace:
#   ip netns exec "$LAB_NS_C" "${LAB_SYSLOG_WRAP[@]}" cshuttle ... -D
#
# lab_pids_comm NS NAME: pids in NS whose command name is NAME.
# lab_sid PID: the session id of PID.

lab_sessions() {
	local p
	for p in $(ip netns pids "$LAB_NS_S" 2>/dev/null); do
		[[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" =~ ^sshd:\ [^\ ]+@notty ]] &&
		    echo "$p"
	done
}

lab_kill_sessions() {
	local p
	for p in $(lab_sessions); do
		kill -"${1:-KILL}" "$p" 2>/dev/null
	done
}

# Drop PID from LAB_PIDS (a daemon the test stopped itself).
lab_pids_forget() {
	local p keep=()
	for p in "${LAB_PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	LAB_PIDS=("${keep[@]}")
}

lab_sshd_stop() {
	local i
	[[ -n "${LAB_SSHD_PID:-}" ]] || return 1
	kill -TERM "$LAB_SSHD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		lab_alive "$LAB_SSHD_PID" || break
		sleep 0.05
	done
	kill -KILL "$LAB_SSHD_PID" 2>/dev/null
	wait "$LAB_SSHD_PID" 2>/dev/null
	lab_pids_forget "$LAB_SSHD_PID"
	LAB_SSHD_PID=
	lab_kill_sessions KILL
	# shellcheck disable=SC2016  # eval expands it
	lab_wait_for 5 eval '! lab_listening "$LAB_NS_S" 22 && [[ -z "$(lab_sessions)" ]]'
}

lab_ssh_block() {
	in_server nft -f - <<EOF
table inet labblock_$LAB_ID {
	chain input {
		type filter hook input priority -50; policy accept;
		tcp dport 22 drop
	}
	chain output {
		type filter hook output priority -50; policy accept;
		tcp sport 22 drop
	}
}
EOF
}

lab_ssh_unblock() {
	in_server nft delete table inet "labblock_$LAB_ID" 2>/dev/null
	! in_server nft list tables 2>/dev/null | grep -q "labblock_$LAB_ID"
}

LAB_WATCH_N=0
LAB_WATCH_PID=
LAB_WATCH_MON_PID=
LAB_WATCH_FILE=
LAB_WATCH_MON=
LAB_WATCH_SAMPLES=0
LAB_WATCH_GAPS=0
LAB_WATCH_MAXDT=0
LAB_WATCH_GENS=0
LAB_WATCH_DROPS=0

lab_nft_watch_start() {
	local re=$1
	LAB_WATCH_N=$((LAB_WATCH_N + 1))
	LAB_WATCH_FILE=$LAB_DIR/nftwatch.$LAB_WATCH_N
	LAB_WATCH_MON=$LAB_WATCH_FILE.mon
	ip netns exec "$LAB_NS_C" nft monitor >"$LAB_WATCH_MON" 2>&1 &
	LAB_WATCH_MON_PID=$!
	# shellcheck disable=SC2016  # expanded by the inner shell
	ip netns exec "$LAB_NS_C" /bin/bash -c '
		while [[ ! -e $1 ]]; do
			if nft list ruleset 2>/dev/null | grep -Eq -- "$2"; then
				echo "$EPOCHREALTIME ok"
			else
				echo "$EPOCHREALTIME gap"
			fi
			sleep 0.05
		done' sh "$LAB_WATCH_FILE.stop" "$re" >"$LAB_WATCH_FILE" 2>&1 &
	LAB_WATCH_PID=$!
	# A few samples before anything happens (and time for the monitor
	# to subscribe).
	# shellcheck disable=SC2016  # eval expands it
	lab_wait_for 5 eval '(($(cat "$LAB_WATCH_FILE" 2>/dev/null | wc -l) >= 3))'
}

lab_nft_watch_stop() {
	local i
	[[ -n "$LAB_WATCH_PID" ]] || return 1
	: >"$LAB_WATCH_FILE.stop"
	for ((i = 0; i < 100; i++)); do
		lab_alive "$LAB_WATCH_PID" || break
		sleep 0.05
	done
	kill "$LAB_WATCH_PID" 2>/dev/null
	wait "$LAB_WATCH_PID" 2>/dev/null
	kill "$LAB_WATCH_MON_PID" 2>/dev/null
	wait "$LAB_WATCH_MON_PID" 2>/dev/null
	LAB_WATCH_PID=
	LAB_WATCH_MON_PID=
	# shellcheck disable=SC2034  # for the tests (so are the two below)
	LAB_WATCH_SAMPLES=$(grep -c . "$LAB_WATCH_FILE")
	# shellcheck disable=SC2034
	LAB_WATCH_GAPS=$(grep -c ' gap$' "$LAB_WATCH_FILE")
	# shellcheck disable=SC2034
	LAB_WATCH_MAXDT=$(awk 'NR > 1 { d = ($1 - p) * 1000; if (d > m) m = d }
	    { p = $1 } END { printf "%d\n", m }' "$LAB_WATCH_FILE")
	# shellcheck disable=SC2034
	LAB_WATCH_GENS=$(grep -c '^# new generation' "$LAB_WATCH_MON")
	# The monitor prints a batch's changes, then its generation line.
	# shellcheck disable=SC2034
	LAB_WATCH_DROPS=$(awk '
	    function batch(t) {
		for (t in del) if (!(t in add)) { n++; break }
		split("", del); split("", add)
	    }
	    $1 == "delete" && $2 == "table" { del[$3 " " $4] = 1 }
	    ($1 == "add" || $1 == "create") && $2 == "table" { add[$3 " " $4] = 1 }
	    /^# new generation/ { batch() }
	    END { batch(); print n + 0 }' "$LAB_WATCH_MON")
}

LAB_STREAM_PY='
import os, socket, sys, time
host, port, stop, ready = sys.argv[1:5]
n = 0
try:
    s = socket.create_connection((host, int(port)), timeout=10)
    while not os.path.exists(stop):
        msg = b"%08d\n" % n
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(len(msg) - len(got))
            if not d:
                raise OSError("closed by the peer after %d rounds" % n)
            got += d
        if got != msg:
            raise OSError("round %d: sent %r, got %r" % (n, msg, got))
        n += 1
        print(n, flush=True)
        if n == 1:
            open(ready, "w").close()
        time.sleep(0.1)
except OSError as e:
    print("error %s (after %d rounds)" % (e, n), flush=True)
    sys.exit(1)
print("ok %d" % n, flush=True)
'
LAB_STREAM_N=0
LAB_STREAM_PID=
LAB_STREAM_LOG=

lab_stream_start() {
	LAB_STREAM_N=$((LAB_STREAM_N + 1))
	LAB_STREAM_LOG=$LAB_DIR/stream.$LAB_STREAM_N
	ip netns exec "$LAB_NS_C" "$LAB_PY" -c "$LAB_STREAM_PY" "$1" "$2" \
	    "$LAB_STREAM_LOG.stop" "$LAB_STREAM_LOG.ready" \
	    </dev/null >"$LAB_STREAM_LOG" 2>&1 &
	LAB_STREAM_PID=$!
	lab_wait_for 10 test -e "$LAB_STREAM_LOG.ready"
}

lab_stream_rounds() { grep -c '^[0-9]' "$LAB_STREAM_LOG" 2>/dev/null; }

lab_stream_stop() {
	local i rc
	[[ -n "$LAB_STREAM_PID" ]] || return 1
	: >"$LAB_STREAM_LOG.stop"
	for ((i = 0; i < 300; i++)); do
		lab_alive "$LAB_STREAM_PID" || break
		sleep 0.05
	done
	kill "$LAB_STREAM_PID" 2>/dev/null
	wait "$LAB_STREAM_PID"
	rc=$?
	LAB_STREAM_PID=
	grep -v '^[0-9]' "$LAB_STREAM_LOG" | tail -n 1
	return "$rc"
}

LAB_SYSLOG_LOG=
LAB_SYSLOG_WRAP=()

lab_syslog_up() {
	local d=$LAB_DIR/syslog
	mkdir -p "$d/up" "$d/work" || return 1
	ln -s "$d/sock" "$d/up/log" || return 1
	LAB_SYSLOG_LOG=$d/messages
	: >"$LAB_SYSLOG_LOG"
	ip netns exec "$LAB_NS_C" "$LAB_PY" -c '
import socket, sys
path, log, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
out = open(log, "a", buffering=1)
open(ready, "w").close()
while True:
    out.write(s.recv(65536).decode(errors="replace").rstrip("\n") + "\n")
' "$d/sock" "$LAB_SYSLOG_LOG" "$d/ready" </dev/null >>"$d/out" 2>&1 &
	LAB_PIDS+=($!)
	lab_wait_for 5 test -e "$d/ready" || return 1
	# shellcheck disable=SC2016,SC2034  # expanded by the inner shell; for the tests
	LAB_SYSLOG_WRAP=(unshare -m --propagation private -- /bin/sh -c '
		mount -t overlay cshuttle-lab \
		    -o "lowerdir=/dev,upperdir=$1/up,workdir=$1/work" /dev &&
		shift && exec "$@"' sh "$d")
}

lab_pids_comm() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == "$2" ]] && echo "$p"
	done
}

lab_sid() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	printf '%s\n' "$4"
}
