"""IPTC Digital Source Type in XMP, and the IPTC 2025.1 AI-system properties.

A value is matched as the NewsCodes scheme defines it: the full URI
(``http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia``),
``http`` or ``https``, host in any case, with or without a trailing slash; the
QCode form with any scheme alias (``digsrctype:trainedAlgorithmicMedia``); or
the bare code.  Codes are never matched by substring: ``algorithmicMedia`` is
procedural, not AI.

Case of the code: NewsCodes identifiers are case-sensitive (the scheme spells
``trainedAlgorithmicMedia``), so the canonical spelling is the scheme's.  A
code that differs from it only in case is still read, since no two codes of
the vocabulary differ only in case and the writer's meaning is plain, but the
value is reported (``iptc-source-type-noncanonical``), as is any other form
that is not the canonical URI: the IPTC Photo Metadata Standard asks for the
full URI, and bare codes are its most common error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

from ..data import load
from ..model import Evidence, EvidenceKind, Finding, Indicates, Strength
from . import SignalView

DST_KEY = "Iptc4xmpExt:DigitalSourceType"
DST_NAME = "DigitalSourceType"
AI_SYSTEM_KEYS = ("Iptc4xmpExt:AISystemUsed", "Iptc4xmpExt:AISystemVersionUsed", "Iptc4xmpExt:AIPromptInformation")
MAX_VALUE = 512  # a source-type URI is under 100 characters; longer values are not looked into


@dataclass(frozen=True)
class SourceType:
    """A DigitalSourceType value read: its canonical term, the term's entry in the vocabulary, and
    how the value departs from the canonical URI (empty when it is canonical)."""

    term: str
    entry: dict
    departures: tuple[str, ...] = field(default=())

    @property
    def canonical(self) -> bool:
        return not self.departures


@dataclass(frozen=True)
class _Vocabulary:
    terms: dict[str, dict]
    by_folded: dict[str, str]  # lower-cased term -> the scheme's spelling
    bases: tuple[tuple[str, str, str], ...]  # (canonical base, host, path), host and path lower-cased
    aliases: frozenset[str]  # QCode scheme aliases, lower-cased


@cache
def _vocabulary() -> _Vocabulary:
    data = load("source_types.json")
    terms = data["terms"]
    bases = []
    aliases = set()
    for name, vocab in data["vocabularies"].items():
        if name.startswith("_"):
            continue
        parts = urlsplit(vocab["base"])
        bases.append((vocab["base"], parts.netloc.lower(), parts.path.lower()))
        aliases.add(vocab["qcode"].lower())
    return _Vocabulary(terms, {t.lower(): t for t in terms}, tuple(bases), frozenset(aliases))


def read_source_type(value: str) -> SourceType | None:
    """The vocabulary term a DigitalSourceType value names, or None when it names none."""
    vocab = _vocabulary()
    text = value.strip()
    departures: list[str] = []
    if not text or len(text) > MAX_VALUE:
        return None
    if text != value:
        departures.append("white space around the value")
    scheme, sep, rest = text.partition(":")
    if sep and rest.startswith("//"):
        code = _code_from_uri(text, vocab, departures)
    elif sep and "/" not in text:
        # A QCode: <scheme alias>:<code>.  Any alias is accepted (a document may declare its own).
        code = rest
        known = scheme.lower() in vocab.aliases
        departures.append(f"QCode form {text!r}" + ("" if known else f" with an unknown scheme alias {scheme!r}"))
    elif "/" in text:
        # A vocabulary URI without its scheme (cv.iptc.org/newscodes/...) is still that URI.
        code = _code_from_uri("http://" + text, vocab, departures) if "." in text.split("/", 1)[0] else None
        if code is not None:
            departures.append("no URI scheme (http://)")
    else:
        code = text
        departures.append("a bare code, not the vocabulary URI")
    if not code:
        return None
    term = code if code in vocab.terms else vocab.by_folded.get(code.lower())
    if term is None:
        return None
    if term != code:
        departures.append(f"code spelt {code!r}; the scheme spells it {term!r}")
    return SourceType(term, vocab.terms[term], tuple(departures))


def _code_from_uri(text: str, vocab: _Vocabulary, departures: list[str]) -> str | None:
    """The code at the end of a vocabulary URI.  Scheme and host compare without case (RFC 3986
    says they are case-insensitive), and https is as good as http; the path is case-sensitive."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.query or parts.fragment:
        return None
    host, path = parts.netloc.lower(), parts.path
    for _base, base_host, base_path in vocab.bases:
        if host != base_host or not path.lower().startswith(base_path):
            continue
        code = path[len(base_path) :]
        if code.endswith("/"):
            code = code[:-1]
            departures.append("a trailing slash")
        if not code or "/" in code:
            return None
        if not path.startswith(base_path):
            departures.append(f"path {path[: len(base_path)]!r} in another case than {base_path!r}")
        return code
    return None


