#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Test clients for the cshuttle lab (see labsrv.py for the services).

  hello HOST PORT               print the service's greeting line
  many HOST PORT                N concurrent echo connections, all held open
                                at once, each checked byte for byte
  upload HOST PORT FILE         send FILE to a digest service, compare hashes
  halfclose HOST PORT           send data, shut down the write side, expect
                                the digest answer on the still-open read side
  stall HOST PORT PATH          HTTP GET PATH, read a little, stop reading
                                (optionally resume later and check the body)
  stallup HOST PORT             write until the peer stops taking data
  stallmany HOST PORT PATH PORT_UP
                                many stalled downloads and uploads at once

Exit status 0 on success, 1 on any failure (with a message on stderr).
"""

import argparse
import asyncio
import hashlib
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from labutil import raise_nofile  # noqa: E402


def fail(msg):
    print(f"labcli: {msg}", file=sys.stderr)
    sys.exit(1)


def connect(host, port, timeout):
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        fail(f"connect {host} port {port}: {e}")


def recv_all(sock, limit=1 << 20):
    out = bytearray()
    while len(out) < limit:
        data = sock.recv(65536)
        if not data:
            break
        out += data
    return bytes(out)


def cmd_hello(a):
    s = connect(a.host, a.port, a.timeout)
    try:
        data = recv_all(s, 4096)
    except OSError as e:
        fail(f"read: {e}")
    line = data.decode(errors="replace").strip()
    if not line:
        fail(f"{a.host} port {a.port}: connection closed without greeting")
    print(line)


def cmd_many(a):
    async def one(i, established, all_up, results):
        payload = (i.to_bytes(4, "big") * 8) + os.urandom(a.size - 32)
        counted = False
        try:
            async def establish():
                r, w = await asyncio.open_connection(a.host, a.port)
                # One round trip, so the remote side of this flow exists.
                w.write(payload[:4])
                await w.drain()
                return r, w, await r.readexactly(4)

            r, w, first = await asyncio.wait_for(establish(), a.timeout)
            if first != payload[:4]:
                results[i] = "bad first echo"
                return
            established[0] += 1
            counted = True
            if established[0] + established[1] == a.count:
                all_up.set()
            await asyncio.wait_for(all_up.wait(), a.timeout)

            async def send():
                w.write(payload[4:])
                await w.drain()
                w.write_eof()

            async def receive():
                return await r.read(-1)

            _, back = await asyncio.wait_for(
                asyncio.gather(send(), receive()), a.timeout)
            w.close()
            results[i] = "ok" if back == payload[4:] else \
                f"data mismatch ({len(back)} of {len(payload) - 4} bytes)"
        except (OSError, asyncio.IncompleteReadError,
                asyncio.TimeoutError) as e:
            results[i] = f"{type(e).__name__}: {e}"
            if not counted:
                # A failed connection must not hold up the others.
                established[1] += 1
                if established[0] + established[1] == a.count:
                    all_up.set()

    async def run():
        established = [0, 0]    # connections up, connections failed
        all_up = asyncio.Event()
        results = [None] * a.count
        t0 = time.monotonic()
        tasks = [one(i, established, all_up, results) for i in range(a.count)]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), a.timeout * 3)
        except asyncio.TimeoutError:
            pass
        return results, established[0], time.monotonic() - t0

    results, up, secs = asyncio.run(run())
    good = sum(1 for r in results if r == "ok")
    print(f"{good}/{a.count} connections ok, {up} were open at once, "
          f"{secs:.1f} s")
    if good != a.count:
        errs = {}
        for r in results:
            if r != "ok":
                errs[str(r)] = errs.get(str(r), 0) + 1
        for k, v in sorted(errs.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {v} x {k}", file=sys.stderr)
        sys.exit(1)


def read_digest_reply(s, expect_hex, expect_n, secs):
    try:
        reply = recv_all(s, 4096).decode(errors="replace").split()
    except OSError as e:
        fail(f"reading the digest after half-close: {e}")
    if len(reply) != 2:
        fail(f"no digest answer after half-close (got {reply!r})")
    if reply[0] != expect_hex or int(reply[1]) != expect_n:
        fail(f"digest mismatch: sent {expect_n} bytes {expect_hex}, "
             f"server read {reply[1]} bytes {reply[0]}")
    rate = expect_n / secs / 1e6 if secs > 0 else 0
    print(f"server read {expect_n} bytes, sha256 matches "
          f"({secs:.1f} s, {rate:.0f} MB/s)")


def cmd_upload(a):
    h = hashlib.sha256()
    n = 0
    s = connect(a.host, a.port, a.timeout)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        with open(a.file, "rb") as f:
            while True:
                data = f.read(1 << 20)
                if not data:
                    break
                h.update(data)
                s.sendall(data)
                n += len(data)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        fail(f"upload after {n} bytes: {e}")
    read_digest_reply(s, h.hexdigest(), n, time.monotonic() - t0)


def cmd_halfclose(a):
    payload = os.urandom(a.size)
    s = connect(a.host, a.port, a.timeout)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        fail(f"send: {e}")
    read_digest_reply(s, hashlib.sha256(payload).hexdigest(), len(payload),
                      time.monotonic() - t0)


def hold(a, what):
    """Announce the stall, then wait for --hold seconds or --resume FILE."""
    with open(a.ready + ".tmp", "w") as f:
        f.write(what + "\n")
    os.rename(a.ready + ".tmp", a.ready)
    print(what, flush=True)
    deadline = time.monotonic() + a.hold
    while time.monotonic() < deadline:
        if a.resume and os.path.exists(a.resume):
            return True
        time.sleep(0.05)
    return False


def cmd_stall(a):
    s = connect(a.host, a.port, a.timeout)
    s.settimeout(a.timeout)
    req = f"GET {a.path} HTTP/1.0\r\nHost: {a.host}\r\n\r\n".encode()
    buf = bytearray()
    try:
        s.sendall(req)
        while len(buf) < a.read:
            data = s.recv(min(65536, a.read - len(buf)))
            if not data:
                fail(f"connection closed after {len(buf)} bytes")
            buf += data
    except OSError as e:
        fail(f"stall: {e}")
    if not hold(a, f"read {len(buf)} bytes, now not reading"):
        return
    # Resumed: the rest of the response must arrive intact.
    try:
        while True:
            data = s.recv(1 << 20)
            if not data:
                break
            buf += data
    except OSError as e:
        fail(f"after resuming, at {len(buf)} bytes: {e}")
    head, sep, body = bytes(buf).partition(b"\r\n\r\n")
    if not sep:
        fail("no HTTP header in the response")
    digest = hashlib.sha256(body).hexdigest()
    if a.sha and digest != a.sha:
        fail(f"resumed body: {len(body)} bytes, sha256 {digest}, "
             f"expected {a.sha}")
    print(f"resumed and completed: {len(body)} bytes, sha256 {digest}")


def cmd_stallup(a):
    s = connect(a.host, a.port, a.timeout)
    s.settimeout(2)
    chunk = b"\0" * 65536
    sent = 0
    limit = a.limit << 20
    try:
        while sent < limit:
            sent += s.send(chunk)
    except socket.timeout:
        pass
    except OSError as e:
        fail(f"stallup after {sent} bytes: {e}")
    hold(a, f"peer stopped taking data after {sent} bytes")


def cmd_stallmany(a):
    """Open --down stalled downloads (an HTTP GET of PATH, or nothing sent
    for PATH "-", a service that sends on its own; never read) and
    --up stalled uploads (to PORT_UP, written until it takes no more),
    announce them in --ready, and hold them for --hold seconds or until
    --resume exists.  Small receive buffers keep the kernel's share small,
    so what stays in flight sits in cshuttle's buffers."""
    socks = []
    pace = a.pace / 1000
    req = f"GET {a.path} HTTP/1.0\r\nHost: {a.host}\r\n\r\n".encode()
    try:
        for _ in range(a.down):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(a.timeout)
            s.connect((a.host, a.port))
            if a.path != "-":
                s.sendall(req)
            socks.append(s)
            time.sleep(pace)
        ups = []
        for _ in range(a.up):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            s.settimeout(a.timeout)
            s.connect((a.host, a.port_up))
            s.setblocking(False)
            socks.append(s)
            ups.append(s)
            time.sleep(pace)
    except OSError as e:
        fail(f"stallmany after {len(socks)} connections: {e}")
    chunk = b"\0" * 65536
    sent = 0
    quiet_since = time.monotonic()
    while ups and time.monotonic() - quiet_since < 2 and sent < (a.limit << 20):
        moved = 0
        for s in ups:
            try:
                moved += s.send(chunk)
            except BlockingIOError:
                pass
            except OSError as e:
                fail(f"stalled upload after {sent} bytes: {e}")
        sent += moved
        if moved:
            quiet_since = time.monotonic()
        else:
            time.sleep(0.05)
    hold(a, f"{a.down} downloads not read, {a.up} uploads stuck after "
         f"{sent} bytes")
    for s in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=30)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("hello")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.set_defaults(fn=cmd_hello)

    p = sub.add_parser("many")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--size", type=int, default=16384)
    p.set_defaults(fn=cmd_many)

    p = sub.add_parser("upload")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("file")
    p.set_defaults(fn=cmd_upload)

    p = sub.add_parser("halfclose")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--size", type=int, default=1 << 20)
    p.set_defaults(fn=cmd_halfclose)

    for name, fn in (("stall", cmd_stall), ("stallup", cmd_stallup)):
        p = sub.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        if name == "stall":
            p.add_argument("path")
            p.add_argument("--read", type=int, default=65536)
            p.add_argument("--sha", help="expected sha256 of the body")
        else:
            p.add_argument("--limit", type=int, default=200,
                           help="MiB to write at most")
        p.add_argument("--ready", required=True)
        p.add_argument("--hold", type=float, default=120)
        p.add_argument("--resume", help="stop stalling once this file exists")
        p.set_defaults(fn=fn)

    p = sub.add_parser("stallmany")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("path")
    p.add_argument("port_up", type=int)
    p.add_argument("--down", type=int, default=200)
    p.add_argument("--up", type=int, default=10)
    p.add_argument("--limit", type=int, default=200,
                   help="MiB to write at most, all uploads together")
    p.add_argument("--pace", type=float, default=0,
                   help="ms to wait after each connect (a burst of SYNs "
                   "overflows the services' queues)")
    p.add_argument("--ready", required=True)
    p.add_argument("--hold", type=float, default=120)
    p.add_argument("--resume", help="stop stalling once this file exists")
    p.set_defaults(fn=cmd_stallmany)

    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    raise_nofile()
    main()
