"""The per-file speed-ups of issue 14's second round change no answer: each is checked against the
plain way of doing it.

- ``ByteSource`` reads an unbuffered file, completing a short read; the stream it hands c2pa-python
  and Pillow (its own position, served from the head or a small window) reads and counts what a
  plain file object reads;
- the readers a file runs (chosen per set of block kinds) give the results all readers give;
- the disclosure shared by files that disclose nothing is what the full build makes;
- the cached generator lookups by name answer what a search of the table answers;
- the C2PA validation state read from the parsed store is the one c2pa-python reports;
- the time limit set through ``_signal`` still fires and gives the previous handler back.

Issue 14's third round (the walk and the readers):

- the walkers' headers unpacked where they lie in the head (JPEG segments, PNG chunks, IFD tables and
  values) give the container, and the count of bytes read, that reading them through the source gives;
- a single IFD value, unpacked by a compiled struct, is what the general unpack gives;
- a buffer's source slices its head and counts it as the file's source does;
- the EXIF tag names remembered per process are piexif's;
- the time limit, a class now, ends a block past it, leaves no timer armed, and is nothing without a
  limit;
- a file in which nothing was found reuses the later stages' answer for its kind of container: the
  same result the full path gives, on every fixture and corpus file.
"""

from __future__ import annotations

import io
import signal
import struct
import time

import pytest
from conftest import FIXTURES, corpus_dir, corpus_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_check import Checker, disclosure, formats
from aigc_check.classifier import classify
from aigc_check.deadline import TimeLimitError, time_limit
from aigc_check.formats.ifd import RAW_TYPES, TYPES, _value, read_directories
from aigc_check.model import C2paSummary, Classification, Container, Field, Status
from aigc_check.options import CheckOptions
from aigc_check.readers import exif
from aigc_check.source import HEAD_SIZE, STREAM_WINDOW, ByteSource


def _comparable(result) -> dict:
    out = result.to_dict()
    out.pop("elapsed_ms", None)
    return out


# --------------------------------------------------------------------------- ByteSource


