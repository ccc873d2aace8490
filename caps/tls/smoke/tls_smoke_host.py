"""Host side of tls_smoke.py: a CA made for this run with the host's `openssl`, TLS
servers of the host's Python (OpenSSL) on loopback, `openssl s_server`, and host
clients (Python's ssl, `openssl s_client`) for the server the guest runs.

The guest's server loads its key encrypted (server-pkcs8.key, PKCS#8 PBES2 as OpenSSL
3 writes it; server-legacy.key, OpenSSL's legacy DES-EDE3-CBC PEM; password
KEY_PASSWORD) and has an sni_callback: the name other.example switches it to the
other.example certificate, denied.example is refused with access_denied. The host's
clients ask for each: localhost and other.example from the guest's asyncio server,
denied.example from a blocking server on another port (asyncio drops the alert a
refused handshake queued, with OpenSSL too: its transport closes without flushing).

Servers (each its own port, all granted to the guest, all on 127.0.0.1):
  https       HTTPS with a certificate for localhost/127.0.0.1 from the run's CA
  wrongname   the same CA, a certificate for another name
  expired     the same CA, a certificate that expired
  selfsigned  a self-signed certificate
  unknownca   a certificate from a CA the guest is not given
  tls12       TLS 1.2 only
  alpn        offers h2 and http/1.1, prints what was agreed
  clientauth  requires a client certificate from the run's CA and echoes its subject
  s_server    `openssl s_server -www` (OpenSSL's own server program)
  plain       plain TCP: answers a TLS ClientHello with HTTP text
"""
import datetime
import http.server
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time

_state = {}
KEY_PASSWORD = "pylon smoke key"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


