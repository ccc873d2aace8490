#!/usr/bin/env python3
"""TLS inside pylon.wasm (the tls cap: rustls) against the host's CPython (OpenSSL),
same run, same server.

The server is the host's Python `ssl` (OpenSSL) on loopback, with a P-256 certificate
from a CA made for the run by `openssl`. One client workload, run by the same script in
both interpreters: TLS 1.3 handshakes (connect, handshake, close; 200 of them, best of
3, as handshakes per second) and a 50 MB HTTPS download with http.client (best of 3,
as MB/s). Timed inside the interpreter with time.perf_counter. The host is the real
binary (default /usr/bin/python3). Prints a Markdown table for BENCHMARKS.md.

    python3 scripts/bench-tls.py [--host-python /usr/bin/python3]
"""
import argparse
import http.server
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = 50_000_000
HANDSHAKES = 200

WORKLOAD = r'''
import http.client, json, socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
best_hs = best_dl = None
for run in range(3):
    t = time.perf_counter()
    for _ in range(%(handshakes)d):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                assert s.version() == "TLSv1.3"
    hs = time.perf_counter() - t
    best_hs = hs if best_hs is None else min(best_hs, hs)
    conn = http.client.HTTPSConnection("localhost", port, context=ctx)
    t = time.perf_counter()
    conn.request("GET", "/big")
    r = conn.getresponse()
    n = 0
    while True:
        chunk = r.read(1 << 16)
        if not chunk:
            break
        n += len(chunk)
    dl = time.perf_counter() - t
    conn.close()
    assert n == %(size)d, n
    best_dl = dl if best_dl is None else min(best_dl, dl)
print(json.dumps({"handshakes_per_s": %(handshakes)d / best_hs,
                  "mb_per_s": %(size)d / 1e6 / best_dl}))
''' % {"handshakes": HANDSHAKES, "size": SIZE}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    payload = os.urandom(1 << 20)

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        left = SIZE
        while left:
            chunk = self.payload[:min(left, len(self.payload))]
            self.wfile.write(chunk)
            left -= len(chunk)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, ctx):
        super().__init__(("127.0.0.1", 0), Handler)
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True), addr

    def handle_error(self, request, client_address):
        pass  # a client closing right after the handshake


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host-python", default="/usr/bin/python3")
    ap.add_argument("--launch", default=os.path.join(ROOT, "target/release/pylon-launch"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="pylon-bench-tls-") as d:
        def openssl(*a):
            subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{d}/cert.pem", f"{d}/key.pem")
        server = Server(ctx)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        with open(f"{d}/work.py", "w") as f:
            f.write(WORKLOAD)
        version = subprocess.run([args.host_python, "-c", "import ssl, sys; print("
                                  "sys.version.split()[0], ssl.OPENSSL_VERSION)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        host = json.loads(subprocess.run(
            [args.host_python, f"{d}/work.py", str(port), f"{d}/cert.pem"],
            capture_output=True, text=True, check=True).stdout)
        guest_run = subprocess.run(
            [args.launch, f"--allow-net=127.0.0.1:{port},localhost:{port}", "--dir",
             f"{d}::/bench", "--", "/bench/work.py", str(port), "/bench/cert.pem"],
            capture_output=True, text=True)
        if guest_run.returncode != 0:
            sys.exit(f"the guest failed:\n{guest_run.stderr}")
        guest = json.loads(guest_run.stdout)
    print(f"| measure | pylon.wasm (tls cap) | {args.host_python} ({version}) | ratio |")
    print("|---|---|---|---|")
    print(f"| TLS 1.3 handshakes/s (best of 3 x {HANDSHAKES}) | "
          f"{guest['handshakes_per_s']:.0f} | {host['handshakes_per_s']:.0f} | "
          f"{host['handshakes_per_s'] / guest['handshakes_per_s']:.1f}x slower |")
    print(f"| 50 MB HTTPS download, MB/s (best of 3) | {guest['mb_per_s']:.0f} | "
          f"{host['mb_per_s']:.0f} | {host['mb_per_s'] / guest['mb_per_s']:.1f}x slower |")


if __name__ == "__main__":
    main()
