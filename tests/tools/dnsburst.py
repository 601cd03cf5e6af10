#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Sends a burst of DNS queries over UDP and counts the answers.

Usage: dnsburst.py [-b SRC] [-w SECONDS] [-e SECONDS] SERVER NAME COUNT

Sends COUNT A queries for NAME to SERVER port 53 from one socket, as
fast as it can, each with its own ID, then waits up to SECONDS (default
5) after the last one for the answers.  Prints one line:

    sent N answered N noerror N servfail N refused N other N silent N early N

where early counts the answers that came within -e SECONDS (default 0.5)
of the last query sent.
and exits 0 when every query got an answer, 1 otherwise (2: usage).
"""
import argparse
import socket
import struct
import sys
import time


def query(qid, name):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", dest="src", default="")
    ap.add_argument("-w", dest="wait", type=float, default=5.0)
    ap.add_argument("-e", dest="early", type=float, default=0.5)
    ap.add_argument("server")
    ap.add_argument("name")
    ap.add_argument("count", type=int)
    try:
        a = ap.parse_args()
    except SystemExit:
        return 2
    if not 0 < a.count <= 65536:
        print("dnsburst: COUNT must be 1..65536", file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for every answer: the test judges the server, not this socket.
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind((a.src, 0))
    s.connect((a.server, 53))
    for i in range(a.count):
        s.send(query(i, a.name))
    rcodes = {}
    seen = set()
    sent = time.monotonic()
    deadline = sent + a.wait
    early = 0
    while len(seen) < a.count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            msg = s.recv(4096)
        except socket.timeout:
            break
        if len(msg) < 12:
            continue
        qid, flags = struct.unpack("!HH", msg[:4])
        if not flags & 0x8000 or qid >= a.count or qid in seen:
            continue
        seen.add(qid)
        if time.monotonic() - sent <= a.early:
            early += 1
        rc = flags & 0xF
        rcodes[rc] = rcodes.get(rc, 0) + 1
    other = sum(n for rc, n in rcodes.items() if rc not in (0, 2, 5))
    print("sent %d answered %d noerror %d servfail %d refused %d other %d "
          "silent %d early %d" % (a.count, len(seen), rcodes.get(0, 0),
                                  rcodes.get(2, 0), rcodes.get(5, 0),
                                  other, a.count - len(seen), early))
    return 0 if len(seen) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
