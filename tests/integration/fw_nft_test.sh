#!/bin/bash
#
# fw_nft_test.sh - the firewall module against the real kernel.
#
# usage: fw_nft_test.sh [path/to/fw_drive]	(or FW_DRIVE=path)
#
# Needs root, ip, nft (only to inspect), python3 and setpriv.  Everything
# happens in two network namespaces made for this run and removed at the
# end: "csfw<pid>" plays this host (the driver, the helper, the redirect
# listener), "csfwp<pid>" plays the network behind the tunnel (the real
# servers).  Exit 0: passed, 1: failed, 77: skipped.
#
set -u

DRIVE=${1:-${FW_DRIVE:-}}
NS=csfw$$
PEER=csfwp$$
PORT=12300
TMP=
FAILS=0
BGPIDS=()

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root"
for c in ip nft python3 setpriv; do
	command -v "$c" >/dev/null 2>&1 || skip "needs $c"
done
[ -n "$DRIVE" ] && [ -x "$DRIVE" ] || skip "fw_drive not given or not executable"
DRIVE=$(readlink -f "$DRIVE")

cleanup() {
	local p
	exec 2>/dev/null
	for p in "${BGPIDS[@]}" $DPID; do
		kill -9 "$p"
	done
	# Anything still running in our own namespaces was started here.
	for ns in "$NS" "$PEER"; do
		for p in $(ip netns pids "$ns"); do
			kill -9 "$p"
		done
		ip netns del "$ns"
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

TMP=$(mktemp -d /tmp/csfw.XXXXXX) || exit 1
chmod 755 "$TMP"	# the driver also runs as nobody, through a fake sudo
# ... so run a copy that nobody can reach, whatever the permissions of the
# build tree (a private checkout may be mode 0700).
install -m 0755 "$DRIVE" "$TMP/fw_drive" || exit 1
DRIVE=$TMP/fw_drive
LOG=$TMP/drive.log
: >"$LOG"

# --- the two namespaces ---------------------------------------------------
ip netns add "$NS" || exit 1
ip netns add "$PEER" || exit 1
set -e
ip -n "$NS" link set lo up
ip -n "$PEER" link set lo up
ip -n "$NS" link add veth0 type veth peer name veth1 netns "$PEER"
ip -n "$NS" addr add 10.20.5.1/24 dev veth0
ip -n "$NS" addr add fd00:20::1/64 dev veth0 nodad
ip -n "$NS" link set veth0 up
ip -n "$PEER" addr add 10.20.5.7/24 dev veth1
ip -n "$PEER" addr add fd00:20::7/64 dev veth1 nodad
ip -n "$PEER" addr add 10.30.0.7/32 dev lo
ip -n "$PEER" addr add fd00:30::7/128 dev lo
ip -n "$PEER" link set veth1 up
ip -n "$NS" route add 10.0.0.0/8 via 10.20.5.7
ip -n "$NS" route add fd00::/8 via fd00:20::7
# A local address inside an included subnet: must never be captured.
ip -n "$NS" addr add 10.99.0.1/32 dev lo
set +e

# --- servers and a client ----------------------------------------------------
cat >"$TMP/srv.py" <<'EOF'
# srv.py READYFILE TAG ADDR PORT [ADDR PORT]...: answer each connection with
# one line, "TAG addr:port" (the local address), or for TAG=REDIR the
# original destination from SO_ORIGINAL_DST.
import socket, struct, sys, threading

def orig(c, fam):
    if fam == socket.AF_INET:
        raw = c.getsockopt(socket.SOL_IP, 80, 16)
        return "%s:%d" % (socket.inet_ntop(fam, raw[4:8]),
                          struct.unpack("!H", raw[2:4])[0])
    raw = c.getsockopt(socket.IPPROTO_IPV6, 80, 28)
    return "[%s]:%d" % (socket.inet_ntop(fam, raw[8:24]),
                        struct.unpack("!H", raw[2:4])[0])

def serve(s, fam, tag):
    while True:
        c, _ = s.accept()
        try:
            if tag == "REDIR":
                msg = "REDIR " + orig(c, fam)
            else:
                a = c.getsockname()
                fmt = "[%s]:%d" if fam == socket.AF_INET6 else "%s:%d"
                msg = tag + " " + fmt % (a[0], a[1])
        except OSError as e:
            msg = "ERROR %s" % e
        try:
            c.sendall((msg + "\n").encode())
        except OSError:
            pass
        c.close()

ready, tag, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
threads = []
for addr, port in zip(rest[0::2], rest[1::2]):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, int(port)))
    s.listen(16)
    t = threading.Thread(target=serve, args=(s, fam, tag), daemon=True)
    t.start()
    threads.append(t)
