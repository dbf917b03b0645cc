"""ISO BMFF/HEIF items by every iloc construction method and in several extents, meta boxes at
file, moov and trak level; PNG eXIf with or without its prefix, text after IDAT and data after
IEND (issue 12).  Fixtures from fixtures/makers/av_tags.py; exiftool agrees where it reads them."""

from __future__ import annotations

import struct
import sys
import time

from conftest import FIXTURES, ROOT, exiftool_fixtures
from test_av_tags import fields_of

from aigc_check import check

sys.path.insert(0, str(ROOT / "fixtures"))
from makers.av_tags import (
    box,
    full_box,
    hdlr,
    heif,
    iinf,
    iloc,
    infe,
    iref_iloc,
    itxt,
    png_chunk,
)
from makers.common import A1111_PARAMS, aigc_json, tc260_xmp

XMP = tc260_xmp().encode("utf-8")
LABEL = aigc_json()
XMP_ITEM = iinf(infe(1, b"mime", "application/rdf+xml"))


def xmp_labels(data: bytes) -> list:
    fields, _ = fields_of(data)
    return [f for f in fields if f.name == "xmp/TC260:AIGC"]


# ------------------------------------------------------------------ iloc construction methods


def test_idat_item_method_1():
    (f,) = xmp_labels((FIXTURES / "heif-xmp-idat.heic").read_bytes())
    assert f.value == LABEL and "HEIF item 1" in f.location


def test_two_extents_are_joined_in_iloc_order():
    (f,) = xmp_labels((FIXTURES / "heif-xmp-two-extents.avif").read_bytes())
    assert f.value == LABEL


def test_item_inside_another_item_method_2():
    """Item 2 (XMP) lies at an offset inside item 1 (a blob in idat), named by iref 'iloc'."""
    blob = b"\x00" * 40 + XMP + b"\x00" * 7
    items = iinf(infe(1, b"mime", "application/octet-stream"), infe(2, b"mime", "application/rdf+xml"))
    locations = iloc([(1, 1, [(0, 0, len(blob))]), (2, 2, [(1, 40, len(XMP))])])
    data = heif([items, locations, iref_iloc(2, 1), box(b"idat", blob)])
    (f,) = xmp_labels(data)
    assert f.value == LABEL and "HEIF item 2" in f.location
    assert check(data).classification.aigc_label == "1"


def test_item_inside_another_item_fixture():
    (f,) = xmp_labels((FIXTURES / "heif-xmp-in-item.heif").read_bytes())
    assert f.value == LABEL


def test_extent_length_zero_runs_to_the_end_of_idat():
    data = heif([XMP_ITEM, iloc([(1, 1, [(0, 0, 0)])]), box(b"idat", XMP)])
    assert [f.value for f in xmp_labels(data)] == [LABEL]


def test_many_extents_of_one_item():
    pieces = [XMP[i : i + 7] for i in range(0, len(XMP), 7)]
    offsets, pos = [], 0
    for p in pieces:
        offsets.append((1, pos, len(p)))
        pos += len(p)
    data = heif([XMP_ITEM, iloc([(1, 1, offsets)]), box(b"idat", b"".join(pieces))])
    assert [f.value for f in xmp_labels(data)] == [LABEL]


def test_infe_version_0_names_xmp_by_content_type():
    entry = full_box(b"infe", 0, struct.pack(">HH", 1, 0) + b"xmp\x00application/rdf+xml\x00")
    data = heif([iinf(entry), iloc([(1, 1, [(0, 0, len(XMP))])]), box(b"idat", XMP)])
    assert [f.value for f in xmp_labels(data)] == [LABEL]


# ------------------------------------------------------------------ meta at each level


def test_xmp_item_under_moov_meta():
    (f,) = xmp_labels((FIXTURES / "av-moov-meta-xmp.mp4").read_bytes())
    assert f.value == LABEL


def mp4(moov_children: bytes) -> bytes:
    return box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"moov", moov_children)


def test_xmp_item_and_item_list_under_trak_meta():
    meta = full_box(
        b"meta",
        0,
        hdlr(b"meta") + XMP_ITEM + iloc([(1, 1, [(0, 0, len(XMP))])]) + box(b"idat", XMP),
    )
    data = mp4(box(b"trak", meta))
    assert [f.value for f in xmp_labels(data)] == [LABEL]
    assert check(data).classification.aigc_label == "1"


