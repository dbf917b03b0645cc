"""``POST /v1/mark``: the uploaded file back, marked (``aigc-check mark`` over HTTP).

The upload is received exactly as for ``/v1/check`` (raw body or multipart, the same size, time
and in-flight limits).  Query parameters: ``declared``, ``propagator`` (default: the
``AIGC_SERVE_PROPAGATOR`` environment variable), ``propagate_id`` (a template as for ``mark``;
default ``AIGC_SERVE_PROPAGATE_ID``, else ``{sha256}``), ``post_id``, and ``reply`` (``header``, the
default, or ``multipart``).

Answers: 200 with the output file as the body (marked, updated, or copied unchanged) and the
``aigc-check-mark/1`` record, base64 JSON, in ``X-Aigc-Check-Result`` (and the action in
``X-Aigc-Check-Action``); with ``reply=multipart``, or when the record would make a header over
``MAX_RESULT_HEADER`` bytes, a ``multipart/mixed`` body: the record (``application/json``), then the
file.  409 (refused: a C2PA manifest, an unreadable label) and 422 (the file cannot be read or
rewritten) answer JSON ``{"error": {...}, "result": record}``; 400 a bad value.

Marking runs in its own small pool of processes (``MarkWorkers``, forkserver, one ``Checker`` each,
the memory cap applied), so a hostile file cannot take the server down; a mark that outlives the
service's ``--timeout`` ends the pool's processes (a new pool starts with the next request) and is
answered 504.  The service's worker pool is not used: its protocol is the check's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import multiprocessing
import os
import secrets
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..checker import CheckOptions
from ..errors import UsageError
from ..model import Declared
from .errors import BadRequestError, CheckTimeoutError, OverloadedError, WorkerCrashedError
from .upload import Upload, receive_upload

MARK_PATH = "/v1/mark"
RESULT_HEADER = "X-Aigc-Check-Result"
ACTION_HEADER = "X-Aigc-Check-Action"
MAX_RESULT_HEADER = 32 * 1024  # larger records go in a multipart body (clients cap a header line near 64 KiB)
STATUS = {"marked": 200, "updated": 200, "copied-unchanged": 200, "refused": 409, "error": 422}

_worker_checker: Any = None  # the Checker of a mark worker process, built by _init_worker


def _init_worker(options: CheckOptions) -> None:
    global _worker_checker
    from ..checker import Checker
    from ..deadline import limit_memory

    limit_memory(options.memory_limit_mb)
    _worker_checker = Checker(options)


def _mark_in_worker(
    data: bytes, declared: str, name: str, propagator: str, propagate_id: str, post_id: str | None
) -> tuple[dict, bytes | None, str | None]:
    from ..mark.core import Propagation, mark_bytes

    result = mark_bytes(_worker_checker, data, Propagation(propagator, propagate_id), declared, name, post_id)
    return result.to_dict(), result.data, result.check.media_type


def _spooled_bytes(upload: Upload) -> bytes:
    chunks, at = [], 0
    while at < upload.size:
        chunk = os.pread(upload.fd, min(upload.size - at, 1 << 24), at)
        if not chunk:
            break
        chunks.append(chunk)
        at += len(chunk)
    return b"".join(chunks)


class MarkWorkers:
    """A ``ProcessPoolExecutor`` of mark workers, started on first use and replaced whole when one
    of its marks must be stopped (an executor cannot stop one task)."""

    def __init__(self, options: CheckOptions, size: int) -> None:
        self.options, self.size = options, size
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.size,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=_init_worker,
                initargs=(self.options,),
            )
        return self._executor

    def reset(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # ProcessPoolExecutor has no public way to stop a running task: end its processes.
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    async def mark(self, timeout: float, *args: Any) -> tuple[dict, bytes | None, str | None]:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self.executor(), _mark_in_worker, *args), timeout)
        except asyncio.TimeoutError:
            self.reset()
            raise CheckTimeoutError(f"marking took longer than the {timeout:g} s limit; it was stopped") from None
        except BrokenProcessPool:
            self.reset()
            raise WorkerCrashedError("the marking process died while marking this file") from None


def _workers(request: Request) -> MarkWorkers:
    state = request.app.state
    workers = getattr(state, "mark_workers", None)
    if workers is None:
        config = state.service.config
        workers = state.mark_workers = MarkWorkers(config.check_options, config.workers)
    return workers


def _values(request: Request) -> tuple[str, str, str | None, str]:
    from ..mark.core import Propagation

    q = request.query_params
    propagator = q.get("propagator") or os.environ.get("AIGC_SERVE_PROPAGATOR", "")
    propagate_id = q.get("propagate_id") or os.environ.get("AIGC_SERVE_PROPAGATE_ID", "") or "{sha256}"
    reply = q.get("reply", "header")
    if reply not in ("header", "multipart"):
        raise BadRequestError("reply must be header or multipart", "bad-value")
    try:
        Propagation(propagator, propagate_id).warnings()
    except UsageError as exc:
        raise BadRequestError(f"{exc} (give propagator, or set AIGC_SERVE_PROPAGATOR)", "bad-value") from None
    return propagator, propagate_id, q.get("post_id") or None, reply


def _multipart(record: bytes, data: bytes, media_type: str) -> tuple[bytes, str]:
    boundary = "aigc-mark-" + secrets.token_hex(12)
    body = (
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode() + record + b"\r\n"
        + f"--{boundary}\r\nContent-Type: {media_type}\r\n\r\n".encode() + data + b"\r\n"
        + f"--{boundary}--\r\n".encode()
    )  # fmt: skip
    return body, f'multipart/mixed; boundary="{boundary}"'


async def mark_file(request: Request) -> Response:
    from .app import ServiceState, _declared

    state: ServiceState = request.app.state.service
    config = state.config
    propagator, propagate_id, post_id, reply = _values(request)
    if state.in_flight >= config.capacity:
        raise OverloadedError(f"{state.in_flight} requests in flight (limit {config.capacity}); retry shortly")
    state.in_flight += 1  # the metrics' gauge reads it at scrape time
    upload: Upload | None = None
    started = time.perf_counter()
    try:
        query_declared = _declared(request.query_params.get("declared"))
        upload = await receive_upload(request, state.spool, config.max_bytes, config.read_timeout)
        declared: Declared = _declared(upload.declared, query_declared)
        # mark rewrites the whole file in memory: the spool's bytes go to the worker as they are (the
        # upload has no name on disk to hand over, only its descriptor).
        original = await asyncio.to_thread(_spooled_bytes, upload)
        record, data, media_type = await _workers(request).mark(
            config.timeout, original, declared.value, upload.name, propagator, propagate_id, post_id
        )
    finally:
        state.in_flight -= 1
        if upload is not None:
            upload.discard()
    status = STATUS[record["action"]]
    timing = {"Server-Timing": f"total;dur={(time.perf_counter() - started) * 1000:.3f}"}
    if status != 200 or data is None:
        error = {"code": record.get("reason") or record["action"], "message": "; ".join(record["notes"])}
        return JSONResponse({"error": error, "result": record}, status_code=status, headers=timing)
    encoded = json.dumps(record, ensure_ascii=False).encode("utf-8")
    header = base64.b64encode(encoded).decode("ascii")
    media = media_type or "application/octet-stream"
    if reply == "multipart" or len(header) > MAX_RESULT_HEADER:
        body, content_type = _multipart(encoded, data, media)
        return Response(body, media_type=content_type, headers={ACTION_HEADER: record["action"], **timing})
    headers = {RESULT_HEADER: header, ACTION_HEADER: record["action"], **timing}
    return Response(data, media_type=media, headers=headers, background=BackgroundTask(lambda: None))


def mark_routes() -> list[Route]:
    return [Route(MARK_PATH, mark_file, methods=["POST"])]
