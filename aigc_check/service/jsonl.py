"""``aigc-check check --stdin-jsonl``: a long-lived checker behind a pipe, base install only.

One request per line, ``{"path": ..., "declared": ..., "id": ...}`` (``declared`` and
``id`` optional); one JSON line back per request, flushed at once: the
``aigc-check/1`` object (with ``id`` echoed when given) or
``{"error": {"code", "message"}, "id": ...}`` for a line that is not a valid
request.  Blank lines are skipped; the loop ends at end of input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from ..checker import Checker
from ..errors import DeclarationError
from ..model import Declared
from .errors import error_body


@dataclass
class LineRequest:
    path: str
    declared: Declared
    id: Any = None
    has_id: bool = False


class BadLineError(ValueError):
    """A request line that is not a JSON object with a usable path and declaration."""


def parse_request(line: str, default_declared: Declared) -> LineRequest:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLineError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise BadLineError('a request is a JSON object like {"path": "photo.jpg", "declared": "none"}')
    path = obj.get("path")
    if not isinstance(path, str) or not path:
        raise BadLineError('"path" must be a non-empty string')
    try:
        declared = Declared.parse(obj.get("declared"), default_declared)
    except DeclarationError as exc:
        raise BadLineError(f'"declared": {exc}') from None
    return LineRequest(path=path, declared=declared, id=obj.get("id"), has_id="id" in obj)


def _request_id(line: str) -> tuple[bool, Any]:
    """The ``id`` of a rejected line, when it is at least a JSON object, so the caller can match the error."""
    try:
        obj = json.loads(line)
    except ValueError:
        return False, None
    return (True, obj["id"]) if isinstance(obj, dict) and "id" in obj else (False, None)


def answer(checker: Checker, line: str, default_declared: Declared) -> dict:
    try:
        request = parse_request(line, default_declared)
    except BadLineError as exc:
        body = error_body("bad-request", str(exc))
        has_id, request_id = _request_id(line)
        if has_id:
            body["id"] = request_id
        return body
    body = checker.check(request.path, request.declared).to_dict()
    if request.has_id:
        body["id"] = request.id
    return body


def serve_lines(checker: Checker, stdin: TextIO, stdout: TextIO, default_declared: Declared = Declared.NONE) -> int:
    """Answer every line of ``stdin``; returns how many requests were answered."""
    answered = 0
    for line in stdin:
        if not line.strip():
            continue
        stdout.write(json.dumps(answer(checker, line, default_declared), ensure_ascii=False) + "\n")
        stdout.flush()
        answered += 1
    return answered
