"""Networking inside pylon.wasm against real servers on the host, run by scripts/smoke.py
with the grant net_smoke_host.py asks for (`--allow-net=HOST:PORT,…`).

urllib and http.client GET/POST (IPv4, IPv6, a name), socket timeouts, non-blocking
connect with select and poll, UDP, asyncio client and server, a server the host's
client talks to, a connection the peer reset (recv, send, os.read and os.write each
raise ConnectionResetError when they meet the reset first; after a recv met it, a send
raises BrokenPipeError and getpeername() OSError(ENOTCONN), not a trap), and the grant
itself: a port that was not granted is refused.
"""
import asyncio
import errno
import http.client
import json
import os
import select
import socket
import time
import urllib.error
import urllib.request

ports = json.load(open("/smoke/host.json"))["net"]
LOOP = "127.0.0.1"
done = []


def passed(what):
    done.append(what)


# --- HTTP -----------------------------------------------------------------------------
base = f"http://{LOOP}:{ports['http']}"
with urllib.request.urlopen(base + "/hello?x=1", timeout=30) as r:
    assert r.status == 200, r.status
    assert r.headers["X-Pylon-Smoke"] == "yes"
    body = r.read().decode()
    assert body.startswith("GET /hello?x=1 via 127.0.0.1:"), body
req = urllib.request.Request(base + "/form", data=b"a=1&b=%C3%BC", method="POST")
req.add_header("Content-Type", "application/x-www-form-urlencoded")
with urllib.request.urlopen(req, timeout=30) as r:
    assert r.read() == b"POST a=1&b=%C3%BC application/x-www-form-urlencoded"
try:
    urllib.request.urlopen(base + "/missing", timeout=30)
except urllib.error.HTTPError as e:
    assert e.code == 404 and e.read() == b"no such page", e
else:
    raise AssertionError("404 not raised")
with urllib.request.urlopen(base + "/big", timeout=30) as r:
    big = r.read()
assert big == bytes(range(256)) * 4096, len(big)
passed("urllib GET/POST/404/1 MiB")

# A name, resolved in the guest; the launcher granted what `localhost` resolves to.
with urllib.request.urlopen(f"http://localhost:{ports['http']}/by-name", timeout=30) as r:
    assert r.read().decode().startswith("GET /by-name via localhost:")
passed("urllib by name")

