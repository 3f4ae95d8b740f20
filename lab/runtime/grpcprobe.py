"""The kubelet's gRPC probe: grpc.health.v1.Health/Check over cleartext HTTP/2 (stdlib only).

Just enough HTTP/2 for one unary call: the preface, an empty SETTINGS (and the ACK of the
server's), one HEADERS frame with HPACK literals (no Huffman, no dynamic table), one DATA frame
carrying the HealthCheckRequest, then the HealthCheckResponse's `status` field (1 = SERVING).
"""

from __future__ import annotations

import socket
import struct

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack("!I", len(payload))[1:] + bytes([kind, flags]) + struct.pack("!I", stream) + payload


def _literal(name_index: int, value: str) -> bytes:
    """A literal header field without indexing, name from the static table (4-bit prefix)."""
    raw = value.encode()
    prefix = bytes([name_index]) if name_index < 15 else bytes([15, name_index - 15])
    return prefix + bytes([len(raw)]) + raw


def _headers(authority: str) -> bytes:
    block = bytes([0x83, 0x86])  # :method POST, :scheme http (static table 3 and 6)
    block += _literal(4, "/grpc.health.v1.Health/Check") + _literal(1, authority) + _literal(31, "application/grpc")
    block += b"\x00\x02te\x08trailers"
    return block


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def check(host: str, port: int, service: str, timeout: float) -> tuple[bool, str]:
    request = (b"\x0a" + bytes([len(service)]) + service.encode()) if service else b""
    message = b"\x00" + struct.pack("!I", len(request)) + request
    try:
        with socket.create_connection((host, port), timeout=max(timeout, 1)) as sock:
            sock.sendall(PREFACE + _frame(4, 0, 0, b"") + _frame(1, 0x4, 1, _headers("%s:%d" % (host, port))) + _frame(0, 0x1, 1, message))
            while True:
                header = _read_exact(sock, 9)
                length = struct.unpack("!I", b"\x00" + header[:3])[0]
                kind, flags, stream = header[3], header[4], struct.unpack("!I", header[5:9])[0] & 0x7FFFFFFF
                payload = _read_exact(sock, length)
                if kind == 4 and not flags & 0x1:
                    sock.sendall(_frame(4, 0x1, 0, b""))
                elif kind == 0 and stream == 1 and len(payload) >= 5:
                    body = payload[5:]
                    status = body[1] if len(body) >= 2 and body[0] == 0x08 else 0
                    return status == 1, "gRPC health status %d (1 is SERVING)" % status
                elif kind == 1 and stream == 1 and flags & 0x1:
                    return False, "gRPC call ended without a response (unknown service %r?)" % service
                elif kind in (3, 7):
                    return False, "gRPC stream reset by the server"
    except OSError as exc:
        return False, "gRPC probe failed: %s" % exc
