"""Markdown and plain UTF-8 text: YAML front matter, or a bare GB 45438 label.

A text file is media here only if it says so in its first bytes: YAML front matter (``---`` on the
first line, after an optional UTF-8 BOM, closed by ``---`` or ``...``; TC260's practice guide puts
an ``AIGC`` mapping there) or a bare label JSON object (``{"AIGC": ...}`` or one with ``Label`` and
``ContentProducer``), whose text may follow it.  The head must also be UTF-8 without NUL bytes, so
binary data that happens to start with ``---`` is not claimed.  Plain text without either is not
claimed when sniffing (a folder of notes is not media), but a plain text file the user names or
declares is judged as ``text`` with no metadata (:data:`PLAIN_TEXT`, see ``formats.identify``), unless
its name says it is a picture, a recording or a document of another format: text named ``.jpg`` is a
broken JPEG, not a text file.

The front matter is read with a small bounded parser for the subset metadata uses, not a YAML
library (the package has no YAML dependency, and a full loader brings anchors, aliases and tags a
label never needs): block mappings by indentation, plain, single- and double-quoted scalars, flow
values (``{...}``/``[...]``, kept as JSON text when they parse as JSON) and block lists.  Anchors,
aliases and tags are refused (no alias expansion, so no "billion laughs"); the front matter's size
(``MAX_FRONT_MATTER``), its nesting (``MAX_FRONT_MATTER_DEPTH``) and its key count (``MAX_BLOCKS``)
are bounded.  Each scalar becomes a "tag" block of family ``md`` keyed by its dotted path
(``md/generator``, ``md/meta.tool``); a mapping or list under a key named ``AIGC`` becomes that
key's JSON text, so the label signature decodes it.
"""

from __future__ import annotations

import json
import re

from ..errors import LimitExceededError, MediaError, TruncatedError
from ..limits import MAX_BLOCKS, MAX_JSON_TEXT
from ..model import Block, Container, ReadError, scrub_surrogates
from ..source import ByteSource
from . import FormatHandler, register

MAX_FRONT_MATTER = 64 * 1024
MAX_FRONT_MATTER_DEPTH = 16
SNIFF = 8192
_BOM = b"\xef\xbb\xbf"
_OPEN = re.compile(rb"---[ \t]*\r?\n")
_CLOSE = re.compile(rb"^(?:---|\.\.\.)[ \t]*\r?$", re.M)
_BARE_LABEL = re.compile(rb'\A\s*\{\s*"(?:AIGC|Label|ContentProducer)"\s*:')
_COMMENT = re.compile(r"[ \t]#")
_KEY_END = re.compile(r":(?:[ \t]|$)")
_PLAIN_KEY = re.compile(r"[^\s#:'\"\[\]{},&*!|>%@`]")


