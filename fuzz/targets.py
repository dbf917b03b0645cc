"""Fuzz targets shared by the atheris harness (fuzz_atheris.py, long local runs)
and the bounded hypothesis run in the test suite (tests/test_fuzz.py).

Each target takes bytes and checks the invariants that must hold for any
input; a violation raises ``InvariantBroken`` (or the unexpected exception
itself), which both harnesses report as a crash.

- ``check``: the whole pipeline never raises, its report serialises, and a
  file with a fatal read error is never ``compliant``.
- ``format:<name>``: a container walker raises nothing but ``MediaError``
  (a typed, located error), whatever the bytes.
- ``reader:<family>``: a metadata reader given a block of these bytes never
  lets an exception out; what it cannot read becomes a listed error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from aigc_check import Checker, formats
from aigc_check.errors import MediaError
from aigc_check.model import Block, C2paMarker, Container
from aigc_check.readers import ReadContext, all_readers
from aigc_check.source import ByteSource

ROOT = Path(__file__).resolve().parent.parent
# Block kind each reader decodes, for readers that read blocks.
READER_BLOCKS = {
    "xmp": "xmp",
    "exif": "exif",
    "text": "text",
    "comment": "comment",
    "tag": "tag",
    "id3": "id3",
    "vorbis": "vorbis",
    "iim": "iim",
}


# Values a mutation writes over a 4- or 8-byte size field: the extremes real damage and attacks use.
SIZE_EXTREMES = (
    b"\xff\xff\xff\xff",
    b"\x00\x00\x00\x00",
    b"\x7f\xff\xff\xff",
    b"\x00\x00\x00\x08",
    b"\x80\x00\x00\x00",
    b"\x00\x00\xff\xff",
    b"\x01\x00\x00\x00\x00\x00\x00\x00",
)


class InvariantBroken(AssertionError):
    pass


_checker: Checker | None = None


def checker() -> Checker:
    global _checker
    if _checker is None:
        _checker = Checker()
    return _checker


def check_target(data: bytes) -> None:
    result = checker().check(data, name="fuzz")
    report = json.dumps(result.to_dict())
    if result.verdict == "compliant" and any(e.fatal for e in result.errors):
        raise InvariantBroken(f"compliant despite a fatal error: {report[:500]}")
    if result.verdict == "unreadable" and not result.errors:
        raise InvariantBroken("unreadable without an error saying why")


def format_target(name: str) -> Callable[[bytes], None]:
    handler = next(h for h in formats.handlers() if h.name == name)

    def run(data: bytes) -> None:
        if not data or not handler.accept(data[:65536]):
            return  # the pipeline only hands a walker what its header test accepts
        with ByteSource.open(data, "fuzz") as src:
            try:
                handler.walk(src, Container(handler.name, handler.media_type))
            except MediaError:
                pass

    return run


def reader_target(family: str) -> Callable[[bytes], None]:
    reader = next(r for r in all_readers() if r.family == family or (family == "tag" and r.kinds == ("tag",)))
    kind = READER_BLOCKS.get(family)

    def run(data: bytes) -> None:
        with ByteSource.open(data, "fuzz") as src:
            container = Container("fuzz", "image/jpeg")
            if kind:
                container.blocks.append(
                    Block(kind, "fuzz block", data, key="AIGC", text=data.decode("utf-8", "replace"), family="mp4")
                )
            else:  # c2pa and stealth read the whole file
                container.c2pa = C2paMarker("fuzz")
                container.media_type = _sniffed_type(data)
            ctx = ReadContext(src, container, checker().options)
            reader.read(ctx)
            json.dumps([(f.name, str(f.value)) for f in ctx.fields])

    return run


def _sniffed_type(data: bytes) -> str:
    handler = formats.identify(data[:65536])
    return handler.media_type if handler else "image/jpeg"


def all_targets() -> dict[str, Callable[[bytes], None]]:
    targets: dict[str, Callable[[bytes], None]] = {"check": check_target}
    for h in formats.handlers():
        targets[f"format:{h.name}"] = format_target(h.name)
    for r in all_readers():
        family = "tag" if r.kinds == ("tag",) else r.family
        targets[f"reader:{family}"] = reader_target(family)
    return targets


def seed_files(corpus: Path | None = None) -> list[Path]:
    """The fixtures, and the shared corpus of real files when it is there."""
    seeds = sorted(p for p in (ROOT / "fixtures" / "files").iterdir() if p.is_file())
    if corpus and corpus.is_dir():
        seeds += sorted(
            p
            for p in corpus.rglob("*")
            if p.is_file() and p.suffix not in (".tsv", ".md") and p.stat().st_size <= 4 << 20
        )
    return seeds
