#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
fw_nft_net.py - the servers and clients of fw_nft_test.sh, which runs
each command inside one of its network namespaces (fw_nft_lab.sh).

  linesrv READY TAG ADDR PORT [ADDR PORT]...
      TCP: answer each connection with one line, "TAG addr:port" (the
      local address).
  line HOST PORT
      print the server's line, or FAIL and the reason.
  udpsrv READY TAG ADDR PORT [ADDR PORT]...
      UDP echo on each ADDR PORT ("TAG port").
  udp HOST PORT / tcp HOST PORT
      one exchange or one connection; "ERR <errno name> <ms>" for a
      failure, with the time it took, or TIMEOUT.
  flood SECONDS HOST:PORT...
      unconnected UDP sends, as fast as they go; prints how many.
  udpfrom HOST PORT [SECONDS]
      one datagram from an unconnected socket, and the first answer
      from anywhere: "FROM addr:port <payload>", or TIMEOUT.

READY is a file created once every socket listens.  (The listeners the
rules redirect to are the driver's own: fw_drive.c.)
"""
import errno
import socket
import sys
import threading
import time

# ---- linesrv, line ----


def line_serve(s, fam, tag):
    while True:
        c, _ = s.accept()
        try:
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


def udp_serve(s, tag):
    while True:
        data, peer = s.recvfrom(4096)
        s.sendto(("%s %d\n" % (tag, s.getsockname()[1])).encode(), peer)


def bind(addr, port, typ):
    fam = fam_of(addr)
    s = socket.socket(fam, typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, int(port)))
    return s


def servers(ready, tag, rest):
    # UDP echo on each ADDR PORT ("TAG port").
    ts = []
    for addr, port in zip(rest[0::2], rest[1::2]):
        u = bind(addr, port, socket.SOCK_DGRAM)
        ts.append(threading.Thread(target=udp_serve, args=(u, tag),
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


def udpfrom(host, port, seconds="3"):
    # Unconnected: an answer from another source than the one asked is
    # seen too, and tells which it was.
    ai = sockaddr(host, int(port), socket.SOCK_DGRAM)
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    s.settimeout(float(seconds))
    t0 = time.monotonic()
    try:
        s.sendto(b"ping", ai[4])
        data, peer = s.recvfrom(4096)
    except socket.timeout:
        return "TIMEOUT"
    except OSError as e:
        return err(e, t0)
    src = ("[%s]:%d" if ai[0] == socket.AF_INET6 else "%s:%d") % peer[:2]
    return "FROM %s %s" % (src, data.decode(errors="replace").strip())


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

def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "linesrv":
        linesrv(*args)
    elif cmd == "line":
        line(*args)
    elif cmd == "udpsrv":
        servers(args[0], args[1], args[2:])
    elif cmd == "udp":
        print(udp(*args))
    elif cmd == "tcp":
        print(tcp(*args))
    elif cmd == "flood":
        flood(*args)
    elif cmd == "udpfrom":
        print(udpfrom(*args))
    else:
        sys.exit("fw_nft_net.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main()
