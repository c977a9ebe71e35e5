#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""
fw_req.py - hand-written requests to the firewall helper, with the
descriptors they need, as a client would send them (or as one should not).

  fw_req.py [--peer-as UID:GID] -- COMMAND...

runs COMMAND (the helper: `cshuttle --firewall`, `sudo -n cshuttle
--firewall`, `fw_drive --firewall`) with one end of a socketpair as its
stdin and stdout, and plays the script read from stdin on the other end:

  LINE [< SPEC]...   send LINE and a newline, with one descriptor per
                     SPEC attached (SCM_RIGHTS, in the same sendmsg)
  ?                  read one reply line and print it
  ?mark              print "mark 0x..." of the socket of the last MARK
  !sleep SECONDS

SPEC is one of
  tcp ADDR PORT [listen] [dual] [serve]
                                  a TCP socket bound to ADDR:PORT (IPv6
                                  sockets are IPV6_V6ONLY unless dual);
                                  ADDR -4 or -6: unbound; serve: listen,
                                  and answer each connection with
                                  "REDIR <original destination>"
  udp ADDR PORT [dual]            the same for UDP
  unix                            one end of another socketpair
  pipe                            the read end of a pipe
Every socket stays open until the end.  After the script: end of input
for the helper, whatever it still says (a line each), then "rc N", its
exit status.  The script is played as it arrives: a writer that keeps
it open holds the helper, and its rules, for as long as it likes.

--peer-as: the socketpair is made by a process with that uid and gid (the
helper's SO_PEERCRED then names them), not by this one.
"""
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

SO_MARK = 36

keep = []


def orig_dst(c, fam):
    try:
        if fam == socket.AF_INET:
            raw = c.getsockopt(socket.SOL_IP, 80, 16)
            return "%s:%d" % (socket.inet_ntop(fam, raw[4:8]),
                              struct.unpack("!H", raw[2:4])[0])
        raw = c.getsockopt(socket.IPPROTO_IPV6, 80, 28)
        return "[%s]:%d" % (socket.inet_ntop(fam, raw[8:24]),
                            struct.unpack("!H", raw[2:4])[0])
    except OSError:
        return "no-orig"


def serve(s):
    while True:
        c, _ = s.accept()
        try:
            c.sendall(("REDIR %s\n" % orig_dst(c, s.family)).encode())
        except OSError:
            pass
        c.close()


def make_fd(spec):
    w = spec.split()
    kind = w[0]
    if kind == "unix":
        a, b = socket.socketpair()
        keep.extend([a, b])
        return a.fileno(), a
    if kind == "pipe":
        r, wr = os.pipe()
        keep.extend([r, wr])
        return r, None
    addr, port, flags = w[1], int(w[2]), w[3:]
    fam = socket.AF_INET6 if ":" in addr or addr == "-6" else socket.AF_INET
    typ = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam, typ)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                     0 if "dual" in flags else 1)
    if typ == socket.SOCK_STREAM:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if addr not in ("-4", "-6"):
        s.bind((addr, port))
    if "listen" in flags or "serve" in flags:
        s.listen(16)
    if "serve" in flags:
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    keep.append(s)
    return s.fileno(), s


def peer_socketpair(uid, gid):
    # The pair is made by a child that has become uid:gid, and comes back
    # over a pair of ours.
    back, there = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        back.close()
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        a, b = socket.socketpair()
        socket.send_fds(there, [b"x"], [a.fileno(), b.fileno()])
        os._exit(0)
    there.close()
    _, fds, _, _ = socket.recv_fds(back, 1, 2)
    os.waitpid(pid, 0)
    back.close()
    return (socket.socket(fileno=fds[0]), socket.socket(fileno=fds[1]))


class Helper:
    def __init__(self, argv, peer):
        if peer is not None:
            a, b = peer_socketpair(*peer)
        else:
            a, b = socket.socketpair()
        self.proc = subprocess.Popen(argv, stdin=b, stdout=b)
        b.close()
        self.sock = a
        self.buf = b""

    def send(self, line, fds):
        try:
            if fds:
                socket.send_fds(self.sock, [line.encode() + b"\n"], fds)
            else:
                self.sock.sendall(line.encode() + b"\n")
        except OSError as e:
            print("send: %s" % os.strerror(e.errno), flush=True)

    def line(self, timeout=15):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return "TIMEOUT"
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace")

    def finish(self):
        self.sock.shutdown(socket.SHUT_WR)
        while True:
            line = self.line()
            if line is None or line == "TIMEOUT":
                break
            print(line, flush=True)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        print("rc %d" % rc, flush=True)


def main():
    args = sys.argv[1:]
    peer = None
    if args[:1] == ["--peer-as"]:
        uid, gid = args[1].split(":")
        peer = (int(uid), int(gid))
        args = args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: fw_req.py [--peer-as UID:GID] -- COMMAND...")
    h = Helper(args, peer)
    last_mark = None
    while True:
        raw = sys.stdin.readline()
        if raw == "":
            break
        raw = raw.rstrip("\n")
        if raw == "" or raw.startswith("#"):
            continue
        if raw == "?":
            line = h.line()
            print("EOF" if line is None else line, flush=True)
        elif raw == "?mark":
            v = last_mark.getsockopt(socket.SOL_SOCKET, SO_MARK)
            print("mark 0x%08x" % v, flush=True)
        elif raw.startswith("!sleep "):
            time.sleep(float(raw.split()[1]))
        else:
            parts = [p.strip() for p in raw.split("<")]
            fds = []
            for spec in parts[1:]:
                fd, obj = make_fd(spec)
                fds.append(fd)
                if parts[0] == "MARK":
                    last_mark = obj
            h.send(parts[0], fds)
    h.finish()


if __name__ == "__main__":
    main()
