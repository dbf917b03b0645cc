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
"""

from __future__ import annotations

import io
import signal
import time

import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_check import Checker, disclosure
from aigc_check.classifier import classify
from aigc_check.deadline import TimeLimitError, time_limit
from aigc_check.model import C2paSummary, Classification, Field, Status
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
