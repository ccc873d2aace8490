"""Host side of net_smoke.py: real servers on loopback, run by the host's CPython in
threads of the smoke harness while the guest runs, and the launcher's grant for them.

Servers: HTTP on 127.0.0.1 and on [::1] (http.server: GET echoes the path, POST the
body), a TCP line echo, a UDP echo, a server that accepts and never answers, one that
resets every connection, and a client that talks to the server the guest starts on a
port granted for it. The guest may reach exactly these: the grant lists them, and one
more listening port that is not granted proves the list is enforced.
"""
import http.server
import socket
import socketserver
import struct
import threading
import time

_state = {}


class _Http(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, code, body, ctype="text/plain; charset=utf-8"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Pylon-Smoke", "yes")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/big":
            self._send(200, bytes(range(256)) * 4096, "application/octet-stream")
        elif self.path == "/missing":
            self._send(404, b"no such page")
        else:
            self._send(200, f"GET {self.path} via {self.headers.get('Host')}".encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self._send(200, b"POST " + body + b" " + self.headers.get("Content-Type", "").encode())


class _Http4(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Http6(_Http4):
    address_family = socket.AF_INET6


def _thread(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def _listener(family=socket.AF_INET, kind=socket.SOCK_STREAM, host="127.0.0.1"):
    s = socket.socket(family, kind)
    s.bind((host, 0))
    if kind == socket.SOCK_STREAM:
        s.listen(16)
    return s


def _echo(server):
    def one(conn):
        with conn:
            buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                conn.sendall(data)
                buf += data
    while True:
        conn, _ = server.accept()
        _thread(one, conn)


def _udp_echo(sock):
    while True:
        data, peer = sock.recvfrom(65536)
        sock.sendto(b"udp:" + data, peer)


def _silent(server):
    held = []
    while True:
        conn, _ = server.accept()
        held.append(conn)  # kept open, never answered


def _reset(server):
    while True:
        conn, _ = server.accept()
        time.sleep(0.3)
        # SO_LINGER 0: close() sends RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client_of_guest_server(port, result):
    """Connects to the guest's server as soon as it listens (for up to 10 minutes: the
    guest's turn comes after other smoke files) and records the reply to one line."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
                c.sendall(b"hello from the host\n")
                reply = b""
                while not reply.endswith(b"\n"):
                    data = c.recv(4096)
                    if not data:
                        break
                    reply += data
                result["reply"] = reply.decode(errors="replace")
                return
        except OSError:
            time.sleep(0.05)
    result["reply"] = None


def prepare(scratch):
    http4 = _Http4(("127.0.0.1", 0), _Http)
    _thread(http4.serve_forever)
    ports = {"http": http4.server_address[1]}
    try:
        http6 = _Http6(("::1", 0), _Http)
        _thread(http6.serve_forever)
        ports["http6"] = http6.server_address[1]
    except OSError:
        ports["http6"] = None  # no IPv6 loopback on this host: the guest skips that part
    for name, fn in (("echo", _echo), ("silent", _silent), ("reset", _reset)):
        s = _listener()
        _state[name] = s
        ports[name] = s.getsockname()[1]
        _thread(fn, s)
    udp = _listener(kind=socket.SOCK_DGRAM)
    _state["udp"] = udp
    ports["udp"] = udp.getsockname()[1]
    _thread(_udp_echo, udp)
    # Listening, but not granted: the guest must be refused.
    forbidden = _listener()
    _state["forbidden"] = forbidden
    ports["forbidden"] = forbidden.getsockname()[1]
    # The guest serves here; the host's client talks to it.
    ports["guest_server"] = _free_port()
    _state["guest_client"] = {}
    _thread(_client_of_guest_server, ports["guest_server"], _state["guest_client"])
    _state["ports"] = ports
    return ports


def launcher_args(prepared):
    """The grant: every service above but `forbidden`, `localhost` by name."""
    grants = [f"localhost:{prepared['http']}"]
    grants += [f"127.0.0.1:{prepared[k]}" for k in ("echo", "silent", "reset", "udp",
                                                     "guest_server")]
    if prepared["http6"]:
        grants.append(f"[::1]:{prepared['http6']}")
    return ["--allow-net=" + ",".join(grants)]


def check(scratch):
    result = _state["guest_client"]
    deadline = time.monotonic() + 30
    while "reply" not in result and time.monotonic() < deadline:
        time.sleep(0.05)
    reply = result.get("reply")
    return [("the host's client got the guest server's reply",
             reply == "HELLO FROM THE HOST\n", f"reply: {reply!r}")]