def test_item_list_under_trak_meta_and_file_level_meta():
    data_box = box(b"data", struct.pack(">I", 1) + b"\x00" * 4 + b"Suno v4.5")
    ilst = box(b"ilst", box(b"\xa9too", data_box))
    trak_meta = full_box(b"meta", 0, hdlr(b"mdir") + ilst)
    result = check(mp4(box(b"trak", trak_meta)))
    assert result.generator == "suno" and result.evidence[0].key == "mp4/©too"


def test_exif_item_in_idat():
    import piexif

    exif = piexif.dump({"0th": {piexif.ImageIFD.ImageDescription: aigc_json(wrapped=True).encode()}})
    payload = struct.pack(">I", 6) + exif  # offset to the TIFF header, then "Exif\0\0" + TIFF
    items = iinf(infe(1, b"Exif"))
    data = heif([items, iloc([(1, 1, [(0, 0, len(payload))])]), box(b"idat", payload)])
    result = check(data)
    assert result.classification.aigc_label == "1" and result.evidence[0].key == "exif/ImageDescription"


# ------------------------------------------------------------------ damage and bounds


def test_extent_outside_the_file_is_fatal_for_that_item_only():
    """An Exif item pointing past the end (a cut file) is a fatal error; the XMP item beside it is
    still read, so the label counts."""
    items = iinf(infe(1, b"mime", "application/rdf+xml"), infe(2, b"Exif"))
    locations = iloc([(1, 1, [(0, 0, len(XMP))]), (2, 0, [(0, 10**9, 100)])])
    result = check(heif([items, locations, box(b"idat", XMP)]))
    assert result.classification.aigc_label == "1"
    assert [e.code for e in result.errors] == ["truncated"] and result.errors[0].fatal
    assert result.verdict != "compliant"


def test_extent_outside_idat_is_an_error():
    data = heif([XMP_ITEM, iloc([(1, 1, [(0, 10, len(XMP))])]), box(b"idat", XMP)])
    result = check(data)
    assert any("runs past the end of idat" in e.message for e in result.errors)


def test_idat_item_without_idat():
    result = check(heif([XMP_ITEM, iloc([(1, 1, [(0, 0, 10)])])]))
    assert any("no idat" in e.message for e in result.errors)


def test_item_referring_to_itself_is_bounded():
    locations = iloc([(1, 2, [(1, 0, 10)])])
    start = time.perf_counter()
    result = check(heif([XMP_ITEM, locations, iref_iloc(1, 1)]))
    assert time.perf_counter() - start < 2
    assert [e.code for e in result.errors] == ["limit-exceeded"]


def test_iloc_with_zero_size_fields_and_huge_counts_is_bounded():
    """Offsets and lengths of 0 bytes make extents free to declare: 65535 items of 65535 extents."""
    body = bytes([0x00, 0x00]) + struct.pack(">H", 0xFFFF)
    body += b"".join(struct.pack(">HHHH", i, 0, 0, 0xFFFF) for i in range(1, 200))
    start = time.perf_counter()
    result = check(heif([XMP_ITEM, full_box(b"iloc", 1, body)]))
    assert time.perf_counter() - start < 2
    assert result.verdict == "unreadable" and result.errors[0].code == "limit-exceeded"


def test_item_over_the_size_limit_is_not_read():
    big = (1, 0, [(0, 0, 64 * 1024 * 1024)])
    result = check(heif([XMP_ITEM, iloc([big])], box(b"mdat", b"\x00" * 100)))
    assert result.errors[0].code in ("truncated", "limit-exceeded") and result.bytes_read < 1 << 20


# ------------------------------------------------------------------ PNG


def test_exif_with_and_without_the_prefix():
    for name in ("png-exif-pillow.png", "png-exif-prefixed.png"):
        result = check(FIXTURES / name)
        assert [e.key for e in result.evidence] == ["exif/ImageDescription"], name
        assert not result.errors, name


def test_text_chunk_after_idat():
    fields, _ = fields_of((FIXTURES / "png-itxt-after-idat.png").read_bytes())
    (f,) = [f for f in fields if f.name == "text/AIGC"]
    assert f.value == LABEL and "iTXt" in f.location


