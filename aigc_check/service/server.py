"""Run the app under Uvicorn on a socket we bind ourselves, so ``--port 0`` can say which port it got."""

from __future__ import annotations

import socket
import sys
from typing import TYPE_CHECKING, Any

from .access_log import AccessLog, client_text
from .config import ServeConfig
from .errors import ServiceError

if TYPE_CHECKING:
    from .metrics import ServiceMetrics

BACKLOG = 1024  # connections the kernel queues before the event loop accepts them (also capped by somaxconn)
# Descriptors the event loop needs besides its connections and spooled uploads: stdio, the listening
# socket, the event loop's own, the fork server's and each worker's pipe, imported libraries' files.
FD_RESERVE = 64
# Each worker's pipe, its duplicate for passing descriptors, and the process's own, with room to spare.
FD_PER_WORKER = 8
# A spooled upload: its memfd and the duplicate Python's mmap keeps of it (or one unlinked file).  Idle
# memory spools kept for reuse count here too: there are never more spools than uploads were once in
# flight together, which is at most the capacity.
FD_PER_UPLOAD = 2


def bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def fd_budget(config: ServeConfig, soft: int, hard: int, infinity: int = -1) -> tuple[int, int]:
    """``(soft limit to set, connections that fit)`` for RLIMIT_NOFILE ``(soft, hard)``.

    Each connection holds a descriptor and each spooled upload two; running out would make the event
    loop fail to accept (or to spool) instead of answering the connection limit's 503.
    """
    others = FD_PER_UPLOAD * config.capacity + FD_RESERVE + FD_PER_WORKER * config.workers
    needed = config.max_connections + others
    if soft != infinity and soft < needed:
        soft = needed if hard == infinity else min(needed, hard)
    fits = config.max_connections if soft == infinity else min(config.max_connections, soft - others)
    return soft, max(fits, 1)


def raise_fd_limit(config: ServeConfig) -> int:
    """Raise this process's soft RLIMIT_NOFILE for ``--max-connections``; the connection limit that fits."""
    try:
        import resource
    except ImportError:  # not a Unix: nothing to raise
        return config.max_connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new_soft, fits = fd_budget(config, soft, hard, resource.RLIM_INFINITY)
    if new_soft != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
    if fits < config.max_connections:
        print(
            f"aigc-check serve: warning: the open-file limit ({new_soft}) leaves room for {fits} connections, "
            f"not --max-connections {config.max_connections}; serving at most {fits}",
            file=sys.stderr,
            flush=True,
        )
    return fits


def transport_options(
    config: ServeConfig, max_connections: int, metrics: ServiceMetrics, access_log: AccessLog | None
) -> dict[str, Any]:
    """``uvicorn.Config`` arguments for the transport limits (see ``transport`` for why a protocol subclass)."""

    def rejected(client: tuple[str, int] | None, error: ServiceError, seconds: float, size: int) -> None:
        metrics.errors.labels(error.code).inc()
        if access_log is not None:
            access_log.write(client_text(client), "-", error.status, size, seconds)

    try:
        from .transport import TransportLimits, guarded_protocol
    except ImportError:  # no httptools (it is installed on CPython only): h11, with its own header cap
        print(
            "aigc-check serve: warning: httptools is not installed, so the server runs h11: a header section still "
            "unfinished past --max-header-bytes gets 400, but there is no header deadline, and connections beyond "
            "--max-connections are answered 503 only once their headers are in",
            file=sys.stderr,
            flush=True,
        )
        return {
            "http": "h11",
            "h11_max_incomplete_event_size": config.max_header_bytes,
            "limit_concurrency": max_connections,
        }
    limits = TransportLimits(config.max_header_bytes, config.header_timeout, max_connections, rejected)
    return {"http": guarded_protocol(limits)}


def run(config: ServeConfig) -> int:
    """Serve until interrupted; 0 after a clean stop, 1 if the service could not start."""
    from . import require_serve_stack

    require_serve_stack()
    import uvicorn

    from .allocator import keep_large_buffers_in_heap
    from .app import create_app

    keep_large_buffers_in_heap()  # before the first request: see allocator.py for why
    max_connections = raise_fd_limit(config)
    sock = bind(config.host, config.port)
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host

    def announce() -> None:
        # Tests and supervisors wait for this line: it is printed once the workers are ready.
        print(
            f"aigc-check serve: listening on http://{shown_host}:{port} "
            f"({config.workers} checker workers, capacity {config.capacity}, at most {max_connections} connections)",
            file=sys.stderr,
            flush=True,
        )

    app = create_app(config, on_ready=announce)
    metrics: ServiceMetrics = app.state.service.metrics
    access_log: AccessLog | None = app.state.service.access_log
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_level="warning",
            access_log=False,  # ours (access_log.py) has the bytes and the time, and goes to stderr
            timeout_keep_alive=config.keep_alive_timeout,  # type: ignore[arg-type]  # a float works (call_later)
            backlog=BACKLOG,
            ws="none",  # no WebSocket routes: an upgrade would hand the connection to an unguarded protocol
            server_header=False,
            **transport_options(config, max_connections, metrics, access_log),
        )
    )
    metrics.watch_connections(lambda: len(server.server_state.connections))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1
