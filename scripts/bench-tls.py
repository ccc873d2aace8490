#!/usr/bin/env python3
"""TLS inside pylon.wasm (the tls cap: rustls) against the host's CPython (OpenSSL),
same run, same server.

The server is the host's Python `ssl` (OpenSSL) on loopback, with a P-256 certificate
from a CA made for the run by `openssl`. One client workload, run by the same script in
both interpreters: TLS 1.3 handshakes (connect, handshake, close; 200 of them, best of
3, as handshakes per second) and a 50 MB HTTPS download with http.client (best of 3,
as MB/s). Then the same 50 MB from `openssl s_server -WWW`, which (unlike the host's
Python servers, which set OP_CIPHER_SERVER_PREFERENCE) lets each client's own suite
preference decide: the tls cap prefers ChaCha20-Poly1305 (no AES instructions in wasm),
OpenSSL on x86-64 AES-GCM; the table names the suite each got. Then the same from an
`openssl s_server` restricted to each TLS 1.3 suite in turn (`-ciphersuites`), which
shows what the cipher itself costs in each. Timed inside the
interpreter with time.perf_counter. The host is the real binary (default
/usr/bin/python3). Prints a Markdown table for BENCHMARKS.md.

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
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = 50_000_000
HANDSHAKES = 200

WORKLOAD = r'''
import http.client, json, socket, ssl, sys, time
port, ca = int(sys.argv[1]), sys.argv[2]
s_servers = json.loads(sys.argv[3])  # {label: port}
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
buf = bytearray(1 << 16)


def download(s_server_port):
    """Best of 3 of GET /big from `openssl s_server -WWW` on a bare SSLSocket: (MB/s, suite)."""
    best = None
    for run in range(3):
        t = time.perf_counter()
        with socket.create_connection(("127.0.0.1", s_server_port)) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                suite = s.cipher()[0]
                s.sendall(b"GET /big HTTP/1.0\r\n\r\n")
                n = 0
                while True:
                    k = s.recv_into(buf)
                    if not k:
                        break
                    n += k
        took = time.perf_counter() - t
        assert n > %(size)d, n  # the file and s_server's status line
        best = took if best is None else min(best, took)
    return %(size)d / 1e6 / best, suite


print(json.dumps({"handshakes_per_s": %(handshakes)d / best_hs,
                  "mb_per_s": %(size)d / 1e6 / best_dl,
                  "s_server": {label: download(p) for label, p in s_servers.items()}}))
''' % {"handshakes": HANDSHAKES, "size": SIZE}


SUITES = ["TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]


def _s_server(d, suite):
    """`openssl s_server -WWW` serving `d` (restricted to one TLS 1.3 suite unless
    `suite` is None), listening: (port, process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "cert.pem",
            "-key", "key.pem", "-WWW", "-quiet"]
    if suite is not None:
        args += ["-ciphersuites", suite]
    process = subprocess.Popen(args, cwd=d, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return port, process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"openssl s_server did not listen on {port}")


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


def _ratio(host_over_guest):
    """How pylon.wasm compares, from the host's rate over the guest's."""
    if host_over_guest >= 1:
        return f"{host_over_guest:.1f}x slower"
    return f"{1 / host_over_guest:.1f}x faster"


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
        with open(f"{d}/big", "wb") as f:
            f.write(os.urandom(SIZE))
        s_servers = {"any": _s_server(d, None)}
        for suite in SUITES:
            s_servers[suite] = _s_server(d, suite)
        with open(f"{d}/work.py", "w") as f:
            f.write(WORKLOAD)
        version = subprocess.run([args.host_python, "-c", "import ssl, sys; print("
                                  "sys.version.split()[0], ssl.OPENSSL_VERSION)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        ports = json.dumps({label: p for label, (p, _) in s_servers.items()})
        grant = ",".join(f"127.0.0.1:{p}" for p, _ in s_servers.values())
        try:
            host = json.loads(subprocess.run(
                [args.host_python, f"{d}/work.py", str(port), f"{d}/cert.pem", ports],
                capture_output=True, text=True, check=True).stdout)
            guest_run = subprocess.run(
                [args.launch, f"--allow-net=127.0.0.1:{port},localhost:{port},{grant}",
                 "--dir", f"{d}::/bench", "--", "/bench/work.py", str(port),
                 "/bench/cert.pem", ports], capture_output=True, text=True)
        finally:
            for _, server_process in s_servers.values():
                server_process.kill()
        if guest_run.returncode != 0:
            sys.exit(f"the guest failed:\n{guest_run.stderr}")
        guest = json.loads(guest_run.stdout)
    print(f"| measure | pylon.wasm (tls cap) | {args.host_python} ({version}) | ratio |")
    print("|---|---|---|---|")
    print(f"| TLS 1.3 handshakes/s (best of 3 x {HANDSHAKES}) | "
          f"{guest['handshakes_per_s']:.0f} | {host['handshakes_per_s']:.0f} | "
          f"{_ratio(host['handshakes_per_s'] / guest['handshakes_per_s'])} |")
    print(f"| 50 MB HTTPS download, MB/s (best of 3) | {guest['mb_per_s']:.0f} | "
          f"{host['mb_per_s']:.0f} | {_ratio(host['mb_per_s'] / guest['mb_per_s'])} |")
    for label in ["any"] + SUITES:
        (g, g_suite), (h, h_suite) = guest["s_server"][label], host["s_server"][label]
        what = ("each client's preferred suite" if label == "any"
                else f"`-ciphersuites {label}`")
        print(f"| 50 MB from `openssl s_server -WWW`, {what}, MB/s (best of 3) | "
              f"{g:.0f} ({g_suite}) | {h:.0f} ({h_suite}) | {_ratio(h / g)} |")


if __name__ == "__main__":
    main()
