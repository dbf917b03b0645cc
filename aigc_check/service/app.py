"""The HTTP routes (Starlette).

``POST /v1/check``  the file (raw body or multipart), or a JSON reference to a file or object
                    (``reference.py``) -> the ``aigc-check/1`` JSON object, 200
``GET /healthz``    liveness and the pool's state
``GET /metrics``    Prometheus text exposition
``GET /``           the creator's check-your-file page (static, same-origin only)

Every error is JSON ``{"error": {"code", "message"}}`` with the status its
:class:`~aigc_check.service.errors.ServiceError` carries.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..errors import DeclarationError
from ..model import Declared
from .access_log import AccessLog, client_text, request_text
from .allowed_path import PATHS_OFF
from .config import ServeConfig
from .errors import BadRequestError, OverloadedError, PathNotAllowedError, ServiceError, error_body
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import ServiceMetrics
from .page_text import page_html
from .policy_info import ADVICE_PATH, POLICY_PATH, policy_routes
from .pool import CheckJob, CheckReply, WorkerPool
from .reference import Reference, check_uri, receive_reference
from .upload import MemorySpools, SpoolPlace, Upload, display_name, receive_upload

# The page loads nothing from elsewhere; the policy makes the browser enforce that too.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
PAGE_ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
}
KNOWN_ENDPOINTS = {"/v1/check", "/healthz", "/metrics", POLICY_PATH, ADVICE_PATH, *PAGE_ASSETS}


@dataclass
class ServiceState:
    config: ServeConfig
    pool: WorkerPool
    metrics: ServiceMetrics
    spool: SpoolPlace = field(default_factory=lambda: SpoolPlace("", 0, None))  # made by the lifespan
    in_flight: int = 0
    assets: dict[str, bytes] = field(default_factory=dict)
    access_log: AccessLog | None = None  # with --access-log

    def pool_state(self) -> dict[str, int]:
        return {
            "size": self.pool.size,
            "alive": self.pool.alive,
            "idle": self.pool.idle,
            "restarts": self.pool.restarts,
        }


def _json_error(exc: ServiceError) -> JSONResponse:
    headers = {"Connection": "close"} if exc.status in (408, 413, 415) else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def _declared(value: str | None, default: Declared = Declared.NONE) -> Declared:
    try:
        return Declared.parse(value, default)
    except DeclarationError as exc:
        raise BadRequestError(str(exc), "bad-declared") from None


JSON_TYPES = ("application/json",)
# Pages of idle memory spools kept for the next uploads: enough for 16 clients' 3 MB uploads at once
# and then some (fewer kept made 16 clients create and unmap spools on every request).
KEEP_SPOOL_BYTES = 128 * 1024**2


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def check_file(request: Request) -> Response:
    """``POST /v1/check``: a JSON body is a reference (``reference.py``), anything else an upload."""
    state: ServiceState = request.app.state.service
    config = state.config
    if state.in_flight >= config.capacity:
        raise OverloadedError(f"{state.in_flight} requests in flight (limit {config.capacity}); retry shortly")
    state.in_flight += 1  # the metrics' gauge reads it at scrape time
    try:
        query_declared = _declared(request.query_params.get("declared"))
        if _media_type(request) in JSON_TYPES:
            return await _check_reference(request, state, query_declared)
        return await _check_upload(request, state, query_declared)
    finally:
        state.in_flight -= 1


async def _check_upload(request: Request, state: ServiceState, query_declared: Declared) -> Response:
    config = state.config
    started = time.perf_counter()
    upload = await receive_upload(request, state.spool, config.max_bytes, config.read_timeout)
    try:
        declared = _declared(upload.declared, query_declared)  # the form's part, when it has one
        check_started = time.perf_counter()
        reply = await state.pool.check(CheckJob.for_fd(declared, upload.name), config.timeout, upload.fd)
        state.metrics.upload_bytes.observe(upload.size)
    except BaseException:
        upload.discard()
        raise
    # Freeing a large upload's pages takes a while: do it right after the answer is sent, still
    # inside this request (an async task: Starlette would run a plain function in a thread).
    return _answer(state, reply, "upload", started, check_started, _discard_upload, upload)


async def _check_reference(request: Request, state: ServiceState, query_declared: Declared) -> Response:
    config = state.config
    started = time.perf_counter()
    reference: Reference = await receive_reference(request, config.read_timeout)
    declared = _declared(reference.declared, query_declared)
    # As for a raw upload, ``name`` may come in the query too; the body's wins.  Without one, the
    # result shows the path or URI as sent (the client's own name for it).
    given_name = reference.name or request.query_params.get("name")
    name = display_name(given_name) if given_name else reference.display
    if reference.uri is not None:
        check_uri(reference.uri, config.allow_uri_prefixes)
        check_started = time.perf_counter()
        reply = await state.pool.check(CheckJob.for_uri(reference.uri, declared, name), config.timeout)
        return _answer(state, reply, "open", started, check_started)
    assert reference.path is not None  # parse_reference: exactly one of path and uri
    if not config.allow_roots:  # refused here: no worker hop for what no root could allow
        raise PathNotAllowedError(PATHS_OFF)
    # The worker resolves, opens and checks the path in one job (allowed_path.py): the event loop
    # never waits on the file system, and a path outside the roots comes back as 403.
    check_started = time.perf_counter()
    reply = await state.pool.check(CheckJob.for_path(reference.path, declared, name), config.timeout)
    return _answer(state, reply, "open", started, check_started)


class CheckEndpoint:
    """``POST /v1/check`` as the route's ASGI app rather than a request function: Starlette wraps a
    function in ``request_response`` and a second exception wrapper, some twenty Python calls a
    request on the event loop, which is the service's bottleneck.  An error raised here reaches the
    same handlers (``ExceptionMiddleware`` wraps every route with them), so the answers are the same."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await check_file(Request(scope, receive, send))
        await response(scope, receive, send)


