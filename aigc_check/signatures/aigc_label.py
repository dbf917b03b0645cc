"""GB 45438-2025 implicit label (Annex E ``AIGC`` JSON), wherever it appears.

Two kinds of field are read:

- a field named ``AIGC`` (the standard's carrier: the XMP property ``AIGC`` in
  the TC260 namespace under any prefix, PNG text chunk ``AIGC``, ID3
  ``TXXX:AIGC``, Vorbis ``AIGC=``, MP4/Matroska/RIFF/PDF ``AIGC`` tags): its
  whole value is the label, so a value that is not one is a malformed label;
- a free-text field (the ``free-text`` field group of the fingerprint table:
  EXIF UserComment / ImageDescription / XPComment, PNG Comment / Description,
  JPEG and GIF comments, MP4 ``©cmt`` / ``desc`` / ``©des``, ID3 ``COMM`` /
  ``TXXX:comment``, RIFF ``ICMT`` / ``ISBJ``, Vorbis and Matroska comments and
  descriptions, ASF description, PDF ``/Subject`` / ``/Keywords``): read only
  when the text contains a telltale name (``AIGC``, ``ContentProducer``,
  ``ProduceID``, ...), and a label only when an Annex E element is found, so
  vendor JSON that merely uses the name ``AIGC`` is not mistaken for one.

Both the bare seven-key object and the ``{"AIGC": {...}}`` wrapper are read.
The text is decoded tolerantly (``label_decoding``): a label that departs from
Annex E but whose Label value is still unambiguous is evidence of that value
(strong, never definitive), always with an ``aigc-label-malformed`` finding
naming each defect; a label whose value cannot be recovered is weak,
non-deciding evidence with an ``aigc-label-unreadable`` finding, which the
shipped policies send to review.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..json_lines import compact_json
from ..model import Evidence, EvidenceKind, Field, Finding, Indicates, Strength
from . import SignalView, clip
from .label_decoding import KEYS, TELLTALE, decode, find_in_text
from .prefilter import prefilter

if TYPE_CHECKING:
    from .fingerprints import FingerprintTable

REQUIRED = ("Label", "ContentProducer", "ProduceID")
LABEL_MEANING = {
    "1": "is AI-generated (属于)",
    "2": "may be AI-generated (可能为)",
    "3": "is suspected AI-generated (疑似为)",
}
# Annex E j): printable ASCII without space, '"' or '\'.
VALUE_CHARS = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]*$")
FREE_TEXT = "free-text"  # the fingerprint table's field group of comment and description fields
TELLTALE_SCAN = 1024 * 1024  # how much of a free-text value is searched for a telltale name
MAX_EVIDENCE_VALUE = 4096
MAX_LABELS = 64  # labels decoded per file (the standard allows one)
# The telltale names as plain substrings: a long description without any is passed over without
# running the case-insensitive regex over it (prefilter.py).
_TELLTALE_LITERALS = prefilter(TELLTALE)

# One encoder for every label's evidence value: ``json.dumps`` with any option builds a new one per
# call.  Same options, same text.
_VALUE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The values orjson writes as ``_VALUE_ENCODER`` does, character for character (a float it writes
# in another form, ``1e-5`` for ``1e-05``; a list or object inside would need its own look).
_FLAT_TYPES = frozenset((str, int, bool, type(None)))


def _values_text(values: dict[str, Any]) -> str:
    """``_VALUE_ENCODER``'s text of a label's elements (in the contract), made by orjson when every
    element is a string, an integer, a boolean or null (``compact_json``: what orjson refuses, a
    lone surrogate or an integer beyond 64 bits, is the standard encoder's)."""
    if all(type(v) in _FLAT_TYPES for v in values.values()):
        return compact_json(values)
    return _VALUE_ENCODER.encode(values)


__all__ = ["KEYS", "LABEL_MEANING", "REQUIRED", "ParsedLabel", "collect", "parse", "validate"]


@dataclass
class ParsedLabel:
    source: Field  # the field the label was read from
    values: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    label: str | None = None  # the Label value read (stripped), when one could be told
    unreadable: str | None = None  # why no usable Label value could be read; None when one was
    free_text: bool = False  # found inside a comment or description, not in a field named AIGC

    @property
    def usable(self) -> bool:
        return self.unreadable is None


def _named_aigc(f: Field) -> bool:
    """The field's own name is AIGC, whatever its namespace prefix or path."""
    return _key_names_aigc(f.key)


@lru_cache(maxsize=4096)  # every field of every file asks; keys repeat across files
def _key_names_aigc(key: str) -> bool:
    return key.rsplit(":", 1)[-1].rsplit("/", 1)[-1].upper() == "AIGC"


def _shipped_table() -> FingerprintTable:
    from .fingerprints import FingerprintTable

    return FingerprintTable.load()


def parse(f: Field, fingerprints: FingerprintTable | None = None) -> ParsedLabel | None:
    """The label in ``f``, or None when ``f`` holds no GB 45438 label.

    A field named AIGC always holds a label (a value that is not one is a malformed, unreadable
    label); a free-text field of ``fingerprints``' ``free-text`` group (the shipped table's when
    none is given) holds one only when an Annex E element is found in it."""
    text = f.value
    if not isinstance(text, str):
        return None
    if _named_aigc(f):
        decoded = decode(text)
        free_text = False
    else:
        table = fingerprints if fingerprints is not None else _shipped_table()
        if not table.in_group(FREE_TEXT, f.name):
            return None
        if _TELLTALE_LITERALS is not None and not _TELLTALE_LITERALS.may_match(text[:TELLTALE_SCAN]):
            return None
        if not TELLTALE.search(text, 0, TELLTALE_SCAN):
            return None
        segment = find_in_text(text)
        if segment is None:
            return None
        decoded = decode(segment)
        if not decoded.has_elements and not decoded.refused:
            return None  # free text that merely mentions AIGC: not a label
        free_text = True
    problems = list(decoded.defects)
    if decoded.refused:
        pass  # nothing was decoded, so there are no elements to judge
    elif not decoded.has_elements:
        problems.append("the AIGC field holds no Annex E elements (Label, ContentProducer, ...)")
    else:
        problems += validate(decoded.values)
    label = decoded.label
    if decoded.refused:
        why = "it was too large or too deeply nested to decode"
    elif decoded.ambiguous:
        why = "Label is given more than once with different values"
    elif not decoded.has_elements:
        why = "it holds no Annex E elements"
    elif label is None:
        why = "it has no Label element" if "Label" not in decoded.values else "its Label is not a string or number"
    elif label not in LABEL_MEANING:
        why = f"its Label is {label!r}, not 1, 2 or 3"
    else:
        why = None
    return ParsedLabel(f, decoded.values, problems, label, why, free_text)


def validate(values: dict) -> list[str]:
    problems = []
    for key in REQUIRED:
        if not values.get(key):
            problems.append(f"required element {key} is missing or empty")
    label = values.get("Label")
    if label is not None and label not in LABEL_MEANING:
        problems.append(f'Label is {label!r}; Annex E allows the strings "1", "2" or "3"')
    for key, value in values.items():
        if key not in KEYS:
            problems.append(f"unknown element {key}")
        elif not isinstance(value, str):
            problems.append(f"{key} must be a string, not {type(value).__name__}")
        elif not VALUE_CHARS.match(value):
            problems.append(f"{key} has characters outside the Annex E set (printable ASCII, no space or quotes)")
    return problems


def collect(view: SignalView) -> None:
    labels: list[ParsedLabel] = []
    for f in view.fields:
        p = parse(f, view.fingerprints)
        if p is None:
            continue
        if len(labels) >= MAX_LABELS:
            # A real file has one label (the standard allows no more): this many is an attack on the
            # decoder; what the rest say is unknown, so the file is sent to review.
            view.findings.append(
                Finding(
                    "aigc-label-unreadable",
                    "warning",
                    f"more than {MAX_LABELS} fields hold GB 45438 label text; the rest were not read",
                    f"{f.location} ({f.name})",
                )
            )
            break
        labels.append(p)
    for p in labels:
        _evidence(view, p)
    distinct = {p.source.location + p.source.key for p in labels}
    if len(distinct) > 1:
        values = sorted({p.label or "?" for p in labels})
        view.findings.append(
            Finding(
                "aigc-label-duplicate",
                "error" if len(values) > 1 else "warning",
                f"{len(distinct)} GB 45438 implicit labels in one file (Label values {', '.join(values)}); "
                "the standard allows only one, and a re-export must replace it, not add another",
                "; ".join(sorted({p.source.location for p in labels})),
            )
        )


def _evidence(view: SignalView, p: ParsedLabel) -> None:
    f = p.source
    where = f"{f.location} ({f.name})"
    if p.problems:
        view.findings.append(
            Finding(
                "aigc-label-malformed",
                "error",
                "GB 45438 implicit label does not conform to Annex E: " + "; ".join(p.problems),
                where,
            )
        )
    if p.unreadable is not None:
        view.findings.append(
            Finding(
                "aigc-label-unreadable",
                "warning",
                f"no usable Label value can be read from the GB 45438 implicit label in {f.name} ({p.unreadable}): "
                "it neither shows nor rules out AI content",
                where,
            )
        )
    label = p.label if p.usable else None
    meaning = LABEL_MEANING.get(label) if label is not None else None
    raw_producer = p.values.get("ContentProducer")
    producer = raw_producer if isinstance(raw_producer, str) else ""
    generator = view.fingerprints.for_producer(producer) if producer else None
    # A label that was read is shown as the elements read; one that could not be used, as written.
    value = clip(_values_text(p.values), MAX_EVIDENCE_VALUE) if meaning is not None else clip(f.value)
    if meaning is not None:
        explanation = (
            f"{f.name} says Label {label} = content {meaning}"
            + (f", producer {producer}" if producer else "")
            + (
                f", propagated by {p.values['ContentPropagator']}"
                if p.values.get("ContentPropagator") not in (None, "", producer)
                else ""
            )
        )
    else:
        explanation = f"{f.name} holds a GB 45438 label that cannot be used (see findings)"
    view.evidence.append(
        Evidence(
            source="gb45438",
            location=f.location,
            key=f.name,
            value=value,
            indicates=Indicates.AI_GENERATED,
            strength=Strength.STRONG if meaning is not None else Strength.WEAK,
            kind=EvidenceKind.IMPLICIT_LABEL,
            generator=(generator.id if generator else (producer or None)),
            explanation=explanation,
            aigc_label=label if meaning is not None else None,
            label_elements=dict(p.values),
        )
    )
