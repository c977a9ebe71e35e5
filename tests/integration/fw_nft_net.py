#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
fw_nft_net.py - the servers and clients of fw_nft_test.sh, which runs
each command inside one of its network namespaces (fw_nft_lab.sh).

  linesrv READY TAG ADDR PORT [ADDR PORT]...
      TCP: answer each connection with one line, "TAG addr:port" (the
      local address), or for TAG=REDIR the original destination from
      SO_ORIGINAL_DST.
  line HOST PORT
      print the server's line, or FAIL and the reason.
  udpsrv READY TAG ADDR PORT [ADDR PORT]...
      UDP echo on each ADDR PORT ("TAG port").
  dnssrv READY TAG ADDR PORT [ADDR PORT]...
      the same, and a TCP line server ("TAG port original-destination"):
      the DNS listeners.
  udp HOST PORT / tcp HOST PORT
      one exchange or one connection; "ERR <errno name> <ms>" for a
      failure, with the time it took, or TIMEOUT.
  flood SECONDS HOST:PORT...
      unconnected UDP sends, as fast as they go; prints how many.
  sudo DRIVE PORT
      the helper under the real sudo, on a socketpair as cshuttle starts
      it: its answers, the socket it passes back and that socket's mark.

READY is a file created once every socket listens.
"""
import errno
import socket
import struct
import subprocess
import sys
import threading
import time

# ---- linesrv, line ----


def orig_strict(c, fam):
    if fam == socket.AF_INET:
        raw = c.getsockopt(socket.SOL_IP, 80, 16)
        return "%s:%d" % (socket.inet_ntop(fam, raw[4:8]),
                          struct.unpack("!H", raw[2:4])[0])
    raw = c.getsockopt(socket.IPPROTO_IPV6, 80, 28)
    return "[%s]:%d" % (socket.inet_ntop(fam, raw[8:24]),
                        struct.unpack("!H", raw[2:4])[0])


def line_serve(s, fam, tag):
    while True:
        c, _ = s.accept()
        try:
            if tag == "REDIR":
                msg = "REDIR " + orig_strict(c, fam)
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


def linesrv(ready, tag, *rest):
    threads = []
    for addr, port in zip(rest[0::2], rest[1::2]):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, int(port)))
        s.listen(16)
        t = threading.Thread(target=line_serve, args=(s, fam, tag), daemon=True)
        t.start()
        threads.append(t)
    open(ready, "w").close()
    for t in threads:
        t.join()


def line(host, port):
    try:
        c = socket.create_connection((host, int(port)), timeout=3)
        c.settimeout(3)
        print(c.makefile().readline().strip() or "FAIL empty answer")
    except OSError as e:
        print("FAIL %s" % e)

# ---- udpsrv, dnssrv, udp, tcp, flood ----


def fam_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def sockaddr(host, port, typ):
    return socket.getaddrinfo(host, port, 0, typ)[0]


def orig(c, fam):
    try:
        return orig_strict(c, fam)
    except OSError as e:
        return "no-orig(%s)" % errno.errorcode.get(e.errno, e.errno)


def udp_serve(s, tag):
    while True:
        data, peer = s.recvfrom(4096)
        s.sendto(("%s %d\n" % (tag, s.getsockname()[1])).encode(), peer)


def tcp_serve(s, fam, tag):
    while True:
        c, _ = s.accept()
        msg = "%s %d %s\n" % (tag, s.getsockname()[1], orig(c, fam))
        try:
            c.sendall(msg.encode())
        except OSError:
            pass
        c.close()


def bind(addr, port, typ):
    fam = fam_of(addr)
    s = socket.socket(fam, typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, int(port)))
    return s


def servers(ready, tag, rest, tcp):
    # UDP echo on each ADDR PORT ("TAG port"); with tcp, also a TCP line
    # server ("TAG port original-destination").
    ts = []
    for addr, port in zip(rest[0::2], rest[1::2]):
        u = bind(addr, port, socket.SOCK_DGRAM)
        ts.append(threading.Thread(target=udp_serve, args=(u, tag),
                                   daemon=True))
        if tcp:
            t = bind(addr, port, socket.SOCK_STREAM)
            t.listen(16)
            ts.append(threading.Thread(target=tcp_serve,
                                       args=(t, fam_of(addr), tag),
                                       daemon=True))
    for t in ts:
        t.start()
    open(ready, "w").close()
    for t in ts:
        t.join()


def err(e, t0):
    return "ERR %s %d" % (errno.errorcode.get(e.errno, str(e.errno)),
                          (time.monotonic() - t0) * 1000)


def udp(host, port):
    # A connected socket: a reject shows as an error on send (the drop
    # verdict) or on the next recv (the ICMP error).
    ai = sockaddr(host, int(port), socket.SOCK_DGRAM)
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    s.settimeout(2)
    t0 = time.monotonic()
    try:
        s.connect(ai[4])
        s.send(b"ping")
        return s.recv(4096).decode().strip()
    except socket.timeout:
        return "TIMEOUT"
    except OSError as e:
        return err(e, t0)


def tcp(host, port):
    ai = sockaddr(host, int(port), socket.SOCK_STREAM)
    s = socket.socket(ai[0], socket.SOCK_STREAM)
    s.settimeout(3)
    t0 = time.monotonic()
    try:
        s.connect(ai[4])
        return s.makefile().readline().strip() or "EMPTY"
    except socket.timeout:
        return "TIMEOUT"
    except OSError as e:
        return err(e, t0)


def flood(seconds, *targets):
    # Unconnected sends to HOST:PORT targets, as fast as they go.
    socks = []
    for t in targets:
        host, port = t.rsplit(":", 1)
        ai = sockaddr(host.strip("[]"), int(port), socket.SOCK_DGRAM)
        socks.append((socket.socket(ai[0], socket.SOCK_DGRAM), ai[4]))
    n, end = 0, time.monotonic() + float(seconds)
    while time.monotonic() < end:
        for s, a in socks:
            try:
                s.sendto(b"x", a)
            except OSError:
                pass
            n += 1
    print(n)

# ---- sudo ----


def sudo(drive, port):
    a, b = socket.socketpair()
    p = subprocess.Popen(["sudo", "-n", "--", drive, "--firewall"],
                         stdin=b, stdout=b)
    b.close()
    a.settimeout(10)

    def answer():
        buf = b""
        while not buf.endswith(b"\n"):
            c = a.recv(1)
            if not c:
                break
            buf += c
        return buf.decode().strip()
    out = [answer()]
    a.sendall(("PORT %s\nFAMILIES 4\nAPPLY\n" % port).encode())
    out.append(answer())
    a.sendall(b"SOCKET 4 udp\n")
    msg, fds, _, _ = socket.recv_fds(a, 64, 4)
    out.append(msg.decode().strip())
    for fd in fds:
        s = socket.socket(fileno=fd)
        out.append("mark 0x%08x" % s.getsockopt(socket.SOL_SOCKET, socket.SO_MARK))
        s.close()
    a.close()
    out.append("rc %d" % p.wait())
    print(" / ".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "linesrv":
        linesrv(*args)
    elif cmd == "line":
        line(*args)
    elif cmd == "udpsrv":
        servers(args[0], args[1], args[2:], False)
    elif cmd == "dnssrv":
        servers(args[0], args[1], args[2:], True)
    elif cmd == "udp":
        print(udp(*args))
    elif cmd == "tcp":
        print(tcp(*args))
    elif cmd == "flood":
        flood(*args)
    elif cmd == "sudo":
        sudo(*args)
    else:
        sys.exit("fw_nft_net.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main()
