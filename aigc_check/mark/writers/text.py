"""Markdown and text: the label as the YAML front matter mapping ``AIGC`` (TC260 document guide §6.5),
its seven elements as single-quoted strings, one per line.

Written by hand, line by line, so that every other byte of the file stays as it was (a YAML library
would re-serialise the whole front matter, and the package has none).  Front matter present: a
top-level ``AIGC`` key (any case) and its indented block are replaced where they stand, other copies
removed, or the block goes in before the closing ``---``.  No front matter: one is put at the head
(after a UTF-8 BOM).  A bare label file (the whole file one label JSON object, which the checker
reads as format ``text``): the object is replaced, in its own form (bare or ``{"AIGC": ...}``), and
what follows it kept.  The line ending is the file's own.
"""

from __future__ import annotations

import json
import re

from ... import formats
from ...formats.text import MAX_FRONT_MATTER
from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, label_value, removed_note, walk_input

_BOM = b"\xef\xbb\xbf"
_OPEN = re.compile(rb"---[ \t]*(\r?\n)")
_CLOSE = re.compile(rb"^(?:---|\.\.\.)[ \t]*\r?$", re.M)
_TOP_KEY = re.compile(rb"""^(["']?)([^\s:#'"]+)\1[ \t]*:(?:[ \t]|\r?$)""")


def _block(label: LabelFields, newline: bytes) -> bytes:
    lines = [b"AIGC:"]
    for name, value in label.values().items():
        text = value.replace("'", "''")  # a single-quoted YAML scalar; a kept-as-found producer may be any text
        lines.append(f"  {name}: '{text}'".encode())
    return newline.join(lines) + newline


def _utf8_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    bom = _BOM if data.startswith(_BOM) else b""
    body = data[len(bom) :]
    handler = formats.identify(data[: 64 * 1024]) if data else None
    if handler is None:  # text without front matter: the checker does not claim it; give it some
        if not data or not _utf8_text(data):
            raise WriteError("not UTF-8 text: no front matter is written")
        newline = b"\r\n" if body.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
        front = b"---" + newline + _block(label, newline) + b"---" + newline
        return WriteOutcome(bom + front + body, "front matter key AIGC", ["added YAML front matter at the head"])
    container = walk_input(data, "markdown")
    if container.format == "text":
        return _bare(data, bom, label)
    opening = _OPEN.match(body)
    if opening is None:
        raise WriteError("internal: markdown without an opening --- line")
    newline = opening.group(1)
    start = opening.end()
    close = _CLOSE.search(body, start, start + MAX_FRONT_MATTER + 8)
    if close is None:
        raise WriteError("the front matter has no closing --- line")
    lines = body[start : close.start()].splitlines(keepends=True)
    out: list[bytes] = []
    copies, i = 0, 0
    while i < len(lines):
        line = lines[i]
        key = _TOP_KEY.match(line)
        if key and key.group(2).decode("utf-8", "replace").upper() == "AIGC":
            i += 1
            while i < len(lines) and (lines[i][:1] in (b" ", b"\t") or not lines[i].strip()):
                i += 1  # the key's indented block (and blank lines inside it)
            if copies == 0:
                out.append(_block(label, newline))
            copies += 1
            continue
        out.append(line)
        i += 1
    if not copies:
        if out and not out[-1].endswith(b"\n"):
            out[-1] += newline
        out.append(_block(label, newline))
    new = bom + body[:start] + b"".join(out) + body[close.start() :]
    notes = removed_note(copies - 1, "front matter AIGC")
    return WriteOutcome(new, "front matter key AIGC", notes, updated_existing=bool(copies))


def _bare(data: bytes, bom: bytes, label: LabelFields) -> WriteOutcome:
    text = data[len(bom) :].decode("utf-8")
    lead = len(text) - len(text.lstrip())
    try:
        value, end = json.JSONDecoder().raw_decode(text, lead)
    except ValueError as exc:
        raise WriteError(f"the label JSON does not parse: {exc}") from exc
    wrapped = isinstance(value, dict) and "AIGC" in value
    new = label.to_json() if wrapped else label_value(label)
    out = bom + (text[:lead] + new + text[end:]).encode("utf-8")
    return WriteOutcome(out, "the text file's label JSON", [], updated_existing=True)