def _answer(
    state: ServiceState,
    reply: CheckReply,
    stage: str,
    started: float,
    check_started: float,
    after: Callable[[Upload], Awaitable[None]] | None = None,
    upload: Upload | None = None,
) -> Response:
    """The check's JSON with ``Server-Timing`` (W3C): the service's own time split into receiving the
    upload (or reading and opening the reference), the worker hop, and the total."""
    done = time.perf_counter()
    state.metrics.check_latency.observe(done - check_started)
    state.metrics.verdicts_by[(reply.verdict,)].inc()
    timing = (
        f"{stage};dur={(check_started - started) * 1000:.3f}, "
        f"check;dur={(done - check_started) * 1000:.3f}, total;dur={(done - started) * 1000:.3f}"
    )
    background = BackgroundTask(after, upload) if after is not None and upload is not None else None
    return Response(reply.body, media_type="application/json", headers={"Server-Timing": timing}, background=background)


async def _discard_upload(upload: Upload) -> None:
    upload.discard()


async def healthz(request: Request) -> Response:
    state: ServiceState = request.app.state.service
    pool = state.pool_state()
    healthy = pool["alive"] > 0
    body = {
        "status": "ok" if healthy else "unavailable",
        "version": __version__,
        "workers": pool,
        "in_flight": state.in_flight,
        "capacity": state.config.capacity,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


async def metrics(request: Request) -> Response:
    state: ServiceState = request.app.state.service
    return Response(state.metrics.render(), media_type=METRICS_CONTENT_TYPE)


async def page_asset(request: Request) -> Response:
    state: ServiceState = request.app.state.service
    _, media_type = PAGE_ASSETS[request.url.path]
    if request.url.path == "/":  # the page in the visitor's language (page_text.py)
        body = page_html(
            state.assets["/"],
            state.config.check_options.policy,
            request.headers.get("accept-language"),
            request.query_params.get("lang"),
        )
        return Response(body, media_type=media_type, headers={**PAGE_HEADERS, "Vary": "Accept-Language"})
    return Response(state.assets[request.url.path], media_type=media_type, headers=PAGE_HEADERS)


async def service_error(request: Request, exc: ServiceError) -> Response:
    request.app.state.service.metrics.errors.labels(exc.code).inc()
    return _json_error(exc)


async def http_error(request: Request, exc: HTTPException) -> Response:
    code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    request.app.state.service.metrics.errors.labels(code).inc()
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    request.app.state.service.metrics.errors.labels("internal-error").inc()
    return JSONResponse(error_body("internal-error", f"{type(exc).__name__}: {exc}"), status_code=500)


class MetricsMiddleware:
    """Counts every answer by endpoint and status, times it, and writes its access line (with
    ``--access-log``).  Pure ASGI: no per-request task."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, access_log: AccessLog | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        endpoint = scope["path"] if scope["path"] in KNOWN_ENDPOINTS else "other"
        status = 0
        size = 0
        recorded = False

        def record(final_status: int) -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                elapsed = time.perf_counter() - started
                self.metrics.requests_by[endpoint, str(final_status)].inc()
                self.metrics.latency_by[(endpoint,)].observe(elapsed)
                if self.access_log is not None:
                    self.access_log.write(
                        client_text(scope.get("client")), request_text(scope), final_status, size, elapsed
                    )

        async def send_and_note(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)
            # Counted when the answer is out, not after background clean-up, so a client that
            # scrapes /metrics right after its answer sees its request.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                record(status)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            record(status or 500)


def _load_assets() -> dict[str, bytes]:
    static = resources.files(__package__).joinpath("static")
    return {route: static.joinpath(filename).read_bytes() for route, (filename, _) in PAGE_ASSETS.items()}


def create_app(config: ServeConfig, on_ready: Callable[[], None] | None = None) -> Starlette:
    """The ASGI app; its lifespan starts the worker pool and owns the private upload folder."""
    pool = WorkerPool(config.check_options, config.workers, allow_roots=config.allow_roots)
    # metrics=None only until the next line: the metrics need the state's pool_state to exist first.
    state = ServiceState(
        config=config,
        pool=pool,
        metrics=None,  # type: ignore[arg-type]
        assets=_load_assets(),
        access_log=AccessLog() if config.access_log else None,
    )
    state.metrics = ServiceMetrics(state.pool_state, lambda: state.in_flight)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        folder = tempfile.mkdtemp(prefix="aigc-check-serve-", dir=config.tmp_dir)  # mode 0700
        in_memory = config.memory_spool_bytes > 0 and MemorySpools.available()
        spools = MemorySpools(KEEP_SPOOL_BYTES, config.memory_spool_bytes) if in_memory else None
        state.spool = SpoolPlace(folder, config.memory_spool_bytes, spools)
        try:
            await pool.start()
            if on_ready is not None:
                on_ready()
            yield
        finally:
            await pool.close()
            if spools is not None:
                spools.close()
            shutil.rmtree(folder, ignore_errors=True)

    routes = [
        Route("/v1/check", CheckEndpoint(), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *policy_routes(),
        *__import__("aigc_check.service.mark_route", fromlist=["mark_routes"]).mark_routes(),  # POST /v1/mark
        *(Route(path, page_asset, methods=["GET"]) for path in PAGE_ASSETS),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        # Starlette types every handler as taking any Exception; each of these takes the class it is
        # registered for, which is what Starlette hands it.
        exception_handlers={
            ServiceError: service_error,  # type: ignore[dict-item]
            HTTPException: http_error,  # type: ignore[dict-item]
            Exception: unexpected_error,
        },
    )
    app.state.service = state
    app.add_middleware(MetricsMiddleware, metrics=state.metrics, access_log=state.access_log)
    return app