open(ready, "w").close()
for t in threads:
    t.join()
EOF

cat >"$TMP/cli.py" <<'EOF'
# cli.py HOST PORT: print the server's line, or FAIL and the reason.
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    c.settimeout(3)
    print(c.makefile().readline().strip() or "FAIL empty answer")
except OSError as e:
    print("FAIL %s" % e)
EOF

start_server() {	# NS READYNAME TAG ADDR PORT...
	local ns=$1 ready=$TMP/$2.ready
	shift 2
	ip netns exec "$ns" python3 "$TMP/srv.py" "$ready" "$@" 2>>"$TMP/srv.log" &
	BGPIDS+=($!)
	for _ in $(seq 50); do
		[ -e "$ready" ] && return 0
		sleep 0.1
	done
	echo "server $* did not start"; cat "$TMP/srv.log"
	exit 1
}

start_server "$PEER" real REAL \
	0.0.0.0 22 0.0.0.0 80 0.0.0.0 81 0.0.0.0 8080 :: 80 :: 81
start_server "$NS" redir REDIR 127.0.0.1 "$PORT" ::1 "$PORT"
start_server "$NS" local LOCAL 10.99.0.1 80

# probe HOST PORT WANT: connect from the client namespace.
probe() {
	local got
	got=$(ip netns exec "$NS" python3 "$TMP/cli.py" "$1" "$2")
	if [ "$got" = "$3" ]; then
		pass "$1 port $2 -> $got"
	else
		fail "$1 port $2: got '$got', want '$3'"
	fi
}

# --- the driver, as a coprocess ----------------------------------------------
# bash unsets DRV_PID as soon as it reaps the coprocess: keep a copy.
DPID=

drv_start() {	# [command prefix...]: start fw_drive -v in $NS
	# fd 7 stands for the client's other descriptors (listeners, SSH):
	# the forked helper must not inherit it.
	coproc DRV { exec ip netns exec "$NS" "$@" "$DRIVE" -v 2>>"$LOG" 7</dev/null; }
	DPID=$DRV_PID
}

# say LINE...: send one command, the answer lands in $ANSWER.
say() {
	ANSWER="<no answer>"
	printf '%s\n' "$*" >&"${DRV[1]}" || return
	IFS= read -r -t 20 ANSWER <&"${DRV[0]}" || ANSWER="<no answer>"
}

# expect WANT LINE...: the command's answer must be WANT (a glob).
expect() {
	local want=$1
	shift
	say "$@"
	# shellcheck disable=SC2053
	if [[ $ANSWER == $want ]]; then
		pass "'$*' -> $ANSWER"
	else
		fail "'$*': got '$ANSWER', want '$want'"
	fi
}

drv_end() {	# close its input, wait for it
	eval "exec ${DRV[1]}>&-"
	wait "$DPID" 2>/dev/null
	DPID=
}

ruleset() { ip netns exec "$NS" nft list ruleset 2>&1; }
has_table() { ruleset | grep -q "table inet cshuttle_$PORT "; }

# wait_gone: up to 3 s for the table to disappear.
wait_gone() {
	for _ in $(seq 30); do
		has_table || return 0
		sleep 0.1
	done
	return 1
}

# in_order PATTERN...: each pattern matches a later line of the output chain.
in_order() {
	local text prev=0 n pat
	text=$(ip netns exec "$NS" nft list chain inet "cshuttle_$PORT" output)
	for pat in "$@"; do
		n=$(printf '%s\n' "$text" | grep -n -F -- "$pat" | head -1 | cut -d: -f1)
		if [ -z "$n" ] || [ "$n" -le "$prev" ]; then
			fail "rule order: '$pat' missing or out of order"
			printf '%s\n' "$text"
			return
		fi
		prev=$n
	done
	pass "rule order: $*"
}

# --- 1: install, inspect, redirect ---------------------------------------------
echo "== install"
drv_start
expect started start
has_table && fail "table exists before the first apply"
expect ok port "$PORT"
expect ok fam 46
expect ok inc 10.0.0.0/8
expect ok exc 10.20.5.0/24
expect ok inc 10.20.5.0/24 8000 8999
expect ok exempt 10.30.0.7 22
expect ok inc fd00::/8
expect ok exc fd00:20::/64
expect applied apply

