"""CPython's ``_ssl`` module, served by Pylon's tls cap.

CPython's ``ssl.py`` is a Python layer over the C module ``_ssl``, which is built on
OpenSSL. There is no OpenSSL for WASI in Pylon's toolchain; this module takes the C
module's place with the same API, so that the stdlib's **unmodified** ``ssl.py`` (and
``http.client``, ``urllib.request``, ``asyncio`` over it) works. The TLS work happens
in the tls cap, a separate WebAssembly component with rustls inside, reached through
the generated ``_pylon_tls`` extension module. The cap is a state machine over byte
buffers; this module moves the bytes between it and a socket (``SSLSocket``) or a pair
of ``MemoryBIO`` objects (``SSLObject``).

What rustls does not do is an error here, never a silent no-op (docs: caps/tls/README.md):
TLS 1.0/1.1 and SSLv3, DH parameters (``load_dh_params``), NPN, post-handshake client
authentication, TLS session resumption across connections (``SSLSession``), CRL checks,
PBES1/PKCS#12-encrypted private keys, and OpenSSL cipher strings beyond the mapping in
``_select_ciphers``.
"""

import base64 as _base64
import os as _os
import _socket
import sys as _sys
import weakref as _weakref

import _pylon_runtime as _rt
import _pylon_tls

_cap = _pylon_tls.tls
_len = len  # `read(len=...)` below shadows it, as in CPython's signature
_WitError = _pylon_tls.WitError

# --- versions ------------------------------------------------------------------------
# Not OpenSSL: the string says what it is. The numbers say which OpenSSL API level this
# module follows (3.0), which is what code comparing them wants to know.
OPENSSL_VERSION = "rustls (Pylon tls cap: " + _cap.library_version() + ")"
OPENSSL_VERSION_NUMBER = 0x30000000
OPENSSL_VERSION_INFO = (3, 0, 0, 0, 0)
_OPENSSL_API_VERSION = OPENSSL_VERSION_INFO
_DEFAULT_CIPHERS = "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:!aNULL:!eNULL"

HAS_SNI = True
HAS_ECDH = True
HAS_NPN = False
HAS_ALPN = True
HAS_SSLv2 = False
HAS_SSLv3 = False
HAS_TLSv1 = False
HAS_TLSv1_1 = False
HAS_TLSv1_2 = True
HAS_TLSv1_3 = True
HAS_PSK = False
HAS_NEVER_CHECK_COMMON_NAME = True

# --- constants, with OpenSSL's values ---------------------------------------------------
SSL_ERROR_SSL = 1
SSL_ERROR_WANT_READ = 2
SSL_ERROR_WANT_WRITE = 3
SSL_ERROR_WANT_X509_LOOKUP = 4
SSL_ERROR_SYSCALL = 5
SSL_ERROR_ZERO_RETURN = 6
SSL_ERROR_WANT_CONNECT = 7
SSL_ERROR_EOF = 8
SSL_ERROR_INVALID_ERROR_CODE = 10

CERT_NONE = 0
CERT_OPTIONAL = 1
CERT_REQUIRED = 2

VERIFY_DEFAULT = 0
VERIFY_CRL_CHECK_LEAF = 4
VERIFY_CRL_CHECK_CHAIN = 12
VERIFY_X509_STRICT = 32
VERIFY_ALLOW_PROXY_CERTS = 64
VERIFY_X509_TRUSTED_FIRST = 32768
VERIFY_X509_PARTIAL_CHAIN = 524288

PROTOCOL_SSLv23 = PROTOCOL_TLS = 2
PROTOCOL_TLSv1_2 = 5
PROTOCOL_TLS_CLIENT = 16
PROTOCOL_TLS_SERVER = 17

PROTO_MINIMUM_SUPPORTED = -2
PROTO_MAXIMUM_SUPPORTED = -1
PROTO_SSLv3 = 0x300
PROTO_TLSv1 = 0x301
PROTO_TLSv1_1 = 0x302
PROTO_TLSv1_2 = 0x303
PROTO_TLSv1_3 = 0x304

OP_ALL = 0x80000050
OP_NO_SSLv2 = 0
OP_NO_SSLv3 = 0x2000000
OP_NO_TLSv1 = 0x4000000
OP_NO_TLSv1_1 = 0x10000000
OP_NO_TLSv1_2 = 0x8000000
OP_NO_TLSv1_3 = 0x20000000
OP_CIPHER_SERVER_PREFERENCE = 0x400000
OP_SINGLE_DH_USE = 0
OP_SINGLE_ECDH_USE = 0
OP_NO_COMPRESSION = 0x20000
OP_NO_TICKET = 0x4000
OP_NO_RENEGOTIATION = 0x40000000
OP_ENABLE_MIDDLEBOX_COMPAT = 0x100000
OP_IGNORE_UNEXPECTED_EOF = 0x80
OP_LEGACY_SERVER_CONNECT = 0x4
OP_ENABLE_KTLS = 0x8

HOSTFLAG_ALWAYS_CHECK_SUBJECT = 0x1
HOSTFLAG_NO_WILDCARDS = 0x2
HOSTFLAG_NO_PARTIAL_WILDCARDS = 0x4
HOSTFLAG_MULTI_LABEL_WILDCARDS = 0x8
HOSTFLAG_SINGLE_LABEL_SUBDOMAINS = 0x10
HOSTFLAG_NEVER_CHECK_SUBJECT = 0x20

ENCODING_PEM = 1
ENCODING_DER = 2

