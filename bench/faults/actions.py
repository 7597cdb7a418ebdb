"""What the connection-level and header faults do to one exchange (aiohttp specifics).

:func:`reset_connection` drops the TCP connection with a reset and no answer; :func:`trickle`
sends a ready answer's headers, then its body a few bytes at a time; :func:`gateway_page` is the
HTML a proxy in front of a provider answers with; :func:`spoil_signature` replaces a signature
header with a well-formed but wrong one.
"""

from __future__ import annotations

import hashlib
import math
import socket
import struct
from collections.abc import Mapping
from typing import Final

from aiohttp import web

from ..emulators.common import Sleeper

__all__ = ["gateway_page", "reset_connection", "spoil_signature", "trickle"]

_MAX_WRITES: Final = 256
_REASONS: Final[Mapping[int, str]] = {502: "Bad Gateway", 503: "Service Temporarily Unavailable",
                                      504: "Gateway Time-out"}


def reset_connection(request: web.Request) -> web.Response:
    """Abort the connection (``SO_LINGER`` 0: a TCP RST); the returned answer is never sent."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except (OSError, AttributeError, TypeError):
                pass  # a plain close then
        transport.abort()
    return web.Response(status=500, text="connection reset")


async def trickle(request: web.Request, response: web.Response, body: bytes, *, seconds: float,
                  chunk: int, sleeper: Sleeper) -> web.StreamResponse:
    """Send ``response`` (with ``Content-Length``) in pieces of ``chunk`` bytes (more for big
    bodies: at most 256 writes), the last one ``seconds`` after the first. A client that gives
    up ends it quietly; a shutting-down server resets the connection."""
    out = web.StreamResponse(status=response.status, reason=response.reason)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            out.headers.add(name, value)
    out.content_length = len(body)
    size = max(chunk, math.ceil(len(body) / _MAX_WRITES))
    pieces = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    pause = seconds / max(len(pieces) - 1, 1)
    try:
        await out.prepare(request)
        for i, piece in enumerate(pieces):
            if i and not await sleeper.sleep(pause):
                reset_connection(request)
                return out
            await out.write(piece)
        await out.write_eof()
    except ConnectionError:
        pass  # the client gave up: nothing more to send
    return out


def gateway_page(status: int) -> web.Response:
    """An nginx-style error page, as a proxy in front of the provider sends."""
    reason = _REASONS.get(status, "Server Error")
    page = (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n")
    return web.Response(status=status, text=page, content_type="text/html")


def spoil_signature(response: web.Response, header: str, body: bytes) -> None:
    """Replace ``header`` with a value of the same form that does not sign ``body``."""
    given = response.headers[header]
    wrong = hashlib.sha256(b"not-the-secret" + body).hexdigest()[:len(given)]
    response.headers[header] = wrong if wrong != given else wrong[::-1]
