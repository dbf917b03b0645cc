"""Helpers the image writers share: the label's JSON as it goes into XMP, and the removal of label
copies from free-text carriers (EXIF UserComment, comments) without moving a byte."""

from __future__ import annotations

import json

from ...signatures.label_decoding import decode, find_in_text
from ..label import LabelFields

MAX_COPIES = 64  # label copies blanked in one carrier (a real file has one)


def xmp_value(label: LabelFields) -> str:
    """The TC260:AIGC value: the bare seven-key object (XMP carries it unwrapped, TC260-PG-20259A)."""
    return json.dumps(json.loads(label.to_json())["AIGC"], separators=(",", ":"), ensure_ascii=True)


def blank_label_text(data: bytes) -> tuple[bytes, int]:
    """``data`` with each GB 45438 label written as single-byte text (ASCII, Latin-1, UTF-8) replaced
    by spaces of the same length, and how many were: the carrier (an EXIF value, a comment) keeps its
    size and every offset around it stays right.  Text around the label is kept.  A label written in
    UTF-16 (EXIF XPComment, a Unicode UserComment) is not found here; ``mark``'s read-back check
    then sees the copy left and writes nothing."""
    text = data.decode("latin-1")
    out = bytearray(data)
    blanked = 0
    cursor = 0
    for _ in range(MAX_COPIES):
        segment = find_in_text(text[cursor:])
        if segment is None:
            break
        at = text.find(segment, cursor)
        decoded = decode(segment)
        if at < 0:
            break
        if not decoded.has_elements:  # a word such as "AIGC" in other text: look further on
            cursor = at + max(1, len(segment))
            continue
        out[at : at + len(segment)] = b" " * len(segment)
        blanked += 1
        cursor = at + len(segment)
    return bytes(out), blanked
