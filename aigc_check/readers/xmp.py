"""XMP packets: every simple property, with namespaces mapped to canonical prefixes.

Matching is by namespace URI, never by the prefix a writer chose (GB 45438
writers use ``TC260:``, ``tc260:`` and others for the same namespace).  The
parser refuses DTDs and entities (defusedxml), so billion-laughs and XXE
packets fail safely; a packet that does not parse is still scanned for the
two labels that matter most, and the parse error is reported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ..deadline import ENDS_CHECK
from ..model import Block, Field
from . import MetadataReader, PartialRead

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
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
}
RDF_ATTRS = {
    f"{{{RDF}}}about",
    f"{{{RDF}}}ID",
    f"{{{RDF}}}nodeID",
    f"{{{RDF}}}parseType",
    "{http://www.w3.org/XML/1998/namespace}lang",
}
CONTAINERS = {f"{{{RDF}}}Bag", f"{{{RDF}}}Seq", f"{{{RDF}}}Alt"}
MAX_DEPTH = 12

_DECLARATIONS = re.compile(rb"<!(?:DOCTYPE|ENTITY)\b", re.I)
# Fallback scans for a packet that is not well-formed XML.
_FALLBACK = [
    ("TC260:AIGC", re.compile(rb"<(\w+):AIGC>(.*?)</\1:AIGC>", re.S)),
    ("TC260:AIGC", re.compile(rb"\b\w+:AIGC\s*=\s*(['\"])(.*?)\1", re.S)),
    (
        "Iptc4xmpExt:DigitalSourceType",
        re.compile(
            rb"DigitalSourceType\W{1,3}(?:rdf:resource=\")?(https?://cv\.iptc\.org/newscodes/digitalsourcetype/\w+)()"
        ),
    ),
]


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
        if _DECLARATIONS.search(block.data):
            # DTDs and entity declarations have no place in XMP; they are how billion-laughs and XXE
            # packets work.  Cutting the packet at <x:xmpmeta would only turn them into "undefined
            # entity" parse errors, so refuse them outright and keep what a text scan finds.
            raise PartialRead(
                list(self._fallback(block.data, block.location)),
                "XMP packet refused: it declares a DTD or XML entities (billion laughs, XXE)",
                code="limit-exceeded",
                fatal=True,
            )
        data = _packet(block.data)
        try:
            root = SafeET.fromstring(data)
        except DefusedXmlException as exc:
            # A DTD, entity or external reference in XMP is an attack (billion laughs, XXE): refuse
            # the packet, keep what a text scan finds, and do not clear the file.
            raise PartialRead(
                list(self._fallback(data, block.location)),
                f"XMP packet refused: {type(exc).__name__} (XML entities and DTDs are not allowed)",
                code="limit-exceeded",
                fatal=True,
            ) from exc
        except ENDS_CHECK:
            raise
        except Exception as exc:
            fields = list(self._fallback(data, block.location))
            if fields:  # report the damage but keep what the scan recovered
                raise PartialRead(
                    fields, f"XMP packet is not well-formed ({exc}); labels recovered by a text scan"
                ) from exc
            raise
        return list(self._walk(root, block.location))

    def _walk(self, root: Element, location: str) -> Iterator[Field]:
        for desc in root.iter(f"{{{RDF}}}Description"):
            yield from self._description(desc, "", location, 0)

    def _description(self, desc: Element, prefix: str, location: str, depth: int) -> Iterator[Field]:
        if depth > MAX_DEPTH:
            return
        for attr, value in desc.attrib.items():
            if attr not in RDF_ATTRS:
                yield Field(self.family, prefix + qualified(attr), value, location)
        for prop in desc:
            yield from self._property(prop, prefix + qualified(prop.tag), location, depth + 1)

    def _property(self, prop: Element, key: str, location: str, depth: int) -> Iterator[Field]:
        if depth > MAX_DEPTH:
            return
        resource = prop.get(f"{{{RDF}}}resource")
        if resource is not None:
            yield Field(self.family, key, resource, location)
            return
        children = list(prop)
        if not children:
            for attr, value in prop.attrib.items():  # shorthand struct: <ns:Prop a:b="v"/>
                if attr not in RDF_ATTRS:
                    yield Field(self.family, f"{key}/{qualified(attr)}", value, location)
            if prop.text and prop.text.strip():
                yield Field(self.family, key, prop.text.strip(), location)
            return
        for child in children:
            if child.tag in CONTAINERS:
                for li in child:
                    yield from self._property(li, key, location, depth + 1)
            elif child.tag == f"{{{RDF}}}Description":
                yield from self._description(child, key + "/", location, depth + 1)
            else:  # parseType="Resource" struct
                yield from self._property(child, f"{key}/{qualified(child.tag)}", location, depth + 1)

    def _fallback(self, data: bytes, location: str) -> Iterator[Field]:
        for key, pattern in _FALLBACK:
            for m in pattern.finditer(data):
                value = m.group(2) or m.group(1)
                yield Field(self.family, key, html.unescape(value.decode("utf-8", "replace")), location)


def _packet(data: bytes) -> bytes:
    """The XML of an XMP packet, without padding or bytes around it."""
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        start = data.find(b"<rdf:RDF")
    if start > 0:
        data = data[start:]
    for closing in (b"</x:xmpmeta>", b"</rdf:RDF>"):
        end = data.rfind(closing)
        if end >= 0:
            return data[: end + len(closing)]
    return data.strip(b"\x00 \r\n\t")