def _utf8_text(data: bytes) -> bool:
    """UTF-8 (a character cut at the end allowed) with no NUL and few control bytes."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 3 or exc.reason != "unexpected end of data":
            return False
    controls = sum(1 for b in data if b < 0x20 and b not in (9, 10, 13, 12))
    return controls * 100 <= len(data)


def _body(head: bytes) -> bytes:
    return head[3:] if head.startswith(_BOM) else head


def _accept(head: bytes) -> bool:
    body = _body(head)[:SNIFF]
    if _OPEN.match(body):
        return _utf8_text(body)
    if _BARE_LABEL.match(body):
        window = body[:4096]
        labelled = b'"AIGC"' in window or (b'"Label"' in window and b'"ContentProducer"' in window)
        return labelled and _utf8_text(body)
    return False


def walk(src: ByteSource, c: Container) -> None:
    body = _body(src.head)
    if not _OPEN.match(body):
        c.format, c.media_type = "text", "text/plain"
        _bare_label(src, c)
        return
    c.format, c.media_type = "markdown", "text/markdown"
    start = _OPEN.match(body).end()  # type: ignore[union-attr]
    offset = len(src.head) - len(body)
    # The head is 64 KiB: the closing line must be within it (MAX_FRONT_MATTER).
    window = body[start : start + MAX_FRONT_MATTER + 8]
    close = _CLOSE.search(window)
    if close is None:
        if src.size - offset - start > MAX_FRONT_MATTER:
            raise LimitExceededError(
                f"front matter not closed within {MAX_FRONT_MATTER} bytes", f"front matter at offset {offset:#x}"
            )
        c.errors.append(
            ReadError(
                "truncated",
                "the front matter has no closing --- line: the file was cut short",
                "end of file",
                fatal=True,
            )
        )
        text_bytes = window
    else:
        text_bytes = window[: close.start()]
    try:
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MediaError(f"front matter is not UTF-8 ({exc.reason})", "front matter") from None
    for key, value in _parse(text, c):
        if len(c.blocks) >= MAX_BLOCKS:
            raise LimitExceededError(f"more than {MAX_BLOCKS} front matter keys", "front matter")
        c.blocks.append(Block("tag", f"front matter key {key}", key=key, text=value, family="md"))


def _bare_label(src: ByteSource, c: Container) -> None:
    """The whole file is the label JSON: it must parse, or the file was cut short or is not one."""
    if src.size > MAX_JSON_TEXT:
        raise LimitExceededError(f"a label text file of more than {MAX_JSON_TEXT} bytes", "text file")
    data = src.read(0, src.size)
    if len(data) < src.size:
        raise TruncatedError("the text file ended before its stated size", "end of file")
    text = _body(data).decode("utf-8", errors="replace").strip()
    try:  # the label object first; prose may follow it
        end = json.JSONDecoder().raw_decode(text)[1]
    except ValueError as exc:
        if getattr(exc, "pos", -1) >= len(text) or "Unterminated" in str(exc):
            c.errors.append(
                ReadError(
                    "truncated",
                    "the label JSON ends before its object closes: the file was cut short",
                    "end of file",
                    fatal=True,
                )
            )
        else:
            c.errors.append(ReadError("malformed", f"the label JSON does not parse ({exc})", "text file", fatal=True))
    else:
        text = text[:end]
    c.blocks.append(Block("tag", "the text file's label JSON", key="AIGC", text=text, family="md"))


def _scalar(raw: str, where: str) -> str:
    """The text of a one-line scalar: quotes removed, a trailing comment dropped."""
    s = raw.strip()
    if not s:
        return ""
    if s[0] in "&*!":
        raise MediaError("YAML anchors, aliases and tags are not read", where)
    if s[0] == '"':
        end = _closing_double(s)
        if end < 0:
            raise MediaError("an unclosed double-quoted scalar", where)
        try:
            return str(scrub_surrogates(json.loads(s[: end + 1]))[0])
        except ValueError:
            return s[1:end]
    if s[0] == "'":
        m = re.match(r"'((?:[^']|'')*)'", s)
        if m is None:
            raise MediaError("an unclosed single-quoted scalar", where)
        return m.group(1).replace("''", "'")
    if s[0] in "{[":
        try:
            return json.dumps(scrub_surrogates(json.loads(s))[0], ensure_ascii=False)
        except ValueError:
            return s
    comment = _COMMENT.search(s)
    return s[: comment.start()].rstrip() if comment else s


def _closing_double(s: str) -> int:
    i = 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == '"':
            return i
        i += 1
    return -1


def _key_line(line: str) -> tuple[str, str] | None:
    """(key, the rest of the line) of a ``key: value`` line, or None; linear in the line's length."""
    if line[:1] in "\"'":
        end = _closing_double(line) if line[0] == '"' else line.find("'", 1)
        if end < 0 or not line[end + 1 :].lstrip(" ").startswith(":"):
            return None
        rest = line[end + 1 :].lstrip(" ")[1:]
        if rest and rest[0] not in " \t":
            return None
        try:
            return _scalar(line[: end + 1], "front matter key"), rest.strip()
        except MediaError:
            return None
    colon = _KEY_END.search(line)
    if colon is None:
        return None
    key = line[: colon.start()].rstrip()
    if not key or "#" in key or not (_PLAIN_KEY.match(key) or (key[0] == "-" and len(key) > 1 and key[1] != " ")):
        return None
    return key, line[colon.end() :].strip()


