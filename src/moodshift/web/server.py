"""Running the app under uvicorn: the listening socket (bound here, so a taken port is a
one-line error), worker processes, and time limits for slow or stalled connections."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

from uvicorn.protocols.http.h11_impl import H11Protocol

from moodshift.errors import UserError
from moodshift.web.settings import WebSettings

# The kernel's queue of connections not yet accepted: 64 clients connecting at once must not
# see resets (the kernel caps this at net.core.somaxconn).
LISTEN_BACKLOG = 2048
# Connections and requests at once before uvicorn itself answers 503 (the pool's own 503 comes
# much earlier; this bounds sockets held by idle clients).
MAX_CONNECTIONS = 1000


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol plus a deadline for the request headers.

    uvicorn times out idle keep-alive connections, but not one that connects and then sends
    its headers slowly or never; such a connection is closed after header_timeout seconds.
    (The body has its own limit, in moodshift.web.limits.BodyLimit.)
    """

    header_timeout = 15.0

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        previous = getattr(self, "_header_deadline", None)
        if previous is not None:
            previous.cancel()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._header_expired)

    def _header_expired(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc) -> None:
        previous = getattr(self, "_header_deadline", None)
        if previous is not None:
            previous.cancel()
        super().connection_lost(exc)


def bind(settings: WebSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        sock = socket.create_server((settings.host, settings.port), family=family,
                                    backlog=LISTEN_BACKLOG)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot listen on {settings.host}:{settings.port} ({reason}); "
                        "choose another --port or --host") from None
    sock.set_inheritable(True)  # worker processes serve this same socket
    return sock


def serve(settings: WebSettings, announce) -> None:
    """Bind, then serve until Ctrl-C or SIGTERM (both stop cleanly)."""
    import uvicorn

    from moodshift.web.app import SETTINGS_ENV, app_from_env, guarded_app

    sock = bind(settings)
    port = sock.getsockname()[1]
    jobs_dir = settings.jobs_dir
    own_jobs_dir = jobs_dir is None and settings.workers > 1
    if own_jobs_dir:  # the workers share one folder of optimize jobs
        jobs_dir = Path(tempfile.mkdtemp(prefix="moodshift-jobs-"))
    settings = WebSettings(**{**settings.__dict__, "port": port, "jobs_dir": jobs_dir})
    TimedH11Protocol.header_timeout = settings.header_timeout
    common = dict(http=TimedH11Protocol, backlog=LISTEN_BACKLOG,
                  limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5,
                  timeout_graceful_shutdown=5, log_level="info" if settings.log else "warning",
                  access_log=settings.log, server_header=False)
    try:
        if settings.workers == 1:
            config = uvicorn.Config(guarded_app(settings), **common)
            server = uvicorn.Server(config)
            announce(settings)
            server.run(sockets=[sock])
        else:
            from uvicorn.supervisors import Multiprocess

            os.environ[SETTINGS_ENV] = settings.to_env()
            assert app_from_env  # the factory each worker imports
            config = uvicorn.Config("moodshift.web.app:app_from_env", factory=True,
                                    workers=settings.workers, **common)
            server = uvicorn.Server(config)
            announce(settings)
            Multiprocess(config, target=server.run, sockets=[sock]).run()
    finally:
        sock.close()
        if own_jobs_dir:
            import shutil

            shutil.rmtree(jobs_dir, ignore_errors=True)
        sys.stderr.flush()
