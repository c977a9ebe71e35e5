#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Network helpers for bench/bench.sh (run inside the lab's namespaces).

  firstbyte HOST PORT --ready FILE
        connect, send an HTTP request and wait for the first byte of the
        answer, again and again (a new connection every ~2 ms, 10 ms per
        connect) until one answers; prints the wall-clock time of that
        first byte.  FILE is created once the first try is over, so the
        caller starts the tool under test only when the prober is polling
  hold HOST PORT --count N --ready FILE [--release FILE]
        open N connections to an echo service at once, one round trip on
        each; write "up UP failed FAILED SECS" to FILE and hold them idle
        until FILE --release exists (at once without it), then one more
        round trip on each; prints "ok OK of N" (ok: both round trips)
  upload HOST PORT FILE [--max-secs S]
        send FILE (at most S seconds of it) to a digest service, then
        half-close and read its "<sha256> <bytes>" answer; prints
        "BYTES SECS match|mismatch", SECS from the first byte sent to the
        answer (the service has then read everything)

Exit status 0 on success, 1 on failure (with a message on stderr).
"""

import argparse
import asyncio
import hashlib
import os
import resource
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "lab"))
from labutil import raise_nofile  # noqa: E402


def fail(msg):
    print(f"benchnet: {msg}", file=sys.stderr)
    sys.exit(1)


def raise_nofile_for(need):
    """Take the hard limit on descriptors (labutil); fail clearly when that
    is not enough for NEED of them."""
    raise_nofile()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < need:
        fail(f"the hard limit on open files is {hard}, {need} are needed")


def write_atomic(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


# --------------------------------------------------------------------------
# firstbyte

def cmd_firstbyte(a):
    req = (f"GET {a.path} HTTP/1.1\r\nHost: {a.host}\r\n"
           f"Connection: close\r\n\r\n").encode()
    deadline = time.monotonic() + a.timeout
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Before the tunnel exists a connect either fails at once
            # (host unreachable) or hangs (the ICMP answers are rate
            # limited): a short timeout bounds the second kind.  Once
            # the tunnel is up the connect is local and immediate.
            s.settimeout(a.connect_timeout)
            s.connect((a.host, a.port))
            s.settimeout(a.answer_timeout)
            s.sendall(req)
            if s.recv(1):
                t = time.time()
                print(f"first byte at {t:.6f} after {tries} tries")
                return
        except OSError:
            pass
        finally:
            s.close()
            if tries == 1:
                write_atomic(a.ready, "polling\n")
        time.sleep(a.interval)
    fail(f"no answer from {a.host} port {a.port} within {a.timeout} s "
         f"({tries} tries)")


# --------------------------------------------------------------------------
# hold

def cmd_hold(a):
    raise_nofile_for(a.count + 64)

    async def roundtrip(r, w, msg):
        w.write(msg)
        await w.drain()
        got = await r.readexactly(len(msg))
        if got != msg:
            raise OSError(f"echo mismatch: sent {msg!r}, got {got!r}")

    async def run():
        conns = [None] * a.count
        errs = {}

        def note(e):
            k = f"{type(e).__name__}: {e}"
            errs[k] = errs.get(k, 0) + 1

        async def one(i):
            msg = b"%09d\n" % i
            try:
                r, w = await asyncio.wait_for(
                    asyncio.open_connection(a.host, a.port), a.timeout)
            except (OSError, asyncio.TimeoutError) as e:
                note(e)
                return
            try:
                await asyncio.wait_for(roundtrip(r, w, msg), a.timeout)
                conns[i] = (r, w, msg)
            except (OSError, asyncio.IncompleteReadError,
                    asyncio.TimeoutError) as e:
                note(e)
                w.close()

        t0 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(a.count)))
        up = sum(1 for c in conns if c is not None)
        secs = time.monotonic() - t0
        print(f"up {up} failed {a.count - up} {secs:.1f}", flush=True)
        for k, v in sorted(errs.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {v} x {k}", file=sys.stderr)
        write_atomic(a.ready, f"up {up} failed {a.count - up} {secs:.1f}\n")

        if a.release:
            deadline = time.monotonic() + a.max_hold
            while not os.path.exists(a.release):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.1)

        async def again(c):
            r, w, msg = c
            try:
                await asyncio.wait_for(roundtrip(r, w, msg), a.timeout)
                return True
            except (OSError, asyncio.IncompleteReadError,
                    asyncio.TimeoutError) as e:
                note(e)
                return False
            finally:
                w.close()

        errs.clear()
        oks = await asyncio.gather(*(again(c) for c in conns
                                     if c is not None))
        ok = sum(1 for x in oks if x)
        print(f"ok {ok} of {a.count}", flush=True)
        for k, v in sorted(errs.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  {v} x {k} (after holding)", file=sys.stderr)
        return ok

    ok = asyncio.run(run())
    sys.exit(0 if ok == a.count else 1)


# --------------------------------------------------------------------------
# upload

def cmd_upload(a):
    chunk = 1 << 20
    n = 0
    try:
        s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except OSError as e:
        fail(f"connect {a.host} port {a.port}: {e}")
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        with open(a.file, "rb") as f:
            # The hash is taken afterwards: it would slow the sender.
            while True:
                data = f.read(chunk)
                if not data:
                    break
                s.sendall(data)
                n += len(data)
                if a.max_secs and time.monotonic() - t0 > a.max_secs:
                    break
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            reply += d
    except OSError as e:
        fail(f"upload after {n} bytes: {e}")
    secs = time.monotonic() - t0
    h = hashlib.sha256()
    with open(a.file, "rb") as f:
        left = n
        while left:
            data = f.read(min(chunk, left))
            h.update(data)
            left -= len(data)
    words = reply.decode(errors="replace").split()
    if len(words) != 2:
        fail(f"no digest answer after {n} bytes (got {reply!r})")
    ok = words[0] == h.hexdigest() and int(words[1]) == n
    print(f"{n} {secs:.6f} {'match' if ok else 'mismatch'}")
    if not ok:
        fail(f"sent {n} bytes, the service read {words[1]} "
             f"(sha256 {'matches' if words[0] == h.hexdigest() else 'differs'})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("firstbyte")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--path", default="/small.txt")
    p.add_argument("--ready", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--connect-timeout", type=float, default=0.01)
    p.add_argument("--answer-timeout", type=float, default=5)
    p.add_argument("--interval", type=float, default=0.002)
    p.set_defaults(fn=cmd_firstbyte)

    p = sub.add_parser("hold")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--ready", required=True)
    p.add_argument("--release")
    p.add_argument("--max-hold", type=float, default=3600)
    p.add_argument("--timeout", type=float, default=60,
                   help="seconds for one connect or one round trip")
    p.set_defaults(fn=cmd_hold)

    p = sub.add_parser("upload")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("file")
    p.add_argument("--max-secs", type=float, default=0)
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(fn=cmd_upload)

    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    main()