# What a CA and a leaf carry beyond their names: the extensions RFC 5280 asks for, which
# Python 3.13's default context checks (ssl.VERIFY_X509_STRICT: a CA without keyUsage
# is refused, so a Debian 13 host's client refused the guest's server).
CA_EXTENSIONS = ("-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
LEAF_EXTENSIONS = ("basicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\n"
                   "subjectKeyIdentifier=hash\n"
                   "authorityKeyIdentifier=keyid,issuer\n")


def _make_pki(d):
    """A CA, leaves signed by it, a self-signed certificate and a foreign CA."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/C=XX/O=Pylon smoke/CN=Pylon smoke CA", *CA_EXTENSIONS, cwd=d)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "30",
             "-subj", "/CN=Somebody else's CA", *CA_EXTENSIONS, cwd=d)

    def leaf(name, subject, san, ca="ca", days=None, ext="serverAuth"):
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\nextendedKeyUsage={ext}\n{LEAF_EXTENSIONS}")
        _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", "-subj", subject, cwd=d)
        args = ["x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey",
                f"{ca}.key", "-CAcreateserial", "-out", f"{name}.pem", "-extfile",
                f"{name}.ext"]
        if days is not None:
            args += ["-days", str(days)]
        _openssl(*args, cwd=d)

    leaf("server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", days=30)
    leaf("wrongname", "/CN=not-this-host.example", "DNS:not-this-host.example", days=30)
    leaf("unknownca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", ca="other-ca", days=30)
    leaf("client", "/CN=pylon guest client", "DNS:client.example", days=30,
         ext="clientAuth")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "selfsigned.key",
             "-out", "selfsigned.pem", "-days", "30", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", cwd=d)
    leaf("other", "/CN=other.example", "DNS:other.example", days=30)
    pw = f"pass:{KEY_PASSWORD}"
    _openssl("pkey", "-in", "server.key", "-aes-256-cbc", "-passout", pw, "-out",
             "server-pkcs8.key", cwd=d)
    _openssl("rsa", "-in", "server.key", "-traditional", "-des3", "-passout", pw, "-out",
             "server-legacy.key", cwd=d)
    _expired(d)


def _expired(d):
    """A leaf of the run's CA whose validity ended yesterday (`openssl ca` sets dates)."""
    db = os.path.join(d, "ca-db")
    os.makedirs(db, exist_ok=True)
    open(os.path.join(db, "index.txt"), "w").close()
    with open(os.path.join(db, "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(f"""[ca]
default_ca = smoke
[smoke]
database = {db}/index.txt
serial = {db}/serial
new_certs_dir = {db}
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
[ext]
subjectAltName = DNS:localhost,IP:127.0.0.1
{LEAF_EXTENSIONS}""")
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "expired.key",
             "-out", "expired.csr", "-subj", "/CN=localhost", cwd=d)
    now = datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y%m%d%H%M%SZ"
    start = (now - datetime.timedelta(days=10)).strftime(fmt)
    end = (now - datetime.timedelta(days=1)).strftime(fmt)
    _openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
             "-in", "expired.csr", "-out", "expired.pem", "-startdate", start, "-enddate",
             end, "-extensions", "ext", "-notext", cwd=d)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/big":
            self._send(bytes(range(256)) * 8192)
            return
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        who = dict(x[0] for x in cert["subject"])["commonName"] if cert else "-"
        self._send(f"GET {self.path} {self.connection.version()} "
                   f"alpn={self.connection.selected_alpn_protocol()} client={who}".encode())

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self._send(b"POST " + self.rfile.read(n))


class _TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, ctx):
        super().__init__(("127.0.0.1", 0), _Handler, bind_and_activate=True)
        self.ctx = ctx

    def get_request(self):
        sock, addr = self.socket.accept()
        sock.settimeout(30)
        try:
            return self.ctx.wrap_socket(sock, server_side=True), addr
        except (ssl.SSLError, OSError):
            # A client that refused our certificate: the guest's check, not a failure.
            sock.close()
            raise


def _server_ctx(d, name, **kw):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key"))
    if kw.get("tls12"):
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if kw.get("alpn"):
        ctx.set_alpn_protocols(["h2", "http/1.1"])
    if kw.get("clientauth"):
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(os.path.join(d, "ca.pem"))
    return ctx


def _serve(server):
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()


def _plain(server):
    while True:
        c, _ = server.accept()
        try:
            c.recv(4096)
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        finally:
            c.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _client_of_guest_server(port, denied_port, cafile, result):
    """The host's Python (OpenSSL) as the client of the guest's TLS server, then
    `openssl s_client`, then both asking for other.example by SNI, then the Python
    client asking for denied.example; waits for the guest to listen."""
    ctx = ssl.create_default_context(cafile=cafile)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                    s.sendall(b"python client\n")
                    result["python"] = (s.version(), s.recv(4096).decode())
            break
        except (ConnectionRefusedError, ConnectionResetError):
            time.sleep(0.05)
        except Exception as e:  # noqa: BLE001 - reported by check()
            result["python"] = ("error", repr(e))
            break
    result["s_client"] = _s_client(port, cafile, "localhost", b"s_client line\n")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="other.example") as s:
                subject = dict(x[0] for x in s.getpeercert()["subject"])
                s.sendall(b"sni other\n")
                result["python_other"] = (subject["commonName"], s.recv(4096).decode())
    except Exception as e:  # noqa: BLE001
        result["python_other"] = ("error", repr(e))
    result["s_client_other"] = _s_client(port, cafile, "other.example",
                                         b"s_client other\n")
    deadline = time.monotonic() + 300
    while "python_denied" not in result:
        try:
            with socket.create_connection(("127.0.0.1", denied_port), timeout=30) as raw:
                with ctx.wrap_socket(raw, server_hostname="denied.example"):
                    result["python_denied"] = ("connected", "")
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                result["python_denied"] = ("error", "the guest never listened")
            time.sleep(0.05)
        except ssl.SSLError as e:
            result["python_denied"] = ("SSLError", e.reason)
        except Exception as e:  # noqa: BLE001
            result["python_denied"] = ("error", repr(e))


def _s_client(port, cafile, name, line):
    """`openssl s_client` asking for `name` (SNI, and verified as the host name)."""
    try:
        p = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
             name, "-verify_hostname", name, "-CAfile", cafile, "-verify_return_error",
             "-quiet"], input=line, capture_output=True, timeout=60)
        return (p.returncode, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace")[-500:])
    except Exception as e:  # noqa: BLE001
        return ("error", repr(e), "")


def prepare(scratch):
    if not shutil.which("openssl"):
        raise RuntimeError("the host has no `openssl` command (apt install openssl)")
    d = os.path.join(scratch, "tls")
    os.makedirs(d, exist_ok=True)
    _make_pki(d)
    ports = {}
    for name, cert, kw in (("https", "server", {}), ("wrongname", "wrongname", {}),
                           ("expired", "expired", {}), ("selfsigned", "selfsigned", {}),
                           ("unknownca", "unknownca", {}), ("tls12", "server", {"tls12": 1}),
                           ("alpn", "server", {"alpn": 1}),
                           ("clientauth", "server", {"clientauth": 1})):
        server = _TLSServer(_server_ctx(d, cert, **kw))
        _state[name] = server
        ports[name] = server.server_address[1]
        _serve(server)
    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen(8)
    _state["plain"] = plain
    ports["plain"] = plain.getsockname()[1]
    threading.Thread(target=_plain, args=(plain,), daemon=True).start()
    ports["s_server"] = _free_port()
    _state["s_server"] = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{ports['s_server']}", "-cert",
         os.path.join(d, "server.pem"), "-key", os.path.join(d, "server.key"), "-www",
         "-quiet"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    ports["guest_server"] = _free_port()
    ports["guest_denied"] = _free_port()
    _state["guest_client"] = {}
    threading.Thread(target=_client_of_guest_server,
                     args=(ports["guest_server"], ports["guest_denied"],
                           os.path.join(d, "ca.pem"), _state["guest_client"]),
                     daemon=True).start()
    return {"ports": ports, "dir": "/smoke/tls", "key_password": KEY_PASSWORD}


def launcher_args(prepared):
    ports = prepared["ports"]
    return ["--allow-net=" + ",".join(f"127.0.0.1:{p}" for p in ports.values())
            + f",localhost:{ports['https']}"]


def check(scratch):
    result = _state["guest_client"]
    deadline = time.monotonic() + 60
    while "python_denied" not in result and time.monotonic() < deadline:
        time.sleep(0.1)
    server = _state.get("s_server")
    if server is not None:
        server.kill()
    py = result.get("python")
    sc = result.get("s_client")
    other = result.get("python_other")
    sc_other = result.get("s_client_other")
    denied = result.get("python_denied")
    return [
        ("the host's Python (OpenSSL) client talked TLS 1.3 to the guest's server",
         py is not None and py[0] == "TLSv1.3" and py[1] == "PYTHON CLIENT\n", repr(py)),
        ("openssl s_client verified the guest's server and got its reply",
         sc is not None and sc[0] == 0 and "S_CLIENT LINE" in sc[1], repr(sc)),
        ("asking for other.example by SNI, the host's Python client got the "
         "other.example certificate the guest's sni_callback switched to",
         other == ("other.example", "SNI OTHER\n"), repr(other)),
        ("openssl s_client asking for other.example verified that name",
         sc_other is not None and sc_other[0] == 0 and "S_CLIENT OTHER" in sc_other[1],
         repr(sc_other)),
        ("the guest's sni_callback refused denied.example with access_denied",
         denied == ("SSLError", "TLSV1_ALERT_ACCESS_DENIED"), repr(denied)),
    ]
