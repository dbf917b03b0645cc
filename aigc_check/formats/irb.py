"""Photoshop image resource blocks (IRB): the carrier of IPTC IIM in JPEG APP13 and TIFF tag 34377.

An IRB is a run of resources, each: a signature (``8BIM``; rarely ``PHUT``, ``DCSR``, ``AgHg`` or
``MeSa``), a 16-bit id, a Pascal-string name padded to an even length (its length byte included),
a 32-bit size and the data, padded to an even length.  Resource 0x0404 (IPTC-NAA) holds the IIM
datasets; :func:`unpack_irb` hands each one on as an ``iim`` block and skips every other resource
by its size.  A damaged resource is one non-fatal error: the resources before it are kept (and the
IIM data of a 0x0404 resource that is cut short, for the reader to take what is whole), the walk
of the file goes on.

Written by hand: Pillow reads APP13 only while opening a JPEG (``im.info["photoshop"]``), one
segment at a time (a resource continued in the next APP13 segment is lost), keyed by resource id
(a repeated resource replaces the first), and never reads the IRB of a TIFF file.
"""

from __future__ import annotations

import struct

from ..limits import MAX_BLOCKS, MAX_IRB_RESOURCES
from ..model import Block, Container, ReadError

SIGNATURES = frozenset({b"8BIM", b"PHUT", b"DCSR", b"AgHg", b"MeSa"})
IPTC_RESOURCE = 0x0404
# Signature, id, an empty name (length byte and its pad), size: the smallest resource header.
MIN_HEADER = 4 + 2 + 2 + 4


def unpack_irb(c: Container, data: bytes, location: str) -> None:
    """Add an ``iim`` block for each IPTC-NAA resource of the IRB ``data`` found at ``location``."""
    pos, end = 0, len(data)
    for _ in range(MAX_IRB_RESOURCES):
        if pos >= end:
            return
        where = f"{location}, IRB offset {pos:#x}"
        if data[pos : pos + 4] not in SIGNATURES or pos + MIN_HEADER > end:
            if not data[pos:].strip(b"\x00"):
                return  # the zero padding some writers leave after the last resource
            if data[pos : pos + 4] in SIGNATURES:
                _problem(c, "the last resource header is cut short", where)
            else:
                _problem(c, f"no resource signature (8BIM) but {data[pos : pos + 4]!r}: the rest is skipped", where)
            return
        (rid,) = struct.unpack(">H", data[pos + 4 : pos + 6])
        name_len = data[pos + 6]
        size_at = pos + 7 + name_len + (~name_len & 1)  # name and length byte padded to even
        if size_at + 4 > end:
            _problem(c, f"resource 0x{rid:04X}: its name runs past the end of the block", where)
            return
        (size,) = struct.unpack(">I", data[size_at : size_at + 4])
        at = size_at + 4
        name = data[pos + 7 : pos + 7 + name_len].decode("latin-1")
        label = f"{location}, resource 0x{rid:04X}{f' {name!r}' if name else ''}"
        iptc = data[pos : pos + 4] == b"8BIM" and rid == IPTC_RESOURCE
        if at + size > end:
            _problem(c, f"resource 0x{rid:04X} claims {size} bytes, {end - at} are left", where)
            if iptc and at < end:
                _add(c, Block("iim", f"{label} (IPTC IIM, cut short)", data[at:end]))
            return
        if iptc:
            _add(c, Block("iim", f"{label} (IPTC IIM)", data[at : at + size]))
        pos = at + size + (size & 1)
    c.errors.append(
        ReadError("limit-exceeded", f"Photoshop IRB has more than {MAX_IRB_RESOURCES} resources", location, fatal=True)
    )


def _add(c: Container, block: Block) -> None:
    if len(c.blocks) >= MAX_BLOCKS:
        c.errors.append(
            ReadError("limit-exceeded", f"more than {MAX_BLOCKS} metadata blocks", block.location, fatal=True)
        )
    else:
        c.blocks.append(block)


def _problem(c: Container, message: str, where: str) -> None:
    c.errors.append(ReadError("metadata-unreadable", f"Photoshop IRB: {message}", where))