class _Trickle(io.RawIOBase):
    """A raw stream that returns at most ``step`` bytes per read, as a pipe or a socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._pos, self._step = data, 0, step

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = offset if whence == io.SEEK_SET else len(self._data) + offset
        return self._pos

    def read(self, n: int = -1) -> bytes:
        n = len(self._data) - self._pos if n is None or n < 0 else n
        out = self._data[self._pos : self._pos + min(n, self._step)]
        self._pos += len(out)
        return out

    @property
    def size(self) -> int:
        return len(self._data)


def _data(size: int) -> bytes:
    return bytes((i * 31 + i // 256) % 251 for i in range(size))


def test_a_short_read_of_the_file_is_completed():
    data = _data(3 * HEAD_SIZE)
    src = ByteSource.open(_Trickle(data, 1000), "trickle")
    assert src.head == data[:HEAD_SIZE]
    assert src.read(HEAD_SIZE + 5, 20_000) == data[HEAD_SIZE + 5 : HEAD_SIZE + 20_005]
    assert src.read(len(data) - 10, 100) == data[-10:]


@settings(max_examples=60, deadline=None)
@given(
    size=st.sampled_from([0, 7, 4096, HEAD_SIZE - 1, HEAD_SIZE + 3, 2 * HEAD_SIZE + STREAM_WINDOW + 5]),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["set", "cur", "end"]),
            st.integers(-70_000, 200_000),
            st.sampled_from([-1, 0, 1, 4, 8, STREAM_WINDOW - 1, STREAM_WINDOW, 70_000]),
            st.booleans(),
        ),
        max_size=12,
    ),
)
def test_the_stream_reads_and_counts_what_a_file_object_does(tmp_path_factory, size, steps):
    data = _data(size)
    path = tmp_path_factory.mktemp("stream") / "f.bin"
    path.write_bytes(data)
    for target in (str(path), data, _Trickle(data, 3000)):
        src = ByteSource.open(target, "f")
        stream, plain = src.stream(), open(path, "rb")  # noqa: SIM115 (closed below)
        before, counted = src.bytes_read, 0
        for whence, offset, n, into in steps:
            code = {"set": io.SEEK_SET, "cur": io.SEEK_CUR, "end": io.SEEK_END}[whence]
            try:
                expected_at = plain.seek(offset, code)
            except (OSError, ValueError) as exc:
                with pytest.raises(type(exc)):
                    stream.seek(offset, code)
                continue
            assert stream.seek(offset, code) == expected_at == stream.tell()
            if into and n > 0:
                buf, ref = bytearray(n), bytearray(n)
                got = stream.readinto(buf)
                assert got == plain.readinto(ref)
                assert buf[:got] == ref[:got]
            else:
                got_bytes = stream.read(n)
                assert got_bytes == plain.read(n)
                got = len(got_bytes)
            counted += got
            assert stream.tell() == plain.tell()
        assert src.bytes_read - before == counted
        src.close()
        plain.close()


def test_the_stream_starts_at_the_start_whatever_the_walk_read():
    data = _data(2 * HEAD_SIZE)
    src = ByteSource.open(data)
    src.read(HEAD_SIZE + 100, 50)
    assert src.stream().read(10) == data[:10]


# --------------------------------------------------------------------------- readers per block kinds


def test_the_readers_chosen_per_kinds_give_what_all_readers_give():
    chosen, every = Checker(), Checker()
    every._readers_of = lambda kinds: tuple(every.readers)  # type: ignore[method-assign]
    paths = sorted(FIXTURES.iterdir())
    assert len(paths) > 100
    for p in paths:
        assert _comparable(chosen.check(p)) == _comparable(every.check(p)), p.name
    assert len(chosen._readers_for) > 5  # the fixtures have many sets of block kinds


# --------------------------------------------------------------------------- disclosure


def test_nothing_disclosed_is_what_the_full_build_makes():
    nothing = C2paSummary()
    # A field the element tables do not name sends build down the full path, which finds nothing.
    unrelated = [Field("xmp", "x:Unrelated", "v", "XMP at 0x0")]
    assert disclosure.build(unrelated, nothing, [], []) == disclosure.NOTHING_DISCLOSED
    assert disclosure.build([Field("text", "Comment", "hi", "tEXt")], nothing, [], []) is disclosure.NOTHING_DISCLOSED
    # A C2PA marker, an EXIF camera or an IPTC term are not nothing.
    assert disclosure.build([], C2paSummary(present=True), [], []).provenance == ("c2pa",)
    camera = [Field("exif", "Make", "Canon", "APP1"), Field("exif", "Model", "EOS R5", "APP1")]
    assert disclosure.build(camera, nothing, [], []).capture_device == "Canon EOS R5"


def test_no_evidence_is_classified_as_the_rules_classify_it():
    classification, findings = classify([])
    assert classification == Classification(Status.UNKNOWN, "none", None, "none", None, [])
    assert findings == []


# --------------------------------------------------------------------------- generator lookups


def test_cached_lookups_answer_what_the_table_search_answers():
    table = Checker().fingerprints
    names = [a for g in table.generators for a in (g.name, g.id, *g.aliases)] + ["", "Adobe Photoshop", "x" * 2000]
    for attr in ("c2pa_names", "aigc_producers"):
        for name in names:
            for query in ([name], [name, "Adobe Firefly"], ["", name]):
                expected = table._search(query, attr)
                assert table._lookup(query, attr) is expected
                assert table._lookup(query, attr) is expected  # the cached answer
    assert all(sum(len(n) for n in key[1]) <= 1024 for key in table._looked_up)


# --------------------------------------------------------------------------- C2PA state


def test_the_state_read_from_the_store_is_c2pas_own(trusting_checker):
    import c2pa

    from aigc_check.readers.c2pa import _context

    signed = [p for p in sorted(FIXTURES.glob("c2pa-*")) if p.suffix in (".jpg", ".png")]
    assert len(signed) >= 5
    o = trusting_checker.options
    ctx = _context(o.trust_anchors_pem, o.allow_network, o.verify_hash)
    compared = 0
    for p in signed:
        result = trusting_checker.check(p)
        mime = "image/jpeg" if p.suffix == ".jpg" else "image/png"
        if not result.c2pa.present or result.c2pa.validation_state in (None, "Unreadable"):
            continue  # no store of its own to compare (a remote reference, a damaged one)
        with open(p, "rb") as f:
            reader = c2pa.Reader.try_create(mime, f, context=ctx)
            assert reader is not None, p.name
            with reader:
                assert result.c2pa.validation_state == reader.get_validation_state(), p.name
                compared += 1
    assert compared >= 5


# --------------------------------------------------------------------------- the time limit


def test_the_time_limit_fires_and_gives_the_previous_handler_back():
    def previous(signum, frame):  # pragma: no cover (never called)
        raise AssertionError("the check's own handler should have been in place")

    old = signal.signal(signal.SIGALRM, previous)
    try:
        with pytest.raises(TimeLimitError), time_limit(0.05):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                pass
        assert signal.getsignal(signal.SIGALRM) is previous
        with time_limit(5):
            pass
        assert signal.getsignal(signal.SIGALRM) is previous
    finally:
        signal.signal(signal.SIGALRM, old)
    assert signal.getsignal(signal.SIGALRM) == old


# --------------------------------------------------------------------------- issue 14, third round


def _every_file() -> list:
    """Every fixture, and every corpus file when the corpus is here."""
    paths = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    corpus = corpus_dir()
    paths += [corpus / row["file"] for row in corpus_rows() if (corpus / row["file"]).is_file()]
    return paths


class _HeadHidden(ByteSource):
    """A source whose walkers see no head: every header is read through ``read``, the plain way
    (which serves a range inside the head from it, uncounted, as before)."""

    @property
    def head(self) -> bytes:
        return b""


def _walked(src: ByteSource, handler) -> tuple:
    container = Container(handler.name, handler.media_type)
    try:
        handler.walk(src, container)
        raised = None
    except Exception as exc:  # the checker turns these into errors; compared as they are raised
        raised = (type(exc).__name__, str(exc), getattr(exc, "location", None))
    return container, raised, src.bytes_read


# The walkers that unpack headers where they lie in the head (others read the head as data).
_HEAD_WALKERS = {"jpeg", "png", "tiff", "matroska"}


def _directories(data: bytes, source: type[ByteSource]) -> tuple:
    try:
        with source.open(data, "exif") as blob:
            d = read_directories(blob)
        return d.endian, d.ifd0_at, d.entries, d.problems
    except Exception as exc:
        return type(exc).__name__, str(exc), getattr(exc, "location", None)


def test_headers_unpacked_in_the_head_are_what_reading_them_gives():
    walked = blobs = 0
    for path in _every_file():
        with ByteSource.open(path) as src:
            handler = formats.identify(src.head, named=path.name)
            if handler is None:
                continue
            fast = _walked(src, handler)
        for block in fast[0].blocks:  # every EXIF blob, whatever carried it, as the EXIF reader parses it
            if block.kind == "exif" and block.entries is None:
                assert _directories(block.data, ByteSource) == _directories(block.data, _HeadHidden), path.name
                blobs += 1
        if handler.name not in _HEAD_WALKERS:
            continue
        with _HeadHidden.open(path) as plain_src:
            plain = _walked(plain_src, handler)
        assert fast == plain, path.name
        walked += 1
    assert walked > 150 and blobs > 20


@pytest.mark.parametrize("size", [0, 10, HEAD_SIZE, HEAD_SIZE + 10])
def test_a_buffers_source_counts_and_reads_what_a_files_does(tmp_path, size):
    data = _data(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    for buffer in (data, bytearray(data), memoryview(data)):
        with ByteSource.open(buffer) as from_buffer, ByteSource.open(path) as from_file:
            assert from_buffer.head == from_file.head == data[:HEAD_SIZE]
            assert from_buffer.bytes_read == from_file.bytes_read
            assert from_buffer.read(HEAD_SIZE - 5, 20) == from_file.read(HEAD_SIZE - 5, 20)
            assert from_buffer.bytes_read == from_file.bytes_read
            assert from_buffer.stream().read() == data


def test_remembered_exif_names_are_piexifs():
    import piexif

    tags = {tag for table in piexif.TAGS.values() for tag in table} | {0x0001, 0xFFFF, 0xC4A5}
    for ifd in exif.IFDS:
        for tag in sorted(tags):
            assert exif._tag_name(ifd, tag) == exif._look_up_name(ifd, tag)
            assert exif._tag_name(ifd, tag) == exif._look_up_name(ifd, tag)  # the remembered one


def test_the_time_limit_leaves_no_timer_and_catches_a_swallowed_expiry():
    with time_limit(5):
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    # A library that catches the TimeLimitError and goes on: the block still ends with it.
    with pytest.raises(TimeLimitError, match=r"0\.05 s limit"), time_limit(0.05):
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                pass
        except TimeLimitError:
            pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    for no_limit in (None, 0, -1):
        with time_limit(no_limit):
            assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_file_with_nothing_found_gets_what_the_full_path_gives():
    options = CheckOptions(time_limit=None)
    lean, full = Checker(options), Checker(options)
    full._lean_results = None  # every file through every stage
    reused = 0
    paths = _every_file()
    # Twice round, each file with another declaration: an answer is kept per declaration too.
    for i, path in enumerate(paths + paths):
        declared = ("none", "ai", "not-ai")[i % 3]
        assert lean._lean_results is not None
        before = len(lean._lean_results)
        shortcut = lean.check(path, declared)
        plain = full.check(path, declared)
        assert _comparable(shortcut) == _comparable(plain), path.name
        assert shortcut.to_dict() is not plain.to_dict()
        reused += len(lean._lean_results) == before and not plain.evidence and not plain.errors
    assert len(lean._lean_results) >= 5  # JPEG, PNG, GIF, WebP, TIFF, audio, video, documents...
    assert reused > 20


def test_images_of_every_size_share_one_kept_answer(tmp_path):
    """A plain image's size and alpha are not in the kept answer's key: images of many sizes, with
    and without alpha, get what the full path gives, from one answer per format and declaration."""
    from PIL import Image

    options = CheckOptions(time_limit=None)
    lean, full = Checker(options), Checker(options)
    full._lean_results = None
    paths = []
    for i, (w, h) in enumerate([(1, 1), (17, 9), (640, 480), (96, 96), (1024, 1024), (3, 2000)]):
        for mode, fmt in (("RGB", "JPEG"), ("RGBA", "PNG"), ("RGB", "PNG"), ("L", "GIF"), ("RGB", "WEBP")):
            path = tmp_path / f"{i}-{mode}.{fmt.lower()}"
            Image.new(mode, (w, h), (i * 40) % 255 if mode == "L" else 0).save(path, fmt)
            paths.append(path)
    for path in paths:
        for declared in ("none", "ai"):
            assert _comparable(lean.check(path, declared)) == _comparable(full.check(path, declared)), path.name
    assert lean._lean_results is not None
    assert len(lean._lean_results) == 4 * 2  # JPEG, PNG, GIF, WebP; two declarations


def test_a_kept_answer_is_a_copy_its_callers_may_change():
    checker = Checker(CheckOptions(time_limit=None))
    first = checker.check(FIXTURES / "plain.jpg")
    first.decision.measures.append("changed")
    first.classification.deciding.append("changed")  # type: ignore[arg-type]
    first.findings.append("changed")  # type: ignore[arg-type]
    again = checker.check(FIXTURES / "plain.jpg")
    assert "changed" not in again.decision.measures
    assert again.classification.deciding == [] and again.findings == []
    fresh = Checker(CheckOptions(time_limit=None))
    fresh._lean_results = None
    assert _comparable(again) == _comparable(fresh.check(FIXTURES / "plain.jpg"))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(set(TYPES) - RAW_TYPES)), st.sampled_from("<>"), st.binary(min_size=8, max_size=8))
def test_one_ifd_value_reads_as_the_general_unpack_reads_it(typ, endian, raw):
    code, size = TYPES[typ]
    data = raw[:size]
    general = struct.unpack(f"{endian}{2 if typ in (5, 10) else 1}{code}", data)  # the general path's unpack
    if typ in (5, 10):
        general = tuple(zip(general[0::2], general[1::2]))
    assert repr(_value(data, typ, 1, endian, code)) == repr(general[0])  # repr: a NaN float equals no float