def test_chunk_after_iend_is_read_and_reported():
    data = (FIXTURES / "png-after-iend-label.png").read_bytes()
    result = check(data)
    assert result.classification.aigc_label == "1"
    (finding,) = [f for f in result.findings if f.code == "trailing-data"]
    iend = data.index(b"IEND") + 8
    assert finding.severity == "warning" and f"{len(data) - iend} bytes of PNG chunks" in finding.message
    assert "after IEND" in result.evidence[0].location


def plain_png() -> bytes:
    data = (FIXTURES / "plain.png").read_bytes()
    return data[: data.index(b"IEND") + 8]


def test_text_after_iend_is_read_as_a_comment():
    result = check(plain_png() + A1111_PARAMS.encode())
    assert result.generator == "a1111" and result.evidence[0].key == "comment/trailing-data"
    assert "trailing-data" in {f.code for f in result.findings}


def test_label_text_after_iend():
    result = check(plain_png() + b"AIGC" + LABEL.encode())
    assert result.classification.aigc_label == "1"


def test_xmp_packet_after_iend():
    result = check(plain_png() + XMP)
    assert result.classification.aigc_label == "1" and result.evidence[0].key == "xmp/TC260:AIGC"


def test_binary_after_iend_is_only_a_finding():
    result = check(plain_png() + bytes(range(256)) * 4)
    assert [f.code for f in result.findings] == ["trailing-data"] and not result.evidence
    assert "1024 bytes of binary data" in result.findings[0].message


def test_a_large_binary_blob_after_iend_is_not_read_whole():
    result = check(plain_png() + bytes(4 << 20))
    (finding,) = result.findings
    assert finding.code == "trailing-data" and "first 4096 were searched" in finding.message
    assert result.bytes_read < 256 * 1024


def test_text_chunk_then_text_after_iend():
    tail = itxt("Comment", "hello") + b"AIGC" + LABEL.encode()
    result = check(plain_png() + tail)
    assert result.classification.aigc_label == "1"


def test_cut_chunk_after_iend_is_truncated():
    chunk = png_chunk(b"tEXt", b"AIGC\x00" + LABEL.encode())
    result = check(plain_png() + chunk[:-10])
    assert result.verdict == "unreadable" and result.errors[0].code == "truncated"


def test_a_png_without_trailing_data_has_no_finding():
    assert "trailing-data" not in {f.code for f in check(FIXTURES / "plain.png").findings}


# ------------------------------------------------------------------ exiftool agrees


def test_exiftool_agrees_on_png_forms():
    dumps = exiftool_fixtures(
        "png-exif-pillow.png", "png-exif-prefixed.png", "png-itxt-after-idat.png", "png-after-iend-label.png"
    )
    wrapped = aigc_json(wrapped=True)
    assert dumps["png-exif-pillow.png"]["IFD0:ImageDescription"] == wrapped
    assert dumps["png-exif-prefixed.png"]["IFD0:ImageDescription"] == wrapped
    assert dumps["png-itxt-after-idat.png"]["PNG:AIGC"] == LABEL
    assert dumps["png-after-iend-label.png"]["Trailer:AIGC"] == LABEL
    assert "after PNG IEND" in dumps["png-after-iend-label.png"]["ExifTool:Warning"]


def test_exiftool_agrees_on_two_extents_and_cannot_read_idat():
    """exiftool 12.57 joins extents (construction method 0) as aigc-check does, but extracts no item
    stored in idat (method 1) or inside another item (method 2) and reads no items under moov/meta:
    there aigc-check reads more."""
    dumps = exiftool_fixtures(
        "heif-xmp-two-extents.avif", "heif-xmp-idat.heic", "heif-xmp-in-item.heif", "av-moov-meta-xmp.mp4"
    )
    assert dumps["heif-xmp-two-extents.avif"]["XMP-TC260:Aigc"] == LABEL
    for name, method in (("heif-xmp-idat.heic", 1), ("heif-xmp-in-item.heif", 2)):
        assert f"construction method {method}" in dumps[name]["ExifTool:Warning"]
        assert not any("TC260" in k for k in dumps[name])
    assert not any("TC260" in k for k in dumps["av-moov-meta-xmp.mp4"])
