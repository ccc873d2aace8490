"""The tls cap's part of the leak check: every kind of cap call, `n` times
(scripts/smoke.py compares linear memory after two values of n). A client and a server
connection of the cap shake hands over buffers and exchange data, with the fixed
self-signed certificate beside this file (loop.pem/loop.key, valid for 100 years)."""
import base64
import os

import _pylon_tls

_HERE = os.path.dirname(os.path.abspath(__file__))


def _der(name, label):
    text = open(os.path.join(_HERE, name)).read()
    body = text.split(f"-----BEGIN {label}-----")[1].split(f"-----END {label}-----")[0]
    return base64.b64decode("".join(body.split()))


def run(n):
    cap = _pylon_tls.tls
    cert = _der("loop.pem", "CERTIFICATE")
    key = _der("loop.key", "PRIVATE KEY")
    v12, v13 = cap.TLS_VERSION_TLS12, cap.TLS_VERSION_TLS13
    for i in range(n):
        if i % 10 == 0:  # the whole handshake; cheaper calls every round
            # Records as sequences in field order (wit/world.wit).
            client = cap.Connection.client(
                ([cert], False, True, True, "localhost", [b"h2"], v12, v13, [], None, []))
            server = cap.Connection.server(
                ([cert], key, [b"h2"], v12, v13, cap.CLIENT_AUTH_NONE, [], []))
            while client.handshaking() or server.handshaking():
                server.receive(client.transmit())
                client.receive(server.transmit())
            client.write(b"x" * 1000)
            server.receive(client.transmit())
            assert server.read(4096) == (cap.READ_RESULT_DATA, b"x" * 1000)
            client.peer_certificates()
            client.cipher()
            client.alpn_protocol()
            client.close()
            server.close()
        cap.decode_certificate(cert)
        cap.check_key_pair(cert, key)
        try:
            cap.decode_certificate(b"not a certificate")
        except _pylon_tls.WitError:
            pass
        cap.library_version()
