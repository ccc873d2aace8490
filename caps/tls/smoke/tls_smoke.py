"""TLS inside pylon.wasm: the stdlib's unmodified ssl.py over the tls cap, against the
host's OpenSSL (Python's ssl servers, `openssl s_server`) on loopback and the host's
clients talking to a TLS server in the guest. Run by scripts/smoke.py with the grant
tls_smoke_host.py asks for. The first line printed is the summary."""
import asyncio
import http.client
import json
import socket
import ssl
import sys
import urllib.error
import urllib.request

host = json.load(open("/smoke/host.json"))["tls"]
ports = host["ports"]
pki = host["dir"]
CA = f"{pki}/ca.pem"
done = []


def url(name, path="/"):
    return f"https://localhost:{ports[name]}{path}"


def client_ctx(**kw):
    ctx = ssl.create_default_context(cafile=CA)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


# --- HTTPS with urllib and http.client ---------------------------------------------------
ctx = client_ctx()
with urllib.request.urlopen(url("https", "/hello"), context=ctx, timeout=30) as r:
    body = r.read().decode()
assert body.startswith("GET /hello TLSv1.3"), body
req = urllib.request.Request(url("https", "/form"), data=b"x=1", method="POST")
with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
    assert r.read() == b"POST x=1"
with urllib.request.urlopen(url("https", "/big"), context=ctx, timeout=60) as r:
    assert r.read() == bytes(range(256)) * 8192
conn = http.client.HTTPSConnection("localhost", ports["https"], context=ctx, timeout=30)
for i in range(3):
    conn.request("POST", "/keepalive", body=str(i))
    assert conn.getresponse().read() == f"POST {i}".encode()
peer = conn.sock.getpeercert()
assert dict(x[0] for x in peer["subject"])["commonName"] == "localhost", peer
assert ("DNS", "localhost") in peer["subjectAltName"], peer
assert ("IP Address", "127.0.0.1") in peer["subjectAltName"], peer
assert dict(x[0] for x in peer["issuer"])["organizationName"] == "Pylon smoke", peer
assert peer["version"] == 3 and peer["notAfter"].endswith(" GMT"), peer
name, version, bits = conn.sock.cipher()
assert version == "TLSv1.3" and bits in (128, 256), conn.sock.cipher()
der = conn.sock.getpeercert(binary_form=True)
assert ssl.DER_cert_to_PEM_cert(der).startswith("-----BEGIN CERTIFICATE-----")
conn.close()
done.append("urllib/http.client GET/POST/1 MiB, getpeercert, cipher")

# `openssl s_server -www` answers with its status page.
with urllib.request.urlopen(url("s_server"), context=ctx, timeout=30) as r:
    assert b"s_server" in r.read()
done.append("openssl s_server")


# --- verification failures ------------------------------------------------------------
def refused(name, code, fragment):
    try:
        urllib.request.urlopen(url(name), context=client_ctx(), timeout=30)
    except urllib.error.URLError as e:
        err = e.reason
        assert isinstance(err, ssl.SSLCertVerificationError), (name, repr(err))
        assert err.verify_code == code, (name, err.verify_code, err.verify_message)
        assert err.reason == "CERTIFICATE_VERIFY_FAILED", (name, err.reason)
        assert fragment in str(err), (name, str(err))
    else:
        raise AssertionError(f"{name}: no verification error")


refused("wrongname", 62, "Hostname mismatch")
refused("expired", 10, "expired")
refused("selfsigned", 18, "self-signed")
refused("unknownca", 20, "unable to get local issuer certificate")
# CERT_NONE accepts anything; getpeercert() then gives {} as with OpenSSL.
loose = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
loose.check_hostname = False
loose.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", ports["selfsigned"]), timeout=30) as raw:
    with loose.wrap_socket(raw) as s:
        assert s.getpeercert() == {} and s.getpeercert(True)
done.append("wrong name, expired, self-signed, unknown CA; CERT_NONE")

# Plain HTTP where TLS was expected.
try:
    with socket.create_connection(("127.0.0.1", ports["plain"]), timeout=30) as raw:
        client_ctx().wrap_socket(raw, server_hostname="localhost")
except ssl.SSLError as e:
    assert e.reason == "WRONG_VERSION_NUMBER", (e.reason, str(e))
else:
    raise AssertionError("a plain-text server passed as TLS")
done.append("WRONG_VERSION_NUMBER")

