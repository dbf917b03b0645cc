"""Run the app under Uvicorn on a socket we bind ourselves, so ``--port 0`` can say which port it got."""

from __future__ import annotations

import socket
import sys

from .config import ServeConfig


def bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def run(config: ServeConfig) -> int:
    """Serve until interrupted; 0 after a clean stop, 1 if the service could not start."""
    from . import require_serve_stack

    require_serve_stack()
    import uvicorn

    from .app import create_app

    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host

    def announce() -> None:
        # Tests and supervisors wait for this line: it is printed once the workers are ready.
        print(
            f"aigc-check serve: listening on http://{shown_host}:{port} "
            f"({config.workers} checker workers, capacity {config.capacity})",
            file=sys.stderr,
            flush=True,
        )

    app = create_app(config, on_ready=announce)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_level="warning",
            access_log=config.access_log,
            timeout_keep_alive=5,
            server_header=False,
        )
    )
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1
