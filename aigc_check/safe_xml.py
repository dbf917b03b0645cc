"""Parse one XML document from a file, safely: no DTD is ever processed, so no entity expands and
no external resource is fetched (billion laughs, XXE).

defusedxml guards the parse by handlers on the pure-Python ``XMLParser`` (it must run Python code
for every element), which costs about twice the C parser's time on the small parts of an office
document or an XMP packet.  Those guards only ever fire from a document type declaration: entities
can only be declared inside one, and only an entity can reference an external resource.  So a
document shown to hold no ``<!DOCTYPE`` is parsed by the standard library's C-accelerated parser,
and any other (a DOCTYPE, or bytes whose encoding hides what they hold) by defusedxml, as before.
Both are expat with the same tree builder: the tree, and the text of a parse error, are the same
(``tests/test_walk_speedups.py`` compares the two on every XML part of every fixture and corpus
file, and on broken and hostile documents).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, XMLParser

from defusedxml import ElementTree as SafeET

# Anything that may start a document type declaration (XML is case-sensitive; any case is refused
# here, which only sends a document the C parser would have rejected to defusedxml).
_DOCTYPE = re.compile(rb"<!doctype", re.I)
# The encoding an XML declaration names: the bytes are then decoded by that codec, in which
# ``<!DOCTYPE`` need not look like its ASCII bytes (expat reads UTF-8 and ASCII as bytes; a declared
# single-byte codec, EBCDIC say, maps them otherwise).
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([^\"']*)")
_BYTE_ENCODINGS = frozenset({b"utf-8", b"us-ascii"})


def holds_no_dtd(data: bytes) -> bool:
    """True when these bytes, however expat decodes them, hold no document type declaration.

    UTF-16 and UTF-32 put a NUL byte beside every markup character (all of them ASCII), so bytes
    without NUL are UTF-8, ASCII or a declared single-byte codec; only UTF-8 and ASCII are read as
    the bytes they are.  A declaration is honoured only at the very start (after a UTF-8 byte order
    mark), however long it is."""
    if b"\x00" in data or _DOCTYPE.search(data) is not None:
        return False
    start = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not start.startswith(b"<?xml"):
        return True
    end = start.find(b"?>")
    declaration = start if end < 0 else start[:end]
    if b"encoding" not in declaration:
        return True
    named = _ENCODING.search(declaration)
    return named is not None and named.group(1).lower() in _BYTE_ENCODINGS


def parse(data: bytes) -> Element:
    """The document's root element; raises what ``defusedxml.ElementTree.fromstring`` raises
    (``xml.etree.ElementTree.ParseError`` for a broken document, a ``DefusedXmlException`` for a
    DTD that declares entities or refers outside)."""
    if holds_no_dtd(data):
        parser = XMLParser()
        parser.feed(data)
        root: Element = parser.close()
        return root
    root = SafeET.fromstring(data)
    return root
