"""OOXML, ODF and EPUB: the label in the package's own document properties (TC260 document guide).

- OOXML (docx xlsx pptx dotx xltx potx): ``docProps/custom.xml`` property ``AIGC``, the JSON in
  ``vt:lpwstr`` (no wrapper).  A package without custom properties gets the part, its content type
  override in ``[Content_Types].xml`` and the package relationship in ``_rels/.rels``.
- ODF (odt ods odp odg and their templates): ``meta.xml`` ``<meta:user-defined meta:name="AIGC">`` in ``office:meta``.
- EPUB: the OPF package document's ``<meta name="AIGC" content="..."/>`` (the OPF 2 form, which
  EPUB 3 reading systems accept; an EPUB 3 ``<meta property="AIGC">`` already there is updated as it is).

Every property named AIGC (any case) is a copy: the first is rewritten where it stands, the others
removed.  The XML is parsed with defusedxml and written back with ElementTree under the prefixes the
part declared.  The archive is spliced by hand around what changed, because ``zipfile`` cannot copy
a member without inflating and deflating it again: every untouched member's local header and data
(and data descriptor) are copied byte for byte, in their order, with their central directory
records (only the local header offset updated); each changed member is compressed by ``zipfile``
with its original method.  ODF's and EPUB's ``mimetype`` stays the first member, stored.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from xml.etree import ElementTree as ET
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ...formats._zip import MAX_ZIP_MEMBER
from ...formats.office import MIMETYPES
from ..label import LabelFields
from . import WriteError, WriteOutcome
from ._common import guarded, is_label_name, label_value, removed_note, walk_input

CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"  # the user-defined property set of OPC custom properties
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
META_NS = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
OPF_NS = "http://www.idpf.org/2007/opf"
CUSTOM_PART = "docProps/custom.xml"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(raw: bytes, name: str) -> tuple[Element, list[tuple[str, str]]]:
    """The part's root and the namespace prefixes it declares, in order."""
    try:
        prefixes = [ns for _, ns in SafeET.iterparse(io.BytesIO(raw), events=("start-ns",))]
        return SafeET.fromstring(raw), prefixes
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise WriteError(f"the XML part cannot be parsed: {exc}", f"ZIP member {name!r}") from exc


def _serialize(root: Element, prefixes: list[tuple[str, str]]) -> bytes:
    """The part under the prefixes it declared (the default namespace stays the default), all declared
    on the root.  Written here because ElementTree renames a default namespace to ``ns0:`` whenever an
    attribute has no namespace, which every OPC and OPF part has."""
    names: dict[str, str] = {}
    for prefix, uri in prefixes:
        names.setdefault(uri, prefix)
    counter = iter(range(1, 1000))

    def qname(tag: str, attribute: bool = False) -> str:
        if not tag.startswith("{"):
            return tag
        uri, local = tag[1:].split("}", 1)
        if uri not in names or (attribute and not names[uri]):
            names[uri] = f"ns{next(counter)}"
        prefix = names[uri]
        return f"{prefix}:{local}" if prefix else local

    def emit(e: Element, out: list[str], top: bool) -> None:
        tag = qname(e.tag)
        attrs = [(qname(k, True), v) for k, v in e.attrib.items()]
        body: list[str] = []
        if e.text:
            body.append(escape(e.text))
        for child in e:
            emit(child, body, False)
            if child.tail:
                body.append(escape(child.tail))
        if top:
            attrs = [(f"xmlns:{p}" if p else "xmlns", uri) for uri, p in names.items()] + attrs
        head = "<" + tag + "".join(f" {k}={quoteattr(v)}" for k, v in attrs)
        out.append(f"{head}>{''.join(body)}</{tag}>" if body else head + "/>")

    emit(root, [], True)  # first pass: every namespace used gets its prefix
    out: list[str] = []
    emit(root, out, True)
    return _DECLARATION + "".join(out).encode("utf-8")


