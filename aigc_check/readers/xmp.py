"""XMP packets: every property, whatever its RDF serialisation, with namespaces mapped to canonical prefixes.

Matching is by namespace URI, never by the prefix a writer chose (GB 45438 writers use ``TC260:``,
``tc260:`` and others for the same namespace).  A property reads the same in each form ISO 16684-1
(7.9) allows: an attribute of ``rdf:Description``, an element, an ``rdf:resource`` URI, a value with
qualifiers (``rdf:value`` in an ``rdf:parseType="Resource"`` element, a nested ``rdf:Description``
or an attribute), an item of an ``rdf:Bag``/``Seq``/``Alt``.  Struct fields are ``struct/ns:field``
and qualifiers ``property/?ns:qualifier`` (the XMP path syntax).  The ``x:xmpmeta`` wrapper is
optional, and a packet may be UTF-8, UTF-16 or UTF-32 of either byte order, with or without a byte
order mark, as the packet wrapper allows (XMP part 1, 7.3: the encoding shows in the first bytes).

The parser refuses DTDs and entities (``safe_xml``: defusedxml for a packet that may hold a DTD), so
billion-laughs and XXE packets fail safely. A packet that does not parse is still scanned, bounded,
for the properties the signatures use (the GB 45438 label, IPTC DigitalSourceType and AI-system
properties, the C2PA reference and the generator fields), and the parse error is reported; if such a
packet mentions the label's namespace or property and the scan cannot recover it, the error is
``label-unreadable``, a finding the policy acts on (``review``), so the file is never cleared
silently.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException

from .. import safe_xml
from ..deadline import ENDS_CHECK
from ..limits import MAX_JSON_TEXT
from ..model import Block, Field
from . import LABEL_UNREADABLE, MetadataReader, PartialRead

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
PREFIXES = {
    TC260_NS: "TC260",
    IPTC_EXT_NS: "Iptc4xmpExt",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
    "http://ns.google.com/photos/1.0/camera/": "GCamera",
    "http://c2pa.org/": "c2pa",
    "http://ns.adobe.com/xmp/1.0/DynamicMedia/": "xmpDM",
    "http://ns.adobe.com/xmp/note/": "xmpNote",
    RDF: "rdf",
}
_RDF_RDF, _DESCRIPTION, _LI = f"{{{RDF}}}RDF", f"{{{RDF}}}Description", f"{{{RDF}}}li"
_VALUE, _RESOURCE, _PARSE_TYPE = f"{{{RDF}}}value", f"{{{RDF}}}resource", f"{{{RDF}}}parseType"
# RDF's own syntax attributes: how a node or property is written, not metadata.
RDF_ATTRS = {
    f"{{{RDF}}}about",
    f"{{{RDF}}}ID",
    f"{{{RDF}}}nodeID",
    f"{{{RDF}}}parseType",
    f"{{{RDF}}}datatype",
    f"{{{RDF}}}type",
    f"{{{XML_NS}}}lang",
}
CONTAINERS = {f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt"}
MAX_DEPTH = 32  # property levels: real packets use fewer than 10

_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)\b", re.I)
# The element an XMP packet's XML starts with, whatever its prefix: the x:xmpmeta wrapper (x:xapmeta
# in old packets) or, without it, rdf:RDF.
_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]{0,63}:)?(?:xmpmeta|xapmeta|RDF))[\s>/]")
_XML_DECLARATION = re.compile(rb"^\s*<\?xml\s[^>]{0,200}\?>")


def qualified(tag: str) -> str:
    """``{uri}local`` -> ``prefix:local`` for known namespaces, else unchanged."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = PREFIXES.get(uri) or PREFIXES.get(uri.rstrip("/") + "/")
        if prefix:
            return f"{prefix}:{local}"
    return tag


