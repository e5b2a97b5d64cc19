"""tonghop.portal.server: the portal's listening socket, bound by tonghop rather than uvicorn."""

from __future__ import annotations

import asyncio
import socket

import pytest
from typer.testing import CliRunner

from tonghop.cli import app
from tonghop.portal.server import listening
from validations.errors import UsageError


def _accepted_nodelay(sock: socket.socket) -> int:
    """TCP_NODELAY of a connection accepted by an asyncio server on `sock` (as uvicorn serves)."""
    seen: list[int] = []

    class Report(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            conn = transport.get_extra_info("socket")
            seen.append(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Report, sock=sock)
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    return seen[0]


def test_every_accepted_connection_has_nagle_off():
    """uvicorn's own bind for several web processes leaves the socket's protocol unnamed, and
    asyncio then leaves Nagle's algorithm on: each request after the first on a kept-alive
    connection waited ~40 ms for a delayed acknowledgement (uvicorn issue 3149)."""
    sock = listening("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    assert _accepted_nodelay(sock) != 0


def test_uvicorns_bind_would_not_have_it():
    """The reason for `listening`: a socket bound as uvicorn binds it (no protocol named)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    assert _accepted_nodelay(sock) == 0


def test_a_port_in_use_is_said_with_what_to_do():
    taken = listening("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(UsageError) as err:
            listening("127.0.0.1", port)
        assert err.value.reason == "usage.port_unusable"
        assert f"127.0.0.1:{port}" in err.value.message("en")
        assert "--port" in err.value.message("vi")
    finally:
        taken.close()


def test_serve_on_a_port_in_use_exits_before_starting_anything(tmp_path, monkeypatch):
    """`tonghop serve` says it in one sentence (exit 2, no traceback) and starts nothing."""
    import tonghop.portal.server

    def never(*_a, **_k):  # pragma: no cover - the portal must not start
        raise AssertionError("the portal started on a port it could not bind")

    monkeypatch.setattr(tonghop.portal.server, "run", never)
    monkeypatch.chdir(tmp_path)
    taken = listening("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    try:
        res = CliRunner().invoke(
            app, ["serve", "--port", str(port), "--warehouse", str(tmp_path / "wh.duckdb")]
        )
    finally:
        taken.close()
    assert res.exit_code == 2, res.output
    assert f"Không mở được cổng 127.0.0.1:{port}" in res.output
    assert "Traceback" not in res.output and "tonghop portal on" not in res.output