class _Package:
    def __init__(self, data: bytes) -> None:
        self.data = data
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            self.infos = self.zf.infolist()
        except (zipfile.BadZipFile, ValueError, struct.error, EOFError) as exc:
            raise WriteError(f"the ZIP archive cannot be read: {exc}") from exc
        self.by_name = {i.filename: i for i in self.infos}
        if len(self.by_name) != len(self.infos):
            raise WriteError("two ZIP members share a name")

    def read(self, name: str) -> bytes:
        info = self.by_name[name]
        if info.file_size > MAX_ZIP_MEMBER:
            raise WriteError(f"the member {name!r} claims {info.file_size} bytes, more than {MAX_ZIP_MEMBER}")
        try:
            with self.zf.open(info) as f:
                out = f.read(MAX_ZIP_MEMBER + 1)
        except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError, zlib.error) as exc:
            raise WriteError(f"the member {name!r} cannot be inflated: {exc}") from exc
        if len(out) > MAX_ZIP_MEMBER:
            raise WriteError(f"the member {name!r} inflates to more than {MAX_ZIP_MEMBER} bytes")
        return out

    def rebuild(self, changed: dict[str, bytes], added: list[str]) -> bytes:
        """The archive with ``changed`` members' new contents (``added`` ones appended)."""
        eocd_at = self.data.rfind(b"PK\x05\x06")
        if eocd_at < 0 or len(self.data) - eocd_at < 22:
            raise WriteError("the ZIP archive has no end of central directory")
        _, _, _, _, count, _cd_size, cd_at, comment_len = struct.unpack_from("<IHHHHIIH", self.data, eocd_at)
        records = []
        pos = cd_at
        for _ in range(count):
            if self.data[pos : pos + 4] != b"PK\x01\x02":
                raise WriteError("a broken ZIP central directory record", f"offset {pos:#x}")
            n, m, k = struct.unpack_from("<HHH", self.data, pos + 28)
            records.append(self.data[pos : pos + 46 + n + m + k])
            pos += 46 + n + m + k
        starts = sorted(i.header_offset for i in self.infos) + [cd_at]
        out = bytearray()
        directory = bytearray()
        for info, record in zip(self.infos, records):
            offset = len(out)
            if info.filename in changed:
                local, record = self._compressed(info, changed[info.filename])
                out += local
            else:
                nxt = starts[starts.index(info.header_offset) + 1]
                out += self.data[info.header_offset : nxt]
            directory += record[:42] + struct.pack("<I", offset) + record[46:]
        for name in added:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            offset = len(out)
            local, record = self._compressed(info, changed[name])
            out += local
            directory += record[:42] + struct.pack("<I", offset) + record[46:]
        total = len(self.infos) + len(added)
        comment = self.data[eocd_at + 22 : eocd_at + 22 + comment_len]
        eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, total, total, len(directory), len(out), len(comment))
        return bytes(out + directory) + eocd + comment

    @staticmethod
    def _compressed(info: zipfile.ZipInfo, content: bytes) -> tuple[bytes, bytes]:
        """(local header + data, central record) of one member, made by zipfile with its method."""
        fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        fresh.compress_type = info.compress_type
        fresh.external_attr, fresh.create_system = info.external_attr, info.create_system
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(fresh, content)
        raw = buffer.getvalue()
        eocd = raw.rfind(b"PK\x05\x06")
        cd_at = struct.unpack_from("<I", raw, eocd + 16)[0]
        return raw[:cd_at], raw[cd_at:eocd]


def _set_text(e: Element, value: str) -> None:
    e.text = value
    for child in list(e):
        e.remove(child)


def _ooxml(pkg: _Package, value: str) -> tuple[dict[str, bytes], list[str], bool, list[str]]:
    changed: dict[str, bytes] = {}
    added: list[str] = []
    notes: list[str] = []
    vt = f"{{{VT_NS}}}lpwstr"
    if CUSTOM_PART in pkg.by_name:
        root, prefixes = _parse(pkg.read(CUSTOM_PART), CUSTOM_PART)
        props = [p for p in root if _local(p.tag) == "property"]
        copies = [p for p in props if is_label_name(p.get("name", ""))]
        if copies:
            for child in list(copies[0]):
                copies[0].remove(child)
            ET.SubElement(copies[0], vt).text = value
            for p in copies[1:]:
                root.remove(p)
        else:
            pids = [int(p.get("pid", "1")) for p in props if p.get("pid", "").isdigit()]
            prop = ET.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid=FMTID, pid=str(max(pids, default=1) + 1))
            prop.set("name", "AIGC")
            ET.SubElement(prop, vt).text = value
        if not any(uri == VT_NS for _, uri in prefixes):
            prefixes.append(("vt", VT_NS))
        changed[CUSTOM_PART] = _serialize(root, prefixes)
        notes += removed_note(len(copies) - 1, "docProps/custom.xml property AIGC")
        return changed, added, bool(copies), notes
    root = ET.Element(f"{{{CUSTOM_NS}}}Properties")
    prop = ET.SubElement(root, f"{{{CUSTOM_NS}}}property", fmtid=FMTID, pid="2")
    prop.set("name", "AIGC")
    ET.SubElement(prop, vt).text = value
    changed[CUSTOM_PART] = _serialize(root, [("", CUSTOM_NS), ("vt", VT_NS)])
    added.append(CUSTOM_PART)
    types, prefixes = _parse(pkg.read("[Content_Types].xml"), "[Content_Types].xml")
    if not any(_local(o.tag) == "Override" and o.get("PartName") == "/" + CUSTOM_PART for o in types):
        ET.SubElement(types, f"{{{CT_NS}}}Override", PartName="/" + CUSTOM_PART, ContentType=CUSTOM_TYPE)
    changed["[Content_Types].xml"] = _serialize(types, prefixes or [("", CT_NS)])
    if "_rels/.rels" not in pkg.by_name:
        raise WriteError("the package has no _rels/.rels to add the custom properties relationship to")
    rels, prefixes = _parse(pkg.read("_rels/.rels"), "_rels/.rels")
    ids = {r.get("Id") for r in rels}
    n = 1
    while f"rId{n}" in ids:
        n += 1
    ET.SubElement(rels, f"{{{REL_NS}}}Relationship", Id=f"rId{n}", Type=CUSTOM_REL, Target=CUSTOM_PART)
    changed["_rels/.rels"] = _serialize(rels, prefixes or [("", REL_NS)])
    notes.append("added docProps/custom.xml, its content type and its package relationship")
    return changed, added, False, notes