rs=$(ruleset)
for pat in "table inet cshuttle_$PORT" "flags owner" "chain output" \
    "type nat hook output priority -100; policy accept;" \
    "fib daddr type local return" \
    "ip daddr 10.30.0.7 tcp dport 22 return" \
    "ip daddr 10.20.5.0/24 tcp dport 8000-8999 redirect to :$PORT" \
    "ip daddr 10.20.5.0/24 return" \
    "ip daddr 10.0.0.0/8 redirect to :$PORT" \
    "ip6 daddr fd00:20::/64 return" \
    "ip6 daddr fd00::/8 redirect to :$PORT"; do
	if printf '%s\n' "$rs" | grep -q -F -- "$pat"; then
		pass "ruleset has '$pat'"
	else
		fail "ruleset lacks '$pat'"
	fi
done
printf '%s\n' "$rs" | grep -q "chain prerouting" &&
    fail "prerouting chain without prerouting"
in_order "nfproto ipv4 fib daddr type local return" "10.30.0.7 tcp dport 22" \
    "10.20.5.0/24 tcp dport 8000-8999" "10.20.5.0/24 return" \
    "10.0.0.0/8 redirect" "nfproto ipv6 fib daddr type local return" \
    "fd00:20::/64 return" "fd00::/8 redirect"
grep -q "cshuttle-fw: add table inet cshuttle_$PORT" "$LOG" &&
    grep -q "cshuttle-fw: output: redirect 10.0.0.0/8 -> :$PORT" "$LOG" &&
    pass "helper logged its changes" || fail "helper log: $(cat "$LOG")"

probe 10.30.0.7 80 "REDIR 10.30.0.7:80"
probe 10.20.5.7 80 "REAL 10.20.5.7:80"
probe 10.20.5.7 8080 "REDIR 10.20.5.7:8080"
probe 10.30.0.7 22 "REAL 10.30.0.7:22"
probe 10.99.0.1 80 "LOCAL 10.99.0.1:80"
probe fd00:30::7 80 "REDIR [fd00:30::7]:80"
probe fd00:20::7 80 "REAL [fd00:20::7]:80"

# A second helper can neither take nor touch the owned table.
out=$(printf 'PORT %s\nFAMILIES 4\nAPPLY\n' "$PORT" |
    ip netns exec "$NS" "$DRIVE" --firewall 2>/dev/null | tail -1)
case $out in
"ERR kernel refused \"add table inet cshuttle_$PORT (owner)\""*)
	pass "second owner refused: $out" ;;
*)	fail "second owner: '$out'" ;;
esac
has_table || fail "table gone after a refused second owner"

# --- 2: replace atomically ---------------------------------------------------
echo "== replace"
expect ok clear
expect ok port "$PORT"
expect ok fam 46
expect ok prerouting 1
expect ok inc 0.0.0.0/0
expect ok inc ::/0
expect ok exempt 10.20.5.7 80
expect applied apply
rs=$(ruleset)
printf '%s\n' "$rs" | grep -q "10.0.0.0/8" && fail "old rules survived"
printf '%s\n' "$rs" | grep -q "chain prerouting" &&
    printf '%s\n' "$rs" | grep -q "type nat hook prerouting priority" &&
    pass "prerouting chain" || fail "no prerouting chain"
[ "$(printf '%s\n' "$rs" | grep -c "redirect to :$PORT")" = 4 ] &&
    pass "2 redirects in each chain" || fail "redirect count: $rs"
probe 10.20.5.7 80 "REAL 10.20.5.7:80"
probe 10.20.5.7 81 "REDIR 10.20.5.7:81"
probe fd00:20::7 80 "REDIR [fd00:20::7]:80"
probe 10.99.0.1 80 "LOCAL 10.99.0.1:80"

expect ok clear
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
rs=$(ruleset)
printf '%s\n' "$rs" | grep -q "chain prerouting" &&
    fail "prerouting chain kept" || pass "prerouting chain removed"
printf '%s\n' "$rs" | grep -q "ip6" && fail "IPv6 rules kept"
probe fd00:20::7 81 "REAL [fd00:20::7]:81"
probe 10.20.5.7 81 "REDIR 10.20.5.7:81"

# --- 3: SIGKILL of the helper ---------------------------------------------------
echo "== helper killed"
expect alive alive
helper=$(pgrep -P "$DPID")
if [ -z "$helper" ]; then
	fail "no helper process under $DPID"
