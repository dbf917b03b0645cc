"""PDF: the label as ``/AIGC`` in the document information dictionary (TC260-PG-20258A 6.3), with
pikepdf (qpdf).

The file is rewritten by qpdf with every stream kept as it is stored (no decoding, no
recompression, object streams preserved), so page content, images and fonts keep their bytes; the
object numbering and cross-reference layout are qpdf's.  An incremental update would keep the old
bytes too, but it would also keep the old ``/AIGC`` in the file, and the checker (which reads the
bytes, not only the latest revision) would then see two labels.  A label copy in the XMP metadata
stream is removed from it (the packet kept otherwise), and one in a free-text entry (``/Subject``,
``/Keywords``) cut out of that text.  Refused: an encrypted file (it would be written decrypted or
re-encrypted) and a signed one (``/ByteRange``: a rewrite breaks every signature).
"""

from __future__ import annotations

import io
import json
from typing import Any

from ...signatures.label_decoding import decode, find_in_text
from ..label import LabelFields
from ..xmp_edit import remove_label
from . import WriteError, WriteOutcome

FREE_TEXT_KEYS = ("/Subject", "/Keywords", "/Title", "/Author", "/Creator", "/Producer")


def _pikepdf() -> Any:
    try:
        import pikepdf
    except ModuleNotFoundError as exc:  # an optional dependency: pip install 'aigc-check[mark]'
        raise WriteError("PDF marking needs pikepdf: pip install 'aigc-check[mark]'") from exc
    return pikepdf


def write(data: bytes, label: LabelFields) -> WriteOutcome:
    pikepdf = _pikepdf()
    if b"/ByteRange" in data:
        raise WriteError("the PDF is digitally signed (/ByteRange): a rewrite would break its signatures")
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except (pikepdf.PdfError, ValueError, OSError) as exc:
        raise WriteError(f"pikepdf cannot open the PDF: {exc}") from exc
    with pdf:
        if pdf.is_encrypted:
            raise WriteError("the PDF is encrypted; mark does not rewrite encrypted files")
        try:
            return _write(pikepdf, pdf, label)
        except (pikepdf.PdfError, ValueError, TypeError, AttributeError, KeyError) as exc:
            # A structure qpdf parsed but that is not what the specification says (an /Info that is
            # a string, a /Root without a dictionary): not rewritten.
            raise WriteError(f"the PDF's structure cannot be rewritten: {exc}") from exc


def _write(pikepdf: Any, pdf: Any, label: LabelFields) -> WriteOutcome:
    notes: list[str] = []
    info = pdf.trailer.get("/Info")
    if info is not None and not isinstance(info, pikepdf.Dictionary):
        raise WriteError("the trailer's /Info is not a dictionary")
    updated = info is not None and "/AIGC" in info
    if info is None:
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary())
        info = pdf.trailer.Info
    value = json.dumps(json.loads(label.to_json())["AIGC"], separators=(",", ":"))
    for key in FREE_TEXT_KEYS:
        if key in info:
            text = str(info[key])
            segment = find_in_text(text)
            if segment and decode(segment).has_elements:
                info[key] = pikepdf.String(text.replace(segment, "").strip())
                notes.append(f"cut a duplicate label out of the information dictionary's {key}")
    info["/AIGC"] = pikepdf.String(value)
    metadata = pdf.Root.get("/Metadata")
    if metadata is not None and isinstance(metadata, pikepdf.Stream):
        try:
            packet = metadata.read_bytes()
        except pikepdf.PdfError as exc:
            raise WriteError(f"the XMP metadata stream cannot be decoded: {exc}") from exc
        if b"tc260.org.cn/ns/AIGC" in packet:
            stripped, n = remove_label(packet)
            if n:
                metadata.write(stripped)  # written uncompressed, as ISO 32000 recommends for XMP
                notes.append("removed the duplicate TC260:AIGC label from the XMP metadata stream")
    out = io.BytesIO()
    try:
        pdf.save(
            out,
            object_stream_mode=pikepdf.ObjectStreamMode.preserve,
            compress_streams=False,
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            normalize_content=False,
            linearize=False,
            fix_metadata_version=False,
        )
    except (pikepdf.PdfError, ValueError) as exc:
        raise WriteError(f"pikepdf could not write the PDF: {exc}") from exc
    return WriteOutcome(out.getvalue(), "PDF information dictionary /AIGC", notes, updated)