_ALERTS = {
    "CLOSE_NOTIFY": 0, "UNEXPECTED_MESSAGE": 10, "BAD_RECORD_MAC": 20,
    "RECORD_OVERFLOW": 22, "DECOMPRESSION_FAILURE": 30, "HANDSHAKE_FAILURE": 40,
    "BAD_CERTIFICATE": 42, "UNSUPPORTED_CERTIFICATE": 43, "CERTIFICATE_REVOKED": 44,
    "CERTIFICATE_EXPIRED": 45, "CERTIFICATE_UNKNOWN": 46, "ILLEGAL_PARAMETER": 47,
    "UNKNOWN_CA": 48, "ACCESS_DENIED": 49, "DECODE_ERROR": 50, "DECRYPT_ERROR": 51,
    "PROTOCOL_VERSION": 70, "INSUFFICIENT_SECURITY": 71, "INTERNAL_ERROR": 80,
    "USER_CANCELLED": 90, "NO_RENEGOTIATION": 100, "UNSUPPORTED_EXTENSION": 110,
    "CERTIFICATE_UNOBTAINABLE": 111, "UNRECOGNIZED_NAME": 112,
    "BAD_CERTIFICATE_STATUS_RESPONSE": 113, "BAD_CERTIFICATE_HASH_VALUE": 114,
    "UNKNOWN_PSK_IDENTITY": 115,
}
for _name, _value in _ALERTS.items():
    globals()["ALERT_DESCRIPTION_" + _name] = _value
del _name, _value


# --- exceptions ------------------------------------------------------------------------
class SSLError(OSError):
    """An error from the TLS layer; ``reason`` is OpenSSL's reason code."""

    library = None
    reason = None

    def __str__(self):
        if len(self.args) >= 2 and isinstance(self.args[1], str):
            return self.args[1]
        return super().__str__()


class SSLZeroReturnError(SSLError):
    """The TLS connection was closed cleanly."""


class SSLWantReadError(SSLError):
    """More data must be received before the operation can complete."""


class SSLWantWriteError(SSLError):
    """More data must be sent before the operation can complete."""


class SSLSyscallError(SSLError):
    """A system error happened under the TLS layer."""


class SSLEOFError(SSLError):
    """The connection ended in violation of the protocol."""


class SSLCertVerificationError(SSLError, ValueError):
    """The peer's certificate did not verify."""

    verify_code = None
    verify_message = None


def _ssl_error(cls, code, reason, message, library="SSL"):
    text = f"[{library}: {reason}] {message}" if reason else message
    err = cls(code, text)
    err.library = library if reason else None
    err.reason = reason or None
    return err


def _want_read():
    return _ssl_error(SSLWantReadError, SSL_ERROR_WANT_READ, None,
                      "The operation did not complete (read)")


def _want_write():
    return _ssl_error(SSLWantWriteError, SSL_ERROR_WANT_WRITE, None,
                      "The operation did not complete (write)")


def _eof_error():
    return _ssl_error(SSLEOFError, SSL_ERROR_EOF, "UNEXPECTED_EOF_WHILE_READING",
                      "EOF occurred in violation of protocol")


_KIND_VERIFY = _cap.ERROR_KIND_CERTIFICATE_VERIFY_FAILED


def _from_wit(e):
    """The SSLError for a cap error."""
    err = e.args[0]
    if err.kind == _KIND_VERIFY:
        # The cap's message is OpenSSL's: "certificate verify failed: <why>".
        exc = _ssl_error(SSLCertVerificationError, SSL_ERROR_SSL,
                         err.reason or "CERTIFICATE_VERIFY_FAILED", err.message)
        exc.verify_code = err.verify_code
        exc.verify_message = err.message.split("certificate verify failed: ", 1)[-1]
        return exc
    if err.reason == "UNEXPECTED_EOF_WHILE_READING":
        return _eof_error()
    library = "PEM" if err.reason == "PEM_LIB" else "X509" if err.reason in (
        "KEY_VALUES_MISMATCH",) else "SSL"
    return _ssl_error(SSLError, SSL_ERROR_SSL, err.reason or "UNKNOWN", err.message,
                      library)


# --- PEM -----------------------------------------------------------------------------
def _pem_blocks(text, labels):
    """(label, DER) for each PEM block of `text` whose label is in `labels`."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("ascii", "replace")
    out = []
    pos = 0
    while True:
        start = text.find("-----BEGIN ", pos)
        if start < 0:
            return out
        head_end = text.find("-----", start + 11)
        if head_end < 0:
            return out
        label = text[start + 11:head_end]
        end_marker = f"-----END {label}-----"
        end = text.find(end_marker, head_end)
        if end < 0:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "PEM_LIB",
                             f"PEM lib (block {label!r} has no END line)", "PEM")
        pos = end + len(end_marker)
        if label not in labels:
            continue
        headers, body = _pem_headers(text[head_end + 5:end])
        try:
            der = _base64.b64decode("".join(body.split()), validate=True)
        except ValueError:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "PEM_LIB",
                             f"PEM lib (bad base64 in block {label!r})", "PEM") from None
        if label == "ENCRYPTED PRIVATE KEY":
            der = _EncryptedKey(der, None)
        elif headers.get("Proc-Type", "").replace(" ", "") == "4,ENCRYPTED":
            der = _EncryptedKey(der, headers.get("DEK-Info", ""))
        out.append((label, der))


def _pem_headers(body):
    """RFC 1421 headers (``Proc-Type``, ``DEK-Info``) of a PEM block, and the rest."""
    headers = {}
    lines = body.strip("\r\n").splitlines()
    i = 0
    while i < len(lines) and ":" in lines[i]:
        name, _, value = lines[i].partition(":")
        headers[name.strip()] = value.strip()
        i += 1
    return headers, "\n".join(lines[i:])


class _EncryptedKey:
    """A password-protected private key: PKCS#8 ``EncryptedPrivateKeyInfo``
    (``dek_info`` None) or OpenSSL's legacy encrypted PEM (its ``DEK-Info``)."""

    def __init__(self, der, dek_info):
        self.der = der
        self.dek_info = dek_info

    def decrypt(self, password):
        try:
            return bytes(_cap.decrypt_private_key(self.der, self.dek_info, password))
        except _WitError as e:
            err = e.args[0]
            if err.reason == "BAD_DECRYPT":
                # OpenSSL's load_cert_chain reports a wrong password as "PEM lib".
                raise _ssl_error(SSLError, SSL_ERROR_SSL, "PEM_LIB",
                                 f"PEM lib ({err.message})", "SSL") from None
            raise _from_wit(e) from None