else
	[ -e /proc/"$DPID"/fd/7 ] || fail "the driver has no fd 7 to leak"
	# 0-2 inherited, 3 its socketpair end, 4 the netlink socket.
	fds=$(ls /proc/"$helper"/fd | sort -n | tr '\n' ' ')
	[ "$fds" = "0 1 2 3 4 " ] && pass "helper descriptors: $fds" ||
	    fail "helper descriptors: $fds"
	flags=$(awk '/^flags:/ { print $2 }' /proc/"$helper"/fdinfo/4)
	[ -n "$flags" ] && (( 8#$flags & 8#2000000 )) &&
	    pass "netlink socket is close-on-exec" ||
	    fail "netlink socket flags: '$flags'"
	kill -9 "$helper"
	wait_gone && pass "SIGKILL of the helper removed the table" ||
	    fail "table still there after SIGKILL"
	sleep 0.2
	expect dead alive
	expect "error: firewall helper exited*" apply
fi
expect stopped stop
drv_end

# --- 4: clean stop, EOF, death of the client ----------------------------------------
echo "== stop"
: >"$LOG"
drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
has_table && pass "table installed" || fail "table missing"
expect stopped stop
has_table && fail "table left after fw_stop" || pass "fw_stop removed the table"
grep -q "cshuttle-fw: delete table inet cshuttle_$PORT" "$LOG" &&
    pass "helper deleted the table itself" || fail "no delete logged"
drv_end

drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
helper=$(pgrep -P "$DPID")
drv_end		# EOF: the driver calls fw_stop() on its way out
has_table && fail "table left after EOF" || pass "EOF removed the table"
[ -n "$helper" ] && kill -0 "$helper" 2>/dev/null && fail "helper outlived fw_stop"

drv_start
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect applied apply
helper=$(pgrep -P "$DPID")
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
DPID=
wait_gone && pass "client SIGKILL removed the table" ||
    fail "table left after the client died"
for _ in $(seq 30); do
	[ -n "$helper" ] && kill -0 "$helper" 2>/dev/null || break
	sleep 0.1
done
[ -n "$helper" ] && kill -0 "$helper" 2>/dev/null &&
    fail "helper outlived its client" || pass "helper ended with its client"

# --- 5: the helper's input validation ---------------------------------------------
echo "== validation"
# Each bad series is sent with the input kept open: the helper must
# answer ERR and exit by itself, leaving no table behind.
bad_series() {	# WANT-GLOB LINES
	local want=$1 lines=$2 fifo=$TMP/in out=$TMP/out pid fd rc
	rm -f "$fifo"
	mkfifo "$fifo"
	ip netns exec "$NS" "$DRIVE" --firewall <"$fifo" >"$out" 2>/dev/null &
	pid=$!
	exec {fd}>"$fifo"
	printf '%b' "$lines" >&"$fd"
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "helper still running after: $lines"
		kill -9 "$pid"
	fi
	wait "$pid"
	rc=$?
	exec {fd}>&-
	got=$(tail -1 "$out")
	# shellcheck disable=SC2053
	if [[ $got == $want ]] && [ "$rc" = 1 ] && ! has_table; then
		pass "refused: $got"
	else
		fail "series '$lines': rc $rc, got '$got', want '$want'"
	fi
}
bad_series "ERR SUBNET: host bits set in 10.0.0.1/8" \
    "PORT $PORT\nFAMILIES 4\nSUBNET inc 4 10.0.0.1 8 0 65535\nAPPLY\n"
bad_series "ERR PORT: bad port" "PORT 0\n"
bad_series "ERR SUBNET: bad IPv4 address" \
    "PORT $PORT\nSUBNET inc 4 fd00:: 8 0 65535\n"
bad_series "ERR unknown request*" "FLUSH\n"
bad_series "ERR request line too long" "$(printf 'X%.0s' $(seq 200))\n"
bad_series "ERR APPLY without FAMILIES" "PORT $PORT\nAPPLY\n"
bad_series "ERR EXEMPT: more than 8" \
    "$(for _ in $(seq 9); do printf 'EXEMPT 4 192.0.2.1 22\\n'; done)"
bad_series "ERR the port cannot change from $PORT" \
    "PORT $PORT\nFAMILIES 4\nAPPLY\nPORT 1\nFAMILIES 4\nAPPLY\n"

# A good series on the helper's own stdin, then EOF.
out=$(printf 'PORT %s\nFAMILIES 4\nSUBNET inc 4 10.0.0.0 8 0 65535\nAPPLY\n' \
    "$PORT" | ip netns exec "$NS" "$DRIVE" --firewall -v 2>"$TMP/h.log")
rc=$?
[ "$out" = "$(printf 'READY 1\nOK')" ] && [ $rc = 0 ] && ! has_table &&
    grep -q "cshuttle-fw: delete table" "$TMP/h.log" &&
    pass "stdin helper: READY, OK, table deleted at EOF" ||
    fail "stdin helper: rc $rc, '$out'"

# The largest request: every subnet slot used, both chains, one batch of
# about 2,000 messages and as many acks.
fifo=$TMP/big
rm -f "$fifo"
mkfifo "$fifo"
ip netns exec "$NS" "$DRIVE" --firewall <"$fifo" >"$TMP/big.out" 2>"$TMP/big.log" &
bigpid=$!
exec {bigfd}>"$fifo"	# opened after the fork: the helper holds no writer
{
	printf 'PORT %s\nFAMILIES 46\nPREROUTING 1\n' "$PORT"
	for i in $(seq 0 511); do
		printf 'SUBNET inc 4 10.%d.%d.0 24 0 65535\n' $((i / 256)) $((i % 256))
		printf 'SUBNET exc 6 fd00:%x:: 32 1000 2000\n' "$i"
	done
	printf 'APPLY\n'
} >&"$bigfd"
for _ in $(seq 100); do
	[ "$(wc -l <"$TMP/big.out")" -ge 2 ] && break
	sleep 0.1
done
n=$(ip netns exec "$NS" nft list table inet "cshuttle_$PORT" 2>/dev/null |
    grep -c -e "redirect to :$PORT" -e "tcp dport 1000-2000 return")
[ "$(tail -1 "$TMP/big.out")" = OK ] && [ "$n" = 2048 ] &&
    pass "1024 subnets in both chains in one batch" ||
    fail "large batch: '$(tail -1 "$TMP/big.out")', $n rules, $(cat "$TMP/big.log")"
exec {bigfd}>&-
wait "$bigpid"
wait_gone || fail "table left after the large batch"

# A table we do not own, left by someone else, is never adopted.
ip netns exec "$NS" nft add table inet "cshuttle_$PORT"
out=$(printf 'PORT %s\nFAMILIES 4\nAPPLY\n' "$PORT" |
    ip netns exec "$NS" "$DRIVE" --firewall 2>/dev/null | tail -1)
case $out in
*"File exists (is another cshuttle using port $PORT?)") pass "foreign table: $out" ;;
*)	fail "foreign table: '$out'" ;;
esac
ip netns exec "$NS" nft delete table inet "cshuttle_$PORT"

