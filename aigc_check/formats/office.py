"""ZIP-based documents: OOXML (DOCX, XLSX, PPTX, their templates, slide shows and macro-enabled
forms), ODF (ODT, ODS, ODP, ODG and their templates) and EPUB.

Recognised by content, never by name: an OOXML package by ``[Content_Types].xml`` and the content
type of its main part, an ODF document or an EPUB by its ``mimetype`` member.  A ZIP that is none of
these stays unsupported.  Read (each part on its own, so one broken part never hides the rest):

- OOXML: ``docProps/custom.xml`` properties (``AIGC``, the GB 45438 label, in ``vt:lpwstr``),
  ``docProps/app.xml`` Application and AppVersion, ``docProps/core.xml`` creator, lastModifiedBy,
  description, title, subject, keywords: "tag" blocks of family ``ooxml``.
- ODF: ``meta.xml`` generator, creators, description, title, subject and ``meta:user-defined``
  properties (``AIGC``): family ``odf``.
- EPUB: the OPF package found through ``META-INF/container.xml``: dc:creator, dc:description,
  dc:title, ``<meta name=... content=...>`` (generator, AIGC) and EPUB 3 ``<meta property=...>``:
  family ``epub``.

A C2PA manifest store is where c2pa-rs writes it in a ZIP-based document
(``META-INF/content_credential.c2pa``); the C2PA reader hands the file to c2pa-rs with the media
type.  XML is parsed by ``safe_xml`` (no DTD, no entities), each part within ``MAX_ZIP_MEMBER``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException

from .. import safe_xml
from ..errors import LimitExceededError, MediaError, UnsupportedFormatError
from ..limits import MAX_BLOCKS
from ..model import Block, C2paMarker, Container, ReadError
from ..source import ByteSource
from . import FormatHandler, register
from ._zip import BoundedZip

_OOXML = "application/vnd.openxmlformats-officedocument."
# The main part's content type -> format, media type.
OOXML_MAIN = {
    _OOXML + "wordprocessingml.document.main+xml": ("docx", _OOXML + "wordprocessingml.document"),
    _OOXML + "wordprocessingml.template.main+xml": ("dotx", _OOXML + "wordprocessingml.template"),
    _OOXML + "spreadsheetml.sheet.main+xml": ("xlsx", _OOXML + "spreadsheetml.sheet"),
    _OOXML + "spreadsheetml.template.main+xml": ("xltx", _OOXML + "spreadsheetml.template"),
    _OOXML + "presentationml.presentation.main+xml": ("pptx", _OOXML + "presentationml.presentation"),
    _OOXML + "presentationml.template.main+xml": ("potx", _OOXML + "presentationml.template"),
    _OOXML + "presentationml.slideshow.main+xml": ("ppsx", _OOXML + "presentationml.slideshow"),
    # Macro-enabled documents and templates: the same package, another main part content type.
    "application/vnd.ms-word.document.macroEnabled.main+xml": (
        "docm",
        "application/vnd.ms-word.document.macroEnabled.12",
    ),
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml": (
        "dotm",
        "application/vnd.ms-word.template.macroEnabled.12",
    ),
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml": ("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    "application/vnd.ms-excel.template.macroEnabled.main+xml": (
        "xltm",
        "application/vnd.ms-excel.template.macroEnabled.12",
    ),
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": (
        "pptm",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ),
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml": (
        "potm",
        "application/vnd.ms-powerpoint.template.macroEnabled.12",
    ),
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml": (
        "ppsm",
        "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
    ),
}
# The mimetype member -> format.
MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.graphics": "odg",
    "application/vnd.oasis.opendocument.text-template": "ott",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ots",
    "application/vnd.oasis.opendocument.presentation-template": "otp",
    "application/vnd.oasis.opendocument.graphics-template": "otg",
    "application/epub+zip": "epub",
}
C2PA_MEMBER = "META-INF/content_credential.c2pa"
CORE_FIELDS = ("creator", "lastModifiedBy", "description", "title", "subject", "keywords")
APP_FIELDS = ("Application", "AppVersion")
ODF_FIELDS = ("generator", "initial-creator", "creator", "description", "title", "subject", "keywords")
EPUB_FIELDS = ("creator", "description", "title", "subject", "contributor", "publisher")


# A local file header whose name is an OPC part: member order is free (ECMA-376 Part 2), and office
# suites differ (Word writes [Content_Types].xml first, LibreOffice and Google Sheets late, after the
# parts), so any part name in the head will do; the walker then reads [Content_Types].xml through the
# central directory and refuses a ZIP that is no Office document.
_OPC_MEMBER = re.compile(rb"PK\x03\x04[\s\S]{26}(?:\[Content_Types\]\.xml|_rels/\.rels|docProps/|word/|xl/|ppt/)")


def _accept(head: bytes) -> bool:
    if not head.startswith(b"PK\x03\x04"):
        return False
    if head[30:38] == b"mimetype":  # ODF and EPUB: a stored mimetype member first
        return any(head[38:120].startswith(m.encode()) for m in MIMETYPES)
    return _OPC_MEMBER.search(head) is not None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def walk(src: ByteSource, c: Container) -> None:
    z = BoundedZip(src)
    if z.has(C2PA_MEMBER):
        c.c2pa = C2paMarker(f"ZIP member {C2PA_MEMBER}")
    if z.has("mimetype"):
        mimetype = z.read("mimetype", 256).decode("ascii", "replace").strip()
        fmt = MIMETYPES.get(mimetype)
        if fmt is None:
            raise UnsupportedFormatError(
                f"a ZIP whose mimetype {mimetype[:80]!r} is no ODF text, sheet, slides or EPUB"
            )
        c.format, c.media_type = fmt, mimetype
        if fmt == "epub":
            _epub(z, c)
        else:
            _part(z, c, "meta.xml", lambda root: _odf_meta(root, c), carries_label=True)
        return
    if not z.has("[Content_Types].xml"):
        raise UnsupportedFormatError("a ZIP archive that is no Office document or EPUB")
    types = _xml(z, "[Content_Types].xml")
    kind = None
    for o in types.iter():
        if _local(o.tag) == "Override" and (found := OOXML_MAIN.get(o.get("ContentType", ""))):
            kind = found
            break
    if kind is None:
        raise UnsupportedFormatError("an OPC package whose main part is no Word, Excel or PowerPoint document")
    c.format, c.media_type = kind
    _part(z, c, "docProps/custom.xml", lambda root: _custom(root, c), carries_label=True)
    _part(z, c, "docProps/app.xml", lambda root: _simple(root, c, "docProps/app.xml", APP_FIELDS, "ooxml"))
    _part(z, c, "docProps/core.xml", lambda root: _simple(root, c, "docProps/core.xml", CORE_FIELDS, "ooxml"))


def _xml(z: BoundedZip, name: str) -> Element:
    data = z.read(name)
    try:
        return safe_xml.parse(data)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise MediaError(f"the XML part cannot be parsed: {exc}", f"ZIP member {name!r}") from exc


def _part(z: BoundedZip, c: Container, name: str, read: Callable[[Element], None], carries_label: bool = False) -> None:
    """Read one part on its own: a broken one is an error, and the rest is still read. A broken part
    that is where the format keeps the GB 45438 label is a fatal error: the label may be in it, so the
    file cannot be cleared (AI evidence read elsewhere still decides)."""
    if not z.has(name):
        return
    try:
        root = _xml(z, name)
    except LimitExceededError:
        raise
    except MediaError as exc:
        c.errors.append(ReadError(exc.code, str(exc), exc.location, fatal=carries_label))
        return
    read(root)


def _add(c: Container, location: str, key: str, text: str, family: str) -> None:
    if len(c.blocks) >= MAX_BLOCKS:
        raise LimitExceededError(f"more than {MAX_BLOCKS} document properties", location)
    c.blocks.append(Block("tag", location, key=key, text=text, family=family))


def _text(e: Element) -> str:
    return "".join(e.itertext()).strip()


def _custom(root: Element, c: Container) -> None:
    for prop in root:
        name = prop.get("name")
        if _local(prop.tag) == "property" and name:
            value = next((_text(v) for v in prop), "")
            _add(c, f"docProps/custom.xml property {name[:80]!r}", name, value, "ooxml")


def _simple(root: Element, c: Container, part: str, names: tuple[str, ...], family: str) -> None:
    for e in root:
        key = _local(e.tag)
        if key in names and (value := _text(e)):
            _add(c, f"{part} {key}", key, value, family)


def _odf_meta(root: Element, c: Container) -> None:
    for meta in root.iter():
        if _local(meta.tag) != "meta":
            continue
        for e in meta:
            key = _local(e.tag)
            if key == "user-defined":
                name = next((v for k, v in e.attrib.items() if _local(k) == "name"), "")
                if name:
                    _add(c, f"meta.xml user-defined {name[:80]!r}", name, _text(e), "odf")
            elif key in ODF_FIELDS and (value := _text(e)):
                _add(c, f"meta.xml {key}", key, value, "odf")


def _epub(z: BoundedZip, c: Container) -> None:
    if not z.has("META-INF/container.xml"):
        c.errors.append(ReadError("malformed", "the EPUB has no META-INF/container.xml", "ZIP"))
        return
    opf = None
    for e in _xml(z, "META-INF/container.xml").iter():
        if _local(e.tag) == "rootfile" and e.get("full-path"):
            opf = e.get("full-path")
            break
    if not opf or not z.has(opf):
        c.errors.append(ReadError("malformed", "the EPUB's container.xml names no package document in it", "ZIP"))
        return
    _part(z, c, opf, lambda root: _opf(root, c, opf), carries_label=True)


def _opf(root: Element, c: Container, opf: str) -> None:
    for meta in root:
        if _local(meta.tag) != "metadata":
            continue
        for e in meta:
            key = _local(e.tag)
            if key == "meta":
                name, prop = e.get("name"), e.get("property")
                if name:
                    _add(c, f"{opf[:80]} meta {name[:80]!r}", name, e.get("content", ""), "epub")
                elif prop:
                    _add(c, f"{opf[:80]} meta {prop[:80]!r}", prop, _text(e), "epub")
            elif key in EPUB_FIELDS and (value := _text(e)):
                _add(c, f"{opf[:80]} dc:{key}", key, value, "epub")


register(FormatHandler("zip", "application/zip", _accept, walk))