# OpenSSL reads a password into a buffer of PEM_BUFSIZE bytes.
_PEM_BUFSIZE = 1024


def _password_bytes(value, type_message):
    """A password as CPython's _ssl takes it: str (UTF-8), bytes or bytearray."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray)):
        value = bytes(value)
    else:
        raise TypeError(type_message)
    if len(value) > _PEM_BUFSIZE:
        raise ValueError(f"password cannot be longer than {_PEM_BUFSIZE} bytes")
    return value


_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
               "ENCRYPTED PRIVATE KEY")


def _read_file(path):
    path = _os.fspath(path)
    with open(path, "rb") as f:
        return f.read()


def _der_certs(data):
    """The DER certificates in `data`: one or more concatenated DER certificates."""
    data = bytes(data)
    out = []
    while data:
        if len(data) < 2 or data[0] != 0x30:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "NOT_ENOUGH_DATA",
                             "not enough data: cadata does not contain a certificate",
                             "X509")
        n = data[1]
        if n < 0x80:
            size, head = n, 2
        else:
            k = n & 0x7F
            if k == 0 or k > 4 or len(data) < 2 + k:
                raise _ssl_error(SSLError, SSL_ERROR_SSL, "BAD_DER", "bad DER length", "X509")
            size, head = int.from_bytes(data[2:2 + k], "big"), 2 + k
        if len(data) < head + size:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "NOT_ENOUGH_DATA",
                             "not enough data", "X509")
        out.append(data[:head + size])
        data = data[head + size:]
    return out


# --- certificates as getpeercert() shows them ----------------------------------------------
def _decode(der):
    try:
        info = _cap.decode_certificate(der)
    except _WitError as e:
        raise _from_wit(e) from None

    def name(rdns):
        return tuple(tuple((a.name, a.value) for a in rdn) for rdn in rdns)

    out = {
        "subject": name(info.subject),
        "issuer": name(info.issuer),
        "version": info.version,
        "serialNumber": info.serial_number,
        "notBefore": info.not_before,
        "notAfter": info.not_after,
    }
    if info.subject_alt_names:
        out["subjectAltName"] = tuple(tuple(p) for p in info.subject_alt_names)
    if info.ocsp:
        out["OCSP"] = tuple(info.ocsp)
    if info.ca_issuers:
        out["caIssuers"] = tuple(info.ca_issuers)
    if info.crl_distribution_points:
        out["crlDistributionPoints"] = tuple(info.crl_distribution_points)
    return out


def _test_decode_cert(path):
    blocks = _pem_blocks(_read_file(path), ("CERTIFICATE",))
    if not blocks:
        raise _ssl_error(SSLError, SSL_ERROR_SSL, "NO_START_LINE", "no certificate", "PEM")
    return _decode(blocks[0][1])


class Certificate:
    """One certificate of a verified or unverified chain."""

    def __init__(self, der):
        self._der = bytes(der)

    def public_bytes(self, format=ENCODING_PEM):
        if format == ENCODING_DER:
            return self._der
        if format != ENCODING_PEM:
            raise ValueError("Unsupported format")
        b64 = _base64.standard_b64encode(self._der).decode("ascii")
        lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
        return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"

    def get_info(self):
        return _decode(self._der)

    def __eq__(self, other):
        return isinstance(other, Certificate) and other._der == self._der

    def __hash__(self):
        return hash(self._der)

    def __repr__(self):
        return f"<Certificate '{self.get_info().get('subject')}'>"


# --- ciphers -------------------------------------------------------------------------
# The suites the cap has (rustls with ring), by OpenSSL name: (IANA name, protocol,
# bits, key exchange, authentication, symmetric, OpenSSL id).
_SUITES = [
    ("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "TLSv1.3", 256, "any", "any", "aes-256-gcm", 0x03001302),
    ("TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", 256, "any", "any", "chacha20-poly1305", 0x03001303),
    ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "TLSv1.3", 128, "any", "any", "aes-128-gcm", 0x03001301),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", 256, "ecdh", "ecdsa", "aes-256-gcm", 0x0300C02C),
    ("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLSv1.2", 256, "ecdh", "rsa", "aes-256-gcm", 0x0300C030),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", 256, "ecdh", "ecdsa", "chacha20-poly1305", 0x0300CCA9),
    ("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLSv1.2", 256, "ecdh", "rsa", "chacha20-poly1305", 0x0300CCA8),
    ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", 128, "ecdh", "ecdsa", "aes-128-gcm", 0x0300C02B),
    ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLSv1.2", 128, "ecdh", "rsa", "aes-128-gcm", 0x0300C02F),
]


def _suite_matches(suite, token):
    openssl, iana, proto, bits, kx, auth, sym, _ = suite
    parts = token.split("+")
    for p in parts:
        p = p.upper()
        ok = (p == openssl or p == iana or p in ("ALL", "DEFAULT", "HIGH", "COMPLEMENTOFDEFAULT")
              or (p in ("ECDHE", "EECDH", "ECDH", "KECDHE") and kx == "ecdh")
              or (p in ("AESGCM",) and "gcm" in sym)
              or (p in ("AES",) and sym.startswith("aes"))
              or (p == "AES128" and sym == "aes-128-gcm")
              or (p == "AES256" and sym == "aes-256-gcm")
              or (p in ("CHACHA20", "CHACHA20-POLY1305") and sym.startswith("chacha"))
              or (p in ("ECDSA", "AECDSA") and auth == "ecdsa")
              or (p in ("RSA", "ARSA") and auth == "rsa")
              or (p in ("SHA256",) and iana.endswith("SHA256"))
              or (p in ("SHA384",) and iana.endswith("SHA384"))
              or (p in ("TLSV1.2",) and proto == "TLSv1.2"))
        if not ok:
            return False
    return True


# Tokens that exclude suites the cap never has (no NULL, anonymous, RC4, MD5, DES, …).
_NEVER = {"ANULL", "ENULL", "NULL", "RC4", "MD5", "DES", "3DES", "EXP", "EXPORT", "LOW",
          "MEDIUM", "PSK", "SRP", "DSS", "CAMELLIA", "SEED", "IDEA", "ADH", "AECDH", "SHA1",
          "KRSA", "RSA+AES", "DHE", "EDH", "AESCCM", "AESCCM8", "CBC", "SSLV3", "SHA"}


def _select_ciphers(spec):
    """The TLS 1.2 suites an OpenSSL cipher string selects, in order (TLS 1.3 suites
    are not affected by it, as in OpenSSL). Supported: suite names (OpenSSL or IANA),
    the keywords ALL/DEFAULT/HIGH, +-joined families (ECDHE, AESGCM, AES128, AES256,
    CHACHA20, ECDSA, RSA, SHA256, SHA384), `!`/`-` exclusions, and @SECLEVEL/@STRENGTH.
    Anything else selects nothing from that token; no suite at all is an error."""
    chosen = []
    banned = set()
    for raw in spec.replace(",", ":").replace(" ", ":").split(":"):
        token = raw.strip()
        if not token or token.startswith("@"):
            continue
        if token[0] in "!-":
            name = token[1:].upper()
            if name in _NEVER:
                continue
            banned.update(s[0] for s in _SUITES if s[2] == "TLSv1.2" and _suite_matches(s, name))
            continue
        if token[0] == "+":
            continue
        if token.upper() in _NEVER:
            continue
        for s in _SUITES:
            if s[2] == "TLSv1.2" and s[0] not in chosen and _suite_matches(s, token):
                chosen.append(s[0])
    chosen = [c for c in chosen if c not in banned]
    if not chosen:
        raise _ssl_error(SSLError, SSL_ERROR_SSL, "NO_CIPHER_MATCH",
                         "No cipher can be selected.")
    return chosen


def _cipher_dict(s):
    openssl, iana, proto, bits, kx, auth, sym, cid = s
    digest = None if proto == "TLSv1.3" or "gcm" in sym or "chacha" in sym else "sha256"
    kea = "kx-any" if kx == "any" else "kx-ecdhe"
    au = "auth-any" if auth == "any" else f"auth-{auth}"
    return {
        "id": cid, "name": openssl, "protocol": proto,
        "description": f"{openssl:30} {proto} Kx={kx.upper() if kx != 'any' else 'any'} "
                       f"Au={auth.upper() if auth != 'any' else 'any'} Enc={sym.upper()} Mac=AEAD",
        "strength_bits": bits, "alg_bits": bits, "aead": True,
        "symmetric": sym, "digest": digest, "kea": kea, "auth": au,
    }


# --- MemoryBIO -----------------------------------------------------------------------
class MemoryBIO:
    """A buffer of bytes for SSLObject: one for incoming, one for outgoing data."""

    def __init__(self):
        self._buf = bytearray()
        self._eof = False

    @property
    def pending(self):
        return len(self._buf)

    @property
    def eof(self):
        return self._eof and not self._buf

    def read(self, size=-1):
        if size is None or size < 0 or size > len(self._buf):
            size = len(self._buf)
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def write(self, b):
        if self._eof:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, None, "cannot write() after write_eof()")
        data = _rt.buffer(b)
        self._buf += data
        return len(data)

    def write_eof(self):
        self._eof = True


class SSLSession:
    """Sessions are not exposed by the tls cap: ``SSLSocket.session`` is always None."""

    def __init__(self, *args, **kwargs):
        raise TypeError("cannot create '_ssl.SSLSession' instances")


# --- the connection: one engine for sockets and BIOs ------------------------------------
def _version_name(v):
    if v is None:
        return None
    return "TLSv1.3" if v == _cap.TLS_VERSION_TLS13 else "TLSv1.2"


_unraisable_args_type = None


def _write_unraisable(exc, obj):
    """CPython's ``PyErr_WriteUnraisable(obj)`` from Python: ``sys.unraisablehook``
    with an ``UnraisableHookArgs``. That type is not importable; a ``__del__`` that
    raises, under a hook that keeps its argument, yields it once."""
    global _unraisable_args_type
    if _unraisable_args_type is None:
        seen = []

        class _Raises:
            def __del__(self):
                raise RuntimeError

        hook, _sys.unraisablehook = _sys.unraisablehook, seen.append
        try:
            _Raises()
        finally:
            _sys.unraisablehook = hook
        _unraisable_args_type = type(seen[0])
    _sys.unraisablehook(_unraisable_args_type(
        (type(exc), exc, exc.__traceback__, None, obj)))


class _NoCertificate(Exception):
    def __init__(self, error):
        super().__init__(error)
        self.error = error


class _SSLSocket:
    """What ``_SSLContext._wrap_socket``/``_wrap_bio`` return (``SSLObject._sslobj``,
    ``SSLSocket._sslobj``): drives one cap connection over a socket or two BIOs."""

    def __init__(self, ctx, server_side, server_hostname, owner, sock=None,
                 incoming=None, outgoing=None):
        self._ctx = ctx
        self.server_side = bool(server_side)
        if server_hostname is not None and not server_side:
            if "\x00" in server_hostname:
                raise TypeError("argument 'server_hostname': embedded null character")
            if not server_hostname or server_hostname.startswith("."):
                raise ValueError("server_hostname cannot be an empty string or start "
                                 "with a leading dot.")
        self.server_hostname = server_hostname
        # A weak reference, as in CPython: the SSLSocket/SSLObject owns this object.
        self._owner = None if owner is None else _weakref.ref(owner)
        self._sock = sock
        self._in = incoming
        self._out = outgoing
        self._plain = bytearray()
        self._unsent = b""
        self._closed = False  # close_notify received
        self._shutdown_sent = False
        self._done = False
        # Server side: ciphertext that came after the ClientHello, held while the
        # hello is answered (the cap takes nothing until then).
        self._after_hello = b""
        try:
            if self.server_side:
                # A server is configured when the ClientHello is in, from the context
                # the sni_callback leaves it with (see _answer_hello). A configuration
                # that can never work is refused now; a missing certificate fails the
                # handshake, as with OpenSSL.
                try:
                    ctx._server_config()
                except _NoCertificate:
                    pass
                self._conn = _cap.Connection.server_awaiting_hello()
            else:
                self._conn = _cap.Connection.client(ctx._client_config(server_hostname))
        except _WitError as e:
            raise _from_wit(e) from None

    # -- attributes ssl.py reads
    @property
    def owner(self):
        return None if self._owner is None else self._owner()

    @owner.setter
    def owner(self, value):
        self._owner = None if value is None else _weakref.ref(value)

    @property
    def context(self):
        return self._ctx

    @context.setter
    def context(self, ctx):
        # From an sni_callback this picks the configuration the server answers the
        # ClientHello with; after the handshake it changes nothing negotiated (as with
        # OpenSSL's SSL_set_SSL_CTX).
        if not isinstance(ctx, _SSLContext):
            raise TypeError("The value must be a SSLContext")
        self._ctx = ctx

    session = None
    session_reused = False

    # -- moving bytes
    def _flush(self):
        """Sends what the cap has for the peer."""
        data = self._unsent + self._conn.transmit()
        self._unsent = b""
        if not data:
            return
        if self._sock is None:
            self._out.write(data)
            return
        view = memoryview(data)
        while view:
            try:
                n = _socket.socket.send(self._sock, view)
            except BlockingIOError:
                self._unsent = bytes(view)
                raise _want_write() from None
            except _socket.timeout:
                self._unsent = bytes(view)
                raise _socket.timeout("The write operation timed out") from None
            view = view[n:]

    def _fill(self):
        """Gives the cap bytes from the peer; False at the end of the input."""
        if self._sock is None:
            data = self._in.read(65536)
            if not data:
                if self._in.eof:
                    return self._end_of_input()
                raise _want_read()
        else:
            try:
                data = _socket.socket.recv(self._sock, 65536)
            except BlockingIOError:
                raise _want_read() from None
            except _socket.timeout:
                raise _socket.timeout("The read operation timed out") from None
            if not data:
                return self._end_of_input()
        self._receive(data)
        return True

    def _receive(self, data):
        """Gives the cap ciphertext, all of it (a server keeps what follows a
        ClientHello until the hello is answered)."""
        view = memoryview(data)
        while view:
            try:
                n = self._conn.receive(view)
            except _WitError as e:
                self._fail(e)
            if n == 0 and self.server_side and self._conn.client_hello() is not None:
                self._after_hello += view
                return
            if n == 0:
                self._drain_plain()
                n = self._conn.receive(view)
                if n == 0:
                    raise _ssl_error(SSLError, SSL_ERROR_SSL, "INTERNAL",
                                     "the tls cap takes no more input")
            view = view[n:]

    def _end_of_input(self):
        """Tells the cap the transport ended; False (nothing more will come)."""
        try:
            self._conn.receive(b"")
        except _WitError as e:
            self._fail(e)
        return False

    def _fail(self, e):
        """Sends the alert the cap queued, then raises its error."""
        self._flush_quietly()
        raise _from_wit(e) from None

    def _drain_plain(self):
        while True:
            try:
                r = self._conn.read(1 << 20)
            except _WitError as e:
                self._fail(e)
            case, payload = r
            if case == _cap.READ_RESULT_DATA:
                self._plain += payload
                continue
            if case == _cap.READ_RESULT_CLOSED:
                self._closed = True
            return

    # -- the handshake
    def do_handshake(self):
        while True:
            self._flush()
            if not self._conn.handshaking():
                break
            if self.server_side and self._conn.client_hello() is not None:
                self._answer_hello()
                continue
            if not self._fill():
                raise _eof_error()
        self._flush()
        self._done = True

    def _answer_hello(self):
        """A server's ClientHello is in: as OpenSSL's servername callback, the context's
        sni_callback may switch ``self.context`` (its certificate, ALPN, …) or refuse
        the client with an alert; the handshake then goes on with that context."""
        name = self._conn.client_hello()[0]
        alert = self._call_sni_callback(name) if self._ctx.sni_callback else None
        if alert is None:
            try:
                self._conn.accept(self._ctx._server_config())
            except _NoCertificate as e:
                self._conn.reject(ALERT_DESCRIPTION_HANDSHAKE_FAILURE)
                self._flush_quietly()
                raise e.error from None
            except _WitError as e:
                self._fail(e)
        else:
            self._conn.reject(alert)
            self._flush_quietly()
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "CALLBACK_FAILED",
                             f"callback failed (sni_callback: alert {alert})")
        after, self._after_hello = self._after_hello, b""
        self._receive(after)

    def _call_sni_callback(self, name):
        """Runs the sni_callback as CPython's _ssl does: None to go on, else the alert
        to refuse the client with (an exception in the callback, or a result that is
        not an int, is reported as unraisable and refuses with an alert)."""
        owner = self.owner
        if self._owner is not None and owner is None:
            # The SSLSocket/SSLObject is gone: the callback is not called.
            return ALERT_DESCRIPTION_INTERNAL_ERROR
        callback = self._ctx.sni_callback
        try:
            result = callback(owner or self, name, self._ctx)
        except BaseException as e:  # noqa: BLE001 - CPython's C callback does the same
            _write_unraisable(e, callback)
            return ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        if result is None:
            return None
        try:
            return _rt.as_int(result) & 0xFF
        except (TypeError, OverflowError) as e:
            _write_unraisable(e, result)
            return ALERT_DESCRIPTION_INTERNAL_ERROR

    def _flush_quietly(self):
        """Sends the alert the cap queued; the peer may already be gone."""
        try:
            self._flush()
        except (OSError, SSLError):
            pass

    # -- data
    def read(self, len=1024, buffer=None):
        if len < 0:
            raise ValueError("size should not be negative")
        if not self._done:
            self.do_handshake()
        while not self._plain:
            self._drain_plain()
            if self._plain:
                break
            if self._closed:
                return 0 if buffer is not None else b""
            if not self._fill():
                self._drain_plain()
                if self._plain or self._closed:
                    continue
                raise _eof_error()
        if buffer is not None:
            view = memoryview(buffer).cast("B")
            n = min(len or view.nbytes, view.nbytes, _len(self._plain))
            view[:n] = self._plain[:n]
            del self._plain[:n]
            return n
        data = bytes(self._plain[:len])
        del self._plain[:len]
        return data

    def write(self, data):
        if not self._done:
            self.do_handshake()
        if self._shutdown_sent:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "PROTOCOL_IS_SHUTDOWN",
                             "protocol is shutdown")
        data = memoryview(data).cast("B")
        taken = 0
        while taken < data.nbytes:
            try:
                taken += self._conn.write(data[taken:])
            except _WitError as e:
                self._fail(e)
            self._flush()
        return taken

    def pending(self):
        self._drain_plain()
        return len(self._plain)

    def shutdown(self):
        """Sends close_notify and waits for the peer's (returning the socket); with
        BIOs, raises SSLWantReadError until the peer's close_notify came in."""
        if not self._shutdown_sent:
            self._conn.close_notify()
            self._shutdown_sent = True
        self._flush()
        while not self._closed:
            self._drain_plain()
            if self._closed:
                break
            try:
                more = self._fill()
            except OSError:
                if self._sock is not None:
                    break
                raise
            if not more:
                break
        return self._sock

    # -- what was negotiated
    def getpeercert(self, binary_form=False):
        if not self._done:
            raise ValueError("handshake not done yet")
        chain = self._conn.peer_certificates()
        if not chain:
            return None
        if binary_form:
            return bytes(chain[0])
        if self._ctx.verify_mode == CERT_NONE:
            return {}
        return _decode(chain[0])

    def get_verified_chain(self):
        if self._ctx.verify_mode == CERT_NONE:
            return []
        return [Certificate(c) for c in self._conn.peer_certificates()]

    def get_unverified_chain(self):
        return [Certificate(c) for c in self._conn.peer_certificates()]

    def cipher(self):
        info = self._conn.cipher()
        if info is None:
            return None
        return (info.openssl_name, _version_name(self._conn.version()), info.secret_bits)

    def shared_ciphers(self):
        return None

    def compression(self):
        return None

    def version(self):
        if not self._done:
            return None
        return _version_name(self._conn.version())

    def selected_alpn_protocol(self):
        p = self._conn.alpn_protocol()
        return None if p is None else bytes(p).decode("ascii", "replace")

    def selected_npn_protocol(self):
        return None

    def get_channel_binding(self, cb_type="tls-unique"):
        if cb_type != "tls-unique":
            raise ValueError(f"Unsupported channel binding type {cb_type!r}")
        return None

    def verify_client_post_handshake(self):
        raise _ssl_error(SSLError, SSL_ERROR_SSL, "UNSUPPORTED",
                         "post-handshake authentication is not supported by the tls cap")


