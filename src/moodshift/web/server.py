"""Running the app under uvicorn: the listening socket (bound here, so a taken port is a
one-line error), worker processes, and time limits for slow or stalled connections."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
import time
from dataclasses import replace
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


def uvicorn_options(settings: WebSettings) -> dict:
    TimedH11Protocol.header_timeout = settings.header_timeout
    return dict(http=TimedH11Protocol, backlog=LISTEN_BACKLOG, limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=5, timeout_graceful_shutdown=5,
                log_level="info" if settings.log else "warning", access_log=settings.log,
                server_header=False)


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
    settings = replace(settings, port=port, jobs_dir=jobs_dir)
    common = uvicorn_options(settings)
    previous = _stop_on_sigterm()
    try:
        if settings.workers == 1:
            server = uvicorn.Server(uvicorn.Config(guarded_app(settings), **common))
            announce(settings)
            try:
                server.run(sockets=[sock])
            except KeyboardInterrupt:
                pass  # uvicorn stopped gracefully, then passed the signal on
        else:
            from uvicorn.supervisors import Multiprocess

            os.environ[SETTINGS_ENV] = settings.to_env()
            factory = f"{app_from_env.__module__}:{app_from_env.__name__}"  # each worker's
            config = uvicorn.Config(factory, factory=True, workers=settings.workers, **common)
            announce(settings)
            try:
                Multiprocess(config, sockets=[sock]).run()
            except KeyboardInterrupt:
                pass
    finally:
        sock.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if own_jobs_dir:
            shutil.rmtree(jobs_dir, ignore_errors=True)


def _stop_on_sigterm():
    """Treat SIGTERM (service managers, `kill`) like Ctrl-C: stop cleanly, say so, exit 0."""
    def stop(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        return None


class BackgroundServer:
    """The app served by uvicorn on a thread of this process (tests and benchmarks).

    with BackgroundServer(WebSettings(port=0, ...)) as srv: urlopen(srv.url) ...
    """

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings

    def __enter__(self) -> BackgroundServer:
        import threading

        import uvicorn

        from moodshift.web.app import create_app

        self._sock = bind(self.settings)
        self.settings = replace(self.settings, port=self._sock.getsockname()[1])
        self.app = create_app(self.settings)
        self.context = self.app.state.ctx
        config = uvicorn.Config(self.app.state.guarded, **uvicorn_options(self.settings))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    @property
    def url(self) -> str:
        return self.settings.url

    @property
    def server_address(self) -> tuple[str, int]:
        return self.settings.host, self.settings.port

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(30)
        self._sock.close()
