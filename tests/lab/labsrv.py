#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""TCP services for the cshuttle test lab.

Every option takes a listen address "HOST:PORT" or "HOST:LOW-HIGH"; HOST
"*" means every IPv4 and IPv6 address of the namespace, "[v6addr]" an IPv6
address.  Services:

  --echo       sends back what it reads; passes a half-close on
  --digest     reads until EOF, then answers "<sha256 hex> <byte count>\\n"
  --hello      answers "<name> <port> <peer address>\\n" and closes
  --blackhole  accepts and never reads (small receive buffer)
  --slow       reads 4 KiB every 100 ms
  --source     writes zeros until the peer stops taking them, and holds
               the connection (small send buffer)

--ready FILE is created once every socket listens.  Runs until killed.
"""

import argparse
import asyncio
import hashlib
import os
import signal
import socket
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from labutil import raise_nofile  # noqa: E402

# As deep as the namespace allows (net.core.somaxconn): the benchmark
# opens 10,000 connections at once.
BACKLOG = 65535
BLACKHOLE_HOLD = 300


def parse_listen(spec):
    host, _, ports = spec.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    low, _, high = ports.partition("-")
    low = int(low)
    high = int(high) if high else low
    return [(host, p) for p in range(low, high + 1)]


def make_socket(host, port, rcvbuf=None):
    if host == "*":
        family, addr = socket.AF_INET6, "::"
    elif ":" in host:
        family, addr = socket.AF_INET6, host
    else:
        family, addr = socket.AF_INET, host
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                     0 if host == "*" else 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((addr, port))
    s.listen(BACKLOG)
    s.setblocking(False)
    return s


async def finish(writer):
    try:
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()
    try:
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass


async def serve_echo(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass
    await finish(writer)


async def serve_digest(reader, writer):
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            data = await reader.read(262144)
            if not data:
                break
            h.update(data)
            n += len(data)
        writer.write(f"{h.hexdigest()} {n}\n".encode())
    except (ConnectionError, OSError):
        pass
    await finish(writer)


def hello_handler(name, port):
    async def serve_hello(reader, writer):
        peer = writer.get_extra_info("peername")[0]
        if peer.startswith("::ffff:"):
            peer = peer[7:]
        try:
            writer.write(f"{name} {port} {peer}\n".encode())
        except (ConnectionError, OSError):
            pass
        await finish(writer)
    return serve_hello


async def serve_blackhole(reader, writer):
    await asyncio.sleep(BLACKHOLE_HOLD)
    writer.close()


async def serve_slow(reader, writer):
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                break
            await asyncio.sleep(0.1)
    except (ConnectionError, OSError):
        pass
    writer.close()


async def serve_source(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    chunk = b"\0" * 65536
    try:
        while True:
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ready", required=True)
    ap.add_argument("--name", default="lab")
    for svc in ("echo", "digest", "hello", "blackhole", "slow", "source"):
        ap.add_argument("--" + svc, action="append", default=[])
    args = ap.parse_args()

    servers = []
    for svc in ("echo", "digest", "hello", "blackhole", "slow", "source"):
        for spec in getattr(args, svc):
            for host, port in parse_listen(spec):
                rcvbuf = 4096 if svc == "blackhole" else None
                sock = make_socket(host, port, rcvbuf)
                if svc == "echo":
                    cb = serve_echo
                elif svc == "digest":
                    cb = serve_digest
                elif svc == "hello":
                    cb = hello_handler(args.name, port)
                elif svc == "blackhole":
                    cb = serve_blackhole
                elif svc == "source":
                    cb = serve_source
                else:
                    cb = serve_slow
                servers.append(await asyncio.start_server(cb, sock=sock))

    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(tmp, args.ready)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None))
    await stop
    for s in servers:
        s.close()


if __name__ == "__main__":
    raise_nofile()
    try:
        asyncio.run(main())
    except OSError as e:
        print(f"labsrv: {e}", file=sys.stderr)
        sys.exit(1)