# --- 6: the sudo path, as an unprivileged user ----------------------------------------
echo "== sudo path"
mkdir -p "$TMP/bin"
cat >"$TMP/bin/sudo" <<'EOF'
#!/bin/sh
# Stand-in for sudo: check the arguments, then run the command unprivileged.
echo "fake-sudo: $*" >&2
[ "$1" = -p ] && [ "$2" = "[cshuttle] password for %u: " ] && [ "$3" = -- ] ||
	{ echo "fake-sudo: unexpected arguments" >&2; exit 1; }
shift 3
exec "$@"
EOF
chmod 755 "$TMP/bin" "$TMP/bin/sudo"
: >"$LOG"
drv_start setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env PATH="$TMP/bin:$PATH"
expect started start
expect ok port "$PORT"
expect ok fam 4
expect ok inc 10.0.0.0/8
expect "error: kernel refused the batch: Operation not permitted (the firewall needs root or CAP_NET_ADMIN)" apply
grep -q -F -x -- "fake-sudo: -p [cshuttle] password for %u:  -- $DRIVE --firewall -v" "$LOG" &&
    pass "sudo command line" || fail "sudo command line: $(grep fake-sudo "$LOG")"
has_table && fail "unprivileged helper created a table"
expect stopped stop
drv_end

# sudo refusing (wrong password, no sudoers entry): a clear error.
mkdir -p "$TMP/nosudo"
printf '#!/bin/sh\necho "fake-sudo: refusing" >&2\nexit 1\n' >"$TMP/nosudo/sudo"
chmod 755 "$TMP/nosudo" "$TMP/nosudo/sudo"
drv_start setpriv --reuid=nobody --regid=nogroup --clear-groups \
    env PATH="$TMP/nosudo:$PATH"
expect "error: firewall helper did not start (sudo refused*" start
drv_end

echo
if [ "$FAILS" -ne 0 ]; then
	echo "fw_nft_test: $FAILS failure(s)"
	echo "--- driver log"; cat "$LOG"
	exit 1
fi
echo "fw_nft_test: all passed"
exit 0