# --- versions, ALPN, client certificates ----------------------------------------------
with urllib.request.urlopen(url("tls12"), context=ctx, timeout=30) as r:
    assert r.read().decode().startswith("GET / TLSv1.2")
only13 = client_ctx(minimum_version=ssl.TLSVersion.TLSv1_3)
try:
    urllib.request.urlopen(url("tls12"), context=only13, timeout=30)
except urllib.error.URLError as e:
    assert isinstance(e.reason, ssl.SSLError), repr(e.reason)
else:
    raise AssertionError("TLS 1.3-only client agreed with a TLS 1.2-only server")
alpn = client_ctx()
alpn.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", ports["alpn"]), timeout=30) as raw:
    with alpn.wrap_socket(raw, server_hostname="localhost") as s:
        assert s.selected_alpn_protocol() == "http/1.1", s.selected_alpn_protocol()
mine = client_ctx()
mine.load_cert_chain(f"{pki}/client.pem", f"{pki}/client.key")
with urllib.request.urlopen(url("clientauth", "/who"), context=mine, timeout=30) as r:
    assert r.read().decode().endswith("client=pylon guest client")
done.append("TLS 1.2 server, version floor, ALPN, client certificate")

# --- encrypted private keys (made by the host's OpenSSL 3) -----------------------------
PASSWORD = host["key_password"]
calls = []


def give_password():
    calls.append(1)
    return PASSWORD


def server_context(keyfile, password):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{pki}/server.pem", keyfile, password=password)
    return ctx


for keyfile in (f"{pki}/server-pkcs8.key", f"{pki}/server-legacy.key"):
    for password in (PASSWORD, PASSWORD.encode(), bytearray(PASSWORD.encode()),
                     give_password):
        server_context(keyfile, password)
    for bad in ("not it", lambda: b"not it either"):
        try:
            server_context(keyfile, bad)
        except ssl.SSLError as e:
            assert "PEM lib" in str(e), str(e)
        else:
            raise AssertionError(f"{keyfile}: a wrong password was accepted")
    try:
        server_context(keyfile, None)
    except ssl.SSLError as e:
        assert "no password" in str(e), str(e)
    else:
        raise AssertionError(f"{keyfile}: an encrypted key loaded without a password")
assert len(calls) == 2, calls
for bad, exc, text in ((b"x" * 1025, ValueError, "cannot be longer than 1024 bytes"),
                       (lambda: "x" * 2000, ValueError, "cannot be longer"),
                       (True, TypeError, "should be a string or callable"),
                       (lambda: 9, TypeError, "must return a string")):
    try:
        server_context(f"{pki}/server-pkcs8.key", bad)
    except exc as e:
        assert text in str(e), (text, str(e))
    else:
        raise AssertionError(f"password {bad!r} did not raise {exc.__name__}")
# A password callback is not called for a key that needs none.
server_context(f"{pki}/server.key", lambda: 1 / 0)
done.append("encrypted keys: PKCS#8 PBES2 and legacy PEM, str/bytes/callable passwords, "
            "wrong/missing/oversized/ill-typed ones")


# --- SSLObject over MemoryBIOs: both ends in this interpreter ---------------------------
def handshake_over_memory(client, server):
    """Pumps both ends' handshakes; the first SSLError either end raised, if any."""
    for _ in range(10):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                s_in.write(c_out.read())
                c_in.write(s_out.read())
                return side, e
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    return None, None


server_ctx = server_context(f"{pki}/server-pkcs8.key", PASSWORD)
c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
client = client_ctx().wrap_bio(c_in, c_out, server_hostname="localhost")
server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
assert handshake_over_memory(client, server) == (None, None)
assert client.version() == server.version() == "TLSv1.3"
client.write(b"over memory")
s_in.write(c_out.read())
assert server.read(100) == b"over memory"
try:
    server.read(100)
except ssl.SSLWantReadError:
    pass
else:
    raise AssertionError("read with no data did not raise SSLWantReadError")
done.append("wrap_bio/MemoryBIO")

# --- sni_callback, both ends in this interpreter ------------------------------------------
other_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
other_ctx.load_cert_chain(f"{pki}/other.pem", f"{pki}/other.key")
sni_seen = []