# --- the context -----------------------------------------------------------------------
class _SSLContext:
    """The settings shared by connections (``ssl.SSLContext`` subclasses this)."""

    def __new__(cls, protocol=PROTOCOL_TLS, *args, **kwargs):
        if protocol not in (PROTOCOL_TLS, PROTOCOL_TLS_CLIENT, PROTOCOL_TLS_SERVER,
                            PROTOCOL_TLSv1_2):
            raise ValueError("invalid or unsupported protocol version %r" % (protocol,))
        self = object.__new__(cls)
        self._protocol = protocol
        self._check_hostname = protocol == PROTOCOL_TLS_CLIENT
        self._verify_mode = CERT_REQUIRED if protocol == PROTOCOL_TLS_CLIENT else CERT_NONE
        self._verify_flags = VERIFY_X509_TRUSTED_FIRST
        self._options = (OP_ALL | OP_NO_SSLv3 | OP_NO_COMPRESSION | OP_CIPHER_SERVER_PREFERENCE
                         | OP_ENABLE_MIDDLEBOX_COMPAT)
        self._min = PROTO_MINIMUM_SUPPORTED
        self._max = PROTO_MAXIMUM_SUPPORTED
        if protocol == PROTOCOL_TLSv1_2:
            self._min = self._max = PROTO_TLSv1_2
        self._roots = []          # DER, in load order
        self._default_roots = False
        self._chain = []
        self._key = None
        self._alpn = []
        self._ciphers = []        # TLS 1.2 suites by OpenSSL name; [] = all
        self._host_flags = HOSTFLAG_NEVER_CHECK_SUBJECT
        self._sni_callback = None
        self._msg_cb = None
        self.keylog_filename = None
        self._post_handshake_auth = False
        self._num_tickets = 2
        return self

    def __init__(self, *args, **kwargs):
        pass

    protocol = property(lambda self: self._protocol)
    security_level = property(lambda self: 2)

    @property
    def check_hostname(self):
        return self._check_hostname

    @property
    def sni_callback(self):
        return self._sni_callback

    @sni_callback.setter
    def sni_callback(self, value):
        if value is not None and not callable(value):
            raise TypeError("not a callable object")
        self._sni_callback = value

    @check_hostname.setter
    def check_hostname(self, value):
        value = bool(value)
        if value and self._verify_mode == CERT_NONE:
            self._verify_mode = CERT_REQUIRED
        self._check_hostname = value

    @property
    def verify_mode(self):
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value):
        value = int(value)
        if value not in (CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED):
            raise ValueError("invalid value for verify_mode")
        if value == CERT_NONE and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname "
                             "is enabled.")
        self._verify_mode = value

    @property
    def verify_flags(self):
        return self._verify_flags

    @verify_flags.setter
    def verify_flags(self, value):
        value = int(value)
        if value & VERIFY_CRL_CHECK_LEAF:
            raise ValueError("CRL checking (VERIFY_CRL_CHECK_*) is not supported by the "
                             "tls cap")
        self._verify_flags = value

    @property
    def options(self):
        return self._options

    @options.setter
    def options(self, value):
        if not isinstance(value, int):
            raise TypeError(f"an integer is required, not {type(value).__name__}")
        if not 0 <= value < 1 << 64:
            raise OverflowError("options must be an unsigned 64-bit integer")
        self._options = value

    @property
    def minimum_version(self):
        return self._min

    @minimum_version.setter
    def minimum_version(self, value):
        self._min = int(value)

    @property
    def maximum_version(self):
        return self._max

    @maximum_version.setter
    def maximum_version(self, value):
        value = int(value)
        if value not in (PROTO_MAXIMUM_SUPPORTED, PROTO_MINIMUM_SUPPORTED) and value < PROTO_TLSv1_2:
            raise ValueError("TLS 1.1 and older are not supported by the tls cap "
                             "(rustls): maximum_version must be TLSv1_2 or later")
        self._max = value

    # ssl.py's SSLContext overrides these and sets them through this class's
    # descriptors (super(SSLContext, SSLContext).X.__set__), as with the C type.
    @property
    def _msg_callback(self):
        return self._msg_cb

    @_msg_callback.setter
    def _msg_callback(self, value):
        if value is not None:
            raise NotImplementedError("message callbacks (_msg_callback) are not supported "
                                      "by the tls cap")
        self._msg_cb = None

    @property
    def num_tickets(self):
        return self._num_tickets

    @num_tickets.setter
    def num_tickets(self, value):
        value = int(value)
        if value < 0:
            raise ValueError("value must be non-negative")
        if self._protocol == PROTOCOL_TLS_CLIENT:
            raise ValueError("SSLContext is not a server context.")
        self._num_tickets = value

    @property
    def post_handshake_auth(self):
        return self._post_handshake_auth

    @post_handshake_auth.setter
    def post_handshake_auth(self, value):
        # http.client turns it on for every default context: it only lets a server
        # ask for a client certificate after the handshake. rustls never answers such
        # a request (verify_client_post_handshake raises), so the flag is kept but
        # changes nothing on the wire.
        self._post_handshake_auth = bool(value)

    # -- what the cap is given
    def _versions(self):
        lo = PROTO_TLSv1_2 if self._min in (PROTO_MINIMUM_SUPPORTED,) else max(self._min, PROTO_TLSv1_2)
        hi = PROTO_TLSv1_3 if self._max in (PROTO_MAXIMUM_SUPPORTED,) else self._max
        if hi == PROTO_MINIMUM_SUPPORTED:
            hi = PROTO_TLSv1_2
        if self._options & OP_NO_TLSv1_3:
            hi = min(hi, PROTO_TLSv1_2)
        if self._options & OP_NO_TLSv1_2:
            lo = max(lo, PROTO_TLSv1_3)
        if lo > hi or lo > PROTO_TLSv1_3:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "NO_PROTOCOLS_AVAILABLE",
                             "no protocols available")
        to_wit = {PROTO_TLSv1_2: _cap.TLS_VERSION_TLS12, PROTO_TLSv1_3: _cap.TLS_VERSION_TLS13}
        return to_wit[lo], to_wit[min(hi, PROTO_TLSv1_3)]

    def _suite_names(self):
        if not self._ciphers:
            return []
        names = [s[1] for s in _SUITES if s[2] == "TLSv1.3"]
        by_openssl = {s[0]: s[1] for s in _SUITES}
        return names + [by_openssl[c] for c in self._ciphers]

    def _client_config(self, server_hostname):
        lo, hi = self._versions()
        if self._check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        # With no anchors, a verifying handshake fails in the cap, as OpenSSL's does.
        verify = self._verify_mode != CERT_NONE
        # A WIT record is a sequence in field order (see the WIT's client-config).
        return (self._roots, self._default_roots, verify, self._check_hostname,
                server_hostname, self._alpn, lo, hi, self._chain, self._key,
                self._suite_names())

    def _server_config(self):
        if not self._chain or self._key is None:
            raise _NoCertificate(_ssl_error(SSLError, SSL_ERROR_SSL, "NO_CERTIFICATE_ASSIGNED",
                                            "no certificate assigned (call load_cert_chain)"))
        lo, hi = self._versions()
        auth = {CERT_NONE: _cap.CLIENT_AUTH_NONE, CERT_OPTIONAL: _cap.CLIENT_AUTH_OPTIONAL,
                CERT_REQUIRED: _cap.CLIENT_AUTH_REQUIRED}[self._verify_mode]
        if auth != _cap.CLIENT_AUTH_NONE and not self._roots:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "NO_CERTIFICATE_AUTHORITIES",
                             "client certificates are asked for but no CA is loaded "
                             "(load_verify_locations)")
        return (self._chain, self._key, self._alpn, lo, hi, auth, self._roots,
                self._suite_names())

    # -- loading
    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        found = []
        if cafile is not None:
            found += [d for _, d in _pem_blocks(_read_file(cafile),
                                                 ("CERTIFICATE", "TRUSTED CERTIFICATE"))]
            if not found:
                raise _ssl_error(SSLError, SSL_ERROR_SSL, "NO_CERTIFICATE_OR_CRL_FOUND",
                                 "no certificate or crl found", "X509")
        if capath is not None:
            capath = _os.fspath(capath)
            for name in sorted(_os.listdir(capath)):
                path = _os.path.join(capath, name)
                if not _os.path.isfile(path):
                    continue
                try:
                    found += [d for _, d in _pem_blocks(_read_file(path),
                                                         ("CERTIFICATE", "TRUSTED CERTIFICATE"))]
                except (OSError, SSLError):
                    continue  # OpenSSL skips files it cannot use in a CA directory
        if cadata is not None:
            if isinstance(cadata, str):
                certs = [d for _, d in _pem_blocks(cadata, ("CERTIFICATE",))]
                if not certs:
                    raise _ssl_error(SSLError, SSL_ERROR_SSL, "NO_START_LINE",
                                     "no start line: cadata does not contain a certificate",
                                     "PEM")
            else:
                try:
                    certs = _der_certs(memoryview(cadata))
                except TypeError:
                    raise TypeError("cadata should be an ASCII string or a bytes-like "
                                    "object") from None
            found += certs
        for der in found:
            _decode(der)  # refuse what the cap cannot parse, now
            if der not in self._roots:
                self._roots.append(der)

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        # As CPython's _ssl: a password value is checked at once, a callable is called
        # only when the key turns out to be encrypted.
        if password is not None and not callable(password):
            password = _password_bytes(password, "password should be a string or callable")
        cert_text = _read_file(certfile)
        chain = [d for _, d in _pem_blocks(cert_text, ("CERTIFICATE",))]
        if not chain:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "PEM_LIB", "PEM lib", "SSL")
        key_text = cert_text if keyfile is None else _read_file(keyfile)
        keys = _pem_blocks(key_text, _KEY_LABELS)
        if not keys:
            raise _ssl_error(SSLError, SSL_ERROR_SSL, "PEM_LIB", "PEM lib", "SSL")
        label, key = keys[0]
        if isinstance(key, _EncryptedKey):
            if password is None:
                # OpenSSL would prompt on the terminal; a library has no business doing so.
                raise _ssl_error(SSLError, SSL_ERROR_SSL, "PEM_LIB",
                                 "PEM lib (the private key is encrypted and no password "
                                 "was given)", "SSL")
            if callable(password):
                password = _password_bytes(password(),
                                           "password callback must return a string")
            key = key.decrypt(password)
        try:
            _cap.check_key_pair(chain[0], key)
        except _WitError as e:
            raise _from_wit(e) from None
        self._chain = chain
        self._key = key

    def set_default_verify_paths(self):
        self._default_roots = True
        cafile = _os.environ.get("SSL_CERT_FILE")
        capath = _os.environ.get("SSL_CERT_DIR")
        if cafile and _os.path.isfile(cafile):
            self.load_verify_locations(cafile=cafile)
        if capath and _os.path.isdir(capath):
            self.load_verify_locations(capath=capath)

    def load_dh_params(self, path):
        raise NotImplementedError("DH parameters are not supported by the tls cap: "
                                  "rustls uses ECDHE key exchange only")

    def set_ecdh_curve(self, name):
        if not isinstance(name, (str, bytes)):
            raise TypeError(f"set_ecdh_curve() argument must be str or bytes, not "
                            f"{type(name).__name__}")
        if isinstance(name, bytes):
            name = name.decode("ascii")
        if name not in ("prime256v1", "secp384r1", "X25519", "x25519", "P-256", "P-384"):
            raise ValueError(f"unknown elliptic curve name {name!r}")
        # rustls offers X25519, P-256 and P-384 and lets the peer pick among them.

    def set_ciphers(self, spec):
        self._ciphers = _select_ciphers(str(spec))

    def get_ciphers(self):
        allowed = set(self._ciphers) if self._ciphers else None
        return [_cipher_dict(s) for s in _SUITES
                if s[2] == "TLSv1.3" or allowed is None or s[0] in allowed]

    def _set_alpn_protocols(self, protos):
        protos = bytes(protos)
        out = []
        i = 0
        while i < len(protos):
            n = protos[i]
            out.append(protos[i + 1:i + 1 + n])
            i += 1 + n
        self._alpn = out

    def _set_npn_protocols(self, protos):
        raise NotImplementedError("NPN is not supported (HAS_NPN is False); use ALPN")

    def cert_store_stats(self):
        n = len(self._roots)
        return {"x509": n, "crl": 0, "x509_ca": n}

    def get_ca_certs(self, binary_form=False):
        if binary_form:
            return [bytes(d) for d in self._roots]
        return [_decode(d) for d in self._roots]

    def session_stats(self):
        return {k: 0 for k in ("number", "connect", "connect_good", "connect_renegotiate",
                               "accept", "accept_good", "accept_renegotiate", "hits",
                               "misses", "timeouts", "cache_full")}

    def set_psk_client_callback(self, callback, identity_hint=None):
        raise NotImplementedError("TLS-PSK is not supported by the tls cap")

    def set_psk_server_callback(self, callback, identity_hint=None):
        raise NotImplementedError("TLS-PSK is not supported by the tls cap")

    # -- connections
    def _wrap_socket(self, sock, server_side, server_hostname=None, *, owner=None,
                     session=None):
        if session is not None:
            raise ValueError("sessions are not supported by the tls cap")
        return _SSLSocket(self, server_side, server_hostname, owner, sock=sock)

    def _wrap_bio(self, incoming, outgoing, server_side, server_hostname=None, *,
                  owner=None, session=None):
        if session is not None:
            raise ValueError("sessions are not supported by the tls cap")
        return _SSLSocket(self, server_side, server_hostname, owner,
                          incoming=incoming, outgoing=outgoing)


# --- module functions --------------------------------------------------------------
def RAND_status():
    return True


def RAND_add(string, entropy):
    return None


def RAND_bytes(n):
    if n < 0:
        raise ValueError("num must be positive")
    return _os.urandom(n)


_OIDS = {
    "1.3.6.1.5.5.7.3.1": (129, "serverAuth", "TLS Web Server Authentication"),
    "1.3.6.1.5.5.7.3.2": (130, "clientAuth", "TLS Web Client Authentication"),
}


def txt2obj(txt, name=False):
    for oid, (nid, short, long) in _OIDS.items():
        if txt == oid or (name and txt in (short, long)):
            return nid, short, long, oid
    raise ValueError(f"unknown object '{txt}'")


def nid2obj(nid):
    for oid, (n, short, long) in _OIDS.items():
        if n == nid:
            return n, short, long, oid
    raise ValueError(f"unknown NID {nid}")


def get_default_verify_paths():
    return ("SSL_CERT_FILE", _os.environ.get("SSL_CERT_FILE", ""),
            "SSL_CERT_DIR", _os.environ.get("SSL_CERT_DIR", ""))
