"""TLS inside pylon.wasm: the stdlib's unmodified ssl.py over the tls cap, against the
host's OpenSSL (Python's ssl servers, `openssl s_server`) on loopback and the host's
clients talking to a TLS server in the guest. Run by scripts/smoke.py with the grant
tls_smoke_host.py asks for. The first line printed is the summary."""
import asyncio
import http.client
import json
import socket
import ssl
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

# --- SSLObject over MemoryBIOs: both ends in this interpreter ---------------------------
server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_ctx.load_cert_chain(f"{pki}/server.pem", f"{pki}/server.key")
c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
client = client_ctx().wrap_bio(c_in, c_out, server_hostname="localhost")
server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
for _ in range(10):
    for side in (client, server):
        try:
            side.do_handshake()
        except ssl.SSLWantReadError:
            pass
    s_in.write(c_out.read())
    c_in.write(s_out.read())
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
    srv = await asyncio.start_server(upper, "127.0.0.1", ports["guest_server"],
                                     ssl=server_ctx)
    async with srv:
        # The host's Python client, then `openssl s_client` (tls_smoke_host.py).
        for _ in range(1800):
            await asyncio.sleep(0.05)
            if served["n"] >= 2:
                break
    assert served["n"] >= 2, served


asyncio.run(asyncio.wait_for(main(), 180))
done.append("asyncio client and server")

print(f"tls: {len(done)} checks against OpenSSL peers ({'; '.join(done)}); "
      f"{ssl.OPENSSL_VERSION}")
