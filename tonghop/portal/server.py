"""Running the portal under uvicorn: one web process, or several sharing one port.

With `workers > 1` uvicorn starts that many web processes; each builds the app from the
settings passed in the environment, and one validator process beside them judges the uploads
of all of them in common batches (tonghop.portal.shared_checker). Whatever their number, one
background worker process does the slow work (tonghop.portal.worker holds a lock file; the
others' workers wait idle).

The port is bound here, not by uvicorn (`listening`): asyncio turns Nagle's algorithm off
(TCP_NODELAY) only on connections whose socket names its protocol, and uvicorn's own bind for
several processes leaves it unnamed (uvicorn issue 3149). Every request after the first on a
kept-alive connection (a browser's, the next page or the verdict after an upload) then waited
about 40 ms for the other side's delayed acknowledgement (measured: /healthz 44 ms instead of 4).
"""

from __future__ import annotations

import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from tonghop.portal.app import create_app
from tonghop.portal.settings import ENV, PortalSettings
from tonghop.portal.shared_checker import Service
from validations.errors import UsageError


def app_from_env():  # type: ignore[no-untyped-def]
    """uvicorn's factory in each web process."""
    return create_app(PortalSettings.from_env())


def listening(host: str, port: int) -> socket.socket:
    """The portal's listening socket, its protocol named (IPPROTO_TCP) so that every accepted
    connection gets TCP_NODELAY; UsageError when the address cannot be bound (in use, not this
    machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            "usage.port_unusable", host=host, port=port, reason=exc.strerror or str(exc)
        ) from None
    sock.set_inheritable(True)
    return sock


def run(settings: PortalSettings, sock: socket.socket, workers: int = 1) -> None:
    """Serve on `sock` (from `listening`) until stopped; closes it."""
    try:
        if workers <= 1:
            config = uvicorn.Config(create_app(settings), log_level="warning")
            uvicorn.Server(config).run(sockets=[sock])
            return
        os.environ[ENV] = settings.to_json()
        checker = Service(settings).start()
        try:
            config = uvicorn.Config(
                "tonghop.portal.server:app_from_env",
                factory=True,
                workers=workers,
                log_level="warning",
            )
            Multiprocess(config, sockets=[sock]).run()
        finally:
            checker.stop()
    except KeyboardInterrupt:  # Ctrl+C: uvicorn has shut down already
        pass
    finally:
        sock.close()
