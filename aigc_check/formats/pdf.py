"""PDF: the document information dictionary, XMP metadata streams and the C2PA
associated file, found by scanning the bytes rather than by parsing the
object graph.

GB 45438's text-file guide puts the label in the information dictionary as
``/AIGC``; XMP metadata streams (uncompressed by the PDF specification's
recommendation) can carry ``TC260:AIGC`` and IPTC; a C2PA manifest is an
associated file with ``/AFRelationship /C2PA_Manifest``, validated by
c2pa-python.  Dictionaries inside compressed object streams (``/ObjStm``) are
inflated, bounded, and scanned the same way.  A PDF is read whole up to
``MAX_PDF_SCAN``; past that only its first and last parts are searched, and
the file cannot be cleared (a ``limit-exceeded`` error).  A file that does not end with ``%%EOF`` was cut.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

from ..errors import LimitExceededError, TruncatedError
from ..limits import MAX_BLOCKS, MAX_INFLATE, MAX_METADATA_BLOCK
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register

MAX_PDF_SCAN = 64 * 1024 * 1024
TAIL_SCAN = 8 * 1024 * 1024
INFO_KEYS = (b"AIGC", b"Producer", b"Creator", b"Title", b"Subject", b"Keywords", b"Author")
# Every pattern is linear or bounded per match, and the number of match attempts is capped: a
# regular expression runs in C, where the per-file timer cannot interrupt it.
# Not followed by "/": the TC260 namespace URI (.../ns/AIGC/1.0/) in an XMP packet is no dictionary key.
_INFO_KEY = re.compile(rb"/(" + b"|".join(INFO_KEYS) + rb")\b(?!/)")
# /Key (literal string) or /Key <hex string>; literal strings may hold escaped parentheses.
_INFO_VALUE = re.compile(rb"\s{0,64}(\((?:\\.|[^\\)]){0,4096}\)|<[0-9A-Fa-f\s]{0,16384}>)", re.S)
_C2PA = re.compile(rb"/AFRelationship\s{0,64}/C2PA_Manifest|application#2Fc2pa|application#2Fx-c2pa-manifest-store")
_OBJECT_STREAM_TYPE = re.compile(rb"/Type\s{0,64}/ObjStm\b")
_STREAM_START = re.compile(rb"[^>]{0,1024}>>\s{0,64}stream\r?\n")
MAX_ATTEMPTS = 2_000  # dictionary keys, packet starts and object streams looked at per part
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}


def _accept(head: bytes) -> bool:
    return head[:5] == b"%PDF-"


def walk(src: ByteSource, c: Container) -> None:
    c.format, c.media_type = "pdf", "application/pdf"
    tail = src.read(max(0, src.size - 1024), 1024)
    if b"%%EOF" not in tail:
        raise TruncatedError("the file does not end with %%EOF: it was cut", "end of file")
    if src.size <= MAX_PDF_SCAN:
        parts = [(0, src.read_exact(0, src.size, "the PDF"))]
    else:
        parts = [
            (0, src.read_exact(0, MAX_PDF_SCAN - TAIL_SCAN, "the PDF")),
            (src.size - TAIL_SCAN, src.read_exact(src.size - TAIL_SCAN, TAIL_SCAN, "the PDF's end")),
        ]
        # Fatal like every limit: a label in the part not searched would be missed.
        c.errors.append(
            ReadError(
                "limit-exceeded",
                f"a {src.size}-byte PDF: only its first "
                f"{MAX_PDF_SCAN - TAIL_SCAN} and last {TAIL_SCAN} bytes were searched",
                "PDF body",
                fatal=True,
            )
        )
    for base, data in parts:
        _scan(data, base, c, "PDF")
        for at, inflated in _object_streams(data, c):
            _scan(inflated, base + at, c, "PDF object stream")
        _metadata_streams(data, base, c)


def _scan(data: bytes, base: int, c: Container, what: str) -> None:
    marker = _C2PA.search(data)
    if marker and c.c2pa is None:
        c.c2pa = C2paMarker(f"{what} at offset {base + marker.start():#x} (C2PA associated file)")
    packets: list[tuple[int, int]] = []  # XMP packet spans: a /AIGC inside one is a URI, not a key
    start = data.find(b"<x:xmpmeta")
    for _ in range(MAX_ATTEMPTS):
        if start < 0:
            break
        end = data.find(b"</x:xmpmeta>", start)
        if end < 0:
            break  # no packet closes after this point, so none starting later does either
        end += len(b"</x:xmpmeta>")
        packets.append((start, end))
        _add(c, Block("xmp", f"{what} XMP metadata at offset {base + start:#x}", data[start:end][:MAX_METADATA_BLOCK]))
        start = data.find(b"<x:xmpmeta", end)
    for n, m in enumerate(_INFO_KEY.finditer(data)):
        if n >= MAX_ATTEMPTS:
            raise LimitExceededError(f"more than {MAX_ATTEMPTS} information-dictionary keys", what)
        if any(s <= m.start() < e for s, e in packets):
            continue  # e.g. the TC260 namespace URI ".../ns/AIGC/1.0/" in an XMP packet
        value = _INFO_VALUE.match(data, m.end())
        key = m.group(1).decode("ascii")
        where = f"{what} /{key} at offset {base + m.start():#x}"
        if value:
            _add(c, Block("tag", where, key=key, text=pdf_string(value.group(1)), family="pdf"))
        elif key == "AIGC":
            # A label key whose value is not a string we can read: hand on what follows it, so the
            # label check reports a malformed label instead of seeing none.
            _add(c, Block("tag", where, key=key, text=data[m.end() : m.end() + 256].decode("latin-1"), family="pdf"))


def _add(c: Container, block: Block) -> None:
    if len(c.blocks) >= MAX_BLOCKS:
        raise LimitExceededError(f"more than {MAX_BLOCKS} metadata entries", block.location)
    c.blocks.append(block)


def _object_streams(data: bytes, c: Container) -> Iterator[tuple[int, bytes]]:
    """(offset, inflated bytes) of each FlateDecode object stream, bounded in count and size."""
    for n, m in enumerate(_OBJECT_STREAM_TYPE.finditer(data)):
        if n >= MAX_ATTEMPTS:
            raise LimitExceededError(f"more than {MAX_ATTEMPTS} object streams", f"offset {m.start():#x}")
        start = _STREAM_START.match(data, m.end())
        if start is None or b"FlateDecode" not in data[max(0, m.start() - 512) : start.end()]:
            continue
        end = data.find(b"endstream", start.end())
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(data[start.end() : end if end > 0 else len(data)], MAX_INFLATE)
        except zlib.error as exc:
            c.errors.append(
                ReadError(
                    "metadata-unreadable",
                    f"object stream could not be inflated: {exc}",
                    f"PDF object stream at offset {m.start():#x}",
                )
            )
            continue
        if inflater.unconsumed_tail:
            raise LimitExceededError(
                f"an object stream inflates past {MAX_INFLATE} bytes (decompression bomb?)",
                f"PDF object stream at offset {m.start():#x}",
            )
        yield start.end(), inflated


_METADATA_TYPE = re.compile(rb"/Type\s{0,64}/Metadata\b")


def _metadata_streams(data: bytes, base: int, c: Container) -> None:
    """The XMP metadata streams (ISO 32000-1, 14.3.2) the scan for ``<x:xmpmeta`` cannot see: those
    compressed with FlateDecode (the specification recommends, but does not require, uncompressed
    ones) and those written without the x:xmpmeta wrapper, which XMP makes optional."""
    for n, m in enumerate(_METADATA_TYPE.finditer(data)):
        if n >= MAX_ATTEMPTS:
            raise LimitExceededError(f"more than {MAX_ATTEMPTS} metadata streams", f"offset {m.start():#x}")
        start = _STREAM_START.match(data, m.end())
        if start is None:
            continue
        end = data.find(b"endstream", start.end())
        body = data[start.end() : end if end > 0 else len(data)]
        where = f"PDF XMP metadata stream at offset {base + m.start():#x}"
        header = data.rfind(b"obj", max(0, m.start() - 1024), m.start())  # this object's dictionary only
        if b"FlateDecode" in data[header if header >= 0 else m.start() : start.end()]:
            inflater = zlib.decompressobj()
            try:
                body = inflater.decompress(body, MAX_INFLATE)
            except zlib.error as exc:
                if b"<x:xmpmeta" not in body:  # (a plain packet the scan has found is no loss)
                    c.errors.append(
                        ReadError("metadata-unreadable", f"metadata stream could not be inflated: {exc}", where)
                    )
                continue
            if inflater.unconsumed_tail:
                raise LimitExceededError(
                    f"a metadata stream inflates past {MAX_INFLATE} bytes (decompression bomb?)", where
                )
        elif b"<x:xmpmeta" in body:
            continue  # found by the scan already
        if b"RDF" in body or b"R\x00D\x00F" in body or b"\x00R\x00D\x00F" in body:
            _add(c, Block("xmp", where, body[:MAX_METADATA_BLOCK]))


def pdf_string(raw: bytes) -> str:
    """A PDF literal ``(...)`` or hex ``<...>`` string as text (UTF-16BE with a BOM, else PDFDocEncoding
    read as Latin-1, or UTF-8 where it decodes)."""
    if raw.startswith(b"<"):
        digits = re.sub(rb"\s", b"", raw[1:-1])
        data = bytes.fromhex((digits + b"0" * (len(digits) & 1)).decode("ascii"))
    else:
        data = re.sub(rb"\\([nrtbf()\\]|[0-7]{1,3}|\r?\n)", _unescape, raw[1:-1])
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", "replace")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _unescape(m: re.Match) -> bytes:
    code = m.group(1)
    if code in _ESCAPES:
        return _ESCAPES[code]
    if code[:1] in (b"\r", b"\n"):
        return b""  # a backslash before a line break continues the string
    return bytes([int(code, 8) & 0xFF])


register(FormatHandler("pdf", "application/pdf", _accept, walk))
