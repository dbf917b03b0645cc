"""``aigc-check serve``: its options (each with an ``AIGC_SERVE_*`` variable) and its start, over
``service.server.run``.  The command group adds it (``cli.py``)."""

from __future__ import annotations

import click

from . import Checker, CheckOptions
from .cli_options import ExitStatus, checker_options
from .service.config import ServeConfig, format_size, parse_size


def _serve_env(name: str) -> str:
    return f"AIGC_SERVE_{name}"


@click.command("serve")
@click.option(
    "--host",
    default=ServeConfig.host,
    show_default=True,
    envvar=_serve_env("HOST"),
    help="Address to listen on (loopback by default: put it behind the gateway's own host).",
)
@click.option(
    "--port",
    default=ServeConfig.port,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar=_serve_env("PORT"),
    help="Port to listen on; 0 picks a free one (printed on stderr when ready).",
)
@click.option(
    "--workers",
    default=ServeConfig.workers,
    show_default=True,
    type=click.IntRange(1, 256),
    envvar=_serve_env("WORKERS"),
    help="Checker processes.",
)
@click.option(
    "--queue",
    default=ServeConfig.queue,
    show_default=True,
    type=click.IntRange(0),
    envvar=_serve_env("QUEUE"),
    help="Requests admitted beyond the workers (uploading or waiting); more get 503 + Retry-After.",
)
@click.option(
    "--max-bytes",
    default=format_size(ServeConfig.max_bytes),
    show_default=True,
    envvar=_serve_env("MAX_BYTES"),
    help="Largest file accepted (bytes, or with K/M/G); larger gets 413.",
)
@click.option(
    "--timeout",
    default=ServeConfig.timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    envvar=_serve_env("TIMEOUT"),
    help="Seconds one check may take; past it 504 and the worker is replaced.",
)
@click.option(
    "--read-timeout",
    default=ServeConfig.read_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    envvar=_serve_env("READ_TIMEOUT"),
    help="Seconds a client has to send the whole upload; past it 408.",
)
@click.option(
    "--tmp-dir",
    type=click.Path(exists=True, file_okay=False),
    envvar=_serve_env("TMP_DIR"),
    help="Where the private upload folder is made (default: the system temp folder).",
)
@click.option(
    "--max-header-bytes",
    default=format_size(ServeConfig.max_header_bytes),
    show_default=True,
    envvar=_serve_env("MAX_HEADER_BYTES"),
    help="Largest request line + header fields (bytes, or with K/M); larger gets 431 and the connection closed.",
)
@click.option(
    "--header-timeout",
    default=ServeConfig.header_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    envvar=_serve_env("HEADER_TIMEOUT"),
    help="Seconds a client has to send a request's headers (from the connection's start or the request's "
    "first byte); past it 408 and the connection closed.",
)
@click.option(
    "--max-connections",
    default=ServeConfig.max_connections,
    show_default=True,
    type=click.IntRange(1),
    envvar=_serve_env("MAX_CONNECTIONS"),
    help="Open connections; one more is answered 503 + Retry-After and closed at once.",
)
@click.option(
    "--keep-alive-timeout",
    default=ServeConfig.keep_alive_timeout,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    envvar=_serve_env("KEEP_ALIVE_TIMEOUT"),
    help="Seconds an idle keep-alive connection stays open between requests.",
)
@click.option(
    "--access-log",
    is_flag=True,
    envvar=_serve_env("ACCESS_LOG"),
    help="Write one line per request on stderr: method, path, status, bytes, time.",
)
@click.option(
    "--memory-spool",
    default=format_size(ServeConfig.memory_spool_bytes),
    show_default=True,
    envvar=_serve_env("MEMORY_SPOOL"),
    help="Uploads up to this size are held in memory, larger ones in an unlinked file in --tmp-dir "
    "(bytes, or with K/M/G; 0: always a file).",
)
@click.option(
    "--allow-root",
    "allow_roots",
    multiple=True,
    type=click.Path(file_okay=False),
    envvar=_serve_env("ALLOW_ROOT"),
    help='A folder whose files may be checked by reference (JSON {"path": ...}); repeatable. The path is '
    "resolved (symlinks, ..) and must stay inside. None by default: by-path requests get 403.",
)
@click.option(
    "--allow-uri-prefix",
    "allow_uri_prefixes",
    multiple=True,
    envvar=_serve_env("ALLOW_URI_PREFIX"),
    help="An object URI prefix (s3://bucket/uploads/) whose objects may be checked by reference (JSON "
    '{"uri": ...}), read by ranges through fsspec; repeatable. None by default: by-URI requests get 403.',
)
@checker_options(env_prefix="AIGC_SERVE_")
def serve_command(
    host: str,
    port: int,
    workers: int,
    queue: int,
    max_bytes: str,
    timeout: float,
    read_timeout: float,
    tmp_dir: str | None,
    max_header_bytes: str,
    header_timeout: float,
    max_connections: int,
    keep_alive_timeout: float,
    access_log: bool,
    memory_spool: str,
    allow_roots: tuple[str, ...],
    allow_uri_prefixes: tuple[str, ...],
    options: CheckOptions,
) -> ExitStatus:
    """Serve checks over HTTP: POST /v1/check, GET /healthz, GET /metrics, and a check-your-file page at /.

    POST /v1/check takes the file as the raw body or multipart/form-data, or, with --allow-root or
    --allow-uri-prefix, a JSON reference to a file on this host or an object in storage:
    {"path": "/abs/path", "declared": "none"} or {"uri": "s3://bucket/key"} (also "name").
    """
    from .service import require_serve_stack

    require_serve_stack()
    Checker(options)  # a bad policy, anchor or fingerprint file fails here, before any worker starts
    config = ServeConfig(
        host=host,
        port=port,
        workers=workers,
        queue=queue,
        max_bytes=parse_size(max_bytes),
        timeout=timeout,
        read_timeout=read_timeout,
        tmp_dir=tmp_dir,
        max_header_bytes=parse_size(max_header_bytes),
        header_timeout=header_timeout,
        max_connections=max_connections,
        keep_alive_timeout=keep_alive_timeout,
        access_log=access_log,
        memory_spool_bytes=parse_size(memory_spool),
        allow_roots=allow_roots,
        allow_uri_prefixes=allow_uri_prefixes,
        check_options=options,
    )
    from .service.server import run

    return ExitStatus.COMPLIANT if run(config) == 0 else ExitStatus.NOT_STARTED
