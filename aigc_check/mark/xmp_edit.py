"""Put the GB 45438 label into an XMP packet, editing the packet's text in place.

The TC260 image guide says an existing packet is updated property by property, never replaced
whole; so the packet is not parsed and re-serialised (ElementTree would rename every prefix and
drop the wrapper), only the ``TC260:AIGC`` property is rewritten where it stands, or a
``rdf:Description`` holding it is added before ``</rdf:RDF>``.  Every other byte of the packet is
kept; the packet's trailing padding absorbs the change where it is long enough, so the packet keeps
its length (what lets TIFF, GIF and HEIF writers rewrite it where it is).  No library does this
edit: python-exiv2 re-serialises the whole packet (measured in ``bench/bench_mark.py``: 706 bytes
of packet become 2442, every prefix and the layout rewritten), so it is written here, bounded like
the XMP reader.

The result is parsed (defusedxml) before it is handed back: a packet the edit would leave
unreadable raises ``WriteError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from xml.sax.saxutils import escape, quoteattr

from defusedxml import ElementTree as SafeET

from ..limits import MAX_METADATA_BLOCK
from ..readers.xmp import RDF, TC260_NS, packet_encoding
from .writers import WriteError

_NS_DECL = re.compile(rb"""xmlns:([A-Za-z_][\w.-]{0,63})\s*=\s*(["'])([^"']{0,512})\2""")
_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)\b", re.I)
_PACKET_END = re.compile(rb"<\?xpacket\s+end\s*=\s*[\"'][rw][\"']\s*\?>")
T = TypeVar("T")
MAX_LABEL_PROPERTIES = 64  # copies of the property edited in one packet (a real one has one)

EMPTY_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b"</rdf:RDF></x:xmpmeta>\n"
    b'<?xpacket end="w"?>'
)


@dataclass
class XmpEdit:
    packet: bytes
    updated: bool  # an existing TC260:AIGC property was rewritten where it stood
    removed: int  # further copies of the property removed (GB 45438 6.1 c: one label per file)


def _prefixes(packet: bytes, uri: str) -> list[bytes]:
    want = uri.encode("ascii")
    return [m.group(1) for m in _NS_DECL.finditer(packet) if m.group(3).rstrip(b"/") == want.rstrip(b"/")]


def _property_spans(packet: bytes) -> list[tuple[int, int, str]]:
    """(start, end, form) of each TC260:AIGC property, any prefix, in packet order; form is
    ``element`` (the span is the whole element) or ``attribute`` (the span is `` p:AIGC="..."``)."""
    spans: list[tuple[int, int, str]] = []
    for prefix in dict.fromkeys(_prefixes(packet, TC260_NS)):
        p = re.escape(prefix)
        element = rb"<" + p + rb":AIGC(?:\s[^<>]{0,1024})?(?:/>|>[^<]{0,%d}</" % MAX_METADATA_BLOCK + p + rb":AIGC\s*>)"
        attribute = rb"\s+" + p + rb":AIGC\s*=\s*(?:\"[^\"]{0,%d}\"|'[^']{0,%d}')" % ((MAX_METADATA_BLOCK,) * 2)
        spans += [(m.start(), m.end(), "element") for m in re.finditer(element, packet)]
        spans += [(m.start(), m.end(), "attribute") for m in re.finditer(attribute, packet)]
        if len(spans) > MAX_LABEL_PROPERTIES:
            raise WriteError(f"more than {MAX_LABEL_PROPERTIES} TC260:AIGC properties in one XMP packet")
    return sorted(spans)


def has_label(packet: bytes) -> bool:
    return _in_encoding(packet, lambda utf8: (utf8, bool(_property_spans(utf8))))[1]


def _utf8(packet: bytes) -> bytes:
    if _DECLARATIONS.search(packet):
        raise WriteError("the XMP packet declares a DTD or entities; it is not edited")
    return packet


def _in_encoding(packet: bytes, edit: Callable[[bytes], tuple[bytes, T]]) -> tuple[bytes, T]:
    """``edit`` applied to the packet as UTF-8, the result written back in the packet's own
    encoding (XMP allows UTF-16 and UTF-32 of either byte order; the BOM, if any, is kept)."""
    codec, start = packet_encoding(packet)
    if codec == "utf-8":
        return edit(packet)
    width = 4 if codec.startswith("utf-32") else 2
    body = packet[start:]
    if len(body) % width:
        raise WriteError(f"the {codec} XMP packet is cut inside a character")
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise WriteError(f"the {codec} XMP packet does not decode: {exc}") from exc
    new, extra = edit(text.encode("utf-8"))
    return packet[:start] + new.decode("utf-8").encode(codec), extra