def source_type(value: str) -> tuple[str | None, dict | None]:
    """(term, entry) for a DigitalSourceType URI, QCode or bare term; (None, None) if unknown."""
    found = read_source_type(value)
    return (found.term, found.entry) if found else (None, None)


def _is_dst_key(key: str) -> bool:
    """A DigitalSourceType property under any namespace prefix (the XMP reader names the IPTC
    namespace Iptc4xmpExt; an unmapped namespace keeps its URI in braces)."""
    if key == DST_KEY:
        return True
    if "/" in key.rsplit("}", 1)[-1]:
        return False  # a property of a struct, not the top-level one
    return key.rsplit("}", 1)[-1].rsplit(":", 1)[-1] == DST_NAME


def collect(view: SignalView) -> None:
    for f in view.fields:
        if f.family != "xmp" or not _is_dst_key(f.key):
            continue
        found = read_source_type(str(f.value))
        if found is None:
            continue
        entry, term = found.entry, found.term
        indicates = Indicates(entry["indicates"])
        ai = indicates in (Indicates.AI_GENERATED, Indicates.AI_MODIFIED)
        view.evidence.append(
            Evidence(
                source="iptc",
                location=f.location,
                key=f.name,
                value=str(f.value),
                indicates=indicates,
                # Unsigned XMP: strong for an AI claim, but a capture claim anyone can write proves nothing.
                strength=Strength.STRONG if ai else Strength.WEAK,
                kind=EvidenceKind.IMPLICIT_LABEL
                if ai
                else EvidenceKind.CAPTURE
                if indicates is Indicates.CAPTURED
                else EvidenceKind.TRACE,
                explanation=f"XMP IPTC DigitalSourceType is {term} ({entry['name']}), unsigned",
            )
        )
        departures = list(found.departures)
        if f.key != DST_KEY:
            departures.append(f"property {f.key} is not in the IPTC Extension namespace")
        if departures:
            view.findings.append(
                Finding(
                    "iptc-source-type-noncanonical",
                    "warning",
                    f"IPTC DigitalSourceType {str(f.value)[:200]!r} read as {term}, but it is not written as the "
                    f"standard asks (the full vocabulary URI): " + "; ".join(departures),
                    f"{f.location} ({f.name})",
                )
            )
    for key in AI_SYSTEM_KEYS:
        for f in view.find("xmp", key):
            g = view.fingerprints.for_c2pa([str(f.value)])
            view.evidence.append(
                Evidence(
                    source="iptc",
                    location=f.location,
                    key=f.name,
                    value=str(f.value),
                    indicates=Indicates.AI_GENERATED,
                    strength=Strength.STRONG,
                    kind=EvidenceKind.IMPLICIT_LABEL,
                    generator=g.id if g else (str(f.value) if key.endswith("AISystemUsed") else None),
                    explanation=f"XMP IPTC {key.split(':')[1]} discloses use of an AI system",
                )
            )