class XmpReader(MetadataReader):
    family = "xmp"
    kinds = ("xmp",)

    def read_block(self, block: Block) -> Iterable[Field]:
        data = utf8_packet(block.data)
        if _DECLARATIONS.search(data):
            # DTDs and entity declarations have no place in XMP; they are how billion-laughs and XXE
            # packets work.  Cutting the packet at <x:xmpmeta would only turn them into "undefined
            # entity" parse errors, so refuse them outright and keep what a text scan finds.
            raise PartialRead(
                list(recover(data, block.location)),
                "XMP packet refused: it declares a DTD or XML entities (billion laughs, XXE)",
                code="limit-exceeded",
                fatal=True,
            )
        data = _packet(data)
        try:
            root = safe_xml.parse(data)
        except DefusedXmlException as exc:
            # A DTD, entity or external reference in XMP is an attack (billion laughs, XXE): refuse
            # the packet, keep what a text scan finds, and do not clear the file.
            raise PartialRead(
                list(recover(data, block.location)),
                f"XMP packet refused: {type(exc).__name__} (XML entities and DTDs are not allowed)",
                code="limit-exceeded",
                fatal=True,
            ) from exc
        except ENDS_CHECK:
            raise
        except Exception as exc:
            partial = _unparsed(data, block.location, exc)
            if partial is None:
                raise  # nothing to recover and nothing to fear: the reader reports the parse error
            raise partial from exc
        walk = _Walk(self.family, block.location)
        fields = list(walk.packet(root))
        if walk.too_deep:
            # A bound hit: what lies deeper is unknown (a label may be there), so the file cannot be cleared.
            raise PartialRead(
                fields,
                f"XMP nested more than {MAX_DEPTH} levels deep; the deeper values were not read",
                code="limit-exceeded",
                fatal=True,
            )
        return fields


class _Walk:
    """One packet's RDF, read property by property (ISO 16684-1, 7.9.2); notes a cut at ``MAX_DEPTH``."""

    def __init__(self, family: str, location: str) -> None:
        self.family, self.location = family, location
        self.too_deep = False

    def field(self, key: str, value: str) -> Field:
        return Field(self.family, key, value, self.location)

    def packet(self, root: Element) -> Iterator[Field]:
        """Each rdf:RDF's node elements (or an rdf:Description found outside one), in document order."""
        stack = [root]
        while stack:
            el = stack.pop()
            if el.tag == _RDF_RDF:
                for node in el:
                    yield from self.node(node, "", 0)
            elif el.tag == _DESCRIPTION:
                yield from self.node(el, "", 0)
            else:
                stack.extend(reversed(el))

    def node(self, node: Element, prefix: str, depth: int) -> Iterator[Field]:
        """The properties of a node element: ``rdf:Description`` or a typed node, attributes first."""
        if depth > MAX_DEPTH:
            self.too_deep = True
            return
        for attr, value in node.attrib.items():
            if attr not in RDF_ATTRS:
                yield self.field(prefix + qualified(attr), value)
        for prop in node:
            yield from self.property_element(prop, prefix + qualified(prop.tag), depth + 1)

    def property_element(self, prop: Element, key: str, depth: int) -> Iterator[Field]:
        if depth > MAX_DEPTH:
            self.too_deep = True
            return
        if prop.get(_PARSE_TYPE) == "Resource":  # the element stands for a node: struct or qualified value
            yield from self.resource(prop, key, depth)
            return
        resource = prop.get(_RESOURCE)
        children = list(prop)
        if resource is not None or not children:
            value = prop.get(_VALUE) if resource is None else resource
            rest = [(a, v) for a, v in prop.attrib.items() if a not in RDF_ATTRS and a not in (_RESOURCE, _VALUE)]
            if value is not None:  # <ns:P rdf:resource="uri"/>, <ns:P rdf:value="v" q:x="y"/>: qualifiers
                yield self.field(key, value)
                for attr, v in rest:
                    yield self.field(f"{key}/?{qualified(attr)}", v)
                return
            for attr, v in rest:  # shorthand struct: <ns:P f:a="v"/>
                yield self.field(f"{key}/{qualified(attr)}", v)
            if prop.text and prop.text.strip():
                yield self.field(key, prop.text.strip())
            return
        for child in children:
            if child.tag in CONTAINERS:
                for li in child:
                    yield from self.property_element(li, key, depth + 1)
            elif child.tag == _DESCRIPTION:
                yield from self.resource(child, key, depth + 1)
            else:  # a field written straight into the struct's element
                yield from self.property_element(child, f"{key}/{qualified(child.tag)}", depth + 1)

    def resource(self, node: Element, key: str, depth: int) -> Iterator[Field]:
        """A node standing for a property's value: with ``rdf:value`` a value and its qualifiers
        (``key/?ns:q``), without it a struct (``key/ns:field``)."""
        value_element = node.find(_VALUE)
        value_attr = node.get(_VALUE)
        if value_element is None and value_attr is None:
            yield from self.node(node, key + "/", depth)
            return
        if value_attr is not None:
            yield self.field(key, value_attr)
        for attr, v in node.attrib.items():
            if attr not in RDF_ATTRS and attr != _VALUE:
                yield self.field(f"{key}/?{qualified(attr)}", v)
        for child in node:
            if child is value_element:
                yield from self.property_element(child, key, depth + 1)
            else:
                yield from self.property_element(child, f"{key}/?{qualified(child.tag)}", depth + 1)


