"""GB 45438-2025 implicit label (Annex E ``AIGC`` JSON), wherever it appears.

Accepted: the XMP property ``AIGC`` in the TC260 namespace (any prefix, element
or attribute, entity-encoded or not), PNG text chunk ``AIGC``, EXIF
UserComment / ImageDescription holding ``{"AIGC": {...}}``, a bare
``AIGC{...}`` blob, and any other field named ``AIGC`` (container tags).
Both the bare seven-key object and the ``{"AIGC": {...}}`` wrapper are read.

A generic ``AIGC`` key counts only when its object has at least one Annex E
key, so vendor JSON that merely uses the name is not mistaken for a label.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..limits import MAX_JSON_TEXT
from ..model import Evidence, EvidenceKind, Field, Finding, Indicates, Strength
from . import SignalView, clip

KEYS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2")
REQUIRED = ("Label", "ContentProducer", "ProduceID")
LABEL_MEANING = {
    "1": "is AI-generated (属于)",
    "2": "may be AI-generated (可能为)",
    "3": "is suspected AI-generated (疑似为)",
}
# Annex E j): printable ASCII without space, '"' or '\'.
VALUE_CHARS = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]*$")
# Fields that hold a label only when the value itself says so.
EMBEDDING_FIELDS = {"exif/UserComment", "exif/ImageDescription", "exif/XPComment", "xmp/exif:UserComment"}


@dataclass
class ParsedLabel:
    source: Field  # the field the label was read from
    values: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str | None:
        v = self.values.get("Label")
        return v if isinstance(v, str) else (str(v) if v is not None else None)


def _named_aigc(f: Field) -> bool:
    """The field's own name is AIGC, whatever its namespace prefix or path."""
    return f.key.rsplit(":", 1)[-1].rsplit("/", 1)[-1].upper() == "AIGC"


def _embedded(f: Field) -> bool:
    """A free-text field that may hold a label, as opposed to a field named AIGC."""
    return not _named_aigc(f) and (f.name in EMBEDDING_FIELDS or f.family == "comment")


def _is_candidate(f: Field) -> bool:
    return isinstance(f.value, str) and (_named_aigc(f) or (_embedded(f) and "AIGC" in f.value))


def _decode_json(text: str) -> object:
    text = text.strip()
    if len(text) > MAX_JSON_TEXT:
        raise ValueError("label text over the size limit")
    if text.startswith("AIGC") and not text.startswith('AIGC"'):
        text = text[4:].lstrip(" :=")  # bare ``AIGC{...}`` blob
    try:
        return json.loads(text)
    except ValueError:
        unescaped = html.unescape(text)  # doubly entity-encoded XMP
        if unescaped == text:
            raise
        return json.loads(unescaped)


def parse(f: Field) -> ParsedLabel | None:
    """The label in ``f``, or None when ``f`` holds no GB 45438 label.

    A value that is clearly meant as a label but cannot be parsed comes back
    with ``problems`` and empty ``values``.
    """
    text = f.value
    if _embedded(f):
        start = text.find("{")  # label JSON embedded in free text, or a bare AIGC{...} blob
        if start < 0:
            return None
        text = text[start:]
    try:
        obj = _decode_json(text)
    except ValueError as exc:
        return ParsedLabel(f, {}, [f"not valid JSON ({exc})"])
    if isinstance(obj, dict) and "AIGC" in obj:
        inner = obj["AIGC"]
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except ValueError:
                return ParsedLabel(f, {}, ["AIGC wrapper holds a string that is not JSON"])
        obj = inner
    if not isinstance(obj, dict) or not any(k in obj for k in KEYS):
        if _embedded(f):
            return None  # free text that merely mentions AIGC: not a label
        # A field named AIGC is the standard's carrier: content that is not Annex E is a malformed label.
        return ParsedLabel(f, {}, ["the AIGC field holds no Annex E elements (Label, ContentProducer, ...)"])
    return ParsedLabel(f, obj, validate(obj))


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
    labels = [p for p in (parse(f) for f in view.fields if _is_candidate(f)) if p is not None]
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
    if p.problems:
        view.findings.append(
            Finding(
                "aigc-label-malformed",
                "error",
                "GB 45438 implicit label does not conform to Annex E: " + "; ".join(p.problems),
                f"{f.location} ({f.name})",
            )
        )
    label = p.label
    meaning = LABEL_MEANING.get(label) if label is not None else None
    usable = meaning is not None
    raw_producer = p.values.get("ContentProducer")
    producer = raw_producer if isinstance(raw_producer, str) else ""
    generator = view.fingerprints.for_producer(producer) if producer else None
    value = json.dumps(p.values, ensure_ascii=False, separators=(",", ":")) if p.values else clip(f.value)
    if usable:
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
            strength=Strength.STRONG if usable else Strength.WEAK,
            kind=EvidenceKind.IMPLICIT_LABEL,
            generator=(generator.id if generator else (producer or None)),
            explanation=explanation,
            aigc_label=label if usable else None,
        )
    )
