#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""dns_portreuse.py LOG NAME WANT: split DNS when a forward's port is taken.

Run in CLIENT with the ephemeral port range narrowed to 40000-40001 and
cshuttle capturing 127.0.0.53 with split DNS.  A query sent from
127.0.0.1:40000 is redirected to cshuttle and leaves a conntrack entry;
40001 is then held, so cshuttle's first forwarding socket can only get
40000, and its marked packets follow that entry back to cshuttle.  Once
LOG says cshuttle noticed, 40001 is let go.  NAME (forwarded locally) is
then asked from a port outside the range until the answer holds WANT.
Prints "ok SECONDS" or "fail REASON"; exit 0 either way (the caller checks).
"""
import socket
import struct
import sys
import time

log, name, want = sys.argv[1], sys.argv[2], socket.inet_aton(sys.argv[3])


def query(qname, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in qname.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


# The entry: a redirected query (a name the tunnel answers) from 40000.
first = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
first.bind(("127.0.0.1", 40000))
first.settimeout(5)
first.sendto(query("secret.lab.internal", 1), ("127.0.0.53", 53))
try:
    first.recvfrom(4096)
except OSError as e:
    print("fail the first query got no answer:", e)
    sys.exit(0)
first.close()

hold = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
hold.bind(("0.0.0.0", 40001))

asker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
asker.bind(("127.0.0.1", 39000))
asker.settimeout(0.5)
start = time.monotonic()
qid = 100
while time.monotonic() - start < 15:
    if hold is not None:
        with open(log, errors="replace") as f:
            if "redirected back" in f.read():
                hold.close()
                hold = None
    qid += 1
    asker.sendto(query(name, qid), ("127.0.0.53", 53))
    try:
        while True:
            a, _ = asker.recvfrom(4096)
            if struct.unpack(">H", a[:2])[0] == qid:
                break
    except socket.timeout:
        continue
    if a[3] & 0x0F == 0 and want in a:
        print("ok %.1f" % (time.monotonic() - start))
        sys.exit(0)
    time.sleep(0.3)
print("fail no answer with %s within 15 s (40001 %s)" %
      (sys.argv[3], "still held" if hold else "let go"))
