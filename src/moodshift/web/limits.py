"""ASGI middleware that guards every request before the app sees it: the Host header, the
request body's size and pace, and the response headers that keep pages from being misused."""

from __future__ import annotations

import asyncio
import json

# A body over the limit is still read (and dropped), up to this much more, so the client gets
# its 413 instead of a connection reset; past this the connection is closed.
DRAIN_EXTRA_BYTES = 64 * 1024 * 1024
BODY_METHODS = {"POST", "PUT", "PATCH"}

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    # Everything the pages need comes from this server; no inline script, no other origin.
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
     b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
]


async def send_error(send, status: int, message: str, close: bool = False,
                     headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class HostCheck:
    """Answer only requests addressed to an allowed host name (403 otherwise)."""

    def __init__(self, app, allowed: frozenset[str] | None, url: str) -> None:
        self.app, self.allowed, self.url = app, allowed, url

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.allowed is None:
            return await self.app(scope, receive, send)
        host = (_header(scope, b"host") or "").strip().lower()
        name = host if host.endswith("]") else host.rsplit(":", 1)[0]
        if name.strip("[]") not in self.allowed:
            shown = "".join(c for c in host if c.isprintable())[:100] or "(missing)"
            return await send_error(send, 403, f"Host: {shown} is not this machine; open "
                                               f"{self.url} instead")
        return await self.app(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                message = {**message, "headers": list(message.get("headers", []))
                           + [h for h in SECURITY_HEADERS if h[0] not in names]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class _Disconnected(Exception):
    pass


class BodyLimit:
    """Read the whole request body first, within a size limit and a time limit.

    Over the size: 413 with a JSON message (after draining what the client sends, so it reads
    the reply instead of a reset). Too slow: 408. The app then reads the body from memory, so a
    slow client never holds a worker thread.
    """

    def __init__(self, app, max_bytes: int, timeout: float) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        limit_mb = self.max_bytes / (1024 * 1024)
        too_large = f"body: larger than the {limit_mb:g} MB upload limit"
        declared = _header(scope, b"content-length")
        try:
            if declared is not None and declared.strip().isdigit() \
                    and int(declared) > self.max_bytes:
                drained = await self._drain(receive, int(declared))
                return await send_error(send, 413, too_large, close=not drained)
            chunks, size = [], 0
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.timeout
            while True:
                message = await self._next(receive, deadline - loop.time())
                if message is None:
                    return await send_error(send, 408, f"body: not received within "
                                                       f"{self.timeout:g} s", close=True)
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_bytes:
                    drained = message.get("more_body", False) is False or \
                        await self._drain(receive, None)
                    return await send_error(send, 413, too_large, close=not drained)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        except _Disconnected:
            return None  # the client hung up: nothing to answer, nothing to log
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only the disconnect remains

        return await self.app(scope, replay, send)

    async def _next(self, receive, seconds: float):
        if seconds <= 0:
            return None
        try:
            message = await asyncio.wait_for(receive(), seconds)
        except asyncio.TimeoutError:
            return None
        if message["type"] == "http.disconnect":
            raise _Disconnected
        return message

    async def _drain(self, receive, declared: int | None) -> bool:
        """Read and drop the rest of the body; True when it all arrived in time."""
        if declared is not None and declared > self.max_bytes + DRAIN_EXTRA_BYTES:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        dropped = 0
        while dropped <= self.max_bytes + DRAIN_EXTRA_BYTES:
            message = await self._next(receive, deadline - loop.time())
            if message is None:
                return False
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
        return False
