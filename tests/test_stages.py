"""The pipeline's stages hand each other typed values and nothing else (issue 11): readers return
what they found and change neither the container nor each other's results, so their order does
not matter; ID3 tags are unpacked by the container walk; the checker's one fingerprint table is
what the signatures match with; the options are one ``CheckOptions`` type everywhere."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
from conftest import FIXTURES, TEST_ROOT_CA

from aigc_check import Checker, CheckOptions, formats
from aigc_check.errors import MediaError
from aigc_check.model import C2paSummary, Container
from aigc_check.readers import ReadContext, all_readers
from aigc_check.signatures.fingerprints import FingerprintTable
from aigc_check.source import ByteSource

# Files where the old readers depended on each other: ID3 frames carrying XMP and C2PA, C2PA with
# the XMP dcterms:provenance reference, and a few without either for contrast.
ORDER_FIXTURES = [
    "av-c2pa-ai.mp3",
    "av-c2pa-ai.wav",
    "av-c2pa-ai-tampered.wav",
    "av-notai-c2pa-geob-other-mime.mp3",
    "av-gb-txxx.mp3",
    "av-gen-suno.mp3",
    "av-gb-xmp.aiff",
    "av-gen-suno-anno.aiff",
    "av-broken-id3-size.mp3",
    "c2pa-ai-created.jpg",
    "c2pa-ai-stripped.jpg",
    "c2pa-remote-only.jpg",
    "c2pa-capture-with-aigc-xmp.jpg",
    "c2pa-ai-created.png",
]


def walked(path: Path, src: ByteSource) -> Container:
    handler = formats.identify(src.head)
    assert handler is not None, path
    c = Container(handler.name, handler.media_type)
    try:
        handler.walk(src, c)
    except MediaError:
        pass  # what was walked before the damage is still read, as in the checker
    return c


def result_dict(checker: Checker, path: Path) -> dict:
    d = checker.check(path).to_dict()
    d.pop("elapsed_ms")
    return d


@pytest.fixture(scope="module")
def trusting() -> Checker:
    return Checker(CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),)))


@pytest.mark.parametrize("name", ORDER_FIXTURES)
def test_reader_order_does_not_matter(name, trusting):
    path = FIXTURES / name
    forward = result_dict(trusting, path)
    reverse = Checker(CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),)))
    reverse.readers = list(reversed(reverse.readers))
    assert result_dict(reverse, path) == forward

    # Each reader's own output is the same whichever readers ran before it.
    with ByteSource.open(path) as src:
        c = walked(path, src)
        outputs = {}
        for order in (all_readers(), list(reversed(all_readers()))):
            ctx = ReadContext(src, c, trusting.options)
            for reader in order:
                outputs.setdefault(reader.family, []).append(reader.read(ctx))
            outputs.setdefault("*", []).append((ctx.fields, ctx.errors, ctx.c2pa))
    for family, (first, second) in outputs.items():
        assert first == second, family


@pytest.mark.parametrize("name", ORDER_FIXTURES)
def test_readers_do_not_change_the_container(name, trusting):
    path = FIXTURES / name
    with ByteSource.open(path) as src:
        c = walked(path, src)
        before = copy.deepcopy(c)
        ctx = ReadContext(src, c, trusting.options)
        for reader in all_readers():
            reader.read(ctx)
        assert c == before


def test_id3_carriers_are_unpacked_by_the_walk():
    path = FIXTURES / "av-c2pa-ai.mp3"
    with ByteSource.open(path) as src:
        c = walked(path, src)
    kinds = {b.kind for b in c.blocks}
    assert "id3" in kinds and c.c2pa is not None and "GEOB" in c.c2pa.location
    assert all(b.kind != "id3" or (b.key and b.text is not None and not b.data) for b in c.blocks)

    txxx = FIXTURES / "av-gb-txxx.mp3"
    with ByteSource.open(txxx) as src:
        c = walked(txxx, src)
    assert "TXXX:AIGC" in {b.key for b in c.blocks if b.kind == "id3"}


def test_id3_xmp_frame_becomes_an_xmp_block(tmp_path):
    from mutagen.id3 import ID3, PRIV

    path = tmp_path / "a.mp3"
    path.write_bytes((FIXTURES / "av-plain.mp3").read_bytes())
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="audio/mpeg"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    tags = ID3(path)
    tags.add(PRIV(owner="XMP", data=xmp.encode()))
    tags.save(path)
    with ByteSource.open(path) as src:
        c = walked(path, src)
    (block,) = [b for b in c.blocks if b.kind == "xmp"]
    assert block.location.endswith("PRIV frame (XMP)") and block.data == xmp.encode()


def test_an_unparsable_id3_tag_is_one_error_and_the_walk_goes_on():
    # A WAV whose id3 chunk holds a tag mutagen refuses (ID3v2.5), then an INFO chunk.
    import struct

    def chunk(fourcc: bytes, payload: bytes) -> bytes:
        return fourcc + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)

    bad_tag = b"ID3\x05\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10
    info = chunk(b"LIST", b"INFO" + chunk(b"ISFT", b"Lavf\x00"))
    fmt = chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))
    body = b"WAVE" + fmt + chunk(b"id3 ", bad_tag) + info + chunk(b"data", b"\x80" * 16)
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    result = Checker().check(data)
    assert result.format == "wav"
    assert [e.code for e in result.errors] == ["metadata-unreadable"] and "id3" in result.errors[0].message
    assert not result.errors[0].fatal and result.errors[0].location.startswith("WAV id3 chunk")
    with ByteSource.open(data) as src:
        c = walked(Path("bad-id3.wav"), src)
    assert [(b.family, b.key, b.text) for b in c.blocks] == [("riff", "ISFT", "Lavf")]  # the walk went on


def test_checker_matches_with_its_own_table_loaded_once(tmp_path):
    rules = {
        "generators": [
            {
                "id": "house-tool",
                "name": "House Tool",
                "rules": [{"when": [{"field": "text/parameters", "pattern": "house-tool"}]}],
                "description": "test entry",
            }
        ]
    }
    user_file = tmp_path / "generators.json"
    user_file.write_text(json.dumps(rules), encoding="utf-8")
    checker = Checker(CheckOptions(generators_file=str(user_file)))
    assert isinstance(checker.fingerprints, FingerprintTable) and checker.fingerprints.ids == {"house-tool"}
    user_file.unlink()  # nothing reads the file again: the table is handed to the signatures

    import zlib

    def png_chunk(kind: bytes, payload: bytes) -> bytes:
        return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")

    png = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00")
        + png_chunk(b"tEXt", b"parameters\x00made by house-tool 1.0")
        + png_chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + png_chunk(b"IEND", b"")
    )
    result = checker.check(png)
    assert result.generator == "house-tool" and result.status.value == "ai-generated"
    assert Checker().check(png).generator is None  # the shipped table does not know it


def test_shipped_table_is_shared_and_user_tables_are_not(tmp_path):
    assert FingerprintTable.load() is FingerprintTable.load()
    user_file = tmp_path / "g.json"
    user_file.write_text('{"generators": []}', encoding="utf-8")
    assert FingerprintTable.load(str(user_file)) is not FingerprintTable.load(str(user_file))


def test_check_options_is_one_type():
    import aigc_check
    import aigc_check.checker
    import aigc_check.options

    assert aigc_check.CheckOptions is aigc_check.checker.CheckOptions is aigc_check.options.CheckOptions


def test_c2pa_summary_is_made_whole_by_the_reader(trusting):
    result = trusting.check(FIXTURES / "c2pa-ai-created.jpg")
    assert result.c2pa.present and result.c2pa.validation_state == "Trusted"
    assert result.c2pa.claim_generator and result.c2pa.signer
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.c2pa.signer = "someone else"  # type: ignore[misc]
    assert C2paSummary() == C2paSummary(present=False)
