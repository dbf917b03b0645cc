"""IPTC IIM (Information Interchange Model) datasets: the ``iim`` blocks of JPEG APP13 and TIFF.

The walkers find the blocks (TIFF tag 33723, resource 0x0404 of a Photoshop IRB in JPEG APP13 or
TIFF tag 34377, ``formats/irb.py``).  A block is a run of datasets: the tag marker 0x1C, a record
number, a dataset number, a 16-bit length and the value.  A length with its top bit set starts an
extended dataset: the low 15 bits say how many octets of length follow (at most eight here).

Read: every dataset of record 2 (the application record), one field per dataset, so repeated
datasets (Keywords, By-line, Writer-Editor ...) are several fields in file order, named as
exiftool and the IPTC standard name them (``iim/Credit``, ``iim/Caption-Abstract``,
``iim/By-line``); and dataset 1:90 (CodedCharacterSet), which says how the text is encoded:
``ESC % G`` is UTF-8, an ISO 8859-1 designation Latin-1.  Text without a declaration is UTF-8
where it is valid and Windows Latin-1 otherwise, as most writers meant it; declared UTF-8 that is
not valid falls back the same way.  IPTC defines no IIM dataset for the digital source type; the
generator texts (Credit, Source, Caption, Keywords, Originating Program) are matched by the
fingerprints under these names.

A dataset whose length runs past the end of the block is one error for the block: the datasets
before it are kept, and the reader looks for the next run of datasets that ends exactly with the
block, so those after it are kept too.

Written by hand: Pillow's IPTC parser (``IptcImagePlugin.getiptcinfo``) needs the image opened by
Pillow, decodes no character set, and drops the whole block at the first bad dataset.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..limits import MAX_IIM_DATASETS
from ..model import Block, Field
from . import MetadataReader, PartialRead

MARKER = 0x1C
RECORDS = frozenset(range(1, 10)) | {240}  # the IIM records, and FotoStation's 240
ENVELOPE, APPLICATION = 1, 2
CODED_CHARACTER_SET = 90
UTF8 = b"\x1b%G"
LATIN1 = frozenset({b"\x1b,A", b"\x1b-A", b"\x1b.A", b"\x1b/A"})  # ISO 8859-1 as G0, G1, G2 or G3
MAX_LENGTH_OCTETS = 8
MAX_RESYNC_TRIES = 16  # candidate restarts after a dataset that overruns its block

# Record 2 datasets: IIM 4.2 names, and the later ones Photoshop and Photo Mechanic write.
DATASETS = {
    0: "ApplicationRecordVersion",
    3: "ObjectTypeReference",
    4: "ObjectAttributeReference",
    5: "ObjectName",
    7: "EditStatus",
    8: "EditorialUpdate",
    10: "Urgency",
    12: "SubjectReference",
    15: "Category",
    20: "SupplementalCategories",
    22: "FixtureIdentifier",
    25: "Keywords",
    26: "ContentLocationCode",
    27: "ContentLocationName",
    30: "ReleaseDate",
    35: "ReleaseTime",
    37: "ExpirationDate",
    38: "ExpirationTime",
    40: "SpecialInstructions",
    42: "ActionAdvised",
    45: "ReferenceService",
    47: "ReferenceDate",
    50: "ReferenceNumber",
    55: "DateCreated",
    60: "TimeCreated",
    62: "DigitalCreationDate",
    63: "DigitalCreationTime",
    65: "OriginatingProgram",
    70: "ProgramVersion",
    75: "ObjectCycle",
    80: "By-line",
    85: "By-lineTitle",
    90: "City",
    92: "Sub-location",
    95: "Province-State",
    100: "Country-PrimaryLocationCode",
    101: "Country-PrimaryLocationName",
    103: "OriginalTransmissionReference",
    105: "Headline",
    110: "Credit",
    115: "Source",
    116: "CopyrightNotice",
    118: "Contact",
    120: "Caption-Abstract",
    121: "LocalCaption",
    122: "Writer-Editor",
    125: "RasterizedCaption",
    130: "ImageType",
    131: "ImageOrientation",
    135: "LanguageIdentifier",
    150: "AudioType",
    151: "AudioSamplingRate",
    152: "AudioSamplingResolution",
    153: "AudioDuration",
    154: "AudioOutcue",
    184: "JobID",
    185: "MasterDocumentID",
    186: "ShortDocumentID",
    187: "UniqueDocumentID",
    188: "OwnerID",
    200: "ObjectPreviewFileFormat",
    201: "ObjectPreviewFileVersion",
    202: "ObjectPreviewData",
    221: "Prefs",
    225: "ClassifyState",
    228: "SimilarityIndex",
    230: "DocumentNotes",
    231: "DocumentHistory",
    232: "ExifCameraInfo",
    255: "CatalogSets",
}
NUMBERS = frozenset({0, 200, 201})  # binary 16-bit numbers
PICTURES = frozenset({125, 202})  # a rasterised caption and a preview image: no text to read


class IimReader(MetadataReader):
    family = "iim"
    kinds = ("iim",)

    def read_block(self, block: Block) -> Iterable[Field]:
        data = block.data
        spans, problems, limit_hit = datasets(data)
        charset = next((data[a : a + n] for r, d, a, n in spans if (r, d) == (ENVELOPE, CODED_CHARACTER_SET)), None)
        fields = []
        for record, number, at, n in spans:
            where = f"{block.location}, dataset {record}:{number}"
            if record == ENVELOPE and number == CODED_CHARACTER_SET:
                fields.append(Field(self.family, "CodedCharacterSet", _charset_name(data[at : at + n]), where))
            elif record == APPLICATION and number not in PICTURES:
                raw = data[at : at + n]
                key = DATASETS.get(number, f"ApplicationRecord{number}")
                value: int | str = int.from_bytes(raw, "big") if number in NUMBERS and n <= 8 else decode(raw, charset)
                fields.append(Field(self.family, key, value, where))
        if problems:
            raise PartialRead(
                fields,
                "; ".join(problems[:5]),
                code="limit-exceeded" if limit_hit else "metadata-unreadable",
                fatal=limit_hit,
            )
        return fields


def datasets(data: bytes) -> tuple[list[tuple[int, int, int, int]], list[str], bool]:
    """(record, dataset, value offset, value length) of each whole dataset in ``data``, the problems
    met and whether a bound was hit."""
    spans: list[tuple[int, int, int, int]] = []
    problems: list[str] = []
    pos, end, tries = 0, len(data), 0
    while pos < end:
        if len(spans) >= MAX_IIM_DATASETS:
            problems.append(f"more than {MAX_IIM_DATASETS} datasets")
            return spans, problems, True
        step = _dataset(data, pos)
        if isinstance(step, tuple):
            spans.append(step)
            pos = step[2] + step[3]
            continue
        if data[pos] != MARKER and not data[pos:].strip(b"\x00"):
            break  # zero padding (TIFF tags typed LONG, IRB resources) after the last dataset
        problems.append(step)
        restart = None
        while tries < MAX_RESYNC_TRIES and restart is None:
            pos = data.find(bytes((MARKER,)), pos + 1)
            if pos < 0:
                break
            tries += 1
            restart = pos if _runs_to_end(data, pos) else None
        if restart is None:
            break
        pos = restart
    return spans, problems, False


def _dataset(data: bytes, pos: int) -> tuple[int, int, int, int] | str:
    """The dataset at ``pos`` as (record, dataset, value offset, value length), or what is wrong with it."""
    end = len(data)
    if data[pos] != MARKER:
        return f"no dataset marker (0x1C) at offset {pos:#x} but 0x{data[pos]:02X}"
    if pos + 5 > end:
        return f"the dataset header at offset {pos:#x} is cut short"
    record, number = data[pos + 1], data[pos + 2]
    length = int.from_bytes(data[pos + 3 : pos + 5], "big")
    at = pos + 5
    if length & 0x8000:  # extended dataset: the length of the length follows
        octets = length & 0x7FFF
        if not 0 < octets <= MAX_LENGTH_OCTETS or at + octets > end:
            return f"dataset {record}:{number} at offset {pos:#x} has an extended length of {octets} octets"
        length = int.from_bytes(data[at : at + octets], "big")
        at += octets
    if at + length > end:
        return f"dataset {record}:{number} at offset {pos:#x} claims {length} bytes, {end - at} are left"
    return record, number, at, length


def _runs_to_end(data: bytes, pos: int) -> bool:
    """Whether whole datasets of IIM records run from ``pos`` to the end of ``data`` (or its zero padding)."""
    for _ in range(MAX_IIM_DATASETS):
        if pos >= len(data) or (data[pos] != MARKER and not data[pos:].strip(b"\x00")):
            return True
        step = _dataset(data, pos)
        if not isinstance(step, tuple) or step[0] not in RECORDS:
            return False
        pos = step[2] + step[3]
    return False


def decode(raw: bytes, charset: bytes | None) -> str:
    """Text of a dataset in the declared character set (1:90), trailing NULs dropped."""
    raw = raw.rstrip(b"\x00")
    if charset in LATIN1:
        return raw.decode("latin-1")
    try:
        return raw.decode("utf-8")  # declared, or ASCII, or undeclared UTF-8 (Latin-1 text is rarely valid UTF-8)
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # the Windows Latin-1 undeclared text was mostly written in
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # holds one of the five bytes cp1252 leaves undefined


def _charset_name(raw: bytes) -> str:
    if raw == UTF8:
        return "UTF8"
    return raw.decode("latin-1").replace("\x1b", "ESC ")