def _odf(pkg: _Package, value: str) -> tuple[dict[str, bytes], bool, list[str]]:
    if "meta.xml" not in pkg.by_name:
        raise WriteError("the ODF document has no meta.xml (adding one and its manifest entry is not done)")
    root, prefixes = _parse(pkg.read("meta.xml"), "meta.xml")
    meta = next((e for e in root if _local(e.tag) == "meta"), None)
    if meta is None:
        meta = ET.SubElement(root, f"{{{OFFICE_NS}}}meta")
    name_attr = f"{{{META_NS}}}name"
    copies = [e for e in meta if _local(e.tag) == "user-defined" and is_label_name(e.get(name_attr, ""))]
    if copies:
        _set_text(copies[0], value)
        for e in copies[1:]:
            meta.remove(e)
    else:
        e = ET.SubElement(meta, f"{{{META_NS}}}user-defined")
        e.set(name_attr, "AIGC")
        e.text = value
    if not any(uri == META_NS for _, uri in prefixes):
        prefixes.append(("meta", META_NS))
    notes = removed_note(len(copies) - 1, "meta.xml user-defined AIGC")
    return {"meta.xml": _serialize(root, prefixes)}, bool(copies), notes


def _epub(pkg: _Package, value: str) -> tuple[dict[str, bytes], bool, list[str], str]:
    if "META-INF/container.xml" not in pkg.by_name:
        raise WriteError("the EPUB has no META-INF/container.xml")
    container, _ = _parse(pkg.read("META-INF/container.xml"), "META-INF/container.xml")
    opf = next(
        (e.get("full-path") for e in container.iter() if _local(e.tag) == "rootfile" and e.get("full-path")), None
    )
    if not opf or opf not in pkg.by_name:
        raise WriteError("the EPUB's container.xml names no package document in it")
    root, prefixes = _parse(pkg.read(opf), opf)
    metadata = next((e for e in root if _local(e.tag) == "metadata"), None)
    if metadata is None:
        raise WriteError("the EPUB package document has no metadata element", opf)
    copies = [
        e for e in metadata if _local(e.tag) == "meta" and is_label_name(e.get("name") or e.get("property") or "")
    ]
    if copies:
        first = copies[0]
        if first.get("name") is not None:
            first.set("content", value)
        else:
            _set_text(first, value)
        for e in copies[1:]:
            metadata.remove(e)
    else:
        ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else OPF_NS
        meta = ET.SubElement(metadata, f"{{{ns}}}meta")
        meta.set("name", "AIGC")
        meta.set("content", value)
    notes = removed_note(len(copies) - 1, f"{opf} meta AIGC")
    return {opf: _serialize(root, prefixes)}, bool(copies), notes, opf


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    return guarded(_write, data, label)


# Every ODF kind the walker reads (text, sheet, slides, drawing and their templates): one meta.xml.
ODF_FORMATS = frozenset(fmt for fmt in MIMETYPES.values() if fmt != "epub")


def _write(data: bytes, label: LabelFields) -> WriteOutcome:
    container = walk_input(data, "zip")
    pkg = _Package(data)
    value = label_value(label)
    added: list[str] = []
    if container.format in ODF_FORMATS:
        changed, updated, notes = _odf(pkg, value)
        location = "meta.xml user-defined 'AIGC'"
    elif container.format == "epub":
        changed, updated, notes, opf = _epub(pkg, value)
        location = f"{opf} meta 'AIGC'"
    else:
        changed, added, updated, notes = _ooxml(pkg, value)
        location = "docProps/custom.xml property 'AIGC'"
    if pkg.infos and pkg.infos[0].filename == "mimetype" and "mimetype" in changed:
        raise WriteError("internal: the mimetype member would change")
    out = pkg.rebuild(changed, added)
    return WriteOutcome(out, location, notes, updated_existing=updated)