def _unparsed(data: bytes, location: str, exc: Exception) -> PartialRead | None:
    """The error for a packet that is not well-formed XML, with what a text scan recovers from it
    (None: nothing recovered, and nothing there that looks like a label)."""
    fields = list(recover(data, location))
    missing = [what for what, mark, found in _FAMILIES if mark.search(data) and not any(found(f) for f in fields)]
    if missing:
        # The packet was meant to hold a label and the scan cannot read it: the file must not be
        # cleared silently (the policy acts on this finding).
        return PartialRead(
            fields,
            f"XMP packet is not well-formed ({exc}); it mentions {' and '.join(missing)} "
            "but no value could be recovered: a label may be there",
            code=LABEL_UNREADABLE,
        )
    if fields:  # report the damage but keep what the scan recovered
        return PartialRead(fields, f"XMP packet is not well-formed ({exc}); labels recovered by a text scan")
    return None


# --------------------------------------------------------------------------
# Encodings (XMP part 1, 7.3: UTF-8, UTF-16 or UTF-32, told apart by the packet's first bytes)
# --------------------------------------------------------------------------

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


def packet_encoding(data: bytes) -> tuple[str, int]:
    """(codec, offset the text starts at) of an XMP packet: a byte order mark, else the shape of
    its first ``<`` (``3C 00`` is UTF-16LE, ``00 3C`` UTF-16BE, ``3C 00 00 00`` UTF-32LE, ...)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    at = data.find(b"<")
    if at < 0 or data[at + 1 : at + 2] != b"\x00":
        return "utf-8", 0  # the usual case (NUL padding before it or not), decided by one look
    # Which byte of its code unit the "<" is: the first (little-endian) or the last (big-endian), counted
    # from the start of the block, where the packet starts (NUL padding before it keeps the alignment).
    if data[at + 1 : at + 4] == b"\x00\x00\x00" or (at >= 3 and data[at - 3 : at] == b"\x00\x00\x00"):
        return ("utf-32-be", at - 3) if at % 4 == 3 else ("utf-32-le", at - at % 4)
    return ("utf-16-be", at - 1) if at % 2 else ("utf-16-le", at)


def utf8_packet(data: bytes) -> bytes:
    """The packet as UTF-8 bytes (transcoded when it is UTF-16 or UTF-32), so parsing and the
    fallback scan see one encoding; a transcoded packet loses its XML declaration, whose
    ``encoding`` no longer holds."""
    codec, start = packet_encoding(data)
    if codec == "utf-8":
        return data
    text = data[start:]
    width = 4 if codec.startswith("utf-32") else 2
    text = text[: len(text) - len(text) % width]  # a packet cut inside a character
    utf8 = text.decode(codec, "replace").lstrip("\ufeff").encode("utf-8")
    return _XML_DECLARATION.sub(b"", utf8, count=1)


def _packet(data: bytes) -> bytes:
    """The XML of an XMP packet (its root element, x:xmpmeta or rdf:RDF with any prefix), without the
    padding, packet wrapper or bytes around it."""
    m = _ROOT.search(data)
    if m is None:
        return _XML_DECLARATION.sub(b"", data.strip(b"\x00 \r\n\t"), count=1)
    closing = b"</" + m.group(1)
    end = data.rfind(closing)
    if end < m.start():
        return data[m.start() :].rstrip(b"\x00 \r\n\t")  # cut short: the parse error says so
    close = data.find(b">", end)
    return data[m.start() : close + 1 if close >= 0 else len(data)]


# --------------------------------------------------------------------------
# The text scan of a packet that does not parse
# --------------------------------------------------------------------------

# The properties the signatures read (aigc_label, iptc, c2pa_manifest, the generator fingerprints):
# local name -> namespace.  The scan recovers only these; a broken packet's other fields are lost.
RECOVERED = {
    "AIGC": TC260_NS,
    "DigitalSourceType": IPTC_EXT_NS,
    "AISystemUsed": IPTC_EXT_NS,
    "AISystemVersionUsed": IPTC_EXT_NS,
    "AIPromptInformation": IPTC_EXT_NS,
    "provenance": "http://purl.org/dc/terms/",
    "CreatorTool": "http://ns.adobe.com/xap/1.0/",
    "Credit": "http://ns.adobe.com/photoshop/1.0/",
    "Software": "http://ns.adobe.com/tiff/1.0/",
    "UserComment": "http://ns.adobe.com/exif/1.0/",
    "description": "http://purl.org/dc/elements/1.1/",
    "title": "http://purl.org/dc/elements/1.1/",
    "subject": "http://purl.org/dc/elements/1.1/",
}
MAX_RECOVERED = 1_000  # property names looked at in one broken packet
MAX_ITEMS = 100  # array items read for one property
_NAME = re.compile(rb":(" + b"|".join(name.encode() for name in RECOVERED) + rb")\b")
_PREFIX_BEFORE = re.compile(rb"([A-Za-z_][\w.-]{0,63})$")
_NAMESPACE = re.compile(rb"xmlns:([A-Za-z_][\w.-]{0,63})\s{0,64}=\s{0,64}([\"'])([^\"'<>]{0,1024})\2")
_START_TAG_REST = re.compile(rb"([^<>]{0,4096})>")
_ATTR = re.compile(rb"\s{0,64}=\s{0,64}(?:\"([^\"]{0,%d})\"|'([^']{0,%d})')" % (MAX_JSON_TEXT, MAX_JSON_TEXT))
_TEXT = re.compile(rb"(?:<!\[CDATA\[(.{0,%d}?)\]\]>|([^<]{0,%d}))<" % (MAX_JSON_TEXT, MAX_JSON_TEXT), re.S)
_RESOURCE_ATTR = re.compile(
    rb"[\w.-]{1,64}:(resource|value)\s{0,64}=\s{0,64}(?:\"([^\"]{0,65536})\"|'([^']{0,65536})')"
)
# What may follow a property's start tag before its value: an array, an item, a nested node.
_OPENER = re.compile(
    rb"(?:\s{0,4096}</[\w.-]{1,64}:(?:li|value|Description)\s{0,64}>){0,3}"
    rb"\s{0,4096}<[\w.-]{1,64}:(Alt|Bag|Seq|li|Description|value)\b([^<>]{0,4096})>"
)

# (what the packet was meant to hold, the bytes that say so, a recovered field that holds it)
_FAMILIES = (
    (
        "the GB 45438 label (TC260 namespace or AIGC property)",
        re.compile(rb"(?i:tc260\.org\.cn/ns/AIGC)|:AIGC\b"),
        lambda f: f.key == "TC260:AIGC",
    ),
    (
        "IPTC DigitalSourceType",
        re.compile(rb":DigitalSourceType\b"),
        lambda f: f.key == "Iptc4xmpExt:DigitalSourceType",
    ),
)


def recover(data: bytes, location: str) -> Iterator[Field]:
    """The properties in ``RECOVERED`` that a bounded scan finds in a packet that is not XML: as
    elements (text, CDATA, ``rdf:resource``, ``rdf:value``, array items) or attributes, with the
    prefix bound to the property's namespace (or unbound: a damaged packet may lose its declarations)."""
    bound: dict[bytes, str] = {}
    for n, m in enumerate(_NAMESPACE.finditer(data)):
        if n >= MAX_RECOVERED:
            break
        bound.setdefault(m.group(1), m.group(3).decode("utf-8", "replace"))
    for n, m in enumerate(_NAME.finditer(data)):
        if n >= MAX_RECOVERED:
            break
        before = _PREFIX_BEFORE.search(data, max(0, m.start() - 64), m.start())
        if before is None:
            continue
        local = m.group(1).decode()
        uri = bound.get(before.group(1))
        if uri is not None and uri.rstrip("/") != RECOVERED[local].rstrip("/"):
            continue  # the same name in another namespace
        key = f"{PREFIXES[RECOVERED[local]]}:{local}"
        opener = data[before.start() - 1 : before.start()]
        if opener == b"<":
            values = _element_values(data, m.end())
        elif opener.isspace() or opener in (b'"', b"'"):
            attr = _ATTR.match(data, m.end())
            values = [attr.group(1) if attr.group(1) is not None else attr.group(2)] if attr else []
        else:
            values = []  # a closing tag, or the name inside some text
        for value in values:
            text = html.unescape(value.decode("utf-8", "replace")).strip()
            if text:
                yield Field("xmp", key, text, location)


