"""The per-file speed-ups of issue 14's fourth round change no answer: each is checked against the
plain way of doing it, on every fixture and every corpus file, and on broken and hostile input.

- ``safe_xml`` parses a document that holds no DTD with the C parser, and any other with defusedxml:
  the two give the same tree, and the same error, on every XML part of every document and XMP
  packet, and on broken documents; every document that may hold a DTD goes to defusedxml;
- a ZIP archive wholly inside the head is read by zipfile from the head itself: the same container,
  errors and bytes read as through the source's stream;
- the Matroska walker reads element headers where they lie in the head: the same container, errors
  and bytes read as reading each through the source (``test_core_speedups.py``'s head walkers);
- the stealth pnginfo bits, sliced a column at a time and turned into bytes in one call, are what
  reading them one bit at a time gives, on generated images with and without a payload;
- ID3v2.3/2.4 frames read with the one-call UTF-16 text spec are the frames mutagen's own classes
  read, on every file and on generated frames, broken ones included.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest
from conftest import FIXTURES, ROOT, corpus_dir, corpus_rows
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from hypothesis import given, settings
from hypothesis import strategies as st
from mutagen._util import decode_terminated
from mutagen.id3 import ID3

from aigc_check import Checker, formats, safe_xml
from aigc_check.formats import _zip, id3
from aigc_check.formats._id3_text import FRAMES_V23, terminated_utf16
from aigc_check.model import Container
from aigc_check.options import CheckOptions
from aigc_check.readers import stealth
from aigc_check.readers.xmp import _packet, utf8_packet
from aigc_check.source import ByteSource


def _every_file() -> list[Path]:
    paths = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    corpus = corpus_dir()
    paths += [corpus / row["file"] for row in corpus_rows() if (corpus / row["file"]).is_file()]
    return paths


def _comparable(result) -> dict:
    out = result.to_dict()
    out.pop("elapsed_ms", None)
    return out


def _tree(e: Element) -> tuple:
    """An element as comparable data: tag, attributes, text, tail, children (the C and the Python
    builders make different classes of the same elements)."""
    return (e.tag, dict(e.attrib), e.text, e.tail, [_tree(c) for c in e])


def _parsed(parse, data: bytes) -> tuple:
    try:
        return ("tree", _tree(parse(data)))
    except Exception as exc:
        return (type(exc).__name__, str(exc), getattr(exc, "position", None))


# --------------------------------------------------------------------------- safe_xml


def _xml_documents() -> list[tuple[str, bytes]]:
    """Every XML member of every ZIP-based document, and every XMP packet as the reader parses it."""
    docs: list[tuple[str, bytes]] = []
    for path in _every_file():
        head = path.read_bytes()[:4]
        if head == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(path) as z:
                    for info in z.infolist():
                        if info.filename.endswith((".xml", ".rels", ".opf")) and info.file_size < 1 << 20:
                            docs.append((f"{path.name}:{info.filename}", z.read(info)))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
                pass  # a broken archive: the walker's tests cover it
            continue
        with ByteSource.open(path) as src:
            handler = formats.identify(src.head, named=path.name)
            if handler is None:
                continue
            container = Container(handler.name, handler.media_type)
            try:
                handler.walk(src, container)
            except Exception:
                pass  # what was found before the error is still there
            for block in container.blocks:
                if block.kind == "xmp" and block.data:
                    docs.append((f"{path.name}:{block.location}", _packet(utf8_packet(block.data))))
    return docs


def test_the_c_parser_builds_what_defusedxml_builds_on_every_document():
    docs = _xml_documents()
    fast = 0
    for name, data in docs:
        assert _parsed(safe_xml.parse, data) == _parsed(SafeET.fromstring, data), name
        fast += safe_xml.holds_no_dtd(data)
    assert len(docs) > 100 and fast > 100


BROKEN = [
    b"",
    b"<a>",
    b"<a></b>",
    b"<a>&undefined;</a>",
    b"<a>&#0;</a>",
    b"<a x='1' x='2'/>",
    b"<a/><b/>",
    b"<p:a/>",
    b"<a xmlns:p=''><p:b/></a>",
    b"<?xml version='1.0' encoding='utf-8'?><a>\xff</a>",
    b"\xef\xbb\xbf<a>caf\xc3\xa9</a>",
    b"<a><![CDATA[x]]><!-- c --><?pi x?></a>",
    b"<?xml version='1.1'?><a/>",
    b"<a>" * 3000 + b"</a>" * 3000,
    b"<?xml version='1.0' encoding='latin-1'?><a>\xe9</a>",
]
HOSTILE = [
    b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>",
    b"<!DOCTYPE a SYSTEM 'file:///etc/passwd'><a/>",
    b"<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><a>&x;</a>",
    b"<!DOCTYPE a><a>&undefined;</a>",
    "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>".encode("utf-16"),
    "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>".encode("utf-16-be"),
    "<?xml version='1.0' encoding='utf-32'?><!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>".encode("utf-32"),
    # A single-byte codec that does not map ASCII onto itself hides the DTD from a byte search.
    b"<?xml version='1.0' encoding='cp500'?>" + "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>".encode("cp500"),
    b"<!doctype a><a/>",
    b"<?xml version='1.0'" + b" " * 500 + b"encoding='cp500'?>" + "<!DOCTYPE a []><a/>".encode("cp500"),
    b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-7'?><a>+ADw-!DOCTYPE</a>",
]


@pytest.mark.parametrize("data", BROKEN + HOSTILE)
def test_a_broken_or_hostile_document_gives_defusedxmls_answer(data):
    assert _parsed(safe_xml.parse, data) == _parsed(SafeET.fromstring, data)


@pytest.mark.parametrize("data", HOSTILE)
def test_a_document_that_may_hold_a_dtd_goes_to_defusedxml(data):
    assert not safe_xml.holds_no_dtd(data)


def test_an_entity_declaration_is_refused():
    with pytest.raises(DefusedXmlException):
        safe_xml.parse(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")


@pytest.mark.parametrize(
    "data",
    [b"<a/>", b"<?xml version='1.0' encoding='UTF-8'?><a/>", b'<?xml version="1.0" encoding="us-ascii"?><a/>'],
)
def test_a_document_without_dtd_in_utf8_or_ascii_takes_the_c_parser(data):
    assert safe_xml.holds_no_dtd(data)


# --------------------------------------------------------------------------- whole checks


def _plain_archive_stream(src: ByteSource) -> io.BufferedIOBase:
    return io.BufferedReader(_zip._SourceStream(src), 65536)


def test_every_file_checks_as_the_plain_parsers_check_it(monkeypatch):
    options = CheckOptions(time_limit=None)
    fast_checker, plain_checker = Checker(options), Checker(options)
    paths = _every_file()
    fast = [_comparable(fast_checker.check(p)) for p in paths]
    monkeypatch.setattr(safe_xml, "holds_no_dtd", lambda data: False)
    monkeypatch.setattr(_zip, "archive_stream", _plain_archive_stream)
    monkeypatch.setattr(id3, "fast_frames", lambda: None)
    plain = [_comparable(plain_checker.check(p)) for p in paths]
    zips = mp3s = 0
    for path, f, p in zip(paths, fast, plain, strict=True):
        assert f == p, path.name
        zips += f["format"] in ("docx", "xlsx", "pptx", "odt", "epub")
        mp3s += f["format"] == "mp3"
    assert len(paths) > 300 and zips > 10 and mp3s > 10


def _truncations(data: bytes) -> list[bytes]:
    cuts = sorted({1, 22, 30, 100, len(data) // 3, len(data) // 2, len(data) - 22, len(data) - 1})
    return [data[:n] for n in cuts if 0 < n < len(data)]


def _directory_moved(data: bytes) -> list[bytes]:
    """The archive with its end record's directory offset and size moved: zipfile then seeks before
    the start (which the streams take as 0) or past the end."""
    at = data.rfind(b"PK\x05\x06")
    out = []
    for field, shift in ((16, 100), (16, 5000), (16, -7), (12, 40), (12, -40)):
        value = int.from_bytes(data[at + field : at + field + 4], "little") + shift
        if 0 <= value < 1 << 32:
            out.append(data[: at + field] + value.to_bytes(4, "little") + data[at + field + 4 :])
    return out


def test_a_cut_or_damaged_archive_reads_as_through_the_stream(monkeypatch):
    """Office documents cut short and with bytes overwritten: the same container, error and count."""
    checked = 0
    fast = _zip.archive_stream
    for path in sorted(FIXTURES.glob("office-*")):
        data = path.read_bytes()
        if len(data) > 65536:
            continue
        damaged = [data[:i] + b"\xff" * 8 + data[i + 8 :] for i in range(0, len(data), max(1, len(data) // 12))]
        for variant in _truncations(data) + damaged + _directory_moved(data):
            outs = []
            for stream in (fast, _plain_archive_stream):
                monkeypatch.setattr(_zip, "archive_stream", stream)
                with ByteSource.open(variant) as src:
                    handler = formats.identify(src.head)
                    if handler is None or handler.name != "zip":
                        break
                    container = Container(handler.name, handler.media_type)
                    try:
                        handler.walk(src, container)
                        raised = None
                    except Exception as exc:
                        raised = (type(exc).__name__, str(exc), getattr(exc, "location", None))
                    outs.append((container, raised, src.bytes_read))
            if len(outs) == 2:
                assert outs[0] == outs[1], (path.name, len(variant))
                checked += 1
    assert checked > 100


# --------------------------------------------------------------------------- ID3 text


_UTF16_PIECES = st.lists(
    st.sampled_from(
        [
            b"\xff\xfe",
            b"\xfe\xff",
            b"\x00\x00",
            b"\x00",
            b"A\x00",
            b"\x00A",
            b"\x3d\xd8",
            b"\xd8\x3d",
            b"\x00\xdc",
            b"\xdc\x00",
            b"\x4e\x2d",
            b"\xff",
            b"x",
        ]
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(_UTF16_PIECES)
def test_a_utf16_string_decodes_as_mutagen_decodes_it(pieces):
    data = b"".join(pieces)
    fast = terminated_utf16(data)
    if fast is not None:
        assert fast == decode_terminated(data, "utf16", strict=False)


def _frame(name: bytes, payload: bytes, version: int) -> bytes:
    size = len(payload)
    if version == 4:
        size = (size & 0x7F) | (size >> 7 & 0x7F) << 8 | (size >> 14 & 0x7F) << 16 | (size >> 21 & 0x7F) << 24
    return name + size.to_bytes(4, "big") + b"\x00\x00" + payload


def _tag(frames: bytes, version: int) -> bytes:
    n = len(frames)
    size = bytes([n >> 21 & 0x7F, n >> 14 & 0x7F, n >> 7 & 0x7F, n & 0x7F])
    return b"ID3" + bytes([version, 0, 0]) + size + frames


def _loaded(data: bytes, known) -> object:
    try:
        tags = ID3()
        tags.load(io.BytesIO(data), known_frames=known, load_v1=False, translate=True)
        return [repr(f) for f in tags.values()], tags.unknown_frames, tags.version
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([3, 4]),
    st.lists(
        st.tuples(
            st.sampled_from([b"TIT2", b"TXXX", b"COMM", b"TPE1", b"USLT", b"WXXX", b"GEOB", b"TYER"]),
            st.sampled_from([b"\x00", b"\x01", b"\x02", b"\x03", b"\x05"]),
            st.binary(max_size=6),
            _UTF16_PIECES,
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_generated_frames_read_as_mutagens_classes_read_them(version, frames):
    data = _tag(b"".join(_frame(n, enc + lead + b"".join(text), version) for n, enc, lead, text in frames), version)
    assert _loaded(data, FRAMES_V23) == _loaded(data, None)


def test_every_id3_tag_reads_as_mutagens_classes_read_it():
    tags = 0
    for path in _every_file():
        data = path.read_bytes()
        at = data.find(b"ID3")
        while 0 <= at < len(data) - 10:
            if data[at + 3] in (3, 4):
                tag = data[at : at + 10 + 4 * 1024 * 1024]
                assert _loaded(tag, FRAMES_V23) == _loaded(tag, None), path.name
                tags += 1
            at = data.find(b"ID3", at + 3)
    assert tags > 20


def test_the_frame_classes_keep_the_frame_ids():
    assert all(cls.__name__ == name for name, cls in FRAMES_V23.items())
    assert sum(cls.__module__ != "mutagen.id3._frames" for cls in FRAMES_V23.values()) > 50


# --------------------------------------------------------------------------- stealth pnginfo


def _bits(alpha: bytes, width: int, height: int) -> Iterator[int]:
    for x in range(width):
        for y in range(height):
            yield alpha[y * width + x] & 1


def _take(bits: Iterator[int], n: int) -> bytes | None:
    out = bytearray()
    byte = count = 0
    for bit in bits:
        byte = (byte << 1) | bit
        count += 1
        if count % 8 == 0:
            out.append(byte)
            byte = 0
            if count == n:
                return bytes(out)
    return None


def _decode_by_bits(alpha: bytes, width: int, height: int) -> str | None:
    """The stealth reader's decoding as it was: one bit at a time, column by column."""
    if width * height < stealth.HEADER_BITS:
        return None
    bits = _bits(alpha, width, height)
    magic = _take(bits, stealth.MAGIC_BITS)
    if magic not in stealth.MAGICS:
        return None
    length_bytes = _take(bits, 32)
    if length_bytes is None:
        return None
    n_bits = int.from_bytes(length_bytes, "big")
    if n_bits <= 0 or n_bits % 8 or n_bits > width * height - stealth.HEADER_BITS:
        return None
    payload = _take(bits, n_bits)
    if payload is None:
        return None
    if stealth.MAGICS[magic]:
        payload = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(payload, stealth.MAX_INFLATE)
    return payload.decode("utf-8", "replace")


