#!/usr/bin/python3
"""Downtime prober, run on a client during a cutover: every INTERVAL seconds it resolves the
cutover record as the client does (getaddrinfo: /etc/hosts, DNS) and requests the health URL
through it.  It logs one JSON line per change of (address, healthy) and stops when STOPFILE
exists or after MAX seconds.  Read-only apart from its log."""
import json
import os
import socket
import sys
import time
import urllib.request

name, port, path, log, stopfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
interval, maximum = float(sys.argv[6]), float(sys.argv[7])
end = time.time() + maximum
last = None
with open(log, "a", buffering=1) as out:
    out.write(json.dumps({"t": time.time(), "event": "start", "url": f"http://{name}:{port}{path}"}) + "\n")
    while time.time() < end and not os.path.exists(stopfile):
        t = time.time()
        try:
            addr = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        except OSError:
            addr = None
        ok = False
        if addr:
            try:
                req = urllib.request.Request(f"http://{addr}:{port}{path}", headers={"Host": name})
                with urllib.request.urlopen(req, timeout=1) as r:
                    ok = r.status == 200
            except Exception:  # noqa: BLE001 — any failure is unavailability
                ok = False
        if (addr, ok) != last:
            out.write(json.dumps({"t": t, "addr": addr, "ok": ok}) + "\n")
            last = (addr, ok)
        time.sleep(max(0.0, interval - (time.time() - t)))
    out.write(json.dumps({"t": time.time(), "event": "stop"}) + "\n")