def sni(sock, name, initial):
    sni_seen.append(name)
    assert initial is server_ctx
    if name == "other.example":
        sock.context = other_ctx
    elif name == "denied.example":
        return ssl.ALERT_DESCRIPTION_ACCESS_DENIED
    elif name == "raises.example":
        1 / 0
    elif name == "wrong-type.example":
        return "foo"
    return None


server_ctx.sni_callback = sni


def sni_handshake(name):
    global c_in, c_out, s_in, s_out
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx().wrap_bio(c_in, c_out, server_hostname=name)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    return client, server, handshake_over_memory(client, server)


client, server, outcome = sni_handshake("other.example")
assert outcome == (None, None), outcome
assert client.getpeercert()["subjectAltName"] == (("DNS", "other.example"),)
assert server.context is other_ctx and server.server_hostname is None
client, server, outcome = sni_handshake("localhost")
assert outcome == (None, None), outcome
assert ("DNS", "localhost") in client.getpeercert()["subjectAltName"]
assert sni_seen == ["other.example", "localhost"], sni_seen
unraisable = []
old_hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
try:
    for name, reason, exc_type in (
            ("denied.example", "TLSV1_ALERT_ACCESS_DENIED", None),
            ("raises.example", "SSLV3_ALERT_HANDSHAKE_FAILURE", ZeroDivisionError),
            ("wrong-type.example", "TLSV1_ALERT_INTERNAL_ERROR", TypeError)):
        del unraisable[:]
        client, server, (side, err) = sni_handshake(name)
        assert side is server and err.reason == "CALLBACK_FAILED", (name, side, err)
        # The server's alert, as the client reads it.
        try:
            client.do_handshake()
        except ssl.SSLError as e:
            assert e.reason == reason, (name, e.reason, str(e))
        else:
            raise AssertionError(f"{name}: the client finished its handshake")
        assert [type(u.exc_value) for u in unraisable] == ([exc_type] if exc_type else []), \
            (name, unraisable)
finally:
    sys.unraisablehook = old_hook
server_ctx.sni_callback = None
try:
    server_ctx.sni_callback = 4
except TypeError:
    pass
else:
    raise AssertionError("sni_callback took something not callable")
done.append("sni_callback: certificate switch, alert, raising, wrong return type")


# --- asyncio: a TLS client, and a TLS server the host's clients use ------------------------
served = {"n": 0}


async def upper(reader, writer):
    line = await reader.readline()
    writer.write(line.upper())
    await writer.drain()
    writer.close()
    served["n"] += 1


async def main():
    # An address, not a name: asyncio resolves names in a worker thread, and WASI
    # has no threads (README: known gaps).
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", ports["https"], ssl=client_ctx(), server_hostname="localhost")
    writer.write(b"GET /async HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    await writer.drain()
    reply = await reader.read()
    assert b"GET /async TLSv1.3" in reply, reply
    writer.close()
    # The server's key is the encrypted PKCS#8 one; its sni_callback switches to the
    # other.example certificate or refuses denied.example.
    sni_seen.clear()
    server_ctx.sni_callback = sni
    srv = await asyncio.start_server(upper, "127.0.0.1", ports["guest_server"],
                                     ssl=server_ctx)
    async with srv:
        # The host's Python client and `openssl s_client`, each for localhost and for
        # other.example (tls_smoke_host.py).
        for _ in range(1800):
            await asyncio.sleep(0.05)
            if served["n"] >= 4:
                break
    assert served["n"] >= 4, served
    assert sni_seen == ["localhost"] * 2 + ["other.example"] * 2, sni_seen


asyncio.run(asyncio.wait_for(main(), 180))
done.append("asyncio client and server, its sni_callback switching certificates")

# A blocking server whose sni_callback refuses the host's client for denied.example:
# the alert reaches the client (asyncio would drop it, as it does with OpenSSL).
with socket.create_server(("127.0.0.1", ports["guest_denied"])) as listener:
    listener.settimeout(120)
    conn, _ = listener.accept()
    conn.settimeout(30)
    try:
        server_ctx.wrap_socket(conn, server_side=True)
    except ssl.SSLError as e:
        assert e.reason == "CALLBACK_FAILED", (e.reason, str(e))
    else:
        raise AssertionError("the server took denied.example")
    finally:
        conn.close()
assert sni_seen[-1] == "denied.example", sni_seen
done.append("sni_callback refusing a host client with an alert")

print(f"tls: {len(done)} checks against OpenSSL peers ({'; '.join(done)}); "
      f"{ssl.OPENSSL_VERSION}")