conn = http.client.HTTPConnection(LOOP, ports["http"], timeout=30)
for i in range(3):  # one keep-alive connection, three requests
    conn.request("POST", "/api", body=json.dumps({"i": i}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.read() == b'POST {"i": ' + str(i).encode() + b"} application/json"
conn.close()
passed("http.client keep-alive POST")

if ports["http6"]:
    with urllib.request.urlopen(f"http://[::1]:{ports['http6']}/six", timeout=30) as r:
        assert r.read().decode().startswith("GET /six via [::1]:")
    s6 = socket.create_connection(("::1", ports["http6"]), timeout=30)
    assert s6.family == socket.AF_INET6 and s6.getpeername()[:2] == ("::1", ports["http6"])
    s6.close()
    passed("IPv6 loopback")

# --- sockets ---------------------------------------------------------------------------
s = socket.create_connection((LOOP, ports["echo"]), timeout=30)
assert s.getpeername() == (LOOP, ports["echo"])
assert s.getsockname()[0] == LOOP
payload = bytes(range(256)) * 1000
s.sendall(payload)
got = b""
while len(got) < len(payload):
    got += s.recv(65536)
assert got == payload
s.close()
passed("create_connection echo")

s = socket.create_connection((LOOP, ports["silent"]), timeout=30)
s.settimeout(0.5)
t0 = time.monotonic()
try:
    s.recv(1)
except TimeoutError:
    waited = time.monotonic() - t0
    assert 0.4 < waited < 10, waited
else:
    raise AssertionError("recv on a silent server returned")
s.setblocking(False)
try:
    s.recv(1)
except BlockingIOError:
    pass
else:
    raise AssertionError("non-blocking recv returned")
s.close()
passed("timeout and non-blocking recv")

s = socket.socket()
s.setblocking(False)
rc = s.connect_ex((LOOP, ports["echo"]))
assert rc in (0, errno.EINPROGRESS, errno.EWOULDBLOCK), rc
_, writable, _ = select.select([], [s], [], 10)
assert writable == [s]
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
s.send(b"poll me")
p = select.poll()
p.register(s, select.POLLIN)
assert p.poll(10_000), "no POLLIN"
assert s.recv(100) == b"poll me"
s.close()
passed("non-blocking connect, select, poll")

u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(10)
u.sendto(b"ping", (LOOP, ports["udp"]))
data, peer = u.recvfrom(100)
assert data == b"udp:ping" and peer == (LOOP, ports["udp"]), (data, peer)
u.close()
passed("UDP")

def first_send_error(sock, rounds=64):
    """The error of the first of up to `rounds` 64 KiB sends that fails: a connection
    the peer reset cannot take that much, so all of them succeeding is a failure."""
    for _ in range(rounds):
        try:
            sock.send(b"x" * 65536)
        except OSError as e:
            return e
    raise AssertionError(f"{rounds} sends on a reset connection all succeeded")


def reset_connection():
    """A connection the host has reset: its RST has arrived (the socket is readable),
    and nothing has reported it yet."""
    s = socket.create_connection((LOOP, ports["reset"]), timeout=30)
    assert select.select([s], [], [], 30)[0] == [s], "no reset within 30 s"
    return s


def fails_with(exc_type, err, what, op):
    try:
        got = op()
    except OSError as e:
        assert type(e) is exc_type and e.errno == err, f"{what}: {e!r}"
    else:
        raise AssertionError(f"{what} on a reset connection returned {got!r}")


# The first call that meets the reset raises ConnectionResetError: wasi-libc says EIO for
# every failed stream read or write, and _pylon_wasi_libc makes that ECONNRESET on a TCP
# socket (recv and send, read and write on its descriptor). Once a recv has reported the
# reset, a send fails with EPIPE (BrokenPipeError), as on Linux.
first_ops = {
    "recv": lambda s: s.recv(10),
    "send": lambda s: s.send(b"x"),
    "os.read": lambda s: os.read(s.fileno(), 10),
    "os.write": lambda s: os.write(s.fileno(), b"x"),
}
for name, op in first_ops.items():
    s = reset_connection()
    fails_with(ConnectionResetError, errno.ECONNRESET, name, lambda: op(s))
    if name == "recv":
        e = first_send_error(s)
        assert type(e) is BrokenPipeError and e.errno == errno.EPIPE, f"send: {e!r}"
        try:
            s.getpeername()
        except OSError as e:
            assert e.errno == errno.ENOTCONN, e
        else:
            raise AssertionError("getpeername() on a reset connection returned")
    s.close()
passed("a reset connection: ConnectionResetError, then BrokenPipeError and ENOTCONN")

try:
    socket.create_connection((LOOP, ports["forbidden"]), timeout=10)
except PermissionError:
    pass
else:
    raise AssertionError("a port outside the grant was reachable")
passed("a port outside the grant is refused")


# --- asyncio ---------------------------------------------------------------------------
served = {"n": 0}


async def upper(reader, writer):
    line = await reader.readline()
    writer.write(line.upper())
    await writer.drain()
    writer.close()
    served["n"] += 1


async def main():
    reader, writer = await asyncio.open_connection(LOOP, ports["echo"])
    writer.write(b"asyncio line\n")
    await writer.drain()
    assert await reader.readline() == b"asyncio line\n"
    writer.close()
    await writer.wait_closed()
    # A server in the guest: the host's client (net_smoke_host.py) and this one.
    server = await asyncio.start_server(upper, LOOP, ports["guest_server"])
    async with server:
        reader, writer = await asyncio.open_connection(LOOP, ports["guest_server"])
        writer.write(b"from the guest\n")
        assert await reader.readline() == b"FROM THE GUEST\n"
        writer.close()
        # Serve until the host's client has been answered too (it retries until then).
        for _ in range(600):
            await asyncio.sleep(0.05)
            if served["n"] >= 2:
                break
        assert served["n"] >= 2, served


asyncio.run(asyncio.wait_for(main(), 120))
passed("asyncio client and server")


async def by_name():
    # Name resolution goes through loop.getaddrinfo(), which runs in the default
    # executor: without threads it runs inline (profiles/patches: asyncio), and
    # asyncio.run()'s executor shutdown must not need a thread either.
    reader, writer = await asyncio.open_connection("localhost", ports["http"])
    writer.write(b"GET /asyncio-by-name HTTP/1.0\r\nHost: localhost\r\n\r\n")
    await writer.drain()
    reply = await reader.read()
    writer.close()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:80]
    assert b"GET /asyncio-by-name via localhost" in reply, reply[-200:]
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, sum, [1, 2, 3]) == 6
    assert await asyncio.to_thread(divmod, 7, 2) == (3, 1)
    try:
        await asyncio.to_thread(int, "not a number")
    except ValueError:
        pass
    else:
        raise AssertionError("to_thread lost the exception")


asyncio.run(asyncio.wait_for(by_name(), 60))
passed("asyncio by host name, run_in_executor and to_thread without threads")

print(f"net: {len(done)} checks against real servers ({', '.join(done)})")