def _hidden(payload: bytes, magic: bytes, width: int, height: int, noise: bytes, n_bits: int | None) -> bytes:
    """An alpha channel of ``width`` x ``height`` whose low bits, column by column, spell the magic,
    the length (``n_bits``, or the payload's own) and the payload; the other bits from ``noise``."""
    stream = magic + (len(payload) * 8 if n_bits is None else n_bits).to_bytes(4, "big") + payload
    bits = [(byte >> (7 - i)) & 1 for byte in stream for i in range(8)]
    alpha = bytearray(
        (noise * (width * height // max(1, len(noise)) + 1))[: width * height] or b"\xff" * width * height
    )
    for k, bit in enumerate(bits[: width * height]):
        x, y = divmod(k, height)
        alpha[y * width + x] = (alpha[y * width + x] & 0xFE) | bit
    return bytes(alpha)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 48),
    st.integers(1, 48),
    st.binary(min_size=1, max_size=64),
    st.binary(max_size=80),
    st.sampled_from([b"stealth_pnginfo", b"stealth_pngcomp", b"stealth_pngxxxx"]),
    st.one_of(st.none(), st.integers(0, 4000)),
)
def test_the_stealth_bits_decode_as_one_bit_at_a_time(width, height, noise, text, magic, n_bits):
    payload = gzip.compress(text) if magic == b"stealth_pngcomp" else text
    alpha = _hidden(payload, magic, width, height, noise, n_bits)
    assert stealth.decode_alpha(alpha, width, height) == _decode_by_bits(alpha, width, height)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.data())