def _parse(text: str, c: Container) -> list[tuple[str, str]]:
    """(dotted key, text) for each scalar; mappings and lists under AIGC as JSON text."""
    lines = [
        (n, len(line) - len(line.lstrip(" ")), line.strip())
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if any("\t" in line[: len(line) - len(line.lstrip())] for line in text.splitlines()):
        c.errors.append(ReadError("malformed", "tabs in front matter indentation", "front matter"))
    out: list[tuple[str, str]] = []
    pos = 0

    def node(indent: int, depth: int) -> object:
        """The mapping or list whose lines start at ``pos`` with ``indent`` spaces."""
        nonlocal pos
        if depth > MAX_FRONT_MATTER_DEPTH:
            raise LimitExceededError(
                f"front matter nested more than {MAX_FRONT_MATTER_DEPTH} levels deep",
                f"front matter line {lines[pos][0]}",
            )
        if lines[pos][2].startswith("- ") or lines[pos][2] == "-":
            items: list[object] = []
            while pos < len(lines) and lines[pos][1] == indent and (lines[pos][2] + " ").startswith("- "):
                n, _, line = lines[pos]
                pos += 1
                items.append(_scalar(line[1:], f"front matter line {n}"))
            return items
        mapping: dict[str, object] = {}
        while pos < len(lines) and lines[pos][1] == indent:
            n, _, line = lines[pos]
            where = f"front matter line {n}"
            m = _key_line(line)
            pos += 1
            if m is None:
                c.errors.append(ReadError("malformed", f"not a key: value line: {line[:60]!r}", where))
                while pos < len(lines) and lines[pos][1] > indent:
                    pos += 1
                continue
            key, rest = m
            if len(mapping) >= MAX_BLOCKS:
                raise LimitExceededError(f"more than {MAX_BLOCKS} front matter keys", where)
            if rest in ("", "|", ">", "|-", ">-") and pos < len(lines) and lines[pos][1] > indent:
                if rest:
                    block, deeper = [], lines[pos][1]
                    while pos < len(lines) and lines[pos][1] >= deeper:
                        block.append(lines[pos][2])
                        pos += 1
                    mapping[key] = ("\n" if rest[0] == "|" else " ").join(block)
                else:
                    mapping[key] = node(lines[pos][1], depth + 1)
                continue
            if rest.startswith("- ") or rest == "-":
                raise MediaError("compact nested lists are not read", where)
            try:
                mapping[key] = _scalar(rest, where)
            except MediaError as exc:
                c.errors.append(ReadError(exc.code, str(exc), where))
                mapping[key] = None
        if pos < len(lines) and lines[pos][1] > indent:
            c.errors.append(ReadError("malformed", "inconsistent indentation", f"front matter line {lines[pos][0]}"))
            while pos < len(lines) and lines[pos][1] > indent:
                pos += 1
        return mapping

    def flatten(prefix: str, value: object) -> None:
        name = prefix.rsplit(".", 1)[-1]
        if value is None:
            return
        if isinstance(value, str):
            out.append((prefix, value))
        elif name.upper() == "AIGC":
            out.append((prefix, json.dumps(value, ensure_ascii=False)))
        elif isinstance(value, dict):
            for k, v in value.items():
                flatten(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, list):
            out.append((prefix, "; ".join(str(v) for v in value)))

    while pos < len(lines):
        indent = lines[pos][1]
        before = pos
        flatten("", node(indent, 1))
        if pos == before:  # pragma: no cover - node always consumes at least one line
            pos += 1
    return out


register(FormatHandler("markdown", "text/markdown", _accept, walk))

# Suffixes that name a format other than text: plain text under such a name is not what it claims.
MEDIA_SUFFIXES = frozenset(
    (  # noqa: SIM905 (a word list reads better than 70 quoted strings)
        ".jpg .jpeg .jpe .jfif .png .apng .webp .gif .tif .tiff .dng .heic .heif .avif .jxl .bmp .svg .svgz "
        ".mp4 .m4v .m4a .m4b .mov .qt .3gp .3g2 .mkv .mka .webm .avi .wav .aif .aiff .flac .ogg .oga .ogv "
        ".opus .mp3 .mp2 .aac .wma .wmv .asf .flv .f4v .pdf .docx .docm .dotx .dotm .xlsx .xlsm .xltx .xltm "
        ".pptx .pptm .potx .potm .ppsx .ppsm .odt .ods .odp .odg .ott .ots .otp .otg .epub .zip"
    ).split()
)


def plain_text(head: bytes) -> bool:
    """The first bytes are UTF-8 text (see ``_utf8_text``): a named file may be judged as text."""
    body = _body(head)[:SNIFF]
    return bool(body) and _utf8_text(body)


def _walk_plain(src: ByteSource, c: Container) -> None:
    """Plain text carries no metadata: nothing is read beyond the head that identified it."""


PLAIN_TEXT = FormatHandler("text", "text/plain", plain_text, _walk_plain)