def set_label(packet: bytes | None, label_json: str) -> XmpEdit:
    """``packet`` (None: a new one) holding exactly one TC260:AIGC property whose value is
    ``label_json``: the first existing copy rewritten where it stands, the others removed."""
    if packet is None:
        packet = EMPTY_PACKET
    new, (updated, removed) = _in_encoding(packet, lambda utf8: _set_label(utf8, label_json))
    return XmpEdit(new, updated, removed)


def _set_label(packet: bytes, label_json: str) -> tuple[bytes, tuple[bool, int]]:
    packet = _utf8(packet)
    old_length = len(packet)
    spans = _property_spans(packet)
    out = packet
    updated = False
    if spans:
        start, end, form = spans[0]
        prefix = re.match(rb"\s*<?([\w.-]+):AIGC", packet[start:end])
        assert prefix is not None
        p = prefix.group(1)
        if form == "element":
            new = b"<" + p + b":AIGC>" + escape(label_json).encode("utf-8") + b"</" + p + b":AIGC>"
        else:
            lead = re.match(rb"\s+", packet[start:end])
            new = (lead.group() if lead else b" ") + p + b":AIGC=" + quoteattr(label_json).encode("utf-8")
        pieces = [packet[:start], new]
        cursor = end
        for s, e, _ in spans[1:]:
            pieces.append(packet[cursor:s])
            cursor = e
        pieces.append(packet[cursor:])
        out = b"".join(pieces)
        updated = True
    else:
        out = _insert_description(packet, label_json)
    out = _keep_length(out, old_length)
    _parses(out)
    return out, (updated, max(0, len(spans) - 1))


def remove_label(packet: bytes) -> tuple[bytes, int]:
    """``packet`` without any TC260:AIGC property, and how many were removed."""
    return _in_encoding(packet, _remove_label)


def _remove_label(packet: bytes) -> tuple[bytes, int]:
    packet = _utf8(packet)
    spans = _property_spans(packet)
    if not spans:
        return packet, 0
    pieces, cursor = [], 0
    for s, e, _ in spans:
        pieces.append(packet[cursor:s])
        cursor = e
    pieces.append(packet[cursor:])
    out = _keep_length(b"".join(pieces), len(packet))
    _parses(out)
    return out, len(spans)


def _insert_description(packet: bytes, label_json: str) -> bytes:
    rdf = _prefixes(packet, RDF)
    if not rdf:
        raise WriteError("the XMP packet has no rdf:RDF element to add the label to")
    r = rdf[0]
    close = re.search(rb"</" + re.escape(r) + rb":RDF\s*>", packet)
    if close is None:
        raise WriteError("the XMP packet's rdf:RDF element is not closed")
    about = re.search(rb"\b" + re.escape(r) + rb""":about\s*=\s*(["'])([^"']{0,1024})\1""", packet)
    about_value = about.group(2) if about else b""
    taken = {m.group(1) for m in _NS_DECL.finditer(packet)}
    prefix = b"TC260" if b"TC260" not in taken else b"TC260aigc"
    description = (
        b"<" + r + b":Description " + r + b':about="' + about_value + b'" xmlns:' + prefix + b'="'
        + TC260_NS.encode("ascii") + b'"><' + prefix + b":AIGC>" + escape(label_json).encode("utf-8")
        + b"</" + prefix + b":AIGC></" + r + b":Description>"
    )  # fmt: skip
    return packet[: close.start()] + description + packet[close.start() :]


def _keep_length(packet: bytes, length: int) -> bytes:
    """Let the padding before ``<?xpacket end?>`` take up the change, where the packet has a wrapper:
    the packet then keeps ``length`` bytes if the padding was long enough (else it grows)."""
    ends = list(_PACKET_END.finditer(packet))
    if not ends:
        return packet
    end = ends[-1]
    body = packet[: end.start()]
    content = body.rstrip(b" \t\r\n")
    room = length - (len(content) + len(packet) - end.start())
    if room <= 0:
        padding = b"\n"  # grown past the old padding: keep the line break before the trailer
    else:
        padding = (b" " * (room - 1) + b"\n") if room > 1 else b"\n"
    return content + padding + packet[end.start() :]


def _parses(packet: bytes) -> None:
    start = packet.find(b"<x:xmpmeta")
    xml = packet[start:] if start >= 0 else packet
    close = xml.find(b"</x:xmpmeta>")
    if close >= 0:
        xml = xml[: close + len(b"</x:xmpmeta>")]
    else:
        tail = _PACKET_END.search(xml)
        if tail:
            xml = xml[: tail.start()]
        if xml.lstrip().startswith(b"<?xpacket"):
            xml = xml[xml.find(b"?>") + 2 :]
    try:
        SafeET.fromstring(xml)
    except Exception as exc:  # ParseError or a defusedxml refusal: either way not a packet to hand back
        raise WriteError(f"the XMP packet would not parse after the edit: {exc}") from exc