def test_random_alpha_decodes_as_one_bit_at_a_time(width, height, data):
    alpha = data.draw(st.binary(min_size=width * height, max_size=width * height))
    assert stealth.decode_alpha(alpha, width, height) == _decode_by_bits(alpha, width, height)


def test_a_hidden_payload_is_found():
    alpha = _hidden(b"Steps: 20, Seed: 1", b"stealth_pnginfo", 30, 17, b"\x80", None)
    assert stealth.decode_alpha(alpha, 30, 17) == "Steps: 20, Seed: 1" == _decode_by_bits(alpha, 30, 17)


def test_every_png_with_alpha_decodes_as_one_bit_at_a_time():
    from PIL import Image

    compared = found = 0
    for path in _every_file():
        if path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            continue
        try:
            with Image.open(path) as image:
                if "A" not in image.getbands() or image.width * image.height > 4_000_000:
                    continue
                image.load()
                alpha = image.getchannel("A").tobytes()
                width, height = image.size
        except Exception:
            continue  # a broken PNG: the reader's own tests cover it
        fast = stealth.decode_alpha(alpha, width, height)
        assert fast == _decode_by_bits(alpha, width, height), path.name
        compared += 1
        found += fast is not None
    assert compared >= 3 and found >= 2


_WITHOUT_MUTAGEN_SPECS = """
import json, sys
import mutagen.id3._specs as specs
del specs.EncodedTextSpec  # a mutagen release that moved its private spec classes
from aigc_check import Checker, CheckOptions
from aigc_check.formats import id3
assert id3.fast_frames() is None
checker = Checker(CheckOptions(time_limit=None))
print(json.dumps([checker.check(p).verdict.value for p in sys.argv[1:]]))
"""


def test_a_mutagen_without_its_spec_classes_leaves_the_tags_to_mutagen():
    """``_id3_text`` builds on mutagen's private ``mutagen.id3._specs``: without it the tool still
    imports, and ID3 tags are read by mutagen's own frame classes, to the same verdicts."""
    paths = [p for p in sorted(FIXTURES.iterdir()) if p.suffix == ".mp3"]
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_MUTAGEN_SPECS, *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    checker = Checker(CheckOptions(time_limit=None))
    assert json.loads(done.stdout) == [checker.check(p).verdict.value for p in paths]
    assert len(paths) > 10