def _element_values(data: bytes, at: int) -> list[bytes]:
    """The values of the property element whose name ends at ``at``."""
    tag = _START_TAG_REST.match(data, at)
    if tag is None:
        return []
    attrs = tag.group(1)
    ref = _RESOURCE_ATTR.search(attrs)
    if ref:  # <ns:P rdf:resource="..."/> or <ns:P rdf:value="..."/>
        return [ref.group(2) if ref.group(2) is not None else ref.group(3)]
    if attrs.endswith(b"/"):
        return []
    text = _TEXT.match(data, tag.end())
    if text is None:
        return []
    value = text.group(1) if text.group(1) is not None else text.group(2)
    if value.strip():
        return [value]
    values: list[bytes] = []
    pos = tag.end()
    for _ in range(MAX_ITEMS + 4):  # <rdf:Alt>, <rdf:Description>, <rdf:value>, then the items
        opener = _OPENER.match(data, pos)
        if opener is None:
            break
        kind, attrs = opener.group(1), opener.group(2)
        pos = opener.end()
        ref = _RESOURCE_ATTR.search(attrs)
        if ref and kind in (b"li", b"value", b"Description"):
            values.append(ref.group(2) if ref.group(2) is not None else ref.group(3))
            if kind != b"li" or len(values) >= MAX_ITEMS:
                break
            continue
        if kind not in (b"li", b"value") or attrs.endswith(b"/"):
            continue
        item = _TEXT.match(data, pos)
        if item is None:
            break
        value = item.group(1) if item.group(1) is not None else item.group(2)
        if value.strip():
            values.append(value)
            if kind == b"value" or len(values) >= MAX_ITEMS:
                break
            pos = item.end() - 1  # at the item's end tag, which the next opener skips
        # else: the item holds a node (<rdf:Description>, <rdf:value>) read on the next turn
    return values
