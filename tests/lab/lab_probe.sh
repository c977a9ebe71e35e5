# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# shellcheck disable=SC2153  # lab.sh sets LAB_ID, LAB_DIR and LAB_NS_*
#
# lab_probe.sh - probes for what a firewall lets out (sourced by lab.sh).
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
