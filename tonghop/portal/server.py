"""Running the portal under uvicorn: one web process, or several sharing one port.

With `workers > 1` uvicorn starts that many web processes; each builds the app from the
settings passed in the environment, and one validator process beside them judges the uploads
of all of them in common batches (tonghop.portal.shared_checker). Whatever their number, one
background worker process does the slow work (tonghop.portal.worker holds a lock file; the
others' workers wait idle).
"""

from __future__ import annotations

import os

import uvicorn

from tonghop.portal.app import create_app
from tonghop.portal.settings import ENV, PortalSettings
from tonghop.portal.shared_checker import Service


def app_from_env():  # type: ignore[no-untyped-def]
    """uvicorn's factory in each web process."""
    return create_app(PortalSettings.from_env())


def run(settings: PortalSettings, host: str, port: int, workers: int = 1) -> None:
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
        return
    os.environ[ENV] = settings.to_json()
    checker = Service(settings).start()
    try:
        uvicorn.run(
            "tonghop.portal.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
    finally:
        checker.stop()
